//go:build e2e

// Package e2e runs the plugin exactly as a user does: the kubectl-caps
// binary built from ./cmd/kubectl-caps on PATH, invoked through the real
// kubectl (built by hack/testbin.sh), against a real kube-apiserver.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
)

// e2eVersion is stamped into the binary so the tests can tell that kubectl
// ran the one they built, not a kubectl-caps installed elsewhere on PATH.
const e2eVersion = "v0.0.0-e2e"

// containerd14 is containerd's default set (docs/sources.md#containerd-defaults).
var containerd14 = []string{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}

var plugin struct {
	once    sync.Once
	tmp     string // removed after the tests
	bin     string // the directory put on PATH
	modRoot string
	err     error
}

func TestMain(m *testing.M) {
	code := testserver.Main(m, testserver.Options{})
	if plugin.tmp != "" {
		os.RemoveAll(plugin.tmp)
	}
	os.Exit(code)
}

// pluginDir builds kubectl-caps once per test binary, as `make build`
// does, into a directory of its own.
func pluginDir(t *testing.T) string {
	t.Helper()
	plugin.once.Do(func() {
		start := time.Now()
		goBin, err := exec.LookPath("go")
		if err != nil {
			plugin.err = fmt.Errorf("the go command is needed to build the plugin: %w", err)
			return
		}
		out, err := exec.Command(goBin, "env", "GOMOD").Output()
		if err != nil {
			plugin.err = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		plugin.modRoot = filepath.Dir(strings.TrimSpace(string(out)))
		if plugin.tmp, err = os.MkdirTemp("", "kubectl-caps-e2e-"); err != nil {
			plugin.err = err
			return
		}
		plugin.bin = filepath.Join(plugin.tmp, "bin")
		build := exec.Command(goBin, "build", "-trimpath",
			"-ldflags", "-X github.com/kubectl-caps/kubectl-caps/pkg/cmd.version="+e2eVersion,
			"-o", filepath.Join(plugin.bin, "kubectl-caps"), "./cmd/kubectl-caps")
		build.Dir = plugin.modRoot
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			plugin.err = fmt.Errorf("go build ./cmd/kubectl-caps: %v\n%s", err, out)
			return
		}
		if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "e2e: built kubectl-caps in %s\n", time.Since(start).Round(time.Millisecond))
		}
	})
	if plugin.err != nil {
		t.Fatal(plugin.err)
	}
	return plugin.bin
}

// run is one kubectl invocation.
type run struct {
	args           []string
	stdout, stderr string
	code           int
}

// kubectlOpts adjusts how kubectl is run.
type kubectlOpts struct {
	// kubeconfig overrides the user's; noConfig runs with no kubeconfig
	// at all (an empty HOME and no KUBECONFIG).
	kubeconfig string
	noConfig   bool
	dir        string
}

