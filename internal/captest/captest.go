// Package captest builds capability sets from names written in tests.
package captest

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// Set parses the names, panicking on a typo so that a test cannot pass on
// a set it did not mean.
func Set(names ...string) capability.Set {
	var s capability.Set
	for _, n := range names {
		c, err := capability.Parse(n)
		if err != nil {
			panic(err)
		}
		s = s.Add(c)
	}
	return s
}

// AddedByName maps "container CAP" to true for each capability a
// container's add list names, in any spelling capability.Parse reads (ALL
// names none): what suggest-drop's default strategy must keep.
func AddedByName(spec *corev1.PodSpec) map[string]bool {
	out := map[string]bool{}
	for _, l := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, c := range l {
			if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
				continue
			}
			for _, a := range c.SecurityContext.Capabilities.Add {
				if cp, err := capability.Parse(string(a)); err == nil {
					out[c.Name+" "+cp.String()] = true
				}
			}
		}
	}
	return out
}
