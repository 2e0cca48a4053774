package policyreport

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	openreports "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

var containerd, _ = runtimes.Parse("containerd")

var t0 = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)

func target(ns, kind, name string, cs ...corev1.Container) workload.Target {
	prefix := workload.PrefixController
	if kind == "Pod" {
		prefix = workload.PrefixPod
	}
	return workload.Target{Namespace: ns, Workload: workload.Ref{Kind: kind, Name: name},
		Spec: &corev1.PodSpec{Containers: cs}, FieldPrefix: prefix, Profile: containerd, Pods: 1}
}

func restricted(name string) corev1.Container {
	return corev1.Container{Name: name, SecurityContext: &corev1.SecurityContext{
		RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](1000), AllowPrivilegeEscalation: ptr.To(false),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}
}

func adding(name string, caps ...corev1.Capability) corev1.Container {
	c := restricted(name)
	c.SecurityContext.RunAsNonRoot, c.SecurityContext.RunAsUser = nil, ptr.To[int64](0)
	c.SecurityContext.Capabilities.Add = caps
	return c
}

func items(ts ...workload.Target) []report.Item {
	var out []report.Item
	for i := range ts {
		audit.Items(&ts[i], func(it report.Item) { out = append(out, it) })
	}
	return out
}

func build(its []report.Item, ex exception.Set, o Options) []openreports.Report {
	return Build(its, report.Settle(its, "", ex, nil, o.Now).Findings, o)
}

type row struct{ NS, Kind, Name, Container, Rule, Result, Severity string }

func rows(rs []openreports.Report) []row {
	var out []row
	for _, r := range rs {
		for _, x := range r.Results {
			out = append(out, row{r.Namespace, x.Subjects[0].Kind, x.Subjects[0].Name, x.Properties["container"], x.Rule, string(x.Result), string(x.Severity)})
		}
	}
	return out
}

// One result per container and rule (a container's CAPS001 findings on
// two capabilities are one result), one pass per container without a
// finding, reports per namespace in order, results ordered by workload,
// container and rule, severities from the risk.
func TestBuild(t *testing.T) {
	its := items(
		target("shop", "Deployment", "web", adding("app", "SYS_ADMIN", "SYS_MODULE"), restricted("side")),
		target("", "Pod", "debug", restricted("c")),
		target("monitoring", "DaemonSet", "agent", corev1.Container{Name: "a", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}),
	)
	got := build(its, exception.Set{}, Options{Now: t0})
	want := []row{
		{"default", "Pod", "debug", "c", "", "pass", ""},
		{"monitoring", "DaemonSet", "agent", "a", "CAPS005", "fail", "critical"},
		{"monitoring", "DaemonSet", "agent", "a", "CAPS105", "warn", "medium"},
		{"shop", "Deployment", "web", "app", "CAPS001", "fail", "critical"},
		{"shop", "Deployment", "web", "side", "", "pass", ""},
	}
	if d := cmp.Diff(want, rows(got)); d != "" {
		t.Fatalf("results (-want +got):\n%s", d)
	}
	web := got[2]
	if s := web.Summary; s != (openreports.ReportSummary{Pass: 1, Fail: 1}) {
		t.Errorf("shop summary = %+v", s)
	}
	if s := got[1].Summary; s != (openreports.ReportSummary{Fail: 1, Warn: 1}) {
		t.Errorf("monitoring summary = %+v", s)
	}
	r := web.Results[0]
	if r.Properties["capabilities"] != "SYS_ADMIN,SYS_MODULE" || r.Properties["ruleName"] != "critical-capability" {
		t.Errorf("properties = %v", r.Properties)
	}
	if want := (corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", Namespace: "shop"}); r.Subjects[0] != want {
		t.Errorf("resource = %+v, want %+v", r.Subjects[0], want)
	}
	if got[0].Results[0].Subjects[0].APIVersion != "v1" {
		t.Errorf("a pod's apiVersion = %q", got[0].Results[0].Subjects[0].APIVersion)
	}
	if r.Timestamp.Seconds != t0.Unix() || web.Name != Name || web.Labels[ManagedBy] != Name || r.Source != Source || r.Policy != Policy {
		t.Errorf("report %s, result %+v", web.Name, r)
	}
}

