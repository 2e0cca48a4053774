package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// The worked example of docs/evidence.md: two workloads of examples/ and
// the traces of examples/evidence/ (image-based and built-in gadget
// shapes, a pod replaced since, non-audited and denied checks).
var (
	evidenceExamples = []string{"-f", examples + "/01-web-defaults.yaml", "-f", examples + "/05-add-and-drop.yaml", "--evidence", examples + "/evidence/"}
	evidenceArgs     = func(cmd string, more ...string) []string {
		return append(append([]string{cmd}, evidenceExamples...), more...)
	}
)

func TestEvidenceGolden(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"audit table", evidenceArgs("audit"), "evidence/audit.txt"},
		{"audit wide", evidenceArgs("audit", "-o", "wide"), "evidence/audit-wide.txt"},
		{"audit json", evidenceArgs("audit", "-o", "json"), "evidence/audit.json"},
		{"observed table", evidenceArgs("suggest-drop", "--strategy", "observed"), "evidence/observed.txt"},
		{"observed yaml", evidenceArgs("suggest-drop", "--strategy", "observed", "-o", "yaml"), "evidence/observed.yaml"},
		{"observed kubectl", evidenceArgs("suggest-drop", "--strategy", "observed", "-o", "kubectl"), "evidence/observed-kubectl.txt"},
		{"observed patch", evidenceArgs("suggest-drop", "--strategy", "observed", "-o", "patch"), "evidence/observed-patch.yaml"},
		{"observed json-patch", evidenceArgs("suggest-drop", "--strategy", "observed", "-o", "json-patch"), "evidence/observed-json-patch.txt"},
		{"observed securitycontext", evidenceArgs("suggest-drop", "--strategy", "observed", "-o", "securitycontext"), "evidence/observed-securitycontext.yaml"},
		{"observed patched", evidenceArgs("suggest-drop", "--strategy", "observed", "-o", "patched"), "evidence/observed-patched.yaml"},
		{"observed allow empty", evidenceArgs("suggest-drop", "--strategy", "observed", "--allow-empty-evidence", "-o", "wide"), "evidence/observed-allow-empty.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, tt.golden, out+"--- stderr\n"+errOut)
		})
	}
}

func TestAuditEvidenceJSON(t *testing.T) {
	out, errOut, code := run(t, "", evidenceArgs("audit", "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]*report.Evidence{}
	for i := range rep.Items {
		got[rep.Items[i].Workload.Name+"/"+rep.Items[i].Container] = rep.Items[i].Evidence
	}
	web := got["web/nginx"]
	if web == nil || !web.Observed || strings.Join(web.Used, ",") != "CHOWN,NET_BIND_SERVICE,SETGID,SETUID" ||
		strings.Join(web.Denied, ",") != "SYS_NICE" || len(web.Pods) != 3 || web.NotAudited != 2 {
		t.Errorf("web/nginx evidence = %+v", web)
	}
	// db-0 has no owner in the trace: the manifests' StatefulSet by its
	// pod naming rule.
	if db := got["db/postgres"]; db == nil || db.Attribution != "resolver" || strings.Join(db.Unused, ",") != "NET_ADMIN" {
		t.Errorf("db/postgres evidence = %+v", db)
	}
	if ex := got["db/exporter"]; ex == nil || ex.Observed || len(ex.Used) != 0 {
		t.Errorf("db/exporter evidence = %+v", ex)
	}
}

func TestEvidenceDisagreementIsLoud(t *testing.T) {
	dir := t.TempDir()
	line := `{"audit":1,"cap":"CAP_SYS_ADMIN","cap_raw":21,"capable":true,"current_userns":1,"target_userns":1,"k8s":{"containerName":"nginx","namespace":"shop","node":"n","owner":{"kind":"Deployment","name":"web"},"podName":"web-7d9f8c6b5-abcde"},"proc":{"comm":"mount","pid":1,"tid":1},"syscall":"SYS_MOUNT","timestamp":"2026-11-24T09:00:00Z"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "t.jsonl"), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "", "audit", "-f", examples+"/01-web-defaults.yaml", "--evidence", filepath.Join(dir, "t.jsonl"), "-o", "json")
	if code != 0 || !strings.Contains(errOut, "WARNING: MODEL DISAGREEMENT in shop deploy/web container nginx: the trace shows SYS_ADMIN allowed") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	// Reported, never merged: SYS_ADMIN is not in bounding.
	if !strings.Contains(out, `"disagreements": [`) || strings.Contains(out, `"bounding": [`+"\n"+`        "SYS_ADMIN"`) {
		t.Errorf("stdout: %s", out)
	}
	_, errOut, _ = run(t, "", "suggest-drop", "-f", examples+"/01-web-defaults.yaml", "--strategy", "observed", "--evidence", filepath.Join(dir, "t.jsonl"))
	if !strings.Contains(errOut, "Note (observed-not-held): MODEL DISAGREEMENT") {
		t.Errorf("suggest-drop stderr %q", errOut)
	}
}

func TestEvidenceErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	good, err := os.ReadFile(filepath.Join(examples, "evidence", "node-c.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, append(append([]byte{}, good...), "NAMESPACE  POD  CAP\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	web := examples + "/01-web-defaults.yaml"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"observed without evidence", []string{"suggest-drop", "-f", web, "--strategy", "observed"}, ExitUsage, "--strategy=observed needs the traces"},
		{"evidence with catalog", []string{"suggest-drop", "-f", web, "--evidence", bad}, ExitUsage, "--evidence is read by --strategy=observed"},
		{"allow-empty without observed", []string{"suggest-drop", "-f", web, "--allow-empty-evidence"}, ExitUsage, "--allow-empty-evidence applies to --strategy=observed"},
		{"stdin twice", []string{"audit", "-f", "-", "--evidence", "-"}, ExitUsage, "--evidence - and -f - both read standard input"},
		{"bad line, audit", []string{"audit", "-f", web, "--evidence", bad}, ExitInput, bad + ":6: not a JSON object"},
		{"bad line, suggest", []string{"suggest-drop", "-f", web, "--strategy", "observed", "--evidence", bad}, ExitInput, bad + ":6:"},
		{"missing file", []string{"audit", "-f", web, "--evidence", filepath.Join(dir, "nope")}, ExitInput, "nope: does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) { expectError(t, tc.args, tc.code, tc.want) })
	}
	out, errOut, code := run(t, "", "audit", "-f", examples+"/05-add-and-drop.yaml", "--evidence", bad, "--evidence-skip-invalid")
	if code != 0 || out == "" || !strings.Contains(errOut, "Warning: --evidence-skip-invalid left out 1 line(s)") || !strings.Contains(errOut, bad+":6:") {
		t.Errorf("skip-invalid: exit %d, stderr %q", code, errOut)
	}
}
