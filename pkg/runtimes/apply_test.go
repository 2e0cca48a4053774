package runtimes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

type applyCase struct {
	name        string
	p           Profile
	add, drop   []string
	want        capability.Set
	effects     []string // one per entry, add entries first
	createFails bool
}

// Every expectation below comes from the runtimes' source (containerd
// internal/cri/opts/spec_opts.go WithCapabilities, CRI-O
// SpecSetupCapabilities, moby oci/caps TweakCapabilities: ALL, precedence,
// prefixes, case and unknown names) and their default lists,
// except the cri-o<1.18 drop-ALL rows, which follow cri-o#4922/#4923: before
// that fix CRI-O appended its defaults to the add list unconditionally ("The
// running pod will include the default configured capabilities +
// NET_BIND_SERVICE when it should just be NET_BIND_SERVICE").
func applyCases() []applyCase {
	all := capability.All
	return []applyCase{
		// containerd
		{name: "containerd/drop ALL add NET_BIND_SERVICE", p: containerd, add: l("NET_BIND_SERVICE"), drop: l("ALL"),
			want: set("NET_BIND_SERVICE"), effects: l(EffectApplied, EffectApplied)},
		{name: "containerd/add ALL drop CHOWN", p: containerd, add: l("ALL"), drop: l("CHOWN"),
			want: all.Minus(set("CHOWN")), effects: l(EffectApplied, EffectApplied)},
		{name: "containerd/add ALL and drop ALL: drop ALL runs second", p: containerd, add: l("ALL", "NET_ADMIN"), drop: l("ALL"),
			want: set("NET_ADMIN"), effects: l(EffectOverridden, EffectApplied, EffectApplied)},
		{name: "containerd/lower-case all drops everything", p: containerd, drop: l("all"),
			want: 0, effects: l(EffectApplied)},
		{name: "containerd/mixed-case All adds everything", p: containerd, add: l("All"),
			want: all, effects: l(EffectApplied)},
		{name: "containerd/CAP_NET_RAW drop drops nothing", p: containerd, drop: l("CAP_NET_RAW"),
			want: factsDocker14, effects: l(EffectIgnoredPrefixed)},
		{name: "containerd/cap_net_raw drop drops nothing", p: containerd, drop: l("cap_net_raw"),
			want: factsDocker14, effects: l(EffectIgnoredPrefixed)},
		{name: "containerd/CAP_SYS_ADMIN add is ignored", p: containerd, add: l("CAP_SYS_ADMIN"),
			want: factsDocker14, effects: l(EffectIgnoredPrefixed)},
		{name: "containerd/CAP_ALL is not the keyword", p: containerd, add: l("CAP_ALL"),
			want: factsDocker14, effects: l(EffectIgnoredPrefixed)},
		{name: "containerd/lower case works", p: containerd, add: l("sys_time"), drop: l("net_raw"),
			want: factsDocker14.Add(capability.SYS_TIME).Remove(capability.NET_RAW), effects: l(EffectApplied, EffectApplied)},
		{name: "containerd/unknown add and drop are ignored", p: containerd, add: l("FOO"), drop: l("BAR"),
			want: factsDocker14, effects: l(EffectIgnoredUnknown, EffectIgnoredUnknown)},
		{name: "containerd/blank is not trimmed", p: containerd, drop: l(" NET_RAW"),
			want: factsDocker14, effects: l(EffectIgnoredUnknown)},
		{name: "containerd/drop wins over add", p: containerd, add: l("SYS_ADMIN", "NET_RAW"), drop: l("SYS_ADMIN", "NET_RAW"),
			want: factsDocker14.Remove(capability.NET_RAW), effects: l(EffectOverridden, EffectOverridden, EffectApplied, EffectApplied)},
		{name: "containerd/redundant and duplicate entries", p: containerd, add: l("CHOWN", "NET_ADMIN", "NET_ADMIN"), drop: l("SYS_ADMIN", "NET_RAW", "net_raw"),
			want:    factsDocker14.Add(capability.NET_ADMIN).Remove(capability.NET_RAW),
			effects: l(EffectRedundant, EffectApplied, EffectRedundant, EffectRedundant, EffectApplied, EffectRedundant)},
		{name: "containerd/restricted-style drop ALL only", p: containerd, drop: l("ALL"),
			want: 0, effects: l(EffectApplied)},
		{name: "containerd/drop ALL then add ALL", p: containerd, add: l("ALL"), drop: l("ALL"),
			want: 0, effects: l(EffectOverridden, EffectApplied)},

		// cri-o (current)
		{name: "cri-o/drop ALL add NET_BIND_SERVICE", p: crio, add: l("NET_BIND_SERVICE"), drop: l("ALL"),
			want: set("NET_BIND_SERVICE"), effects: l(EffectApplied, EffectApplied)},
		{name: "cri-o/add ALL drop CHOWN", p: crio, add: l("ALL"), drop: l("CHOWN"),
			want: all.Minus(set("CHOWN")), effects: l(EffectApplied, EffectApplied)},
		{name: "cri-o/add ALL and drop ALL leave the individual adds", p: crio, add: l("ALL", "NET_BIND_SERVICE"), drop: l("ALL"),
			want: set("NET_BIND_SERVICE"), effects: l(EffectOverridden, EffectApplied, EffectApplied)},
		// CRI-O's own test fixture adds "sys_admin" and ctr.bats expects
		// 0x2005fb (bit numbers from include/uapi/linux/capability.h).
		{name: "cri-o/sys_admin as in container_redis.json", p: crio, add: l("sys_admin"),
			want: factsCRIO9.Add(capability.SYS_ADMIN), effects: l(EffectApplied)},
		{name: "cri-o/CAP_ prefix accepted in add", p: crio, add: l("CAP_SYS_ADMIN", "cap_net_raw", "Cap_Sys_Time"),
			want: factsCRIO9.Union(set("SYS_ADMIN", "NET_RAW", "SYS_TIME")), effects: l(EffectApplied, EffectApplied, EffectApplied)},
		{name: "cri-o/CAP_ prefix accepted in drop", p: crio, drop: l("CAP_KILL", "cap_chown"),
			want: factsCRIO9.Minus(set("KILL", "CHOWN")), effects: l(EffectApplied, EffectApplied)},
		{name: "cri-o/NET_RAW is not a default", p: crio, drop: l("NET_RAW"),
			want: factsCRIO9, effects: l(EffectRedundant)},
		{name: "cri-o/drop wins over add", p: crio, add: l("NET_RAW"), drop: l("NET_RAW"),
			want: factsCRIO9, effects: l(EffectOverridden, EffectApplied)},
		{name: "cri-o/unknown add fails creation", p: crio, add: l("FOO"),
			want: factsCRIO9, effects: l(EffectCreateFailsUnknown), createFails: true},
		{name: "cri-o/unknown drop fails creation", p: crio, add: l("NET_ADMIN"), drop: l("NET_RAWW"),
			want: factsCRIO9.Add(capability.NET_ADMIN), effects: l(EffectApplied, EffectCreateFailsUnknown), createFails: true},
		{name: "cri-o/CAP_ALL fails creation", p: crio, drop: l("CAP_ALL"),
			want: factsCRIO9, effects: l(EffectCreateFailsUnknown), createFails: true},
		{name: "cri-o/doubled prefix fails creation", p: crio, add: l("CAP_CAP_NET_RAW"),
			want: factsCRIO9, effects: l(EffectCreateFailsUnknown), createFails: true},
		{name: "cri-o/1.21 patch release assumed fixed", p: Profile{Kind: CRIO, Version: "1.21.6"}, drop: l("ALL"),
			want: 0, effects: l(EffectApplied)},

		// cri-o<1.18
		{name: "cri-o<1.18/defaults come back after drop ALL", p: crio117, add: l("NET_BIND_SERVICE"), drop: l("ALL"),
			want: factsCRIO11, effects: l(EffectRedundant, EffectDefaultsReadded)},
		{name: "cri-o<1.18/individual drops still work", p: crio117, drop: l("ALL", "NET_RAW", "SYS_CHROOT"),
			want: factsCRIO9, effects: l(EffectDefaultsReadded, EffectApplied, EffectApplied)},
		{name: "cri-o<1.18/add ALL and drop ALL", p: crio117, add: l("ALL", "NET_ADMIN"), drop: l("ALL"),
			want: factsCRIO11.Add(capability.NET_ADMIN), effects: l(EffectOverridden, EffectApplied, EffectDefaultsReadded)},
		{name: "cri-o<1.18/add ALL drop CHOWN", p: crio117, add: l("ALL"), drop: l("CHOWN"),
			want: all.Minus(set("CHOWN")), effects: l(EffectApplied, EffectApplied)},
		{name: "cri-o<1.18/NET_RAW is a default", p: crio117, drop: l("NET_RAW"),
			want: factsCRIO9.Add(capability.SYS_CHROOT), effects: l(EffectApplied)},
		{name: "cri-o<1.18/unknown fails creation", p: crio117, add: l("CAP_FOO"),
			want: factsCRIO11, effects: l(EffectCreateFailsUnknown), createFails: true},

		// docker (cri-dockerd)
		{name: "docker/drop ALL add NET_BIND_SERVICE", p: docker, add: l("NET_BIND_SERVICE"), drop: l("ALL"),
			want: set("NET_BIND_SERVICE"), effects: l(EffectApplied, EffectApplied)},
		{name: "docker/add ALL drop CHOWN", p: docker, add: l("ALL"), drop: l("CHOWN"),
			want: all.Minus(set("CHOWN")), effects: l(EffectApplied, EffectApplied)},
		{name: "docker/add ALL beats drop ALL", p: docker, add: l("ALL"), drop: l("ALL"),
			want: all, effects: l(EffectApplied, EffectOverridden)},
		{name: "docker/add wins over drop", p: docker, add: l("SYS_ADMIN", "NET_RAW"), drop: l("SYS_ADMIN", "NET_RAW", "MKNOD"),
			want:    factsDocker14.Add(capability.SYS_ADMIN).Remove(capability.MKNOD),
			effects: l(EffectApplied, EffectApplied, EffectOverridden, EffectOverridden, EffectApplied)},
		{name: "docker/after add ALL the drops win", p: docker, add: l("ALL", "NET_RAW"), drop: l("NET_RAW"),
			want: all.Remove(capability.NET_RAW), effects: l(EffectApplied, EffectOverridden, EffectApplied)},
		{name: "docker/drop ALL keeps only the adds", p: docker, add: l("NET_RAW", "CHOWN"), drop: l("ALL", "NET_RAW", "KILL"),
			want: set("NET_RAW", "CHOWN"), effects: l(EffectApplied, EffectApplied, EffectApplied, EffectOverridden, EffectRedundant)},
		{name: "docker/CAP_ prefix and any case accepted", p: docker, add: l("cap_sys_time"), drop: l("CAP_NET_RAW", "mknod"),
			want: factsDocker14.Add(capability.SYS_TIME).Minus(set("NET_RAW", "MKNOD")), effects: l(EffectApplied, EffectApplied, EffectApplied)},
		{name: "docker/lower-case all", p: docker, add: l("all"),
			want: all, effects: l(EffectApplied)},
		{name: "docker/unknown fails creation", p: docker, add: l("SYS_ADMIN"), drop: l("NET_RAWW"),
			want: factsDocker14.Add(capability.SYS_ADMIN), effects: l(EffectApplied, EffectCreateFailsUnknown), createFails: true},
		{name: "docker/CAP_ALL fails creation", p: docker, add: l("CAP_ALL"),
			want: factsDocker14, effects: l(EffectCreateFailsUnknown), createFails: true},
		{name: "docker/redundant entries", p: docker, add: l("CHOWN", "CHOWN"), drop: l("SYS_ADMIN"),
			want: factsDocker14, effects: l(EffectRedundant, EffectRedundant, EffectRedundant)},
	}
}

