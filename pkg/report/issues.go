package report

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/baseline"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/finding"
)

// Issues restates the item's verdict as findings with rule ids
// (pkg/finding, docs/findings.md): one per capability it holds as MAX-RISK
// counts it (Finding.Counted: the same judgment, not a second one), one
// for a privileged container instead of its 41 capabilities, one for a
// setuid-root way back to the bounding set, one for runtime defaults the
// catalog advises dropping, and one per warning. path is the container's
// field path (engine.ContainerPath); each finding's Field is the node that
// causes it, for the source to place (pkg/audit). Every finding is open;
// which ones are shown and at which level is decided with --fail-on by
// Findings.
func Issues(it *Item, path string) []finding.Finding {
	b := issueBuilder{it: it, path: path, seen: map[string]int{}, out: []finding.Finding{}}
	sc := path + ".securityContext"
	if it.Privileged {
		b.add("CAPS005", it.MaxRisk, "", sc+".privileged",
			fmt.Sprintf("privileged: holds every capability (MAX-RISK %s)", it.MaxRisk),
			fmt.Sprintf("%s is privileged: it holds every capability whatever capabilities.add and drop say, and MAX-RISK is %s.", b.who(), it.MaxRisk))
	}
	var kept []string
	for i := range it.Findings {
		f := &it.Findings[i]
		if !f.Counted {
			continue
		}
		if !f.Explicit && catalog.Recommendation(f.Recommendation) == catalog.Drop {
			kept = append(kept, f.Capability)
		}
		rule, ok := finding.ForRisk(catalog.Risk(f.Risk))
		if !ok || it.Privileged {
			continue
		}
		how := exposureWords[f.Exposure]
		if f.Explicit {
			how += ", added by the manifest"
		}
		if len(f.Amplified) > 0 {
			how += ", raised by " + strings.Join(f.Amplified, ", ")
		}
		b.add(rule.ID, f.Risk, f.Capability, b.capabilityField(f),
			fmt.Sprintf("%s: %s risk (%s)", f.Capability, f.Risk, how),
			fmt.Sprintf("%s holds %s, of %s risk here (%s); the catalog recommends: %s (kubectl caps explain %s).",
				b.who(), f.Capability, f.Risk, how, f.Recommendation, f.Capability))
	}
	if r := it.Reachable; r != nil && len(r.ViaSetuid) > 0 && !it.NoNewPrivs {
		b.add("CAPS006", "", "", sc+".allowPrivilegeEscalation",
			fmt.Sprintf("non-root, but a setuid-root binary regains %d capabilities: set allowPrivilegeEscalation: false", len(r.ViaSetuid)),
			fmt.Sprintf("%s runs as non-root, but allowPrivilegeEscalation is not false, so a setuid-root binary regains %s; set allowPrivilegeEscalation: false.",
				b.who(), strings.Join(r.ViaSetuid, ", ")))
	}
	if len(kept) > 0 && !it.Privileged {
		b.add("CAPS007", "", "", sc+".capabilities.drop",
			fmt.Sprintf("keeps runtime defaults the catalog advises dropping: %s", strings.Join(kept, ", ")),
			fmt.Sprintf("%s keeps %s from the runtime's defaults, which the catalog advises dropping; add capabilities.drop: [ALL] and add back only what it needs.",
				b.who(), strings.Join(kept, ", ")))
	}
	for _, w := range it.Warnings {
		rule, ok := finding.ForWarning(w.Code)
		if !ok {
			continue // TestEveryWarningHasARule keeps this from happening
		}
		b.add(rule.ID, "", b.entry(w.Field), w.Field, w.Summary, w.Message)
	}
	return b.out
}

// Findings is the findings of the items shown, settled against --fail-on
// (finding.Apply): what -o sarif, junit and github print. An item whose
// findings were not built with it (pkg/audit builds them only where there
// are places to look up, so that a live audit printed as a table pays
// nothing for them) gets them here, from its Path.
func Findings(items []Item, failOn catalog.Risk) []finding.Finding {
	// Gathered first, then copied once into a slice of the right size: a
	// Finding is a large struct, and growing one slice by appends copied
	// every finding ~log2(n) times: a tenth of report's CPU on 10,000
	// pods (docs/benchmarks.md, BenchmarkFindings).
	per := make([][]finding.Finding, len(items))
	n := 0
	for i := range items {
		fs := items[i].Issues
		if fs == nil && items[i].Path != "" {
			fs = Issues(&items[i], items[i].Path)
		}
		per[i] = fs
		n += len(fs)
	}
	all := make([]finding.Finding, 0, n)
	for _, fs := range per {
		all = append(all, fs...)
	}
	return finding.Apply(all, failOn)
}

