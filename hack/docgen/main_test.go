package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDocsIndependentOfMachine builds the generator and runs it as `make docs`
// does, twice, in two different working directories with two different homes
// and environments, and requires byte-identical trees. The committed docs are
// checked against the generator by `make verify`; this test is what makes that
// check pass on every contributor's machine and not only on the one whose home
// the docs were generated in.
func TestDocsIndependentOfMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the generator")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "docgen")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./hack/docgen: %v\n%s", err, out)
	}

	// Each run gets its own home, working directory and environment-derived
	// settings: everything a contributor's machine can differ in.
	type machine struct{ home, cwd, out string }
	var runs []machine
	for i, env := range [][]string{
		{"HOME=/root", "USER=root", "LOGNAME=root", "TZ=UTC"},
		{"HOME=" + filepath.Join(tmp, "home", "someone-else"), "USER=someone-else", "LOGNAME=someone-else",
			"TZ=Pacific/Kiritimati", "KUBECACHEDIR=" + filepath.Join(tmp, "kubecache"),
			"KUBECONFIG=" + filepath.Join(tmp, "kubeconfig"), "XDG_CACHE_HOME=" + filepath.Join(tmp, "xdg")},
	} {
		m := machine{
			home: strings.TrimPrefix(env[0], "HOME="),
			cwd:  filepath.Join(tmp, "cwd", string(rune('a'+i)), "deeper"),
			out:  filepath.Join(tmp, "out", string(rune('a'+i))),
		}
		if err := os.MkdirAll(m.cwd, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-out", m.out)
		cmd.Dir = m.cwd
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docgen with %v: %v\n%s", env, err, out)
		}
		runs = append(runs, m)
	}

	a, b := readTree(t, runs[0].out), readTree(t, runs[1].out)
	if len(a) == 0 {
		t.Fatal("the generator wrote no files")
	}
	for name, ca := range a {
		cb, ok := b[name]
		switch {
		case !ok:
			t.Errorf("%s: written on the first machine only", name)
		case !bytes.Equal(ca, cb):
			t.Errorf("%s differs between machines:\n%s", name, firstDiff(ca, cb))
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("%s: written on the second machine only", name)
		}
	}
	// Identical output could still embed something both runs share (the
	// temporary directory): name what must never appear.
	for _, m := range runs {
		for name, c := range readTree(t, m.out) {
			for _, leak := range []string{m.home + "/", m.cwd, tmp} {
				if bytes.Contains(c, []byte(leak)) {
					t.Errorf("%s contains %q, a path or name of the generating machine", name, leak)
				}
			}
		}
	}
	// The cache-dir default is the one environment-derived default today;
	// it must read as a user's shell would expand it.
	page := a[filepath.Join("commands", "kubectl_caps_audit.md")]
	if !bytes.Contains(page, []byte(`(default "$HOME/.kube/cache")`)) {
		t.Errorf("kubectl_caps_audit.md: --cache-dir default is not written as $HOME/.kube/cache")
	}
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		c, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[rel] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n< " + x + "\n> " + y
		}
	}
	return "(no line differs; byte counts differ)"
}
