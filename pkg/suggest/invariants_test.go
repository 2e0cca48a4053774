package suggest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/risk"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
)

const (
	examplesDir = "../../examples"
)

var runtimeNames = []string{"containerd", "cri-o", "cri-o://1.17.3", "cri-o://1.19.0", "docker", "unknown"}

// checkInvariants holds every suggestion to the rules that do not depend
// on the container: the lists are canonical and give exactly the kept set
// on the runtime (the runtime's own reading, runtimes.Apply), nothing is
// added that the container does not hold, Docker's "add wins" cannot undo
// a drop, strict meets PSS restricted whenever the keep list allows, and
// the catalog strategy keeps every capability the manifest adds by name
// (flagged for review when risky) and nothing else the catalog says to
// drop unless the user asked.
func checkInvariants(t *testing.T, what string, in Input, o Options, s Suggestion) {
	t.Helper()
	fail := func(format string, a ...any) { t.Errorf("%s: "+format, append([]any{what}, a...)...) }
	p := in.Profile
	r := in.Result
	if r.Context.Windows {
		if len(s.Drop)+len(s.Keep) > 0 || s.Capabilities != nil {
			fail("a Windows container gets nothing: %+v", s)
		}
		return
	}
	drop, keep := capability.SetOfNames(names(s.Drop)), capability.SetOfNames(names(s.Keep))
	if drop&keep != 0 || drop|keep != s.Held || keep != s.Target {
		fail("drop %v and keep %v must split the held set %v", drop, keep, s.Held)
	}
	if s.Target&^s.Held != 0 {
		fail("keeps %v, which it does not hold", s.Target&^s.Held)
	}
	want := r.Bounding
	if r.Privileged {
		want = capability.All
	}
	if r.CreateFails {
		want = s.Held // the runtime refuses it; the held set is what it would get
	}
	if s.Held != want {
		fail("held %v, engine says %v", s.Held, want)
	}
	if r.Privileged && (len(s.Notes) == 0 || s.Notes[0].Code != NotePrivileged) {
		fail("privileged: the first note must say so: %v", codes(s.Notes))
	}

	lists := Capabilities{Add: r.Added, Drop: r.Dropped}
	if s.Capabilities != nil {
		lists = *s.Capabilities
		for _, l := range [][]string{lists.Add, lists.Drop} {
			if !slices.IsSortedFunc(l, compareNames) || len(slices.Compact(slices.Clone(l))) != len(l) {
				fail("list %q is not sorted or repeats a name", l)
			}
			for _, n := range l {
				if _, ok := capability.Lookup(n); !ok && n != "ALL" {
					fail("%q is not a canonical name", n)
				}
			}
		}
		if slices.Contains(lists.Add, "ALL") {
			fail("add: [ALL] in a suggestion")
		}
		for _, n := range lists.Add {
			if slices.Contains(lists.Drop, n) {
				fail("%s is in add and drop; Docker would let add win", n)
			}
		}
	} else if in.Type != engine.TypeEphemeralContainer && s.Held != s.Target && !r.Privileged {
		fail("drops %v but offers no new lists", s.Held&^s.Target)
	}
	if in.Type != engine.TypeEphemeralContainer && !r.CreateFails {
		got := p.Apply(lists.Add, lists.Drop)
		if got.CreateFails || got.Set != s.Target {
			fail("lists %+v give %v on %s, want %v", lists, got.Set, p.Name(), s.Target)
		}
	}

	cat := catalog.Default()
	switch s.Strategy {
	case Strict:
		if s.Target&^(o.Keep|capability.SetOf(capability.NET_BIND_SERVICE)) != 0 {
			fail("strict keeps %v beyond --keep and NET_BIND_SERVICE", s.Target)
		}
		if in.Type != engine.TypeEphemeralContainer && s.Target&^capability.SetOf(capability.NET_BIND_SERVICE) == 0 && !restricted(&lists) {
			fail("strict lists %+v fail PSS restricted although only %v is kept", lists, s.Target)
		}
	default:
		named := namedAdds(p, r.Added, r.Dropped) & s.Held
		for _, c := range s.Target.Caps() {
			if cat.Get(c).Recommendation == catalog.Drop && !o.Keep.Has(c) && !named.Has(c) {
				fail("keeps %s, which the catalog says to drop and the manifest does not add by name", c)
			}
		}
		// An add by name is the author's statement of need: only an
		// explicit choice (strict, or the manifest's own drop) removes it.
		if gone := named &^ s.Target; gone != 0 {
			fail("drops %v, which the manifest adds by name", gone)
		}
		for _, c := range (named & s.Target).Caps() {
			rk := risk.Of(c, s.Held, r.Context)
			flagged := slices.ContainsFunc(s.Notes, func(n Note) bool {
				return n.Code == NoteReviewExplicitAdd && strings.HasPrefix(n.Message, c.String()+" ")
			})
			if want := !o.Keep.Has(c) && (cat.Get(c).Recommendation == catalog.Drop || risky(rk.Risk, cat.Get(c).Recommendation)); flagged != want {
				fail("%s (risk %s) added by name: review note %v, want %v", c, rk, flagged, want)
			}
		}
	}
}

