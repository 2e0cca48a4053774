package engine

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// The newest version of each Pod Security Admission capability check, taken
// from the library rather than rewritten, so the verdict is PSA's own:
// exact, case-sensitive strings, and the Windows exemption of restricted
// from v1.25 (k8s.io/pod-security-admission policy/check_capabilities_*.go). Package-level, but read-only after init.
var (
	checkCapsBaseline   = latestCheck(policy.CheckCapabilitiesBaseline())
	checkCapsRestricted = latestCheck(policy.CheckCapabilitiesRestricted())
)

func latestCheck(c policy.Check) policy.CheckPodFn {
	return c.Versions[len(c.Versions)-1].CheckPod
}

// pssCapabilities is the highest level whose capability rules c meets, as
// PSA judges it at that level. At restricted, PSA runs
// capabilities_restricted and skips capabilities_baseline, which it
// overrides; at baseline it runs capabilities_baseline. privileged: true is
// a separate check and does not count here.
//
// The pod handed to PSA holds only this container, as the one-element
// slice one, and the pod's OS: the capability checks read nothing else.
func pssCapabilities(meta *metav1.ObjectMeta, os *corev1.PodOS, one []corev1.Container) string {
	if level, ok := pssWithoutAdds(os, one); ok {
		return level
	}
	spec := corev1.PodSpec{OS: os, Containers: one}
	if checkCapsRestricted(meta, &spec).Allowed {
		return string(api.LevelRestricted)
	}
	if checkCapsBaseline(meta, &spec).Allowed {
		return string(api.LevelBaseline)
	}
	return string(api.LevelPrivileged)
}

// ownSlice returns c as a one-element slice without copying it when c is
// the pod's own Type[Index] element (the usual case), and otherwise a copy
// of the two fields the PSA capability checks read. The checks only read
// the pod they are given.
func ownSlice(pod *corev1.PodSpec, typ ContainerType, i int, c *corev1.Container) []corev1.Container {
	var list []corev1.Container
	switch typ {
	case TypeInitContainer:
		list = pod.InitContainers
	case TypeContainer, "":
		list = pod.Containers
	}
	if i >= 0 && i < len(list) && &list[i] == c {
		return list[i : i+1 : i+1]
	}
	return []corev1.Container{{Name: c.Name, SecurityContext: c.SecurityContext}}
}

// pssWithoutAdds answers without calling PSA for the most common container:
// one that adds nothing and does not drop "ALL". PSA's baseline check only
// looks at add, so it passes; restricted requires the exact string "ALL" in
// drop, so it fails, except for Windows pods, which restricted exempts. The
// library builds a rejection message for every such container, which cost
// more than all the rest of the engine; TestPSSFastPathAgreesWithPSA holds
// this shortcut to the library's verdict.
func pssWithoutAdds(os *corev1.PodOS, one []corev1.Container) (string, bool) {
	if len(one) != 1 {
		return "", false
	}
	var caps *corev1.Capabilities
	if sc := one[0].SecurityContext; sc != nil {
		caps = sc.Capabilities
	}
	if caps != nil {
		if len(caps.Add) > 0 {
			return "", false
		}
		for _, d := range caps.Drop {
			if d == "ALL" {
				return "", false
			}
		}
	}
	if os != nil && os.Name == corev1.Windows {
		return string(api.LevelRestricted), true
	}
	return string(api.LevelBaseline), true
}
