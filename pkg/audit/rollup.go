package audit

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// Rollup collapses the pods of one workload whose audit inputs are equal
// into one group with a pod count, so that a Deployment of 300 replicas is
// one row per container and is evaluated once. Pods whose inputs differ
// from their siblings' (an ephemeral debug container, another runtime, a
// reported UID) form groups of their own. Memory grows with the number of
// distinct groups, not with the number of pods.
type Rollup struct {
	// PerPod keeps every pod as its own group (--per-pod).
	PerPod bool

	groups map[[sha256.Size]byte]*group
	order  []*group
}

type group struct {
	target Target
	pods   int
	pod    string // the first pod seen, named in the report
}

// Add records one pod. t.Spec must already be Relevant(pod spec); t.Pods
// is ignored.
func (r *Rollup) Add(t Target, podName string) error {
	if r.groups == nil {
		r.groups = map[[sha256.Size]byte]*group{}
	}
	key, err := r.key(&t, podName)
	if err != nil {
		return err
	}
	if g, ok := r.groups[key]; ok {
		g.pods++
		return nil
	}
	g := &group{target: t, pods: 1, pod: podName}
	r.groups[key] = g
	r.order = append(r.order, g)
	return nil
}

// Len is the number of groups.
func (r *Rollup) Len() int { return len(r.order) }

// Pods is the number of pods added.
func (r *Rollup) Pods() int {
	n := 0
	for _, g := range r.order {
		n += g.pods
	}
	return n
}

// Each audits every group once, in the order the groups were first seen.
func (r *Rollup) Each(a *Auditor, visit func(report.Item, *engine.Result)) {
	for _, g := range r.order {
		t := g.target
		t.Pods = g.pods
		a.Target(&t, func(it report.Item, res *engine.Result) {
			it.Pod = g.pod
			visit(it, res)
		})
	}
}

func (r *Rollup) key(t *Target, podName string) ([sha256.Size]byte, error) {
	spec, err := json.Marshal(t.Spec)
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("hashing pod %s/%s: %w", t.Namespace, podName, err)
	}
	h := sha256.New()
	for _, s := range []string{t.Namespace, t.Workload.Kind, t.Workload.Name, t.Profile.Name(), t.Profile.Version, t.FieldPrefix} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if r.PerPod {
		h.Write([]byte(podName))
		h.Write([]byte{0})
	}
	names := make([]string, 0, len(t.ObservedUIDs))
	for n := range t.ObservedUIDs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h.Write([]byte(n + "=" + strconv.FormatInt(t.ObservedUIDs[n], 10)))
		h.Write([]byte{0})
	}
	for _, n := range t.Notes {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	h.Write(spec)
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}
