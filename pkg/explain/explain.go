// Package explain renders catalog entries for people (a page per
// capability, a table of all of them, Markdown docs) and for programs (a
// versioned JSON/YAML object). It joins the catalog with the runtime
// profiles, so that "granted by default by" is computed, never typed.
package explain

import (
	"fmt"
	"sort"

	"github.com/kubectl-caps/kubectl-caps/pkg/api"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// Capability is one catalog entry as explain prints it.
type Capability struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	catalog.Entry
	// DefaultIn names the runtime profiles that grant the capability to every
	// container unless it is dropped.
	DefaultIn []string `json:"defaultIn"`
}

// List is the object printed for several capabilities (or all of them).
type List struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Items      []Capability `json:"items"`
}

// Build joins catalog entries with the runtime profiles' defaults.
func Build(caps []capability.Cap) []Capability {
	cat := catalog.Default()
	known := runtimes.Known()
	out := make([]Capability, 0, len(caps))
	for _, c := range caps {
		v := Capability{Entry: *cat.Get(c), DefaultIn: []string{}}
		for _, p := range known {
			if p.Defaults().Has(c) {
				v.DefaultIn = append(v.DefaultIn, p.Name())
			}
		}
		out = append(out, v)
	}
	return out
}

// Object returns what -o json|yaml prints: the bare entry for one
// capability named on the command line, a List otherwise.
func Object(views []Capability, single bool) any {
	if single && len(views) == 1 {
		v := views[0]
		v.APIVersion, v.Kind = api.APIVersion, "Capability"
		return v
	}
	return List{APIVersion: api.APIVersion, Kind: "CapabilityList", Items: views}
}

// SortBy orders views in place by "number", "name" or "risk" (highest
// first, then by number).
func SortBy(views []Capability, key string) error {
	switch key {
	case "", "number":
		sort.SliceStable(views, func(i, j int) bool { return views[i].Number < views[j].Number })
	case "name":
		sort.SliceStable(views, func(i, j int) bool { return views[i].Name < views[j].Name })
	case "risk":
		sort.SliceStable(views, func(i, j int) bool {
			a, b := views[i].Risk.Level(), views[j].Risk.Level()
			if a != b {
				return a > b
			}
			return views[i].Number < views[j].Number
		})
	default:
		return fmt.Errorf("unknown sort key %q; use number, name or risk", key)
	}
	return nil
}
