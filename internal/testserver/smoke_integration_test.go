//go:build integration

package testserver_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m, testserver.Options{})) }

const (
	// pinnedKube is the k8s.io/kubernetes pin in hack/testbin/go.mod; bump
	// both together. hack/testbin.sh stamps it into the binaries with -X, and
	// without that they would report v0.0.0-master.
	pinnedKube = "v1.37.2"
	smokeNS    = "smoke"
	nodeName   = "node-crio"
	podName    = "app"
	// node.status.nodeInfo.containerRuntimeVersion is "<type>://<version>"
	// (kubelet pkg/kubelet/nodestatus/setters.go; docs/sources.md#runtime-detection).
	// 1.17 is the last CRI-O line whose default set still held NET_RAW and
	// SYS_CHROOT (cri-o commit 63b9f4ec98; docs/sources.md#crio-1-18).
	runtimeVersion = "cri-o://1.17.3"
	statusUID      = int64(1000)
	statusGID      = int64(3000)
)

// TestSmoke walks the path later integration and e2e tests depend on: the
// objects the plugin reads (a node carrying its runtime version, a pod bound
// to it with a runtime-reported user), the real kubectl reading them, RBAC
// for a non-admin user, and an audit log that records who did what.
func TestSmoke(t *testing.T) {
	srv := testserver.Get(t)
	t.Logf("apiserver ready %s after launch; dir %s", srv.StartDuration, srv.Dir)
	ctx := t.Context()
	admin, err := kubernetes.NewForConfig(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	auditStart, err := srv.AuditOffset()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := admin.Discovery().ServerVersion(); err != nil {
		t.Fatal(err)
	} else if v.GitVersion != pinnedKube {
		t.Errorf("apiserver /version gitVersion = %q, want %q", v.GitVersion, pinnedKube)
	}

	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: smokeNS}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}

	// Nodes accept status on create (kubelets register that way), so no
	// status subresource call is needed; reading it back proves it stuck.
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: nodeName},
		Status:     corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{ContainerRuntimeVersion: runtimeVersion}},
	}
	if _, err := admin.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating node: %v", err)
	}
	gotNode, err := admin.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := gotNode.Status.NodeInfo.ContainerRuntimeVersion; got != runtimeVersion {
		t.Fatalf("node containerRuntimeVersion = %q, want %q", got, runtimeVersion)
	}

	// There is no scheduler, so the pod is bound by naming the node at create.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: smokeNS},
		Spec: corev1.PodSpec{
			NodeName:   nodeName,
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}},
		},
	}
	if _, err := admin.CoreV1().Pods(smokeNS).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod: %v", err)
	}
	// Pod status on create is discarded, and there is no kubelet to report
	// it, so the test plays the kubelet through pods/status.
	// containerStatuses[].user.linux is where the runtime reports the UID a
	// container really runs as (KEP-3619; docs/sources.md#container-user).
	statusPatch := `{"status":{"phase":"Running","containerStatuses":[{
		"name":"app","image":"registry.example/app:1","imageID":"","ready":true,"restartCount":0,
		"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}},
		"user":{"linux":{"uid":1000,"gid":3000}}}]}}`
	if _, err := admin.CoreV1().Pods(smokeNS).Patch(ctx, podName, types.StrategicMergePatchType, []byte(statusPatch), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("patching pods/status: %v", err)
	}

	pods, err := admin.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	var listed *corev1.Pod
	for i := range pods.Items {
		if pods.Items[i].Namespace == smokeNS && pods.Items[i].Name == podName {
			listed = &pods.Items[i]
		}
	}
	if listed == nil {
		t.Fatalf("pod %s/%s missing from the cluster-wide list of %d pods", smokeNS, podName, len(pods.Items))
	}
	if listed.Spec.NodeName != nodeName {
		t.Errorf("pod nodeName = %q, want %q", listed.Spec.NodeName, nodeName)
	}
	if cs := listed.Status.ContainerStatuses; len(cs) != 1 || cs[0].User == nil || cs[0].User.Linux == nil {
		t.Fatalf("pod containerStatuses lost the runtime user: %+v", cs)
	} else if u := cs[0].User.Linux; u.UID != statusUID || u.GID != statusGID {
		t.Errorf("containerStatuses[0].user.linux = uid %d gid %d, want uid %d gid %d", u.UID, u.GID, statusUID, statusGID)
	}

	t.Run("real kubectl lists the pod", func(t *testing.T) {
		out := runKubectl(t, srv, testserver.Admin, "get", "pods", "-A")
		// kubectl's table: NAMESPACE NAME READY STATUS RESTARTS AGE.
		var row []string
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) >= 4 && f[0] == smokeNS && f[1] == podName {
				row = f
			}
		}
		if row == nil {
			t.Fatalf("kubectl get pods -A has no %s/%s row:\n%s", smokeNS, podName, out)
		}
		if row[2] != "1/1" || row[3] != "Running" {
			t.Errorf("kubectl row = %v, want READY 1/1 and STATUS Running from the patched status", row)
		}
		var version struct {
			ClientVersion struct{ GitVersion string } `json:"clientVersion"`
		}
		if err := json.Unmarshal([]byte(runKubectl(t, srv, testserver.Admin, "version", "--client", "-o", "json")), &version); err != nil {
			t.Fatalf("kubectl version -o json: %v", err)
		}
		if got := version.ClientVersion.GitVersion; got != pinnedKube {
			t.Errorf("kubectl client gitVersion = %q, want %q", got, pinnedKube)
		}
		uid := runKubectl(t, srv, testserver.Admin, "get", "pod", podName, "-n", smokeNS,
			"-o", "jsonpath={.status.containerStatuses[0].user.linux.uid}")
		if uid != "1000" {
			t.Errorf("kubectl jsonpath user.linux.uid = %q, want 1000", uid)
		}
	})

	t.Run("limited user is confined to its namespace", func(t *testing.T) {
		readPods := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}}
		if err := srv.Grant(ctx, testserver.Limited, smokeNS, readPods); err != nil {
			t.Fatal(err)
		}
		cfg, err := srv.UserConfig(testserver.Limited)
		if err != nil {
			t.Fatal(err)
		}
		limited, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		// RBAC caches are fed by informers, so a fresh binding can take a
		// moment to apply; poll the allowed call, then assert the denials.
		var inNS *corev1.PodList
		deadline := time.Now().Add(10 * time.Second)
		for {
			inNS, err = limited.CoreV1().Pods(smokeNS).List(ctx, metav1.ListOptions{})
			if err == nil || !testserver.IsForbidden(err) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("limited listing pods in %s: %v", smokeNS, err)
		}
		if len(inNS.Items) != 1 || inNS.Items[0].Name != podName {
			t.Errorf("limited sees %d pods in %s, want just %s", len(inNS.Items), smokeNS, podName)
		}
		if _, err := limited.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{}); !testserver.IsForbidden(err) {
			t.Errorf("limited listing pods cluster-wide: err = %v, want Forbidden", err)
		}
		if _, err := limited.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{}); !testserver.IsForbidden(err) {
			t.Errorf("limited getting node: err = %v, want Forbidden", err)
		}
		// The same denial through the real kubectl, as an e2e test would see it.
		cmd, err := srv.Kubectl(ctx, testserver.Limited, "get", "pods", "-A")
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "forbidden") {
			t.Errorf("kubectl get pods -A as limited: err = %v, stderr %q; want a forbidden failure", err, stderr.String())
		}
	})

	t.Run("audit log records every request", func(t *testing.T) {
		events, err := srv.AuditEvents(ctx, auditStart)
		if err != nil {
			t.Fatal(err)
		}
		type key struct {
			user, verb, resource, sub, ns string
			code                          int32
			kubectl                       bool
		}
		seen := map[key]bool{}
		for _, e := range events {
			if e.Level != "Metadata" {
				t.Errorf("event %s logged at level %q, want Metadata", e.AuditID, e.Level)
			}
			if e.ObjectRef == nil {
				continue
			}
			k := key{e.User.Username, e.Verb, e.ObjectRef.Resource, e.ObjectRef.Subresource, e.ObjectRef.Namespace, e.Code(), strings.HasPrefix(e.UserAgent, "kubectl/")}
			seen[k] = true
		}
		want := []key{
			{user: "admin", verb: "create", resource: "nodes", code: 201},
			{user: "admin", verb: "patch", resource: "pods", sub: "status", ns: smokeNS, code: 200},
			{user: "admin", verb: "list", resource: "pods", code: 200, kubectl: true},
			{user: "limited", verb: "list", resource: "pods", ns: smokeNS, code: 200},
			{user: "limited", verb: "list", resource: "pods", code: 403},
			{user: "limited", verb: "list", resource: "pods", code: 403, kubectl: true},
		}
		for _, k := range want {
			if !seen[k] {
				t.Errorf("no audit event %+v among %d events", k, len(events))
			}
		}
	})
}

func runKubectl(t *testing.T, srv *testserver.Server, user string, args ...string) string {
	t.Helper()
	cmd, err := srv.Kubectl(t.Context(), user, args...)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
