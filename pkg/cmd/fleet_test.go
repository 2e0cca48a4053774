package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The multi-context flags fail like every other flag, on every command
// that reads the cluster; a context missing from the kubeconfig is the
// cluster error (exit 4) that kubectl's --context gives for one.
func TestFleetFlagErrors(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: one, context: {cluster: c, user: u}}, {name: two, context: {cluster: c, user: u}}]
current-context: one
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, command := range [][]string{{"audit"}, {"suggest-drop"}, {"policy", "--format", "vap"}} {
		for _, tt := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"--max-concurrency", "0"}, ExitUsage, "--max-concurrency must be at least 1, got 0"},
			{[]string{"--all-contexts", "--context", "one"}, ExitUsage, "it cannot be combined with --context one"},
			{[]string{"--context", "one,nope"}, ExitCluster, `context "nope" is not in the kubeconfig`},
			{[]string{"--context", "one,two"}, ExitCluster, "none of the 2 contexts could be read (one, two)"},
		} {
			t.Run(command[0]+" "+tt.want, func(t *testing.T) {
				_, errOut, code := run(t, "", append(append(command, "--kubeconfig", kubeconfig), tt.args...)...)
				if code != tt.code || !contains(errOut, tt.want) {
					t.Errorf("exit %d, want %d with %q:\n%s", code, tt.code, tt.want, errOut)
				}
			})
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
