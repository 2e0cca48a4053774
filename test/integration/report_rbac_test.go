//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const reporterSA = "system:serviceaccount:kubectl-caps:kubectl-caps"

// applyDeploy creates the RBAC objects of deploy/ as they are written
// (Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding): the
// CronJob is left out, since nothing runs it here and its idle template
// would join every other test's -A audit.
func (e *env) applyDeploy(dyn dynamic.Interface) {
	e.t.Helper()
	gvr := map[string]schema.GroupVersionResource{
		"Namespace":          {Version: "v1", Resource: "namespaces"},
		"ServiceAccount":     {Version: "v1", Resource: "serviceaccounts"},
		"ClusterRole":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		"ClusterRoleBinding": {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	}
	for _, f := range []string{"namespace.yaml", "serviceaccount.yaml", "clusterrole.yaml", "clusterrolebinding.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../deploy", f))
		if err != nil {
			e.t.Fatal(err)
		}
		for _, u := range documents(e.t, string(b)) {
			_, err := dyn.Resource(gvr[u.GetKind()]).Namespace(u.GetNamespace()).Apply(e.ctx, u.GetName(), u,
				metav1.ApplyOptions{FieldManager: "test", Force: true})
			if err != nil {
				e.t.Fatalf("deploy/%s: %v", f, err)
			}
		}
	}
	if err := e.waitAllowed(reporterSA, "", "wgpolicyk8s.io", "policyreports", "patch"); err != nil {
		e.t.Fatal(err)
	}
}

