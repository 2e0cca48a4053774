//go:build integration

package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
)

// TestSelectAndGetFormatsLive: --sort-by and the kubectl get formats hold
// the live report in memory (docs/report.md), --capability selects from
// it, and the sorted JSON is the same document the stream writes.
func TestSelectAndGetFormatsLive(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	ns := e.namespace("select")
	node := e.node("select", "containerd://2.1.4")
	root := ptr(int64(0))
	// web: containerd's defaults as root, high (NET_RAW); admin adds
	// SYS_ADMIN, critical; agent, of a DaemonSet, drops ALL: none.
	e.pod(ns, "web", node, corev1.PodSpec{Containers: []corev1.Container{{Name: "app", SecurityContext: &corev1.SecurityContext{RunAsUser: root}}}})
	e.pod(ns, "admin", node, corev1.PodSpec{Containers: []corev1.Container{{Name: "app", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
		Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}}}})
	e.pod(ns, "agent-x1", node, corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}}}, ownedBy("DaemonSet", "apps/v1", "agent", "uid-agent"))

	type row struct{ Workload, MaxRisk string }
	rows := func(out string) []row {
		var rep struct {
			Kind  string `json:"kind"`
			Items []struct {
				Namespace string `json:"namespace"`
				Workload  struct{ Kind, Name string }
				MaxRisk   string `json:"maxRisk"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Kind != "CapabilityReport" {
			t.Fatalf("not one report (%v):\n%s", err, out)
		}
		var got []row
		for _, it := range rep.Items {
			if it.Namespace == ns {
				got = append(got, row{it.Workload.Kind + "/" + it.Workload.Name, it.MaxRisk})
			}
		}
		return got
	}
	want := []row{{"Pod/admin", "critical"}, {"Pod/web", "high"}, {"DaemonSet/agent", "none"}}
	sorted := runPlugin(t, kc, "audit", "-n", ns, "--sort-by", "risk", "-o", "json")
	if sorted.Code != 0 {
		t.Fatalf("exit %d: %s", sorted.Code, sorted.ErrOut)
	}
	if diff := cmp.Diff(want, rows(sorted.Out)); diff != "" {
		t.Errorf("--sort-by risk -o json (-want +got):\n%s", diff)
	}
	// The stream writes the same items, in the order read.
	streamed := runPlugin(t, kc, "audit", "-n", ns, "-o", "json")
	byName := cmpopts.SortSlices(func(a, b row) bool { return a.Workload < b.Workload })
	if diff := cmp.Diff(want, rows(streamed.Out), byName); diff != "" {
		t.Errorf("streamed -o json (-want +got, in any order):\n%s", diff)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "name", "--sort-by", "risk"}, "pod/admin\npod/web\ndaemonset.apps/agent\n"},
		{[]string{"-o", "name", "--capability", "SYS_ADMIN"}, "pod/admin\n"},
		{[]string{"-o", "custom-columns=WORKLOAD:.workload.name,PODS:.pods,RISK:.maxRisk", "--no-headers", "--sort-by", "workload"},
			"admin   1     critical\nagent   1     none\nweb     1     high\n"},
		{[]string{"-o", `jsonpath={range .items[*]}{.workload.name}={.maxRisk}{" "}{end}`, "--capability", "NET_RAW", "--sort-by", "namespace"},
			"admin=critical web=high "},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runPlugin(t, kc, append([]string{"audit", "-n", ns}, tt.args...)...)
			if r.Code != 0 || r.Out != tt.want {
				t.Errorf("exit %d, stdout %q, want %q; stderr %q", r.Code, r.Out, tt.want, r.ErrOut)
			}
		})
	}
}
