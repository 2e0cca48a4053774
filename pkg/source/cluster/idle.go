package cluster

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/pager"

	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Pods exist only while a controller runs some: a Deployment scaled to
// zero, a CronJob between runs or a DaemonSet whose nodes are gone has
// none, and an audit of pods alone would call it clean. These are the
// kinds whose pod templates are read to audit such controllers, in the
// order their rows appear (TestIdleKindsAreTheControllers holds them to
// workload.Kinds).
var idleKinds = []string{"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}

// seenKey identifies a workload that has pods in the rollup.
type seenKey struct{ namespace, kind, name string }

// candidate is a controller listed for its template, kept until the pods
// say whether it has any: the reduced template protobuf-encoded (a few
// hundred bytes, as the rollup keeps its groups).
type candidate struct {
	seenKey
	prefix string
	spec   []byte
	// allow is the template's allow annotation, when set.
	allow    string
	hasAllow bool
}

// record is one controller listed: the allow annotation on its own
// metadata and, when it may have no pods and its template matches the
// scope's selector, its candidate.
type record struct {
	key      seenKey
	allow    string
	hasAllow bool
	cand     *candidate
}

// idleList is the controllers of the template scopes, listed while the
// pods are: a LIST per kind and scope, each read in the background (it
// would otherwise follow the pods': +0.5 s on 10,000 pods,
// docs/benchmarks.md) and taken in the order the API lists them, which is
// the pods' (namespace first). A query of one scope takes a namespace's
// controllers when it closes that namespace, so what the list holds is a
// page or two ahead of the pods, not every controller of the cluster
// (about 4 MB of templates for 12,000 Deployments).
type idleList struct {
	kinds []*kindList // in scope order, then idleKinds order
	// objectAllow is the allow annotation on the metadata of each
	// controller taken that carries one, idle or not: its pods carry
	// their template's, never their controller's (docs/exceptions.md).
	// Only the goroutine that takes records touches it.
	objectAllow map[seenKey]string
	scopes      []Scope // the scopes listed, for their warnings
}

// kindList is the LIST of one kind in one scope: its records come on recs
// in the order listed, which is closed at the end; err and forbidden are
// set before that.
type kindList struct {
	scope     int
	kind      string
	recs      chan record
	err       error
	forbidden string // the API's message, when the list was forbidden or not found
	head      record
	hasHead   bool
}

// idlePageSize bounds a page of controllers: a list blocked until the pods
// reach its namespace holds the page it is in and the one fetched next,
// decoded (a few KB each), so pages stay smaller than the pods'.
const idlePageSize = 100

// startIdleList lists, in the background, the controllers of every scope
// that reads templates. owners blocks until the owner lookups are done: a
// ReplicaSet or Job list is skipped when they found none without a
// controller (the usual cluster, whose ReplicaSets all belong to
// Deployments).
func startIdleList(ctx context.Context, client kubernetes.Interface, scopes []Scope, chunk int64, owners func(ns string) *Owners) *idleList {
	l := &idleList{objectAllow: map[seenKey]string{}}
	listed := map[string]bool{}
	for _, s := range scopes {
		if !s.Templates || listed[s.Namespace+"\x00"+s.LabelSelector] {
			continue
		}
		listed[s.Namespace+"\x00"+s.LabelSelector] = true
		l.scopes = append(l.scopes, s)
		page := min(max(chunk, 1), idlePageSize)
		for _, kind := range idleKinds {
			// A page of records waits to be taken while the next is read.
			k := &kindList{scope: len(l.scopes) - 1, kind: kind, recs: make(chan record, page)}
			l.kinds = append(l.kinds, k)
			go k.list(ctx, client, s, page, owners)
		}
	}
	return l
}

func (k *kindList) list(ctx context.Context, client kubernetes.Interface, s Scope, chunk int64, owners func(ns string) *Owners) {
	defer close(k.recs)
	if (k.kind == "ReplicaSet" || k.kind == "Job") && !owners(s.Namespace).mayHaveOwnerless(k.kind) {
		return
	}
	sel, err := labels.Parse(s.LabelSelector)
	if err != nil {
		k.err = fmt.Errorf("parsing the label selector %q: %w", s.LabelSelector, err)
		return
	}
	kind, _ := workload.Lookup(k.kind)
	p := pager.New(pager.SimplePageFunc(idleListFunc(ctx, client, k.kind, s.Namespace)))
	p.PageSize = chunk
	// The pager fetches the next page while this one is taken; no more.
	p.PageBufferSize = 0
	err = p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		m, ok := obj.(metav1.Object)
		if !ok {
			return fmt.Errorf("unexpected object %T in a %s list", obj, strings.ToLower(k.kind))
		}
		r := record{key: seenKey{m.GetNamespace(), k.kind, m.GetName()}}
		r.allow, r.hasAllow = m.GetAnnotations()[exception.AnnotationKey]
		if tmpl := idleTemplateOf(obj); idle(obj, m) && tmpl != nil && sel.Matches(labels.Set(tmpl.Labels)) {
			spec, err := workload.Relevant(&tmpl.Spec).Marshal()
			if err != nil {
				return fmt.Errorf("encoding the template of %s %s/%s: %w", k.kind, m.GetNamespace(), m.GetName(), err)
			}
			v, ok := tmpl.Annotations[exception.AnnotationKey]
			r.cand = &candidate{r.key, kind.Prefix, spec, v, ok}
		}
		select {
		case k.recs <- r:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	switch {
	case err == nil:
	case IsForbidden(err) || apierrors.IsNotFound(err):
		k.forbidden = APIMessage(err)
	default:
		k.err = fmt.Errorf("listing %s to find those without running pods: %w", kind.Plural(), err)
	}
}

// take hands on, in order, the records of every list up to the first of a
// namespace that until says is not yet due (nil: every record), kind by
// kind; it stops at the first list that failed.
func (l *idleList) take(until func(ns string) bool, fn func(record) error) error {
	for _, k := range l.kinds {
		for {
			if !k.hasHead {
				r, more := <-k.recs
				if !more {
					if k.err != nil {
						return k.err
					}
					break
				}
				k.head, k.hasHead = r, true
			}
			if until != nil && !until(k.head.key.namespace) {
				break
			}
			k.hasHead = false
			if err := fn(k.head); err != nil {
				return err
			}
		}
	}
	return nil
}

// warnings are the lists' warnings, once every record is taken: one per
// scope, naming the kinds it may not list.
func (l *idleList) warnings() []string {
	var out []string
	for i, s := range l.scopes {
		forbidden := map[string]bool{}
		reason := ""
		for _, k := range l.kinds {
			if k.scope == i && k.forbidden != "" {
				forbidden[k.kind] = true
				reason = cmp.Or(reason, k.forbidden)
			}
		}
		if len(forbidden) == 0 {
			continue
		}
		// One warning for the scope: a user who may read only pods would
		// otherwise get seven.
		out = append(out, fmt.Sprintf("you may not list %s%s (%s), so those without running pods (scaled to zero, between runs) are not shown, nor the %s annotation on their own metadata read",
			workload.Names(func(k workload.Kind) bool { return forbidden[k.Name] }), inNamespace(s.Namespace), reason, exception.AnnotationKey))
	}
	return out
}

// addIdle adds to roll, for every controller none of whose pods was seen,
// its pod template judged on each runtime in use (profiles): the listed
// candidates given, and the controllers that resource arguments named (a
// scope with Controller, used when no pod matched it).
func addIdle(cands []candidate, scopes []Scope, matched []bool, seen map[seenKey]bool, profiles []resolved, roll *workload.Rollup) error {
	add := func(key seenKey, prefix string, spec *corev1.PodSpec) error {
		if seen[key] {
			return nil
		}
		// Two scopes may name one controller (deploy/web ns/shop).
		seen[key] = true
		for _, p := range profiles {
			t := workload.Target{Namespace: key.namespace, Workload: workload.Ref{Kind: key.kind, Name: key.name}, Spec: spec,
				FieldPrefix: prefix, Profile: p.profile, FromTemplate: true, Notes: []string{p.note}}
			if err := roll.AddTemplate(t); err != nil {
				return err
			}
		}
		return nil
	}
	for i, s := range scopes {
		if s.Controller != nil && !matched[i] {
			if err := add(seenKey{s.Namespace, s.Controller.Kind, s.Controller.Name}, s.Prefix, workload.Relevant(&s.Template.Spec)); err != nil {
				return err
			}
		}
	}
	for _, c := range cands {
		if seen[c.seenKey] {
			continue
		}
		spec := &corev1.PodSpec{}
		if err := spec.Unmarshal(c.spec); err != nil {
			return fmt.Errorf("decoding the template of %s %s/%s: %w", c.kind, c.namespace, c.name, err)
		}
		if err := add(c.seenKey, c.prefix, spec); err != nil {
			return err
		}
	}
	return nil
}

// idle reports whether a listed controller is audited on its own when it
// has no pods. A ReplicaSet or Job that a controller owns is its owner's
// (a Deployment's old revision, a CronJob's run): the owner is the
// workload, as Owners.Of reports their pods. A Job that has finished
// (Complete or Failed) runs nothing again.
func idle(obj runtime.Object, m metav1.Object) bool {
	switch o := obj.(type) {
	case *appsv1.ReplicaSet:
		return metav1.GetControllerOfNoCopy(m) == nil
	case *batchv1.Job:
		if metav1.GetControllerOfNoCopy(m) != nil {
			return false
		}
		return !slices.ContainsFunc(o.Status.Conditions, func(c batchv1.JobCondition) bool {
			return (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue
		})
	}
	return true
}

// allowances completes the allow annotations the pods carry (allow: their
// template's) with what the controllers say: the annotation on a
// controller's own metadata (listed by the idle list, or the controller a
// resource argument named), and the template's of a controller without
// pods. One rule decides between object and template, as for manifests
// (exception.Annotated.Pick). Only workloads audited count; new entries
// come in a stable order, with the containers of their first row. cands
// are the listed controllers of the batch (Collect's: a namespace, or the
// whole query), whose templates' annotations count; ns, when not "", keeps
// the controllers of that namespace only.
func (l *idleList) allowances(allow []Allowance, cands []candidate, scopes []Scope, audited map[seenKey]bool, roll *workload.Rollup, ns string) []Allowance {
	object, template := maps.Clone(l.objectAllow), map[seenKey]string{}
	for _, c := range cands {
		if c.hasAllow {
			template[c.seenKey] = c.allow
		}
	}
	for _, s := range scopes {
		if s.Controller == nil {
			continue
		}
		key := seenKey{s.Namespace, s.Controller.Kind, s.Controller.Name}
		if s.ObjectAllow != nil {
			object[key] = *s.ObjectAllow
		}
		if s.Template != nil {
			if v, ok := s.Template.Annotations[exception.AnnotationKey]; ok {
				template[key] = v
			}
		}
	}
	index := map[seenKey]int{}
	for i, a := range allow {
		index[seenKey{a.Namespace, a.Workload.Kind, a.Workload.Name}] = i
	}
	pending := map[seenKey]int{}
	set := map[seenKey]bool{}
	for k := range object {
		set[k] = true
	}
	for k := range template {
		set[k] = true
	}
	keys := slices.SortedFunc(maps.Keys(set), func(a, b seenKey) int {
		return cmp.Or(strings.Compare(a.namespace, b.namespace), strings.Compare(a.kind, b.kind), strings.Compare(a.name, b.name))
	})
	for _, k := range keys {
		if !audited[k] || ns != "" && k.namespace != ns {
			continue
		}
		i, ok := index[k]
		if !ok {
			v, has := template[k]
			allow = append(allow, Allowance{Namespace: k.namespace, Workload: workload.Ref{Kind: k.kind, Name: k.name},
				Annotated: exception.Annotated{Template: v, OnTemplate: has}})
			i = len(allow) - 1
			pending[k] = i
		}
		allow[i].Object, allow[i].OnObject = object[k]
	}
	if len(pending) > 0 {
		roll.Each(func(t *workload.Target) {
			if i, ok := pending[seenKey{t.Namespace, t.Workload.Kind, t.Workload.Name}]; ok && allow[i].Containers == nil {
				allow[i].Containers = workload.ContainerNames(t.Spec)
			}
		})
	}
	return allow
}

// idleListFunc lists the objects of one of idleKinds.
func idleListFunc(ctx context.Context, c kubernetes.Interface, kind, ns string) func(metav1.ListOptions) (runtime.Object, error) {
	if kind == "Job" {
		return func(o metav1.ListOptions) (runtime.Object, error) { return c.BatchV1().Jobs(ns).List(ctx, o) }
	}
	return listFunc(ctx, c, kind, ns)
}

// idleTemplateOf is templateOf with Jobs.
func idleTemplateOf(obj runtime.Object) *corev1.PodTemplateSpec {
	if j, ok := obj.(*batchv1.Job); ok {
		return &j.Spec.Template
	}
	return templateOf(obj)
}

// templateProfiles are the runtimes a template without pods is judged
// on, each with the note that says so: --runtime when given; otherwise
// every runtime the nodes report (a template would run on any of them),
// or the fallback when the nodes cannot be read or report none.
func (r runtimeResolver) templateProfiles() []resolved {
	const what = "no running pods: judged from the pod template"
	if r.explicit || len(r.nodes) == 0 {
		why := "(--runtime)"
		if !r.explicit {
			why = "(the nodes' runtimes are unknown; choose with --runtime)"
		}
		return []resolved{{profile: r.fallback, note: fmt.Sprintf("%s as %s would run it %s", what, flagValue(r.fallback), why)}}
	}
	count := map[string]int{}
	byKey := map[string]runtimes.Profile{}
	for _, rv := range r.nodes {
		p := r.node(rv).profile
		key := flagValue(p)
		count[key]++
		byKey[key] = p
	}
	keys := slices.Sorted(maps.Keys(count))
	out := make([]resolved, 0, len(keys))
	for _, k := range keys {
		where := "the runtime of every node"
		if len(keys) > 1 {
			where = fmt.Sprintf("the runtime of %d of the %d nodes; a row for each runtime in the cluster", count[k], len(r.nodes))
		}
		out = append(out, resolved{profile: byKey[k], note: fmt.Sprintf("%s as %s would run it (%s)", what, k, where)})
	}
	return out
}
