package printers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// ReportStream writes a report as -o json or -o yaml one item at a time,
// byte for byte what WriteObject writes for the whole report. Holding the
// report and then the whole document costs, on 10,000 pods, ~9,000 items
// and 35 MB of JSON (held twice, compact then indented), or 1.4 GB of peak
// memory for YAML, whose converter builds a generic tree of the whole
// document. The stream keeps one item at a time, so memory stays flat in
// the number of items.
//
// In version v1alpha2 (report.LeanReport) each item is written lean and
// the catalog section, for the capabilities the items' bounding sets
// named (a 64-bit set, whatever the number of items), after the last
// item: JSON after "items", YAML after "kind" (the only key out of sorted
// order; the section cannot be known before the items are).
//
// Report items are encoded on every core (GOMAXPROCS), batchSize at a
// time, in order: encoding is most of the client's own work
// (docs/benchmarks.md). A live audit writes each namespace while the next
// pages are on their way: one context into the document, several each
// into its own Spool, appended in the order of the contexts.
type ReportStream struct {
	w    *bufio.Writer
	f    *streamFormat
	n    int
	lean bool
	caps capability.Set
	// pending are copies of the report items not yet encoded; encoders
	// are one format per core (each has its own buffers), outs and ends
	// what each encoded and where each of its items ends.
	pending  []any
	encoders []*streamFormat
	outs     []bytes.Buffer
	ends     [][]int
	// empty is the document without items, which spools frame theirs
	// from; spools are those not yet appended or discarded (Spool).
	empty  any
	mu     sync.Mutex
	spools map[*Spool]bool
}

// batchSize is how many report items a stream holds before encoding them:
// ~1 MB of JSON, so memory stays flat.
const batchSize = 256

// NewReportStream starts a v1alpha1 report document in format (json or
// yaml) on w; nothing is written before the first Write or Close.
func NewReportStream(w io.Writer, format string) (*ReportStream, error) {
	return NewListStream(w, format, report.New())
}

// NewVersionedReportStream starts a report document of version
// (report.Versions) in format on w.
func NewVersionedReportStream(w io.Writer, format, version string) (*ReportStream, error) {
	if version != report.Version2 {
		return NewReportStream(w, format)
	}
	s, err := NewListStream(w, format, &report.Report{APIVersion: report.APIVersion2, Kind: report.Kind, Items: []report.Item{}})
	if s != nil {
		s.lean = true
	}
	return s, err
}

// NewListStream streams any list document whose items are at "items"
// (suggest-drop's DropSuggestionList over several clusters), from its
// empty form; items are then written with WriteItem.
func NewListStream(w io.Writer, format string, empty any) (*ReportStream, error) {
	f, err := newStreamFormat(format, empty)
	if err != nil {
		return nil, err
	}
	s := &ReportStream{w: bufio.NewWriterSize(w, 64<<10), f: f, empty: empty}
	if k := runtime.GOMAXPROCS(0); k > 1 {
		s.encoders, s.outs, s.ends = []*streamFormat{f}, make([]bytes.Buffer, k), make([][]int, k)
		for range k - 1 {
			e, err := newStreamFormat(format, empty)
			if err != nil {
				return nil, err
			}
			s.encoders = append(s.encoders, e)
		}
	}
	return s, nil
}

// WriteReport writes the items as one report document of version in
// format (json or yaml): v1alpha1 as WriteObject prints it, v1alpha2
// through the stream, so that a live and a manifest audit print the same.
func WriteReport(w io.Writer, format, version string, items []report.Item) error {
	if version != report.Version2 {
		rep := report.New()
		rep.Items = items
		return WriteObject(w, format, rep)
	}
	s, err := NewVersionedReportStream(w, format, version)
	for i := 0; i < len(items) && err == nil; i++ {
		err = s.Write(&items[i])
	}
	if err != nil {
		return err
	}
	return s.Close()
}

// Write adds one report item; it may be encoded later (batchSize), so
// it is copied: the caller may reuse it.
func (s *ReportStream) Write(it *report.Item) error {
	v := *it
	var x any = &v
	if s.lean {
		li, err := v.Lean()
		if err != nil {
			return err
		}
		s.caps = s.caps.Union(capability.SetOfNames(v.Bounding))
		x = li
	}
	if len(s.encoders) == 0 {
		return s.WriteItem(x)
	}
	if s.pending = append(s.pending, x); len(s.pending) == batchSize {
		return s.encodePending()
	}
	return nil
}

// WriteItem adds one item of any list, encoded now.
func (s *ReportStream) WriteItem(it any) error {
	if err := s.encodePending(); err != nil {
		return err
	}
	b, err := s.f.item(it)
	if err != nil {
		return err
	}
	return s.emit(b)
}

// emit writes one encoded item into the document.
func (s *ReportStream) emit(b []byte) error {
	if s.n == 0 {
		s.w.Write(s.f.open)
	} else {
		s.w.Write(s.f.sep)
	}
	s.n++
	_, err := s.w.Write(b)
	return err
}

