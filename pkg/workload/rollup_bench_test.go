package workload_test

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// benchPod is one pod of the benchmark cluster with what Collect derives
// from it before Add.
type benchPod struct {
	name     string
	workload workload.Ref
	spec     *corev1.PodSpec
	profile  runtimes.Profile
}

// benchCluster builds n pods shaped like hack/bench-live.sh's cluster: the
// examples' pod specs, 70% as replicas of Deployments of ~6 pods and 30%
// bare, spread over nodes with four runtimes, each pod with its own
// service-account token volume mounted into every container.
func benchCluster(b *testing.B, n int) []benchPod {
	b.Helper()
	var specs []*corev1.PodSpec
	_, err := manifest.Read(manifest.Options{Filenames: []string{"../../examples"}, Recursive: true}, func(w manifest.Workload) error {
		specs = append(specs, w.Spec)
		return nil
	})
	if err != nil || len(specs) == 0 {
		b.Fatalf("reading the examples: %v (%d specs)", err, len(specs))
	}
	var rts []runtimes.Profile
	for _, s := range []string{"containerd://2.1.4", "containerd://1.7.27", "cri-o://1.33.2", "cri-o://1.20.3"} {
		p, err := runtimes.Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		rts = append(rts, p)
	}
	pods := make([]benchPod, n)
	for i := range pods {
		deploy := i%10 < 7
		w := workload.Ref{Kind: "Pod", Name: fmt.Sprintf("bare-%d", i)}
		spec := specs[i%len(specs)]
		if deploy {
			d := i / 6
			w = workload.Ref{Kind: "Deployment", Name: fmt.Sprintf("web-%d", d)}
			spec = specs[d%len(specs)]
		}
		s := spec.DeepCopy()
		token := fmt.Sprintf("kube-api-access-%05d", i)
		s.NodeName = fmt.Sprintf("node-%02d", i%20)
		s.Volumes = append(s.Volumes, corev1.Volume{Name: token, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}})
		for _, list := range [][]corev1.Container{s.InitContainers, s.Containers} {
			for j := range list {
				list[j].VolumeMounts = append(list[j].VolumeMounts, corev1.VolumeMount{Name: token, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true})
			}
		}
		pods[i] = benchPod{name: fmt.Sprintf("pod-%d", i), workload: w, spec: s, profile: rts[(i/3)%len(rts)]}
	}
	return pods
}

// BenchmarkRollup is the live audit's own work per pod once the pod is
// decoded: Relevant, Add (the key and the grouping) and Each (one engine
// evaluation and one report item per container of each group).
func BenchmarkRollup(b *testing.B) {
	const n = 10000
	pods := benchCluster(b, n)
	b.ReportAllocs()
	groups, items := 0, 0
	for b.Loop() {
		roll := &workload.Rollup{}
		for i := range pods {
			p := &pods[i]
			if err := roll.Add(workload.Target{Namespace: "shop", Workload: p.workload, Spec: workload.Relevant(p.spec), FieldPrefix: "spec", Profile: p.profile}, p.name); err != nil {
				b.Fatal(err)
			}
		}
		groups, items = roll.Len(), 0
		roll.Each(func(t *workload.Target) { audit.Each(t, func(*audit.Container) { items++ }) })
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "pods/s")
	b.ReportMetric(float64(groups), "groups")
	b.ReportMetric(float64(items), "items")
}
