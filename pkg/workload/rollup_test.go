package workload_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Two pods share a group exactly when everything that can change their
// audit is equal: the rollup key must separate every such difference and
// ignore everything Relevant drops.
func TestRollupKey(t *testing.T) {
	parse := func(s string) runtimes.Profile {
		p, err := runtimes.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	podSpec := func(mut func(*corev1.PodSpec)) *corev1.PodSpec {
		s := &corev1.PodSpec{
			NodeName: "node-1",
			Volumes:  []corev1.Volume{{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}}},
			Containers: []corev1.Container{{
				Name: "app", Image: "registry.example/app:1",
				SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
				VolumeMounts:    []corev1.VolumeMount{{Name: "kube-api-access-abcde", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}},
			}},
		}
		if mut != nil {
			mut(s)
		}
		return s
	}
	base := func() workload.Target {
		return workload.Target{
			Namespace: "shop", Workload: workload.Ref{Kind: "Deployment", Name: "web"},
			Spec: podSpec(nil), FieldPrefix: "spec", Profile: parse("containerd://2.1.4"),
		}
	}
	tests := []struct {
		name string
		mut  func(*workload.Target)
		same bool
	}{
		{"identical", func(*workload.Target) {}, true},
		{"another token volume and node", func(t *workload.Target) {
			t.Spec = podSpec(func(s *corev1.PodSpec) {
				s.NodeName = "node-7"
				s.Volumes[0].Name = "kube-api-access-xyzzy"
				s.Containers[0].VolumeMounts[0].Name = "kube-api-access-xyzzy"
			})
		}, true},
		{"another image", func(t *workload.Target) {
			t.Spec = podSpec(func(s *corev1.PodSpec) { s.Containers[0].Image = "registry.example/app:2" })
		}, true},
		{"UIDs reported by the runtime", func(t *workload.Target) { t.ObservedUIDs = map[string]int64{"app": 1000} }, false},
		{"another namespace", func(t *workload.Target) { t.Namespace = "payments" }, false},
		{"another workload", func(t *workload.Target) { t.Workload.Name = "api" }, false},
		{"another workload kind", func(t *workload.Target) { t.Workload.Kind = "StatefulSet" }, false},
		{"name and kind shifted", func(t *workload.Target) { t.Workload = workload.Ref{Kind: "Deploymentw", Name: "eb"} }, false},
		{"another runtime version", func(t *workload.Target) { t.Profile = parse("containerd://1.7.27") }, false},
		{"another runtime", func(t *workload.Target) { t.Profile = parse("cri-o://1.33.2") }, false},
		{"a note", func(t *workload.Target) { t.Notes = []string{"the pod is not scheduled to a node yet"} }, false},
		{"a capability added", func(t *workload.Target) {
			t.Spec = podSpec(func(s *corev1.PodSpec) {
				s.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
			})
		}, false},
		{"hostPID", func(t *workload.Target) { t.Spec = podSpec(func(s *corev1.PodSpec) { s.HostPID = true }) }, false},
		{"runAsUser 0 set explicitly", func(t *workload.Target) {
			t.Spec = podSpec(func(s *corev1.PodSpec) { s.Containers[0].SecurityContext.RunAsUser = ptr.To[int64](0) })
		}, false},
		{"another container name", func(t *workload.Target) { t.Spec = podSpec(func(s *corev1.PodSpec) { s.Containers[0].Name = "web" }) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &workload.Rollup{}
			a, b := base(), base()
			tt.mut(&b)
			a.Spec, b.Spec = workload.Relevant(a.Spec), workload.Relevant(b.Spec)
			if err := r.Add(a, "web-1"); err != nil {
				t.Fatal(err)
			}
			if err := r.Add(b, "web-2"); err != nil {
				t.Fatal(err)
			}
			if got := r.Len() == 1; got != tt.same {
				t.Errorf("same group = %v, want %v", got, tt.same)
			}
		})
	}

	t.Run("map order of reported UIDs", func(t *testing.T) {
		r := &workload.Rollup{}
		for i := range 20 {
			tg := base()
			tg.Spec = workload.Relevant(tg.Spec)
			// Go randomises map iteration; 20 maps built alike still
			// iterate differently, and the key must not care.
			tg.ObservedUIDs = map[string]int64{"app": 1000, "sidecar": 1337, "init": 0}
			if err := r.Add(tg, "web-"+string(rune('a'+i))); err != nil {
				t.Fatal(err)
			}
		}
		if r.Len() != 1 || r.Pods() != 20 {
			t.Errorf("%d groups over %d pods, want 1 over 20", r.Len(), r.Pods())
		}
	})

	t.Run("per-pod", func(t *testing.T) {
		r := &workload.Rollup{PerPod: true}
		for _, pod := range []string{"web-1", "web-2", "web-1"} {
			tg := base()
			tg.Spec = workload.Relevant(tg.Spec)
			if err := r.Add(tg, pod); err != nil {
				t.Fatal(err)
			}
		}
		if r.Len() != 2 {
			t.Errorf("--per-pod: %d groups for pods web-1, web-2, web-1; want 2", r.Len())
		}
	})
}
