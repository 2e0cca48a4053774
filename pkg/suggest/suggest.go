// Package suggest turns the engine's verdict on one container into a drop
// suggestion: which of the capabilities it holds to drop and which to keep,
// each with its reason, notes on what else must change, and the new
// securityContext.capabilities lists that implement it on the container's
// runtime. It is pure: values in, values out, no I/O.
//
// The rules are those of docs/suggest-drop.md, with their sources in
// docs/sources.md; this file is their one implementation.
package suggest

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/evidence"
	"github.com/kubectl-caps/kubectl-caps/pkg/risk"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// Strategy decides how much a suggestion keeps.
type Strategy string

const (
	// Catalog drops what the catalog says to drop of what the runtime
	// grants by default, and keeps the rest, including every capability
	// the spec adds by name: an explicit add is the author's statement of
	// need, kept and flagged for review when risky (NoteReviewExplicitAdd).
	// add: [ALL] names nothing, so what it grants is judged as before:
	// catalog drops and risky capabilities go.
	Catalog Strategy = "catalog"
	// Strict drops ALL and adds back only what the container needs: --keep
	// and NET_BIND_SERVICE for a root process that declares a port below
	// 1024. Its notes say which explicit adds it removes and what a root
	// entrypoint loses.
	Strict Strategy = "strict"
	// Observed drops ALL and adds back what Inspektor Gadget's traces
	// show the container used (and --keep): observed.go.
	Observed Strategy = "observed"
)

// ParseStrategy reads a --strategy value.
func ParseStrategy(s string) (Strategy, error) {
	switch Strategy(strings.ToLower(strings.TrimSpace(s))) {
	case Catalog:
		return Catalog, nil
	case Strict:
		return Strict, nil
	case Observed:
		return Observed, nil
	}
	return "", fmt.Errorf("unknown strategy %q; use catalog, strict or observed", s)
}

// Options are the user's choices; the zero value is the catalog strategy.
type Options struct {
	Strategy Strategy
	// Keep are capabilities the user forces into the keep list (--keep).
	// They are kept when the container holds them; a suggestion never adds
	// a capability the container does not hold now.
	Keep capability.Set
	// Rules are the per-container --keep rules; ForTarget, ForPods and
	// ForTemplate add the caps of those that select a container to Keep
	// (KeepFor). Suggest itself reads only Keep.
	Rules []KeepRule
	// Evidence is the traces' result for the observed strategy
	// (--evidence); AllowEmptyEvidence lets it drop everything but Keep
	// from a container the traces never saw.
	Evidence           *evidence.Result
	AllowEmptyEvidence bool
}

// Input is one container as the engine saw it.
type Input struct {
	// Result is the engine's verdict; required.
	Result *engine.Result
	// Pod is the pod spec (for its sysctls); may be nil.
	Pod *corev1.PodSpec
	// Container is the container spec (for its ports); may be nil, e.g.
	// for an ephemeral container known only from a rolled-up pod.
	Container *corev1.Container
	Type      engine.ContainerType
	// Profile is the runtime the result was computed for; its version
	// decides CRI-O's drop: [ALL] behaviour, which the result's stable name
	// does not carry.
	Profile runtimes.Profile
	// Observed is what the traces saw of the container (the observed
	// strategy); nil when they saw nothing.
	Observed *evidence.Container
}

// Entry is one capability of a drop or keep list, with why.
type Entry struct {
	Capability string `json:"capability"`
	// Risk is the catalog's risk, raised by the pod's context where the
	// catalog says so (e.g. KILL with hostPID).
	Risk   string `json:"risk"`
	Reason string `json:"reason"`
}

// Note says what else the user should know or change. Code is stable.
type Note struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Capabilities is a new securityContext.capabilities: canonical names
// (upper case, no CAP_ prefix, "ALL" in upper case), sorted, "ALL" first.
type Capabilities struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

