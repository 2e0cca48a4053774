package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	metafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// A query of one scope is handed on a namespace at a time (Query.Flush),
// each namespace with its controllers without pods, those of namespaces
// without pods last; the same rows in the same order as without Flush; a
// restarted listing reads again only what was not handed on; and a server
// that lists a namespace twice is an error, never a workload split in two.
func TestCollectFlushesNamespaceByNamespace(t *testing.T) {
	pod := func(ns, name string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(ns + "/" + name)},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
	}
	idle := func(ns string) runtime.Object {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "idle", Namespace: ns},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(0)), Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "idle", Image: "idle:1"}}}}}}
	}
	page := func(cont string, pods ...corev1.Pod) *corev1.PodList {
		return &corev1.PodList{ListMeta: metav1.ListMeta{Continue: cont}, Items: pods}
	}
	expired := apierrors.NewResourceExpired("the provided continue parameter is too old")
	for _, tc := range []struct {
		name string
		// pages are the pod pages, in turn; an entry of nil is a 410 for
		// the continue request it answers.
		pages       []*corev1.PodList
		want        [][]string // the batches handed on
		wantErr     string
		wantRestart bool
	}{{
		name: "namespaces in turn, templates with theirs, pod-less namespaces last",
		pages: []*corev1.PodList{
			page("2", pod("a", "p1"), pod("a", "p2")),
			page("", pod("b", "p3")),
		},
		want: [][]string{
			{"a Pod/p1 pods=1", "a Pod/p2 pods=1", "a Deployment/idle pods=0 template"},
			{"b Pod/p3 pods=1"},
			{"c Deployment/idle pods=0 template"},
		},
	}, {
		name: "a restart reads again only the namespace not handed on",
		pages: []*corev1.PodList{
			page("2", pod("a", "p1"), pod("b", "p2")),
			nil,
			page("2", pod("a", "p1"), pod("b", "p2")),
			page("", pod("b", "p3"), pod("d", "p4")),
		},
		want: [][]string{
			{"a Pod/p1 pods=1", "a Deployment/idle pods=0 template"},
			{"b Pod/p2 pods=1", "b Pod/p3 pods=1"},
			{"d Pod/p4 pods=1"},
			{"c Deployment/idle pods=0 template"},
		},
		wantRestart: true,
	}, {
		name: "a namespace listed twice",
		pages: []*corev1.PodList{
			page("2", pod("a", "p1"), pod("b", "p2")),
			page("", pod("a", "p3")),
		},
		wantErr: `listed pods of namespace "a" again after those of namespace "b"`,
	}} {
		for _, flush := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/flush=%v", tc.name, flush), func(t *testing.T) {
				typed := fake.NewClientset(idle("a"), idle("c"), &corev1.Node{
					ObjectMeta: metav1.ObjectMeta{Name: "node-1"},
					Status:     corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{ContainerRuntimeVersion: "containerd://2.1.4"}},
				})
				// Each request gets the next page, whatever it asks: after
				// a 410 the listing starts again and reads on.
				next := 0
				typed.PrependReactor("list", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
					p := tc.pages[next]
					next++
					if p == nil {
						return true, nil, expired
					}
					return true, p.DeepCopy(), nil
				})
				md := metafake.NewSimpleMetadataClient(metafake.NewTestScheme())
				md.PrependReactor("list", "*", func(clienttesting.Action) (bool, runtime.Object, error) {
					return true, &metav1.List{}, nil
				})
				var got [][]string
				rows := func(r *workload.Rollup) []string {
					var out []string
					r.Each(func(t *workload.Target) {
						row := fmt.Sprintf("%s %s/%s pods=%d", t.Namespace, t.Workload.Kind, t.Workload.Name, t.Pods)
						if t.FromTemplate {
							row += " template"
						}
						out = append(out, row)
					})
					return out
				}
				q := Query{Scopes: []Scope{{What: "all namespaces", Templates: true}}, ChunkSize: 2}
				if flush {
					q.Flush = func(r *workload.Rollup) error {
						got = append(got, rows(r))
						return nil
					}
				}
				col, err := Collect(context.Background(), Clients{Typed: typed, Metadata: md}, q)
				if tc.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("err = %v, want %q", err, tc.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, b := range tc.want {
					want = append(want, b...)
				}
				if flush {
					if col.Rollup != nil {
						t.Errorf("Collected.Rollup is kept with Flush")
					}
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("batches (-want +got):\n%s", diff)
					}
				} else if diff := cmp.Diff(want, rows(col.Rollup)); diff != "" {
					t.Errorf("rows without Flush (-want +got):\n%s", diff)
				}
				restarted := strings.Contains(strings.Join(col.Warnings, "\n"), "410 Gone")
				if restarted != tc.wantRestart {
					t.Errorf("restart warning %v, want %v: %v", restarted, tc.wantRestart, col.Warnings)
				}
			})
		}
	}
}

