// Package sharedtest locates the read-only folder "shared" that CI lays beside
// the repository (real manifests in corpus/, Pod Security Admission's fixtures
// in psa-fixtures/). It holds the one rule every test that reads it follows:
// a test may skip when the folder is absent, and never when CI=true, where an
// absent folder is a failure (a suite that passes by skipping proves nothing).
package sharedtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Path returns the path of shared/<elem...>, relative to the test's working
// directory (its package folder) so that file names in test output stay
// short and stable. Absent, it skips the test, or fails it under CI=true.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	p, err := find(elem...)
	if err != nil {
		absent(tb, err)
	}
	return p
}

// Optional returns shared/<elem...> and true when it exists. Absent, it fails
// the test under CI=true and otherwise returns false, for tests that still
// have something to check without it (the bundled examples).
func Optional(tb testing.TB, elem ...string) (string, bool) {
	tb.Helper()
	p, err := find(elem...)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true and %v: CI lays shared/ beside the repository", err)
		}
		return "", false
	}
	return p, true
}

func absent(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true and %v: CI lays shared/ beside the repository", err)
	}
	tb.Skipf("skipping: %v (clone the project beside shared/ as CI does)", err)
}

// find walks up from the working directory to the module root (the folder
// with go.mod) and looks for the folder "shared" beside that root.
func find(elem ...string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
		root = parent
	}
	abs := filepath.Join(append([]string{filepath.Dir(root), "shared"}, elem...)...)
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("%s is absent", abs)
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil {
		return abs, nil
	}
	return rel, nil
}

// Manifests are the inputs of the tests that run on real manifests: the
// bundled examples (at the path given, relative to the test's package)
// and, beside the repository as in CI, the shared corpus; outside CI a
// missing corpus leaves the examples alone.
func Manifests(tb testing.TB, examples string) []string {
	tb.Helper()
	inputs := []string{examples}
	if corpus, ok := Optional(tb, "corpus"); ok {
		inputs = append(inputs, corpus)
	}
	return inputs
}
