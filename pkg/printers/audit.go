package printers

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// AuditTableOptions shape the audit table.
type AuditTableOptions struct {
	Wide      bool
	NoHeaders bool
	// Color marks high and critical capabilities in red and medium ones in
	// yellow; only for terminals.
	Color bool
	// ShowPods adds the PODS column of a live audit.
	ShowPods bool
}

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

// WriteAuditTable prints one row per workload container.
func WriteAuditTable(w io.Writer, items []report.Item, o AuditTableOptions) error {
	header := []string{"NAMESPACE", "WORKLOAD", "CONTAINER"}
	if o.ShowPods {
		header = append(header, "PODS")
	}
	header = append(header, "USER", "EFFECTIVE", "MAX-RISK")
	if o.Wide {
		header = append(header, "BOUNDING", "RUNTIME", "PSS", "ADDED", "DROPPED", "WARNINGS")
	}
	rows := make([][]string, 0, len(items))
	for i := range items {
		it := &items[i]
		row := []string{it.Namespace, it.Workload.Kind + "/" + it.Workload.Name, ContainerLabel(it.Container, it.ContainerType)}
		if o.ShowPods {
			row = append(row, strconv.Itoa(it.Pods))
		}
		eff := capList(it, it.Effective, true, o.Color)
		if it.CannotStart != "" {
			// "-" would read as a running container that holds nothing.
			eff = "(not started)"
		}
		row = append(row, userLabel(it), eff, riskLabel(it.MaxRisk, o.Color))
		if o.Wide {
			row = append(row, capList(it, it.Bounding, false, o.Color), it.Runtime, it.PSSCapabilities,
				listOrDash(it.Added), listOrDash(it.Dropped), strconv.Itoa(len(it.Warnings)))
		}
		rows = append(rows, row)
	}
	return Table(w, header, rows, o.NoHeaders)
}

// ContainerLabel names a container in a table, marking init and ephemeral
// containers so they are not mistaken for the workload's main ones.
func ContainerLabel(name string, typ engine.ContainerType) string {
	switch typ {
	case engine.TypeInitContainer:
		return name + " (init)"
	case engine.TypeEphemeralContainer:
		return name + " (ephemeral)"
	}
	return name
}

func userLabel(it *report.Item) string {
	if it.UID != nil {
		return fmt.Sprintf("%s(%d)", it.User, *it.UID)
	}
	return it.User
}

func listOrDash(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

// capList renders capability names, "ALL" for all 41 and "-" for none;
// on a terminal the risky ones are coloured by their (amplified) risk.
func capList(it *report.Item, names []string, effective, color bool) string {
	if len(names) == 0 {
		return "-"
	}
	prefix := ""
	if len(names) >= allExceptThreshold {
		// Nearly everything: name what is missing instead of 30-odd
		// capabilities that no one reads.
		prefix, names = "ALL", missing(names)
		if len(names) > 0 {
			prefix += " except "
		}
		if color {
			prefix = ansiBold + ansiRed + prefix + ansiReset
		}
		return prefix + strings.Join(names, ",")
	}
	if !color {
		return strings.Join(names, ",")
	}
	risk := make(map[string]string, len(it.Findings))
	for _, f := range it.Findings {
		if !f.Inert {
			risk[f.Capability] = f.Risk
		}
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = paint(n, risk[n])
	}
	return strings.Join(parts, ",")
}

// allExceptThreshold is where "ALL except X,Y" becomes shorter to read than
// the list itself.
const allExceptThreshold = 30

// missing returns the capabilities 0..40 that are not in names, sorted.
func missing(names []string) []string {
	have := make(map[string]bool, len(names))
	for _, n := range names {
		have[n] = true
	}
	all := capability.All.Names()
	out := all[:0]
	for _, n := range all {
		if !have[n] {
			out = append(out, n)
		}
	}
	return out
}

func riskLabel(r string, color bool) string {
	if !color {
		return r
	}
	return paint(r, r)
}

func paint(s, risk string) string {
	switch catalog.Risk(risk) {
	case catalog.RiskCritical:
		return ansiBold + ansiRed + s + ansiReset
	case catalog.RiskHigh:
		return ansiRed + s + ansiReset
	case catalog.RiskMedium:
		return ansiYellow + s + ansiReset
	}
	return s
}
