package report

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func ptr[T any](v T) *T { return &v }

func item(t *testing.T, pod corev1.PodSpec, rt string) Item {
	t.Helper()
	p, err := runtimes.Parse(rt)
	if err != nil {
		t.Fatal(err)
	}
	c := &pod.Containers[0]
	r := engine.Evaluate(engine.Input{Pod: &pod, Container: c, Type: engine.TypeContainer, FieldPrefix: "spec", Profile: p})
	return NewItem(Subject{Namespace: "ns", Workload: workload.Ref{Kind: "Pod", Name: "p"}, Container: c.Name, Type: engine.TypeContainer}, &r)
}

func capFinding(it Item, name string) *Finding {
	for i := range it.Findings {
		if it.Findings[i].Capability == name {
			return &it.Findings[i]
		}
	}
	return nil
}

func TestExposureAndMaxRisk(t *testing.T) {
	root := ptr(int64(0))
	user := ptr(int64(1000))
	tests := []struct {
		name     string
		pod      corev1.PodSpec
		maxRisk  string
		check    string // a capability to inspect
		exposure string
		counted  bool
		risk     string
	}{
		{"root holds the defaults: NET_RAW effective, high",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root}}}},
			"high", "NET_RAW", ExposureEffective, true, "high"},
		{"non-root without no_new_privs: setuid regains NET_RAW",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: user}}}},
			"high", "NET_RAW", ExposureSetuid, true, "high"},
		{"non-root with no_new_privs: defaults only through file caps, not counted",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: user, AllowPrivilegeEscalation: ptr(false)}}}},
			"none", "NET_RAW", ExposureFileCaps, false, "high"},
		{"non-root with no_new_privs adding NET_ADMIN: counted, it was added for a binary",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: user, AllowPrivilegeEscalation: ptr(false),
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}}}}}},
			"high", "NET_ADMIN", ExposureFileCaps, true, "high"},
		{"hostNetwork raises NET_RAW to critical",
			corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root}}}},
			"critical", "NET_RAW", ExposureEffective, true, "critical"},
		{"hostPID raises KILL only to medium: root reaches root daemons without it",
			corev1.PodSpec{HostPID: true, Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"KILL"}}}}}},
			"medium", "KILL", ExposureEffective, true, "medium"},
		{"hostPID raises SYS_BOOT to critical",
			corev1.PodSpec{HostPID: true, Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"SYS_BOOT"}}}}}},
			"critical", "SYS_BOOT", ExposureEffective, true, "critical"},
		{"BPF with PERFMON is critical",
			corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"BPF", "PERFMON"}}}}}},
			"critical", "BPF", ExposureEffective, true, "critical"},
		{"user namespace: SYS_TIME inert, not counted",
			corev1.PodSpec{HostUsers: ptr(false), Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"SYS_TIME", "CHOWN"}}}}}},
			"low", "SYS_TIME", ExposureEffective, false, "high"},
		{"hostPath volume not mounted by this container: DAC_OVERRIDE stays medium",
			corev1.PodSpec{Volumes: []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
				Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: root,
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"DAC_OVERRIDE"}}}}}},
			"medium", "DAC_OVERRIDE", ExposureEffective, true, "medium"},
		{"hostPath mounted: DAC_OVERRIDE high",
			corev1.PodSpec{Volumes: []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
				Containers: []corev1.Container{{Name: "c", VolumeMounts: []corev1.VolumeMount{{Name: "h", MountPath: "/host"}},
					SecurityContext: &corev1.SecurityContext{RunAsUser: root,
						Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"DAC_OVERRIDE"}}}}}},
			"high", "DAC_OVERRIDE", ExposureEffective, true, "high"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := item(t, tt.pod, "containerd")
			if it.MaxRisk != tt.maxRisk {
				t.Errorf("maxRisk = %s, want %s", it.MaxRisk, tt.maxRisk)
			}
			f := capFinding(it, tt.check)
			if f == nil {
				t.Fatalf("no finding for %s in %v", tt.check, it.Bounding)
			}
			if f.Exposure != tt.exposure || f.Counted != tt.counted || f.Risk != tt.risk {
				t.Errorf("%s: exposure %s counted %v risk %s; want %s %v %s", tt.check, f.Exposure, f.Counted, f.Risk, tt.exposure, tt.counted, tt.risk)
			}
		})
	}
}

