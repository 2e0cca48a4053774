package manifest

import (
	"bytes"
	"encoding/json"
	"io"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// kubectl's StreamVisitor says nothing about where a document sits in its
// file: it drops empty and comment-only documents without a callback and
// reports YAML errors with lines counted from the start of the failing
// document. positions follows the same bytes the decoder reads, split by the
// same rules as apimachinery's YAMLReader, and records where each document
// that decodes to something other than null starts. The n-th callback of
// the StreamVisitor then belongs to the n-th record. It only observes: what
// kubectl reads is unchanged, and if the two ever disagree the cost is a
// wrong or missing position, never a wrong object.

// jsonPeek is how far apimachinery's YAMLOrJSONDecoder looks for a leading
// "{" to decide that a stream is JSON (the bufferSize StreamVisitor passes).
const jsonPeek = 4096

// lineCap bounds how much of one line is kept. Separators, comments and the
// null scalars that matter here all fit; a longer line is simply content.
const lineCap = 256

// sniffLen is how much of the start of a stream is checked for binary data.
const sniffLen = 1024

type streamMode uint8

const (
	modeUnknown streamMode = iota
	modeYAML
	modeJSON
)

// docPos locates one non-null document.
type docPos struct {
	doc   int // 1-based YAML document index: "---" starts a new document, as in yq or PyYAML
	start int // first line after the separator; YAML error lines count from here
	first int // first line with content (not blank, not a comment)
	// secondKind is the line of a second top-level "kind:" in the document:
	// two objects written one after the other without "---" (as
	// `kubectl patch --local -o yaml` prints several objects). The YAML
	// decoder keeps the last value of a repeated key, so the first object
	// would silently vanish.
	secondKind int
}

// queued is a document's position with its text as written, from line
// start on, for the lines of its fields (fieldLines); nil for JSON.
type queued struct {
	docPos
	text []byte
}

type positions struct {
	mode      streamMode
	seen      int    // bytes written so far
	sniff     []byte // the first sniffLen bytes
	line      []byte // current line, up to lineCap bytes
	lineLen   int    // full length of the current line
	full      []byte // current line in full, while the stream may be YAML
	lines     int    // complete lines so far
	seps      int    // separator lines so far
	implicit  bool   // content before the first separator forms document 1
	badSep    int    // line of the first separator kubectl rejects
	cur       chunk
	queue     []queued
	ended     bool
	exhausted bool  // a record was asked for and none was there: stop guessing
	readErr   error // the first error reading the stream, which the decoder reports as a parse error
	// json is the stream so far while it may be JSON, whose objects are
	// not split into lines by "---": each is found by decoding it again
	// (nextJSON) from jsonOff, the end of the previous one, which is on
	// line jsonLine (1-based) and column jsonCol (0-based, in characters).
	json              []byte
	jsonOff, jsonLine int
	jsonCol           int
}

// chunk is the text between two separators, as YAMLReader returns it.
type chunk struct {
	start      int    // first line, 0 while the chunk has no line yet
	kinds      int    // lines that start with "kind:" at column 0
	secondKind int    // the line of the second one
	first      int    // first content line, 0 if none
	content    int    // number of content lines
	onlyLine   []byte // the content line while there is exactly one
	text       []byte // the chunk's lines, each ending in "\n"
}

// observe returns r wrapped so that everything read through it is fed to p,
// and the end of the stream closes the last document.
func (p *positions) observe(r io.Reader) io.Reader { return &observedReader{r: r, p: p} }

type observedReader struct {
	r io.Reader
	p *positions
}

func (o *observedReader) Read(b []byte) (int, error) {
	n, err := o.r.Read(b)
	o.p.write(b[:n])
	switch {
	case err == io.EOF:
		o.p.end()
	case err != nil && o.p.readErr == nil:
		o.p.readErr = err
	}
	return n, err
}

func (p *positions) write(b []byte) {
	if len(p.sniff) < sniffLen {
		take := min(sniffLen-len(p.sniff), len(b))
		p.sniff = append(p.sniff, b[:take]...)
	}
	if p.mode == modeUnknown {
		p.guessMode(b)
	}
	if p.mode == modeYAML {
		p.json = nil
	} else {
		p.json = append(p.json, b...)
	}
	p.seen += len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.addToLine(b)
			return
		}
		p.addToLine(b[:i])
		p.endLine()
		b = b[i+1:]
	}
}

// guessMode mirrors GuessJSONStream: JSON if the first non-space byte within
// jsonPeek bytes is "{".
func (p *positions) guessMode(b []byte) {
	for i, c := range b {
		if p.seen+i >= jsonPeek {
			p.mode = modeYAML
			return
		}
		switch c {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			continue
		case '{':
			p.mode = modeJSON
		default:
			p.mode = modeYAML
		}
		return
	}
}

func (p *positions) addToLine(b []byte) {
	if p.mode != modeJSON {
		p.full = append(p.full, b...)
	}
	p.lineLen += len(b)
	if room := lineCap - len(p.line); room > 0 {
		p.line = append(p.line, b[:min(room, len(b))]...)
	}
}

