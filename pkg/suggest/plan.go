package suggest

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Workload is one object whose containers get suggestions, with what its
// patch needs to know.
type Workload struct {
	Namespace, Kind, Name, Source string
	Target                        PatchTarget
	// Managed names the controller that owns this workload (an operator's
	// resource), whose reconciliation would undo a patch.
	Managed    string
	Containers []Container
	// Object is the manifest object as read (-f, -k), for Patched; nil
	// for a live workload.
	Object map[string]any
}

// Container is the suggestion for one container of a workload.
type Container struct {
	Item Item
	// Old is the container's securityContext as the object has it.
	Old *corev1.SecurityContext
	// Change is nil when the container's lists stay or it cannot be
	// patched.
	Change *ContainerChange
}

// Patch is the workload's patch; nil when no container changes.
func (w *Workload) Patch() *Patch {
	var changes []ContainerChange
	for _, c := range w.Containers {
		if c.Change != nil {
			changes = append(changes, *c.Change)
		}
	}
	if len(changes) == 0 {
		return nil
	}
	return &Patch{Namespace: w.Namespace, Kind: w.Kind, Name: w.Name, Prefix: w.Target.Prefix, Changes: changes}
}

// HasChanges reports whether any container has something to drop or new
// lists.
func (w *Workload) HasChanges() bool {
	for _, c := range w.Containers {
		if c.Item.Capabilities != nil || len(c.Item.Drop) > 0 {
			return true
		}
	}
	return false
}

// Items are the workloads' container items, in order.
func Items(ws []*Workload) []Item {
	var out []Item
	for _, w := range ws {
		for _, c := range w.Containers {
			out = append(out, c.Item)
		}
	}
	return out
}

// InCluster names the kubeconfig context of every item, in a run over
// several (docs/fleet.md), and returns ws.
func InCluster(ws []*Workload, context string) []*Workload {
	for _, w := range ws {
		for i := range w.Containers {
			w.Containers[i].Item.Cluster = context
		}
	}
	return ws
}

// CountDropsAtLeast counts the containers that should drop a capability
// whose risk is at least min (suggest-drop --fail-on); 0 when min is "".
func CountDropsAtLeast(ws []*Workload, min catalog.Risk) int {
	if min == "" {
		return 0
	}
	n := 0
	for _, w := range ws {
		for _, c := range w.Containers {
			if c.Item.MaxDropRisk().Level() >= min.Level() {
				n++
			}
		}
	}
	return n
}

// ForTarget audits a pod spec (a manifest's, or a controller's template)
// and suggests for each container; tgt says where a patch goes.
func (o Options) ForTarget(t *workload.Target, tgt PatchTarget, managed string) *Workload {
	w := &Workload{Namespace: t.Namespace, Kind: t.Workload.Kind, Name: t.Workload.Name, Source: t.Source, Target: tgt, Managed: managed}
	audit.Each(t, func(c *audit.Container) {
		w.Containers = append(w.Containers, o.one(w, c))
	})
	return w
}

// one suggests for one container and decides whether the workload's
// patch changes it.
func (o Options) one(w *Workload, c *audit.Container) Container {
	t, ref := c.Target, c.Ref
	s := Suggest(Input{Result: &c.Result, Pod: t.Spec, Container: ref.Container, Type: ref.Type, Profile: t.Profile},
		o.forContainer(w.Namespace, w.Kind, w.Name, ref.Container.Name))
	out := Container{Item: newItem(t, ref.Container.Name, ref.Type, c.Result.Runtime, &s), Old: ref.Container.SecurityContext}
	if s.Capabilities == nil || ref.Type == engine.TypeEphemeralContainer {
		return out
	}
	if !w.Target.Patchable {
		out.Item.Notes = append(out.Item.Notes, Note{Code: w.Target.Code, Message: w.Target.Why + "."})
		return out
	}
	out.Change = &ContainerChange{Name: ref.Container.Name, Type: ref.Type, Index: ref.Index, Old: out.Old, New: *s.Capabilities}
	out.Item.Patched = true
	return out
}

// Pods is what a live audit found for one workload: each container of
// each group of its pods with the engine's verdict (audit.Each over the
// rollup's targets).
type Pods struct {
	Namespace, Kind, Name string
	Containers            []audit.Container
}

// GroupPods audits the rollup's targets and groups their containers by
// workload, in the order the workloads were first seen.
func GroupPods(r *workload.Rollup) []*Pods {
	type key struct {
		namespace string
		ref       workload.Ref
	}
	var groups []*Pods
	byKey := map[key]*Pods{}
	r.Each(func(t *workload.Target) {
		k := key{t.Namespace, t.Workload}
		g := byKey[k]
		if g == nil {
			g = &Pods{Namespace: t.Namespace, Kind: t.Workload.Kind, Name: t.Workload.Name}
			byKey[k] = g
			groups = append(groups, g)
		}
		audit.Each(t, func(c *audit.Container) { g.Containers = append(g.Containers, *c) })
	})
	return groups
}

// TemplateSource reads controllers' pod templates for ForLive (the cluster
// source's Templates): Want declares each before the first Get, so that a
// kind is listed once per namespace.
type TemplateSource interface {
	Want(kind, namespace, name string)
	// Get returns nil, nil when the workload is gone.
	Get(ctx context.Context, kind, namespace, name string) (*workload.Template, error)
}

