package printers

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Items of a run over several contexts carry their cluster: the tables
// put it first; items without one (a run of one context) have no column.
func TestClusterColumn(t *testing.T) {
	items := exampleItems(t)[:2]
	for _, cluster := range []string{"", "prod-eu"} {
		for i := range items {
			items[i].Cluster = cluster
		}
		var audit, sug bytes.Buffer
		if err := WriteAuditTable(&audit, items, AuditTableOptions{ShowPods: true, Width: 120}); err != nil {
			t.Fatal(err)
		}
		s := []suggest.Item{{Cluster: cluster, Namespace: "ns", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Container: "nginx", Runtime: "containerd"}}
		if err := WriteSuggestTable(&sug, s, SuggestTableOptions{Width: 120}); err != nil {
			t.Fatal(err)
		}
		for name, out := range map[string]string{"audit": audit.String(), "suggest-drop": sug.String()} {
			lines := strings.Split(out, "\n")
			hasColumn := strings.HasPrefix(lines[0], "CLUSTER ") && strings.HasPrefix(lines[1], "prod-eu ")
			if hasColumn != (cluster != "") || strings.Contains(lines[0], "CLUSTER") != (cluster != "") {
				t.Errorf("%s table, cluster %q:\n%s", name, cluster, out)
			}
		}
	}
}

func TestClusterLines(t *testing.T) {
	var b bytes.Buffer
	w := ClusterLines(&b, "beta")
	for _, s := range []string{"Warning: one\nWarn", "ing: two\n", "", "3 workloads\n"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	WriteContextError(&b, "gamma", errors.New("cannot reach the cluster"))
	want := "[beta] Warning: one\n[beta] Warning: two\n[beta] 3 workloads\nerror: context \"gamma\": cannot reach the cluster\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// suggest-drop's list streamed over several clusters is the document
// WriteObject prints for the whole list.
func TestListStreamMatchesWriteObject(t *testing.T) {
	items := []suggest.Item{
		{Cluster: "a", Namespace: "ns", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Container: "nginx", Runtime: "containerd", Notes: []suggest.Note{}},
		{Cluster: "b", Namespace: "ns", Workload: workload.Ref{Kind: "Pod", Name: "db"}, Container: "pg", Runtime: "cri-o", Notes: []suggest.Note{}},
	}
	for _, format := range []string{FormatJSON, FormatYAML} {
		list := suggest.NewList(suggest.Catalog)
		list.Items = items
		var want, got bytes.Buffer
		if err := WriteObject(&want, format, list); err != nil {
			t.Fatal(err)
		}
		s, err := NewListStream(&got, format, suggest.NewList(suggest.Catalog))
		if err != nil {
			t.Fatal(err)
		}
		for i := range items {
			if err := s.WriteItem(&items[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), got.String()); diff != "" {
			t.Errorf("%s (-whole +stream):\n%s", format, diff)
		}
	}
}
