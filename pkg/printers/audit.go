package printers

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/safetext"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
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
	// PerPod (--per-pod) adds the POD column, each row's pod, in place of
	// PODS, which is then always 1.
	PerPod bool
	// Width is the width the default table is fitted to (see fit), 0 for
	// unbounded; -o wide is never fitted. TerminalWidth gives the value for
	// stdout.
	Width int
	// Evidence adds USED and DENIED (and UNUSED with Wide) from
	// report.Item.Evidence (audit --evidence).
	Evidence bool
}

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

// WriteAuditTable prints one row per workload container. The default table
// is short: EFFECTIVE as a count with the riskiest names, fitted to
// o.Width; -o wide adds USER, the full lists and the rest.
func WriteAuditTable(w io.Writer, items []report.Item, o AuditTableOptions) error {
	header := []string{"NAMESPACE", "WORKLOAD"}
	clusterCol := len(items) > 0 && items[0].Cluster != ""
	if clusterCol {
		header = slices.Insert(header, 0, "CLUSTER")
	}
	if o.PerPod {
		header = append(header, "POD")
	}
	header = append(header, "CONTAINER")
	if o.ShowPods && !o.PerPod {
		header = append(header, "PODS")
	}
	// RUNTIME stands in the default table when a workload's rows differ
	// by runtime alone; -o wide always has it, further right.
	runtimeCol := !o.Wide && spansRuntimes(len(items), func(i int) (string, string) {
		return workloadKey(items[i].Namespace, items[i].Workload), RuntimeLabel(&items[i])
	})
	if runtimeCol {
		header = append(header, "RUNTIME")
	}
	var ephemeral map[string]bool
	if o.ShowPods && !o.PerPod {
		ephemeral = withEphemeral(items)
	}
	if o.Wide {
		header = append(header, "USER")
	}
	// The verdict first: MAX-RISK with its reason, then what gives it.
	header = append(header, "MAX-RISK", "EFFECTIVE")
	if o.Evidence {
		header = append(header, evidenceHeader(o.Wide)...)
	}
	if o.Wide {
		header = append(header, "BOUNDING", "RUNTIME", "PSS-CAPS", "ADDED", "DROPPED", "WARNINGS")
	}
	rows := make([][]cell, 0, len(items))
	for i := range items {
		it := &items[i]
		row := []cell{{text: safetext.Quote(it.Namespace)}, {text: WorkloadLabel(it.Workload.Kind, it.Workload.Name)}}
		if clusterCol {
			row = slices.Insert(row, 0, cell{text: safetext.Quote(it.Cluster)})
		}
		if o.PerPod {
			pod := it.Pod
			if it.FromTemplate {
				pod = "(no pods)"
			}
			row = append(row, cell{text: pod})
		}
		row = append(row, cell{text: ContainerLabel(it.Container, it.ContainerType, it.Sidecar)})
		if o.ShowPods && !o.PerPod {
			pods := strconv.Itoa(it.Pods)
			if ephemeral[groupKey(it)] {
				// These pods' rows are split from their siblings'
				// by the ephemeral container.
				pods += " (with ephemeral)"
			}
			row = append(row, cell{text: pods})
		}
		if runtimeCol {
			row = append(row, cell{text: RuntimeLabel(it)})
		}
		if o.Wide {
			row = append(row, cell{text: userLabel(it)})
		}
		eff := cell{caps: heldCell(it, it.Effective)}
		switch {
		case it.CannotStart != "":
			// "-" would read as a running container that holds nothing.
			eff = cell{text: "(not started)"}
		case o.Wide:
			eff = cell{text: eff.caps.full(o.Color), styled: true}
		}
		risk := cell{forms: maxRiskForms(it, o.Color)}
		if o.Wide {
			risk = cell{text: risk.forms[len(risk.forms)-1]}
		}
		row = append(row, risk, eff)
		if o.Evidence {
			row = append(row, evidenceCells(it, o.Wide, o.Color)...)
		}
		if o.Wide {
			row = append(row, cell{text: heldCell(it, it.Bounding).full(o.Color), styled: true}, cell{text: RuntimeLabel(it)}, cell{text: it.PSSCapabilities},
				cell{text: listOrDash(it.Added)}, cell{text: listOrDash(it.Dropped)}, cell{text: strconv.Itoa(len(it.Warnings))})
		}
		rows = append(rows, row)
	}
	width := o.Width
	if o.Wide {
		// -o wide is the detail: never fitted.
		width = 0
	}
	return Table(w, header, fit(header, rows, width, o.NoHeaders, o.Color), o.NoHeaders)
}