func l(s ...string) []string { return s }

func TestApply(t *testing.T) {
	for _, tt := range applyCases() {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.p.Apply(tt.add, tt.drop)
			if a.Set != tt.want {
				t.Errorf("Set = %v, want %v", a.Set, tt.want)
			}
			if a.CreateFails != tt.createFails {
				t.Errorf("CreateFails = %v, want %v", a.CreateFails, tt.createFails)
			}
			var effects []string
			for _, e := range a.Entries {
				effects = append(effects, e.Effect)
			}
			if diff := cmp.Diff(tt.effects, effects); diff != "" {
				t.Errorf("effects (-want +got):\n%s", diff)
			}
			if a.Privileged {
				t.Error("Privileged set by Apply")
			}
		})
	}
}

func TestEntryOutcome(t *testing.T) {
	tests := []struct {
		p    Profile
		raw  string
		want EntryOutcome
	}{
		{containerd, "NET_RAW", EntryOutcome{Raw: "NET_RAW", Normalized: "CAP_NET_RAW", Cap: capability.NET_RAW, Known: true, Intended: capability.NET_RAW, IntendedKnown: true}},
		{containerd, "net_raw", EntryOutcome{Raw: "net_raw", Normalized: "CAP_NET_RAW", Cap: capability.NET_RAW, Known: true, Intended: capability.NET_RAW, IntendedKnown: true}},
		{containerd, "CAP_NET_RAW", EntryOutcome{Raw: "CAP_NET_RAW", Normalized: "CAP_CAP_NET_RAW", Prefixed: true, Intended: capability.NET_RAW, IntendedKnown: true}},
		{containerd, "all", EntryOutcome{Raw: "all", Normalized: "ALL", All: true}},
		{containerd, "CAP_ALL", EntryOutcome{Raw: "CAP_ALL", Normalized: "CAP_CAP_ALL", Prefixed: true, Suggestions: []string{"ALL"}}},
		{containerd, "NET_RAWW", EntryOutcome{Raw: "NET_RAWW", Normalized: "CAP_NET_RAWW", Suggestions: []string{"NET_RAW"}}},
		{crio, "cap_sys_admin", EntryOutcome{Raw: "cap_sys_admin", Normalized: "CAP_SYS_ADMIN", Cap: capability.SYS_ADMIN, Known: true, Prefixed: true, Intended: capability.SYS_ADMIN, IntendedKnown: true}},
		{crio, "CAP_CAP_NET_RAW", EntryOutcome{Raw: "CAP_CAP_NET_RAW", Normalized: "CAP_CAP_NET_RAW", Prefixed: true, Suggestions: []string{"NET_RAW"}}},
		{crio, "foo", EntryOutcome{Raw: "foo", Normalized: "CAP_FOO"}},
		{crio, " NET_RAW", EntryOutcome{Raw: " NET_RAW", Normalized: "CAP_ NET_RAW", Intended: capability.NET_RAW, IntendedKnown: true}},
		{docker, "Cap_Chown", EntryOutcome{Raw: "Cap_Chown", Normalized: "CAP_CHOWN", Cap: capability.CHOWN, Known: true, Prefixed: true, Intended: capability.CHOWN, IntendedKnown: true}},
		{docker, "cap_foo", EntryOutcome{Raw: "cap_foo", Normalized: "CAP_FOO", Prefixed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.p.Name()+"/"+tt.raw, func(t *testing.T) {
			a := tt.p.Apply(nil, []string{tt.raw})
			got := a.Entries[0]
			tt.want.List, tt.want.Index = "drop", 0
			got.Effect = ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyPrivileged(t *testing.T) {
	tests := []struct {
		p           Profile
		add, drop   []string
		createFails bool
		effects     []string
	}{
		{containerd, l("SYS_ADMIN", "FOO"), l("ALL"), false, l(EffectIgnoredPrivileged, EffectIgnoredPrivileged, EffectIgnoredPrivileged)},
		// CRI-O does not process add/drop at all for privileged containers.
		{crio, l("FOO"), l("CAP_BAR"), false, l(EffectIgnoredPrivileged, EffectIgnoredPrivileged)},
		{crio117, nil, l("ALL"), false, l(EffectIgnoredPrivileged)},
		// Docker's daemon validates names before it looks at privileged.
		{docker, l("NET_ADMIN", "FOO"), nil, true, l(EffectIgnoredPrivileged, EffectCreateFailsUnknown)},
		{docker, nil, nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v/%v", tt.p.Name(), tt.add, tt.drop), func(t *testing.T) {
			a := tt.p.ApplyPrivileged(tt.add, tt.drop)
			if a.Set != capability.All || !a.Privileged || a.CreateFails != tt.createFails {
				t.Errorf("ApplyPrivileged = set %v privileged %v createFails %v", a.Set, a.Privileged, a.CreateFails)
			}
			var effects []string
			for _, e := range a.Entries {
				effects = append(effects, e.Effect)
			}
			if diff := cmp.Diff(tt.effects, effects); diff != "" {
				t.Errorf("effects (-want +got):\n%s", diff)
			}
		})
	}
}

// The unknown runtime has no defaults and never fails; it only shows the
// spec's delta (docs/engine.md, "Which runtime").
func TestApplyUnknownRuntime(t *testing.T) {
	a := Profile{}.Apply(l("NET_ADMIN", "CAP_SYS_TIME", "FOO"), l("NET_RAW"))
	if a.Set != set("NET_ADMIN", "SYS_TIME") || a.CreateFails {
		t.Errorf("Apply = %v createFails %v", a.Set, a.CreateFails)
	}
}

// Literal transcriptions of the runtimes' normalisation, for the fuzzer to
// hold the optimised resolve against.
func containerdSource(c string) (all bool, name string) {
	if strings.ToUpper(c) == "ALL" {
		return true, ""
	}
	return false, "CAP_" + strings.ToUpper(c)
}

func crioSource(c string) (all bool, name string) {
	if strings.EqualFold(c, "ALL") {
		return true, ""
	}
	if !strings.HasPrefix(strings.ToLower(c), "cap_") {
		return false, "CAP_" + strings.ToUpper(c)
	}
	return false, strings.ToUpper(c) // runtime-tools upper-cases before validating
}

func dockerSource(c string) (all bool, name string) {
	c = strings.ToUpper(c)
	if c == "ALL" {
		return true, ""
	}
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	return false, c
}

func FuzzApply(f *testing.F) {
	for _, s := range []string{"ALL", "all", "NET_RAW", "cap_net_raw", "CAP_CAP_NET_RAW", "CAP_ALL", "", " ", "ſys_admin", "\u212Aill", "cap_\u212Aill", "ALL\x00", "13"} {
		f.Add(s, "NET_RAW", "ALL")
	}
	sources := map[Kind]func(string) (bool, string){Containerd: containerdSource, CRIO: crioSource, Docker: dockerSource}
	valid := map[string]bool{EffectApplied: true, EffectRedundant: true, EffectOverridden: true, EffectIgnoredPrefixed: true,
		EffectIgnoredUnknown: true, EffectCreateFailsUnknown: true, EffectDefaultsReadded: true}
	f.Fuzz(func(t *testing.T, a1, a2, d1 string) {
		add, drop := []string{a1, a2}, []string{d1, a1}
		for _, p := range append(Known(), Profile{}) {
			a := p.Apply(add, drop)
			if len(a.Entries) != 4 || a.Set&^capability.All != 0 {
				t.Fatalf("%s: Apply(%q, %q) = %+v", p.Name(), add, drop, a)
			}
			if a.CreateFails && !p.failsOnUnknown() {
				t.Fatalf("%s: CreateFails on a runtime that ignores unknown names", p.Name())
			}
			for _, e := range a.Entries {
				if !valid[e.Effect] {
					t.Fatalf("%s: entry %+v has effect %q", p.Name(), e, e.Effect)
				}
				if e.Known && e.All {
					t.Fatalf("%s: entry %+v both ALL and a capability", p.Name(), e)
				}
				if src := sources[p.Kind]; src != nil {
					all, name := src(e.Raw)
					c, known := capability.Cap(0), false
					if n, ok := strings.CutPrefix(name, "CAP_"); ok {
						c, known = capability.Lookup(n)
					}
					if all != e.All || known != e.Known || (known && c != e.Cap) {
						t.Fatalf("%s: %q resolved to %+v; runtime source gives all=%v name=%q", p.Name(), e.Raw, e, all, name)
					}
					if !all && name != e.Normalized {
						t.Fatalf("%s: %q normalized to %q; runtime source gives %q", p.Name(), e.Raw, e.Normalized, name)
					}
				}
			}
			pa := p.ApplyPrivileged(add, drop)
			if pa.Set != capability.All || len(pa.Entries) != 4 {
				t.Fatalf("%s: ApplyPrivileged = %+v", p.Name(), pa)
			}
		}
	})
}

func BenchmarkApply(b *testing.B) {
	add, drop := []string{"NET_BIND_SERVICE"}, []string{"ALL"}
	for b.Loop() {
		_ = containerd.Apply(add, drop)
	}
}
