package engine

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// FuzzEvaluate feeds arbitrary add/drop strings and settings through every
// runtime and checks the invariants that hold whatever the input.
func FuzzEvaluate(f *testing.F) {
	f.Add("NET_BIND_SERVICE", "ALL", int64(1000), uint8(0b0001))
	f.Add("CAP_SYS_ADMIN", "cap_net_raw", int64(0), uint8(0b0110))
	f.Add("all", "ALL", int64(-1), uint8(0b1000))
	f.Add("", "\x00", int64(5), uint8(0b1111))
	f.Add("CAP_ALL", "NET_RAWW", int64(0), uint8(0b0100))
	f.Fuzz(func(t *testing.T, a, d string, u int64, flags uint8) {
		for _, p := range append(allProfiles, runtimes.Profile{}, runtimes.Profile{Kind: runtimes.CRIO, Version: "1.20.1"},
			runtimes.Profile{Kind: runtimes.Docker, Version: "20.10.24"}) {
			sc := &corev1.SecurityContext{Capabilities: &corev1.Capabilities{
				Add: []corev1.Capability{corev1.Capability(a), "NET_ADMIN"}, Drop: []corev1.Capability{corev1.Capability(d), corev1.Capability(a)}}}
			if u >= 0 {
				sc.RunAsUser = ptr.To(u)
			}
			sc.Privileged = ptr.To(flags&1 != 0)
			if flags&2 != 0 {
				sc.AllowPrivilegeEscalation = ptr.To(false)
			}
			spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: a, SecurityContext: sc}}}
			if flags&4 != 0 {
				spec.HostUsers = ptr.To(false)
			}
			if flags&8 != 0 {
				spec.OS = &corev1.PodOS{Name: corev1.Windows}
			}
			r := Evaluate(Input{Pod: spec, Container: &spec.Containers[0], Type: TypeInitContainer, Index: 3, FieldPrefix: "spec", Profile: p})
			switch {
			case r.Effective&^r.Bounding != 0, r.Inert&^r.Bounding != 0, r.Bounding&^p.All() != 0,
				r.Inheritable&^r.Bounding != 0, r.Ambient&^r.Bounding != 0, r.Reachable.ViaFileCaps&^r.Bounding != 0:
				t.Fatalf("%s: sets out of order: %+v", p.Name(), r)
			case r.CreateFails && (r.Bounding != 0 || r.Effective != 0):
				t.Fatalf("%s: a container that is not created holds %v", p.Name(), r.Bounding)
			case r.Context.Windows && r.Bounding != 0:
				t.Fatalf("%s: windows container holds %v", p.Name(), r.Bounding)
			case r.Privileged && !r.Context.Windows && !r.CreateFails && r.Bounding != p.All():
				t.Fatalf("%s: privileged container holds %v", p.Name(), r.Bounding)
			case r.PSSCapabilities != "restricted" && r.PSSCapabilities != "baseline" && r.PSSCapabilities != "privileged":
				t.Fatalf("%s: level %q", p.Name(), r.PSSCapabilities)
			case len(r.Added) != 2 || len(r.Dropped) != 2 || string(r.Added[0]) != a || r.Dropped[0] != d:
				t.Fatalf("%s: lists %q %q", p.Name(), r.Added, r.Dropped)
			}
			for _, w := range r.Warnings {
				if w.Code == "" || w.Message == "" || len(w.Field) < len("spec.initContainers[3]") || w.Field[:len("spec.initContainers[3]")] != "spec.initContainers[3]" {
					t.Fatalf("%s: bad warning %+v", p.Name(), w)
				}
			}
		}
	})
}
