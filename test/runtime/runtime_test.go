//go:build runtime

// Package runtimetest is the ground-truth harness (issue 11, docs/testing.md
// "Runtime tests"): it runs containers under real runtimes on this machine,
// reads the capability sets the kernel gave each one, and holds the
// engine's prediction to them. Run it with `make test-runtime`, as root.
package runtimetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

func inCI() bool { return os.Getenv("CI") == "true" }

// unavailable fails in CI, where nothing may be missing, and skips
// elsewhere.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf(format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// runtimesDir is hack/runtimes.sh's cache directory: from
// KUBECTL_CAPS_RUNTIMES, else built by the script in CI, else only if
// already built.
func runtimesDir(t *testing.T) string {
	if d := os.Getenv("KUBECTL_CAPS_RUNTIMES"); d != "" {
		return d
	}
	args := []string{"--cached-only"}
	if inCI() {
		args = nil
	}
	cmd := exec.Command(filepath.Join(repoRoot(t), "hack", "runtimes.sh"), args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		unavailable(t, "no runtimes: %s %s: %v (run hack/runtimes.sh, minutes cold, or set KUBECTL_CAPS_RUNTIMES)", cmd.Path, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// runner is one started runtime.
type runner interface {
	run(ctx context.Context, name string, c *tcase) outcome
	stop()
}

// runtimeUnderTest is one runtime the harness measures.
type runtimeUnderTest struct {
	name  string // row label, e.g. "containerd v2.4.2 + runc v1.5.3 (module proxy)"
	start func(ctx context.Context, dir string) (runner, string, error)
}

// result is one case on one runtime.
type result struct {
	c          *tcase
	want, got  outcome
	diffs      []string
	skipReason string
}

// report is what docs/verification.md is made from.
type report struct {
	mu       sync.Mutex
	host     capability.Set
	kernel   string
	runtimes []runtimeReport
}

type runtimeReport struct {
	name, version, profile string
	duration               time.Duration
	results                []result
}

func TestGroundTruth(t *testing.T) {
	if os.Geteuid() != 0 {
		unavailable(t, "the runtime harness needs root (it starts containerd and dockerd)")
	}
	rt := runtimesDir(t)
	host, err := hostBounding()
	if err != nil {
		t.Fatal(err)
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	rep := &report{host: host, kernel: strings.TrimSpace(string(kernel))}
	t.Logf("host bounding set %s; missing %s: predictions are intersected with it", capability.Set(host).Hex(), names(capability.All&^host))

	work, err := os.MkdirTemp("", "kcr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unmountUnder(t, work)
		os.RemoveAll(work)
	})
	probe, err := buildProbe(work)
	if err != nil {
		t.Fatal(err)
	}
	probeBytes, err := os.ReadFile(probe)
	if err != nil {
		t.Fatal(err)
	}
	images := filepath.Join(work, "images.tar")
	if err := writeImages(images, probeBytes); err != nil {
		t.Fatal(err)
	}

	cases := matrixCases()
	ex, err := manifestCases("examples", filepath.Join(repoRoot(t), "examples"))
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, ex...)
	if dir, ok := sharedtest.Optional(t, "corpus"); ok {
		cc, err := manifestCases("corpus", dir)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, cc...)
	} else {
		t.Log("the shared corpus is absent: corpus cases not run")
	}

	snap := os.Getenv("KUBECTL_CAPS_SNAPSHOTTER")
	if snap == "" {
		snap = "overlayfs"
	}
	rts := []runtimeUnderTest{
		{name: "containerd (module proxy) + runc (module proxy)", start: func(ctx context.Context, dir string) (runner, string, error) {
			d, err := startContainerd(ctx, containerdSetup{
				name: "containerd 2.x", containerd: filepath.Join(rt, "containerd"), ctr: filepath.Join(rt, "ctr"),
				runc: filepath.Join(rt, "runc"), path: rt + ":/usr/sbin:/usr/bin:/sbin:/bin", configV3: true,
			}, dir, images, snap)
			if err != nil {
				return nil, "", err
			}
			return d, d.version, nil
		}},
		{name: "containerd (Debian) + runc (Debian)", start: func(ctx context.Context, dir string) (runner, string, error) {
			d, err := startContainerd(ctx, containerdSetup{
				name: "containerd 1.6 (Debian)", containerd: "/usr/bin/containerd", ctr: "/usr/bin/ctr",
				runc: "/usr/sbin/runc", path: "/usr/sbin:/usr/bin:/sbin:/bin",
			}, dir, images, snap)
			if err != nil {
				return nil, "", err
			}
			return d, d.version, nil
		}},
		{name: "Docker Engine (Debian docker.io)", start: func(ctx context.Context, dir string) (runner, string, error) {
			d, err := startDocker(ctx, "/usr/sbin/dockerd", dir, images)
			if err != nil {
				return nil, "", err
			}
			return d, d.version, nil
		}},
	}
	if only := os.Getenv("KUBECTL_CAPS_RUNTIME_ONLY"); only != "" {
		var keep []runtimeUnderTest
		for _, r := range rts {
			if strings.Contains(r.name, only) {
				keep = append(keep, r)
			}
		}
		rts = keep
	}

	for i, r := range rts {
		t.Run(r.name, func(t *testing.T) {
			dir := filepath.Join(work, strconv.Itoa(i))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
			defer cancel()
			start := time.Now()
			run, version, err := r.start(ctx, dir)
			if err != nil {
				t.Fatalf("starting %s: %v", r.name, err)
			}
			defer run.stop()
			p, err := runtimes.Parse(version)
			if err != nil {
				t.Fatalf("profile for %q: %v", version, err)
			}
			t.Logf("%s reports %s; engine profile %s", r.name, version, p)
			results := runAll(ctx, run, cases, p, host)
			rr := runtimeReport{name: r.name, version: version, profile: p.String(), duration: time.Since(start), results: results}
			rep.mu.Lock()
			rep.runtimes = append(rep.runtimes, rr)
			rep.mu.Unlock()
			agree := 0
			for j := range results {
				res := &results[j]
				if res.skipReason != "" {
					continue
				}
				if len(res.diffs) == 0 {
					agree++
					continue
				}
				t.Errorf("%s [%s] on %s:\n  %s", res.c.Name, res.c.Group, version, strings.Join(res.diffs, "\n  "))
			}
			t.Logf("%s: %d of %d cases agree in %v", version, agree, len(results), time.Since(start).Round(time.Second))
		})
	}
	if out := os.Getenv("KUBECTL_CAPS_VERIFICATION_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(rep.markdown()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", out)
	}
}

