package printers

import (
	"bytes"
	"encoding/json"
	"testing"
)

var indentCases = []string{
	`{}`, `[]`, `{"a":{}}`, `{"a":[],"b":[{}]}`, `[1,2,[3,[]],{"x":null}]`,
	`{"s":"a,b:c{d}[e]"}`, `{"q":"say \"hi\", {ok}"}`, `{"b":"back\\slash\\","c":"\\\"x"}`,
	`{"u":"\u003cscript\u003e \u0026 é"}`, `{"n":-1.5e+06,"t":true,"f":false}`,
	`{"items":[{"bounding":["CHOWN","KILL"],"notes":[],"uid":1000000,"reachable":{"viaSetuid":[]}}]}`,
}

// indentJSON writes what encoding/json's Indent writes.
func TestIndentJSON(t *testing.T) {
	for _, src := range indentCases {
		checkIndent(t, []byte(src))
	}
	// And every report item of the examples, as the stream encodes them.
	for _, it := range exampleItems(t) {
		b, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		checkIndent(t, b)
	}
}

func checkIndent(t *testing.T, src []byte) {
	t.Helper()
	var want bytes.Buffer
	if err := json.Indent(&want, src, "        ", "    "); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if got := indentJSON(nil, src, "        ", "    "); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("indentJSON(%s):\n%s\nwant:\n%s", src, got, want.Bytes())
	}
}

func FuzzIndentJSON(f *testing.F) {
	for _, src := range indentCases {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// Only what encoding/json writes: valid, compact.
		var v any
		if json.Unmarshal(in, &v) != nil {
			return
		}
		src, err := json.Marshal(v)
		if err != nil {
			return
		}
		checkIndent(t, src)
	})
}

// BenchmarkIndent is the indentation of the example report items alone:
// encoding/json's Indent against indentJSON.
func BenchmarkIndent(b *testing.B) {
	var srcs [][]byte
	for _, it := range exampleItems(&testing.T{}) {
		src, err := json.Marshal(it)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	var buf bytes.Buffer
	var out []byte
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			for _, src := range srcs {
				buf.Reset()
				_ = json.Indent(&buf, src, "        ", "    ")
			}
		}
	})
	b.Run("indentJSON", func(b *testing.B) {
		for b.Loop() {
			for _, src := range srcs {
				out = indentJSON(out[:0], src, "        ", "    ")
			}
		}
	})
}
