package reports

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	openreports "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/rest"
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

// want is a report as this run builds it, stamped at sec.
func want(t *testing.T, sec int64, result string) openreports.Report {
	t.Helper()
	return openreports.Report{
		ObjectMeta: metav1.ObjectMeta{Name: policyreport.Name, Namespace: "shop", Labels: map[string]string{policyreport.ManagedBy: policyreport.Name}},
		Results: []openreports.ReportResult{{Policy: "kubectl-caps", Rule: "CAPS001", Result: openreports.Result(result),
			Subjects:   []corev1.ObjectReference{{Kind: "Deployment", Name: "web", Namespace: "shop", APIVersion: "apps/v1"}},
			Properties: map[string]string{"container": "app"}, Timestamp: metav1.Timestamp{Seconds: sec}}},
		Summary: openreports.ReportSummary{Fail: 1},
	}
}

// applied is the report in the cluster as this tool's apply left it: its
// metadata as a metadata-only list returns it, and the full object.
func applied(t *testing.T, r openreports.Report, edit func(m *metav1.PartialObjectMetadata)) (*metav1.PartialObjectMetadata, *unstructured.Unstructured) {
	t.Helper()
	u, err := policyreport.Object(r, policyreport.WGPolicy)
	if err != nil {
		t.Fatal(err)
	}
	u.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationApply}})
	u.SetResourceVersion("7")
	m := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: u.GetAPIVersion(), Kind: u.GetKind()}}
	m.ObjectMeta = metav1.ObjectMeta{Name: u.GetName(), Namespace: u.GetNamespace(), Labels: u.GetLabels(), Annotations: u.GetAnnotations(),
		ManagedFields: u.GetManagedFields(), ResourceVersion: u.GetResourceVersion()}
	if edit != nil {
		edit(m)
		u.SetAnnotations(m.Annotations)
		u.SetLabels(m.Labels)
		u.SetManagedFields(m.ManagedFields)
		u.SetFinalizers(m.Finalizers)
	}
	return m, u
}

// A report already in the cluster as this tool last applied it is known
// from its metadata alone and not sent again, whatever its results'
// timestamps; any difference in the digest, the labels or the
// annotations, or any doubt about who owns it, applies.
func TestCurrent(t *testing.T) {
	first := want(t, 1764547200, "fail")
	now := want(t, 1764550800, "fail") // an hour later, nothing changed
	o, err := policyreport.Object(now, policyreport.WGPolicy)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cur  openreports.Report
		edit func(m *metav1.PartialObjectMetadata)
		same bool
	}{
		{"as applied an hour ago", first, nil, true},
		{"a result differs", want(t, 1764547200, "warn"), nil, false},
		{"another manager too", first, func(m *metav1.PartialObjectMetadata) {
			m.ManagedFields = append(m.ManagedFields, metav1.ManagedFieldsEntry{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate})
		}, false},
		{"another manager's apply only", first, func(m *metav1.PartialObjectMetadata) {
			m.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
		}, false},
		{"written by an update, not an apply", first, func(m *metav1.PartialObjectMetadata) {
			m.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: FieldManager, Operation: metav1.ManagedFieldsOperationUpdate}}
		}, false},
		{"no managed fields", first, func(m *metav1.PartialObjectMetadata) { m.ManagedFields = nil }, false},
		{"the digest edited", first, func(m *metav1.PartialObjectMetadata) {
			m.Annotations = map[string]string{policyreport.DigestAnnotation: "sha256:0"}
		}, false},
		{"written by a version before the digest", first, func(m *metav1.PartialObjectMetadata) { m.Annotations = nil }, false},
		{"an annotation added by someone", first, func(m *metav1.PartialObjectMetadata) { m.Annotations["note"] = "x" }, false},
		{"a label added by someone", first, func(m *metav1.PartialObjectMetadata) { m.Labels["team"] = "x" }, false},
		{"a finalizer", first, func(m *metav1.PartialObjectMetadata) { m.Finalizers = []string{"example.com/keep"} }, false},
	} {
		cur, _ := applied(t, tc.cur, tc.edit)
		if got := Current(o, cur); got != tc.same {
			t.Errorf("%s: Current = %v, want %v", tc.name, got, tc.same)
		}
	}
	noDigest := o.DeepCopy()
	noDigest.SetAnnotations(nil)
	cur, _ := applied(t, first, func(m *metav1.PartialObjectMetadata) { m.Annotations = nil })
	if Current(noDigest, cur) {
		t.Errorf("a report without a digest is current when the one wanted has none either")
	}
}

