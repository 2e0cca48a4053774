package cmd

import (
	"bytes"
	"strings"
	"testing"

	goldenfile "github.com/kubectl-caps/kubectl-caps/internal/golden"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

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
	goldenfile.Check(t, name, got)
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
