//go:build integration

package integration

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-caps/kubectl-caps/internal/sariftest"
)

// TestFindingsLive: a live audit's findings have no file, so SARIF gives
// them a logical location alone (NAMESPACE/KIND/NAME/CONTAINER) and is
// still valid; the annotations carry no file=; JUnit names the workload
// the pods belong to (docs/findings.md).
func TestFindingsLive(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	ns := e.namespace("findings")
	node := e.node("findings", "containerd://2.1.4")
	root := ptr(int64(0))
	e.pod(ns, "admin", node, corev1.PodSpec{Containers: []corev1.Container{{Name: "app", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
		Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}}}})

	sarif := runPlugin(t, kc, "audit", "-n", ns, "-o", "sarif", "--fail-on", "critical")
	if sarif.Code != 1 {
		t.Fatalf("exit %d, want 1 (SYS_ADMIN is critical): %s", sarif.Code, sarif.ErrOut)
	}
	sariftest.Validate(t, []byte(sarif.Out))
	if strings.Contains(sarif.Out, "physicalLocation") ||
		!strings.Contains(sarif.Out, `"fullyQualifiedName": "`+ns+`/Pod/admin/app"`) ||
		!strings.Contains(sarif.Out, `"ruleId": "CAPS001"`) {
		t.Errorf("want CAPS001 with a logical location only:\n%s", sarif.Out)
	}

	gh := runPlugin(t, kc, "audit", "-n", ns, "-o", "github")
	want := "::error title=CAPS001 " + ns + "/pod/admin app SYS_ADMIN::container \"app\" holds SYS_ADMIN, of critical risk here"
	if gh.Code != 0 || !strings.Contains(gh.Out, want) || strings.Contains(gh.Out, "file=") {
		t.Errorf("exit %d, want %q and no file=:\n%s", gh.Code, want, gh.Out)
	}

	junit := runPlugin(t, kc, "audit", "-n", ns, "-o", "junit")
	if junit.Code != 0 || !strings.Contains(junit.Out, `<testcase classname="`+ns+`.Pod/admin" name="app">`) {
		t.Errorf("exit %d:\n%s", junit.Code, junit.Out)
	}
}

// TestExceptionsLive: a live audit honours the allow annotation its pods
// carry from their template (docs/exceptions.md): the finding it covers is
// excepted and fails nothing, the others still do; a malformed annotation
// is an input error naming the object.
func TestExceptionsLive(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	ns := e.namespace("exceptions")
	node := e.node("exceptions", "containerd://2.1.4")
	root := ptr(int64(0))
	spec := func(add ...corev1.Capability) corev1.PodSpec {
		return corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
			Capabilities: &corev1.Capabilities{Add: add, Drop: []corev1.Capability{"ALL"}}}}}}
	}
	annotate := func(v string) podOpt {
		return func(p *corev1.Pod) { p.Annotations = map[string]string{"caps.kubectl-caps.io/allow": v} }
	}
	e.pod(ns, "agent", node, spec("SYS_ADMIN", "NET_ADMIN"), annotate("agent: SYS_ADMIN; reason: mounts cgroups"))

	gh := runPlugin(t, kc, "audit", "-n", ns, "-o", "github", "--fail-on", "high")
	for _, want := range []string{
		"::notice title=CAPS001 " + ns + "/pod/agent agent SYS_ADMIN::",
		"[excepted by " + ns + "/pod/agent annotation caps.kubectl-caps.io/allow: mounts cgroups]",
		"::error title=CAPS002 " + ns + "/pod/agent agent NET_ADMIN::",
	} {
		if !strings.Contains(gh.Out, want) {
			t.Errorf("lacks %q:\n%s", want, gh.Out)
		}
	}
	if gh.Code != 1 || !strings.Contains(gh.ErrOut, "Findings: 1 open, 1 excepted") {
		t.Errorf("exit %d, want 1 (NET_ADMIN is open):\n%s", gh.Code, gh.ErrOut)
	}
	// A baseline that cannot be written is an error in every format,
	// the CI formats and a JSON stream included, not a silent loss.
	for _, o := range []string{"sarif", "json", "wide"} {
		got := runPlugin(t, kc, "audit", "-n", ns, "-o", o, "--write-baseline", filepath.Join(t.TempDir(), "missing", "b.yaml"))
		if got.Code != 5 || !strings.Contains(got.ErrOut, "--write-baseline: open ") {
			t.Errorf("-o %s with an unwritable --write-baseline: exit %d, want 5:\n%s", o, got.Code, got.ErrOut)
		}
	}
	if table := runPlugin(t, kc, "audit", "-n", ns, "--fail-on", "critical"); table.Code != 0 {
		t.Errorf("--fail-on critical with SYS_ADMIN excepted: exit %d, want 0:\n%s", table.Code, table.ErrOut)
	}

	// The malformed annotation fails every audit that reads it (exit 3),
	// so it must not outlive this test on the shared apiserver: deleted
	// at once (grace 0: no kubelet confirms).
	bad := e.namespace("exceptions-bad")
	e.pod(bad, "agent", node, spec("SYS_ADMIN"), annotate("agnet: SYS_ADMIN; reason: r"))
	defer func() {
		if err := e.cs.CoreV1().Pods(bad).Delete(e.ctx, "agent", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
			t.Errorf("deleting the malformed pod: %v", err)
		}
	}()
	got := runPlugin(t, kc, "audit", "-n", bad)
	if want := bad + `/pod/agent: caps.kubectl-caps.io/allow names container "agnet"`; got.Code != 3 || !strings.Contains(got.ErrOut, want) {
		t.Errorf("exit %d, want 3 with %q:\n%s", got.Code, want, got.ErrOut)
	}
}
