package finding

import (
	"fmt"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/baseline"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
)

// Settled is the findings after exceptions and the baseline: every finding
// still there, each with its status, and what the user's records say of
// themselves.
type Settled struct {
	Findings []Finding
	// Excepted and Known count the findings an exception covers and those
	// the baseline accepted; Open the rest.
	Excepted, Known, Open int
	// Unused are exceptions that covered nothing; Expired those past
	// their date (whether or not they would have covered something).
	Unused, Expired []exception.Entry
	// Fixed are baseline entries no finding has any more.
	Fixed []baseline.Entry
}

// Settle gives each finding its status (docs/exceptions.md): excepted when
// a live exception covers it (with the reason and where the exception is
// written), else known when the baseline holds its fingerprint, else open.
// No finding is dropped: an excepted or known finding is still reported,
// it only stops failing the run (Failing). A finding that an expired
// exception would have covered is open and says so. base may be nil.
//
// An exception's capabilities cover the findings about holding them: the
// risk rules (CAPS001-004), whose Capability is a canonical name. Every
// other rule (a spelling, privileged, a kept default) is covered by rule
// id only, since "may hold SYS_ADMIN" does not mean "may misspell it".
func Settle(fs []Finding, ex exception.Set, base *baseline.Baseline, now time.Time) Settled {
	s := Settled{Findings: make([]Finding, len(fs))}
	used := make([]bool, len(ex.Entries))
	seen := map[string]bool{}
	for i, f := range fs {
		sub := exception.Subject{Namespace: f.Namespace, Kind: f.Workload.Kind, Name: f.Workload.Name, Container: f.Container, Rule: f.RuleID}
		if r, ok := Lookup(f.RuleID); ok && r.Risk != "" {
			if c, err := capability.Parse(f.Capability); err == nil {
				sub.Cap, sub.HasCap = c, true
			}
		}
		m := ex.Match(sub, now)
		switch {
		case m.Excepted():
			used[m.Index] = true
			f.Status, f.ExceptedBy, f.Reason = StatusExcepted, m.Entry.Origin, m.Entry.Reason
			s.Excepted++
		case base != nil && base.Known(f.Fingerprint):
			f.Status = StatusKnown
			s.Known++
		default:
			f.Status = StatusOpen
			s.Open++
		}
		for _, k := range m.Expired {
			e := ex.Entries[k]
			f.Message += fmt.Sprintf(" (the exception at %s expired on %s)", e.Origin, e.Expires.Format(time.DateOnly))
			break // one is enough to say why
		}
		seen[f.Fingerprint] = true
		s.Findings[i] = f
	}
	s.Unused = ex.Unused(used, now)
	s.Expired = ex.ExpiredEntries(now)
	if base != nil {
		s.Fixed = base.Fixed(seen)
	}
	return s
}

// Failing is how many containers fail --fail-on: those with an open
// finding at level error that a risk rule or the privileged rule reports
// (Apply makes those errors exactly at or above --fail-on). Excepted and
// known findings never fail a run.
func Failing(fs []Finding) int {
	containers := map[string]bool{}
	for _, f := range fs {
		if f.Status == StatusOpen && f.Level == LevelError && f.Risk != "" {
			containers[f.Namespace+"\x00"+f.Workload.Kind+"\x00"+f.Workload.Name+"\x00"+f.Container] = true
		}
	}
	return len(containers)
}

// BaselineEntries are the findings as a baseline file records them
// (--write-baseline): every finding not excepted, so that the file holds
// what the team accepts for now and no more.
func BaselineEntries(fs []Finding) []baseline.Entry {
	out := make([]baseline.Entry, 0, len(fs))
	for _, f := range fs {
		if f.Status == StatusExcepted {
			continue
		}
		out = append(out, baseline.Entry{
			Fingerprint: f.Fingerprint, Rule: f.RuleID,
			Workload:  f.Namespace + "/" + f.Workload.Kind + "/" + f.Workload.Name,
			Container: f.Container, Capability: f.Capability,
		})
	}
	return out
}
