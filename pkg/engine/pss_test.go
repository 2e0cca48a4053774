package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
)

// k8s.io/pod-security-admission: baseline allows adding only AUDIT_WRITE, CHOWN, DAC_OVERRIDE,
// FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP,
// SETUID, SYS_CHROOT (exact strings); restricted needs the exact string
// "ALL" in drop and allows adding only NET_BIND_SERVICE; Windows pods are
// exempt from restricted's capability rule; privileged: true is a separate
// check.
func TestPSSCapabilities(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"no securityContext", in(ctrd, nil), "baseline"},
		{"empty capabilities", in(ctrd, s(addCaps(), dropCaps())), "baseline"},
		{"drop ALL", in(ctrd, s(dropCaps("ALL"))), "restricted"},
		{"drop all (lower case)", in(ctrd, s(dropCaps("all"))), "baseline"},
		{"drop All", in(ctrd, s(dropCaps("All"))), "baseline"},
		{"drop CAP_ALL", in(ctrd, s(dropCaps("CAP_ALL"))), "baseline"},
		{"drop ALL among others", in(ctrd, s(dropCaps("NET_RAW", "ALL"))), "restricted"},
		{"drop ALL add NET_BIND_SERVICE", in(ctrd, s(dropCaps("ALL"), addCaps("NET_BIND_SERVICE"))), "restricted"},
		{"drop ALL add net_bind_service", in(ctrd, s(dropCaps("ALL"), addCaps("net_bind_service"))), "privileged"},
		{"add NET_BIND_SERVICE only", in(ctrd, s(addCaps("NET_BIND_SERVICE"))), "baseline"},
		{"drop ALL add CHOWN", in(ctrd, s(dropCaps("ALL"), addCaps("CHOWN"))), "baseline"},
		{"add CHOWN", in(ctrd, s(addCaps("CHOWN"))), "baseline"},
		{"add CAP_CHOWN", in(ctrd, s(addCaps("CAP_CHOWN"))), "privileged"},
		{"add chown", in(ctrd, s(addCaps("chown"))), "privileged"},
		{"add every baseline name", in(ctrd, s(addCaps("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
			"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"))), "baseline"},
		{"add NET_RAW", in(ctrd, s(addCaps("NET_RAW"))), "privileged"},
		{"drop ALL add NET_RAW", in(ctrd, s(dropCaps("ALL"), addCaps("NET_RAW"))), "privileged"},
		{"add SYS_ADMIN", in(ctrd, s(addCaps("SYS_ADMIN"))), "privileged"},
		{"add ALL", in(ctrd, s(addCaps("ALL"))), "privileged"},
		{"drop is unconstrained at baseline", in(ctrd, s(dropCaps("FOO", "cap_net_raw"))), "baseline"},
		{"privileged is not a capability rule", in(ctrd, s(privileged(true))), "baseline"},
		{"privileged with drop ALL", in(ctrd, s(privileged(true), dropCaps("ALL"))), "restricted"},
		{"windows, nothing set", in(ctrd, nil, windows), "restricted"},
		// PSA quirk: at restricted level the Windows exemption replaces the
		// baseline capability check, so PSA admits this at restricted (the
		// API server rejects capabilities on Windows pods anyway).
		{"windows adding SYS_ADMIN", in(ctrd, s(addCaps("SYS_ADMIN")), windows), "restricted"},
		{"linux OS set explicitly", in(ctrd, nil, func(p *corev1.PodSpec) { p.OS = &corev1.PodOS{Name: corev1.Linux} }), "baseline"},
		{"hostUsers false is not relaxed", in(ctrd, s(addCaps("NET_RAW")), hostUsers(false)), "privileged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(tt.in).PSSCapabilities; got != tt.want {
				t.Errorf("PSSCapabilities = %q, want %q", got, tt.want)
			}
		})
	}
	// The level depends on the container's own lists, whatever the runtime.
	for _, p := range allProfiles {
		if got := Evaluate(in(p, s(dropCaps("ALL"), addCaps("NET_BIND_SERVICE")))).PSSCapabilities; got != "restricted" {
			t.Errorf("%s: %q", p.Name(), got)
		}
	}
}

