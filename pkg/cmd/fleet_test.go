package cmd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The multi-context flags fail like every other flag, on every command
// that reads the cluster; a context missing from the kubeconfig is the
// cluster error (exit 4) that kubectl's --context gives for one.
func TestFleetFlagErrors(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: one, context: {cluster: c, user: u}}, {name: two, context: {cluster: c, user: u}}]
current-context: one
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, command := range [][]string{{"audit"}, {"suggest-drop"}, {"policy", "--format", "vap"}} {
		for _, tt := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--max-concurrency", "0"}, ExitUsage, "--max-concurrency must be at least 1, got 0"},
			{[]string{"--all-contexts", "--context", "one"}, ExitUsage, "it cannot be combined with --context one"},
			{[]string{"--context", "one,nope"}, ExitCluster, `context "nope" is not in the kubeconfig`},
			{[]string{"--context", "one,two"}, ExitCluster, "none of the 2 contexts could be read (one, two)"},
		} {
			t.Run(command[0]+" "+tt.want, func(t *testing.T) {
				_, errOut, code := run(t, "", append(append(command, "--kubeconfig", kubeconfig), tt.args...)...)
				if code != tt.code || !contains(errOut, tt.want) {
					t.Errorf("exit %d, want %d with %q:\n%s", code, tt.code, tt.want, errOut)
				}
			})
		}
	}
	// A trace names pods, not clusters: evidence takes one context.
	trace := filepath.Join(t.TempDir(), "trace.json")
	if err := os.WriteFile(trace, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, command := range [][]string{{"audit"}, {"suggest-drop", "--strategy", "observed"}} {
		_, errOut, code := run(t, "", append(command, "--kubeconfig", kubeconfig, "--context", "one,two", "--evidence", trace)...)
		if want := "--evidence reads the traces of one cluster: give one --context with it"; code != ExitUsage || !contains(errOut, want) {
			t.Errorf("%s --evidence over two contexts: exit %d, want %d with %q:\n%s", command[0], code, ExitUsage, want, errOut)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// fakeCluster is an API server that lists pods, page by page (limit and
// continue), and forbids everything else: the optional lists (nodes,
// owners, controllers) degrade to warnings, as with a namespace reader.
// before, if set, runs before each page is served; failAt, if set, fails
// the page that starts at that pod with 403 Forbidden.
type fakeCluster struct {
	pods   []corev1.Pod
	before func()
	failAt int
	// limits are the page sizes asked for, in order.
	mu     sync.Mutex
	limits []int
}

func (c *fakeCluster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	forbidden := func() {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"Forbidden","message":"forbidden by the test","code":403}`))
	}
	if r.URL.Path != "/api/v1/pods" {
		forbidden()
		return
	}
	if c.before != nil {
		c.before()
	}
	from, _ := strconv.Atoi(r.URL.Query().Get("continue"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	c.mu.Lock()
	c.limits = append(c.limits, limit)
	c.mu.Unlock()
	if c.failAt > 0 && from == c.failAt {
		forbidden()
		return
	}
	to := min(from+max(limit, 1), len(c.pods))
	list := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: c.pods[from:to]}
	if to < len(c.pods) {
		list.Continue = strconv.Itoa(to)
	}
	_ = json.NewEncoder(w).Encode(&list)
}

// fleetPods are a cluster's bare pods, in namespaces a and b as the API
// lists them (namespace, then name), each adding capabilities of its own.
func fleetPods(adds ...string) []corev1.Pod {
	var pods []corev1.Pod
	for i, add := range adds {
		pods = append(pods, corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: map[bool]string{true: "a", false: "b"}[i < (len(adds)+1)/2], Name: fmt.Sprintf("p%d", i)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app",
				SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{corev1.Capability(add)}}}}}},
		})
	}
	return pods
}

// fleetKubeconfig writes a kubeconfig with a context per server, named
// c1, c2, ... in order.
func fleetKubeconfig(t *testing.T, servers ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\ncurrent-context: c1\nclusters:\n")
	for i, s := range servers {
		fmt.Fprintf(&b, "- name: c%d\n  cluster: {server: %q}\n", i+1, s)
	}
	b.WriteString("users: [{name: u, user: {token: t}}]\ncontexts:\n")
	for i := range servers {
		fmt.Fprintf(&b, "- name: c%d\n  context: {cluster: c%d, user: u}\n", i+1, i+1)
	}
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// openSpools are the files under dir this process holds open: a spool is
// removed from its directory as soon as it is created (printers.Spool),
// so only /proc/self/fd (Linux) still sees it.
func openSpools(t *testing.T, dir string) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to see open files by: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, dir+string(filepath.Separator)) {
			n++
		}
	}
	return n
}

// With several contexts, -o json and yaml no longer hold a cluster's
// rollup until its turn: each cluster's items are encoded into a spool
// (printers.Spool) a namespace at a time while its pods are read. The
// first cluster's first page waits until the two others have spooled
// items, which a run that holds their rollups never does; the document
// is the same as ever (the goldens were written before spooling), in
// JSON and YAML, v1alpha1 and v1alpha2; a cluster whose LIST fails after
// its first namespace was spooled prints nothing of itself (exit 6), and
// no spool is left behind; a spool that cannot be created ends the run
// with exit 5.
func TestFleetSpoolsEachCluster(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	var waited sync.Once
	spooled := false
	c1 := &fakeCluster{pods: fleetPods("NET_ADMIN", "SYS_TIME", "CHOWN")}
	c1.before = func() {
		waited.Do(func() {
			for deadline := time.Now().Add(10 * time.Second); !spooled && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				spooled = openSpools(t, dir) >= 2
			}
		})
	}
	c2 := &fakeCluster{pods: fleetPods("SYS_ADMIN", "NET_RAW")}
	c3 := &fakeCluster{pods: fleetPods("BPF", "SYS_PTRACE", "KILL", "MKNOD")}
	var servers []string
	for _, c := range []*fakeCluster{c1, c2, c3} {
		srv := httptest.NewServer(c)
		t.Cleanup(srv.Close)
		servers = append(servers, srv.URL)
	}
	kubeconfig := fleetKubeconfig(t, servers...)
	for _, tt := range []struct{ format, version, golden string }{
		{"json", "v1alpha1", "audit/fleet.json"},
		{"yaml", "v1alpha1", "audit/fleet.yaml"},
		{"json", "v1alpha2", "audit/fleet-v1alpha2.json"},
		{"yaml", "v1alpha2", "audit/fleet-v1alpha2.yaml"},
	} {
		t.Run(tt.format+"/"+tt.version, func(t *testing.T) {
			out, errOut, code := run(t, "", "audit", "-A", "--all-contexts", "--kubeconfig", kubeconfig, "--chunk-size", "1",
				"-o", tt.format, "--report-version", tt.version, "--fail-on", "critical")
			if code != ExitFindings || !contains(errOut, "1 container(s) hold capabilities at or above --fail-on=critical") {
				t.Errorf("exit %d, want %d for SYS_ADMIN:\n%s", code, ExitFindings, errOut)
			}
			golden(t, tt.golden, out)
			if openSpools(t, dir) > 0 {
				t.Error("spools left open after the run")
			}
		})
	}
	if !spooled {
		t.Error("the first cluster's read waited 10 s for the others' items to be spooled: they held their rollups")
	}

	// c2's namespace a is spooled once its listing reaches b's first pod
	// (page 3 of 1 pod); the page after that fails.
	c2.pods, c2.failAt = fleetPods("SYS_ADMIN", "NET_RAW", "CHOWN", "KILL"), 3
	out, errOut, code := run(t, "", "audit", "-A", "--all-contexts", "--kubeconfig", kubeconfig, "--chunk-size", "1", "-o", "json")
	if code != ExitPartial || !contains(errOut, `1 of 3 contexts could not be read (c2)`) {
		t.Errorf("exit %d, want %d naming c2:\n%s", code, ExitPartial, errOut)
	}
	if contains(out, `"cluster": "c2"`) || !contains(out, `"cluster": "c3"`) {
		t.Errorf("c2 failed after its first namespace: want nothing of it, and c1 and c3 in full:\n%s", out)
	}
	if openSpools(t, dir) > 0 {
		t.Error("the failed cluster's spool is still open")
	}

	// A $TMPDIR that cannot hold a spool is the output's error (exit 5).
	t.Setenv("TMPDIR", filepath.Join(dir, "missing"))
	_, errOut, code = run(t, "", "audit", "-A", "--all-contexts", "--kubeconfig", kubeconfig, "-o", "yaml")
	if want := "spooling a cluster's report items until its turn"; code != ExitInternal || !contains(errOut, want) {
		t.Errorf("exit %d, want %d with %q:\n%s", code, ExitInternal, want, errOut)
	}
}

// Several clusters read at once share the default --chunk-size, so that
// their pages together hold about one cluster's (cluster.Fleet.ChunkSize);
// a --chunk-size given is each cluster's, and one context reads with
// kubectl's default.
func TestFleetSharesTheChunkSize(t *testing.T) {
	cs := []*fakeCluster{{pods: fleetPods("CHOWN")}, {pods: fleetPods("KILL")}, {pods: fleetPods("NET_RAW")}}
	var servers []string
	for _, c := range cs {
		srv := httptest.NewServer(c)
		t.Cleanup(srv.Close)
		servers = append(servers, srv.URL)
	}
	kubeconfig := fleetKubeconfig(t, servers...)
	for _, tt := range []struct {
		args []string
		want []int // each cluster's page size, nil for a cluster not read
	}{
		{[]string{"--all-contexts"}, []int{166, 166, 166}},
		{[]string{"--all-contexts", "--max-concurrency", "2"}, []int{250, 250, 250}},
		{[]string{"--all-contexts", "--max-concurrency", "1"}, []int{500, 500, 500}},
		{[]string{"--context", "c1,c2"}, []int{250, 250, 0}},
		{[]string{"--all-contexts", "--chunk-size", "500"}, []int{500, 500, 500}},
		{[]string{"--all-contexts", "--chunk-size", "40"}, []int{40, 40, 40}},
		{[]string{"--context", "c2"}, []int{0, 500, 0}},
	} {
		for _, c := range cs {
			c.limits = nil
		}
		_, errOut, code := run(t, "", append([]string{"audit", "-A", "--kubeconfig", kubeconfig, "-o", "json"}, tt.args...)...)
		if code != ExitOK {
			t.Errorf("%v: exit %d:\n%s", tt.args, code, errOut)
			continue
		}
		for i, c := range cs {
			if got := slices.Compact(c.limits); tt.want[i] == 0 && len(got) > 0 || tt.want[i] != 0 && !slices.Equal(got, []int{tt.want[i]}) {
				t.Errorf("%v: c%d was listed with pages of %v, want %d", tt.args, i+1, got, tt.want[i])
			}
		}
	}
}
