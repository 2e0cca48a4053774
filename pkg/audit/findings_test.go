package audit

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Every rule points at the exact node that causes it: line and column,
// counted by hand from testdata/findings (issue 13), in YAML documents
// after others (multi.yaml), a YAML List (list.yaml) and a JSON stream
// with a List (pods.json): the add entry, the drop entry, privileged,
// allowPrivilegeEscalation, the drop list or, when the manifest writes
// none, the nearest part of the container it writes.
func TestFindingPositions(t *testing.T) {
	tests := []struct {
		runtime, file, rule, workload, container, capability string
		line, col                                            int
	}{
		// multi.yaml, containerd
		{"containerd", "multi.yaml", "CAPS001", "web", "app", "SYS_ADMIN", 21, 15},
		{"containerd", "multi.yaml", "CAPS004", "web", "app", "NET_BIND_SERVICE", 23, 15},
		{"containerd", "multi.yaml", "CAPS106", "web", "app", "net_bind_service", 23, 15},
		{"containerd", "multi.yaml", "CAPS101", "web", "app", "CAP_SYS_TIME", 24, 15},
		{"containerd", "multi.yaml", "CAPS103", "web", "app", "SYS_TYPO", 25, 15},
		{"containerd", "multi.yaml", "CAPS102", "web", "app", "all", 26, 20},
		{"containerd", "multi.yaml", "CAPS104", "web", "app", "NET_ADMIN", 22, 15},
		{"containerd", "multi.yaml", "CAPS004", "web", "nonroot", "CHOWN", 32, 19},
		{"containerd", "multi.yaml", "CAPS002", "web", "nonroot", "NET_RAW", 31, 11}, // a default: the capabilities it writes
		{"containerd", "multi.yaml", "CAPS006", "web", "nonroot", "", 29, 9},         // no allowPrivilegeEscalation: its securityContext
		{"containerd", "multi.yaml", "CAPS007", "web", "nonroot", "", 31, 11},
		{"containerd", "multi.yaml", "CAPS005", "agent", "priv", "", 42, 7},
		{"containerd", "multi.yaml", "CAPS111", "agent", "priv", "", 43, 7},
		{"containerd", "multi.yaml", "CAPS107", "agent", "priv", "", 44, 7},
		{"containerd", "multi.yaml", "CAPS105", "agent", "priv", "", 41, 5},
		{"containerd", "multi.yaml", "CAPS108", "agent", "refused", "", 47, 43},
		{"containerd", "multi.yaml", "CAPS114", "agent", "refused", "", 47, 57},
		{"cri-o://1.21", "multi.yaml", "CAPS109", "web", "app", "", 19, 11},
		{"cri-o://1.21", "multi.yaml", "CAPS113", "web", "app", "all", 26, 20},
		// list.yaml
		{"containerd", "list.yaml", "CAPS002", "second", "c", "SYS_PTRACE", 18, 30},
		{"containerd", "list.yaml", "CAPS101", "second", "c", "CAP_NET_RAW", 18, 42},
		{"cri-o", "list.yaml", "CAPS002", "second", "c", "NET_RAW", 18, 42},
		{"cri-o://1.20", "list.yaml", "CAPS112", "first", "c", "ALL", 8, 98},
		{"cri-o://1.20", "list.yaml", "CAPS003", "second", "c", "SETUID", 18, 56}, // kept by drop: ["ALL"] on 1.20
		{"cri-o", "list.yaml", "CAPS005", "third", "c", "", 25, 45},
		{"cri-o", "list.yaml", "CAPS110", "third", "c", "", 25, 45},
		// pods.json: an object, then a List, in one JSON stream
		{"containerd", "pods.json", "CAPS001", "lone", "c", "SYS_MODULE", 3, 65},
		{"containerd", "pods.json", "CAPS005", "in-list", "c", "", 10, 72},
		{"containerd", "pods.json", "CAPS002", "in-list", "d", "NET_RAW", 12, 46},
		{"containerd", "pods.json", "CAPS101", "in-list", "d", "CAP_BPF", 12, 57},
		{"cri-o://1.20", "pods.json", "CAPS112", "lone", "c", "ALL", 3, 89},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s %s %s %s/%s %s", tt.runtime, tt.file, tt.rule, tt.workload, tt.container, tt.capability)
		t.Run(name, func(t *testing.T) {
			p, err := runtimes.Parse(tt.runtime)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join("testdata", "findings", tt.file)
			var items []report.Item
			_, err = manifest.Read(manifest.Options{Filenames: []string{file}}, func(w manifest.Workload) error {
				tg := w.Target("", p)
				Items(&tg, func(it report.Item) { items = append(items, it) })
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, f := range report.Findings(items, catalog.RiskLow) {
				if f.RuleID != tt.rule || f.Workload.Name != tt.workload || f.Container != tt.container || f.Capability != tt.capability {
					continue
				}
				found++
				if want := (workload.Position{File: file, Line: tt.line, Column: tt.col}); f.Position != want {
					t.Errorf("at %+v (%s), want %+v", f.Position, f.Field, want)
				}
			}
			if found != 1 {
				t.Errorf("%d such findings, want 1", found)
			}
		})
	}
}
