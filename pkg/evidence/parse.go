package evidence

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// The parser reads one JSON object and keeps only the fields of a
// trace_capabilities event; every other value is checked for syntax and
// skipped. It is written by hand because encoding/json, decoding the same
// fields into a struct, read a tenth as many events per CPU second or fewer
// (BenchmarkParse in bench_test.go measures both; the figures are in
// docs/evidence.md), and the reader must keep up with traces of millions of
// events. FuzzParse holds it to encoding/json's answers.
//
// Semantics follow encoding/json decoding into a map: keys match exactly
// (case-sensitive), the last occurrence of a key wins, null is the same as
// an absent key, strings are unescaped and invalid UTF-8 becomes U+FFFD.

// errShort: the input ended inside the object. At the end of a file that
// is a truncated last record; anywhere else the record goes on on the next
// line.
var errShort = errors.New("unexpected end of input")

// syntaxError is a malformed value at offset off of the record, or with
// typ a well-formed value of the wrong type for a field the reader reads.
type syntaxError struct {
	off int
	msg string
	typ bool
}

func (e *syntaxError) Error() string { return e.msg }

// maxDepth bounds the nesting of skipped values, as encoding/json does.
const maxDepth = 10000

// num is a JSON number as written; converted only when it is used.
type num struct {
	tok []byte
	ok  bool
}

// tri is a JSON boolean that may be absent.
type tri struct {
	v, ok bool
}

// rawEvent holds the fields of one object as written, before they are
// resolved into an event. Byte slices point into the input or into the
// parser's arena and live until the next parse.
type rawEvent struct {
	// Image-based gadget (gadgets/trace_capabilities, v0.30+).
	capStr  []byte // "cap": "CAP_SYS_NICE" (image) ...
	capNum  num    // ... or "cap": 23 (built-in)
	capRaw  num    // "cap_raw": 23
	capable tri    // "capable": true

	// Built-in gadget (pkg/gadgets/trace/capabilities, up to v0.41).
	capName []byte // "capName": "SYS_NICE"
	verdict []byte // "verdict": "Allow" | "Deny"
	typ     []byte // "type": "normal" | "warn" | "err" | ...
	message []byte // "message" of a non-normal event

	// Both.
	audit   num
	syscall []byte
	tsStr   []byte // image: "timestamp": "2024-06-03T10:00:00.000000000Z"
	tsNum   num    // built-in: "timestamp": nanoseconds
	tsRaw   num    // image: "timestamp_raw": nanoseconds

	comm []byte // built-in and image v0.31-v0.34
	task []byte // image v0.30

	curNS, tgtNS num // image: current_userns, target_userns; built-in: currentuserns, targetuserns

	// Identity, flat (built-in up to v0.18).
	node, namespace, pod, container []byte

	k8s     k8sFields
	runtime struct{ containerName []byte }
	proc    procFields
}

type k8sFields struct {
	seen                                    bool
	node, namespace, podName, containerName []byte
	ownerKind, ownerName                    []byte
	hash                                    []byte // pod-template-hash from podLabels
}

type procFields struct {
	seen bool
	comm []byte
}

type parser struct {
	b     []byte
	i     int
	arena []byte
	ev    rawEvent
}

// Object kinds, for field.
const (
	objTop = iota
	objK8s
	objOwner
	objRuntime
	objProc
	objLabels
)

// parse reads the object at the start of b (after blanks) and returns the
// number of bytes it took.
func (p *parser) parse(b []byte) (int, error) {
	p.b, p.i = b, 0
	p.arena = p.arena[:0]
	p.ev = rawEvent{}
	p.ws()
	if p.i >= len(b) {
		return 0, errShort
	}
	if b[p.i] != '{' {
		return 0, p.errf("expected a JSON object")
	}
	if err := p.object(objTop, 0); err != nil {
		return 0, err
	}
	return p.i, nil
}

func (p *parser) errf(msg string) error { return &syntaxError{off: p.i, msg: msg} }

// typef: a value of the wrong type for the field.
func (p *parser) typef(msg string) error { return &syntaxError{off: p.i, msg: msg, typ: true} }

