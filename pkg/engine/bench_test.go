package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// benchInput is the common case the brief names: a containerd container
// with drop: [ALL] and add: [NET_BIND_SERVICE], RuntimeDefault seccomp.
func benchInput(uid int64) Input {
	pod := &corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:  "app",
			Image: "registry.example/app:1.0",
			SecurityContext: &corev1.SecurityContext{
				RunAsUser:                ptr.To(uid),
				AllowPrivilegeEscalation: ptr.To(false),
				Capabilities: &corev1.Capabilities{
					Add:  []corev1.Capability{"NET_BIND_SERVICE"},
					Drop: []corev1.Capability{"ALL"},
				},
			},
		}},
	}
	return Input{Pod: pod, Container: &pod.Containers[0], Type: TypeContainer, FieldPrefix: "spec.template.spec",
		Profile: runtimes.Profile{Kind: runtimes.Containerd}}
}

func benchmarkEvaluate(b *testing.B, in Input) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Evaluate(in)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "containers/s")
}

func BenchmarkEvaluate(b *testing.B) {
	b.Run("root", func(b *testing.B) { benchmarkEvaluate(b, benchInput(0)) })
	b.Run("nonroot", func(b *testing.B) { benchmarkEvaluate(b, benchInput(1000)) })
	b.Run("no-securityContext", func(b *testing.B) {
		in := benchInput(0)
		in.Container = &corev1.Container{Name: "plain"}
		benchmarkEvaluate(b, in)
	})
}

// BenchmarkPSS isolates the Pod Security Admission calls.
func BenchmarkPSS(b *testing.B) {
	in := benchInput(1000)
	b.Run("restricted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = pssCapabilities(nil, nil, in.Pod.Containers[:1])
		}
	})
	b.Run("no-securityContext", func(b *testing.B) {
		c := []corev1.Container{{Name: "plain"}}
		b.ReportAllocs()
		for b.Loop() {
			_ = pssCapabilities(nil, nil, c)
		}
	})
}
