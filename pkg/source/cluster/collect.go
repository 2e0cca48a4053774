package cluster

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Clients are the API clients Collect uses: typed (protobuf) for pods and
// nodes, metadata-only for ReplicaSets and Jobs.
type Clients struct {
	Typed    kubernetes.Interface
	Metadata metadata.Interface
}

// Scope is one LIST of pods: a namespace ("" = all), selectors, and an
// optional filter that keeps only the pods of one workload.
type Scope struct {
	Namespace     string
	LabelSelector string
	FieldSelector string
	// Match keeps a pod when it returns true; nil keeps every pod.
	Match func(pod *corev1.Pod, owner workload.Ref) bool
	// What describes the scope in errors, e.g. `namespace "shop"`.
	What string
	// Templates: also audit the pod templates of the scope's controllers
	// that have no pods (a namespace scope without a field selector, which
	// selects pods only).
	Templates bool
	// Controller is the controller a resource argument named, with its
	// pod template at Prefix, audited when none of its pods exists.
	Controller *workload.Ref
	Prefix     string
	Template   *corev1.PodTemplateSpec
	// ObjectAllow is the allow annotation on that controller's own
	// metadata, nil when it has none.
	ObjectAllow *string
}

// Query says what to collect and how.
type Query struct {
	Scopes    []Scope
	ChunkSize int64
	// Runtime is the profile for pods whose node runtime is unknown, or for
	// every pod when RuntimeExplicit (--runtime given: a "what if" that
	// overrides the nodes; Collect warns once when it contradicts a node
	// runtime it could read).
	Runtime         runtimes.Profile
	RuntimeExplicit bool
	PerPod          bool
	// Index, when set, records each pod listed and its workload
	// (workload.Rollup.Index), for audit --evidence.
	Index *workload.PodIndex
	// Progress, if set, is called after each page with the pods seen so far.
	Progress func(pods int)
	// Flush, when set, receives each batch's rollup as soon as it is
	// complete (a namespace, for a query of one scope; see Collect), which
	// is then dropped: Collected.Rollup is nil. Its error stops Collect,
	// which returns it as a *FlushError.
	Flush func(*workload.Rollup) error
}

// Collected is what Collect found.
type Collected struct {
	Rollup *workload.Rollup
	// Warnings are for stderr: degraded lookups, restarts.
	Warnings []string
	// Allow holds each workload's caps.kubectl-caps.io/allow annotation
	// (docs/exceptions.md): as its pods carry it from their template, in
	// the order read (the first pod's value when a rollout mixes two);
	// then, from the controllers listed, on a controller's own metadata
	// and on the template of one without pods (idleList.allowances).
	Allow []Allowance
}

// Allowance is a workload's allow annotation and its containers' names,
// which the annotation must name.
type Allowance struct {
	Namespace  string
	Workload   workload.Ref
	Containers []string
	exception.Annotated
}

// maxRestarts bounds how often an expired continue token restarts the
// listing; a cluster that expires three full passes in a row needs a
// smaller --chunk-size or a longer etcd compaction interval, not a fourth.
const maxRestarts = 3

