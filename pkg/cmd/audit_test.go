package cmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/api"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

const examples = "../../examples"

func TestAuditGolden(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"examples table", []string{"audit", "-f", examples, "-R"}, "audit/examples.txt"},
		{"examples wide", []string{"audit", "-f", examples, "-o", "wide"}, "audit/examples-wide.txt"},
		{"examples json", []string{"audit", "-f", examples, "-o", "json"}, "audit/examples.json"},
		{"examples yaml", []string{"audit", "-f", examples, "-o", "yaml"}, "audit/examples.yaml"},
		{"examples on cri-o", []string{"audit", "-f", examples, "--runtime", "cri-o", "-o", "wide"}, "audit/examples-crio-wide.txt"},
		{"examples on old cri-o", []string{"audit", "-f", examples, "--runtime", "cri-o://1.17.3", "-o", "wide"}, "audit/examples-crio117-wide.txt"},
		{"examples on docker", []string{"audit", "-f", examples, "--runtime", "docker", "-o", "wide"}, "audit/examples-docker-wide.txt"},
		// Debian bookworm's docker.io: non-root with no_new_privs holds nothing reachable.
		{"examples on docker 20.10", []string{"audit", "-f", examples, "--runtime", "docker://20.10.24", "-o", "json"}, "audit/examples-docker2010.json"},
		{"min-risk high, no headers", []string{"audit", "-f", examples, "--min-risk", "high", "--no-headers"}, "audit/examples-high.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

func TestAuditStdinAndWarningsOnStderr(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(examples, "04-cap-prefix-pitfall.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, string(in), "audit", "-f", "-", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not pure JSON: %v\n%s", err, out)
	}
	if rep.APIVersion != api.APIVersion || rep.Kind != report.Kind || len(rep.Items) != 1 {
		t.Fatalf("report %s/%s with %d items", rep.APIVersion, rep.Kind, len(rep.Items))
	}
	it := rep.Items[0]
	// docs/sources.md#containerd-add-drop: on containerd CAP_NET_RAW in drop drops nothing and
	// CAP_SYS_ADMIN in add is ignored, so the container keeps the 14
	// defaults and does not get SYS_ADMIN.
	if strings.Join(it.Effective, ",") != "AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT" {
		t.Errorf("effective = %v", it.Effective)
	}
	if len(it.Warnings) < 3 {
		t.Errorf("want a warning for each CAP_ entry, got %v", it.Warnings)
	}
	if errOut != "" {
		t.Errorf("with -o json, warnings belong in the report, not stderr: %q", errOut)
	}

	// One line per warning: where (the entry's own line), the object as
	// the table names it, the container, the field, the short form.
	_, errOut, _ = run(t, string(in), "audit", "-f", "-")
	const line = `Warning: STDIN:18: tools pod/legacy-tool, container tool: spec.containers[0].securityContext.capabilities.drop[0]: ` +
		`"CAP_NET_RAW" drops nothing on containerd: NET_RAW stays; write "NET_RAW"` + "\n"
	if !strings.Contains(errOut, line) {
		t.Errorf("stderr lacks %q:\n%s", line, errOut)
	}
	if strings.Contains(errOut, "CAP_CAP_NET_RAW") {
		t.Errorf("the default table's warnings carry the long explanation:\n%s", errOut)
	}
	// -o wide: the same line, then the full message indented; with -f
	// FILE the location is the file.
	var full string
	for _, w := range it.Warnings {
		if strings.HasSuffix(w.Field, ".drop[0]") {
			full = w.Message
		}
	}
	file := filepath.Join(examples, "04-cap-prefix-pitfall.yaml")
	_, errOut, _ = run(t, "", "audit", "-f", file, "-o", "wide")
	for _, w := range []string{
		"Warning: " + file + ":18: tools pod/legacy-tool, container tool: spec.containers[0].securityContext.capabilities.drop[0]: ",
		"\n  " + full + "\n",
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("-o wide stderr lacks %q:\n%s", w, errOut)
		}
	}
	for _, w := range it.Warnings {
		if w.Summary == "" || w.Location == "" {
			t.Errorf("JSON warning without summary or location: %+v", w)
		}
	}
}

