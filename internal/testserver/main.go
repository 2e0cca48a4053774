package testserver

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared is the one server of a test binary: go test builds one binary per
// package, so this is one server per package, started by the first Get.
var shared struct {
	once sync.Once
	opts Options
	srv  *Server
	err  error
}

// Main runs a package's tests around one shared server and returns the exit
// code for os.Exit. The server starts lazily on the first Get, so a run whose
// -run filter selects no server test pays nothing, and stops after the last
// test.
func Main(m *testing.M, opts Options) int {
	shared.opts = opts
	code := m.Run()
	if shared.srv != nil {
		if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "testserver: apiserver was ready %s after launch\n", shared.srv.StartDuration)
		}
		shared.srv.Stop()
	}
	return code
}

// Get returns the package's shared server, starting it on first use. When no
// server can start, t is skipped with the reason (typically: testbin not
// built), except under CI=true where it fails: CI must never go green by
// skipping the integration tests.
func Get(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		shared.srv, shared.err = Start(context.Background(), shared.opts)
	})
	if shared.err != nil {
		handleStartError(t, shared.err, inCI())
	}
	return shared.srv
}

func handleStartError(t testing.TB, err error, ci bool) {
	t.Helper()
	if ci {
		t.Fatalf("starting the test apiserver (CI=true, so this fails instead of skipping): %v", err)
		return
	}
	t.Skipf("skipping: no test apiserver: %v", err)
}