func (p *parser) ws() {
	if p.i < len(p.b) && p.b[p.i] > ' ' {
		return // compact JSON: no blank between tokens
	}
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object reads the object at p.i, giving each member to field.
func (p *parser) object(kind, depth int) error {
	if depth >= maxDepth {
		return p.errf("exceeded max depth")
	}
	p.i++ // '{'
	p.ws()
	if p.i >= len(p.b) {
		return errShort
	}
	if p.b[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		if p.i >= len(p.b) {
			return errShort
		}
		if p.b[p.i] != '"' {
			return p.errf("expected a string key")
		}
		key, err := p.str(true)
		if err != nil {
			return err
		}
		// Compact JSON ("key":value,...) takes the first branch of each
		// step; blanks take the second.
		if p.i+1 < len(p.b) && p.b[p.i] == ':' && p.b[p.i+1] > ' ' {
			p.i++
		} else {
			p.ws()
			if p.i >= len(p.b) {
				return errShort
			}
			if p.b[p.i] != ':' {
				return p.errf("expected ':' after an object key")
			}
			p.i++
			p.ws()
			if p.i >= len(p.b) {
				return errShort
			}
		}
		if err := p.field(kind, key, depth); err != nil {
			return err
		}
		if p.i+1 < len(p.b) && p.b[p.i] == ',' && p.b[p.i+1] == '"' {
			p.i++
			continue
		}
		p.ws()
		if p.i >= len(p.b) {
			return errShort
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.ws()
		case '}':
			p.i++
			return nil
		default:
			return p.errf("expected ',' or '}' after an object member")
		}
	}
}

// field reads the value of key in an object of the given kind. The field
// names are Inspektor Gadget's: see doc.go for the files they come from.
func (p *parser) field(kind int, key []byte, depth int) error {
	ev := &p.ev
	switch kind {
	case objTop:
		switch string(key) {
		case "cap":
			ev.capStr, ev.capNum = nil, num{}
			switch p.b[p.i] {
			case '"':
				return p.strInto(&ev.capStr)
			case 'n':
				return p.lit("null")
			case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				return p.numInto(&ev.capNum, "cap")
			}
			return p.typef("cap: expected a string or a number")
		case "cap_raw":
			return p.numInto(&ev.capRaw, "cap_raw")
		case "capName":
			return p.strField(&ev.capName, "capName")
		case "capable":
			return p.boolInto(&ev.capable, "capable")
		case "verdict":
			return p.strField(&ev.verdict, "verdict")
		case "audit":
			return p.numInto(&ev.audit, "audit")
		case "syscall":
			return p.strField(&ev.syscall, "syscall")
		case "timestamp":
			ev.tsStr, ev.tsNum = nil, num{}
			switch p.b[p.i] {
			case '"':
				return p.strInto(&ev.tsStr)
			case 'n':
				return p.lit("null")
			case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				return p.numInto(&ev.tsNum, "timestamp")
			}
			return p.typef("timestamp: expected a string or a number")
		case "timestamp_raw":
			return p.numInto(&ev.tsRaw, "timestamp_raw")
		case "comm":
			return p.strField(&ev.comm, "comm")
		case "task":
			return p.strField(&ev.task, "task")
		case "current_userns", "currentuserns":
			return p.numInto(&ev.curNS, "current_userns")
		case "target_userns", "targetuserns":
			return p.numInto(&ev.tgtNS, "target_userns")
		case "node":
			return p.strField(&ev.node, "node")
		case "namespace":
			return p.strField(&ev.namespace, "namespace")
		case "pod":
			return p.strField(&ev.pod, "pod")
		case "container":
			return p.strField(&ev.container, "container")
		case "type":
			return p.strField(&ev.typ, "type")
		case "message":
			return p.strField(&ev.message, "message")
		case "k8s":
			ev.k8s = k8sFields{}
			if ok, err := p.objectOrNull("k8s"); !ok {
				return err
			}
			ev.k8s.seen = true
			return p.object(objK8s, depth+1)
		case "runtime":
			ev.runtime.containerName = nil
			if ok, err := p.objectOrNull("runtime"); !ok {
				return err
			}
			return p.object(objRuntime, depth+1)
		case "proc":
			ev.proc = procFields{}
			if ok, err := p.objectOrNull("proc"); !ok {
				return err
			}
			ev.proc.seen = true
			return p.object(objProc, depth+1)
		}
	case objK8s:
		switch string(key) {
		case "node":
			return p.strField(&ev.k8s.node, "k8s.node")
		case "namespace":
			return p.strField(&ev.k8s.namespace, "k8s.namespace")
		case "podName":
			return p.strField(&ev.k8s.podName, "k8s.podName")
		case "containerName":
			return p.strField(&ev.k8s.containerName, "k8s.containerName")
		case "owner":
			ev.k8s.ownerKind, ev.k8s.ownerName = nil, nil
			if ok, err := p.objectOrNull("k8s.owner"); !ok {
				return err
			}
			return p.object(objOwner, depth+1)
		case "podLabels":
			// A map in the built-in gadget, "k=v,k2=v2" in image-based
			// ones (pkg/types/types.go, K8sMetadata.UnmarshalJSON).
			ev.k8s.hash = nil
			switch p.b[p.i] {
			case '"':
				s, err := p.str(true)
				if err != nil {
					return err
				}
				ev.k8s.hash = labelValue(s)
				return nil
			case '{':
				return p.object(objLabels, depth+1)
			case 'n':
				return p.lit("null")
			default:
				return p.typef("k8s.podLabels: expected an object or a string")
			}
		}
	case objOwner:
		switch string(key) {
		case "kind":
			return p.strField(&ev.k8s.ownerKind, "k8s.owner.kind")
		case "name":
			return p.strField(&ev.k8s.ownerName, "k8s.owner.name")
		}
	case objRuntime:
		if string(key) == "containerName" {
			return p.strField(&ev.runtime.containerName, "runtime.containerName")
		}
	case objProc:
		if string(key) == "comm" {
			return p.strField(&ev.proc.comm, "proc.comm")
		}
	case objLabels:
		if string(key) == podTemplateHash {
			return p.strField(&ev.k8s.hash, "k8s.podLabels."+podTemplateHash)
		}
	}
	return p.skip(depth + 1)
}

const podTemplateHash = "pod-template-hash"

// labelValue finds pod-template-hash in labels written "k=v,k2=v2".
func labelValue(s []byte) []byte {
	const key = podTemplateHash + "="
	for len(s) > 0 {
		pair := s
		if i := indexByte(s, ','); i >= 0 {
			pair, s = s[:i], s[i+1:]
		} else {
			s = nil
		}
		if len(pair) >= len(key) && string(pair[:len(key)]) == key {
			return pair[len(key):]
		}
	}
	return nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// objectOrNull reports whether an object starts at p.i; null is read and
// is no object; anything else is an error.
func (p *parser) objectOrNull(name string) (bool, error) {
	switch p.b[p.i] {
	case '{':
		return true, nil
	case 'n':
		return false, p.lit("null")
	}
	return false, p.typef(name + ": expected an object")
}

func (p *parser) strField(dst *[]byte, name string) error {
	*dst = nil
	switch p.b[p.i] {
	case '"':
		return p.strInto(dst)
	case 'n':
		return p.lit("null")
	}
	return p.typef(name + ": expected a string")
}

func (p *parser) strInto(dst *[]byte) error {
	s, err := p.str(true)
	if err != nil {
		return err
	}
	*dst = s
	return nil
}

func (p *parser) numInto(dst *num, name string) error {
	*dst = num{}
	c := p.b[p.i]
	if c == 'n' {
		return p.lit("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return p.typef(name + ": expected a number")
	}
	start := p.i
	if err := p.number(); err != nil {
		return err
	}
	*dst = num{tok: p.b[start:p.i], ok: true}
	return nil
}

func (p *parser) boolInto(dst *tri, name string) error {
	*dst = tri{}
	switch p.b[p.i] {
	case 't':
		*dst = tri{v: true, ok: true}
		return p.lit("true")
	case 'f':
		*dst = tri{v: false, ok: true}
		return p.lit("false")
	case 'n':
		return p.lit("null")
	}
	return p.typef(name + ": expected true or false")
}

// lit reads the literal s at p.i.
func (p *parser) lit(s string) error {
	for k := 0; k < len(s); k++ {
		if p.i+k >= len(p.b) {
			return errShort
		}
		if p.b[p.i+k] != s[k] {
			p.i += k
			return p.errf("invalid character in literal " + s)
		}
	}
	p.i += len(s)
	return nil
}

// number reads a JSON number at p.i.
func (p *parser) number() error {
	b := p.b
	i := p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return errShort
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		p.i = i
		return p.errf("invalid character in number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) {
			return errShort
		}
		if b[i] < '0' || b[i] > '9' {
			p.i = i
			return p.errf("invalid character after decimal point in number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) {
			return errShort
		}
		if b[i] < '0' || b[i] > '9' {
			p.i = i
			return p.errf("invalid character in exponent of number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	p.i = i
	return nil
}

// plain marks the bytes a string holds as they are: printable ASCII but
// the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// str reads the string at p.i. With keep it returns its value: a slice of
// the input when nothing needs unescaping, else a copy in the arena.
func (p *parser) str(keep bool) ([]byte, error) {
	b := p.b
	start := p.i + 1
	i := start
	esc, high := false, false
	for {
		// Eight bytes at a time while none is a quote, a backslash, a
		// control character or non-ASCII (the bit tricks of "Bit Twiddling
		// Hacks", "Determine if a word has a byte less than n"): most of a
		// trace is long plain strings (kernel stacks, image names, IDs).
		for i+8 <= len(b) {
			w := binary.LittleEndian.Uint64(b[i:])
			q := w ^ (ones * '"')
			bs := w ^ (ones * '\\')
			if m := ((q-ones)&^q | (bs-ones)&^bs | (w-ones*0x20)&^w | w) & highs; m != 0 {
				// The lowest flagged byte is exact (a borrow only
				// flags bytes above a true one): go straight to it.
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return nil, errShort
		}
		c := b[i]
		switch {
		case c == '"':
			raw := b[start:i]
			p.i = i + 1
			if !keep {
				return nil, nil
			}
			if !esc && (!high || utf8.Valid(raw)) {
				return raw, nil
			}
			return p.unquote(raw), nil
		case c == '\\':
			esc = true
			i++
			if i >= len(b) {
				return nil, errShort
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for k := 0; k < 4; k++ {
					if i >= len(b) {
						return nil, errShort
					}
					if !isHex(b[i]) {
						p.i = i
						return nil, p.errf("invalid character in \\u escape")
					}
					i++
				}
			default:
				p.i = i
				return nil, p.errf("invalid escape in string")
			}
		case c < 0x20:
			p.i = i
			return nil, p.errf("invalid control character in string")
		default: // >= 0x80
			high = true
			i++
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c-'a') + 10
	}
	return rune(c-'A') + 10
}

// u4 reads the four hex digits after "\u" at s[0:6], or -1.
func u4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		if !isHex(c) {
			return -1
		}
		r = r<<4 | hexVal(c)
	}
	return r
}

// unquote decodes a string already checked by str, the way encoding/json
// does (decode.go, unquoteBytes): escapes, surrogate pairs, and U+FFFD for
// each invalid UTF-8 byte or lone surrogate. The arena may grow past its
// array; slices of the old array stay valid until the next parse.
func (p *parser) unquote(s []byte) []byte {
	start := len(p.arena)
	out := p.arena
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch s[r+1] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				rr := u4(s[r:])
				r += 6
				if utf16.IsSurrogate(rr) {
					rr1 := u4(s[r:])
					if dec := utf16.DecodeRune(rr, rr1); dec != utf8.RuneError {
						r += 6
						out = utf8.AppendRune(out, dec)
						continue
					}
					rr = utf8.RuneError
				}
				out = utf8.AppendRune(out, rr)
				continue
			default: // '"', '\\', '/'
				out = append(out, s[r+1])
			}
			r += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			if rr == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, s[r:r+size]...)
			}
			r += size
		}
	}
	p.arena = out
	return out[start:len(out):len(out)]
}

