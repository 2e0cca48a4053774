package suggest

import (
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/api"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// ListKind is the kind of the document `suggest-drop -o json|yaml` prints;
// its group and version are api.APIVersion, as for the audit report.
const ListKind = "DropSuggestionList"

// List is the document `suggest-drop -o json|yaml` prints.
type List struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Strategy   Strategy `json:"strategy"`
	Items      []Item   `json:"items"`
}

// NewList returns an empty list with its type set.
func NewList(s Strategy) *List {
	return &List{APIVersion: api.APIVersion, Kind: ListKind, Strategy: s, Items: []Item{}}
}

// Item is the suggestion for one container of one workload.
type Item struct {
	// Cluster is the kubeconfig context, when several were read at once
	// (docs/fleet.md); omitted otherwise.
	Cluster   string       `json:"cluster,omitempty"`
	Namespace string       `json:"namespace"`
	Workload  workload.Ref `json:"workload"`
	// Source is the file (and document) of a manifest.
	Source string `json:"source,omitempty"`
	// Pods counts the pods behind the item in a live cluster.
	Pods          int                  `json:"pods,omitempty"`
	Container     string               `json:"container"`
	ContainerType engine.ContainerType `json:"containerType"`
	// Sidecar: a native sidecar (restartPolicy: Always), as in the report.
	Sidecar bool    `json:"sidecar,omitempty"`
	Runtime string  `json:"runtime"`
	Drop    []Entry `json:"drop"`
	Keep    []Entry `json:"keep"`
	Notes   []Note  `json:"notes"`
	// Capabilities is the new securityContext.capabilities that implements
	// the suggestion; absent when the lists need no change or the
	// container cannot be changed.
	Capabilities *Capabilities `json:"capabilities,omitempty"`
	// Patched says whether -o patch, json-patch and kubectl change this
	// container: false when nothing changes, for ephemeral containers, and
	// for workloads whose pod template cannot change (bare Pods and Jobs).
	Patched bool `json:"patched"`
}

// newItem is the item of one container's suggestion.
func newItem(t *workload.Target, name string, typ engine.ContainerType, runtime string, s *Suggestion) Item {
	return Item{
		Namespace:     t.Namespace,
		Workload:      t.Workload,
		Source:        t.Source,
		Pods:          t.Pods,
		Container:     name,
		ContainerType: typ,
		Sidecar: typ == engine.TypeInitContainer && slices.ContainsFunc(t.Spec.InitContainers, func(c corev1.Container) bool {
			return c.Name == name && engine.IsSidecar(&c)
		}),
		Runtime:      runtime,
		Drop:         s.Drop,
		Keep:         s.Keep,
		Notes:        append([]Note{}, s.Notes...), // [] when none, never null (docs/report.md)
		Capabilities: s.Capabilities,
	}
}

// MaxDropRisk is the highest risk among what the container should drop, ""
// (below every risk) when it should drop nothing: what --fail-on and the
// table's summary judge a suggestion by.
func (it *Item) MaxDropRisk() catalog.Risk {
	var max catalog.Risk
	for _, d := range it.Drop {
		if r := catalog.Risk(d.Risk); r.Level() > max.Level() {
			max = r
		}
	}
	return max
}
