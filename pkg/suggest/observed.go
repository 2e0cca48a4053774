package suggest

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/evidence"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Note codes of the observed strategy.
const (
	// NoteNoEvidence: the traces saw no audited check of the container;
	// its lists stay (unless --allow-empty-evidence).
	NoteNoEvidence = "no-evidence"
	// NoteEmptyEvidence: --allow-empty-evidence dropped everything but
	// --keep from a container the traces never saw.
	NoteEmptyEvidence = "empty-evidence"
	// NoteWantedNotGranted: the traces show checks the kernel denied.
	NoteWantedNotGranted = "wanted-not-granted"
	// NoteObservedNotHeld: the traces show a capability allowed that the
	// audit says the container cannot hold (a model disagreement).
	NoteObservedNotHeld = "observed-not-held"
	// NoteObservedWindow: what the suggestion rests on.
	NoteObservedWindow = "observed-window"
	// NotePSSLevel: the Pod Security Standards level the new lists reach.
	NotePSSLevel = "pss-level"
)

// observation is the observed strategy's view of one container.
type observation struct {
	c      *evidence.Container
	unseen bool // no audited check in the traces
	// keepAll: unseen, and no --allow-empty-evidence: the lists stay.
	keepAll bool
	keep    capability.Set
	used    capability.Set // used and held: what the target adds back
}

// observe reads what the traces saw of a container holding H.
func observe(c *evidence.Container, H capability.Set, o Options) observation {
	if c == nil || c.Events == 0 {
		return observation{c: c, unseen: true, keepAll: !o.AllowEmptyEvidence, keep: o.Keep}
	}
	return observation{c: c, keep: o.Keep, used: c.Used & H}
}

// target is the observed strategy's keep set: what the container used and
// holds, and --keep (needs: Keep ∩ H). A container the traces never saw
// keeps everything it holds: dropping all on no evidence could break it
// (--allow-empty-evidence drops all but --keep, as strict does).
func (x *observation) target(needs, H capability.Set) capability.Set {
	if x.keepAll {
		return H
	}
	return x.used | needs
}

// keeps says whether cp is kept for the evidence (rather than --keep).
func (x *observation) keeps(cp capability.Cap) bool {
	return x.keepAll || x.used.Has(cp)
}

func (x *observation) keepWhy(cp capability.Cap, rk catalog.Risk) string {
	if x.keepAll {
		return "no evidence for this container: kept as it is"
	}
	u := x.use(cp)
	why := fmt.Sprintf("used: %d allowed check(s) by %s", u.Used, usedBy(u))
	if x.keep.Has(cp) {
		why += "; also named in --keep"
	}
	return why
}

// usedBy is "setpriority (nice)": the system calls and the commands.
func usedBy(u *evidence.CapUse) string {
	more := ""
	if u.MoreNames {
		more = ", ..."
	}
	calls := strings.Join(u.Syscalls, ", ")
	if calls == "" {
		calls = "an unknown system call"
	}
	if len(u.Comms) == 0 {
		return "system call(s) " + calls + more
	}
	return fmt.Sprintf("system call(s) %s in command(s) %s%s", calls, strings.Join(u.Comms, ", "), more)
}

func (x *observation) dropWhy(cp capability.Cap, rk catalog.Risk) string {
	if x.unseen {
		return fmt.Sprintf("no evidence for this container, dropped with --allow-empty-evidence (risk %s)", rk)
	}
	if u := x.use(cp); u != nil && u.Denied > 0 {
		return fmt.Sprintf("observed: never allowed in the window, %d denied check(s) (risk %s)", u.Denied, rk)
	}
	if u := x.use(cp); u != nil && u.Used > 0 {
		return fmt.Sprintf("observed: allowed, but the audit says the container does not hold it (risk %s)", rk)
	}
	return fmt.Sprintf("observed: not used in the window (risk %s)", rk)
}

func (x *observation) use(cp capability.Cap) *evidence.CapUse {
	if x.c == nil {
		return nil
	}
	for i := range x.c.Caps {
		if x.c.Caps[i].Cap == cp {
			return &x.c.Caps[i]
		}
	}
	return nil
}

