//go:build integration

package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
)

// policyTools is the directory hack/policytools.sh prints: the Kyverno CLI
// and the Kyverno and OpenShift CRDs, pinned by hack/tools/{kyverno,openshift-api}.
// Under CI=true it must be there (make test-integration builds it); locally
// the test skips when it is not built yet.
func policyTools(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("KUBECTL_CAPS_POLICYTOOLS"); dir != "" {
		return dir
	}
	out, err := exec.Command("../../hack/policytools.sh", "--cached-only").Output()
	if err == nil {
		return strings.TrimSpace(string(out))
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("KUBECTL_CAPS_POLICYTOOLS is not set and hack/policytools.sh has no cached build (%v): make test-integration builds it", err)
	}
	t.Skipf("no Kyverno CLI and CRDs: run hack/policytools.sh (minutes cold) or set KUBECTL_CAPS_POLICYTOOLS (%v)", err)
	return ""
}

// installCRDs creates the CRDs of the files (once per server: the tests
// share it) and waits until each is established.
func (e *env) installCRDs(dyn dynamic.Interface, files ...string) {
	e.t.Helper()
	if err := testserver.InstallCRDs(e.ctx, dyn, files); err != nil {
		e.t.Fatal(err)
	}
}

// generatedGVR are the kinds kyverno and scc print.
var generatedGVR = map[string]struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}{
	"ClusterPolicy":              {schema.GroupVersionResource{Group: "kyverno.io", Version: "v1", Resource: "clusterpolicies"}, false},
	"Policy":                     {schema.GroupVersionResource{Group: "kyverno.io", Version: "v1", Resource: "policies"}, true},
	"SecurityContextConstraints": {schema.GroupVersionResource{Group: "security.openshift.io", Version: "v1", Resource: "securitycontextconstraints"}, false},
	"ClusterRole":                {schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}, false},
	"RoleBinding":                {schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}, true},
}

// documents splits a YAML stream into its objects, skipping comments.
func documents(t *testing.T, out string) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(out), 4096)
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("output: %v", err)
		}
		if m != nil {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
	return objs
}

// createStrict creates the object with strict field validation, so that a
// field the CRD's schema does not know fails as loudly as a wrong value.
func (e *env) createStrict(dyn dynamic.Interface, u *unstructured.Unstructured) error {
	g, ok := generatedGVR[u.GetKind()]
	if !ok {
		return fmt.Errorf("unexpected kind %q in the output", u.GetKind())
	}
	var res dynamic.ResourceInterface = dyn.Resource(g.gvr)
	if g.namespaced {
		res = dyn.Resource(g.gvr).Namespace(u.GetNamespace())
	}
	_, err := res.Create(e.ctx, u, metav1.CreateOptions{FieldValidation: "Strict"})
	if err == nil {
		e.t.Cleanup(func() { _ = res.Delete(e.ctx, u.GetName(), metav1.DeleteOptions{}) })
	}
	return err
}

