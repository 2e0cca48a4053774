package cmd

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/pager"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/profile"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/cluster"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
)

// liveGroup is what the pod rollup found for one workload.
type liveGroup struct {
	namespace, kind, name string
	items                 []report.Item
	results               []engine.Result
}

// collectLive finds the workloads as audit does (pods, each judged with its
// node's runtime, rolled up under their controller) and suggests for each.
//
// A patch must fit the controller's pod template, not the pods: admission
// webhooks inject containers into pods, and during a rollout the pods of
// one Deployment differ. So the suggestion for a patchable workload is
// computed from the template itself, listed from the API, on the runtime
// its pods run on. Bare pods, and workloads whose template cannot be read,
// are judged from their pods and get no patch.
func (o *SuggestOptions) collectLive(ctx context.Context) ([]*workload, error) {
	lc, err := o.connect()
	if err != nil {
		return nil, err
	}
	col, err := o.collect(ctx, lc, o.ErrOut)
	if err != nil {
		return nil, err
	}
	var groups []*liveGroup
	byKey := map[string]*liveGroup{}
	col.Rollup.Each(o.auditor, func(it report.Item, res *engine.Result) {
		key := it.Namespace + "/" + it.Workload.Kind + "/" + it.Workload.Name
		g := byKey[key]
		if g == nil {
			g = &liveGroup{namespace: it.Namespace, kind: it.Workload.Kind, name: it.Workload.Name}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.items = append(g.items, it)
		g.results = append(g.results, *res)
	})

	tl := &templateLister{client: lc.Typed, chunk: o.ChunkSize, all: o.AllNamespaces, want: map[string]bool{}, found: map[string]*liveTemplate{}, done: map[string]error{}}
	for _, g := range groups {
		if suggest.TargetOf(g.kind).Patchable {
			tl.want[g.kind+"/"+g.namespace+"/"+g.name] = true
		}
	}
	pods := &podGetter{client: lc.Typed, cache: map[string]*corev1.Pod{}}
	var ws []*workload
	for _, g := range groups {
		tgt := suggest.TargetOf(g.kind)
		if tgt.Patchable {
			tmpl, err := tl.get(ctx, g.kind, g.namespace, g.name)
			switch {
			case err != nil && cluster.IsForbidden(err):
				tgt = suggest.Target{Code: suggest.NoteNoTemplate, Why: fmt.Sprintf(
					"You may not list %ss in namespace %q, so the pod template is unknown and this suggestion comes from the pods; grant list on them for a patch",
					strings.ToLower(g.kind), g.namespace)}
			case err != nil:
				return nil, o.clusterError(err, lc.Host)
			case tmpl == nil:
				tgt = suggest.Target{Code: suggest.NoteNoTemplate, Why: fmt.Sprintf("%s %s/%s was not found (deleted since its pods were listed?)", g.kind, g.namespace, g.name)}
			default:
				ws = append(ws, o.fromTemplate(g, tmpl, tgt))
				continue
			}
		}
		w, err := o.fromPods(ctx, g, tgt, pods)
		if err != nil {
			return nil, o.clusterError(err, lc.Host)
		}
		ws = append(ws, w)
	}
	for _, w := range tl.warnings {
		fmt.Fprintf(o.ErrOut, "Warning: %s\n", w)
	}
	return ws, nil
}

// fromTemplate suggests for a controller's template on each runtime its
// pods run on. Pods on different runtimes of one workload give one row per
// runtime and one patch: the union of the drops, and of the adds that no
// runtime drops.
func (o *SuggestOptions) fromTemplate(g *liveGroup, tmpl *liveTemplate, tgt suggest.Target) *workload {
	var runtimes []string
	podsOn := map[string]int{}
	seen := map[string]bool{}
	for _, it := range g.items {
		if !slices.Contains(runtimes, it.Runtime) {
			runtimes = append(runtimes, it.Runtime)
		}
		if k := it.Runtime + "\x00" + it.Pod; !seen[k] {
			seen[k] = true
			podsOn[it.Runtime] += it.Pods
		}
	}
	var w *workload
	for _, rt := range runtimes {
		p, err := profile.Parse(rt)
		if err != nil {
			p = o.profile
		}
		one := o.fromSpec(&audit.Target{
			Namespace: g.namespace, Workload: report.WorkloadRef{Kind: g.kind, Name: g.name}, Pods: podsOn[rt],
			Spec: tmpl.spec, Meta: tmpl.meta, FieldPrefix: tgt.Prefix, Profile: p,
		}, g.kind, tgt.Prefix, tmpl.managed)
		if w == nil {
			w = one
			continue
		}
		for _, c := range one.Containers {
			if c.Change != nil {
				if first := w.changeOf(c.Change.Type, c.Change.Name); first != nil {
					first.New = suggest.Merge(first.New, c.Change.New)
					c.Change = nil
				}
			}
			w.Containers = append(w.Containers, c)
		}
	}
	inTemplate := map[string]bool{}
	for _, ref := range engine.Containers(tmpl.spec) {
		inTemplate[string(ref.Type)+"/"+ref.Container.Name] = true
	}
	for i := range g.items {
		it := &g.items[i]
		typ := engine.ContainerType(it.ContainerType)
		if inTemplate[string(typ)+"/"+it.Container] {
			continue
		}
		// Ephemeral containers, and containers an admission webhook put
		// into the pods: no patch of the template can reach them.
		s := suggest.Suggest(suggest.Input{Result: &g.results[i], Type: typ, Profile: o.profileOf(it.Runtime)}, o.options())
		c := container{Item: suggest.NewItem(it, &s)}
		if typ != engine.TypeEphemeralContainer {
			c.Item.Capabilities = nil
			c.Item.Notes = append(c.Item.Notes, suggest.Note{Code: suggest.NoteNotInTemplate, Message: fmt.Sprintf(
				"The pods run container %q, which %s %s's pod template does not have (an admission webhook may inject it): change it where it is injected", it.Container, g.kind, g.name)})
		}
		w.Containers = append(w.Containers, c)
	}
	return w
}

func (w *workload) changeOf(t engine.ContainerType, name string) *suggest.ContainerChange {
	for i := range w.Containers {
		if c := w.Containers[i].Change; c != nil && c.Type == t && c.Name == name {
			return c
		}
	}
	return nil
}

func (o *SuggestOptions) profileOf(name string) profile.Profile {
	if p, err := profile.Parse(name); err == nil {
		return p
	}
	return o.profile
}

// fromPods suggests from the pods themselves: bare pods, Jobs, kinds
// kubectl caps cannot patch, and workloads whose template it may not read.
// The rollup's results are the pods'; the pod is read once more for the
// container ports, which decide NET_BIND_SERVICE.
func (o *SuggestOptions) fromPods(ctx context.Context, g *liveGroup, tgt suggest.Target, pods *podGetter) (*workload, error) {
	w := &workload{Namespace: g.namespace, Kind: g.kind, Name: g.name, Target: tgt}
	for i := range g.items {
		it := &g.items[i]
		pod, err := pods.get(ctx, g.namespace, it.Pod)
		if err != nil {
			return nil, err
		}
		var spec *corev1.PodSpec
		var c *corev1.Container
		index := 0
		if pod != nil {
			spec = &pod.Spec
			for _, ref := range engine.Containers(spec) {
				if string(ref.Type) == it.ContainerType && ref.Container.Name == it.Container {
					c, index = ref.Container, ref.Index
				}
			}
		}
		w.Containers = append(w.Containers, o.suggestOne(w, it, &g.results[i], spec, c, engine.ContainerType(it.ContainerType), index, o.profileOf(it.Runtime)))
	}
	return w, nil
}

// podGetter reads pods by name once each.
type podGetter struct {
	client kubernetes.Interface
	cache  map[string]*corev1.Pod
}

// get returns the pod, or nil when it is gone or may not be read (then
// the suggestion goes without its ports).
func (p *podGetter) get(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	key := ns + "/" + name
	if pod, ok := p.cache[key]; ok {
		return pod, nil
	}
	pod, err := p.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if cluster.IsForbidden(err) || apierrors.IsNotFound(err) {
			p.cache[key] = nil
			return nil, nil
		}
		return nil, err
	}
	p.cache[key] = pod
	return pod, nil
}

