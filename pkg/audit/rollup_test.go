package audit

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// A group keeps its spec protobuf-encoded and Each decodes it: every item
// must be what auditing the pod's reduced spec directly gives, on every
// example and corpus workload and every runtime.
func TestRollupItemsMatchDirectAudit(t *testing.T) {
	inputs := sharedtest.Manifests(t, "../../examples")
	compared := 0
	_, err := manifest.Read(manifest.Options{Filenames: inputs, Recursive: true}, func(w manifest.Workload) error {
		for _, p := range runtimes.Known() {
			tg := workload.Target{Namespace: "ns", Workload: workload.Ref{Kind: w.Kind, Name: w.Name},
				Spec: workload.Relevant(w.Spec), FieldPrefix: w.FieldPrefix, Profile: p,
				ObservedUIDs: map[string]int64{"app": 1000}, Notes: []string{"a note"}}
			var want, got []report.Item
			direct := tg
			direct.Pods = 1
			Items(&direct, func(it report.Item) {
				it.Pod = "pod-1"
				want = append(want, it)
			})
			r := &workload.Rollup{}
			if err := r.Add(tg, "pod-1"); err != nil {
				t.Fatal(err)
			}
			r.Each(func(t *workload.Target) { Items(t, func(it report.Item) { got = append(got, it) }) })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %s/%s on %s: the rollup's item differs from a direct audit (-direct +rollup):\n%s",
					w.Source, w.Kind, w.Name, p.Name(), diff)
			}
			compared += len(want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if compared < 100 {
		t.Errorf("only %d items compared", compared)
	}
}
