package printers

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func TestAuditTableColumns(t *testing.T) {
	uid := int64(1000)
	items := []report.Item{{Namespace: "ns", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Container: "init",
		ContainerType: "initContainer", User: "nonroot", UID: &uid, MaxRisk: "none", Pods: 3, Runtime: "cri-o", PSSCapabilities: "restricted"}}
	var b bytes.Buffer
	if err := WriteAuditTable(&b, items, AuditTableOptions{Wide: true, ShowPods: true}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "NAMESPACE WORKLOAD CONTAINER PODS USER EFFECTIVE MAX-RISK BOUNDING RUNTIME PSS ADDED DROPPED WARNINGS" {
		t.Errorf("header = %v", got)
	}
	if got := strings.Join(strings.Fields(lines[1]), " "); got != "ns deploy/web init (init) 3 nonroot(1000) - none - cri-o restricted - - 0" {
		t.Errorf("row = %q", got)
	}
	for _, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing blank in %q", l)
		}
	}
}

func TestColouredTableHasNoTrailingBlanks(t *testing.T) {
	items := []report.Item{{Namespace: "ns", Workload: workload.Ref{Kind: "Pod", Name: "p"}, Container: "c", User: "root",
		Effective: []string{"NET_RAW"}, MaxRisk: "high", Findings: []report.Finding{{Capability: "NET_RAW", Risk: "high"}}}}
	var b bytes.Buffer
	if err := WriteAuditTable(&b, items, AuditTableOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		plain := strings.TrimSuffix(l, ansiReset)
		if strings.HasSuffix(plain, " ") {
			t.Errorf("trailing blanks in %q", l)
		}
	}
	if !strings.Contains(b.String(), ansiRed+"NET_RAW"+ansiReset) {
		t.Errorf("NET_RAW is not red: %q", b.String())
	}
}