// Write sends nothing for a current report and says it is unchanged; it
// applies one that differs, or one written before the digest, with the
// timestamps of its unchanged results read back from the report in the
// cluster (listed: deploy/'s role grants no get); it deletes a report no
// new one replaces; --dry-run=client sends nothing and returns what it
// would apply.
func TestWrite(t *testing.T) {
	const t0, t1 = 1764547200, 1764550800
	gvr := policyreport.KindOf(policyreport.WGPolicy).GVR
	for _, tc := range []struct {
		name       string
		cur        openreports.Report
		edit       func(m *metav1.PartialObjectMetadata)
		dryRun     string
		objects    bool
		wantApply  bool
		wantAction string
		wantStamp  int64 // of the object returned
	}{
		{"current", want(t, t0, "fail"), nil, "", false, false, "unchanged", 0},
		{"current, -o", want(t, t0, "fail"), nil, "", true, false, "unchanged", t0},
		{"current, --dry-run=client", want(t, t0, "fail"), nil, "client", false, false, "unchanged", t0},
		{"written before the digest", want(t, t0, "fail"), func(m *metav1.PartialObjectMetadata) { m.Annotations = nil }, "", false, true, "configured", t0},
		{"edited by another manager", want(t, t0, "fail"), func(m *metav1.PartialObjectMetadata) {
			m.ManagedFields = append(m.ManagedFields, metav1.ManagedFieldsEntry{Manager: "kubectl-edit", Operation: metav1.ManagedFieldsOperationUpdate})
		}, "", false, true, "configured", t0},
		{"differs", want(t, t0, "warn"), nil, "", false, true, "configured", t1},
		{"differs, --dry-run=client", want(t, t0, "warn"), nil, "client", false, false, "configured", t1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			meta, full := applied(t, tc.cur, tc.edit)
			scheme := runtime.NewScheme()
			dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{gvr: "PolicyReportList"}, full)
			applies, lists := 0, 0
			var sent *unstructured.Unstructured
			dyn.PrependReactor("patch", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
				applies++
				sent = &unstructured.Unstructured{}
				if err := sent.UnmarshalJSON(a.(clienttesting.PatchAction).GetPatch()); err != nil {
					t.Fatal(err)
				}
				got := sent.DeepCopy()
				got.SetResourceVersion("8")
				return true, got, nil
			})
			dyn.PrependReactor("list", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
				lists++
				return false, nil, nil
			})
			w := &Writer{API: policyreport.WGPolicy, Kind: policyreport.KindOf(policyreport.WGPolicy), dynamic: dyn, DryRun: tc.dryRun, Objects: tc.objects,
				old: []metav1.PartialObjectMetadata{*meta}}
			changes, err := w.Write(context.Background(), []openreports.Report{want(t, t1, "fail")})
			if err != nil {
				t.Fatal(err)
			}
			if (applies > 0) != tc.wantApply || len(changes) != 1 || changes[0].Action != tc.wantAction {
				t.Fatalf("%d applies, changes %+v; want apply %v, action %q", applies, changes, tc.wantApply, tc.wantAction)
			}
			if (lists > 0) != (tc.wantStamp != 0) {
				t.Errorf("%d full reads of the report; want them only to stamp or print it", lists)
			}
			obj := changes[0].Object
			if tc.wantStamp == 0 {
				if obj != nil {
					t.Errorf("an object returned for a report not printed")
				}
				return
			}
			rs, _, _ := unstructured.NestedSlice(obj.Object, "results")
			if got, _, _ := unstructured.NestedInt64(rs[0].(map[string]any), "timestamp", "seconds"); len(rs) != 1 || got != tc.wantStamp {
				t.Errorf("the result is stamped %d, want %d", got, tc.wantStamp)
			}
			if sent != nil && sent.GetAnnotations()[policyreport.DigestAnnotation] == "" {
				t.Errorf("applied without the digest annotation: %v", sent.GetAnnotations())
			}
		})
	}

	// A report no new one replaces is deleted; with --dry-run=client it
	// is only said to be.
	for _, dry := range []string{"", "client"} {
		meta, full := applied(t, want(t, t0, "fail"), nil)
		dyn := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), full)
		w := &Writer{API: policyreport.WGPolicy, Kind: policyreport.KindOf(policyreport.WGPolicy), dynamic: dyn, DryRun: dry, old: []metav1.PartialObjectMetadata{*meta}}
		changes, err := w.Write(context.Background(), nil)
		deletes := 0
		for _, a := range dyn.Actions() {
			if a.GetVerb() == "delete" {
				deletes++
			}
		}
		if err != nil || len(changes) != 1 || changes[0].Action != "deleted" || (deletes == 1) != (dry == "") {
			t.Errorf("dry run %q: changes %+v, %d deletes, %v", dry, changes, deletes, err)
		}
	}
}

