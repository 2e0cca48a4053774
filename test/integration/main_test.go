//go:build integration

// Package integration runs `kubectl caps audit` in-process against a real
// kube-apiserver (internal/testserver) and checks the report it gives for
// objects the tests create. Expected capability sets are written out from
// the sources in docs/sources.md, never computed by the plugin's own packages.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
	"github.com/kubectl-caps/kubectl-caps/pkg/cmd"
)

// auditorUser runs every plugin invocation whose requests the read-only
// proof inspects. The tests' own setup runs as admin, so in the audit log
// every request by this user is one the plugin made.
const auditorUser = "auditor"

func TestMain(m *testing.M) {
	os.Exit(testserver.Main(m, testserver.Options{Users: []testserver.User{{Name: auditorUser}}}))
}

// Default capability sets (docs/sources.md#containerd-defaults, #crio-defaults,
// #docker-defaults; #capability-numbers for the numbering behind "all"). Written out rather than taken from pkg/runtimes so that a wrong
// profile cannot make its own test pass.
var (
	containerd14 = []string{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
		"NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
	docker14 = containerd14
	crio9    = []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETGID", "SETPCAP", "SETUID"}
	crio11   = with(crio9, "NET_RAW", "SYS_CHROOT")
	// all41 is capabilities 0-40: what privileged grants
	// (docs/sources.md#capability-numbers, #privileged).
	all41 = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
		"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK",
		"IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT",
		"SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
		"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON",
		"BPF", "CHECKPOINT_RESTORE"}
)

// with returns a new sorted set of base plus more.
func with(base []string, more ...string) []string {
	out := append(append([]string(nil), base...), more...)
	sort.Strings(out)
	return slices.Compact(out)
}

// without returns a new sorted set of base minus drop.
func without(base []string, drop ...string) []string {
	var out []string
	for _, c := range base {
		if !slices.Contains(drop, c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// sorted returns a sorted copy, with nil for an empty set, so that sets
// compare regardless of the order the report lists them in.
func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// Report is the JSON contract of `audit -o json` (docs/report.md), decoded
// into the test's own types so that a renamed field fails here instead of
// silently decoding into the plugin's renamed struct.
type Report struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Items      []Item `json:"items"`
}

// Item is one container of one workload (or pod group) in the report.
type Item struct {
	Namespace string `json:"namespace"`
	Workload  struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"workload"`
	Pods          int       `json:"pods"`
	Pod           string    `json:"pod"`
	FromTemplate  bool      `json:"fromTemplate"`
	Container     string    `json:"container"`
	ContainerType string    `json:"containerType"`
	Runtime       string    `json:"runtime"`
	Privileged    bool      `json:"privileged"`
	User          string    `json:"user"`
	UID           *int64    `json:"uid"`
	UserSource    string    `json:"userSource"`
	Bounding      []string  `json:"bounding"`
	Effective     []string  `json:"effective"`
	Inert         []string  `json:"inert"`
	Findings      []Finding `json:"findings"`
	Warnings      []struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"warnings"`
	Notes []string `json:"notes"`
}

// Finding is one capability of an item's bounding set.
type Finding struct {
	Capability string   `json:"capability"`
	Risk       string   `json:"risk"`
	Amplified  []string `json:"amplified"`
}

func (it Item) String() string {
	return fmt.Sprintf("%s/%s/%s container %s (pods %d, pod %s)", it.Namespace, it.Workload.Kind, it.Workload.Name, it.Container, it.Pods, it.Pod)
}

// noteWith is the first note containing sub, or "".
func (it Item) noteWith(sub string) string {
	for _, n := range it.Notes {
		if strings.Contains(n, sub) {
			return n
		}
	}
	return ""
}

// inNamespace keeps the items of one namespace: the server is shared, so
// -A and ns/NAME runs see what other tests created.
func (r Report) inNamespace(ns string) []Item {
	var out []Item
	for _, it := range r.Items {
		if it.Namespace == ns {
			out = append(out, it)
		}
	}
	return out
}

// find returns the items of one workload container.
func (r Report) find(ns, kind, name, container string) []Item {
	var out []Item
	for _, it := range r.Items {
		if it.Namespace == ns && it.Workload.Kind == kind && it.Workload.Name == name && it.Container == container {
			out = append(out, it)
		}
	}
	return out
}

// one returns the single item of a workload container, failing otherwise.
func (r Report) one(t *testing.T, ns, kind, name, container string) Item {
	t.Helper()
	got := r.find(ns, kind, name, container)
	if len(got) != 1 {
		t.Fatalf("want exactly one item for %s/%s/%s container %s, got %d; report has:\n%s", ns, kind, name, container, len(got), r.summary())
	}
	return got[0]
}

func (r Report) summary() string {
	var b strings.Builder
	for _, it := range r.Items {
		fmt.Fprintf(&b, "  %s runtime=%s\n", it, it.Runtime)
	}
	return b.String()
}

// Row is the part of an item that the rollup decides.
type Row struct {
	Kind, Name, Container, Type string
	Pods                        int
}

// rows lists the rollup rows of one namespace, sorted.
func (r Report) rows(ns string) []Row {
	var out []Row
	for _, it := range r.inNamespace(ns) {
		out = append(out, Row{it.Workload.Kind, it.Workload.Name, it.Container, it.ContainerType, it.Pods})
	}
	sortRows(out)
	return out
}

func sortRows(rows []Row) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Container != b.Container {
			return a.Container < b.Container
		}
		return a.Pods < b.Pods
	})
}

