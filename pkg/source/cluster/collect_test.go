package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	metafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// fakeCluster is one namespace with a Deployment's pod (through its
// ReplicaSet) and a bare pod, both on a CRI-O node, plus hooks that make a
// list fail.
type fakeCluster struct {
	failNodes, failReplicaSets, failJobs, failPods error
	noPods                                         bool
}

func (f fakeCluster) clients(t *testing.T) Clients {
	t.Helper()
	var objs []runtime.Object
	objs = append(objs, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1"},
		Status:     corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{ContainerRuntimeVersion: "cri-o://1.33.2"}},
	})
	if !f.noPods {
		app := corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}
		objs = append(objs,
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{
				Name: "web-5d4f8-abcde", Namespace: "shop", UID: "pod-1", Labels: map[string]string{"pod-template-hash": "5d4f8"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d4f8", UID: "rs-1", Controller: ptr.To(true)}},
			}, Spec: app},
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "debug", Namespace: "shop", UID: "pod-2"}, Spec: app},
		)
	}
	typed := fake.NewClientset(objs...)
	fail := func(resource string, err error) {
		typed.PrependReactor("list", resource, func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, err })
	}
	if f.failNodes != nil {
		fail("nodes", f.failNodes)
	}
	if f.failPods != nil {
		fail("pods", f.failPods)
	}

	md := metafake.NewSimpleMetadataClient(metafake.NewTestScheme())
	md.PrependReactor("list", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		list := &metav1.List{}
		if a.GetResource().Resource == "jobs" && f.failJobs != nil {
			return true, nil, f.failJobs
		}
		if a.GetResource().Resource == "replicasets" {
			if f.failReplicaSets != nil {
				return true, nil, f.failReplicaSets
			}
			list.Items = append(list.Items, runtime.RawExtension{Object: &metav1.PartialObjectMetadata{
				TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
				ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f8", Namespace: "shop", UID: types.UID("rs-1"),
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d-1", Controller: ptr.To(true)}}},
			}})
		}
		return true, list, nil
	})
	return Clients{Typed: typed, Metadata: md}
}

// Collect reads nodes and owners while the pods are on their way; whatever
// the timing, the result must be what reading them first gives: the same
// attribution, the same warnings, and their errors before the pods'.
func TestCollect(t *testing.T) {
	containerd, err := runtimes.Parse("containerd")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := func(resource string) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", errors.New("RBAC: no"))
	}
	broken := apierrors.NewInternalError(errors.New("etcd is down"))
	tests := []struct {
		name         string
		cluster      fakeCluster
		want         []string
		wantWarnings []string
		wantErr      string
		scopeErr     bool
		// runtime is --runtime when given (RuntimeExplicit), else containerd
		// as the fallback.
		runtime string
	}{{
		name:    "owners and node runtimes resolved",
		cluster: fakeCluster{},
		// The Deployment through its ReplicaSet's owner, CRI-O from the
		// node's containerRuntimeVersion.
		want: []string{"shop Deployment/web pods=1 cri-o", "shop Pod/debug pods=1 cri-o"},
	}, {
		name:         "nodes forbidden: --runtime for every pod, with a warning",
		cluster:      fakeCluster{failNodes: forbidden("nodes")},
		want:         []string{"shop Deployment/web pods=1 containerd", "shop Pod/debug pods=1 containerd"},
		wantWarnings: []string{"you may not list nodes"},
	}, {
		name:         "replicasets forbidden: the Deployment by the pod-template-hash name, with a warning",
		cluster:      fakeCluster{failReplicaSets: forbidden("replicasets")},
		want:         []string{"shop Deployment/web pods=1 cri-o", "shop Pod/debug pods=1 cri-o"},
		wantWarnings: []string{"you may not list replicasets in all namespaces"},
	}, {
		// Job pods fall back to the Job: the warning says so, not how
		// ReplicaSets are named.
		name:         "jobs forbidden: a warning about Jobs and CronJobs",
		cluster:      fakeCluster{failJobs: forbidden("jobs")},
		want:         []string{"shop Deployment/web pods=1 cri-o", "shop Pod/debug pods=1 cri-o"},
		wantWarnings: []string{"you may not list jobs in all namespaces, so the pods of a Job that a CronJob created are shown under the Job, not the CronJob"},
	}, {
		name:    "a broken node list wins over a failed pod list",
		cluster: fakeCluster{failNodes: broken, failPods: forbidden("pods")},
		wantErr: "listing nodes to learn their container runtimes",
	}, {
		name:    "a broken node list fails the audit even with pods listed",
		cluster: fakeCluster{failNodes: broken},
		wantErr: "listing nodes to learn their container runtimes",
	}, {
		name:    "a broken owner list fails the audit without any pod",
		cluster: fakeCluster{failReplicaSets: broken, noPods: true},
		wantErr: "listing replicasets",
	}, {
		name:     "pods forbidden: the scope's error",
		cluster:  fakeCluster{failPods: forbidden("pods")},
		wantErr:  "listing pods in all namespaces",
		scopeErr: true,
	}, {
		name:    "no pods, lookups fine",
		cluster: fakeCluster{noPods: true},
	}, {
		// A "what if": --runtime overrides every pod, and says once that it
		// contradicts what the node reports.
		name:         "--runtime overrides the node's runtime, with one warning",
		cluster:      fakeCluster{},
		runtime:      "containerd",
		want:         []string{"shop Deployment/web pods=1 containerd", "shop Pod/debug pods=1 containerd"},
		wantWarnings: []string{"--runtime containerd overrides the runtime of 2 pods whose nodes report cri-o://1.33.2: they are judged as containerd"},
	}, {
		name:    "--runtime that agrees with the node: no warning",
		cluster: fakeCluster{},
		runtime: "cri-o",
		want:    []string{"shop Deployment/web pods=1 cri-o", "shop Pod/debug pods=1 cri-o"},
	}, {
		name:         "--runtime of another CRI-O release contradicts the node",
		cluster:      fakeCluster{},
		runtime:      "cri-o://1.17.3",
		want:         []string{"shop Deployment/web pods=1 cri-o<1.18", "shop Pod/debug pods=1 cri-o<1.18"},
		wantWarnings: []string{"--runtime cri-o://1.17.3 overrides the runtime of 2 pods whose nodes report cri-o://1.33.2: they are judged as cri-o<1.18"},
	}, {
		// The nodes are read only for the warning: not being allowed to
		// is no reason to warn or fail.
		name:    "--runtime with nodes forbidden: no warning",
		cluster: fakeCluster{failNodes: forbidden("nodes")},
		runtime: "containerd",
		want:    []string{"shop Deployment/web pods=1 containerd", "shop Pod/debug pods=1 containerd"},
	}, {
		name:    "--runtime with a broken node list: no error",
		cluster: fakeCluster{failNodes: broken},
		runtime: "containerd",
		want:    []string{"shop Deployment/web pods=1 containerd", "shop Pod/debug pods=1 containerd"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := Query{Scopes: []Scope{{What: "all namespaces"}}, Runtime: containerd}
			if tt.runtime != "" {
				p, err := runtimes.Parse(tt.runtime)
				if err != nil {
					t.Fatal(err)
				}
				q.Runtime, q.RuntimeExplicit = p, true
			}
			col, err := Collect(context.Background(), tt.cluster.clients(t), q)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				var se *ScopeError
				if errors.As(err, &se) != tt.scopeErr {
					t.Errorf("error %v: is a ScopeError = %v, want %v", err, !tt.scopeErr, tt.scopeErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			col.Rollup.Each(func(tg *workload.Target) {
				for range engine.Containers(tg.Spec) {
					got = append(got, fmt.Sprintf("%s %s/%s pods=%d %s", tg.Namespace, tg.Workload.Kind, tg.Workload.Name, tg.Pods, tg.Profile.Name()))
				}
			})
			sort.Strings(got)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rolled-up items (-want +got):\n%s", diff)
			}
			if len(col.Warnings) != len(tt.wantWarnings) {
				t.Fatalf("warnings %q, want %d", col.Warnings, len(tt.wantWarnings))
			}
			for i, w := range tt.wantWarnings {
				if !strings.Contains(col.Warnings[i], w) {
					t.Errorf("warning %d is %q, want it to contain %q", i, col.Warnings[i], w)
				}
			}
		})
	}
}

