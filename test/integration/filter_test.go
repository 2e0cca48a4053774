//go:build integration

package integration

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFiltersAndPaging: -l and --field-selector reach the pod LIST as
// kubectl's do, and --chunk-size pages without changing the result.
func TestFiltersAndPaging(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	ns := e.namespace("filter")
	nodeA := e.node("filter-a", "containerd://2.1.4")
	nodeB := e.node("filter-b", "cri-o://1.31.2")
	pods := []struct{ name, tier, node string }{
		{"front-1", "front", nodeA},
		{"front-2", "front", nodeB},
		{"back-1", "back", nodeA},
		{"back-2", "back", nodeA},
		{"back-3", "back", nodeB},
	}
	for _, p := range pods {
		e.pod(ns, p.name, p.node, containers("app"), labels("tier", p.tier))
	}

	podsOf := func(rep Report) []string {
		var out []string
		for _, it := range rep.inNamespace(ns) {
			out = append(out, it.Workload.Name)
		}
		sort.Strings(out)
		return out
	}
	tests := []struct {
		args []string
		want []string
	}{
		{nil, []string{"back-1", "back-2", "back-3", "front-1", "front-2"}},
		{[]string{"-l", "tier=front"}, []string{"front-1", "front-2"}},
		{[]string{"--selector", "tier in (back),tier!=front"}, []string{"back-1", "back-2", "back-3"}},
		{[]string{"--field-selector", "spec.nodeName=" + nodeB}, []string{"back-3", "front-2"}},
		{[]string{"-l", "tier=back", "--field-selector", "spec.nodeName=" + nodeA}, []string{"back-1", "back-2"}},
		{[]string{"-l", "tier=none"}, nil},
		// The field selector applies to the pods of ns/NAME too (-l with a
		// NAME argument is refused by cli-runtime, as in kubectl get).
		{[]string{"ns/" + ns, "--field-selector", "spec.nodeName=" + nodeA}, []string{"back-1", "back-2", "front-1"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			args := append([]string{"audit", "-n", ns, "-o", "json"}, tt.args...)
			rep := runPlugin(t, kc, args...).report(t)
			if diff := cmp.Diff(tt.want, podsOf(rep)); diff != "" {
				t.Errorf("pods audited (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("--chunk-size 2 gives the same report, in pages", func(t *testing.T) {
		base := runPlugin(t, kc, "audit", "-n", ns, "-o", "json")
		if base.Code != 0 {
			t.Fatalf("exit %d: %s", base.Code, base.ErrOut)
		}
		off := e.auditOffset()
		paged := runPlugin(t, kc, "audit", "-n", ns, "-o", "json", "--chunk-size", "2")
		if paged.Code != 0 {
			t.Fatalf("exit %d: %s", paged.Code, paged.ErrOut)
		}
		if diff := cmp.Diff(base.Out, paged.Out); diff != "" {
			t.Errorf("--chunk-size 2 changed the report (-default +paged):\n%s", diff)
		}
		// 5 pods in pages of 2: three LISTs, each with limit=2, the later
		// ones continuing the first.
		var lists []url.Values
		for _, ev := range e.pluginEvents(off, auditorUser) {
			if ev.ObjectRef == nil || ev.ObjectRef.Resource != "pods" || ev.Verb != "list" {
				continue
			}
			u, err := url.Parse(ev.RequestURI)
			if err != nil {
				t.Fatal(err)
			}
			lists = append(lists, u.Query())
		}
		if len(lists) != 3 {
			t.Fatalf("%d pod LISTs, want 3 pages of at most 2 for 5 pods", len(lists))
		}
		for i, q := range lists {
			if q.Get("limit") != "2" {
				t.Errorf("page %d: limit=%q, want 2", i+1, q.Get("limit"))
			}
			if hasContinue := q.Get("continue") != ""; hasContinue != (i > 0) {
				t.Errorf("page %d: continue token present = %v", i+1, hasContinue)
			}
		}
	})

	t.Run("--chunk-size 0 is a usage error", func(t *testing.T) {
		r := runPlugin(t, kc, "audit", "-n", ns, "--chunk-size", "0")
		if r.Code != 2 || !strings.Contains(r.ErrOut, "--chunk-size") {
			t.Errorf("exit %d, stderr %q; want 2 naming --chunk-size", r.Code, r.ErrOut)
		}
	})
}
