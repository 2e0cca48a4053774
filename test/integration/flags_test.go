//go:build integration

package integration

import (
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
)

// TestKubeconfigFlags: the cluster, user and namespace come from the
// kubeconfig and kubectl's flags exactly as kubectl reads them (issue 4
// item 1).
func TestKubeconfigFlags(t *testing.T) {
	e := newEnv(t)
	ns := e.namespace("flags")
	other := e.namespace("flags-other")
	node := e.node("flags", "containerd://2.1.4")
	e.pod(ns, "mine", node, containers("app"))
	e.pod(other, "theirs", node, containers("app"))

	// Two contexts: the current one points at nothing, "good" at the test
	// server as the auditor with ns as its namespace.
	auditorCfg, err := clientcmd.LoadFromFile(e.auditor())
	if err != nil {
		t.Fatal(err)
	}
	good := auditorCfg.Contexts[auditorCfg.CurrentContext]
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = auditorCfg.Clusters[good.Cluster]
	cfg.Clusters["nowhere"] = &clientcmdapi.Cluster{Server: "https://" + closedAddr(t)}
	cfg.AuthInfos["auditor"] = auditorCfg.AuthInfos[good.AuthInfo]
	cfg.Contexts["good"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "auditor", Namespace: ns}
	cfg.Contexts["broken"] = &clientcmdapi.Context{Cluster: "nowhere", AuthInfo: "auditor", Namespace: ns}
	cfg.CurrentContext = "broken"
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
		t.Fatal(err)
	}

	podsIn := func(rep Report) []string {
		var out []string
		for _, it := range rep.Items {
			out = append(out, it.Namespace+"/"+it.Workload.Name)
		}
		return out
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{name: "the context's namespace by default", args: []string{"--context", "good"}, want: []string{ns + "/mine"}},
		{name: "-n overrides it", args: []string{"--context", "good", "-n", other}, want: []string{other + "/theirs"}},
		{name: "--namespace is -n", args: []string{"--context", "good", "--namespace", other}, want: []string{other + "/theirs"}},
		{name: "--cluster overrides the context's", args: []string{"--cluster", "test"}, want: []string{ns + "/mine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := runPlugin(t, kc, append([]string{"audit", "-o", "json"}, tt.args...)...).report(t)
			if diff := cmp.Diff(tt.want, podsIn(rep)); diff != "" {
				t.Errorf("pods audited (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("--as impersonates", func(t *testing.T) {
		// The limited user has no grant in this namespace: impersonating it
		// must fail as it would, and the apiserver must see it impersonated.
		off := e.auditOffset()
		r := runPlugin(t, e.srv.Kubeconfig(), "audit", "-n", ns, "--as", testserver.Limited)
		if r.Code != 4 || !strings.Contains(r.ErrOut, testserver.Limited) {
			t.Errorf("exit %d, stderr %q; want 4 naming the impersonated user", r.Code, r.ErrOut)
		}
		impersonated := 0
		for _, ev := range e.pluginEvents(off, testserver.Admin) {
			if ev.ImpersonatedUser != nil && ev.ImpersonatedUser.Username == testserver.Limited {
				impersonated++
			}
		}
		if impersonated == 0 {
			t.Error("no request impersonated the limited user")
		}
	})

	t.Run("--request-timeout bounds a server that never answers", func(t *testing.T) {
		addr := silentServer(t)
		kc := e.kubeconfigWith(func(server, _ *string) { *server = "https://" + addr })
		start := time.Now()
		r := runPlugin(t, kc, "audit", "-A", "--request-timeout", "1s")
		took := time.Since(start)
		t.Logf("%s (after %s)", strings.TrimSpace(r.ErrOut), took.Round(time.Millisecond))
		if r.Code != 4 {
			t.Errorf("exit %d, want 4", r.Code)
		}
		line := errorLine(t, r.ErrOut)
		if !strings.Contains(line, "--request-timeout") {
			t.Errorf("error %q does not point at --request-timeout", line)
		}
		// One attempt of one second, plus client-go's own backoff at most.
		if took > 20*time.Second {
			t.Errorf("took %s with --request-timeout 1s", took)
		}
	})
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// silentServer accepts TCP connections and never sends a byte, the way a
// wedged apiserver or a black-holing proxy behaves.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
