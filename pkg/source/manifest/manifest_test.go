package manifest

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// seen is what the tests check of a Workload.
type seen struct {
	Source      string
	Document    int
	Line        int
	APIVersion  string
	Kind        string
	Namespace   string
	Name        string
	FieldPrefix string
	Containers  []string // init containers, then containers
}

func summarize(w Workload) seen {
	s := seen{
		Source: w.Source, Document: w.Document, Line: w.Line,
		APIVersion: w.APIVersion, Kind: w.Kind, Namespace: w.Namespace, Name: w.Name,
		FieldPrefix: w.FieldPrefix,
	}
	for _, c := range w.Spec.InitContainers {
		s.Containers = append(s.Containers, c.Name)
	}
	for _, c := range w.Spec.Containers {
		s.Containers = append(s.Containers, c.Name)
	}
	return s
}

// readAll reads opts and returns every workload visited.
func readAll(t *testing.T, opts Options) ([]Workload, Stats, error) {
	t.Helper()
	var got []Workload
	stats, err := Read(opts, func(w Workload) error {
		if w.Spec == nil {
			t.Errorf("%s %s: nil Spec", w.Kind, w.Name)
			return nil
		}
		got = append(got, w)
		return nil
	})
	return got, stats, err
}

// readSeen is readAll with each workload summarized.
func readSeen(t *testing.T, opts Options) ([]seen, Stats, error) {
	t.Helper()
	got, stats, err := readAll(t, opts)
	var s []seen
	for _, w := range got {
		s = append(s, summarize(w))
	}
	return s, stats, err
}

func skipped(kinds map[string]int) Stats {
	n := 0
	for _, c := range kinds {
		n += c
	}
	return Stats{Skipped: n, SkippedKinds: kinds}
}

