package printers

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/evidence"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/safetext"
)

// evidenceHeader are the audit table's columns from traces: USED (an
// audited check allowed), DENIED (refused: wanted, not held) and, wide,
// UNUSED (held, in the bounding set, and never used in the window).
func evidenceHeader(wide bool) []string {
	if wide {
		return []string{"USED", "DENIED", "UNUSED"}
	}
	return []string{"USED", "DENIED"}
}

// noEvents stands in USED and DENIED for a container the traces never saw:
// "-" would read as "uses nothing".
const noEvents = "(no events)"

func evidenceCells(it *report.Item, wide, color bool) []cell {
	e := it.Evidence
	if e == nil || !e.Observed {
		out := []cell{{text: noEvents}, {text: noEvents}}
		if wide {
			out = append(out, cell{text: noEvents})
		}
		return out
	}
	cells := []*capCell{heldCell(it, e.Used), heldCell(it, e.Denied)}
	if wide {
		cells = append(cells, heldCell(it, e.Unused))
	}
	out := make([]cell, len(cells))
	for i, c := range cells {
		// "ALL except" reads as a holding; here it would mislead.
		c.except = 0
		if wide {
			out[i] = cell{text: c.full(color), styled: true}
		} else {
			out[i] = cell{caps: c}
		}
	}
	return out
}

// WriteEvidenceProblems writes, for audit and suggest-drop --evidence,
// the records --evidence-skip-invalid left out (one warning with a count
// and the first problems) and the gadget's own messages ("lost 12
// samples": the trace is incomplete).
func WriteEvidenceProblems(w io.Writer, st evidence.Stats) {
	if st.Skipped > 0 {
		fmt.Fprintf(w, "Warning: --evidence-skip-invalid left out %d line(s) or record(s) that are no trace_capabilities event, first:\n", st.Skipped)
		for _, p := range st.Problems {
			fmt.Fprintf(w, "  %s\n", p.Error())
		}
	}
	if st.Messages > 0 {
		fmt.Fprintf(w, "Warning: the traces hold %d message(s) from Inspektor Gadget itself; the trace may be incomplete: %s\n",
			st.Messages, strings.Join(st.MessageTexts, "; "))
	}
}

// WriteEvidenceDisagreements warns, loudly, about each container whose
// trace shows a capability allowed that the engine says it cannot hold:
// a wrong runtime profile, a node-level override, or a defect of this
// tool (docs/evidence.md). They are never merged into the verdict.
func WriteEvidenceDisagreements(w io.Writer, items []report.Item) {
	for i := range items {
		it := &items[i]
		if it.Evidence == nil || len(it.Evidence.Disagreements) == 0 {
			continue
		}
		fmt.Fprintf(w, "WARNING: MODEL DISAGREEMENT in %s %s container %s: the trace shows %s allowed, but the audit (runtime %s) says the container cannot hold %s. "+
			"The runtime profile may be wrong for this node (--runtime), a node-level setting may override it, or this is a defect of kubectl caps (please report it). "+
			"The audit's verdict is left as it is; see docs/evidence.md.\n",
			safetext.Quote(it.Namespace), it.Workload.Label(), safetext.Quote(it.Container), strings.Join(it.Evidence.Disagreements, ", "), RuntimeLabel(it), pronoun(len(it.Evidence.Disagreements)))
	}
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// WriteEvidenceSummary writes the one line that says what the traces rest
// on: events, when, nodes; then, of the containers judged (keys), those
// the traces never saw, and the traced containers outside them (other
// namespaces or workloads than those selected, or workloads gone).
func WriteEvidenceSummary(w io.Writer, res *evidence.Result, keys []evidence.Key) {
	if res == nil {
		return // no --evidence
	}
	containers, unobserved, unmatched := res.Coverage(keys)
	win := res.Window
	st := &res.Stats
	line := fmt.Sprintf("Evidence: %d audited capability check(s)", win.Audited)
	if st.NotAudited > 0 {
		line += fmt.Sprintf(" (and %d not audited, which count for nothing)", st.NotAudited)
	}
	if !win.First.IsZero() {
		line += fmt.Sprintf(" from %s to %s (%s)", win.First.UTC().Format(time.RFC3339), win.Last.UTC().Format(time.RFC3339), span(win.Last.Sub(win.First)))
	}
	if n := len(win.Nodes); n > 0 {
		line += fmt.Sprintf(" on %d node(s)", n)
	}
	line += fmt.Sprintf("; %d of %d container(s) without events", unobserved, containers)
	if unmatched > 0 {
		line += fmt.Sprintf("; %d traced container(s) outside what was selected", unmatched)
	}
	if st.NoPod > 0 {
		line += fmt.Sprintf("; %d check(s) without a pod (host processes)", st.NoPod)
	}
	fmt.Fprintln(w, line+".")
}

// WriteEvidenceEnd writes what follows an audit --evidence's output on
// stderr: the model disagreements, then the summary line. Nothing for a
// nil j (no --evidence).
func WriteEvidenceEnd(w io.Writer, j *report.Joined) {
	if j == nil {
		return
	}
	WriteEvidenceDisagreements(w, j.Items)
	WriteEvidenceSummary(w, j.Result, report.EvidenceKeys(j.Items))
}

// span is a window's length the way a person says it: "7d1h", "2h5m",
// "40s".
func span(d time.Duration) string {
	d = d.Round(time.Second)
	days, rest := d/(24*time.Hour), d%(24*time.Hour)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, rest/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, (d%time.Hour)/time.Minute)
	}
	return d.String()
}
