package printers

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// TestSuggestTableShowsRuntimeWhenSplit: live suggest-drop gives a row per
// runtime for a workload whose pods run on several; RUNTIME tells them
// apart, and stays out of a table where no workload is split.
func TestSuggestTableShowsRuntimeWhenSplit(t *testing.T) {
	web := workload.Ref{Kind: "Deployment", Name: "web"}
	db := workload.Ref{Kind: "StatefulSet", Name: "db"}
	items := func(webRuntimes ...string) []suggest.Item {
		var out []suggest.Item
		for _, rt := range webRuntimes {
			out = append(out, suggest.Item{Namespace: "ns", Workload: web, Container: "nginx", Runtime: rt})
		}
		return append(out, suggest.Item{Namespace: "ns", Workload: db, Container: "postgres", Runtime: "cri-o"})
	}
	for _, tc := range []struct {
		name  string
		items []suggest.Item
		want  []string // rows' RUNTIME cells, nil for no column
	}{
		{"one runtime per workload", items("containerd"), nil},
		{"web on two runtimes", items("containerd", "cri-o"), []string{"containerd", "cri-o", "cri-o"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteSuggestTable(&b, tc.items, SuggestTableOptions{}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
			at := strings.Index(lines[0], "RUNTIME")
			if (at >= 0) != (tc.want != nil) {
				t.Fatalf("RUNTIME column %v, want %v:\n%s", at >= 0, tc.want != nil, b.String())
			}
			for i, l := range lines[1:] {
				if at < 0 {
					continue
				}
				if got := strings.Fields(l[at:])[0]; got != tc.want[i] {
					t.Errorf("row %d RUNTIME %q, want %q:\n%s", i, got, tc.want[i], b.String())
				}
			}
		})
	}
}
