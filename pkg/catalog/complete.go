package catalog

import (
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// CompleteList completes a comma-separated list of capability names, the
// value of a flag such as audit's --capability: the names that start with
// the word after the last comma (in any case, with or without CAP_), each
// after what is typed before that word, with its summary, which shells
// that show descriptions print beside it ("NET_RAW<TAB>Forge any packet").
func CompleteList(toComplete string) []string {
	done := toComplete[:strings.LastIndex(toComplete, ",")+1]
	word := strings.ToUpper(strings.TrimSpace(toComplete[len(done):]))
	word = strings.TrimPrefix(word, "CAP_")
	var out []string
	for c := capability.Cap(0); c <= capability.Last; c++ {
		if strings.HasPrefix(c.String(), word) {
			out = append(out, done+c.String()+"\t"+Default().Get(c).Summary)
		}
	}
	return out
}
