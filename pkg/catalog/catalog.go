// Package catalog is the risk catalog: one entry for each Linux capability
// 0..40, embedded as YAML so that the text is reviewed as data, not code.
//
// Which container runtimes grant a capability by default is deliberately not
// part of an entry: that comes from the runtime profiles (pkg/runtimes), the
// one place the default sets are written down.
package catalog

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

//go:embed catalog.yaml
var embedded []byte

// Catalog is a validated, read-only catalog.
type Catalog struct {
	entries [capability.Count]Entry
	defects []SeedDefect
	inert   capability.Set
}

// Default returns the embedded catalog. The data is validated by the tests,
// so a failure here is a build defect and panics rather than limping on with
// a partial catalog.
var Default = sync.OnceValue(func() *Catalog {
	c, err := Parse(embedded)
	if err != nil {
		panic(fmt.Sprintf("embedded capability catalog is invalid: %v", err))
	}
	return c
})

// Parse decodes and validates a catalog document.
func Parse(data []byte) (*Catalog, error) {
	var doc Document
	if err := yaml.UnmarshalStrict(data, &doc); err != nil {
		return nil, fmt.Errorf("decoding catalog: %w", err)
	}
	if err := Validate(&doc); err != nil {
		return nil, err
	}
	c := &Catalog{defects: doc.SeedDefects}
	for i := range doc.Capabilities {
		amps := doc.Capabilities[i].Amplifiers
		for j := range amps {
			if name, ok := strings.CutPrefix(amps[j].When, withPrefix); ok {
				// Validate has checked that the name parses.
				amps[j].with, _ = capability.Parse(name)
				amps[j].hasWith = true
			}
		}
	}
	for _, e := range doc.Capabilities {
		c.entries[e.Number] = e
		if e.InertInUserNamespace {
			c.inert = c.inert.Add(e.Cap())
		}
	}
	return c, nil
}

// Get returns the entry of a capability; nil for a number beyond the catalog.
func (c *Catalog) Get(cp capability.Cap) *Entry {
	if !cp.Valid() {
		return nil
	}
	return &c.entries[cp]
}

// Lookup finds an entry by any spelling capability.Parse accepts.
func (c *Catalog) Lookup(name string) (*Entry, error) {
	cp, err := capability.Parse(name)
	if err != nil {
		return nil, err
	}
	return c.Get(cp), nil
}

// InertInUserNamespace is the set of capabilities that do nothing in a
// hostUsers: false pod, from the entries' flags.
func (c *Catalog) InertInUserNamespace() capability.Set { return c.inert }

// SeedDefects lists the defects of the seed document and how each is fixed.
func (c *Catalog) SeedDefects() []SeedDefect {
	out := make([]SeedDefect, len(c.defects))
	copy(out, c.defects)
	return out
}

// Level orders risks: none 0 < low 1 < medium 2 < high 3 < critical 4; an
// unknown value is -1.
func (r Risk) Level() int {
	switch r {
	case RiskNone:
		return 0
	case RiskLow:
		return 1
	case RiskMedium:
		return 2
	case RiskHigh:
		return 3
	case RiskCritical:
		return 4
	}
	return -1
}

// ParseRisk reads a risk tier from a flag value, in any case.
func ParseRisk(s string) (Risk, error) {
	r := Risk(strings.ToLower(strings.TrimSpace(s)))
	if r.Level() > 0 {
		return r, nil
	}
	return "", fmt.Errorf("unknown risk %q; use one of low, medium, high, critical", s)
}

// withPrefix marks an amplifier that applies when the container also holds
// another capability: "with:PERFMON".
const withPrefix = "with:"

// Amplifier contexts an entry may name, besides "with:CAP".
var contexts = map[string]bool{
	"hostPID": true, "hostNetwork": true, "hostIPC": true, "hostPath": true, "shareProcessNamespace": true,
}

