package suggest

import (
	"fmt"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// KeepForm is the form of a per-container --keep, for help and errors.
const KeepForm = "[NAMESPACE/]KIND/NAME[:CONTAINER]=CAP,..."

// KeepRule is one per-container --keep: capabilities to keep in the
// containers of one workload (all of them when Container is ""), in one
// namespace or, when Namespace is "", in every namespace.
type KeepRule struct {
	// Text is the rule as the user wrote it, for messages.
	Text string
	// Kind is the workload's kind: a built-in kind's Name whatever alias
	// the user wrote (deploy → Deployment), else a custom kind exactly.
	Kind                       string
	Namespace, Name, Container string
	Caps                       capability.Set
}

// ParseKeepRule reads "[NAMESPACE/]KIND/NAME[:CONTAINER]=CAP,...". KIND is
// a built-in kind as kubectl takes it (workload.LookupResource), or a
// custom resource's kind, spelt exactly as in its objects (Rollout).
func ParseKeepRule(s string) (KeepRule, error) {
	r := KeepRule{Text: s}
	sel, caps, ok := strings.Cut(s, "=")
	if !ok {
		return r, fmt.Errorf("no '=' before the capabilities")
	}
	sel = strings.TrimSpace(sel)
	if name, c, ok := strings.Cut(sel, ":"); ok {
		sel, r.Container = name, c
		if errs := validation.IsDNS1123Label(c); len(errs) > 0 {
			return r, fmt.Errorf("container name %q: %s", c, strings.Join(errs, "; "))
		}
	}
	parts := strings.Split(sel, "/")
	switch len(parts) {
	case 2:
		r.Kind, r.Name = parts[0], parts[1]
	case 3:
		r.Namespace, r.Kind, r.Name = parts[0], parts[1], parts[2]
		if errs := validation.IsDNS1123Label(r.Namespace); len(errs) > 0 {
			return r, fmt.Errorf("namespace %q: %s", r.Namespace, strings.Join(errs, "; "))
		}
	default:
		return r, fmt.Errorf("%q is no [NAMESPACE/]KIND/NAME", sel)
	}
	if k, ok := workload.LookupResource(r.Kind); ok {
		r.Kind = k.Name
	} else if !isKindName(r.Kind) {
		return r, fmt.Errorf("unknown kind %q: use a built-in kind as kubectl takes it (deployment, deploy, deployments or Deployment; %s) "+
			"or a custom resource's kind exactly as its objects spell it (e.g. Rollout)", r.Kind, workload.Names(func(workload.Kind) bool { return true }))
	}
	if errs := validation.IsDNS1123Subdomain(r.Name); len(errs) > 0 {
		return r, fmt.Errorf("name %q: %s", r.Name, strings.Join(errs, "; "))
	}
	for _, c := range strings.Split(caps, ",") {
		if strings.EqualFold(strings.TrimSpace(c), "ALL") {
			return r, fmt.Errorf("ALL would keep everything, which is no suggestion; name the capabilities")
		}
		cp, err := capability.Parse(c)
		if err != nil {
			if strings.ContainsAny(c, "=/") {
				return r, fmt.Errorf("%v (one --keep per container: repeat the flag)", err)
			}
			return r, err
		}
		r.Caps = r.Caps.Add(cp)
	}
	return r, nil
}

// isKindName reports whether s can be a custom resource's kind: a Go-style
// identifier starting with an upper-case letter (Rollout, CloneSet), which
// also tells a misspelt built-in kind ("deploymnet") from a custom one.
func isKindName(s string) bool {
	for i, c := range s {
		switch {
		case i == 0 && !unicode.IsUpper(c):
			return false
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return s != ""
}

// Matches reports whether the rule selects a container of a workload.
func (r KeepRule) Matches(namespace, kind, name, container string) bool {
	return (r.Namespace == "" || r.Namespace == namespace) && r.Kind == kind && r.Name == name &&
		(r.Container == "" || r.Container == container)
}

// KeepFor is what --keep keeps in one container: the global list and
// every per-container rule that selects it.
func (o Options) KeepFor(namespace, kind, name, container string) capability.Set {
	keep := o.Keep
	for _, r := range o.Rules {
		if r.Matches(namespace, kind, name, container) {
			keep |= r.Caps
		}
	}
	return keep
}

// forContainer is the options Suggest takes for one container: the
// per-container rules resolved into Keep.
func (o Options) forContainer(namespace, kind, name, container string) Options {
	return Options{Strategy: o.Strategy, Keep: o.KeepFor(namespace, kind, name, container)}
}

// Unmatched is an error naming the per-container rules that selected no
// container of the workloads, nil when each selected one. A mistyped name
// must not pass unnoticed in a script that applies the output, as kubectl
// errors on a name it cannot find.
func (o Options) Unmatched(ws []*Workload) error {
	var miss []string
	for _, r := range o.Rules {
		found := false
		for _, w := range ws {
			for _, c := range w.Containers {
				found = found || r.Matches(w.Namespace, w.Kind, w.Name, c.Item.Container)
			}
		}
		if !found {
			miss = append(miss, "--keep "+r.Text)
		}
	}
	if miss == nil {
		return nil
	}
	return fmt.Errorf("%s matched no container: name a workload as the NAMESPACE and WORKLOAD columns show it (shop/deploy/web) and, after ':', one of its containers",
		strings.Join(miss, ", "))
}

// ParseKeep reads the values of --keep: each is CAP,... for every
// container, or one per-container rule (KeepForm), told apart by its '='.
func ParseKeep(values []string) (capability.Set, []KeepRule, error) {
	var keep capability.Set
	var rules []KeepRule
	for _, v := range values {
		if strings.Contains(v, "=") {
			r, err := ParseKeepRule(v)
			if err != nil {
				return 0, nil, fmt.Errorf("--keep %q: %v; the per-container form is %s", v, err, KeepForm)
			}
			rules = append(rules, r)
			continue
		}
		for _, k := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(k), "ALL") {
				return 0, nil, fmt.Errorf("--keep takes capability names; ALL would keep everything, which is no suggestion")
			}
			c, err := capability.Parse(k)
			switch {
			case err != nil && strings.Contains(k, "/"):
				return 0, nil, fmt.Errorf("--keep %q: a workload needs '=' before its capabilities; the per-container form is %s", v, KeepForm)
			case err != nil:
				return 0, nil, fmt.Errorf("--keep: %v", err)
			}
			keep = keep.Add(c)
		}
	}
	return keep, rules, nil
}

// KeepCompletions completes a --keep value: capability names, after what
// is typed up to the last '=' or ',' (deploy/web:nginx=NET_RAW,SYS_).
func KeepCompletions(toComplete string) []string {
	prefix := toComplete[:strings.LastIndexAny(toComplete, "=,")+1]
	out := make([]string, 0, capability.Count)
	for _, n := range capability.Names() {
		out = append(out, prefix+n)
	}
	return out
}
