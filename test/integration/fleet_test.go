//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-caps/kubectl-caps/internal/sariftest"
	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
)

// fleetItem is what the multi-context tests read of a report item: the
// cluster field (docs/fleet.md, docs/report.md) and where it came from.
type fleetItem struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Workload  struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"workload"`
	Container string `json:"container"`
	MaxRisk   string `json:"maxRisk"`
}

func (it fleetItem) String() string {
	return fmt.Sprintf("%s %s %s/%s %s", it.Cluster, it.Namespace, it.Workload.Kind, it.Workload.Name, it.Container)
}

func fleetItems(t *testing.T, r Result) []string {
	t.Helper()
	var doc struct {
		Kind  string      `json:"kind"`
		Items []fleetItem `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.Out), &doc); err != nil {
		t.Fatalf("kubectl caps %s: stdout is not one JSON document: %v\n%s", strings.Join(r.Args, " "), err, r.Out)
	}
	var out []string
	for _, it := range doc.Items {
		out = append(out, it.String())
	}
	return out
}

// TestSeveralContexts audits two real clusters (the package's apiserver
// and a second one sharing its etcd under another prefix) and two that
// cannot be read (a closed port, and the second cluster as a user without
// permissions) with one kubeconfig naming them all (docs/fleet.md).
func TestSeveralContexts(t *testing.T) {
	a := newEnv(t)
	begin := time.Now()
	srvB, err := testserver.Start(a.ctx, testserver.Options{Etcd: a.srv})
	if err != nil {
		t.Fatalf("starting the second apiserver: %v", err)
	}
	t.Cleanup(srvB.Stop)
	t.Logf("second apiserver ready in %s", time.Since(begin).Round(time.Millisecond))
	csB, err := kubernetes.NewForConfig(srvB.Config())
	if err != nil {
		t.Fatal(err)
	}
	b := &env{t: t, ctx: a.ctx, srv: srvB, cs: csB}

	// Each context's own namespace, and one namespace name in both for -n.
	nsA, nsB := a.namespace("fleet-a"), b.namespace("fleet-b")
	shared := fmt.Sprintf("fleet-shared-%d", time.Now().UnixNano())
	for _, e := range []*env{a, b} {
		if _, err := e.cs.CoreV1().Namespaces().Create(e.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: shared}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	a.pod(nsA, "web", "", containers("app"))
	b.pod(nsB, "db", "", corev1.PodSpec{Containers: []corev1.Container{{Name: "db",
		SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}}}}})
	a.pod(shared, "in-a", "", containers("app"))
	b.pod(shared, "in-b", "", containers("app"))
	// Scaled to zero, audited from its template: a workload -o kubectl
	// patches.
	for _, e := range []*env{a, b} {
		sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}
		tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel.MatchLabels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}}
		if _, err := e.cs.AppsV1().Deployments(shared).Create(e.ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api"},
			Spec: appsv1.DeploymentSpec{Replicas: new(int32), Selector: sel, Template: tmpl}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	kubeconfig := fleetKubeconfig(t, map[string]fleetContext{
		"alpha": {a.srv, testserver.Admin, nsA},
		"beta":  {srvB, testserver.Admin, nsB},
		"gamma": {nil, testserver.Admin, "default"},    // nothing listens there
		"delta": {srvB, testserver.Limited, "default"}, // forbidden to list pods
	})
	run := func(args ...string) Result { return runPlugin(t, kubeconfig, args...) }
	wantAB := []string{"alpha " + nsA + " Pod/web app", "beta " + nsB + " Pod/db db"}

	t.Run("json has a cluster field, clusters in the order given", func(t *testing.T) {
		r := run("audit", "--context", "alpha,beta", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("exit %d:\n%s", r.Code, r.ErrOut)
		}
		if got := fleetItems(t, r); !slices.Equal(got, wantAB) {
			t.Errorf("items %q, want %q", got, wantAB)
		}
		r = run("audit", "--context", "beta", "--context", "alpha", "-o", "json")
		if got := fleetItems(t, r); !slices.Equal(got, []string{wantAB[1], wantAB[0]}) {
			t.Errorf("repeated --context: items %q", got)
		}
	})

	t.Run("sarif and junit are one document for every cluster", func(t *testing.T) {
		r := run("audit", "--context", "alpha,beta", "-n", shared, "-o", "sarif")
		if r.Code != 0 {
			t.Fatalf("exit %d:\n%s", r.Code, r.ErrOut)
		}
		sariftest.Validate(t, []byte(r.Out))
		for _, want := range []string{`"fullyQualifiedName": "alpha/` + shared + `/Pod/in-a/app"`, `"fullyQualifiedName": "beta/` + shared + `/Pod/in-b/app"`} {
			if !strings.Contains(r.Out, want) {
				t.Errorf("no %s in\n%s", want, r.Out)
			}
		}
		// A context that cannot be read: the others' findings, still one valid document.
		r = run("audit", "--context", "alpha,gamma", "-n", shared, "-o", "sarif")
		if r.Code == 0 || !strings.Contains(r.Out, "alpha/"+shared+"/Pod/in-a/app") {
			t.Fatalf("exit %d, stdout:\n%s", r.Code, r.Out)
		}
		sariftest.Validate(t, []byte(r.Out))
		r = run("audit", "--context", "alpha,beta", "-n", shared, "-o", "junit")
		if r.Code != 0 || strings.Count(r.Out, "<testsuites ") != 1 ||
			!strings.Contains(r.Out, `classname="alpha/`+shared+`.Pod/in-a"`) || !strings.Contains(r.Out, `classname="beta/`+shared+`.Pod/in-b"`) {
			t.Errorf("exit %d, stdout:\n%s", r.Code, r.Out)
		}
	})

	t.Run("one context has no cluster field", func(t *testing.T) {
		r := run("audit", "--context", "beta", "-o", "json")
		if r.Code != 0 || strings.Contains(r.Out, `"cluster"`) || !strings.Contains(r.Out, `"name": "db"`) {
			t.Errorf("exit %d, stdout:\n%s", r.Code, r.Out)
		}
	})

	t.Run("tables have a CLUSTER column, one per cluster", func(t *testing.T) {
		r := run("audit", "--context", "alpha,beta")
		if r.Code != 0 {
			t.Fatalf("exit %d:\n%s", r.Code, r.ErrOut)
		}
		sections := strings.Split(strings.TrimSuffix(r.Out, "\n"), "\n\n")
		if len(sections) != 2 {
			t.Fatalf("want two tables separated by a blank line, got:\n%s", r.Out)
		}
		for i, want := range []string{"alpha", "beta"} {
			lines := strings.Split(sections[i], "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "CLUSTER ") || !strings.HasPrefix(lines[1], want+" ") {
				t.Errorf("table %d:\n%s", i, sections[i])
			}
		}
		// Each cluster's summary line, under its name.
		for _, want := range []string{"[alpha] 1 workload", "[beta] 1 workload"} {
			if !strings.Contains(r.ErrOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.ErrOut)
			}
		}
	})

	t.Run("partial: the others complete, exit 6", func(t *testing.T) {
		r := run("audit", "--context", "alpha,gamma,beta,delta", "-o", "json")
		if r.Code != 6 {
			t.Fatalf("exit %d, want 6:\n%s", r.Code, r.ErrOut)
		}
		if got := fleetItems(t, r); !slices.Equal(got, wantAB) {
			t.Errorf("items %q, want %q", got, wantAB)
		}
		for _, want := range []string{`error: context "gamma": cannot reach the cluster`, `error: context "delta": you may not list pods`,
			"2 of 4 contexts could not be read (gamma, delta)"} {
			if strings.Count(r.ErrOut, want) != 1 {
				t.Errorf("stderr should say %q once:\n%s", want, r.ErrOut)
			}
		}
		// --fail-on's exit 1 gives way to 6, and is said too.
		r = run("audit", "--context", "alpha,gamma,beta", "--fail-on", "high")
		if r.Code != 6 || !strings.Contains(r.ErrOut, "2 container(s) hold capabilities at or above --fail-on=high") {
			t.Errorf("--fail-on with a partial run: exit %d:\n%s", r.Code, r.ErrOut)
		}
		r = run("audit", "--context", "gamma,delta")
		if r.Code != 4 || !strings.Contains(r.ErrOut, "none of the 2 contexts could be read") {
			t.Errorf("no cluster read: exit %d:\n%s", r.Code, r.ErrOut)
		}
	})

	t.Run("fail fast", func(t *testing.T) {
		r := run("audit", "--context", "alpha,gamma,beta", "--fail-fast", "-o", "json")
		if r.Code != 4 || !strings.Contains(r.ErrOut, `error: context "gamma": cannot reach the cluster`) {
			t.Fatalf("exit %d, want 4:\n%s", r.Code, r.ErrOut)
		}
		if got := fleetItems(t, r); !slices.Equal(got, wantAB[:1]) {
			t.Errorf("items %q, want alpha's alone", got)
		}
	})

	t.Run("all contexts, any concurrency, the same output", func(t *testing.T) {
		var first Result
		for i, n := range []string{"1", "2", "4"} {
			r := run("audit", "--all-contexts", "--max-concurrency", n)
			if r.Code != 6 {
				t.Errorf("--max-concurrency %s: exit %d:\n%s", n, r.Code, r.ErrOut)
			}
			if i == 0 {
				first = r
			} else if r.Out != first.Out || r.ErrOut != first.ErrOut {
				t.Errorf("--max-concurrency %s differs from 1:\n%s\n%s\nwant:\n%s\n%s", n, r.Out, r.ErrOut, first.Out, first.ErrOut)
			}
		}
		if !strings.Contains(first.ErrOut, "2 of 4 contexts could not be read (delta, gamma)") {
			t.Errorf("--all-contexts reads them all, sorted:\n%s", first.ErrOut)
		}
	})

	t.Run("-n overrides every context's namespace", func(t *testing.T) {
		r := run("audit", "--context", "alpha,beta", "-n", shared, "-o", "json")
		want := []string{"alpha " + shared + " Pod/in-a app", "alpha " + shared + " Deployment/api app",
			"beta " + shared + " Pod/in-b app", "beta " + shared + " Deployment/api app"}
		// The Deployment without pods is audited on each runtime the
		// cluster's nodes report: the shared server has the other tests'.
		if got := slices.Compact(fleetItems(t, r)); r.Code != 0 || !slices.Equal(got, want) {
			t.Errorf("exit %d, items %q, want %q:\n%s", r.Code, got, want, r.ErrOut)
		}
	})

	t.Run("a cluster with nothing to show has no table", func(t *testing.T) {
		for _, command := range []string{"audit", "suggest-drop"} {
			r := run(command, "--context", "alpha,beta", "-n", nsB)
			if r.Code != 0 || !strings.HasPrefix(r.Out, "CLUSTER ") || strings.Count(r.Out, "CLUSTER") != 1 ||
				!strings.Contains(r.ErrOut, "[alpha] No ") {
				t.Errorf("%s: exit %d:\n%s%s", command, r.Code, r.Out, r.ErrOut)
			}
		}
	})

	t.Run("suggest-drop per cluster", func(t *testing.T) {
		r := run("suggest-drop", "--context", "alpha,gamma,beta", "-o", "json")
		if got := fleetItems(t, r); r.Code != 6 || !slices.Equal(got, wantAB) {
			t.Errorf("exit %d, items %q, want %q:\n%s", r.Code, got, wantAB, r.ErrOut)
		}
		r = run("suggest-drop", "--context", "alpha,beta", "-n", shared, "-o", "kubectl")
		for _, want := range []string{"kubectl patch deployment api -n " + shared + " --kubeconfig " + kubeconfig + " --context alpha",
			"kubectl patch deployment api -n " + shared + " --kubeconfig " + kubeconfig + " --context beta"} {
			if r.Code != 0 || !strings.Contains(r.Out, want) {
				t.Errorf("-o kubectl lacks %q (exit %d):\n%s%s", want, r.Code, r.Out, r.ErrOut)
			}
		}
		r = run("suggest-drop", "--context", "alpha,beta")
		if r.Code != 0 || !strings.HasPrefix(r.Out, "CLUSTER ") || !strings.Contains(r.Out, "\n\nCLUSTER ") {
			t.Errorf("table: exit %d:\n%s%s", r.Code, r.Out, r.ErrOut)
		}
		if r = run("suggest-drop", "--context", "alpha,beta", "-o", "patch"); r.Code != 2 {
			t.Errorf("-o patch with several contexts: exit %d, want 2:\n%s", r.Code, r.ErrOut)
		}
	})

	t.Run("policy per cluster", func(t *testing.T) {
		r := run("policy", "--format", "vap", "--context", "alpha,beta")
		if r.Code != 0 || strings.Count(r.Out, "# Generated from: context alpha (for that cluster only), the cluster at "+a.srv.Host) != 1 ||
			strings.Count(r.Out, "# Generated from: context beta (for that cluster only), the cluster at "+srvB.Host) != 1 {
			t.Errorf("exit %d:\n%s%s", r.Code, r.Out, r.ErrOut)
		}
		r = run("policy", "--format", "psa", "--context", "alpha,beta")
		for _, want := range []string{"--context alpha", "--context beta"} {
			if r.Code != 0 || !strings.Contains(r.Out, want) {
				t.Errorf("psa lacks %q (exit %d):\n%s%s", want, r.Code, r.Out, r.ErrOut)
			}
		}
	})
}

// fleetContext is one context of fleetKubeconfig: a server (nil for one
// that is not there), a user and the context's namespace.
type fleetContext struct {
	srv       *testserver.Server
	user      string
	namespace string
}

// fleetKubeconfig writes a kubeconfig with the given contexts, each with
// its own cluster and user entry, as a kubeconfig merged from several
// clusters' has them.
func fleetKubeconfig(t *testing.T, contexts map[string]fleetContext) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	for name, c := range contexts {
		cluster, user := &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}, &clientcmdapi.AuthInfo{Token: "none"}
		if c.srv != nil {
			path, err := c.srv.UserKubeconfig(c.user)
			if err != nil {
				t.Fatal(err)
			}
			one, err := clientcmd.LoadFromFile(path)
			if err != nil {
				t.Fatal(err)
			}
			ctx := one.Contexts[one.CurrentContext]
			cluster, user = one.Clusters[ctx.Cluster], one.AuthInfos[ctx.AuthInfo]
		}
		cfg.Clusters[name], cfg.AuthInfos[name] = cluster, user
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: c.namespace}
	}
	cfg.CurrentContext = "alpha"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
