package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The reference: encoding/json's tokenizer walking the same fields with the
// same rules (exact keys, the last occurrence wins, null is absent, a
// known field of the wrong type is an error). Each field is flattened to a
// name and its value as written.

var errRefType = errors.New("wrong type")

type refField struct {
	name  string
	kinds string // what the field takes: s string, n number, b bool, o object
}

var refTop = map[string]refField{
	"cap": {"cap", "sn"}, "cap_raw": {"cap_raw", "n"}, "capName": {"capName", "s"}, "capable": {"capable", "b"},
	"verdict": {"verdict", "s"}, "audit": {"audit", "n"}, "syscall": {"syscall", "s"},
	"timestamp": {"timestamp", "sn"}, "timestamp_raw": {"timestamp_raw", "n"}, "comm": {"comm", "s"}, "task": {"task", "s"},
	"current_userns": {"curNS", "n"}, "currentuserns": {"curNS", "n"}, "target_userns": {"tgtNS", "n"}, "targetuserns": {"tgtNS", "n"},
	"node": {"node", "s"}, "namespace": {"namespace", "s"}, "pod": {"pod", "s"}, "container": {"container", "s"},
	"type": {"type", "s"}, "message": {"message", "s"},
	"k8s": {"k8s", "o"}, "runtime": {"runtime", "o"}, "proc": {"proc", "o"},
}

var refNested = map[string]map[string]refField{
	"k8s": {"node": {"k8s.node", "s"}, "namespace": {"k8s.namespace", "s"}, "podName": {"k8s.podName", "s"},
		"containerName": {"k8s.containerName", "s"}, "owner": {"k8s.owner", "o"}, "podLabels": {"k8s.hash", "so"}},
	"k8s.owner": {"kind": {"k8s.owner.kind", "s"}, "name": {"k8s.owner.name", "s"}},
	"runtime":   {"containerName": {"runtime.containerName", "s"}},
	"proc":      {"comm": {"proc.comm", "s"}},
	"k8s.hash":  {podTemplateHash: {"k8s.hash", "s"}},
	"":          refTop,
}

func refParse(data []byte) (map[string]string, int64, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] != '{' {
		return nil, 0, errors.New("not an object") // whatever follows
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, 0, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, 0, errors.New("not an object")
	}
	out := map[string]string{}
	if err := refObject(dec, "", out); err != nil {
		return nil, 0, err
	}
	return out, dec.InputOffset(), nil
}

// refObject reads the members of an object whose '{' was read.
func refObject(dec *json.Decoder, path string, out map[string]string) error {
	fields := refNested[path]
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return nil
		}
		key := tok.(string)
		tok, err = dec.Token()
		if err != nil {
			return err
		}
		f, known := fields[key]
		if !known {
			if err := refSkip(dec, tok); err != nil {
				return err
			}
			continue
		}
		// The last occurrence wins, wholesale.
		for k := range out {
			if k == f.name || strings.HasPrefix(k, f.name+".") {
				delete(out, k)
			}
		}
		if f.name == "k8s.hash" && path == "k8s" {
			// podLabels: "k=v,..." or a map.
			switch v := tok.(type) {
			case nil:
			case string:
				if h := labelValue([]byte(v)); h != nil {
					out["k8s.hash"] = string(h)
				}
			case json.Delim:
				if v != '{' {
					return errRefType
				}
				if err := refObject(dec, "k8s.hash", out); err != nil {
					return err
				}
			default:
				return errRefType
			}
			continue
		}
		switch v := tok.(type) {
		case nil:
		case string:
			if !strings.Contains(f.kinds, "s") {
				return errRefType
			}
			name := f.name
			if f.kinds == "sn" {
				name += ".s"
			}
			out[name] = v
		case json.Number:
			if !strings.Contains(f.kinds, "n") {
				return errRefType
			}
			name := f.name
			if f.kinds == "sn" {
				name += ".n"
			}
			out[name] = string(v)
		case bool:
			if f.kinds != "b" {
				return errRefType
			}
			out[f.name] = map[bool]string{true: "true", false: "false"}[v]
		case json.Delim:
			if f.kinds != "o" || v != '{' {
				return errRefType
			}
			if f.name == "k8s" || f.name == "proc" {
				out[f.name] = ""
			}
			if err := refObject(dec, f.name, out); err != nil {
				return err
			}
		}
	}
}

