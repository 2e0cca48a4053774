package report

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func TestParseSelection(t *testing.T) {
	tests := []struct {
		name           string
		minRisk        string
		caps           []string
		sortBy         string
		want           Selection
		wantErr        []string // each in the error
		wantErrMissing string   // not in the error
	}{
		{name: "nothing", want: Selection{}},
		{name: "every spelling of a name", caps: []string{"NET_RAW", "cap_sys_admin", " Sys_Ptrace ", "39"}, sortBy: "risk",
			want: Selection{Holding: capability.SetOf(capability.NET_RAW, capability.SYS_ADMIN, capability.SYS_PTRACE, capability.Cap(39)), Order: OrderRisk}},
		{name: "min-risk in any case", minRisk: "HIGH", sortBy: "workload", want: Selection{MinRisk: catalog.RiskHigh, Order: OrderWorkload}},
		{name: "namespace order", sortBy: "namespace", want: Selection{Order: OrderNamespace}},
		{name: "a misspelt name suggests the closest", caps: []string{"NET_RAWW"},
			wantErr: []string{`--capability: unknown capability "NET_RAWW"; did you mean NET_RAW?`}},
		{name: "every bad value at once", caps: []string{"NET_RAWW", "SYS_ADMN"}, minRisk: "severe", sortBy: "size",
			wantErr: []string{`--min-risk: unknown risk "severe"`, `"NET_RAWW"`, `"SYS_ADMN"; did you mean SYS_ADMIN?`, `--sort-by: unknown order "size"; use risk, namespace or workload`}},
		{name: "ALL is no capability", caps: []string{"all"}, wantErr: []string{"--capability: ALL is the keyword", "--min-risk=low"}},
		{name: "an empty name", caps: []string{"NET_RAW", ""}, wantErr: []string{`--capability: unknown capability ""`}},
		{name: "kubectl's JSONPath form", sortBy: ".metadata.name",
			wantErr: []string{`--sort-by: ".metadata.name" is a JSONPath expression`, "risk, namespace or workload", "jq"}},
		{name: "JSONPath in braces", sortBy: "{.maxRisk}", wantErr: []string{"JSONPath"}},
		{name: "order names are exact", sortBy: "Risk", wantErr: []string{`unknown order "Risk"`}, wantErrMissing: "JSONPath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSelection(tt.minRisk, tt.caps, tt.sortBy)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("selection (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, selection %+v", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.wantErrMissing != "" && strings.Contains(err.Error(), tt.wantErrMissing) {
				t.Errorf("error %q says %q", err, tt.wantErrMissing)
			}
		})
	}
}

// Holds is what MAX-RISK counts: effective, setuid, file caps only when
// added, never inert. Each case names a capability the container has in
// its bounding set, so only the exposure decides.
func TestHolds(t *testing.T) {
	root, user := ptr(int64(0)), ptr(int64(1000))
	tests := []struct {
		name string
		pod  corev1.PodSpec
		cap  capability.Cap
		want bool
	}{
		{"root: a default is effective", corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root}}}},
			capability.NET_RAW, true},
		{"non-root regains a default through setuid", corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: user}}}},
			capability.NET_RAW, true},
		{"non-root with no_new_privs: a default only through file caps, not held",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: user, AllowPrivilegeEscalation: ptr(false)}}}},
			capability.NET_RAW, false},
		{"non-root with no_new_privs: an added capability through file caps, held",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: user, AllowPrivilegeEscalation: ptr(false),
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}}}}}},
			capability.NET_ADMIN, true},
		{"user namespace: SYS_TIME is inert, not held",
			corev1.PodSpec{HostUsers: ptr(false), Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"SYS_TIME", "CHOWN"}}}}}},
			capability.SYS_TIME, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := item(t, tt.pod, "containerd")
			if f := capFinding(it, tt.cap.String()); f == nil {
				t.Fatalf("%s is not in the bounding set %v: the case tests nothing", tt.cap, it.Bounding)
			}
			if got := it.Holds(capability.SetOf(tt.cap)); got != tt.want {
				t.Errorf("Holds(%s) = %v, want %v", tt.cap, got, tt.want)
			}
			// Any of the set: one held capability is enough.
			if got := it.Holds(capability.SetOf(tt.cap, capability.SYS_MODULE)); got != tt.want {
				t.Errorf("Holds(%s, SYS_MODULE) = %v, want %v", tt.cap, got, tt.want)
			}
			if it.Holds(0) {
				t.Error("Holds(nothing) = true")
			}
		})
	}
}