// WorkloadLabel names a workload in a table as kubectl takes it on the
// command line (workload.Kind.Short), so that a row can be pasted into
// `kubectl caps audit deploy/web` or `kubectl get`, and the long kind names
// ("ReplicationController/") do not take a quarter of a 120-column table.
// Other kinds (custom resources) keep their kind, which kubectl also
// accepts.
func WorkloadLabel(kind, name string) string {
	return workload.Ref{Kind: kind, Name: name}.Label()
}

// ContainerLabel names a container in a table, marking init containers,
// native sidecars (init containers with restartPolicy: Always, which run
// beside the main ones for the pod's life) and ephemeral containers so they
// are not mistaken for the workload's main ones.
func ContainerLabel(name string, typ engine.ContainerType, sidecar bool) string {
	name = safetext.Quote(name)
	switch {
	case sidecar:
		return name + " (sidecar)"
	case typ == engine.TypeInitContainer:
		return name + " (init)"
	case typ == engine.TypeEphemeralContainer:
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
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = safetext.Quote(s)
	}
	return strings.Join(q, ",")
}

// heldCell is a set the container holds, each member with its risk in
// this pod (amplified where the pod's context raises it; inert
// capabilities, which the kernel ignores in the pod's user namespace, rank
// lowest). "ALL except" names what the set lacks: that is exact for a held
// set.
func heldCell(it *report.Item, names []string) *capCell {
	s := capability.SetOfNames(names)
	risk := make(map[string]catalog.Risk, len(it.Findings))
	for _, f := range it.Findings {
		if !f.Inert {
			risk[f.Capability] = catalog.Risk(f.Risk)
		}
	}
	return &capCell{set: s, except: capability.All.Minus(s), risk: risk}
}

// maxRiskForms are the forms of the MAX-RISK cell, shortest first: the
// risk; the risk and the capability that gives it; the risk and why, in
// full. The reason is the finding that gives the risk
// (report.Item.MaxRiskFinding): the capability, how a non-root container
// gets it when it does not hold it after exec ("via setuid", "via file
// caps"), and the amplifier that raised it to this risk in pkg/risk's words
// (catalog.Amplifier.Label): "high (NET_RAW)", "high (NET_ADMIN via file
// caps)", "critical (NET_RAW with hostNetwork)". Only the risk is coloured,
// as before the reason.
func maxRiskForms(it *report.Item, color bool) []string {
	r := riskLabel(it.MaxRisk, color)
	f := it.MaxRiskFinding()
	if f == nil {
		return []string{r}
	}
	full := f.Capability
	switch f.Exposure {
	case report.ExposureSetuid:
		full += " via setuid"
	case report.ExposureFileCaps:
		full += " via file caps"
	}
	if amp := raisedBy(f); amp != nil {
		full += " " + amp.Label()
	}
	if full == f.Capability {
		return []string{r, r + " (" + f.Capability + ")"}
	}
	return []string{r, r + " (" + f.Capability + ")", r + " (" + full + ")"}
}

// raisedBy is the first amplifier, in catalog order, that raises f to its
// risk. Each such amplifier alone explains the risk (pkg/risk), so one is
// named; one that raises the capability less says nothing about it.
func raisedBy(f *report.Finding) *catalog.Amplifier {
	c, ok := capability.Lookup(f.Capability)
	if !ok || len(f.Amplified) == 0 {
		return nil
	}
	e := catalog.Default().Get(c)
	for i := range e.Amplifiers {
		amp := &e.Amplifiers[i]
		if string(amp.Risk) == f.Risk && slices.Contains(f.Amplified, amp.When) {
			return amp
		}
	}
	return nil
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
