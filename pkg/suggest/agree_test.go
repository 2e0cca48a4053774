package suggest_test

import (
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/risk"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
)

// audit and suggest-drop must say the same thing about the same container:
// every capability suggest-drop lists (drop or keep) has the risk the audit
// report gives it, the same amplifying contexts in the same words, and a
// container that holds nothing in audit has nothing to drop or keep.
// Checked on every container of the examples and the corpus, on every
// runtime profile.
func TestAuditAndSuggestAgree(t *testing.T) {
	inputs := []string{"../../examples"}
	if corpus, ok := sharedtest.Optional(t, "corpus"); ok {
		inputs = append(inputs, corpus)
	}
	amplified := 0
	checked := 0
	_, err := manifest.Read(manifest.Options{Filenames: inputs, Recursive: true}, func(w manifest.Workload) error {
		for _, p := range runtimes.Known() {
			tg := w.Target("ns", p)
			var items []report.Item
			var contexts []map[string]risk.Assessment
			audit.Each(&tg, func(c *audit.Container) {
				items = append(items, c.Item())
				m := map[string]risk.Assessment{}
				for _, cp := range c.Result.Bounding.Caps() {
					m[cp.String()] = risk.Of(cp, c.Result.Bounding, c.Result.Context)
				}
				contexts = append(contexts, m)
			})
			sw := suggest.Options{}.ForTarget(&tg, suggest.TargetOf(w.Kind), "")
			if len(sw.Containers) != len(items) {
				t.Fatalf("%s %s/%s: audit has %d containers, suggest-drop %d", w.Source, w.Kind, w.Name, len(items), len(sw.Containers))
			}
			for i, it := range items {
				sc := sw.Containers[i].Item
				if sc.Container != it.Container || sc.ContainerType != it.ContainerType || sc.Runtime != it.Runtime {
					t.Fatalf("%s: container %d is %s/%s on %s in audit, %s/%s on %s in suggest-drop", w.Source, i,
						it.ContainerType, it.Container, it.Runtime, sc.ContainerType, sc.Container, sc.Runtime)
				}
				if it.Privileged || it.CannotStart != "" {
					// suggest-drop judges what privileged: true hides, and
					// the lists of a container once the runtime accepts them.
					continue
				}
				findings := map[string]report.Finding{}
				for _, f := range it.Findings {
					findings[f.Capability] = f
				}
				for _, e := range append(append([]suggest.Entry(nil), sc.Drop...), sc.Keep...) {
					f, ok := findings[e.Capability]
					if !ok {
						t.Errorf("%s %s/%s %s on %s: suggest-drop lists %s, which audit says it does not hold", w.Source, w.Kind, w.Name, it.Container, p, e.Capability)
						continue
					}
					checked++
					if e.Risk != f.Risk {
						t.Errorf("%s %s/%s %s on %s: %s is %s in suggest-drop, %s in audit", w.Source, w.Kind, w.Name, it.Container, p, e.Capability, e.Risk, f.Risk)
					}
					a := contexts[i][e.Capability]
					if strings.Join(a.Contexts(), ",") != strings.Join(f.Amplified, ",") {
						t.Errorf("%s %s: audit amplified %v, risk.Of %v", it.Container, e.Capability, f.Amplified, a.Contexts())
					}
					if len(f.Amplified) > 0 && strings.Contains(e.Reason, "risk ") {
						amplified++
						if !strings.Contains(e.Reason, a.String()) {
							t.Errorf("%s %s/%s %s on %s: %s reason %q does not say %q", w.Source, w.Kind, w.Name, it.Container, p, e.Capability, e.Reason, a.String())
						}
					}
				}
				if len(it.Bounding) == 0 && len(sc.Drop)+len(sc.Keep) > 0 {
					t.Errorf("%s %s: audit holds nothing, suggest-drop lists %v %v", w.Source, it.Container, sc.Drop, sc.Keep)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 500 || amplified == 0 {
		t.Errorf("%d capabilities compared, %d of them amplified: too few to prove agreement", checked, amplified)
	}
}
