// Package fuzzscript tests hack/fuzz.sh's handling of Go's fuzzing
// coordinator race (go.dev/issue/75804) with a stand-in for the go command.
package fuzzscript

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeGo answers `go list` with one package holding FuzzX and `go test`
// with the outcomes given, one per call, counting the calls in a file.
const fakeGo = `#!/usr/bin/env bash
case "$1" in
list) if [ "$2" = "-f" ]; then echo "$PKGDIR"; else echo example.com/p; fi; exit 0 ;;
esac
n=$(cat "$COUNT" 2>/dev/null || echo 0); n=$((n+1)); echo $n >"$COUNT"
outcome=$(echo "$OUTCOMES" | cut -d, -f$n)
case "$outcome" in
pass) echo ok; exit 0 ;;
deadline) echo "--- FAIL: FuzzX (5.4s)"; echo "    context deadline exceeded"; exit 1 ;;
crash) echo "--- FAIL: FuzzX (1.0s)"; echo "    Failing input written to testdata/fuzz/FuzzX/abc"; echo "    context deadline exceeded"; exit 1 ;;
esac
`

func TestFuzzScriptRetriesOnlyTheDeadlineRace(t *testing.T) {
	script, err := filepath.Abs("../fuzz.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		outcomes  string
		wantOK    bool
		wantCalls string
	}{
		{"pass", true, "1"},
		{"deadline,pass", true, "2"},               // the race, then a clean run
		{"deadline,deadline,pass", true, "3"},      // the race twice
		{"deadline,deadline,deadline", false, "3"}, // three times: not waved through
		{"crash,pass", false, "1"},                 // a written input fails at once
		{"deadline,crash,pass", false, "2"},        // nor on a retry
	} {
		t.Run(tc.outcomes, func(t *testing.T) {
			dir := t.TempDir()
			goBin := filepath.Join(dir, "go")
			if err := os.WriteFile(goBin, []byte(fakeGo), 0o755); err != nil {
				t.Fatal(err)
			}
			pkg := filepath.Join(dir, "p")
			if err := os.MkdirAll(pkg, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(pkg, "x_test.go"), []byte("package p\n\nfunc FuzzX(f *testing.F) {}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			count := filepath.Join(dir, "count")
			cmd := exec.Command("bash", script)
			cmd.Env = append(os.Environ(), "GO="+goBin, "PKGDIR="+pkg, "COUNT="+count, "OUTCOMES="+tc.outcomes, "FUZZTIME=1s")
			out, err := cmd.CombinedOutput()
			if (err == nil) != tc.wantOK {
				t.Errorf("exit error %v, want ok=%v:\n%s", err, tc.wantOK, out)
			}
			calls, _ := os.ReadFile(count)
			if got := strings.TrimSpace(string(calls)); got != tc.wantCalls {
				t.Errorf("%s go test runs, want %s:\n%s", got, tc.wantCalls, out)
			}
		})
	}
}