var exposureWords = map[string]string{
	ExposureEffective: "held after exec",
	ExposureSetuid:    "regained through a setuid-root binary",
	ExposureFileCaps:  "gained through file capabilities",
	ExposureNone:      "not usable",
}

type issueBuilder struct {
	it   *Item
	path string
	seen map[string]int
	out  []finding.Finding
}

func (b *issueBuilder) who() string { return fmt.Sprintf("%s %q", containerWord(b.it), b.it.Container) }

// containerWord names the container's kind as the engine's warnings do.
func containerWord(it *Item) string {
	switch it.ContainerType {
	case engine.TypeInitContainer:
		return "init container"
	case engine.TypeEphemeralContainer:
		return "ephemeral container"
	}
	return "container"
}

// Scope is the namespace an item's findings name: "CONTEXT/NAMESPACE" in a
// run over several clusters (Item.Cluster), so that one workload in two
// clusters is two findings with two fingerprints.
func Scope(it *Item) string {
	if it.Cluster != "" {
		return it.Cluster + "/" + it.Namespace
	}
	return it.Namespace
}

func (b *issueBuilder) add(id, risk, capName, field, summary, msg string) {
	rule, _ := finding.Lookup(id)
	// A second finding of one rule on the same capability or entry (two
	// misspelt fields, one entry written twice) is told apart by its
	// order, so that fingerprints stay unique.
	key := capName
	b.seen[id+"\x00"+key]++
	if n := b.seen[id+"\x00"+key]; n > 1 {
		key += "#" + strconv.Itoa(n)
	}
	b.out = append(b.out, finding.Finding{
		RuleID: id, Level: rule.Level, Risk: risk,
		Namespace: Scope(b.it), Workload: b.it.Workload, Container: b.it.Container,
		Capability: capName, Field: field, Summary: summary, Message: msg,
		Fingerprint: finding.Fingerprint(id, Scope(b.it), b.it.Workload, b.it.Container, key),
		Status:      finding.StatusOpen,
	})
}

// capabilityField is the node that gives the container a capability: its
// add entry (or add: [ALL]) when the manifest adds it, else the drop list
// that leaves a runtime default in place (or, when the manifest writes no
// such list, its nearest ancestor: see workload.Position).
func (b *issueBuilder) capabilityField(f *Finding) string {
	caps := b.path + ".securityContext.capabilities"
	if f.Explicit {
		c, _ := capability.Lookup(f.Capability)
		all := -1
		for i, raw := range b.it.Added {
			if p, err := capability.Parse(raw); err == nil && p == c {
				return caps + ".add[" + strconv.Itoa(i) + "]"
			}
			if all < 0 && strings.EqualFold(strings.TrimSpace(raw), "ALL") {
				all = i
			}
		}
		if all >= 0 {
			return caps + ".add[" + strconv.Itoa(all) + "]"
		}
	}
	return caps + ".drop"
}

var entryField = regexp.MustCompile(`\.capabilities\.(add|drop)\[(\d+)\]$`)

// entry is the list entry a warning's field names, as written; "" when
// the field is no entry.
func (b *issueBuilder) entry(field string) string {
	m := entryField.FindStringSubmatch(field)
	if m == nil {
		return ""
	}
	list := b.it.Added
	if m[1] == "drop" {
		list = b.it.Dropped
	}
	if i, _ := strconv.Atoi(m[2]); i < len(list) {
		return list[i]
	}
	return ""
}

// Settle is the findings of the rows shown (Findings), settled against
// the exceptions and the baseline (finding.Settle; base may be nil).
func Settle(items []Item, failOn catalog.Risk, ex exception.Set, base *baseline.Baseline, now time.Time) finding.Settled {
	return finding.Settle(Findings(items, failOn), ex, base, now)
}
