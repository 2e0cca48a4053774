package finding

import (
	"strings"
	"testing"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/baseline"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func TestSettle(t *testing.T) {
	w := workload.Ref{Kind: "DaemonSet", Name: "agent"}
	f := func(rule, risk, capName string, level Level) Finding {
		return Finding{RuleID: rule, Risk: risk, Level: level, Namespace: "ns", Workload: w, Container: "c",
			Capability: capName, Fingerprint: Fingerprint(rule, "ns", w, "c", capName)}
	}
	fs := []Finding{
		f("CAPS001", "critical", "SYS_ADMIN", LevelError), // excepted by capability
		f("CAPS002", "high", "NET_RAW", LevelError),       // known
		f("CAPS002", "high", "SYS_PTRACE", LevelError),    // open: its exception expired
		f("CAPS101", "", "CAP_SYS_ADMIN", LevelWarning),   // a spelling: SYS_ADMIN's exception does not cover it
		f("CAPS007", "", "", LevelNote),                   // excepted by rule
	}
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	ex := exception.Set{Entries: []exception.Entry{
		{Name: "agent", Caps: capability.SetOf(capability.SYS_ADMIN), Reason: "cgroups", Origin: "e.yaml:4"},
		{Name: "agent", Caps: capability.SetOf(capability.SYS_PTRACE), Reason: "profiler", Origin: "e.yaml:8", Expires: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Rules: []string{"CAPS007"}, Reason: "later", Origin: "e.yaml:12"},
		{Name: "gone", Rules: []string{"CAPS005"}, Reason: "old", Origin: "e.yaml:15"},
	}}
	var buf = []baseline.Entry{{Fingerprint: fs[1].Fingerprint}, {Fingerprint: "v1:fixed", Rule: "CAPS002"}}
	b := writeAndParse(t, buf)

	st := Settle(fs, ex, &b, now)
	want := []Status{StatusExcepted, StatusKnown, StatusOpen, StatusOpen, StatusExcepted}
	for i, s := range want {
		if st.Findings[i].Status != s {
			t.Errorf("finding %d (%s %s): %s, want %s", i, fs[i].RuleID, fs[i].Capability, st.Findings[i].Status, s)
		}
	}
	if g := st.Findings[0]; g.ExceptedBy != "e.yaml:4" || g.Reason != "cgroups" {
		t.Errorf("excepted finding names %q %q", g.ExceptedBy, g.Reason)
	}
	if m := st.Findings[2].Message; m != " (the exception at e.yaml:8 expired on 2026-01-01)" {
		t.Errorf("expired: message %q", m)
	}
	if st.Open != 2 || st.Excepted != 2 || st.Known != 1 {
		t.Errorf("counts open %d excepted %d known %d", st.Open, st.Excepted, st.Known)
	}
	if len(st.Unused) != 1 || st.Unused[0].Origin != "e.yaml:15" || len(st.Expired) != 1 || st.Expired[0].Origin != "e.yaml:8" {
		t.Errorf("unused %+v expired %+v", st.Unused, st.Expired)
	}
	if len(st.Fixed) != 1 || st.Fixed[0].Fingerprint != "v1:fixed" {
		t.Errorf("fixed %+v", st.Fixed)
	}
	// Only the open error with a risk fails: SYS_PTRACE's container.
	if n := Failing(st.Findings); n != 1 {
		t.Errorf("Failing = %d, want 1", n)
	}
	st.Findings[2].Status = StatusKnown
	if n := Failing(st.Findings); n != 0 {
		t.Errorf("Failing with everything settled = %d, want 0", n)
	}
	// The baseline holds what is not excepted.
	if got := BaselineEntries(st.Findings); len(got) != 3 || got[0].Rule != "CAPS002" || got[0].Workload != "ns/DaemonSet/agent" {
		t.Errorf("BaselineEntries = %+v", got)
	}
	// Without records, everything is open.
	if st := Settle(fs, exception.Set{}, nil, now); st.Open != len(fs) {
		t.Errorf("no records: %d open of %d", st.Open, len(fs))
	}
}

func writeAndParse(t *testing.T, es []baseline.Entry) baseline.Baseline {
	t.Helper()
	var b strings.Builder
	if err := baseline.Write(&b, es); err != nil {
		t.Fatal(err)
	}
	p, err := baseline.Parse("b.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