// Collect lists nodes (unless the runtime is given), the owner links and
// the pods of every scope, and rolls the pods up for auditing. It uses get
// and list only.
//
// The node and owner lists are read while the first page of pods is on its
// way: the pods wait for them before the first one is rolled up, but the
// round trips overlap (~70 ms of 1.3 s on 10,000 pods). Their errors take
// precedence over the pods', as if they had been read first.
//
// A query of one scope is rolled up namespace by namespace, as the API
// lists pods (in the order of their storage keys, namespace first, which
// pagination's continue tokens rely on): once the listing has left a
// namespace, its controllers without pods are added and, with q.Flush, its
// groups are handed on and dropped, so memory follows the largest
// namespace, not the cluster (docs/benchmarks.md). Controllers of
// namespaces without any pod come last, a namespace at a time in name
// order. Several scopes (resource arguments) are one batch.
func Collect(ctx context.Context, c Clients, q Query) (*Collected, error) {
	// The background lists stop with Collect, whatever its outcome.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &Collected{}
	look := startLookups(ctx, c, q)
	idle := startIdleList(ctx, c.Typed, q.Scopes, q.ChunkSize, func(ns string) *Owners {
		if look.wait() != nil {
			return nil // the owners are unknown: list everything
		}
		return look.owners[ns]
	})
	var resolver runtimeResolver
	var owners map[string]*Owners
	ready := false
	// await returns the lookups' error; it blocks only the first time.
	await := func() error {
		if ready {
			return nil
		}
		if err := look.wait(); err != nil {
			return err
		}
		ready = true
		out.Warnings = append(out.Warnings, look.warnings...)
		owners = look.owners
		resolver = runtimeResolver{nodes: look.runtimes, fallback: q.Runtime, explicit: q.RuntimeExplicit, parsed: map[string]resolved{},
			overridden: map[types.UID]string{}}
		return nil
	}
	b := &batches{q: q, idle: idle, resolver: &resolver, done: map[string]bool{}, byNamespace: map[string][]candidate{}}
	b.reset()

	for attempt := 1; ; attempt++ {
		seen := 0
		// Resource arguments may name the same pods twice (deploy/web
		// ns/shop): each pod is counted once.
		var counted map[types.UID]struct{}
		if len(q.Scopes) > 1 {
			counted = map[types.UID]struct{}{}
		}
		matched := make([]bool, len(q.Scopes))
		err := func() error {
			for i, s := range q.Scopes {
				own := owners[s.Namespace]
				err := ListPods(ctx, c.Typed, PodQuery{
					Namespace: s.Namespace, LabelSelector: s.LabelSelector, FieldSelector: s.FieldSelector, ChunkSize: q.ChunkSize,
				}, func(pod *corev1.Pod) error {
					if !ready {
						if err := await(); err != nil {
							return err
						}
						own = owners[s.Namespace]
					}
					if b.perNamespace() {
						if err := b.enter(pod.Namespace); err != nil || b.done[pod.Namespace] {
							return err // a namespace handed on before a restart is not read twice
						}
					}
					owner := own.Of(pod)
					if s.Match != nil && !s.Match(pod, owner) {
						return nil
					}
					if counted != nil {
						if _, dup := counted[pod.UID]; dup {
							return nil
						}
						counted[pod.UID] = struct{}{}
					}
					seen++
					matched[i] = true
					key := seenKey{pod.Namespace, owner.Kind, owner.Name}
					b.seen[key] = true
					if q.Progress != nil && seen%int(max(q.ChunkSize, 1)) == 0 {
						q.Progress(seen)
					}
					if v, ok := pod.Annotations[exception.AnnotationKey]; ok && !b.allowed[key] {
						b.allowed[key] = true
						b.allow = append(b.allow, Allowance{pod.Namespace, owner, workload.ContainerNames(&pod.Spec), exception.Annotated{Template: v, OnTemplate: true}})
					}
					return b.roll.Add(target(pod, owner, resolver.of(pod)), pod.Name)
				})
				if err != nil {
					if lerr := await(); lerr != nil {
						return lerr
					}
					return scopeError(s, err)
				}
			}
			// Without a single pod the lookups were never awaited; their
			// errors and warnings still count.
			if err := await(); err != nil {
				return err
			}
			return b.finish(matched)
		}()
		if err == nil {
			out.Rollup, out.Allow = b.kept, b.allowOut
			out.Warnings = append(out.Warnings, b.idleWarnings...)
			if w := resolver.overrideWarning(); w != "" {
				out.Warnings = append(out.Warnings, w)
			}
			return out, nil
		}
		if !IsExpired(err) || attempt == maxRestarts {
			return nil, err
		}
		// What was handed on stays handed on; the rest is read again.
		b.reset()
		out.Warnings = append(out.Warnings, fmt.Sprintf(
			"the server expired the list after %d pods (410 Gone: it took longer than the server keeps a snapshot); starting again from the beginning", seen))
	}
}

