// Package reports writes the policy reports of `kubectl caps report`
// (pkg/policyreport) to a cluster: the only writer of the project, and it
// writes nothing but those reports. It checks that the report CRD is
// served, reads back the reports it manages, applies each new one
// server-side with its own field manager, and deletes its reports of the
// namespaces that have nothing left to report. It judges nothing.
package reports

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	openreports "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/kubectl-caps/kubectl-caps/pkg/policyreport"
)

// FieldManager is the field manager of every apply: the fields it sets
// are this tool's, apart from any other writer's (kubectl's own manager is
// "kubectl"; see Kubernetes' "Server-Side Apply" documentation).
const FieldManager = "kubectl-caps"

// Writer writes one API's reports to one cluster.
type Writer struct {
	API  policyreport.API
	Kind policyreport.Kind
	// DryRun is --dry-run: "server" has the API server run every write
	// (dryRun=All) and persist none; "client" sends no write at all, and
	// Write returns the objects it would apply.
	DryRun string
	// Objects: Write returns the object of every report it keeps, one it
	// does not send read back in full (for -o).
	Objects bool
	// old is the metadata of the reports this tool wrote in scope, as
	// Open read it.
	old       []metav1.PartialObjectMetadata
	dynamic   dynamic.Interface
	metadata  metadata.Interface
	discovery discovery.DiscoveryInterface
}

// New is a writer for the cluster of cfg.
func New(cfg *rest.Config, api policyreport.API, dryRun string) (*Writer, error) {
	cfg = unlimited(cfg)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Writer{API: api, Kind: policyreport.KindOf(api), DryRun: dryRun, dynamic: dyn, metadata: meta, discovery: disc}, nil
}

// Offline is a writer with no cluster (manifests, --dry-run=client):
// Write returns the reports as they would be created.
func Offline(api policyreport.API) *Writer {
	return &Writer{API: api, Kind: policyreport.KindOf(api), DryRun: "client"}
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
// kind is served (Check), knowing the reports it manages in namespace (""
// for all).
func Open(ctx context.Context, flags genericclioptions.RESTClientGetter, api policyreport.API, dryRun string, namespace string) (*Writer, error) {
	cfg, err := flags.ToRESTConfig()
	var w *Writer
	if err == nil {
		w, err = New(cfg, api, dryRun)
	}
	if err == nil {
		err = w.Check()
	}
	if err == nil {
		w.old, err = w.Managed(ctx, namespace)
	}
	return w, err
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

// Managed lists the metadata of the reports this tool wrote in a
// namespace ("" for all), by their label: nothing else is ever read back,
// replaced or deleted. Only the metadata: it says whether a report is
// current (Current), and the reports in full, ten megabytes of JSON for
// 10,000 pods, cost more to decode than the rest of a run that finds
// nothing new (docs/benchmarks.md).
func (w *Writer) Managed(ctx context.Context, namespace string) ([]metav1.PartialObjectMetadata, error) {
	l, err := w.metadata.Resource(w.Kind.GVR).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: policyreport.Selector})
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

// previous is the report this tool wrote in a namespace, in full (nil
// if there is none any more): the one report a namespace may hold under
// its label, listed, since the role of deploy/ grants list and not get.
func (w *Writer) previous(ctx context.Context, namespace string) (*unstructured.Unstructured, error) {
	l, err := w.dynamic.Resource(w.Kind.GVR).Namespace(namespace).List(ctx, metav1.ListOptions{LabelSelector: policyreport.Selector})
	if err != nil {
		return nil, fmt.Errorf("reading back %s %s/%s: %w", w.Kind.Kind, namespace, policyreport.Name, err)
	}
	for i := range l.Items {
		if l.Items[i].GetName() == policyreport.Name {
			return &l.Items[i], nil
		}
	}
	return nil, nil
}

// Change is what a write did to one report, as kubectl apply says it:
// created, configured, unchanged or deleted (with "(server dry run)").
type Change struct {
	Namespace, Name, Action string
	Object                  *unstructured.Unstructured
}

func (w *Writer) Describe(c Change) string {
	s := fmt.Sprintf("%s.%s/%s %s in namespace %s", w.Kind.GVR.Resource, w.Kind.GVR.Group, c.Name, c.Action, c.Namespace)
	if w.DryRun == "server" {
		s += " (server dry run)"
	}
	return s
}

// Write applies each report (built by policyreport.Build, every result
// stamped now) and deletes the managed reports read by Open that none of
// them replaces: a namespace whose workloads are all gone loses its
// report. An apply that changes nothing leaves the resourceVersion as it
// is (the API server does not write an unchanged object), which is why
// the reports must be deterministic (policyreport.Build) and a result
// that has not changed keeps the timestamp of the report in the cluster
// (policyreport.Keep): a report to apply is read back in full first. The
// apply forces: the fields are this tool's, and a report written by an
// older run under another manager is taken over rather than refused.
//
// A report that the cluster already holds as this tool last wrote it
// (Current, from its metadata) is not sent again: the API server would
// find nothing to change, after decoding, merging and comparing the whole
// object, which on a cluster with thousands of results per namespace is
// most of a run's time when nothing changed (docs/benchmarks.md).
func (w *Writer) Write(ctx context.Context, rs []openreports.Report) ([]Change, error) {
	// The reports read back that no new one has replaced yet.
	was := map[string]*metav1.PartialObjectMetadata{}
	for i := range w.old {
		was[w.old[i].GetNamespace()+"/"+w.old[i].GetName()] = &w.old[i]
	}
	var dry []string
	if w.DryRun == "server" {
		dry = []string{metav1.DryRunAll}
	}
	// Each namespace's report is its own object: they are built and sent
	// WriteConcurrency at a time, and their changes kept in order. A
	// failed apply stops the reports not yet started, but does not cancel
	// those in flight: a cancelled apply may or may not have been stored,
	// and every write made must be reported (docs/fleet.md).
	changes := make([]*Change, len(rs))
	var g errgroup.Group
	g.SetLimit(WriteConcurrency)
	var failed atomic.Bool
	for i := range rs {
		if failed.Load() { // g.Wait returns that failure
			break
		}
		key := rs[i].Namespace + "/" + rs[i].Name
		c := was[key]
		delete(was, key)
		g.Go(func() error {
			ch, err := w.write(ctx, &rs[i], c, dry)
			if err != nil {
				failed.Store(true)
				return err
			}
			changes[i] = ch
			return nil
		})
	}
	err := g.Wait()
	var out []Change
	for _, c := range changes {
		if c != nil {
			out = append(out, *c)
		}
	}
	if err != nil {
		return out, err
	}
	for _, key := range slices.Sorted(maps.Keys(was)) {
		ns, name, _ := strings.Cut(key, "/")
		if w.DryRun != "client" {
			err := w.dynamic.Resource(w.Kind.GVR).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{DryRun: dry})
			if err != nil && !apierrors.IsNotFound(err) { // another reporter deleted it first
				return out, fmt.Errorf("deleting %s %s: %w", w.Kind.Kind, key, err)
			}
		}
		out = append(out, Change{Namespace: ns, Name: name, Action: "deleted"})
	}
	return out, nil
}

