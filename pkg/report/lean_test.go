package report

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// leanRoundTrip is it written lean and read back.
func leanRoundTrip(t *testing.T, it Item) (LeanItem, Item) {
	t.Helper()
	li, err := it.Lean()
	if err != nil {
		t.Fatal(err)
	}
	back, err := li.Expand(CatalogOf(capability.SetOfNames(it.Bounding)))
	if err != nil {
		t.Fatal(err)
	}
	return li, back
}

// Each item NewItem builds comes back equal from its lean form, and the
// lean form keeps only the findings that say something: an amplified
// risk or an explicit add.
func TestLeanKeepsOnlyWhatDiffers(t *testing.T) {
	root, user := ptr(int64(0)), ptr(int64(1000))
	tests := []struct {
		name string
		pod  corev1.PodSpec
		rt   string
		want []string // the capabilities of the lean findings
	}{
		{"root with the defaults: nothing differs",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root}}}}, "containerd", nil},
		{"hostNetwork raises NET_RAW",
			corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root}}}}, "containerd", []string{"NET_RAW"}},
		{"non-root, setuid: exposure follows reachable",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: user}}}}, "containerd", nil},
		{"non-root with no_new_privs adding NET_ADMIN: explicit, counted by the rule",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: user, AllowPrivilegeEscalation: ptr(false),
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}}}}}}, "containerd", []string{"NET_ADMIN"}},
		{"no_new_privs on docker 20.10: exposure none",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: user, AllowPrivilegeEscalation: ptr(false)}}}}, "docker://20.10.24", nil},
		{"user namespace: inert follows the list",
			corev1.PodSpec{HostUsers: ptr(false), Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_TIME"}}}}}}, "containerd", []string{"SYS_TIME"}},
		{"privileged: every capability, those with amplifiers raised",
			corev1.PodSpec{HostPID: true, Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root, Privileged: ptr(true)}}}}, "containerd", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := item(t, tt.pod, tt.rt)
			li, back := leanRoundTrip(t, it)
			if diff := cmp.Diff(it, back); diff != "" {
				t.Errorf("expanded item differs (-built +expanded):\n%s", diff)
			}
			var got []string
			for _, f := range li.Findings {
				got = append(got, f.Capability)
				if f.Exposure != "" || f.Counted != nil || f.Effective != nil || f.Inert != nil || f.Recommendation != "" {
					t.Errorf("%s: a finding NewItem built differs from the rules: %+v", f.Capability, f)
				}
			}
			if tt.name[:10] == "privileged" {
				if len(got) == 0 || len(got) == len(it.Bounding) {
					t.Errorf("privileged with hostPID: %d of %d findings kept, want some", len(got), len(it.Bounding))
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lean findings (-want +got):\n%s", diff)
			}
		})
	}
}

// A hand-built item whose findings break the rules NewItem follows still
// survives the round trip: every field that differs is written.
func TestLeanKeepsAnyFinding(t *testing.T) {
	it := Item{
		Bounding:  []string{"CHOWN", "KILL", "NET_RAW", "SYS_ADMIN"},
		Effective: []string{"CHOWN"},
		Inert:     []string{"KILL"},
		Reachable: &Reachable{ViaSetuid: []string{"NET_RAW"}},
		Findings: []Finding{
			{Capability: "CHOWN", Risk: "low", Recommendation: "drop", Effective: true, Exposure: ExposureSetuid, Counted: false},
			{Capability: "KILL", Risk: "low", Recommendation: "keep", Exposure: ExposureNone, Counted: true},
			{Capability: "NET_RAW", Risk: "high", Recommendation: "drop", Effective: true, Exposure: ExposureSetuid, Counted: true, Inert: true},
			{Capability: "SYS_ADMIN", Risk: "critical", Recommendation: "drop", Exposure: ExposureNone, Explicit: true},
		},
	}
	li, back := leanRoundTrip(t, it)
	if diff := cmp.Diff(it, back); diff != "" {
		t.Errorf("expanded item differs (-built +expanded):\n%s", diff)
	}
	if len(li.Findings) != 4 {
		t.Errorf("%d lean findings, want all 4: %+v", len(li.Findings), li.Findings)
	}
}

func TestLeanRefusesFindingsOffBounding(t *testing.T) {
	for name, it := range map[string]Item{
		"fewer":     {Bounding: []string{"CHOWN"}},
		"reordered": {Bounding: []string{"CHOWN", "KILL"}, Findings: []Finding{{Capability: "KILL"}, {Capability: "CHOWN"}}},
	} {
		if _, err := it.Lean(); err == nil || !strings.Contains(err.Error(), "internal error") {
			t.Errorf("%s: Lean() = %v, want an internal error", name, err)
		}
	}
	li := LeanItem{Item: &Item{Bounding: []string{"CHOWN"}}, Findings: []LeanFinding{{Capability: "KILL"}}}
	if _, err := li.Expand(CatalogOf(capability.SetOfNames([]string{"CHOWN", "KILL"}))); err == nil {
		t.Error("a finding outside bounding expanded without error")
	}
	li.Findings = nil
	if _, err := li.Expand(nil); err == nil || !strings.Contains(err.Error(), `"CHOWN"`) {
		t.Errorf("a capability missing from the catalog section: %v", err)
	}
}