// skip reads and drops the value at p.i.
func (p *parser) skip(depth int) error {
	if p.i >= len(p.b) {
		return errShort
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, err := p.str(false)
		return err
	case c == '{':
		if depth >= maxDepth {
			return p.errf("exceeded max depth")
		}
		p.i++
		p.ws()
		if p.i >= len(p.b) {
			return errShort
		}
		if p.b[p.i] == '}' {
			p.i++
			return nil
		}
		for {
			if p.i >= len(p.b) {
				return errShort
			}
			if p.b[p.i] != '"' {
				return p.errf("expected a string key")
			}
			if _, err := p.str(false); err != nil {
				return err
			}
			p.ws()
			if p.i >= len(p.b) {
				return errShort
			}
			if p.b[p.i] != ':' {
				return p.errf("expected ':' after an object key")
			}
			p.i++
			p.ws()
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.ws()
			if p.i >= len(p.b) {
				return errShort
			}
			switch p.b[p.i] {
			case ',':
				p.i++
				p.ws()
			case '}':
				p.i++
				return nil
			default:
				return p.errf("expected ',' or '}' after an object member")
			}
		}
	case c == '[':
		if depth >= maxDepth {
			return p.errf("exceeded max depth")
		}
		p.i++
		p.ws()
		if p.i >= len(p.b) {
			return errShort
		}
		if p.b[p.i] == ']' {
			p.i++
			return nil
		}
		for {
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.ws()
			if p.i >= len(p.b) {
				return errShort
			}
			switch p.b[p.i] {
			case ',':
				p.i++
				p.ws()
			case ']':
				p.i++
				return nil
			default:
				return p.errf("expected ',' or ']' after an array element")
			}
		}
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return p.errf("invalid character looking for the beginning of a value")
}