func TestAuditFailOn(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"audit", "-f", examples, "--fail-on", "critical"}, ExitFindings},
		// Restricted shape: only the NET_BIND_SERVICE it adds back counts (low).
		{[]string{"audit", "-f", filepath.Join(examples, "02-api-restricted.yaml"), "--fail-on", "medium"}, ExitOK},
		{[]string{"audit", "-f", filepath.Join(examples, "02-api-restricted.yaml"), "--fail-on", "low"}, ExitFindings},
		{[]string{"audit", "-f", filepath.Join(examples, "01-web-defaults.yaml"), "--fail-on", "high"}, ExitFindings},
		{[]string{"audit", "-f", filepath.Join(examples, "01-web-defaults.yaml"), "--fail-on", "critical"}, ExitOK},
		// --fail-on counts the rows shown (TestAuditFailOnCountsTheRowsShown):
		// the critical ones reach high.
		{[]string{"audit", "-f", examples, "--min-risk", "critical", "--fail-on", "high", "-o", "json"}, ExitFindings},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[3:], " "), func(t *testing.T) {
			_, errOut, code := run(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
		})
	}
}

func TestAuditBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	malformed := write("malformed.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [\n")
	kind := write("kind.yaml", "apiVersion: apps/v1\nkind: Deploymnet\nmetadata:\n  name: x\n")
	empty := write("empty.yaml", "")
	junk := write("junk.yaml", "\x00\x01\x02\xff\xfe binary \x00 junk")
	badSpec := write("badspec.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers: \"nginx\"\n")
	concatenated := write("concat.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {}\n  template:\n    spec:\n      containers: [{name: c}]\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n")
	emptyDir := filepath.Join(dir, "nothing")
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"malformed yaml", []string{"-f", malformed}, ExitInput, "malformed.yaml:4: document 1: invalid YAML"},
		{"unknown kind", []string{"-f", kind}, ExitInput, `unknown kind "Deploymnet" in apiVersion apps/v1; did you mean kind: Deployment?`},
		{"empty file", []string{"-f", empty}, ExitInput, "no objects found"},
		{"binary junk", []string{"-f", junk}, ExitInput, "binary data, not YAML or JSON"},
		{"spec that does not convert", []string{"-f", badSpec}, ExitInput, "badspec.yaml"},
		{"objects concatenated without ---", []string{"-f", concatenated}, ExitInput, `a second top-level "kind:" at line 10`},
		{"missing file", []string{"-f", filepath.Join(dir, "nope.yaml")}, ExitInput, "does not exist"},
		{"directory without manifests", []string{"-f", emptyDir}, ExitInput, "has no .json, .yaml or .yml files"},
		{"one good file, one bad: nothing printed", []string{"-f", filepath.Join(examples, "01-web-defaults.yaml"), "-f", malformed}, ExitInput, "invalid YAML"},
		{"unknown runtime", []string{"-f", examples, "--runtime", "podman"}, ExitUsage, `unknown container runtime "podman"`},
		{"bad risk", []string{"-f", examples, "--fail-on", "severe"}, ExitUsage, `--fail-on: unknown risk "severe"`},
		{"bad output", []string{"-f", examples, "-o", "xml"}, ExitUsage, `unknown output format "xml"`},
		{"stray argument", []string{"-f", examples, "extra"}, ExitUsage, "extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectError(t, append([]string{"audit"}, tt.args...), tt.code, tt.want)
		})
	}
}

// A misspelt securityContext field is dropped by the API server; the drop
// it meant to make never happens, and the user must hear about it.
func TestAuditWarnsAboutMisspeltFields(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nmetadata: {name: typo}\nspec:\n  containers:\n  - name: c\n    image: x\n" +
		"    securityContext:\n      runAsUser: 0\n      capabilites:\n        drop: [ALL]\n"
	out, _, code := run(t, in, "audit", "-f", "-", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	it := rep.Items[0]
	if len(it.Effective) != 14 {
		t.Errorf("the misspelt drop must not drop anything: effective %v", it.Effective)
	}
	found := false
	for _, w := range it.Warnings {
		found = found || (w.Code == "unknown-field" && w.Field == "spec.containers[0].securityContext.capabilites")
	}
	if !found {
		t.Errorf("no unknown-field warning: %+v", it.Warnings)
	}
}

// An input with objects but no workloads is not an error, but the empty
// result must say why.
func TestAuditNoWorkloadsSaysWhy(t *testing.T) {
	out, errOut, code := run(t, "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n", "audit", "-f", "-")
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if !strings.Contains(errOut, "No workloads in the input: 2 object(s) skipped (ConfigMap 1, Service 1)") {
		t.Errorf("stderr = %q", errOut)
	}
	_, errOut, _ = run(t, "", "audit", "-f", filepath.Join(examples, "02-api-restricted.yaml"), "--min-risk", "critical")
	if !strings.Contains(errOut, "No containers at or above --min-risk=critical.") {
		t.Errorf("stderr = %q", errOut)
	}
}

// failingWriter fails every write, like a closed pipe.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) {
	return 0, errors.New("write /dev/stdout: broken pipe")
}

