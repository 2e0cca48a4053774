package baseline

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestWriteParseRoundTrip(t *testing.T) {
	in := []Entry{
		{Fingerprint: "b2", Rule: "CAPS001", Workload: "kube-system/DaemonSet/calico-node", Container: "calico-node", Capability: "SYS_ADMIN"},
		{Fingerprint: "a1", Rule: "CAPS001", Workload: "kube-system/DaemonSet/calico-node", Container: "calico-node", Capability: "NET_ADMIN"},
		{Fingerprint: "c3", Rule: "CAPS003", Workload: "apps/Deployment/web", Container: "web"},
		{Fingerprint: "a1", Rule: "CAPS001", Workload: "kube-system/DaemonSet/calico-node", Container: "calico-node", Capability: "NET_ADMIN"},
	}
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	const want = `# Accepted findings of kubectl caps audit (docs/exceptions.md#baseline).
# Regenerate with --write-baseline; remove entries as they are fixed.
apiVersion: caps.kubectl-caps.io/v1alpha1
kind: Baseline
findings:
  - fingerprint: c3
    rule: CAPS003
    workload: apps/Deployment/web
    container: web
  - fingerprint: a1
    rule: CAPS001
    workload: kube-system/DaemonSet/calico-node
    container: calico-node
    capability: NET_ADMIN
  - fingerprint: b2
    rule: CAPS001
    workload: kube-system/DaemonSet/calico-node
    container: calico-node
    capability: SYS_ADMIN
`
	if buf.String() != want {
		t.Fatalf("Write:\n%s\nwant:\n%s", buf.String(), want)
	}
	b, err := Parse("b.yaml", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 3 || !b.Known("a1") || !b.Known("b2") || !b.Known("c3") || b.Known("d4") {
		t.Errorf("parsed %+v", b)
	}
	fixed := b.Fixed(map[string]bool{"a1": true, "d4": true})
	if len(fixed) != 2 || fixed[0].Fingerprint != "c3" || fixed[1].Fingerprint != "b2" {
		t.Errorf("Fixed = %+v, want c3 then b2 (file order)", fixed)
	}
}

func TestWriteEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, nil); err != nil {
		t.Fatal(err)
	}
	b, err := Parse("b.yaml", buf.Bytes())
	if err != nil || b.Len() != 0 {
		t.Fatalf("empty baseline: %v %+v\n%s", err, b, buf.String())
	}
	if !strings.Contains(buf.String(), "findings: []") {
		t.Errorf("an empty baseline should say so:\n%s", buf.String())
	}
}

func TestParseErrors(t *testing.T) {
	const head = "apiVersion: caps.kubectl-caps.io/v1alpha1\nkind: Baseline\nfindings:\n"
	tests := []struct {
		name, in string
		line     int
		want     string
	}{
		{"empty", "", 0, "empty file"},
		{"wrong kind", "apiVersion: caps.kubectl-caps.io/v1alpha1\nkind: Exceptions\n", 1, "want apiVersion: caps.kubectl-caps.io/v1alpha1 and kind: Baseline"},
		{"misspelt key", head + "  - fingerprnt: a1\n", 4, "field fingerprnt not found"},
		{"no fingerprint", head + "  - rule: CAPS001\n    workload: a/b/c\n    container: c\n", 0, "findings[0] (CAPS001 a/b/c c) has no fingerprint"},
		{"not YAML", head + "  - [\n", 4, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("b.yaml", []byte(tt.in))
			var e *Error
			if !errors.As(err, &e) || e.File != "b.yaml" || e.Line != tt.line || !strings.Contains(e.Msg, tt.want) {
				t.Errorf("got %v (%#v), want line %d containing %q", err, e, tt.line, tt.want)
			}
		})
	}
}

// FuzzParse: any bytes give a baseline or an *Error naming the file; what
// parses writes back to a file that parses to the same fingerprints.
func FuzzParse(f *testing.F) {
	f.Add([]byte("apiVersion: caps.kubectl-caps.io/v1alpha1\nkind: Baseline\nfindings:\n  - fingerprint: a1\n    rule: CAPS001\n"))
	f.Add([]byte("findings: [{fingerprint: x}, {fingerprint: x}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse("f.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "f.yaml" {
				t.Fatalf("error %v is not an *Error naming the file", err)
			}
			return
		}
		var entries []Entry
		for _, fp := range b.order {
			entries = append(entries, b.entries[fp])
		}
		var buf bytes.Buffer
		if err := Write(&buf, entries); err != nil {
			t.Fatal(err)
		}
		c, err := Parse("g.yaml", buf.Bytes())
		if err != nil || c.Len() != b.Len() {
			t.Fatalf("round trip: %v, %d → %d\n%s", err, b.Len(), c.Len(), buf.String())
		}
		for _, fp := range b.order {
			if !c.Known(fp) {
				t.Fatalf("round trip lost %q", fp)
			}
		}
	})
}