// Validate checks a decoded document: every capability 0..40 exactly once
// under its canonical name, every field filled, enums valid, no text copied
// between entries (the seed's worst defect), and the seed-defect list
// complete and consistent with the entries that claim to fix each defect.
func Validate(doc *Document) error {
	var errs []string
	fail := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }

	seen := map[int]bool{}
	text := map[string]string{}
	fixedBy := map[int][]string{}
	for i := range doc.Capabilities {
		e := &doc.Capabilities[i]
		id := fmt.Sprintf("entry %d (%s)", i, e.Name)
		if e.Number < 0 || e.Number > int(capability.Last) {
			fail("%s: number %d outside 0..%d", id, e.Number, capability.Last)
			continue
		}
		if seen[e.Number] {
			fail("%s: number %d appears twice", id, e.Number)
		}
		seen[e.Number] = true
		if want := capability.Cap(e.Number).String(); e.Name != want {
			fail("%s: number %d is %s", id, e.Number, want)
		}
		for field, v := range map[string]string{
			"since": e.Since, "summary": e.Summary, "description": e.Description, "impact": e.Impact,
			"reasoning": e.Reasoning, "userNamespaceNote": e.UserNamespaceNote,
		} {
			if strings.TrimSpace(v) == "" {
				fail("%s: %s is empty", id, field)
			}
		}
		if err := checkUserNamespaceNote(e); err != "" {
			fail("%s: %s", id, err)
		}
		if strings.Contains(e.Summary, "\n") {
			fail("%s: summary must be one line", id)
		}
		for field, v := range map[string]string{"description": e.Description, "impact": e.Impact, "reasoning": e.Reasoning} {
			key := normalise(v)
			if other, dup := text[key]; dup && key != "" {
				fail("%s: %s repeats the text of %s", id, field, other)
			}
			text[key] = e.Name + " " + field
		}
		if e.Risk.Level() < 1 {
			fail("%s: risk %q is not one of low, medium, high, critical", id, e.Risk)
		}
		switch e.Recommendation {
		case Drop, Keep, Review:
		default:
			fail("%s: recommendation %q is not one of drop, keep, review", id, e.Recommendation)
		}
		for _, a := range e.Amplifiers {
			if with, ok := strings.CutPrefix(a.When, withPrefix); ok {
				if _, err := capability.Parse(with); err != nil {
					fail("%s: amplifier %q: %v", id, a.When, err)
				}
			} else if !contexts[a.When] {
				fail("%s: amplifier context %q is unknown", id, a.When)
			}
			if a.Risk.Level() <= e.Risk.Level() {
				fail("%s: amplifier %q must raise the risk above %s", id, a.When, e.Risk)
			}
			if strings.TrimSpace(a.Why) == "" {
				fail("%s: amplifier %q has no reason", id, a.When)
			}
		}
		for _, x := range e.Escalations {
			if strings.TrimSpace(x.Name) == "" || strings.TrimSpace(x.Description) == "" {
				fail("%s: an escalation lacks a name or description", id)
			}
			for _, cve := range x.CVEs {
				if !strings.HasPrefix(cve, "CVE-") {
					fail("%s: %q is not a CVE id", id, cve)
				}
			}
		}
		if len(e.Sources) == 0 {
			fail("%s: no sources", id)
		}
		switch e.Seed.Status {
		case SeedAccurate, SeedCorrected, SeedMislabelled, SeedMissing:
		default:
			fail("%s: seed status %q is unknown", id, e.Seed.Status)
		}
		if e.Seed.Status != SeedAccurate && strings.TrimSpace(e.Seed.Why) == "" {
			fail("%s: seed status %s needs a reason", id, e.Seed.Status)
		}
		for _, d := range e.Seed.Defects {
			fixedBy[d] = append(fixedBy[d], e.Name)
		}
	}
	for n := 0; n <= int(capability.Last); n++ {
		if !seen[n] {
			fail("capability %d (%s) has no entry", n, capability.Cap(n))
		}
	}

	ids := map[int]bool{}
	for _, d := range doc.SeedDefects {
		if ids[d.ID] {
			fail("seed defect %d listed twice", d.ID)
		}
		ids[d.ID] = true
		if strings.TrimSpace(d.Title) == "" || strings.TrimSpace(d.Resolution) == "" {
			fail("seed defect %d lacks a title or resolution", d.ID)
		}
		want := append([]string(nil), d.Entries...)
		got := append([]string(nil), fixedBy[d.ID]...)
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, ",") != strings.Join(got, ",") {
			fail("seed defect %d names entries [%s] but the entries that fix it are [%s]",
				d.ID, strings.Join(want, ","), strings.Join(got, ","))
		}
	}
	for d := range fixedBy {
		if !ids[d] {
			fail("entries %v fix seed defect %d, which is not in the defect list", fixedBy[d], d)
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("invalid catalog:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// Prefixes of the three documented forms of userNamespaceNote (see Entry).
const (
	notePartly    = "Partly inert: "
	noteStillActs = "Still acts: "
	noteInert     = "Inert: "
	noteNotInert  = "Not inert: "
)

// checkUserNamespaceNote holds the note to its documented form, so that the
// flag the engine discounts and the sentence a user reads cannot disagree,
// and a partly inert capability always says which part still acts.
func checkUserNamespaceNote(e *Entry) string {
	note := e.UserNamespaceNote
	switch {
	case e.InertInUserNamespace && !strings.HasPrefix(note, noteInert):
		return fmt.Sprintf("inertInUserNamespace is true but userNamespaceNote does not start with %q", noteInert)
	case !e.InertInUserNamespace && strings.HasPrefix(note, noteInert):
		return fmt.Sprintf("userNamespaceNote starts with %q but inertInUserNamespace is false", noteInert)
	case strings.HasPrefix(note, notePartly) && !strings.Contains(note, noteStillActs):
		return fmt.Sprintf("a %q userNamespaceNote must say what %q", strings.TrimSpace(notePartly), strings.TrimSpace(noteStillActs))
	case !e.InertInUserNamespace && !strings.HasPrefix(note, notePartly) && !strings.HasPrefix(note, noteNotInert):
		return fmt.Sprintf("userNamespaceNote must start with %q, %q or %q", noteInert, notePartly, noteNotInert)
	}
	return ""
}

// normalise folds case and white space so that a copy that only reflowed the
// text still counts as a copy.
func normalise(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

//go:embed intro.md
var intro string

// Intro is the corrected introduction to capabilities in Kubernetes that
// replaces the seed document's (see seed defects 5 to 7).
func Intro() string { return intro }