// unmountUnder detaches what the daemons left mounted below dir (dockerd
// 20.10 leaves its exec-root/netns/default nsfs mount behind), so that the
// directory can be removed.
func unmountUnder(t *testing.T, dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Log(err)
		return
	}
	var mounts []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			mounts = append(mounts, f[4])
		}
	}
	// Deepest first.
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := syscall.Unmount(mounts[i], syscall.MNT_DETACH); err != nil {
			t.Logf("unmounting %s: %v", mounts[i], err)
		}
	}
}

// runAll runs the cases on one runtime, several at a time: each is its own
// short-lived container in the shared sandbox, so they are independent.
func runAll(ctx context.Context, run runner, cases []tcase, p runtimes.Profile, host capability.Set) []result {
	jobs := runtime.NumCPU() * 2
	if j, err := strconv.Atoi(os.Getenv("KUBECTL_CAPS_RUNTIME_JOBS")); err == nil && j > 0 {
		jobs = j
	}
	results := make([]result, len(cases))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for i := range cases {
		c := &cases[i]
		results[i].c = c
		if why := c.skipReason(); why != "" {
			results[i].skipReason = why
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			want, _ := predict(c, p, host)
			cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			got := run.run(cctx, containerName(i, c.Name), c)
			cancel()
			results[i].want, results[i].got = want, got
			if got.By == "harness" {
				results[i].diffs = []string{"harness error: " + got.Message}
			} else {
				results[i].diffs = diff(want, got)
			}
		}()
	}
	wg.Wait()
	return results
}

