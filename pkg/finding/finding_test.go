package finding

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Every code the engine (and audit, for misspelt fields) warns with is
// restated by exactly one rule, so that no warning is left out of SARIF,
// JUnit and the annotations. The codes are read from the source, so a new
// warning without a rule fails here.
func TestEveryWarningHasARule(t *testing.T) {
	var codes []string
	for _, path := range []string{"../engine/warnings.go", "../audit/audit.go"} {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?:w\.add\(|Code:\s+)"([a-z-]+)"`).FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(codes, m[1]) {
				codes = append(codes, m[1])
			}
		}
	}
	if len(codes) < 14 {
		t.Fatalf("found only %d warning codes (%v): the pattern no longer matches the source", len(codes), codes)
	}
	for _, c := range codes {
		if _, ok := ForWarning(c); !ok {
			t.Errorf("warning code %q has no rule in pkg/finding/rules.go", c)
		}
	}
	for _, r := range rules {
		if r.Warning && !slices.Contains(codes, r.Name) {
			t.Errorf("rule %s restates warning %q, which nothing emits", r.ID, r.Name)
		}
	}
}

func TestRulesAreWellFormed(t *testing.T) {
	id := regexp.MustCompile(`^CAPS\d{3}$`)
	seen := map[string]bool{}
	for i, r := range rules {
		if !id.MatchString(r.ID) || seen[r.ID] || seen[r.Name] {
			t.Errorf("rule %d: id %q or name %q malformed or repeated", i, r.ID, r.Name)
		}
		seen[r.ID], seen[r.Name] = true, true
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Errorf("rule %s out of id order", r.ID)
		}
		if r.Short == "" || r.Full == "" || r.Help == "" || r.Severity == "" || r.Level == "" {
			t.Errorf("rule %s lacks a text, level or severity", r.ID)
		}
	}
	for _, risk := range []catalog.Risk{catalog.RiskLow, catalog.RiskMedium, catalog.RiskHigh, catalog.RiskCritical} {
		if _, ok := ForRisk(risk); !ok {
			t.Errorf("no rule for a capability of %s risk", risk)
		}
	}
}

// The fingerprint names the workload and container, not the place: a move
// to another file or another line keeps it; another container, workload,
// capability or rule changes it.
func TestFingerprint(t *testing.T) {
	web := workload.Ref{Kind: "Deployment", Name: "web"}
	base := Fingerprint("CAPS002", "shop", web, "app", "NET_ADMIN")
	if !strings.HasPrefix(base, "v1:") || len(base) != 35 {
		t.Errorf("fingerprint %q: want v1: and 32 hex digits", base)
	}
	for name, other := range map[string]string{
		"rule":       Fingerprint("CAPS001", "shop", web, "app", "NET_ADMIN"),
		"namespace":  Fingerprint("CAPS002", "default", web, "app", "NET_ADMIN"),
		"kind":       Fingerprint("CAPS002", "shop", workload.Ref{Kind: "StatefulSet", Name: "web"}, "app", "NET_ADMIN"),
		"name":       Fingerprint("CAPS002", "shop", workload.Ref{Kind: "Deployment", Name: "web2"}, "app", "NET_ADMIN"),
		"container":  Fingerprint("CAPS002", "shop", web, "sidecar", "NET_ADMIN"),
		"capability": Fingerprint("CAPS002", "shop", web, "app", "NET_RAW"),
		// Fields joined without a separator would collide here.
		"boundary": Fingerprint("CAPS002", "shop", web, "appN", "ET_ADMIN"),
	} {
		if other == base {
			t.Errorf("another %s gives the same fingerprint", name)
		}
	}
}

// Apply keeps the risk findings from high up (lower ones when --fail-on
// reaches them) and makes exactly those at or above --fail-on errors.
func TestApply(t *testing.T) {
	mk := func(risk string, lvl Level, fp string) Finding {
		return Finding{Risk: risk, Level: lvl, Fingerprint: fp}
	}
	in := []Finding{
		mk("critical", LevelError, "a"), mk("high", LevelError, "b"), mk("medium", LevelWarning, "c"),
		mk("low", LevelNote, "d"), mk("", LevelError, "e"), mk("high", LevelError, "b"),
	}
	tests := []struct {
		failOn catalog.Risk
		want   string
	}{
		{"", "a:error b:error e:error"},
		{catalog.RiskCritical, "a:error b:warning e:error"},
		{catalog.RiskHigh, "a:error b:error e:error"},
		{catalog.RiskMedium, "a:error b:error c:error e:error"},
		{catalog.RiskLow, "a:error b:error c:error d:error e:error"},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range Apply(in, tt.failOn) {
			got = append(got, f.Fingerprint+":"+string(f.Level))
		}
		if s := strings.Join(got, " "); s != tt.want {
			t.Errorf("--fail-on=%q: %s, want %s", tt.failOn, s, tt.want)
		}
	}
}

// docs/findings.md lists every rule, in a table row with its name, level
// and security-severity, and under its own heading; and no other id.
func TestRulesDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/findings.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, r := range rules {
		row := fmt.Sprintf("| [%s](#%s) | %s | %s | %s |", r.ID, strings.ToLower(r.ID), r.Name, r.Level, r.Severity)
		if !strings.Contains(doc, row+"\n") {
			t.Errorf("docs/findings.md has no row %q", row)
		}
		if !strings.Contains(doc, "\n### "+r.ID+"\n"+r.Name+":") {
			t.Errorf("docs/findings.md has no heading %q followed by %q", r.ID, r.Name+":")
		}
	}
	for _, id := range regexp.MustCompile(`CAPS\d{3}`).FindAllString(doc, -1) {
		if _, ok := Lookup(id); !ok {
			t.Errorf("docs/findings.md names %s, which is no rule", id)
		}
	}
}