func (p *positions) endLine() {
	p.lines++
	line := bytes.TrimSuffix(p.line, []byte("\r")) // bufio.ReadLine drops "\r\n" too
	if bytes.HasPrefix(line, []byte("---")) {
		// YAMLReader: a line starting with "---" separates documents; only
		// spaces and a comment may follow, anything else ends the stream.
		rest := bytes.TrimSpace(line[3:])
		if len(rest) > 0 && rest[0] != '#' && p.badSep == 0 {
			p.badSep = p.lines
		}
		p.endChunk()
		p.seps++
	} else {
		if p.cur.start == 0 {
			p.cur.start = p.lines
		}
		if p.mode != modeJSON {
			p.cur.text = append(append(p.cur.text, p.full...), '\n')
		}
		if bytes.HasPrefix(line, []byte("kind:")) {
			p.cur.kinds++
			if p.cur.kinds == 2 {
				p.cur.secondKind = p.lines
			}
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			p.cur.content++
			if p.cur.first == 0 {
				p.cur.first = p.lines
			}
			if p.cur.content == 1 && p.lineLen <= lineCap {
				p.cur.onlyLine = append(p.cur.onlyLine[:0], t...)
			} else {
				p.cur.onlyLine = nil
			}
		}
	}
	p.line = p.line[:0]
	p.full = p.full[:0]
	p.lineLen = 0
}

// endChunk closes the current chunk and queues it if the decoder will turn it
// into a callback, that is, if it is not null.
func (p *positions) endChunk() {
	c := p.cur
	p.cur = chunk{onlyLine: c.onlyLine[:0]}
	if c.content == 0 {
		return
	}
	if p.seps == 0 {
		p.implicit = true
	}
	if c.content == 1 && isNull(c.onlyLine) {
		return
	}
	doc := p.seps
	if p.implicit {
		doc++
	}
	p.queue = append(p.queue, queued{docPos{doc: doc, start: c.start, first: c.first, secondKind: c.secondKind}, c.text})
}

// isNull reports whether a document whose only content is line decodes to
// null ("null", "~", "!!null", "..."), which StreamVisitor skips. It
// decodes line as YAMLToJSONDecoder decodes a document, into a
// RawExtension, since sigs.k8s.io/yaml's other entry points disagree on
// "...". A line longer than lineCap (nil here) is never null.
func isNull(line []byte) bool {
	if line == nil {
		return false
	}
	var ext runtime.RawExtension
	if err := yaml.Unmarshal(line, &ext); err != nil {
		return false
	}
	raw := bytes.TrimSpace(ext.Raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// end closes the stream: the last line and chunk have no terminator.
func (p *positions) end() {
	if p.ended {
		return
	}
	p.ended = true
	if p.lineLen > 0 {
		p.endLine()
	}
	p.endChunk()
	if p.mode == modeUnknown {
		p.mode = modeYAML
	}
}

// next hands out the position of the next non-null document, for the
// decoder's next callback or error. ordinal is that callback's 1-based
// count, used as the document number of JSON streams, whose documents are
// not separated by "---". The zero docPos means unknown.
func (p *positions) next(ordinal int) docPos {
	d, _ := p.nextText(ordinal)
	return d
}

// nextText is next with the document's text (see queued).
func (p *positions) nextText(ordinal int) (docPos, []byte) {
	if p == nil {
		return docPos{}, nil
	}
	if p.mode == modeJSON {
		text, line := p.nextJSON()
		return docPos{doc: ordinal, start: line}, text
	}
	if p.exhausted || len(p.queue) == 0 {
		p.exhausted = true
		return docPos{}, nil
	}
	d := p.queue[0]
	p.queue = p.queue[1:]
	if len(p.queue) == 0 {
		p.queue = p.queue[:0:0] // let the backing array go; the queue is short-lived
	}
	return d.docPos, d.text
}

// nextJSON finds the next JSON value after the previous one: its text,
// preceded by blanks up to its column so that a YAML parser's columns are
// the file's (JSON is YAML), and the line it starts on; nil if it cannot
// be decoded from what was read (the decoder then reports the error). The
// decoder's callback for an object comes after it has read all of it.
func (p *positions) nextJSON() ([]byte, int) {
	if p.jsonLine == 0 {
		p.jsonLine = 1
	}
	rest := p.json[p.jsonOff:]
	start := len(rest) - len(bytes.TrimLeft(rest, " \t\r\n"))
	dec := json.NewDecoder(bytes.NewReader(rest[start:]))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		p.jsonOff = len(p.json)
		return nil, 0
	}
	end := start + int(dec.InputOffset())
	p.advanceJSON(rest[:start])
	line, col := p.jsonLine, p.jsonCol
	p.advanceJSON(rest[start:end])
	text := make([]byte, 0, col+end-start)
	text = append(append(text, bytes.Repeat([]byte(" "), col)...), rest[start:end]...)
	// What is behind is never read again: keep only what the decoder has
	// read ahead, so that a large stream is not held twice.
	p.json = append(p.json[:0], rest[end:]...)
	p.jsonOff = 0
	return text, line
}

// advanceJSON moves jsonLine and jsonCol over b. Columns count
// characters, as yaml.v3's do.
func (p *positions) advanceJSON(b []byte) {
	if n := bytes.Count(b, []byte("\n")); n > 0 {
		p.jsonLine += n
		p.jsonCol = utf8.RuneCount(b[bytes.LastIndexByte(b, '\n')+1:])
		return
	}
	p.jsonCol += utf8.RuneCount(b)
}

// isBinary reports whether the start of the stream holds bytes no manifest
// has: NUL, or invalid UTF-8 (after the byte-order-mark handling kubectl
// applies, so UTF-16 with a BOM is text by then).
func (p *positions) isBinary() bool {
	if p == nil {
		return false
	}
	s := p.sniff
	if bytes.IndexByte(s, 0) >= 0 {
		return true
	}
	if !p.ended {
		// The sniff may stop inside a rune that the stream completes.
		for i := len(s) - 1; i >= 0 && i >= len(s)-utf8.UTFMax; i-- {
			if utf8.RuneStart(s[i]) {
				if !utf8.FullRune(s[i:]) {
					s = s[:i]
				}
				break
			}
		}
	}
	return !utf8.Valid(s)
}