// An excepted finding is a skip with the exception's reason; a rule with
// an open finding besides stays failing.
func TestBuildExcepted(t *testing.T) {
	its := items(target("shop", "Deployment", "web", adding("app", "SYS_ADMIN"), adding("both", "SYS_ADMIN", "SYS_MODULE")))
	var admin capability.Set
	admin = admin.Add(capability.SYS_ADMIN)
	ex := exception.Set{Entries: []exception.Entry{{Namespace: "shop", Kind: "Deployment", Name: "web", Container: "*", Caps: admin, Reason: "mounts", Origin: "deploy/web annotation"}}}
	got := rows(build(its, ex, Options{Now: t0}))
	want := []row{
		{"shop", "Deployment", "web", "app", "CAPS001", "skip", "critical"},
		{"shop", "Deployment", "web", "both", "CAPS001", "fail", "critical"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("results (-want +got):\n%s", d)
	}
}

// A result that has not changed keeps the timestamp it was first written
// with, so that a second run writes the same document (and the API server
// keeps its resourceVersion); a changed or new result gets Now.
func TestKeepKeepsTimestampsOfUnchangedResults(t *testing.T) {
	its := items(target("shop", "Deployment", "web", adding("app", "SYS_ADMIN"), restricted("side")))
	first := build(its, exception.Set{}, Options{Now: t0})
	later := t0.Add(time.Hour)
	again := build(its, exception.Set{}, Options{Now: later})
	Keep(&again[0], first[0])
	if d := cmp.Diff(first, again); d != "" {
		t.Fatalf("a second run with nothing changed differs (-first +again):\n%s", d)
	}
	changed := items(target("shop", "Deployment", "web", adding("app", "SYS_MODULE"), restricted("side")))
	third := build(changed, exception.Set{}, Options{Now: later})
	Keep(&third[0], first[0])
	ts := map[string]int64{}
	for _, r := range third[0].Results {
		ts[r.Properties["container"]] = r.Timestamp.Seconds
	}
	if ts["app"] != later.Unix() || ts["side"] != t0.Unix() {
		t.Errorf("timestamps = %v: want the changed result at %d and the unchanged at %d", ts, later.Unix(), t0.Unix())
	}
}

// The digest annotation of a report is the same for the same findings
// whenever they are found (the results' timestamps are left out), in
// either map order, and differs when anything a reader sees differs: a
// result, its severity, a property, its resource, the summary, the kind.
func TestDigest(t *testing.T) {
	its := items(target("shop", "Deployment", "web", adding("app", "SYS_ADMIN"), restricted("side")))
	digest := func(r openreports.Report, a API) string {
		t.Helper()
		u, err := Object(r, a)
		if err != nil {
			t.Fatal(err)
		}
		d := u.GetAnnotations()[DigestAnnotation]
		if len(d) != len("sha256:")+64 || d[:7] != "sha256:" {
			t.Fatalf("digest annotation %q", d)
		}
		// The annotation is the digest of the object it is on.
		if again, err := Digest(u.Object); err != nil || again != d {
			t.Fatalf("Digest of the object = %q, %v; its annotation says %q", again, err, d)
		}
		return d
	}
	base := build(its, exception.Set{}, Options{Now: t0})[0]
	want := digest(base, WGPolicy)
	// Another run, an hour later, builds its maps anew: Go's map order
	// differs from one map to the next.
	for i := range 20 {
		later := build(its, exception.Set{}, Options{Now: t0.Add(time.Duration(i) * time.Hour)})[0]
		if got := digest(later, WGPolicy); got != want {
			t.Fatalf("run %d, stamped %d: digest %s, want %s", i, later.Results[0].Timestamp.Seconds, got, want)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(r *openreports.Report)
	}{
		{"result", func(r *openreports.Report) { r.Results[0].Result = Warn }},
		{"severity", func(r *openreports.Report) { r.Results[0].Severity = "low" }},
		{"property", func(r *openreports.Report) { r.Results[0].Properties["effective"] += ",CHOWN" }},
		{"property added", func(r *openreports.Report) { r.Results[0].Properties["added"] = "NET_RAW" }},
		{"resource", func(r *openreports.Report) { r.Results[0].Subjects[0].Name = "api" }},
		{"description", func(r *openreports.Report) { r.Results[0].Description += "." }},
		{"a result gone", func(r *openreports.Report) { r.Results = r.Results[1:] }},
		{"summary", func(r *openreports.Report) { r.Summary.Pass++ }},
	} {
		r := build(its, exception.Set{}, Options{Now: t0})[0]
		tc.edit(&r)
		if got := digest(r, WGPolicy); got == want {
			t.Errorf("%s changed: the digest did not", tc.name)
		}
	}
	if digest(base, OpenReports) == want {
		t.Errorf("a Report and a PolicyReport of the same results have one digest")
	}
	// The object Digest read is left as it was.
	u, _ := Object(base, WGPolicy)
	before := u.DeepCopy()
	if _, err := Digest(u.Object); err != nil || !reflect.DeepEqual(u, before) {
		t.Errorf("Digest changed its argument (%v)", err)
	}
}

// A wgpolicyk8s PolicyReport is the same document less the top-level
// source, and reads back into the same value.
func TestObject(t *testing.T) {
	rs := build(items(target("shop", "Deployment", "web", restricted("app"))), exception.Set{}, Options{Now: t0})
	for _, a := range []API{WGPolicy, OpenReports} {
		u, err := Object(rs[0], a)
		if err != nil {
			t.Fatal(err)
		}
		k := KindOf(a)
		if u.GetAPIVersion() != k.GVR.GroupVersion().String() || u.GetKind() != k.Kind || u.GetName() != Name || u.GetNamespace() != "shop" {
			t.Errorf("%s: %s %s %s/%s", a, u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName())
		}
		if _, has := u.Object["source"]; has != (a == OpenReports) {
			t.Errorf("%s: top-level source present = %v", a, has)
		}
		if _, has := u.Object["metadata"].(map[string]any)["creationTimestamp"]; has {
			t.Errorf("%s: metadata has a creationTimestamp", a)
		}
		back, err := FromObject(u)
		if err != nil {
			t.Fatal(err)
		}
		want := rs[0]
		if a == WGPolicy {
			want.Source = ""
		}
		want.Annotations = map[string]string{DigestAnnotation: u.GetAnnotations()[DigestAnnotation]}
		want.TypeMeta = metav1.TypeMeta{APIVersion: k.GVR.GroupVersion().String(), Kind: k.Kind}
		if d := cmp.Diff(want, back); d != "" {
			t.Errorf("%s: read back (-want +got):\n%s", a, d)
		}
	}
}
