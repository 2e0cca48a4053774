// Package report turns the engine's per-container results into the audit
// report: versioned, annotated with the catalog, and stable to serialise.
// It is the one shape that every printer (table, JSON, YAML) reads.
package report

import (
	"github.com/kubectl-caps/kubectl-caps/pkg/api"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/finding"
	"github.com/kubectl-caps/kubectl-caps/pkg/risk"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Kind of the report; its group and version are api.APIVersion: bump the
// version on any incompatible change of the fields below.
const Kind = "CapabilityReport"

// Report is the document `audit -o json|yaml` prints.
type Report struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Items      []Item `json:"items"`
}

// New returns an empty report with its type set.
func New() *Report { return &Report{APIVersion: api.APIVersion, Kind: Kind, Items: []Item{}} }

// Item is one container of one workload.
type Item struct {
	// Cluster is the kubeconfig context the item was read from, when
	// several were audited at once (docs/fleet.md); omitted otherwise.
	Cluster   string       `json:"cluster,omitempty"`
	Namespace string       `json:"namespace"`
	Workload  workload.Ref `json:"workload"`
	// Source is the file (and document) a local manifest came from.
	Source string `json:"source,omitempty"`
	// Pods counts the pods rolled up into this item in a live audit.
	Pods int `json:"pods,omitempty"`
	// Pod names the first pod of the group in a live audit (the only one
	// with --per-pod).
	Pod string `json:"pod,omitempty"`
	// FromTemplate: a live controller with no pods now (scaled to zero, a
	// CronJob between runs, a DaemonSet whose nodes are gone), judged from
	// its pod template; pods is then absent (0).
	FromTemplate  bool                 `json:"fromTemplate,omitempty"`
	Container     string               `json:"container"`
	ContainerType engine.ContainerType `json:"containerType"`
	// Sidecar: a native sidecar, an init container with restartPolicy:
	// Always (containerType stays initContainer: that is its field).
	Sidecar bool   `json:"sidecar,omitempty"`
	Runtime string `json:"runtime"`
	// RuntimeVersion is the release of the runtime it was judged on, when
	// known (the node's, or --runtime NAME://VERSION).
	RuntimeVersion string `json:"runtimeVersion,omitempty"`
	Privileged     bool   `json:"privileged"`
	// User is root, nonroot or unknown (unknown is audited as root).
	User       string `json:"user"`
	UID        *int64 `json:"uid,omitempty"`
	UserSource string `json:"userSource,omitempty"`
	// CannotStart says why the container never runs, when it does not:
	// "runtime-refuses" (the runtime rejects a name in the capability
	// lists) or "kubelet-refuses-root" (runAsNonRoot with an effective
	// runAsUser 0). Bounding and effective are then empty; the warnings
	// say more. Omitted for a container that starts.
	CannotStart string `json:"cannotStart,omitempty"`
	// NoNewPrivs is true when allowPrivilegeEscalation is explicitly false.
	NoNewPrivs bool `json:"noNewPrivs"`
	// Bounding is every capability the container's processes can ever hold;
	// Effective is what its first process holds after exec.
	Bounding  []string `json:"bounding"`
	Effective []string `json:"effective"`
	// Inheritable and Ambient are the first process's sets after exec when
	// the runtime fills them: inheritable on Docker before 20.10.14,
	// ambient for a privileged non-root container on CRI-O. Omitted when
	// empty, which is the usual case.
	Inheritable []string `json:"inheritable,omitempty"`
	Ambient     []string `json:"ambient,omitempty"`
	// Reachable lists what a non-root process can still gain: through
	// setuid-root binaries (unless no_new_privs) or file capabilities.
	Reachable       *Reachable `json:"reachable,omitempty"`
	Inert           []string   `json:"inert,omitempty"`
	Added           []string   `json:"added,omitempty"`
	Dropped         []string   `json:"dropped,omitempty"`
	PSSCapabilities string     `json:"pssCapabilities"`
	// MaxRisk is the highest risk among the counted findings: what the
	// container holds, or can regain without an exploit (see
	// Finding.Counted); "none" when there is no such capability.
	MaxRisk  string    `json:"maxRisk"`
	Findings []Finding `json:"findings"`
	Warnings []Warning `json:"warnings"`
	// Notes is [] when there are none, like Warnings (and suggest-drop's
	// notes), so that `.notes[]` works on every item.
	Notes []string `json:"notes"`
	// Evidence is what Inspektor Gadget's traces saw of the container
	// (audit --evidence, docs/evidence.md); absent without --evidence.
	// Added in v1alpha1 (additive).
	Evidence *Evidence `json:"evidence,omitempty"`
	// Issues are the container's findings with rule ids and places
	// (Issues, pkg/finding), for -o sarif, junit and github; not part of
	// the CapabilityReport document yet. Path is the container's field
	// path, from which Findings builds them when they were not built with
	// the item (a live object, which has no places to look up).
	Issues []finding.Finding `json:"-"`
	Path   string            `json:"-"`
}