// batches are the rollups Collect hands on: one per namespace for a query
// of one scope, else one for the whole query.
type batches struct {
	q        Query
	idle     *idleList
	resolver *runtimeResolver

	// The batch being read: its rollup, the workloads that have pods in
	// it (controllers without pods are audited from their templates), and
	// the allow annotations its pods carry.
	ns      string
	roll    *workload.Rollup
	seen    map[seenKey]bool
	allow   []Allowance
	allowed map[seenKey]bool

	// done holds the namespaces closed (their templates added) and, with
	// Flush, handed on; kept holds their groups without Flush.
	done     map[string]bool
	kept     *workload.Rollup
	allowOut []Allowance
	// byNamespace holds the idle list's candidates taken and not yet
	// closed; taken, without Flush, every candidate taken, in order (a
	// restarted listing closes every namespace again, and a query of
	// several scopes closes one batch at the end).
	byNamespace  map[string][]candidate
	taken        []candidate
	idleWarnings []string
}

// perNamespace is whether batches are namespaces.
func (b *batches) perNamespace() bool { return len(b.q.Scopes) == 1 }

// reset drops what was read of the batches not yet handed on, before the
// first listing and a restarted one. Without Flush nothing was handed on:
// the listing starts again from nothing, as the rollup of every batch is
// one.
func (b *batches) reset() {
	b.clear()
	b.roll = &workload.Rollup{PerPod: b.q.PerPod, Index: b.q.Index}
	if b.q.Flush == nil {
		b.kept, b.done, b.allowOut = b.roll, map[string]bool{}, nil
		b.byNamespace = map[string][]candidate{}
		for _, c := range b.taken {
			b.byNamespace[c.namespace] = append(b.byNamespace[c.namespace], c)
		}
	}
}

// clear forgets the batch being read, but for its rollup.
func (b *batches) clear() {
	b.ns, b.seen, b.allow, b.allowed = "", map[seenKey]bool{}, nil, map[seenKey]bool{}
}

// enter is called for each pod listed: a new namespace closes the one
// before. A namespace listed again after another (a server that does not
// list in key order) is an error, never two half-rollups of one workload.
func (b *batches) enter(ns string) error {
	if ns == b.ns || b.done[ns] && b.ns == "" {
		return nil
	}
	if b.done[ns] {
		return fmt.Errorf("the server listed pods of namespace %q again after those of namespace %q; kubectl-caps rolls pods up a namespace at a time, "+
			"as the API lists them (in key order): audit the namespaces one at a time with -n", ns, b.ns)
	}
	if b.ns != "" {
		if err := b.close(b.ns); err != nil {
			return err
		}
	}
	b.ns = ns
	return nil
}

// close adds a namespace's controllers without pods and its allow
// annotations, and hands its rollup on.
func (b *batches) close(ns string) error {
	// The controllers listed up to this namespace: in the order the API
	// lists, which is the pods' (storage keys, "namespace/name"), or in
	// the order of names (as client-go's fake lists); taking what either
	// puts first takes every controller of ns, and those of namespaces
	// without pods before it, held until the end.
	err := b.idle.take(func(n string) bool { return n == ns || n < ns || n+"/" < ns+"/" }, b.route)
	if err != nil {
		return err
	}
	cands := b.byNamespace[ns]
	if err := addIdle(cands, nil, nil, b.seen, b.resolver.templateProfiles(), b.roll); err != nil {
		return err
	}
	b.allowOut = append(b.allowOut, b.idle.allowances(b.allow, cands, b.q.Scopes, b.seen, b.roll, ns)...)
	b.done[ns] = true
	delete(b.byNamespace, ns)
	if b.q.Flush != nil {
		// Handed on: its controllers' annotations are not asked again.
		maps.DeleteFunc(b.idle.objectAllow, func(k seenKey, _ string) bool { return k.namespace == ns })
	}
	b.clear()
	return b.flush()
}

