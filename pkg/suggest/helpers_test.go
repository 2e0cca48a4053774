package suggest

import (
	"slices"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// Default sets (docs/sources.md#containerd-defaults, #crio-defaults,
// #docker-defaults), written out rather than read from pkg/runtimes
// so that a wrong profile cannot make its own expectation.
var (
	containerd14 = []string{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
		"NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
	crio9  = []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETGID", "SETPCAP", "SETUID"}
	crio11 = plus(crio9, "NET_RAW", "SYS_CHROOT")
	// Of the containerd defaults, the catalog recommends dropping MKNOD,
	// NET_RAW and SETFCAP (catalog.yaml), so the catalog strategy keeps:
	containerdKept = minus(containerd14, "MKNOD", "NET_RAW", "SETFCAP")
)

func plus(base []string, more ...string) []string {
	out := append(slices.Clone(base), more...)
	sort.Strings(out)
	return slices.Compact(out)
}

func minus(base []string, less ...string) []string {
	var out []string
	for _, c := range base {
		if !slices.Contains(less, c) {
			out = append(out, c)
		}
	}
	return out
}

// allBut is every capability 0..40 (docs/sources.md#capability-numbers)
// except some, sorted.
func allBut(less ...string) []string { return minus(capability.All.Names(), less...) }

// podSpec reads a pod spec written as YAML.
func podSpec(t testing.TB, y string) *corev1.PodSpec {
	t.Helper()
	var spec corev1.PodSpec
	if err := yaml.UnmarshalStrict([]byte(y), &spec); err != nil {
		t.Fatalf("bad test pod spec: %v\n%s", err, y)
	}
	return &spec
}

func mustProfile(t testing.TB, s string) runtimes.Profile {
	t.Helper()
	if s == "unknown" {
		return runtimes.Profile{}
	}
	p, err := runtimes.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run evaluates the named container (the first when name is "") of spec on
// a runtime and suggests for it.
func run(t testing.TB, spec *corev1.PodSpec, rt, name string, o Options) (Suggestion, Input) {
	t.Helper()
	p := mustProfile(t, rt)
	for _, ref := range engine.Containers(spec) {
		if name != "" && ref.Container.Name != name {
			continue
		}
		res := engine.Evaluate(engine.Input{Pod: spec, Container: ref.Container, Type: ref.Type, Index: ref.Index,
			FieldPrefix: "spec", Profile: p})
		in := Input{Result: &res, Pod: spec, Container: ref.Container, Type: ref.Type, Profile: p}
		return Suggest(in, o), in
	}
	t.Fatalf("no container %q", name)
	return Suggestion{}, Input{}
}

func names(es []Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Capability)
	}
	return out
}

func codes(ns []Note) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.Code)
	}
	return out
}

func reasonOf(es []Entry, c string) string {
	for _, e := range es {
		if e.Capability == c {
			return e.Reason
		}
	}
	return ""
}

// restricted is Pod Security Admission's own restricted capability check
// (the newest version), run on a pod holding one container with the given
// lists (docs/sources.md#pod-security-standards), judged by the library
// rather than re-implemented.
func restricted(c *Capabilities) bool {
	check := policy.CheckCapabilitiesRestricted()
	fn := check.Versions[len(check.Versions)-1].CheckPod
	sc := &corev1.SecurityContext{Capabilities: &corev1.Capabilities{}}
	if c != nil {
		for _, a := range c.Add {
			sc.Capabilities.Add = append(sc.Capabilities.Add, corev1.Capability(a))
		}
		for _, d := range c.Drop {
			sc.Capabilities.Drop = append(sc.Capabilities.Drop, corev1.Capability(d))
		}
	}
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: sc}}}
	return fn(&metav1.ObjectMeta{}, spec).Allowed
}
