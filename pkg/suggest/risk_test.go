package suggest

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/profile"
)

// suggest-drop must rate risk exactly as audit does: a hostPath volume
// raises DAC_OVERRIDE only for the container that mounts it (the catalog's
// hostPath amplifier).
func TestAmplifiedRiskFollowsTheAuditRule(t *testing.T) {
	p, _ := profile.Parse("containerd")
	root := int64(0)
	pod := &corev1.PodSpec{
		Volumes: []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
		Containers: []corev1.Container{
			{Name: "mounts", VolumeMounts: []corev1.VolumeMount{{Name: "h", MountPath: "/host"}}, SecurityContext: &corev1.SecurityContext{RunAsUser: &root}},
			{Name: "sibling", SecurityContext: &corev1.SecurityContext{RunAsUser: &root}},
		},
	}
	for i, want := range []catalog.Risk{catalog.RiskHigh, catalog.RiskMedium} {
		c := &pod.Containers[i]
		r := engine.Evaluate(engine.Input{Pod: pod, Container: c, Type: engine.TypeContainer, Index: i, FieldPrefix: "spec", Profile: p})
		got, _ := amplifiedRisk(catalog.Default(), capability.DAC_OVERRIDE, r.Bounding, r.Context)
		if got != want {
			t.Errorf("%s: DAC_OVERRIDE risk %s, want %s", c.Name, got, want)
		}
	}
}
