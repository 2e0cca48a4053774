package explain

import (
	"fmt"
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

// sourcesText is the SOURCES section of the text page.
func sourcesText(ids []string) string {
	return fmt.Sprintf("%s; each is explained in %s", strings.Join(ids, ", "), SourcesURL)
}

// sourcesMarkdown links each short name to its entry in docs/sources.md,
// relative to docs/capabilities/.
func sourcesMarkdown(ids []string) string {
	links := make([]string, len(ids))
	for i, id := range ids {
		if a := SourceAnchor(id); a != "" {
			links[i] = fmt.Sprintf("[%s](../sources.md#%s)", id, a)
		} else {
			links[i] = id
		}
	}
	return fmt.Sprintf("Sources: %s (see [sources](../sources.md#short-names)).\n", strings.Join(links, ", "))
}