func refSkip(dec *json.Decoder, tok json.Token) error {
	d, ok := tok.(json.Delim)
	if !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// flatten writes the parser's fields the way refParse does.
func flatten(r *rawEvent) map[string]string {
	out := map[string]string{}
	str := func(name string, b []byte) {
		if b != nil {
			out[name] = string(b)
		}
	}
	number := func(name string, n num) {
		if n.ok {
			out[name] = string(n.tok)
		}
	}
	str("cap.s", r.capStr)
	number("cap.n", r.capNum)
	number("cap_raw", r.capRaw)
	if r.capable.ok {
		out["capable"] = map[bool]string{true: "true", false: "false"}[r.capable.v]
	}
	str("capName", r.capName)
	str("verdict", r.verdict)
	str("type", r.typ)
	str("message", r.message)
	number("audit", r.audit)
	str("syscall", r.syscall)
	str("timestamp.s", r.tsStr)
	number("timestamp.n", r.tsNum)
	number("timestamp_raw", r.tsRaw)
	str("comm", r.comm)
	str("task", r.task)
	number("curNS", r.curNS)
	number("tgtNS", r.tgtNS)
	str("node", r.node)
	str("namespace", r.namespace)
	str("pod", r.pod)
	str("container", r.container)
	if r.k8s.seen {
		out["k8s"] = ""
	}
	str("k8s.node", r.k8s.node)
	str("k8s.namespace", r.k8s.namespace)
	str("k8s.podName", r.k8s.podName)
	str("k8s.containerName", r.k8s.containerName)
	str("k8s.owner.kind", r.k8s.ownerKind)
	str("k8s.owner.name", r.k8s.ownerName)
	str("k8s.hash", r.k8s.hash)
	str("runtime.containerName", r.runtime.containerName)
	if r.proc.seen {
		out["proc"] = ""
	}
	str("proc.comm", r.proc.comm)
	return out
}

func fuzzSeeds(f *testing.F) {
	filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			f.Add(line)
		}
		f.Add(data)
		return nil
	})
	for _, s := range []string{
		"", "{", "}", "[", "null", `{"cap":`, `{"cap":"CAP_`, `{"cap":1.5e3}`, `{"a":[1,{"b":null}],"cap":"x"}`,
		`{"k8s":{"podLabels":{"pod-template-hash":"h","x":[1]}}}`, `{"k8s":{"podLabels":"pod-template-hash=h"}}`,
		`{"comm":"\ud800\udc00\ud800x\u00e9\xff"}`, `{"cap":true}`, `{"k8s":null,"k8s":{"owner":{"kind":"Job"}}}`,
		`{"timestamp":"2024-06-03T10:00:00.123Z","capable":true,"cap_raw":0}`, `{"capName":"UNKNOWN (41)","verdict":"Allow"}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzParse holds the parser to encoding/json: the same objects accepted,
// the same fields with the same values, the same length read, and "the
// input ended" only where encoding/json also ran out of input.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) > 1000 {
			return // encoding/json's tokenizer has no depth limit; the parser has
		}
		var p parser
		n, err := p.parse(data)
		want, off, refErr := refParse(data)
		refShort := errors.Is(refErr, io.EOF) || errors.Is(refErr, io.ErrUnexpectedEOF)
		var se *syntaxError
		switch {
		case err == nil && refErr == nil:
			if int64(n) != off {
				t.Errorf("read %d bytes, encoding/json %d", n, off)
			}
			if diff := cmp.Diff(want, flatten(&p.ev)); diff != "" {
				t.Errorf("fields (-encoding/json +parser):\n%s", diff)
			}
			// What parses resolves without panicking.
			var c timeCache
			p.resolve(&c)
		case err == nil:
			t.Errorf("parser accepted what encoding/json rejects: %v", refErr)
		case refErr == nil:
			t.Errorf("parser rejected what encoding/json accepts: %v", err)
		case errors.Is(err, errShort) && !refShort:
			t.Errorf("parser says the input ended; encoding/json: %v", refErr)
		case errors.As(err, &se) && !se.typ && refShort:
			t.Errorf("parser: %v at %d; encoding/json ran out of input", err, se.off)
		}
	})
}

// FuzzRead feeds arbitrary bytes to the reader: no panic, errors only of
// type *InputError, and counts that add up.
func FuzzRead(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, skip := range []bool{false, true} {
			a := New(Options{SkipInvalid: skip})
			err := a.Read("fuzz", bytes.NewReader(data))
			var ie *InputError
			if err != nil && !errors.As(err, &ie) {
				t.Fatalf("error %v (%T)", err, err)
			}
			if skip && err != nil && !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
				t.Fatalf("SkipInvalid: %v", err) // only a broken gzip stream stops it
			}
			st := a.Stats()
			if st.Events != st.Audited+st.NotAudited {
				t.Errorf("events %d != audited %d + not audited %d", st.Events, st.Audited, st.NotAudited)
			}
			var audited int64
			for _, c := range a.Result(nil).Containers {
				audited += c.Events
			}
			if audited > st.Audited {
				t.Errorf("containers count %d audited checks, the reader %d", audited, st.Audited)
			}
		}
	})
}
