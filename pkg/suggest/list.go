package suggest

import (
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// The versioned document `suggest-drop -o json|yaml` prints; same group and
// version as the audit report.
const (
	APIVersion = report.APIVersion
	ListKind   = "DropSuggestionList"
)

// List is the document `suggest-drop -o json|yaml` prints.
type List struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Strategy   Strategy `json:"strategy"`
	Items      []Item   `json:"items"`
}

// NewList returns an empty list with its type set.
func NewList(s Strategy) *List {
	return &List{APIVersion: APIVersion, Kind: ListKind, Strategy: s, Items: []Item{}}
}

// Item is the suggestion for one container of one workload.
type Item struct {
	Namespace string             `json:"namespace"`
	Workload  report.WorkloadRef `json:"workload"`
	// Source is the file (and document) of a manifest.
	Source string `json:"source,omitempty"`
	// Pods counts the pods behind the item in a live cluster.
	Pods          int     `json:"pods,omitempty"`
	Container     string  `json:"container"`
	ContainerType string  `json:"containerType"`
	Runtime       string  `json:"runtime"`
	Drop          []Entry `json:"drop"`
	Keep          []Entry `json:"keep"`
	Notes         []Note  `json:"notes"`
	// Capabilities is the new securityContext.capabilities that implements
	// the suggestion; absent when the lists need no change or the
	// container cannot be changed.
	Capabilities *Capabilities `json:"capabilities,omitempty"`
	// Patched says whether -o patch, json-patch and kubectl change this
	// container: false when nothing changes, for ephemeral containers, and
	// for workloads whose pod template cannot change (bare Pods and Jobs).
	Patched bool `json:"patched"`
}

// NewItem is the item of one container's suggestion.
func NewItem(it *report.Item, s *Suggestion) Item {
	return Item{
		Namespace:     it.Namespace,
		Workload:      it.Workload,
		Source:        it.Source,
		Pods:          it.Pods,
		Container:     it.Container,
		ContainerType: it.ContainerType,
		Runtime:       it.Runtime,
		Drop:          s.Drop,
		Keep:          s.Keep,
		Notes:         s.Notes,
		Capabilities:  s.Capabilities,
	}
}
