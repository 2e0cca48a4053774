// Package policy turns what the audit found into admission policies that
// keep it so: the capabilities a namespace's workloads may add, whether they
// must drop ALL, whether any may be privileged (Build), rendered as a
// ValidatingAdmissionPolicy (VAP), and the Pod Security Standards level
// each namespace already meets (PSA). Values in, values out: no clients, no
// files, no output.
package policy

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Modes, scopes and actions, as the command's flags spell them.
const (
	ModeObserved   = "observed"
	ModeBaseline   = "baseline"
	ModeRestricted = "restricted"

	ScopeNamespace = "namespace"
	ScopeCluster   = "cluster"

	ActionDeny  = "deny"
	ActionWarn  = "warn"
	ActionAudit = "audit"

	// AllowForm is the form of --allow, the selector of suggest's --keep.
	AllowForm = suggest.KeepForm
)

// Modes, Scopes and Actions list the accepted values, for flags and help.
var (
	Modes   = []string{ModeObserved, ModeBaseline, ModeRestricted}
	Scopes  = []string{ScopeNamespace, ScopeCluster}
	Actions = []string{ActionDeny, ActionWarn, ActionAudit}
)

// Options are what the command asks for.
type Options struct {
	Mode  string
	Scope string
	// Allow are the per-workload allowances (--allow, then the
	// exceptions: FromExceptions).
	Allow []Allowance
}

// ParseAllow reads the values of --allow with suggest's parser of the same
// selector (--keep), so both flags name workloads and containers alike.
// Only built-in kinds are accepted: the policy matches them and their pods.
func ParseAllow(values []string) ([]Allowance, error) {
	var out []Allowance
	for _, v := range values {
		if !strings.Contains(v, "=") {
			return nil, fmt.Errorf("--allow %q: no '=' before the capabilities; the form is %s, e.g. --allow=shop/deploy/web:proxy=NET_ADMIN", v, AllowForm)
		}
		_, caps, _ := strings.Cut(v, "=")
		for _, c := range strings.Split(caps, ",") {
			if strings.EqualFold(strings.TrimSpace(c), "ALL") {
				return nil, fmt.Errorf("--allow %q: ALL would allow every capability; name the capabilities", v)
			}
		}
		r, err := suggest.ParseKeepRule(v)
		if err != nil {
			return nil, fmt.Errorf("--allow %q: %v; the form is %s", v, err, AllowForm)
		}
		if _, ok := workload.Lookup(r.Kind); !ok || r.Kind == "PodTemplate" {
			return nil, fmt.Errorf("--allow %q: %s is not a kind the policy matches; name a Pod or one of %s", v, r.Kind, allowKinds())
		}
		out = append(out, Allowance{KeepRule: r})
	}
	return out, nil
}

func allowKinds() string {
	return workload.Names(func(k workload.Kind) bool { return k.Controller })
}

// Container is what a policy reads of one audited container: where it is,
// and its capability lists as written.
type Container struct {
	Namespace  string
	Kind, Name string
	Container  string
	Type       engine.ContainerType
	Add, Drop  []string
	Privileged bool
	// Windows: the pod sets spec.os.name: windows.
	Windows bool
	// Pod is what an SCC reads of the container's pod besides
	// capabilities.
	Pod PodAccess
}

// PodAccess is what the pod uses of the host, and its service account:
// what an OpenShift SCC grants besides capabilities.
type PodAccess struct {
	ServiceAccount                string
	HostNetwork, HostPID, HostIPC bool
	HostPorts, HostPath           bool
}

func podAccess(spec *corev1.PodSpec) PodAccess {
	if spec == nil {
		return PodAccess{ServiceAccount: "default"}
	}
	a := PodAccess{ServiceAccount: spec.ServiceAccountName, HostNetwork: spec.HostNetwork, HostPID: spec.HostPID, HostIPC: spec.HostIPC}
	if a.ServiceAccount == "" {
		a.ServiceAccount = "default"
	}
	for _, v := range spec.Volumes {
		a.HostPath = a.HostPath || v.HostPath != nil
	}
	for _, l := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, c := range l {
			for _, p := range c.Ports {
				a.HostPorts = a.HostPorts || p.HostPort != 0
			}
		}
	}
	return a
}

// FromAudit is the container as the audit judged it (audit.Each), so the
// policy reads the lists exactly as audit and suggest-drop do.
func FromAudit(a *audit.Container) Container {
	t := a.Target
	return Container{Namespace: t.Namespace, Kind: t.Workload.Kind, Name: t.Workload.Name, Container: a.Ref.Container.Name,
		Type: a.Ref.Type, Add: append([]string(nil), a.Result.Added...), Drop: append([]string(nil), a.Result.Dropped...),
		Privileged: a.Result.Privileged, Windows: t.Spec != nil && t.Spec.OS != nil && t.Spec.OS.Name == corev1.Windows, Pod: podAccess(t.Spec)}
}

