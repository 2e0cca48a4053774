package cmd

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditSelectGolden: --sort-by, --capability and kubectl get's -o
// formats on the bundled examples.
func TestAuditSelectGolden(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"sorted by risk", []string{"--sort-by", "risk"}, "audit/select-by-risk.txt"},
		{"sorted by namespace, no headers", []string{"--sort-by=namespace", "--no-headers"}, "audit/select-by-namespace.txt"},
		{"sorted by workload, wide", []string{"--sort-by=workload", "-o", "wide"}, "audit/select-by-workload-wide.txt"},
		{"holding NET_ADMIN or SYS_ADMIN, any spelling", []string{"--capability", "net_admin,CAP_SYS_ADMIN"}, "audit/select-capability.txt"},
		{"holding NET_RAW, high or above, by risk", []string{"--capability=NET_RAW", "--min-risk=high", "--sort-by=risk"}, "audit/select-capability-high.txt"},
		{"sorted json", []string{"--sort-by=risk", "--capability=SYS_PTRACE", "-o", "json"}, "audit/select-capability.json"},
		{"name", []string{"-o", "name"}, "audit/select-name.txt"},
		{"name of the workloads holding SYS_ADMIN", []string{"-o", "name", "--capability=SYS_ADMIN", "--sort-by=workload"}, "audit/select-name-sys-admin.txt"},
		{"jsonpath", []string{"-o", `jsonpath={range .items[*]}{.namespace}/{.workload.name}:{.container} {.maxRisk}{"\n"}{end}`}, "audit/select-jsonpath.txt"},
		{"custom-columns", []string{"--sort-by=risk", "-o", "custom-columns=NS:.namespace,KIND:.workload.kind,NAME:.workload.name,CONTAINER:.container,RISK:.maxRisk,EFFECTIVE:.effective[*]"},
			"audit/select-custom-columns.txt"},
		{"custom-columns without headers", []string{"--no-headers", "-o", "custom-columns=NAME:.workload.name,USER:.user,UID:.uid"}, "audit/select-custom-columns-no-headers.txt"},
		{"custom-columns-file", []string{"-o", "custom-columns-file=testdata/audit/columns.tmpl"}, "audit/select-custom-columns-file.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"audit", "-f", examples, "-R"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

// Only the table writes warnings and the summary to stderr: the formats a
// script reads say nothing there when all went well.
func TestAuditGetFormatsKeepStderrQuiet(t *testing.T) {
	for _, output := range []string{"name", "jsonpath={.kind}", "custom-columns=C:.container"} {
		_, errOut, code := run(t, "", "audit", "-f", examples, "-R", "-o", output)
		if code != 0 || errOut != "" {
			t.Errorf("-o %s: exit %d, stderr %q", output, code, errOut)
		}
	}
	// A custom resource cannot be named as kubectl names it: a note, not
	// a wrong name.
	out, errOut, code := run(t, "", "audit", "-f", repo, "-R", "-o", "name")
	if code != 0 || strings.Contains(out, "service") || !strings.Contains(errOut, "-o name leaves out serverless/Service/hello") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestAuditSelectErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown order", []string{"--sort-by", "size"}, []string{`--sort-by: unknown order "size"; use risk, namespace or workload`, "See 'kubectl caps audit -h'"}},
		{"kubectl's JSONPath", []string{"--sort-by=.metadata.name"}, []string{`--sort-by: ".metadata.name" is a JSONPath expression`}},
		{"misspelt capability", []string{"--capability", "NET_RAW,SYS_ADMN"}, []string{`--capability: unknown capability "SYS_ADMN"; did you mean SYS_ADMIN?`}},
		{"ALL", []string{"--capability=ALL"}, []string{"--capability: ALL is the keyword of capabilities.add and drop"}},
		{"bad min-risk", []string{"--min-risk", "severe"}, []string{`--min-risk: unknown risk "severe"`}},
		{"jsonpath without a template", []string{"-o", "jsonpath="}, []string{"-o: jsonpath needs a template after '='"}},
		{"jsonpath without '='", []string{"-o", "jsonpath"}, []string{`unknown output format "jsonpath"`, "jsonpath=TEMPLATE", "custom-columns=SPEC"}},
		{"bad jsonpath", []string{"-o", "jsonpath={.items["}, []string{"-o: parsing the template"}},
		{"missing jsonpath file", []string{"-o", "jsonpath-file=/nonexistent/t"}, []string{"-o: reading the template"}},
		{"bad custom-columns", []string{"-o", "custom-columns=NAME"}, []string{`-o: column "NAME" is not HEADER:PATH`}},
		{"missing custom-columns file", []string{"-o", "custom-columns-file=/nonexistent/c"}, []string{"-o: reading the columns file"}},
		{"name with an argument", []string{"-o", "name=x"}, []string{`unknown output format "name=x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectError(t, append([]string{"audit", "-f", examples}, tt.args...), ExitUsage, tt.want...)
		})
	}
}

// --fail-on counts the rows shown: those --capability and --min-risk keep,
// so that its exit code and its count speak of what is on screen.
func TestAuditFailOnCountsTheRowsShown(t *testing.T) {
	web := filepath.Join(examples, "01-web-defaults.yaml") // one container, high (NET_RAW)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--fail-on", "high"}, ExitFindings, "1 container(s) hold capabilities at or above --fail-on=high"},
		{[]string{"--capability", "NET_RAW", "--fail-on", "high"}, ExitFindings, "1 container(s)"},
		{[]string{"--capability", "SYS_ADMIN", "--fail-on", "high"}, ExitOK, "No containers holding SYS_ADMIN (--capability)."},
		{[]string{"--min-risk", "critical", "--fail-on", "high"}, ExitOK, "No containers at or above --min-risk=critical."},
		{[]string{"--min-risk", "critical", "--fail-on", "high", "-o", "name"}, ExitOK, "No containers at or above --min-risk=critical."},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errOut, code := run(t, "", append([]string{"audit", "-f", web}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, want %d; stderr %q lacks %q", code, tt.code, errOut, tt.want)
			}
		})
	}
}

func TestAuditSelectCompletion(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--sort-by", ""}, []string{"risk\n", "namespace\n", "workload\n"}},
		{[]string{"--capability", "net_r"}, []string{"NET_RAW\tOpen RAW"}},
		{[]string{"--capability", "SYS_ADMIN,NET_"}, []string{"SYS_ADMIN,NET_ADMIN\t", "SYS_ADMIN,NET_RAW\t"}},
		{[]string{"-o", ""}, []string{"name\n", "jsonpath=\n", "jsonpath-file=\n", "custom-columns=\n", "custom-columns-file=\n"}},
	} {
		out, _, _ := run(t, "", append([]string{"__complete", "audit"}, tt.args...)...)
		for _, w := range tt.want {
			if !strings.Contains(out, w) || !strings.Contains(out, ":4\n") {
				t.Errorf("%v: completion lacks %q (or file completion is on):\n%s", tt.args, w, out)
			}
		}
	}
}
