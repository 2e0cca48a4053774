package printers

import (
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// A live workload's pods become several rows for one container when they
// differ in what the audit reads: nodes with different runtimes, or some
// pods with an ephemeral container (kubectl debug). Without what differs
// in view, those rows look identical; these helpers decide what to show.

// spansRuntimes reports whether some workload has rows on more than one
// runtime, so that the default table needs a RUNTIME column. key returns
// row i's workload (namespace, kind and name) and runtime label.
func spansRuntimes(n int, key func(i int) (workload, runtime string)) bool {
	first := map[string]string{}
	for i := range n {
		wl, rt := key(i)
		if seen, ok := first[wl]; !ok {
			first[wl] = rt
		} else if seen != rt {
			return true
		}
	}
	return false
}

// RuntimeLabel names the runtime a row was judged on, with the node's
// release when known ("containerd 2.1.4"): releases of one runtime differ
// (docs/engine.md), and the pods of one workload on two releases are two
// rows.
func RuntimeLabel(it *report.Item) string {
	if it.RuntimeVersion == "" {
		return it.Runtime
	}
	// A generation's profile name ("cri-o<1.18") is redundant beside the
	// release that chose it.
	name, _, _ := strings.Cut(it.Runtime, "<")
	return name + " " + it.RuntimeVersion
}

// withEphemeral finds the rows of pod groups that have an ephemeral
// container: in a live audit the rows of one group share its first pod,
// so a group is (namespace, workload, pod).
func withEphemeral(items []report.Item) map[string]bool {
	var out map[string]bool
	for i := range items {
		it := &items[i]
		if it.ContainerType == engine.TypeEphemeralContainer && it.Pod != "" {
			if out == nil {
				out = map[string]bool{}
			}
			out[groupKey(it)] = true
		}
	}
	return out
}

func groupKey(it *report.Item) string {
	return workloadKey(it.Namespace, it.Workload) + "\x00" + it.Pod
}
