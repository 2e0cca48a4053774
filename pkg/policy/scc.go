package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SCC is an OpenShift SecurityContextConstraints (security.openshift.io/v1),
// with the fields the CRD requires (security/v1/zz_generated.crd-manifests/
// of github.com/openshift/api, which the integration test installs) and the
// strategies this command sets.
type SCC struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   Meta   `json:"metadata"`

	AllowPrivilegedContainer bool     `json:"allowPrivilegedContainer"`
	AllowedCapabilities      []string `json:"allowedCapabilities"`
	DefaultAddCapabilities   []string `json:"defaultAddCapabilities"`
	RequiredDropCapabilities []string `json:"requiredDropCapabilities"`
	AllowHostDirVolumePlugin bool     `json:"allowHostDirVolumePlugin"`
	AllowHostIPC             bool     `json:"allowHostIPC"`
	AllowHostNetwork         bool     `json:"allowHostNetwork"`
	AllowHostPID             bool     `json:"allowHostPID"`
	AllowHostPorts           bool     `json:"allowHostPorts"`
	AllowPrivilegeEscalation bool     `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   bool     `json:"readOnlyRootFilesystem"`
	// Priority is null (0): OpenShift then tries the most restrictive of
	// the SCCs a pod may use first, so restricted-v2 still takes the pods
	// it admits.
	Priority           *int32       `json:"priority"`
	RunAsUser          SCCStrategy  `json:"runAsUser"`
	SELinuxContext     SCCStrategy  `json:"seLinuxContext"`
	FSGroup            SCCStrategy  `json:"fsGroup"`
	SupplementalGroups SCCStrategy  `json:"supplementalGroups"`
	SeccompProfiles    []string     `json:"seccompProfiles"`
	Volumes            []string     `json:"volumes"`
	Users              []string     `json:"users"`
	Groups             []string     `json:"groups"`
	comment            []string     `json:"-"`
	bindings           []SCCBinding `json:"-"`
}

// SCCStrategy is one of the SCC's user, SELinux and group strategies.
type SCCStrategy struct {
	Type string `json:"type"`
}

// SCCBinding is a service account the SCC is granted to.
type SCCBinding struct{ Namespace, ServiceAccount string }

// SCCSet is one policy as SCCs, the ClusterRoles that grant `use` of them
// and the RoleBindings that give those roles to the service accounts of
// the workloads they cover: the main SCC first, then one per --allow.
type SCCSet struct {
	SCCs         []*SCC
	ClusterRoles []*rbacv1.ClusterRole
	RoleBindings []*rbacv1.RoleBinding
	// Comments are, per SCC, what it covers and where it differs from the
	// other formats.
	Comments [][]string
}

// SCCs renders the policy as OpenShift SCCs. An SCC compares capability
// names as exact strings (ValidateContainer in
// pkg/securitycontextconstraints/capabilities/mustrunas.go of
// github.com/openshift/apiserver-library-go), so listing only canonical
// names refuses CAP_SYS_ADMIN and net_admin as the VAP does; but it does
// not read drop entries except to add requiredDropCapabilities to them,
// so it admits (and completes) a container that does not drop ALL, and
// never refuses a misspelled drop.
func SCCs(p *Policy) SCCSet {
	var set SCCSet
	main := newSCC(p.Name(), p, p.Allowed, p.members)
	main.comment = []string{"the capabilities of every workload it was generated from"}
	set.add(main, p.members)
	for i, r := range p.Allowances {
		var covered []Container
		for _, c := range p.members {
			if r.Matches(c.Namespace, c.Kind, c.Name, c.Container) {
				covered = append(covered, c)
			}
		}
		caps := append(append([]string(nil), p.Allowed...), r.Caps.Names()...)
		s := newSCC(fmt.Sprintf("%s-allow%d", p.Name(), i), p, sortCaps(slices.Compact(slices.Sorted(slices.Values(caps)))), covered)
		s.comment = allowanceComment(r, covered, p.members)
		set.add(s, covered)
	}
	return set
}

// allowanceComment says which workloads an allowance's SCC reaches: an SCC
// is granted to a service account, so every workload running as it gets
// the allowance, and every container of theirs.
func allowanceComment(r Allowance, covered, all []Container) []string {
	out := []string{r.By() + ": " + strings.Join(r.Caps.Names(), ", ")}
	if r.Container != "" {
		out = append(out, "an SCC applies to whole pods: every container of the pod may add these, not only "+r.Container)
	}
	accounts := map[SCCBinding]bool{}
	for _, c := range covered {
		accounts[SCCBinding{c.Namespace, c.Pod.ServiceAccount}] = true
	}
	shared := map[string]bool{}
	for _, c := range all {
		if accounts[SCCBinding{c.Namespace, c.Pod.ServiceAccount}] && !r.Matches(c.Namespace, c.Kind, c.Name, "") {
			shared[c.Namespace+"/"+c.Workload()+" (service account "+c.Pod.ServiceAccount+")"] = true
		}
	}
	if len(shared) > 0 {
		out = append(out, "SHARED: these workloads run as the same service account and get the allowance too; give "+
			r.Kind+" "+r.Name+" a service account of its own: "+strings.Join(slices.Sorted(maps.Keys(shared)), ", "))
	}
	return out
}

func (set *SCCSet) add(s *SCC, covered []Container) {
	accounts := map[SCCBinding]bool{}
	for _, c := range covered {
		accounts[SCCBinding{c.Namespace, c.Pod.ServiceAccount}] = true
	}
	s.bindings = slices.SortedFunc(maps.Keys(accounts), func(a, b SCCBinding) int {
		return strings.Compare(a.Namespace+"/"+a.ServiceAccount, b.Namespace+"/"+b.ServiceAccount)
	})
	labels := map[string]string{"app.kubernetes.io/managed-by": "kubectl-caps"}
	set.SCCs = append(set.SCCs, s)
	set.Comments = append(set.Comments, s.comment)
	set.ClusterRoles = append(set.ClusterRoles, &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Metadata.Name, Labels: labels},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"security.openshift.io"}, Resources: []string{"securitycontextconstraints"},
			ResourceNames: []string{s.Metadata.Name}, Verbs: []string{"use"}}},
	})
	byNS := map[string][]rbacv1.Subject{}
	for _, b := range s.bindings {
		byNS[b.Namespace] = append(byNS[b.Namespace], rbacv1.Subject{Kind: "ServiceAccount", Name: b.ServiceAccount, Namespace: b.Namespace})
	}
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		set.RoleBindings = append(set.RoleBindings, &rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: s.Metadata.Name, Namespace: ns, Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: s.Metadata.Name},
			Subjects:   byNS[ns],
		})
	}
}

// newSCC is the SCC that lets the containers add allowed: host access as
// the covered pods use it today, the user, SELinux and group strategies
// RunAsAny and every volume type and seccomp profile, because the audit
// does not read those: MustRunAs strategies would assign the namespace's
// UID range and MCS label and change what the pods run as. So on those
// fields it is as permissive as OpenShift's anyuid SCC; it governs
// capabilities, privileged and host access only.
func newSCC(name string, p *Policy, allowed []string, covered []Container) *SCC {
	host := p.sccHost(covered)
	caps := append([]string{}, allowed...)
	if has(caps, "ALL") {
		// An SCC's wildcard; ALL in allowedCapabilities would be a name.
		caps = []string{"*"}
	}
	drop := []string{}
	if p.RequireDropAll {
		drop = []string{"ALL"}
	}
	runAsAny := SCCStrategy{Type: "RunAsAny"}
	return &SCC{
		APIVersion: "security.openshift.io/v1",
		Kind:       "SecurityContextConstraints",
		Metadata: Meta{Name: name, Labels: map[string]string{"app.kubernetes.io/managed-by": "kubectl-caps"},
			Annotations: map[string]string{
				"kubernetes.io/description": "Generated by kubectl caps policy (mode " + p.Mode + "): the capabilities, privileged and host access " +
					"of the workloads it is bound to; user, SELinux, group, seccomp and volume strategies are permissive (RunAsAny, *) because " +
					"the audit does not read them (docs/policy.md).",
				AnnotationSpelling: spellingText,
			}},
		AllowPrivilegedContainer: !p.ForbidPrivileged,
		AllowedCapabilities:      caps,
		DefaultAddCapabilities:   []string{},
		RequiredDropCapabilities: drop,
		AllowHostDirVolumePlugin: host.HostPath,
		AllowHostIPC:             host.HostIPC,
		AllowHostNetwork:         host.HostNetwork,
		AllowHostPID:             host.HostPID,
		AllowHostPorts:           host.HostPorts,
		AllowPrivilegeEscalation: true,
		RunAsUser:                runAsAny,
		SELinuxContext:           runAsAny,
		FSGroup:                  runAsAny,
		SupplementalGroups:       runAsAny,
		SeccompProfiles:          []string{"*"},
		Volumes:                  []string{"*"},
		Users:                    []string{},
		Groups:                   []string{},
	}
}

// sccHost is the host access an SCC grants: in observed mode what the
// covered pods use today; in baseline and restricted mode none, as the
// Pod Security Standards' baseline forbids host namespaces, hostPath
// volumes and host ports.
func (p *Policy) sccHost(covered []Container) PodAccess {
	var host PodAccess
	if p.Mode != ModeObserved {
		return host
	}
	for _, c := range covered {
		a := c.Pod
		host.HostNetwork = host.HostNetwork || a.HostNetwork
		host.HostPID = host.HostPID || a.HostPID
		host.HostIPC = host.HostIPC || a.HostIPC
		host.HostPorts = host.HostPorts || a.HostPorts
		host.HostPath = host.HostPath || a.HostPath
	}
	return host
}

// Bindings are the service accounts the SCC is granted to.
func (s *SCC) Bindings() []SCCBinding { return s.bindings }

// SCCRejects is why the SCC would not admit the container, nil when it
// would: an added entry not listed exactly (any spelling), privileged where
// forbidden. A missing drop of ALL is not a rejection: the SCC adds it.
func (p *Policy) SCCRejects(c *Container) []string {
	var why []string
	if c.Privileged && p.ForbidPrivileged {
		why = append(why, "is privileged")
	}
	if p.Mode != ModeObserved {
		var uses []string
		for _, u := range []struct {
			on   bool
			what string
		}{{c.Pod.HostNetwork, "hostNetwork"}, {c.Pod.HostPID, "hostPID"}, {c.Pod.HostIPC, "hostIPC"}, {c.Pod.HostPorts, "host ports"}, {c.Pod.HostPath, "hostPath volumes"}} {
			if u.on {
				uses = append(uses, u.what)
			}
		}
		if len(uses) > 0 {
			why = append(why, "its pod uses "+strings.Join(uses, ", "))
		}
	}
	if p.AllowsAll() {
		return why
	}
	allowed := p.AllowedFor(c)
	var extra []string
	for _, a := range c.Add {
		if !has(allowed, a) {
			extra = append(extra, fmt.Sprintf("%q", a))
		}
	}
	if len(extra) > 0 {
		why = append(why, "adds "+strings.Join(extra, ", "))
	}
	return why
}

// SCCRejected are the current containers the policy's SCCs would refuse.
func (p *Policy) SCCRejected() []Rejection {
	var out []Rejection
	for i := range p.members {
		c := &p.members[i]
		if why := p.SCCRejects(c); len(why) > 0 {
			out = append(out, Rejection{Namespace: c.Namespace, Workload: c.Workload(), Container: c.Container, Type: c.Type, Reasons: why})
		}
	}
	return out
}
