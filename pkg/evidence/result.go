package evidence

import (
	"sort"
	"strings"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Resolver maps a pod to the workload the live audit reports it under
// (pod → ReplicaSet → Deployment, Job → CronJob). The command fills it from
// the cluster (cluster.Owners.Of over the pods it listed) or from
// manifests; ok is false for a pod it does not know, e.g. one that no longer
// exists.
type Resolver func(namespace, pod string) (ref workload.Ref, ok bool)

// Attribution says how a pod's workload was found, most certain first.
type Attribution string

const (
	// ByTrace: k8s.owner in the trace (Inspektor Gadget v0.32.0 and later
	// walk the owner references up to the top-level controller,
	// pkg/container-collection/containers.go, ownerReferenceEnrichment).
	ByTrace Attribution = "trace"
	// ByResolver: the command's Resolver (the cluster or manifests).
	ByResolver Attribution = "resolver"
	// ByName: the ReplicaSet naming rule with the pod's pod-template-hash
	// label (workload.DeploymentOf).
	ByName Attribution = "naming"
	// ByPod: nothing better is known; the pod stands for itself.
	ByPod Attribution = "pod"
)

// rank orders attributions by certainty. Every rank is distinct, so a
// container's attribution, the least certain of its pods', does not depend
// on the order the pods were read in (a map's); the resolver ranks below
// the trace because with manifests it goes by controllers' pod names.
func (a Attribution) rank() int {
	switch a {
	case ByTrace:
		return 0
	case ByResolver:
		return 1
	case ByName:
		return 2
	}
	return 3
}

// Result is the evidence, per workload container.
type Result struct {
	Containers []Container // sorted by namespace, workload kind, name, container
	Window     Window
	Stats      Stats
}

// Container is what the traces saw of one container of one workload, over
// all its pods.
type Container struct {
	Namespace string
	Workload  workload.Ref
	// Attribution: how the workload was found; the least certain of its
	// pods'.
	Attribution Attribution
	Name        string   // the container
	Pods        []string // the pods seen, sorted
	// Events counts its audited checks; NotAudited the others.
	Events, NotAudited int64
	// UnknownCaps counts checks of capabilities beyond this tool's
	// CAP_LAST_CAP.
	UnknownCaps int64
	// First and Last are its first and last audited checks (zero when
	// the trace had no timestamps).
	First, Last time.Time
	// Used: capabilities with an audited check that was allowed. Denied:
	// with an audited check that was denied: wanted but not held.
	Used, Denied capability.Set
	Caps         []CapUse // every capability checked, in number order
}

// CapUse is one capability of a container.
type CapUse struct {
	Cap capability.Cap
	// Used and Denied count audited checks; NotAudited the others.
	Used, Denied, NotAudited int64
	// OtherUserNS counts the allowed checks against another user
	// namespace than the process's own: the kernel allows those to the
	// namespace's owner whatever it holds (security/commoncap.c,
	// cap_capable), so they prove use but not holding.
	OtherUserNS int64
	// Syscalls ("setpriority") and Comms are the system calls and the
	// commands of its audited checks, up to Options.MaxNames each, in the
	// order first seen; MoreNames: some were left out.
	Syscalls, Comms []string
	MoreNames       bool
	First, Last     time.Time
	// AllowedOwnNS counts the allowed checks in the process's own user
	// namespace, audited or not: proof that the container held the
	// capability (Disagreements reads it).
	AllowedOwnNS int64
}

// Unused is what the container holds and never used in the window: held
// (the engine's set: Bounding for what a drop list removes) minus Used.
func (c *Container) Unused(held capability.Set) capability.Set { return held.Minus(c.Used) }

// Disagreements are the capabilities that the trace shows allowed in the
// container's own user namespace although held, the engine's Bounding set
// for the container, lacks them: the kernel cannot grant what is outside
// the bounding set, so a wrong runtime profile, a node-level override, or
// a defect of this tool. The command warns and never merges them.
func (c *Container) Disagreements(held capability.Set) capability.Set {
	var s capability.Set
	for _, u := range c.Caps {
		if u.AllowedOwnNS > 0 && !held.Has(u.Cap) {
			s = s.Add(u.Cap)
		}
	}
	return s
}

// Result attributes the containers seen so far to their workloads. For
// each pod: k8s.owner from the trace when it names a top-level kind; else
// the resolver (nil: none); else, for an owner or a pod of a ReplicaSet,
// the Deployment by the naming rule and the pod-template-hash label; else
// the trace's owner; else the pod. A pod that no longer exists still
// counts for its owner whenever the trace or its name tells the owner.
func (a *Aggregator) Result(resolve Resolver) Result {
	type podRef struct {
		ref workload.Ref
		by  Attribution
	}
	refs := map[string]podRef{}
	byKey := map[string]*Container{}
	pods := map[*Container]map[string]bool{}
	for _, c := range a.containers {
		pk := c.namespace + "\x00" + c.pod
		pr, ok := refs[pk]
		if !ok {
			pr.ref, pr.by = attribute(c.namespace, c.pod, c.podAgg, resolve)
			refs[pk] = pr
		}
		key := c.namespace + "\x00" + pr.ref.Kind + "\x00" + pr.ref.Name + "\x00" + c.name
		out, ok := byKey[key]
		if !ok {
			out = &Container{Namespace: c.namespace, Workload: pr.ref, Attribution: pr.by, Name: c.name}
			byKey[key] = out
			pods[out] = map[string]bool{}
		}
		if pr.by.rank() > out.Attribution.rank() {
			out.Attribution = pr.by
		}
		pods[out][c.pod] = true
		merge(out, c, a.opts.MaxNames)
	}
	res := Result{Window: a.Window(), Stats: a.Stats()}
	for _, c := range byKey {
		for p := range pods[c] {
			c.Pods = append(c.Pods, p)
		}
		sort.Strings(c.Pods)
		res.Containers = append(res.Containers, *c)
	}
	sort.Slice(res.Containers, func(i, j int) bool {
		y := &res.Containers[j]
		return less(&res.Containers[i], y.Namespace, y.Workload, y.Name)
	})
	return res
}

// Lookup returns the evidence for one container of a workload, the way the
// command joins it with an audit item or a suggestion; ok is false when the
// traces saw none of its checks (say so; never read it as "uses nothing").
func (r *Result) Lookup(namespace string, w workload.Ref, container string) (*Container, bool) {
	i := sort.Search(len(r.Containers), func(i int) bool {
		return !less(&r.Containers[i], namespace, w, container)
	})
	if i < len(r.Containers) {
		c := &r.Containers[i]
		if c.Namespace == namespace && c.Workload == w && c.Name == container {
			return c, true
		}
	}
	return nil, false
}

// less orders containers by namespace, workload kind, workload name and
// container name.
func less(c *Container, namespace string, w workload.Ref, container string) bool {
	if c.Namespace != namespace {
		return c.Namespace < namespace
	}
	if c.Workload.Kind != w.Kind {
		return c.Workload.Kind < w.Kind
	}
	if c.Workload.Name != w.Name {
		return c.Workload.Name < w.Name
	}
	return c.Name < container
}

// attribute finds the workload of one pod.
func attribute(namespace, pod string, pa *podAgg, resolve Resolver) (workload.Ref, Attribution) {
	owner := workload.Ref{Kind: pa.ownerKind, Name: pa.ownerName}
	if owner.Kind != "" && owner.Name != "" && owner.Kind != "ReplicaSet" && owner.Kind != "Job" {
		return owner, ByTrace
	}
	if resolve != nil {
		if ref, ok := resolve(namespace, pod); ok {
			return ref, ByResolver
		}
	}
	// The trace stopped at a ReplicaSet or a Job (Inspektor Gadget could
	// not read the next owner), or named none.
	if owner.Kind == "ReplicaSet" && owner.Name != "" {
		if d, ok := workload.DeploymentOf(owner.Name, pa.hash); ok {
			return d, ByName
		}
	}
	if owner.Kind != "" && owner.Name != "" {
		return owner, ByTrace
	}
	// A ReplicaSet names its pods "<replicaset>-<5 random characters>"
	// (metadata.generateName); the Deployment follows from the ReplicaSet's
	// name as above.
	if i := strings.LastIndexByte(pod, '-'); i > 0 {
		if d, ok := workload.DeploymentOf(pod[:i], pa.hash); ok {
			return d, ByName
		}
	}
	return workload.Ref{Kind: "Pod", Name: pod}, ByPod
}

// merge adds one pod's container to its workload's.
func merge(out *Container, c *containerAgg, limit int) {
	out.Events += c.audited
	out.NotAudited += c.notAudited
	out.UnknownCaps += c.unknownCaps
	out.First = earlier(out.First, unixTime(c.first))
	out.Last = later(out.Last, unixTime(c.last))
	for i, ca := range c.caps {
		if ca == nil {
			continue
		}
		cp := capability.Cap(i)
		j := sort.Search(len(out.Caps), func(k int) bool { return out.Caps[k].Cap >= cp })
		if j == len(out.Caps) || out.Caps[j].Cap != cp {
			out.Caps = append(out.Caps, CapUse{})
			copy(out.Caps[j+1:], out.Caps[j:])
			out.Caps[j] = CapUse{Cap: cp}
		}
		u := &out.Caps[j]
		u.Used += ca.used
		u.Denied += ca.denied
		u.NotAudited += ca.notAudited
		u.OtherUserNS += ca.usedOtherNS
		u.AllowedOwnNS += ca.used - ca.usedOtherNS + ca.allowedNotAudited
		u.First = earlier(u.First, unixTime(ca.first))
		u.Last = later(u.Last, unixTime(ca.last))
		u.Syscalls, u.MoreNames = union(u.Syscalls, ca.syscalls, limit, u.MoreNames)
		u.Comms, u.MoreNames = union(u.Comms, ca.comms, limit, u.MoreNames)
		if ca.used > 0 {
			out.Used = out.Used.Add(cp)
		}
		if ca.denied > 0 {
			out.Denied = out.Denied.Add(cp)
		}
	}
}

func union(list []string, n names, limit int, more bool) ([]string, bool) {
	more = more || n.more
	for _, s := range n.list {
		found := false
		for _, t := range list {
			if t == s {
				found = true
				break
			}
		}
		if found {
			continue
		}
		if len(list) >= limit {
			more = true
			continue
		}
		list = append(list, s)
	}
	return list, more
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Key names one container of one workload, as the commands join it.
type Key struct {
	Namespace string
	Workload  workload.Ref
	Container string
}

// Coverage counts, of the containers keys name (duplicates count once),
// those the traces never saw (unobserved), and of the traced containers
// those no key names (unmatched: other namespaces or workloads than those
// judged, or workloads gone).
func (r *Result) Coverage(keys []Key) (containers, unobserved, unmatched int) {
	seen := map[Key]bool{}
	matched := map[*Container]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		containers++
		c, ok := r.Lookup(k.Namespace, k.Workload, k.Container)
		if !ok || c.Events == 0 {
			unobserved++
		}
		if ok {
			matched[c] = true
		}
	}
	return containers, unobserved, len(r.Containers) - len(matched)
}
