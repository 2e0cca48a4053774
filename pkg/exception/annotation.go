// Package exception holds what a user has recorded as allowed: a workload's
// caps.kubectl-caps.io/allow annotation and the entries of an --exceptions
// file. It parses both (values in, values out: the command reads the files)
// and answers one question for the findings: does an exception cover this
// finding, and which one. An excepted finding is still reported, with the
// exception's reason; expired and unused exceptions are reported too, so an
// allowlist cannot rot silently (docs/exceptions.md).
package exception

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// AnnotationKey is the annotation a workload (its pod template or the object
// itself) carries to allow capabilities per container.
const AnnotationKey = "caps.kubectl-caps.io/allow"

// AnyContainer in an annotation clause or a file entry means every container
// of the workload.
const AnyContainer = "*"

// Allowance is a parsed annotation: capabilities per container and the one
// reason that applies to all of them.
type Allowance struct {
	Clauses []Clause
	Reason  string
}

// Clause allows Caps to one container (or AnyContainer).
type Clause struct {
	Container string
	Caps      capability.Set
}

// SyntaxError is a malformed annotation value. Column counts bytes from 1,
// so a user can find the spot in a long value.
type SyntaxError struct {
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s: column %d: %s (grammar: 'CONTAINER: CAP,CAP; …; reason: TEXT', docs/exceptions.md)",
		AnnotationKey, e.Column, e.Msg)
}

// ParseAnnotation parses the annotation's value. The grammar (docs/exceptions.md):
//
//	value  = clause *( ";" clause ) ";" "reason" ":" text
//	clause = container ":" cap *( "," cap )
//
// container is a container name (a DNS-1123 label) or "*"; cap is any
// spelling capability.Parse accepts (NET_ADMIN, net_admin, CAP_NET_ADMIN);
// blanks around tokens are ignored. The first clause whose key is "reason"
// starts the reason, which runs to the end of the value, so a reason may
// itself contain ";", ":" and ",". That makes the grammar unambiguous at the
// price of one name: a container called "reason" must be allowed through an
// --exceptions file. The reason is mandatory and must say something.
func ParseAnnotation(value string) (Allowance, error) {
	var a Allowance
	if strings.TrimSpace(value) == "" {
		return a, &SyntaxError{Column: 1, Msg: "the value is empty; write CONTAINER: CAP,CAP; reason: WHY, or remove the annotation"}
	}
	seen := map[string]int{}
	pos := 0
	for pos <= len(value) {
		end := strings.IndexByte(value[pos:], ';')
		if end < 0 {
			end = len(value)
		} else {
			end += pos
		}
		clause := value[pos:end]
		key, rest, ok := strings.Cut(clause, ":")
		keyCol := pos + 1 + leading(clause)
		name := strings.TrimSpace(key)
		switch {
		case strings.TrimSpace(clause) == "":
			return a, &SyntaxError{Column: keyCol, Msg: "empty clause; remove the extra ';'"}
		case !ok:
			return a, &SyntaxError{Column: keyCol, Msg: fmt.Sprintf("%q has no ':'; write CONTAINER: CAP,CAP or reason: TEXT", strings.TrimSpace(clause))}
		case name == "reason":
			// The reason runs to the end of the value, ';' and all.
			a.Reason = strings.TrimSpace(value[pos+len(key)+1:])
			if a.Reason == "" {
				return a, &SyntaxError{Column: keyCol, Msg: "the reason is empty; say why this workload needs these capabilities"}
			}
			if len(a.Clauses) == 0 {
				return a, &SyntaxError{Column: 1, Msg: "no container is allowed anything; start with CONTAINER: CAP,CAP"}
			}
			return a, nil
		}
		if err := validContainer(name); err != "" {
			return a, &SyntaxError{Column: keyCol, Msg: err}
		}
		if prev, dup := seen[name]; dup {
			return a, &SyntaxError{Column: keyCol, Msg: fmt.Sprintf("container %q is named twice (first at column %d); list its capabilities in one clause", name, prev)}
		}
		seen[name] = keyCol
		set, err := parseCaps(rest, pos+len(key)+1)
		if err != nil {
			return a, err
		}
		a.Clauses = append(a.Clauses, Clause{Container: name, Caps: set})
		pos = end + 1
	}
	return a, &SyntaxError{Column: len(value) + 1, Msg: "no reason; end with '; reason: WHY'"}
}

// parseCaps parses "CAP, CAP" starting at byte offset off of the value.
func parseCaps(s string, off int) (capability.Set, error) {
	var set capability.Set
	col := off + 1
	for _, tok := range strings.Split(s, ",") {
		t := strings.TrimSpace(tok)
		tcol := col + leading(tok)
		col += len(tok) + 1
		if t == "" {
			return 0, &SyntaxError{Column: tcol, Msg: "empty capability name; remove the extra ','"}
		}
		if strings.EqualFold(t, "ALL") {
			return 0, &SyntaxError{Column: tcol, Msg: "ALL cannot be allowed by an annotation; name each capability the workload needs"}
		}
		c, err := capability.Parse(t)
		if err != nil {
			return 0, &SyntaxError{Column: tcol, Msg: err.Error()}
		}
		if set.Has(c) {
			return 0, &SyntaxError{Column: tcol, Msg: fmt.Sprintf("%s is listed twice", c)}
		}
		set = set.Add(c)
	}
	return set, nil
}

// validContainer checks a container name the way the apiserver does
// (IsDNS1123Label: lower-case alphanumerics and '-', at most 63), so a
// typo fails here rather than never matching.
func validContainer(name string) string {
	if name == AnyContainer {
		return ""
	}
	if name == "" {
		return "missing container name before ':'"
	}
	if len(name) > 63 {
		return fmt.Sprintf("container name %q is longer than 63 characters", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (c != '-' || i == 0 || i == len(name)-1) {
			return fmt.Sprintf("%q is not a container name (lower-case letters, digits and '-', starting and ending with a letter or digit) or '*'", name)
		}
	}
	return ""
}

func leading(s string) int { return len(s) - len(strings.TrimLeft(s, " \t\n")) }

// String writes the allowance back in the canonical form, which parses to
// the same value.
func (a Allowance) String() string {
	var b strings.Builder
	for _, c := range a.Clauses {
		b.WriteString(c.Container)
		b.WriteString(": ")
		b.WriteString(strings.Join(c.Caps.Names(), ","))
		b.WriteString("; ")
	}
	b.WriteString("reason: ")
	b.WriteString(a.Reason)
	return b.String()
}

// Annotated is a workload's allow annotation where it may be set: the
// object's own metadata, and its pod template (which a pod's own
// annotations are, live).
type Annotated struct {
	Object, Template     string
	OnObject, OnTemplate bool
}

// ErrBothDiffer is Pick's error: which value applies would be a guess.
var ErrBothDiffer = errors.New("set on the object and on its pod template with different values; keep one")

// Pick is the value that applies, the one rule of manifests and live
// audits: the object's, else the template's; ok is false when neither is
// set; both set to different values is ErrBothDiffer.
func (a Annotated) Pick() (value string, onObject, ok bool, err error) {
	switch {
	case a.OnObject && a.OnTemplate && a.Object != a.Template:
		return "", true, false, ErrBothDiffer
	case a.OnObject:
		return a.Object, true, true, nil
	case a.OnTemplate:
		return a.Template, false, true, nil
	}
	return "", false, false, nil
}
