package workload

import "strings"

// PodIndex answers "which workload does this pod belong to" for the
// evidence reader (pkg/evidence's Resolver): from the pods a source listed
// (their owner as the live audit attributes it), and, for a pod it did not
// list (gone since the trace, or a manifest's workload, which has no pods),
// by the names controllers give their pods, among the workloads it knows.
// The zero value is empty; it is not safe for concurrent use.
type PodIndex struct {
	pods      map[string]Ref  // namespace + "/" + pod
	workloads map[string]bool // namespace + "/" + kind + "/" + name
}

// AddPod records a listed pod and its workload.
func (x *PodIndex) AddPod(namespace, pod string, ref Ref) {
	if x.pods == nil {
		x.pods = map[string]Ref{}
	}
	x.pods[namespace+"/"+pod] = ref
	x.AddWorkload(namespace, ref)
}

// AddWorkload records a workload whose pods may be named by its
// controller's rule; on a nil index it does nothing.
func (x *PodIndex) AddWorkload(namespace string, ref Ref) {
	if x == nil {
		return
	}
	if x.workloads == nil {
		x.workloads = map[string]bool{}
	}
	x.workloads[namespace+"/"+ref.Kind+"/"+ref.Name] = true
}

// Resolve is the workload of pod in namespace: the listed pod's, else the
// first known workload among the owners its name admits (PodNameOwners).
func (x *PodIndex) Resolve(namespace, pod string) (Ref, bool) {
	if ref, ok := x.pods[namespace+"/"+pod]; ok {
		return ref, true
	}
	for _, ref := range PodNameOwners(pod) {
		if x.workloads[namespace+"/"+ref.Kind+"/"+ref.Name] {
			return ref, true
		}
	}
	return Ref{}, false
}

// PodNameOwners lists the workloads a pod's name admits, by the names
// controllers give their pods, most specific first:
//   - the pod itself (a bare Pod);
//   - "<statefulset>-<ordinal>" (kubernetes
//     pkg/controller/statefulset/stateful_set_utils.go, getPodName);
//   - "<deployment>-<pod-template-hash>-<5 characters>": a ReplicaSet's pod
//     (generateName "<replicaset>-" and five random characters,
//     k8s.io/apiserver/pkg/storage/names/generate.go) of a ReplicaSet named
//     "<deployment>-<hash>" (DeploymentOf);
//   - "<cronjob>-<minutes>-<5 characters>": a Job's pod of a Job named
//     "<cronjob>-<scheduled time in minutes>" (kubernetes
//     pkg/controller/cronjob/utils.go, getJobName);
//   - "<controller>-<5 characters>": a pod of a DaemonSet, ReplicaSet,
//     ReplicationController or Job.
//
// A name is only a candidate: the caller checks it against the workloads
// it knows.
func PodNameOwners(pod string) []Ref {
	out := []Ref{{Kind: "Pod", Name: pod}}
	head, last, ok := cutLast(pod)
	if !ok {
		return out
	}
	if digits(last) {
		out = append(out, Ref{Kind: "StatefulSet", Name: head})
	}
	if len(last) != 5 || !alnum(last) {
		return out
	}
	if owner, mid, ok := cutLast(head); ok {
		if alnum(mid) {
			out = append(out, Ref{Kind: "Deployment", Name: owner})
		}
		if digits(mid) {
			out = append(out, Ref{Kind: "CronJob", Name: owner})
		}
	}
	for _, kind := range []string{"DaemonSet", "ReplicaSet", "ReplicationController", "Job"} {
		out = append(out, Ref{Kind: kind, Name: head})
	}
	return out
}

func cutLast(s string) (head, last string, ok bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return s != ""
}
