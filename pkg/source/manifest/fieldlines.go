package manifest

import (
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// fieldLines finds the line on which a field of one YAML document is
// written, so that a warning about
// "spec.template.spec.containers[0].securityContext.capabilities.drop[0]"
// can point at the entry itself (FILE:LINE), as a compiler points at the
// token. kubectl's decoder keeps no positions, so the document's own text
// (kept by positions) is parsed again with yaml.v3, whose nodes carry
// their lines; only when a warning asks, and once per document.
type fieldLines struct {
	text  []byte
	start int // the line of the file on which text starts
	// For JSON, text is the object's own text, preceded by blanks up to
	// its column, so that the nodes' columns are the file's.
	first int    // the document's first content line: the answer when nothing better is known
	item  string // "items[N]" for an object of a List, which shares the List's text
	root  *yaml.Node
	tried bool
}

// line is the 1-based line in the file of path, or of the deepest
// ancestor of path the document writes (a warning may name a field the
// manifest leaves out, e.g. runAsUser: its container is then the place to
// add it); the document's first line if the text cannot be parsed.
func (f *fieldLines) line(path string) int {
	l, _ := f.position(path)
	return l
}

// position is line with the 1-based column of the same node (of its key,
// for a mapping's value; of the entry, for a sequence's): the column is 0
// when only the document's first line is known.
func (f *fieldLines) position(path string) (int, int) {
	if !f.tried {
		f.tried = true
		var doc yaml.Node
		if err := yaml.Unmarshal(f.text, &doc); err == nil && doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
			f.root = doc.Content[0]
		}
		f.text = nil // parsed once; the nodes are all that is needed
	}
	if f.root == nil {
		return f.first, 0
	}
	if f.item != "" {
		path = f.item + "." + path
	}
	n, at, col := f.root, f.root.Line, f.root.Column
	for _, seg := range splitPath(path) {
		var line, c int
		if n, line, c = child(n, seg); n == nil {
			break
		}
		at, col = line, c
	}
	return f.start + at - 1, col
}

// child is the value under n for one path segment (a key, or "[i]" for an
// index), nil when the document does not write it, and the line where it
// is written: for a key, the key's line, even when the value is a block
// that starts on the next line; with its column.
func child(n *yaml.Node, seg string) (*yaml.Node, int, int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if i, ok := strings.CutPrefix(seg, "["); ok {
		idx, err := strconv.Atoi(strings.TrimSuffix(i, "]"))
		if err != nil || n.Kind != yaml.SequenceNode || idx < 0 || idx >= len(n.Content) {
			return nil, 0, 0
		}
		return n.Content[idx], n.Content[idx].Line, n.Content[idx].Column
	}
	if n.Kind != yaml.MappingNode {
		return nil, 0, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == seg {
			return n.Content[i+1], n.Content[i].Line, n.Content[i].Column
		}
	}
	return nil, 0, 0
}

// splitPath splits "a.b[0].c" into "a", "b", "[0]", "c".
func splitPath(path string) []string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			switch {
			case i < 0:
				out = append(out, part)
				part = ""
			case i > 0:
				out = append(out, part[:i])
				part = part[i:]
			default:
				j := strings.IndexByte(part, ']')
				if j < 0 {
					out = append(out, part)
					part = ""
					continue
				}
				out = append(out, part[:j+1])
				part = part[j+1:]
			}
		}
	}
	return out
}
