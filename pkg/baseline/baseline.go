// Package baseline records the findings a team has accepted for now, so
// that a gate can stop new findings today without fixing the old ones
// first (--write-baseline FILE, then --baseline FILE). Findings are matched
// by fingerprint, which names the workload, container, rule and capability
// but not the file or the line: moving a workload to another file or
// reordering its containers does not reopen an old finding. A fingerprint
// that no longer occurs is reported as fixed, so the file can shrink.
// Values in, values out: the command reads and writes the file.
package baseline

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"

	yaml "go.yaml.in/yaml/v3"
)

// APIVersion and Kind head a baseline file.
const (
	APIVersion = "caps.kubectl-caps.io/v1alpha1"
	Kind       = "Baseline"
)

// Entry is one accepted finding. Only Fingerprint matches; the other
// fields make the file reviewable in a pull request.
type Entry struct {
	Fingerprint string `yaml:"fingerprint"`
	Rule        string `yaml:"rule"`
	Workload    string `yaml:"workload"` // namespace/kind/name, as the report names it
	Container   string `yaml:"container"`
	Capability  string `yaml:"capability,omitempty"`
}

type file struct {
	APIVersion string  `yaml:"apiVersion"`
	Kind       string  `yaml:"kind"`
	Findings   []Entry `yaml:"findings"`
}

// Write renders entries as a baseline file: sorted by workload, container,
// rule and capability, one entry per fingerprint, so that the file's diff
// in review shows what changed and nothing else.
func Write(w io.Writer, entries []Entry) error {
	out := slices.Clone(entries)
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Workload, b.Workload), cmp.Compare(a.Container, b.Container),
			cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Capability, b.Capability), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
	out = slices.CompactFunc(out, func(a, b Entry) bool { return a.Fingerprint == b.Fingerprint })
	if out == nil {
		out = []Entry{}
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if _, err := io.WriteString(w, "# Accepted findings of kubectl caps audit (docs/exceptions.md#baseline).\n# Regenerate with --write-baseline; remove entries as they are fixed.\n"); err != nil {
		return err
	}
	if err := enc.Encode(file{APIVersion: APIVersion, Kind: Kind, Findings: out}); err != nil {
		return err
	}
	return enc.Close()
}

// Error is a problem in a baseline file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Parse reads a baseline file. Every entry needs a fingerprint; unknown
// fields are errors, since a hand-edited file with a misspelt key would
// otherwise accept nothing and fail the gate for no visible reason.
func Parse(name string, data []byte) (Baseline, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return Baseline{}, &Error{File: name, Msg: "empty file; write one with --write-baseline"}
		}
		var line int
		msg := err.Error()
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg = te.Errors[0]
		}
		if n, _ := fmt.Sscanf(msg, "yaml: line %d:", &line); n == 1 {
			msg = msg[len(fmt.Sprintf("yaml: line %d:", line)):]
		} else if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
			msg = msg[len(fmt.Sprintf("line %d:", line)):]
		}
		return Baseline{}, &Error{File: name, Line: line, Msg: trim(msg)}
	}
	if f.APIVersion != APIVersion || f.Kind != Kind {
		return Baseline{}, &Error{File: name, Line: 1, Msg: fmt.Sprintf("apiVersion %q, kind %q: want apiVersion: %s and kind: %s (write one with --write-baseline)", f.APIVersion, f.Kind, APIVersion, Kind)}
	}
	b := Baseline{entries: make(map[string]Entry, len(f.Findings))}
	for i, e := range f.Findings {
		if e.Fingerprint == "" {
			return Baseline{}, &Error{File: name, Msg: fmt.Sprintf("findings[%d] (%s %s %s) has no fingerprint; regenerate the file with --write-baseline", i, e.Rule, e.Workload, e.Container)}
		}
		if _, dup := b.entries[e.Fingerprint]; !dup {
			b.order = append(b.order, e.Fingerprint)
		}
		b.entries[e.Fingerprint] = e
	}
	return b, nil
}

func trim(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// Baseline is a parsed baseline file.
type Baseline struct {
	entries map[string]Entry
	order   []string
}

// Len is the number of accepted findings.
func (b Baseline) Len() int { return len(b.order) }

// Known reports whether a finding with this fingerprint was accepted.
func (b Baseline) Known(fingerprint string) bool {
	_, ok := b.entries[fingerprint]
	return ok
}

// Fixed lists, in file order, the accepted findings whose fingerprints
// are not in seen: they no longer occur, and the file can shrink.
func (b Baseline) Fixed(seen map[string]bool) []Entry {
	var out []Entry
	for _, fp := range b.order {
		if !seen[fp] {
			out = append(out, b.entries[fp])
		}
	}
	return out
}
