package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/finding"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Allowance lets one workload (or one of its containers) add more than the
// policy allows: an --allow rule, or an exception (an --exceptions entry,
// an allow annotation) turned into one by FromExceptions. Every format
// renders both alike; only the comment saying where it comes from differs.
type Allowance struct {
	suggest.KeepRule
	// Origin and Reason are the exception's (FILE:LINE or the workload's
	// annotation, and why); both "" for --allow.
	Origin, Reason string
}

// By says where the allowance comes from, for the policy's comments:
// "--allow shop/deploy/web=NET_ADMIN", or the exception, what it selects
// and its reason.
func (a Allowance) By() string {
	if a.Origin == "" {
		return "--allow " + a.Text
	}
	return fmt.Sprintf("%s, for %s (reason: %s)", a.Origin, a.selector(), a.Reason)
}

// selector is the allowance's workload and container as --allow writes them.
func (a Allowance) selector() string {
	s := a.Namespace + "/" + workload.Ref{Kind: a.Kind, Name: a.Name}.Label()
	if a.Container != "" {
		s += ":" + a.Container
	}
	return s
}

// holdingRules are the rules about holding a capability (CAPS001–CAPS004):
// the only findings an exception can except that a policy's allowance
// answers, since a policy allows a capability whatever its risk.
func holdingRule(id string) bool {
	r, ok := finding.Lookup(id)
	return ok && r.Risk != ""
}

// FromExceptions turns exceptions (--exceptions entries, then allow
// annotations) into allowances for the containers read, one rule for every
// format: the same allowance --allow makes. A glob is expanded against the
// containers read, one allowance per workload (per container when the
// entry names containers), so a workload created later that the glob
// would match is not excepted until the policy is generated again. An
// entry past its date, or one that selects no container read (a file
// covers more namespaces than one run reads), is left out with a note
// for stderr; an entry a policy cannot express (rule ids other than the
// capability-risk rules, or no capabilities: a policy allows capabilities,
// it cannot except a privileged container or a misspelling) is an error
// naming it, never silently dropped.
func FromExceptions(entries []exception.Entry, cs []Container, now time.Time) (out []Allowance, notes []string, err error) {
	for _, e := range entries {
		if e.Expired(now) {
			notes = append(notes, fmt.Sprintf("the exception at %s expired on %s and no longer applies (%s): the policy does not allow it.",
				e.Origin, e.Expires.Format(time.DateOnly), e.Reason))
			continue
		}
		if other := slices.DeleteFunc(slices.Clone(e.Rules), holdingRule); len(other) > 0 || e.Caps.Empty() {
			what := "names no capabilities"
			if len(other) > 0 {
				what = "excepts rule " + strings.Join(other, ", ")
			}
			return nil, nil, fmt.Errorf("the exception at %s %s: a policy allows capabilities per workload and cannot except other findings; "+
				"give kubectl caps policy only entries with capabilities (and no rules but CAPS001-CAPS004), e.g. in a file of their own: audit takes several --exceptions (docs/policy.md)", e.Origin, what)
		}
		seen := map[string]bool{}
		for _, c := range cs {
			if !e.Selects(c.Namespace, c.Kind, c.Name, c.Container) {
				continue
			}
			if _, ok := workload.Lookup(c.Kind); !ok || c.Kind == "PodTemplate" {
				return nil, nil, fmt.Errorf("the exception at %s selects %s/%s, of a kind the policy does not match; the policy matches Pods and %s",
					e.Origin, c.Namespace, c.Workload(), allowKinds())
			}
			a := Allowance{KeepRule: suggest.KeepRule{Kind: c.Kind, Namespace: c.Namespace, Name: c.Name, Caps: e.Caps}, Origin: e.Origin, Reason: e.Reason}
			if e.Container != "" && e.Container != exception.AnyContainer {
				a.Container = c.Container
			}
			a.Text = a.selector() + "=" + strings.Join(e.Caps.Names(), ",")
			if !seen[a.Text] {
				seen[a.Text] = true
				out = append(out, a)
			}
		}
		if len(seen) == 0 {
			notes = append(notes, fmt.Sprintf("the exception at %s selects no container read: the policy does not allow it.", e.Origin))
		}
	}
	return out, notes, nil
}

// WithExceptions is o with the allowances of the exceptions (the files'
// entries, then the annotations') added after --allow's (FromExceptions),
// and the notes for stderr.
func (o Options) WithExceptions(files, annotations []exception.Entry, cs []Container, now time.Time) (Options, []string, error) {
	allow, notes, err := FromExceptions(append(slices.Clone(files), annotations...), cs, now)
	o.Allow = append(slices.Clone(o.Allow), allow...)
	return o, notes, err
}
