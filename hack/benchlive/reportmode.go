package main

// Report mode (-report, issue 15 part 3): one cluster with the real
// PolicyReport CRDs installed, and
//
//	A        kubectl-caps audit -A -o json
//	R        kubectl-caps report -A        (server-side apply, docs/fleet.md)
//
// The first report run creates every namespace's report and is measured
// once, on its own; every later run applies identical documents, which the
// API server leaves unchanged, and is measured in rounds with A.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
	"github.com/kubectl-caps/kubectl-caps/pkg/policyreport"
)

// reportTarget: report finishes within 2x audit's time (issue 15 part 3).
const reportTarget = 2.0

// workloads lists, per namespace, the workloads a report must name:
// "Deployment/NAME" for each Deployment (its pods roll up to it) and
// "Pod/NAME" for each bare pod.
func (p *plan) workloads() map[string]map[string]bool {
	w := map[string]map[string]bool{}
	add := func(ns, ref string) {
		if w[ns] == nil {
			w[ns] = map[string]bool{}
		}
		w[ns][ref] = true
	}
	for _, d := range p.deployments {
		add(d.namespace, "Deployment/"+d.name)
	}
	for _, pp := range p.pods {
		if pp.deployment < 0 {
			add(pp.namespace, "Pod/"+pp.name)
		}
	}
	return w
}

// reportStats is what the cluster holds after a report run.
type reportStats struct {
	reports, results int
	largestBytes     int // of one report as JSON, against etcd's request limit
}

// checkReports proves the reports in the cluster are the plan's: one per
// namespace with workloads, each with results, naming every workload of
// its namespace and no other.
func checkReports(want map[string]map[string]bool, reports []unstructured.Unstructured) (reportStats, error) {
	var st reportStats
	seen := map[string]bool{}
	for _, r := range reports {
		ns := r.GetNamespace()
		if seen[ns] {
			return st, fmt.Errorf("namespace %s has two managed reports", ns)
		}
		seen[ns] = true
		results, _, err := unstructured.NestedSlice(r.Object, "results")
		if err != nil {
			return st, fmt.Errorf("report in %s: %w", ns, err)
		}
		if len(results) == 0 {
			return st, fmt.Errorf("report in %s has no results", ns)
		}
		named := map[string]bool{}
		for _, res := range results {
			m, _ := res.(map[string]any)
			refs, _, _ := unstructured.NestedSlice(m, "resources")
			for _, ref := range refs {
				rm, _ := ref.(map[string]any)
				kind, _ := rm["kind"].(string)
				name, _ := rm["name"].(string)
				named[kind+"/"+name] = true
			}
		}
		for _, w := range slices.Sorted(maps.Keys(want[ns])) {
			if !named[w] {
				return st, fmt.Errorf("report in %s: no result for %s (%d workloads named, want %d)", ns, w, len(named), len(want[ns]))
			}
		}
		if len(named) != len(want[ns]) {
			return st, fmt.Errorf("report in %s names %d workloads, want %d", ns, len(named), len(want[ns]))
		}
		raw, err := r.MarshalJSON()
		if err != nil {
			return st, err
		}
		st.reports++
		st.results += len(results)
		st.largestBytes = max(st.largestBytes, len(raw))
	}
	for _, ns := range slices.Sorted(maps.Keys(want)) {
		if !seen[ns] {
			return st, fmt.Errorf("namespace %s has workloads but no report", ns)
		}
	}
	return st, nil
}

// reportActions counts report's stdout lines by what they say was done
// ("policyreports.wgpolicyk8s.io/kubectl-caps created in namespace shop").
func reportActions(stdout []byte) (map[string]int, error) {
	n := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(stdout)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 5 || f[2] != "in" || f[3] != "namespace" {
			return nil, fmt.Errorf("unexpected report output line %q", line)
		}
		n[f[1]]++
	}
	return n, nil
}

// expectActions checks that every one of the namespaces' reports got the
// action, and nothing else happened.
func expectActions(stdout []byte, action string, namespaces int) error {
	n, err := reportActions(stdout)
	if err != nil {
		return err
	}
	if n[action] != namespaces || len(n) != 1 {
		return fmt.Errorf("report did %v, want %s for all %d namespaces", n, action, namespaces)
	}
	return nil
}

// reportResult is report mode's JSON line.
type reportResult struct {
	Mode          string  `json:"mode"` // "report"
	Mix           string  `json:"mix"`
	Pods          int     `json:"pods"`
	Containers    int     `json:"containers"`
	Rounds        int     `json:"rounds"`
	Reports       int     `json:"reports"`
	Results       int     `json:"results"`
	LargestBytes  int     `json:"largest_report_bytes"`
	AuditS        float64 `json:"audit_s"`
	ReportFirstS  float64 `json:"report_first_s"`
	ReportS       float64 `json:"report_s"` // steady state: every report unchanged
	FirstRatio    float64 `json:"first_ratio"`
	Ratio         float64 `json:"ratio"`
	Target        float64 `json:"ratio_target"`
	FirstVerdict  string  `json:"first_verdict"`
	Verdict       string  `json:"verdict"`
	AuditRSSMB    float64 `json:"audit_rss_mb"`
	ReportFirstMB float64 `json:"report_first_rss_mb"`
	ReportRSSMB   float64 `json:"report_rss_mb"`
}

