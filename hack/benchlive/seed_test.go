package main

import (
	"math"
	"testing"
)

// The plan must be the cluster the issue describes; a drift here silently
// changes what the benchmark measures.
func TestPlanShape(t *testing.T) {
	for _, n := range []int{1, 7, 1000, 10000} {
		p := newPlan(n, 7, mixRealistic)
		if len(p.pods) != n {
			t.Errorf("N=%d: %d pods planned", n, len(p.pods))
		}
		wantOwned := int(math.Round(0.7 * float64(n)))
		if got := p.owned(); got != wantOwned {
			t.Errorf("N=%d: %d pods owned by Deployments, want 70%% = %d", n, got, wantOwned)
		}
		if len(p.namespaces) != 50 || len(p.nodes) != 20 || len(nodeRuntimes) != 20 {
			t.Errorf("N=%d: %d namespaces, %d nodes, %d runtimes; want 50, 20, 20", n, len(p.namespaces), len(p.nodes), len(nodeRuntimes))
		}
		names := map[string]bool{}
		owned := 0
		for i, pp := range p.pods {
			key := pp.namespace + "/" + pp.name
			if names[key] {
				t.Fatalf("N=%d: pod %s planned twice; the second create would fail", n, key)
			}
			names[key] = true
			pod := p.pod(i)
			if pp.deployment >= 0 {
				owned++
				d := p.deployments[pp.deployment]
				if len(pod.OwnerReferences) != 1 || pod.OwnerReferences[0].Kind != "ReplicaSet" ||
					pod.OwnerReferences[0].Name != d.name+"-"+d.hash || pod.Labels["pod-template-hash"] != d.hash {
					t.Fatalf("N=%d: pod %s: owner %+v, hash label %q; want ReplicaSet %s-%s", n, key, pod.OwnerReferences, pod.Labels["pod-template-hash"], d.name, d.hash)
				}
			} else if len(pod.OwnerReferences) != 0 {
				t.Fatalf("N=%d: bare pod %s has owners %+v", n, key, pod.OwnerReferences)
			}
			if c := len(pod.Spec.Containers); c < 1 || c > 3 {
				t.Fatalf("N=%d: pod %s has %d containers, want 1-3", n, key, c)
			}
		}
		if owned != wantOwned {
			t.Errorf("N=%d: %d pods carry a ReplicaSet owner, want %d", n, owned, wantOwned)
		}
	}
}

// Every pod gets its own token volume name, as the ServiceAccount admission
// plugin gives it, and mounts it in every container: the part of a pod
// spec that differs between replicas and that the rollup key must ignore.
func TestPodTokenVolumeIsPerPod(t *testing.T) {
	p := newPlan(200, 7, mixRealistic)
	seen := map[string]string{}
	for i := range p.pods {
		pod := p.pod(i)
		last := pod.Spec.Volumes[len(pod.Spec.Volumes)-1]
		if last.Projected == nil {
			t.Fatalf("pod %s: last volume %q is not the projected token", pod.Name, last.Name)
		}
		// 5 characters of a 27-letter alphabet: a repeat among 200 pods
		// means the suffix is not drawn per pod.
		if other, dup := seen[last.Name]; dup {
			t.Errorf("token volume %q of pod %s repeats pod %s's", last.Name, pod.Name, other)
		}
		seen[last.Name] = pod.Name
		for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
			found := false
			for _, m := range c.VolumeMounts {
				found = found || m.Name == last.Name
			}
			if !found {
				t.Errorf("pod %s container %s does not mount %s", pod.Name, c.Name, last.Name)
			}
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{1, 2, 9}, 2},
		{[]float64{1, 2, 4, 9}, 3},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing should be NaN")
	}
}

// The bare mix is the issue's: 10,000 small pods with about 18,740
// containers, 90% without a controller, no securityContext but in a few.
func TestPlanBareMix(t *testing.T) {
	p := newPlan(10000, 7, mixBare)
	if got, want := p.owned(), 1000; got != want {
		t.Errorf("%d pods owned, want %d", got, want)
	}
	containers, withSC := 0, 0
	for i := range p.pods {
		pod := p.pod(i)
		if n := len(pod.Spec.Containers); n < 1 || n > 2 || len(pod.Spec.InitContainers) > 0 {
			t.Fatalf("pod %s: %d containers, %d init containers", pod.Name, n, len(pod.Spec.InitContainers))
		}
		containers += len(pod.Spec.Containers)
		if pod.Spec.Containers[0].SecurityContext != nil {
			withSC++
		}
		if pod.Spec.Containers[0].Env != nil || pod.Spec.Containers[0].LivenessProbe != nil {
			t.Fatalf("pod %s is not small: env or probes", pod.Name)
		}
	}
	if containers < 18500 || containers > 19000 {
		t.Errorf("%d containers, want about 18,740", containers)
	}
	if withSC < 300 || withSC > 700 {
		t.Errorf("%d pods with a securityContext, want about 5%%", withSC)
	}
}
