package printers

import (
	"io"
	"os"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"golang.org/x/term"

	"github.com/kubectl-caps/kubectl-caps/pkg/safetext"
)

// DefaultWidth is the width the default table is fitted to when stdout is
// not a terminal (a pipe, a file, a golden): fixed, so the output does not
// depend on where it was produced, and 120 columns, a common terminal and
// code-review width.
const DefaultWidth = 120

// maxNames is the most names a short capability cell shows before "+N",
// however wide the terminal: the default table is for scanning, -o wide
// has the lists.
const maxNames = 3

// columnGap is what Table puts between columns.
const columnGap = 3

// TerminalWidth is the width to fit the default table to when writing to
// w: the terminal's width when w is a terminal, DefaultWidth otherwise (or
// when the terminal does not say).
func TerminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return DefaultWidth
}

// cell is one cell of a table that is fitted to a width: fixed text, a
// capability list whose short form has a name budget, or text with shorter
// forms (forms[k] at budget k, the longest last: audit's MAX-RISK with its
// reason).
type cell struct {
	// text is printed through safetext.Prose, unless styled says it
	// carries this tool's own colour sequences (and only capability names).
	text   string
	styled bool
	caps   *capCell
	forms  []string
}

// fit renders rows so that every line is at most width columns (0:
// unbounded). Only capability cells give way: a column's cells show fewer
// names before "+N", down to the bare count. Names of namespaces, workloads and containers are never cut (as in
// kubectl), so when even the counts do not fit the lines are longer than
// width: a table with clipped names would be a wrong table.
func fit(header []string, rows [][]cell, width int, noHeaders, color bool) [][]string {
	budget := make([]int, len(header))
	for i := range budget {
		budget[i] = maxBudget(rows, i)
	}
	for {
		out := render(rows, budget, color)
		if width <= 0 {
			return out
		}
		widths := columnWidths(header, out, noHeaders)
		total := columnGap * (len(widths) - 1)
		for _, w := range widths {
			total += w
		}
		if total <= width {
			return out
		}
		// Take one name from the capability column that shows the most,
		// the rightmost of equals: columns are ordered by importance, so
		// suggest-drop's KEEP gives way before DROP, evenly. Columns with
		// shorter forms (audit's MAX-RISK reason) give way only when the
		// capability columns are down to their counts: the reason is the
		// verdict, the names are in -o wide.
		shrink := -1
		for _, caps := range []bool{true, false} {
			for i := range header {
				if budget[i] > 0 && hasCaps(rows, i) == caps && (shrink < 0 || budget[i] >= budget[shrink]) {
					shrink = i
				}
			}
			if shrink >= 0 {
				break
			}
		}
		if shrink < 0 {
			return out
		}
		budget[shrink]--
	}
}

func render(rows [][]cell, budget []int, color bool) [][]string {
	out := make([][]string, len(rows))
	for r, row := range rows {
		out[r] = make([]string, len(row))
		for i, c := range row {
			switch {
			case c.caps != nil:
				out[r][i] = c.caps.short(budget[i], color)
			case len(c.forms) > 0:
				out[r][i] = c.forms[min(budget[i], len(c.forms)-1)]
			case c.styled:
				out[r][i] = c.text
			default:
				out[r][i] = safetext.Prose(c.text)
			}
		}
	}
	return out
}

func hasCaps(rows [][]cell, col int) bool {
	for _, row := range rows {
		if col < len(row) && row[col].caps != nil {
			return true
		}
	}
	return false
}

// maxBudget is where a column's budget starts: maxNames for a capability
// column, the longest form for a column with forms, 0 for fixed text
// (nothing to take).
func maxBudget(rows [][]cell, col int) int {
	b := 0
	for _, row := range rows {
		if col >= len(row) {
			continue
		}
		switch c := row[col]; {
		case c.caps != nil:
			b = max(b, maxNames)
		case len(c.forms) > 0:
			b = max(b, len(c.forms)-1)
		}
	}
	return b
}

// columnWidths is the display width of each column as Table lays it out,
// colour codes excluded.
func columnWidths(header []string, rows [][]string, noHeaders bool) []int {
	widths := make([]int, len(header))
	if !noHeaders {
		for i, h := range header {
			widths[i] = twwidth.Width(h)
		}
	}
	for _, row := range rows {
		for i, s := range row {
			if w := twwidth.Width(s); i < len(widths) && w > widths[i] {
				widths[i] = w
			}
		}
	}
	return widths
}