// Workload names the container's workload as tables and messages do (deploy/web).
func (c *Container) Workload() string { return workload.Ref{Kind: c.Kind, Name: c.Name}.Label() }

// Policy is the capability rules for one namespace, or for the cluster
// when Namespace is "".
type Policy struct {
	Namespace string
	Mode      string
	// Allowed are the names a container may add, canonical and sorted;
	// "ALL" and every name when a current workload adds ALL (observed
	// mode).
	Allowed          []string
	RequireDropAll   bool
	ForbidPrivileged bool
	// WindowsExempt: Windows pods skip the rules, as PSA's restricted
	// capability check does from v1.25 (restricted mode).
	WindowsExempt bool
	// Allowances are the --allow rules and exceptions that apply here.
	Allowances []Allowance
	// Workloads and Containers count what the policy was generated from.
	Workloads, Containers int
	// Rejected are the current containers this policy would reject, with
	// why: non-canonical names in observed mode, and in baseline and
	// restricted mode whatever breaks their rules.
	Rejected []Rejection
	// members are the containers it was generated from (for the SCC's
	// bindings and host access).
	members []Container
}

// Rejection is one current container a policy would not admit.
type Rejection struct {
	Namespace, Workload, Container string
	Type                           engine.ContainerType
	Reasons                        []string
}

// Build makes the policies of the containers: one per namespace, or one for
// the cluster. An --allow rule that selects no container is an error, as
// --keep's is: a mistyped name must not pass unnoticed.
func Build(cs []Container, o Options) ([]Policy, error) {
	if err := unmatched(cs, o.Allow); err != nil {
		return nil, err
	}
	groups := map[string][]Container{}
	seen := map[string]bool{}
	for _, c := range cs {
		// The same container judged on several runtimes (a controller
		// without pods, audited on each runtime the nodes report) is one
		// container to a policy, which no runtime changes.
		id := fmt.Sprintf("%#v", c)
		if seen[id] {
			continue
		}
		seen[id] = true
		key := c.Namespace
		if o.Scope == ScopeCluster {
			key = ""
		}
		groups[key] = append(groups[key], c)
	}
	keys := slices.Sorted(maps.Keys(groups))
	out := make([]Policy, 0, len(keys))
	for _, ns := range keys {
		out = append(out, build(ns, groups[ns], o))
	}
	return out, nil
}

func build(ns string, cs []Container, o Options) Policy {
	p := Policy{Namespace: ns, Mode: o.Mode}
	for _, r := range o.Allow {
		if ns == "" || r.Namespace == "" || r.Namespace == ns {
			p.Allowances = append(p.Allowances, r)
		}
	}
	switch o.Mode {
	case ModeBaseline:
		p.Allowed, p.ForbidPrivileged = BaselineAllowed(), true
	case ModeRestricted:
		p.Allowed, p.RequireDropAll, p.ForbidPrivileged, p.WindowsExempt = RestrictedAllowed(), true, true, true
	default:
		p.Allowed, p.RequireDropAll, p.ForbidPrivileged = observed(cs)
	}
	workloads := map[string]bool{}
	for i := range cs {
		c := &cs[i]
		workloads[c.Namespace+"/"+c.Workload()] = true
		if why := p.Rejects(c); len(why) > 0 {
			p.Rejected = append(p.Rejected, Rejection{Namespace: c.Namespace, Workload: c.Workload(), Container: c.Container, Type: c.Type, Reasons: why})
		}
	}
	p.Workloads, p.Containers = len(workloads), len(cs)
	p.members = cs
	return p
}

// observed is what the containers do today: the canonical names they add,
// whether every one drops ALL, and whether none is privileged. A name
// written otherwise (CAP_SYS_ADMIN, net_admin) is not allowed: the policy
// rejects that spelling, and Rejects says so.
func observed(cs []Container) (allowed []string, dropAll, noPrivileged bool) {
	set := map[string]bool{}
	dropAll, noPrivileged = true, true
	for i := range cs {
		for _, a := range cs[i].Add {
			if Canonical(a) {
				set[a] = true
			}
		}
		dropAll = dropAll && has(cs[i].Drop, "ALL")
		noPrivileged = noPrivileged && !cs[i].Privileged
	}
	if set["ALL"] {
		// A workload adds ALL today: adding any one capability grants
		// less, so every name is allowed.
		return KnownNames(), dropAll, noPrivileged
	}
	for n := range set {
		allowed = append(allowed, n)
	}
	return sortCaps(allowed), dropAll, noPrivileged
}

// AllowsAll reports whether the policy lets a container add ALL (and so
// any capability): a current workload adds ALL.
func (p *Policy) AllowsAll() bool { return has(p.Allowed, "ALL") }

