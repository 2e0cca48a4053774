package printers

import (
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/explain"
)

func TestSourcesMarkdownLinksShortNamesOnly(t *testing.T) {
	got := sourcesMarkdown([]string{"MAN-CAP", "kernel/audit.c"})
	want := "Sources: [MAN-CAP](../sources.md#ref-man-cap), kernel/audit.c (see [sources](../sources.md#short-names)).\n"
	if got != want {
		t.Errorf("sourcesMarkdown = %q, want %q", got, want)
	}
	if !strings.Contains(sourcesText([]string{"CTRD"}), explain.SourcesURL) {
		t.Errorf("the text page's SOURCES must give the URL users can follow")
	}
}
