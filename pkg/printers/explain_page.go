package printers

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/explain"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// pageWidth is where prose wraps in the text page; terminals are at least
// 80 columns and the indented blocks must fit.
const pageWidth = 80

// WriteExplainPages prints the pages of several capabilities, separated by
// "---" lines; color paints each page's risk (WriteExplainPage).
func WriteExplainPages(w io.Writer, views []explain.Capability, color bool) error {
	for i, v := range views {
		if i > 0 {
			if _, err := fmt.Fprintln(w, "\n---"); err != nil {
				return err
			}
		}
		if err := WriteExplainPage(w, v, color); err != nil {
			return err
		}
	}
	return nil
}

// WriteExplainPage prints the human page of one capability, in the style of
// `kubectl explain`: upper-case headings, indented prose. color paints the
// RISK line's tier as audit's table paints risks.
func WriteExplainPage(w io.Writer, v explain.Capability, color bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "CAPABILITY: CAP_%s (%d)\n", v.Name, v.Number)
	fmt.Fprintf(&b, "SUMMARY:    %s\n", v.Summary)
	fmt.Fprintf(&b, "RISK:       %s%s\n", riskLabel(string(v.Risk), color), amplifierSuffix(v))
	fmt.Fprintf(&b, "RECOMMEND:  %s\n", v.Recommendation)
	fmt.Fprintf(&b, "SINCE:      Linux %s\n", v.Since)
	fmt.Fprintf(&b, "DEFAULT IN: %s\n", defaultInSentence(v))
	fmt.Fprintf(&b, "PSS:        %s\n", pssSentence(v))
	section(&b, "DESCRIPTION", v.Description)
	section(&b, "IMPACT", v.Impact)
	section(&b, "REASONING", v.Reasoning)
	if len(v.Amplifiers) > 0 {
		b.WriteString("\nCONTEXT THAT RAISES THE RISK:\n")
		for _, a := range v.Amplifiers {
			wrap(&b, fmt.Sprintf("%s -> %s: %s", a.Label(), a.Risk, a.Why), "  - ", "    ")
		}
	}
	b.WriteString("\nESCALATIONS:\n")
	if len(v.Escalations) == 0 {
		b.WriteString("    none known\n")
	}
	for _, x := range v.Escalations {
		title := x.Name
		if len(x.CVEs) > 0 {
			title += " (" + strings.Join(x.CVEs, ", ") + ")"
		}
		wrap(&b, title, "  - ", "    ")
		wrap(&b, x.Description, "    ", "    ")
		if len(x.References) > 0 {
			wrap(&b, "references: "+strings.Join(x.References, "; "), "    ", "      ")
		}
	}
	section(&b, "USER NAMESPACE (hostUsers: false)", userNSSentence(v))
	if v.Seed.Status != catalog.SeedAccurate {
		var s strings.Builder
		fmt.Fprintf(&s, "%s.", v.Seed.Status)
		if v.Seed.Said != "" {
			fmt.Fprintf(&s, " The seed said: %s.", strings.TrimSuffix(strings.TrimSpace(v.Seed.Said), "."))
		}
		if v.Seed.Why != "" {
			fmt.Fprintf(&s, " %s", strings.TrimSpace(v.Seed.Why))
		}
		section(&b, "DEPARTS FROM THE SEED CATALOG", s.String())
	}
	if len(v.Sources) > 0 {
		section(&b, "SOURCES", sourcesText(v.Sources))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func section(b *strings.Builder, title, text string) {
	fmt.Fprintf(b, "\n%s:\n", title)
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			b.WriteString("\n")
		}
		wrap(b, para, "    ", "    ")
	}
}

// wrap word-wraps text at pageWidth, with first and rest as line prefixes.
// Lines that start with "- " in the source keep their own line.
func wrap(b *strings.Builder, text, first, rest string) {
	prefix := first
	for _, srcLine := range strings.Split(strings.TrimSpace(text), "\n") {
		words := strings.Fields(srcLine)
		if len(words) == 0 {
			continue
		}
		line := prefix
		width := len(prefix)
		for i, word := range words {
			if i > 0 && width+1+len(word) > pageWidth {
				b.WriteString(line + "\n")
				line, width = rest+word, len(rest)+len(word)
				continue
			}
			if i > 0 {
				line += " "
				width++
			}
			line += word
			width += len(word)
		}
		b.WriteString(line + "\n")
		prefix = rest
	}
}

func amplifierSuffix(v explain.Capability) string {
	if len(v.Amplifiers) == 0 {
		return ""
	}
	parts := make([]string, 0, len(v.Amplifiers))
	for _, a := range v.Amplifiers {
		parts = append(parts, fmt.Sprintf("%s %s", a.Risk, a.Label()))
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func defaultInSentence(v explain.Capability) string {
	var yes, no []string
	has := map[string]bool{}
	for _, n := range v.DefaultIn {
		has[n] = true
	}
	for _, p := range runtimes.Known() {
		if has[p.Name()] {
			yes = append(yes, p.Name())
		} else {
			no = append(no, p.Name())
		}
	}
	switch {
	case len(yes) == 0:
		return "no runtime grants it by default; a container holds it only if it is added or privileged"
	case len(no) == 0:
		return strings.Join(yes, ", ") + " (every runtime's default set)"
	}
	return strings.Join(yes, ", ") + "; not " + strings.Join(no, ", ")
}

func pssSentence(v explain.Capability) string {
	if v.PSSBaseline {
		if v.Name == "NET_BIND_SERVICE" {
			return "Baseline and Restricted allow adding it"
		}
		return "Baseline allows adding it; Restricted requires dropping it (drop: [\"ALL\"])"
	}
	return "neither Baseline nor Restricted allows adding it"
}

func userNSSentence(v explain.Capability) string {
	if v.InertInUserNamespace {
		return "Inert: the kernel checks it in the initial user namespace. " + v.UserNamespaceNote
	}
	return v.UserNamespaceNote
}
