package printers

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
