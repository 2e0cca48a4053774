package explain

import (
	"regexp"
	"strings"
)

// SourcesURL is where the catalog's short source names (MAN-CAP, CTRD, ...)
// are explained, each with the upstream file, commit or man page behind it.
// Users of the binary may not have the repository, so the text page gives
// the URL.
const SourcesURL = "https://github.com/kubectl-caps/kubectl-caps/blob/main/docs/sources.md#short-names"

// shortName is the form of a catalog source id; anything else (a URL, a
// free-text reference) is printed as it is and not linked.
var shortName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)

// SourceAnchor is the anchor in docs/sources.md that explains a short source
// name, e.g. "ref-man-cap" for "MAN-CAP"; "" when id is no short name.
func SourceAnchor(id string) string {
	if !shortName.MatchString(id) {
		return ""
	}
	return "ref-" + strings.ToLower(id)
}
