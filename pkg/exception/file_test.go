package exception

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

func knownRule(id string) bool { return strings.HasPrefix(id, "CAPS00") }

func TestParseFile(t *testing.T) {
	data, err := os.ReadFile("testdata/exceptions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseFile("testdata/exceptions.yaml", data, knownRule)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Namespace: "kube-system", Kind: "DaemonSet", Name: "calico-*", Container: "calico-node",
			Caps:   capability.SetOf(capability.NET_ADMIN, capability.NET_RAW, capability.SYS_ADMIN),
			Reason: "CNI dataplane programs routes and iptables", Origin: "testdata/exceptions.yaml:5"},
		{Namespace: "monitoring", Name: "node-exporter", Rules: []string{"CAPS003"}, Reason: "reads host metrics",
			Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), Origin: "testdata/exceptions.yaml:11"},
		{Caps: capability.SetOf(capability.SYS_TIME), Rules: []string{"CAPS001", "CAPS002"}, Reason: "NTP daemons set the clock",
			Expires: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC), Origin: "testdata/exceptions.yaml:16"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Namespace != w.Namespace || g.Kind != w.Kind || g.Name != w.Name || g.Container != w.Container ||
			g.Caps != w.Caps || strings.Join(g.Rules, ",") != strings.Join(w.Rules, ",") || g.Reason != w.Reason ||
			!g.Expires.Equal(w.Expires) || g.Origin != w.Origin {
			t.Errorf("entry %d = %+v\nwant %+v", i, g, w)
		}
	}
}

func TestParseFileErrors(t *testing.T) {
	const head = "apiVersion: caps.kubectl-caps.io/v1alpha1\nkind: Exceptions\nexceptions:\n"
	tests := []struct {
		name, in string
		line     int
		want     string
	}{
		{"empty", "", 0, "empty file"},
		{"wrong kind", "apiVersion: v1\nkind: ConfigMap\n", 1, `want apiVersion: caps.kubectl-caps.io/v1alpha1 and kind: Exceptions`},
		{"unknown field", head + "- name: a\n  capabilites: [NET_RAW]\n  reason: r\n", 5, "field capabilites not found"},
		{"no reason", head + "- name: a\n  capabilities: [NET_RAW]\n", 4, "reason is missing"},
		{"blank reason", head + "- name: a\n  capabilities: [NET_RAW]\n  reason: '  '\n", 4, "reason is missing"},
		{"neither", head + "- name: a\n  reason: r\n", 4, "names neither capabilities nor rules"},
		{"second item bad cap", head + "- capabilities: [NET_RAW]\n  reason: r\n- capabilities: [NET_RAWW]\n  reason: r\n", 6, `exceptions[1]: capabilities: unknown capability "NET_RAWW"; did you mean NET_RAW?`},
		{"ALL", head + "- capabilities: [all]\n  reason: r\n", 4, "ALL cannot be excepted"},
		{"unknown rule", head + "- rules: [CAPS999]\n  reason: r\n", 4, `unknown rule id "CAPS999"`},
		{"bad glob", head + "- name: 'web-['\n  rules: [CAPS001]\n  reason: r\n", 4, `name "web-[" is not a valid glob`},
		{"bad date", head + "- rules: [CAPS001]\n  reason: r\n  expires: 31/12/2026\n", 4, `expires "31/12/2026": want a date YYYY-MM-DD`},
		{"two documents", head + "- rules: [CAPS001]\n  reason: r\n---\nkind: x\n", 6, "a second YAML document"},
		{"not YAML", head + "- rules: [CAPS001\n", 0, ""},
		{"exceptions not a list", head + "  rules: x\n", 4, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile("x.yaml", []byte(tt.in), knownRule)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a *FileError", err)
			}
			if fe.File != "x.yaml" || (tt.line > 0 && fe.Line != tt.line) || !strings.Contains(fe.Msg, tt.want) {
				t.Errorf("got %q (line %d), want line %d containing %q", err, fe.Line, tt.line, tt.want)
			}
		})
	}
}

// FuzzParseFile: any bytes give entries or a *FileError naming the file,
// never a panic; every entry has a reason and says what it covers.
func FuzzParseFile(f *testing.F) {
	if data, err := os.ReadFile("testdata/exceptions.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("apiVersion: caps.kubectl-caps.io/v1alpha1\nkind: Exceptions\nexceptions:\n- rules: [CAPS001]\n  reason: r\n"))
	f.Add([]byte("- a\n- b: [c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseFile("f.yaml", data, knownRule)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != "f.yaml" {
				t.Fatalf("error %v is not a *FileError naming the file", err)
			}
			return
		}
		for _, e := range entries {
			if e.Reason == "" || (e.Caps.Empty() && len(e.Rules) == 0) {
				t.Fatalf("entry without reason or subject: %+v", e)
			}
		}
	})
}