// Result is one plugin invocation.
type Result struct {
	Args   []string
	Out    string
	ErrOut string
	Code   int
}

// runPlugin runs `kubectl caps ARGS...` in-process, as main does, with the
// given kubeconfig and a private discovery cache (resource arguments use
// discovery, and its default cache is ~/.kube/cache).
func runPlugin(t *testing.T, kubeconfig string, args ...string) Result {
	t.Helper()
	full := append(append([]string(nil), args...), "--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(t.TempDir(), "cache"))
	var out, errOut bytes.Buffer
	root := cmd.NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(full)
	err := root.Execute()
	if err != nil {
		// main prints the error this way.
		fmt.Fprintf(&errOut, "error: %v\n", err)
	}
	return Result{Args: args, Out: out.String(), ErrOut: errOut.String(), Code: cmd.ExitCode(err)}
}

// report decodes stdout of a successful `-o json` run.
func (r Result) report(t *testing.T) Report {
	t.Helper()
	if r.Code != 0 {
		t.Fatalf("kubectl caps %s: exit %d, stderr:\n%s", strings.Join(r.Args, " "), r.Code, r.ErrOut)
	}
	var rep Report
	dec := json.NewDecoder(strings.NewReader(r.Out))
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("kubectl caps %s: stdout is not one JSON report: %v\n%s", strings.Join(r.Args, " "), err, r.Out)
	}
	if rep.APIVersion != "caps.kubectl-caps.io/v1alpha1" || rep.Kind != "CapabilityReport" {
		t.Fatalf("report type %s/%s, want caps.kubectl-caps.io/v1alpha1 CapabilityReport", rep.APIVersion, rep.Kind)
	}
	return rep
}

// env is one test's handle on the shared server.
type env struct {
	t   *testing.T
	ctx context.Context
	srv *testserver.Server
	cs  kubernetes.Interface
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := testserver.Get(t)
	cs, err := kubernetes.NewForConfig(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: t.Context(), srv: srv, cs: cs}
}

// namespace creates a namespace with a fresh name: deleted namespaces stay
// Terminating on a server without controllers, so names are never reused.
func (e *env) namespace(prefix string) string {
	e.t.Helper()
	ns, err := e.cs.CoreV1().Namespaces().Create(e.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}

// node registers a node reporting a container runtime, the way a kubelet
// does: status is kept on create for nodes.
func (e *env) node(prefix, runtimeVersion string) string {
	e.t.Helper()
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
		Status:     corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{ContainerRuntimeVersion: runtimeVersion}},
	}
	got, err := e.cs.CoreV1().Nodes().Create(e.ctx, n, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("creating node: %v", err)
	}
	if got.Status.NodeInfo.ContainerRuntimeVersion != runtimeVersion {
		e.t.Fatalf("node %s kept runtime %q, want %q", got.Name, got.Status.NodeInfo.ContainerRuntimeVersion, runtimeVersion)
	}
	return got.Name
}

// podOpt changes a pod before it is created.
type podOpt func(*corev1.Pod)

func labels(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func ownedBy(kind, apiVersion, name string, uid types.UID) podOpt {
	return func(p *corev1.Pod) {
		p.OwnerReferences = append(p.OwnerReferences, controllerRef(kind, apiVersion, name, uid))
	}
}

func controllerRef(kind, apiVersion, name string, uid types.UID) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: &yes, BlockOwnerDeletion: &yes}
}

// pod creates a pod bound to node ("" leaves it pending: there is no
// scheduler) with the given spec; containers without an image get one.
func (e *env) pod(ns, name, node string, spec corev1.PodSpec, opts ...podOpt) *corev1.Pod {
	e.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	p.Spec.NodeName = node
	for _, c := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range c {
			if c[i].Image == "" {
				c[i].Image = "registry.example/" + c[i].Name + ":1"
			}
		}
	}
	for _, o := range opts {
		o(p)
	}
	got, err := e.cs.CoreV1().Pods(ns).Create(e.ctx, p, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("creating pod %s/%s: %v", ns, name, err)
	}
	return got
}

// containers is a pod spec with plain containers of these names.
func containers(names ...string) corev1.PodSpec {
	var s corev1.PodSpec
	for _, n := range names {
		s.Containers = append(s.Containers, corev1.Container{Name: n})
	}
	return s
}

