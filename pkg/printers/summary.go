package printers

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// The summaries are one line for stderr after a table (never after JSON or
// YAML): the table's rows counted by what a reader scans them for, so a
// long table does not have to be counted by eye and stdout stays data.

// WriteAuditSummary writes, for the rows of an audit table, the workloads
// and containers, the containers by MAX-RISK and by the Pod Security
// Standard whose capability rules they meet (the PSS column). A live
// audit's row stands for the same container in several pods: it counts
// once, as in the table (pods are not summed, since the rows of one pod's
// containers each carry the pod count). Controllers without pods, judged
// from their templates, are counted too.
//
//	12 workloads, 17 containers: 2 critical, 5 high, 3 medium, 7 low/none; PSS capability rules: restricted 4, baseline 9, privileged 4
func WriteAuditSummary(w io.Writer, items []report.Item) error {
	workloads := map[string]bool{}
	byRisk := map[catalog.Risk]int{}
	byPSS := map[string]int{}
	notStarted := 0
	idle := map[string]bool{}
	for i := range items {
		it := &items[i]
		workloads[workloadKey(it.Namespace, it.Workload)] = true
		if it.FromTemplate {
			idle[workloadKey(it.Namespace, it.Workload)] = true
		}
		byRisk[riskBucket(catalog.Risk(it.MaxRisk))]++
		byPSS[it.PSSCapabilities]++
		if it.CannotStart != "" {
			notStarted++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s", plural(len(workloads), "workload"), plural(len(items), "container"))
	fmt.Fprintf(&b, ": %s; PSS capability rules: restricted %d, baseline %d, privileged %d",
		riskCounts(byRisk), byPSS["restricted"], byPSS["baseline"], byPSS["privileged"])
	if notStarted > 0 {
		fmt.Fprintf(&b, "; %d not started", notStarted)
	}
	if len(idle) > 0 {
		fmt.Fprintf(&b, "; %s without running pods (PODS 0), judged from the pod template", plural(len(idle), "workload"))
	}
	_, err := fmt.Fprintln(w, b.String())
	return err
}

// WriteSuggestSummary writes, for the rows of a suggest-drop table, the
// workloads and containers, how many containers have something to drop
// (by the highest risk among what they should drop) and how many the
// patches (-o patch, json-patch, kubectl) change:
//
//	12 workloads, 17 containers: 9 with something to drop (by highest risk: 2 critical, 5 high, 2 medium, 0 low/none), 8 with nothing to drop; the patches change 7
func WriteSuggestSummary(w io.Writer, items []suggest.Item) error {
	workloads := map[string]bool{}
	byRisk := map[catalog.Risk]int{}
	toDrop, patched := 0, 0
	for i := range items {
		it := &items[i]
		workloads[workloadKey(it.Namespace, it.Workload)] = true
		if it.Patched {
			patched++
		}
		if len(it.Drop) == 0 {
			continue
		}
		toDrop++
		byRisk[riskBucket(it.MaxDropRisk())]++
	}
	_, err := fmt.Fprintf(w, "%s, %s: %d with something to drop (by highest risk: %s), %d with nothing to drop; the patches change %d\n",
		plural(len(workloads), "workload"), plural(len(items), "container"), toDrop, riskCounts(byRisk), len(items)-toDrop, patched)
	return err
}

func workloadKey(ns string, ref workload.Ref) string {
	return ns + "\x00" + ref.Kind + "\x00" + ref.Name
}

// riskBucket folds none into low: a summary counts what needs attention,
// and "low/none" both mean "nothing to act on first".
func riskBucket(r catalog.Risk) catalog.Risk {
	if r.Level() <= catalog.RiskLow.Level() {
		return catalog.RiskLow
	}
	return r
}

func riskCounts(by map[catalog.Risk]int) string {
	return fmt.Sprintf("%d critical, %d high, %d medium, %d low/none",
		by[catalog.RiskCritical], by[catalog.RiskHigh], by[catalog.RiskMedium], by[catalog.RiskLow])
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
