package manifest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
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

// Position gives the line and the column of the node a finding points at,
// in YAML documents after others, in Lists, and in JSON streams and Lists
// (issue 13): the entry of an add or drop list (its value, after "- "), a
// key, or the nearest ancestor the manifest writes. Columns count from 1,
// as editors and SARIF do.
func TestPosition(t *testing.T) {
	const twoDocs = "apiVersion: v1\nkind: Service\nmetadata: {name: svc}\n---\n" + // lines 1-4
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n" + // 5-9
		"  - name: a\n    image: x\n    securityContext:\n      privileged: true\n" + // 10-13
		"      capabilities:\n        add: [NET_ADMIN, \"SYS_TIME\"]\n        drop:\n        - ALL\n" // 14-17
	const yamlList = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n" +
		"  spec:\n    containers:\n    - name: a\n      image: x\n      securityContext: {capabilities: {add: [BPF]}}\n"
	const jsonStream = "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"s\"}}\n" +
		"{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"p\"},\n" + // 2-5
		"  \"spec\": {\"containers\": [\n    {\"name\": \"a\", \"image\": \"x\",\n" + // 6-7
		"     \"securityContext\": {\"capabilities\": {\"add\": [\"NET_RAW\", \"BPF\"]}}}]}}\n" // 8
	const jsonList = "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n" +
		"  {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"q\"},\n" +
		"   \"spec\": {\"containers\": [{\"name\": \"a\", \"image\": \"x\"}]}},\n" +
		"  {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"},\n" +
		"   \"spec\": {\"containers\": [{\"name\": \"a\", \"image\": \"x\", \"securityContext\": {\"privileged\": true}}]}}]}\n"
	tests := []struct {
		name, in, field string
		line, col       int
	}{
		{"second document, a flow add entry", twoDocs, "spec.containers[0].securityContext.capabilities.add[1]", 15, 26},
		{"second document, a block drop entry", twoDocs, "spec.containers[0].securityContext.capabilities.drop[0]", 17, 11},
		{"second document, the drop list", twoDocs, "spec.containers[0].securityContext.capabilities.drop", 16, 9},
		{"second document, privileged", twoDocs, "spec.containers[0].securityContext.privileged", 13, 7},
		{"an absent field: the securityContext", twoDocs, "spec.containers[0].securityContext.runAsUser", 12, 5},
		{"List item, flow style", yamlList, "spec.containers[0].securityContext.capabilities.add[0]", 11, 46},
		{"List item, the container", yamlList, "spec.containers[0]", 9, 7},
		{"JSON stream, second object", jsonStream, "spec.containers[0].securityContext.capabilities.add[1]", 8, 62},
		{"JSON stream, the container", jsonStream, "spec.containers[0].securityContext.runAsUser", 8, 6},
		{"JSON List, second item", jsonList, "spec.containers[0].securityContext.privileged", 5, 76},
		{"CRLF line ends", strings.ReplaceAll(twoDocs, "\n", "\r\n"), "spec.containers[0].securityContext.capabilities.add[1]", 15, 26},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, _, err := readAll(t, Options{Filenames: []string{"-"}, Stdin: strings.NewReader(tt.in)})
			if err != nil {
				t.Fatal(err)
			}
			for i := range ws {
				if ws[i].Name != "p" {
					continue
				}
				p, _ := runtimes.Parse("containerd")
				tg := ws[i].Target("", p)
				got := tg.Position(tt.field)
				want := workload.Position{File: "STDIN", Line: tt.line, Column: tt.col}
				if got != want {
					t.Errorf("Position(%s) = %+v, want %+v", tt.field, got, want)
				}
				return
			}
			t.Fatalf("no workload p")
		})
	}
}

// Where lines are not known, Locate names the file alone and Position has
// no line: kustomize's output is not the user's text.
func TestLocateWithoutLines(t *testing.T) {
	w := Workload{Source: "kustomization"}
	if got := w.Locate("spec.containers[0]"); got != "kustomization" {
		t.Errorf("Locate = %q, want the source alone", got)
	}
	if got := w.Position("spec.containers[0]"); got != (workload.Position{File: "kustomization"}) {
		t.Errorf("Position = %+v, want no line", got)
	}
}

func TestSplitPath(t *testing.T) {
	got := strings.Join(splitPath("spec.template.spec.containers[10].securityContext.capabilities.add[0]"), " ")
	want := "spec template spec containers [10] securityContext capabilities add [0]"
	if got != want {
		t.Errorf("splitPath = %q, want %q", got, want)
	}
}
