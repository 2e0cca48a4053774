package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/internal/sariftest"
)

// agentYAML: a DaemonSet whose pod template allows its agent NET_ADMIN by
// annotation, and which also adds SYS_ADMIN and SYS_PTRACE.
const agentYAML = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: kube-system
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata:
      labels: {app: agent}
      annotations:
        caps.kubectl-caps.io/allow: 'agent: NET_ADMIN; reason: programs routes'
    spec:
      containers:
      - name: agent
        image: agent:1
        securityContext:
          capabilities:
            add: [NET_ADMIN, SYS_ADMIN, SYS_PTRACE]
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Exceptions take findings out of --fail-on without hiding them; what
// they do not cover still fails; unused and expired ones are reported.
func TestAuditExceptions(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"agent.yaml": agentYAML,
		"exceptions.yaml": `apiVersion: caps.kubectl-caps.io/v1alpha1
kind: Exceptions
exceptions:
- namespace: kube-system
  kind: DaemonSet
  name: age*
  capabilities: [SYS_ADMIN]
  reason: mounts the host's cgroups
- name: agent
  capabilities: [SYS_PTRACE]
  reason: profiler
  expires: 2020-01-31
- name: gone
  rules: [CAPS005]
  reason: was privileged
`,
	})
	// Files outside the current directory get no file= (fileURI): the
	// places are TestFindingPositions' subject, the statuses this test's.
	manifest, exc := filepath.Join(dir, "agent.yaml"), filepath.Join(dir, "exceptions.yaml")

	out, errOut, code := run(t, "", "audit", "-f", manifest, "--fail-on", "high", "--exceptions", exc, "-o", "github")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1 (SYS_PTRACE's exception expired):\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"::notice title=CAPS002 kube-system/ds/agent agent NET_ADMIN::",
		"[excepted by kube-system/ds/agent annotation caps.kubectl-caps.io/allow: programs routes]",
		"::notice title=CAPS001 kube-system/ds/agent agent SYS_ADMIN::",
		"[excepted by " + exc + ":4: mounts the host's cgroups]",
		"::error title=CAPS002 kube-system/ds/agent agent SYS_PTRACE::",
		"(the exception at " + exc + ":9 expired on 2020-01-31)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{
		"Findings: 4 open, 2 excepted, 0 known from the baseline.",
		"Warning: the exception at " + exc + ":9 expired on 2020-01-31 and no longer applies (profiler).",
		"Warning: the exception at " + exc + ":13 covered no finding of the containers shown",
		"1 container(s) hold capabilities at or above --fail-on=high",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	// SARIF: excepted results are suppressed with their reason, and valid.
	out, _, _ = run(t, "", "audit", "-f", manifest, "--fail-on", "high", "--exceptions", exc, "-o", "sarif")
	sariftest.Validate(t, []byte(out))
	for _, want := range []string{`"kind": "inSource"`, `"kind": "external"`, `"justification": "programs routes (kube-system/ds/agent annotation caps.kubectl-caps.io/allow)"`} {
		if !strings.Contains(out, want) {
			t.Errorf("SARIF lacks %s", want)
		}
	}

	// The table too: the exit code follows the open findings only.
	_, errOut, code = run(t, "", "audit", "-f", manifest, "--fail-on", "critical", "--exceptions", exc)
	if code != 0 || !strings.Contains(errOut, "Findings: 4 open, 2 excepted") {
		t.Errorf("--fail-on critical with SYS_ADMIN excepted: exit %d, want 0:\n%s", code, errOut)
	}
}