// route keeps a controller taken from the idle list until its namespace
// closes. One of a namespace already closed means the server lists
// controllers in another order than pods: an error, never a controller
// left out.
func (b *batches) route(r record) error {
	if b.done[r.key.namespace] {
		return fmt.Errorf("the server listed %s %q of namespace %q after the pods of that namespace were all read; kubectl-caps reads controllers in the order pods are listed (in key order): audit the namespaces one at a time with -n",
			strings.ToLower(r.key.kind), r.key.name, r.key.namespace)
	}
	if r.hasAllow {
		b.idle.objectAllow[r.key] = r.allow
	}
	if r.cand != nil {
		b.byNamespace[r.key.namespace] = append(b.byNamespace[r.key.namespace], *r.cand)
		if b.q.Flush == nil || !b.perNamespace() {
			b.taken = append(b.taken, *r.cand)
		}
	}
	return nil
}

// flush hands the current rollup on with Flush, and starts another.
func (b *batches) flush() error {
	if b.q.Flush == nil || b.roll.Len() == 0 {
		return nil
	}
	err := b.q.Flush(b.roll)
	b.roll = &workload.Rollup{PerPod: b.q.PerPod, Index: b.q.Index}
	if err != nil {
		return &FlushError{err}
	}
	return nil
}

// FlushError is Query.Flush's error: the caller's, not the cluster's.
type FlushError struct{ Err error }

func (e *FlushError) Error() string { return e.Err.Error() }
func (e *FlushError) Unwrap() error { return e.Err }

// finish closes the last batch once every scope is read: per namespace,
// the namespace read last, then those with controllers but no pods; else
// the one batch, with the controllers that resource arguments named.
func (b *batches) finish(matched []bool) error {
	if !b.perNamespace() {
		if err := b.idle.take(nil, b.route); err != nil {
			return err
		}
		b.idleWarnings = b.idle.warnings()
		if err := addIdle(b.taken, b.q.Scopes, matched, b.seen, b.resolver.templateProfiles(), b.roll); err != nil {
			return err
		}
		b.allowOut = b.idle.allowances(b.allow, b.taken, b.q.Scopes, b.seen, b.roll, "")
		return b.flush()
	}
	if b.ns != "" {
		if err := b.close(b.ns); err != nil {
			return err
		}
	}
	if err := b.idle.take(nil, b.route); err != nil {
		return err
	}
	b.idleWarnings = b.idle.warnings()
	s := b.q.Scopes[0]
	if s.Controller != nil && !matched[0] {
		if err := addIdle(nil, b.q.Scopes, matched, b.seen, b.resolver.templateProfiles(), b.roll); err != nil {
			return err
		}
		// A resource argument's scope lists no candidates (templates
		// are listed for namespace scopes only): the scope's own
		// template and object say it all.
		b.allowOut = append(b.allowOut, b.idle.allowances(nil, nil, b.q.Scopes, b.seen, b.roll, s.Namespace)...)
		if err := b.flush(); err != nil {
			return err
		}
	}
	for _, ns := range slices.Sorted(maps.Keys(b.byNamespace)) {
		if err := b.close(ns); err != nil {
			return err
		}
	}
	return nil
}

// lookups are the node and owner lists Collect needs before it can roll up
// a pod, read in the background.
type lookups struct {
	done     chan struct{}
	err      error
	runtimes map[string]string
	owners   map[string]*Owners
	warnings []string
}

