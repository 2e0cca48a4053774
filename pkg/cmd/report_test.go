package cmd

import (
	"testing"
	"time"
)

// What report would write for the bundled examples, in both APIs: the
// goldens show every field a reader of the reports sees (docs/fleet.md).
func TestReportGolden(t *testing.T) {
	saved := reportNow
	reportNow = func() time.Time { return time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { reportNow = saved })
	tests := []struct {
		args   []string
		golden string
	}{
		{[]string{"-f", examples, "-R", "--dry-run=client"}, "report/examples-policyreport.yaml"},
		{[]string{"-f", examples, "-R", "--dry-run=client", "--report-api", "openreports", "-o", "yaml"}, "report/examples-openreports.yaml"},
		{[]string{"-f", examples + "/02-api-restricted.yaml", "--dry-run=client", "-o", "json"}, "report/api-restricted-policyreport.json"},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"report"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

// report writes whole namespaces, and prints only what it would write
// from manifests.
func TestReportUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "deploy/web"}, "report writes whole namespaces"},
		{[]string{"report", "-l", "app=web"}, "report writes whole namespaces"},
		{[]string{"report", "-f", examples}, "-f and -k only print (--dry-run=client)"},
		{[]string{"report", "--dry-run=maybe"}, `unknown --dry-run "maybe"`},
		{[]string{"report", "--report-api", "kyverno"}, `unknown --report-api "kyverno"; use wgpolicyk8s or openreports`},
		{[]string{"report", "-o", "wide", "--dry-run=client", "-f", examples}, `unknown output format "wide"`},
	} {
		expectError(t, tt.args, ExitUsage, tt.want)
	}
}
