package manifest

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read as standard input. Read must not
// panic (its recover would turn a panic into an "internal error" problem,
// so that counts as a failure too), must report bad input only as
// *InputError, and must give every workload a spec and a position.
func FuzzRead(f *testing.F) {
	filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := os.ReadFile(path); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	for _, s := range []string{
		"", "---", "--- x", "...", "~", "{", "[", "{}", `{"items": [[]]}`, `{"kind": "List", "items": null}`,
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n",
		"kind: Pod\napiVersion: v1\nspec: {containers: [{}]}\n",
		"\xff\xfe\x00\x00", "\xef\xbb\xbf---\n",
		`{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "é"}, "spec": {"containers": [{"name": "c", "securityContext": {"capabilities": {"add": ["X"]}}}]}} {"kind": "Pod"}`,
		"{\"apiVersion\": \"v1\", \"kind\": \"List\",\n\t\"items\": [{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"spec\": {\"containers\": [{\"name\": \"c\"}]}}]}",
	} {
		f.Add([]byte(s))
	}
	prefixes := map[string]bool{prefixPod: true, prefixController: true, prefixCronJob: true, prefixPodTemplate: true}

	f.Fuzz(func(t *testing.T, data []byte) {
		stats, err := Read(Options{Filenames: []string{"-"}, Stdin: bytes.NewReader(data)}, func(w Workload) error {
			if w.Spec == nil || !prefixes[w.FieldPrefix] || w.Source != stdinSource {
				t.Errorf("workload %+v", w)
			}
			if w.Document < 1 {
				t.Errorf("%s %q: document %d; positions lost step with the decoder", w.Kind, w.Name, w.Document)
			}
			// Findings' places (issue 13): a line of the input, YAML or JSON.
			pos := w.Position(w.FieldPrefix + ".containers[0].securityContext.capabilities.add[0]")
			if w.lines != nil && (pos.Line < 1 || pos.Line > bytes.Count(data, []byte("\n"))+1 || pos.Column < 0) {
				t.Errorf("%s %q: position %+v outside the input", w.Kind, w.Name, pos)
			}
			return nil
		})
		if err == nil {
			if stats.Objects == 0 {
				t.Error("no error and no objects")
			}
			return
		}
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Fatalf("error %T %v, want *InputError", err, err)
		}
		if len(ie.Problems) == 0 {
			t.Fatal("InputError without problems")
		}
		for _, p := range ie.Problems {
			if p.Message == "" || strings.Contains(p.Message, "internal error") {
				t.Errorf("problem %q", p)
			}
		}
	})
}
