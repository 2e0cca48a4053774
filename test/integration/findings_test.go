//go:build integration

package integration

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

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
