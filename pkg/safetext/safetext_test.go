package safetext

import "testing"

func TestQuoteAndProse(t *testing.T) {
	tests := []struct{ in, quote, prose string }{
		{"web", "web", "web"},
		{"shop/deploy/web (init)", "shop/deploy/web (init)", "shop/deploy/web (init)"},
		{"", "", ""},
		{"café ✓", "café ✓", "café ✓"},
		{"web\n::error::x", `"web\n::error::x"`, `web\n::error::x`},
		{"::warning::ns", `"::warning::ns"`, "::warning::ns"},
		{"  ::x", `"  ::x"`, "  ::x"},
		{"a::b", "a::b", "a::b"},
		{"\x1b[31mred\x1b[0m", `"\x1b[31mred\x1b[0m"`, `\x1b[31mred\x1b[0m`},
		{"tab\there", `"tab\there"`, `tab\there`},
		{"cr\rlf", `"cr\rlf"`, `cr\rlf`},
		{"line\u2028sep", `"line\u2028sep"`, `line\u2028sep`},
		{"bad\xffutf8", `"bad\xffutf8"`, `bad\xffutf8`},
		{`say "hi"`, `say "hi"`, `say "hi"`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.quote {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.quote)
		}
		if got := Prose(tt.in); got != tt.prose {
			t.Errorf("Prose(%q) = %s, want %s", tt.in, got, tt.prose)
		}
	}
}
