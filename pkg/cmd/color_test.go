package cmd

import (
	"strings"
	"testing"
)

// Every command that colours takes --color with audit's semantics
// (printers.UseColor): always colours even with NO_COLOR, never and auto
// off a terminal do not, and a bad value is a usage error (issue 16 item 15).
func TestColorOnEveryCommandThatColours(t *testing.T) {
	web := examples + "/01-web-defaults.yaml"
	commands := []struct {
		name string
		args []string
	}{
		{"audit table", []string{"audit", "-f", web}},
		{"suggest-drop table", []string{"suggest-drop", "-f", web}},
		{"suggest-drop wide", []string{"suggest-drop", "-f", web, "-o", "wide"}},
		{"explain page", []string{"explain", "NET_RAW"}},
		{"explain table", []string{"explain"}},
	}
	modes := []struct {
		flag, noColor string
		want          bool
	}{
		{"always", "", true},
		{"always", "1", true},
		{"never", "", false},
		// Tests write to a buffer, not a terminal.
		{"auto", "", false},
	}
	for _, c := range commands {
		for _, m := range modes {
			t.Run(c.name+" --color="+m.flag+" NO_COLOR="+m.noColor, func(t *testing.T) {
				t.Setenv("NO_COLOR", m.noColor)
				out, errOut, code := run(t, "", append(c.args, "--color="+m.flag)...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				if got := strings.Contains(out, "\x1b["); got != m.want {
					t.Errorf("coloured %v, want %v:\n%q", got, m.want, out)
				}
			})
		}
		t.Run(c.name+" bad value", func(t *testing.T) {
			expectError(t, append(c.args, "--color=sometimes"), ExitUsage, `unknown --color "sometimes"`)
		})
	}
	// Machine-readable output is never coloured.
	out, _, _ := run(t, "", "explain", "NET_RAW", "-o", "json", "--color=always")
	if strings.Contains(out, "\x1b[") {
		t.Errorf("explain -o json is coloured")
	}
}