// notes are the observed strategy's notes; none for the other strategies.
func (x *observation) notes(in Input, caps *Capabilities) []Note {
	if x.c == nil && !x.unseen {
		return nil
	}
	var n []Note
	add := func(code, format string, a ...any) { n = append(n, Note{code, fmt.Sprintf(format, a...)}) }
	switch {
	case x.unseen && caps == nil:
		add(NoteNoEvidence, "The traces hold no audited capability check of this container, so --strategy=observed keeps what it holds: dropping everything on no evidence could break it. "+
			"Trace it while it does its work (docs/evidence.md), or pass --allow-empty-evidence to drop all but --keep.")
	case x.unseen:
		add(NoteEmptyEvidence, "The traces hold no audited capability check of this container; --allow-empty-evidence drops all but --keep. Make sure the trace covered it.")
	default:
		c := x.c
		win := ""
		if !c.First.IsZero() {
			win = fmt.Sprintf(" from %s to %s", c.First.UTC().Format(time.RFC3339), c.Last.UTC().Format(time.RFC3339))
		}
		add(NoteObservedWindow, "Observed: %d audited check(s) in %d pod(s)%s; a capability the workload needs outside this window (start-up, a failover, a monthly job) is dropped: observe a full cycle.",
			c.Events, len(c.Pods), win)
		if !c.Denied.Empty() {
			var parts []string
			for _, cp := range c.Denied.Caps() {
				u := x.use(cp)
				parts = append(parts, fmt.Sprintf("%s (%d denied, %s)", cp, u.Denied, usedBy(u)))
			}
			add(NoteWantedNotGranted, "Wanted, not granted: %s. The kernel refused these checks, so the workload is failing there or copes without them; they are not added. "+
				"Add one back with --keep only if the workload needs it.", strings.Join(parts, "; "))
		}
		held := in.Result.Bounding
		if in.Result.Privileged {
			held = capability.All
		}
		if d := c.Disagreements(held); !d.Empty() {
			add(NoteObservedNotHeld, "MODEL DISAGREEMENT: the traces show %s allowed, but the audit says the container cannot hold %s on %s: a wrong runtime profile (--runtime), a node-level override, or a defect of kubectl caps. "+
				"Not added; check the node before applying.", strings.Join(d.Names(), ", "), pron(d.Len()), in.Profile.Name())
		}
	}
	if caps != nil {
		if lvl := pssOf(in, caps); lvl != "" {
			add(NotePSSLevel, "With the new lists the container meets the Pod Security Standards %s capability rules.", lvl)
		}
	}
	return n
}

func pron(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// pssOf is the Pod Security Standards capability level of the container
// with the new lists, as the engine judges it (PSA's own checks); "" when
// the container spec is not known.
func pssOf(in Input, caps *Capabilities) string {
	if in.Container == nil {
		return ""
	}
	c := in.Container.DeepCopy()
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	nc := &corev1.Capabilities{}
	for _, a := range caps.Add {
		nc.Add = append(nc.Add, corev1.Capability(a))
	}
	for _, d := range caps.Drop {
		nc.Drop = append(nc.Drop, corev1.Capability(d))
	}
	c.SecurityContext.Capabilities = nc
	r := engine.Evaluate(engine.Input{Pod: in.Pod, Container: c, Type: in.Type, Profile: in.Profile})
	return r.PSSCapabilities
}

// observed is the traces' container for the observed strategy; nil for
// the other strategies, or when the traces did not see it.
func (o Options) observed(namespace, kind, name, container string) *evidence.Container {
	if o.Strategy != Observed || o.Evidence == nil {
		return nil
	}
	c, ok := o.Evidence.Lookup(namespace, workload.Ref{Kind: kind, Name: name}, container)
	if !ok {
		return nil
	}
	return c
}

// EvidenceKeys names the workloads' containers, for
// evidence.Result.Coverage.
func EvidenceKeys(ws []*Workload) []evidence.Key {
	var keys []evidence.Key
	for _, w := range ws {
		for _, c := range w.Containers {
			keys = append(keys, evidence.Key{Namespace: w.Namespace, Workload: workload.Ref{Kind: w.Kind, Name: w.Name}, Container: c.Item.Container})
		}
	}
	return keys
}

// CheckEvidence checks the flags of the observed strategy: it needs
// traces, and they serve nothing else.
func CheckEvidence(s Strategy, evidence, allowEmpty bool) error {
	switch {
	case s == Observed && !evidence:
		return fmt.Errorf("--strategy=observed needs the traces to observe: --evidence FILE|DIR|- (docs/evidence.md)")
	case s != Observed && evidence:
		return fmt.Errorf("--evidence is read by --strategy=observed; add it, or compare with audit --evidence")
	case s != Observed && allowEmpty:
		return fmt.Errorf("--allow-empty-evidence applies to --strategy=observed")
	}
	return nil
}
