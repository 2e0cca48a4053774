//go:build integration

package integration

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
)

var (
	policyReportGVR = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
	openReportGVR   = schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "reports"}
)

var reportCRDs sync.Once

// reportEnv installs the real report CRDs (wgpolicyk8s.io from Kyverno
// v1.19.1's config/crds/policyreport, openreports.io from
// github.com/openreports/reports-api v0.2.1's config/crd, gathered by
// hack/policytools.sh) once, and returns a dynamic client as admin.
func reportEnv(t *testing.T) (*env, dynamic.Interface) {
	t.Helper()
	tools := policyTools(t)
	e := newEnv(t)
	dyn, err := dynamic.NewForConfig(e.srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	reportCRDs.Do(func() {
		files, _ := filepath.Glob(filepath.Join(tools, "crds", "policyreport", "*.yaml"))
		more, _ := filepath.Glob(filepath.Join(tools, "crds", "openreports", "*.yaml"))
		if len(files) != 2 || len(more) != 2 {
			t.Fatalf("want 2 wgpolicyk8s and 2 openreports CRDs in %s, got %v %v: run hack/policytools.sh", tools, files, more)
		}
		e.installCRDs(dyn, append(files, more...)...)
	})
	return e, dyn
}

// reportPods creates a pod that holds SYS_ADMIN (CAPS001) and one that
// breaks no rule.
func (e *env) reportPods(ns string) {
	e.t.Helper()
	risky := containers("app")
	risky.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr[int64](0),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"SYS_ADMIN"}}}
	e.pod(ns, "risky", "", risky)
	clean := containers("app")
	clean.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr[int64](1000), RunAsNonRoot: ptr(true),
		AllowPrivilegeEscalation: ptr(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	e.pod(ns, "clean", "", clean)
}

