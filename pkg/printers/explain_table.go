package printers

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/explain"
)

// DefaultInShort renders DefaultIn compactly: "cri-o" when every CRI-O
// profile grants it, "cri-o<1.18" when only the old one does.
func DefaultInShort(v explain.Capability) string {
	if len(v.DefaultIn) == 0 {
		return "-"
	}
	has := map[string]bool{}
	for _, n := range v.DefaultIn {
		has[n] = true
	}
	var parts []string
	for _, n := range v.DefaultIn {
		if n == "cri-o<1.18" && has["cri-o"] {
			continue
		}
		parts = append(parts, n)
	}
	return strings.Join(parts, ",")
}

// WriteExplainTable prints the capabilities table; wide adds the kernel version,
// PSS Baseline and user-namespace columns. color paints RISK as audit's
// table paints risks (critical bold red, high red, medium yellow).
func WriteExplainTable(w io.Writer, views []explain.Capability, wide, noHeaders, color bool) error {
	header := []string{"NUMBER", "NAME", "RISK", "RECOMMENDATION", "DEFAULT-IN"}
	if wide {
		header = append(header, "SINCE", "PSS-BASELINE", "USERNS-INERT")
	}
	header = append(header, "SUMMARY")
	rows := make([][]string, 0, len(views))
	for _, v := range views {
		row := []string{fmt.Sprint(v.Number), v.Name, riskLabel(string(v.Risk), color), string(v.Recommendation), DefaultInShort(v)}
		if wide {
			row = append(row, v.Since, yesNo(v.PSSBaseline), yesNo(v.InertInUserNamespace))
		}
		rows = append(rows, append(row, v.Summary))
	}
	return Table(w, header, rows, noHeaders)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// sourcesText is the SOURCES section of the text page.
func sourcesText(ids []string) string {
	return fmt.Sprintf("%s; each is explained in %s", strings.Join(ids, ", "), explain.SourcesURL)
}

// sourcesMarkdown links each short name to its entry in docs/sources.md,
// relative to docs/capabilities/.
func sourcesMarkdown(ids []string) string {
	links := make([]string, len(ids))
	for i, id := range ids {
		if a := explain.SourceAnchor(id); a != "" {
			links[i] = fmt.Sprintf("[%s](../sources.md#%s)", id, a)
		} else {
			links[i] = id
		}
	}
	return fmt.Sprintf("Sources: %s (see [sources](../sources.md#short-names)).\n", strings.Join(links, ", "))
}
