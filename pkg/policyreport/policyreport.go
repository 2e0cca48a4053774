// Package policyreport turns what audit found into the policy reports a
// cluster keeps (`kubectl caps report`, docs/fleet.md): one report per
// namespace, named for the tool, with one result per workload container and
// rule, in the shape of wgpolicyk8s.io/v1alpha2 PolicyReport or of its
// successor reports.openreports.io/v1alpha1 Report. It takes the audit's
// items and their settled findings and returns values: the writing
// (server-side apply, pruning) is pkg/sink/reports'.
//
// Both APIs share one result shape; the values are the openreports module's
// own Go types (github.com/openreports/reports-api, whose API package needs
// only k8s.io/api and apimachinery), and a wgpolicyk8s report is the same
// document with its apiVersion and kind, less the top-level source field its
// schema lacks (Object).
package policyreport

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	openreports "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/finding"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Names every report and result carries: the report's name in each
// namespace, the results' source and policy, and the label that marks the
// reports this tool manages (and prunes: nothing else is ever deleted).
const (
	Name      = "kubectl-caps"
	Source    = "kubectl-caps"
	Policy    = "kubectl-caps"
	Category  = "Linux capabilities"
	ManagedBy = "app.kubernetes.io/managed-by"
)

// Selector selects the reports this tool wrote (ManagedBy=kubectl-caps).
const Selector = ManagedBy + "=" + Name

// API is the report API written.
type API string

// The two report APIs in use: the Policy Working Group's PolicyReport,
// which Kyverno and Policy Reporter read, and its successor OpenReports.
const (
	WGPolicy    API = "wgpolicyk8s"
	OpenReports API = "openreports"
)

// APIs lists them, the default first.
var APIs = []string{string(WGPolicy), string(OpenReports)}

// Kind is where an API's namespaced report lives.
type Kind struct {
	GVR  schema.GroupVersionResource
	Kind string
	// CRD is the name of the CustomResourceDefinition that serves it, for
	// the message that says what to install.
	CRD string
	// Install is where its CRD comes from.
	Install string
}

// KindOf is the namespaced report kind of an API.
func KindOf(a API) Kind {
	if a == OpenReports {
		return Kind{GVR: schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "reports"}, Kind: "Report",
			CRD: "reports.openreports.io", Install: "config/crd/openreports.io_reports.yaml of github.com/openreports/reports-api v0.2.1"}
	}
	return Kind{GVR: schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}, Kind: "PolicyReport",
		CRD: "policyreports.wgpolicyk8s.io", Install: "config/crds/policyreport/wgpolicyk8s.io_policyreports.yaml of github.com/kyverno/kyverno v1.19.1 (installed with Kyverno or Policy Reporter)"}
}

// Result values and severities, as both CRDs enumerate them.
const (
	Pass = "pass"
	Fail = "fail"
	Warn = "warn"
	Skip = "skip"
)

// Options are what Build needs besides the audit.
type Options struct {
	// Now stamps every result; Keep gives back the timestamps of those
	// that have not changed since the report the tool wrote last time.
	Now time.Time
	// Namespace is where the items with none (manifests that set none)
	// are reported: "default", as kubectl apply would place them.
	Namespace string
}

// Build is one report per namespace that has an item, ordered by
// namespace, each with its results ordered by workload, container and
// rule and its summary counted. findings are the items' findings, settled
// (report.Settle): a container's findings of one rule are one result,
// fail for an error, warn for a warning or a note, skip when every one is
// excepted; a container with no finding is one pass result without a
// rule. The findings are what `audit -o sarif` prints without --fail-on:
// risk findings from high up (a medium or low capability is no finding,
// so a container that holds only those passes).
func Build(items []report.Item, findings []finding.Finding, o Options) []openreports.Report {
	type key struct{ ns, kind, name, container string }
	ns := func(n string) string { return cmp.Or(n, o.Namespace, "default") }
	byContainer := map[key][]finding.Finding{}
	for _, f := range findings {
		k := key{ns(f.Namespace), f.Workload.Kind, f.Workload.Name, f.Container}
		byContainer[k] = append(byContainer[k], f)
	}
	seen := map[key]bool{}
	byNS := map[string][]openreports.ReportResult{}
	for i := range items {
		it := &items[i]
		k := key{ns(it.Namespace), it.Workload.Kind, it.Workload.Name, it.Container}
		if seen[k] { // one workload's pods on two runtimes: its first row speaks for it
			continue
		}
		seen[k] = true
		byNS[k.ns] = append(byNS[k.ns], results(it, k.ns, byContainer[k])...)
	}
	now := metav1.Timestamp{Seconds: o.Now.Unix()}
	out := make([]openreports.Report, 0, len(byNS))
	for _, n := range slices.Sorted(maps.Keys(byNS)) {
		rs := byNS[n]
		slices.SortStableFunc(rs, func(a, b openreports.ReportResult) int { return strings.Compare(resultKey(a), resultKey(b)) })
		var sum openreports.ReportSummary
		for i := range rs {
			rs[i].Timestamp = now
			switch rs[i].Result {
			case Pass:
				sum.Pass++
			case Fail:
				sum.Fail++
			case Warn:
				sum.Warn++
			case Skip:
				sum.Skip++
			}
		}
		out = append(out, openreports.Report{
			ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: n, Labels: map[string]string{ManagedBy: Name}},
			Source:     Source,
			Summary:    sum,
			Results:    rs,
		})
	}
	return out
}

