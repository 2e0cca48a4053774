//go:build integration

package integration

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// TestControllersWithoutPods: a Deployment scaled to zero and a CronJob
// between runs have no pods, yet they are what runs next (issue 16 item
// 4). The live audit reads their pod templates, marks the rows, judges
// them on the cluster's runtimes and --fail-on counts them; a controller
// with pods is audited from its pods only.
func TestControllersWithoutPods(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	ns := e.namespace("idle")
	node := e.node("idle", "containerd://2.1.4")

	tmpl := func(app string, add ...corev1.Capability) corev1.PodTemplateSpec {
		c := corev1.Container{Name: app, Image: "registry.example/" + app + ":1"}
		if len(add) > 0 {
			c.SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: add}}
		}
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
	}
	sel := func(app string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	}
	apps, batch := e.cs.AppsV1(), e.cs.BatchV1()
	// Scaled to zero, and it would add NET_ADMIN (high) when scaled up.
	if _, err := apps.Deployments(ns).Create(e.ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "idle"},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32), Selector: sel("idle"), Template: tmpl("idle", "NET_ADMIN")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Between runs: no Job, no pod.
	job := tmpl("nightly")
	job.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	if _, err := batch.CronJobs(ns).Create(e.ctx, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly"},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: job}}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Running: its pod is what counts, not its template.
	busy, err := apps.Deployments(ns).Create(e.ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "busy"},
		Spec: appsv1.DeploymentSpec{Selector: sel("busy"), Template: tmpl("busy")}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := apps.ReplicaSets(ns).Create(e.ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "busy-7c9d",
		OwnerReferences: []metav1.OwnerReference{controllerRef("Deployment", "apps/v1", busy.Name, busy.UID)}},
		Spec: appsv1.ReplicaSetSpec{Selector: sel("busy"), Template: tmpl("busy")}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.pod(ns, "busy-7c9d-abcde", node, containers("busy"), labels("app", "busy", "pod-template-hash", "7c9d"),
		ownedBy("ReplicaSet", "apps/v1", rs.Name, rs.UID))

	t.Run("rows from the templates, marked, with --runtime", func(t *testing.T) {
		rep := runPlugin(t, kc, "audit", "-n", ns, "-o", "json", "--runtime", "containerd").report(t)
		want := []Row{
			{"CronJob", "nightly", "nightly", "container", 0},
			{"Deployment", "busy", "busy", "container", 1},
			{"Deployment", "idle", "idle", "container", 0},
		}
		if diff := cmp.Diff(want, rep.rows(ns)); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		idle := rep.one(t, ns, "Deployment", "idle", "idle")
		if !idle.FromTemplate || idle.Pod != "" {
			t.Errorf("%s: fromTemplate %v pod %q, want a template row without a pod", idle, idle.FromTemplate, idle.Pod)
		}
		if n := idle.noteWith("no running pods"); !strings.Contains(n, "as containerd would run it (--runtime)") {
			t.Errorf("%s: notes %q, want the template note naming --runtime", idle, idle.Notes)
		}
		if !slices.Contains(idle.Effective, "NET_ADMIN") {
			t.Errorf("%s: effective %v, want the template's NET_ADMIN", idle, idle.Effective)
		}
		if b := rep.one(t, ns, "Deployment", "busy", "busy"); b.FromTemplate {
			t.Errorf("%s: a Deployment with pods is judged from its template", b)
		}
	})

	t.Run("judged on every runtime the nodes report", func(t *testing.T) {
		nodes, err := e.cs.CoreV1().Nodes().List(e.ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, n := range nodes.Items {
			p, err := runtimes.Parse(n.Status.NodeInfo.ContainerRuntimeVersion)
			if err != nil {
				continue // audited as the fallback, containerd
			}
			want[p.Name()+" "+p.Version] = true
		}
		rep := runPlugin(t, kc, "audit", "deploy/idle", "-n", ns, "-o", "json").report(t)
		notes := map[string]bool{}
		for _, it := range rep.Items {
			if !it.FromTemplate {
				t.Errorf("%s: not a template row", it)
			}
			n := it.noteWith("would run it (the runtime of")
			if n == "" || notes[n] {
				t.Errorf("%s: notes %q, want a runtime's note of its own", it, it.Notes)
			}
			notes[n] = true
		}
		if len(rep.Items) != len(want) {
			t.Errorf("%d rows for deploy/idle, want one for each of the %d runtimes the nodes report (%v):\n%s", len(rep.Items), len(want), want, rep.summary())
		}
	})

	t.Run("--fail-on counts them; the table marks them", func(t *testing.T) {
		r := runPlugin(t, kc, "audit", "-n", ns, "--runtime", "containerd", "--fail-on", "high")
		if r.Code != 1 {
			t.Fatalf("exit %d, want 1 (deploy/idle adds NET_ADMIN); stderr:\n%s", r.Code, r.ErrOut)
		}
		var idleRow string
		for _, l := range strings.Split(r.Out, "\n") {
			if strings.Contains(l, "deploy/idle") {
				idleRow = l
			}
		}
		if f := strings.Fields(idleRow); len(f) < 4 || f[3] != "0" {
			t.Errorf("deploy/idle row %q, want PODS 0:\n%s", idleRow, r.Out)
		}
		if !strings.Contains(r.ErrOut, "2 workloads without running pods (PODS 0), judged from the pod template") {
			t.Errorf("stderr has no summary of the template rows:\n%s", r.ErrOut)
		}
	})

	t.Run("a field selector selects pods only", func(t *testing.T) {
		rep := runPlugin(t, kc, "audit", "-n", ns, "-o", "json", "--field-selector", "spec.nodeName="+node).report(t)
		if diff := cmp.Diff([]Row{{"Deployment", "busy", "busy", "container", 1}}, rep.rows(ns)); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})

	t.Run("suggest-drop patches the template of a Deployment without pods", func(t *testing.T) {
		r := runPlugin(t, kc, "suggest-drop", "deploy/idle", "-n", ns, "--runtime", "containerd", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("exit %d:\n%s", r.Code, r.ErrOut)
		}
		var l struct {
			Items []struct {
				Workload struct{ Kind, Name string }   `json:"workload"`
				Pods     int                           `json:"pods"`
				Patched  bool                          `json:"patched"`
				Drop     []struct{ Capability string } `json:"drop"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(r.Out), &l); err != nil {
			t.Fatalf("%v\n%s", err, r.Out)
		}
		if len(l.Items) != 1 || l.Items[0].Workload.Name != "idle" || !l.Items[0].Patched || len(l.Items[0].Drop) == 0 {
			t.Errorf("want one patched suggestion with drops for deploy/idle, got %+v", l.Items)
		}
	})
}
