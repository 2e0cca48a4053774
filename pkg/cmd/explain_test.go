package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestExplainGolden(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"table of all", []string{"explain"}, "explain/table.txt"},
		{"table sorted by risk, wide", []string{"explain", "--sort-by=risk", "-o", "wide"}, "explain/table-risk-wide.txt"},
		{"table sorted by name, no headers", []string{"explain", "--sort-by", "name", "--no-headers"}, "explain/table-name-noheaders.txt"},
		{"one page", []string{"explain", "NET_RAW"}, "explain/net_raw.txt"},
		{"page of the missing seed entry", []string{"explain", "checkpoint_restore"}, "explain/checkpoint_restore.txt"},
		{"two pages", []string{"explain", "CAP_SYS_ADMIN", "19"}, "explain/sys_admin-sys_ptrace.txt"},
		{"one as json", []string{"explain", "NET_RAW", "-o", "json"}, "explain/net_raw.json"},
		{"two as yaml", []string{"explain", "bpf", "perfmon", "-o", "yaml"}, "explain/bpf-perfmon.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

func TestExplainSpellingsGiveTheSamePage(t *testing.T) {
	want, _, _ := run(t, "", "explain", "NET_RAW")
	for _, in := range []string{"net_raw", "CAP_NET_RAW", "cap_net_raw", "Net_Raw", "13"} {
		got, errOut, code := run(t, "", "explain", in)
		if code != 0 || got != want {
			t.Errorf("explain %s: exit %d, stderr %q, same page: %v", in, code, errOut, got == want)
		}
	}
}

func TestExplainJSONShape(t *testing.T) {
	out, _, code := run(t, "", "explain", "NET_RAW", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var one map[string]any
	if err := json.Unmarshal([]byte(out), &one); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"apiVersion", "kind", "name", "number", "risk", "recommendation", "summary", "defaultIn", "escalations"} {
		if _, ok := one[k]; !ok {
			t.Errorf("one-entry JSON lacks %q", k)
		}
	}
	if one["kind"] != "Capability" || one["name"] != "NET_RAW" || one["number"] != float64(13) {
		t.Errorf("unexpected identity: %v %v %v", one["kind"], one["name"], one["number"])
	}
	// NET_RAW is a default of containerd, docker and old CRI-O, not of CRI-O >= 1.18
	// (docs/sources.md#crio-1-18).
	if got := one["defaultIn"]; !equalJSONList(got, "containerd", "cri-o<1.18", "docker") {
		t.Errorf("defaultIn = %v", got)
	}

	for _, args := range [][]string{{"explain", "-o", "json"}, {"explain", "chown", "kill", "-o", "json"}} {
		out, _, _ := run(t, "", args...)
		var list struct {
			Kind  string           `json:"kind"`
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatal(err)
		}
		want := 41
		if len(args) > 3 {
			want = 2
		}
		if list.Kind != "CapabilityList" || len(list.Items) != want {
			t.Errorf("%v: kind %q with %d items, want CapabilityList with %d", args, list.Kind, len(list.Items), want)
		}
	}
	out, _, _ = run(t, "", "explain", "-o", "yaml")
	var y struct{ Items []any }
	if err := yaml.Unmarshal([]byte(out), &y); err != nil || len(y.Items) != 41 {
		t.Errorf("yaml list: %d items, %v", len(y.Items), err)
	}
}

func equalJSONList(v any, want ...string) bool {
	l, ok := v.([]any)
	if !ok || len(l) != len(want) {
		return false
	}
	for i := range l {
		if l[i] != want[i] {
			return false
		}
	}
	return true
}

func TestExplainErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"misspelled", []string{"explain", "NET_RAWW"}, ExitUsage, []string{`unknown capability "NET_RAWW"; did you mean NET_RAW?`}},
		{"one good one bad", []string{"explain", "NET_RAW", "SYS_ADMN", "FOO_BAR_BAZ_QUX"}, ExitUsage,
			[]string{`did you mean SYS_ADMIN?`, `unknown capability "FOO_BAR_BAZ_QUX"`}},
		{"number out of range", []string{"explain", "41"}, ExitUsage, []string{`unknown capability "41"`}},
		{"bad output", []string{"explain", "-o", "xml"}, ExitUsage, []string{`unknown output format "xml"`, "See 'kubectl caps explain -h'"}},
		{"bad sort", []string{"explain", "--sort-by", "colour"}, ExitUsage, []string{`unknown --sort-by "colour"`}},
		{"unknown flag", []string{"explain", "--colour"}, ExitUsage, []string{"unknown flag: --colour", "See 'kubectl caps explain -h'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectError(t, tt.args, tt.code, tt.want...)
		})
	}
}

func TestExplainCompletion(t *testing.T) {
	out, _, code := run(t, "", "__complete", "explain", "NET_")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		names = append(names, strings.SplitN(line, "\t", 2)[0])
	}
	if strings.Join(names, ",") != "NET_BIND_SERVICE,NET_BROADCAST,NET_ADMIN,NET_RAW" {
		t.Errorf("completion = %v", names)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "kubectl-caps dev (") {
		t.Errorf("version: %d %q", code, out)
	}
	out, _, _ = run(t, "", "--version")
	if !strings.HasPrefix(out, "kubectl-caps dev (") {
		t.Errorf("--version: %q", out)
	}
	out, _, _ = run(t, "", "version", "-o", "json")
	if !strings.Contains(out, `"version": "dev"`) {
		t.Errorf("version -o json: %q", out)
	}
}

func TestRootHelpListsCommands(t *testing.T) {
	out, _, code := run(t, "", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"kubectl caps [command]", "explain", "version", "Exit codes:"} {
		if !strings.Contains(out, w) {
			t.Errorf("help lacks %q", w)
		}
	}
}
