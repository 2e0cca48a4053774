package report

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/kubectl-caps/kubectl-caps/pkg/api"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
)

// The versions of the CapabilityReport document (docs/report.md). Version
// v1alpha1 is the Report above: every item carries one finding per
// capability of its bounding set, with the catalog's risk and
// recommendation repeated in each. Version v1alpha2 is the LeanReport:
// the same items, the catalog's constants once per document, and a finding
// only where it says more than the document's defaults. Issue 15: on the
// shared corpus the findings were 60% of a v1alpha1 report.
const (
	Version1    = api.Version // v1alpha1
	Version2    = "v1alpha2"
	APIVersion2 = api.Group + "/" + Version2
)

// Versions are the values of audit's --report-version, the default first.
var Versions = []string{Version1, Version2}

// LeanReport is the v1alpha2 document. Capabilities holds, for every
// capability in some item's bounding set, its catalog risk and
// recommendation; a live audit streams the items and writes this section
// after them (printers.ReportStream), so it comes last in JSON and YAML.
type LeanReport struct {
	APIVersion   string                  `json:"apiVersion"`
	Kind         string                  `json:"kind"`
	Items        []LeanItem              `json:"items"`
	Capabilities map[string]CatalogEntry `json:"capabilities"`
}

// CatalogEntry is what the catalog says of a capability in any container
// (explain CAP): its base risk tier and recommendation.
type CatalogEntry struct {
	Risk           string `json:"risk"`
	Recommendation string `json:"recommendation"`
}

// CatalogOf is the catalog section for the capabilities of set.
func CatalogOf(set capability.Set) map[string]CatalogEntry {
	m := make(map[string]CatalogEntry, set.Len())
	cat := catalog.Default()
	for _, c := range set.Caps() {
		e := cat.Get(c)
		m[c.String()] = CatalogEntry{Risk: string(e.Risk), Recommendation: string(e.Recommendation)}
	}
	return m
}

// LeanItem is an Item as v1alpha2 prints it: every field of the Item (it
// is embedded, so its Go API and JSON names stay those of v1alpha1) except
// findings, which the outer field replaces (encoding/json lets the
// shallower field win).
type LeanItem struct {
	*Item
	// Findings are the capabilities of Bounding whose finding differs from
	// the defaults (LeanFinding); [] when none does.
	Findings []LeanFinding `json:"findings"`
}

// LeanFinding is a v1alpha1 Finding that differs from the defaults of its
// item, with only the fields that differ. The defaults, for a capability
// of bounding: risk and recommendation, the document's capabilities entry;
// effective, whether effective lists it; exposure, effective when
// effective, else setuid when reachable.viaSetuid lists it, else
// file-caps when reachable.viaFileCaps does, else none; inert, whether
// inert lists it; explicit false; amplified none; counted, the rule of
// Finding.Counted (not inert, and exposure effective or setuid, or
// file-caps when explicit). Findings built by NewItem differ only in risk
// and amplified (an amplifier raised it) and in explicit; the other fields
// are there so that any Item survives the round trip (Expand).
type LeanFinding struct {
	Capability     string   `json:"capability"`
	Risk           string   `json:"risk,omitempty"`
	Amplified      []string `json:"amplified,omitempty"`
	Explicit       bool     `json:"explicit,omitempty"`
	Exposure       string   `json:"exposure,omitempty"`
	Counted        *bool    `json:"counted,omitempty"`
	Effective      *bool    `json:"effective,omitempty"`
	Inert          *bool    `json:"inert,omitempty"`
	Recommendation string   `json:"recommendation,omitempty"`
}

// defaults is what a finding of name is in it when the document says
// nothing more of it (LeanFinding).
func defaults(it *Item, name string, c CatalogEntry) Finding {
	f := Finding{
		Capability:     name,
		Risk:           c.Risk,
		Recommendation: c.Recommendation,
		Effective:      slices.Contains(it.Effective, name),
		Inert:          slices.Contains(it.Inert, name),
	}
	f.Exposure = defaultExposure(it, name, f.Effective)
	f.Counted = countedByRule(&f)
	return f
}

func defaultExposure(it *Item, name string, effective bool) string {
	switch {
	case effective:
		return ExposureEffective
	case it.Reachable != nil && slices.Contains(it.Reachable.ViaSetuid, name):
		return ExposureSetuid
	case it.Reachable != nil && slices.Contains(it.Reachable.ViaFileCaps, name):
		return ExposureFileCaps
	}
	return ExposureNone
}

// countedByRule is Finding.Counted's rule, which NewItem applies.
func countedByRule(f *Finding) bool {
	return !f.Inert && (f.Exposure == ExposureEffective || f.Exposure == ExposureSetuid ||
		f.Exposure == ExposureFileCaps && f.Explicit)
}