func (r *report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Verification on real container runtimes\n\n")
	fmt.Fprintf(&b, "Generated by `make verification` (test/runtime, `go test -tags runtime`); do not edit.\n")
	fmt.Fprintf(&b, "Each case is a container spec run under a real runtime through the same API the kubelet\n")
	fmt.Fprintf(&b, "(or cri-dockerd) uses; a probe inside reads `/proc/self/status` and the harness compares the\n")
	fmt.Fprintf(&b, "bounding, permitted, effective and ambient sets and `no_new_privs` with the engine's\n")
	fmt.Fprintf(&b, "prediction for that runtime and version. How the harness works: [testing.md](testing.md#runtime-tests-the-ground-truth-harness-testruntime).\n\n")
	fmt.Fprintf(&b, "## Host\n\n")
	fmt.Fprintf(&b, "- kernel: `%s`\n", r.kernel)
	fmt.Fprintf(&b, "- bounding set of the test process: `%s` (%d capabilities)", r.host.Hex(), r.host.Len())
	if miss := capability.All &^ r.host; miss != 0 {
		fmt.Fprintf(&b, "; it lacks %s, so no container here can hold %s, and every prediction is intersected with this set before the comparison", names(miss), map[bool]string{true: "it", false: "them"}[miss.Len() == 1])
	}
	fmt.Fprintf(&b, ".\n\n## Agreement\n\n")
	fmt.Fprintf(&b, "| runtime | version (as the kubelet reports it) | engine profile | cases run | agree | disagree | agree: refused as predicted (of which because of the host) | not run | time |\n")
	fmt.Fprintf(&b, "|---|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, rr := range r.runtimes {
		var run, agree, refused, hostRefused, skipped int
		for _, res := range rr.results {
			if res.skipReason != "" {
				skipped++
				continue
			}
			run++
			if len(res.diffs) == 0 {
				agree++
				if res.got.Refused {
					refused++
				}
				if res.want.By == "host" {
					hostRefused++
				}
			}
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %d | %d | %d | %d (%d) | %d | %v |\n", rr.name, rr.version, rr.profile, run, agree, run-agree, refused, hostRefused, skipped, rr.duration.Round(time.Second))
	}
	fmt.Fprintf(&b, "\nBy group of cases:\n\n| runtime | group | cases run | agree |\n|---|---|---:|---:|\n")
	for _, rr := range r.runtimes {
		for _, g := range []string{"matrix", "examples", "corpus"} {
			var run, agree int
			for _, res := range rr.results {
				if res.c.Group != g || res.skipReason != "" {
					continue
				}
				run++
				if len(res.diffs) == 0 {
					agree++
				}
			}
			if run > 0 {
				fmt.Fprintf(&b, "| %s | %s | %d | %d |\n", rr.version, g, run, agree)
			}
		}
	}
	fmt.Fprintf(&b, "\n## Disagreements\n\n")
	n := 0
	for _, rr := range r.runtimes {
		for _, res := range rr.results {
			if res.skipReason != "" || len(res.diffs) == 0 {
				continue
			}
			n++
			fmt.Fprintf(&b, "- `%s`, %s case **%s**:\n", rr.version, res.c.Group, res.c.Name)
			for _, d := range res.diffs {
				fmt.Fprintf(&b, "  - %s\n", d)
			}
		}
	}
	if n == 0 {
		fmt.Fprintf(&b, "None.\n")
	}
	fmt.Fprintf(&b, "\n## Refused because of this host\n\n")
	fmt.Fprintf(&b, "Cases the engine predicts to run on a node with the full bounding set, but for which the runtime\n")
	fmt.Fprintf(&b, "asks runc for a capability this host's bounding set lacks: one the spec adds by name (every\n")
	fmt.Fprintf(&b, "runtime), or the whole list that ALL and privileged expand to where that list is static and not\n")
	fmt.Fprintf(&b, "the daemon's own set (Docker before 23.0: moby oci/caps/utils.go GetAllCapabilities; docs/engine.md,\n")
	fmt.Fprintf(&b, "\"What ALL means\"). runc's capset(2) then fails with EPERM (\"unable to apply caps: operation not\n")
	fmt.Fprintf(&b, "permitted\"). The harness expects that refusal; on a host with the full bounding set these run.\n\n")
	hostSeen := map[string]bool{}
	for _, rr := range r.runtimes {
		for _, res := range rr.results {
			if res.want.By == "host" && !hostSeen[res.c.Name] {
				hostSeen[res.c.Name] = true
				fmt.Fprintf(&b, "- %s case %s: %s\n", res.c.Group, res.c.Name, res.want.Message)
			}
		}
	}
	if len(hostSeen) == 0 {
		fmt.Fprintf(&b, "None.\n")
	}
	fmt.Fprintf(&b, "\n## Not run\n\n")
	seen := map[string]bool{}
	for _, rr := range r.runtimes {
		for _, res := range rr.results {
			if res.skipReason != "" && !seen[res.c.Name] {
				seen[res.c.Name] = true
				fmt.Fprintf(&b, "- %s case %s: %s\n", res.c.Group, res.c.Name, res.skipReason)
			}
		}
	}
	if len(seen) == 0 {
		fmt.Fprintf(&b, "None.\n")
	}
	return b.String()
}
