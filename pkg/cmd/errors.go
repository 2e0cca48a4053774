package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-caps/kubectl-caps/pkg/source/cluster"
)

// Exit codes, documented in every command's help. They follow kubectl diff:
// 1 means "the check found something", 2 and above mean "the check could
// not be done".
const (
	ExitOK       = 0
	ExitFindings = 1 // findings at or above --fail-on
	ExitUsage    = 2 // bad flags or arguments, unknown capability or runtime names
	ExitInput    = 3 // unreadable or malformed manifests
	ExitCluster  = 4 // the cluster could not be read: unreachable, unauthorised, forbidden, timed out
	ExitInternal = 5 // the output could not be written, or a bug
	ExitPartial  = 6 // several contexts: some could not be read, the others were printed
)

const exitCodesHelp = `Exit codes:
  0  success
  1  findings at or above --fail-on (audit, suggest-drop)
  2  usage error: bad flag or argument, unknown capability or runtime name
  3  input error: a manifest, an --evidence trace, an --exceptions or --baseline file or an allow annotation could not be read or parsed
  4  cluster error: unreachable, unauthorised, forbidden or timed out
  5  the output could not be written (a closed pipe, a full disk), or an
     internal error (a bug: please report it)
  6  partial (several contexts, without --fail-fast): some clusters could not
     be read, each named in an error line; the others were printed. It
     wins over 1, whose message is printed too (docs/fleet.md)`

// explainExitCodesHelp is explain's: it reads only the embedded catalog,
// has no --fail-on, no manifests and no cluster, so 1, 3 and 4 cannot
// occur.
const explainExitCodesHelp = `Exit codes:
  0  success
  2  usage error: bad flag or argument, unknown capability name
  5  the output could not be written (a closed pipe, a full disk), or an
     internal error (a bug: please report it)`

// ExitError carries the process exit code for an error; main maps it.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the exit code for an error returned by a command: 0 for nil,
// the code of an *ExitError, 2 for anything else: cobra's own errors
// (unknown command, wrong number of arguments) are usage errors, and every
// error a command's Run returns is an *ExitError (see runE).
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitUsage
}

// usageErrorf is a usage error that tells the user where to read more, the
// way kubectl's cmdutil.UsageErrorf does.
func usageErrorf(cmdPath, format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s\nSee '%s -h' for help and examples", fmt.Sprintf(format, a...), cmdPath)}
}

// FindingsError reports that --fail-on was reached; main prints it and exits 1.
func findingsError(format string, a ...any) error {
	return &ExitError{Code: ExitFindings, Err: fmt.Errorf(format, a...)}
}

// oneOf checks a flag value against its choices ("" stands for the default
// and is not listed), with kubectl's usage-error shape.
func oneOf(cmdPath, what, value string, choices ...string) error {
	var listed []string
	for _, c := range choices {
		if value == c {
			return nil
		}
		if c != "" {
			listed = append(listed, c)
		}
	}
	return usageErrorf(cmdPath, "unknown %s %q; use %s", what, value, orList(listed))
}

// options is a command in kubectl's shape: Complete fills and parses,
// Validate only checks, Run does the work.
type options interface {
	Complete(c *cobra.Command, args []string) error
	Validate() error
	Run() error
}

// runE is every command's RunE. An error from Run that carries no exit code
// is unexpected (a failed write, a bug): it exits 5, not 2, which the help
// documents as a usage error.
func runE(o options) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if err := o.Complete(c, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		err := o.Run()
		var ee *ExitError
		if err != nil && !errors.As(err, &ee) {
			return &ExitError{Code: ExitInternal, Err: err}
		}
		return err
	}
}

// outputFlag is a command's -o flag: its formats are declared once, and
// the flag's help, its completion and its check are made from them.
type outputFlag struct {
	value   *string
	formats []string
}

// addOutputFlag binds -o/--output to value, with the given formats; def
// says what no -o prints. A format written NAME=ARG (jsonpath=TEMPLATE)
// takes any argument after "NAME=", which completion offers.
func addOutputFlag(cmd *cobra.Command, value *string, def string, formats ...string) *outputFlag {
	f := &outputFlag{value: value, formats: formats}
	cmd.Flags().StringVarP(value, "output", "o", *value, fmt.Sprintf("Output format: %s (default: %s)", orList(formats), def))
	names := make([]string, len(formats))
	for i, format := range formats {
		if name, _, ok := strings.Cut(format, "="); ok {
			format = name + "="
		}
		names[i] = format
	}
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(names...))
	return f
}

// check is the usage error for a format the command does not have.
func (f *outputFlag) check(cmdPath string) error {
	for _, format := range f.formats {
		if name, _, ok := strings.Cut(format, "="); ok && strings.HasPrefix(*f.value, name+"=") {
			return nil
		}
	}
	return oneOf(cmdPath, "output format", *f.value, append([]string{""}, f.formats...)...)
}

// orList writes "a, b or c".
func orList(items []string) string {
	last := len(items) - 1
	if last <= 0 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:last], ", ") + " or " + items[last]
}

// clusterError turns a failure to read the cluster into one clear line
// (cluster.Explain) and exit code 4.
func (o *sourceOptions) clusterError(err error, host string) error {
	return &ExitError{Code: ExitCluster, Err: errors.New(cluster.Explain(err, host, o.verb, o.AllNamespaces))}
}
