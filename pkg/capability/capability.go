// Package capability names the Linux capabilities 0..40 and holds sets of
// them as bitmasks, so that set algebra in the engine costs a few
// instructions and no allocation.
package capability

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// Cap is a Linux capability number, as in include/uapi/linux/capability.h.
type Cap uint8

// Last is CAP_LAST_CAP of mainline Linux (CHECKPOINT_RESTORE, 5.9). The
// runtimes' "all capabilities" and this tool's catalog both end here.
const Last Cap = 40

// Count is the number of capabilities 0..Last.
const Count = int(Last) + 1

// names are the canonical spellings, without the CAP_ prefix, indexed by
// number.
var names = [Count]string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// Well-known capabilities, named for the code that reasons about them.
const (
	CHOWN              Cap = 0
	DAC_OVERRIDE       Cap = 1
	DAC_READ_SEARCH    Cap = 2
	FOWNER             Cap = 3
	FSETID             Cap = 4
	KILL               Cap = 5
	SETGID             Cap = 6
	SETUID             Cap = 7
	SETPCAP            Cap = 8
	LINUX_IMMUTABLE    Cap = 9
	NET_BIND_SERVICE   Cap = 10
	NET_BROADCAST      Cap = 11
	NET_ADMIN          Cap = 12
	NET_RAW            Cap = 13
	IPC_LOCK           Cap = 14
	IPC_OWNER          Cap = 15
	SYS_MODULE         Cap = 16
	SYS_RAWIO          Cap = 17
	SYS_CHROOT         Cap = 18
	SYS_PTRACE         Cap = 19
	SYS_PACCT          Cap = 20
	SYS_ADMIN          Cap = 21
	SYS_BOOT           Cap = 22
	SYS_NICE           Cap = 23
	SYS_RESOURCE       Cap = 24
	SYS_TIME           Cap = 25
	SYS_TTY_CONFIG     Cap = 26
	MKNOD              Cap = 27
	LEASE              Cap = 28
	AUDIT_WRITE        Cap = 29
	AUDIT_CONTROL      Cap = 30
	SETFCAP            Cap = 31
	MAC_OVERRIDE       Cap = 32
	MAC_ADMIN          Cap = 33
	SYSLOG             Cap = 34
	WAKE_ALARM         Cap = 35
	BLOCK_SUSPEND      Cap = 36
	AUDIT_READ         Cap = 37
	PERFMON            Cap = 38
	BPF                Cap = 39
	CHECKPOINT_RESTORE Cap = 40
)

// byName maps canonical names to numbers. It is built once from names and
// never written afterwards.
var byName = func() map[string]Cap {
	m := make(map[string]Cap, Count)
	for i, n := range names {
		m[n] = Cap(i)
	}
	return m
}()

// Valid reports whether c is one of 0..Last.
func (c Cap) Valid() bool { return c <= Last }

// String is the canonical name without the CAP_ prefix, e.g. "NET_RAW". A
// number beyond Last prints as CAP_<n>, as the kernel's own tools do for bits
// they do not know.
func (c Cap) String() string {
	if c.Valid() {
		return names[c]
	}
	return "CAP_" + strconv.Itoa(int(c))
}

// Names returns the canonical names of all capabilities in number order.
func Names() []string {
	out := make([]string, Count)
	copy(out, names[:])
	return out
}

// Lookup finds a capability by its exact canonical name (upper case, no
// CAP_ prefix). Runtime profiles use it after applying their own
// normalisation; user input goes through Parse.
func Lookup(canonical string) (Cap, bool) {
	c, ok := byName[canonical]
	return c, ok
}

// UnknownError is returned by Parse for input that names no capability. It
// carries the closest names so callers can print "did you mean".
type UnknownError struct {
	Input       string
	Suggestions []string
}

func (e *UnknownError) Error() string {
	msg := fmt.Sprintf("unknown capability %q", e.Input)
	switch len(e.Suggestions) {
	case 0:
		return msg + "; run 'kubectl caps explain' to list all capabilities"
	case 1:
		return msg + "; did you mean " + e.Suggestions[0] + "?"
	default:
		return msg + "; did you mean one of " + strings.Join(e.Suggestions, ", ") + "?"
	}
}

