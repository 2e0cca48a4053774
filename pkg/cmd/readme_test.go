package cmd

import (
	"os"
	"strings"
	"testing"
)

// The README's "A first look" shows real output: each line of its table
// and its summary must be a line that `audit -f examples/ -R` prints, so
// the sample cannot drift from the tool.
func TestReadmeSampleIsRealOutput(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "$ kubectl caps audit -f examples/ -R\n")
	if !ok {
		t.Fatal("README has no `$ kubectl caps audit -f examples/ -R` sample")
	}
	block, _, _ = strings.Cut(block, "\n\n")
	out, errOut, code := run(t, "", "audit", "-f", examples, "-R")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	printed := map[string]bool{}
	for _, l := range strings.Split(out+errOut, "\n") {
		printed[l] = true
	}
	n := 0
	for _, l := range strings.Split(block, "\n") {
		if l == "..." || l == "" {
			continue
		}
		n++
		if !printed[l] {
			t.Errorf("README line is not in the output of audit -f examples/ -R:\n%s", l)
		}
	}
	if n < 4 {
		t.Errorf("only %d sample lines checked", n)
	}
}
