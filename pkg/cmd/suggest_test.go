package cmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/internal/captest"
)

func TestSuggestGolden(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"table", []string{"-f", examples, "-R"}, "suggest/examples.txt"},
		{"table, strict", []string{"-f", examples, "--strategy", "strict"}, "suggest/examples-strict.txt"},
		// -o wide keeps every list in full: the detail the default table
		// leaves out.
		{"wide", []string{"-f", examples, "-R", "-o", "wide"}, "suggest/examples-wide.txt"},
		{"table on cri-o", []string{"-f", examples, "--runtime", "cri-o"}, "suggest/examples-crio.txt"},
		{"table on docker", []string{"-f", examples, "--runtime", "docker"}, "suggest/examples-docker.txt"},
		{"table with --keep, no headers", []string{"-f", examples, "--keep", "net_raw,CAP_SYS_PTRACE", "--no-headers"}, "suggest/examples-keep.txt"},
		// Per-container --keep, mixed with the global form: strict, with
		// what postgres's entrypoint needs kept in postgres only (the kind
		// as a short name, the namespace given), NET_ADMIN in both vpn
		// containers (the kind as a plural, any namespace), and SYS_TIME
		// for every container (global).
		{"wide, strict, per-container --keep", []string{"-f", examples, "-o", "wide", "--strategy", "strict",
			"--keep", "data/sts/db:postgres=CHOWN,FOWNER,SETGID,SETUID", "--keep", "deployments/vpn=NET_ADMIN", "--keep", "SYS_TIME"}, "suggest/examples-keep-container.txt"},
		{"json", []string{"-f", examples, "-o", "json"}, "suggest/examples.json"},
		{"yaml, strict", []string{"-f", examples, "-o", "yaml", "--strategy", "strict"}, "suggest/examples-strict.yaml"},
		{"patch", []string{"-f", examples, "-o", "patch"}, "suggest/examples.patch.yaml"},
		{"patch, strict", []string{"-f", examples, "-o", "patch", "--strategy", "strict"}, "suggest/examples-strict.patch.yaml"},
		{"patch, strict on cri-o 1.17", []string{"-f", examples, "-o", "patch", "--strategy", "strict", "--runtime", "cri-o://1.17.3"}, "suggest/examples-strict-crio117.patch.yaml"},
		{"json-patch", []string{"-f", examples, "-o", "json-patch"}, "suggest/examples.json-patch.yaml"},
		{"kubectl, strict, with kubeconfig flags to repeat", []string{"-f", examples, "-o", "kubectl", "--strategy", "strict",
			"--context", "prod's", "--kubeconfig", "/tmp/my kube/config"}, "suggest/examples-strict.kubectl.sh"},
		{"securitycontext, strict", []string{"-f", examples, "-o", "securitycontext", "--strategy", "strict"}, "suggest/examples-strict.securitycontext.yaml"},
		{"patched", []string{"-f", examples, "-o", "patched"}, "suggest/examples.patched.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"suggest-drop"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, tt.golden, out)
			if tt.args[len(tt.args)-1] != "-R" && !strings.Contains(strings.Join(tt.args, " "), "-o") && !strings.Contains(errOut, "Note (") {
				t.Errorf("the table's notes belong on stderr, got %q", errOut)
			}
		})
	}
}

func TestSuggestErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		// A misspelt --keep is a usage error that names the closest capability.
		{"misspelt --keep", []string{"-f", examples, "--keep", "NET_RAWW"}, ExitUsage, `--keep: unknown capability "NET_RAWW"; did you mean NET_RAW?`},
		{"--keep ALL", []string{"-f", examples, "--keep", "all"}, ExitUsage, "--keep takes capability names"},
		{"bad strategy", []string{"-f", examples, "--strategy", "paranoid"}, ExitUsage, `--strategy: unknown strategy "paranoid"; use catalog, strict or observed`},
		{"bad output", []string{"-f", examples, "-o", "name"}, ExitUsage, `unknown output format "name"`},
		{"bad --fail-on", []string{"-f", examples, "--fail-on", "severe"}, ExitUsage, `--fail-on: unknown risk "severe"`},
		// -o patched prints manifests; live there is no file to print.
		{"-o patched live", []string{"-o", "patched"}, ExitUsage, "-o patched prints the manifests given with -f or -k with their patches applied"},
		{"-A with -f", []string{"-f", examples, "-A"}, ExitUsage, "apply to the live cluster, not to -f or -k manifests"},
		{"no --per-pod here", []string{"-f", examples, "--per-pod"}, ExitUsage, "unknown flag: --per-pod"},
		{"unknown runtime", []string{"-f", examples, "--runtime", "podman"}, ExitUsage, `unknown container runtime "podman"`},
		{"unreadable input", []string{"-f", filepath.Join(examples, "nope.yaml")}, ExitInput, "does not exist"},
		{"usage errors say where help is", []string{"-f", examples, "--strategy", "x"}, ExitUsage, "See 'kubectl caps suggest-drop -h'"},
		// Per-container --keep: checked in Complete, the value and the form named.
		{"--keep, unknown kind", []string{"-f", examples, "--keep", "shop/deploymnet/web=NET_RAW"}, ExitUsage,
			`--keep "shop/deploymnet/web=NET_RAW": unknown kind "deploymnet": use a built-in kind as kubectl takes it (deployment, deploy, deployments or Deployment; pods, deployments, statefulsets, daemonsets, replicasets, replicationcontrollers, jobs, cronjobs and podtemplates) or a custom resource's kind exactly as its objects spell it (e.g. Rollout); the per-container form is [NAMESPACE/]KIND/NAME[:CONTAINER]=CAP,...`},
		{"--keep, misspelt capability after =", []string{"-f", examples, "--keep", "deploy/web:nginx=NET_RAW,SYS_PTRACEE"}, ExitUsage,
			`unknown capability "SYS_PTRACEE"; did you mean SYS_PTRACE?`},
		{"--keep, no name", []string{"-f", examples, "--keep", "deploy=NET_RAW"}, ExitUsage, `"deploy" is no [NAMESPACE/]KIND/NAME`},
		{"--keep, a workload without =", []string{"-f", examples, "--keep", "deploy/web"}, ExitUsage, "a workload needs '=' before its capabilities"},
		{"--keep, ALL for a container", []string{"-f", examples, "--keep", "deploy/web=ALL"}, ExitUsage, "ALL would keep everything"},
		{"--keep, two selectors in one value", []string{"-f", examples, "--keep", "deploy/web=NET_RAW,deploy/api=CHOWN"}, ExitUsage, "one --keep per container: repeat the flag"},
		// A selector that matches nothing is known only after reading: a
		// usage error before anything is printed, each one named.
		{"--keep matches no container", []string{"-f", examples, "--keep", "shop/deploy/web:nginx=NET_RAW", "--keep", "shop/deploy/web:nginks=NET_RAW", "--keep", "data/deploy/web=CHOWN"}, ExitUsage,
			"--keep shop/deploy/web:nginks=NET_RAW, --keep data/deploy/web=CHOWN matched no container"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectError(t, append([]string{"suggest-drop"}, tt.args...), tt.code, tt.want)
		})
	}
}

func TestSuggestFailOn(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		// DaemonSet/node-agent is privileged: everything goes, critical
		// capabilities among them.
		{[]string{"-f", examples, "--fail-on", "critical"}, ExitFindings},
		// The hardened example holds only NET_BIND_SERVICE, which the
		// catalog keeps: nothing to drop at any level.
		{[]string{"-f", filepath.Join(examples, "02-api-restricted.yaml"), "--fail-on", "low"}, ExitOK},
		// Under strict it drops NET_BIND_SERVICE (low).
		{[]string{"-f", filepath.Join(examples, "02-api-restricted.yaml"), "--fail-on", "low", "--strategy", "strict"}, ExitFindings},
		// The web example drops NET_RAW (high) but nothing critical.
		{[]string{"-f", filepath.Join(examples, "01-web-defaults.yaml"), "--fail-on", "critical", "-o", "json"}, ExitOK},
		{[]string{"-f", filepath.Join(examples, "01-web-defaults.yaml"), "--fail-on", "high", "-o", "patch"}, ExitFindings},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"suggest-drop"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			if out == "" {
				t.Errorf("--fail-on must not suppress the output")
			}
		})
	}
}

// The -o json contract (docs/suggest-drop.md), decoded into the test's own
// types so that a renamed field fails here.
type suggestList struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Strategy   string        `json:"strategy"`
	Items      []suggestItem `json:"items"`
}