func startLookups(ctx context.Context, c Clients, q Query) *lookups {
	l := &lookups{done: make(chan struct{}), owners: map[string]*Owners{}}
	var nodeErr, ownerErr error
	var nodeWarnings, ownerWarnings []string
	var wg sync.WaitGroup
	// With --runtime the nodes are still listed (one paginated LIST beside
	// the pods'), only to warn when the override contradicts what a node
	// reports; the audit does not need them, so it neither fails nor warns
	// when they cannot be read.
	wg.Go(func() {
		var err error
		l.runtimes, err = NodeRuntimes(ctx, c.Typed, q.ChunkSize)
		switch {
		case err == nil:
		case q.RuntimeExplicit:
			l.runtimes = nil
		case !IsForbidden(err):
			nodeErr = fmt.Errorf("listing nodes to learn their container runtimes: %w", err)
		default:
			nodeWarnings = append(nodeWarnings, fmt.Sprintf(
				"you may not list nodes, so each node's container runtime is unknown; auditing every pod as %s (choose with --runtime)", q.Runtime.Name()))
		}
	})
	wg.Go(func() {
		for _, s := range q.Scopes {
			if _, ok := l.owners[s.Namespace]; ok {
				continue
			}
			o, err := LoadOwners(ctx, c.Metadata, s.Namespace, q.ChunkSize)
			if err != nil {
				ownerErr = err
				return
			}
			for _, d := range o.Degraded {
				ownerWarnings = append(ownerWarnings, degradedWarning(d, s.Namespace))
			}
			l.owners[s.Namespace] = o
		}
	})
	go func() {
		wg.Wait()
		// The order the sequential version had: nodes first, then owners.
		l.err = cmp.Or(nodeErr, ownerErr)
		l.warnings = append(nodeWarnings, ownerWarnings...)
		close(l.done)
	}()
	return l
}

// degradedWarning says what a forbidden owner lookup (Owners.Degraded)
// changes, in the terms of its own kind (Owners.Of's fallbacks).
func degradedWarning(resource, ns string) string {
	switch resource {
	case "replicasets":
		return fmt.Sprintf("you may not list replicasets%s, so pods are attributed to their Deployment by name where that is certain "+
			"(ReplicaSet names end in the pod-template-hash) and to the ReplicaSet otherwise", inNamespace(ns))
	case "jobs":
		return fmt.Sprintf("you may not list jobs%s, so the pods of a Job that a CronJob created are shown under the Job, not the CronJob", inNamespace(ns))
	}
	return fmt.Sprintf("you may not list %s%s, so pods are attributed to their direct owner", resource, inNamespace(ns))
}

func (l *lookups) wait() error {
	<-l.done
	return l.err
}

func inNamespace(ns string) string {
	if ns == "" {
		return " in all namespaces"
	}
	return fmt.Sprintf(" in namespace %q", ns)
}

// ScopeError is a failed LIST of one scope; the command maps it to a clear
// message and exit code.
type ScopeError struct {
	Scope Scope
	Err   error
}

func (e *ScopeError) Error() string {
	return fmt.Sprintf("listing pods in %s: %v", e.Scope.What, e.Err)
}
func (e *ScopeError) Unwrap() error { return e.Err }

func scopeError(s Scope, err error) error {
	if IsExpired(err) {
		return err
	}
	return &ScopeError{Scope: s, Err: err}
}

func target(pod *corev1.Pod, owner workload.Ref, rt resolved) workload.Target {
	t := workload.Target{
		Namespace:   pod.Namespace,
		Workload:    owner,
		Spec:        workload.Relevant(&pod.Spec),
		FieldPrefix: "spec",
		Profile:     rt.profile,
	}
	if rt.note != "" {
		t.Notes = []string{rt.note}
	}
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for i := range list {
			if u := list[i].User; u != nil && u.Linux != nil {
				if t.ObservedUIDs == nil {
					t.ObservedUIDs = map[string]int64{}
				}
				t.ObservedUIDs[list[i].Name] = u.Linux.UID
			}
		}
	}
	return t
}

type resolved struct {
	profile runtimes.Profile
	note    string
}

// runtimeResolver picks the profile of the node a pod runs on.
type runtimeResolver struct {
	nodes    map[string]string
	fallback runtimes.Profile
	explicit bool
	parsed   map[string]resolved // by runtime string; a cluster has few
	// overridden holds, with --runtime, the node runtime of each pod whose
	// node reports another runtime (by pod, so a restarted listing counts
	// each pod once).
	overridden map[types.UID]string
}