// Managed reads back only the metadata of the reports this tool wrote
// (by their label), never the reports themselves: the writer here has no
// client that could list them in full.
func TestManagedListsMetadataOnly(t *testing.T) {
	kind := policyreport.KindOf(policyreport.WGPolicy)
	obj := func(name string, labels map[string]string) runtime.Object {
		return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: kind.GVR.GroupVersion().String(), Kind: kind.Kind},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: labels}}
	}
	scheme := metadatafake.NewTestScheme()
	scheme.AddKnownTypeWithName(kind.GVR.GroupVersion().WithKind(kind.Kind), &metav1.PartialObjectMetadata{})
	scheme.AddKnownTypeWithName(kind.GVR.GroupVersion().WithKind(kind.Kind+"List"), &metav1.PartialObjectMetadataList{})
	meta := metadatafake.NewSimpleMetadataClient(scheme,
		obj(policyreport.Name, map[string]string{policyreport.ManagedBy: policyreport.Name}), obj("other-tool", nil))
	w := &Writer{API: policyreport.WGPolicy, Kind: kind, metadata: meta}
	got, err := w.Managed(context.Background(), "")
	if err != nil || len(got) != 1 || got[0].Name != policyreport.Name {
		t.Fatalf("Managed = %+v, %v; want the one report of this tool", got, err)
	}
}

// Write sends WriteConcurrency applies at once over a real HTTP client:
// the server below holds each apply until that many are in flight (a
// writer that waits for each answer before the next never gets there),
// and the changes come back in the order of the reports. A report whose
// apply fails ends the run with its error, and the writes that were made
// are still returned, in order, to be printed: the applies in flight
// beside the failed one are answered only after its failure (they are
// not cancelled by it).
func TestWriteAppliesConcurrently(t *testing.T) {
	const n = 2*WriteConcurrency + 1
	var mu sync.Mutex
	inFlight, most := 0, 0
	full, filled := make(chan struct{}), false
	fail := ""
	failSent, failOnce := make(chan struct{}), sync.Once{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		inFlight++
		if most = max(most, inFlight); inFlight == WriteConcurrency && !filled {
			close(full)
			filled = true
		}
		wait, failing := full, fail != "" && strings.Contains(r.URL.Path, "/namespaces/"+fail+"/")
		afterFail := fail != "" && !failing
		mu.Unlock()
		select {
		case <-wait:
		case <-time.After(2 * time.Second): // a writer one at a time waits this long for each
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPatch || failing {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"failed by the test","code":500}`))
			if failing {
				w.(http.Flusher).Flush()
				failOnce.Do(func() { close(failSent) })
			}
			return
		}
		if afterFail {
			// Answer only once the client has had the failure some time:
			// a writer that cancels the applies in flight beside a failed
			// one loses these (they would go unreported).
			select {
			case <-failSent:
				time.Sleep(100 * time.Millisecond)
			case <-time.After(2 * time.Second): // ns02 not sent at all: the assertions below say so
			}
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(body); err != nil {
			t.Error(err)
		}
		u.SetResourceVersion("1")
		out, _ := u.MarshalJSON()
		_, _ = w.Write(out)
	}))
	defer srv.Close()
	w, err := New(&rest.Config{Host: srv.URL}, policyreport.WGPolicy, "")
	if err != nil {
		t.Fatal(err)
	}
	reports := func() []openreports.Report {
		var rs []openreports.Report
		for i := range n {
			r := want(t, 1, "fail")
			r.Namespace = fmt.Sprintf("ns%02d", i)
			rs = append(rs, r)
		}
		return rs
	}
	changes, err := w.Write(context.Background(), reports())
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if most != WriteConcurrency {
		t.Errorf("at most %d applies were in flight at once, want %d", most, WriteConcurrency)
	}
	mu.Unlock()
	for i, c := range changes {
		if want := fmt.Sprintf("ns%02d", i); c.Namespace != want || c.Action != "created" {
			t.Errorf("change %d: %s %s, want %s created", i, c.Namespace, c.Action, want)
		}
	}
	if len(changes) != n {
		t.Errorf("%d changes, want %d", len(changes), n)
	}

	mu.Lock()
	fail = "ns02" // full stays closed: no waiting, the failure is what is tested
	mu.Unlock()
	changes, err = w.Write(context.Background(), reports())
	if err == nil || !strings.Contains(err.Error(), "ns02/kubectl-caps") {
		t.Fatalf("error %v, want the failed apply of ns02", err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.Namespace)
	}
	if !slices.IsSorted(got) || slices.Contains(got, "ns02") || !slices.Contains(got, "ns00") || !slices.Contains(got, "ns01") {
		t.Errorf("changes returned with the error: %v; want those written before and around ns02, in order, without it", got)
	}
}