// Parse is the one place that turns a user's spelling of a capability into a
// Cap. It accepts any case, an optional CAP_ prefix, surrounding blanks, and
// the decimal number 0..40. Anything else yields an *UnknownError that
// suggests the closest names.
func Parse(s string) (Cap, error) {
	t := strings.TrimSpace(s)
	if t != "" && t[0] >= '0' && t[0] <= '9' {
		n, err := strconv.ParseUint(t, 10, 8)
		if err == nil && n <= uint64(Last) {
			return Cap(n), nil
		}
		return 0, &UnknownError{Input: s}
	}
	u := strings.ToUpper(t)
	if c, ok := byName[u]; ok {
		return c, nil
	}
	if rest, ok := strings.CutPrefix(u, "CAP_"); ok {
		if c, ok := byName[rest]; ok {
			return c, nil
		}
	}
	return 0, &UnknownError{Input: s, Suggestions: Suggest(s)}
}

// Suggest returns up to three canonical names closest to s by edit distance,
// best first, or none when nothing is reasonably close.
func Suggest(s string) []string {
	u := strings.ToUpper(strings.TrimSpace(s))
	for strings.HasPrefix(u, "CAP_") {
		u = u[len("CAP_"):]
	}
	if u == "" || len(u) > 64 {
		return nil
	}
	// A name is "close" when at most a third of it (and at least 2 edits)
	// differs; beyond that a suggestion is noise.
	limit := max(2, len(u)/3)
	best := make([]string, 0, 3)
	bestD := make([]int, 0, 3)
	for _, n := range names {
		d := distance(u, n)
		if d > limit {
			continue
		}
		i := len(bestD)
		for i > 0 && bestD[i-1] > d {
			i--
		}
		if i >= 3 {
			continue
		}
		best = append(best[:i], append([]string{n}, best[i:]...)...)
		bestD = append(bestD[:i], append([]int{d}, bestD[i:]...)...)
		if len(best) > 3 {
			best, bestD = best[:3], bestD[:3]
		}
	}
	if len(best) == 0 {
		return nil
	}
	return best
}

// distance is the Levenshtein distance of two ASCII-ish strings.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Set is a set of capabilities; bit n stands for capability n.
type Set uint64

// All is every capability 0..Last: what privileged containers and `add: [ALL]`
// give on a current kernel.
const All Set = 1<<(uint(Last)+1) - 1

// SetOf builds a set from capabilities.
func SetOf(cs ...Cap) Set {
	var s Set
	for _, c := range cs {
		s = s.Add(c)
	}
	return s
}

// SetOfNames is the set of canonical names (as Set.Names writes them);
// anything else, "ALL" included, is ignored: callers read lists they or
// the engine wrote, never user input (that goes through Parse).
func SetOfNames(names []string) Set {
	var s Set
	for _, n := range names {
		if c, ok := Lookup(n); ok {
			s = s.Add(c)
		}
	}
	return s
}

func (s Set) Has(c Cap) bool      { return c <= 63 && s&(1<<c) != 0 }
func (s Set) Add(c Cap) Set       { return s | 1<<c }
func (s Set) Remove(c Cap) Set    { return s &^ (1 << c) }
func (s Set) Union(o Set) Set     { return s | o }
func (s Set) Minus(o Set) Set     { return s &^ o }
func (s Set) Intersect(o Set) Set { return s & o }
func (s Set) Empty() bool         { return s == 0 }
func (s Set) Len() int            { return bits.OnesCount64(uint64(s)) }

// Caps lists the members in number order.
func (s Set) Caps() []Cap {
	out := make([]Cap, 0, s.Len())
	for v := uint64(s); v != 0; v &= v - 1 {
		out = append(out, Cap(bits.TrailingZeros64(v)))
	}
	return out
}

// Names lists the members' canonical names sorted alphabetically, the order
// the report uses so that output is stable and easy to scan.
func (s Set) Names() []string {
	out := make([]string, 0, s.Len())
	for _, c := range s.Caps() {
		out = append(out, c.String())
	}
	sortStrings(out)
	return out
}

// String renders the set as comma-separated sorted names, "ALL" for the full
// set, or "-" when empty.
func (s Set) String() string {
	switch s {
	case 0:
		return "-"
	case All:
		return "ALL"
	}
	return strings.Join(s.Names(), ",")
}

// Hex renders the set the way /proc/<pid>/status shows CapBnd/CapEff.
func (s Set) Hex() string { return fmt.Sprintf("%016x", uint64(s)) }

func sortStrings(a []string) {
	// Insertion sort: sets hold at most 41 names and this avoids pulling
	// sort's reflection-free but allocation-heavy paths into the hot loop.
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
