// Package reports writes the policy reports of `kubectl caps report`
// (pkg/policyreport) to a cluster: the only writer of the project, and it
// writes nothing but those reports. It checks that the report CRD is
// served, reads back the reports it manages, applies each new one
// server-side with its own field manager, and deletes its reports of the
// namespaces that have nothing left to report. It judges nothing.
package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/kubectl-caps/kubectl-caps/pkg/policyreport"
)

// FieldManager is the field manager of every apply: the fields it sets
// are this tool's, apart from any other writer's (kubectl's own manager is
// "kubectl"; see Kubernetes' "Server-Side Apply" documentation).
const FieldManager = "kubectl-caps"

// Writer writes one API's reports to one cluster.
type Writer struct {
	Kind policyreport.Kind
	// DryRun: the API server runs every write (dryRun=All) and persists
	// none (--dry-run=server).
	DryRun    bool
	dynamic   dynamic.Interface
	discovery discovery.DiscoveryInterface
}

// New is a writer for the cluster of cfg.
func New(cfg *rest.Config, kind policyreport.Kind, dryRun bool) (*Writer, error) {
	cfg = unlimited(cfg)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Writer{Kind: kind, DryRun: dryRun, dynamic: dyn, discovery: disc}, nil
}

// unlimited switches client-go's client-side limiter off (5 requests/s
// after a burst of 10), as cluster.NewClients does for the reads: a run
// writes one report per namespace, one request after another, so the
// limiter cannot protect the server from it and only stalls it (~10 s of
// waiting for 50 namespaces, docs/benchmarks.md). The server's API
// Priority and Fairness protects the apiserver; client-go honours its 429
// Retry-After answers.
func unlimited(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS = -1
	return c
}

// Open is a writer for the cluster of a kubeconfig context whose report
// kind is served (Check), with the reports it manages in namespace (""
// for all).
func Open(ctx context.Context, flags genericclioptions.RESTClientGetter, kind policyreport.Kind, dryRun bool, namespace string) (*Writer, []unstructured.Unstructured, error) {
	cfg, err := flags.ToRESTConfig()
	var w *Writer
	if err == nil {
		w, err = New(cfg, kind, dryRun)
	}
	if err == nil {
		err = w.Check()
	}
	if err != nil {
		return nil, nil, err
	}
	old, err := w.Managed(ctx, namespace)
	return w, old, err
}

// Objects are the objects the API server answered a write with (none for
// a deletion).
func Objects(cs []Change) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, c := range cs {
		if c.Object != nil {
			out = append(out, c.Object)
		}
	}
	return out
}

// NotInstalledError: the cluster serves no such report kind.
type NotInstalledError struct{ Kind policyreport.Kind }

func (e *NotInstalledError) Error() string {
	gv := e.Kind.GVR.GroupVersion()
	return fmt.Sprintf("the cluster does not serve %s (%s): install the CRD %s (%s), or choose the other API with --report-api",
		e.Kind.Kind, gv, e.Kind.CRD, e.Kind.Install)
}

// Check asks discovery whether the report kind is served.
func (w *Writer) Check() error {
	rl, err := w.discovery.ServerResourcesForGroupVersion(w.Kind.GVR.GroupVersion().String())
	if apierrors.IsNotFound(err) {
		return &NotInstalledError{w.Kind}
	}
	if err != nil {
		return err
	}
	for _, r := range rl.APIResources {
		if r.Name == w.Kind.GVR.Resource {
			return nil
		}
	}
	return &NotInstalledError{w.Kind}
}

// Managed lists the reports this tool wrote in a namespace ("" for all),
// by their label: nothing else is ever read back, replaced or deleted.
func (w *Writer) Managed(ctx context.Context, namespace string) ([]unstructured.Unstructured, error) {
	l, err := w.dynamic.Resource(w.Kind.GVR).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: policyreport.Selector})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// Change is what a write did to one report, as kubectl apply says it:
// created, configured, unchanged or deleted (with "(server dry run)").
type Change struct {
	Namespace, Name, Action string
	Object                  *unstructured.Unstructured
}

func (w *Writer) Describe(c Change) string {
	s := fmt.Sprintf("%s.%s/%s %s in namespace %s", w.Kind.GVR.Resource, w.Kind.GVR.Group, c.Name, c.Action, c.Namespace)
	if w.DryRun {
		s += " (server dry run)"
	}
	return s
}