// kubectl runs the real kubectl as the admin user with the plugin's
// directory first on PATH, the way a user who installed it runs it.
func kubectl(t *testing.T, srv *testserver.Server, o kubectlOpts, args ...string) run {
	t.Helper()
	bin := pluginDir(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c, err := srv.Kubectl(ctx, testserver.Admin, args...)
	if err != nil {
		t.Fatal(err)
	}
	// Later entries win in exec.Cmd's Env.
	c.Env = append(c.Env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	switch {
	case o.noConfig:
		home := t.TempDir()
		var env []string
		for _, kv := range c.Env {
			if !strings.HasPrefix(kv, "KUBECONFIG=") {
				env = append(env, kv)
			}
		}
		c.Env = append(env, "HOME="+home)
	case o.kubeconfig != "":
		c.Env = append(c.Env, "KUBECONFIG="+o.kubeconfig)
	}
	c.Dir = o.dir
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err = c.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return run{args: args, stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func (r run) ok(t *testing.T) run {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("kubectl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// TestKubectlFindsThePlugin: kubectl's plugin mechanism finds the binary on
// PATH and hands it its arguments, exit code and output unchanged.
func TestKubectlFindsThePlugin(t *testing.T) {
	srv := testserver.Get(t)
	bin := pluginDir(t)

	t.Run("plugin list", func(t *testing.T) {
		r := kubectl(t, srv, kubectlOpts{}, "plugin", "list").ok(t)
		want := filepath.Join(bin, "kubectl-caps")
		found := false
		for _, l := range strings.Split(r.stdout, "\n") {
			found = found || strings.TrimSpace(l) == want
		}
		if !found {
			t.Errorf("kubectl plugin list does not list %s:\n%s", want, r.stdout)
		}
	})

	tests := []struct {
		name     string
		args     []string
		wantCode int
		// stdout must contain each; stderr for wantErr
		wantOut, wantErr []string
	}{
		{name: "version", args: []string{"caps", "version"}, wantOut: []string{"kubectl-caps " + e2eVersion}},
		// NET_RAW is capability 13 (docs/sources.md#capability-numbers).
		{name: "explain", args: []string{"caps", "explain", "NET_RAW"}, wantOut: []string{"CAP_NET_RAW (13)"}},
		{name: "explain, any spelling", args: []string{"caps", "explain", "cap_net_raw"}, wantOut: []string{"CAP_NET_RAW (13)"}},
		{name: "unknown capability", args: []string{"caps", "explain", "NET_RAWW"}, wantCode: 2, wantErr: []string{"unknown capability"}},
		{name: "unknown flag", args: []string{"caps", "audit", "--no-such-flag"}, wantCode: 2, wantErr: []string{"--no-such-flag"}},
		{name: "help", args: []string{"caps", "--help"}, wantOut: []string{"kubectl caps", "Exit codes:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := kubectl(t, srv, kubectlOpts{}, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}

	t.Run("completion", func(t *testing.T) {
		r := kubectl(t, srv, kubectlOpts{}, "caps", "__complete", "explain", "NET_").ok(t)
		var names []string
		directive := ""
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if strings.HasPrefix(l, ":") {
				directive = l
				continue
			}
			name, _, _ := strings.Cut(l, "\t")
			names = append(names, name)
		}
		sort.Strings(names)
		// Capabilities 10-13 (docs/sources.md#capability-numbers).
		want := []string{"NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW"}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("completions (-want +got):\n%s", diff)
		}
		// cobra's ShellCompDirectiveNoFileComp: capability names, not files.
		if directive != ":4" {
			t.Errorf("directive %q, want :4 (no file completion)", directive)
		}
	})
}

// TestAuditWithoutCluster: -f needs no cluster and no kubeconfig at all;
// without -f and without a kubeconfig the plugin says how to audit files.
func TestAuditWithoutCluster(t *testing.T) {
	srv := testserver.Get(t)
	pluginDir(t)
	root := plugin.modRoot

	t.Run("audit -f examples -R", func(t *testing.T) {
		r := kubectl(t, srv, kubectlOpts{noConfig: true, dir: root}, "caps", "audit", "-f", "examples", "-R", "-o", "json").ok(t)
		var rep struct {
			Kind  string `json:"kind"`
			Items []struct {
				Source  string `json:"source"`
				Runtime string `json:"runtime"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("stdout is not a JSON report: %v\n%s", err, r.stdout)
		}
		files, err := filepath.Glob(filepath.Join(root, "examples", "*.*")) // files: examples/evidence/ holds traces
		if err != nil || len(files) == 0 {
			t.Fatalf("no examples: %v", err)
		}
		sources := map[string]bool{}
		for _, it := range rep.Items {
			src, _, _ := strings.Cut(it.Source, "#")
			sources[filepath.Base(src)] = true
			if it.Runtime != "containerd" {
				t.Errorf("%s: runtime %q, want the default containerd", it.Source, it.Runtime)
			}
		}
		for _, f := range files {
			if !sources[filepath.Base(f)] {
				t.Errorf("no item from %s; sources: %v", filepath.Base(f), sources)
			}
		}
		// And the table, as most users see it.
		tbl := kubectl(t, srv, kubectlOpts{noConfig: true, dir: root}, "caps", "audit", "-f", "examples", "-R").ok(t)
		if !strings.HasPrefix(tbl.stdout, "NAMESPACE") {
			t.Errorf("table does not start with its header:\n%s", tbl.stdout)
		}
	})

	t.Run("no kubeconfig", func(t *testing.T) {
		r := kubectl(t, srv, kubectlOpts{noConfig: true}, "caps", "audit")
		if r.code != 4 {
			t.Errorf("exit %d, want 4", r.code)
		}
		if !strings.Contains(r.stderr, "-f") || !strings.Contains(r.stderr, "kubeconfig") {
			t.Errorf("stderr does not say to use -f without a kubeconfig:\n%s", r.stderr)
		}
	})
}

// TestAuditLive: `kubectl caps audit -A -o json` through kubectl against the
// test apiserver, and the apiserver's audit log shows that the binary
// (identified by its user agent) only read.
func TestAuditLive(t *testing.T) {
	srv := testserver.Get(t)
	pluginDir(t)
	ctx := t.Context()
	cs, err := kubernetes.NewForConfig(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-"},
		Status:     corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{ContainerRuntimeVersion: "containerd://2.1.4"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]*corev1.SecurityContext{
		"web":   nil,
		"agent": {Privileged: ptr(true)},
		"api": {RunAsUser: ptr(int64(1000)), AllowPrivilegeEscalation: ptr(false),
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}}},
	}
	for name, sc := range pods {
		_, err := cs.CoreV1().Pods(ns.Name).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PodSpec{NodeName: node.Name, Containers: []corev1.Container{
				{Name: "main", Image: "registry.example/" + name + ":1", SecurityContext: sc}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}

	off, err := srv.AuditOffset()
	if err != nil {
		t.Fatal(err)
	}
	r := kubectl(t, srv, kubectlOpts{}, "caps", "audit", "-A", "-o", "json").ok(t)
	var rep struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Items      []struct {
			Namespace string `json:"namespace"`
			Workload  struct {
				Kind string `json:"kind"`
				Name string `json:"name"`
			} `json:"workload"`
			Pods       int      `json:"pods"`
			Runtime    string   `json:"runtime"`
			Privileged bool     `json:"privileged"`
			User       string   `json:"user"`
			Bounding   []string `json:"bounding"`
			Effective  []string `json:"effective"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not a JSON report: %v\n%s", err, r.stdout)
	}
	if rep.APIVersion != "caps.kubectl-caps.io/v1alpha1" || rep.Kind != "CapabilityReport" {
		t.Errorf("report is %s %s", rep.APIVersion, rep.Kind)
	}
	type summary struct {
		Name, Runtime, User string
		Privileged          bool
		Pods                int
		EffectiveCount      int
		Effective           []string
	}
	var got []summary
	for _, it := range rep.Items {
		if it.Namespace != ns.Name {
			continue
		}
		if it.Workload.Kind != "Pod" {
			t.Errorf("%s: workload kind %q, want Pod", it.Workload.Name, it.Workload.Kind)
		}
		s := summary{Name: it.Workload.Name, Runtime: it.Runtime, User: it.User, Privileged: it.Privileged, Pods: it.Pods,
			EffectiveCount: len(it.Effective)}
		if len(it.Effective) < 20 {
			s.Effective = append([]string(nil), it.Effective...)
			sort.Strings(s.Effective)
		}
		got = append(got, s)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Name < got[j].Name })
	// docs/sources.md: #containerd-defaults (containerd's 14), #privileged
	// (all 41), #containerd-add-drop (drop ALL + add), #exec-transformation
	// (a non-root process holds nothing after exec).
	want := []summary{
		{Name: "agent", Runtime: "containerd", User: "unknown", Privileged: true, Pods: 1, EffectiveCount: 41},
		{Name: "api", Runtime: "containerd", User: "nonroot", Pods: 1},
		{Name: "web", Runtime: "containerd", User: "unknown", Pods: 1, EffectiveCount: 14, Effective: containerd14},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items of namespace %s (-want +got):\n%s", ns.Name, diff)
	}

	t.Run("the binary only read", func(t *testing.T) {
		events, err := srv.AuditEvents(ctx, off)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range events {
			if !strings.Contains(ev.UserAgent, "kubectl-caps") {
				continue
			}
			n++
			if ev.Verb != "get" && ev.Verb != "list" && ev.Verb != "watch" {
				t.Errorf("kubectl-caps made a %s request: %s", ev.Verb, ev.RequestURI)
			}
		}
		if n == 0 {
			t.Fatal("no request with a kubectl-caps user agent in the audit log")
		}
	})

	// -v 6 logs each API request as kubectl -v=6 does (klog's
	// "Response" line: verb, URL, status, time); without -v none is logged.
	t.Run("-v 6 logs the requests", func(t *testing.T) {
		quiet := kubectl(t, srv, kubectlOpts{}, "caps", "audit", "-A").ok(t)
		if strings.Contains(quiet.stderr, "round_trippers") {
			t.Errorf("without -v the requests are logged:\n%s", quiet.stderr)
		}
		loud := kubectl(t, srv, kubectlOpts{}, "caps", "audit", "-A", "-v", "6").ok(t)
		for _, want := range []string{`verb="GET"`, "/api/v1/pods?", `status="200 OK"`} {
			if !strings.Contains(loud.stderr, want) {
				t.Errorf("-v 6: stderr lacks %q:\n%s", want, loud.stderr)
			}
		}
		if loud.stdout != quiet.stdout {
			t.Errorf("-v changed stdout:\n%s\nwant:\n%s", loud.stdout, quiet.stdout)
		}
	})
}

// TestClusterErrorIsOneLine: an unreachable cluster is one line on stderr
// through the real binary too, where client-go's own logging would show.
func TestClusterErrorIsOneLine(t *testing.T) {
	srv := testserver.Get(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg, err := clientcmd.LoadFromFile(srv.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://" + addr
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-A"}, {"deploy/web"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := kubectl(t, srv, kubectlOpts{kubeconfig: kc}, append([]string{"caps", "audit"}, args...)...)
			if r.code != 4 {
				t.Errorf("exit %d, want 4", r.code)
			}
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], addr) {
				t.Errorf("want one stderr line naming %s, got %d:\n%s", addr, len(lines), r.stderr)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