// namedAdds is what the add list names and the runtime reads (its own
// reading, runtimes.Apply), not ALL and not also named in drop.
func namedAdds(p runtimes.Profile, add, drop []string) capability.Set {
	var named, dropped capability.Set
	for _, e := range p.Apply(add, drop).Entries {
		switch {
		case e.All || !e.Known:
		case e.List == "add":
			named = named.Add(e.Cap)
		default:
			dropped = dropped.Add(e.Cap)
		}
	}
	for _, d := range drop {
		if c, err := capability.Parse(d); err == nil {
			dropped = dropped.Add(c)
		}
	}
	return named &^ dropped
}

// forEachContainer calls fn for every container of every workload in dir.
func forEachContainer(t *testing.T, dir string, fn func(what string, spec *corev1.PodSpec, ref engine.Ref)) {
	t.Helper()
	_, err := manifest.Read(manifest.Options{Filenames: []string{dir}, Recursive: true}, func(w manifest.Workload) error {
		for _, ref := range engine.Containers(w.Spec) {
			fn(fmt.Sprintf("%s %s/%s %s", w.Source, w.Kind, w.Name, ref.Container.Name), w.Spec, ref)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestInvariantsOnExamplesAndCorpus(t *testing.T) {
	keeps := []capability.Set{0, capability.SetOf(capability.NET_RAW, capability.SYS_ADMIN), capability.SetOf(capability.NET_BIND_SERVICE)}
	dirs := []string{examplesDir}
	if corpus, ok := sharedtest.Optional(t, "corpus"); ok {
		dirs = append(dirs, corpus)
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			n := 0
			forEachContainer(t, dir, func(what string, spec *corev1.PodSpec, ref engine.Ref) {
				for _, rt := range runtimeNames {
					p := mustProfile(t, rt)
					res := engine.Evaluate(engine.Input{Pod: spec, Container: ref.Container, Type: ref.Type, Index: ref.Index, Profile: p})
					in := Input{Result: &res, Pod: spec, Container: ref.Container, Type: ref.Type, Profile: p}
					for _, st := range []Strategy{Catalog, Strict} {
						for _, k := range keeps {
							o := Options{Strategy: st, Keep: k}
							checkInvariants(t, fmt.Sprintf("%s on %s, %s, keep %v", what, rt, st, k), in, o, Suggest(in, o))
							n++
						}
					}
				}
			})
			t.Logf("%d suggestions checked", n)
		})
	}
}

// FuzzSuggest feeds arbitrary add/drop strings (the user input a manifest
// carries) through every runtime and strategy.
func FuzzSuggest(f *testing.F) {
	f.Add("NET_ADMIN", "CAP_SYS_ADMIN", "ALL", "net_raw", uint16(0))
	f.Add("all", "", "ALL", "CAP_NET_RAW", uint16(0xffff))
	f.Add("SETUID", "chown", "all", "", uint16(5))
	f.Add("CAP_ALL", "NET_RAWW", "CAP_MKNOD", "SYS_ADMIN", uint16(77))
	f.Add("13", " KILL ", "cap_cap_kill", "BPF", uint16(1234))
	f.Fuzz(func(t *testing.T, a1, a2, d1, d2 string, bits uint16) {
		var add, drop []corev1.Capability
		for _, s := range []string{a1, a2} {
			if s != "" {
				add = append(add, corev1.Capability(s))
			}
		}
		for _, s := range []string{d1, d2} {
			if s != "" {
				drop = append(drop, corev1.Capability(s))
			}
		}
		sc := &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: add, Drop: drop}}
		if bits&1 != 0 {
			sc.Privileged = ptr(true)
		}
		if bits&2 != 0 {
			sc.RunAsUser = ptr(int64(1000))
		} else if bits&4 != 0 {
			sc.RunAsUser = ptr(int64(0))
		}
		c := corev1.Container{Name: "c", SecurityContext: sc}
		if bits&8 != 0 {
			c.Ports = []corev1.ContainerPort{{ContainerPort: 80}}
		}
		spec := &corev1.PodSpec{Containers: []corev1.Container{c}, HostPID: bits&16 != 0, HostNetwork: bits&32 != 0}
		if bits&64 != 0 {
			spec.HostUsers = ptr(false)
		}
		p := mustProfile(t, runtimeNames[int(bits>>7)%len(runtimeNames)])
		st := Catalog
		if bits&(1<<10) != 0 {
			st = Strict
		}
		var keep capability.Set
		if bits&(1<<11) != 0 {
			keep = capability.SetOf(capability.SYS_ADMIN, capability.NET_BIND_SERVICE)
		}
		res := engine.Evaluate(engine.Input{Pod: spec, Container: &spec.Containers[0], Type: engine.TypeContainer, Profile: p})
		in := Input{Result: &res, Pod: spec, Container: &spec.Containers[0], Type: engine.TypeContainer, Profile: p}
		o := Options{Strategy: st, Keep: keep}
		checkInvariants(t, fmt.Sprintf("add %q drop %q bits %b", add, drop, bits), in, o, Suggest(in, o))
	})
}

func ptr[T any](v T) *T { return &v }

// The profile list above must cover every runtime the tool models.
func TestRuntimesCoverProfiles(t *testing.T) {
	seen := map[string]bool{}
	for _, rt := range runtimeNames {
		seen[mustProfile(t, rt).Name()] = true
	}
	for _, p := range runtimes.Known() {
		if !seen[p.Name()] {
			t.Errorf("runtime %s is not exercised", p.Name())
		}
	}
}
