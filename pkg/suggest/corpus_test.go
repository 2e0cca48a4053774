package suggest

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
)

// On real manifests the default strategy keeps every capability a
// container adds by name (issue 16: istio-init and linkerd-init lost
// NET_ADMIN and NET_RAW, flannel its networking, csi-nfs SYS_ADMIN), on
// every runtime, privileged containers included, and flags the risky ones
// for review. add: [ALL] names nothing and is left out. The adds are read
// from the spec as written (capability.Parse), not through the runtime
// profiles the suggestion itself uses.
func TestCorpusKeepsExplicitAdds(t *testing.T) {
	corpus := sharedtest.Path(t, "corpus")
	containers, flagged := 0, 0
	forEachContainer(t, corpus, func(what string, spec *corev1.PodSpec, ref engine.Ref) {
		sc := ref.Container.SecurityContext
		if sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Add) == 0 {
			return
		}
		var adds []string
		for _, a := range sc.Capabilities.Add {
			if strings.EqualFold(string(a), "ALL") {
				return
			}
			c, err := capability.Parse(string(a))
			if err != nil {
				t.Fatalf("%s: add %q: %v", what, a, err)
			}
			adds = append(adds, c.String())
		}
		containers++
		for _, rt := range []string{"containerd", "cri-o", "docker"} {
			s, _ := run(t, spec, rt, ref.Container.Name, Options{})
			for _, a := range adds {
				if !slices.Contains(names(s.Keep), a) || slices.Contains(names(s.Drop), a) {
					t.Errorf("%s on %s: adds %s, which the default strategy does not keep: drop %v, keep %v", what, rt, a, names(s.Drop), names(s.Keep))
				}
			}
			if rt == "containerd" && slices.Contains(codes(s.Notes), NoteReviewExplicitAdd) {
				flagged++
			}
		}
	})
	// 29 containers in the corpus add capabilities by name (counted with a
	// plain YAML decoder over shared/corpus); 17 of them add one that the
	// catalog or the risk rule flags: the 17 that lost an add before.
	if containers != 29 {
		t.Errorf("%d containers with an add by name, want 29", containers)
	}
	if flagged != 17 {
		t.Errorf("%d containers flagged for review on containerd, want 17", flagged)
	}
	t.Logf("%d containers, %d flagged", containers, flagged)
}
