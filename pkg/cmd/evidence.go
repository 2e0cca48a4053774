package cmd

import (
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kubectl-caps/kubectl-caps/pkg/evidence"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
)

// evidenceFlags: audit's and suggest-drop's traces (docs/evidence.md).
type evidenceFlags struct {
	Evidence            []string
	EvidenceSkipInvalid bool

	traces *evidence.Traces
	res    *evidence.Result
}

func (e *evidenceFlags) addEvidenceFlags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&e.Evidence, "evidence", nil, "Inspektor Gadget trace_capabilities output (-o json, jsonpretty or a JSON array; any release) to compare with: a file, a directory (read recursively) or - for standard input; repeatable. See docs/evidence.md")
	cmd.Flags().BoolVar(&e.EvidenceSkipInvalid, "evidence-skip-invalid", false, "Leave out lines of --evidence that are no trace event (with one warning and a count) instead of failing with exit code 3")
}

// readEvidence reads the traces before any workload, so that a bad trace
// fails (exit 3) before anything is printed; the source fills s.index.
func (e *evidenceFlags) readEvidence(s *sourceOptions, in io.Reader, errOut io.Writer) (err error) {
	if slices.Contains(e.Evidence, "-") && slices.Contains(s.Filenames, "-") {
		return usageErrorf(s.cmdPath, "--evidence - and -f - both read standard input; write one of them to a file")
	}
	if e.traces, err = evidence.Open(e.Evidence, evidence.Options{SkipInvalid: e.EvidenceSkipInvalid}, in); err != nil {
		return &ExitError{Code: ExitInput, Err: err}
	}
	s.index = e.traces.Pods()
	printers.WriteEvidenceProblems(errOut, e.traces.Stats())
	return nil
}
