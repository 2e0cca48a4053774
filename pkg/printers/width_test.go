package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	goldenfile "github.com/kubectl-caps/kubectl-caps/internal/golden"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// golden compares got with testdata/NAME, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, name, got)
}

// The reports of the bundled examples are those the command's own JSON
// goldens hold (pkg/cmd/testdata), so these tables follow the engine
// without a second copy of its output.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestTablesAtWidths(t *testing.T) {
	var rep report.Report
	readJSON(t, "../cmd/testdata/audit/examples.json", &rep)
	var list suggest.List
	readJSON(t, "../cmd/testdata/suggest/examples.json", &list)
	for _, width := range []int{80, 120, 0} {
		name := fmt.Sprint(width)
		if width == 0 {
			name = "unbounded"
		}
		t.Run("audit "+name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteAuditTable(&b, rep.Items, AuditTableOptions{Width: width}); err != nil {
				t.Fatal(err)
			}
			golden(t, "audit-"+name+".txt", b.String())
			checkWidth(t, b.String(), width)
		})
		t.Run("suggest-drop "+name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteSuggestTable(&b, list.Items, SuggestTableOptions{Width: width}); err != nil {
				t.Fatal(err)
			}
			golden(t, "suggest-"+name+".txt", b.String())
			checkWidth(t, b.String(), width)
		})
	}
}

// checkWidth holds a table to its width. At 80 the examples' audit table
// takes 81 columns with bare counts (its names alone leave 6 for
// EFFECTIVE): that is the documented overflow (TestFitNeverCutsNames), and
// its golden shows it.
func checkWidth(t *testing.T, out string, width int) {
	t.Helper()
	if width < DefaultWidth {
		return
	}
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if w := twwidth.Width(l); w > width {
			t.Errorf("%d columns, over %d: %q", w, width, l)
		}
	}
}

// TestFitNeverCutsNames: when even the bare counts do not fit, the line is
// longer than the width; names are kept whole and only capability cells
// lose their names.
func TestFitNeverCutsNames(t *testing.T) {
	long := strings.Repeat("x", 60)
	items := []report.Item{{Namespace: "ns", Workload: workload.Ref{Kind: "Deployment", Name: long}, Container: long,
		Effective: capability.Names()[:14], MaxRisk: "high"}}
	var b bytes.Buffer
	if err := WriteAuditTable(&b, items, AuditTableOptions{Width: 80, NoHeaders: true}); err != nil {
		t.Fatal(err)
	}
	want := "ns   deploy/" + long + "   " + long + "   high   14\n"
	if got := b.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestWideIsNeverFitted: -o wide is the detail, whatever the width.
func TestWideIsNeverFitted(t *testing.T) {
	items := []report.Item{{Namespace: "ns", Workload: workload.Ref{Kind: "Pod", Name: "p"}, Container: "c", User: "root",
		Effective: capability.Names()[:14], MaxRisk: "high"}}
	var b bytes.Buffer
	if err := WriteAuditTable(&b, items, AuditTableOptions{Width: 40, Wide: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), strings.Join(capability.SetOfNames(capability.Names()[:14]).Names(), ",")) {
		t.Errorf("wide table lost the list:\n%s", b.String())
	}
}
