package printers

import (
	"fmt"
	"io"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// WriteWarnings prints the spec warnings on stderr, so that stdout stays
// data. "The image decides the user" applies to most real manifests; it is
// said once with a count rather than once per container.
func WriteWarnings(w io.Writer, items []report.Item) {
	unknownUser := 0
	for _, it := range items {
		for _, warn := range it.Warnings {
			if warn.Code == "unknown-user" {
				unknownUser++
				continue
			}
			fmt.Fprintf(w, "Warning: %s/%s/%s: %s: %s\n", it.Namespace, it.Workload.Kind, it.Workload.Name, warn.Field, warn.Message)
		}
	}
	if unknownUser > 0 {
		fmt.Fprintf(w, "Warning: %d container(s) set neither runAsUser nor runAsNonRoot, so the image's USER decides; "+
			"they are audited as root (USER unknown). Set runAsUser or runAsNonRoot: true to make it explicit.\n", unknownUser)
	}
}
