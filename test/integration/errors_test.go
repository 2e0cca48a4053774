//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClusterErrors: a cluster that cannot be read is one clear line on
// stderr and exit code 4 (issue 4 item 6), never a partial report.
func TestClusterErrors(t *testing.T) {
	e := newEnv(t)

	closedAddr := closedAddr(t)
	unreachable := e.kubeconfigWith(func(server, _ *string) { *server = "https://" + closedAddr })
	badToken := e.kubeconfigWith(func(_, token *string) { *token = "expired-or-revoked-token" })
	missing := filepath.Join(t.TempDir(), "no-such-kubeconfig")
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("%s should not exist: %v", missing, err)
	}

	tests := []struct {
		name       string
		kubeconfig string
		args       []string
		want       []string
	}{
		{name: "unreachable", kubeconfig: unreachable, args: []string{"-A"}, want: []string{closedAddr}},
		{name: "unreachable, namespace", kubeconfig: unreachable, args: []string{"-n", "default"}, want: []string{closedAddr}},
		{name: "unreachable, resource argument", kubeconfig: unreachable, args: []string{"deploy/web"}, want: []string{closedAddr}},
		{name: "rejected credentials", kubeconfig: badToken, args: []string{"-A"}, want: []string{"401"}},
		{name: "rejected credentials, resource argument", kubeconfig: badToken, args: []string{"deploy/web"}, want: []string{"401"}},
		{name: "kubeconfig file missing", kubeconfig: missing, args: []string{"-A"}, want: []string{missing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := runPlugin(t, tt.kubeconfig, append([]string{"audit", "-o", "json", "--request-timeout", "20s"}, tt.args...)...)
			t.Logf("%s (after %s)", strings.TrimSpace(r.ErrOut), time.Since(start).Round(time.Millisecond))
			if r.Code != 4 {
				t.Errorf("exit %d, want 4", r.Code)
			}
			if r.Out != "" {
				t.Errorf("stdout must stay empty on failure, got:\n%s", r.Out)
			}
			if lines := strings.Split(strings.TrimRight(r.ErrOut, "\n"), "\n"); len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one:\n%s", len(lines), r.ErrOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.ErrOut, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, r.ErrOut)
				}
			}
		})
	}
}
