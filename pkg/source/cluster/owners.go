package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/pager"

	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

var (
	replicaSets = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	jobs        = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
)

// Owners maps a pod to its top-level controller: ReplicaSet → Deployment
// and Job → CronJob through ownerReferences. It learns the middle links from
// metadata-only lists of ReplicaSets and Jobs (small, paginated, list verb
// only). Where those lists are forbidden it falls back: a ReplicaSet named
// "<deployment>-<pod-template-hash>" is attributed to the Deployment, the
// naming the Deployment controller guarantees; a Job stays a Job.
type Owners struct {
	links map[types.UID]workload.Ref
	// ownerless records, by resource, whether any object has no
	// controller: only those are workloads of their own (idle.go).
	ownerless map[string]bool
	// Degraded lists the lookups that were forbidden, for one warning each.
	Degraded []string
}

// mayHaveOwnerless reports whether some ReplicaSet or Job (kind) may have
// no controller: false only when the list ran and found none, so that a
// cluster whose ReplicaSets all belong to Deployments is not listed again
// in full for their templates.
func (o *Owners) mayHaveOwnerless(kind string) bool {
	return o == nil || !o.known(kind) || o.ownerless[ownerResource(kind)]
}

// ownerResource is the metadata list that holds a middle link's kind:
// "replicasets" for ReplicaSet, "jobs" for Job.
func ownerResource(kind string) string {
	if kind == "Job" {
		return jobs.Resource
	}
	return replicaSets.Resource
}

// LoadOwners lists ReplicaSet and Job metadata in namespace ("" = all).
func LoadOwners(ctx context.Context, client metadata.Interface, namespace string, chunk int64) (*Owners, error) {
	o := &Owners{links: map[types.UID]workload.Ref{}, ownerless: map[string]bool{}}
	for _, gvr := range []schema.GroupVersionResource{replicaSets, jobs} {
		err := listMetadata(ctx, client, gvr, namespace, chunk, func(m *metav1.PartialObjectMetadata) {
			if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
				o.links[m.UID] = workload.Ref{Kind: ref.Kind, Name: ref.Name}
			} else {
				o.ownerless[gvr.Resource] = true
			}
		})
		if err != nil {
			if IsForbidden(err) {
				o.Degraded = append(o.Degraded, gvr.Resource)
				continue
			}
			return nil, fmt.Errorf("listing %s: %w", gvr.Resource, err)
		}
	}
	return o, nil
}

func listMetadata(ctx context.Context, client metadata.Interface, gvr schema.GroupVersionResource, ns string, chunk int64, fn func(*metav1.PartialObjectMetadata)) error {
	if chunk <= 0 {
		chunk = DefaultChunkSize
	}
	p := pager.New(pager.SimplePageFunc(func(opts metav1.ListOptions) (runtime.Object, error) {
		return client.Resource(gvr).Namespace(ns).List(ctx, opts)
	}))
	p.PageSize = chunk
	return p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		m, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return fmt.Errorf("unexpected object %T in a metadata list", obj)
		}
		fn(m)
		return nil
	})
}

// Of returns the workload a pod is reported under: its controller, that
// controller's controller for ReplicaSets and Jobs, or the pod itself.
func (o *Owners) Of(pod *corev1.Pod) workload.Ref {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return workload.Ref{Kind: "Pod", Name: pod.Name}
	}
	owner := workload.Ref{Kind: ref.Kind, Name: ref.Name}
	if ref.Kind != "ReplicaSet" && ref.Kind != "Job" {
		return owner
	}
	if o != nil {
		if up, ok := o.links[ref.UID]; ok {
			return up
		}
		if o.known(ref.Kind) {
			// The lookup ran and the controller has no owner: it is
			// the top-level workload.
			return owner
		}
	}
	if ref.Kind == "ReplicaSet" {
		if d, ok := workload.DeploymentOf(ref.Name, pod.Labels[workload.PodTemplateHashLabel]); ok {
			return d
		}
	}
	return owner
}

func (o *Owners) known(kind string) bool {
	res := ownerResource(kind)
	for _, d := range o.Degraded {
		if d == res {
			return false
		}
	}
	return true
}