// The controllers are read as the pods are, a namespace at a time: when
// the first namespace is handed on, the Deployments of the last ones are
// not yet listed, so a cluster's templates are never all held at once.
// Every namespace still gets its own controllers without pods, and one
// read in another order than the pods' is an error, never left out.
func TestCollectReadsControllersWithThePods(t *testing.T) {
	const perNamespace = 2
	var names []string
	for i := range 10 {
		names = append(names, fmt.Sprintf("ns-%02d", i))
	}
	for _, tc := range []struct {
		name string
		// namespaces are listed in this order, pods and controllers.
		namespaces []string
		// order lists the Deployments' indexes in the order served.
		order   func([]int) []int
		wantErr string
	}{
		{name: "in the pods' order", namespaces: names, order: func(o []int) []int { return o }},
		{
			// "kube-system/" sorts before "kube/" in the storage keys,
			// where client-go's fake puts "kube" first.
			name: "in key order, one namespace's name the start of another's", namespaces: []string{"a", "kube-system", "kube", "z"},
			order: func(o []int) []int { return o },
		},
		{name: "a namespace's controllers after the next namespace's", namespaces: names, order: func(o []int) []int {
			o[2], o[3], o[4], o[5] = o[4], o[5], o[2], o[3]
			return o
		}, wantErr: `the server listed deployment "idle-0" of namespace "ns-01" after the pods of that namespace were all read`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var deployments []appsv1.Deployment
			var pods []corev1.Pod
			for _, ns := range tc.namespaces {
				pods = append(pods, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ns, UID: types.UID(ns)},
					Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}})
				for j := range perNamespace {
					deployments = append(deployments, appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("idle-%d", j), Namespace: ns},
						Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(0)), Template: corev1.PodTemplateSpec{
							Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "idle", Image: "idle:1"}}}}}})
				}
			}
			typed := fake.NewClientset(&corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: "node-1"},
				Status:     corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{ContainerRuntimeVersion: "containerd://2.1.4"}},
			})
			order := make([]int, len(deployments))
			for i := range order {
				order[i] = i
			}
			order = tc.order(order)
			var mu sync.Mutex
			served := 0 // Deployments served so far
			typed.PrependReactor("list", "deployments", func(a clienttesting.Action) (bool, runtime.Object, error) {
				opts := a.(clienttesting.ListActionImpl).ListOptions
				from := 0
				if opts.Continue != "" {
					from, _ = strconv.Atoi(opts.Continue)
				}
				to := min(from+int(opts.Limit), len(order))
				list := &appsv1.DeploymentList{}
				for _, i := range order[from:to] {
					list.Items = append(list.Items, deployments[i])
				}
				if to < len(order) {
					list.Continue = strconv.Itoa(to)
				}
				mu.Lock()
				served = to
				mu.Unlock()
				return true, list, nil
			})
			typed.PrependReactor("list", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
				return true, &corev1.PodList{Items: pods}, nil
			})
			md := metafake.NewSimpleMetadataClient(metafake.NewTestScheme())
			md.PrependReactor("list", "*", func(clienttesting.Action) (bool, runtime.Object, error) {
				return true, &metav1.List{}, nil
			})
			var batches [][]string
			servedAtFirst := -1
			q := Query{Scopes: []Scope{{What: "all namespaces", Templates: true}}, ChunkSize: perNamespace,
				Flush: func(r *workload.Rollup) error {
					if servedAtFirst < 0 {
						mu.Lock()
						servedAtFirst = served
						mu.Unlock()
					}
					var rows []string
					r.Each(func(t *workload.Target) { rows = append(rows, t.Namespace+" "+t.Workload.Label()) })
					batches = append(batches, rows)
					return nil
				}}
			_, err := Collect(context.Background(), Clients{Typed: typed, Metadata: md}, q)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(batches) != len(tc.namespaces) {
				t.Fatalf("%d batches, want %d: %v", len(batches), len(tc.namespaces), batches)
			}
			for i, rows := range batches {
				ns := tc.namespaces[i]
				want := []string{ns + " pod/p", ns + " deploy/idle-0", ns + " deploy/idle-1"}
				if diff := cmp.Diff(want, rows); diff != "" {
					t.Errorf("batch %d (-want +got):\n%s", i, diff)
				}
			}
			// A page taken, one waiting, one being read: a few pages ahead
			// of the pods, not all twenty Deployments.
			if limit := 4 * perNamespace; servedAtFirst > limit {
				t.Errorf("%d of %d Deployments were listed when the first namespace was handed on, want at most %d",
					servedAtFirst, len(deployments), limit)
			}
		})
	}
}
