package cmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// run executes `kubectl caps ARGS...` in-process with captured streams and
// returns stdout, stderr and the exit code main would use.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	in := strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	root := NewCmdRoot(genericiooptions.IOStreams{In: in, Out: &out, ErrOut: &errOut})
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), ExitCode(err)
}

// golden compares got with testdata/NAME, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run 'go test ./pkg/cmd -update' to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", path, diff)
	}
}

// expectError checks a command that must fail: its exit code, an empty
// stdout (a partial result must never look complete), and each text on
// stderr.
func expectError(t *testing.T, args []string, code int, want ...string) {
	t.Helper()
	out, errOut, got := run(t, "", args...)
	if got != code {
		t.Errorf("exit %d, want %d", got, code)
	}
	if out != "" {
		t.Errorf("stdout must stay empty on error, got:\n%s", out)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr %q lacks %q", errOut, w)
		}
	}
}