func TestApplyFiltersAndOrders(t *testing.T) {
	row := func(ns, kind, name, container, maxRisk string, counted ...string) Item {
		it := Item{Namespace: ns, Workload: workload.Ref{Kind: kind, Name: name}, Container: container, MaxRisk: maxRisk}
		for _, c := range counted {
			it.Findings = append(it.Findings, Finding{Capability: c, Counted: true})
		}
		it.Findings = append(it.Findings, Finding{Capability: "SYS_ADMIN", Counted: false})
		return it
	}
	// In the order read: deliberately in no order.
	items := []Item{
		row("shop", "Deployment", "web", "nginx", "high", "NET_RAW"),
		row("data", "StatefulSet", "db", "postgres", "medium", "CHOWN"),
		row("shop", "Deployment", "api", "b", "critical", "SYS_PTRACE", "NET_RAW"),
		row("shop", "Deployment", "api", "a", "critical", "SYS_PTRACE"),
		row("kube", "DaemonSet", "agent", "agent", "none"),
		row("data", "Pod", "web", "debug", "high", "NET_RAW"),
	}
	name := func(it Item) string {
		return it.Namespace + "/" + it.Workload.Kind + "/" + it.Workload.Name + ":" + it.Container
	}
	tests := []struct {
		name string
		sel  Selection
		want []string
	}{
		{"the order read", Selection{}, []string{
			"shop/Deployment/web:nginx", "data/StatefulSet/db:postgres", "shop/Deployment/api:b", "shop/Deployment/api:a", "kube/DaemonSet/agent:agent", "data/Pod/web:debug"}},
		{"risk, then namespace, workload, container", Selection{Order: OrderRisk}, []string{
			"shop/Deployment/api:a", "shop/Deployment/api:b", "data/Pod/web:debug", "shop/Deployment/web:nginx", "data/StatefulSet/db:postgres", "kube/DaemonSet/agent:agent"}},
		{"namespace, then workload name and kind", Selection{Order: OrderNamespace}, []string{
			"data/StatefulSet/db:postgres", "data/Pod/web:debug", "kube/DaemonSet/agent:agent", "shop/Deployment/api:a", "shop/Deployment/api:b", "shop/Deployment/web:nginx"}},
		{"workload name, kind, then namespace", Selection{Order: OrderWorkload}, []string{
			"kube/DaemonSet/agent:agent", "shop/Deployment/api:a", "shop/Deployment/api:b", "data/StatefulSet/db:postgres", "shop/Deployment/web:nginx", "data/Pod/web:debug"}},
		{"holding NET_RAW", Selection{Holding: capability.SetOf(capability.NET_RAW)}, []string{
			"shop/Deployment/web:nginx", "shop/Deployment/api:b", "data/Pod/web:debug"}},
		{"an uncounted finding is not held", Selection{Holding: capability.SetOf(capability.SYS_ADMIN)}, nil},
		{"holding any of two, sorted", Selection{Holding: capability.SetOf(capability.CHOWN, capability.SYS_PTRACE), Order: OrderRisk}, []string{
			"shop/Deployment/api:a", "shop/Deployment/api:b", "data/StatefulSet/db:postgres"}},
		{"holding NET_RAW at or above critical", Selection{Holding: capability.SetOf(capability.NET_RAW), MinRisk: catalog.RiskCritical}, []string{
			"shop/Deployment/api:b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, it := range tt.sel.Apply(append([]Item(nil), items...)) {
				got = append(got, name(it))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSelectionWords(t *testing.T) {
	for _, tt := range []struct {
		sel      Selection
		want     string
		filtered bool
	}{
		{Selection{Order: OrderRisk}, "", false},
		{Selection{MinRisk: catalog.RiskCritical}, "at or above --min-risk=critical", true},
		{Selection{Holding: capability.SetOf(capability.SYS_ADMIN, capability.NET_RAW)}, "holding NET_RAW or SYS_ADMIN (--capability)", true},
		{Selection{Holding: capability.SetOf(capability.NET_RAW), MinRisk: catalog.RiskHigh}, "holding NET_RAW (--capability) at or above --min-risk=high", true},
	} {
		if got := tt.sel.String(); got != tt.want || tt.sel.Filtered() != tt.filtered {
			t.Errorf("%+v: %q filtered %v, want %q %v", tt.sel, got, tt.sel.Filtered(), tt.want, tt.filtered)
		}
	}
}

func TestCountAtLeast(t *testing.T) {
	items := []Item{{MaxRisk: "none"}, {MaxRisk: "high"}, {MaxRisk: "critical"}, {MaxRisk: "low"}}
	for min, want := range map[catalog.Risk]int{"": 0, catalog.RiskLow: 3, catalog.RiskHigh: 2, catalog.RiskCritical: 1} {
		if got := CountAtLeast(min, items...); got != want {
			t.Errorf("CountAtLeast(%q) = %d, want %d", min, got, want)
		}
	}
}