// Canonical reports whether a capabilities entry is written as Kubernetes
// compares it: "ALL" or a capability's name, upper case, without CAP_. Pod
// Security Admission compares exact strings (policy/check_capabilities_*.go
// in k8s.io/pod-security-admission); containerd puts CAP_ in front of every
// name, so CAP_SYS_ADMIN adds nothing there while CRI-O grants SYS_ADMIN
// (docs/policy.md).
func Canonical(name string) bool {
	if name == "ALL" {
		return true
	}
	_, ok := capability.Lookup(name)
	return ok
}

// KnownNames are the entries Canonical accepts, for the policy's CEL.
func KnownNames() []string { return append([]string{"ALL"}, capability.Names()...) }

// AllowedFor is what a container may add: the policy's list and the
// allowances that select it.
func (p *Policy) AllowedFor(c *Container) []string {
	out := append([]string(nil), p.Allowed...)
	for _, r := range p.Allowances {
		if r.Matches(c.Namespace, c.Kind, c.Name, c.Container) {
			out = append(out, r.Caps.Names()...)
		}
	}
	return out
}

// Rejects is why the policy would not admit the container, nil when it
// would: the same rules as the CEL of VAP, which the integration test holds
// to the apiserver's verdict.
func (p *Policy) Rejects(c *Container) []string {
	var why []string
	var odd []string
	for _, n := range append(append([]string(nil), c.Add...), c.Drop...) {
		if !Canonical(n) {
			odd = append(odd, n)
		}
	}
	if len(odd) > 0 {
		why = append(why, "writes "+strings.Join(quote(odd), ", ")+" (not an upper-case capability name without CAP_)")
	}
	if c.Privileged && p.ForbidPrivileged {
		why = append(why, "is privileged")
	}
	if p.WindowsExempt && c.Windows {
		return why
	}
	allowed := p.AllowedFor(c)
	var extra []string
	for _, a := range c.Add {
		if Canonical(a) && !has(allowed, a) {
			extra = append(extra, a)
		}
	}
	if len(extra) > 0 {
		why = append(why, "adds "+strings.Join(extra, ", "))
	}
	if p.RequireDropAll && !has(c.Drop, "ALL") {
		why = append(why, `does not drop "ALL"`)
	}
	return why
}

func quote(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortCaps sorts names by capability number, "ALL" first.
func sortCaps(names []string) []string {
	rank := func(n string) int {
		if c, ok := capability.Lookup(n); ok {
			return int(c)
		}
		return -1
	}
	sort.Slice(names, func(i, j int) bool { return rank(names[i]) < rank(names[j]) })
	return names
}

// unmatched is the error naming the --allow rules that select no container.
func unmatched(cs []Container, rules []Allowance) error {
	var miss []string
	for _, r := range rules {
		found := false
		for i := range cs {
			found = found || r.Matches(cs[i].Namespace, cs[i].Kind, cs[i].Name, cs[i].Container)
		}
		if !found {
			miss = append(miss, "--allow "+r.Text)
		}
	}
	if miss == nil {
		return nil
	}
	return fmt.Errorf("%s matched no container: name a workload as kubectl caps audit shows it (shop/deploy/web) and, after ':', one of its containers",
		strings.Join(miss, ", "))
}

// Formats are what kubectl caps policy prints.
var Formats = []string{FormatVAP, FormatKyverno, FormatSCC, FormatPSA}

// The formats.
const (
	FormatVAP     = "vap"
	FormatKyverno = "kyverno"
	FormatSCC     = "scc"
	FormatPSA     = "psa"
)

// Flags are the command's own flag values, as given.
type Flags struct {
	Format, Mode, Scope, Action string
	Allow                       []string
	// VAPOnly names the flags the user gave that psa does not take
	// (--mode, --scope, --action, --allow).
	VAPOnly []string
}

// Parse checks the flag values and returns the options they ask for; an
// error is a usage error, worded for the user.
func (f Flags) Parse() (Options, error) {
	if f.Format == "" {
		return Options{}, fmt.Errorf("--format is required: %s", orList(Formats))
	}
	for _, c := range []struct {
		flag, value string
		choices     []string
	}{{"--format", f.Format, Formats}, {"--mode", f.Mode, Modes}, {"--scope", f.Scope, Scopes}, {"--action", f.Action, Actions}} {
		if !has(c.choices, c.value) {
			return Options{}, fmt.Errorf("unknown %s %q; use %s", c.flag, c.value, orList(c.choices))
		}
	}
	if f.Format == FormatPSA && len(f.VAPOnly) > 0 {
		return Options{}, fmt.Errorf("%s apply to --format vap, kyverno and scc; psa judges whole pods against the Pod Security Standards", strings.Join(f.VAPOnly, ", "))
	}
	if f.Format == FormatSCC && has(f.VAPOnly, "--action") {
		return Options{}, fmt.Errorf("--action does not apply to --format scc: an SCC admits or refuses a pod and has no warn or audit mode")
	}
	allow, err := ParseAllow(f.Allow)
	return Options{Mode: f.Mode, Scope: f.Scope, Allow: allow}, err
}

// orList writes "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
