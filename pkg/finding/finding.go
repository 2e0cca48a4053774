// Package finding gives what audit judges a stable identity for CI and code
// review: a rule id from one documented table (Rules, docs/findings.md), a
// level, the container and capability it is about, the place in a
// manifest of the node that causes it, and a fingerprint that survives
// unrelated edits. pkg/report builds the findings of a container from its
// verdict (report.Item.Issues); the SARIF, JUnit and GitHub printers read
// them. It judges nothing itself: every finding restates a verdict of the
// engine, the risk rule or the catalog.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Level is how a result is shown: SARIF's and GitHub's error, warning and
// note.
type Level string

// Levels.
const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
	LevelNote    Level = "note"
)

// Status is where a finding stands. Every finding is open for now;
// exceptions (an annotation or --exceptions) will mark it excepted and a
// baseline known (issue 13), without changing its identity.
type Status string

// Statuses.
const (
	StatusOpen     Status = "open"
	StatusExcepted Status = "excepted"
	StatusKnown    Status = "known"
)

// Finding is one rule broken by one container, at one place.
type Finding struct {
	RuleID string
	Level  Level
	// Risk is the capability risk a risk rule or the privileged rule
	// reports (catalog.Risk); "" for the other rules. --fail-on compares
	// it (Apply).
	Risk      string
	Namespace string
	Workload  workload.Ref
	Container string
	// Capability is the capability the finding is about, or the entry of
	// the add or drop list as written for a rule about a spelling ("" for
	// rules about the container).
	Capability string
	// Field is the path of the node that causes it
	// ("spec.template.spec.containers[0].securityContext.capabilities.add[1]");
	// Position is where a manifest writes it, or its nearest ancestor
	// (zero for a live object).
	Field    string
	Position workload.Position
	// Summary is one clause (JUnit's failure message, an annotation's
	// title); Message the full explanation.
	Summary string
	Message string
	// Fingerprint identifies the finding across edits (see Fingerprint).
	Fingerprint string
	Status      Status
	// ExceptedBy and Reason name the exception that covers an excepted
	// finding: where it is written ("FILE:LINE", or the workload's
	// annotation) and why (Settle).
	ExceptedBy string
	Reason     string
}

// Fingerprint is a finding's identity: a hash of the rule, the workload
// (namespace, kind, name), the container's name and the capability or
// entry. Not the line, not the file, not the container's index: moving a
// workload to another file, reordering containers or editing other fields
// keeps it; renaming the workload or the container gives a new finding.
// The prefix names the recipe, so that a change of it is seen.
func Fingerprint(ruleID, namespace string, w workload.Ref, container, capability string) string {
	h := sha256.Sum256([]byte(strings.Join([]string{ruleID, namespace, w.Kind, w.Name, container, capability}, "\x00")))
	return "v1:" + hex.EncodeToString(h[:16])
}

// Apply settles the findings against --fail-on (failOn, "" when not
// given): it keeps the risk findings at or above the lower of failOn and
// high (a container's medium and low capabilities are reported only when
// they fail the run; the runtime defaults the catalog advises dropping
// have their one note, CAPS007)
// and gives each risk finding the level that says whether it fails the
// run: error at or above failOn, else warning (note for low). Without
// failOn the rule's own level stands. A container fails --fail-on when
// its MAX-RISK reaches it (report.CountAtLeast), which is exactly when one
// of its risk findings does, so the errors and the exit code agree. The
// other rules keep their levels. Fingerprints that repeat (one workload's
// pods on two runtimes) are kept once.
func Apply(fs []Finding, failOn catalog.Risk) []Finding {
	floor := catalog.RiskHigh
	if failOn != "" && failOn.Level() < floor.Level() {
		floor = failOn
	}
	seen := map[string]bool{}
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		if seen[f.Fingerprint] {
			continue
		}
		if f.Risk != "" {
			r := catalog.Risk(f.Risk)
			if r.Level() < floor.Level() {
				continue
			}
			if failOn != "" {
				switch {
				case r.Level() >= failOn.Level():
					f.Level = LevelError
				case r.Level() <= catalog.RiskLow.Level():
					f.Level = LevelNote
				default:
					f.Level = LevelWarning
				}
			}
		}
		seen[f.Fingerprint] = true
		out = append(out, f)
	}
	return out
}
