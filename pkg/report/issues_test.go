package report

import (
	"fmt"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/finding"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// An item whose findings were not built with it (a live object) gets them
// from its path, with the field of each and no place.
func TestFindingsOfItemsWithoutIssues(t *testing.T) {
	it := Item{
		Namespace: "ns", Workload: workload.Ref{Kind: "Pod", Name: "p"}, Container: "c", MaxRisk: "high",
		Path:     "spec.containers[0]",
		Added:    []string{"NET_ADMIN"},
		Findings: []Finding{{Capability: "NET_ADMIN", Risk: "high", Counted: true, Explicit: true, Exposure: ExposureEffective, Recommendation: "drop"}},
	}
	fs := Findings([]Item{it}, catalog.RiskHigh)
	if len(fs) != 1 || fs[0].RuleID != "CAPS002" || fs[0].Field != "spec.containers[0].securityContext.capabilities.add[0]" ||
		fs[0].Position != (workload.Position{}) || fs[0].Level != "error" {
		t.Fatalf("findings %+v", fs)
	}
	it.Path = ""
	if fs := Findings([]Item{it}, catalog.RiskHigh); len(fs) != 0 {
		t.Errorf("an item without a path: %+v", fs)
	}
}

// BenchmarkFindings gathers the findings of 15,000 containers with three
// each, as report and the CI formats do for a cluster of 10,000 pods.
func BenchmarkFindings(b *testing.B) {
	items := make([]Item, 15000)
	for i := range items {
		for r := range 3 {
			items[i].Issues = append(items[i].Issues, finding.Finding{RuleID: fmt.Sprintf("CAPS00%d", r+1), Level: finding.LevelError,
				Namespace: "shop", Container: fmt.Sprintf("c%d", i), Summary: "holds NET_RAW", Message: "holds NET_RAW, which lets it forge packets",
				Fingerprint: fmt.Sprintf("%d/%d", i, r)})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if got := Findings(items, ""); len(got) != 45000 {
			b.Fatalf("%d findings", len(got))
		}
	}
}
