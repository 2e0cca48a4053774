package report

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/evidence"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func TestAddEvidence(t *testing.T) {
	web := workload.Ref{Kind: "Deployment", Name: "web"}
	res := &evidence.Result{Containers: []evidence.Container{{
		Namespace: "shop", Workload: web, Name: "nginx", Attribution: evidence.ByTrace, Pods: []string{"web-1"}, Events: 3,
		Used:   capability.SetOf(capability.NET_BIND_SERVICE, capability.SYS_ADMIN),
		Denied: capability.SetOf(capability.SYS_NICE),
		Caps: []evidence.CapUse{
			{Cap: capability.NET_BIND_SERVICE, Used: 1, AllowedOwnNS: 1, Syscalls: []string{"bind"}, Comms: []string{"nginx"}},
			{Cap: capability.SYS_ADMIN, Used: 1, AllowedOwnNS: 1},
			{Cap: capability.SYS_NICE, Denied: 1},
		},
	}}}
	it := Item{Namespace: "shop", Workload: web, Container: "nginx", Bounding: []string{"CHOWN", "NET_BIND_SERVICE"}}
	if d := it.AddEvidence(res); d != capability.SetOf(capability.SYS_ADMIN) {
		t.Errorf("disagreements = %v, want SYS_ADMIN", d.Names())
	}
	e := it.Evidence
	got := strings.Join([]string{strings.Join(e.Used, ","), strings.Join(e.Denied, ","), strings.Join(e.Unused, ","), strings.Join(e.Disagreements, ",")}, "|")
	if want := "NET_BIND_SERVICE,SYS_ADMIN|SYS_NICE|CHOWN|SYS_ADMIN"; got != want || !e.Observed || e.Attribution != "trace" {
		t.Errorf("evidence = %s (%+v), want %s", got, e, want)
	}
	// Bounding is untouched: reported, never merged.
	if d := cmp.Diff([]string{"CHOWN", "NET_BIND_SERVICE"}, it.Bounding); d != "" {
		t.Error(d)
	}

	other := Item{Namespace: "shop", Workload: web, Container: "sidecar", Bounding: []string{"KILL"}}
	other.AddEvidence(res)
	if e := other.Evidence; e.Observed || len(e.Used) != 0 || e.Used == nil || strings.Join(e.Unused, ",") != "KILL" {
		t.Errorf("unobserved evidence = %+v", e)
	}

	var j *Joined // no --evidence
	j.Add(&other)
	if NewJoined(nil) != nil {
		t.Error("NewJoined(nil) != nil")
	}
}
