package audit

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
)

// pssCapabilities must be what Pod Security Admission itself decides. This
// runs PSA's evaluator (the registry the admission plugin uses, with only the
// capability checks registered) on a pod holding just the one container, for
// every container of the examples and the corpus, and compares.
func TestPSSCapabilitiesMatchPSAEvaluator(t *testing.T) {
	eval, err := policy.NewEvaluator([]policy.Check{policy.CheckCapabilitiesBaseline(), policy.CheckCapabilitiesRestricted()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	allowed := func(level api.Level, spec *corev1.PodSpec) bool {
		for _, r := range eval.EvaluatePod(api.LevelVersion{Level: level, Version: api.LatestVersion()}, nil, spec) {
			if !r.Allowed {
				return false
			}
		}
		return true
	}
	inputs := sharedtest.Manifests(t, "../../examples")
	p, _ := runtimes.Parse("containerd")
	n := 0
	_, err = manifest.Read(manifest.Options{Filenames: inputs, Recursive: true}, func(w manifest.Workload) error {
		tg := w.Target("ns", p)
		Each(&tg, func(c *Container) {
			it := c.Item()
			only := *w.Spec
			only.InitContainers, only.Containers, only.EphemeralContainers = nil, nil, nil
			ref := c.Ref
			switch ref.Type {
			case engine.TypeInitContainer:
				only.InitContainers = []corev1.Container{*ref.Container}
			case engine.TypeContainer:
				only.Containers = []corev1.Container{*ref.Container}
			default:
				only.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(*ref.Container)}}
			}
			want := "privileged"
			switch {
			case allowed(api.LevelRestricted, &only):
				want = "restricted"
			case allowed(api.LevelBaseline, &only):
				want = "baseline"
			}
			if it.PSSCapabilities != want {
				t.Errorf("%s %s/%s %s: pssCapabilities %s, PSA says %s", w.Source, w.Kind, w.Name, it.Container, it.PSSCapabilities, want)
			}
			n++
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Errorf("only %d containers compared", n)
	}
}
