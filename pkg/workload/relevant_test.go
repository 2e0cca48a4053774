package workload_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// The live audit evaluates workload.Relevant(spec) instead of the pod's full spec.
// That is only safe if the engine gives the same answer on both; check it on
// every container of the examples and the shared corpus, on every runtime.
func TestRelevantSpecGivesTheSameResult(t *testing.T) {
	inputs := sharedtest.Manifests(t, "../../examples")
	checked := 0
	_, err := manifest.Read(manifest.Options{Filenames: inputs, Recursive: true}, func(w manifest.Workload) error {
		reduced := workload.Relevant(w.Spec)
		full := engine.Containers(w.Spec)
		small := engine.Containers(reduced)
		if len(full) != len(small) {
			t.Fatalf("%s %s/%s: %d containers, %d after reduction", w.Source, w.Kind, w.Name, len(full), len(small))
		}
		for _, p := range runtimes.Known() {
			for i := range full {
				in := engine.Input{Pod: w.Spec, PodMeta: &w.PodMeta, Container: full[i].Container, Type: full[i].Type,
					Index: full[i].Index, FieldPrefix: w.FieldPrefix, Profile: p}
				want := engine.Evaluate(in)
				in.Pod, in.PodMeta, in.Container = reduced, nil, small[i].Container
				got := engine.Evaluate(in)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s %s/%s %s on %s: reduced spec changes the result (-full +reduced):\n%s",
						w.Source, w.Kind, w.Name, full[i].Container.Name, p.Name(), diff)
				}
				checked++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Errorf("only %d container evaluations compared", checked)
	}
}

func TestRollupGroupsIdenticalPods(t *testing.T) {
	containerd, _ := runtimes.Parse("containerd")
	crio, _ := runtimes.Parse("cri-o")
	spec := func(mut func(*corev1.PodSpec)) *corev1.PodSpec {
		s := &corev1.PodSpec{
			NodeName: "node-1",
			Volumes:  []corev1.Volume{{Name: "kube-api-access-x1", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}}},
			Containers: []corev1.Container{{Name: "app", Image: "nginx",
				VolumeMounts: []corev1.VolumeMount{{Name: "kube-api-access-x1", MountPath: "/var/run/secrets"}}}},
		}
		if mut != nil {
			mut(s)
		}
		return s
	}
	web := workload.Ref{Kind: "Deployment", Name: "web"}
	add := func(r *workload.Rollup, pod string, s *corev1.PodSpec, p runtimes.Profile, uids map[string]int64) {
		t.Helper()
		if err := r.Add(workload.Target{Namespace: "ns", Workload: web, Spec: workload.Relevant(s), FieldPrefix: "spec", Profile: p, ObservedUIDs: uids}, pod); err != nil {
			t.Fatal(err)
		}
	}
	r := &workload.Rollup{}
	add(r, "web-1", spec(nil), containerd, nil)
	// Another node and another token volume: the same group.
	add(r, "web-2", spec(func(s *corev1.PodSpec) {
		s.NodeName = "node-2"
		s.Volumes[0].Name = "kube-api-access-y2"
		s.Containers[0].VolumeMounts[0].Name = "kube-api-access-y2"
	}), containerd, nil)
	// An ephemeral debug container: its own group.
	add(r, "web-3", spec(func(s *corev1.PodSpec) {
		s.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger"}}}
	}), containerd, nil)
	// Another runtime: its own group.
	add(r, "web-4", spec(nil), crio, nil)
	// A reported UID: its own group.
	add(r, "web-5", spec(nil), containerd, map[string]int64{"app": 1000})
	add(r, "web-6", spec(nil), containerd, map[string]int64{"app": 1000})

	if r.Len() != 4 || r.Pods() != 6 {
		t.Fatalf("%d groups over %d pods, want 4 over 6", r.Len(), r.Pods())
	}
	var got []string
	r.Each(func(tg *workload.Target) {
		for _, ref := range engine.Containers(tg.Spec) {
			user := "unknown"
			if _, ok := tg.ObservedUIDs[ref.Container.Name]; ok {
				user = "nonroot"
			}
			got = append(got, fmt.Sprintf("%s %s %s pods=%d user=%s", tg.Pod, ref.Container.Name, tg.Profile.Name(), tg.Pods, user))
		}
	})
	want := []string{
		"web-1 app containerd pods=2 user=unknown",
		"web-3 app containerd pods=1 user=unknown",
		"web-3 debugger containerd pods=1 user=unknown",
		"web-4 app cri-o pods=1 user=unknown",
		"web-5 app containerd pods=2 user=nonroot",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rollup (-want +got):\n%s", diff)
	}

	per := &workload.Rollup{PerPod: true}
	add(per, "web-1", spec(nil), containerd, nil)
	add(per, "web-2", spec(nil), containerd, nil)
	if per.Len() != 2 {
		t.Errorf("--per-pod keeps every pod: %d groups", per.Len())
	}
}

// kubectl caps policy --format scc binds its SCC to the service accounts
// of the workloads: a live run reads them from the reduced spec.
func TestRelevantKeepsTheServiceAccount(t *testing.T) {
	got := workload.Relevant(&corev1.PodSpec{ServiceAccountName: "proxy", NodeName: "node-1"})
	if got.ServiceAccountName != "proxy" || got.NodeName != "" {
		t.Errorf("service account %q, node %q; want proxy and nothing", got.ServiceAccountName, got.NodeName)
	}
}
