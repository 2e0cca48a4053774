//go:build integration

package integration

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestExceptionsLiveOnControllers: a live audit honours the allow
// annotation on a controller's own metadata (which its pods never carry)
// and on the template of a controller without pods, as an audit of the
// same objects' manifests does (issue 13). It reads them from the
// controller lists the audit already makes for controllers without pods,
// so no request is added. The same value on object and template is one
// allowance; different values are an error naming the object (exit 3).
func TestExceptionsLiveOnControllers(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	ns := e.namespace("excctl")
	node := e.node("excctl", "containerd://2.1.4")
	allow := func(v string) map[string]string { return map[string]string{"caps.kubectl-caps.io/allow": v} }
	tmpl := func(app string, annotations map[string]string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}, Annotations: annotations},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: "registry.example/" + app + ":1",
				SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(0)),
					Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}}}}}}}
	}
	sel := func(app string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	}
	apps := e.cs.AppsV1()
	// Running, annotated on its own metadata only: its pod does not carry it.
	web, err := apps.Deployments(ns).Create(e.ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Annotations: allow("web: NET_ADMIN; reason: on the deployment")},
		Spec: appsv1.DeploymentSpec{Selector: sel("web"), Template: tmpl("web", nil)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := apps.ReplicaSets(ns).Create(e.ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-7c9d",
		OwnerReferences: []metav1.OwnerReference{controllerRef("Deployment", "apps/v1", web.Name, web.UID)}},
		Spec: appsv1.ReplicaSetSpec{Selector: sel("web"), Template: tmpl("web", nil)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := tmpl("web", nil)
	e.pod(ns, "web-7c9d-abcde", node, p.Spec, labels("app", "web", "pod-template-hash", "7c9d"), ownedBy("ReplicaSet", "apps/v1", rs.Name, rs.UID))
	// Scaled to zero, annotated on its template.
	if _, err := apps.Deployments(ns).Create(e.ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "idle"},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32), Selector: sel("idle"), Template: tmpl("idle", allow("idle: NET_ADMIN; reason: on the template"))}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Scaled to zero, unannotated: its finding stays open.
	if _, err := apps.Deployments(ns).Create(e.ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "plain"},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32), Selector: sel("plain"), Template: tmpl("plain", nil)}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	gh := runPlugin(t, kc, "audit", "-n", ns, "-o", "github", "--fail-on", "high", "--runtime", "containerd")
	for _, want := range []string{
		"[excepted by " + ns + "/deploy/web annotation caps.kubectl-caps.io/allow: on the deployment]",
		"[excepted by " + ns + "/deploy/idle annotation caps.kubectl-caps.io/allow: on the template]",
		"::error title=CAPS002 " + ns + "/deploy/plain plain NET_ADMIN::",
	} {
		if !strings.Contains(gh.Out, want) {
			t.Errorf("lacks %q:\n%s", want, gh.Out)
		}
	}
	if gh.Code != 1 || !strings.Contains(gh.ErrOut, "Findings: 1 open, 2 excepted") {
		t.Errorf("exit %d, want 1 (plain's NET_ADMIN is open):\n%s", gh.Code, gh.ErrOut)
	}
	// The controller named by a resource argument is read the same way.
	if named := runPlugin(t, kc, "audit", "-n", ns, "deploy/web", "--fail-on", "high", "--runtime", "containerd"); named.Code != 0 {
		t.Errorf("deploy/web with its allowance: exit %d, want 0:\n%s", named.Code, named.ErrOut)
	}

	// kubectl caps policy reads them too: web and idle are allowed NET_ADMIN
	// by their annotations, plain is named as rejected.
	pol := runPlugin(t, kc, "policy", "--format", "vap", "--mode", "restricted", "-n", ns)
	for _, want := range []string{"reason: on the deployment", "reason: on the template"} {
		if !strings.Contains(pol.Out, want) {
			t.Errorf("the policy lacks %q:\n%s", want, pol.Out)
		}
	}
	if pol.Code != 0 || !strings.Contains(pol.ErrOut, "rejects "+ns+"/deploy/plain") || strings.Contains(pol.ErrOut, "/deploy/web") ||
		strings.Contains(pol.ErrOut, "/deploy/idle") {
		t.Errorf("policy: exit %d, want 0 rejecting only deploy/plain:\n%s", pol.Code, pol.ErrOut)
	}

	// Object and template disagree: an error naming the object, removed
	// at once so that it does not fail other audits of the namespace.
	bad, err := apps.Deployments(ns).Create(e.ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "both", Annotations: allow("both: NET_ADMIN; reason: a")},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32), Selector: sel("both"), Template: tmpl("both", allow("both: NET_ADMIN; reason: b"))}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := runPlugin(t, kc, "audit", "-n", ns)
	if err := apps.Deployments(ns).Delete(e.ctx, bad.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if r.Code != 3 || !strings.Contains(r.ErrOut, ns+"/deploy/both: caps.kubectl-caps.io/allow is set on the object and on its pod template with different values") {
		t.Errorf("exit %d, want 3 naming deploy/both:\n%s", r.Code, r.ErrOut)
	}
}
