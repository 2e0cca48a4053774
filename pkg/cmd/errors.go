package cmd

import (
	"errors"
	"fmt"
	"strings"
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
)

const exitCodesHelp = `Exit codes:
  0  success
  1  findings at or above --fail-on (audit, suggest-drop)
  2  usage error: bad flag or argument, unknown capability or runtime name
  3  input error: a manifest could not be read or parsed
  4  cluster error: unreachable, unauthorised, forbidden or timed out`

// ExitError carries the process exit code for an error; main maps it.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the exit code for an error returned by a command: 0 for nil,
// the code of an *ExitError, 2 for anything else (cobra's own usage errors).
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
	last := len(listed) - 1
	use := listed[last]
	if last > 0 {
		use = strings.Join(listed[:last], ", ") + " or " + listed[last]
	}
	return usageErrorf(cmdPath, "unknown %s %q; use %s", what, value, use)
}
