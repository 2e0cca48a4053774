package printers

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
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
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "NAMESPACE WORKLOAD CONTAINER PODS USER MAX-RISK EFFECTIVE BOUNDING RUNTIME PSS-CAPS ADDED DROPPED WARNINGS" {
		t.Errorf("header = %v", got)
	}
	if got := strings.Join(strings.Fields(lines[1]), " "); got != "ns deploy/web init (init) 3 nonroot(1000) none - - cri-o restricted - - 0" {
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

// TestMaxRiskReason: MAX-RISK says which capability gives the risk and how
// the container holds it, in pkg/risk's words, and gives way to the width
// before the names do not fit: full reason, then the capability, then the
// risk alone.
func TestMaxRiskReason(t *testing.T) {
	item := func(maxRisk string, f ...report.Finding) *report.Item {
		return &report.Item{MaxRisk: maxRisk, Findings: f}
	}
	tests := []struct {
		name string
		it   *report.Item
		want []string
	}{
		{"none", item("none", report.Finding{Capability: "CHOWN", Risk: "low", Exposure: "file-caps"}), []string{"none"}},
		{"effective", item("high",
			report.Finding{Capability: "CHOWN", Risk: "low", Exposure: "effective", Counted: true},
			report.Finding{Capability: "NET_RAW", Risk: "high", Exposure: "effective", Counted: true}),
			[]string{"high", "high (NET_RAW)"}},
		{"file caps", item("high", report.Finding{Capability: "NET_ADMIN", Risk: "high", Exposure: "file-caps", Counted: true}),
			[]string{"high", "high (NET_ADMIN)", "high (NET_ADMIN via file caps)"}},
		{"setuid", item("high", report.Finding{Capability: "NET_RAW", Risk: "high", Exposure: "setuid", Counted: true}),
			[]string{"high", "high (NET_RAW)", "high (NET_RAW via setuid)"}},
		{"the most direct of equals", item("high",
			report.Finding{Capability: "NET_ADMIN", Risk: "high", Exposure: "file-caps", Counted: true},
			report.Finding{Capability: "NET_RAW", Risk: "high", Exposure: "setuid", Counted: true}),
			[]string{"high", "high (NET_RAW)", "high (NET_RAW via setuid)"}},
		{"not counted: not the reason", item("low",
			report.Finding{Capability: "SYS_ADMIN", Risk: "critical", Exposure: "file-caps"},
			report.Finding{Capability: "CHOWN", Risk: "low", Exposure: "effective", Counted: true}),
			[]string{"low", "low (CHOWN)"}},
		{"inert: not counted", item("none", report.Finding{Capability: "SYS_TIME", Risk: "high", Exposure: "effective", Inert: true}), []string{"none"}},
		{"amplified", item("critical", report.Finding{Capability: "NET_RAW", Risk: "critical", Exposure: "effective", Counted: true, Amplified: []string{"hostNetwork"}}),
			[]string{"critical", "critical (NET_RAW)", "critical (NET_RAW with hostNetwork)"}},
		{"in any pod before amplified", item("critical",
			report.Finding{Capability: "BPF", Risk: "critical", Exposure: "effective", Counted: true, Amplified: []string{"with:PERFMON"}},
			report.Finding{Capability: "SYS_ADMIN", Risk: "critical", Exposure: "effective", Counted: true}),
			[]string{"critical", "critical (SYS_ADMIN)"}},
		{"held with", item("critical", report.Finding{Capability: "BPF", Risk: "critical", Exposure: "effective", Counted: true, Amplified: []string{"with:PERFMON"}}),
			[]string{"critical", "critical (BPF)", "critical (BPF held with PERFMON)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maxRiskForms(tt.it, false); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("maxRiskForms = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestPerPodShowsThePod: --per-pod names each row's pod (POD, after
// WORKLOAD) instead of counting pods that are always one, and marks a
// controller without pods.
func TestPerPodShowsThePod(t *testing.T) {
	items := []report.Item{
		{Namespace: "ns", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Pod: "web-7d9f-abcde", Pods: 1, Container: "nginx", MaxRisk: "none"},
		{Namespace: "ns", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Pod: "web-7d9f-fghij", Pods: 1, Container: "nginx", MaxRisk: "none"},
		// A controller without pods, judged from its template: marked.
		{Namespace: "ns", Workload: workload.Ref{Kind: "Deployment", Name: "idle"}, FromTemplate: true, Container: "nginx", MaxRisk: "none"},
	}
	for _, wide := range []bool{false, true} {
		var b bytes.Buffer
		if err := WriteAuditTable(&b, items, AuditTableOptions{ShowPods: true, PerPod: true, Wide: wide}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if got := strings.Join(strings.Fields(lines[0])[:4], " "); got != "NAMESPACE WORKLOAD POD CONTAINER" {
			t.Errorf("wide=%v: header starts %q", wide, got)
		}
		if strings.Contains(lines[0], "PODS") {
			t.Errorf("wide=%v: PODS with --per-pod: %q", wide, lines[0])
		}
		for i, pod := range []string{"web-7d9f-abcde", "web-7d9f-fghij"} {
			if got := strings.Fields(lines[i+1]); got[2] != pod {
				t.Errorf("wide=%v: row %d = %q, want the pod %s third", wide, i, got, pod)
			}
		}
		if got := lines[3]; !strings.Contains(got, "deploy/idle   (no pods)") {
			t.Errorf("wide=%v: the template's row is %q, want POD (no pods)", wide, got)
		}
	}
}

// TestContainerLabel: a native sidecar (an init container with
// restartPolicy: Always) runs beside the main containers, so it is not
// labelled "(init)".
func TestContainerLabel(t *testing.T) {
	tests := []struct {
		typ     engine.ContainerType
		sidecar bool
		want    string
	}{
		{engine.TypeContainer, false, "c"},
		{engine.TypeInitContainer, false, "c (init)"},
		{engine.TypeInitContainer, true, "c (sidecar)"},
		{engine.TypeEphemeralContainer, false, "c (ephemeral)"},
	}
	for _, tt := range tests {
		if got := ContainerLabel("c", tt.typ, tt.sidecar); got != tt.want {
			t.Errorf("ContainerLabel(c, %s, %v) = %q, want %q", tt.typ, tt.sidecar, got, tt.want)
		}
	}
}

// TestSplitRowsShowWhatDiffers: the pods of one workload on two runtimes,
// or with and without an ephemeral container, are separate rows; the
// default table shows what tells them apart (issue 16 item 6), and adds
// nothing when no workload is split.
func TestSplitRowsShowWhatDiffers(t *testing.T) {
	web := workload.Ref{Kind: "Deployment", Name: "web"}
	db := workload.Ref{Kind: "StatefulSet", Name: "db"}
	row := func(ref workload.Ref, pod, container string, typ engine.ContainerType, runtime, version string) report.Item {
		return report.Item{Namespace: "ns", Workload: ref, Pod: pod, Pods: 1, Container: container, ContainerType: typ,
			Runtime: runtime, RuntimeVersion: version, MaxRisk: "none"}
	}
	for _, tc := range []struct {
		name        string
		items       []report.Item
		wantRuntime []string // the RUNTIME cells, nil for no column
		wantPods    []string
	}{{
		name: "one runtime per workload: no RUNTIME",
		items: []report.Item{
			row(web, "web-1", "nginx", engine.TypeContainer, "containerd", "2.1.4"),
			row(db, "db-0", "postgres", engine.TypeContainer, "cri-o", "1.33.2"),
		},
		wantPods: []string{"1", "1"},
	}, {
		name: "two releases of one runtime",
		items: []report.Item{
			row(web, "web-1", "nginx", engine.TypeContainer, "containerd", "2.1.4"),
			row(web, "web-2", "nginx", engine.TypeContainer, "containerd", "1.7.27"),
			row(db, "db-0", "postgres", engine.TypeContainer, "cri-o<1.18", "1.17.3"),
		},
		wantRuntime: []string{"containerd 2.1.4", "containerd 1.7.27", "cri-o 1.17.3"},
		wantPods:    []string{"1", "1", "1"},
	}, {
		name: "an ephemeral container splits its pod's rows",
		items: []report.Item{
			row(web, "web-1", "nginx", engine.TypeContainer, "containerd", ""),
			row(web, "web-2", "nginx", engine.TypeContainer, "containerd", ""),
			row(web, "web-2", "debugger", engine.TypeEphemeralContainer, "containerd", ""),
		},
		wantPods: []string{"1", "1 (with ephemeral)", "1 (with ephemeral)"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteAuditTable(&b, tc.items, AuditTableOptions{ShowPods: true}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
			header := lines[0]
			podsAt := strings.Index(header, "PODS")
			rtAt := strings.Index(header, "RUNTIME")
			if (rtAt >= 0) != (tc.wantRuntime != nil) {
				t.Fatalf("RUNTIME column: %v, want %v\n%s", rtAt >= 0, tc.wantRuntime != nil, b.String())
			}
			for i, l := range lines[1:] {
				if got := strings.TrimSpace(strings.SplitN(l[podsAt:], "  ", 2)[0]); got != tc.wantPods[i] {
					t.Errorf("row %d PODS %q, want %q\n%s", i, got, tc.wantPods[i], b.String())
				}
				if rtAt >= 0 {
					if got := strings.TrimSpace(strings.SplitN(l[rtAt:], "  ", 2)[0]); got != tc.wantRuntime[i] {
						t.Errorf("row %d RUNTIME %q, want %q\n%s", i, got, tc.wantRuntime[i], b.String())
					}
				}
			}
		})
	}
}
