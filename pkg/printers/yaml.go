package printers

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// marshalYAML is sigs.k8s.io/yaml.Marshal, kubectl's YAML, except for a
// document with a string that could start a line with "::", a GitHub
// Actions workflow command (pkg/safetext): yaml.Marshal writes a string
// with a line break as a literal block whose lines start where the input
// says, and folds a long string at a blank, so a name or a reason the
// input chose could forge one. Such a document is written through
// go.yaml.in/yaml/v3 in kubectl's layout (indent 2, sequences not
// indented under their key, keys sorted), unfolded, with every string
// double-quoted ("a\n::b"): quoted strings also keep YAML 1.1 readers,
// which sigs.k8s.io/yaml is, from taking n or on for a boolean. Every
// other document, a policy's multi-line CEL included, is yaml.Marshal's
// output, byte for byte.
func marshalYAML(v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc yamlv3.Node
	if bytes.Contains(j, []byte("::")) {
		if err := yamlv3.Unmarshal(j, &doc); err != nil {
			return nil, err
		}
	}
	if !forges(&doc) {
		return yaml.JSONToYAML(j)
	}
	quoteStrings(&doc)
	var b bytes.Buffer
	enc := yamlv3.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// forges reports whether a string of the document, as yaml.Marshal
// writes it, could start a line with "::": one of its lines does, or it
// has "::" after a blank, where a long string is folded.
func forges(n *yamlv3.Node) bool {
	if n.Kind == yamlv3.ScalarNode {
		if strings.Contains(n.Value, " ::") || strings.Contains(n.Value, "\t::") {
			return true
		}
		for _, line := range strings.FieldsFunc(n.Value, func(r rune) bool { return strings.ContainsRune("\n\r\u2028\u2029\u0085", r) }) {
			if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
				return true
			}
		}
		return strings.HasPrefix(n.Value, "::")
	}
	return slices.ContainsFunc(n.Content, forges)
}

// quoteStrings turns the JSON document's nodes into kubectl's layout
// (block style, keys sorted as sigs.k8s.io/yaml sorts them) with every
// string double-quoted.
func quoteStrings(n *yamlv3.Node) {
	n.Style = 0
	if n.Kind == yamlv3.ScalarNode && n.Tag == "!!str" {
		n.Style = yamlv3.DoubleQuotedStyle
	}
	if n.Kind == yamlv3.MappingNode {
		pairs := make([][2]*yamlv3.Node, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, [2]*yamlv3.Node{n.Content[i], n.Content[i+1]})
		}
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i][0].Value < pairs[j][0].Value })
		for i, p := range pairs {
			n.Content[2*i], n.Content[2*i+1] = p[0], p[1]
		}
	}
	for _, c := range n.Content {
		quoteStrings(c)
	}
}
