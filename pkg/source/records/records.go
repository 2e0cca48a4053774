// Package records reads and writes the files in which a user records what
// audit should accept: --exceptions files and --baseline files
// (docs/exceptions.md). It only does the I/O; pkg/exception and
// pkg/baseline parse, and pkg/finding settles findings against them.
package records

import (
	"fmt"
	"os"

	"github.com/kubectl-caps/kubectl-caps/pkg/baseline"
	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
)

// InputError is a record file that cannot be read or parsed: the flag,
// and the file and line in the error (exit 3).
type InputError struct {
	Flag string
	Err  error
}

func (e *InputError) Error() string { return e.Flag + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Read reads every --exceptions file, in order, and the --baseline file
// (none when baselineFile is ""). knownRule says which rule ids exist.
func Read(exceptionFiles []string, baselineFile string, knownRule func(string) bool) (exception.Set, *baseline.Baseline, error) {
	var set exception.Set
	for _, name := range exceptionFiles {
		data, err := os.ReadFile(name)
		if err == nil {
			var entries []exception.Entry
			entries, err = exception.ParseFile(name, data, knownRule)
			set.Entries = append(set.Entries, entries...)
		}
		if err != nil {
			return set, nil, &InputError{Flag: "--exceptions", Err: err}
		}
	}
	if baselineFile == "" {
		return set, nil, nil
	}
	data, err := os.ReadFile(baselineFile)
	if err != nil {
		return set, nil, &InputError{Flag: "--baseline", Err: err}
	}
	b, err := baseline.Parse(baselineFile, data)
	if err != nil {
		return set, nil, &InputError{Flag: "--baseline", Err: err}
	}
	return set, &b, nil
}

// WriteBaseline writes entries to the file (--write-baseline).
func WriteBaseline(path string, entries []baseline.Entry) error {
	f, err := os.Create(path)
	if err == nil {
		err = baseline.Write(f, entries)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("--write-baseline: %w", err)
	}
	return nil
}
