package suggest

import (
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// ErrNoObject: Patched was asked for a workload that did not come from a
// manifest (a live one), so there is no object to patch.
var ErrNoObject = errors.New("no manifest object to patch: -o patched applies to -f and -k input")

// Patched is the workload's manifest object with its patch applied: what
// `kubectl patch --local -f FILE --type strategic --patch-file PATCH -o
// yaml` gives for a FILE holding this object alone (kubectl patch applies
// a patch to every object of -f, so a file that also holds a Service gets
// the Service patched too). The same strategic-merge code as kubectl's
// (apimachinery's strategicpatch, with the kind's Go type for the merge
// keys). The object as read when there is no patch; it is not changed in
// place.
func (w *Workload) Patched() (map[string]any, error) {
	if w.Object == nil {
		return nil, ErrNoObject
	}
	p := w.Patch()
	if p == nil {
		return w.Object, nil
	}
	typed := typedObject(w.Kind)
	if typed == nil {
		// Patch is nil for every kind typedObject does not know
		// (TestTypedObjectForEveryPatchableKind); reaching here is a bug.
		return nil, fmt.Errorf("no Go type for %s to apply a strategic merge patch with", w.Kind)
	}
	schema, err := strategicpatch.NewPatchMetaFromStruct(typed)
	if err != nil {
		return nil, err
	}
	// The merge may reuse and change the maps it is given; the object as
	// read stays as read.
	out, err := strategicpatch.StrategicMergeMapPatchUsingLookupPatchMeta(runtime.DeepCopyJSON(w.Object), p.Strategic(), schema)
	if err != nil {
		return nil, fmt.Errorf("%s: applying the patch: %w", w.Label(), err)
	}
	return out, nil
}

// typedObject is the Go type of a built-in kind whose template a patch can
// change (workload.Kind.Mutable), as kubectl takes it from its scheme;
// nil for any other kind.
func typedObject(kind string) any {
	switch kind {
	case "Deployment":
		return &appsv1.Deployment{}
	case "StatefulSet":
		return &appsv1.StatefulSet{}
	case "DaemonSet":
		return &appsv1.DaemonSet{}
	case "ReplicaSet":
		return &appsv1.ReplicaSet{}
	case "ReplicationController":
		return &corev1.ReplicationController{}
	case "CronJob":
		return &batchv1.CronJob{}
	case "PodTemplate":
		return &corev1.PodTemplate{}
	case "Pod":
		return &corev1.Pod{}
	case "Job":
		return &batchv1.Job{}
	}
	return nil
}