func TestItemListsAreCanonical(t *testing.T) {
	it := item(t, corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{
		Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"sys_ptrace"}, Drop: []corev1.Capability{"ALL"}}}}}}, "cri-o")
	if len(it.Effective) != 1 || it.Effective[0] != "SYS_PTRACE" {
		t.Errorf("effective = %v", it.Effective)
	}
	if it.Added[0] != "sys_ptrace" {
		t.Errorf("added must be as written, got %v", it.Added)
	}
	if !capFinding(it, "SYS_PTRACE").Explicit {
		t.Error("SYS_PTRACE was added explicitly")
	}
	if it.Runtime != "cri-o" {
		t.Errorf("runtime = %s", it.Runtime)
	}
	if _, ok := capability.Lookup(it.Findings[0].Capability); !ok {
		t.Error("finding names must be canonical")
	}
}

// Docker before 24.0.6 gives a non-root process no permitted set, so with
// no_new_privs not even the entrypoint's file capabilities take effect: an
// added NET_ADMIN is then exposed nowhere and not counted; from 24.0.6 on
// it is reachable through file capabilities and counted.
func TestExposureDockerNoPermitted(t *testing.T) {
	pod := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{
		RunAsUser: ptr(int64(1000)), AllowPrivilegeEscalation: ptr(false),
		Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}}}}}}
	tests := []struct {
		rt, exposure, maxRisk string
		counted               bool
		fileCaps              []string
	}{
		{"docker://20.10.24", ExposureNone, "none", false, nil},
		{"docker://24.0.5", ExposureNone, "none", false, nil},
		{"docker://24.0.6", ExposureFileCaps, "high", true, []string{"NET_ADMIN"}},
		{"docker", ExposureFileCaps, "high", true, []string{"NET_ADMIN"}},
	}
	for _, tt := range tests {
		t.Run(tt.rt, func(t *testing.T) {
			it := item(t, pod, tt.rt)
			f := capFinding(it, "NET_ADMIN")
			if f == nil || f.Exposure != tt.exposure || f.Counted != tt.counted || it.MaxRisk != tt.maxRisk {
				t.Fatalf("finding %+v maxRisk %s; want exposure %s counted %v maxRisk %s", f, it.MaxRisk, tt.exposure, tt.counted, tt.maxRisk)
			}
			if it.Reachable == nil || len(it.Reachable.ViaFileCaps) != len(tt.fileCaps) {
				t.Errorf("reachable %+v, want viaFileCaps %v", it.Reachable, tt.fileCaps)
			}
		})
	}
	// Docker before 20.10.14 also fills the inheritable set.
	root := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(0)),
		Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}, Drop: []corev1.Capability{"ALL"}}}}}}
	if it := item(t, root, "docker://20.10.13"); len(it.Inheritable) != 1 || it.Inheritable[0] != "NET_ADMIN" {
		t.Errorf("docker 20.10.13 inheritable = %v, want [NET_ADMIN]", it.Inheritable)
	}
	if it := item(t, root, "docker://20.10.14"); it.Inheritable != nil {
		t.Errorf("docker 20.10.14 inheritable = %v, want none", it.Inheritable)
	}
}

// A container the kubelet refuses (runAsNonRoot with runAsUser 0) is
// reported as not starting, holding nothing, with the warning; not as a
// running root container.
func TestCannotStart(t *testing.T) {
	refused := corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)},
		Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(0))}}}}
	it := item(t, refused, "containerd")
	if it.CannotStart != CannotStartKubelet || len(it.Bounding) != 0 || len(it.Effective) != 0 || len(it.Findings) != 0 || it.MaxRisk != "none" {
		t.Errorf("refused container: cannotStart %q bounding %v effective %v maxRisk %s", it.CannotStart, it.Bounding, it.Effective, it.MaxRisk)
	}
	if len(it.Warnings) == 0 || it.Warnings[0].Code != "kubelet-refuses-root" {
		t.Errorf("warnings %+v", it.Warnings)
	}
	unknown := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr(int64(0)),
		Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"FOO"}}}}}}
	if it := item(t, unknown, "docker"); it.CannotStart != CannotStartRuntime {
		t.Errorf("unknown name on docker: cannotStart %q", it.CannotStart)
	}
	if it := item(t, unknown, "containerd"); it.CannotStart != "" {
		t.Errorf("unknown name on containerd: cannotStart %q", it.CannotStart)
	}
}
