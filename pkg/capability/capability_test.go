package capability

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSpellings(t *testing.T) {
	for _, in := range []string{"NET_RAW", "net_raw", "CAP_NET_RAW", "cap_net_raw", "Net_Raw", "13", " NET_RAW ", "Cap_Net_Raw"} {
		t.Run(in, func(t *testing.T) {
			c, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", in, err)
			}
			if c != NET_RAW {
				t.Fatalf("Parse(%q) = %v, want NET_RAW", in, c)
			}
		})
	}
}

func TestParseEveryNameAndNumber(t *testing.T) {
	for i, n := range names {
		for _, in := range []string{n, strings.ToLower(n), "CAP_" + n, "cap_" + strings.ToLower(n)} {
			c, err := Parse(in)
			if err != nil || int(c) != i {
				t.Errorf("Parse(%q) = %v, %v; want %d", in, c, err, i)
			}
		}
	}
	for i := 0; i <= int(Last); i++ {
		c, err := Parse(strings.TrimSpace(strings.Repeat(" ", i%2) + itoa(i)))
		if err != nil || int(c) != i {
			t.Errorf("Parse(%d) = %v, %v", i, c, err)
		}
	}
}

func itoa(i int) string { return Cap(0).String()[:0] + string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func TestParseRejects(t *testing.T) {
	tests := []struct {
		in      string
		suggest []string
		msg     string
	}{
		{"NET_RAWW", []string{"NET_RAW"}, `unknown capability "NET_RAWW"; did you mean NET_RAW?`},
		{"CAP_SYS_ADMN", []string{"SYS_ADMIN"}, `did you mean SYS_ADMIN?`},
		{"sys-admin", []string{"SYS_ADMIN"}, `did you mean SYS_ADMIN?`},
		{"41", nil, `unknown capability "41"; run 'kubectl caps explain' to list all capabilities`},
		{"-1", nil, `unknown capability "-1"`},
		{"", nil, `unknown capability ""`},
		{"CAP_", nil, `unknown capability "CAP_"`},
		{"ALL", nil, `unknown capability "ALL"`},
		{"CAP_CAP_NET_RAW", nil, `unknown capability "CAP_CAP_NET_RAW"`},
		{"hello world", nil, `unknown capability "hello world"`},
		{"999999999999999999999", nil, `unknown capability`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			var ue *UnknownError
			if !errors.As(err, &ue) {
				t.Fatalf("Parse(%q) err = %v, want *UnknownError", tt.in, err)
			}
			if tt.suggest != nil {
				if len(ue.Suggestions) == 0 || ue.Suggestions[0] != tt.suggest[0] {
					t.Errorf("suggestions = %v, want first %v", ue.Suggestions, tt.suggest)
				}
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestCAPCAPSuggestsTheName(t *testing.T) {
	// The containerd double-prefix mistake should still point at the real name.
	s := Suggest("CAP_CAP_NET_RAW")
	if len(s) == 0 || s[0] != "NET_RAW" {
		t.Fatalf("Suggest = %v", s)
	}
}

// Bitmasks as /proc/<pid>/status shows them, from the numbers in
// include/uapi/linux/capability.h (docs/sources.md#capability-numbers).
func TestSetBitmasks(t *testing.T) {
	tests := []struct {
		name string
		set  Set
		hex  string
	}{
		{"docker/containerd 14", SetOf(CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE), "00000000a80425fb"},
		{"cri-o 9", SetOf(CHOWN, DAC_OVERRIDE, FSETID, FOWNER, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, KILL), "00000000000005fb"},
		{"cri-o 11", SetOf(CHOWN, DAC_OVERRIDE, FSETID, FOWNER, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, KILL, NET_RAW, SYS_CHROOT), "00000000000425fb"},
		{"all", All, "000001ffffffffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.set.Hex(); got != tt.hex {
				t.Errorf("Hex = %s, want %s", got, tt.hex)
			}
		})
	}
}

func TestSetOps(t *testing.T) {
	s := SetOf(NET_RAW, CHOWN, SYS_ADMIN)
	if diff := cmp.Diff([]string{"CHOWN", "NET_RAW", "SYS_ADMIN"}, s.Names()); diff != "" {
		t.Error(diff)
	}
	if s.Len() != 3 || !s.Has(CHOWN) || s.Has(KILL) {
		t.Errorf("membership wrong: %v", s)
	}
	if got := s.Remove(NET_RAW).Union(SetOf(KILL)).Minus(SetOf(CHOWN)).String(); got != "KILL,SYS_ADMIN" {
		t.Errorf("ops = %s", got)
	}
	if Set(0).String() != "-" || All.String() != "ALL" || All.Len() != 41 {
		t.Error("special renderings wrong")
	}
	if Cap(41).String() != "CAP_41" || Cap(41).Valid() {
		t.Error("beyond-Last rendering wrong")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"NET_RAW", "cap_sys_admin", "13", "40", "41", "", "CAP_", "\x00", "ÄÖ", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err == nil {
			if !c.Valid() {
				t.Fatalf("Parse(%q) returned invalid %d without error", s, c)
			}
			// Round trip: the canonical name parses to itself.
			if c2, err := Parse(c.String()); err != nil || c2 != c {
				t.Fatalf("round trip of %q failed", s)
			}
			return
		}
		var ue *UnknownError
		if !errors.As(err, &ue) || ue.Input != s {
			t.Fatalf("Parse(%q): unexpected error %v", s, err)
		}
		for _, sug := range ue.Suggestions {
			if _, ok := Lookup(sug); !ok {
				t.Fatalf("suggestion %q is not a capability", sug)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		_, _ = Parse("cap_net_raw")
	}
}
