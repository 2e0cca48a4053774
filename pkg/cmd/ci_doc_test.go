package cmd

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/kubectl-caps/kubectl-caps/internal/sariftest"
)

// TestCIDocIsRealOutput (YAML 1.2, as GitHub reads a workflow: "on" is
// a key, not true) holds docs/ci.md to what the command does: each
// YAML block parses, each kubectl caps (or kubectl-caps) command in it and
// in its console blocks runs, with its flags, in a directory where
// examples/ and deploy/ are copies of the repository's examples/ (exit 0
// or 1: findings, never a usage or input error), the files the workflows
// upload are what they name and are valid (SARIF against the 2.1.0 schema,
// JUnit as XML), a console block that shows output shows exactly what the
// command prints, and the pre-commit config uses the hook that
// .pre-commit-hooks.yaml defines.
func TestCIDocIsRealOutput(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ci.md")
	if err != nil {
		t.Fatal(err)
	}
	hooksFile, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct {
		ID            string   `yaml:"id"`
		Entry         string   `yaml:"entry"`
		Args          []string `yaml:"args"`
		PassFilenames *bool    `yaml:"pass_filenames"`
	}
	if err := yaml.Unmarshal(hooksFile, &hooks); err != nil {
		t.Fatalf(".pre-commit-hooks.yaml: %v", err)
	}
	if len(hooks) != 1 || hooks[0].ID != "kubectl-caps" || hooks[0].Entry != "kubectl-caps audit" ||
		hooks[0].PassFilenames == nil || *hooks[0].PassFilenames {
		t.Fatalf(".pre-commit-hooks.yaml: want one hook kubectl-caps, entry kubectl-caps audit, pass_filenames: false (docs/ci.md), got %+v", hooks)
	}
	dir := t.TempDir()
	for _, d := range []string{"examples", "deploy"} {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS("../../examples")); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)

	var commands [][]string // in the order of the doc, --write-baseline first
	type output struct {
		args []string
		want string
	}
	var outputs []output
	add := func(line string) {
		line = strings.TrimSpace(line)
		for _, p := range []string{"kubectl caps ", "kubectl-caps "} {
			if rest, ok := strings.CutPrefix(line, p); ok {
				commands = append(commands, strings.Fields(rest))
			}
		}
	}
	// The hook's own args, as pre-commit runs them without a user's.
	add(hooks[0].Entry + " " + strings.Join(hooks[0].Args, " "))
	blocks := 0
	rest := string(doc)
	for {
		var info, block string
		var ok bool
		if _, rest, ok = strings.Cut(rest, "```"); !ok {
			break
		}
		info, rest, _ = strings.Cut(rest, "\n")
		block, rest, _ = strings.Cut(rest, "```\n")
		switch info {
		case "console":
			cmdline, want, _ := strings.Cut(strings.TrimPrefix(block, "$ "), "\n")
			add(cmdline)
			if want != "" {
				outputs = append(outputs, output{commands[len(commands)-1], want})
			}
		case "yaml":
			blocks++
			var v any
			if err := yaml.Unmarshal([]byte(block), &v); err != nil {
				t.Fatalf("docs/ci.md: a YAML block does not parse: %v\n%s", err, block)
			}
			checkCIYAML(t, v, hooks[0].Args, add)
		}
	}
	if blocks < 3 {
		t.Fatalf("docs/ci.md: %d YAML blocks, want the GitHub workflow, the GitLab job and the pre-commit config", blocks)
	}
	slices.SortStableFunc(commands, func(a, b []string) int {
		return map[bool]int{true: -1}[slices.Contains(a, "--write-baseline")] - map[bool]int{true: -1}[slices.Contains(b, "--write-baseline")]
	})
	if len(commands) < 5 {
		t.Fatalf("docs/ci.md: only %d kubectl caps commands found", len(commands))
	}
	for _, args := range commands {
		args, file, _ := strings.Cut(strings.Join(args, " "), " > ")
		out, errOut, code := run(t, "", strings.Fields(args)...)
		if code > 1 {
			t.Errorf("docs/ci.md: kubectl caps %s: exit %d\n%s", args, code, errOut)
			continue
		}
		switch {
		case file == "":
		case strings.Contains(args, "-o sarif"):
			sariftest.Validate(t, []byte(out))
		case strings.Contains(args, "-o junit"):
			if err := xml.Unmarshal([]byte(out), new(struct{})); err != nil {
				t.Errorf("docs/ci.md: kubectl caps %s: not XML: %v", args, err)
			}
		}
	}
	for _, o := range outputs {
		out, errOut, _ := run(t, "", o.args...)
		if got := out + errOut; got != o.want {
			t.Errorf("docs/ci.md shows for kubectl caps %s:\n%s\nbut it prints:\n%s", strings.Join(o.args, " "), o.want, got)
		}
	}
}

