package cmd

import (
	"fmt"

	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
)

// write prints the suggestions in the chosen format. stdout carries only
// data; in the table format the notes go to stderr.
func (o *SuggestOptions) write(ws []*suggest.Workload) error {
	switch o.Output {
	case printers.FormatJSON, printers.FormatYAML:
		list := suggest.NewList(o.strategy)
		list.Items = append(list.Items, suggest.Items(ws)...)
		return printers.WriteObject(o.Out, o.Output, list)
	case formatPatch, formatJSONPatch:
		return printers.WritePatches(o.Out, ws, o.Output == formatJSONPatch)
	case formatKubectl:
		return printers.WriteKubectl(o.Out, ws, o.kubectlFlags())
	case formatSecurityContext:
		return printers.WriteSecurityContexts(o.Out, ws)
	case formatPatched:
		return printers.WritePatched(o.Out, ws)
	}
	return o.writeTable(ws)
}

func (o *SuggestOptions) writeTable(ws []*suggest.Workload) error {
	items := suggest.Items(ws)
	if len(items) == 0 {
		fmt.Fprintln(o.ErrOut, "No containers found.")
		return nil
	}
	if o.width == 0 {
		o.width = printers.TerminalWidth(o.Out)
	}
	if err := printers.WriteSuggestTable(o.Out, items, printers.SuggestTableOptions{
		Wide: o.Output == printers.FormatWide, NoHeaders: o.NoHeaders, Width: o.width, Color: o.color,
	}); err != nil {
		return err
	}
	printers.WriteNotes(o.ErrOut, ws)
	// Last, so it is the line a terminal shows under the notes.
	return printers.WriteSuggestSummary(o.ErrOut, items)
}