// liveTemplate is a controller's pod template, reduced to what the
// suggestion reads.
type liveTemplate struct {
	spec *corev1.PodSpec
	meta *metav1.ObjectMeta
	// managed is "Kind/name" of the controller's own controller.
	managed string
}

// templateLister lists each workload kind once per namespace (once in all
// namespaces with -A) and keeps the templates it was asked for.
type templateLister struct {
	client   kubernetes.Interface
	chunk    int64
	all      bool
	want     map[string]bool // kind/ns/name
	found    map[string]*liveTemplate
	done     map[string]error // kind/ns listed, and how it went
	warnings []string
}

func (t *templateLister) get(ctx context.Context, kind, ns, name string) (*liveTemplate, error) {
	scope := ns
	if t.all {
		scope = ""
	}
	key := kind + "/" + scope
	err, listed := t.done[key]
	if !listed {
		err = t.list(ctx, kind, scope)
		t.done[key] = err
		if err != nil && cluster.IsForbidden(err) {
			where := fmt.Sprintf("in namespace %q", scope)
			if scope == "" {
				where = "in all namespaces"
			}
			t.warnings = append(t.warnings, fmt.Sprintf("you may not list %ss %s (%s), so their suggestions come from their pods and no patch is printed for them",
				strings.ToLower(kind), where, apiMessage(err)))
		}
	}
	if err != nil {
		return nil, err
	}
	return t.found[kind+"/"+ns+"/"+name], nil
}