// An expired continue token (410 Gone) in the middle of the pod list must
// restart the listing from the start, counting every pod once, and say so;
// a server that keeps expiring gives up with the error rather than return
// part of the cluster as if it were all of it.
func TestCollectRestartsOnExpiredContinue(t *testing.T) {
	pod := func(name string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", UID: types.UID(name)},
			Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app"}}}}
	}
	expired := apierrors.NewResourceExpired("the provided continue parameter is too old")
	for _, tc := range []struct {
		name        string
		failures    int // how many continue requests expire
		wantErr     bool
		wantPods    int
		wantRestart int
	}{
		{"one expiry", 1, false, 3, 1},
		{"two expiries", 2, false, 3, 2},
		{"always expired", 100, true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeCluster{noPods: true}.clients(t)
			typed := c.Typed.(*fake.Clientset)
			failures := tc.failures
			typed.PrependReactor("list", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
				opts := a.(clienttesting.ListActionImpl).GetListOptions()
				switch opts.Continue {
				case "":
					// First page: two pods and a continue token.
					return true, &corev1.PodList{ListMeta: metav1.ListMeta{Continue: "page-2"}, Items: []corev1.Pod{pod("a"), pod("b")}}, nil
				default:
					if failures > 0 {
						failures--
						return true, nil, expired
					}
					return true, &corev1.PodList{Items: []corev1.Pod{pod("c")}}, nil
				}
			})
			p, _ := runtimes.Parse("containerd")
			col, err := Collect(context.Background(), c, Query{
				Scopes: []Scope{{Namespace: "shop", What: `namespace "shop"`}}, ChunkSize: 2, Runtime: p,
			})
			if tc.wantErr {
				if err == nil || !IsExpired(err) {
					t.Fatalf("err = %v, want the expiry", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := col.Rollup.Pods(); got != tc.wantPods {
				t.Errorf("%d pods, want %d (each once)", got, tc.wantPods)
			}
			restarts := 0
			for _, w := range col.Warnings {
				if strings.Contains(w, "410 Gone") && strings.Contains(w, "starting again") {
					restarts++
				}
			}
			if restarts != tc.wantRestart {
				t.Errorf("%d restart warnings, want %d: %v", restarts, tc.wantRestart, col.Warnings)
			}
		})
	}
}