// Suggestion is the verdict for one container.
type Suggestion struct {
	Strategy Strategy
	// Drop are the capabilities the container holds now (its bounding set;
	// every capability when privileged) and should not; Keep are those it
	// holds after the change. Both sorted by name.
	Drop  []Entry
	Keep  []Entry
	Notes []Note
	// Capabilities is the new securityContext.capabilities; nil when the
	// lists as written already implement the suggestion, and for
	// containers that cannot be changed (ephemeral, Windows).
	Capabilities *Capabilities
	// Unchanged: the container has nothing to drop and its lists need no
	// rewriting.
	Unchanged bool

	// Held, Target: the sets behind Drop and Keep.
	Held   capability.Set
	Target capability.Set
}

// Note codes.
const (
	NotePrivileged         = "privileged"
	NoteEphemeral          = "ephemeral"
	NoteWindows            = "windows"
	NoteCreateFails        = "create-fails"
	NoteKubeletRefusesRoot = "kubelet-refuses-root"
	NoteCapPrefix          = "cap-prefix"
	NoteNonCanonical       = "non-canonical"
	NoteUnknownName        = "unknown-name"
	NoteAddAndDrop         = "add-and-drop"
	NoteCRIODropAll        = "crio-drop-all"
	NoteFileCaps           = "file-caps-eperm"
	NotePortSysctl         = "sysctl-unprivileged-port"
	NotePingSysctl         = "sysctl-ping"
	NoteNonRootLowPort     = "nonroot-low-port"
	NoteKeepNotHeld        = "keep-not-held"
	NoteAmplified          = "amplified"
	NotePSSRestricted      = "pss-restricted"
	NoteUnknownRuntime     = "unknown-runtime"
	NoteImmutable          = "immutable"
	NoteNotInTemplate      = "not-in-template"
	NoteUnknownWorkload    = "unknown-workload"
	NoteNoTemplate         = "no-template"
	// NoteReviewExplicitAdd: the catalog strategy keeps a risky capability
	// because the manifest adds it by name.
	NoteReviewExplicitAdd = "review-explicit-add"
	// NoteStrictDropsExplicitAdd: strict removes capabilities the manifest
	// adds by name.
	NoteStrictDropsExplicitAdd = "strict-drops-explicit-add"
	// NoteStrictRootSetup: strict removes, from a container that runs (or
	// may run) as root, the capabilities entrypoints use to chown files and
	// switch to a service user.
	NoteStrictRootSetup = "strict-root-setup"
)

// rootSetup are the capabilities a root entrypoint uses to prepare its
// files and switch to its service user: chown (CHOWN), chmod of files it
// does not own (FOWNER), writing where only the owner may (DAC_OVERRIDE),
// setgid/initgroups/setuid (SETGID, SETUID).
var rootSetup = capability.SetOf(capability.CHOWN, capability.DAC_OVERRIDE, capability.FOWNER, capability.SETGID, capability.SETUID)

// portSysctl is the sysctl that lowers the privileged port range
// (a PSS-safe sysctl: docs/sources.md#unprivileged-sysctls).
const portSysctl = "net.ipv4.ip_unprivileged_port_start"

