//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// TestPolicyExceptionsOnRealAPIServer applies the restricted VAP generated
// from manifests whose exceptions are recorded, not given with --allow: a
// Deployment allowed NET_ADMIN by its allow annotation, and a Deployment
// allowed NET_RAW by an --exceptions entry whose name is a glob. Each is
// admitted; a copy of each under another name (which the glob would match
// too: globs are expanded against the workloads read) is rejected. A live
// run reads the annotation of a pod in the same way.
func TestPolicyExceptionsOnRealAPIServer(t *testing.T) {
	e := newEnv(t)
	dyn, err := dynamic.NewForConfig(e.srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	ns := e.namespace("vapexc")
	deploy := func(name, container, capName string, annotations map[string]any) *unstructured.Unstructured {
		meta := map[string]any{"name": name, "namespace": ns}
		if annotations != nil {
			meta["annotations"] = annotations
		}
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
			"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
				"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": name}},
					"spec": map[string]any{"containers": []any{map[string]any{"name": container, "image": "registry.example/" + name + ":1",
						"securityContext": map[string]any{"capabilities": map[string]any{"add": []any{capName}, "drop": []any{"ALL"}}}}}}}}}}
	}
	vpn := deploy("vpn", "tunnel", "NET_ADMIN", map[string]any{"caps.kubectl-caps.io/allow": "tunnel: NET_ADMIN; reason: the VPN tunnel sets routes"})
	agent := deploy("agent-1", "agent", "NET_RAW", nil)
	dir := t.TempDir()
	var docs []string
	for _, u := range []*unstructured.Unstructured{vpn, agent} {
		b, err := yaml.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	manifests, excFile := filepath.Join(dir, "workloads.yaml"), filepath.Join(dir, "exceptions.yaml")
	if err := os.WriteFile(manifests, []byte(strings.Join(docs, "---\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	exc := fmt.Sprintf("apiVersion: caps.kubectl-caps.io/v1alpha1\nkind: Exceptions\nexceptions:\n- namespace: %s\n  name: agent-*\n  capabilities: [NET_RAW]\n  reason: raw sockets for ping probes\n", ns)
	if err := os.WriteFile(excFile, []byte(exc), 0o600); err != nil {
		t.Fatal(err)
	}

	// Without the exceptions the policy would reject both: they are what
	// admits them below.
	r := runPlugin(t, e.srv.Kubeconfig(), "policy", "--format", "vap", "--mode", "restricted", "-f", manifests, "--exceptions", excFile)
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.ErrOut)
	}
	if strings.Contains(r.ErrOut, "rejects") {
		t.Errorf("the policy rejects a workload its exceptions allow:\n%s", r.ErrOut)
	}
	for _, want := range []string{"reason: the VPN tunnel sets routes", "reason: raw sockets for ping probes"} {
		if !strings.Contains(r.Out, want) {
			t.Errorf("the policy does not give the reason %q:\n%s", want, r.Out)
		}
	}
	e.applyPolicies(r.Out, ns)
	checkVerdict(t, e.create(dyn, vpn, ""), "")
	checkVerdict(t, e.create(dyn, vpn, "-copy"), `container "tunnel" adds NET_ADMIN`)
	checkVerdict(t, e.create(dyn, agent, ""), "")
	checkVerdict(t, e.create(dyn, agent, "-copy"), `container "agent" adds NET_RAW`)

	// Live: a pod's allow annotation (its template's, on the cluster) is
	// read the same way. The policy is generated from the running pod;
	// then the pod is deleted, and created again (dry run): admitted by
	// its allowance, where the same pod under another name is not.
	live := e.namespace("vapexclive")
	node := e.node("vapexclive", "containerd://2.1.4")
	p := e.pod(live, "probe", node, corev1.PodSpec{Containers: []corev1.Container{{Name: "probe",
		SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW"}, Drop: []corev1.Capability{"ALL"}}}}}},
		func(p *corev1.Pod) {
			p.Annotations = map[string]string{"caps.kubectl-caps.io/allow": "probe: NET_RAW; reason: ping"}
		})
	r = runPlugin(t, e.srv.Kubeconfig(), "policy", "--format", "vap", "--mode", "restricted", "-n", live)
	if r.Code != 0 || !strings.Contains(r.Out, "reason: ping") || strings.Contains(r.ErrOut, "rejects") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", r.Code, r.Out, r.ErrOut)
	}
	zero := int64(0)
	if err := e.cs.CoreV1().Pods(live).Delete(e.ctx, "probe", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	e.applyPolicies(r.Out, live)
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(p)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetAPIVersion("v1")
	u.SetKind("Pod")
	u.SetUID("")
	u.SetCreationTimestamp(metav1.Time{})
	checkVerdict(t, e.create(dyn, u, ""), "")
	checkVerdict(t, e.create(dyn, u, "-copy"), `container "probe" adds NET_RAW`)
}
