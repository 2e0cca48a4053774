package printers

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/safetext"
)

// WriteWarnings prints the spec warnings on stderr, so that stdout stays
// data. Each is one line that names the object as the table does and says
// where to look, then the warning's short form (report.Warning.Summary):
//
//	Warning: FILE:LINE: NAMESPACE KIND/NAME, container NAME: FIELD: SUMMARY
//
// (FILE:LINE for manifests only: the line of the field, or of its nearest
// ancestor the manifest writes). full (-o wide) adds the whole explanation
// under each line, indented; JSON and YAML always carry it as message. A
// line printed once is not printed again: the rows of one workload that a
// live audit splits by runtime, or by pod with --per-pod, would repeat it.
// "The image decides the user" applies to most real manifests; it is said
// once with a count rather than once per container.
func WriteWarnings(w io.Writer, items []report.Item, full bool) {
	unknownUser := map[string]bool{}
	printed := map[string]bool{}
	for i := range items {
		it := &items[i]
		for _, warn := range it.Warnings {
			if warn.Code == "unknown-user" {
				unknownUser[workloadKey(it.Namespace, it.Workload)+"\x00"+it.Container] = true
				continue
			}
			line := warningLine(it, &warn)
			if full {
				line += "\n  " + safetext.Prose(warn.Message)
			}
			if printed[line] {
				continue
			}
			printed[line] = true
			fmt.Fprintln(w, line)
		}
	}
	if n := len(unknownUser); n > 0 {
		fmt.Fprintf(w, "Warning: %d container(s) set neither runAsUser nor runAsNonRoot, so the image's USER decides; "+
			"they are audited as root (USER unknown). Set runAsUser or runAsNonRoot: true to make it explicit.\n", n)
	}
}

// warningLine is the one line of a warning (see WriteWarnings).
func warningLine(it *report.Item, warn *report.Warning) string {
	var b strings.Builder
	b.WriteString("Warning: ")
	if warn.Location != "" {
		b.WriteString(safetext.Prose(warn.Location) + ": ")
	}
	fmt.Fprintf(&b, "%s %s, container %s: %s: ", safetext.Quote(it.Namespace), WorkloadLabel(it.Workload.Kind, it.Workload.Name),
		ContainerLabel(it.Container, it.ContainerType, it.Sidecar), warn.Field)
	if warn.Summary != "" {
		b.WriteString(safetext.Prose(warn.Summary))
	} else {
		b.WriteString(safetext.Prose(warn.Message))
	}
	return b.String()
}
