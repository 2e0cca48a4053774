//go:build e2e

// Package precommit runs the repository's pre-commit hook
// (.pre-commit-hooks.yaml, docs/ci.md) the way a user does: the real
// pre-commit (Debian's 3.0.4, installed by hack/precommit.sh), a
// .pre-commit-config.yaml that names this repository and a rev, and
// `git commit` in a repository of manifests. pre-commit builds the hook
// itself (`language: golang`: `go install ./...` of the rev), so the test
// proves the hook definition, the build and the audit together.
package precommit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The hook's findings for examples/01-web-defaults.yaml saved as
// deploy/web.yaml: the error that fails the commit, with its file, line
// and column (docs/findings.md).
const webError = `::error file=deploy/web.yaml,line=19,col=9,title=CAPS002 shop/deploy/web nginx NET_RAW::container "nginx" holds NET_RAW, of high risk here (held after exec)`

func TestPreCommitHook(t *testing.T) {
	pc := preCommit(t)
	root := modRoot(t)
	cache := cacheDir(t)
	rev := snapshot(t, root, filepath.Join(cache, "repo.git"), filepath.Join(cache, "store"))
	env := append(os.Environ(),
		"PRE_COMMIT_HOME="+filepath.Join(cache, "store"),
		// The module cache of the machine, not one inside pre-commit's
		// environment (its GOPATH): the proxy is asked once.
		"GOMODCACHE="+goEnv(t, "GOMODCACHE"),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
	)
	web, err := os.ReadFile(filepath.Join(root, "examples", "01-web-defaults.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	restricted, err := os.ReadFile(filepath.Join(root, "examples", "02-api-restricted.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The allow annotation (docs/exceptions.md) on the Deployment.
	allowed := strings.Replace(string(web), "  namespace: shop\nspec:\n  replicas: 3",
		"  namespace: shop\n  annotations:\n    caps.kubectl-caps.io/allow: 'nginx: NET_RAW; reason: ping probes'\nspec:\n  replicas: 3", 1)
	if allowed == string(web) {
		t.Fatal("examples/01-web-defaults.yaml changed: the allow annotation is not placed")
	}

	for _, tc := range []struct {
		name   string
		args   string // the hook's args in the config; "" keeps the defaults
		file   string // what is committed
		body   string
		pass   bool
		expect []string // in pre-commit's output
	}{
		{name: "bad manifest", file: "deploy/web.yaml", body: string(web),
			expect: []string{"kubectl caps audit", "Failed", "- exit code: 1", webError,
				"error: 1 container(s) hold capabilities at or above --fail-on=high"}},
		{name: "good manifest", file: "deploy/api.yaml", body: string(restricted), pass: true,
			expect: []string{"kubectl caps audit", "Passed"}},
		{name: "excepted", file: "deploy/web.yaml", body: allowed, pass: true,
			expect: []string{"kubectl caps audit", "Passed"}},
		{name: "args override --fail-on", args: "[--fail-on=critical, -o, github, -f, ., -R]",
			file: "deploy/web.yaml", body: string(web), pass: true, expect: []string{"Passed"}},
		// files: only a staged manifest runs the hook.
		{name: "no manifest staged", file: "README.md", body: "# hello\n", pass: true,
			expect: []string{"(no files to check)Skipped"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			git := func(args ...string) (string, error) {
				c := exec.Command("git", args...)
				c.Dir, c.Env = dir, env
				out, err := c.CombinedOutput()
				return string(out), err
			}
			must := func(out string, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
			}
			config := fmt.Sprintf("repos:\n- repo: %s\n  rev: %s\n  hooks:\n  - id: kubectl-caps\n",
				filepath.Join(cache, "repo.git"), rev)
			if tc.args != "" {
				config += "    args: " + tc.args + "\n"
			}
			write(t, dir, ".pre-commit-config.yaml", config)
			must(git("init", "-q"))
			must(git("add", "."))
			must(git("commit", "-q", "-m", "config"))
			c := exec.Command(pc, "install")
			c.Dir, c.Env = dir, env
			if out, err := c.CombinedOutput(); err != nil {
				t.Fatalf("pre-commit install: %v\n%s", err, out)
			}
			if tc.file == "README.md" { // a bad manifest is there, unchanged
				write(t, dir, "deploy/web.yaml", string(web))
				must(git("add", "."))
				must(git("commit", "-q", "--no-verify", "-m", "web"))
			}
			write(t, dir, tc.file, tc.body)
			must(git("add", "."))
			start := time.Now()
			out, err := git("commit", "-m", tc.name)
			t.Logf("git commit with the hook: %s", time.Since(start).Round(time.Millisecond))
			if tc.pass && err != nil {
				t.Errorf("the commit failed: %v\n%s", err, out)
			} else if !tc.pass && err == nil {
				t.Errorf("the commit passed, want it refused:\n%s", out)
			}
			for _, s := range tc.expect {
				if !strings.Contains(out, s) {
					t.Errorf("pre-commit's output lacks %q:\n%s", s, out)
				}
			}
			log, _ := git("log", "--format=%s")
			if committed := strings.Contains(log, tc.name); committed != tc.pass {
				t.Errorf("committed = %v, want %v; git log:\n%s", committed, tc.pass, log)
			}
		})
	}
}

// preCommit is the pre-commit command: KUBECTL_CAPS_PRECOMMIT (make
// test-e2e sets it, hack/precommit.sh), else PATH. CI must run the test.
func preCommit(t *testing.T) string {
	if pc := os.Getenv("KUBECTL_CAPS_PRECOMMIT"); pc != "" {
		return pc
	}
	pc, err := exec.LookPath("pre-commit")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pre-commit is not installed and CI=true: run hack/precommit.sh (make test-e2e does)")
		}
		t.Skip("pre-commit is not installed: hack/precommit.sh installs Debian's")
	}
	return pc
}

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