// Reachable is what a non-root container can still gain after exec.
type Reachable struct {
	ViaSetuid   []string `json:"viaSetuid"`
	ViaFileCaps []string `json:"viaFileCaps"`
	Explanation string   `json:"explanation"`
}

// Finding is one capability of the bounding set, annotated.
type Finding struct {
	Capability     string `json:"capability"`
	Risk           string `json:"risk"`
	Recommendation string `json:"recommendation"`
	// Effective: held by the first process after exec; otherwise only
	// reachable (non-root).
	Effective bool `json:"effective"`
	// Exposure says how the container's processes can use it: "effective"
	// (held after exec), "setuid" (non-root, regained by running a
	// setuid-root binary: allowPrivilegeEscalation is not false), or
	// "file-caps" (non-root with no_new_privs: only a binary carrying file
	// capabilities, in practice the entrypoint, can gain it), or "none"
	// (non-root with no_new_privs on a Docker release that gives it no
	// permitted set: nothing can raise it).
	Exposure string `json:"exposure"`
	// Counted: part of maxRisk. Effective and setuid exposures count;
	// file-caps counts only for explicitly added capabilities (nobody adds a
	// capability to a non-root container except for such a binary); inert
	// capabilities never count.
	Counted bool `json:"counted"`
	// Inert: the kernel ignores it in this pod's user namespace.
	Inert bool `json:"inert,omitempty"`
	// Amplified names every context that raises the risk above the
	// catalog's base tier here, e.g. ["hostPID"] or ["with:PERFMON"]
	// (pkg/risk: the rule suggest-drop and explain share).
	Amplified []string `json:"amplified,omitempty"`
	// Explicit: the manifest adds it (rather than it being a runtime default).
	Explicit bool `json:"explicit,omitempty"`
}

// Exposures of a finding.
const (
	ExposureEffective = "effective"
	ExposureSetuid    = "setuid"
	ExposureFileCaps  = "file-caps"
	ExposureNone      = "none"
)

// Values of Item.CannotStart.
const (
	CannotStartRuntime = "runtime-refuses"
	CannotStartKubelet = "kubelet-refuses-root"
)

// Warning is a problem in the spec, naming the exact field.
type Warning struct {
	Code  string `json:"code"`
	Field string `json:"field"`
	// Location is where Field is written in a manifest: "FILE:LINE", or
	// FILE alone when the line is not known (a URL, kustomize's
	// output). Omitted for a live object. Added in v1alpha1 (additive).
	Location string `json:"location,omitempty"`
	// Summary is the warning in one short clause (what stderr prints);
	// Message is the full explanation. Added in v1alpha1 (additive).
	Summary string `json:"summary"`
	Message string `json:"message"`
}

// Subject identifies the container an engine result belongs to.
type Subject struct {
	Namespace    string
	Workload     workload.Ref
	Source       string
	Pods         int
	Pod          string
	FromTemplate bool
	// RuntimeVersion is the release of the runtime profile, when known.
	RuntimeVersion string
	Container      string
	Type           engine.ContainerType
	Sidecar        bool
}

