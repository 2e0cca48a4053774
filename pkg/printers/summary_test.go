package printers

import (
	"bytes"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func TestSummaries(t *testing.T) {
	web := workload.Ref{Kind: "Deployment", Name: "web"}
	db := workload.Ref{Kind: "StatefulSet", Name: "db"}
	t.Run("audit", func(t *testing.T) {
		items := []report.Item{
			{Namespace: "a", Workload: web, MaxRisk: "critical", PSSCapabilities: "privileged"},
			{Namespace: "a", Workload: web, MaxRisk: "none", PSSCapabilities: "restricted"},
			// The same name in another namespace is another workload.
			{Namespace: "b", Workload: web, MaxRisk: "low", PSSCapabilities: "baseline"},
			{Namespace: "b", Workload: db, MaxRisk: "none", PSSCapabilities: "restricted", CannotStart: report.CannotStartRuntime},
			// A controller without pods, on two runtimes: one workload.
			{Namespace: "c", Workload: db, MaxRisk: "low", PSSCapabilities: "baseline", FromTemplate: true, Runtime: "containerd"},
			{Namespace: "c", Workload: db, MaxRisk: "low", PSSCapabilities: "baseline", FromTemplate: true, Runtime: "cri-o"},
		}
		var b bytes.Buffer
		if err := WriteAuditSummary(&b, items); err != nil {
			t.Fatal(err)
		}
		want := "4 workloads, 6 containers: 1 critical, 0 high, 0 medium, 5 low/none; PSS capability rules: restricted 2, baseline 3, privileged 1; 1 not started; " +
			"1 workload without running pods (PODS 0), judged from the pod template\n"
		if b.String() != want {
			t.Errorf("got  %q\nwant %q", b.String(), want)
		}
	})
	t.Run("suggest-drop", func(t *testing.T) {
		items := []suggest.Item{
			{Namespace: "a", Workload: web, Drop: []suggest.Entry{{Capability: "CHOWN", Risk: "low"}, {Capability: "NET_RAW", Risk: "high"}}, Patched: true},
			{Namespace: "a", Workload: web},
		}
		var b bytes.Buffer
		if err := WriteSuggestSummary(&b, items); err != nil {
			t.Fatal(err)
		}
		want := "1 workload, 2 containers: 1 with something to drop (by highest risk: 0 critical, 1 high, 0 medium, 0 low/none), 1 with nothing to drop; the patches change 1\n"
		if b.String() != want {
			t.Errorf("got  %q\nwant %q", b.String(), want)
		}
	})
}