// Suggest computes the suggestion for one container.
//
// Sets, for a container whose lists the runtime applied as L and which
// holds H now (H = L, or every capability when privileged):
//
//	Needs    = --keep ∪ {NET_BIND_SERVICE if root/unknown and a port < 1024}
//	           (minus what the manifest itself drops)
//	Named    = what the add list names and the runtime reads, not also dropped
//	catalog: Target = (L − (catalog drops − Named) − risky add: [ALL] grants − intended drops) ∪ (Needs ∩ H)
//	strict:  Target = Needs ∩ H
//	Drop    = H − Target, Keep = Target
//
// docs/suggest-drop.md explains each rule with its source.
func Suggest(in Input, o Options) Suggestion {
	cat := catalog.Default()
	strategy := o.Strategy
	if strategy == "" {
		strategy = Catalog
	}
	r := in.Result
	s := Suggestion{Strategy: strategy, Drop: []Entry{}, Keep: []Entry{}, Notes: []Note{}}
	if r.Context.Windows {
		s.Notes = append(s.Notes, Note{NoteWindows, "Windows pod (spec.os.name: windows): Linux capabilities do not apply, so there is nothing to drop."})
		s.Unchanged = true
		return s
	}
	add, drop := r.Added, r.Dropped
	p := in.Profile
	// L: what the lists give on this runtime without privileged, with any
	// entry that makes the runtime refuse the container left out (the new
	// lists leave it out too).
	lists := p.Apply(add, drop)
	L := lists.Set
	H := L
	if r.Privileged {
		H = p.All()
	}

	c := classify(lists.Entries)
	ctx := r.Context
	riskOf := func(cp capability.Cap) risk.Assessment { return risk.Of(cp, H, ctx) }

	// What the container needs, and what the manifest asked to be gone.
	intendedDrop := c.dropNamed
	if lists.DropAll {
		intendedDrop |= capability.All &^ c.addNamed
	}
	port, portOK := lowPort(in.Container, in.Pod, ctx.HostNetwork)
	rootish := r.User.Kind != engine.UserNonRoot
	portNeed := capability.Set(0)
	if portOK && rootish {
		portNeed = capability.SetOf(capability.NET_BIND_SERVICE) &^ intendedDrop
	}
	needs := (o.Keep | portNeed) & H

	// The drop rules, over what the lists give. named: what the add list
	// names, the author's statement of need, which the catalog strategy
	// keeps (a name also in drop is left to the add-and-drop rule).
	// explicit: what the spec adds at all, add: [ALL] included.
	named := c.addKnown & L &^ c.dropNamed
	explicit := c.addKnown & L
	if lists.AddAll {
		explicit = L
	}
	var catalogDrop, riskyAll, review capability.Set
	for _, cp := range L.Caps() {
		e := cat.Get(cp)
		isRisky := e.Recommendation == catalog.Drop || risky(riskOf(cp).Risk, e.Recommendation)
		switch {
		case named.Has(cp):
			if isRisky {
				review = review.Add(cp)
			}
		case e.Recommendation == catalog.Drop:
			catalogDrop = catalogDrop.Add(cp)
		case lists.AddAll && isRisky:
			// add: [ALL] is no statement of need for each capability.
			riskyAll = riskyAll.Add(cp)
		}
	}
	var target capability.Set
	var obs observation
	switch strategy {
	case Strict:
		target = needs
	case Observed:
		obs = observe(in.Observed, H, o)
		target = obs.target(needs, H)
	default:
		target = L&^catalogDrop&^riskyAll&^intendedDrop | needs
	}
	s.Held, s.Target = H, target

	for _, cp := range (H &^ target).Caps() {
		rk := riskOf(cp)
		e := cat.Get(cp)
		var why string
		switch {
		case !L.Has(cp):
			why = "held only because of privileged: true"
		case strategy == Observed:
			why = obs.dropWhy(cp, rk.Risk)
		case intendedDrop.Has(cp):
			why = c.intendedWhy(cp, p, lists)
		case strategy == Strict && named.Has(cp):
			why = fmt.Sprintf("strict: not in the keep list, though the manifest adds it (catalog: %s, risk %s)", e.Recommendation, rk)
		case strategy == Strict:
			why = fmt.Sprintf("strict: not in the keep list (catalog: %s, risk %s)", e.Recommendation, rk)
		case catalogDrop.Has(cp):
			why = fmt.Sprintf("catalog: %s (risk %s)", e.Recommendation, rk)
		default:
			why = fmt.Sprintf("granted by add: [ALL], and risky: risk %s, catalog: %s; add it by name, or keep it with --keep=%s, if the workload needs it", rk, e.Recommendation, cp)
		}
		if r.Inert.Has(cp) || ctx.UserNamespace && cat.InertInUserNamespace().Has(cp) {
			why += "; inert in this pod's user namespace anyway"
		}
		s.Drop = append(s.Drop, Entry{Capability: cp.String(), Risk: string(rk.Risk), Reason: why})
	}
	for _, cp := range target.Caps() {
		rk := riskOf(cp)
		e := cat.Get(cp)
		var why string
		switch {
		case strategy == Observed && obs.keeps(cp):
			why = obs.keepWhy(cp, rk.Risk)
		case o.Keep.Has(cp):
			why = "named in --keep"
		case portNeed.Has(cp):
			who := "runs as root"
			if r.User.Kind == engine.UserUnknown {
				who = "may run as root (the image's USER decides; audited as root)"
			}
			why = fmt.Sprintf("%s and declares containerPort %d (< 1024)", who, port)
		case review.Has(cp):
			why = fmt.Sprintf("added by name in the manifest, so kept (catalog: %s, risk %s): review it", e.Recommendation, rk)
			if r.Inert.Has(cp) || ctx.UserNamespace && cat.InertInUserNamespace().Has(cp) {
				why += "; inert in this pod's user namespace anyway"
			}
		case e.Recommendation == catalog.Review:
			why = fmt.Sprintf("catalog: review (risk %s); kept, drop it if the workload does not need it", rk)
		default:
			why = fmt.Sprintf("catalog: %s (risk %s)", e.Recommendation, rk)
		}
		s.Keep = append(s.Keep, Entry{Capability: cp.String(), Risk: string(rk.Risk), Reason: why})
	}
	sortEntries(s.Drop)
	sortEntries(s.Keep)

	caps := buildLists(p, lists, target, c, strategy == Strict || strategy == Observed)
	changed := !sameList(add, caps.Add) || !sameList(drop, caps.Drop)
	if obs.keepAll {
		// No evidence: the lists stay as they are.
		changed = false
	}
	s.Unchanged = H == target && !changed
	if in.Type == engine.TypeEphemeralContainer {
		s.Notes = append(s.Notes, Note{NoteEphemeral, "Ephemeral containers cannot be changed or removed once added, so there is no patch; " +
			"start the next debug session with `kubectl debug --profile=restricted` (drop: [ALL]) or a custom profile that drops what it does not need."})
	} else if changed {
		s.Capabilities = &caps
	}

	s.Notes = append(obs.notes(in, s.Capabilities), s.Notes...)
	s.Notes = append(s.notes(in, o, noteInput{
		lists: lists, classes: c, L: L, H: H, target: target, needs: needs,
		port: port, portOK: portOK, portNeed: portNeed, intendedDrop: intendedDrop, explicit: explicit,
		named: named, review: review, risk: riskOf,
	}), s.Notes...)
	return s
}

