// Package sariftest holds every SARIF document the tests write to the
// official SARIF 2.1.0 JSON schema (OASIS, errata01:
// https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json,
// the copy github.com/owenrumney/go-sarif v3.3.1 embeds, whose own
// round trip through its Go model cannot validate a document as written),
// checked with gojsonschema, and to what GitHub code scanning requires beyond it
// (docs.github.com, "SARIF support for code scanning"): a driver with a
// name and rules, results whose ruleId is a rule, a message, and a file
// location relative to the repository.
package sariftest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"
)

//go:embed sarif-schema-2.1.0.json
var schema string

var loader = gojsonschema.NewStringLoader(schema)

// Validate fails t when doc is not a SARIF 2.1.0 log GitHub accepts.
func Validate(t testing.TB, doc []byte) {
	t.Helper()
	for _, p := range Problems(doc) {
		t.Error(p)
	}
}

// Problems says why doc is not a SARIF 2.1.0 log GitHub accepts; none
// when it is.
func Problems(doc []byte) []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	res, err := gojsonschema.Validate(loader, gojsonschema.NewBytesLoader(doc))
	if err != nil {
		add("not JSON, or the schema cannot be read: %v", err)
		return out
	}
	for _, e := range res.Errors() {
		add("SARIF 2.1.0 schema: %s", e)
	}
	var raw map[string]any
	if err := json.Unmarshal(doc, &raw); err != nil {
		add("%v", err)
		return out
	}
	for k := range raw {
		if k != "$schema" && k != "version" && k != "runs" {
			add("top-level property %q is not SARIF's", k)
		}
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID         string         `json:"id"`
						Short      map[string]any `json:"shortDescription"`
						Full       map[string]any `json:"fullDescription"`
						Help       map[string]any `json:"help"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID  string            `json:"ruleId"`
				Level   string            `json:"level"`
				Message map[string]string `json:"message"`
				Fp      map[string]string `json:"partialFingerprints"`
				Loc     []struct {
					Physical *struct {
						Artifact struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
						} `json:"region"`
					} `json:"physicalLocation"`
					Logical []map[string]string `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(doc, &log); err != nil {
		add("%v", err)
		return out
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		add("version %q with %d runs, want 2.1.0 with one run", log.Version, len(log.Runs))
		return out
	}
	run := log.Runs[0]
	rules := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if r.Short["text"] == nil || r.Full["text"] == nil || r.Help["text"] == nil || r.Help["markdown"] == nil ||
			r.Properties["security-severity"] == nil || r.Properties["tags"] == nil {
			add("rule %s lacks a description, help or security-severity", r.ID)
		}
		rules[r.ID] = true
	}
	if run.Tool.Driver.Name == "" || len(rules) == 0 {
		add("driver %q with %d rules", run.Tool.Driver.Name, len(rules))
	}
	seen := map[string]bool{}
	for i, r := range run.Results {
		if !rules[r.RuleID] || r.Message["text"] == "" || r.Level == "" || len(r.Loc) != 1 {
			add("result %d: rule %q (known %v), level %q, message %q, %d locations", i, r.RuleID, rules[r.RuleID], r.Level, r.Message["text"], len(r.Loc))
			continue
		}
		fp := r.Fp["kubectlCapsFinding/v1"]
		if fp == "" || seen[fp] {
			add("result %d: fingerprint %q missing or repeated", i, fp)
		}
		seen[fp] = true
		l := r.Loc[0]
		if len(l.Logical) == 0 {
			add("result %d: no logical location", i)
		}
		if p := l.Physical; p != nil {
			uri := p.Artifact.URI
			if uri == "" || strings.HasPrefix(uri, "/") || strings.HasPrefix(uri, "file:") || strings.Contains(uri, "..") {
				add("result %d: artifact URI %q is not relative to the repository", i, uri)
			}
			if p.Region != nil && (p.Region.StartLine < 1 || p.Region.StartColumn < 1) {
				add("result %d: region %+v", i, *p.Region)
			}
		}
	}
	return out
}
