//go:build integration

package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	psapolicy "k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// policyResources are the kinds a generated policy matches, with their
// resources and where their pod spec is.
var policyResources = map[string]struct {
	gvr  schema.GroupVersionResource
	spec []string
}{
	"Pod":                   {schema.GroupVersionResource{Version: "v1", Resource: "pods"}, []string{"spec"}},
	"ReplicationController": {schema.GroupVersionResource{Version: "v1", Resource: "replicationcontrollers"}, []string{"spec", "template", "spec"}},
	"Deployment":            {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, []string{"spec", "template", "spec"}},
	"StatefulSet":           {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, []string{"spec", "template", "spec"}},
	"DaemonSet":             {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}, []string{"spec", "template", "spec"}},
	"ReplicaSet":            {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, []string{"spec", "template", "spec"}},
	"Job":                   {schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}, []string{"spec", "template", "spec"}},
	"CronJob":               {schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}, []string{"spec", "jobTemplate", "spec", "template", "spec"}},
}

// policyObjects are the workloads of examples/, each moved from its
// namespace to a fresh one (namespaces maps the example's to it), and the
// manifest file holding them for the plugin's -f.
type policyObjects struct {
	objs       []*unstructured.Unstructured
	namespaces map[string]string
	file       string
}

// loadExamples reads examples/ as kubectl would (YAML documents and JSON
// Lists) and keeps the workloads, in fresh namespaces prefixed with prefix.
func (e *env) loadExamples(prefix string) *policyObjects {
	e.t.Helper()
	files, err := filepath.Glob("../../examples/*.*") // files: examples/evidence/ holds traces
	if err != nil || len(files) < 5 {
		e.t.Fatalf("examples: %v %v", files, err)
	}
	sort.Strings(files)
	p := &policyObjects{namespaces: map[string]string{}}
	var out bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
		for {
			var m map[string]any
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				e.t.Fatalf("%s: %v", f, err)
			}
			u := &unstructured.Unstructured{Object: m}
			items := []*unstructured.Unstructured{u}
			if u.GetKind() == "List" {
				items = nil
				list, _, _ := unstructured.NestedSlice(m, "items")
				for _, it := range list {
					items = append(items, &unstructured.Unstructured{Object: it.(map[string]any)})
				}
			}
			for _, u := range items {
				if _, ok := policyResources[u.GetKind()]; !ok {
					continue
				}
				ns := u.GetNamespace()
				if p.namespaces[ns] == "" {
					p.namespaces[ns] = e.namespace(prefix + "-" + ns)
				}
				u.SetNamespace(p.namespaces[ns])
				p.objs = append(p.objs, u)
				y, err := yaml.Marshal(u.Object)
				if err != nil {
					e.t.Fatal(err)
				}
				out.WriteString("---\n")
				out.Write(y)
			}
		}
	}
	p.file = filepath.Join(e.t.TempDir(), "examples.yaml")
	if err := os.WriteFile(p.file, out.Bytes(), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// find is the object of that kind and name.
func (p *policyObjects) find(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, u := range p.objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u.DeepCopy()
		}
	}
	t.Fatalf("no %s/%s in examples", kind, name)
	return nil
}

// podSpec is the object's pod spec, which changes change in place.
func podSpec(t *testing.T, u *unstructured.Unstructured) map[string]any {
	t.Helper()
	m, ok, err := unstructured.NestedMap(u.Object, policyResources[u.GetKind()].spec...)
	if !ok || err != nil {
		t.Fatalf("%s/%s has no pod spec: %v", u.GetKind(), u.GetName(), err)
	}
	return m
}

func setPodSpec(t *testing.T, u *unstructured.Unstructured, spec map[string]any) {
	t.Helper()
	if err := unstructured.SetNestedMap(u.Object, spec, policyResources[u.GetKind()].spec...); err != nil {
		t.Fatal(err)
	}
}

// create creates the object on the server (dry-run unless real) and
// returns the server's error. A pod with ephemeral containers, which the
// API refuses on create, is created without them and gets them through
// pods/ephemeralcontainers, as kubectl debug adds them.
func (e *env) create(dyn dynamic.Interface, u *unstructured.Unstructured, suffix string) error {
	e.t.Helper()
	u = u.DeepCopy()
	u.SetName(u.GetName() + suffix)
	u.SetResourceVersion("")
	res := dyn.Resource(policyResources[u.GetKind()].gvr).Namespace(u.GetNamespace())
	dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	eph, has, _ := unstructured.NestedSlice(u.Object, "spec", "ephemeralContainers")
	if u.GetKind() != "Pod" || !has {
		_, err := res.Create(e.ctx, u, dry)
		return err
	}
	unstructured.RemoveNestedField(u.Object, "spec", "ephemeralContainers")
	got, err := res.Create(e.ctx, u, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	if err := unstructured.SetNestedSlice(got.Object, eph, "spec", "ephemeralContainers"); err != nil {
		e.t.Fatal(err)
	}
	_, err = res.Update(e.ctx, got, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}}, "ephemeralcontainers")
	return err
}