func (t *templateLister) list(ctx context.Context, kind, ns string) error {
	var fn func(metav1.ListOptions) (runtime.Object, error)
	c := t.client
	switch kind {
	case "Deployment":
		fn = func(o metav1.ListOptions) (runtime.Object, error) { return c.AppsV1().Deployments(ns).List(ctx, o) }
	case "StatefulSet":
		fn = func(o metav1.ListOptions) (runtime.Object, error) { return c.AppsV1().StatefulSets(ns).List(ctx, o) }
	case "DaemonSet":
		fn = func(o metav1.ListOptions) (runtime.Object, error) { return c.AppsV1().DaemonSets(ns).List(ctx, o) }
	case "ReplicaSet":
		fn = func(o metav1.ListOptions) (runtime.Object, error) { return c.AppsV1().ReplicaSets(ns).List(ctx, o) }
	case "ReplicationController":
		fn = func(o metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().ReplicationControllers(ns).List(ctx, o)
		}
	case "CronJob":
		fn = func(o metav1.ListOptions) (runtime.Object, error) { return c.BatchV1().CronJobs(ns).List(ctx, o) }
	default:
		return nil
	}
	p := pager.New(pager.SimplePageFunc(fn))
	p.PageSize = max(t.chunk, 1)
	return p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		m, err := metaOf(obj)
		if err != nil {
			return err
		}
		key := kind + "/" + m.GetNamespace() + "/" + m.GetName()
		if !t.want[key] {
			return nil
		}
		tmpl := templateOf(obj)
		if tmpl == nil {
			tmpl = &corev1.PodTemplateSpec{}
		}
		lt := &liveTemplate{spec: audit.Relevant(&tmpl.Spec), meta: tmpl.ObjectMeta.DeepCopy()}
		if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
			lt.managed = ref.Kind + "/" + ref.Name
		}
		t.found[key] = lt
		return nil
	})
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("unexpected object %T in a workload list", obj)
	}
	return m, nil
}

// templateOf is the pod template of a listed workload.
func templateOf(obj runtime.Object) *corev1.PodTemplateSpec {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template
	case *appsv1.StatefulSet:
		return &o.Spec.Template
	case *appsv1.DaemonSet:
		return &o.Spec.Template
	case *appsv1.ReplicaSet:
		return &o.Spec.Template
	case *corev1.ReplicationController:
		return o.Spec.Template
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template
	}
	return nil
}