// TestPolicyKyvernoAndSCCSchemas installs the real Kyverno (v1.19.1,
// config/crds/kyverno) and OpenShift SCC CRDs (github.com/openshift/api
// security/v1) and creates every object that --format kyverno and
// --format scc print, in every mode and scope, with strict field
// validation: the real schemas judge them. Broken copies must fail, so
// that a schema that accepted anything could not pass this test.
func TestPolicyKyvernoAndSCCSchemas(t *testing.T) {
	tools := policyTools(t)
	e := newEnv(t)
	cfg := e.srv.Config()
	// Kyverno v1.19 marks kyverno.io/v1 deprecated (docs/policy.md says
	// so); its warning on each of ~20 creates would bury the test's output.
	cfg.WarningHandler = rest.NoWarnings{}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	crds, _ := filepath.Glob(filepath.Join(tools, "crds", "openshift", "*securitycontextconstraints*.yaml"))
	if len(crds) != 1 {
		t.Fatalf("want one SCC CRD in %s, got %v", tools, crds)
	}
	e.installCRDs(dyn, filepath.Join(tools, "crds", "kyverno", "kyverno.io_clusterpolicies.yaml"),
		filepath.Join(tools, "crds", "kyverno", "kyverno.io_policies.yaml"), crds[0])
	ex := e.loadExamples("schema")
	netNS := ex.namespaces["net"]
	dataNS := ex.namespaces["data"]
	allow := []string{"--allow", netNS + "/deploy/vpn:escalatable=SYS_PTRACE", "--allow", dataNS + "/cj/backup=DAC_READ_SEARCH"}
	var kyvernoObj, sccObj *unstructured.Unstructured
	created := map[string]int{}
	for _, format := range []string{"kyverno", "scc"} {
		for _, mode := range []string{"observed", "baseline", "restricted"} {
			for _, scope := range []string{"namespace", "cluster"} {
				args := append([]string{"policy", "--format", format, "--mode", mode, "--scope", scope, "-f", ex.file}, allow...)
				if format == "kyverno" && mode == "baseline" {
					args = append(args, "--action", "warn")
				}
				r := runPlugin(t, e.srv.Kubeconfig(), args...)
				if r.Code != 0 {
					t.Fatalf("%v: exit %d: %s", args, r.Code, r.ErrOut)
				}
				if scope == "cluster" {
					// One cluster-wide name per mode: make it unique to this run.
					unique := "kubectl-caps-" + mode + "-cluster-" + netNS
					r.Out = strings.ReplaceAll(r.Out, "name: kubectl-caps-"+mode+"\n", "name: "+unique+"\n")
					r.Out = strings.ReplaceAll(r.Out, "name: kubectl-caps-"+mode+"-allow", "name: "+unique+"-allow")
					r.Out = strings.ReplaceAll(r.Out, "- kubectl-caps-"+mode+"\n", "- "+unique+"\n")
				}
				for _, u := range documents(t, r.Out) {
					if err := e.createStrict(dyn, u); err != nil {
						t.Errorf("--format %s --mode %s --scope %s: %s %s refused by the server: %v", format, mode, scope, u.GetKind(), u.GetName(), err)
						continue
					}
					created[u.GetKind()]++
					switch {
					case u.GetKind() == "Policy" && kyvernoObj == nil:
						kyvernoObj = u
					case u.GetKind() == "SecurityContextConstraints" && sccObj == nil:
						sccObj = u
					}
				}
			}
		}
	}
	t.Logf("created with strict validation: %v", created)
	for _, k := range []string{"ClusterPolicy", "Policy", "SecurityContextConstraints", "ClusterRole", "RoleBinding"} {
		if created[k] == 0 {
			t.Errorf("no %s was created", k)
		}
	}
	if kyvernoObj == nil || sccObj == nil {
		t.Fatal("no Policy or SCC to break")
	}

	// Broken copies: each must be refused by the CRD's schema.
	broken := []struct {
		name   string
		obj    *unstructured.Unstructured
		change func(u *unstructured.Unstructured)
		want   string
	}{
		{"kyverno: failureAction Deny", kyvernoObj, func(u *unstructured.Unstructured) {
			rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
			_ = unstructured.SetNestedField(rules[0].(map[string]any), "Deny", "validate", "failureAction")
			_ = unstructured.SetNestedSlice(u.Object, rules, "spec", "rules")
		}, "Unsupported value"},
		{"kyverno: unknown field", kyvernoObj, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, true, "spec", "backgroundScan")
		}, "unknown field"},
		{"scc: no volumes", sccObj, func(u *unstructured.Unstructured) {
			unstructured.RemoveNestedField(u.Object, "volumes")
		}, "volumes"},
		{"scc: allowedCapabilities a string", sccObj, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "NET_ADMIN", "allowedCapabilities")
		}, "allowedCapabilities"},
	}
	for _, b := range broken {
		u := b.obj.DeepCopy()
		u.SetName(u.GetName() + "-broken")
		u.SetResourceVersion("")
		b.change(u)
		err := e.createStrict(dyn, u)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: want the schema to refuse it with %q, got %v", b.name, b.want, err)
		}
	}
}