// addEphemeral adds an ephemeral container through the
// pods/ephemeralcontainers subresource, as kubectl debug does.
func (e *env) addEphemeral(ns, pod string, ec corev1.EphemeralContainer) {
	e.t.Helper()
	p, err := e.cs.CoreV1().Pods(ns).Get(e.ctx, pod, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if ec.Image == "" {
		ec.Image = "registry.example/debug:1"
	}
	p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, ec)
	if _, err := e.cs.CoreV1().Pods(ns).UpdateEphemeralContainers(e.ctx, pod, p, metav1.UpdateOptions{}); err != nil {
		e.t.Fatalf("adding ephemeral container to %s/%s: %v", ns, pod, err)
	}
}

// reportUID plays the kubelet: it writes the container statuses with the
// UID the runtime reports (containerStatuses[].user.linux,
// docs/sources.md#container-user).
func (e *env) reportUID(ns, pod string, uids map[string]int64) {
	e.t.Helper()
	var statuses []map[string]any
	names := make([]string, 0, len(uids))
	for n := range uids {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		statuses = append(statuses, map[string]any{
			"name": n, "image": "registry.example/" + n + ":1", "imageID": "", "ready": true, "restartCount": 0,
			"state": map[string]any{"running": map[string]any{"startedAt": "2026-01-01T00:00:00Z"}},
			"user":  map[string]any{"linux": map[string]any{"uid": uids[n], "gid": uids[n]}},
		})
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"phase": "Running", "containerStatuses": statuses}})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.cs.CoreV1().Pods(ns).Patch(e.ctx, pod, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		e.t.Fatalf("patching %s/%s status: %v", ns, pod, err)
	}
}

// auditorRules are the permissions the plugin needs for everything it
// does: pods and nodes, the owner links (replicasets, jobs), the
// controllers' templates (for those without pods), and the objects
// resource arguments name. Only get and list: a watch or a write
// would be denied, not just logged. Discovery is allowed to every
// authenticated user by the bootstrap system:discovery role.
var auditorRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"pods", "nodes", "namespaces", "replicationcontrollers"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}, Verbs: []string{"get", "list"}},
	{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: []string{"get", "list"}},
}

var auditorGrant struct {
	once sync.Once
	err  error
}

// auditor returns the kubeconfig of the auditor user, granting its
// cluster-wide read rules on first use.
func (e *env) auditor() string {
	e.t.Helper()
	auditorGrant.once.Do(func() {
		if auditorGrant.err = e.srv.Grant(context.Background(), auditorUser, "", auditorRules...); auditorGrant.err != nil {
			return
		}
		auditorGrant.err = e.waitAllowed(auditorUser, "", "", "nodes", "list")
	})
	if auditorGrant.err != nil {
		e.t.Fatalf("granting the auditor user: %v", auditorGrant.err)
	}
	path, err := e.srv.UserKubeconfig(auditorUser)
	if err != nil {
		e.t.Fatal(err)
	}
	return path
}

// waitAllowed polls a SubjectAccessReview, made by admin so that it does
// not appear among the user's own requests, until RBAC's informer-fed
// cache has the new binding.
func (e *env) waitAllowed(user, ns, group, resource, verb string) error {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               user,
		Groups:             []string{"system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Group: group, Resource: resource, Verb: verb},
	}}
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := e.cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		if got.Status.Allowed {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s may still not %s %s in %q after 15s: %s", user, verb, resource, ns, got.Status.Reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kubeconfigWith writes a copy of the admin kubeconfig changed by edit.
func (e *env) kubeconfigWith(edit func(cluster *string, token *string)) string {
	e.t.Helper()
	cfg, err := clientcmd.LoadFromFile(e.srv.Kubeconfig())
	if err != nil {
		e.t.Fatal(err)
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	edit(&cfg.Clusters[ctx.Cluster].Server, &cfg.AuthInfos[ctx.AuthInfo].Token)
	path := filepath.Join(e.t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// pluginEvents returns the audit events of user's requests since offset.
func (e *env) pluginEvents(offset int64, user string) []testserver.AuditEvent {
	e.t.Helper()
	events, err := e.srv.AuditEvents(e.ctx, offset)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []testserver.AuditEvent
	for _, ev := range events {
		if ev.User.Username == user {
			out = append(out, ev)
		}
	}
	return out
}

func (e *env) auditOffset() int64 {
	e.t.Helper()
	off, err := e.srv.AuditOffset()
	if err != nil {
		e.t.Fatal(err)
	}
	return off
}

func ptr[T any](v T) *T { return &v }

// ephemeralDebugger is the container kubectl debug's default ("general")
// profile adds: it adds SYS_PTRACE (docs/sources.md#kubectl-debug).
func ephemeralDebugger(target string) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger",
			SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}}},
		TargetContainerName: target,
	}
}