func (r runtimeResolver) of(pod *corev1.Pod) resolved {
	if r.explicit {
		if rv, ok := r.nodes[pod.Spec.NodeName]; ok && pod.Spec.NodeName != "" {
			if r.node(rv).profile.Name() != r.fallback.Name() {
				r.overridden[pod.UID] = rv
			}
		}
		return resolved{profile: r.fallback}
	}
	if pod.Spec.NodeName == "" {
		return resolved{profile: r.fallback, note: fmt.Sprintf(
			"the pod is not scheduled to a node yet, so its runtime is unknown; audited as %s (--runtime)", r.fallback.Name())}
	}
	if r.nodes == nil {
		return resolved{profile: r.fallback} // nodes forbidden: one global warning says so
	}
	rv, ok := r.nodes[pod.Spec.NodeName]
	if !ok {
		return resolved{profile: r.fallback, note: fmt.Sprintf(
			"the pod's node is not in the node list, so its runtime is unknown; audited as %s (--runtime)", r.fallback.Name())}
	}
	return r.node(rv)
}

// node is the profile of a node's runtime string, parsed once per string
// (a cluster has few): the fallback, with a note, when it cannot be read.
func (r runtimeResolver) node(rv string) resolved {
	if res, ok := r.parsed[rv]; ok {
		return res
	}
	res := resolved{profile: r.fallback}
	if p, err := runtimes.Parse(rv); err == nil {
		res.profile = p
		if p.VersionUnknown {
			res.note = fmt.Sprintf("the node reports runtime %q whose version could not be read; audited as %s", rv, p.Name())
		}
	} else {
		res.note = fmt.Sprintf("the node reports container runtime %q, which kubectl caps does not model; audited as %s (--runtime)", rv, r.fallback.Name())
	}
	r.parsed[rv] = res
	return res
}

// overrideWarning is the one warning for the pods --runtime judged against
// their node's runtime, "" when there are none (no --runtime, the nodes
// agree, or they could not be read).
func (r runtimeResolver) overrideWarning() string {
	if len(r.overridden) == 0 {
		return ""
	}
	seen := map[string]bool{}
	var reported []string
	for _, rv := range r.overridden {
		if !seen[rv] {
			seen[rv] = true
			reported = append(reported, rv)
		}
	}
	slices.Sort(reported)
	pods := "1 pod whose node reports"
	if n := len(r.overridden); n > 1 {
		pods = fmt.Sprintf("%d pods whose nodes report", n)
	}
	return fmt.Sprintf("--runtime %s overrides the runtime of %s %s: they are judged as %s, not as they run; omit --runtime to judge each pod with its node's runtime",
		flagValue(r.fallback), pods, strings.Join(reported, ", "), r.fallback.Name())
}

// flagValue is a profile as --runtime takes it: "cri-o", "cri-o://1.17.3".
func flagValue(p runtimes.Profile) string {
	if p.Version == "" {
		return p.Name()
	}
	return string(p.Kind) + "://" + p.Version
}

// Exceptions are the entries of the allow annotations the pods carry
// (docs/exceptions.md); prefix, when not "", scopes each to its cluster
// ("CONTEXT/NAMESPACE", as a finding of several contexts names it). A
// malformed annotation is an error naming the object.
func (c *Collected) Exceptions(prefix string) ([]exception.Entry, error) {
	var out []exception.Entry
	for _, a := range c.Allow {
		ns := a.Namespace
		if prefix != "" {
			ns = prefix + "/" + ns
		}
		v, _, ok, err := a.Pick()
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %s is %w", a.Namespace, a.Workload.Label(), exception.AnnotationKey, err)
		}
		if !ok {
			continue
		}
		es, err := exception.FromAnnotation(ns, a.Workload, a.Containers, v)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}