// results lists a report's results as "KIND/NAME CONTAINER RULE RESULT".
func results(t *testing.T, u *unstructured.Unstructured) []string {
	t.Helper()
	rs, _, _ := unstructured.NestedSlice(u.Object, "results")
	var out []string
	for _, r := range rs {
		m := r.(map[string]any)
		res := m["resources"].([]any)[0].(map[string]any)
		props := m["properties"].(map[string]any)
		out = append(out, strings.Join([]string{res["kind"].(string) + "/" + res["name"].(string), props["container"].(string), str(m["rule"]), m["result"].(string)}, " "))
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }

// TestReportWritesIdempotentlyAndPrunes runs report against the real
// CRDs: the first run creates the namespace's report with the results
// the pods deserve; a second run with nothing changed leaves the object
// untouched (same resourceVersion, "unchanged"); a deleted pod's results
// disappear; a namespace with nothing left loses its report; openreports
// writes Reports the same way; --dry-run=server stores nothing.
func TestReportWritesIdempotentlyAndPrunes(t *testing.T) {
	e, dyn := reportEnv(t)
	kc := e.srv.Kubeconfig()
	ns := e.namespace("report")
	e.reportPods(ns)
	get := func(gvr schema.GroupVersionResource) (*unstructured.Unstructured, error) {
		return dyn.Resource(gvr).Namespace(ns).Get(e.ctx, "kubectl-caps", metav1.GetOptions{})
	}
	run := func(wantOut string, args ...string) {
		t.Helper()
		r := runPlugin(t, kc, append([]string{"report", "-n", ns}, args...)...)
		if r.Code != 0 || !strings.Contains(r.Out, wantOut) {
			t.Fatalf("report %s: exit %d, stdout %q (want %q), stderr:\n%s", strings.Join(args, " "), r.Code, r.Out, wantOut, r.ErrOut)
		}
	}

	run("policyreports.wgpolicyk8s.io/kubectl-caps created in namespace " + ns)
	first, err := get(policyReportGVR)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Pod/clean app  pass", "Pod/risky app CAPS001 fail"}
	if got := results(t, first); !slices.Equal(got, want) {
		t.Errorf("results = %q, want %q", got, want)
	}
	if first.GetLabels()["app.kubernetes.io/managed-by"] != "kubectl-caps" {
		t.Errorf("labels = %v", first.GetLabels())
	}
	if m := first.GetManagedFields(); len(m) != 1 || m[0].Manager != "kubectl-caps" || m[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("managedFields = %+v, want one Apply by kubectl-caps", m)
	}

	digest := first.GetAnnotations()["caps.kubectl-caps.io/results-digest"]
	if !strings.HasPrefix(digest, "sha256:") {
		t.Errorf("annotations = %v, want the digest of the results", first.GetAnnotations())
	}
	stamps := func(u *unstructured.Unstructured) map[string]int64 {
		rs, _, _ := unstructured.NestedSlice(u.Object, "results")
		out := map[string]int64{}
		for i, r := range rs {
			out[results(t, u)[i]], _, _ = unstructured.NestedInt64(r.(map[string]any), "timestamp", "seconds")
		}
		return out
	}

	// Results are stamped to the second: a second later, an unchanged
	// result must keep its first timestamp for the document to be equal.
	// unchanged runs sends no write at all (the audit log).
	unchanged := func(what string, before *unstructured.Unstructured) {
		t.Helper()
		time.Sleep(1100 * time.Millisecond)
		off := e.auditOffset()
		run("unchanged in namespace " + ns)
		for _, ev := range e.pluginEvents(off, testserver.Admin) {
			if ev.ObjectRef != nil && ev.ObjectRef.Resource == "policyreports" && ev.Verb != "list" {
				t.Errorf("%s: a run with nothing changed sent %s %s", what, ev.Verb, ev.RequestURI)
			}
		}
		again, err := get(policyReportGVR)
		if err != nil {
			t.Fatal(err)
		}
		if again.GetResourceVersion() != before.GetResourceVersion() {
			t.Errorf("%s: a run with nothing changed wrote the report: resourceVersion %s, then %s", what, before.GetResourceVersion(), again.GetResourceVersion())
		}
	}
	unchanged("second run", first)

	// A report as an older version wrote it, without the digest, is
	// applied once, its results keeping their timestamps; so is one whose
	// digest another manager edited. Then they are current again.
	older := first.DeepCopy()
	older.SetAnnotations(nil)
	older.SetManagedFields(nil)
	older.SetResourceVersion("")
	if _, err := dyn.Resource(policyReportGVR).Namespace(ns).Apply(e.ctx, older.GetName(), older, metav1.ApplyOptions{FieldManager: "kubectl-caps", Force: true}); err != nil {
		t.Fatal(err)
	}
	edited := []byte(`{"metadata":{"annotations":{"caps.kubectl-caps.io/results-digest":"sha256:0"}}}`)
	for _, edit := range []func() error{
		func() error { return nil },
		func() error {
			_, err := dyn.Resource(policyReportGVR).Namespace(ns).Patch(e.ctx, "kubectl-caps", types.MergePatchType, edited, metav1.PatchOptions{FieldManager: "someone"})
			return err
		},
	} {
		if err := edit(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond)
		run("configured in namespace " + ns)
		fixed, err := get(policyReportGVR)
		if err != nil {
			t.Fatal(err)
		}
		if got := fixed.GetAnnotations()["caps.kubectl-caps.io/results-digest"]; got != digest {
			t.Errorf("digest %q after the apply, want %q", got, digest)
		}
		if got, want := stamps(fixed), stamps(first); !maps.Equal(got, want) {
			t.Errorf("timestamps %v after the apply, want the first run's %v", got, want)
		}
		if m := fixed.GetManagedFields(); len(m) != 1 || m[0].Manager != "kubectl-caps" {
			t.Errorf("managedFields = %+v, want the apply of kubectl-caps alone", m)
		}
		unchanged("applied again", fixed)
	}

	if err := e.cs.CoreV1().Pods(ns).Delete(e.ctx, "risky", metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)}); err != nil {
		t.Fatal(err)
	}
	run("configured in namespace " + ns)
	third, err := get(policyReportGVR)
	if err != nil {
		t.Fatal(err)
	}
	if got := results(t, third); !slices.Equal(got, want[:1]) {
		t.Errorf("after deleting pod/risky, results = %q, want %q", got, want[:1])
	}
	if s, _, _ := unstructured.NestedInt64(third.Object, "summary", "fail"); s != 0 {
		t.Errorf("summary.fail = %d after the failing pod is gone", s)
	}
	if got, was := stamps(third)[want[0]], stamps(first)[want[0]]; got != was {
		t.Errorf("the unchanged result of pod/clean is stamped %d, want its first %d", got, was)
	}
	if third.GetAnnotations()["caps.kubectl-caps.io/results-digest"] == digest {
		t.Errorf("the digest did not change with the results")
	}

	run("openreports.io/kubectl-caps created in namespace "+ns, "--report-api", "openreports")
	or, err := get(openReportGVR)
	if err != nil {
		t.Fatal(err)
	}
	if got := results(t, or); !slices.Equal(got, want[:1]) || or.Object["source"] != "kubectl-caps" {
		t.Errorf("openreports Report: results %q, source %v", got, or.Object["source"])
	}

	if err := e.cs.CoreV1().Pods(ns).Delete(e.ctx, "clean", metav1.DeleteOptions{GracePeriodSeconds: ptr[int64](0)}); err != nil {
		t.Fatal(err)
	}
	run("deleted in namespace "+ns+" (server dry run)", "--dry-run=server")
	if _, err := get(policyReportGVR); err != nil {
		t.Errorf("--dry-run=server deleted the report: %v", err)
	}
	run("policyreports.wgpolicyk8s.io/kubectl-caps deleted in namespace " + ns)
	if _, err := get(policyReportGVR); !apierrors.IsNotFound(err) {
		t.Errorf("the report of a namespace with nothing left is still there: %v", err)
	}
	// Nothing but the tool's own label is pruned: a report written by
	// another tool in the namespace stays.
	other := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
		"metadata": map[string]any{"name": "other-tool", "namespace": ns}}}
	if _, err := dyn.Resource(policyReportGVR).Namespace(ns).Create(e.ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := runPlugin(t, kc, "report", "-n", ns); r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.ErrOut)
	}
	if _, err := dyn.Resource(policyReportGVR).Namespace(ns).Get(e.ctx, "other-tool", metav1.GetOptions{}); err != nil {
		t.Errorf("another tool's report was touched: %v", err)
	}

	// --dry-run=server in a fresh namespace: validated, not stored.
	ns2 := e.namespace("report-dry")
	e.reportPods(ns2)
	r := runPlugin(t, kc, "report", "-n", ns2, "--dry-run=server", "-o", "yaml")
	if r.Code != 0 || !strings.Contains(r.Out, "kind: PolicyReport") {
		t.Fatalf("--dry-run=server -o yaml: exit %d, stdout:\n%s\nstderr:\n%s", r.Code, r.Out, r.ErrOut)
	}
	if _, err := dyn.Resource(policyReportGVR).Namespace(ns2).Get(e.ctx, "kubectl-caps", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("--dry-run=server stored a report: %v", err)
	}
}