// Only the container under evaluation counts, not its neighbours.
func TestPSSOneContainer(t *testing.T) {
	spec := &corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "bad", SecurityContext: &corev1.SecurityContext{
			Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}}},
		Containers: []corev1.Container{{Name: "good", SecurityContext: &corev1.SecurityContext{
			Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
	}
	for _, ref := range Containers(spec) {
		r := Evaluate(Input{Pod: spec, Container: ref.Container, Type: ref.Type, Index: ref.Index, Profile: ctrd})
		want := map[string]string{"bad": "privileged", "good": "restricted"}[ref.Container.Name]
		if r.PSSCapabilities != want {
			t.Errorf("%s: %q, want %q", ref.Container.Name, r.PSSCapabilities, want)
		}
	}
	// A container that is not the spec's own element (a copy) is judged the same.
	c := spec.Containers[0]
	if r := Evaluate(Input{Pod: spec, Container: &c, Type: TypeContainer, Profile: ctrd}); r.PSSCapabilities != "restricted" {
		t.Errorf("copy: %q", r.PSSCapabilities)
	}
}

// Pod Security Admission's own fixtures (k8s.io/pod-security-admission test fixtures, in
// psa-fixtures/ of the shared folder beside the repository; see its README): every container of a
// restricted/pass pod meets restricted; of a baseline/pass pod, at least
// baseline; each */fail/capabilities_baseline* pod has a container that
// meets only privileged; each restricted/fail/capabilities_restricted* pod
// has one that falls short of restricted.
func TestPSAFixtures(t *testing.T) {
	root := sharedtest.Path(t, "psa-fixtures")
	files, err := filepath.Glob(filepath.Join(root, "v*", "*", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("only %d fixtures under %s", len(files), root)
	}
	checked := map[string]int{}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		parts := strings.Split(filepath.ToSlash(rel), "/") // v1.37/<level>/<pass|fail>/<file>
		level, outcome, base := parts[1], parts[2], parts[3]
		var rule func(levels []string) bool
		switch {
		case outcome == "pass" && level == "restricted":
			rule = func(ls []string) bool { return every(ls, "restricted") }
		case outcome == "pass" && level == "baseline":
			rule = func(ls []string) bool { return !some(ls, "privileged") }
		case outcome == "fail" && strings.HasPrefix(base, "capabilities_baseline"):
			rule = func(ls []string) bool { return some(ls, "privileged") }
		case outcome == "fail" && level == "restricted" && strings.HasPrefix(base, "capabilities_restricted"):
			rule = func(ls []string) bool { return !every(ls, "restricted") }
		default:
			continue
		}
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var pod corev1.Pod
			if err := yaml.UnmarshalStrict(data, &pod); err != nil {
				t.Fatal(err)
			}
			var levels []string
			for _, ref := range Containers(&pod.Spec) {
				r := Evaluate(Input{Pod: &pod.Spec, PodMeta: &pod.ObjectMeta, Container: ref.Container, Type: ref.Type, Index: ref.Index,
					FieldPrefix: "spec", Profile: ctrd})
				levels = append(levels, ref.Container.Name+"="+r.PSSCapabilities)
			}
			if len(levels) == 0 || !rule(levels) {
				t.Errorf("%s/%s: container levels %v do not fit the fixture", level, outcome, levels)
			}
		})
		checked[level+"/"+outcome]++
	}
	for _, k := range []string{"restricted/pass", "baseline/pass", "baseline/fail", "restricted/fail"} {
		if checked[k] == 0 {
			t.Errorf("no %s fixtures checked", k)
		}
	}
}

func every(levels []string, want string) bool {
	for _, l := range levels {
		if !strings.HasSuffix(l, "="+want) {
			return false
		}
	}
	return true
}

func some(levels []string, want string) bool {
	for _, l := range levels {
		if strings.HasSuffix(l, "="+want) {
			return true
		}
	}
	return false
}

// The shortcut for containers that add nothing must give PSA's own verdict.
func TestPSSFastPathAgreesWithPSA(t *testing.T) {
	win := &corev1.PodOS{Name: corev1.Windows}
	linux := &corev1.PodOS{Name: corev1.Linux}
	scs := map[string]*corev1.SecurityContext{
		"nil securityContext": nil,
		"no capabilities":     {},
		"empty capabilities":  {Capabilities: &corev1.Capabilities{}},
		"drop some":           {Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"NET_RAW", "all"}}},
		"drop ALL":            {Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
		"add NET_BIND":        {Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}}},
		"add SYS_ADMIN":       {Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}},
	}
	for name, sc := range scs {
		for _, podOS := range []*corev1.PodOS{nil, linux, win} {
			one := []corev1.Container{{Name: "c", SecurityContext: sc}}
			spec := corev1.PodSpec{OS: podOS, Containers: one}
			want := string(api.LevelPrivileged)
			if checkCapsRestricted(nil, &spec).Allowed {
				want = string(api.LevelRestricted)
			} else if checkCapsBaseline(nil, &spec).Allowed {
				want = string(api.LevelBaseline)
			}
			if got := pssCapabilities(nil, podOS, one); got != want {
				t.Errorf("%s, os %v: %s, PSA says %s", name, podOS, got, want)
			}
			if level, ok := pssWithoutAdds(podOS, one); ok && level != want {
				t.Errorf("%s, os %v: shortcut says %s, PSA says %s", name, podOS, level, want)
			}
		}
	}
}
