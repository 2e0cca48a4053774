package printers

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// getFormatsReport: two containers of one Deployment, a CronJob, the same
// Deployment name in another namespace, and a custom resource.
func getFormatsReport() *report.Report {
	uid := int64(1000000)
	rep := report.New()
	rep.Items = []report.Item{
		{Namespace: "shop", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Container: "nginx", MaxRisk: "high",
			Effective: []string{"NET_RAW", "CHOWN"}, UID: &uid},
		{Namespace: "shop", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Container: "sidecar", MaxRisk: "none", Effective: []string{}},
		{Namespace: "data", Workload: workload.Ref{Kind: "CronJob", Name: "backup"}, Container: "backup", MaxRisk: "critical"},
		{Namespace: "data", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Container: "web\x1b[31m", MaxRisk: "low"},
		{Namespace: "serverless", Workload: workload.Ref{Kind: "Service", Name: "hello"}, Container: "containers[0]", MaxRisk: "none"},
	}
	return rep
}

func TestObjectName(t *testing.T) {
	for _, tt := range []struct {
		kind, want string
		ok         bool
	}{
		{"Deployment", "deployment.apps/x", true},
		{"StatefulSet", "statefulset.apps/x", true},
		{"DaemonSet", "daemonset.apps/x", true},
		{"ReplicaSet", "replicaset.apps/x", true},
		{"Job", "job.batch/x", true},
		{"CronJob", "cronjob.batch/x", true},
		{"Pod", "pod/x", true},
		{"ReplicationController", "replicationcontroller/x", true},
		{"PodTemplate", "podtemplate/x", true},
		// Knative's Service is no core service: no guess.
		{"Service", "", false},
		{"Rollout", "", false},
	} {
		got, ok := ObjectName(workload.Ref{Kind: tt.kind, Name: "x"})
		if got != tt.want || ok != tt.ok {
			t.Errorf("ObjectName(%s) = %q, %v; want %q, %v", tt.kind, got, ok, tt.want, tt.ok)
		}
	}
}

func TestReportPrinters(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	columns := file("columns.txt", "NS   WORKLOAD          RISK\n.namespace  {.workload.name}   {.maxRisk}\n")
	template := file("template.txt", `{range .items[*]}{.container}{"\n"}{end}`)
	tests := []struct {
		name, output string
		noHeaders    bool
		out, errOut  string
	}{
		{"name: one line per workload, namespaces apart, custom resources left out", "name", false,
			"deployment.apps/web\ncronjob.batch/backup\ndeployment.apps/web\n",
			"Note: -o name leaves out serverless/Service/hello: the report does not carry a custom resource's API group"},
		{"jsonpath over the report", `jsonpath={.kind} {.items[0].workload.name} {.items[*].maxRisk}`, false,
			"CapabilityReport web high none critical low none", ""},
		{"jsonpath: an integer stays one", `jsonpath={.items[0].uid}`, false, "1000000", ""},
		{"jsonpath: a missing key prints nothing", `jsonpath={.items[0].nosuch}x`, false, "x", ""},
		{"jsonpath-file", "jsonpath-file=" + template, false, "nginx\nsidecar\nbackup\nweb\x1b[31m\ncontainers[0]\n", ""},
		{"jsonpath-as-json", `jsonpath-as-json={.items[2].container}`, false, "[\n    \"backup\"\n]\n", ""},
		{"custom-columns: every path form, <none> and lists joined by commas", "custom-columns=NS:.namespace,WL:workload.name,RISK:{.maxRisk},EFF:{effective[*]},X:.nosuch", false,
			"NS           WL       RISK       EFF             X\n" +
				"shop         web      high       NET_RAW,CHOWN   <none>\n" +
				"shop         web      none       <none>          <none>\n" +
				"data         backup   critical   <none>          <none>\n" +
				"data         web      low        <none>          <none>\n" +
				"serverless   hello    none       <none>          <none>\n", ""},
		{"custom-columns: a value with a terminal escape quoted (safetext.Quote), no headers", "custom-columns=C:.container", true,
			"nginx\nsidecar\nbackup\n\"web\\x1b[31m\"\ncontainers[0]\n", ""},
		{"custom-columns-file", "custom-columns-file=" + columns, false,
			"NS           WORKLOAD   RISK\nshop         web        high\nshop         web        none\ndata         backup     critical\ndata         web        low\nserverless   hello      none\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewReportPrinter(tt.output, tt.noHeaders, report.Version1)
			if err != nil || p == nil {
				t.Fatalf("NewReportPrinter(%q) = %v, %v", tt.output, p != nil, err)
			}
			var out, errOut bytes.Buffer
			if err := p(&out, &errOut, getFormatsReport()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.out, out.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if !strings.Contains(errOut.String(), tt.errOut) || (tt.errOut == "") != (errOut.Len() == 0) {
				t.Errorf("stderr %q, want %q", errOut.String(), tt.errOut)
			}
		})
	}
}

// No row, no header: kubectl prints nothing for no objects either; the
// JSONPath template still runs over the empty report.
func TestReportPrintersWithoutItems(t *testing.T) {
	for output, want := range map[string]string{
		"name":                         "",
		"custom-columns=NS:.namespace": "",
		"jsonpath={.kind}:{.items}":    "CapabilityReport:[]",
	} {
		p, err := NewReportPrinter(output, false, report.Version1)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := p(&out, &out, report.New()); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("%s: %q, want %q", output, out.String(), want)
		}
	}
}

func TestNewReportPrinterErrors(t *testing.T) {
	dir := t.TempDir()
	oneLine := filepath.Join(dir, "one-line.txt")
	mismatch := filepath.Join(dir, "mismatch.txt")
	if err := os.WriteFile(oneLine, []byte("NS WL\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mismatch, []byte("NS WL\n.namespace\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ output, want string }{
		{"jsonpath=", "jsonpath needs a template after '='"},
		{"jsonpath={.items[", "parsing the template"},
		{"jsonpath-file=" + filepath.Join(dir, "nope"), "reading the template"},
		{"custom-columns=", "custom-columns needs columns after '='"},
		{"custom-columns=NS", `column "NS" is not HEADER:PATH`},
		{"custom-columns=NS:.namespace,WL", `column "WL" is not HEADER:PATH`},
		{"custom-columns=NS:{.a}{.b}", `column path "{.a}{.b}" is not`},
		{"custom-columns=NS:.items[", "column NS"},
		{"custom-columns-file=" + filepath.Join(dir, "nope"), "reading the columns file"},
		{"custom-columns-file=" + oneLine, "a line of headers, then a line of paths"},
		{"custom-columns-file=" + mismatch, "2 headers but 1 paths"},
	} {
		p, err := NewReportPrinter(tt.output, false, report.Version1)
		if err == nil || !strings.Contains(err.Error(), tt.want) || p != nil {
			t.Errorf("NewReportPrinter(%q) = %v; want an error with %q", tt.output, err, tt.want)
		}
	}
	// Formats it does not print are no error: the -o flag's check names them.
	for _, output := range []string{"", "wide", "json", "yaml", "jsonpath", "name=x", "xml", "custom-columns"} {
		if p, err := NewReportPrinter(output, false, report.Version1); p != nil || err != nil {
			t.Errorf("NewReportPrinter(%q) = %v, %v; want nil, nil", output, p != nil, err)
		}
	}
}