type suggestItem struct {
	Namespace string `json:"namespace"`
	Workload  struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"workload"`
	Source        string `json:"source"`
	Pods          int    `json:"pods"`
	Container     string `json:"container"`
	ContainerType string `json:"containerType"`
	Sidecar       bool   `json:"sidecar"`
	Runtime       string `json:"runtime"`
	Drop          []struct {
		Capability, Risk, Reason string
	} `json:"drop"`
	Keep []struct {
		Capability, Risk, Reason string
	} `json:"keep"`
	Notes []struct {
		Code, Message string
	} `json:"notes"`
	Capabilities *struct {
		Add  []string `json:"add"`
		Drop []string `json:"drop"`
	} `json:"capabilities"`
	Patched bool `json:"patched"`
}

func (it suggestItem) drops() []string {
	var out []string
	for _, d := range it.Drop {
		out = append(out, d.Capability)
	}
	return out
}

func decodeSuggest(t *testing.T, stdin string, args ...string) suggestList {
	t.Helper()
	out, errOut, code := run(t, stdin, append([]string{"suggest-drop", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("with -o json nothing belongs on stderr, got %q", errOut)
	}
	var l suggestList
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		t.Fatalf("stdout is not one DropSuggestionList: %v\n%s", err, out)
	}
	if l.APIVersion != "caps.kubectl-caps.io/v1alpha1" || l.Kind != "DropSuggestionList" {
		t.Fatalf("type %s/%s", l.APIVersion, l.Kind)
	}
	return l
}

func TestSuggestJSONContract(t *testing.T) {
	l := decodeSuggest(t, "", "-f", examples)
	if l.Strategy != "catalog" {
		t.Errorf("strategy %q, want the default catalog", l.Strategy)
	}
	find := func(kind, name, container string) suggestItem {
		for _, it := range l.Items {
			if it.Workload.Kind == kind && it.Workload.Name == name && it.Container == container {
				return it
			}
		}
		t.Fatalf("no item %s/%s %s", kind, name, container)
		return suggestItem{}
	}
	// The containerd default set (docs/sources.md#containerd-defaults) holds MKNOD, NET_RAW and
	// SETFCAP, which the catalog recommends dropping.
	web := find("Deployment", "web", "nginx")
	if got := web.drops(); !slices.Equal(got, []string{"MKNOD", "NET_RAW", "SETFCAP"}) {
		t.Errorf("web drops %v", got)
	}
	if !web.Patched || web.Capabilities == nil || !slices.Equal(web.Capabilities.Drop, []string{"MKNOD", "NET_RAW", "SETFCAP"}) {
		t.Errorf("web: patched %v, capabilities %+v", web.Patched, web.Capabilities)
	}
	for _, d := range web.Drop {
		if d.Risk == "" || d.Reason == "" {
			t.Errorf("drop entry without risk or reason: %+v", d)
		}
	}
	// A native sidecar says so; its field is still initContainers.
	if ls := find("CronJob", "backup", "log-shipper"); !ls.Sidecar || ls.ContainerType != "initContainer" {
		t.Errorf("log-shipper: sidecar %v, containerType %q; want a sidecar among initContainers", ls.Sidecar, ls.ContainerType)
	}
	if fp := find("CronJob", "backup", "fix-perms"); fp.Sidecar {
		t.Errorf("fix-perms, a plain init container, is marked a sidecar")
	}
	// The hardened example holds only what it should: empty drop, no patch.
	api := find("Deployment", "api", "api")
	if len(api.Drop) != 0 || api.Capabilities != nil || api.Patched {
		t.Errorf("api: %+v", api)
	}
	// privileged: the note comes first and the lists already drop ALL.
	agent := find("DaemonSet", "node-agent", "agent")
	if len(agent.Notes) == 0 || agent.Notes[0].Code != "privileged" || len(agent.Drop) != 41 {
		t.Errorf("node-agent: notes %v, %d drops", agent.Notes, len(agent.Drop))
	}
	// A bare Pod cannot be patched: the suggestion stands, with a note.
	tool := find("Pod", "legacy-tool", "tool")
	if tool.Patched || tool.Capabilities == nil || !slices.ContainsFunc(tool.Notes, func(n struct{ Code, Message string }) bool { return n.Code == "immutable" }) {
		t.Errorf("legacy-tool: patched %v, notes %v", tool.Patched, tool.Notes)
	}
	// An ephemeral container gets its drop list and nothing to apply; the
	// SYS_PTRACE its debug session adds by name is kept, for review.
	dbg := find("Pod", "checkout-7d9f", "debugger-x2k4")
	if dbg.ContainerType != "ephemeralContainer" || dbg.Patched || dbg.Capabilities != nil || slices.Contains(dbg.drops(), "SYS_PTRACE") ||
		!slices.ContainsFunc(dbg.Notes, func(n struct{ Code, Message string }) bool { return n.Code == "review-explicit-add" }) {
		t.Errorf("debugger: %+v", dbg)
	}
}

// TestSuggestStdinAndNamespace: -f - reads standard input, and a manifest
// without a namespace is placed in -n, as kubectl apply would.
func TestSuggestStdinAndNamespace(t *testing.T) {
	in := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n" +
		"    spec:\n      containers:\n      - {name: c, image: i}\n"
	l := decodeSuggest(t, in, "-f", "-", "-n", "team")
	if len(l.Items) != 1 || l.Items[0].Namespace != "team" {
		t.Fatalf("items %+v", l.Items)
	}
	out, _, code := run(t, in, "suggest-drop", "-f", "-", "-o", "kubectl")
	if code != 0 || !strings.Contains(out, "kubectl patch deployment x -n default --type strategic -p ") {
		t.Errorf("exit %d, kubectl output:\n%s", code, out)
	}
}

// objects splits a manifest file into its objects, Lists flattened, each
// as JSON: the test's own reading, independent of pkg/source/manifest.
func objects(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var out [][]byte
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatal(err)
		}
		if obj == nil {
			continue
		}
		items, _ := obj["items"].([]any)
		if obj["kind"] != "List" {
			items = []any{obj}
		}
		for _, it := range items {
			b, err := json.Marshal(it)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
}

// typed is the Go type strategicpatch needs to read the patch directives
// (merge by name) of each kind.
func typed(kind string) any {
	switch kind {
	case "Deployment":
		return &appsv1.Deployment{}
	case "StatefulSet":
		return &appsv1.StatefulSet{}
	case "DaemonSet":
		return &appsv1.DaemonSet{}
	case "CronJob":
		return &batchv1.CronJob{}
	case "ReplicationController":
		return &corev1.ReplicationController{}
	}
	return nil
}

// TestSuggestPatchRoundTrip applies each workload's -o patch to the example
// with the strategic-merge library kubectl uses
// (k8s.io/apimachinery/pkg/util/strategicpatch), audits the result with the
// plugin, and checks the promise: no capability the catalog says to drop is
// left in a patched container's bounding set unless the manifest adds it
// by name, which the catalog strategy keeps (privileged containers after
// privileged is removed, as their note says), and under strict every
// patched container meets PSS restricted's capability rule, judged by the
// PSA library. test/e2e does the same with the real kubectl.
func TestSuggestPatchRoundTrip(t *testing.T) {
	catalogDrop := catalogDrops(t)
	files, err := filepath.Glob(filepath.Join(examples, "*.*")) // files: examples/evidence/ holds traces
	if err != nil {
		t.Fatal(err)
	}
	check := policy.CheckCapabilitiesRestricted()
	restricted := check.Versions[len(check.Versions)-1].CheckPod
	patched := 0
	for _, strategy := range []string{"catalog", "strict"} {
		for _, file := range files {
			for i, obj := range objects(t, file) {
				var meta struct {
					Kind     string            `json:"kind"`
					Metadata metav1.ObjectMeta `json:"metadata"`
				}
				if err := json.Unmarshal(obj, &meta); err != nil {
					t.Fatal(err)
				}
				if typed(meta.Kind) == nil {
					continue
				}
				t.Run(fmt.Sprintf("%s %s#%d %s", strategy, filepath.Base(file), i, meta.Metadata.Name), func(t *testing.T) {
					out, errOut, code := run(t, string(obj), "suggest-drop", "-f", "-", "-o", "patch", "--strategy", strategy)
					if code != 0 {
						t.Fatalf("suggest-drop: exit %d: %s", code, errOut)
					}
					body := patchBody(out)
					result := obj
					if body != nil {
						patched++
						pj, err := yaml.YAMLToJSON(body)
						if err != nil {
							t.Fatal(err)
						}
						if result, err = strategicpatch.StrategicMergePatch(obj, pj, typed(meta.Kind)); err != nil {
							t.Fatalf("applying %s: %v", pj, err)
						}
					}
					// -o patched prints what this test applies (or the object
					// as read): the same strategic merge as kubectl's.
					pout, errOut, code := run(t, string(obj), "suggest-drop", "-f", "-", "-o", "patched", "--strategy", strategy)
					if code != 0 {
						t.Fatalf("suggest-drop -o patched: exit %d: %s", code, errOut)
					}
					var want, got map[string]any
					pj, err := yaml.YAMLToJSON([]byte(pout))
					if err != nil {
						t.Fatalf("-o patched is not YAML: %v\n%s", err, pout)
					}
					if err := json.Unmarshal(result, &want); err != nil {
						t.Fatal(err)
					}
					if err := json.Unmarshal(pj, &got); err != nil {
						t.Fatalf("-o patched is not one object: %v\n%s", err, pout)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("-o patched differs from the patch applied (-applied +patched):\n%s", diff)
					}
					// As the privileged note says: remove privileged first.
					result = bytes.ReplaceAll(result, []byte(`"privileged":true`), []byte(`"privileged":false`))
					named := map[string]bool{}
					if strategy == "catalog" {
						spec := podSpecOf(t, meta.Kind, obj).Spec
						named = captest.AddedByName(&spec)
					}
					rep := auditJSON(t, result)
					for _, it := range rep.Items {
						if it.ContainerType == "ephemeralContainer" {
							continue
						}
						for _, c := range it.Bounding {
							if catalogDrop[c] && !named[it.Container+" "+c] {
								t.Errorf("container %s still holds %s, which the catalog says to drop and it does not add by name", it.Container, c)
							}
						}
						if strategy == "strict" && !isWindows(result) {
							spec := podSpecOf(t, meta.Kind, result)
							if r := restricted(&spec.ObjectMeta, &spec.Spec); !r.Allowed {
								t.Errorf("strict result fails PSS restricted capabilities: %s: %s", r.ForbiddenReason, r.ForbiddenDetail)
							}
						}
					}
				})
			}
		}
	}
	if patched == 0 {
		t.Fatal("no patch was applied at all")
	}
}

// patchBody is the YAML of the only document of a one-workload -o patch
// output, without its comment lines; nil when it has none.
func patchBody(out string) []byte {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "#") || l == "---" || l == "" {
			continue
		}
		b.WriteString(l + "\n")
	}
	if b.Len() == 0 {
		return nil
	}
	return []byte(b.String())
}

type auditReport struct {
	Items []struct {
		Container     string   `json:"container"`
		ContainerType string   `json:"containerType"`
		Bounding      []string `json:"bounding"`
	} `json:"items"`
}

func auditJSON(t *testing.T, obj []byte) auditReport {
	t.Helper()
	out, errOut, code := run(t, string(obj), "audit", "-f", "-", "-o", "json")
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, errOut)
	}
	var rep auditReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// catalogDrops asks the catalog (through explain, as a user would) which
// capabilities it recommends dropping.
func catalogDrops(t *testing.T) map[string]bool {
	t.Helper()
	out, errOut, code := run(t, "", "explain", "-o", "json")
	if code != 0 {
		t.Fatalf("explain: %s", errOut)
	}
	var doc struct {
		Items []struct {
			Name           string `json:"name"`
			Recommendation string `json:"recommendation"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("explain -o json: %v", err)
	}
	drops := map[string]bool{}
	for _, p := range doc.Items {
		if p.Recommendation == "drop" {
			drops[p.Name] = true
		}
	}
	if len(drops) < 20 {
		t.Fatalf("the catalog recommends dropping only %d capabilities; explain -o json changed shape?", len(drops))
	}
	return drops
}

type templated struct {
	metav1.ObjectMeta
	Spec corev1.PodSpec
}

// podSpecOf reads the pod template of a patched object.
func podSpecOf(t *testing.T, kind string, obj []byte) templated {
	t.Helper()
	var x struct {
		Spec struct {
			Template    *corev1.PodTemplateSpec  `json:"template"`
			JobTemplate *batchv1.JobTemplateSpec `json:"jobTemplate"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(obj, &x); err != nil {
		t.Fatal(err)
	}
	switch {
	case kind == "CronJob" && x.Spec.JobTemplate != nil:
		return templated{x.Spec.JobTemplate.Spec.Template.ObjectMeta, x.Spec.JobTemplate.Spec.Template.Spec}
	case x.Spec.Template != nil:
		return templated{x.Spec.Template.ObjectMeta, x.Spec.Template.Spec}
	}
	t.Fatalf("%s without a pod template", kind)
	return templated{}
}

func isWindows(obj []byte) bool { return bytes.Contains(obj, []byte(`"os":{"name":"windows"}`)) }
