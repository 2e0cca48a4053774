package evidence

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// StdinName is how errors name standard input ("-").
const StdinName = "STDIN"

// MaxRecord bounds one line, and one object written over several lines
// (jsonpretty). An event is well under 4 KiB; a longer "object" is an
// unterminated one swallowing the lines after it.
const MaxRecord = 4 << 20

// InputError is a trace that cannot be read: a line that is no
// trace_capabilities event of a shape this package knows (a header, a log
// line, another gadget's event), a malformed object, or a file that cannot
// be opened. The command maps it to exit code 3, as it does a malformed
// manifest.
type InputError struct {
	File    string // the path, or STDIN
	Line    int    // 1-based; 0 when the file as a whole is at fault
	Message string
}

func (e *InputError) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Message
	}
	return e.File + ": " + e.Message
}

// ReadPaths reads every path in turn: "-" is stdin, a directory is walked
// recursively in lexical order and each of its files read (names starting
// with "." are left out, as are the directories so named), anything else
// is a file. Gzip-compressed files are read as they are. It returns the
// first *InputError, unless SkipInvalid is set: then malformed records are
// counted in Stats and reading goes on; a file that cannot be opened is an
// error either way.
func (a *Aggregator) ReadPaths(paths []string, stdin io.Reader) error {
	for _, p := range paths {
		if p == "-" {
			if err := a.Read(StdinName, stdin); err != nil {
				return err
			}
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return &InputError{File: p, Message: openMessage(err)}
		}
		if !info.IsDir() {
			if err := a.readFile(p); err != nil {
				return err
			}
			continue
		}
		files := 0
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return &InputError{File: path, Message: openMessage(err)}
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			files++
			return a.readFile(path)
		})
		if err != nil {
			return err
		}
		if files == 0 {
			return &InputError{File: p, Message: "the directory has no trace files"}
		}
	}
	return nil
}

func openMessage(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}

func (a *Aggregator) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &InputError{File: path, Message: openMessage(err)}
	}
	defer f.Close()
	return a.Read(path, f)
}

// Read reads one trace stream, named name in errors, and adds its events.
// It never holds more than one record (MaxRecord) of the stream.
func (a *Aggregator) Read(name string, r io.Reader) error {
	a.stats.Inputs++
	if a.br == nil {
		a.br = bufio.NewReaderSize(r, 256<<10)
	} else {
		a.br.Reset(r)
	}
	br := a.br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return &InputError{File: name, Message: "reading gzip: " + err.Error()}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 256<<10)
	}
	s := &stream{a: a, name: name, br: br}
	return s.run()
}

// stream frames the records of one input: objects one per line (JSON
// lines, what "-o json" writes), objects over several lines ("-o
// jsonpretty"), and arrays of objects, on one line or many, in any mix.
type stream struct {
	a    *Aggregator
	name string
	br   *bufio.Reader
	line int    // the line last read, 1-based
	long []byte // a line longer than the reader's buffer
	acc  []byte // an object over several lines

	inArray bool
	// arrayNext: what the open array takes next: 0 an element or ']'
	// (just opened), 1 ',' or ']', 2 an element (after ',').
	arrayNext int
}

// next returns the next line without its line end, valid until the next
// call; ok is false at the end of the input.
func (s *stream) next() (line []byte, ok bool, err error) {
	s.long = s.long[:0]
	for {
		b, err := s.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			s.long = append(s.long, b...)
			if len(s.long) > MaxRecord {
				s.line++
				return nil, false, s.errAt(s.line, fmt.Sprintf("a line longer than %d MiB", MaxRecord>>20))
			}
			continue
		}
		if len(s.long) > 0 {
			s.long = append(s.long, b...)
			b = s.long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, &InputError{File: s.name, Line: s.line + 1, Message: "reading: " + err.Error()}
		}
		if len(b) == 0 {
			return nil, false, nil
		}
		s.line++
		b = bytes.TrimSuffix(b, []byte{'\n'})
		b = bytes.TrimSuffix(b, []byte{'\r'})
		if len(b) > MaxRecord {
			return nil, false, s.errAt(s.line, fmt.Sprintf("a line longer than %d MiB", MaxRecord>>20))
		}
		if s.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
		}
		return b, true, nil
	}
}

func (s *stream) errAt(line int, msg string) *InputError {
	return &InputError{File: s.name, Line: line, Message: msg}
}

// bad reports a malformed record: the error, or with SkipInvalid a count.
func (s *stream) bad(e *InputError) error {
	if !s.a.opts.SkipInvalid {
		return e
	}
	s.a.stats.Skipped++
	if len(s.a.stats.Problems) < maxKept {
		s.a.stats.Problems = append(s.a.stats.Problems, *e)
	}
	return nil
}

func (s *stream) run() error {
	for {
		line, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := s.scan(line); err != nil {
			return err
		}
	}
	if s.inArray {
		// The trace stopped before the array was closed.
		s.a.stats.Truncated++
	}
	return nil
}

