package catalog

import (
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// Risk is the catalog's editorial tier for a capability.
type Risk string

const (
	RiskNone     Risk = "none"
	RiskLow      Risk = "low"
	RiskMedium   Risk = "medium"
	RiskHigh     Risk = "high"
	RiskCritical Risk = "critical"
)

// Recommendation is what the catalog advises for a container that holds the
// capability without a reason it can name.
type Recommendation string

const (
	// Drop: no ordinary workload needs it; drop it (or never add it).
	Drop Recommendation = "drop"
	// Keep: low risk and commonly needed by root entrypoints; keeping it is fine.
	Keep Recommendation = "keep"
	// Review: needed by some workloads and not others; decide per workload.
	Review Recommendation = "review"
)

// Entry is one capability's catalog page.
type Entry struct {
	Name           string         `json:"name"`
	Number         int            `json:"number"`
	Since          string         `json:"since"`
	Summary        string         `json:"summary"`
	Description    string         `json:"description"`
	Impact         string         `json:"impact"`
	Reasoning      string         `json:"reasoning"`
	Risk           Risk           `json:"risk"`
	Recommendation Recommendation `json:"recommendation"`
	// Amplifiers raise the risk when the pod has a given context.
	Amplifiers  []Amplifier  `json:"amplifiers,omitempty"`
	Escalations []Escalation `json:"escalations"`
	// InertInUserNamespace: every kernel check of this capability is made
	// against the initial user namespace (capable(), or ns_capable on
	// &init_user_ns), so it does nothing in a hostUsers:false pod. A
	// capability that the kernel checks with ns_capable() anywhere, even for
	// a minor part, is not inert; its note says which part is.
	InertInUserNamespace bool `json:"inertInUserNamespace"`
	// UserNamespaceNote says how the capability behaves under hostUsers:false,
	// in one of three forms that Validate enforces, each naming the kernel
	// functions it rests on:
	//   - "Inert: ..." exactly when InertInUserNamespace is true;
	//   - "Partly inert: <the part checked against the initial user
	//     namespace>. Still acts: <the part checked with ns_capable, which
	//     works inside the pod's own namespaces>";
	//   - "Not inert: ..." otherwise.
	UserNamespaceNote string `json:"userNamespaceNote"`
	// PSSBaseline: Pod Security Standards Baseline allows adding it.
	PSSBaseline bool `json:"pssBaseline"`
	// Sources are the ids of the primary sources behind the text (MAN-CAP is
	// capabilities(7), CTRD containerd, K-AUDIT kernel/audit.c, ...); the
	// text itself names the upstream file and function where it matters.
	Sources []string `json:"sources"`
	Seed    SeedNote `json:"seed"`
}

// Cap is the entry's capability number as a capability.Cap.
func (e *Entry) Cap() capability.Cap { return capability.Cap(e.Number) }

// Amplifier is a pod context that makes the capability more dangerous.
type Amplifier struct {
	// When is one of hostPID, hostNetwork, hostIPC, hostPath,
	// shareProcessNamespace, or "with:CAP" (held together with CAP).
	When string `json:"when"`
	Risk Risk   `json:"risk"`
	Why  string `json:"why"`

	// with is CAP of a "with:CAP" amplifier, resolved once when the catalog
	// is parsed so that auditing a container parses no names.
	with    capability.Cap
	hasWith bool
}

// With returns CAP for a "with:CAP" amplifier.
func (a *Amplifier) With() (capability.Cap, bool) { return a.with, a.hasWith }

// Label is how every command names the amplifier's context in text:
// "with hostPID", or "held with PERFMON" for "with:PERFMON".
func (a *Amplifier) Label() string {
	if c, ok := strings.CutPrefix(a.When, withPrefix); ok {
		return "held with " + c
	}
	return "with " + a.When
}

// Escalation is a known attack path that uses the capability.
type Escalation struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	CVEs        []string `json:"cves,omitempty"`
	References  []string `json:"references,omitempty"`
}

// SeedStatus says how the user's seed document treated the capability.
type SeedStatus string

const (
	SeedAccurate    SeedStatus = "accurate"    // kept, at most sharpened
	SeedCorrected   SeedStatus = "corrected"   // the seed was wrong; fixed here
	SeedMislabelled SeedStatus = "mislabelled" // the seed described it under another heading
	SeedMissing     SeedStatus = "missing"     // the seed has no entry
)

// SeedNote records where the entry departs from the seed document and why.
type SeedNote struct {
	Status SeedStatus `json:"status"`
	// Said is a short quote or paraphrase of what the seed said.
	Said string `json:"said,omitempty"`
	// Why explains the departure, with the fact that corrects it.
	Why string `json:"why,omitempty"`
	// Defects are the ids of the seed defects (Document.SeedDefects) this
	// entry fixes.
	Defects []int `json:"defects,omitempty"`
}

// SeedDefect is one defect of the user's seed document (the catalog the
// project started from) and how the catalog resolves it.
type SeedDefect struct {
	ID         int      `json:"id"`
	Title      string   `json:"title"`
	Resolution string   `json:"resolution"`
	Entries    []string `json:"entries,omitempty"`
}

// Document is the embedded catalog file.
type Document struct {
	Capabilities []Entry      `json:"capabilities"`
	SeedDefects  []SeedDefect `json:"seedDefects"`
}
