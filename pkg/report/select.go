package report

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
)

// Order is an order of audit's rows (--sort-by).
type Order string

// The orders --sort-by takes. OrderRead, the default, keeps the rows in the
// order they were read: manifests file by file and object by object, a live
// cluster in the order the API server listed the pods (by namespace, then
// name), followed by the controllers audited from their templates.
const (
	OrderRead      Order = ""
	OrderRisk      Order = "risk"
	OrderNamespace Order = "namespace"
	OrderWorkload  Order = "workload"
)

// Orders are the values --sort-by takes, for its help and completion.
var Orders = []string{string(OrderRisk), string(OrderNamespace), string(OrderWorkload)}

// Selection is which of an audit's rows are printed, and in which order:
// --capability, --min-risk and --sort-by. --fail-on counts the rows it
// keeps, so that its exit code and message speak of the rows on screen.
type Selection struct {
	// Holding keeps the containers that hold any of these (Item.Holds);
	// empty keeps every container.
	Holding capability.Set
	// MinRisk keeps the containers whose MaxRisk is at least this; ""
	// keeps every container.
	MinRisk catalog.Risk
	Order   Order
}

// ParseSelection reads the flags' values; an error names the flag and says
// what it takes. Every unknown capability name is reported at once, each
// with capability.Parse's closest names.
func ParseSelection(minRisk string, holding []string, sortBy string) (Selection, error) {
	var s Selection
	var errs []error
	if minRisk != "" {
		r, err := catalog.ParseRisk(minRisk)
		if err != nil {
			errs = append(errs, fmt.Errorf("--min-risk: %v", err))
		}
		s.MinRisk = r
	}
	for _, name := range holding {
		if strings.EqualFold(strings.TrimSpace(name), "ALL") {
			errs = append(errs, fmt.Errorf("--capability: ALL is the keyword of capabilities.add and drop, not a capability; "+
				"name capabilities (--capability=NET_RAW,SYS_ADMIN), or use --min-risk=low for every container that holds anything risky"))
			continue
		}
		c, err := capability.Parse(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("--capability: %v", err))
			continue
		}
		s.Holding = s.Holding.Add(c)
	}
	switch o := Order(sortBy); {
	case o == OrderRead || slices.Contains(Orders, sortBy):
		s.Order = o
	case strings.HasPrefix(sortBy, ".") || strings.HasPrefix(sortBy, "{"):
		// kubectl get --sort-by takes a JSONPath over objects; audit's rows
		// are containers, whose fields sort badly as text (maxRisk's
		// "critical" before "high" before "low").
		errs = append(errs, fmt.Errorf("--sort-by: %q is a JSONPath expression, which kubectl get sorts objects by; "+
			"audit sorts its rows by %s (for any other order: -o json | jq '.items | sort_by(.FIELD)')", sortBy, orList(Orders)))
	default:
		errs = append(errs, fmt.Errorf("--sort-by: unknown order %q; use %s", sortBy, orList(Orders)))
	}
	return s, errors.Join(errs...)
}

// Holds reports whether the container holds any of caps in the sense
// MaxRisk counts (Finding.Counted): held after exec, regainable through a
// setuid-root binary, or, when the manifest adds it, through file
// capabilities; never an inert one. So `--capability NET_RAW` lists the
// rows whose NET_RAW takes part in MAX-RISK, and not a non-root container
// with no_new_privs that only keeps NET_RAW in its bounding set.
func (it *Item) Holds(caps capability.Set) bool {
	for i := range it.Findings {
		f := &it.Findings[i]
		if c, ok := capability.Lookup(f.Capability); ok && f.Counted && caps.Has(c) {
			return true
		}
	}
	return false
}

// Keep reports whether the selection prints the item.
func (s Selection) Keep(it *Item) bool {
	return (s.Holding.Empty() || it.Holds(s.Holding)) && (s.MinRisk == "" || it.RiskAtLeast(s.MinRisk))
}

// Filtered reports whether the selection hides any row.
func (s Selection) Filtered() bool { return !s.Holding.Empty() || s.MinRisk != "" }

// Apply keeps, in place, the items the selection prints, in its order.
func (s Selection) Apply(items []Item) []Item {
	kept := items[:0]
	for i := range items {
		if s.Keep(&items[i]) {
			kept = append(kept, items[i])
		}
	}
	if s.Order != OrderRead {
		// Stable: rows equal in every key (one workload's pods on two
		// runtimes) keep the order they were read in.
		slices.SortStableFunc(kept, s.compare)
	}
	return kept
}

// compare orders two items by the selection's key, then by the rest of
// namespace, workload (name, then kind) and container, then pod.
func (s Selection) compare(a, b Item) int {
	var first int
	switch s.Order {
	case OrderRisk:
		// Highest first.
		first = catalog.Risk(b.MaxRisk).Level() - catalog.Risk(a.MaxRisk).Level()
	case OrderWorkload:
		first = cmp.Or(cmp.Compare(a.Workload.Name, b.Workload.Name), cmp.Compare(a.Workload.Kind, b.Workload.Kind))
	}
	return cmp.Or(first,
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Workload.Name, b.Workload.Name),
		cmp.Compare(a.Workload.Kind, b.Workload.Kind),
		cmp.Compare(a.Container, b.Container),
		cmp.Compare(a.Pod, b.Pod))
}

// String says what the selection keeps, for the line that says no row was
// kept: "holding NET_RAW or SYS_ADMIN (--capability) at or above
// --min-risk=high".
func (s Selection) String() string {
	var parts []string
	if !s.Holding.Empty() {
		parts = append(parts, "holding "+orList(s.Holding.Names())+" (--capability)")
	}
	if s.MinRisk != "" {
		parts = append(parts, "at or above --min-risk="+string(s.MinRisk))
	}
	return strings.Join(parts, " ")
}

// orList writes "a, b or c".
func orList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// CountAtLeast counts the items whose MaxRisk reaches min (--fail-on); none
// when min is "", no threshold.
func CountAtLeast(min catalog.Risk, items ...Item) int {
	n := 0
	for i := range items {
		if min != "" && items[i].RiskAtLeast(min) {
			n++
		}
	}
	return n
}
