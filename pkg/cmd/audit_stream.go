package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// streamJSON prints a live audit as -o json, byte for byte what print
// writes for the same items, but one item at a time as the rollup
// evaluates them. print holds every item and then the whole document
// twice (compact, then indented) before writing it: on 10,000 pods that is
// ~9,000 items and 35 MB of text, several times the memory of everything
// else the audit keeps, and it grows with the cluster. Streaming keeps one
// item at a time, so memory stays flat in the number of groups.
//
// Nothing is written before the pods have all been read (the rollup is
// complete when this runs), so a failed LIST still prints nothing.
func (o *AuditOptions) streamJSON(roll *audit.Rollup) error {
	head, tail, err := reportFrame()
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(o.Out, 64<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Items sit two levels deep: in the report object, in "items".
	enc.SetIndent(itemIndent, jsonIndent)
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
		buf.Reset()
		if werr = enc.Encode(&it); werr != nil {
			return
		}
		if kept == 0 {
			w.Write(head)
		} else {
			w.WriteByte(',')
		}
		kept++
		w.WriteString("\n" + itemIndent)
		w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	})
	if werr != nil {
		return werr
	}
	if kept == 0 {
		w.Write(head)
	} else {
		w.WriteString("\n" + jsonIndent)
	}
	w.Write(tail)
	if err := w.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return findingsError("%d container(s) hold capabilities at or above --fail-on=%s", failed, o.failOn)
	}
	return nil
}

const (
	jsonIndent = "    " // printers.WriteObject's indent
	itemIndent = jsonIndent + jsonIndent
)

// reportFrame is printers.WriteObject's rendering of an empty report cut
// around the empty items list: head ends with "[", tail starts with "]".
// Taking it from the printer itself keeps the frame identical to print's
// whatever fields the report gains.
func reportFrame() (head, tail []byte, err error) {
	var b bytes.Buffer
	if err := printers.WriteObject(&b, printers.FormatJSON, report.New()); err != nil {
		return nil, nil, err
	}
	i := bytes.Index(b.Bytes(), []byte(`"items": []`))
	if i < 0 {
		return nil, nil, errors.New(`internal error: the JSON report has no "items": []`)
	}
	i += len(`"items": [`)
	return b.Bytes()[:i], b.Bytes()[i:], nil
}
