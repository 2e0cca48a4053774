package sariftest

import (
	"strings"
	"testing"
)

// The check can fail: documents the schema or GitHub rejects.
func TestProblems(t *testing.T) {
	const good = `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [{"id": "R1",
  "shortDescription": {"text": "s"}, "fullDescription": {"text": "f"}, "help": {"text": "h", "markdown": "h"},
  "properties": {"security-severity": "5.0", "tags": ["security"]}}]}},
  "results": [{"ruleId": "R1", "level": "error", "message": {"text": "m"},
    "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a/b.yaml"}, "region": {"startLine": 3, "startColumn": 5}},
      "logicalLocations": [{"fullyQualifiedName": "ns/Pod/p/c", "kind": "object"}]}],
    "partialFingerprints": {"kubectlCapsFinding/v1": "v1:00"}}]}]}`
	if p := Problems([]byte(good)); len(p) > 0 {
		t.Fatalf("a valid log rejected: %v", p)
	}
	for name, bad := range map[string][2]string{
		"schema: a level SARIF lacks":  {`"level": "error"`, `"level": "fatal"`},
		"schema: startLine 0":          {`"startLine": 3`, `"startLine": 0`},
		"an absolute path":             {`"uri": "a/b.yaml"`, `"uri": "/src/a/b.yaml"`},
		"a path out of the repository": {`"uri": "a/b.yaml"`, `"uri": "../b.yaml"`},
		"an unknown rule":              {`"ruleId": "R1"`, `"ruleId": "R2"`},
		"no fingerprint":               {`"kubectlCapsFinding/v1": "v1:00"`, `"other": "v1:00"`},
		"no security-severity":         {`"security-severity": "5.0", `, ``},
	} {
		if p := Problems([]byte(strings.Replace(good, bad[0], bad[1], 1))); len(p) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}
