package finding

import "testing"

// GitHub code scanning's bands of security-severity, which the policy
// reports' severity and the CI formats' order both read from Rule.
func TestRuleBand(t *testing.T) {
	for sev, want := range map[string]string{"9.8": "critical", "9.0": "critical", "8.0": "high", "7.0": "high", "5.5": "medium", "4.0": "medium", "3.0": "low", "": "low"} {
		if got := (Rule{Severity: sev}).Band(); got != want {
			t.Errorf("Band(%q) = %s, want %s", sev, got, want)
		}
	}
}
