//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubectl-caps/kubectl-caps/pkg/cmd"
)

// suggestWorkloads is one namespace holding the shapes of examples/ as live
// objects, with pods made the way their controllers (which this server does
// not run) would make them.
type suggestWorkloads struct {
	e                 *env
	ns                string
	containerd, crio  string // node names
	gen               int
	web, db, agent    types.UID
	backup            types.UID
	webTmpl           corev1.PodTemplateSpec
	dbTmpl, agentTmpl corev1.PodTemplateSpec
	backupTmpl        corev1.PodTemplateSpec
}

func suggestCaps(add, drop []corev1.Capability) *corev1.Capabilities {
	return &corev1.Capabilities{Add: add, Drop: drop}
}

func suggestTemplates() (web, db, agent, backup corev1.PodTemplateSpec) {
	web = corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27",
			Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}},
	}
	db = corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "postgres", Image: "postgres:17", SecurityContext: &corev1.SecurityContext{
				Capabilities: suggestCaps([]corev1.Capability{"CHOWN", "SETUID", "SETGID", "NET_ADMIN", "FOWNER"}, []corev1.Capability{"all"})}},
			{Name: "exporter", Image: "registry.example/pg-exporter:0.15", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(65534)),
				Capabilities: suggestCaps([]corev1.Capability{"NET_ADMIN"}, []corev1.Capability{"NET_ADMIN", "NET_RAWW"})}},
		}},
	}
	agent = corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "node-agent"}},
		Spec: corev1.PodSpec{HostPID: true, HostNetwork: true, Containers: []corev1.Container{{Name: "agent", Image: "registry.example/agent:7",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr(true), Capabilities: suggestCaps(nil, []corev1.Capability{"ALL"})}}}},
	}
	always := corev1.ContainerRestartPolicyAlways
	backup = corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure,
			InitContainers: []corev1.Container{
				{Name: "fix-perms", Image: "busybox:1.37", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(0)),
					Capabilities: suggestCaps([]corev1.Capability{"CHOWN"}, []corev1.Capability{"ALL"})}},
				{Name: "log-shipper", Image: "registry.example/shipper:2", RestartPolicy: &always, SecurityContext: &corev1.SecurityContext{
					RunAsNonRoot: ptr(true), AllowPrivilegeEscalation: ptr(false), Capabilities: suggestCaps(nil, []corev1.Capability{"ALL"})}},
			},
			Containers: []corev1.Container{{Name: "backup", Image: "registry.example/backup:5",
				SecurityContext: &corev1.SecurityContext{Capabilities: suggestCaps([]corev1.Capability{"DAC_READ_SEARCH"}, nil)}}},
		},
	}
	return
}

// newSuggestWorkloads creates the objects and their first pods. Deployment
// web has a pod on a containerd node and one on a CRI-O node, and an
// admission webhook (played here) injects an istio-proxy container into
// its pods that the template does not have.
func (e *env) newSuggestWorkloads(prefix string) *suggestWorkloads {
	e.t.Helper()
	w := &suggestWorkloads{e: e, ns: e.namespace(prefix),
		containerd: e.node(prefix+"-ctrd", "containerd://2.1.4"), crio: e.node(prefix+"-crio", "cri-o://1.31.2")}
	w.webTmpl, w.dbTmpl, w.agentTmpl, w.backupTmpl = suggestTemplates()
	apps, batch := e.cs.AppsV1(), e.cs.BatchV1()
	sel := func(t corev1.PodTemplateSpec) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: t.Labels}
	}
	dep, err := apps.Deployments(w.ns).Create(e.ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{Selector: sel(w.webTmpl), Template: w.webTmpl}}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	sts, err := apps.StatefulSets(w.ns).Create(e.ctx, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{Selector: sel(w.dbTmpl), Template: w.dbTmpl}}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	ds, err := apps.DaemonSets(w.ns).Create(e.ctx, &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "node-agent"},
		Spec: appsv1.DaemonSetSpec{Selector: sel(w.agentTmpl), Template: w.agentTmpl}}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	cj, err := batch.CronJobs(w.ns).Create(e.ctx, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "backup"},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: w.backupTmpl}}}}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	w.web, w.db, w.agent, w.backup = dep.UID, sts.UID, ds.UID, cj.UID
	// examples/04-cap-prefix-pitfall.yaml: a bare pod, which no patch can change.
	e.pod(w.ns, "legacy-tool", w.containerd, corev1.PodSpec{Containers: []corev1.Container{{Name: "tool", SecurityContext: &corev1.SecurityContext{
		RunAsUser: ptr(int64(0)), Capabilities: suggestCaps([]corev1.Capability{"CAP_SYS_ADMIN"}, []corev1.Capability{"CAP_NET_RAW", "CAP_MKNOD"})}}}})
	w.roll()
	return w
}

