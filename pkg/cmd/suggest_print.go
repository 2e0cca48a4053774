package cmd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
)

// write prints the suggestions in the chosen format. stdout carries only
// data; in the table format the notes go to stderr.
func (o *SuggestOptions) write(ws []*suggest.Workload) error {
	switch o.Output {
	case printers.FormatJSON, printers.FormatYAML:
		list := suggest.NewList(o.strategy)
		for _, w := range ws {
			for _, c := range w.Containers {
				list.Items = append(list.Items, c.Item)
			}
		}
		return printers.WriteObject(o.Out, o.Output, list)
	case formatPatch, formatJSONPatch:
		return printers.WritePatches(o.Out, ws, o.Output == formatJSONPatch)
	case formatKubectl:
		return printers.WriteKubectl(o.Out, ws, o.kubectlFlags())
	case formatSecurityContext:
		return printers.WriteSecurityContexts(o.Out, ws)
	}
	return o.writeTable(ws)
}

func (o *SuggestOptions) writeTable(ws []*suggest.Workload) error {
	var rows [][]string
	for _, w := range ws {
		for _, c := range w.Containers {
			it := &c.Item
			rows = append(rows, []string{it.Namespace, it.Workload.Kind + "/" + it.Workload.Name, printers.ContainerLabel(it.Container, it.ContainerType),
				capColumn(it.Drop, it.Keep), capColumn(it.Keep, nil), noteCodes(it.Notes)})
		}
	}
	if len(rows) == 0 {
		fmt.Fprintln(o.ErrOut, "No containers found.")
		return nil
	}
	if err := printers.Table(o.Out, []string{"NAMESPACE", "WORKLOAD", "CONTAINER", "DROP", "KEEP", "NOTES"}, rows, o.NoHeaders); err != nil {
		return err
	}
	printers.WriteNotes(o.ErrOut, ws)
	return nil
}

// capColumn lists names; a list of nearly every capability (a privileged
// container's drop list) names what it lacks instead.
func capColumn(es, other []suggest.Entry) string {
	if len(es) == 0 {
		return "-"
	}
	s, keep := entrySet(es), entrySet(other)
	// "ALL except" only where the exceptions are what it keeps; a list of
	// everything minus capabilities it never held would read as keeping them.
	if s.Len() >= 30 && s|keep == capability.All {
		if s == capability.All {
			return "ALL"
		}
		return "ALL except " + strings.Join(keep.Names(), ",")
	}
	return strings.Join(s.Names(), ",")
}

func entrySet(es []suggest.Entry) capability.Set {
	var s capability.Set
	for _, e := range es {
		if c, ok := capability.Lookup(e.Capability); ok {
			s = s.Add(c)
		}
	}
	return s
}

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