// kyvernoApply runs the real Kyverno CLI on the policies and one resource
// and returns whether the resource passed and what the CLI printed.
func kyvernoApply(t *testing.T, kyverno, policies string, resource *unstructured.Unstructured) (bool, string) {
	t.Helper()
	y, err := yaml.Marshal(resource.Object)
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: a subtest's name can hold a comma, and --resource is
	// a comma-separated list.
	dir, err := os.MkdirTemp("", "kubectl-caps-kyverno-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := filepath.Join(dir, "resource.yaml")
	if err := os.WriteFile(f, y, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kyverno, "apply", policies, "--resource", f, "--remove-color")
	cmd.Env = append(os.Environ(), "KYVERNO_EXPERIMENTAL=false", "HOME="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("kyverno apply: %v\n%s", err, out.String())
	}
	text := out.String()
	// The summary line of commands/apply/print.go: rules that passed,
	// failed, warned, errored and were skipped (the namespaces' other
	// Policies skip a resource outside them).
	m := regexp.MustCompile(`pass: (\d+), fail: (\d+), warn: (\d+), error: (\d+), skip: (\d+)`).FindStringSubmatch(text)
	if m == nil || m[4] != "0" || m[3] != "0" || (m[1] == "0") == (m[2] == "0") {
		t.Fatalf("kyverno apply gave no clear verdict (exit %v):\n%s", err, text)
	}
	return m[2] == "0", text
}

// TestPolicyKyvernoCLI evaluates the generated Kyverno policies with the
// real Kyverno CLI (kyverno apply, built from the module proxy by
// hack/policytools.sh) on the cases of TestPolicyVAPOnRealAPIServer: the
// workloads they were generated from pass, except those the command names;
// the mutated copies fail with the policy's message.
func TestPolicyKyvernoCLI(t *testing.T) {
	tools := policyTools(t)
	kyverno := filepath.Join(tools, "kyverno")
	if _, err := os.Stat(kyverno); err != nil {
		// CI too: the CLI's cold build takes ~26 CPU-minutes, 62 minutes
		// on the shared CI machine (hack/policytools.sh, docs/policy.md),
		// so only make test-integration POLICYTOOLS_FLAGS=--with-cli runs
		// this test. The CRD test above runs everywhere.
		t.Skipf("no Kyverno CLI in %s: build it with hack/policytools.sh --with-cli (~26 CPU-minutes cold)", tools)
	}
	e := newEnv(t)
	ex := e.loadExamples("kyv")
	netNS := ex.namespaces["net"]
	allow := netNS + "/deploy/vpn:escalatable=SYS_PTRACE"
	r := runPlugin(t, e.srv.Kubeconfig(), "policy", "--format", "kyverno", "-f", ex.file, "--allow", allow)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.ErrOut)
	}
	policies := filepath.Join(t.TempDir(), "policies.yaml")
	if err := os.WriteFile(policies, []byte(r.Out), 0o644); err != nil {
		t.Fatal(err)
	}
	rejected := map[string]bool{ex.namespaces["tools"] + "/Pod/legacy-tool": true, ex.namespaces["data"] + "/StatefulSet/db": true}
	var names []string
	for _, u := range ex.objs {
		key := u.GetNamespace() + "/" + u.GetKind() + "/" + u.GetName()
		names = append(names, key)
		pass, out := kyvernoApply(t, kyverno, policies, u)
		if pass == rejected[key] {
			t.Errorf("%s: kyverno apply passed=%v, want %v:\n%s", key, pass, !rejected[key], out)
		}
	}
	sort.Strings(names)
	t.Logf("kyverno apply on %d example workloads: all pass but the 2 named", len(names))

	caps := func(add, drop []any) map[string]any {
		c := map[string]any{}
		if add != nil {
			c["add"] = add
		}
		if drop != nil {
			c["drop"] = drop
		}
		return map[string]any{"capabilities": c}
	}
	container := func(spec map[string]any, list string, i int) map[string]any {
		cs, _ := spec[list].([]any)
		return cs[i].(map[string]any)
	}
	tests := []struct {
		name   string
		kind   string
		obj    string
		change func(spec map[string]any)
		want   string // "" passes, else the message
	}{
		{"add an allowed capability", "Deployment", "vpn", func(s map[string]any) {
			container(s, "containers", 1)["securityContext"] = caps([]any{"NET_RAW"}, []any{"ALL"})
		}, ""},
		{"add a disallowed capability", "Deployment", "vpn", func(s map[string]any) {
			container(s, "containers", 1)["securityContext"] = caps([]any{"SYS_ADMIN"}, []any{"ALL"})
		}, `container "no-new-privs" adds SYS_ADMIN: not allowed in namespace ` + netNS},
		{"CAP_SYS_ADMIN", "Deployment", "vpn", func(s map[string]any) {
			container(s, "containers", 0)["securityContext"] = caps([]any{"CAP_SYS_ADMIN"}, nil)
		}, `container "escalatable": CAP_SYS_ADMIN: capabilities must be written as Kubernetes compares them`},
		{"the capability hidden in an init container", "Deployment", "vpn", func(s map[string]any) {
			s["initContainers"] = []any{map[string]any{"name": "setup", "image": "registry.example/setup:1", "securityContext": caps([]any{"SYS_MODULE"}, nil)}}
		}, `initContainer "setup" adds SYS_MODULE`},
		{"privileged where none was", "Deployment", "vpn", func(s map[string]any) {
			container(s, "containers", 1)["securityContext"] = map[string]any{"privileged": true}
		}, `container "no-new-privs" is privileged`},
		{"lower-case all in drop", "DaemonSet", "node-agent", func(s map[string]any) {
			container(s, "containers", 0)["securityContext"] = map[string]any{"privileged": true, "capabilities": map[string]any{"drop": []any{"all"}}}
		}, `container "agent": all: capabilities must be written`},
		{"drop nothing where every workload drops ALL", "DaemonSet", "node-agent", func(s map[string]any) {
			container(s, "containers", 0)["securityContext"] = map[string]any{"privileged": true}
		}, `container "agent" does not drop ALL`},
		{"the allowance, in its container", "Deployment", "vpn", func(s map[string]any) {
			container(s, "containers", 0)["securityContext"] = caps([]any{"SYS_PTRACE"}, nil)
		}, ""},
		{"the allowance, in another container", "Deployment", "vpn", func(s map[string]any) {
			container(s, "containers", 1)["securityContext"] = caps([]any{"SYS_PTRACE"}, []any{"ALL"})
		}, `container "no-new-privs" adds SYS_PTRACE`},
		{"a cronjob's pod spec", "CronJob", "backup", func(s map[string]any) {
			container(s, "containers", 0)["securityContext"] = caps([]any{"SYS_ADMIN"}, nil)
		}, `container "backup" adds SYS_ADMIN`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := ex.find(t, tt.kind, tt.obj)
			spec := podSpec(t, u)
			tt.change(spec)
			setPodSpec(t, u, spec)
			pass, out := kyvernoApply(t, kyverno, policies, u)
			switch {
			case tt.want == "" && !pass:
				t.Errorf("want pass, kyverno apply said:\n%s", out)
			case tt.want != "" && (pass || !strings.Contains(out, tt.want)):
				t.Errorf("want a failure with %q, kyverno apply said:\n%s", tt.want, out)
			}
		})
	}

	// A pod of the monitoring namespace with an ephemeral container (as
	// kubectl debug adds it) that adds what the namespace does not allow.
	pod := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "spec": map[string]any{
		"containers": []any{map[string]any{"name": "app", "image": "registry.example/app:1", "securityContext": caps(nil, []any{"ALL"})}},
		"ephemeralContainers": []any{map[string]any{"name": "debugger", "image": "busybox:1.37", "targetContainerName": "app",
			"securityContext": caps([]any{"SYS_PTRACE"}, []any{"ALL"})}},
	}}}
	pod.SetName("target")
	pod.SetNamespace(ex.namespaces["monitoring"])
	if pass, out := kyvernoApply(t, kyverno, policies, pod); pass || !strings.Contains(out, `ephemeralContainer "debugger" adds SYS_PTRACE`) {
		t.Errorf("ephemeral container: want a failure naming it, kyverno apply said:\n%s", out)
	}
}