// A baseline accepts today's findings: the same run passes, a new
// finding fails alone, and entries that no longer occur are reported.
func TestAuditBaseline(t *testing.T) {
	dir := writeFiles(t, map[string]string{"agent.yaml": agentYAML})
	manifest, base := filepath.Join(dir, "agent.yaml"), filepath.Join(dir, "baseline.yaml")
	_, errOut, code := run(t, "", "audit", "-f", manifest, "--fail-on", "high", "--write-baseline", base)
	if code != ExitFindings || !strings.Contains(errOut, "Wrote 5 finding(s) to the baseline "+base) {
		t.Fatalf("--write-baseline: exit %d (the run itself still fails), stderr:\n%s", code, errOut)
	}
	_, errOut, code = run(t, "", "audit", "-f", manifest, "--fail-on", "high", "--baseline", base)
	if code != 0 || !strings.Contains(errOut, "Findings: 0 open, 1 excepted, 5 known from the baseline.") {
		t.Fatalf("the baselined run: exit %d, want 0:\n%s", code, errOut)
	}
	// A new capability, and SYS_PTRACE fixed.
	if err := os.WriteFile(manifest, []byte(strings.Replace(agentYAML, "SYS_PTRACE", "BPF", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "", "audit", "-f", manifest, "--fail-on", "high", "--baseline", base, "-o", "github")
	if code != ExitFindings || strings.Count(out, "::error ") != 1 || !strings.Contains(out, "::error title=CAPS001 kube-system/ds/agent agent BPF::") {
		t.Errorf("a new finding: exit %d, want 1 with BPF the only error:\n%s", code, out)
	}
	if !strings.Contains(errOut, "1 baseline entry no longer occur (fixed)") || !strings.Contains(errOut, "CAPS002 kube-system/DaemonSet/agent container agent SYS_PTRACE") {
		t.Errorf("the fixed entry is not reported:\n%s", errOut)
	}
	out, _, _ = run(t, "", "audit", "-f", manifest, "--fail-on", "high", "--baseline", base, "-o", "sarif")
	sariftest.Validate(t, []byte(out))
	if !strings.Contains(out, `"baselineState": "unchanged"`) || !strings.Contains(out, `"baselineState": "new"`) {
		t.Errorf("SARIF lacks baselineState new and unchanged")
	}
}

// Bad records are input errors naming the file and line or the object,
// before anything is printed; never a silently ignored exception.
func TestAuditExceptionErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"bad-annotation.yaml": strings.Replace(agentYAML, "agent: NET_ADMIN; reason: programs routes", "agnet: NET_ADMIN; reason: r", 1),
		"no-reason.yaml":      strings.Replace(agentYAML, "; reason: programs routes", "", 1),
		"exceptions.yaml":     "apiVersion: caps.kubectl-caps.io/v1alpha1\nkind: Exceptions\nexceptions:\n- name: x\n  capabilities: [NET_RAWW]\n  reason: r\n",
		"baseline.yaml":       "apiVersion: caps.kubectl-caps.io/v1alpha1\nkind: Baseline\nfindings:\n- fingerprnt: x\n",
		"agent.yaml":          agentYAML,
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-f", p("bad-annotation.yaml")}, p("bad-annotation.yaml") + `:11: kube-system/ds/agent: caps.kubectl-caps.io/allow names container "agnet", which the workload does not have (it has agent)`},
		{[]string{"-f", p("no-reason.yaml")}, p("no-reason.yaml") + ":11: kube-system/ds/agent: caps.kubectl-caps.io/allow: column 17: no reason"},
		{[]string{"-f", p("agent.yaml"), "--exceptions", p("exceptions.yaml")}, "--exceptions: " + p("exceptions.yaml") + `:4: exceptions[0]: capabilities: unknown capability "NET_RAWW"; did you mean NET_RAW?`},
		{[]string{"-f", p("agent.yaml"), "--exceptions", p("missing.yaml")}, "--exceptions: open " + p("missing.yaml")},
		{[]string{"-f", p("agent.yaml"), "--baseline", p("baseline.yaml")}, "--baseline: " + p("baseline.yaml") + ":4: field fingerprnt not found"},
	} {
		out, errOut, code := run(t, "", append([]string{"audit"}, tt.args...)...)
		if code != ExitInput || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("audit %v: exit %d, want 3 with %q and no output:\n%s%s", tt.args, code, tt.want, out, errOut)
		}
	}
}
