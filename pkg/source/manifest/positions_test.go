package manifest

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"k8s.io/cli-runtime/pkg/resource"
)

// observeAll runs input through positions one byte at a time, so that lines
// and the JSON guess cross every possible read boundary.
func observeAll(t *testing.T, input string) *positions {
	t.Helper()
	p := &positions{}
	if _, err := io.Copy(io.Discard, p.observe(iotest.OneByteReader(strings.NewReader(input)))); err != nil {
		t.Fatal(err)
	}
	return p
}

func drain(p *positions) []docPos {
	var got []docPos
	for i := 1; ; i++ {
		d := p.next(i)
		if d == (docPos{}) {
			return got
		}
		got = append(got, d)
	}
}

// decoderCallbacks counts the documents kubectl's StreamVisitor claims a
// position for: one per callback, and one for the document that stops the
// stream with a syntax error. The number of positions must be the same, or
// they would be handed to the wrong documents.
func decoderCallbacks(t *testing.T, input string) int {
	t.Helper()
	n := 0
	m := resource.NewLocalBuilder().Unstructured().Mapper()
	err := resource.NewStreamVisitor(strings.NewReader(input), m, "test", nil).Visit(func(*resource.Info, error) error {
		n++
		return nil
	})
	if err != nil {
		n++
	}
	return n
}