// A failed write is no usage error: it exits 5, which the help documents.
func TestWriteFailureExitsInternal(t *testing.T) {
	for _, args := range [][]string{
		{"audit", "-f", examples, "-R"},
		{"audit", "-f", examples, "-R", "-o", "json"},
		{"suggest-drop", "-f", examples, "-R", "-o", "patch"},
		{"explain", "NET_RAW"},
	} {
		var errOut bytes.Buffer
		root := NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: failingWriter{}, ErrOut: &errOut})
		root.SetArgs(args)
		err := root.Execute()
		if got := ExitCode(err); got != ExitInternal {
			t.Errorf("%v: exit %d (%v), want %d", args, got, err, ExitInternal)
		}
	}
}

// TestNotesAreAlwaysAnArray: audit's and suggest-drop's items carry
// `notes` as an array, [] when there are none, never null or absent, so
// that `jq '.items[].notes[]'` works on every item (docs/report.md).
func TestNotesAreAlwaysAnArray(t *testing.T) {
	for _, verb := range []string{"audit", "suggest-drop"} {
		t.Run(verb, func(t *testing.T) {
			out, errOut, code := run(t, "", verb, "-f", examples, "-R", "-o", "json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var doc struct {
				Items []map[string]json.RawMessage `json:"items"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			empty := 0
			for i, it := range doc.Items {
				n, ok := it["notes"]
				if !ok || !bytes.HasPrefix(n, []byte("[")) {
					t.Errorf("item %d (%s): notes = %q, want an array", i, it["container"], n)
				}
				if string(n) == "[]" {
					empty++
				}
			}
			if empty == 0 {
				t.Errorf("no item without notes: the test checks nothing")
			}
		})
	}
}

// TestCompleteNamespacesAndContexts: -n completes the cluster's namespaces
// (one LIST), --context the kubeconfig's contexts, on audit and
// suggest-drop; an unreachable cluster offers nothing, without an error.
func TestCompleteNamespacesAndContexts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/namespaces" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[` +
			`{"metadata":{"name":"default"}},{"metadata":{"name":"shop"}},{"metadata":{"name":"shop-staging"}}]}`))
	}))
	defer srv.Close()
	kubeconfig := func(server string) string {
		p := filepath.Join(t.TempDir(), "config")
		cfg := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "` + server + `"}
users:
- name: u
contexts:
- name: prod
  context: {cluster: c, user: u}
- name: dev
  context: {cluster: c, user: u}
current-context: dev
`
		if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	up, down := kubeconfig(srv.URL), kubeconfig("http://127.0.0.1:1")
	names := func(out string) string {
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if !strings.HasPrefix(l, ":") {
				got = append(got, l)
			}
		}
		return strings.Join(got, " ")
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--kubeconfig", up, "-n", ""}, "default shop shop-staging"},
		{[]string{"audit", "--kubeconfig", up, "-n", "sh"}, "shop shop-staging"},
		{[]string{"suggest-drop", "--kubeconfig", up, "--namespace", "shop-"}, "shop-staging"},
		{[]string{"audit", "--kubeconfig", down, "-n", ""}, ""},
		{[]string{"audit", "--kubeconfig", up, "--context", ""}, "dev prod"},
		{[]string{"suggest-drop", "--kubeconfig", down, "--context", "p"}, "prod"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"__complete"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if got := names(out); got != tt.want {
				t.Errorf("completion = %q, want %q", got, tt.want)
			}
		})
	}
}

// -v takes kubectl's verbosity levels: 0 and up.
func TestVerbosityFlag(t *testing.T) {
	out, errOut, code := run(t, "", "audit", "-f", examples, "-v", "-1")
	if code != ExitUsage || out != "" || !strings.Contains(errOut, "-v must be 0 or more") {
		t.Errorf("-v -1: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
