package reports

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"k8s.io/client-go/rest"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fakediscovery "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/policyreport"
)

// Check says which CRD to install when the cluster serves no such report
// kind, and passes when it does.
func TestCheck(t *testing.T) {
	served := []*metav1.APIResourceList{{GroupVersion: "wgpolicyk8s.io/v1alpha2", APIResources: []metav1.APIResource{{Name: "policyreports", Namespaced: true, Kind: "PolicyReport"}}}}
	for _, tt := range []struct {
		api  policyreport.API
		want string // "" for no error
	}{
		{policyreport.WGPolicy, ""},
		{policyreport.OpenReports, "install the CRD reports.openreports.io (config/crd/openreports.io_reports.yaml of github.com/openreports/reports-api v0.2.1)"},
	} {
		w := &Writer{Kind: policyreport.KindOf(tt.api), discovery: &fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: served}}}
		err := w.Check()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.api, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want one containing %q", tt.api, err, tt.want)
		}
	}
}

// The writer's requests go out without client-go's client-side limiter,
// whatever the kubeconfig's config says, and the caller's config is left
// as it was.
func TestWriterHasNoClientLimiter(t *testing.T) {
	for _, qps := range []float32{0, 5, 50} {
		cfg := &rest.Config{Host: "https://example.invalid", QPS: qps, Burst: 10}
		if got := unlimited(cfg); got.QPS != -1 || got.RateLimiter != nil {
			t.Errorf("QPS %v: writer config has QPS %v, limiter %v; want -1 and none", qps, got.QPS, got.RateLimiter)
		}
		if cfg.QPS != qps {
			t.Errorf("the caller's config changed: QPS %v, want %v", cfg.QPS, qps)
		}
	}
}

// A report already in the cluster exactly as this tool last applied it is
// not sent again; any difference, or any doubt about who owns it, applies.
func TestCurrent(t *testing.T) {
	report := func(edit func(u *unstructured.Unstructured)) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
			"metadata": map[string]any{"name": "kubectl-caps", "namespace": "shop",
				"labels": map[string]any{"app.kubernetes.io/managed-by": "kubectl-caps"}},
			"results": []any{map[string]any{"policy": "kubectl-caps", "rule": "CAPS001", "result": "fail",
				"timestamp": map[string]any{"seconds": int64(1764547200), "nanos": int64(0)}}},
			"summary": map[string]any{"fail": int64(1), "pass": int64(0)},
		}}
		if edit != nil {
			edit(u)
		}
		return u
	}
	applied := func(u *unstructured.Unstructured) {
		u.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply}})
		u.SetResourceVersion("7")
	}
	want := report(nil)
	for _, tc := range []struct {
		name string
		cur  *unstructured.Unstructured
		same bool
	}{
		{"as applied", report(applied), true},
		{"numbers decoded as another type", report(func(u *unstructured.Unstructured) {
			applied(u)
			u.Object["summary"] = map[string]any{"fail": 1.0, "pass": 0}
		}), true},
		{"a result differs", report(func(u *unstructured.Unstructured) {
			applied(u)
			_ = unstructured.SetNestedField(u.Object, int64(2), "summary", "fail")
		}), false},
		{"a field this tool does not write", report(func(u *unstructured.Unstructured) {
			applied(u)
			u.Object["scope"] = map[string]any{"kind": "Pod"}
		}), false},
		{"another manager too", report(func(u *unstructured.Unstructured) {
			applied(u)
			u.SetManagedFields(append(u.GetManagedFields(), metav1.ManagedFieldsEntry{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate}))
		}), false},
		{"written by an update, not an apply", report(func(u *unstructured.Unstructured) {
			u.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationUpdate}})
		}), false},
		{"no managed fields", report(nil), false},
		{"a label added by someone", report(func(u *unstructured.Unstructured) {
			applied(u)
			u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "kubectl-caps", "team": "x"})
		}), false},
		{"an annotation added by someone", report(func(u *unstructured.Unstructured) {
			applied(u)
			u.SetAnnotations(map[string]string{"note": "x"})
		}), false},
		{"a finalizer", report(func(u *unstructured.Unstructured) {
			applied(u)
			u.SetFinalizers([]string{"example.com/keep"})
		}), false},
	} {
		if got := Current(want, tc.cur); got != tc.same {
			t.Errorf("%s: Current = %v, want %v", tc.name, got, tc.same)
		}
	}

	// Write sends nothing for a current report and says it is unchanged;
	// it applies one that differs.
	for _, tc := range []struct {
		name       string
		cur        *unstructured.Unstructured
		wantApply  bool
		wantAction string
	}{
		{"current", report(applied), false, "unchanged"},
		{"differs", report(func(u *unstructured.Unstructured) {
			applied(u)
			_ = unstructured.SetNestedField(u.Object, int64(2), "summary", "fail")
		}), true, "configured"},
	} {
		dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme())
		applies := 0
		dyn.PrependReactor("patch", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
			applies++
			got := want.DeepCopy()
			got.SetResourceVersion("8")
			return true, got, nil
		})
		w := &Writer{Kind: policyreport.KindOf(policyreport.WGPolicy), dynamic: dyn}
		changes, err := w.Write(context.Background(), []*unstructured.Unstructured{want.DeepCopy()}, []unstructured.Unstructured{*tc.cur})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if (applies > 0) != tc.wantApply || len(changes) != 1 || changes[0].Action != tc.wantAction {
			t.Errorf("%s: %d applies, changes %+v; want apply %v, action %q", tc.name, applies, changes, tc.wantApply, tc.wantAction)
		}
	}
}
