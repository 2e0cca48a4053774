package cmd

import (
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
)

// TestDefaultTablesFit120 holds the default tables of audit and
// suggest-drop to printers.DefaultWidth (stdout is not a terminal here) on
// the bundled examples and on the corpus of real manifests. Before the
// short capability columns the examples printed 240 (audit) and 536
// (suggest-drop) columns.
func TestDefaultTablesFit120(t *testing.T) {
	dirs := map[string]string{"examples": examples}
	names := []string{"examples"}
	// Without ../shared the examples are still checked; under CI=true an
	// absent corpus fails (internal/sharedtest).
	if corpus, ok := sharedtest.Optional(t, "corpus"); ok {
		dirs["corpus"] = corpus
		names = append(names, "corpus")
	}
	for _, name := range names {
		for _, verb := range []string{"audit", "suggest-drop"} {
			t.Run(verb+" "+name, func(t *testing.T) {
				out, errOut, code := run(t, "", verb, "-f", dirs[name], "-R")
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
				if len(lines) < 2 {
					t.Fatalf("no table:\n%s", out)
				}
				for _, l := range lines {
					if w := twwidth.Width(l); w > 120 {
						t.Errorf("%d columns, over 120: %q", w, l)
					}
				}
			})
		}
	}
}

// TestSummaryOnStderr: the table's one-line summary is the last line of
// stderr, after the warnings or notes; JSON and YAML get none, and stdout
// never does.
func TestSummaryOnStderr(t *testing.T) {
	tests := []struct {
		args []string
		want string // the last line of stderr; "" for none
	}{
		{[]string{"audit", "-f", examples, "-R"},
			"11 workloads, 16 containers: 3 critical, 8 high, 0 medium, 5 low/none; PSS capability rules: restricted 5, baseline 2, privileged 9"},
		{[]string{"audit", "-f", examples, "-R", "-o", "wide", "--no-headers"},
			"11 workloads, 16 containers: 3 critical, 8 high, 0 medium, 5 low/none; PSS capability rules: restricted 5, baseline 2, privileged 9"},
		{[]string{"audit", "-f", examples, "-R", "--min-risk", "critical"},
			"3 workloads, 3 containers: 3 critical, 0 high, 0 medium, 0 low/none; PSS capability rules: restricted 1, baseline 0, privileged 2"},
		{[]string{"suggest-drop", "-f", examples, "-R"},
			"11 workloads, 16 containers: 9 with something to drop (by highest risk: 2 critical, 6 high, 1 medium, 0 low/none), 7 with nothing to drop; the patches change 6"},
		{[]string{"audit", "-f", examples, "-R", "-o", "json"}, ""},
		{[]string{"audit", "-f", examples, "-R", "-o", "yaml"}, ""},
		{[]string{"suggest-drop", "-f", examples, "-R", "-o", "json"}, ""},
		{[]string{"suggest-drop", "-f", examples, "-R", "-o", "patch"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[3:], " ")+" "+tt.args[0], func(t *testing.T) {
			out, errOut, code := run(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if strings.Contains(out, " workloads, ") {
				t.Errorf("the summary belongs on stderr, stdout has it:\n%s", out)
			}
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			last := lines[len(lines)-1]
			if tt.want == "" {
				if strings.Contains(errOut, " containers: ") {
					t.Errorf("no summary after %s, stderr ends with %q", tt.args[len(tt.args)-1], last)
				}
				return
			}
			if last != tt.want {
				t.Errorf("last stderr line\n got %q\nwant %q", last, tt.want)
			}
		})
	}
}

// TestSuggestWideCompletes: -o wide is offered where it is accepted.
func TestSuggestWideCompletes(t *testing.T) {
	out, _, _ := run(t, "", "__complete", "suggest-drop", "-o", "")
	if !strings.Contains(out, "wide\n") {
		t.Errorf("-o completion lacks wide:\n%s", out)
	}
}

// TestSuggestKeepCompletes: --keep completes capability names, also after
// a per-container selector's '=' and after a comma.
func TestSuggestKeepCompletes(t *testing.T) {
	for toComplete, want := range map[string]string{
		"":                      "NET_RAW\n",
		"deploy/web:nginx=":     "deploy/web:nginx=NET_RAW\n",
		"deploy/web=NET_RAW,SY": "deploy/web=NET_RAW,SYS_ADMIN\n",
		"NET_RAW,":              "NET_RAW,SYS_PTRACE\n",
	} {
		out, _, _ := run(t, "", "__complete", "suggest-drop", "--keep", toComplete)
		if !strings.Contains(out, want) || !strings.Contains(out, ":4\n") {
			t.Errorf("--keep %q completion lacks %q (or file completion is on):\n%s", toComplete, want, out)
		}
	}
}