// Write applies each report and deletes the managed reports (old) that
// none of them replaces: a namespace whose workloads are all gone loses
// its report. An apply that changes nothing leaves the resourceVersion as
// it is (the API server does not write an unchanged object), which is why
// the reports must be deterministic (policyreport.Build). The apply
// forces: the fields are this tool's, and a report written by an older
// run under another manager is taken over rather than refused.
//
// A report that the cluster already holds exactly as this tool last wrote
// it (Current) is not sent again: the API server would find nothing to
// change, after decoding, merging and comparing the whole object, which
// on a cluster with thousands of results per namespace is most of a run's
// time when nothing changed (docs/benchmarks.md).
func (w *Writer) Write(ctx context.Context, objs []*unstructured.Unstructured, old []unstructured.Unstructured) ([]Change, error) {
	// The reports read back that no new one has replaced yet.
	was := map[string]*unstructured.Unstructured{}
	for i := range old {
		was[old[i].GetNamespace()+"/"+old[i].GetName()] = &old[i]
	}
	var dry []string
	if w.DryRun {
		dry = []string{metav1.DryRunAll}
	}
	var out []Change
	for _, o := range objs {
		key := o.GetNamespace() + "/" + o.GetName()
		if c := was[key]; c != nil && Current(o, c) {
			delete(was, key)
			out = append(out, Change{Namespace: o.GetNamespace(), Name: o.GetName(), Action: "unchanged", Object: c})
			continue
		}
		// Two reporters at once (a CronJob run beside a manual one) may
		// both create a missing report: the API server's apply creates
		// it in the same storage transaction that would update it, so the
		// second becomes an update (TestReportRBAC runs two at once).
		got, err := w.dynamic.Resource(w.Kind.GVR).Namespace(o.GetNamespace()).Apply(ctx, o.GetName(), o,
			metav1.ApplyOptions{FieldManager: FieldManager, Force: true, DryRun: dry})
		if err != nil {
			return out, fmt.Errorf("applying %s %s: %w", w.Kind.Kind, key, err)
		}
		action := "configured"
		switch c, ok := was[key]; {
		case !ok:
			action = "created"
		case c.GetResourceVersion() == got.GetResourceVersion():
			action = "unchanged"
		}
		delete(was, key)
		out = append(out, Change{Namespace: o.GetNamespace(), Name: o.GetName(), Action: action, Object: got})
	}
	for _, key := range slices.Sorted(maps.Keys(was)) {
		ns, name, _ := strings.Cut(key, "/")
		err := w.dynamic.Resource(w.Kind.GVR).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{DryRun: dry})
		if err != nil && !apierrors.IsNotFound(err) { // another reporter deleted it first
			return out, fmt.Errorf("deleting %s %s: %w", w.Kind.Kind, key, err)
		}
		out = append(out, Change{Namespace: ns, Name: name, Action: "deleted"})
	}
	return out, nil
}

// Current reports whether cur, a report read from the cluster, is want as
// this tool's last apply left it, so that applying want again would change
// nothing: only this tool manages it (one managedFields entry, this
// manager's apply: a report another manager also writes to is applied, and
// forced back); its labels and annotations are want's; and every other
// field, compared as JSON (which sorts map keys and writes numbers alike,
// however they were decoded), is want's and no more. Any doubt applies.
func Current(want, cur *unstructured.Unstructured) bool {
	mf := cur.GetManagedFields()
	if len(mf) != 1 || mf[0].Manager != FieldManager || mf[0].Operation != metav1.ManagedFieldsOperationApply {
		return false
	}
	if !maps.Equal(want.GetLabels(), cur.GetLabels()) || !maps.Equal(want.GetAnnotations(), cur.GetAnnotations()) ||
		len(cur.GetOwnerReferences())+len(cur.GetFinalizers())+len(want.GetOwnerReferences())+len(want.GetFinalizers()) > 0 {
		return false
	}
	body := func(u *unstructured.Unstructured) ([]byte, error) {
		m := maps.Clone(u.Object)
		delete(m, "metadata")
		return json.Marshal(m)
	}
	a, err := body(want)
	if err != nil {
		return false
	}
	b, err := body(cur)
	return err == nil && bytes.Equal(a, b)
}
