package explain

import (
	"testing"
)

func TestSourceAnchor(t *testing.T) {
	tests := []struct{ id, want string }{
		{"MAN-CAP", "ref-man-cap"},
		{"K-FIX-0492", "ref-k-fix-0492"},
		{"UAPI", "ref-uapi"},
		{"KEP-3619", "ref-kep-3619"},
		// Not short names: printed as they are, never linked to an anchor
		// that cannot exist.
		{"kernel/audit.c", ""},
		{"https://man7.org/linux/man-pages/man7/capabilities.7.html", ""},
		{"man-cap", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := SourceAnchor(tt.id); got != tt.want {
			t.Errorf("SourceAnchor(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}
