package printers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// ReportStream writes a report as -o json or -o yaml one item at a time,
// byte for byte what WriteObject writes for the whole report. Holding the
// report and then the whole document costs, on 10,000 pods, ~9,000 items
// and 35 MB of JSON (held twice, compact then indented), or 1.4 GB of peak
// memory for YAML, whose converter builds a generic tree of the whole
// document. The stream keeps one item at a time, so memory stays flat in
// the number of items.
type ReportStream struct {
	w *bufio.Writer
	f *streamFormat
	n int
}

// NewReportStream starts a report document in format (json or yaml) on w;
// nothing is written before the first Write or Close.
func NewReportStream(w io.Writer, format string) (*ReportStream, error) {
	return NewListStream(w, format, report.New())
}

// NewListStream streams any list document whose items are at "items"
// (suggest-drop's DropSuggestionList over several clusters), from its
// empty form; items are then written with WriteItem.
func NewListStream(w io.Writer, format string, empty any) (*ReportStream, error) {
	f, err := newStreamFormat(format, empty)
	if err != nil {
		return nil, err
	}
	return &ReportStream{w: bufio.NewWriterSize(w, 64<<10), f: f}, nil
}

// Write adds one item.
func (s *ReportStream) Write(it *report.Item) error { return s.WriteItem(it) }

// WriteItem adds one item of any list.
func (s *ReportStream) WriteItem(it any) error {
	b, err := s.f.item(it)
	if err != nil {
		return err
	}
	if s.n == 0 {
		s.w.Write(s.f.open)
	} else {
		s.w.Write(s.f.sep)
	}
	s.n++
	_, err = s.w.Write(b)
	return err
}

// Started says whether an item has been written.
func (s *ReportStream) Started() bool { return s.n > 0 }

// Close ends the document and flushes it.
func (s *ReportStream) Close() error {
	if s.n == 0 {
		s.w.Write(s.f.empty)
	} else {
		s.w.Write(s.f.close)
	}
	return s.w.Flush()
}

// streamFormat is a report document cut around its items: open, the items
// separated by sep, close; or empty when no item is printed.
type streamFormat struct {
	open, sep, close, empty []byte
	item                    func(any) ([]byte, error)
}

const jsonIndent = "    " // WriteObject's indent

// newStreamFormat takes the frame from WriteObject's rendering
// of an empty report, so it stays identical to print's whatever fields the
// report gains.
func newStreamFormat(format string, emptyDoc any) (*streamFormat, error) {
	var empty bytes.Buffer
	if err := WriteObject(&empty, format, emptyDoc); err != nil {
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
	case FormatJSON:
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
			item: func(it any) ([]byte, error) {
				buf.Reset()
				if err := enc.Encode(it); err != nil {
					return nil, err
				}
				return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
			},
		}, nil
	case FormatYAML:
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
			item: func(it any) ([]byte, error) {
				// The YAML writer wraps long strings at 80 columns, so an
				// item must be rendered at the depth it has in the report:
				// as the one item of an "items" list, then cut out of it.
				buf.Reset()
				one := struct {
					Items []any `json:"items"`
				}{[]any{it}}
				if err := WriteObject(&buf, format, one); err != nil {
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
