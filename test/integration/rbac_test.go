//go:build integration

package integration

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
)

// TestLeastPrivilege runs the plugin as a user who may only get and list
// pods in one namespace (issue 4 item 6): nodes, replicasets and jobs are
// optional and degrade with a warning; pods elsewhere are a clear error
// with exit code 4.
func TestLeastPrivilege(t *testing.T) {
	e := newEnv(t)
	ns := e.namespace("lp")
	other := e.namespace("lp-other")
	// A CRI-O node: if the plugin could read it, the pods would be audited
	// as cri-o; the limited user cannot, so they must fall back.
	node := e.node("lp", "cri-o://1.31.2")
	e.pod(ns, "web-6b7f8d9c5-abcde", node, containers("nginx"), labels("app", "web", "pod-template-hash", "6b7f8d9c5"),
		ownedBy("ReplicaSet", "apps/v1", "web-6b7f8d9c5", "00000000-0000-0000-0000-00000000a001"))
	e.pod(ns, "backup-29000000-q7x2k", node, containers("dump"),
		ownedBy("Job", "batch/v1", "backup-29000000", "00000000-0000-0000-0000-00000000a002"))
	e.pod(ns, "lonely", node, containers("shell"))
	e.pod(other, "secret", node, containers("app"))

	readPods := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}
	if err := e.srv.Grant(e.ctx, testserver.Limited, ns, readPods); err != nil {
		t.Fatal(err)
	}
	if err := e.waitAllowed(testserver.Limited, ns, "", "pods", "list"); err != nil {
		t.Fatal(err)
	}
	kc, err := e.srv.UserKubeconfig(testserver.Limited)
	if err != nil {
		t.Fatal(err)
	}
	off := e.auditOffset()

	t.Run("its namespace works, degraded with warnings", func(t *testing.T) {
		r := runPlugin(t, kc, "audit", "-n", ns, "-o", "json")
		rep := r.report(t)
		// The owners that can be learned without the forbidden lists: the
		// ReplicaSet by its pod-template-hash name, the Job stays a Job.
		want := []Row{
			{"Deployment", "web", "nginx", "container", 1},
			{"Job", "backup-29000000", "dump", "container", 1},
			{"Pod", "lonely", "shell", "container", 1},
		}
		if diff := cmp.Diff(want, rep.rows(ns)); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		for _, it := range rep.Items {
			if it.Namespace != ns {
				t.Errorf("item from namespace %s leaked into the report", it.Namespace)
			}
			// Nodes are forbidden: the default --runtime, containerd.
			if it.Runtime != "containerd" {
				t.Errorf("%s: runtime = %q, want the --runtime default containerd", it, it.Runtime)
			}
			if diff := cmp.Diff(sorted(containerd14), sorted(it.Effective)); diff != "" {
				t.Errorf("%s: effective (-want +got):\n%s", it, diff)
			}
		}
		t.Logf("stderr:\n%s", r.ErrOut)
		for _, w := range [][]string{{"nodes", "--runtime"}, {"replicasets"}, {"jobs"},
			{"deployments, statefulsets, daemonsets, replicasets, replicationcontrollers, jobs and cronjobs", "without running pods"}} {
			if !lineWithAll(r.ErrOut, append([]string{"Warning:"}, w...)...) {
				t.Errorf("stderr has no warning line mentioning %q:\n%s", w, r.ErrOut)
			}
		}
	})

	t.Run("explicit --runtime needs no nodes", func(t *testing.T) {
		r := runPlugin(t, kc, "audit", "-n", ns, "-o", "json", "--runtime", "cri-o")
		for _, it := range r.report(t).Items {
			if it.Runtime != "cri-o" {
				t.Errorf("%s: runtime = %q, want cri-o", it, it.Runtime)
			}
		}
		if strings.Contains(r.ErrOut, "nodes") {
			t.Errorf("with --runtime given, stderr still warns about nodes:\n%s", r.ErrOut)
		}
	})

	t.Run("table output keeps warnings on stderr", func(t *testing.T) {
		r := runPlugin(t, kc, "audit", "-n", ns)
		if r.Code != 0 {
			t.Fatalf("exit %d: %s", r.Code, r.ErrOut)
		}
		if strings.Contains(r.Out, "Warning") || !strings.Contains(r.ErrOut, "Warning") {
			t.Errorf("warnings belong on stderr only; stdout:\n%s\nstderr:\n%s", r.Out, r.ErrOut)
		}
	})

	failures := []struct {
		name string
		args []string
		// the single error line must contain all of want and none of notWant
		want, notWant []string
	}{
		{name: "all namespaces", args: []string{"-A"}, want: []string{"all namespaces", "-n NAMESPACE"}},
		{name: "another namespace", args: []string{"-n", other}, want: []string{`"` + other + `"`, "list pods"}},
		{name: "the context's namespace", args: nil, want: []string{`"default"`, "list pods"}},
		// The GET of the named Deployment is what was refused, not a pod
		// list.
		{name: "a workload it may not get", args: []string{"-n", ns, "deploy/web"},
			want: []string{`deployments.apps "web"`}, notWant: []string{"list pods"}},
		{name: "a workload it may not get, all namespaces", args: []string{"-A", "deployments"},
			want: []string{"deployments.apps"}, notWant: []string{"list pods"}},
	}
	for _, tt := range failures {
		t.Run(tt.name+" fails with exit 4", func(t *testing.T) {
			r := runPlugin(t, kc, append([]string{"audit"}, tt.args...)...)
			if r.Code != 4 {
				t.Fatalf("exit %d, want 4; stdout %q, stderr:\n%s", r.Code, r.Out, r.ErrOut)
			}
			if r.Out != "" {
				t.Errorf("a failed audit printed a report:\n%s", r.Out)
			}
			line := errorLine(t, r.ErrOut)
			t.Log(line)
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("error %q does not mention %q", line, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(line, w) {
					t.Errorf("error %q says %q, which is not what failed", line, w)
				}
			}
		})
	}

	t.Run("only get and list", func(t *testing.T) {
		events := e.pluginEvents(off, testserver.Limited)
		if len(events) == 0 {
			t.Fatal("no requests by the limited user in the audit log")
		}
		for _, ev := range events {
			if ev.Verb != "get" && ev.Verb != "list" {
				t.Errorf("limited user: %s %s", ev.Verb, ev.RequestURI)
			}
		}
	})
}

// errorLine returns the one "error: ..." line of stderr, failing if stderr
// has anything else: a failure is one clear line (issue 4 item 6).
func errorLine(t *testing.T, stderr string) string {
	t.Helper()
	var errs []string
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if strings.HasPrefix(l, "error: ") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("want exactly one error line on stderr, got:\n%s", stderr)
	}
	return errs[0]
}

func lineWithAll(text string, subs ...string) bool {
	for _, l := range strings.Split(text, "\n") {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			return true
		}
	}
	return false
}
