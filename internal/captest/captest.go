// Package captest builds capability sets from names written in tests.
package captest

import "github.com/kubectl-caps/kubectl-caps/pkg/capability"

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
