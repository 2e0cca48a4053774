package sharedtest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder stands in for a test so that Path's Skipf and Fatalf can be
// observed instead of ending this test. Both stop the caller's goroutine, as
// the real ones do.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(f string, a ...any) {
	r.skipped = fmt.Sprintf(f, a...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.failed = fmt.Sprintf(f, a...)
	runtime.Goexit()
}

func call(fn func(tb testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() { defer close(done); fn(r) }()
	<-done
	return r
}

func TestAbsentSkipsOnlyOutsideCI(t *testing.T) {
	// A module with no shared/ beside it.
	mod := filepath.Join(t.TempDir(), "project")
	if err := os.MkdirAll(filepath.Join(mod, "pkg", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(mod, "pkg", "x"))

	for _, ci := range []string{"", "false", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			r := call(func(tb testing.TB) { Path(tb, "corpus") })
			if ci == "true" {
				if r.failed == "" || r.skipped != "" {
					t.Errorf("Path under CI=true: failed=%q skipped=%q, want a failure", r.failed, r.skipped)
				}
			} else if r.skipped == "" || r.failed != "" {
				t.Errorf("Path outside CI: failed=%q skipped=%q, want a skip", r.failed, r.skipped)
			}
			var ok bool
			r = call(func(tb testing.TB) { _, ok = Optional(tb, "corpus") })
			if ci == "true" {
				if r.failed == "" {
					t.Errorf("Optional under CI=true did not fail")
				}
			} else if ok || r.failed != "" || r.skipped != "" {
				t.Errorf("Optional outside CI: ok=%v failed=%q skipped=%q, want false and no verdict", ok, r.failed, r.skipped)
			}
		})
	}

	// Present: the path is relative to the package folder and names the file.
	shared := filepath.Join(filepath.Dir(mod), "shared", "corpus")
	if err := os.MkdirAll(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CI", "true")
	var got string
	r := call(func(tb testing.TB) { got = Path(tb, "corpus") })
	if r.failed != "" || r.skipped != "" {
		t.Fatalf("present: failed=%q skipped=%q", r.failed, r.skipped)
	}
	if want := filepath.Join("..", "..", "..", "shared", "corpus"); got != want || !strings.HasPrefix(got, "..") {
		t.Errorf("Path = %q, want %q", got, want)
	}
}