// ForLive suggests for the workloads of a live cluster: from the
// controller's pod template where it can be patched and read, else from
// the pods, with a note saying why there is no patch. forbidden tells a
// refused LIST (which degrades) from a failure (which is returned).
func (o Options) ForLive(ctx context.Context, groups []*Pods, templates TemplateSource, forbidden func(error) bool) ([]*Workload, error) {
	for _, g := range groups {
		if TargetOf(g.Kind).Patchable {
			templates.Want(g.Kind, g.Namespace, g.Name)
		}
	}
	var ws []*Workload
	for _, g := range groups {
		tgt := TargetOf(g.Kind)
		if tgt.Patchable {
			tmpl, err := templates.Get(ctx, g.Kind, g.Namespace, g.Name)
			switch {
			case err != nil && forbidden(err):
				tgt = PatchTarget{Code: NoteNoTemplate, Why: fmt.Sprintf(
					"You may not list %ss in namespace %q, so the pod template is unknown and this suggestion comes from the pods; grant list on them for a patch",
					strings.ToLower(g.Kind), g.Namespace)}
			case err != nil:
				return nil, err
			case tmpl == nil:
				tgt = PatchTarget{Code: NoteNoTemplate, Why: fmt.Sprintf("%s %s/%s was not found (deleted since its pods were listed?)", g.Kind, g.Namespace, g.Name)}
			default:
				ws = append(ws, o.ForTemplate(g, tmpl.Spec, tmpl.Meta, tmpl.Managed, tgt))
				continue
			}
		}
		ws = append(ws, o.ForPods(g, tgt))
	}
	return ws, nil
}

// ForPods suggests from the pods themselves: bare pods, Jobs, kinds
// kubectl caps cannot patch, and workloads whose template may not be read.
// The rollup's targets keep what a suggestion reads (ports, sysctls, the
// securityContext: workload.Relevant), so no pod is read again.
func (o Options) ForPods(g *Pods, tgt PatchTarget) *Workload {
	w := &Workload{Namespace: g.Namespace, Kind: g.Kind, Name: g.Name, Target: tgt}
	for i := range g.Containers {
		w.Containers = append(w.Containers, o.one(w, &g.Containers[i]))
	}
	return w
}

// ForTemplate suggests for a controller's pod template on each runtime its
// pods run on. A patch must fit the template, not the pods: admission
// webhooks inject containers into pods, and during a rollout the pods of
// one Deployment differ. Pods on different runtimes give one row per
// runtime and one patch: the union of the drops, and of the adds that no
// runtime drops (Merge). Containers of the pods that the template does
// not have (ephemeral, injected) get suggestions but no patch.
func (o Options) ForTemplate(g *Pods, spec *corev1.PodSpec, meta *metav1.ObjectMeta, managed string, tgt PatchTarget) *Workload {
	type onRuntime struct {
		t    *workload.Target
		pods int
	}
	var runtimes []string
	byRuntime := map[string]*onRuntime{}
	seen := map[*workload.Target]bool{}
	for i := range g.Containers {
		c := &g.Containers[i]
		// By release, not only by name: CRI-O's drop: [ALL] and Docker's
		// defaults differ between releases of one runtime.
		rt := c.Target.Profile.String()
		r := byRuntime[rt]
		if r == nil {
			r = &onRuntime{t: c.Target}
			byRuntime[rt] = r
			runtimes = append(runtimes, rt)
		}
		if !seen[c.Target] {
			seen[c.Target] = true
			r.pods += c.Target.Pods
		}
	}
	var w *Workload
	for _, rt := range runtimes {
		r := byRuntime[rt]
		one := o.ForTarget(&workload.Target{
			Namespace: g.Namespace, Workload: workload.Ref{Kind: g.Kind, Name: g.Name}, Pods: r.pods,
			Spec: spec, Meta: meta, FieldPrefix: tgt.Prefix, Profile: r.t.Profile,
		}, tgt, managed)
		if w == nil {
			w = one
			continue
		}
		for _, c := range one.Containers {
			if c.Change != nil {
				if first := w.changeOf(c.Change.Type, c.Change.Name); first != nil {
					first.New = Merge(first.New, c.Change.New)
					c.Change = nil
				}
			}
			w.Containers = append(w.Containers, c)
		}
	}
	inTemplate := map[string]bool{}
	for _, ref := range engine.Containers(spec) {
		inTemplate[string(ref.Type)+"/"+ref.Container.Name] = true
	}
	for i := range g.Containers {
		c := &g.Containers[i]
		if inTemplate[string(c.Ref.Type)+"/"+c.Ref.Container.Name] {
			continue
		}
		// Ephemeral containers, and containers an admission webhook put
		// into the pods: no patch of the template can reach them.
		s := Suggest(Input{Result: &c.Result, Type: c.Ref.Type, Profile: c.Target.Profile}, o.forContainer(g.Namespace, g.Kind, g.Name, c.Ref.Container.Name))
		out := Container{Item: newItem(c.Target, c.Ref.Container.Name, c.Ref.Type, c.Result.Runtime, &s)}
		if c.Ref.Type != engine.TypeEphemeralContainer {
			out.Item.Capabilities = nil
			out.Item.Notes = append(out.Item.Notes, Note{Code: NoteNotInTemplate, Message: fmt.Sprintf(
				"The pods run container %q, which %s %s's pod template does not have (an admission webhook may inject it): change it where it is injected",
				c.Ref.Container.Name, g.Kind, g.Name)})
		}
		w.Containers = append(w.Containers, out)
	}
	return w
}

func (w *Workload) changeOf(t engine.ContainerType, name string) *ContainerChange {
	for i := range w.Containers {
		if c := w.Containers[i].Change; c != nil && c.Type == t && c.Name == name {
			return c
		}
	}
	return nil
}

// Label names the workload in comments: "Deployment shop/web (file.yaml)".
func (w *Workload) Label() string {
	s := fmt.Sprintf("%s %s/%s", w.Kind, w.Namespace, w.Name)
	if w.Source != "" {
		s += " (" + w.Source + ")"
	}
	return s
}
