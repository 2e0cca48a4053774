package cmd

import (
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-caps/kubectl-caps/pkg/baseline"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/finding"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/records"
)

// exceptionFlags: audit's records of what is allowed (--exceptions, the
// allow annotation) and accepted for now (--baseline); docs/exceptions.md.
type exceptionFlags struct {
	ExceptionFiles          []string
	Baseline, WriteBaseline string

	exc    exception.Set
	base   *baseline.Baseline
	annErr error // the first malformed allow annotation
}

func (e *exceptionFlags) addExceptionFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&e.ExceptionFiles, "exceptions", nil, "A file of exceptions (kind: Exceptions): which workloads and containers may hold which capabilities or break which rules, why, and until when; repeatable. See docs/exceptions.md")
	f.StringVar(&e.Baseline, "baseline", "", "A file of accepted findings (written by --write-baseline): those are reported as known and do not fail --fail-on; only new findings do")
	f.StringVar(&e.WriteBaseline, "write-baseline", "", "Write the findings not excepted to this file, a baseline for --baseline")
}

// settling: records are in force, so --fail-on counts open findings.
func (e *exceptionFlags) settling() bool {
	return len(e.exc.Entries) > 0 || e.base != nil || e.WriteBaseline != ""
}

// readExceptions reads the files before any workload, so that a bad one
// fails (exit 3) before anything is printed.
func (e *exceptionFlags) readExceptions() (err error) {
	known := func(id string) bool { _, ok := finding.Lookup(id); return ok }
	if e.exc, e.base, err = records.Read(e.ExceptionFiles, e.Baseline, known); err != nil {
		return &ExitError{Code: ExitInput, Err: err}
	}
	return nil
}

// settle settles the findings of the rows shown and writes --write-baseline.
func (e *exceptionFlags) settle(items []report.Item, failOn string) (finding.Settled, error) {
	risk, _ := catalog.ParseRisk(failOn) // "" without the flag
	st := report.Settle(items, risk, e.exc, e.base, time.Now())
	if e.WriteBaseline != "" {
		if err := records.WriteBaseline(e.WriteBaseline, finding.BaselineEntries(st.Findings)); err != nil {
			return st, &ExitError{Code: ExitInternal, Err: err}
		}
	}
	return st, nil
}

// failing adds to *failed what --fail-on counts of a cluster's rows: the
// containers with open findings at or above it when records are in force,
// else the rows. errOut, when not nil, is told what the records did. A
// --write-baseline that cannot be written is its error.
func (o *AuditOptions) failing(failed *int, items []report.Item, errOut io.Writer) error {
	if !o.settling() {
		*failed += report.CountAtLeast(o.failOn, items...)
		return nil
	}
	st, err := o.settle(items, o.FailOn)
	if err == nil && errOut != nil {
		printers.WriteSettled(errOut, st, o.WriteBaseline)
	}
	*failed += map[bool]int{true: finding.Failing(st.Findings)}[o.failOn != ""]
	return err
}

// ciFindings are the findings of the CI formats, settled.
func (o *AuditOptions) ciFindings(items []report.Item) []finding.Finding {
	st, _ := o.settle(items, o.FailOn) // failing, on the same rows first, returned a --write-baseline error
	return st.Findings
}

// annotations passes on a manifest's allow annotation
// (manifest.Workload.Allowances), keeping the first malformed one in annErr.
func (e *exceptionFlags) annotations(es []exception.Entry, err error) []exception.Entry {
	if err != nil && e.annErr == nil {
		e.annErr = &ExitError{Code: ExitInput, Err: err}
	}
	return es
}

// liveAllowances adds the allow annotations of a cluster's pods.
func (o *AuditOptions) liveAllowances(r *clusterRead) error {
	es, err := r.col.Exceptions(r.name)
	if err != nil {
		return &ExitError{Code: ExitInput, Err: err}
	}
	o.exc.Entries = append(o.exc.Entries, es...)
	return nil
}