// resultKey orders and identifies a result: its workload, container and
// rule (a pass, which has no rule, first).
func resultKey(r openreports.ReportResult) string {
	var kind, name string
	if len(r.Subjects) > 0 {
		kind, name = r.Subjects[0].Kind, r.Subjects[0].Name
	}
	return strings.Join([]string{kind, name, r.Properties["container"], r.Rule}, "\x00")
}

// Keep gives each result of r that prev, the report of r's namespace as
// the tool wrote it last time (read back from the cluster), holds unchanged
// its timestamp there, so that a run that finds nothing new writes nothing
// new; a new or changed result keeps Build's.
func Keep(r *openreports.Report, prev openreports.Report) {
	m := make(map[string]openreports.ReportResult, len(prev.Results))
	for _, p := range prev.Results {
		m[resultKey(p)] = p
	}
	for i := range r.Results {
		if p, ok := m[resultKey(r.Results[i])]; ok && sameResult(p, r.Results[i]) {
			r.Results[i].Timestamp = p.Timestamp
		}
	}
}

// sameResult: equal but for the timestamp.
func sameResult(a, b openreports.ReportResult) bool {
	a.Timestamp, b.Timestamp = metav1.Timestamp{}, metav1.Timestamp{}
	if len(a.Properties) == 0 && len(b.Properties) == 0 {
		a.Properties, b.Properties = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

// results are one container's: one per rule its findings break, or one
// pass.
func results(it *report.Item, ns string, fs []finding.Finding) []openreports.ReportResult {
	base := openreports.ReportResult{
		Source:   Source,
		Policy:   Policy,
		Category: Category,
		Subjects: []corev1.ObjectReference{subject(it, ns)},
		Properties: map[string]string{
			"container":     it.Container,
			"containerType": string(it.ContainerType),
			"runtime":       strings.TrimSuffix(it.Runtime+"://"+it.RuntimeVersion, "://"),
			"user":          it.User,
			"maxRisk":       it.MaxRisk,
			"effective":     strings.Join(it.Effective, ","),
			"bounding":      strings.Join(it.Bounding, ","),
		},
	}
	if len(it.Added) > 0 {
		base.Properties["added"] = strings.Join(it.Added, ",")
	}
	if len(it.Dropped) > 0 {
		base.Properties["dropped"] = strings.Join(it.Dropped, ",")
	}
	if len(fs) == 0 {
		r := base
		r.Result, r.Severity = Pass, ""
		r.Description = fmt.Sprintf("container %q breaks no kubectl-caps rule (MAX-RISK %s; docs/findings.md)", it.Container, it.MaxRisk)
		return []openreports.ReportResult{r}
	}
	byRule := map[string][]finding.Finding{}
	for _, f := range fs {
		byRule[f.RuleID] = append(byRule[f.RuleID], f)
	}
	var out []openreports.ReportResult
	for _, id := range slices.Sorted(maps.Keys(byRule)) {
		out = append(out, ruleResult(base, id, byRule[id]))
	}
	return out
}

// ruleResult is one rule's findings of one container as one result.
func ruleResult(base openreports.ReportResult, id string, fs []finding.Finding) openreports.ReportResult {
	r := base
	r.Properties = maps.Clone(base.Properties) // never nil: results sets it
	r.Rule = id
	rule, _ := finding.Lookup(id)
	r.Properties["ruleName"] = rule.Name
	var caps, msgs, excepted []string
	worst, sev := "", ""
	for _, f := range fs {
		if f.Capability != "" {
			caps = append(caps, f.Capability)
		}
		if s := severity(f, rule); rank[s] > rank[sev] {
			sev = s
		}
		if f.Status == finding.StatusExcepted {
			excepted = append(excepted, fmt.Sprintf("%s (%s: %s)", cmp.Or(f.Capability, f.RuleID), f.ExceptedBy, f.Reason))
			continue
		}
		msgs = append(msgs, f.Message)
		if res := resultOf(f.Level); worst == "" || res == Fail {
			worst = res
		}
	}
	if len(caps) > 0 {
		r.Properties["capabilities"] = strings.Join(slices.Compact(caps), ",")
	}
	if len(excepted) > 0 {
		r.Properties["excepted"] = strings.Join(excepted, "; ")
	}
	r.Severity = openreports.ResultSeverity(sev)
	r.Result = openreports.Result(cmp.Or(worst, Skip))
	if worst == "" {
		r.Description = "Excepted: " + strings.Join(excepted, "; ")
	} else {
		r.Description = strings.Join(msgs, " ")
	}
	return r
}

// resultOf: an error fails, a warning or a note warns (a note is what the
// catalog advises, not a broken rule: its severity says info or low).
func resultOf(l finding.Level) string {
	if l == finding.LevelError {
		return Fail
	}
	return Warn
}

var rank = map[string]int{"": 0, "info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

// severity: a risk finding's is the capability's risk in the container
// (the catalog's tier, raised by risk.Of), privileged's the container's
// MAX-RISK; the other rules' is their security-severity score in GitHub's
// bands (9.0 critical, 7.0 high, 4.0 medium), and a note's info.
func severity(f finding.Finding, rule finding.Rule) string {
	if f.Risk != "" && catalog.Risk(f.Risk) != catalog.RiskNone {
		return f.Risk
	}
	if f.Level == finding.LevelNote {
		return "info"
	}
	return rule.Band()
}

// subject is the workload, not the pod: the owner a live pod rolls up to,
// with the apiVersion of its built-in kind (a custom resource's is not
// known here, so it has none).
func subject(it *report.Item, ns string) corev1.ObjectReference {
	ref := corev1.ObjectReference{Kind: it.Workload.Kind, Name: it.Workload.Name, Namespace: ns}
	if k, ok := workload.Lookup(it.Workload.Kind); ok {
		ref.APIVersion = strings.TrimPrefix(k.Group+"/v1", "/")
	}
	return ref
}

// DigestAnnotation is the annotation of every report that carries the
// digest of its content (Digest), for the writer to know a report in the
// cluster is current from its metadata alone (pkg/sink/reports).
const DigestAnnotation = "caps.kubectl-caps.io/results-digest"

// Object is a report as the API writes it: apiVersion and kind of the
// chosen API, metadata with the name, namespace, label and the digest
// annotation, and the body (a wgpolicyk8s PolicyReport has no top-level
// source).
func Object(r openreports.Report, a API) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&r)
	if err != nil {
		return nil, err
	}
	k := KindOf(a)
	m["apiVersion"], m["kind"] = k.GVR.GroupVersion().String(), k.Kind
	delete(m, "metadata")
	if a != OpenReports {
		delete(m, "source")
	}
	d, err := Digest(m)
	if err != nil {
		return nil, err
	}
	// Only what this tool owns: a null creationTimestamp would be a field
	// of its apply.
	m["metadata"] = map[string]any{"name": r.Name, "namespace": r.Namespace, "labels": map[string]any{ManagedBy: Name},
		"annotations": map[string]any{DigestAnnotation: d}}
	return &unstructured.Unstructured{Object: m}, nil
}

// Digest is "sha256:" and the SHA-256 of a report object as JSON (which
// sorts map keys), without its metadata and its results' timestamps: what
// the tool writes besides what names and stamps it. Two runs that find
// the same give the same digest whenever they run; any other result,
// severity, property, resource or summary gives another. The timestamps
// are left out because a result keeps its timestamp while it is unchanged
// (Keep), so equal digests mean equal documents once stamped.
func Digest(obj map[string]any) (string, error) {
	h := sha256.New()
	e := json.NewEncoder(h)
	meta, hasMeta := obj["metadata"]
	delete(obj, "metadata")
	rs, _ := obj["results"].([]any)
	stamps := make([]any, len(rs))
	for i, r := range rs {
		if m, ok := r.(map[string]any); ok {
			stamps[i] = m["timestamp"]
			delete(m, "timestamp")
		}
	}
	err := e.Encode(obj)
	// Put back what was taken out: obj is the caller's.
	for i, r := range rs {
		if m, ok := r.(map[string]any); ok && stamps[i] != nil {
			m["timestamp"] = stamps[i]
		}
	}
	if hasMeta {
		obj["metadata"] = meta
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), err
}

// Objects are the reports as Object writes them.
func Objects(rs []openreports.Report, a API) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(rs))
	for _, r := range rs {
		u, err := Object(r, a)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// FromObject reads a report of either API back, for Options.Previous.
func FromObject(u *unstructured.Unstructured) (openreports.Report, error) {
	var r openreports.Report
	err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r)
	return r, err
}

// FromObjects reads back the reports it can: one that cannot be read (an
// edit by hand) is rewritten, its results newly stamped.
func FromObjects(us []unstructured.Unstructured) []openreports.Report {
	var out []openreports.Report
	for i := range us {
		if r, err := FromObject(&us[i]); err == nil {
			out = append(out, r)
		}
	}
	return out
}
