package evidence

import (
	"bufio"
	"sort"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// Options tune a reader.
type Options struct {
	// SkipInvalid counts malformed records and lines that are no event
	// (Stats.Skipped, the first of them in Stats.Problems) instead of
	// failing on the first.
	SkipInvalid bool
	// MaxNames bounds the syscalls and the commands kept per capability
	// of a container (DefaultMaxNames when 0); the counts stay exact.
	MaxNames int
}

// DefaultMaxNames is Options.MaxNames when unset: enough to explain a
// capability, few enough to keep memory flat on long traces.
const DefaultMaxNames = 8

// maxKept bounds the problems and messages kept for warnings.
const maxKept = 10

// Stats says what the reader read, beyond the events it attributed.
type Stats struct {
	Inputs  int   // streams read (files, stdin)
	Events  int64 // capability checks read, audited or not
	Audited int64
	// NotAudited: checks made with CAP_OPT_NOAUDIT (the kernel's "do not
	// audit this one", e.g. SYS_ADMIN from security_vm_enough_memory_mm at
	// every execve); counted, never used to keep a capability.
	NotAudited int64
	// NoPod: checks without a namespace and a pod name (a host process,
	// or ig without Kubernetes enrichment); read, not attributed.
	NoPod int64
	// UnknownCaps: checks of capability numbers beyond CAP_LAST_CAP (40)
	// as this tool knows it; read, not attributed.
	UnknownCaps int64
	// Shapes counts the checks read per output shape.
	Shapes map[Shape]int64
	// Messages counts the built-in gadget's own messages (events of type
	// warn or err: "lost 12 samples" means the trace is incomplete);
	// MessageTexts keeps the first of them.
	Messages     int64
	MessageTexts []string
	// Truncated counts records cut short at the end of an input (a trace
	// stopped while writing); they are left out.
	Truncated int
	// Skipped counts the malformed records and lines left out with
	// SkipInvalid; Problems keeps the first of them.
	Skipped  int64
	Problems []InputError
}

// Aggregator reads traces and sums their events per container as it goes:
// its memory grows with the containers, capabilities and names seen, not
// with the number of events. It is not safe for concurrent use.
type Aggregator struct {
	opts  Options
	p     parser
	ts    timeCache
	br    *bufio.Reader
	stats Stats

	shapes     [len(shapes)]int64
	containers map[string]*containerAgg
	pods       map[string]*podAgg
	last       *containerAgg
	key        []byte
	nodes      map[string]string
	lastNode   string
	first      int64
	lastTS     int64
	sysBuf     []byte
}

// containerAgg is one container of one pod.
type containerAgg struct {
	namespace, pod, name string
	podAgg               *podAgg
	caps                 [capability.Count]*capAgg
	audited, notAudited  int64
	unknownCaps          int64
	first, last          int64
}

// podAgg is what the trace says of a pod's owner.
type podAgg struct {
	ownerKind, ownerName string
	hash                 string
}

// capAgg is one capability of one container.
type capAgg struct {
	used, denied, notAudited int64
	// usedOtherNS: allowed checks against another user namespace than
	// the process's own, which the kernel grants to the namespace's
	// owner whatever its capabilities (cap_capable in
	// security/commoncap.c).
	usedOtherNS int64
	// allowedNotAudited: non-audited checks that were allowed in the
	// process's own user namespace; not use, but proof of holding.
	allowedNotAudited int64
	first, last       int64
	syscalls, comms   names
}

// names is a bounded set of names in the order first seen.
type names struct {
	list []string
	more bool // some names were left out
}

func (n *names) add(b []byte, limit int) {
	if len(b) == 0 {
		return
	}
	for _, s := range n.list {
		if s == string(b) {
			return
		}
	}
	if len(n.list) >= limit {
		n.more = true
		return
	}
	n.list = append(n.list, string(b))
}

// New returns an empty Aggregator.
func New(opts Options) *Aggregator {
	if opts.MaxNames <= 0 {
		opts.MaxNames = DefaultMaxNames
	}
	return &Aggregator{
		opts:       opts,
		containers: map[string]*containerAgg{},
		pods:       map[string]*podAgg{},
		nodes:      map[string]string{},
	}
}

// eventError: a well-formed object that is no capability check.
type eventError struct{ msg string }

func (e *eventError) Error() string { return e.msg }

// record reads the object at the start of b and adds it; it returns the
// bytes read, and for a well-formed object that is no event, how many
// bytes it took along with the *eventError.
func (a *Aggregator) record(b []byte) (int, error) {
	n, err := a.p.parse(b)
	if err != nil {
		return 0, err
	}
	ev, why := a.p.resolve(&a.ts)
	if why != "" {
		return n, &eventError{msg: why}
	}
	a.add(&ev)
	return n, nil
}

func (a *Aggregator) add(ev *event) {
	st := &a.stats
	if ev.message {
		st.Messages++
		if len(st.MessageTexts) < maxKept {
			st.MessageTexts = append(st.MessageTexts, string(ev.text))
		}
		return
	}
	st.Events++
	a.shapes[ev.shape]++
	if ev.audited {
		st.Audited++
	} else {
		st.NotAudited++
	}
	if ev.ts != 0 {
		if a.first == 0 || ev.ts < a.first {
			a.first = ev.ts
		}
		if ev.ts > a.lastTS {
			a.lastTS = ev.ts
		}
	}
	if len(ev.node) > 0 && string(ev.node) != a.lastNode {
		n, ok := a.nodes[string(ev.node)]
		if !ok {
			n = string(ev.node)
			a.nodes[n] = n
		}
		a.lastNode = n // the map's copy: no allocation when nodes interleave
	}
	if len(ev.namespace) == 0 || len(ev.pod) == 0 {
		st.NoPod++
		return
	}
	c := a.container(ev)
	if len(ev.ownerKind) > 0 && c.podAgg.ownerKind == "" {
		c.podAgg.ownerKind, c.podAgg.ownerName = string(ev.ownerKind), string(ev.ownerName)
	}
	if len(ev.hash) > 0 && c.podAgg.hash == "" {
		c.podAgg.hash = string(ev.hash)
	}
	if ev.cap > int(capability.Last) {
		st.UnknownCaps++
		c.unknownCaps++
		return
	}
	ca := c.caps[ev.cap]
	if ca == nil {
		ca = &capAgg{}
		c.caps[ev.cap] = ca
	}
	if !ev.audited {
		c.notAudited++
		ca.notAudited++
		if ev.allowed && !ev.otherUserNS {
			ca.allowedNotAudited++
		}
		return
	}
	c.audited++
	if ev.allowed {
		ca.used++
		if ev.otherUserNS {
			ca.usedOtherNS++
		}
	} else {
		ca.denied++
	}
	if ev.ts != 0 {
		if c.first == 0 || ev.ts < c.first {
			c.first = ev.ts
		}
		if ev.ts > c.last {
			c.last = ev.ts
		}
		if ca.first == 0 || ev.ts < ca.first {
			ca.first = ev.ts
		}
		if ev.ts > ca.last {
			ca.last = ev.ts
		}
	}
	ca.syscalls.add(a.syscallName(ev.syscall), a.opts.MaxNames)
	ca.comms.add(ev.comm, a.opts.MaxNames)
}

// syscallName writes the image-based gadget's "SYS_SETPRIORITY" as the
// built-in gadget and the man pages do: "setpriority".
func (a *Aggregator) syscallName(b []byte) []byte {
	if len(b) > 4 && string(b[:4]) == "SYS_" {
		b = b[4:]
	}
	a.sysBuf = a.sysBuf[:0]
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		a.sysBuf = append(a.sysBuf, c)
	}
	return a.sysBuf
}

