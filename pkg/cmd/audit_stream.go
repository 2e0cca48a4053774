package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// streamReport prints a live audit as -o json or -o yaml, byte for byte
// what print writes for the same items, but one item at a time as the
// rollup evaluates them. print holds every item and then the whole document
// before writing it: on 10,000 pods that is ~9,000 items and 35 MB of JSON
// (held twice, compact then indented), or 1.4 GB of peak memory for YAML,
// whose converter builds a generic tree of the whole document. Streaming
// keeps one item at a time, so memory stays flat in the number of groups.
//
// Nothing is written before the pods have all been read (the rollup is
// complete when this runs), so a failed LIST still prints nothing.
func (o *AuditOptions) streamReport(roll *audit.Rollup) error {
	f, err := newStreamFormat(o.Output)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(o.Out, 64<<10)
	failed, kept := 0, 0
	var werr error
	roll.Each(o.auditor, func(it report.Item, _ *engine.Result) {
		if werr != nil {
			return
		}
		if o.failOn != "" && it.RiskAtLeast(o.failOn) {
			failed++
		}
		if o.minRisk != "" && !it.RiskAtLeast(o.minRisk) {
			return
		}
		b, err := f.item(&it)
		if err != nil {
			werr = err
			return
		}
		if kept == 0 {
			w.Write(f.open)
		} else {
			w.Write(f.sep)
		}
		kept++
		w.Write(b)
	})
	if werr != nil {
		return werr
	}
	if kept == 0 {
		w.Write(f.empty)
	} else {
		w.Write(f.close)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return findingsError("%d container(s) hold capabilities at or above --fail-on=%s", failed, o.failOn)
	}
	return nil
}

// streamFormat is a report document cut around its items: open, the items
// separated by sep, close; or empty when no item is printed.
type streamFormat struct {
	open, sep, close, empty []byte
	item                    func(*report.Item) ([]byte, error)
}

const jsonIndent = "    " // printers.WriteObject's indent

// newStreamFormat takes the frame from printers.WriteObject's rendering
// of an empty report, so it stays identical to print's whatever fields the
// report gains.
func newStreamFormat(format string) (*streamFormat, error) {
	var empty bytes.Buffer
	if err := printers.WriteObject(&empty, format, report.New()); err != nil {
		return nil, err
	}
	doc := empty.Bytes()
	cut := func(marker string) (before, after []byte, err error) {
		i := bytes.Index(doc, []byte(marker))
		if i < 0 || bytes.Count(doc, []byte(marker)) != 1 {
			return nil, nil, fmt.Errorf("internal error: the %s report does not hold %q once:\n%s", format, marker, doc)
		}
		return doc[:i], doc[i+len(marker):], nil
	}
	switch format {
	case printers.FormatJSON:
		// {"apiVersion": …, "items": [ITEM, ITEM]}, items two levels deep.
		before, after, err := cut(`"items": []`)
		if err != nil {
			return nil, err
		}
		itemIndent := jsonIndent + jsonIndent
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent(itemIndent, jsonIndent)
		return &streamFormat{
			open:  concat(before, `"items": [`+"\n"+itemIndent),
			sep:   []byte(",\n" + itemIndent),
			close: concat([]byte("\n"+jsonIndent+"]"), string(after)),
			empty: doc,
			item: func(it *report.Item) ([]byte, error) {
				buf.Reset()
				if err := enc.Encode(it); err != nil {
					return nil, err
				}
				return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
			},
		}, nil
	case printers.FormatYAML:
		// apiVersion, items and kind, keys sorted; each item a block
		// sequence entry under "items:".
		before, after, err := cut("items: []\n")
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		return &streamFormat{
			open:  concat(before, "items:\n"),
			close: after,
			empty: doc,
			item: func(it *report.Item) ([]byte, error) {
				// The YAML writer wraps long strings at 80 columns, so an
				// item must be rendered at the depth it has in the report:
				// as the one item of an "items" list, then cut out of it.
				buf.Reset()
				one := struct {
					Items []*report.Item `json:"items"`
				}{[]*report.Item{it}}
				if err := printers.WriteObject(&buf, format, one); err != nil {
					return nil, err
				}
				b, ok := bytes.CutPrefix(buf.Bytes(), []byte("items:\n"))
				if !ok {
					return nil, fmt.Errorf("internal error: one item rendered as YAML does not start with \"items:\":\n%s", buf.Bytes())
				}
				return b, nil
			},
		}, nil
	}
	return nil, fmt.Errorf("internal error: no streaming for output format %q", format)
}

func concat(b []byte, s string) []byte { return append(bytes.Clone(b), s...) }