// roll plays the controllers: it replaces the workloads' pods with pods
// made from the current templates (a Deployment through a new ReplicaSet,
// a CronJob through a new Job), as a rollout does.
func (w *suggestWorkloads) roll() {
	e := w.e
	e.t.Helper()
	w.gen++
	pods, err := e.cs.CoreV1().Pods(w.ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range pods.Items {
		if len(p.OwnerReferences) == 0 {
			continue // the bare pod stays
		}
		// No kubelet confirms a graceful deletion here, so delete at once.
		if err := e.cs.CoreV1().Pods(w.ns).Delete(e.ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); err != nil {
			e.t.Fatal(err)
		}
	}
	apps, batch := e.cs.AppsV1(), e.cs.BatchV1()
	dep, err := apps.Deployments(w.ns).Get(e.ctx, "web", metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	hash := fmt.Sprintf("gen%d", w.gen)
	rsLabels := map[string]string{"app": "web", "pod-template-hash": hash}
	tmpl := *dep.Spec.Template.DeepCopy()
	tmpl.Labels = rsLabels
	rs, err := apps.ReplicaSets(w.ns).Create(e.ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-" + hash, Labels: rsLabels,
			OwnerReferences: []metav1.OwnerReference{controllerRef("Deployment", "apps/v1", "web", w.web)}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: rsLabels}, Template: tmpl}}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for i, node := range []string{w.containerd, w.crio} {
		spec := *tmpl.Spec.DeepCopy()
		// The mutating webhook's sidecar, in the pods only.
		spec.Containers = append(spec.Containers, corev1.Container{Name: "istio-proxy", Image: "istio/proxyv2:1.24"})
		e.pod(w.ns, fmt.Sprintf("web-%s-%d", hash, i), node, spec, labels("app", "web", "pod-template-hash", hash),
			ownedBy("ReplicaSet", "apps/v1", rs.Name, rs.UID))
	}
	sts, err := apps.StatefulSets(w.ns).Get(e.ctx, "db", metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.pod(w.ns, fmt.Sprintf("db-%d", w.gen), w.containerd, *sts.Spec.Template.Spec.DeepCopy(), labels("app", "db"), ownedBy("StatefulSet", "apps/v1", "db", w.db))
	ds, err := apps.DaemonSets(w.ns).Get(e.ctx, "node-agent", metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.pod(w.ns, fmt.Sprintf("node-agent-%d", w.gen), w.containerd, *ds.Spec.Template.Spec.DeepCopy(), labels("app", "node-agent"),
		ownedBy("DaemonSet", "apps/v1", "node-agent", w.agent))
	cj, err := batch.CronJobs(w.ns).Get(e.ctx, "backup", metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	jobSpec := *cj.Spec.JobTemplate.Spec.DeepCopy()
	job, err := batch.Jobs(w.ns).Create(e.ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("backup-%d", w.gen),
		OwnerReferences: []metav1.OwnerReference{controllerRef("CronJob", "batch/v1", "backup", w.backup)}}, Spec: jobSpec}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.pod(w.ns, fmt.Sprintf("backup-%d-x", w.gen), w.containerd, *job.Spec.Template.Spec.DeepCopy(),
		labels("batch.kubernetes.io/job-name", job.Name), ownedBy("Job", "batch/v1", job.Name, job.UID))
}

// suggestRunAs runs the plugin in-process with KUBECONFIG set rather than
// --kubeconfig, so that the kubectl commands it prints carry no
// kubeconfig of their own: the read-only user reviews, an admin applies.
func suggestRunAs(t *testing.T, kubeconfig string, args ...string) Result {
	t.Helper()
	t.Setenv("KUBECONFIG", kubeconfig)
	full := append(append([]string(nil), args...), "--cache-dir", filepath.Join(t.TempDir(), "cache"))
	var out, errOut bytes.Buffer
	root := cmd.NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(full)
	err := root.Execute()
	if err != nil {
		fmt.Fprintf(&errOut, "error: %v\n", err)
	}
	return Result{Args: args, Out: out.String(), ErrOut: errOut.String(), Code: cmd.ExitCode(err)}
}

// suggestCommands are the printed kubectl patch commands, one per line.
func suggestCommands(out string) []string {
	var cmds []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "kubectl patch ") {
			cmds = append(cmds, l)
		}
	}
	return cmds
}

