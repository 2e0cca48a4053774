package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const repo = "testdata/repo"

// notes renders Stats.Notes as the command prints them.
func notes(s Stats) []string {
	var out []string
	for _, n := range s.Notes {
		out = append(out, n.String())
	}
	return out
}

// A repository holds more than manifests. Walking it reads the manifests,
// audits custom resources that carry a pod template, and skips with a
// note each file that is not a Kubernetes manifest.
func TestReadRepository(t *testing.T) {
	got, stats, err := readSeen(t, Options{Filenames: []string{repo}, Recursive: true})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := []seen{
		{repo + "/apps/cloneset.yaml", 1, 1, "apps.kruise.io/v1alpha1", "CloneSet", "shop", "cache", "spec.template.spec", []string{"redis"}},
		// Knative's one container may go unnamed; it is named by its path.
		{repo + "/apps/knative.yaml", 1, 2, "serving.knative.dev/v1", "Service", "serverless", "hello", "spec.template.spec", []string{"containers[0]"}},
		{repo + "/apps/rollout.yaml", 1, 2, "argoproj.io/v1alpha1", "Rollout", "shop", "checkout", "spec.template.spec", []string{"checkout"}},
		{repo + "/apps/web.yaml", 1, 1, "apps/v1", "Deployment", "shop", "web", "spec.template.spec", []string{"web"}},
		{repo + "/kustomize/base/deployment.yaml", 1, 1, "apps/v1", "Deployment", "", "api", "spec.template.spec", []string{"api"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workloads (-want +got):\n%s", diff)
	}
	wantNotes := []string{
		repo + "/.github/workflows/ci.yaml: skipped, not a Kubernetes manifest: no document has apiVersion or kind (a GitHub Actions workflow)",
		repo + `/apps/cloneset.yaml:1: document 1: CloneSet "cache" (apps.kruise.io/v1alpha1): a custom resource; its pod template at spec.template is audited as a pod's, and what runs from it is up to its controller`,
		repo + `/apps/knative.yaml:2: document 1: Service "hello" (serving.knative.dev/v1): a custom resource; its pod template at spec.template is audited as a pod's, and what runs from it is up to its controller`,
		repo + `/apps/rollout.yaml:2: document 1: Rollout "checkout" (argoproj.io/v1alpha1): a custom resource; its pod template at spec.template is audited as a pod's, and what runs from it is up to its controller`,
		repo + `/apps/workflow.yaml:3: document 1: Workflow (no name) (argoproj.io/v1alpha1) has containers at spec.templates[0].container that were not audited: ` +
			`kubectl caps reads a custom resource's containers only from a pod template at spec.template.spec; audit the pods its controller creates, on the cluster`,
		repo + "/env/values-prod.yaml: skipped, not a Kubernetes manifest: no document has apiVersion or kind (Helm values, probably; render the chart with helm template and pipe it: ... | kubectl caps audit -f -)",
		repo + "/kustomize/base/kustomization.yaml: skipped, not a Kubernetes manifest: no document has apiVersion or kind (a kustomization; to audit what it renders, pass its directory with -k " + repo + "/kustomize/base)",
		repo + "/kustomize/overlay/kustomization.yaml:1: document 1: a Kustomization is kustomize's input, not an object to apply; to audit what it renders, pass its directory with -k",
		repo + "/chart: skipped 3 file(s): a Helm chart (it has Chart.yaml), whose templates are not Kubernetes manifests until rendered; " +
			"audit the rendered chart: helm template RELEASE " + repo + "/chart | kubectl caps audit -f -",
	}
	if diff := cmp.Diff(wantNotes, notes(stats)); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	// 13 files: 3 in the chart, 3 more skipped (workflow, values, the
	// kustomization without apiVersion/kind), 7 read.
	if stats.Walked != 13 || stats.SkippedFiles != 6 || stats.Workloads != 5 || stats.Objects != 7 {
		t.Errorf("walked %d, skipped files %d, workloads %d, objects %d; want 13, 6, 5, 7",
			stats.Walked, stats.SkippedFiles, stats.Workloads, stats.Objects)
	}
	if diff := cmp.Diff(map[string]int{"Kustomization.kustomize.config.k8s.io": 1, "Workflow.argoproj.io": 1}, stats.SkippedKinds); diff != "" {
		t.Errorf("skipped kinds (-want +got):\n%s", diff)
	}
}

func TestReadCustomResourcesAreMarked(t *testing.T) {
	got, _, err := readAll(t, Options{Filenames: []string{repo + "/apps"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range got {
		custom := w.APIVersion != "apps/v1"
		if w.Custom != custom || (len(w.Notes) > 0) != custom {
			t.Errorf("%s %s: Custom %v, notes %q", w.Kind, w.Name, w.Custom, w.Notes)
		}
		// A custom resource's schema is its own: Knative's
		// containerConcurrency is not a misspelt pod field.
		if len(w.UnknownFields) > 0 {
			t.Errorf("%s %s: unknown fields %v", w.Kind, w.Name, w.UnknownFields)
		}
	}
}

// writeTree writes files (path -> content) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodPod = "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec: {containers: [{name: c}]}\n"

// What is strict and what is not: files named on the command line keep
// kubectl's rules; files found in a walk are skipped when they are not
// manifests, and their real problems leave the rest of the run standing.
func TestReadWalkStrictness(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"good/pod.yaml":             goodPod,
		"values/values.yaml":        "replicaCount: 1\n",
		"playbook/site.yml":         "- hosts: all\n  tasks: []\n",
		"multi/values.yaml":         "a: 1\n---\nb: 2\n",
		"broken/pod.yaml":           "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [\n",
		"nokind-after/pod.yaml":     goodPod + "---\nmetadata: {name: lost}\n",
		"nokind-before/pod.yaml":    "metadata: {name: lost}\n---\n" + goodPod,
		"notmanifests/values.yaml":  "a: 1\n",
		"notmanifests/other/x.json": `{"b": 2}`,
		"mychart/Chart.yaml":        "apiVersion: v2\nname: mychart\nversion: 0.1.0\n",
		"mychart/templates/d.yaml":  "{{- if .Values.on }}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- end }}\n",
		"kust/kustomization.yaml":   "kind: Kustomization\nresources: [a.yaml]\n",
	})
	in := func(p ...string) []string {
		var out []string
		for _, q := range p {
			out = append(out, filepath.Join(dir, q))
		}
		return out
	}
	tests := []struct {
		name      string
		opts      Options
		workloads int      // visited
		skipped   int      // Stats.SkippedFiles
		problems  []string // substrings, in order; none: no error
		partial   bool
	}{
		{name: "values file in a walk: skipped", opts: Options{Filenames: in("good", "values")}, workloads: 1, skipped: 1},
		{name: "YAML list (a playbook) in a walk: skipped", opts: Options{Filenames: in("good", "playbook")}, workloads: 1, skipped: 1},
		{name: "file of several non-objects: skipped once", opts: Options{Filenames: in("good", "multi")}, workloads: 1, skipped: 1},
		{name: "values file named explicitly: an error, as in kubectl", opts: Options{Filenames: in("values/values.yaml", "good/pod.yaml")},
			problems: []string{"the object has no kind"}},
		{name: "broken manifest in a walk: an error, the rest still visited", opts: Options{Filenames: in("broken", "good")}, workloads: 1,
			problems: []string{"invalid YAML"}, partial: true},
		{name: "broken manifest named explicitly: nothing visited after it", opts: Options{Filenames: in("broken/pod.yaml", "good")},
			problems: []string{"invalid YAML"}},
		{name: "object without kind after an object: a broken object", opts: Options{Filenames: in("nokind-after")}, workloads: 1,
			problems: []string{"document 2: the object has no kind"}, partial: true},
		{name: "object without kind before an object: a broken object", opts: Options{Filenames: in("nokind-before")}, workloads: 1,
			problems: []string{"document 1: the object has no kind"}, partial: true},
		{name: "a chart's templates directory: the chart is skipped", opts: Options{Filenames: in("good", "mychart/templates")}, workloads: 1, skipped: 1},
		{name: "kind: Kustomization without apiVersion: skipped, not an error", opts: Options{Filenames: in("good", "kust")}, workloads: 1},
		{name: "nothing but non-manifests: nothing to audit", opts: Options{Filenames: in("notmanifests"), Recursive: true}, skipped: 2,
			problems: []string{"2 file(s) were skipped as not Kubernetes manifests"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stats, err := readAll(t, tt.opts)
			if len(got) != tt.workloads {
				t.Errorf("%d workloads visited, want %d", len(got), tt.workloads)
			}
			if stats.SkippedFiles != tt.skipped {
				t.Errorf("%d files skipped, want %d (notes %q)", stats.SkippedFiles, tt.skipped, notes(stats))
			}
			var ie *InputError
			if len(tt.problems) == 0 {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				return
			}
			if !errors.As(err, &ie) {
				t.Fatalf("error %v, want *InputError", err)
			}
			if len(ie.Problems) != len(tt.problems) {
				t.Fatalf("problems:\n%v\nwant %d", ie, len(tt.problems))
			}
			for i, p := range ie.Problems {
				if !strings.Contains(p.String(), tt.problems[i]) {
					t.Errorf("problem %q lacks %q", p, tt.problems[i])
				}
			}
			if ie.Partial != tt.partial {
				t.Errorf("Partial = %v, want %v", ie.Partial, tt.partial)
			}
		})
	}
}

// -k renders as kubectl apply -k does: the overlay's namespace, name prefix
// and patch are in the objects read.
func TestReadKustomize(t *testing.T) {
	got, stats, err := readAll(t, Options{Kustomize: repo + "/kustomize/overlay"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || stats.Objects != 1 {
		t.Fatalf("%d workloads, %d objects; want 1, 1", len(got), stats.Objects)
	}
	w := got[0]
	// Lines of kustomize's output are not lines of the user's files.
	if w.Source != repo+"/kustomize/overlay" || w.Document != 1 || w.Line != 0 || w.Namespace != "prod" || w.Name != "prod-api" {
		t.Errorf("got %+v", summarize(w))
	}
	sc := w.Spec.Containers[0].SecurityContext
	if sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("the overlay's patch is missing: securityContext %+v", sc)
	}

	for _, tt := range []struct{ dir, want string }{
		{"testdata/nope", "kustomize cannot render this directory"},
		{repo + "/apps", "kustomize cannot render this directory"}, // no kustomization file
	} {
		_, _, err := readAll(t, Options{Kustomize: tt.dir})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Partial || !strings.Contains(ie.Error(), tt.want) || ie.Problems[0].Source != tt.dir {
			t.Errorf("-k %s: error %v, want a strict problem in %s with %q", tt.dir, err, tt.dir, tt.want)
		}
	}
}

// -n selects workloads: those of another namespace are left out and
// counted; those that set none stay (kubectl would create them there).
func TestReadNamespace(t *testing.T) {
	for _, tt := range []struct {
		ns    string
		names []string
		other map[string]int
	}{
		{"", []string{"cache", "hello", "checkout", "web", "api"}, map[string]int{}},
		{"shop", []string{"cache", "checkout", "web", "api"}, map[string]int{"serverless": 1}},
		{"serverless", []string{"hello", "api"}, map[string]int{"shop": 3}},
		{"nowhere", []string{"api"}, map[string]int{"shop": 3, "serverless": 1}},
	} {
		t.Run(tt.ns, func(t *testing.T) {
			got, stats, err := readAll(t, Options{Filenames: []string{repo}, Recursive: true, Namespace: tt.ns})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, w := range got {
				names = append(names, w.Name)
			}
			if diff := cmp.Diff(tt.names, names); diff != "" {
				t.Errorf("workloads (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.other, stats.OtherNamespaces); diff != "" {
				t.Errorf("other namespaces (-want +got):\n%s", diff)
			}
			if stats.Workloads != len(tt.names) {
				t.Errorf("Workloads = %d, want %d", stats.Workloads, len(tt.names))
			}
		})
	}
}