// risky is the rule that flags an added capability for review (and drops
// what add: [ALL] grants): its (amplified) risk is high or critical, or
// medium and the catalog does not recommend keeping it. A medium capability the catalog says to
// keep (SETUID, SETGID) is what root entrypoints add back after drop: [ALL]
// to switch to their service user; dropping it would contradict the
// catalog and break the hardened shape the tool recommends.
func risky(r catalog.Risk, rec catalog.Recommendation) bool {
	switch {
	case r.Level() >= catalog.RiskHigh.Level():
		return true
	case r.Level() >= catalog.RiskMedium.Level():
		return rec != catalog.Keep
	}
	return false
}

// lowPort is the lowest containerPort below 1024 that the process must
// bind itself: none when the pod's own ip_unprivileged_port_start sysctl
// already allows it (a pod with hostNetwork cannot set that sysctl; the
// kubelet rejects namespaced net sysctls there).
func lowPort(c *corev1.Container, pod *corev1.PodSpec, hostNetwork bool) (int32, bool) {
	if c == nil {
		return 0, false
	}
	low := int32(0)
	for _, p := range c.Ports {
		if p.ContainerPort > 0 && p.ContainerPort < 1024 && (low == 0 || p.ContainerPort < low) {
			low = p.ContainerPort
		}
	}
	if low == 0 {
		return 0, false
	}
	if !hostNetwork && pod != nil && pod.SecurityContext != nil {
		for _, s := range pod.SecurityContext.Sysctls {
			if s.Name != portSysctl {
				continue
			}
			if v, err := strconv.Atoi(strings.TrimSpace(s.Value)); err == nil && int(low) >= v {
				return low, false
			}
		}
	}
	return low, true
}

func sortEntries(es []Entry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Capability < es[j-1].Capability; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}
