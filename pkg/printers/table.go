// Package printers writes reports and catalog views as text: kubectl-style
// tables, and versioned JSON or YAML objects.
package printers

import (
	"bytes"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Table prints rows the way kubectl does: upper-case headers, columns
// separated by three spaces, no borders.
func Table(w io.Writer, header []string, rows [][]string, noHeaders bool) error {
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off, AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: "   "}},
			},
			Row: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: "   "}},
			},
		}),
	)
	if !noHeaders {
		t.Header(header)
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	// The padding after the last column would leave trailing blanks that
	// make golden files and `| cut` pipelines brittle.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, trimTrailing(line)+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// trimTrailing drops the line break and the blanks after the last column,
// including blanks the table wrapped in colour resets, keeping one reset
// so a coloured line still ends in the terminal's default colour.
func trimTrailing(line string) string {
	const reset = "\x1b[0m"
	line = strings.TrimRight(line, "\n")
	coloured := false
	for {
		t := strings.TrimRight(line, " ")
		if r, ok := strings.CutSuffix(t, reset); ok {
			line, coloured = r, true
			continue
		}
		line = t
		break
	}
	if coloured {
		line += reset
	}
	return line
}
