package printers

import (
	"slices"
	"strconv"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
)

// capCell is one table cell that lists capabilities: audit's EFFECTIVE and
// BOUNDING, suggest-drop's DROP and KEEP. It renders in full (-o wide) or
// short (the default table): the count and the riskiest names.
type capCell struct {
	set capability.Set
	// except is what "ALL except …" would name; see allExcept.
	except capability.Set
	// risk is each member's risk in this container (the catalog's risk,
	// raised by the pod's context where the catalog says so); a name
	// without one ranks as none.
	risk map[string]catalog.Risk
}

// allExcept renders s as "ALL" or "ALL except X,Y" when that is true and
// not misleading, and reports whether it is. It is the one rule for both
// tables:
//   - "ALL" when s holds all 41 capabilities;
//   - "ALL except X,Y" when s and except together make up all 41 and do not
//     overlap, so the sentence is exact. The caller passes as except what a
//     reader takes the exceptions to mean: for a set a container holds
//     (EFFECTIVE, BOUNDING) everything s lacks; for a DROP list the KEEP
//     list, and for KEEP the DROP list. A drop list of every capability but
//     some the container never held is then printed as a list, because
//     "DROP ALL except SYS_ADMIN" would read as "it keeps SYS_ADMIN".
//
// Where it is exact, preferAll decides whether it is printed.
func allExcept(s, except capability.Set, sep string) (string, bool) {
	switch {
	case s == capability.All:
		return "ALL", true
	case s.Empty() || s.Union(except) != capability.All || !s.Intersect(except).Empty():
		return "", false
	}
	return "ALL except " + strings.Join(except.Names(), sep), true
}

// Separators between names: the full lists of -o wide stay one word each
// (comma only, as in a securityContext written inline); the short form is
// read, not cut, and a blank after the comma reads better.
const (
	wideSep  = ","
	shortSep = ", "
)

// ordered returns the members of the cell, riskiest first, alphabetical
// within a risk, so the names a short cell has room for are the ones that
// matter.
func (c *capCell) ordered() []string {
	names := c.set.Names()
	slices.SortStableFunc(names, func(a, b string) int {
		return c.risk[b].Level() - c.risk[a].Level()
	})
	return names
}

// full renders every member: the -o wide form.
func (c *capCell) full(color bool) string {
	if c.set.Empty() {
		return "-"
	}
	names := c.set.Names()
	if all, ok := allExcept(c.set, c.except, wideSep); ok && c.preferAll(all, len(names), strings.Join(names, wideSep)) {
		return c.paintAll(all, color)
	}
	return c.paintList(names, wideSep, color)
}

// preferAll says whether the exact sentence all ("ALL except X,Y") replaces
// other, a form that names shown capabilities: when it names no more of
// them (it then says everything other says, and what other leaves out), or
// when it is no longer.
func (c *capCell) preferAll(all string, shown int, other string) bool {
	return c.except.Len() <= shown || len(all) <= len(other)
}

// short renders the count and at most k names, riskiest first:
// "14 (NET_RAW, MKNOD +12)", "1 (CHOWN)", or "14" when k is 0. "ALL"
// replaces it for all 41 (it says more than "41" in one column more), and
// "ALL except …" where it is exact and preferAll.
func (c *capCell) short(k int, color bool) string {
	switch {
	case c.set.Empty():
		return "-"
	case c.set == capability.All:
		return c.paintAll("ALL", color)
	}
	n := c.set.Len()
	names := c.ordered()
	if k > n {
		k = n
	}
	form := func(color bool) string {
		s := strconv.Itoa(n)
		if k == 0 {
			return s
		}
		s += " (" + c.paintList(names[:k], shortSep, color)
		if n > k {
			s += " +" + strconv.Itoa(n-k)
		}
		return s + ")"
	}
	if all, ok := allExcept(c.set, c.except, shortSep); ok && c.preferAll(all, k, form(false)) {
		return c.paintAll(all, color)
	}
	return form(color)
}

// paintList joins names, each coloured by its risk on a terminal.
func (c *capCell) paintList(names []string, sep string, color bool) string {
	if !color {
		return strings.Join(names, sep)
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = paint(n, string(c.risk[n]))
	}
	return strings.Join(parts, sep)
}

// paintAll marks "ALL" (and "ALL except") in bold red: nearly every
// capability is the worst case whatever the exceptions are.
func (c *capCell) paintAll(s string, color bool) string {
	if !color {
		return s
	}
	if rest, ok := strings.CutPrefix(s, "ALL except "); ok {
		return ansiBold + ansiRed + "ALL except " + ansiReset + rest
	}
	return ansiBold + ansiRed + s + ansiReset
}