func modRoot(t *testing.T) string {
	return filepath.Dir(goEnv(t, "GOMOD"))
}

// cacheDir keeps pre-commit's store (the hook built for each rev) and the
// repository it clones from, so that a tree is built once.
func cacheDir(t *testing.T) string {
	dir := os.Getenv("KUBECTL_CAPS_PRECOMMIT_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(base, "kubectl-caps-precommit")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// snapshot commits the working tree as it is (tracked and untracked files,
// not ignored ones; as pre-commit try-repo does) into the bare repository
// bare, through an index of its own, so the project's own index, refs and
// objects are untouched and a tree that is no git checkout works too, and
// returns the commit. The commit has fixed dates and no parent, so one
// tree is one rev, and pre-commit's store builds it once. The store holds
// one rev (each is some 280 MB): another tree empties it.
func snapshot(t *testing.T, root, bare, store string) string {
	env := append(os.Environ(), "GIT_DIR="+bare, "GIT_WORK_TREE="+root,
		"GIT_INDEX_FILE="+filepath.Join(t.TempDir(), "index"),
		"GIT_AUTHOR_NAME=kubectl-caps test", "GIT_AUTHOR_EMAIL=test@kubectl-caps.invalid",
		"GIT_COMMITTER_NAME=kubectl-caps test", "GIT_COMMITTER_EMAIL=test@kubectl-caps.invalid",
		"GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	run := func(args ...string) string {
		t.Helper()
		c := exec.Command("git", args...)
		c.Dir, c.Env = root, env
		out, err := c.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return strings.TrimSpace(string(out))
	}
	if _, err := os.Stat(bare); err != nil {
		if out, err := exec.Command("git", "init", "-q", "--bare", bare).CombinedOutput(); err != nil {
			t.Fatalf("git init --bare %s: %v\n%s", bare, err, out)
		}
	}
	run("add", "-A")
	commit := run("commit-tree", run("write-tree"), "-m", "kubectl-caps working tree for the pre-commit test")
	if old, _ := exec.Command("git", "--git-dir", bare, "rev-parse", "-q", "--verify", "refs/heads/snapshot").Output(); strings.TrimSpace(string(old)) != commit {
		if err := os.RemoveAll(store); err != nil {
			t.Fatal(err)
		}
	}
	run("update-ref", "refs/heads/snapshot", commit)
	return commit
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
