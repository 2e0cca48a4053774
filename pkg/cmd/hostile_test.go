package cmd

import (
	"strings"
	"testing"
	"unicode"
)

// TestHostileInputStaysInItsPlace runs every command and output format over
// a manifest and a trace whose names, capability entries, exception reason
// and traced commands carry newlines, carriage returns, terminal escapes
// and GitHub Actions workflow commands (testdata/hostile). Whatever the
// input, no output line may be forged: no line of stdout or stderr starts
// with "::" (a workflow command, which the runner reads from both streams)
// unless the format exists to print workflow commands, and no control
// character but the line break reaches either stream (CVE-2021-25743:
// printers.Quote and printers.Prose).
func TestHostileInputStaysInItsPlace(t *testing.T) {
	const (
		manifests = "testdata/hostile/manifests.yaml" // and exceptions.yaml
		trace     = "testdata/hostile/trace.jsonl"
	)
	audit := []string{"audit", "-f", manifests}
	suggest := []string{"suggest-drop", "-f", manifests}
	policy := []string{"policy", "-f", manifests}
	cases := [][]string{
		append(audit, "-o", "wide"),
		append(audit, "--evidence", trace, "-o", "wide"),
		append(audit, "-o", "name"),
		append(audit, "-o", "custom-columns=NS:.namespace,NAME:.workload.name,C:.container,ADDED:.added"),
		append(audit, "-o", "json"),
		append(audit, "-o", "yaml"),
		append(audit, "-o", "yaml", "--report-version", "v1alpha2"),
		append(audit, "-o", "json", "--report-version", "v1alpha2"),
		append(audit, "-o", "sarif"),
		append(audit, "-o", "junit"),
		append(audit, "-o", "github"),
		append(audit, "--annotations=always", "--fail-on", "critical"),
		append(audit, "--exceptions", "testdata/hostile/exceptions.yaml", "-o", "wide"),
		append(audit, "--exceptions", "testdata/hostile/exceptions.yaml", "-o", "github"),
		suggest,
		append(suggest, "-o", "wide"),
		append(suggest, "--evidence", trace, "--strategy", "observed", "-o", "wide"),
		append(suggest, "--evidence", trace, "--strategy", "observed", "-o", "patch"),
		append(suggest, "-o", "patch"),
		append(suggest, "-o", "json-patch"),
		append(suggest, "-o", "kubectl"),
		append(suggest, "-o", "securitycontext"),
		append(suggest, "-o", "patched"),
		append(suggest, "-o", "json"),
		append(policy, "--format", "vap"),
		append(policy, "--format", "kyverno"),
		append(policy, "--format", "scc"),
		append(policy, "--format", "scc", "--exceptions", "testdata/hostile/exceptions.yaml"),
		append(policy, "--format", "psa"),
		{"report", "-f", manifests, "--dry-run=client", "-o", "yaml"},
		{"report", "-f", manifests, "--dry-run=client", "--report-api", "openreports", "-o", "yaml"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args[3:], " "), func(t *testing.T) {
			out, errOut, code := run(t, "", args...)
			if code == 2 || code == 3 {
				t.Fatalf("exit %d: the case itself is wrong:\n%s", code, errOut)
			}
			if strings.Contains(errOut, "internal error") {
				t.Fatalf("exit %d:\n%s", code, errOut)
			}
			if !strings.Contains(out+errOut, "forged") && !strings.Contains(out+errOut, `\n::error`) {
				t.Errorf("the hostile names are not in the output at all: the case tests nothing\n%s%s", out, errOut)
			}
			commands := strings.Contains(strings.Join(args, " "), "github") || strings.Contains(strings.Join(args, " "), "--annotations")
			for stream, text := range map[string]string{"stdout": out, "stderr": errOut} {
				for i, line := range strings.Split(text, "\n") {
					if strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") && !(commands && workflowCommand(line)) {
						t.Errorf("%s line %d is a forged workflow command: %q", stream, i+1, line)
					}
					if j := strings.IndexFunc(line, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }); j >= 0 {
						t.Errorf("%s line %d has control character %q: %q", stream, i+1, line[j], line)
					}
				}
			}
		})
	}
}

// workflowCommand reports whether line is one this tool writes on purpose:
// one of -o github's commands (printers.WriteCI), whose data are escaped.
func workflowCommand(line string) bool {
	for _, c := range []string{"::error ", "::warning ", "::notice "} {
		if strings.HasPrefix(line, c) {
			return true
		}
	}
	return false
}