// applyPolicies creates the ValidatingAdmissionPolicies and bindings of a
// vap output as admin, and waits until each binding's namespace (or, for
// a cluster policy, ns) rejects a pod that writes a capability in lower
// case, which every generated policy refuses: the apiserver picks new
// policies up asynchronously.
func (e *env) applyPolicies(out string, namespaces ...string) []string {
	e.t.Helper()
	var names []string
	for _, doc := range strings.Split(out, "\n---\n") {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			e.t.Fatalf("output document: %v\n%s", err, doc)
		}
		var err error
		switch tm.Kind {
		case "ValidatingAdmissionPolicy":
			var p admissionv1.ValidatingAdmissionPolicy
			if err = yaml.UnmarshalStrict([]byte(doc), &p); err == nil {
				_, err = e.cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(e.ctx, &p, metav1.CreateOptions{})
				names = append(names, p.Name)
			}
		case "ValidatingAdmissionPolicyBinding":
			var b admissionv1.ValidatingAdmissionPolicyBinding
			if err = yaml.UnmarshalStrict([]byte(doc), &b); err == nil {
				_, err = e.cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(e.ctx, &b, metav1.CreateOptions{})
			}
		case "":
			continue // the header comment
		default:
			e.t.Fatalf("unexpected kind %q in the output", tm.Kind)
		}
		if err != nil {
			e.t.Fatalf("applying %s: %v\n%s", tm.Kind, err, doc)
		}
	}
	e.t.Cleanup(func() {
		for _, n := range names {
			_ = e.cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(e.ctx, n, metav1.DeleteOptions{})
			_ = e.cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(e.ctx, n, metav1.DeleteOptions{})
		}
	})
	probe := func(ns string) error {
		_, err := e.cs.CoreV1().Pods(ns).Create(e.ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "probe", Image: "registry.example/probe:1",
				SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"net_bind_service"}}}}}}},
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}
	for _, ns := range namespaces {
		deadline := time.Now().Add(60 * time.Second)
		for {
			err := probe(ns)
			if err != nil && strings.Contains(err.Error(), "ValidatingAdmissionPolicy") {
				break
			}
			if time.Now().After(deadline) {
				e.t.Fatalf("namespace %s still admits a lower-case capability 60s after the policies were applied (last answer: %v)", ns, err)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	return names
}

// TestPolicyVAPOnRealAPIServer applies the observed policy generated from
// examples/ to a real apiserver: every workload it was generated from is
// admitted, except those the command names as written otherwise; mutated
// copies are rejected with the policy's message.
func TestPolicyVAPOnRealAPIServer(t *testing.T) {
	e := newEnv(t)
	dyn, err := dynamic.NewForConfig(e.srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	ex := e.loadExamples("vap")
	netNS, monNS := ex.namespaces["net"], ex.namespaces["monitoring"]
	allow := netNS + "/deploy/vpn:escalatable=SYS_PTRACE"
	r := runPlugin(t, e.srv.Kubeconfig(), "policy", "--format", "vap", "-f", ex.file, "--allow", allow)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.ErrOut)
	}
	var nss []string
	for _, ns := range ex.namespaces {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	policies := e.applyPolicies(r.Out, nss...)
	if len(policies) != len(nss) {
		t.Fatalf("%d policies for %d namespaces: %v", len(policies), len(nss), policies)
	}

	// The command names, on stderr, the containers its policy rejects
	// today: the CAP_ pod and the StatefulSet with drop: ["all"].
	rejected := map[string]string{}
	for _, l := range strings.Split(r.ErrOut, "\n") {
		m := regexp.MustCompile(`^Warning: \S+ rejects ([^/]+)/(\w+)/(\S+) \w+ "([^"]+)"`).FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if key := m[1] + "/" + m[2] + "/" + m[3]; rejected[key] == "" {
			rejected[key] = m[4] // the first container named
		}
	}
	want := map[string]string{ex.namespaces["tools"] + "/pod/legacy-tool": "tool", ex.namespaces["data"] + "/sts/db": "postgres"}
	if diff := cmp.Diff(want, rejected); diff != "" {
		t.Errorf("containers named as rejected (-want +got):\n%s\nstderr:\n%s", diff, r.ErrOut)
	}
	admitted := 0
	for _, u := range ex.objs {
		key := u.GetNamespace() + "/" + workload.Ref{Kind: u.GetKind(), Name: u.GetName()}.Label()
		err := e.create(dyn, u, "")
		if c, ok := rejected[key]; ok {
			if err == nil || !strings.Contains(err.Error(), "ValidatingAdmissionPolicy") || !strings.Contains(err.Error(), `"`+c+`"`) {
				t.Errorf("%s: want the policy's rejection naming %q, got %v", key, c, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s was generated from and must be admitted: %v", key, err)
		}
		admitted++
	}
	t.Logf("%d example workloads admitted, %d rejected as named", admitted, len(rejected))

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
		change func(spec map[string]any, u *unstructured.Unstructured)
		want   string // "" admitted, else the error's text
	}{
		{"add an allowed capability", "Deployment", "vpn", func(s map[string]any, _ *unstructured.Unstructured) {
			container(s, "containers", 1)["securityContext"] = caps([]any{"NET_RAW"}, []any{"ALL"})
		}, ""},
		{"add a disallowed capability", "Deployment", "vpn", func(s map[string]any, _ *unstructured.Unstructured) {
			container(s, "containers", 1)["securityContext"] = caps([]any{"SYS_ADMIN"}, []any{"ALL"})
		}, `container "no-new-privs" adds SYS_ADMIN: not allowed in namespace ` + netNS},
		{"CAP_SYS_ADMIN", "Deployment", "vpn", func(s map[string]any, _ *unstructured.Unstructured) {
			container(s, "containers", 0)["securityContext"] = caps([]any{"CAP_SYS_ADMIN"}, nil)
		}, `container "escalatable": CAP_SYS_ADMIN: capabilities must be written as Kubernetes compares them`},
		{"the capability hidden in an init container", "Deployment", "vpn", func(s map[string]any, _ *unstructured.Unstructured) {
			s["initContainers"] = []any{map[string]any{"name": "setup", "image": "registry.example/setup:1", "securityContext": caps([]any{"SYS_MODULE"}, nil)}}
		}, `initContainer "setup" adds SYS_MODULE`},
		{"privileged where none was", "Deployment", "vpn", func(s map[string]any, _ *unstructured.Unstructured) {
			container(s, "containers", 1)["securityContext"] = map[string]any{"privileged": true}
		}, `container "no-new-privs" is privileged`},
		{"lower-case all in drop", "DaemonSet", "node-agent", func(s map[string]any, _ *unstructured.Unstructured) {
			container(s, "containers", 0)["securityContext"] = map[string]any{"privileged": true, "capabilities": map[string]any{"drop": []any{"all"}}}
		}, `container "agent": all: capabilities must be written`},
		{"drop nothing where every workload drops ALL", "DaemonSet", "node-agent", func(s map[string]any, _ *unstructured.Unstructured) {
			container(s, "containers", 0)["securityContext"] = map[string]any{"privileged": true}
		}, `container "agent" does not drop ALL`},
		{"the allowance, in its container", "Deployment", "vpn", func(s map[string]any, _ *unstructured.Unstructured) {
			container(s, "containers", 0)["securityContext"] = caps([]any{"SYS_PTRACE"}, nil)
		}, ""},
		{"the allowance, in another container", "Deployment", "vpn", func(s map[string]any, _ *unstructured.Unstructured) {
			container(s, "containers", 1)["securityContext"] = caps([]any{"SYS_PTRACE"}, []any{"ALL"})
		}, `container "no-new-privs" adds SYS_PTRACE`},
		{"a cronjob's pod spec", "CronJob", "backup", func(s map[string]any, _ *unstructured.Unstructured) {
			container(s, "containers", 0)["securityContext"] = caps([]any{"SYS_ADMIN"}, nil)
		}, `container "backup" adds SYS_ADMIN`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := ex.find(t, tt.kind, tt.obj)
			spec := podSpec(t, u)
			tt.change(spec, u)
			setPodSpec(t, u, spec)
			checkVerdict(t, e.create(dyn, u, ""), tt.want)
		})
	}

	// Pods the Deployment's ReplicaSet would make carry the allowance, found
	// through their owner ReplicaSet vpn-HASH and their pod-template-hash
	// label; a pod of another ReplicaSet does not.
	vpn := ex.find(t, "Deployment", "vpn")
	tmpl, _, _ := unstructured.NestedMap(vpn.Object, "spec", "template")
	pod := func(rs, hash string) *unstructured.Unstructured {
		p := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "spec": tmpl["spec"]}}
		p.SetNamespace(netNS)
		p.SetName(rs + "-pod")
		p.SetLabels(map[string]string{"app": "vpn", "pod-template-hash": hash})
		yes := true
		p.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs, UID: "rs-uid", Controller: &yes}})
		spec := podSpec(t, p)
		spec = runtime.DeepCopyJSON(spec)
		container(spec, "containers", 0)["securityContext"] = caps([]any{"SYS_PTRACE"}, nil)
		setPodSpec(t, p, spec)
		return p
	}
	checkVerdict(t, e.create(dyn, pod("vpn-5d4f8b", "5d4f8b"), ""), "")
	checkVerdict(t, e.create(dyn, pod("vpn-other-5d4f8b", "5d4f8b"), ""), `container "escalatable" adds SYS_PTRACE`)

	// An ephemeral container (kubectl debug) that adds what the namespace
	// does not allow is refused through pods/ephemeralcontainers.
	pm, err := e.cs.CoreV1().Pods(monNS).Create(e.ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "target"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1",
			SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pm.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debugger", Image: "busybox:1.37", SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{
			Add: []corev1.Capability{"SYS_PTRACE"}, Drop: []corev1.Capability{"ALL"}}}}, TargetContainerName: "app"}}
	_, err = e.cs.CoreV1().Pods(monNS).UpdateEphemeralContainers(e.ctx, "target", pm, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
	checkVerdict(t, err, `ephemeralContainer "debugger" adds SYS_PTRACE`)
	pm.Spec.EphemeralContainers[0].SecurityContext.Capabilities.Add = nil
	_, err = e.cs.CoreV1().Pods(monNS).UpdateEphemeralContainers(e.ctx, "target", pm, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
	checkVerdict(t, err, "")
}

// checkVerdict: want "" means admitted; else a rejection by a policy
// that says want.
func checkVerdict(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("want admitted, got %v", err)
	case want != "" && err == nil:
		t.Errorf("admitted, want rejected with %q", want)
	case want != "" && (!strings.Contains(err.Error(), "ValidatingAdmissionPolicy 'kubectl-caps-") || !strings.Contains(err.Error(), want)):
		t.Errorf("want the policy's rejection with %q, got %v", want, err)
	case want != "" && !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err):
		t.Errorf("rejection is neither Forbidden nor Invalid: %v", err)
	}
}

