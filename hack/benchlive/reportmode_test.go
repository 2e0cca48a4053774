package main

import (
	"math"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Every Deployment and every bare pod is a workload of its namespace, and
// nothing else is: report's results name workloads, not pods.
func TestPlanWorkloads(t *testing.T) {
	for _, mix := range []string{mixRealistic, mixBare} {
		p := newPlan(1000, 7, mix)
		w := p.workloads()
		total := 0
		for ns, refs := range w {
			total += len(refs)
			for ref := range refs {
				if !strings.HasPrefix(ref, "Deployment/") && !strings.HasPrefix(ref, "Pod/") {
					t.Errorf("%s: %s in %s is neither a Deployment nor a Pod", mix, ref, ns)
				}
			}
		}
		if want := len(p.deployments) + len(p.pods) - p.owned(); total != want {
			t.Errorf("%s: %d workloads, want %d Deployments + %d bare pods", mix, total, len(p.deployments), len(p.pods)-p.owned())
		}
		if len(w) == 0 || len(w) > numNamespaces {
			t.Errorf("%s: workloads in %d namespaces, want 1-%d", mix, len(w), numNamespaces)
		}
	}
}

// polr is a managed report in ns with one result per "Kind/name".
func polr(ns string, refs ...string) unstructured.Unstructured {
	var results []any
	for _, r := range refs {
		kind, name, _ := strings.Cut(r, "/")
		results = append(results, map[string]any{"result": "pass",
			"resources": []any{map[string]any{"kind": kind, "name": name, "namespace": ns}}})
	}
	u := unstructured.Unstructured{Object: map[string]any{"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "results": results}}
	u.SetNamespace(ns)
	u.SetName("kubectl-caps")
	return u
}

func TestCheckReports(t *testing.T) {
	want := map[string]map[string]bool{
		"a": {"Deployment/api": true, "Pod/debug": true},
		"b": {"Pod/once": true},
	}
	tests := []struct {
		name        string
		reports     []unstructured.Unstructured
		wantErr     string
		wantResults int
	}{
		// A workload of two containers has two results.
		{name: "all there", reports: []unstructured.Unstructured{polr("a", "Deployment/api", "Deployment/api", "Pod/debug"), polr("b", "Pod/once")}, wantResults: 4},
		{name: "a namespace without its report", reports: []unstructured.Unstructured{polr("a", "Deployment/api", "Pod/debug")}, wantErr: "namespace b has workloads but no report"},
		{name: "a workload missing", reports: []unstructured.Unstructured{polr("a", "Deployment/api"), polr("b", "Pod/once")}, wantErr: "no result for Pod/debug"},
		{name: "a workload not planned", reports: []unstructured.Unstructured{polr("a", "Deployment/api", "Pod/debug"), polr("b", "Pod/once", "Pod/other")}, wantErr: "names 2 workloads, want 1"},
		{name: "an empty report", reports: []unstructured.Unstructured{polr("a", "Deployment/api", "Pod/debug"), polr("b")}, wantErr: "report in b has no results"},
		{name: "two reports in a namespace", reports: []unstructured.Unstructured{polr("a", "Deployment/api", "Pod/debug"), polr("a", "Deployment/api", "Pod/debug")}, wantErr: "two managed reports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := checkReports(want, tt.reports)
			if wantError(t, err, tt.wantErr) {
				return
			}
			if st.reports != len(tt.reports) || st.results != tt.wantResults || st.largestBytes == 0 {
				t.Errorf("stats %+v, want %d reports, %d results, a size", st, len(tt.reports), tt.wantResults)
			}
		})
	}
}

func TestExpectActions(t *testing.T) {
	line := func(action, ns string) string {
		return "policyreports.wgpolicyk8s.io/kubectl-caps " + action + " in namespace " + ns + "\n"
	}
	tests := []struct {
		name, out, action string
		namespaces        int
		wantErr           string
	}{
		{name: "all created", out: line("created", "a") + line("created", "b"), action: "created", namespaces: 2},
		{name: "all unchanged", out: line("unchanged", "a") + line("unchanged", "b"), action: "unchanged", namespaces: 2},
		{name: "one configured", out: line("unchanged", "a") + line("configured", "b"), action: "unchanged", namespaces: 2, wantErr: "want unchanged for all 2"},
		{name: "one missing", out: line("created", "a"), action: "created", namespaces: 2, wantErr: "want created for all 2"},
		{name: "a deletion", out: line("created", "a") + line("created", "b") + line("deleted", "c"), action: "created", namespaces: 2, wantErr: "deleted"},
		{name: "nothing", out: "", action: "created", namespaces: 1, wantErr: "want created for all 1"},
		{name: "not report's output", out: "error: forbidden\n", action: "created", namespaces: 1, wantErr: "unexpected report output line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := expectActions([]byte(tt.out), tt.action, tt.namespaces)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewReportResult(t *testing.T) {
	o := &options{pods: 1000, mix: mixRealistic, rounds: 3}
	st := reportStats{reports: 50, results: 900, largestBytes: 1 << 16}
	audit := withRSS(secs(1, 1.2, 0.8), 60, 70, 65)
	tests := []struct {
		name                    string
		steady                  []sample
		first                   sample
		wantRatio, wantFirst    float64
		wantVerdict, wantFirstV string
	}{
		{name: "both within", steady: withRSS(secs(1.5, 1.4, 1.6), 80, 80, 80), first: withRSS(secs(2), 90)[0],
			wantRatio: 1.5, wantFirst: 2, wantVerdict: "met", wantFirstV: "met"},
		{name: "the first run slow", steady: withRSS(secs(1.9, 1.2, 1.3), 80, 80, 80), first: withRSS(secs(3), 90)[0],
			wantRatio: 1.3, wantFirst: 3, wantVerdict: "met", wantFirstV: "MISSED"},
		{name: "both slow", steady: withRSS(secs(2.5, 2.1, 2.2), 80, 80, 80), first: withRSS(secs(2.1), 90)[0],
			wantRatio: 2.2, wantFirst: 2.1, wantVerdict: "MISSED", wantFirstV: "MISSED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newReportResult(o, 1600, st, audit, tt.steady, tt.first)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.Ratio-tt.wantRatio) > 1e-9 || math.Abs(r.FirstRatio-tt.wantFirst) > 1e-9 {
				t.Errorf("ratios %v (first %v), want %v (first %v)", r.Ratio, r.FirstRatio, tt.wantRatio, tt.wantFirst)
			}
			if r.Verdict != tt.wantVerdict || r.FirstVerdict != tt.wantFirstV {
				t.Errorf("verdicts %s (first %s), want %s (first %s)", r.Verdict, r.FirstVerdict, tt.wantVerdict, tt.wantFirstV)
			}
			if r.AuditS != 1 || r.AuditRSSMB != 65 || r.ReportFirstMB != 90 || r.Mode != "report" || r.Reports != 50 {
				t.Errorf("result %+v: want audit 1 s, 65 MB, first 90 MB, mode report, 50 reports", r)
			}
		})
	}
	if _, err := newReportResult(o, 1, st, nil, secs(1), sample{}); err == nil {
		t.Error("no audit samples: no error")
	}
}
