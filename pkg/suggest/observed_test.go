package suggest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/evidence"
)

// observedOf is a container the traces saw: allowed and denied checks.
func observedOf(used, denied []capability.Cap) *evidence.Container {
	c := &evidence.Container{Events: 1, Pods: []string{"web-1"}, First: time.Unix(1795900000, 0), Last: time.Unix(1795990000, 0)}
	for _, cp := range used {
		c.Used = c.Used.Add(cp)
		c.Caps = append(c.Caps, evidence.CapUse{Cap: cp, Used: 2, AllowedOwnNS: 2, Syscalls: []string{"bind"}, Comms: []string{"nginx"}})
	}
	for _, cp := range denied {
		c.Denied = c.Denied.Add(cp)
		c.Caps = append(c.Caps, evidence.CapUse{Cap: cp, Denied: 1, Syscalls: []string{"setpriority"}, Comms: []string{"nginx"}})
	}
	return c
}

func TestObserved(t *testing.T) {
	spec := podSpec(t, webPort80)
	nbs, setgid, nice, sysAdmin, raw := capability.NET_BIND_SERVICE, capability.SETGID, capability.SYS_NICE, capability.SYS_ADMIN, capability.NET_RAW
	tests := []struct {
		name       string
		obs        *evidence.Container
		keep       capability.Set
		allowEmpty bool
		wantKeep   []string
		wantCaps   *Capabilities
		wantNotes  []string
		reasons    map[string]string
	}{
		{
			name: "drop ALL, add back what was used", obs: observedOf([]capability.Cap{nbs, setgid}, nil),
			wantKeep:  []string{"NET_BIND_SERVICE", "SETGID"},
			wantCaps:  &Capabilities{Add: []string{"NET_BIND_SERVICE", "SETGID"}, Drop: []string{"ALL"}},
			wantNotes: []string{NoteObservedWindow, NotePSSLevel},
			reasons: map[string]string{
				"NET_BIND_SERVICE": "used: 2 allowed check(s) by system call(s) bind in command(s) nginx",
				"NET_RAW":          "observed: not used in the window (risk high)",
			},
		},
		{
			name: "--keep is added back too", obs: observedOf([]capability.Cap{nbs}, nil), keep: capability.SetOf(raw),
			wantKeep: []string{"NET_BIND_SERVICE", "NET_RAW"},
			wantCaps: &Capabilities{Add: []string{"NET_BIND_SERVICE", "NET_RAW"}, Drop: []string{"ALL"}},
			reasons:  map[string]string{"NET_RAW": "named in --keep"},
		},
		{
			name: "denied: wanted, not granted, not added", obs: observedOf([]capability.Cap{nbs}, []capability.Cap{nice}),
			wantKeep:  []string{"NET_BIND_SERVICE"},
			wantCaps:  &Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}},
			wantNotes: []string{NoteObservedWindow, NoteWantedNotGranted, NotePSSLevel},
		},
		{
			name: "allowed but not held: a disagreement, not added", obs: observedOf([]capability.Cap{nbs, sysAdmin}, nil),
			wantKeep:  []string{"NET_BIND_SERVICE"},
			wantCaps:  &Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}},
			wantNotes: []string{NoteObservedNotHeld},
		},
		{
			name: "no events: keeps what it holds, no patch", obs: nil,
			wantKeep:  containerd14,
			wantNotes: []string{NoteNoEvidence},
			reasons:   map[string]string{"NET_RAW": "no evidence for this container: kept as it is"},
		},
		{
			name: "no events with --allow-empty-evidence: all but --keep", obs: nil, allowEmpty: true, keep: capability.SetOf(nbs),
			wantKeep:  []string{"NET_BIND_SERVICE"},
			wantCaps:  &Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}},
			wantNotes: []string{NoteEmptyEvidence},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, in := run(t, spec, "containerd", "", Options{Strategy: Strict})
			in.Observed = tc.obs
			s := Suggest(in, Options{Strategy: Observed, Keep: tc.keep, AllowEmptyEvidence: tc.allowEmpty})
			if d := cmp.Diff(tc.wantKeep, names(s.Keep)); d != "" {
				t.Errorf("keep (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantCaps, s.Capabilities); d != "" {
				t.Errorf("capabilities (-want +got):\n%s", d)
			}
			got := codes(s.Notes)
			for _, n := range tc.wantNotes {
				if !slices.Contains(got, n) {
					t.Errorf("notes %v lack %s", got, n)
				}
			}
			for c, want := range tc.reasons {
				r := reasonOf(s.Keep, c) + reasonOf(s.Drop, c)
				if !strings.Contains(r, want) {
					t.Errorf("reason of %s = %q, want %q in it", c, r, want)
				}
			}
		})
	}
}

func TestObservedPSSLevel(t *testing.T) {
	_, in := run(t, podSpec(t, webPort80), "containerd", "", Options{})
	in.Observed = observedOf([]capability.Cap{capability.NET_BIND_SERVICE}, nil)
	s := Suggest(in, Options{Strategy: Observed})
	for _, n := range s.Notes {
		if n.Code == NotePSSLevel && strings.Contains(n.Message, "restricted") {
			return
		}
	}
	t.Errorf("notes %+v lack pss-level restricted", s.Notes)
}

func TestCheckEvidence(t *testing.T) {
	for _, tc := range []struct {
		s                    Strategy
		evidence, allowEmpty bool
		ok                   bool
	}{
		{Observed, true, false, true}, {Observed, true, true, true}, {Catalog, false, false, true},
		{Observed, false, false, false}, {Strict, true, false, false}, {Catalog, false, true, false},
	} {
		if err := CheckEvidence(tc.s, tc.evidence, tc.allowEmpty); (err == nil) != tc.ok {
			t.Errorf("CheckEvidence(%s, %v, %v) = %v", tc.s, tc.evidence, tc.allowEmpty, err)
		}
	}
}