// checkCIYAML checks one YAML block of docs/ci.md by what it is, and passes
// each line of a run: or script: to add.
func checkCIYAML(t *testing.T, v any, hookArgs []string, add func(string)) {
	t.Helper()
	m, _ := v.(map[string]any)
	get := func(v any, path ...any) any {
		for _, p := range path {
			switch p := p.(type) {
			case string:
				m, _ := v.(map[string]any)
				v = m[p]
			case int:
				l, _ := v.([]any)
				if p >= len(l) {
					return nil
				}
				v = l[p]
			}
		}
		return v
	}
	// redirect is the file the audit line of script writes.
	redirect := func(lines []string) string {
		for _, l := range lines {
			if _, f, ok := strings.Cut(l, " > "); ok && strings.Contains(l, "caps") {
				return strings.TrimSpace(f)
			}
		}
		return ""
	}
	switch {
	case m["jobs"] != nil: // GitHub Actions
		if get(m, "on", "pull_request") == nil || get(m, "permissions", "security-events") != "write" {
			t.Errorf("docs/ci.md: the workflow must run on pull_request with security-events: write")
		}
		var lines []string
		var sarif any
		steps, _ := get(m, "jobs", "audit", "steps").([]any)
		for _, s := range steps {
			if r, ok := get(s, "run").(string); ok {
				lines = append(lines, strings.Split(r, "\n")...)
			}
			if u, _ := get(s, "uses").(string); strings.HasPrefix(u, "github/codeql-action/upload-sarif@") {
				sarif = get(s, "with", "sarif_file")
			}
		}
		if f := redirect(lines); f == "" || f != sarif {
			t.Errorf("docs/ci.md: the workflow writes %q and uploads %v", f, sarif)
		}
		for _, l := range lines {
			checkInstall(t, l)
			add(l)
		}
	case get(m, "caps-audit") != nil: // GitLab CI
		var lines []string
		script, _ := get(m, "caps-audit", "script").([]any)
		for _, l := range script {
			s, _ := l.(string)
			lines = append(lines, s)
			checkInstall(t, s)
			add(s)
		}
		if f := redirect(lines); f == "" || f != get(m, "caps-audit", "artifacts", "reports", "junit") {
			t.Errorf("docs/ci.md: the GitLab job writes %q and reports %v", f, get(m, "caps-audit", "artifacts", "reports", "junit"))
		}
	case m["repos"] != nil: // pre-commit
		if get(m, "repos", 0, "repo") != "https://github.com/kubectl-caps/kubectl-caps" || get(m, "repos", 0, "hooks", 0, "id") != "kubectl-caps" {
			t.Errorf("docs/ci.md: the pre-commit config must use the hook kubectl-caps of this repository")
		}
		args := hookArgs
		if a, ok := get(m, "repos", 0, "hooks", 0, "args").([]any); ok {
			args = nil
			for _, s := range a {
				args = append(args, s.(string))
			}
		}
		add("kubectl-caps audit " + strings.Join(args, " "))
	default:
		t.Errorf("docs/ci.md: a YAML block that is no workflow, GitLab job or pre-commit config: %v", v)
	}
}

// checkInstall checks that a go install line names this module's command.
func checkInstall(t *testing.T, line string) {
	if pkg, ok := strings.CutPrefix(strings.TrimSpace(line), "go install "); ok {
		path, _, _ := strings.Cut(pkg, "@")
		if path != "github.com/kubectl-caps/kubectl-caps/cmd/kubectl-caps" {
			t.Errorf("docs/ci.md: go install %s: not the plugin's command", pkg)
		}
	}
}