// The expected documents and lines below are those a person counts in the
// testdata files (and PyYAML reports): "---" starts a document, a document
// of comments or nothing still counts, and the line is the document's first
// line that is not a comment.
func TestRead(t *testing.T) {
	const workloads = "testdata/workloads.yaml"
	const stdinText = "# from a pipe\napiVersion: v1\nkind: Pod\nmetadata: {name: piped}\nspec: {containers: [{name: piped-main}]}\n"
	tests := []struct {
		name  string
		opts  Options
		want  []seen
		stats Stats // Objects and Workloads are filled in from want and skipped kinds
	}{{
		name: "every workload kind and its FieldPrefix",
		opts: Options{Filenames: []string{workloads}},
		want: []seen{
			{workloads, 1, 3, "v1", "Pod", "shop", "web", "spec", []string{"pod-init", "pod-main"}},
			{workloads, 2, 10, "apps/v1", "Deployment", "", "web", "spec.template.spec", []string{"deploy-main"}},
			{workloads, 5, 24, "apps/v1", "StatefulSet", "data", "db", "spec.template.spec", []string{"sts-main"}},
			{workloads, 6, 29, "apps/v1", "DaemonSet", "", "agent", "spec.template.spec", []string{"ds-main"}},
			{workloads, 8, 35, "apps/v1", "ReplicaSet", "", "rs", "spec.template.spec", []string{"rs-main"}},
			{workloads, 9, 40, "v1", "ReplicationController", "", "rc", "spec.template.spec", []string{"rc-main"}},
			{workloads, 10, 45, "batch/v1", "Job", "", "migrate", "spec.template.spec", []string{"job-main"}},
			{workloads, 11, 50, "batch/v1", "CronJob", "", "nightly", "spec.jobTemplate.spec.template.spec", []string{"cron-main"}},
			{workloads, 12, 61, "v1", "PodTemplate", "", "tmpl", "template.spec", []string{"tmpl-main"}},
		},
		stats: skipped(map[string]int{"Service": 1}),
	}, {
		name: "apiVersions no longer served",
		opts: Options{Filenames: []string{"testdata/legacy.yaml"}},
		want: []seen{
			{"testdata/legacy.yaml", 1, 3, "extensions/v1beta1", "Deployment", "", "old-deploy", "spec.template.spec", []string{"ext-deploy"}},
			{"testdata/legacy.yaml", 2, 10, "apps/v1beta1", "StatefulSet", "", "old-sts", "spec.template.spec", []string{"beta1-sts"}},
			{"testdata/legacy.yaml", 3, 15, "apps/v1beta2", "DaemonSet", "", "old-ds", "spec.template.spec", []string{"beta2-ds"}},
			{"testdata/legacy.yaml", 4, 22, "extensions/v1beta1", "ReplicaSet", "", "old-rs", "spec.template.spec", []string{"ext-rs"}},
			{"testdata/legacy.yaml", 5, 27, "batch/v1beta1", "CronJob", "", "old-cron", "spec.jobTemplate.spec.template.spec", []string{"beta1-cron"}},
		},
	}, {
		name: "JSON object: document 1, line unknown",
		opts: Options{Filenames: []string{"testdata/pod.json"}},
		want: []seen{{"testdata/pod.json", 1, 0, "v1", "Pod", "json", "json-pod", "spec", []string{"json-main"}}},
	}, {
		name:  "JSON stream: objects are counted as documents",
		opts:  Options{Filenames: []string{"testdata/stream.json"}},
		want:  []seen{{"testdata/stream.json", 2, 0, "batch/v1", "Job", "", "json-job", "spec.template.spec", []string{"json-job-main"}}},
		stats: skipped(map[string]int{"ConfigMap": 1}),
	}, {
		name: "List items share the List's document",
		opts: Options{Filenames: []string{"testdata/list.yaml"}},
		want: []seen{
			{"testdata/list.yaml", 1, 2, "apps/v1", "Deployment", "", "listed-deploy", "spec.template.spec", []string{"list-deploy"}},
			{"testdata/list.yaml", 1, 2, "v1", "Pod", "", "listed-pod", "spec", []string{"list-pod"}},
		},
		stats: skipped(map[string]int{"Service": 1}),
	}, {
		name: "typed List items without kind take it from the List",
		opts: Options{Filenames: []string{"testdata/podlist.json"}},
		want: []seen{
			{"testdata/podlist.json", 1, 0, "v1", "Pod", "", "a", "spec", []string{"a-main"}},
			{"testdata/podlist.json", 1, 0, "v1", "Pod", "", "b", "spec", []string{"b-main"}},
		},
	}, {
		name:  "directory without -R reads only its own manifest files",
		opts:  Options{Filenames: []string{"testdata/tree"}},
		want:  []seen{{"testdata/tree/top.yaml", 1, 1, "apps/v1", "Deployment", "", "top", "spec.template.spec", []string{"top-main"}}},
		stats: Stats{Walked: 1},
	}, {
		// filepath.Walk order: lexical, so sub/ comes before top.yaml.
		name: "directory with -R reads subdirectories, .json/.yaml/.yml only",
		opts: Options{Filenames: []string{"testdata/tree"}, Recursive: true},
		want: []seen{
			{"testdata/tree/sub/deep/low.json", 1, 0, "batch/v1", "Job", "", "low", "spec.template.spec", []string{"low-main"}},
			{"testdata/tree/sub/mid.yml", 1, 1, "v1", "Pod", "", "mid", "spec", []string{"mid-main"}},
			{"testdata/tree/top.yaml", 1, 1, "apps/v1", "Deployment", "", "top", "spec.template.spec", []string{"top-main"}},
		},
		stats: Stats{Walked: 3},
	}, {
		name:  "directory whose manifests are all below it, with -R",
		opts:  Options{Filenames: []string{"testdata/nomanifests"}, Recursive: true},
		want:  []seen{{"testdata/nomanifests/sub/pod.yaml", 1, 1, "v1", "Pod", "", "mid", "spec", []string{"mid-main"}}},
		stats: Stats{Walked: 1},
	}, {
		name: "glob pattern, as kubectl expands it",
		opts: Options{Filenames: []string{"testdata/tree/*.yaml"}},
		want: []seen{{"testdata/tree/top.yaml", 1, 1, "apps/v1", "Deployment", "", "top", "spec.template.spec", []string{"top-main"}}},
	}, {
		name: "stdin",
		opts: Options{Filenames: []string{"-"}, Stdin: strings.NewReader(stdinText)},
		want: []seen{{"STDIN", 1, 2, "v1", "Pod", "", "piped", "spec", []string{"piped-main"}}},
	}, {
		name: "inputs are read in the order given",
		opts: Options{Filenames: []string{"testdata/pod.json", "-", "testdata/tree/top.yaml"}, Stdin: strings.NewReader(stdinText)},
		want: []seen{
			{"testdata/pod.json", 1, 0, "v1", "Pod", "json", "json-pod", "spec", []string{"json-main"}},
			{"STDIN", 1, 2, "v1", "Pod", "", "piped", "spec", []string{"piped-main"}},
			{"testdata/tree/top.yaml", 1, 1, "apps/v1", "Deployment", "", "top", "spec.template.spec", []string{"top-main"}},
		},
	}, {
		name: "empty and comment-only files beside a manifest are fine",
		opts: Options{Filenames: []string{"testdata/empty.yaml", "testdata/comments.yaml", "testdata/pod.json"}},
		want: []seen{{"testdata/pod.json", 1, 0, "v1", "Pod", "json", "json-pod", "spec", []string{"json-main"}}},
	}, {
		name: "kinds that are not workloads are counted, not errors",
		opts: Options{Filenames: []string{"testdata/skipped.yaml"}},
		stats: skipped(map[string]int{
			"ConfigMap": 1, "Service": 1,
			"CustomResourceDefinition.apiextensions.k8s.io": 1, "Widget.example.com": 1,
			"Rollout.argoproj.io": 1, "PodSecurityPolicy.policy": 1, "ResourceClass.resource.k8s.io": 1,
		}),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotSeen, stats, err := readSeen(t, tt.opts)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, gotSeen); diff != "" {
				t.Errorf("workloads (-want +got):\n%s", diff)
			}
			want := tt.stats
			if want.SkippedKinds == nil {
				want.SkippedKinds = map[string]int{}
			}
			if want.OtherNamespaces == nil {
				want.OtherNamespaces = map[string]int{}
			}
			want.Workloads = len(tt.want)
			want.Objects = want.Workloads + want.Skipped
			if diff := cmp.Diff(want, stats); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadMetadata(t *testing.T) {
	got, _, err := readAll(t, Options{Filenames: []string{"testdata/workloads.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]Workload{}
	for _, w := range got {
		byKind[w.Kind] = w
	}
	tests := []struct {
		kind                 string
		labels, templateLabs map[string]string
	}{
		// A Pod's template metadata is its own metadata.
		{"Pod", map[string]string{"app": "web"}, map[string]string{"app": "web"}},
		{"Deployment", map[string]string{"tier": "front"}, map[string]string{"app": "web-deploy"}},
		{"CronJob", nil, map[string]string{"app": "nightly"}},
		{"PodTemplate", nil, map[string]string{"app": "tmpl"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			w := byKind[tt.kind]
			if diff := cmp.Diff(tt.labels, w.Labels, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Labels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.templateLabs, w.PodMeta.Labels, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("PodMeta.Labels (-want +got):\n%s", diff)
			}
		})
	}
}

// Unknown fields below the pod template are reported; those elsewhere are
// not, because older apiVersions had fields the current types lack.
func TestReadUnknownFields(t *testing.T) {
	for _, tt := range []struct {
		file string
		want map[string][]string // by workload name
	}{
		{"testdata/unknownfields.yaml", map[string][]string{"typo": {
			"spec.template.metadata.labelz",
			"spec.template.spec.containers[0].securityContext.capabilites",
		}}},
		{"testdata/legacy.yaml", map[string][]string{}}, // spec.rollbackTo, spec.templateGeneration
	} {
		t.Run(tt.file, func(t *testing.T) {
			got, _, err := readAll(t, Options{Filenames: []string{tt.file}})
			if err != nil {
				t.Fatal(err)
			}
			unknown := map[string][]string{}
			for _, w := range got {
				if len(w.UnknownFields) > 0 {
					unknown[w.Name] = w.UnknownFields
				}
			}
			if diff := cmp.Diff(tt.want, unknown); diff != "" {
				t.Errorf("unknown fields (-want +got):\n%s", diff)
			}
		})
	}
}

// kubectl's FileVisitor decodes UTF-16 with a byte-order mark and drops a
// UTF-8 one; CRLF line ends are read like LF.
func TestReadEncodings(t *testing.T) {
	const doc = "# c\napiVersion: v1\nkind: Pod\nmetadata: {name: enc}\nspec: {containers: [{name: enc-main}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: enc2}\nspec: {containers: [{name: enc2-main}]}\n"
	utf16le := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(doc)) {
		utf16le = append(utf16le, byte(u), byte(u>>8))
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"utf8-bom-crlf.yaml", append([]byte("\ufeff"), strings.ReplaceAll(doc, "\n", "\r\n")...)},
		{"utf16le-bom.yaml", utf16le},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			gotSeen, _, err := readSeen(t, Options{Filenames: []string{path}})
			if err != nil {
				t.Fatal(err)
			}
			want := []seen{
				{path, 1, 2, "v1", "Pod", "", "enc", "spec", []string{"enc-main"}},
				{path, 2, 7, "v1", "Pod", "", "enc2", "spec", []string{"enc2-main"}},
			}
			if diff := cmp.Diff(want, gotSeen); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// wantProblem is a Problem with the message given as a substring.
type wantProblem struct {
	Source         string
	Line, Document int
	Contains       string
}

func TestReadProblems(t *testing.T) {
	dir := t.TempDir()
	binary := filepath.Join(dir, "image.yaml")
	if err := os.WriteFile(binary, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	textOnly := filepath.Join(dir, "docs")
	if err := os.MkdirAll(filepath.Join(textOnly, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(textOnly, "sub", "notes.txt"), []byte("apiVersion: v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const stopped = "nothing after this point was read"

	tests := []struct {
		name string
		opts Options
		want []wantProblem
	}{{
		name: "missing file",
		opts: Options{Filenames: []string{"testdata/nope.yaml"}},
		want: []wantProblem{{"", 0, 0, `the path "testdata/nope.yaml" does not exist`}},
	}, {
		name: "glob matching nothing",
		opts: Options{Filenames: []string{"testdata/*.nothing"}},
		want: []wantProblem{{"", 0, 0, `the path "testdata/*.nothing" does not exist`}},
	}, {
		name: "invalid glob",
		opts: Options{Filenames: []string{"testdata/["}},
		want: []wantProblem{{"", 0, 0, `the pattern "testdata/[" is not valid`}},
	}, {
		name: "directory with no manifests, without -R",
		opts: Options{Filenames: []string{"testdata/nomanifests"}},
		want: []wantProblem{{"", 0, 0, `the directory "testdata/nomanifests" has no .json, .yaml or .yml files; to read its subdirectories too, pass -R`}},
	}, {
		name: "directory with no manifests, with -R",
		opts: Options{Filenames: []string{textOnly}, Recursive: true},
		want: []wantProblem{{"", 0, 0, `the directory "` + textOnly + `" and its subdirectories have no .json, .yaml or .yml files`}},
	}, {
		name: "only empty and comment-only files",
		opts: Options{Filenames: []string{"testdata/empty.yaml", "testdata/comments.yaml"}},
		want: []wantProblem{{"", 0, 0, `no objects found in "testdata/empty.yaml", "testdata/comments.yaml"`}},
	}, {
		name: "empty stdin",
		opts: Options{Filenames: []string{"-"}, Stdin: strings.NewReader("")},
		want: []wantProblem{{"", 0, 0, `no objects found in STDIN`}},
	}, {
		name: "malformed YAML: file line, not document line",
		opts: Options{Filenames: []string{"testdata/bad/malformed.yaml"}},
		want: []wantProblem{{"testdata/bad/malformed.yaml", 9, 2, "invalid YAML: mapping values are not allowed in this context; fix it and run again (kubectl also stops reading an input at its first syntax error, so " + stopped + ")"}},
	}, {
		name: "malformed YAML on stdin",
		opts: Options{Filenames: []string{"-"}, Stdin: strings.NewReader("a: 1\nb: [\n")},
		want: []wantProblem{{"STDIN", 2, 1, "invalid YAML: did not find expected node content"}},
	}, {
		name: "invalid document separator",
		opts: Options{Filenames: []string{"testdata/bad/separator.yaml"}},
		want: []wantProblem{{"testdata/bad/separator.yaml", 4, 0, `invalid document separator: only a comment may follow "---" on its line, not "this is not allowed"`}},
	}, {
		name: "malformed JSON",
		opts: Options{Filenames: []string{"testdata/bad/badjson.json"}},
		want: []wantProblem{{"testdata/bad/badjson.json", 0, 1, "invalid JSON at byte offset 36: invalid character ','"}},
	}, {
		name: "no kind",
		opts: Options{Filenames: []string{"testdata/bad/nokind.yaml"}},
		want: []wantProblem{{"testdata/bad/nokind.yaml", 2, 1, "the object has no kind; every object needs apiVersion and kind"}},
	}, {
		name: "no apiVersion",
		opts: Options{Filenames: []string{"testdata/bad/noapiversion.yaml"}},
		want: []wantProblem{{"testdata/bad/noapiversion.yaml", 1, 1, `Deployment "web" has no apiVersion; add apiVersion: apps/v1`}},
	}, {
		name: "misspelt kind in a built-in group",
		opts: Options{Filenames: []string{"testdata/bad/misspelled.yaml"}},
		want: []wantProblem{{"testdata/bad/misspelled.yaml", 5, 2, `unknown kind "Deploymnet" in apiVersion apps/v1; did you mean kind: Deployment?`}},
	}, {
		name: "misspelt kind in a List",
		opts: Options{Filenames: []string{"testdata/bad/listmisspelled.yaml"}},
		want: []wantProblem{{"testdata/bad/listmisspelled.yaml", 1, 1, `items[1]: unknown kind "StatefullSet" in apiVersion apps/v1; did you mean kind: StatefulSet?`}},
	}, {
		name: "workload kind under another group's apiVersion",
		opts: Options{Filenames: []string{"testdata/bad/wrongversion.yaml"}},
		want: []wantProblem{{"testdata/bad/wrongversion.yaml", 1, 1, `CronJob "nightly": apiVersion apps/v1 does not serve CronJob; use apiVersion: batch/v1`}},
	}, {
		name: "spec that does not convert",
		opts: Options{Filenames: []string{"testdata/bad/badspec.yaml"}},
		want: []wantProblem{{"testdata/bad/badspec.yaml", 1, 1, `Deployment "web" does not match the Kubernetes schema: spec.template.spec.containers is a string, but Kubernetes expects a list there`}},
	}, {
		name: "workload without containers",
		opts: Options{Filenames: []string{"testdata/bad/nocontainers.yaml"}},
		want: []wantProblem{{"testdata/bad/nocontainers.yaml", 2, 1, `Deployment "web" has no containers in spec.template.spec.containers`}},
	}, {
		name: "document that is not an object",
		opts: Options{Filenames: []string{"testdata/bad/notobject.yaml"}},
		want: []wantProblem{{"testdata/bad/notobject.yaml", 2, 1, "not a Kubernetes object: the document is a string"}},
	}, {
		name: "List inside a List",
		opts: Options{Filenames: []string{"testdata/bad/nestedlist.yaml"}},
		want: []wantProblem{{"testdata/bad/nestedlist.yaml", 1, 1, "List: items[0] is itself a List, which kubectl cannot read"}},
	}, {
		name: "List item without kind",
		opts: Options{Filenames: []string{"testdata/bad/listitem.yaml"}},
		want: []wantProblem{{"testdata/bad/listitem.yaml", 1, 1, "List: items[1] has no kind"}},
	}, {
		name: "binary file",
		opts: Options{Filenames: []string{binary}},
		want: []wantProblem{{binary, 0, 0, "binary data, not YAML or JSON; pass only manifest files"}},
	}, {
		name: "stdin twice",
		opts: Options{Filenames: []string{"-", "-"}, Stdin: strings.NewReader("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")},
		want: []wantProblem{{"", 0, 0, `standard input ("-") is given more than once`}},
	}, {
		name: "stdin not available",
		opts: Options{Filenames: []string{"-"}},
		want: []wantProblem{{"", 0, 0, `standard input ("-") is not available`}},
	}, {
		name: "stdin that fails",
		opts: Options{Filenames: []string{"-"}, Stdin: io.MultiReader(strings.NewReader("apiVersion: v1\n"), failingReader{})},
		want: []wantProblem{{"STDIN", 0, 0, "cannot read: disk on fire"}},
	}, {
		name: "no inputs",
		opts: Options{},
		want: []wantProblem{{"", 0, 0, "no input given"}},
	}, {
		name: "every input's problems, in order",
		opts: Options{Filenames: []string{"testdata/bad/nokind.yaml", "testdata/workloads.yaml", "testdata/nope.yaml", "testdata/bad/misspelled.yaml"}},
		want: []wantProblem{
			{"testdata/bad/nokind.yaml", 2, 1, "the object has no kind"},
			{"", 0, 0, `the path "testdata/nope.yaml" does not exist`},
			{"testdata/bad/misspelled.yaml", 5, 2, `unknown kind "Deploymnet"`},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(t, tt.opts)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want *InputError", err, err)
			}
			var got []wantProblem
			for i, p := range ie.Problems {
				g := wantProblem{p.Source, p.Line, p.Document, p.Message}
				if i < len(tt.want) && strings.Contains(p.Message, tt.want[i].Contains) {
					g.Contains = tt.want[i].Contains
				}
				got = append(got, g)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{"a.yaml", 12, 3, "bad"}, "a.yaml:12: document 3: bad"},
		{Problem{"a.yaml", 0, 3, "bad"}, "a.yaml: document 3: bad"},
		{Problem{"a.yaml", 0, 0, "bad"}, "a.yaml: bad"},
		{Problem{"", 0, 0, "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
	many := &InputError{}
	for range maxShown + 3 {
		many.Problems = append(many.Problems, Problem{Message: "x"})
	}
	lines := strings.Split(many.Error(), "\n")
	if len(lines) != maxShown+1 || lines[maxShown] != "... and 3 more problems" {
		t.Errorf("Error() of %d problems ends %q after %d lines", len(many.Problems), lines[len(lines)-1], len(lines))
	}
}

// After the first problem the result is void, so visit is not called again,
// but the counts still cover everything read.
func TestReadNoVisitAfterProblem(t *testing.T) {
	calls := 0
	stats, err := Read(Options{Filenames: []string{"testdata/bad/nokind.yaml", "testdata/workloads.yaml"}}, func(Workload) error {
		calls++
		return nil
	})
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want *InputError", err)
	}
	if calls != 0 {
		t.Errorf("visit called %d times after a problem", calls)
	}
	if stats.Workloads != 9 {
		t.Errorf("Workloads = %d, want the 9 of workloads.yaml", stats.Workloads)
	}
}

// An error from visit ends Read at once and comes back unchanged; later
// inputs, here a broken one, are not read.
func TestReadVisitError(t *testing.T) {
	full := errors.New("report full")
	calls := 0
	_, err := Read(Options{Filenames: []string{"testdata/workloads.yaml", "testdata/bad/nokind.yaml"}}, func(Workload) error {
		calls++
		if calls == 2 {
			return full
		}
		return nil
	})
	if err != full {
		t.Errorf("error %v, want the visit error itself", err)
	}
	if calls != 2 {
		t.Errorf("visit called %d times, want 2", calls)
	}
}

// The same holds for the items of a List, which kubectl's flattening
// would otherwise go on visiting.
func TestReadVisitErrorInList(t *testing.T) {
	full := errors.New("report full")
	calls := 0
	_, err := Read(Options{Filenames: []string{"testdata/list.yaml"}}, func(Workload) error {
		calls++
		return full
	})
	if err != full || calls != 1 {
		t.Errorf("error %v after %d calls, want the visit error after 1", err, calls)
	}
}

func TestReadURL(t *testing.T) {
	list, err := os.ReadFile("testdata/list.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/list.yaml" {
			http.NotFound(w, r)
			return
		}
		w.Write(list)
	}))
	defer srv.Close()

	t.Run("served", func(t *testing.T) {
		u := srv.URL + "/list.yaml"
		gotSeen, stats, err := readSeen(t, Options{Filenames: []string{u}})
		if err != nil {
			t.Fatal(err)
		}
		// Positions are not known for URLs.
		want := []seen{
			{u, 0, 0, "apps/v1", "Deployment", "", "listed-deploy", "spec.template.spec", []string{"list-deploy"}},
			{u, 0, 0, "v1", "Pod", "", "listed-pod", "spec", []string{"list-pod"}},
		}
		if diff := cmp.Diff(want, gotSeen); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if stats.Objects != 3 {
			t.Errorf("Objects = %d, want 3", stats.Objects)
		}
	})
	t.Run("not found", func(t *testing.T) {
		u := srv.URL + "/gone.yaml"
		_, _, err := readAll(t, Options{Filenames: []string{u}})
		var ie *InputError
		if !errors.As(err, &ie) || len(ie.Problems) != 1 {
			t.Fatalf("error %v, want one problem", err)
		}
		want := `unable to read URL "` + u + `", server reported 404 Not Found, status code=404; check the URL`
		if ie.Problems[0].Message != want {
			t.Errorf("problem %q, want %q", ie.Problems[0].Message, want)
		}
	})
}

// The visitors are kubectl's, but composed here; this checks that the
// composition picks the same files and objects as cli-runtime's Builder
// configured as kubectl apply configures it.
func TestSameObjectsAsKubectlBuilder(t *testing.T) {
	for _, opts := range []Options{
		{Filenames: []string{"testdata/workloads.yaml", "testdata/legacy.yaml", "testdata/list.yaml"}},
		{Filenames: []string{"testdata/podlist.json", "testdata/stream.json", "testdata/pod.json"}},
		{Filenames: []string{"testdata/tree"}},
		{Filenames: []string{"testdata/tree"}, Recursive: true},
		{Filenames: []string{"testdata/tree/*.yaml", "testdata/skipped.yaml"}},
	} {
		t.Run(strings.Join(opts.Filenames, ","), func(t *testing.T) {
			compareWithBuilder(t, opts)
		})
	}
}

func TestReadLargeStreamStreams(t *testing.T) {
	// A helm-template-sized stream from stdin: every document is visited,
	// with its own document number.
	var b bytes.Buffer
	const n = 2000
	for i := range n {
		b.WriteString("---\n# Source: chart/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n")
		_ = i
	}
	docs := 0
	_, err := Read(Options{Filenames: []string{"-"}, Stdin: &b}, func(w Workload) error {
		docs++
		if w.Document != docs || w.Line != 6*(docs-1)+3 {
			t.Fatalf("workload %d at document %d line %d, want document %d line %d", docs, w.Document, w.Line, docs, 6*(docs-1)+3)
		}
		return nil
	})
	if err != nil || docs != n {
		t.Fatalf("%d workloads, error %v; want %d", docs, err, n)
	}
}
