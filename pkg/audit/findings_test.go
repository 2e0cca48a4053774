package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// A finding keeps its fingerprint when its workload moves to another file,
// its containers are reordered and unrelated fields change (the baseline
// of issue 13 matches on it), and gets a new one when the container is
// renamed.
func TestFingerprintsSurviveEdits(t *testing.T) {
	const before = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers:
      - name: app
        image: x
        securityContext: {capabilities: {add: [NET_ADMIN, CAP_SYS_TIME]}}
      - name: side
        image: side
`
	const after = `# moved, reordered, and edited elsewhere
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {tier: front}
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: side
        image: side:2
      - name: app
        image: x:2
        env: [{name: A, value: b}]
        securityContext:
          capabilities:
            add:
            - CAP_SYS_TIME
            - NET_ADMIN
`
	fingerprints := func(file, text string) map[string]string {
		t.Helper()
		path := filepath.Join(t.TempDir(), file)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		p, _ := runtimes.Parse("containerd")
		var items []report.Item
		if _, err := manifest.Read(manifest.Options{Filenames: []string{path}}, func(w manifest.Workload) error {
			tg := w.Target("", p)
			Items(&tg, func(it report.Item) { items = append(items, it) })
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, f := range report.Findings(items, catalog.RiskLow) {
			out[f.RuleID+" "+f.Container+" "+f.Capability] = f.Fingerprint
		}
		return out
	}
	a, b := fingerprints("a.yaml", before), fingerprints("b.yaml", after)
	if len(a) < 5 || len(a) != len(b) {
		t.Fatalf("%d findings before, %d after: %v %v", len(a), len(b), a, b)
	}
	for k, fp := range a {
		if b[k] != fp {
			t.Errorf("%s: fingerprint %s became %q", k, fp, b[k])
		}
	}
	renamed := fingerprints("c.yaml", strings.Replace(before, "name: app", "name: app2", 1))
	for k, fp := range renamed {
		if strings.Contains(k, " app2 ") && fp == a[strings.Replace(k, " app2 ", " app ", 1)] {
			t.Errorf("%s: a renamed container keeps the fingerprint", k)
		}
	}
}
