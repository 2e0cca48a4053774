package cmd

import (
	"os"
	"strings"
	"testing"
)

// docs/evidence.md's worked example shows real output: each console block
// that runs kubectl caps must be exactly what the command prints (stdout,
// then stderr, as a terminal shows them), run from the repository root.
func TestEvidenceDocIsRealOutput(t *testing.T) {
	b, err := os.ReadFile("../../docs/evidence.md")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("../..")
	n := 0
	rest := string(b)
	for {
		var block string
		var ok bool
		if _, rest, ok = strings.Cut(rest, "```console\n$ kubectl caps "); !ok {
			break
		}
		block, rest, _ = strings.Cut(rest, "```\n")
		cmdline, want, _ := strings.Cut(block, "\n")
		out, errOut, code := run(t, "", strings.Fields(cmdline)...)
		if code != 0 {
			t.Errorf("kubectl caps %s: exit %d", cmdline, code)
		}
		if got := out + errOut; got != want {
			t.Errorf("docs/evidence.md shows for kubectl caps %s:\n%s\nbut it prints:\n%s", cmdline, want, got)
		}
		n++
	}
	if n < 2 {
		t.Errorf("only %d samples checked", n)
	}
}