// scan reads the records of one line.
func (s *stream) scan(line []byte) error {
	pos := 0
	for {
		for pos < len(line) && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r') {
			pos++
		}
		if pos >= len(line) {
			return nil
		}
		c := line[pos]
		if s.inArray {
			switch {
			case c == ']' && s.arrayNext != 2:
				s.inArray = false
				pos++
				continue
			case c == ',' && s.arrayNext == 1:
				s.arrayNext = 2
				pos++
				continue
			case c == '{' && s.arrayNext != 1:
			case s.arrayNext == 1:
				return s.bad(s.errAt(s.line, "expected ',' or ']' after an element of the array, found "+excerpt(line[pos:])))
			default:
				return s.bad(s.errAt(s.line, "an element of the array is not an object: "+excerpt(line[pos:])))
			}
		} else if c == '[' {
			s.inArray, s.arrayNext = true, 0
			pos++
			continue
		} else if c != '{' {
			return s.bad(s.errAt(s.line, "not a JSON object: "+excerpt(line[pos:])))
		}
		if s.inArray {
			s.arrayNext = 1
		}
		n, err := s.a.record(line[pos:])
		if err == nil {
			pos += n
			continue
		}
		if !errors.Is(err, errShort) {
			if e := s.bad(s.recordError(err, s.line, line[pos:])); e != nil {
				return e
			}
			if n > 0 {
				pos += n // a well-formed object that is not an event: go on after it
				continue
			}
			return nil // a malformed one: go on at the next line
		}
		rest, err := s.multiline(line[pos:])
		if err != nil || rest == nil {
			return err
		}
		line, pos = rest, 0
		if s.inArray {
			s.arrayNext = 1
		}
	}
}

// multiline reads an object that goes on after the end of its first line,
// and returns what follows it on the line where it ends (nil: go on at the
// next line).
func (s *stream) multiline(first []byte) ([]byte, error) {
	start := s.line
	var f framer
	_, done := f.feed(first)
	s.acc = append(s.acc[:0], first...)
	if done {
		// The parser wants more, the framer saw the end: malformed.
		return nil, s.finish(start, s.acc, true)
	}
	for {
		line, ok, err := s.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, s.truncated(start)
		}
		s.acc = append(s.acc, '\n')
		if f.inStr {
			// A JSON string cannot hold a line end: a line cut short
			// before other lines. The parser says where; with
			// SkipInvalid the line just read is read afresh.
			return line, s.finish(start, s.acc, false)
		}
		end, done := f.feed(line)
		s.acc = append(s.acc, line[:end]...)
		if done {
			return line[end:], s.finish(start, s.acc, true)
		}
		if s.line == start+1 {
			// A JSON line cut short (a node's trace stopped mid-write,
			// then another concatenated after it) shows as a syntax error
			// by the second line. Checking there keeps the line after it
			// from being swallowed; a real multi-line object parses as a
			// valid prefix and goes on.
			if _, err := s.a.p.parse(s.acc); err != nil && !errors.Is(err, errShort) {
				e := s.recordError(err, start, s.acc)
				if e.Line < s.line {
					return line, s.bad(e) // with SkipInvalid: read this line afresh
				}
				return nil, s.bad(e)
			}
		}
		if len(s.acc) > MaxRecord {
			return nil, s.finish(start, s.acc, false)
		}
	}
}

// finish reads an object assembled from lines start onwards; closed: the
// framer saw its end.
func (s *stream) finish(start int, rec []byte, closed bool) error {
	n, err := s.a.record(rec)
	if err == nil && n == len(rec) {
		return nil
	}
	if err == nil {
		err = &syntaxError{off: n, msg: "malformed object"}
	}
	if errors.Is(err, errShort) && !closed {
		return s.bad(s.errAt(start, fmt.Sprintf("an object longer than %d MiB, or not closed", MaxRecord>>20)))
	}
	return s.bad(s.recordError(err, start, rec))
}

// truncated handles the end of the input inside an object: a trace cut
// short while writing its last record is counted, not an error, as long
// as what was written is the start of a valid object.
func (s *stream) truncated(start int) error {
	s.inArray = false
	_, err := s.a.record(s.acc)
	if errors.Is(err, errShort) {
		s.a.stats.Truncated++
		return nil
	}
	if err == nil {
		err = &syntaxError{off: len(s.acc), msg: "malformed object"}
	}
	return s.bad(s.recordError(err, start, s.acc))
}

// recordError locates err in rec, a record starting on line start.
func (s *stream) recordError(err error, start int, rec []byte) *InputError {
	var se *syntaxError
	if errors.As(err, &se) {
		off := min(se.off, len(rec))
		line := start + bytes.Count(rec[:off], []byte{'\n'})
		if se.typ {
			return s.errAt(line, se.msg)
		}
		return s.errAt(line, "malformed JSON: "+se.msg)
	}
	var ee *eventError
	if errors.As(err, &ee) {
		return s.errAt(start, ee.msg)
	}
	return s.errAt(start, err.Error())
}

// excerpt quotes the start of what could not be read.
func excerpt(b []byte) string {
	const n = 40
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}

// framer follows JSON strings and nesting over lines, to find where an
// object written over several lines ends. The parser checks the object.
type framer struct {
	depth      int
	inStr, esc bool
}

func (f *framer) feed(b []byte) (end int, done bool) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if f.inStr {
			switch {
			case f.esc:
				f.esc = false
			case c == '\\':
				f.esc = true
			case c == '"':
				f.inStr = false
			}
			continue
		}
		switch c {
		case '"':
			f.inStr = true
		case '{', '[':
			f.depth++
		case '}', ']':
			f.depth--
			if f.depth <= 0 {
				return i + 1, true
			}
		}
	}
	return len(b), false
}