// container finds or adds the container of ev; events come in runs from
// one container, so the last one is tried first.
func (a *Aggregator) container(ev *event) *containerAgg {
	if c := a.last; c != nil && c.name == string(ev.container) && c.pod == string(ev.pod) && c.namespace == string(ev.namespace) {
		return c
	}
	k := append(a.key[:0], ev.namespace...)
	k = append(k, 0)
	k = append(k, ev.pod...)
	podKey := len(k)
	k = append(k, 0)
	k = append(k, ev.container...)
	a.key = k
	c, ok := a.containers[string(k)]
	if !ok {
		pa, ok := a.pods[string(k[:podKey])]
		if !ok {
			pa = &podAgg{}
			a.pods[string(k[:podKey])] = pa
		}
		c = &containerAgg{namespace: string(ev.namespace), pod: string(ev.pod), name: string(ev.container), podAgg: pa}
		a.containers[string(k)] = c
	}
	a.last = c
	return c
}

// Stats returns what has been read so far.
func (a *Aggregator) Stats() Stats {
	s := a.stats
	s.Shapes = map[Shape]int64{}
	for i, n := range a.shapes {
		if n > 0 {
			s.Shapes[shapes[i]] = n
		}
	}
	s.MessageTexts = append([]string(nil), s.MessageTexts...)
	s.Problems = append([]InputError(nil), s.Problems...)
	return s
}

// Window is what the traces observed: a drop list is only as good as the
// traffic behind it.
type Window struct {
	// First and Last are the earliest and latest timestamps; zero when
	// no event had one.
	First, Last time.Time
	// Events counts the capability checks read; Audited those that count.
	Events, Audited int64
	// Nodes are the nodes the checks came from, sorted.
	Nodes []string
}

// Window returns the observation window so far.
func (a *Aggregator) Window() Window {
	w := Window{Events: a.stats.Events, Audited: a.stats.Audited, First: unixTime(a.first), Last: unixTime(a.lastTS)}
	for n := range a.nodes {
		w.Nodes = append(w.Nodes, n)
	}
	sort.Strings(w.Nodes)
	return w
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
