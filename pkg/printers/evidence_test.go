package printers

import (
	"testing"
	"time"
)

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		169 * time.Hour:                   "7d1h",
		2*time.Hour + 5*time.Minute + 3e9: "2h5m",
		40 * time.Second:                  "40s",
		0:                                 "0s",
	} {
		if got := span(d); got != want {
			t.Errorf("span(%v) = %q, want %q", d, got, want)
		}
	}
}
