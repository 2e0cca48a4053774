package report

import (
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/evidence"
)

// Evidence is what the traces (audit --evidence) saw of one container of
// one workload, over all its pods: docs/evidence.md says how it is
// counted, docs/report.md what each field means.
type Evidence struct {
	// Observed: the traces hold at least one audited check of this
	// container. When false, used and denied are empty because nothing
	// was seen, not because nothing is needed.
	Observed bool `json:"observed"`
	// Used: an audited check was allowed. Denied: an audited check was
	// refused (wanted, not held). Unused: in the bounding set and never
	// used in the window.
	Used   []string `json:"used"`
	Denied []string `json:"denied"`
	Unused []string `json:"unused"`
	// Disagreements: allowed in the container's own user namespace
	// although the engine says the bounding set lacks them (a wrong
	// runtime profile, a node-level override, or a defect of this tool);
	// never merged into used's meaning of "held".
	Disagreements []string `json:"disagreements,omitempty"`
	// Events counts the audited checks; NotAudited the checks made with
	// CAP_OPT_NOAUDIT, which count for nothing.
	Events     int64 `json:"events"`
	NotAudited int64 `json:"notAudited,omitempty"`
	// Pods are the pods the checks came from.
	Pods []string `json:"pods"`
	// Window is the first and last audited check of this container;
	// absent when the trace had no timestamps or no events.
	Window *Window `json:"window,omitempty"`
	// Attribution says how the pods were mapped to the workload: trace
	// (k8s.owner), resolver (the cluster or the manifests), naming (the
	// ReplicaSet naming rule) or pod.
	Attribution string `json:"attribution,omitempty"`
	// Capabilities: every capability checked, with its counts, system
	// calls and commands.
	Capabilities []EvidenceUse `json:"capabilities"`
}

// Window is a span of time.
type Window struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// EvidenceUse is one capability checked in a container.
type EvidenceUse struct {
	Capability string   `json:"capability"`
	Used       int64    `json:"used"`
	Denied     int64    `json:"denied"`
	NotAudited int64    `json:"notAudited,omitempty"`
	Syscalls   []string `json:"syscalls"`
	Commands   []string `json:"commands"`
}

// AddEvidence joins the item with the traces' result: the container of
// the same namespace, workload and name. Without a match the item says
// it was not observed. It returns the disagreements (also in the item).
func (it *Item) AddEvidence(res *evidence.Result) capability.Set {
	bounding := capability.SetOfNames(it.Bounding)
	c, ok := res.Lookup(it.Namespace, it.Workload, it.Container)
	if !ok {
		it.Evidence = &Evidence{Used: []string{}, Denied: []string{}, Unused: orEmpty(bounding.Names()), Pods: []string{}, Capabilities: []EvidenceUse{}}
		return 0
	}
	disagree := c.Disagreements(bounding)
	e := &Evidence{
		Observed:     c.Events > 0,
		Used:         orEmpty(c.Used.Names()),
		Denied:       orEmpty(c.Denied.Names()),
		Unused:       orEmpty(c.Unused(bounding).Names()),
		Events:       c.Events,
		NotAudited:   c.NotAudited,
		Pods:         append([]string{}, c.Pods...),
		Attribution:  string(c.Attribution),
		Capabilities: make([]EvidenceUse, 0, len(c.Caps)),
	}
	if !disagree.Empty() {
		e.Disagreements = disagree.Names()
	}
	if !c.First.IsZero() {
		e.Window = &Window{First: c.First.UTC(), Last: c.Last.UTC()}
	}
	for _, u := range c.Caps {
		e.Capabilities = append(e.Capabilities, EvidenceUse{
			Capability: u.Cap.String(), Used: u.Used, Denied: u.Denied, NotAudited: u.NotAudited,
			Syscalls: append([]string{}, u.Syscalls...), Commands: append([]string{}, u.Comms...),
		})
	}
	it.Evidence = e
	return disagree
}

func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// EvidenceKeys names the items' containers, for evidence.Result.Coverage.
func EvidenceKeys(items []Item) []evidence.Key {
	keys := make([]evidence.Key, len(items))
	for i := range items {
		keys[i] = evidence.Key{Namespace: items[i].Namespace, Workload: items[i].Workload, Container: items[i].Container}
	}
	return keys
}

// Joined joins items with the traces as a command makes them, and keeps
// what the warnings after the output need: each item's identity and
// evidence (not its findings: a streamed live audit holds no report).
// A nil *Joined (no --evidence) does nothing.
type Joined struct {
	Result *evidence.Result
	Items  []Item
}

// NewJoined returns nil for a nil result.
func NewJoined(res *evidence.Result) *Joined {
	if res == nil {
		return nil
	}
	return &Joined{Result: res}
}

// Add joins one item (AddEvidence) and remembers it.
func (j *Joined) Add(it *Item) {
	if j == nil {
		return
	}
	it.AddEvidence(j.Result)
	j.Items = append(j.Items, Item{Namespace: it.Namespace, Workload: it.Workload, Container: it.Container,
		Runtime: it.Runtime, RuntimeVersion: it.RuntimeVersion, Evidence: it.Evidence})
}
