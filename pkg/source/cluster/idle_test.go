package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	metafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Every kind that creates pods is read for its template when it has none,
// and every one of them can be listed.
func TestIdleKindsAreTheControllers(t *testing.T) {
	var want []string
	for _, k := range workload.Kinds() {
		if k.Controller {
			want = append(want, k.Name)
		}
	}
	if diff := cmp.Diff(want, idleKinds); diff != "" {
		t.Errorf("idleKinds (-controllers +idleKinds):\n%s", diff)
	}
	c := fake.NewClientset()
	for _, kind := range idleKinds {
		if idleListFunc(context.Background(), c, kind, "ns") == nil {
			t.Errorf("%s has no lister", kind)
		}
	}
}

// Controllers without pods are audited from their pod templates, on each
// runtime the nodes report, marked; the ones with pods, the ReplicaSets
// and Jobs a controller owns and finished Jobs are not; -l selects on the
// template's labels; a field selector (pods only) reads no template.
func TestCollectIdleTemplates(t *testing.T) {
	tmpl := func(app string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: app, Image: app + ":1"}}}}
	}
	meta := func(name string, owner ...metav1.OwnerReference) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "shop", OwnerReferences: owner}
	}
	owned := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d-1", Controller: ptr.To(true)}
	objects := []runtime.Object{
		// Has a pod (through its ReplicaSet): no template row.
		&appsv1.Deployment{ObjectMeta: meta("web"), Spec: appsv1.DeploymentSpec{Template: tmpl("web")}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f8", Namespace: "shop", UID: "rs-1", OwnerReferences: []metav1.OwnerReference{owned}}, Spec: appsv1.ReplicaSetSpec{Template: tmpl("web")}},
		// An old revision of web: its owner's.
		&appsv1.ReplicaSet{ObjectMeta: meta("web-old", owned), Spec: appsv1.ReplicaSetSpec{Template: tmpl("web")}},
		// Scaled to zero.
		&appsv1.Deployment{ObjectMeta: meta("idle"), Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(0)), Template: tmpl("idle")}},
		&appsv1.StatefulSet{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{Template: tmpl("db")}},
		&appsv1.DaemonSet{ObjectMeta: meta("agent"), Spec: appsv1.DaemonSetSpec{Template: tmpl("agent")}},
		&appsv1.ReplicaSet{ObjectMeta: meta("bare-rs"), Spec: appsv1.ReplicaSetSpec{Template: tmpl("bare-rs")}},
		&corev1.ReplicationController{ObjectMeta: meta("rc"), Spec: corev1.ReplicationControllerSpec{Template: ptr.To(tmpl("rc"))}},
		&batchv1.CronJob{ObjectMeta: meta("nightly"), Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{
			Spec: batchv1.JobSpec{Template: tmpl("nightly")}}}},
		// A run of the CronJob: its owner's.
		&batchv1.Job{ObjectMeta: meta("nightly-1", metav1.OwnerReference{APIVersion: "batch/v1", Kind: "CronJob", Name: "nightly", UID: "c-1", Controller: ptr.To(true)}),
			Spec: batchv1.JobSpec{Template: tmpl("nightly")}},
		&batchv1.Job{ObjectMeta: meta("migrate"), Spec: batchv1.JobSpec{Suspend: ptr.To(true), Template: tmpl("migrate")}},
		&batchv1.Job{ObjectMeta: meta("done"), Spec: batchv1.JobSpec{Template: tmpl("done")},
			Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}},
	}
	allIdle := []string{
		"shop CronJob/nightly pods=0 cri-o template",
		"shop DaemonSet/agent pods=0 cri-o template",
		"shop Deployment/idle pods=0 cri-o template",
		"shop Deployment/web pods=1 cri-o",
		"shop Job/migrate pods=0 cri-o template",
		"shop Pod/debug pods=1 cri-o",
		"shop ReplicaSet/bare-rs pods=0 cri-o template",
		"shop ReplicationController/rc pods=0 cri-o template",
		"shop StatefulSet/db pods=0 cri-o template",
	}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "x"}, "", errors.New("RBAC: no"))
	for _, tc := range []struct {
		name       string
		scope      Scope
		forbid     []string
		secondNode string
		// ownedOnly: the owner lookups see only ReplicaSets and Jobs with
		// a controller, so their typed lists must be skipped.
		ownedOnly    bool
		want         []string
		wantNote     string
		wantWarnings []string
	}{{
		name:     "a namespace: every controller without pods",
		scope:    Scope{Namespace: "shop", Templates: true},
		want:     allIdle,
		wantNote: "no running pods: judged from the pod template as cri-o://1.33.2 would run it (the runtime of every node)",
	}, {
		name:  "-l selects templates by their labels",
		scope: Scope{Namespace: "shop", Templates: true, LabelSelector: "app in (db,nightly)"},
		want:  []string{"shop CronJob/nightly pods=0 cri-o template", "shop StatefulSet/db pods=0 cri-o template"},
	}, {
		name:  "a field selector selects pods only: no templates",
		scope: Scope{Namespace: "shop", FieldSelector: "status.phase=Running"},
		want:  []string{"shop Deployment/web pods=1 cri-o", "shop Pod/debug pods=1 cri-o"},
	}, {
		name:       "two runtimes: a row for each",
		scope:      Scope{Namespace: "shop", Templates: true, LabelSelector: "app=db"},
		secondNode: "containerd://2.1.4",
		want:       []string{"shop StatefulSet/db pods=0 containerd template", "shop StatefulSet/db pods=0 cri-o template"},
		wantNote:   "(the runtime of 1 of the 2 nodes; a row for each runtime in the cluster)",
	}, {
		name:   "kinds that may not be listed: one warning, the rest still read",
		scope:  Scope{Namespace: "shop", Templates: true},
		forbid: []string{"deployments", "cronjobs", "jobs"},
		want: []string{
			"shop DaemonSet/agent pods=0 cri-o template",
			"shop Deployment/web pods=1 cri-o",
			"shop Pod/debug pods=1 cri-o",
			"shop ReplicaSet/bare-rs pods=0 cri-o template",
			"shop ReplicationController/rc pods=0 cri-o template",
			"shop StatefulSet/db pods=0 cri-o template",
		},
		wantWarnings: []string{`you may not list jobs in namespace "shop", so the pods of a Job that a CronJob created are shown under the Job, not the CronJob`,
			`you may not list deployments, jobs and cronjobs in namespace "shop" (x is forbidden: RBAC: no), so those without running pods (scaled to zero, between runs) are not shown, nor the caps.kubectl-caps.io/allow annotation on their own metadata read`},
	}, {
		name:      "every ReplicaSet and Job has a controller: they are not listed again",
		scope:     Scope{Namespace: "shop", Templates: true},
		ownedOnly: true,
		want: []string{
			"shop CronJob/nightly pods=0 cri-o template",
			"shop DaemonSet/agent pods=0 cri-o template",
			"shop Deployment/idle pods=0 cri-o template",
			"shop Deployment/web pods=1 cri-o",
			"shop Pod/debug pods=1 cri-o",
			"shop ReplicationController/rc pods=0 cri-o template",
			"shop StatefulSet/db pods=0 cri-o template",
		},
		wantNote: "no running pods",
	}, {
		name: "a controller named on the command line without pods: its own template",
		scope: Scope{Namespace: "shop", LabelSelector: "app=none", Controller: &workload.Ref{Kind: "Deployment", Name: "gone"},
			Prefix: workload.PrefixController, Template: ptr.To(tmpl("gone"))},
		want: []string{"shop Deployment/gone pods=0 cri-o template"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeCluster{}.clients(t)
			typed := c.Typed.(*fake.Clientset)
			for _, o := range objects {
				if err := typed.Tracker().Add(o); err != nil {
					t.Fatal(err)
				}
			}
			if tc.secondNode != "" {
				if err := typed.Tracker().Add(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-2"},
					Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{ContainerRuntimeVersion: tc.secondNode}}}); err != nil {
					t.Fatal(err)
				}
			}
			if !tc.ownedOnly {
				// The owner lookups see what the typed client holds.
				c.Metadata.(*metafake.FakeMetadataClient).PrependReactor("list", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
					list := &metav1.List{}
					var objs []metav1.Object
					switch a.GetResource().Resource {
					case "replicasets":
						l, err := typed.AppsV1().ReplicaSets("").List(context.Background(), metav1.ListOptions{})
						if err != nil {
							return true, nil, err // forbidden for the metadata list too
						}
						for i := range l.Items {
							objs = append(objs, &l.Items[i])
						}
					case "jobs":
						l, err := typed.BatchV1().Jobs("").List(context.Background(), metav1.ListOptions{})
						if err != nil {
							return true, nil, err
						}
						for i := range l.Items {
							objs = append(objs, &l.Items[i])
						}
					}
					for _, o := range objs {
						list.Items = append(list.Items, runtime.RawExtension{Object: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
							Name: o.GetName(), Namespace: o.GetNamespace(), UID: o.GetUID(), OwnerReferences: o.GetOwnerReferences()}}})
					}
					return true, list, nil
				})
			}
			for _, r := range tc.forbid {
				typed.PrependReactor("list", r, func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, forbidden })
			}
			p, _ := runtimes.Parse("containerd")
			tc.scope.What = "the scope"
			col, err := Collect(context.Background(), c, Query{Scopes: []Scope{tc.scope}, Runtime: p})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			col.Rollup.Each(func(tg *workload.Target) {
				for range engine.Containers(tg.Spec) {
					s := fmt.Sprintf("%s %s/%s pods=%d %s", tg.Namespace, tg.Workload.Kind, tg.Workload.Name, tg.Pods, tg.Profile.Name())
					if tg.FromTemplate {
						s += " template"
						if len(tg.Notes) != 1 || !strings.Contains(tg.Notes[0], tc.wantNote) {
							t.Errorf("%s: notes %q, want one containing %q", s, tg.Notes, tc.wantNote)
						}
					}
					got = append(got, s)
				}
			})
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rolled-up items (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWarnings, col.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if tc.ownedOnly {
				for _, a := range typed.Actions() {
					if r := a.GetResource().Resource; a.GetVerb() == "list" && (r == "replicasets" || r == "jobs") {
						t.Errorf("listed %s in full although none lacks a controller", r)
					}
				}
			}
		})
	}
}
