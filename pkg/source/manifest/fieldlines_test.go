package manifest

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// Warnings name a field path; Locate must give the line a user opens in an
// editor: the field itself, the nearest ancestor the manifest writes when
// the field is missing, and lines counted from the top of the file across
// documents, comments, Lists and CRLF line ends (issue 16 item 14).
func TestLocate(t *testing.T) {
	const twoDocs = `# a comment before the first document
apiVersion: v1
kind: Service
metadata: {name: svc}
---
# the workload
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: x
      containers:
      - name: app
        image: x
        securityContext:
          capabilities:
            add:
            - NET_ADMIN
            - CAP_SYS_TIME
            drop: ["CAP_NET_RAW"]
`
	const list = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a}
  spec:
    containers: [{name: a, image: x}]
- apiVersion: v1
  kind: Pod
  metadata: {name: b}
  spec:
    containers:
    - name: b
      image: x
      securityContext: {capabilities: {drop: [CAP_MKNOD]}}
`
	tests := []struct {
		name, in string
		// object name, field, want line
		object, field string
		want          int
	}{
		{"an add entry, second document", twoDocs, "web", "spec.template.spec.containers[0].securityContext.capabilities.add[1]", 24},
		{"a flow sequence entry", twoDocs, "web", "spec.template.spec.containers[0].securityContext.capabilities.drop[0]", 25},
		{"a list the manifest writes", twoDocs, "web", "spec.template.spec.containers[0].securityContext.capabilities", 21},
		{"a missing field: its container", twoDocs, "web", "spec.template.spec.containers[0].securityContext.runAsUser", 20},
		{"a missing securityContext: the container", twoDocs, "web", "spec.template.spec.initContainers[0].securityContext.runAsUser", 15},
		{"a pod-level field: the pod spec", twoDocs, "web", "spec.template.spec.securityContext.runAsUser", 13},
		{"an index past the end: the list", twoDocs, "web", "spec.template.spec.containers[3].securityContext", 17},
		{"List item, flow style", list, "a", "spec.containers[0].securityContext.capabilities", 8},
		{"List item, second", list, "b", "spec.containers[0].securityContext.capabilities.drop[0]", 16},
		{"CRLF line ends", strings.ReplaceAll(twoDocs, "\n", "\r\n"), "web", "spec.template.spec.containers[0].securityContext.capabilities.add[1]", 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, _, err := readAll(t, Options{Filenames: []string{"-"}, Stdin: strings.NewReader(tt.in)})
			if err != nil {
				t.Fatal(err)
			}
			for i := range ws {
				if ws[i].Name != tt.object {
					continue
				}
				want := "STDIN:" + strconv.Itoa(tt.want)
				if got := ws[i].Locate(tt.field); got != want {
					t.Errorf("Locate(%s) = %s, want %s", tt.field, got, want)
				}
				// Through the audit target too, which is what warnings read.
				p, _ := runtimes.Parse("containerd")
				tg := ws[i].Target("", p)
				if got := tg.Locate(tt.field); got != want {
					t.Errorf("Target.Locate(%s) = %s, want %s", tt.field, got, want)
				}
				return
			}
			t.Fatalf("no workload %q", tt.object)
		})
	}
}

// Where lines are not known, Locate names the file alone: JSON (positions
// counts its objects, not lines).
func TestLocateWithoutLines(t *testing.T) {
	path := filepath.Join("..", "..", "..", "examples", "10-debug-pod-list.json")
	ws, _, err := readAll(t, Options{Filenames: []string{path}})
	if err != nil || len(ws) == 0 {
		t.Fatalf("%d workloads, %v", len(ws), err)
	}
	if got := ws[0].Locate("spec.containers[0]"); got != path {
		t.Errorf("Locate = %q, want the file alone %q", got, path)
	}
}

func TestSplitPath(t *testing.T) {
	got := strings.Join(splitPath("spec.template.spec.containers[10].securityContext.capabilities.add[0]"), " ")
	want := "spec template spec containers [10] securityContext capabilities add [0]"
	if got != want {
		t.Errorf("splitPath = %q, want %q", got, want)
	}
}
