package workload

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
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
	// Index, when set, records every pod added and its workload, for the
	// evidence reader's Resolver (audit --evidence): memory per pod, so
	// only when asked.
	Index *PodIndex

	groups map[[sha256.Size]byte]*group
	order  []*group
	buf    []byte // key's scratch space
}

type group struct {
	// target without its Spec, which is kept encoded in spec: a decoded
	// reduced spec holds ~2 KB of structs and pointers per group, its
	// protobuf encoding a few hundred bytes, and a cluster with many
	// distinct pods (bare pods, mixed runtimes) has thousands of groups.
	target Target
	spec   []byte
	pods   int
	pod    string // the first pod seen, named in the report
}

// Add records one pod. t.Spec must already be Relevant(pod spec); t.Pods and
// t.Pod are ignored.
func (r *Rollup) Add(t Target, podName string) error {
	if r.groups == nil {
		r.groups = map[[sha256.Size]byte]*group{}
	}
	key, spec, err := r.key(&t, podName)
	if err != nil {
		return err
	}
	if r.Index != nil {
		if podName != "" {
			r.Index.AddPod(t.Namespace, podName, t.Workload)
		} else {
			r.Index.AddWorkload(t.Namespace, t.Workload)
		}
	}
	if g, ok := r.groups[key]; ok {
		g.pods++
		return nil
	}
	t.Spec = nil
	g := &group{target: t, spec: bytes.Clone(spec), pods: 1, pod: podName}
	r.groups[key] = g
	r.order = append(r.order, g)
	return nil
}

// AddTemplate records a controller none of whose pods exists: a group of
// its own with no pods (t.FromTemplate must be set; t.Spec must already be
// Relevant).
func (r *Rollup) AddTemplate(t Target) error {
	if !t.FromTemplate {
		return fmt.Errorf("AddTemplate: %s/%s/%s is not marked FromTemplate", t.Namespace, t.Workload.Kind, t.Workload.Name)
	}
	if err := r.Add(t, ""); err != nil {
		return err
	}
	key, _, _ := r.key(&t, "")
	r.groups[key].pods = 0
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

// Each calls visit with every group once, as a target whose Pods counts
// the group's pods and whose Pod names the first of them, in the order the
// groups were first seen. The target is the caller's to keep.
func (r *Rollup) Each(visit func(*Target)) {
	for _, g := range r.order {
		t := g.target
		t.Pods = g.pods
		t.Pod = g.pod
		t.Spec = &corev1.PodSpec{}
		if err := t.Spec.Unmarshal(g.spec); err != nil {
			// The bytes are Marshal's own output, so this is a bug in
			// the generated code, not bad input.
			panic(fmt.Sprintf("decoding the stored spec of pod %s/%s: %v", t.Namespace, g.pod, err))
		}
		visit(&t)
	}
}

// key identifies a group: everything Target carries that can change a
// result, with the spec in its protobuf encoding. Kubernetes' generated
// protobuf marshalling covers every field of the API types, writes them in
// field order and sorts map keys, so equal specs give equal bytes, without
// the reflection of encoding/json (which cost ~10 µs a pod, most of Add).
// Strings are length-prefixed so that no two different tuples share an
// encoding. The buffer is reused: Add allocates nothing for a pod that joins
// an existing group.
func (r *Rollup) key(t *Target, podName string) (key [sha256.Size]byte, spec []byte, err error) {
	b := r.buf[:0]
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	str(t.Namespace)
	str(t.Workload.Kind)
	str(t.Workload.Name)
	str(t.Profile.Name())
	str(t.Profile.Version)
	str(t.FieldPrefix)
	if t.FromTemplate {
		b = append(b, 1) // never one group with pods
	} else {
		b = append(b, 0)
	}
	if r.PerPod {
		str(podName)
	}
	b = binary.AppendUvarint(b, uint64(len(t.ObservedUIDs)))
	if len(t.ObservedUIDs) > 0 {
		names := make([]string, 0, len(t.ObservedUIDs))
		for n := range t.ObservedUIDs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			str(n)
			b = binary.AppendVarint(b, t.ObservedUIDs[n])
		}
	}
	b = binary.AppendUvarint(b, uint64(len(t.Notes)))
	for _, n := range t.Notes {
		str(n)
	}
	size := t.Spec.Size()
	start := len(b)
	b = slices.Grow(b, size)[:start+size]
	if _, err := t.Spec.MarshalToSizedBuffer(b[start:]); err != nil {
		return key, nil, fmt.Errorf("hashing pod %s/%s: %w", t.Namespace, podName, err)
	}
	r.buf = b
	return sha256.Sum256(b), b[start:], nil
}
