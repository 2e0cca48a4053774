package cluster

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/pager"

	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Templates lists each workload kind once per namespace (once in all
// namespaces with AllNamespaces) and keeps the templates it was asked
// for: one paginated LIST per kind and namespace instead of one GET per
// workload. It uses the list verb only.
type Templates struct {
	client        kubernetes.Interface
	chunk         int64
	allNamespaces bool
	want          map[string]bool // kind/ns/name
	found         map[string]*workload.Template
	done          map[string]error // kind/ns listed, and how it went
	// Warnings are for stderr: kinds that may not be listed.
	Warnings []string
}

// NewTemplates returns a lister over client.
func NewTemplates(client kubernetes.Interface, chunk int64, allNamespaces bool) *Templates {
	return &Templates{client: client, chunk: max(chunk, 1), allNamespaces: allNamespaces,
		want: map[string]bool{}, found: map[string]*workload.Template{}, done: map[string]error{}}
}

// Want declares a workload whose template Get will be asked for; Get lists
// a kind once and keeps only the wanted templates.
func (t *Templates) Want(kind, ns, name string) { t.want[kind+"/"+ns+"/"+name] = true }

// Get returns the template of a wanted workload: nil when it is gone; a
// Forbidden error (IsForbidden) when its kind may not be listed there,
// which also adds a warning once.
func (t *Templates) Get(ctx context.Context, kind, ns, name string) (*workload.Template, error) {
	scope := ns
	if t.allNamespaces {
		scope = ""
	}
	key := kind + "/" + scope
	err, listed := t.done[key]
	if !listed {
		err = t.list(ctx, kind, scope)
		t.done[key] = err
		if err != nil && IsForbidden(err) {
			t.Warnings = append(t.Warnings, fmt.Sprintf("you may not list %ss%s (%s), so their suggestions come from their pods and no patch is printed for them",
				strings.ToLower(kind), inNamespace(scope), APIMessage(err)))
		}
	}
	if err != nil {
		return nil, err
	}
	return t.found[kind+"/"+ns+"/"+name], nil
}

func (t *Templates) list(ctx context.Context, kind, ns string) error {
	fn := listFunc(ctx, t.client, kind, ns)
	if fn == nil {
		return nil
	}
	p := pager.New(pager.SimplePageFunc(fn))
	p.PageSize = t.chunk
	return p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		m, ok := obj.(metav1.Object)
		if !ok {
			return fmt.Errorf("unexpected object %T in a workload list", obj)
		}
		key := kind + "/" + m.GetNamespace() + "/" + m.GetName()
		if !t.want[key] {
			return nil
		}
		tmpl := templateOf(obj)
		if tmpl == nil {
			tmpl = &corev1.PodTemplateSpec{}
		}
		lt := &workload.Template{Spec: workload.Relevant(&tmpl.Spec), Meta: tmpl.ObjectMeta.DeepCopy()}
		if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
			lt.Managed = ref.Kind + "/" + ref.Name
		}
		t.found[key] = lt
		return nil
	})
}

// listFunc lists the objects of a patchable workload kind (a controller
// whose template can change: workload.Kind.Mutable); nil for other kinds.
// TestTemplatesListEveryPatchableKind holds it to workload.Kinds.
func listFunc(ctx context.Context, c kubernetes.Interface, kind, ns string) func(metav1.ListOptions) (runtime.Object, error) {
	switch kind {
	case "Deployment":
		return func(o metav1.ListOptions) (runtime.Object, error) { return c.AppsV1().Deployments(ns).List(ctx, o) }
	case "StatefulSet":
		return func(o metav1.ListOptions) (runtime.Object, error) { return c.AppsV1().StatefulSets(ns).List(ctx, o) }
	case "DaemonSet":
		return func(o metav1.ListOptions) (runtime.Object, error) { return c.AppsV1().DaemonSets(ns).List(ctx, o) }
	case "ReplicaSet":
		return func(o metav1.ListOptions) (runtime.Object, error) { return c.AppsV1().ReplicaSets(ns).List(ctx, o) }
	case "ReplicationController":
		return func(o metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().ReplicationControllers(ns).List(ctx, o)
		}
	case "CronJob":
		return func(o metav1.ListOptions) (runtime.Object, error) { return c.BatchV1().CronJobs(ns).List(ctx, o) }
	}
	return nil
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