// TestPolicyRestrictedAgreesWithPSA applies the restricted policy and holds
// its verdict on each case to Pod Security Admission's own capability and
// privileged checks at restricted (the library the apiserver runs), except
// where the policy is stricter on spelling by design.
func TestPolicyRestrictedAgreesWithPSA(t *testing.T) {
	e := newEnv(t)
	ns := e.namespace("vap-restricted")
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: ok, namespace: %s}
spec:
  containers:
  - name: app
    image: registry.example/app:1
    securityContext: {capabilities: {drop: ["ALL"], add: ["NET_BIND_SERVICE"]}}
`, ns)
	file := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runPlugin(t, e.srv.Kubeconfig(), "policy", "--format", "vap", "--mode", "restricted", "-f", file)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.ErrOut)
	}
	e.applyPolicies(r.Out, ns)
	checks := []psapolicy.CheckPodFn{}
	for _, c := range []psapolicy.Check{psapolicy.CheckCapabilitiesRestricted(), psapolicy.CheckPrivileged()} {
		checks = append(checks, c.Versions[len(c.Versions)-1].CheckPod)
	}
	sc := func(add, drop []corev1.Capability) *corev1.SecurityContext {
		return &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: add, Drop: drop}}
	}
	all := []corev1.Capability{"ALL"}
	tests := []struct {
		name     string
		spec     corev1.PodSpec
		stricter bool // PSA admits it; the policy refuses the spelling
	}{
		{"drop ALL, add NET_BIND_SERVICE", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", SecurityContext: sc([]corev1.Capability{"NET_BIND_SERVICE"}, all)}}}, false},
		{"drop nothing", corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, false},
		{"lower-case all", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", SecurityContext: sc(nil, []corev1.Capability{"all"})}}}, false},
		{"add SYS_ADMIN", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", SecurityContext: sc([]corev1.Capability{"SYS_ADMIN"}, all)}}}, false},
		{"add CAP_NET_BIND_SERVICE", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", SecurityContext: sc([]corev1.Capability{"CAP_NET_BIND_SERVICE"}, all)}}}, false},
		{"privileged", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true),
			Capabilities: &corev1.Capabilities{Drop: all}}}}}, false},
		{"init container drops nothing", corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i"}},
			Containers: []corev1.Container{{Name: "a", SecurityContext: sc(nil, all)}}}, false},
		{"windows, drop nothing", corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Windows}, Containers: []corev1.Container{{Name: "a"}}}, false},
		{"drop ALL and a lower-case name", corev1.PodSpec{Containers: []corev1.Container{{Name: "a", SecurityContext: sc(nil, []corev1.Capability{"ALL", "net_raw"})}}}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			for _, l := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
				for j := range l {
					l[j].Image = "registry.example/app:1"
				}
			}
			psaAllows := true
			for _, c := range checks {
				psaAllows = psaAllows && c(&metav1.ObjectMeta{}, &spec).Allowed
			}
			_, err := e.cs.CoreV1().Pods(ns).Create(e.ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("case-%d", i)}, Spec: spec},
				metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil && !strings.Contains(err.Error(), "ValidatingAdmissionPolicy") {
				t.Fatalf("rejected, but not by the policy: %v", err)
			}
			policyAllows := err == nil
			want := psaAllows && !tt.stricter
			if policyAllows != want {
				t.Errorf("policy admits: %v, PSA admits: %v (stricter by design: %v); server said %v", policyAllows, psaAllows, tt.stricter, err)
			}
		})
	}
}

// TestPolicyPSAOnRealAPIServer labels namespaces as the psa output says and
// creates the examples' pods with the apiserver's Pod Security Admission:
// at the proposed level all are admitted; one level higher, the rejected
// ones are exactly the workloads the output named.
func TestPolicyPSAOnRealAPIServer(t *testing.T) {
	e := newEnv(t)
	dyn, err := dynamic.NewForConfig(e.srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	ex := e.loadExamples("psa")
	r := runPlugin(t, e.srv.Kubeconfig(), "policy", "--format", "psa", "-f", ex.file)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.ErrOut)
	}
	type nsPlan struct {
		level, next string
		labels      map[string]string
		blocked     []string
	}
	plans := map[string]*nsPlan{}
	var cur *nsPlan
	header := regexp.MustCompile(`^# Namespace (\S+): every pod of \d+ workload\(s\) meets (\w+)(?:; \d+ workload\(s\) block (\w+):)?`)
	for _, l := range strings.Split(r.Out, "\n") {
		if m := header.FindStringSubmatch(l); m != nil {
			cur = &nsPlan{level: m[2], next: m[3], labels: map[string]string{}}
			plans[m[1]] = cur
		} else if m := regexp.MustCompile(`^#   (\w+/\S+): `).FindStringSubmatch(l); m != nil && cur != nil {
			cur.blocked = append(cur.blocked, m[1])
		} else if strings.HasPrefix(l, "kubectl label") && cur != nil {
			for _, f := range strings.Fields(l) {
				if k, v, ok := strings.Cut(f, "="); ok && strings.HasPrefix(k, "pod-security.kubernetes.io/") {
					cur.labels[k] = v
				}
			}
		}
	}
	if len(plans) != len(ex.namespaces) {
		t.Fatalf("%d namespaces in the output, want %d:\n%s", len(plans), len(ex.namespaces), r.Out)
	}
	label := func(ns string, labels map[string]string) {
		n, err := e.cs.CoreV1().Namespaces().Get(e.ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range labels {
			n.Labels[k] = v
		}
		if _, err := e.cs.CoreV1().Namespaces().Update(e.ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// asPods is each workload as the pod its controller would make.
	asPod := func(u *unstructured.Unstructured) *unstructured.Unstructured {
		if u.GetKind() == "Pod" {
			return u
		}
		spec := podSpec(t, u)
		p := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "spec": spec}}
		p.SetNamespace(u.GetNamespace())
		p.SetName(strings.ToLower(u.GetKind()) + "-" + u.GetName())
		return p
	}
	for _, ns := range ex.namespaces {
		plan := plans[ns]
		label(ns, plan.labels)
		var refused []string
		for _, u := range ex.objs {
			if u.GetNamespace() != ns {
				continue
			}
			if err := e.create(dyn, asPod(u), "-at-level"); err != nil {
				t.Errorf("%s/%s/%s refused at %s, which the command proposed: %v", ns, u.GetKind(), u.GetName(), plan.level, err)
			}
		}
		if plan.next == "" {
			continue
		}
		label(ns, map[string]string{"pod-security.kubernetes.io/enforce": plan.next})
		// PSA reads namespace labels from an informer: wait until it
		// refuses a privileged pod, which baseline and restricted refuse.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			_, err := e.cs.CoreV1().Pods(ns).Create(e.ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "probe"},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "probe", Image: "registry.example/probe:1",
					SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}}}, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil && strings.Contains(err.Error(), "violates PodSecurity") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("namespace %s: PSA still admits a privileged pod 30s after enforce=%s (last answer: %v)", ns, plan.next, err)
			}
		}
		for _, u := range ex.objs {
			if u.GetNamespace() != ns {
				continue
			}
			err := e.create(dyn, asPod(u), "-above")
			if err != nil && !strings.Contains(err.Error(), "violates PodSecurity") {
				t.Fatalf("%s/%s: refused, but not by PSA: %v", u.GetKind(), u.GetName(), err)
			}
			if err != nil {
				refused = append(refused, workload.Ref{Kind: u.GetKind(), Name: u.GetName()}.Label())
			}
		}
		sort.Strings(refused)
		if diff := cmp.Diff(plan.blocked, refused); diff != "" {
			t.Errorf("namespace %s at %s: refused pods differ from those the command named (-named +refused):\n%s", ns, plan.next, diff)
		}
		t.Logf("namespace %s: all admitted at %s; at %s PSA refused %v, as named", ns, plan.level, plan.next, refused)
	}
}

