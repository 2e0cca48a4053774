//go:build integration

package integration

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// workloads is a namespace holding one of each controller with its pods,
// created the way the controllers (which this server does not run) would:
// Deployment → ReplicaSet → Pods with pod-template-hash, CronJob → Job →
// Pod, each link an ownerReference carrying the owner's UID.
type workloads struct {
	ns string
	// webPods are the pods of Deployment web, in creation order.
	webPods []string
	// cronJobName is the Job the CronJob owns.
	cronJobName string
	// pods is every pod, by name.
	pods []string
}

func (e *env) workloads() *workloads {
	e.t.Helper()
	w := &workloads{ns: e.namespace("workloads")}
	nodeA := e.node("wl-a", "containerd://2.1.4")
	nodeB := e.node("wl-b", "containerd://2.1.4")
	ns := w.ns
	tmpl := func(lbl map[string]string, container string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: lbl},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: container, Image: "registry.example/" + container + ":1"}}},
		}
	}
	apps := e.cs.AppsV1()
	add := func(name, node string, spec corev1.PodSpec, opts ...podOpt) {
		e.pod(ns, name, node, spec, opts...)
		w.pods = append(w.pods, name)
	}

	// Two Deployments, so that deploy/web must pick one and "deployments"
	// both.
	for _, d := range []struct {
		name, hash, container string
		replicas              int
	}{{"web", "5d8f7c9b6d", "nginx", 3}, {"api", "7f9c4d6b8", "server", 1}} {
		lbl := map[string]string{"app": d.name}
		dep, err := apps.Deployments(ns).Create(e.ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: d.name},
			Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: lbl}, Template: tmpl(lbl, d.container)},
		}, metav1.CreateOptions{})
		if err != nil {
			e.t.Fatalf("creating deployment: %v", err)
		}
		rsLabels := map[string]string{"app": d.name, "pod-template-hash": d.hash}
		rs, err := apps.ReplicaSets(ns).Create(e.ctx, &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: d.name + "-" + d.hash, Labels: rsLabels,
				OwnerReferences: []metav1.OwnerReference{controllerRef("Deployment", "apps/v1", dep.Name, dep.UID)}},
			Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: rsLabels}, Template: tmpl(rsLabels, d.container)},
		}, metav1.CreateOptions{})
		if err != nil {
			e.t.Fatalf("creating replicaset: %v", err)
		}
		for i := 0; i < d.replicas; i++ {
			name := fmt.Sprintf("%s-%c%c%c%c%c", rs.Name, 'a'+i, 'b', 'c', 'd', 'e')
			add(name, nodeA, containers(d.container), labels("app", d.name, "pod-template-hash", d.hash),
				ownedBy("ReplicaSet", "apps/v1", rs.Name, rs.UID))
			if d.name == "web" {
				w.webPods = append(w.webPods, name)
			}
		}
	}

	dbLabels := map[string]string{"app": "db"}
	sts, err := apps.StatefulSets(ns).Create(e.ctx, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{ServiceName: "db", Selector: &metav1.LabelSelector{MatchLabels: dbLabels},
			Template: tmpl(dbLabels, "postgres")},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("creating statefulset: %v", err)
	}
	for i := 0; i < 2; i++ {
		add(fmt.Sprintf("db-%d", i), nodeB, containers("postgres"), labels("app", "db"), ownedBy("StatefulSet", "apps/v1", sts.Name, sts.UID))
	}

	agentLabels := map[string]string{"app": "agent"}
	ds, err := apps.DaemonSets(ns).Create(e.ctx, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent"},
		Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: agentLabels}, Template: tmpl(agentLabels, "agent")},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("creating daemonset: %v", err)
	}
	// One pod per node, as a DaemonSet runs; both nodes are containerd, so
	// the two pods are one group.
	add("agent-x1", nodeA, containers("agent"), labels("app", "agent"), ownedBy("DaemonSet", "apps/v1", ds.Name, ds.UID))
	add("agent-x2", nodeB, containers("agent"), labels("app", "agent"), ownedBy("DaemonSet", "apps/v1", ds.Name, ds.UID))

	batch := e.cs.BatchV1()
	jobTemplate := func() batchv1.JobSpec {
		t := tmpl(nil, "job")
		t.Spec.RestartPolicy = corev1.RestartPolicyNever
		return batchv1.JobSpec{Template: t}
	}
	cj, err := batch.CronJobs(ns).Create(e.ctx, &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "backup"},
		Spec:       batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: jobTemplate()}},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("creating cronjob: %v", err)
	}
	// A Job and its pod: the apiserver generates the Job's selector and
	// template labels (batch.kubernetes.io/controller-uid), which the pods
	// must carry for job/NAME to find them.
	job := func(name string, owner *metav1.OwnerReference, container string) {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: jobTemplate()}
		j.Spec.Template.Spec.Containers[0].Name = container
		if owner != nil {
			j.OwnerReferences = []metav1.OwnerReference{*owner}
		}
		got, err := batch.Jobs(ns).Create(e.ctx, j, metav1.CreateOptions{})
		if err != nil {
			e.t.Fatalf("creating job: %v", err)
		}
		var kv []string
		for k, v := range got.Spec.Template.Labels {
			kv = append(kv, k, v)
		}
		if len(kv) == 0 {
			e.t.Fatalf("job %s: the apiserver generated no template labels", name)
		}
		spec := containers(container)
		spec.RestartPolicy = corev1.RestartPolicyNever
		add(name+"-q7x2k", nodeB, spec, labels(kv...), ownedBy("Job", "batch/v1", got.Name, got.UID))
	}
	w.cronJobName = "backup-29000000"
	cjRef := controllerRef("CronJob", "batch/v1", cj.Name, cj.UID)
	job(w.cronJobName, &cjRef, "dump")
	job("migrate", nil, "migrate")

	add("lonely", nodeA, containers("shell"))
	sort.Strings(w.pods)
	return w
}