// Expected positions follow YAML: "---" starts a document, content before
// the first "---" is document 1, comments are not content. start is the
// first line after the separator, first the first content line.
func TestPositionsYAML(t *testing.T) {
	long := "a: " + strings.Repeat("x", 2*lineCap) + "\n"
	tests := []struct {
		name  string
		input string
		want  []docPos
	}{
		{"one document", "a: 1\nb: 2\n", []docPos{{1, 1, 1, 0}}},
		{"leading comment", "# c\na: 1\n", []docPos{{1, 1, 2, 0}}},
		{"leading separator", "---\na: 1\n", []docPos{{1, 2, 2, 0}}},
		{"separator with a comment", "--- # x\na: 1\n", []docPos{{1, 2, 2, 0}}},
		{"comment before the first separator is no document", "# header\n---\na: 1\n", []docPos{{1, 3, 3, 0}}},
		{"empty document between separators", "a: 1\n---\n---\nb: 2\n", []docPos{{1, 1, 1, 0}, {3, 4, 4, 0}}},
		{"comment-only document", "a: 1\n---\n# only\n---\nb: 2", []docPos{{1, 1, 1, 0}, {3, 5, 5, 0}}},
		{"null documents", "~\n---\nnull # c\n---\n\n  a: 1\n", []docPos{{3, 5, 6, 0}}},
		{"blank lines only", "\n\n\n", nil},
		{"comments only", "# a\n---\n# b\n", nil},
		{"CRLF", "a: 1\r\n---\r\nb: 2\r\n", []docPos{{1, 1, 1, 0}, {2, 3, 3, 0}}},
		{"no final newline", "---\na: 1", []docPos{{1, 2, 2, 0}}},
		{"line longer than kept", long, []docPos{{1, 1, 1, 0}}},
		{"whitespace before a YAML document", "\n\n  \na: 1\n", []docPos{{1, 1, 4, 0}}},
		{"two objects without a separator", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\napiVersion: v1\nkind: Service\n", []docPos{{1, 1, 1, 5}}},
		{"nested kind keys are not objects", "kind: List\nitems:\n- kind: Pod\n  apiVersion: v1\n", []docPos{{1, 1, 1, 0}}},
		{"helm template output", "---\n# Source: c/templates/a.yaml\na: 1\n---\n# Source: c/templates/b.yaml\nb: 1\n", []docPos{{1, 2, 3, 0}, {2, 5, 6, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := observeAll(t, tt.input)
			if p.mode != modeYAML {
				t.Errorf("mode %d, want YAML", p.mode)
			}
			got := drain(p)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(docPos{})); diff != "" {
				t.Errorf("positions (-want +got):\n%s", diff)
			}
			if n := decoderCallbacks(t, tt.input); n != len(got) {
				t.Errorf("%d positions for %d decoder callbacks", len(got), n)
			}
		})
	}
}

// Inputs where only agreement with the decoder is checked: what matters is
// that the n-th position goes to the n-th callback.
func TestPositionsAgreeWithDecoder(t *testing.T) {
	for _, input := range []string{
		"...\n",
		"!!null\n---\na: 1\n",
		"NULL\n---\na: 1\n",
		"\"null\"\n---\na: 1\n",
		"a: |\n  # not a comment\n---\nb: 1\n",
		"- 1\n---\n[]\n---\n{}\n",
		"a: 1\n...\n---\nb: 1\n",
	} {
		p := observeAll(t, input)
		if got, n := len(drain(p)), decoderCallbacks(t, input); got != n {
			t.Errorf("%q: %d positions for %d decoder callbacks", input, got, n)
		}
	}
}

func TestPositionsBadSeparator(t *testing.T) {
	p := observeAll(t, "a: 1\n---\nb: 1\n--- x\nc: 1\n--- y\n")
	if p.badSep != 4 {
		t.Errorf("badSep = %d, want 4, the first separator kubectl rejects", p.badSep)
	}
}

// JSON is recognized as apimachinery's GuessJSONStream does: "{" as the
// first non-space byte within the first 4096 bytes.
func TestPositionsJSON(t *testing.T) {
	tests := []struct {
		input string
		mode  streamMode
	}{
		{`{"a": 1}`, modeJSON},
		{" \n\t{\"a\": 1}", modeJSON},
		{strings.Repeat(" ", jsonPeek-1) + "{}", modeJSON},
		{strings.Repeat(" ", jsonPeek) + "{}", modeYAML},
		{"[1]", modeYAML},
		{"", modeYAML},
	}
	for _, tt := range tests {
		p := observeAll(t, tt.input)
		if p.mode != tt.mode {
			t.Errorf("%.20q...: mode %d, want %d", tt.input, p.mode, tt.mode)
		}
	}
	// Objects of a JSON stream are found again, with the blanks before
	// them on their line, so that their fields' lines and columns are the
	// file's (fieldLines).
	p := observeAll(t, "{\"a\": 1}{\"b\": 2}\n\n  {\"c\":\n 3}")
	for i, want := range []struct {
		text string
		line int
	}{{`{"a": 1}`, 1}, {`        {"b": 2}`, 1}, {"  {\"c\":\n 3}", 3}} {
		d, text := p.nextText(i + 1)
		if d != (docPos{doc: i + 1, start: want.line}) || string(text) != want.text {
			t.Errorf("JSON object %d at %+v, text %q; want line %d, text %q", i+1, d, text, want.line, want.text)
		}
	}
	if d, text := p.nextText(4); text != nil || d.start != 0 {
		t.Errorf("past the last JSON object: %+v %q, want nothing", d, text)
	}
	// The padding counts characters, as yaml.v3's columns do.
	p = observeAll(t, `{"a": "é"}{"b": 2}`)
	p.nextText(1)
	if _, text := p.nextText(2); string(text) != `          {"b": 2}` {
		t.Errorf("after a multi-byte character: %q, want 10 blanks before the object", text)
	}
}

func TestPositionsBinary(t *testing.T) {
	split := strings.Repeat("a", sniffLen-1) + "é" // the sniff ends inside "é"
	tests := []struct {
		name   string
		input  string
		ended  bool
		binary bool
	}{
		{"text", "apiVersion: v1\n", true, false},
		{"UTF-8 text", "name: café\n", true, false},
		{"NUL", "abc\x00def", true, true},
		{"invalid UTF-8", "\x89PNG\r\n", true, true},
		{"rune cut by the sniff, stream goes on", split + "\n", false, false},
		{"NUL after the sniff", strings.Repeat("a", sniffLen) + "\x00", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &positions{}
			r := p.observe(strings.NewReader(tt.input))
			if tt.ended {
				io.Copy(io.Discard, r)
			} else {
				io.CopyN(io.Discard, r, int64(len(tt.input)-1))
			}
			if got := p.isBinary(); got != tt.binary {
				t.Errorf("isBinary() = %v, want %v", got, tt.binary)
			}
		})
	}
}
