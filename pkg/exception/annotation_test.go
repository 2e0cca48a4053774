package exception

import (
	"errors"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

func TestParseAnnotation(t *testing.T) {
	set := capability.SetOf
	tests := []struct {
		name, in string
		want     Allowance
	}{
		{
			name: "the issue's example, as written",
			in:   "calico-node: NET_ADMIN,NET_RAW,SYS_ADMIN; reason: CNI dataplane",
			want: Allowance{Clauses: []Clause{{"calico-node", set(capability.NET_ADMIN, capability.NET_RAW, capability.SYS_ADMIN)}}, Reason: "CNI dataplane"},
		},
		{
			name: "several containers, any spelling, blanks and newlines",
			in:   "  agent : cap_net_admin , Net_Raw ;\n init: SYS_ADMIN;*:NET_BIND_SERVICE;reason:  needs the host's routes ",
			want: Allowance{Clauses: []Clause{
				{"agent", set(capability.NET_ADMIN, capability.NET_RAW)},
				{"init", set(capability.SYS_ADMIN)},
				{"*", set(capability.NET_BIND_SERVICE)},
			}, Reason: "needs the host's routes"},
		},
		{
			name: "the reason runs to the end, ';' ':' ',' and all",
			in:   "web: NET_RAW; reason: ping probes; see RUNBOOK-12: a, b; c",
			want: Allowance{Clauses: []Clause{{"web", set(capability.NET_RAW)}}, Reason: "ping probes; see RUNBOOK-12: a, b; c"},
		},
		{
			name: "numbers are capabilities too",
			in:   "web: 13; reason: r",
			want: Allowance{Clauses: []Clause{{"web", set(capability.NET_RAW)}}, Reason: "r"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAnnotation(tt.in)
			if err != nil {
				t.Fatalf("ParseAnnotation(%q): %v", tt.in, err)
			}
			if got.String() != tt.want.String() || len(got.Clauses) != len(tt.want.Clauses) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got.Clauses {
				if got.Clauses[i] != tt.want.Clauses[i] {
					t.Errorf("clause %d = %+v, want %+v", i, got.Clauses[i], tt.want.Clauses[i])
				}
			}
		})
	}
}

func TestParseAnnotationErrors(t *testing.T) {
	tests := []struct {
		in     string
		column int
		want   string
	}{
		{"", 1, "the value is empty"},
		{" \n", 1, "the value is empty"},
		{"web: NET_RAW", 13, "no reason"},
		{"web: NET_RAW;", 14, "empty clause"},
		{"web: NET_RAW; reason:   ", 15, "the reason is empty"},
		{"reason: because", 1, "no container is allowed anything"},
		{"web NET_RAW; reason: r", 1, `"web NET_RAW" has no ':'`},
		{"web: NET_RAW;; reason: r", 14, "empty clause"},
		{"web: NET_RAW,, SYS_TIME; reason: r", 14, "empty capability name"},
		{"web: NET_RAW, NET_RAWW; reason: r", 15, `unknown capability "NET_RAWW"; did you mean NET_RAW?`},
		{"web: ALL; reason: r", 6, "ALL cannot be allowed"},
		{"web: NET_RAW, net_raw; reason: r", 15, "NET_RAW is listed twice"},
		{"Web: NET_RAW; reason: r", 1, `"Web" is not a container name`},
		{"-web: NET_RAW; reason: r", 1, `"-web" is not a container name`},
		{": NET_RAW; reason: r", 1, "missing container name"},
		{"web: NET_RAW; web: SYS_TIME; reason: r", 15, `container "web" is named twice (first at column 1)`},
		{"a: NET_RAW; " + strings.Repeat("b", 64) + ": NET_RAW; reason: r", 13, "longer than 63"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseAnnotation(tt.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseAnnotation(%q) = %v, want a *SyntaxError", tt.in, err)
			}
			if se.Column != tt.column || !strings.Contains(se.Msg, tt.want) {
				t.Errorf("got column %d %q, want column %d containing %q", se.Column, se.Msg, tt.column, tt.want)
			}
			if !strings.Contains(err.Error(), AnnotationKey) || !strings.Contains(err.Error(), "docs/exceptions.md") {
				t.Errorf("error %q should name the annotation and the doc", err)
			}
		})
	}
}

// FuzzParseAnnotation: never a panic; whatever parses writes back to a
// value that parses to the same allowance.
func FuzzParseAnnotation(f *testing.F) {
	for _, s := range []string{
		"calico-node: NET_ADMIN,NET_RAW,SYS_ADMIN; reason: CNI dataplane",
		"a: 1; b: cap_sys_time; reason: x;y:z",
		"*: NET_RAW; reason: r", "", ";", "reason:", "a:; reason: r",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAnnotation(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Column < 1 || se.Column > len(s)+1 {
				t.Fatalf("ParseAnnotation(%q): error %v with a column outside the value", s, err)
			}
			return
		}
		b, err := ParseAnnotation(a.String())
		if err != nil || b.String() != a.String() {
			t.Fatalf("round trip of %q: %q, %v", s, a.String(), err)
		}
	})
}

// One rule for manifests and live audits: the object's value, else the
// template's; both different is an error.
func TestAnnotatedPick(t *testing.T) {
	tests := []struct {
		name     string
		a        Annotated
		value    string
		onObject bool
		ok       bool
		err      bool
	}{
		{name: "neither"},
		{name: "object", a: Annotated{Object: "a", OnObject: true}, value: "a", onObject: true, ok: true},
		{name: "template", a: Annotated{Template: "b", OnTemplate: true}, value: "b", ok: true},
		{name: "both, equal", a: Annotated{Object: "a", OnObject: true, Template: "a", OnTemplate: true}, value: "a", onObject: true, ok: true},
		{name: "both, different", a: Annotated{Object: "a", OnObject: true, Template: "b", OnTemplate: true}, onObject: true, err: true},
		{name: "an empty value is set, not absent", a: Annotated{OnTemplate: true}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			value, onObject, ok, err := tt.a.Pick()
			if value != tt.value || onObject != tt.onObject || ok != tt.ok || (err != nil) != tt.err {
				t.Errorf("Pick() = %q, %v, %v, %v; want %q, %v, %v, error %v", value, onObject, ok, err, tt.value, tt.onObject, tt.ok, tt.err)
			}
		})
	}
}