// TestWorkloadRollup: pods of one controller collapse into one row per
// container with a pod count (issue 4 item 4), resolved through the
// ownerReference chain; --per-pod shows every pod; a pod that differs from
// its siblings (an ephemeral debug container) is shown on its own.
func TestWorkloadRollup(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	w := e.workloads()
	ns := w.ns

	rows := map[string][]Row{
		"web":    {{"Deployment", "web", "nginx", "container", 3}},
		"api":    {{"Deployment", "api", "server", "container", 1}},
		"db":     {{"StatefulSet", "db", "postgres", "container", 2}},
		"agent":  {{"DaemonSet", "agent", "agent", "container", 2}},
		"backup": {{"CronJob", "backup", "dump", "container", 1}},
		"job":    {{"Job", "migrate", "migrate", "container", 1}},
		"pod":    {{"Pod", "lonely", "shell", "container", 1}},
	}
	join := func(keys ...string) []Row {
		var out []Row
		for _, k := range keys {
			out = append(out, rows[k]...)
		}
		sortRows(out)
		return out
	}
	everything := join("web", "api", "db", "agent", "backup", "job", "pod")

	t.Run("rollup", func(t *testing.T) {
		rep := runPlugin(t, kc, "audit", "-n", ns, "-o", "json").report(t)
		if diff := cmp.Diff(everything, rep.rows(ns)); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		// Every row names a pod of its group; the web row one of web's pods.
		web := rep.one(t, ns, "Deployment", "web", "nginx")
		if !slices.Contains(w.webPods, web.Pod) {
			t.Errorf("web row names pod %q, not one of %v", web.Pod, w.webPods)
		}
		if diff := cmp.Diff(sorted(containerd14), sorted(web.Effective)); diff != "" {
			t.Errorf("web effective (-want +got):\n%s", diff)
		}
	})

	t.Run("table has a PODS column", func(t *testing.T) {
		r := runPlugin(t, kc, "audit", "-n", ns, "deploy/web")
		if r.Code != 0 {
			t.Fatalf("exit %d: %s", r.Code, r.ErrOut)
		}
		lines := strings.Split(strings.TrimSpace(r.Out), "\n")
		if len(lines) != 2 {
			t.Fatalf("want a header and one row:\n%s", r.Out)
		}
		header, row := strings.Fields(lines[0]), strings.Fields(lines[1])
		col := slices.Index(header, "PODS")
		if col < 0 {
			t.Fatalf("no PODS column in %q", lines[0])
		}
		// Every column before PODS is one word in this row (no empty
		// cells), so the fields line up.
		if col >= len(row) || row[col] != "3" {
			t.Errorf("PODS of web = %q, want 3:\n%s", row, r.Out)
		}
	})

	t.Run("per-pod", func(t *testing.T) {
		rep := runPlugin(t, kc, "audit", "-n", ns, "--per-pod", "-o", "json").report(t)
		var pods []string
		for _, it := range rep.inNamespace(ns) {
			if it.Pods != 1 {
				t.Errorf("%s: pods = %d, want 1 with --per-pod", it, it.Pods)
			}
			pods = append(pods, it.Pod)
		}
		sort.Strings(pods)
		if diff := cmp.Diff(w.pods, pods); diff != "" {
			t.Errorf("pods named by the per-pod rows (-want +got):\n%s", diff)
		}
		// The workload is still the controller, not the pod.
		for _, it := range rep.find(ns, "Deployment", "web", "nginx") {
			if !slices.Contains(w.webPods, it.Pod) {
				t.Errorf("per-pod row of web names pod %q", it.Pod)
			}
		}
		// The table names each row's pod in a POD column, third.
		r := runPlugin(t, kc, "audit", "-n", ns, "--per-pod", "deploy/web")
		lines := strings.Split(strings.TrimSpace(r.Out), "\n")
		if r.Code != 0 || len(lines) < 2 || strings.Join(strings.Fields(lines[0])[:4], " ") != "NAMESPACE WORKLOAD POD CONTAINER" {
			t.Fatalf("exit %d; want a table with a POD column:\n%s%s", r.Code, r.Out, r.ErrOut)
		}
		var shown []string
		for _, l := range lines[1:] {
			shown = append(shown, strings.Fields(l)[2])
		}
		sort.Strings(shown)
		if diff := cmp.Diff(sorted(w.webPods), shown); diff != "" {
			t.Errorf("POD column of web (-want +got):\n%s\n%s", diff, r.Out)
		}
	})

	t.Run("resource arguments", func(t *testing.T) {
		tests := []struct {
			args []string
			want []Row
		}{
			{[]string{"deploy/web"}, join("web")},
			{[]string{"deployment/api"}, join("api")},
			{[]string{"deployments"}, join("web", "api")},
			{[]string{"sts/db"}, join("db")},
			{[]string{"ds/agent"}, join("agent")},
			{[]string{"job/migrate"}, join("job")},
			{[]string{"cronjob/backup"}, join("backup")},
			// A CronJob's Job audits that Job's pods, reported under the
			// CronJob they roll up to.
			{[]string{"job/" + w.cronJobName}, join("backup")},
			{[]string{"pod/lonely"}, join("pod")},
			{[]string{"pod/" + w.webPods[0]}, []Row{{"Deployment", "web", "nginx", "container", 1}}},
			{[]string{"deploy/web", "sts/db"}, join("web", "db")},
			{[]string{"ns/" + ns}, everything},
			// Overlapping arguments name the same pods twice; each pod is
			// still one pod.
			{[]string{"deploy/web", "ns/" + ns}, everything},
			{[]string{"deploy/web", "pod/" + w.webPods[0]}, join("web")},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
				args := append([]string{"audit", "-n", ns, "-o", "json"}, tt.args...)
				rep := runPlugin(t, kc, args...).report(t)
				if diff := cmp.Diff(tt.want, rep.rows(ns)); diff != "" {
					t.Errorf("rows (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("ns/NAME from another current namespace", func(t *testing.T) {
		// The kubeconfig's context namespace is "default"; ns/NAME still
		// audits NAME.
		rep := runPlugin(t, kc, "audit", "ns/"+ns, "-o", "json").report(t)
		if diff := cmp.Diff(everything, rep.rows(ns)); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})

	t.Run("a pod with an ephemeral container is shown on its own", func(t *testing.T) {
		debugged := w.webPods[1]
		e.addEphemeral(ns, debugged, ephemeralDebugger("nginx"))
		for _, args := range [][]string{{"-n", ns}, {"deploy/web", "-n", ns}} {
			rep := runPlugin(t, kc, append([]string{"audit", "-o", "json"}, args...)...).report(t)
			got := rep.find(ns, "Deployment", "web", "nginx")
			got = append(got, rep.find(ns, "Deployment", "web", "debugger")...)
			type row struct {
				Container string
				Pods      int
				Alone     bool // the row is the debugged pod's own
			}
			var gotRows []row
			for _, it := range got {
				gotRows = append(gotRows, row{it.Container, it.Pods, it.Pod == debugged})
			}
			sort.Slice(gotRows, func(i, j int) bool {
				return fmt.Sprint(gotRows[i]) < fmt.Sprint(gotRows[j])
			})
			want := []row{{"debugger", 1, true}, {"nginx", 1, true}, {"nginx", 2, false}}
			if diff := cmp.Diff(want, gotRows); diff != "" {
				t.Errorf("%v: web rows (-want +got):\n%s", args, diff)
			}
			for _, it := range rep.find(ns, "Deployment", "web", "debugger") {
				if diff := cmp.Diff(with(containerd14, "SYS_PTRACE"), sorted(it.Effective)); diff != "" {
					t.Errorf("debugger effective (-want +got):\n%s", diff)
				}
			}
		}
	})
}