// Lean is it as v1alpha2 prints it. It fails when the findings are not one
// per capability of Bounding in its order, as NewItem builds them: the
// lean form keys its findings on Bounding.
func (it *Item) Lean() (LeanItem, error) {
	li := LeanItem{Item: it, Findings: []LeanFinding{}}
	if len(it.Findings) != len(it.Bounding) {
		return li, fmt.Errorf("internal error: %s/%s container %s has %d findings for %d bounding capabilities", it.Workload.Kind, it.Workload.Name, it.Container, len(it.Findings), len(it.Bounding))
	}
	cat := catalog.Default()
	for i := range it.Findings {
		f := &it.Findings[i]
		c, ok := capability.Lookup(f.Capability)
		if !ok || f.Capability != it.Bounding[i] {
			return li, fmt.Errorf("internal error: %s/%s container %s: finding %q is not bounding's %q", it.Workload.Kind, it.Workload.Name, it.Container, f.Capability, it.Bounding[i])
		}
		e := cat.Get(c)
		d := defaults(it, f.Capability, CatalogEntry{Risk: string(e.Risk), Recommendation: string(e.Recommendation)})
		d.Explicit = f.Explicit
		lf := LeanFinding{Capability: f.Capability, Amplified: f.Amplified, Explicit: f.Explicit}
		if f.Risk != d.Risk {
			lf.Risk = f.Risk
		}
		if f.Recommendation != d.Recommendation {
			lf.Recommendation = f.Recommendation
		}
		if f.Exposure != defaultExposure(it, f.Capability, f.Effective) {
			lf.Exposure = f.Exposure
		}
		// Counted's default follows the finding's own inert, exposure and
		// explicit, as Expand reads them back.
		d.Inert, d.Exposure = f.Inert, f.Exposure
		lf.Counted = boolIf(f.Counted, countedByRule(&d))
		lf.Effective = boolIf(f.Effective, d.Effective)
		lf.Inert = boolIf(f.Inert, slices.Contains(it.Inert, f.Capability))
		if lf.Risk != "" || lf.Recommendation != "" || lf.Exposure != "" || lf.Explicit || len(lf.Amplified) > 0 ||
			lf.Counted != nil || lf.Effective != nil || lf.Inert != nil {
			li.Findings = append(li.Findings, lf)
		}
	}
	return li, nil
}

// boolIf is a pointer to v when v is not the default d, nil when it is.
// The pointers are shared, so that a finding costs no allocation: nothing
// writes through them.
func boolIf(v, d bool) *bool {
	switch {
	case v == d:
		return nil
	case v:
		return &boolTrue
	}
	return &boolFalse
}

var boolTrue, boolFalse = true, false

// Expand is the v1alpha1 report a v1alpha2 document stands for: each item
// with its findings rebuilt, one per capability of bounding, from the
// catalog section and the item's own findings. A capability missing from
// the catalog section, or a finding outside bounding, is an error.
func (r *LeanReport) Expand() (*Report, error) {
	rep := &Report{APIVersion: api.APIVersion, Kind: Kind, Items: make([]Item, 0, len(r.Items))}
	for i := range r.Items {
		it, err := r.Items[i].Expand(r.Capabilities)
		if err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
		rep.Items = append(rep.Items, it)
	}
	return rep, nil
}

// Expand is the v1alpha1 item li stands for, given the document's catalog
// section.
func (li *LeanItem) Expand(cat map[string]CatalogEntry) (Item, error) {
	if li.Item == nil {
		return Item{}, fmt.Errorf("empty item")
	}
	it := *li.Item
	it.Findings = make([]Finding, 0, len(it.Bounding))
	given := make(map[string]*LeanFinding, len(li.Findings))
	for i := range li.Findings {
		lf := &li.Findings[i]
		if !slices.Contains(it.Bounding, lf.Capability) {
			return it, fmt.Errorf("finding %q is not in bounding", lf.Capability)
		}
		given[lf.Capability] = lf
	}
	for _, name := range it.Bounding {
		c, ok := cat[name]
		if !ok {
			return it, fmt.Errorf("capability %q of bounding is not in the document's capabilities", name)
		}
		f := defaults(&it, name, c)
		if lf := given[name]; lf != nil {
			f.Risk = cmp.Or(lf.Risk, f.Risk)
			f.Recommendation = cmp.Or(lf.Recommendation, f.Recommendation)
			f.Amplified, f.Explicit = lf.Amplified, lf.Explicit
			if lf.Effective != nil {
				f.Effective = *lf.Effective
				f.Exposure = defaultExposure(&it, name, f.Effective)
			}
			f.Exposure = cmp.Or(lf.Exposure, f.Exposure)
			if lf.Inert != nil {
				f.Inert = *lf.Inert
			}
			f.Counted = countedByRule(&f)
			if lf.Counted != nil {
				f.Counted = *lf.Counted
			}
		}
		it.Findings = append(it.Findings, f)
	}
	return it, nil
}

// NewLeanReport is the v1alpha2 document of items, held whole (for the
// formats that walk a document: jsonpath, custom-columns; the stream
// writes JSON and YAML without holding it).
func NewLeanReport(items []Item) (*LeanReport, error) {
	r := &LeanReport{APIVersion: APIVersion2, Kind: Kind, Items: make([]LeanItem, 0, len(items))}
	var caps capability.Set
	for i := range items {
		li, err := items[i].Lean()
		if err != nil {
			return nil, err
		}
		r.Items = append(r.Items, li)
		caps = caps.Union(capability.SetOfNames(items[i].Bounding))
	}
	r.Capabilities = CatalogOf(caps)
	return r, nil
}
