package printers

import (
	"bytes"
	"fmt"
	"io"
)

// A run over several contexts (docs/fleet.md) writes each cluster's stderr
// lines (warnings, notes, the summary, "No pods ...") under the name of
// its context, so that they can be told apart in the one stream:
//
//	[prod-eu] Warning: ...
//	[prod-eu] 12 workloads, 30 containers: ...

// ClusterLines is w with every line written to it prefixed by
// "[CONTEXT] ". Lines are written whole: a line is held until its newline,
// and the writer needs no flush because every line written ends in one.
func ClusterLines(w io.Writer, context string) io.Writer {
	return &prefixWriter{w: w, prefix: []byte("[" + context + "] "), start: true}
}

type prefixWriter struct {
	w      io.Writer
	prefix []byte
	start  bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if p.start {
			out.Write(p.prefix)
		}
		out.Write(line)
		p.start = line[len(line)-1] == '\n'
	}
	if _, err := p.w.Write(out.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}

// WriteContextError is the one line that says a context could not be
// read, while the run goes on with the others.
func WriteContextError(w io.Writer, context string, err error) {
	fmt.Fprintf(w, "error: context %q: %v\n", context, err)
}
