package explain

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
)

// Resolve turns the names given to explain into capabilities: every one
// of them, so that all unknown names are reported at once (in unknown,
// one message each) before anything is printed; all 41 when none is
// given. A name may be in any case, with or without CAP_, or a number.
// err is an unexpected failure of the parser, not a bad name.
func Resolve(names []string) (caps []capability.Cap, unknown []string, err error) {
	for _, n := range names {
		if strings.EqualFold(n, "ALL") {
			// Not a misspelled KILL: the keyword of the add and drop lists.
			unknown = append(unknown, fmt.Sprintf("%q is not a capability: in capabilities.add and capabilities.drop, ALL (in any case) is a keyword "+
				"meaning every capability (how each runtime reads it: docs/engine.md, \"What ALL means on each runtime\"); "+
				"run 'kubectl caps explain' without arguments for the table of all 41", n))
			continue
		}
		c, err := capability.Parse(n)
		var ue *capability.UnknownError
		switch {
		case errors.As(err, &ue):
			unknown = append(unknown, err.Error())
		case err != nil:
			return nil, nil, err
		default:
			caps = append(caps, c)
		}
	}
	if len(names) == 0 {
		for c := capability.Cap(0); c <= capability.Last; c++ {
			caps = append(caps, c)
		}
	}
	return caps, unknown, nil
}

// Completions are the capability names, each with its summary after a tab
// (cobra's completion format), that start with what is typed, in any case
// and with or without CAP_, leaving out those already given.
func Completions(given []string, toComplete string) []string {
	prefix := strings.ToUpper(strings.TrimPrefix(strings.TrimPrefix(toComplete, "CAP_"), "cap_"))
	used := map[string]bool{}
	for _, a := range given {
		if c, err := capability.Parse(a); err == nil {
			used[c.String()] = true
		}
	}
	var out []string
	cat := catalog.Default()
	for _, n := range capability.Names() {
		if strings.HasPrefix(n, prefix) && !used[n] {
			e, _ := cat.Lookup(n)
			out = append(out, n+"\t"+e.Summary)
		}
	}
	return out
}
