package printers

import (
	"io"
	"slices"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/safetext"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
)

// SuggestTableOptions shape the suggest-drop table.
type SuggestTableOptions struct {
	// Wide prints the DROP and KEEP lists in full and adds NOTES (the note
	// codes).
	Wide      bool
	NoHeaders bool
	// Width is the width the default table is fitted to (see fit), 0 for
	// unbounded; -o wide is never fitted.
	Width int
	// Color paints each capability in DROP and KEEP by its risk, as
	// audit's table does.
	Color bool
}

// WriteSuggestTable prints one row per container: what it should drop and
// keep. The default table gives counts and the riskiest names, fitted to
// o.Width; -o wide gives the full lists and the note codes (the notes
// themselves are for stderr).
func WriteSuggestTable(w io.Writer, items []suggest.Item, o SuggestTableOptions) error {
	header := []string{"NAMESPACE", "WORKLOAD", "CONTAINER"}
	clusterCol := len(items) > 0 && items[0].Cluster != ""
	if clusterCol {
		header = slices.Insert(header, 0, "CLUSTER")
	}
	// A workload whose pods run on several runtimes has a row for each:
	// RUNTIME tells them apart.
	runtimeCol := spansRuntimes(len(items), func(i int) (string, string) {
		return workloadKey(items[i].Namespace, items[i].Workload), items[i].Runtime
	})
	if runtimeCol {
		header = append(header, "RUNTIME")
	}
	header = append(header, "DROP", "KEEP")
	if o.Wide {
		header = append(header, "NOTES")
	}
	rows := make([][]cell, 0, len(items))
	for i := range items {
		it := &items[i]
		drop, keep := entryCell(it.Drop), entryCell(it.Keep)
		// DROP "ALL except X" is exact only when X is what it keeps, and
		// the other way round (see allExcept).
		drop.except, keep.except = keep.set, drop.set
		row := []cell{{text: safetext.Quote(it.Namespace)}, {text: WorkloadLabel(it.Workload.Kind, it.Workload.Name)}, {text: ContainerLabel(it.Container, it.ContainerType, it.Sidecar)}}
		if clusterCol {
			row = slices.Insert(row, 0, cell{text: safetext.Quote(it.Cluster)})
		}
		if runtimeCol {
			row = append(row, cell{text: it.Runtime})
		}
		if o.Wide {
			row = append(row, cell{text: drop.full(o.Color), styled: true}, cell{text: keep.full(o.Color), styled: true}, cell{text: noteCodes(it.Notes)})
		} else {
			row = append(row, cell{caps: drop}, cell{caps: keep})
		}
		rows = append(rows, row)
	}
	width := o.Width
	if o.Wide {
		width = 0
	}
	return Table(w, header, fit(header, rows, width, o.NoHeaders, o.Color), o.NoHeaders)
}

// entryCell is a DROP or KEEP list with each entry's risk in this pod.
func entryCell(es []suggest.Entry) *capCell {
	c := &capCell{risk: make(map[string]catalog.Risk, len(es))}
	for _, e := range es {
		if cp, ok := capability.Lookup(e.Capability); ok {
			c.set = c.set.Add(cp)
			c.risk[e.Capability] = catalog.Risk(e.Risk)
		}
	}
	return c
}

// noteCodes lists the distinct note codes of a container, in order.
func noteCodes(ns []suggest.Note) string {
	var codes []string
	for _, n := range ns {
		if !slices.Contains(codes, n.Code) {
			codes = append(codes, n.Code)
		}
	}
	if len(codes) == 0 {
		return "-"
	}
	return strings.Join(codes, ",")
}
