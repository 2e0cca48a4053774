package workload

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestPodIndexResolve(t *testing.T) {
	var x PodIndex
	x.AddPod("shop", "web-7d9f8c6b5-abcde", Ref{Kind: "Deployment", Name: "web"})
	for _, ref := range []Ref{
		{Kind: "Deployment", Name: "web"}, {Kind: "StatefulSet", Name: "db"}, {Kind: "DaemonSet", Name: "agent"},
		{Kind: "CronJob", Name: "report"}, {Kind: "Pod", Name: "debug"}, {Kind: "Job", Name: "once"},
	} {
		x.AddWorkload("shop", ref)
	}
	for _, tc := range []struct {
		ns, pod string
		want    Ref
		ok      bool
	}{
		{"shop", "web-7d9f8c6b5-abcde", Ref{Kind: "Deployment", Name: "web"}, true},
		{"shop", "web-6c8b9d7f4-zzzzz", Ref{Kind: "Deployment", Name: "web"}, true}, // gone: by name
		{"shop", "db-0", Ref{Kind: "StatefulSet", Name: "db"}, true},
		{"shop", "db-12", Ref{Kind: "StatefulSet", Name: "db"}, true},
		{"shop", "agent-x7k2p", Ref{Kind: "DaemonSet", Name: "agent"}, true},
		{"shop", "report-28617120-7xk2p", Ref{Kind: "CronJob", Name: "report"}, true},
		{"shop", "once-4bq9z", Ref{Kind: "Job", Name: "once"}, true},
		{"shop", "debug", Ref{Kind: "Pod", Name: "debug"}, true},
		{"other", "db-0", Ref{}, false},         // another namespace
		{"shop", "agent-x7k2", Ref{}, false},    // four characters: no generated name
		{"shop", "db-0a", Ref{}, false},         // not an ordinal
		{"shop", "unknown-abcde", Ref{}, false}, // no such workload
		{"shop", "web-ABCDE", Ref{}, false},     // upper case: not generated
	} {
		got, ok := x.Resolve(tc.ns, tc.pod)
		if ok != tc.ok || got != tc.want {
			t.Errorf("Resolve(%q, %q) = %v, %v; want %v, %v", tc.ns, tc.pod, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPodNameOwners(t *testing.T) {
	got := PodNameOwners("web-7d9f8c6b5-abcde")
	want := []Ref{{Kind: "Pod", Name: "web-7d9f8c6b5-abcde"}, {Kind: "Deployment", Name: "web"},
		{Kind: "DaemonSet", Name: "web-7d9f8c6b5"}, {Kind: "ReplicaSet", Name: "web-7d9f8c6b5"},
		{Kind: "ReplicationController", Name: "web-7d9f8c6b5"}, {Kind: "Job", Name: "web-7d9f8c6b5"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
}

func TestRollupIndexesPods(t *testing.T) {
	r := Rollup{Index: &PodIndex{}}
	web := Target{Namespace: "shop", Workload: Ref{Kind: "Deployment", Name: "web"}, Spec: &corev1.PodSpec{}}
	for _, pod := range []string{"web-1", "web-2"} {
		if err := r.Add(web, pod); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.AddTemplate(Target{Namespace: "shop", Workload: Ref{Kind: "StatefulSet", Name: "db"}, Spec: &corev1.PodSpec{}, FromTemplate: true}); err != nil {
		t.Fatal(err)
	}
	for pod, want := range map[string]Ref{"web-2": web.Workload, "db-0": {Kind: "StatefulSet", Name: "db"}} {
		if got, ok := r.Index.Resolve("shop", pod); !ok || got != want {
			t.Errorf("Resolve(%q) = %v, %v; want %v", pod, got, ok, want)
		}
	}
}
