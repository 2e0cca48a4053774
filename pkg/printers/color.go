package printers

import (
	"io"
	"os"

	"golang.org/x/term"
)

// UseColor decides whether a table is coloured, from the --color flag
// ("auto", "always" or "never"), whether stdout is a terminal, and the
// NO_COLOR and TERM environment variables. Following https://no-color.org, a
// non-empty NO_COLOR turns the automatic colour off (an empty one does
// not). TERM=dumb, a terminal that declares it understands no escape
// sequences (terminfo's "dumb" entry: Emacs' M-x shell, some CI log
// viewers), turns it off too, as it does for git and GNU ls. An explicit
// --color=always still colours: the standard's example implementation
// reads NO_COLOR first and then lets the command line "turn color back
// on", and a flag given to one command is more specific than an
// environment set for all of them.
func UseColor(flag string, terminal bool, noColor, term string) bool {
	switch flag {
	case "always":
		return true
	case "auto":
		return terminal && noColor == "" && term != "dumb"
	}
	return false
}

// ColorFor is UseColor for output written to w, from the environment:
// whether w is a terminal, NO_COLOR and TERM.
func ColorFor(flag string, w io.Writer) bool {
	f, ok := w.(*os.File)
	return UseColor(flag, ok && term.IsTerminal(int(f.Fd())), os.Getenv("NO_COLOR"), os.Getenv("TERM"))
}