// encodePending encodes the pending items, a contiguous share on each
// core, and writes them in their order.
func (s *ReportStream) encodePending() error {
	if len(s.pending) == 0 {
		return nil
	}
	k := len(s.encoders)
	share := (len(s.pending) + k - 1) / k
	errs := make([]error, k)
	var wg sync.WaitGroup
	for j := range k {
		lo, hi := min(j*share, len(s.pending)), min((j+1)*share, len(s.pending))
		s.outs[j].Reset()
		s.ends[j] = s.ends[j][:0]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, x := range s.pending[lo:hi] {
				b, err := s.encoders[j].item(x)
				if err != nil {
					errs[j] = err
					return
				}
				s.outs[j].Write(b)
				s.ends[j] = append(s.ends[j], s.outs[j].Len())
			}
		}()
	}
	wg.Wait()
	clear(s.pending)
	s.pending = s.pending[:0]
	for j := range k {
		if errs[j] != nil {
			return errs[j]
		}
		b, start := s.outs[j].Bytes(), 0
		for _, end := range s.ends[j] {
			if err := s.emit(b[start:end]); err != nil {
				return err
			}
			start = end
		}
	}
	return nil
}

// Started says whether an item has been written (or taken to be).
func (s *ReportStream) Started() bool { return s.n > 0 || len(s.pending) > 0 }

// Close ends the document and flushes it.
func (s *ReportStream) Close() error {
	if err := s.encodePending(); err != nil {
		return err
	}
	switch {
	case !s.lean && s.n == 0:
		s.w.Write(s.f.empty)
	case !s.lean:
		s.w.Write(s.f.close)
	default:
		if err := s.closeLean(); err != nil {
			return err
		}
	}
	return s.w.Flush()
}

// closeLean ends a v1alpha2 document with its catalog section.
func (s *ReportStream) closeLean() error {
	if s.n == 0 {
		s.w.Write(s.f.before)
		s.w.Write(s.f.noItems)
	} else {
		s.w.Write(s.f.itemsEnd)
	}
	cat := report.CatalogOf(s.caps)
	switch s.f.format {
	case FormatJSON:
		b, err := json.MarshalIndent(cat, jsonIndent, jsonIndent)
		if err != nil {
			return err
		}
		s.w.WriteString(",\n" + jsonIndent + `"capabilities": `)
		s.w.Write(b)
		s.w.Write(s.f.after)
	default:
		s.w.Write(s.f.after)
		return WriteObject(s.w, FormatYAML, struct {
			Capabilities map[string]report.CatalogEntry `json:"capabilities"`
		}{cat})
	}
	return nil
}

// streamFormat is a report document cut around its items: open, the items
// separated by sep, close; or empty when no item is printed.
type streamFormat struct {
	open, sep, close, empty []byte
	item                    func(any) ([]byte, error)
	// The parts of the frame a v1alpha2 document puts its catalog
	// section between: the document before "items", "items" without any,
	// the end of a list of items, and the document after "items".
	format                           string
	before, noItems, itemsEnd, after []byte
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
		// Compact, then indentJSON: what json.Encoder with SetIndent
		// writes, faster (indentJSON).
		var buf bytes.Buffer
		var out []byte
		enc := json.NewEncoder(&buf)
		return &streamFormat{
			format: format, before: before, noItems: []byte(`"items": []`), itemsEnd: []byte("\n" + jsonIndent + "]"), after: after,
			open:  concat(before, `"items": [`+"\n"+itemIndent),
			sep:   []byte(",\n" + itemIndent),
			close: concat([]byte("\n"+jsonIndent+"]"), string(after)),
			empty: doc,
			item: func(it any) ([]byte, error) {
				buf.Reset()
				if err := enc.Encode(it); err != nil {
					return nil, err
				}
				out = indentJSON(out[:0], bytes.TrimSuffix(buf.Bytes(), []byte("\n")), itemIndent, jsonIndent)
				return out, nil
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
			format: format, before: before, noItems: []byte("items: []\n"), after: after,
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
					// An item whose strings marshalYAML had to quote
					// comes with its key quoted too; a mixed document
					// is still one YAML document.
					b, ok = bytes.CutPrefix(buf.Bytes(), []byte("\"items\":\n"))
				}
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

// indentJSON appends src, compact JSON as encoding/json writes it, to dst
// indented as encoding/json's Indent does (encoding/json/indent.go,
// appendIndent, Go 1.26): a newline, prefix and one indent per depth after
// '{', '[' and ',' and before '}' and ']', except inside an empty object or
// array ({} and []), and ": " for ':'. Indent runs its scanner's state
// machine on every byte, which was 54% of a report item's encoding in
// BenchmarkReportStream's profile; encoding/json's own output needs no
// validation, only to know where strings are, so this copies each string's
// run of plain bytes at once. Tests hold it to Indent's output
// (TestIndentJSON, FuzzIndentJSON).
func indentJSON(dst, src []byte, prefix, indent string) []byte {
	depth, needIndent := 0, false
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			newline()
		}
		switch c {
		case '"':
			// The string, to its closing quote; a backslash escapes the
			// byte after it (\" and \\ included).
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(src)-1)
			dst = append(dst, src[i:j+1]...)
			i = j
		case '{', '[':
			needIndent = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		case '}', ']':
			if needIndent {
				needIndent = false
			} else {
				depth--
				newline()
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
