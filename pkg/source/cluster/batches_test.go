package cluster

import (
	"context"
	"fmt"
	"strings"
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
