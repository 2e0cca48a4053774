package engine

import (
	"strings"

	"github.com/kubectl-caps/kubectl-caps/internal/captest"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// Default sets from the runtimes' source, written out independently of pkg/runtimes.
var (
	d14 = capability.SetOf(capability.CHOWN, capability.DAC_OVERRIDE, capability.FSETID, capability.FOWNER, capability.MKNOD, capability.NET_RAW, capability.SETGID, capability.SETUID, capability.SETFCAP, capability.SETPCAP, capability.NET_BIND_SERVICE, capability.SYS_CHROOT, capability.KILL, capability.AUDIT_WRITE)
	o9  = capability.SetOf(capability.CHOWN, capability.DAC_OVERRIDE, capability.FSETID, capability.FOWNER, capability.SETGID, capability.SETUID, capability.SETPCAP, capability.NET_BIND_SERVICE, capability.KILL)
	o11 = o9.Union(capability.SetOf(capability.NET_RAW, capability.SYS_CHROOT))
	// Every capability whose kernel checks are all against the initial user
	// namespace (pkg/catalog's TestInertInUserNamespace names each check).
	initNS = capability.SetOf(capability.SYS_MODULE, capability.SYS_TIME, capability.MKNOD, capability.BPF, capability.PERFMON, capability.AUDIT_WRITE, capability.AUDIT_CONTROL, capability.AUDIT_READ, capability.LINUX_IMMUTABLE, capability.SYS_RAWIO, capability.SYS_PACCT, capability.SYS_TTY_CONFIG, capability.LEASE, capability.MAC_OVERRIDE, capability.SYSLOG, capability.WAKE_ALARM, capability.BLOCK_SUSPEND)
)

var (
	ctrd    = runtimes.Profile{Kind: runtimes.Containerd}
	crio    = runtimes.Profile{Kind: runtimes.CRIO}
	crio117 = runtimes.Profile{Kind: runtimes.CRIO, Version: "1.17"}
	dock    = runtimes.Profile{Kind: runtimes.Docker}
	// The four profiles every rule is checked on.
	allProfiles = []runtimes.Profile{ctrd, crio, crio117, dock}
)

func set(names ...string) capability.Set { return captest.Set(names...) }

type scMod func(*corev1.SecurityContext)
type podMod func(*corev1.PodSpec)

func addCaps(names ...string) scMod {
	return func(sc *corev1.SecurityContext) {
		if sc.Capabilities == nil {
			sc.Capabilities = &corev1.Capabilities{}
		}
		for _, n := range names {
			sc.Capabilities.Add = append(sc.Capabilities.Add, corev1.Capability(n))
		}
	}
}

func dropCaps(names ...string) scMod {
	return func(sc *corev1.SecurityContext) {
		if sc.Capabilities == nil {
			sc.Capabilities = &corev1.Capabilities{}
		}
		for _, n := range names {
			sc.Capabilities.Drop = append(sc.Capabilities.Drop, corev1.Capability(n))
		}
	}
}

func uid(n int64) scMod    { return func(sc *corev1.SecurityContext) { sc.RunAsUser = ptr.To(n) } }
func nonRoot(b bool) scMod { return func(sc *corev1.SecurityContext) { sc.RunAsNonRoot = ptr.To(b) } }
func ape(b bool) scMod {
	return func(sc *corev1.SecurityContext) { sc.AllowPrivilegeEscalation = ptr.To(b) }
}
func privileged(b bool) scMod { return func(sc *corev1.SecurityContext) { sc.Privileged = ptr.To(b) } }
func seccompC(t string) scMod {
	return func(sc *corev1.SecurityContext) {
		sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileType(t)}
	}
}

func podSC(f func(*corev1.PodSecurityContext)) podMod {
	return func(p *corev1.PodSpec) {
		if p.SecurityContext == nil {
			p.SecurityContext = &corev1.PodSecurityContext{}
		}
		f(p.SecurityContext)
	}
}

func podUID(n int64) podMod {
	return podSC(func(s *corev1.PodSecurityContext) { s.RunAsUser = ptr.To(n) })
}
func podNonRoot(b bool) podMod {
	return podSC(func(s *corev1.PodSecurityContext) { s.RunAsNonRoot = ptr.To(b) })
}
func podSeccomp(t string) podMod {
	return podSC(func(s *corev1.PodSecurityContext) {
		s.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileType(t)}
	})
}
func windows(p *corev1.PodSpec)     { p.OS = &corev1.PodOS{Name: corev1.Windows} }
func hostUsers(b bool) podMod       { return func(p *corev1.PodSpec) { p.HostUsers = ptr.To(b) } }
func hostPID(p *corev1.PodSpec)     { p.HostPID = true }
func hostNetwork(p *corev1.PodSpec) { p.HostNetwork = true }
func hostIPC(p *corev1.PodSpec)     { p.HostIPC = true }
func shareProcessNamespace(p *corev1.PodSpec) {
	p.ShareProcessNamespace = ptr.To(true)
}
func hostPathVolume(name string, mount bool) podMod {
	return func(p *corev1.PodSpec) {
		p.Volumes = append(p.Volumes, corev1.Volume{Name: name,
			VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/run"}}})
		p.Volumes = append(p.Volumes, corev1.Volume{Name: "scratch",
			VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		p.Containers[0].VolumeMounts = append(p.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "scratch", MountPath: "/tmp"})
		if mount {
			p.Containers[0].VolumeMounts = append(p.Containers[0].VolumeMounts, corev1.VolumeMount{Name: name, MountPath: "/host"})
		}
	}
}

// in builds an Input for the single container "app" of a pod. sc == nil
// means no securityContext at all; an empty, non-nil slice means an empty
// one.
func in(p runtimes.Profile, sc []scMod, pm ...podMod) Input {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example/app"}}}
	if sc != nil {
		spec.Containers[0].SecurityContext = &corev1.SecurityContext{}
		for _, m := range sc {
			m(spec.Containers[0].SecurityContext)
		}
	}
	for _, m := range pm {
		m(spec)
	}
	return Input{Pod: spec, Container: &spec.Containers[0], Type: TypeContainer, FieldPrefix: "spec", Profile: p}
}

func s(mods ...scMod) []scMod { return append([]scMod{}, mods...) }

func codes(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

func hasNote(notes []string, substr string) bool {
	for _, n := range notes {
		if strings.Contains(n, substr) {
			return true
		}
	}
	return false
}