// WriteConcurrency is how many reports Write builds and applies at once.
// One after another, the API server decodes, validates and stores one
// report while the others wait, and a first run on 10,000 pods (50
// reports of up to ~245 KB to create) took ~6× audit's time
// (docs/benchmarks.md). A few in flight use the server's cores without
// queueing more than its API Priority and Fairness admits at once.
const WriteConcurrency = 4

// write applies one report r; c is the metadata of the report the cluster
// holds in its namespace, if any. The change is nil when nothing was
// written.
func (w *Writer) write(ctx context.Context, r *openreports.Report, c *metav1.PartialObjectMetadata, dry []string) (*Change, error) {
	key := r.Namespace + "/" + r.Name
	o, err := policyreport.Object(*r, w.API)
	if err != nil {
		return nil, err
	}
	current := c != nil && Current(o, c)
	var prev *unstructured.Unstructured
	if c != nil && (!current || w.Objects || w.DryRun == "client") {
		if prev, err = w.previous(ctx, r.Namespace); err != nil {
			return nil, err
		}
	}
	switch {
	case current && w.DryRun != "client":
		return &Change{Namespace: r.Namespace, Name: r.Name, Action: "unchanged", Object: prev}, nil
	case prev != nil:
		p, err := policyreport.FromObject(prev)
		if err == nil { // one that cannot be read (an edit by hand) is rewritten, newly stamped
			policyreport.Keep(r, p)
			if o, err = policyreport.Object(*r, w.API); err != nil {
				return nil, err
			}
		}
	}
	action := "configured"
	switch {
	case c == nil:
		action = "created"
	case current:
		action = "unchanged"
	}
	if w.DryRun == "client" {
		return &Change{Namespace: r.Namespace, Name: r.Name, Action: action, Object: o}, nil
	}
	// Two reporters at once (a CronJob run beside a manual one) may both
	// create a missing report: the API server's apply creates it in the
	// same storage transaction that would update it, so the second
	// becomes an update (TestReportRBAC runs two at once).
	got, err := w.dynamic.Resource(w.Kind.GVR).Namespace(r.Namespace).Apply(ctx, r.Name, o,
		metav1.ApplyOptions{FieldManager: FieldManager, Force: true, DryRun: dry})
	if err != nil {
		return nil, fmt.Errorf("applying %s %s: %w", w.Kind.Kind, key, err)
	}
	if c != nil && c.GetResourceVersion() == got.GetResourceVersion() {
		action = "unchanged"
	}
	return &Change{Namespace: r.Namespace, Name: r.Name, Action: action, Object: got}, nil
}

// Current reports whether cur, the metadata of a report read from the
// cluster, is that of want as this tool's last apply left it, so that
// applying want again would change nothing: only this tool manages it (one
// managedFields entry, this manager's apply: a report another manager
// also wrote to, by kubectl edit or its own apply, is applied, and forced
// back), and its labels and annotations are want's, the digest of its
// content among them (policyreport.Digest, which leaves out the results'
// timestamps: a result that has not changed keeps its timestamp). A
// report written before the digest was (it has no annotation) is applied
// once. Any doubt applies.
func Current(want *unstructured.Unstructured, cur *metav1.PartialObjectMetadata) bool {
	mf := cur.GetManagedFields()
	if len(mf) != 1 || mf[0].Manager != FieldManager || mf[0].Operation != metav1.ManagedFieldsOperationApply {
		return false
	}
	return want.GetAnnotations()[policyreport.DigestAnnotation] != "" &&
		maps.Equal(want.GetLabels(), cur.GetLabels()) && maps.Equal(want.GetAnnotations(), cur.GetAnnotations()) &&
		len(cur.GetOwnerReferences())+len(cur.GetFinalizers())+len(want.GetOwnerReferences())+len(want.GetFinalizers()) == 0
}
