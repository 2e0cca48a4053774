package evidence

import (
	"strconv"
	"strings"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// Shape is the output format of one Inspektor Gadget release family, as the
// reader recognised it in an object.
type Shape string

const (
	// ShapeImage: the image-based gadget trace_capabilities, v0.35.0 and
	// later: the process in proc{comm, pid, tid, mntns_id, creds{uid, gid}}.
	ShapeImage Shape = "image"
	// ShapeImageFlat: the image-based gadget v0.30.0 to v0.34.x: comm,
	// pid, tid, uid, gid at the top (task, pid, tgid in v0.30.0).
	ShapeImageFlat Shape = "image-flat"
	// ShapeBuiltin: the built-in gadget (kubectl gadget trace
	// capabilities) v0.19.0 to v0.41.x: Kubernetes identity in k8s{}.
	ShapeBuiltin Shape = "builtin"
	// ShapeBuiltinFlat: the built-in gadget up to v0.18.x: node,
	// namespace, pod, container at the top.
	ShapeBuiltinFlat Shape = "builtin-flat"
)

var shapes = [...]Shape{ShapeImage, ShapeImageFlat, ShapeBuiltin, ShapeBuiltinFlat}

// event is one record resolved: a capability check, or a message of the
// built-in gadget. Byte slices live until the next parse.
type event struct {
	message bool // a gadget message ("lost 12 samples"), not a check
	text    []byte

	shape       int // index in shapes
	cap         int // capability number; > capability.Last: unknown to this tool
	allowed     bool
	audited     bool
	otherUserNS bool  // checked against another user namespace than the process's own
	ts          int64 // Unix nanoseconds, 0 when unknown

	node, namespace, pod, container []byte
	comm, syscall                   []byte
	ownerKind, ownerName            []byte
	hash                            []byte
}

// minTime: timestamps before 2001 are taken as unknown. A boot-time clock
// (what eBPF reads before Inspektor Gadget converts it to wall time) would
// otherwise put the window in 1970.
var minTime = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// capByName maps "CAP_SYS_NICE" (image-based gadget, cap) and "SYS_NICE"
// (built-in gadget, capName) to the capability.
var capByName = func() map[string]capability.Cap {
	m := map[string]capability.Cap{}
	for i, n := range capability.Names() {
		m[n] = capability.Cap(i)
		m["CAP_"+n] = capability.Cap(i)
	}
	return m
}()

// resolve turns the fields of one object into an event, or says why the
// object is no trace_capabilities event. The rules and their sources are in
// docs/evidence.md ("What the reader counts").
func (p *parser) resolve(ts *timeCache) (event, string) {
	r := &p.ev
	var ev event
	// The built-in gadget writes warnings ("lost 12 samples") as events of
	// type "warn" (pkg/types/types.go, EventType); every capability check
	// is of type "normal".
	if len(r.typ) > 0 && string(r.typ) != "normal" {
		ev.message = true
		ev.text = r.message
		if len(ev.text) == 0 {
			ev.text = r.typ
		}
		return ev, ""
	}

	// The capability: capName (built-in) or cap (image-based) by name,
	// else cap_raw (image-based) or cap (built-in) by number. The built-in
	// gadget omits cap when it is 0 (CHOWN: json:"cap,omitempty"), so its
	// name is read first.
	ev.cap = -1
	switch {
	case len(r.capName) > 0:
		if c, ok := capByName[string(r.capName)]; ok {
			ev.cap = int(c)
		} else if n, ok := unknownName(r.capName); ok {
			ev.cap = n // "UNKNOWN (41)": a capability the gadget did not know
		}
	case len(r.capStr) > 0:
		if c, ok := capByName[string(r.capStr)]; ok {
			ev.cap = int(c)
		}
	}
	if ev.cap < 0 {
		for _, n := range []num{r.capRaw, r.capNum} {
			if !n.ok {
				continue
			}
			v, ok := toInt(n.tok)
			if !ok || v < 0 || v > 63 {
				return ev, "capability number " + string(n.tok) + " is not one of 0..63"
			}
			ev.cap = int(v)
			break
		}
	}
	if ev.cap < 0 {
		switch {
		case len(r.capName) > 0:
			return ev, "unknown capability name " + strconv.Quote(string(r.capName)) + " in capName"
		case len(r.capStr) > 0:
			return ev, "unknown capability name " + strconv.Quote(string(r.capStr)) + " in cap"
		}
		return ev, "not a trace_capabilities event: no cap, cap_raw or capName"
	}

	// The verdict: capable (image-based) or verdict (built-in).
	switch {
	case r.capable.ok:
		ev.allowed = r.capable.v
		ev.shape = 0
		if !r.proc.seen {
			ev.shape = 1
		}
	case len(r.verdict) > 0:
		switch string(r.verdict) {
		case "Allow":
			ev.allowed = true
		case "Deny":
		default:
			return ev, "verdict " + strconv.Quote(string(r.verdict)) + " is neither Allow nor Deny"
		}
		ev.shape = 2
		if !r.k8s.seen {
			ev.shape = 3
		}
	default:
		return ev, "no verdict: neither capable (image-based gadget) nor verdict (built-in gadget)"
	}

	// audit is 1 unless the kernel was asked not to audit the check
	// (CAP_OPT_NOAUDIT); on kernels before 5.1 it is the old audit
	// argument, non-zero when audited. The built-in gadget omits it when 0.
	if r.audit.ok {
		v, ok := toInt(r.audit.tok)
		if !ok {
			return ev, "audit " + string(r.audit.tok) + " is not an integer"
		}
		ev.audited = v != 0
	}

	switch {
	case len(r.tsStr) > 0:
		t, ok := ts.parse(r.tsStr)
		if !ok {
			return ev, "timestamp " + strconv.Quote(string(r.tsStr)) + " is not an RFC 3339 time"
		}
		ev.ts = t
	case r.tsNum.ok:
		t, ok := toInt(r.tsNum.tok)
		if !ok {
			return ev, "timestamp " + string(r.tsNum.tok) + " is not an integer"
		}
		ev.ts = t
	case r.tsRaw.ok:
		t, ok := toInt(r.tsRaw.tok)
		if !ok {
			return ev, "timestamp_raw " + string(r.tsRaw.tok) + " is not an integer"
		}
		ev.ts = t
	}
	if ev.ts < minTime {
		ev.ts = 0
	}

	if r.curNS.ok && r.tgtNS.ok {
		cur, ok1 := toUint(r.curNS.tok)
		tgt, ok2 := toUint(r.tgtNS.tok)
		if !ok1 || !ok2 {
			return ev, "current and target user namespaces are not unsigned integers"
		}
		ev.otherUserNS = cur != 0 && tgt != 0 && cur != tgt
	}

	ev.node = first(r.k8s.node, r.node)
	ev.namespace = first(r.k8s.namespace, r.namespace)
	ev.pod = first(r.k8s.podName, r.pod)
	ev.container = first(r.k8s.containerName, r.container, r.runtime.containerName)
	ev.comm = first(r.proc.comm, r.comm, r.task)
	ev.syscall = r.syscall
	ev.ownerKind, ev.ownerName = r.k8s.ownerKind, r.k8s.ownerName
	ev.hash = r.k8s.hash
	return ev, ""
}

func first(bs ...[]byte) []byte {
	for _, b := range bs {
		if len(b) > 0 {
			return b
		}
	}
	return nil
}

// unknownName reads the built-in gadget's "UNKNOWN (41)"
// (pkg/gadgets/trace/capabilities/tracer/tracer.go).
func unknownName(b []byte) (int, bool) {
	s, ok := strings.CutPrefix(string(b), "UNKNOWN (")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, ")")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 63 {
		return 0, false
	}
	return n, true
}

