// Package safetext makes strings the input chose safe to print as text.
package safetext

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The text formats (tables, warnings, notes, patches' comments, kubectl
// commands) print strings the input chose: names in a manifest that no API
// server validated, capability entries, exception reasons, the commands
// an Inspektor Gadget trace names. Printed raw, a newline or a carriage
// return in one of them forges lines, an escape sequence drives the
// terminal (CVE-2021-25743, which kubectl fixed in
// k8s.io/cli-runtime/pkg/printers/terminal.go, EscapeTerminal), and a line
// that starts with "::" is a GitHub Actions workflow command, which the
// runner reads from a step's stdout and stderr ("Workflow commands for
// GitHub Actions", docs.github.com): a pull request could then write
// ::error or ::add-mask lines into the job that audits it. JSON, SARIF
// and JUnit encode their strings, and so does YAML but for a string with a
// line break, which it writes as a block whose lines start at the margin
// (pkg/printers' YAML writer quotes those); -o github escapes its data
// after Prose.

// Quote returns a name or a table cell as it is when it is plain, and
// otherwise quoted as Go quotes it ("web\n::x"), so that what is shown is
// one visible token: plain is printable and not starting with "::".
func Quote(s string) string {
	if plain(s) && !strings.HasPrefix(strings.TrimLeft(s, " "), "::") {
		return s
	}
	return strconv.Quote(s)
}

// Prose returns free text (a message, a reason, a command line) with each
// rune that is not printable written as its Go escape (\n, \x1b, \u2028),
// so that it stays on its line; the rest is left as written, quotes
// included.
func Prose(s string) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	for s != "" {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case printable(r):
			b.WriteString(s[:size])
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0]) // a byte that is not UTF-8
		default:
			q := strconv.QuoteRune(r) // 'x' with the escape inside
			b.WriteString(q[1 : len(q)-1])
		}
		s = s[size:]
	}
	return b.String()
}

func plain(s string) bool {
	for _, r := range s {
		if !printable(r) {
			return false
		}
	}
	return true
}

// printable is unicode.IsPrint (letters, marks, numbers, punctuation,
// symbols and the ASCII space) less the replacement rune of invalid UTF-8.
func printable(r rune) bool {
	return r != utf8.RuneError && unicode.IsPrint(r)
}
