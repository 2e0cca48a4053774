package evidence

import (
	"io"

	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Traces are the traces a command read (--evidence), with the index of
// pods that its source fills as it lists them (or reads manifests) and
// that Result attributes the traces' pods with.
type Traces struct {
	agg  *Aggregator
	pods *workload.PodIndex
}

// Open reads every path (ReadPaths); nil and no error without paths.
// Its errors are *InputError.
func Open(paths []string, opts Options, stdin io.Reader) (*Traces, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	t := &Traces{agg: New(opts), pods: &workload.PodIndex{}}
	if err := t.agg.ReadPaths(paths, stdin); err != nil {
		return nil, err
	}
	return t, nil
}

// Pods is the index the source fills; nil for nil traces, which
// workload.PodIndex.AddWorkload and the Rollup take as "do not record".
func (t *Traces) Pods() *workload.PodIndex {
	if t == nil {
		return nil
	}
	return t.pods
}

// Stats says what was read; zero for nil traces.
func (t *Traces) Stats() Stats {
	if t == nil {
		return Stats{}
	}
	return t.agg.Stats()
}

// Result attributes the traces with the pods index; nil for nil traces.
func (t *Traces) Result() *Result {
	if t == nil {
		return nil
	}
	r := t.agg.Result(t.pods.Resolve)
	return &r
}