// toInt converts an integer JSON number as strconv.ParseInt does; a
// fraction or an exponent is no integer.
func toInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	// 19 digits hold any int64; JSON forbids leading zeros, so a longer
	// number is out of range.
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

// toUint converts an unsigned integer JSON number as strconv.ParseUint does.
func toUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if u > (1<<64-1-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	return u, true
}

// timeCache parses the image-based gadget's timestamps, written with
// "2006-01-02T15:04:05.000000000Z07:00" (pkg/operators/formatters/
// formatters.go, the timestamp formatter). Events come many to a second,
// so the part up to the second and the zone are parsed once and the
// fraction each time.
type timeCache struct {
	prefix [19]byte
	zone   []byte
	base   int64 // Unix nanoseconds of prefix+zone
	ok     bool
}

func (c *timeCache) parse(b []byte) (int64, bool) {
	if len(b) < 20 {
		return c.slow(b)
	}
	i := 19
	var frac int64
	digits := 0
	if b[i] == '.' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			frac = frac*10 + int64(b[i]-'0')
			digits++
			i++
		}
		if digits == 0 || digits > 9 {
			return c.slow(b)
		}
	}
	for d := digits; d < 9; d++ {
		frac *= 10
	}
	zone := b[i:]
	if !c.ok || string(b[:19]) != string(c.prefix[:]) || string(zone) != string(c.zone) {
		s := make([]byte, 0, 19+len(zone))
		s = append(append(s, b[:19]...), zone...)
		t, err := time.Parse(time.RFC3339, string(s))
		if err != nil {
			return c.slow(b)
		}
		copy(c.prefix[:], b[:19])
		c.zone = append(c.zone[:0], zone...)
		c.base = t.UnixNano()
		c.ok = true
	}
	return c.base + frac, true
}

// slow parses what the cache cannot: any RFC 3339 time.
func (c *timeCache) slow(b []byte) (int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, false
	}
	return t.UnixNano(), true
}
