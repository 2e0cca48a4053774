package runtimes

import (
	"errors"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// Effect codes of an add/drop entry. They are stable: reports and JSON
// output carry them.
const (
	// EffectApplied: the entry changed the container's set.
	EffectApplied = "applied"
	// EffectRedundant: the set would be the same without the entry (adding a
	// capability the container already has, dropping one it does not have,
	// or repeating an earlier entry).
	EffectRedundant = "redundant"
	// EffectOverridden: the opposite list undid the entry (containerd and
	// CRI-O: a drop beats an add of the same name; Docker: an add beats a
	// drop, except that after add ALL the drops win; containerd/CRI-O: drop
	// ALL beats add ALL, Docker: add ALL beats drop ALL).
	EffectOverridden = "overridden"
	// EffectIgnoredPrefixed: containerd turned "CAP_X" into CAP_CAP_X, which
	// names nothing; the add is ignored by runc with a warning, the drop
	// silently.
	EffectIgnoredPrefixed = "ignored-prefixed"
	// EffectIgnoredUnknown: containerd, a name that is no capability: runc
	// ignores an add with a warning, a drop is silently ignored.
	EffectIgnoredUnknown = "ignored-unknown"
	// EffectCreateFailsUnknown: CRI-O and Docker refuse to create a
	// container with a name that is no capability.
	EffectCreateFailsUnknown = "create-fails-unknown"
	// EffectDefaultsReadded: CRI-O without the 2021 fix (before 1.19.5,
	// 1.20.x, 1.21.0; Profile.DropAllReaddsDefaults): drop ALL ran, but the
	// runtime then re-added its defaults.
	EffectDefaultsReadded = "defaults-readded"
	// EffectIgnoredPrivileged: the container is privileged, so the runtime
	// grants every capability and does not apply the entry.
	EffectIgnoredPrivileged = "ignored-privileged"
)

// Applied is a runtime's verdict on one container's add/drop lists.
type Applied struct {
	// Set is the bounding (= permitted = effective-for-root) set. When
	// CreateFails, it is what the container would get once the failing
	// entries were removed; the container as written never runs.
	Set capability.Set
	// Entries has one outcome per entry: add entries first, then drop.
	Entries []EntryOutcome
	// CreateFails: the runtime refuses to create the container (CRI-O and
	// Docker on names that are no capability).
	CreateFails bool
	// AddAll / DropAll: the list holds the ALL keyword in some case.
	AddAll  bool
	DropAll bool
	// Privileged: computed by ApplyPrivileged.
	Privileged bool
}

// EntryOutcome says what one add or drop entry did on this runtime.
type EntryOutcome struct {
	List  string // "add" | "drop"
	Index int
	Raw   string // as written
	// Normalized is the string the runtime produced from Raw before
	// matching it, e.g. "CAP_CAP_NET_RAW" on containerd for "CAP_NET_RAW",
	// or "ALL".
	Normalized string
	// Cap and Known: what the entry resolved to on this runtime; Known is
	// false when it matched nothing.
	Cap   capability.Cap
	Known bool
	// All: the ALL keyword in any case (exactly "ALL" after upper-casing;
	// "CAP_ALL" is not the keyword on any runtime).
	All bool
	// Prefixed: Raw starts with "CAP_" in some case.
	Prefixed bool
	// Intended and IntendedKnown: what the user most likely meant, by
	// capability.Parse (any case, optional CAP_ prefix, blanks trimmed),
	// independent of the runtime. For "CAP_NET_RAW" on containerd Known is
	// false but Intended is NET_RAW.
	Intended      capability.Cap
	IntendedKnown bool
	// Suggestions: closest capability names when Raw names none in any
	// spelling ("ALL" for "CAP_ALL").
	Suggestions []string
	Effect      string
}

// IsAllKeyword reports whether a runtime reads s as the ALL keyword. All
// three runtimes agree: containerd and CRI-O compare with strings.EqualFold,
// Docker upper-cases and compares.
func IsAllKeyword(s string) bool { return strings.EqualFold(s, "ALL") }

// prefixedNames holds "CAP_<name>" for every capability so that the common
// path builds no strings.
var prefixedNames = func() [capability.Count]string {
	var a [capability.Count]string
	for i := range a {
		a[i] = "CAP_" + capability.Cap(i).String()
	}
	return a
}()

// resolve reads one entry the way this runtime's source does.
func (p Profile) resolve(raw string) EntryOutcome {
	e := EntryOutcome{Raw: raw}
	if IsAllKeyword(raw) {
		e.All, e.Normalized = true, "ALL"
		return e
	}
	// strings.ToUpper returns its argument without allocating when there is
	// nothing to change, which is the usual spelling.
	upper := strings.ToUpper(raw)
	e.Prefixed = len(raw) >= 4 && strings.EqualFold(raw[:4], "cap_")
	switch p.Kind {
	case Containerd:
		// internal/cri/opts/spec_opts.go: "CAP_"+strings.ToUpper(c), with no
		// check for an existing prefix; runc then matches exact names.
		e.Cap, e.Known = capability.Lookup(upper)
		if e.Known {
			e.Normalized = prefixedNames[e.Cap]
		} else {
			e.Normalized = "CAP_" + upper
		}
	default:
		// CRI-O toCAPPrefixed: prefix only when strings.ToLower(c) lacks
		// "cap_", then runtime-tools upper-cases and validates. Docker
		// NormalizeLegacyCapabilities: upper-case, prefix when "CAP_" is
		// missing, look up. Both read "CAP_X" and "X" alike.
		name := upper
		if rest, ok := strings.CutPrefix(upper, "CAP_"); ok && (p.Kind == Docker || e.Prefixed) {
			name = rest
		}
		e.Cap, e.Known = capability.Lookup(name)
		if e.Known && p.Kind == Docker && !p.All().Has(e.Cap) {
			// Docker before v23.0.0 has no such name in its list
			// (oci/caps/utils.go NormalizeLegacyCapabilities: "unknown
			// capability"); Intended below still says what was meant.
			e.Known = false
		}
		switch {
		case e.Known:
			e.Normalized = prefixedNames[e.Cap]
		case strings.HasPrefix(upper, "CAP_") && (p.Kind == Docker || e.Prefixed):
			e.Normalized = upper
		default:
			e.Normalized = "CAP_" + upper
		}
	}
	if e.Known && !e.Prefixed {
		e.Intended, e.IntendedKnown = e.Cap, true
		return e
	}
	c, err := capability.Parse(raw)
	if err == nil {
		e.Intended, e.IntendedKnown = c, true
		return e
	}
	rest := strings.TrimSpace(upper)
	for strings.HasPrefix(rest, "CAP_") {
		rest = rest[len("CAP_"):]
	}
	if rest == "ALL" {
		e.Suggestions = []string{"ALL"}
		return e
	}
	var ue *capability.UnknownError
	if errors.As(err, &ue) {
		e.Suggestions = ue.Suggestions
	}
	return e
}

// failsOnUnknown: CRI-O (SpecSetupCapabilities validates adds, runtime-tools
// validates drops) and Docker (validateHostConfig and
// NormalizeLegacyCapabilities) refuse names that are no capability.
func (p Profile) failsOnUnknown() bool { return p.Kind == CRIO || p.Kind == Docker }

// Apply computes a non-privileged container's set from its add and drop
// lists exactly as the runtime does (containerd internal/cri/opts/spec_opts.go
// WithCapabilities, CRI-O SpecSetupCapabilities, moby oci/caps
// TweakCapabilities):
//
//   - containerd and CRI-O: add ALL → every capability; then drop ALL →
//     none; then the individual adds; then the individual drops, so a drop
//     beats an add of the same name. CRI-O starts from its defaults only
//     when neither list holds ALL, containerd always, which comes to the
//     same. CRI-O before 1.18 re-added its defaults after drop ALL
//     (DropAllReaddsDefaults).
//   - Docker: add ALL → every capability minus the drops; else drop ALL →
//     only the adds; else defaults minus drops plus adds, so an add beats a
//     drop.
//
// "Every capability" is Profile.All: 0..40, except on Docker before 23.0.
// Names are normalised as the runtime's source does (see
// EntryOutcome.Normalized).
func (p Profile) Apply(add, drop []string) Applied {
	entries := p.resolveAll(add, drop)
	a := Applied{Entries: entries}
	var addSet, dropSet capability.Set
	for i := range entries {
		e := &entries[i]
		switch {
		case e.All && e.List == "add":
			a.AddAll = true
		case e.All:
			a.DropAll = true
		case e.Known && e.List == "add":
			addSet = addSet.Add(e.Cap)
		case e.Known:
			dropSet = dropSet.Add(e.Cap)
		case p.failsOnUnknown():
			a.CreateFails = true
		}
	}

	defaults := p.Defaults()
	if p.Kind == Docker {
		a.Set = p.dockerSet(a, defaults, addSet, dropSet)
		p.dockerEffects(a, defaults, addSet, dropSet)
		return a
	}
	base := defaults
	if a.AddAll {
		base = p.All()
	}
	if a.DropAll {
		base = 0
	}
	legacy := p.DropAllReaddsDefaults()
	if legacy {
		base |= defaults
	}
	a.Set = (base | addSet) &^ dropSet

	var seenAdd, seenDrop capability.Set
	var seenAddAll, seenDropAll bool
	for i := range entries {
		e := &entries[i]
		add := e.List == "add"
		switch {
		case e.All && add:
			e.Effect = pick(seenAddAll, EffectRedundant, a.DropAll, EffectOverridden, EffectApplied)
			seenAddAll = true
		case e.All:
			e.Effect = pick(seenDropAll, EffectRedundant, legacy, EffectDefaultsReadded, EffectApplied)
			seenDropAll = true
		case !e.Known:
			e.Effect = p.unknownEffect(e)
		case add:
			e.Effect = pick(seenAdd.Has(e.Cap), EffectRedundant, dropSet.Has(e.Cap), EffectOverridden,
				ternary(base.Has(e.Cap), EffectRedundant, EffectApplied))
			seenAdd = seenAdd.Add(e.Cap)
		default:
			e.Effect = pick(seenDrop.Has(e.Cap), EffectRedundant, (base | addSet).Has(e.Cap), EffectApplied, EffectRedundant)
			seenDrop = seenDrop.Add(e.Cap)
		}
	}
	return a
}

// dockerSet is moby TweakCapabilities for a non-privileged container.
func (p Profile) dockerSet(a Applied, defaults, addSet, dropSet capability.Set) capability.Set {
	switch {
	case a.AddAll:
		return p.All() &^ dropSet
	case a.DropAll:
		return addSet
	}
	return defaults&^dropSet | addSet
}

func (p Profile) dockerEffects(a Applied, defaults, addSet, dropSet capability.Set) {
	var seenAdd, seenDrop capability.Set
	var seenAddAll, seenDropAll bool
	for i := range a.Entries {
		e := &a.Entries[i]
		add := e.List == "add"
		switch {
		case e.All && add:
			e.Effect = ternary(seenAddAll, EffectRedundant, EffectApplied)
			seenAddAll = true
			continue
		case e.All:
			e.Effect = pick(seenDropAll, EffectRedundant, a.AddAll, EffectOverridden, EffectApplied)
			seenDropAll = true
			continue
		case !e.Known:
			e.Effect = EffectCreateFailsUnknown
			continue
		case add && seenAdd.Has(e.Cap), !add && seenDrop.Has(e.Cap):
			e.Effect = EffectRedundant
		case add && a.AddAll:
			// The add-ALL branch takes every capability except the drops and
			// never looks at individual adds.
			e.Effect = ternary(dropSet.Has(e.Cap), EffectOverridden, EffectRedundant)
		case add && a.DropAll:
			e.Effect = EffectApplied
		case add:
			e.Effect = ternary(defaults.Has(e.Cap) && !dropSet.Has(e.Cap), EffectRedundant, EffectApplied)
		case a.AddAll:
			e.Effect = EffectApplied
		case a.DropAll:
			e.Effect = ternary(addSet.Has(e.Cap), EffectOverridden, EffectRedundant)
		default:
			e.Effect = pick(addSet.Has(e.Cap), EffectOverridden, defaults.Has(e.Cap), EffectApplied, EffectRedundant)
		}
		if add {
			seenAdd = seenAdd.Add(e.Cap)
		} else {
			seenDrop = seenDrop.Add(e.Cap)
		}
	}
}

func (p Profile) unknownEffect(e *EntryOutcome) string {
	switch {
	case p.failsOnUnknown():
		return EffectCreateFailsUnknown
	case p.Kind == Containerd && strings.HasPrefix(strings.ToUpper(e.Raw), "CAP_"):
		return EffectIgnoredPrefixed
	}
	return EffectIgnoredUnknown
}

// ApplyPrivileged is the runtime's verdict for a privileged container: every
// capability, add and drop not applied. containerd
// applies them and then replaces the result (WithPrivileged), CRI-O does not
// process them at all (SetupPrivileged), Docker returns every capability
// from TweakCapabilities, but its daemon still validates the names when the
// container is created (validateHostConfig), so an unknown name fails there.
func (p Profile) ApplyPrivileged(add, drop []string) Applied {
	a := Applied{Set: p.All(), Entries: p.resolveAll(add, drop), Privileged: true}
	for i := range a.Entries {
		e := &a.Entries[i]
		switch {
		case e.All && e.List == "add":
			a.AddAll = true
		case e.All:
			a.DropAll = true
		}
		e.Effect = EffectIgnoredPrivileged
		if !e.All && !e.Known && p.Kind == Docker {
			e.Effect = EffectCreateFailsUnknown
			a.CreateFails = true
		}
	}
	return a
}

func (p Profile) resolveAll(add, drop []string) []EntryOutcome {
	if len(add)+len(drop) == 0 {
		return nil
	}
	entries := make([]EntryOutcome, 0, len(add)+len(drop))
	for i, raw := range add {
		e := p.resolve(raw)
		e.List, e.Index = "add", i
		entries = append(entries, e)
	}
	for i, raw := range drop {
		e := p.resolve(raw)
		e.List, e.Index = "drop", i
		entries = append(entries, e)
	}
	return entries
}

func ternary(c bool, yes, no string) string {
	if c {
		return yes
	}
	return no
}

// pick returns a if ca, else b if cb, else c.
func pick(ca bool, a string, cb bool, b, c string) string {
	switch {
	case ca:
		return a
	case cb:
		return b
	}
	return c
}
