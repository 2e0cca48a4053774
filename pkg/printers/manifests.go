package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// WriteManifestNotes prints on stderr what reading manifests found that is
// no error: files skipped, custom resources, workloads -n left out.
func WriteManifestNotes(w io.Writer, stats *manifest.Stats, namespace string) {
	for _, n := range stats.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if stats.SkippedFiles > 0 {
		fmt.Fprintf(w, "Skipped %d of the %d files found in directories: not Kubernetes manifests (see the notes above).\n",
			stats.SkippedFiles, stats.Walked)
	}
	if other := total(stats.OtherNamespaces); other > 0 {
		fmt.Fprintf(w, "Note: -n %s left out %d workload(s) in other namespaces (%s); without -n every namespace is shown.\n",
			namespace, other, countList(stats.OtherNamespaces))
	}
}

// WhyEmpty says why a read found no workload: not an error (a folder of
// Services is fine), but an empty table must say why it is empty.
func WhyEmpty(w io.Writer, stats *manifest.Stats, namespace string) {
	switch {
	case stats.Workloads > 0:
	case total(stats.OtherNamespaces) > 0:
		fmt.Fprintf(w, "No workloads in namespace %s.\n", namespace)
	default:
		var kinds []string
		for _, k := range workload.Kinds() {
			kinds = append(kinds, k.Name+"s")
		}
		fmt.Fprintf(w, "No workloads in the input: %d object(s) skipped (%s). kubectl caps reads "+
			"%s and custom resources with a pod template at spec.template.\n",
			stats.Skipped, countList(stats.SkippedKinds), strings.Join(kinds, ", "))
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// countList writes counts as "a 1, b 2", sorted.
func countList(m map[string]int) string {
	out := make([]string, 0, len(m))
	for k, n := range m {
		out = append(out, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
