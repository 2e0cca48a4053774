package exception

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// FileAPIVersion and FileKind head an --exceptions file, so that a file
// meant for something else is refused rather than half understood.
const (
	FileAPIVersion = "caps.kubectl-caps.io/v1alpha1"
	FileKind       = "Exceptions"
)

// Entry is one exception: which findings it covers, why, and until when.
// Empty selectors match anything; Namespace, Kind, Name and Container are
// globs (path.Match: *, ?, [a-z]); Kind compares case-insensitively
// (deployment, Deployment).
type Entry struct {
	Namespace string
	Kind      string
	Name      string
	Container string
	// Caps and Rules say which findings: those about one of Caps, those
	// of one of Rules, or, when both are set, those of one of Rules about
	// one of Caps. At least one is set.
	Caps  capability.Set
	Rules []string
	// Reason is mandatory: an allowlist without reasons cannot be reviewed.
	Reason string
	// Expires is the last day the entry applies (through 23:59:59 UTC);
	// zero means it never expires.
	Expires time.Time
	// Origin names where the entry was written, for messages and for the
	// unused/expired report: "FILE:LINE" or "deploy/NAME annotation".
	Origin string
}

// FileError is a problem in an --exceptions file, at a line.
type FileError struct {
	File string
	Line int
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

type rawFile struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Exceptions []rawEntry `yaml:"exceptions"`
}

type rawEntry struct {
	Namespace    string   `yaml:"namespace"`
	Kind         string   `yaml:"kind"`
	Name         string   `yaml:"name"`
	Container    string   `yaml:"container"`
	Capabilities []string `yaml:"capabilities"`
	Rules        []string `yaml:"rules"`
	Reason       string   `yaml:"reason"`
	Expires      string   `yaml:"expires"`
}

// ParseFile parses an --exceptions file (docs/exceptions.md). Unknown
// fields, a missing reason, an unknown capability or rule, a bad glob or
// date are errors naming the file and line: an exception that silently
// matches nothing is worse than none. knownRule says which rule ids exist.
func ParseFile(name string, data []byte, knownRule func(string) bool) ([]Entry, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var raw rawFile
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FileError{File: name, Msg: "empty file; see docs/exceptions.md for the format"}
		}
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &FileError{File: name, Line: extra.Line, Msg: "a second YAML document; put every exception in one document's exceptions list"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	var doc yaml.Node
	_ = yaml.Unmarshal(data, &doc) // decoded above, so this parses
	lines := itemLines(&doc)
	if raw.APIVersion != FileAPIVersion || raw.Kind != FileKind {
		return nil, &FileError{File: name, Line: 1, Msg: fmt.Sprintf("apiVersion %q, kind %q: want apiVersion: %s and kind: %s", raw.APIVersion, raw.Kind, FileAPIVersion, FileKind)}
	}
	out := make([]Entry, 0, len(raw.Exceptions))
	for i, r := range raw.Exceptions {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		e, err := r.entry(knownRule)
		if err != nil {
			return nil, &FileError{File: name, Line: line, Msg: fmt.Sprintf("exceptions[%d]: %v", i, err)}
		}
		e.Origin = fmt.Sprintf("%s:%d", name, line)
		out = append(out, e)
	}
	return out, nil
}

func (r rawEntry) entry(knownRule func(string) bool) (Entry, error) {
	e := Entry{Namespace: r.Namespace, Kind: r.Kind, Name: r.Name, Container: r.Container, Reason: strings.TrimSpace(r.Reason)}
	for _, g := range [][2]string{{"namespace", r.Namespace}, {"kind", r.Kind}, {"name", r.Name}, {"container", r.Container}} {
		if _, err := path.Match(g[1], ""); err != nil {
			return e, fmt.Errorf("%s %q is not a valid glob: %v", g[0], g[1], err)
		}
	}
	for _, s := range r.Capabilities {
		if strings.EqualFold(strings.TrimSpace(s), "ALL") {
			return e, errors.New("capabilities: ALL cannot be excepted; name each capability, or use rules")
		}
		c, err := capability.Parse(s)
		if err != nil {
			return e, fmt.Errorf("capabilities: %v", err)
		}
		e.Caps = e.Caps.Add(c)
	}
	for _, id := range r.Rules {
		if !knownRule(id) {
			return e, fmt.Errorf("rules: unknown rule id %q; docs/findings.md lists them", id)
		}
		e.Rules = append(e.Rules, id)
	}
	if e.Caps.Empty() && len(e.Rules) == 0 {
		return e, errors.New("names neither capabilities nor rules; an exception must say which findings it covers")
	}
	if e.Reason == "" {
		return e, errors.New("reason is missing; say why the workload needs this, so a reviewer can judge it")
	}
	if r.Expires != "" {
		t, err := time.Parse(time.DateOnly, r.Expires)
		if err != nil {
			return e, fmt.Errorf("expires %q: want a date YYYY-MM-DD", r.Expires)
		}
		e.Expires = t
	}
	return e, nil
}

// itemLines is the line of each item of the document's exceptions list.
func itemLines(doc *yaml.Node) []int {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "exceptions" && m.Content[i+1].Kind == yaml.SequenceNode {
			var out []int
			for _, it := range m.Content[i+1].Content {
				out = append(out, it.Line)
			}
			return out
		}
	}
	return nil
}

// yamlError turns yaml.v3's "yaml: line N: msg" (or a TypeError's list of
// them) into FILE:N: msg.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		_, rest, _ := strings.Cut(msg, ":")
		return &FileError{File: name, Line: line, Msg: strings.TrimSpace(rest)}
	}
	return &FileError{File: name, Msg: msg}
}

// Expired reports whether the entry no longer applies at now.
func (e Entry) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && now.UTC().After(e.Expires.Add(24*time.Hour-time.Nanosecond))
}
