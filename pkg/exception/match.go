package exception

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// FromAnnotation turns a workload's annotation into entries scoped to that
// workload. containers are the workload's container names (all kinds:
// containers, initContainers, ephemeralContainers); a clause naming
// another container is an error naming the object, since an allowance for
// a container that does not exist can only be a typo.
func FromAnnotation(namespace string, ref workload.Ref, containers []string, value string) ([]Entry, error) {
	origin := fmt.Sprintf("%s annotation %s", ref.Label(), AnnotationKey)
	if namespace != "" {
		origin = namespace + "/" + origin
	}
	a, err := ParseAnnotation(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", objectName(namespace, ref), err)
	}
	out := make([]Entry, 0, len(a.Clauses))
	for _, c := range a.Clauses {
		if c.Container != AnyContainer && !slices.Contains(containers, c.Container) {
			return nil, fmt.Errorf("%s: %s names container %q, which the workload does not have (it has %s)",
				objectName(namespace, ref), AnnotationKey, c.Container, strings.Join(containers, ", "))
		}
		out = append(out, Entry{
			Namespace: escapeGlob(namespace),
			Kind:      escapeGlob(ref.Kind),
			Name:      escapeGlob(ref.Name),
			Container: escapeGlob(c.Container),
			Caps:      c.Caps,
			Reason:    a.Reason,
			Origin:    origin,
		})
	}
	return out, nil
}

func objectName(namespace string, ref workload.Ref) string {
	if namespace == "" {
		return ref.Label()
	}
	return namespace + "/" + ref.Label()
}

// escapeGlob makes an exact name safe to use as a glob; "*" (any
// container) stays a wildcard. Kubernetes names cannot hold glob
// characters, but a manifest is input and may.
func escapeGlob(s string) string {
	if s == AnyContainer {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

// Subject is what a finding is about, as the exceptions see it.
type Subject struct {
	Namespace string
	Kind      string
	Name      string
	Container string
	Rule      string
	// Cap is the capability the finding is about; HasCap is false for
	// findings about no single capability (privileged, a typo).
	Cap    capability.Cap
	HasCap bool
}

// Match is an exception's verdict on one finding.
type Match struct {
	// Index of the entry in the Set; -1 when none applies.
	Index int
	Entry Entry
	// Expired entries that would have covered the finding: the finding
	// is not excepted, and the message can say why the allowance stopped.
	Expired []int
}

// Excepted reports whether a live entry covers the finding.
func (m Match) Excepted() bool { return m.Index >= 0 }

// Set is every exception in force for a run: the file's entries, then the
// annotations'. It is a value; which entries were used is the caller's
// record (a []bool beside it), so that one Set can serve goroutines.
type Set struct {
	Entries []Entry
}

// Match finds the first entry (in file order, then annotations) that
// covers s at now. Expired entries never cover; they are returned so the
// finding can say the exception expired.
func (set Set) Match(s Subject, now time.Time) Match {
	m := Match{Index: -1}
	for i, e := range set.Entries {
		if !e.covers(s) {
			continue
		}
		if e.Expired(now) {
			m.Expired = append(m.Expired, i)
			continue
		}
		m.Index, m.Entry = i, e
		return m
	}
	return m
}

func (e Entry) covers(s Subject) bool {
	if !e.Selects(s.Namespace, s.Kind, s.Name, s.Container) {
		return false
	}
	if len(e.Rules) > 0 && !slices.Contains(e.Rules, s.Rule) {
		return false
	}
	if !e.Caps.Empty() && (!s.HasCap || !e.Caps.Has(s.Cap)) {
		return false
	}
	return true
}

// Selects reports whether the entry's selectors (globs) name the
// container, whatever its capabilities and rules: what a policy expands an
// entry to.
func (e Entry) Selects(namespace, kind, name, container string) bool {
	return glob(e.Namespace, namespace, false) && glob(e.Kind, kind, true) &&
		glob(e.Name, name, false) && glob(e.Container, container, false)
}

func glob(pattern, name string, fold bool) bool {
	if pattern == "" {
		return true
	}
	if fold {
		pattern, name = strings.ToLower(pattern), strings.ToLower(name)
	}
	ok, _ := path.Match(pattern, name) // patterns are checked when parsed
	return ok
}

// Unused lists the entries that covered nothing, in order, skipping the
// expired ones (reported as expired instead): stale allowlists rot.
func (set Set) Unused(used []bool, now time.Time) []Entry {
	var out []Entry
	for i, e := range set.Entries {
		if (i >= len(used) || !used[i]) && !e.Expired(now) {
			out = append(out, e)
		}
	}
	return out
}

// ExpiredEntries lists the entries past their date at now.
func (set Set) ExpiredEntries(now time.Time) []Entry {
	var out []Entry
	for _, e := range set.Entries {
		if e.Expired(now) {
			out = append(out, e)
		}
	}
	return out
}
