package suggest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// classes sorts a container's add/drop entries by what the author meant
// and what the runtime made of them.
type classes struct {
	// addNamed, dropNamed: what the entries name in any spelling
	// capability.Parse accepts (ALL and unknown names excluded). They are
	// the author's intent, whatever the runtime did with the string.
	addNamed, dropNamed capability.Set
	// addKnown: what the runtime itself read from the add entries.
	addKnown capability.Set
	entries  []runtimes.EntryOutcome
}

func classify(entries []runtimes.EntryOutcome) classes {
	c := classes{entries: entries}
	for i := range entries {
		e := &entries[i]
		if e.All {
			continue
		}
		if e.List == "add" {
			if e.IntendedKnown {
				c.addNamed = c.addNamed.Add(e.Intended)
			}
			if e.Known {
				c.addKnown = c.addKnown.Add(e.Cap)
			}
		} else if e.IntendedKnown {
			c.dropNamed = c.dropNamed.Add(e.Intended)
		}
	}
	return c
}

// intendedWhy says why a capability the manifest drops is still held.
func (c classes) intendedWhy(cp capability.Cap, p runtimes.Profile, lists runtimes.Applied) string {
	for i := range c.entries {
		e := &c.entries[i]
		if e.List != "drop" || e.All || !e.IntendedKnown || e.Intended != cp {
			continue
		}
		switch e.Effect {
		case runtimes.EffectIgnoredPrefixed:
			return fmt.Sprintf("the manifest drops it as %q, which drops nothing on containerd", e.Raw)
		case runtimes.EffectOverridden:
			return "in both add and drop: Docker (cri-dockerd) lets add win, so it is held; containerd and CRI-O let drop win"
		}
	}
	if lists.DropAll {
		switch {
		case p.DropAllReaddsDefaults():
			return "drop: [ALL] leaves it: cri-o " + p.Version + " re-adds its defaults after drop ALL (cri-o#4922; fixed in v1.19.5, v1.21.1 and v1.22.0)"
		case lists.AddAll && p.Kind == runtimes.Docker:
			return "drop: [ALL] leaves it: on Docker (cri-dockerd) add: [ALL] wins over drop: [ALL]"
		}
	}
	return fmt.Sprintf("the manifest drops it, but on %s it stays", p.Name())
}

// buildLists writes capabilities add/drop lists that give exactly target
// on runtime p, in canonical spelling (no CAP_, "ALL" in upper case, because
// PSA compares exact strings: docs/sources.md#pod-security-standards):
//
//   - drop-ALL form (strict, or the manifest already drops ALL):
//     drop: [ALL], add: target. Exact on every runtime. CRI-O before the
//     drop-ALL fix re-adds its defaults, so there the defaults that are not
//     kept are named in drop as well.
//   - relative form (catalog, manifest without drop ALL): the runtime's
//     defaults stay; add keeps the author's adds that stay plus what is not
//     a default, drop names every default that goes plus the author's own
//     drops. A minimal change to what the author wrote.
//
// add and drop never share a name, so Docker's "add wins" cannot undo a
// drop. The result is checked against the runtime's own reading
// (Profile.Apply); if the relative form ever misses, the drop-ALL form,
// which is exact everywhere, is used instead.
func buildLists(p runtimes.Profile, lists runtimes.Applied, target capability.Set, c classes, strict bool) Capabilities {
	dropAll := strict || lists.DropAll
	for {
		var caps Capabilities
		if dropAll {
			drop := capability.Set(0)
			if !strict {
				drop = c.dropNamed &^ target
			}
			if p.DropAllReaddsDefaults() || p.DropAllMayReaddDefaults() {
				drop |= p.Defaults() &^ target
			}
			caps = Capabilities{Add: target.Names(), Drop: append([]string{"ALL"}, drop.Names()...)}
		} else {
			// Only what would be there without a drop needs naming:
			// the defaults and the new adds (an add: [ALL] is gone).
			add := c.addNamed&target | target&^p.Defaults()
			drop := (p.Defaults()|add)&^target | c.dropNamed&^target
			caps = Capabilities{Add: add.Names(), Drop: drop.Names()}
		}
		if len(caps.Add) == 0 {
			caps.Add = nil
		}
		if len(caps.Drop) == 0 {
			caps.Drop = nil
		}
		if got := p.Apply(caps.Add, caps.Drop); dropAll || (got.Set == target && !got.CreateFails) {
			return caps
		}
		dropAll = true
	}
}

// sameList reports whether a list as written already is the canonical
// list want: the same strings, in any order, each once.
func sameList(raw, want []string) bool {
	if len(raw) != len(want) {
		return false
	}
	got := slices.Clone(raw)
	slices.SortFunc(got, compareNames)
	return slices.Equal(got, want)
}

// compareNames orders "ALL" first, then by name: the order of the new lists.
func compareNames(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "ALL":
		return -1
	case b == "ALL":
		return 1
	}
	return strings.Compare(a, b)
}