// TestPolicyLiveMatchesManifests creates the examples' objects for real and
// generates both formats from the live cluster: the policies and the
// labels must be those generated from the same manifests (the header
// aside), although live the audit reads pods and the templates of
// controllers without pods, through the rollup's reduced specs.
func TestPolicyLiveMatchesManifests(t *testing.T) {
	e := newEnv(t)
	dyn, err := dynamic.NewForConfig(e.srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	ex := e.loadExamples("live")
	for _, u := range ex.objs {
		u = u.DeepCopy()
		res := dyn.Resource(policyResources[u.GetKind()].gvr).Namespace(u.GetNamespace())
		eph, has, _ := unstructured.NestedSlice(u.Object, "spec", "ephemeralContainers")
		unstructured.RemoveNestedField(u.Object, "spec", "ephemeralContainers")
		got, err := res.Create(e.ctx, u, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("creating %s/%s: %v", u.GetKind(), u.GetName(), err)
		}
		if u.GetKind() == "Pod" && has {
			if err := unstructured.SetNestedSlice(got.Object, eph, "spec", "ephemeralContainers"); err != nil {
				t.Fatal(err)
			}
			if _, err := res.Update(e.ctx, got, metav1.UpdateOptions{}, "ephemeralcontainers"); err != nil {
				t.Fatalf("adding the ephemeral containers of %s: %v", u.GetName(), err)
			}
		}
	}
	var args []string
	for _, ns := range ex.namespaces {
		args = append(args, "ns/"+ns)
	}
	sort.Strings(args)
	body := func(out string) string {
		var keep []string
		for _, l := range strings.Split(out, "\n") {
			if !strings.HasPrefix(l, "# Generated ") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	for _, format := range []string{"vap", "kyverno", "scc", "psa"} {
		live := runPlugin(t, e.srv.Kubeconfig(), append([]string{"policy", "--format", format}, args...)...)
		files := runPlugin(t, e.srv.Kubeconfig(), "policy", "--format", format, "-f", ex.file)
		if live.Code != 0 || files.Code != 0 {
			t.Fatalf("%s: exit %d (live), %d (-f): %s %s", format, live.Code, files.Code, live.ErrOut, files.ErrOut)
		}
		if diff := cmp.Diff(body(files.Out), body(live.Out)); diff != "" {
			t.Errorf("--format %s: live output differs from the manifests' (-f +live):\n%s", format, diff)
		}
		if !strings.Contains(live.Out, "# Generated from: the cluster at "+e.srv.Host+", "+args[0]) {
			t.Errorf("--format %s: the header does not say the cluster was read:\n%s", format, live.Out[:400])
		}
	}
}