// NewItem annotates one engine result with the catalog.
func NewItem(s Subject, r *engine.Result) Item {
	it := Item{
		Namespace:       s.Namespace,
		Workload:        s.Workload,
		Source:          s.Source,
		Pods:            s.Pods,
		Pod:             s.Pod,
		FromTemplate:    s.FromTemplate,
		Container:       s.Container,
		ContainerType:   s.Type,
		Sidecar:         s.Sidecar,
		Runtime:         r.Runtime,
		RuntimeVersion:  s.RuntimeVersion,
		Privileged:      r.Privileged,
		User:            string(r.User.Kind),
		UID:             r.User.UID,
		UserSource:      r.User.Source,
		NoNewPrivs:      r.NoNewPrivs,
		Bounding:        r.Bounding.Names(),
		Effective:       r.Effective.Names(),
		Added:           r.Added,
		Dropped:         r.Dropped,
		PSSCapabilities: r.PSSCapabilities,
		Findings:        make([]Finding, 0, r.Bounding.Len()),
		Warnings:        make([]Warning, 0, len(r.Warnings)),
		Notes:           []string{},
	}
	for _, n := range r.Notes {
		// The non-root explanation already stands in Reachable.
		if n != r.Reachable.Explanation {
			it.Notes = append(it.Notes, n)
		}
	}
	if !r.Inert.Empty() {
		it.Inert = r.Inert.Names()
	}
	switch {
	case r.KubeletRefuses:
		it.CannotStart = CannotStartKubelet
	case r.CreateFails:
		it.CannotStart = CannotStartRuntime
	}
	if !r.Inheritable.Empty() {
		it.Inheritable = r.Inheritable.Names()
	}
	if !r.Ambient.Empty() {
		it.Ambient = r.Ambient.Names()
	}
	if r.User.Kind != engine.UserRoot && r.User.Kind != engine.UserUnknown && !r.Bounding.Empty() {
		it.Reachable = &Reachable{
			ViaSetuid:   r.Reachable.ViaSetuid.Names(),
			ViaFileCaps: r.Reachable.ViaFileCaps.Names(),
			Explanation: r.Reachable.Explanation,
		}
	}
	explicit := r.ExplicitlyAdded()
	cat := catalog.Default()
	max := catalog.RiskNone
	for _, name := range it.Bounding {
		c, _ := capability.Lookup(name)
		e := cat.Get(c)
		f := Finding{
			Capability:     name,
			Recommendation: string(e.Recommendation),
			Effective:      r.Effective.Has(c),
			Inert:          r.Inert.Has(c),
			Explicit:       explicit.Has(c),
		}
		a := risk.Of(c, r.Bounding, r.Context)
		f.Risk, f.Amplified = string(a.Risk), a.Contexts()
		switch {
		case f.Effective:
			f.Exposure = ExposureEffective
		case r.Reachable.ViaSetuid.Has(c):
			f.Exposure = ExposureSetuid
		case r.Reachable.ViaFileCaps.Has(c):
			f.Exposure = ExposureFileCaps
		default:
			f.Exposure = ExposureNone
		}
		f.Counted = !f.Inert && (f.Exposure == ExposureEffective || f.Exposure == ExposureSetuid ||
			f.Exposure == ExposureFileCaps && f.Explicit)
		if f.Counted && a.Risk.Level() > max.Level() {
			max = a.Risk
		}
		it.Findings = append(it.Findings, f)
	}
	it.MaxRisk = string(max)
	for _, w := range r.Warnings {
		it.Warnings = append(it.Warnings, Warning{Code: w.Code, Field: w.Field, Summary: w.Summary, Message: w.Message})
	}
	return it
}

// MaxRiskFinding is the counted finding that gives MaxRisk, the one a
// reader needs to see why: of the counted findings with the highest risk,
// the most directly held (effective, then setuid, then file-caps), then one
// that is that risky in any pod (no amplifier: "critical (SYS_ADMIN)"
// rather than "critical (BPF held with PERFMON)"), the first in name order
// among equals. Nil when MaxRisk is none.
func (it *Item) MaxRiskFinding() *Finding {
	var best *Finding
	for i := range it.Findings {
		f := &it.Findings[i]
		if !f.Counted || catalog.Risk(f.Risk).Level() <= catalog.RiskNone.Level() {
			continue
		}
		if best == nil || reasonRank(f) < reasonRank(best) {
			best = f
		}
	}
	return best
}

// reasonRank orders findings as MaxRiskFinding prefers them, lowest first.
func reasonRank(f *Finding) int {
	r := (catalog.RiskCritical.Level() - catalog.Risk(f.Risk).Level()) * 10
	switch f.Exposure {
	case ExposureEffective:
	case ExposureSetuid:
		r += 2
	case ExposureFileCaps:
		r += 4
	default:
		r += 6
	}
	if len(f.Amplified) > 0 {
		r++
	}
	return r
}

// RiskAtLeast reports whether an item's max risk reaches min.
func (it *Item) RiskAtLeast(min catalog.Risk) bool {
	return catalog.Risk(it.MaxRisk).Level() >= min.Level()
}
