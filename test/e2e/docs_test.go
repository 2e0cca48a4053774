//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
)

// TestDocumentedPatchCommands runs, word for word, the commands that
// suggest-drop's --help and docs/hardening-guide.md give for patching the
// bundled examples without a cluster, with the real kubectl and the plugin
// on PATH, in a directory where examples/ is the repository's (issue 16
// item 17: the --help example used to patch a file holding a Deployment
// and a Service with kubectl patch --local, which patched the Service too
// and printed both without "---", so the re-audit failed with exit 3).
func TestDocumentedPatchCommands(t *testing.T) {
	srv := testserver.Get(t)
	bin := pluginDir(t)
	root := plugin.modRoot

	t.Run("suggest-drop --help", func(t *testing.T) {
		help := kubectl(t, srv, kubectlOpts{noConfig: true}, "caps", "suggest-drop", "--help").ok(t).stdout
		groups := helpExamples(help)
		ran := 0
		for _, g := range groups {
			if !strings.Contains(strings.Join(g.commands, "\n"), "examples/") {
				continue
			}
			ran++
			t.Run(g.title, func(t *testing.T) {
				dir := docsWorkdir(t, root)
				var last string
				for _, c := range g.commands {
					last = shell(t, srv, bin, dir, c)
				}
				// The example hardens examples/01-web-defaults.yaml: the
				// re-audit shows the Deployment without NET_RAW, which
				// the catalog says to drop (docs/suggest-drop.md).
				if !strings.Contains(last, "deploy/web") || strings.Contains(last, "NET_RAW") {
					t.Errorf("the last command's output does not show deploy/web hardened:\n%s", last)
				}
			})
		}
		if ran == 0 {
			t.Fatalf("no example of suggest-drop --help works on a bundled example (examples/...):\n%s", help)
		}
	})

	t.Run("hardening guide", func(t *testing.T) {
		guide, err := os.ReadFile(filepath.Join(root, "docs", "hardening-guide.md"))
		if err != nil {
			t.Fatal(err)
		}
		dir := docsWorkdir(t, root)
		written := map[string]bool{}
		outputs := map[string]string{}
		ran := 0
		for _, c := range consoleCommands(string(guide)) {
			// Only what needs no cluster: commands on the bundled examples
			// or on the files earlier commands wrote.
			local := strings.Contains(c, "examples/")
			for f := range written {
				local = local || strings.Contains(c, " "+f)
			}
			if !local {
				continue
			}
			out := shell(t, srv, bin, dir, c)
			ran++
			if m := redirect.FindStringSubmatch(c); m != nil {
				written[m[1]] = true
			}
			outputs[c] = out
		}
		if ran < 4 {
			t.Fatalf("ran %d commands of the guide; it should patch an example and audit the result", ran)
		}
		for _, f := range []string{"db.yaml", "web.yaml"} {
			if !written[f] {
				t.Errorf("the guide no longer writes %s", f)
			}
		}
		if out := outputs["kubectl caps audit -f web.yaml"]; !strings.Contains(out, "deploy/web") || strings.Contains(out, "NET_RAW") {
			t.Errorf("audit -f web.yaml does not show deploy/web hardened:\n%s", out)
		}
	})
}

// redirect finds the file a command writes with "> FILE".
var redirect = regexp.MustCompile(`>\s*([\w./-]+)\s*(?:#.*)?$`)

// exampleGroup is one example of a command's --help: its comment and
// command lines.
type exampleGroup struct {
	title    string
	commands []string
}

// helpExamples splits the Examples section of a --help text into its
// examples: a "# comment" line, then command lines, then a blank line.
func helpExamples(help string) []exampleGroup {
	_, ex, ok := strings.Cut(help, "Examples:\n")
	if !ok {
		return nil
	}
	ex, _, _ = strings.Cut(ex, "\n\nFlags:")
	ex, _, _ = strings.Cut(ex, "\n\nOptions:")
	var out []exampleGroup
	for _, block := range strings.Split(ex, "\n\n") {
		var g exampleGroup
		for _, l := range strings.Split(block, "\n") {
			l = strings.TrimSpace(l)
			switch {
			case strings.HasPrefix(l, "#"):
				g.title = strings.TrimSpace(strings.TrimPrefix(l, "#"))
			case l != "":
				g.commands = append(g.commands, l)
			}
		}
		if len(g.commands) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// consoleCommands are the "$ " lines of the ```console blocks of a
// Markdown page, in order, with any trailing comment kept (sh ignores it).
func consoleCommands(md string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(l, "```console"):
			in = true
		case strings.HasPrefix(l, "```"):
			in = false
		case in && strings.HasPrefix(l, "$ "):
			out = append(out, strings.TrimPrefix(l, "$ "))
		}
	}
	return out
}

// docsWorkdir is an empty directory whose examples/ is the repository's,
// so the documented relative paths work and what they write stays there.
func docsWorkdir(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "examples"), filepath.Join(dir, "examples")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shell runs one documented command line as a user's shell would, with the
// plugin and the real kubectl first on PATH and no kubeconfig (nothing here
// may need a cluster), and returns its stdout; a non-zero exit fails the
// test.
func shell(t *testing.T, srv *testserver.Server, bin, dir, line string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "sh", "-ec", line)
	c.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	path := bin + string(os.PathListSeparator) + filepath.Dir(srv.KubectlPath) + string(os.PathListSeparator) + os.Getenv("PATH")
	c.Env = append(env, "PATH="+path, "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("$ %s\n%v\nstdout:\n%s\nstderr:\n%s", line, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
