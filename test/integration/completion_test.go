//go:build integration

package integration

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/cmd"
)

// Resource arguments complete as in kubectl: types first, then the names of
// that type read from the cluster, in the namespace -n selects.
func TestCompletionOfResourceNames(t *testing.T) {
	e := newEnv(t)
	ns := e.namespace("complete")
	node := e.node("complete", "containerd://2.1.4")
	e.pod(ns, "web-a", node, containers("app"))
	e.pod(ns, "web-b", node, containers("app"))
	e.pod(ns, "db-0", node, containers("db"))
	kc := e.srv.Kubeconfig()

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "-n", ns, "pods/web"}, "pods/web-a,pods/web-b"},
		{[]string{"suggest-drop", "-n", ns, "pods/"}, "pods/db-0,pods/web-a,pods/web-b"},
		{[]string{"audit", "dep"}, "deployments/"},
	} {
		// The word being completed must come last, so the connection flags
		// go before it rather than where runPlugin appends them.
		args := append([]string{"__complete", tc.args[0], "--kubeconfig", kc, "--cache-dir", t.TempDir()}, tc.args[1:]...)
		r := runPluginRaw(t, args...)
		if r.Code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, r.Code, r.ErrOut)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(r.Out), "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				got = append(got, l)
			}
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%v: completions %v, want %s", tc.args, got, tc.want)
		}
	}
}

func runPluginRaw(t *testing.T, args ...string) Result {
	t.Helper()
	var out, errOut bytes.Buffer
	root := cmd.NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(args)
	err := root.Execute()
	return Result{Args: args, Out: out.String(), ErrOut: errOut.String(), Code: cmd.ExitCode(err)}
}
