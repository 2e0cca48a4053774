package manifest

import (
	"fmt"
	"strconv"
	"strings"
)

// InputError reports every problem found in the inputs of one Read. Read
// returns it, and only it, when the manifests themselves are at fault, so
// that the command can tell bad input (exit code 3) from other failures.
type InputError struct {
	Problems []Problem // in input order, then document order; never empty
	// Partial: every problem is in a file found by walking a directory, so
	// the workloads visited are the rest of the input, complete; the caller
	// may print them, and must still fail. See Read.
	Partial bool
}

// Problem is one thing wrong with the input, located as precisely as the
// input allows.
type Problem struct {
	Source   string // file path, URL or "STDIN"; "" for a problem with the inputs as a whole
	Line     int    // 1-based line in Source, 0 if not known
	Document int    // 1-based YAML document in Source, 0 if not known
	Message  string // what is wrong and what to do about it
}

// String renders the problem as "file:line: document n: message", the
// shape editors and CI annotations understand, leaving out what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.Source != "" {
		b.WriteString(p.Source)
		if p.Line > 0 {
			b.WriteString(":" + strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
	}
	if p.Document > 0 {
		b.WriteString("document " + strconv.Itoa(p.Document) + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// maxShown bounds the message; a stream of thousands of broken documents
// would otherwise bury the first, most useful lines. Problems keeps them all.
const maxShown = 20

// Error lists the problems one per line.
func (e *InputError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i == maxShown {
			fmt.Fprintf(&b, "\n... and %d more problems", len(e.Problems)-maxShown)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}
