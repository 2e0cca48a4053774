package policy

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psapolicy "k8s.io/pod-security-admission/policy"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// The capabilities the Pod Security Standards let a container add, asked
// of Pod Security Admission's own checks rather than copied: the library
// keeps its lists unexported (capabilities_allowed_1_0 in
// policy/check_capabilities_baseline.go, NET_BIND_SERVICE in
// check_capabilities_restricted.go of k8s.io/pod-security-admission), so
// each capability is offered to the newest version of each check in a pod
// of its own, and what it admits is the list. Read-only after init.
var (
	baselineAllowed   = admitted(psapolicy.CheckCapabilitiesBaseline(), nil)
	restrictedAllowed = admitted(psapolicy.CheckCapabilitiesRestricted(), []corev1.Capability{"ALL"})
)

// BaselineAllowed is what baseline lets a container add.
func BaselineAllowed() []string { return append([]string(nil), baselineAllowed...) }

// RestrictedAllowed is what restricted lets a container add (with drop ALL).
func RestrictedAllowed() []string { return append([]string(nil), restrictedAllowed...) }

func admitted(check psapolicy.Check, drop []corev1.Capability) []string {
	fn := check.Versions[len(check.Versions)-1].CheckPod
	var out []string
	for _, n := range capability.Names() {
		spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{
			Capabilities: &corev1.Capabilities{Add: []corev1.Capability{corev1.Capability(n)}, Drop: drop}}}}}
		if fn(&metav1.ObjectMeta{}, spec).Allowed {
			out = append(out, n)
		}
	}
	return out
}