// TestSuggestDropLiveRoundTrip is issue 5's live round trip: workloads on
// the real apiserver, `suggest-drop -o kubectl` as a read-only user, the
// printed commands executed verbatim by a shell with the real kubectl as
// admin, the controllers' rollout played, and `audit` again: no capability
// the catalog says to drop remains in a patched container, and under
// --strategy=strict every patched template meets PSS restricted's
// capability rules (PSA library).
func TestSuggestDropLiveRoundTrip(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	drops := map[string]bool{}
	var cat struct {
		Items []struct{ Name, Recommendation string } `json:"items"`
	}
	var ex bytes.Buffer
	root := cmd.NewCmdRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &ex, ErrOut: &bytes.Buffer{}})
	root.SetArgs([]string{"explain", "-o", "json"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ex.Bytes(), &cat); err != nil {
		t.Fatalf("explain -o json: %v", err)
	}
	for _, c := range cat.Items {
		if c.Recommendation == "drop" {
			drops[c.Name] = true
		}
	}
	check := policy.CheckCapabilitiesRestricted()
	restricted := check.Versions[len(check.Versions)-1].CheckPod

	for _, strategy := range []string{"catalog", "strict"} {
		t.Run(strategy, func(t *testing.T) {
			w := e.newSuggestWorkloads("suggest-" + strategy)

			off := e.auditOffset()
			res := suggestRunAs(t, kc, "suggest-drop", "-n", w.ns, "--strategy", strategy, "-o", "kubectl")
			if res.Code != 0 {
				t.Fatalf("suggest-drop: exit %d\n%s", res.Code, res.ErrOut)
			}
			t.Run("read-only", func(t *testing.T) {
				read := map[string]bool{}
				for _, ev := range e.pluginEvents(off, auditorUser) {
					if ev.Verb != "get" && ev.Verb != "list" {
						t.Errorf("suggest-drop made a %s request: %s", ev.Verb, ev.RequestURI)
					}
					if ev.ObjectRef != nil {
						read[ev.Verb+" "+ev.ObjectRef.Resource] = true
					}
				}
				// The patches come from the controllers' templates, listed;
				// the bare pod is judged from the pod list, which keeps its
				// ports (workload.Relevant): no pod is read twice.
				for _, want := range []string{"list pods", "list deployments", "list statefulsets", "list cronjobs"} {
					if !read[want] {
						t.Errorf("no %q request in the audit log: %v", want, read)
					}
				}
				if read["get pods"] {
					t.Errorf("suggest-drop read a pod again with get: %v", read)
				}
			})

			// One command per patchable workload with something to change;
			// the node agent's lists already drop ALL (its note says
			// privileged must go), and the bare pod cannot be patched.
			cmds := suggestCommands(res.Out)
			var targets []string
			for _, c := range cmds {
				f := strings.Fields(c)
				targets = append(targets, f[2]+"/"+f[3])
			}
			sort.Strings(targets)
			if diff := cmp.Diff([]string{"cronjob/backup", "deployment/web", "statefulset/db"}, targets); diff != "" {
				t.Errorf("patched workloads (-want +got):\n%s\noutput:\n%s", diff, res.Out)
			}
			for _, want := range []string{`# Pod ` + w.ns + `/legacy-tool`, "# not patched: a Pod's containers cannot change", `container "agent" is privileged`,
				`container "istio-proxy" is not patched`} {
				if !strings.Contains(res.Out, want) {
					t.Errorf("output lacks %q:\n%s", want, res.Out)
				}
			}
			if strings.Contains(strings.Join(cmds, "\n"), "istio-proxy") {
				t.Errorf("a patch names the injected container, which the template does not have:\n%s", res.Out)
			}

			// Run the commands exactly as printed, through a shell.
			kubectlDir := filepath.Dir(e.srv.KubectlPath)
			for _, c := range cmds {
				sh := exec.CommandContext(e.ctx, "sh", "-c", c)
				sh.Env = append(os.Environ(), "KUBECONFIG="+e.srv.Kubeconfig(), "KUBECACHEDIR="+t.TempDir(),
					"PATH="+kubectlDir+string(os.PathListSeparator)+os.Getenv("PATH"))
				if out, err := sh.CombinedOutput(); err != nil {
					t.Fatalf("%s\n%v: %s", c, err, out)
				}
			}
			// As the node agent's note says: privileged goes first.
			if _, err := e.cs.AppsV1().DaemonSets(w.ns).Patch(e.ctx, "node-agent", types.StrategicMergePatchType,
				[]byte(`{"spec":{"template":{"spec":{"containers":[{"name":"agent","securityContext":{"privileged":false}}]}}}}`), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
			w.roll()

			// The catalog strategy keeps what a manifest adds by name
			// (docs/suggest-drop.md): postgres's NET_ADMIN and backup's
			// DAC_READ_SEARCH stay, flagged for review.
			byName := map[string]bool{}
			if strategy == "catalog" {
				byName = map[string]bool{"postgres NET_ADMIN": true, "backup DAC_READ_SEARCH": true}
			}
			rep := runPlugin(t, kc, "audit", "-n", w.ns, "-o", "json").report(t)
			for _, it := range rep.inNamespace(w.ns) {
				if it.Workload.Kind == "Pod" || it.Container == "istio-proxy" {
					continue // not patchable: the output said so
				}
				for _, c := range it.Bounding {
					if drops[c] && !byName[it.Container+" "+c] {
						t.Errorf("%s still holds %s, which the catalog says to drop", it, c)
					}
				}
			}
			// The runtime defaults (docs/sources.md#containerd-defaults) and the
			// catalog: nginx keeps the containerd defaults
			// minus MKNOD, NET_RAW and SETFCAP, and CRI-O's nine, which the
			// catalog keeps whole; strict keeps only NET_BIND_SERVICE for
			// port 80 (the image's user, possibly root) on both.
			wantWeb := map[string][]string{
				"catalog/containerd": without(containerd14, "MKNOD", "NET_RAW", "SETFCAP"),
				"catalog/cri-o":      crio9,
				"strict/containerd":  {"NET_BIND_SERVICE"},
				"strict/cri-o":       {"NET_BIND_SERVICE"},
			}
			for _, it := range rep.find(w.ns, "Deployment", "web", "nginx") {
				if diff := cmp.Diff(sorted(wantWeb[strategy+"/"+it.Runtime]), sorted(it.Bounding)); diff != "" {
					t.Errorf("web nginx on %s after the patch (-want +got):\n%s", it.Runtime, diff)
				}
			}

			if strategy == "strict" {
				for _, tmpl := range w.templates(t) {
					if r := restricted(&tmpl.ObjectMeta, &tmpl.Spec); !r.Allowed {
						t.Errorf("%s: fails PSS restricted capabilities: %s: %s", tmpl.Name, r.ForbiddenReason, r.ForbiddenDetail)
					}
				}
			}

			// Nothing left to change: no more commands.
			again := suggestRunAs(t, kc, "suggest-drop", "-n", w.ns, "--strategy", strategy, "-o", "kubectl")
			if left := suggestCommands(again.Out); again.Code != 0 || len(left) > 0 {
				t.Errorf("after applying, suggest-drop still prints (exit %d):\n%s", again.Code, strings.Join(left, "\n"))
			}
		})
	}
}

// templates are the pod templates of the patched workloads, named.
func (w *suggestWorkloads) templates(t *testing.T) []corev1.PodTemplateSpec {
	t.Helper()
	e := w.e
	dep, err := e.cs.AppsV1().Deployments(w.ns).Get(e.ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sts, err := e.cs.AppsV1().StatefulSets(w.ns).Get(e.ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cj, err := e.cs.BatchV1().CronJobs(w.ns).Get(e.ctx, "backup", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := e.cs.AppsV1().DaemonSets(w.ns).Get(e.ctx, "node-agent", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := []corev1.PodTemplateSpec{dep.Spec.Template, sts.Spec.Template, cj.Spec.JobTemplate.Spec.Template, ds.Spec.Template}
	for i, n := range []string{"deployment/web", "statefulset/db", "cronjob/backup", "daemonset/node-agent"} {
		out[i].Name = n
	}
	return out
}

// TestSuggestDropLiveJSON checks the live rows: one per runtime for a
// workload whose pods run on two runtimes, the injected container flagged,
// and the drop lists the runtime defaults (docs/sources.md) and the catalog give.
func TestSuggestDropLiveJSON(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	w := e.newSuggestWorkloads("suggest-json")
	res := runPlugin(t, kc, "suggest-drop", "-n", w.ns, "-o", "json")
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, res.ErrOut)
	}
	var l struct {
		Kind  string `json:"kind"`
		Items []struct {
			Workload  struct{ Kind, Name string }   `json:"workload"`
			Container string                        `json:"container"`
			Runtime   string                        `json:"runtime"`
			Pods      int                           `json:"pods"`
			Patched   bool                          `json:"patched"`
			Drop      []struct{ Capability string } `json:"drop"`
			Notes     []struct{ Code string }       `json:"notes"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(res.Out), &l); err != nil || l.Kind != "DropSuggestionList" {
		t.Fatalf("not a DropSuggestionList: %v\n%s", err, res.Out)
	}
	got := map[string][]string{}
	for _, it := range l.Items {
		var d []string
		for _, x := range it.Drop {
			d = append(d, x.Capability)
		}
		sort.Strings(d)
		key := fmt.Sprintf("%s/%s/%s@%s", it.Workload.Kind, it.Workload.Name, it.Container, it.Runtime)
		got[key] = d
		if it.Container == "istio-proxy" {
			if it.Patched || !slices.ContainsFunc(it.Notes, func(n struct{ Code string }) bool { return n.Code == "not-in-template" }) {
				t.Errorf("injected container: patched %v, notes %v", it.Patched, it.Notes)
			}
		}
		if it.Workload.Kind == "Deployment" && it.Pods != 1 {
			t.Errorf("%s: %d pods, want 1 per runtime", key, it.Pods)
		}
	}
	want := map[string][]string{
		"Deployment/web/nginx@containerd": {"MKNOD", "NET_RAW", "SETFCAP"},
		"Deployment/web/nginx@cri-o":      nil,
		// The injected container holds the runtime defaults (no
		// securityContext), judged from the pods.
		"Deployment/web/istio-proxy@containerd": {"MKNOD", "NET_RAW", "SETFCAP"},
		"Deployment/web/istio-proxy@cri-o":      nil,
		"StatefulSet/db/postgres@containerd":    nil, // its NET_ADMIN is added by name: kept

		"StatefulSet/db/exporter@containerd":    {"MKNOD", "NET_RAW", "SETFCAP"},
		"DaemonSet/node-agent/agent@containerd": all41,
		"CronJob/backup/fix-perms@containerd":   nil,
		"CronJob/backup/log-shipper@containerd": nil,
		"CronJob/backup/backup@containerd":      {"MKNOD", "NET_RAW", "SETFCAP"}, // DAC_READ_SEARCH is added by name
		"Pod/legacy-tool/tool@containerd":       {"MKNOD", "NET_RAW", "SETFCAP"},
	}
	for k, v := range want {
		want[k] = sorted(v)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drop lists (-want +got):\n%s", diff)
	}
}