// newReportResult computes the ratios of report's first run and of the
// median steady-state run to audit's median wall time.
func newReportResult(o *options, containers int, st reportStats, audit, steady []sample, first sample) (reportResult, error) {
	if len(audit) == 0 || len(steady) == 0 {
		return reportResult{}, errors.New("no samples")
	}
	a, r := &command{samples: audit}, &command{samples: steady}
	auditS, steadyS := a.medianWall(), r.medianWall()
	firstRatio, ratio := first.wall.Seconds()/auditS, steadyS/auditS
	return reportResult{
		Mode: "report", Mix: o.mix, Pods: o.pods, Containers: containers, Rounds: o.rounds,
		Reports: st.reports, Results: st.results, LargestBytes: st.largestBytes,
		AuditS: round3(auditS), ReportFirstS: round3(first.wall.Seconds()), ReportS: round3(steadyS),
		FirstRatio: round3(firstRatio), Ratio: round3(ratio), Target: reportTarget,
		FirstVerdict: verdict(firstRatio <= reportTarget), Verdict: verdict(ratio <= reportTarget),
		AuditRSSMB: round1(a.medianRSS()), ReportFirstMB: round1(first.rssMB()), ReportRSSMB: round1(r.medianRSS()),
	}, nil
}

func (o *options) runReport(ctx context.Context) error {
	files, _ := filepath.Glob(filepath.Join(o.policyTools, "crds", "policyreport", "*.yaml"))
	if len(files) != 2 {
		return fmt.Errorf("want the 2 wgpolicyk8s.io CRDs in %s/crds/policyreport, found %d: run hack/policytools.sh", o.policyTools, len(files))
	}
	cl, err := o.startSeeded(ctx, "", o.seed)
	if err != nil {
		return err
	}
	defer cl.srv.Stop()
	srv := cl.srv
	o.kubeconfig = srv.Kubeconfig()
	o.kubeCache = filepath.Join(srv.Dir, "kube-cache")
	o.scratchDir = srv.Dir
	dyn, err := dynamic.NewForConfig(srv.Config())
	if err != nil {
		return err
	}
	if err := testserver.InstallCRDs(ctx, dyn, files); err != nil {
		return err
	}
	logf("installed the CRDs %v", files)
	weight, err := podWeight(ctx, srv, o.pods)
	if err != nil {
		return err
	}
	want := cl.plan.workloads()
	namespaces := len(want)

	audit := &command{name: "A caps", argv: []string{o.caps, "audit", "-A", "-o", "json"}, check: o.checkCaps}
	reportArgv := []string{o.caps, "report", "-A"}
	first := &command{name: "R first", argv: reportArgv, checkEvery: true,
		check: func(stdout, _ []byte) error { return expectActions(stdout, "created", namespaces) }}
	steady := &command{name: "R report", argv: reportArgv, checkEvery: true,
		check: func(stdout, _ []byte) error { return expectActions(stdout, "unchanged", namespaces) }}

	// The warm-up audit fills the discovery cache (with the report CRDs
	// in it) and the page cache; the first report run then creates the
	// reports, once.
	if _, err := o.measure(audit, true); err != nil {
		return err
	}
	s, err := o.measure(first, false)
	if err != nil {
		return err
	}
	first.samples = append(first.samples, s)
	kind := policyreport.KindOf(policyreport.WGPolicy)
	list, err := dyn.Resource(kind.GVR).Namespace("").List(ctx, metav1.ListOptions{LabelSelector: policyreport.Selector})
	if err != nil {
		return err
	}
	st, err := checkReports(want, list.Items)
	if err != nil {
		return err
	}
	logf("first report run %7.3fs %8.1f MB: %d reports, %d results, the largest %d bytes, checked", s.wall.Seconds(), s.rssMB(), st.reports, st.results, st.largestBytes)

	load0, load1, err := o.measureRounds([][]*command{{audit}, {steady}})
	if err != nil {
		return err
	}
	res, err := newReportResult(o, cl.containers, st, audit.samples, steady.samples, first.samples[0])
	if err != nil {
		return err
	}
	fmt.Printf("report, %s mix: pods %d, containers %d  (%s)  load average %s -> %s\n", o.mix, o.pods, cl.containers, weight, load0, load1)
	fmt.Printf("%d PolicyReports (one per namespace with workloads), %d results, the largest %d bytes as JSON\n", st.reports, st.results, st.largestBytes)
	printTable(o.rounds, []*command{audit, first, steady})
	fmt.Printf("report first/audit wall %.3f (creates every report; target <= %.0f: %s)\n", res.FirstRatio, reportTarget, res.FirstVerdict)
	fmt.Printf("report/audit wall       %.3f (steady state, every report unchanged; target <= %.0f: %s)\n", res.Ratio, reportTarget, res.Verdict)
	return printJSON(res)
}