// TestReportRBAC runs `report -A` as deploy/'s ServiceAccount, bound by
// deploy/'s ClusterRole, and proves the role is enough (no request refused,
// no degraded lookup, the reports written) and no more: a write of any
// other kind is forbidden, `kubectl auth can-i --list` lists exactly the
// role's rules besides the defaults every user has, and the audit log
// shows the reporter wrote only its reports. Two reporters running at once
// lose no result.
func TestReportRBAC(t *testing.T) {
	e, dyn := reportEnv(t)
	e.applyDeploy(dyn)
	kc := e.saKubeconfig("kubectl-caps")
	ns := e.namespace("report-rbac")
	e.reportPods(ns)

	off := e.auditOffset()
	r := runPlugin(t, kc, "report", "-A")
	if r.Code != 0 || strings.Contains(r.ErrOut, "Warning") {
		t.Fatalf("report -A as the ServiceAccount: exit %d, stderr:\n%s", r.Code, r.ErrOut)
	}
	if !strings.Contains(r.Out, "policyreports.wgpolicyk8s.io/kubectl-caps created in namespace "+ns) {
		t.Errorf("stdout lacks the report of %s:\n%s", ns, r.Out)
	}
	// The other API, in the one namespace, for its verbs.
	if r := runPlugin(t, kc, "report", "-n", ns, "--report-api", "openreports"); r.Code != 0 {
		t.Fatalf("report --report-api openreports as the ServiceAccount: exit %d, stderr:\n%s", r.Code, r.ErrOut)
	}

	// Two at once, on a namespace with no report yet: both create it; the
	// report holds every result either way.
	ns2 := e.namespace("report-twice")
	e.reportPods(ns2)
	var wg sync.WaitGroup
	rs := make([]Result, 2)
	for i := range rs {
		wg.Add(1)
		go func() { defer wg.Done(); rs[i] = runPlugin(t, kc, "report", "-n", ns2) }()
	}
	wg.Wait()
	for _, r := range rs {
		if r.Code != 0 {
			t.Errorf("a concurrent reporter failed: exit %d, stderr:\n%s", r.Code, r.ErrOut)
		}
	}
	got, err := dyn.Resource(policyReportGVR).Namespace(ns2).Get(e.ctx, "kubectl-caps", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Pod/clean app  pass", "Pod/risky app CAPS001 fail"}; !slices.Equal(results(t, got), want) {
		t.Errorf("after two reporters at once, results = %q, want %q", results(t, got), want)
	}

	// Pruning as the ServiceAccount: its pods gone, the report goes.
	for _, p := range []string{"risky", "clean"} {
		if err := e.cs.CoreV1().Pods(ns2).Delete(e.ctx, p, metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)}); err != nil {
			t.Fatal(err)
		}
	}
	if r := runPlugin(t, kc, "report", "-n", ns2); r.Code != 0 || !strings.Contains(r.Out, "deleted in namespace "+ns2) {
		t.Errorf("report -n %s with no pods left: exit %d, stdout %q, stderr:\n%s", ns2, r.Code, r.Out, r.ErrOut)
	}

	// The audit log: every request of the ServiceAccount was allowed, and
	// every write was to a report.
	writes := map[string]int{}
	for _, ev := range e.pluginEvents(off, reporterSA) {
		if ev.Code() == 403 {
			t.Errorf("the reporter was refused %s %s", ev.Verb, ev.RequestURI)
		}
		switch ev.Verb {
		case "get", "list", "watch":
			continue
		}
		res := "(non-resource)"
		if ev.ObjectRef != nil {
			res = ev.ObjectRef.APIGroup + "/" + ev.ObjectRef.Resource
		}
		writes[ev.Verb+" "+res]++
		if res != "wgpolicyk8s.io/policyreports" && res != "openreports.io/reports" {
			t.Errorf("the reporter wrote something other than a report: %s %s", ev.Verb, ev.RequestURI)
		}
	}
	if writes["patch wgpolicyk8s.io/policyreports"] == 0 || writes["patch openreports.io/reports"] == 0 || writes["delete wgpolicyk8s.io/policyreports"] == 0 {
		t.Errorf("no applies of the reports in the audit log (%v): the filter is wrong", writes)
	}
	t.Logf("the reporter's writes: %v", writes)

	// No more than needed: the token writes nothing else.
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sadyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	forbidden := map[string]error{}
	_, forbidden["create configmap"] = cs.CoreV1().ConfigMaps(ns).Create(e.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	_, forbidden["patch pod"] = cs.CoreV1().Pods(ns).Patch(e.ctx, "risky", types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	forbidden["delete pod"] = cs.CoreV1().Pods(ns).Delete(e.ctx, "risky", metav1.DeleteOptions{})
	_, forbidden["get secret"] = cs.CoreV1().Secrets(ns).Get(e.ctx, "x", metav1.GetOptions{})
	_, forbidden["get report"] = sadyn.Resource(policyReportGVR).Namespace(ns).Get(e.ctx, "kubectl-caps", metav1.GetOptions{})
	cluster := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "ClusterPolicyReport", "metadata": map[string]any{"name": "x"}}}
	_, forbidden["create clusterpolicyreport"] = sadyn.Resource(schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "clusterpolicyreports"}).Create(e.ctx, cluster, metav1.CreateOptions{})
	for what, err := range forbidden {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s as the reporter: %v, want forbidden", what, err)
		}
	}

	// kubectl's own view of the role: exactly its rules, besides what
	// any ServiceAccount may do (the self reviews, discovery, ...: what
	// a ServiceAccount with no binding lists).
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody", Namespace: "kubectl-caps"}}
	if _, err := e.cs.CoreV1().ServiceAccounts("kubectl-caps").Create(e.ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	defaults := map[string]bool{}
	for _, row := range e.canIList(e.saKubeconfig("nobody"), ns) {
		defaults[row] = true
	}
	var rows []string
	for _, row := range e.canIList(kc, ns) {
		if !defaults[row] {
			rows = append(rows, row)
		}
	}
	slices.Sort(rows)
	want := []string{
		"cronjobs.batch [] [] [list]",
		"daemonsets.apps [] [] [list]",
		"deployments.apps [] [] [list]",
		"jobs.batch [] [] [list]",
		"nodes [] [] [list]",
		"pods [] [] [list]",
		"policyreports.wgpolicyk8s.io [] [] [list create patch delete]",
		"replicasets.apps [] [] [list]",
		"replicationcontrollers [] [] [list]",
		"reports.openreports.io [] [] [list create patch delete]",
		"statefulsets.apps [] [] [list]",
	}
	if !slices.Equal(rows, want) {
		t.Errorf("kubectl auth can-i --list as the reporter, beyond a ServiceAccount's defaults:\n%s\nwant exactly:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

// canIList is `kubectl auth can-i --list` (the real kubectl), one row per
// rule with its columns joined by one space.
func (e *env) canIList(kc, ns string) []string {
	e.t.Helper()
	out, err := exec.CommandContext(e.ctx, e.srv.KubectlPath, "auth", "can-i", "--list", "--no-headers", "--kubeconfig", kc, "-n", ns).CombinedOutput()
	if err != nil {
		e.t.Fatalf("kubectl auth can-i --list: %v\n%s", err, out)
	}
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	return rows
}

// saKubeconfig is a kubeconfig with a token of a ServiceAccount of the
// kubectl-caps namespace (TokenRequest, as the kubelet mounts one into
// the CronJob's pod).
func (e *env) saKubeconfig(name string) string {
	e.t.Helper()
	tr, err := e.cs.CoreV1().ServiceAccounts("kubectl-caps").CreateToken(e.ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.kubeconfigWith(func(_ *string, token *string) { *token = tr.Status.Token })
}
