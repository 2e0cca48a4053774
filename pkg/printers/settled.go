package printers

import (
	"fmt"
	"io"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/finding"
	"github.com/kubectl-caps/kubectl-caps/pkg/safetext"
)

// WriteSettled says on stderr what exceptions and the baseline did
// (docs/exceptions.md): how many findings each took out of --fail-on,
// the exceptions that covered nothing or have expired, and the baseline
// entries that no longer occur, so that neither list rots unseen.
func WriteSettled(w io.Writer, st finding.Settled, wroteBaseline string) {
	fmt.Fprintf(w, "Findings: %d open, %d excepted, %d known from the baseline.\n", st.Open, st.Excepted, st.Known)
	for _, e := range st.Expired {
		fmt.Fprintf(w, "Warning: the exception at %s expired on %s and no longer applies (%s).\n", safetext.Prose(e.Origin), e.Expires.Format(time.DateOnly), safetext.Prose(e.Reason))
	}
	for _, e := range st.Unused {
		fmt.Fprintf(w, "Warning: the exception at %s covered no finding of the containers shown; remove it, or fix what it names.\n", safetext.Prose(e.Origin))
	}
	if n := len(st.Fixed); n > 0 {
		fmt.Fprintf(w, "%d baseline entr%s no longer occur (fixed); regenerate the baseline with --write-baseline to drop %s:\n", n, map[bool]string{true: "y", false: "ies"}[n == 1], map[bool]string{true: "it", false: "them"}[n == 1])
		for _, b := range st.Fixed {
			fmt.Fprintf(w, "  %s %s container %s %s\n", safetext.Quote(b.Rule), safetext.Quote(b.Workload), safetext.Quote(b.Container), safetext.Quote(b.Capability))
		}
	}
	if wroteBaseline != "" {
		fmt.Fprintf(w, "Wrote %d finding(s) to the baseline %s.\n", st.Open+st.Known, safetext.Prose(wroteBaseline))
	}
}
