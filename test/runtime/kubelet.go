//go:build runtime

package runtimetest

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// effectiveSecurityContext merges the pod's securityContext into the
// container's as the kubelet does before it builds the CRI request
// (kubernetes v1.37.2 pkg/securitycontext/util.go
// DetermineEffectiveSecurityContext): the container's own field wins, the
// pod supplies runAsUser, runAsGroup and runAsNonRoot (and SELinux,
// Windows and seccomp options, which do not change capabilities) when the
// container leaves them unset. capabilities, privileged and
// allowPrivilegeEscalation exist only at container level.
func effectiveSecurityContext(pod *corev1.PodSpec, c *corev1.Container) *corev1.SecurityContext {
	var sc corev1.SecurityContext
	if c.SecurityContext != nil {
		sc = *c.SecurityContext.DeepCopy()
	}
	if psc := pod.SecurityContext; psc != nil {
		if sc.RunAsUser == nil {
			sc.RunAsUser = psc.RunAsUser
		}
		if sc.RunAsGroup == nil {
			sc.RunAsGroup = psc.RunAsGroup
		}
		if sc.RunAsNonRoot == nil {
			sc.RunAsNonRoot = psc.RunAsNonRoot
		}
	}
	return &sc
}

// verifyRunAsNonRoot is the kubelet's own check, made before the runtime
// is called (kubernetes v1.37.2
// pkg/kubelet/kuberuntime/security_context_others.go verifyRunAsNonRoot,
// called from kuberuntime_container.go generateContainerConfig). A
// container it refuses never reaches the CRI; its status is
// CreateContainerConfigError with this message. imageUID is the image's
// numeric USER, which the kubelet reads from the runtime's ImageStatus.
func verifyRunAsNonRoot(sc *corev1.SecurityContext, container string, imageUID int64) error {
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		return nil
	}
	if sc.RunAsUser != nil {
		if *sc.RunAsUser == 0 {
			return fmt.Errorf("container's runAsUser breaks non-root policy (container: %s)", container)
		}
		return nil
	}
	if imageUID == 0 {
		return fmt.Errorf("container has runAsNonRoot and image will run as root (container: %s)", container)
	}
	return nil
}

// criSecurityContext is the LinuxContainerSecurityContext the kubelet sends
// (kubernetes v1.37.2 pkg/kubelet/kuberuntime/security_context.go
// determineEffectiveSecurityContext and convertToRuntimeSecurityContext):
// the capability strings exactly as written, privileged, run_as_user (the
// image's UID when the spec sets none), run_as_group, and no_new_privs from
// pkg/securitycontext AddNoNewPrivileges, which is true only for an explicit
// allowPrivilegeEscalation: false. The namespaces are those of a
// hostNetwork pod whose containers have their own PID namespace, the
// kubelet's default.
func criSecurityContext(sc *corev1.SecurityContext, imageUID int64) *runtimeapi.LinuxContainerSecurityContext {
	out := &runtimeapi.LinuxContainerSecurityContext{
		NamespaceOptions: &runtimeapi.NamespaceOption{
			Network: runtimeapi.NamespaceMode_NODE,
			Pid:     runtimeapi.NamespaceMode_CONTAINER,
			Ipc:     runtimeapi.NamespaceMode_POD,
		},
	}
	if caps := sc.Capabilities; caps != nil {
		out.Capabilities = &runtimeapi.Capability{
			AddCapabilities:  make([]string, len(caps.Add)),
			DropCapabilities: make([]string, len(caps.Drop)),
		}
		for i, v := range caps.Add {
			out.Capabilities.AddCapabilities[i] = string(v)
		}
		for i, v := range caps.Drop {
			out.Capabilities.DropCapabilities[i] = string(v)
		}
	}
	if sc.Privileged != nil {
		out.Privileged = *sc.Privileged
	}
	if sc.RunAsUser != nil {
		out.RunAsUser = &runtimeapi.Int64Value{Value: *sc.RunAsUser}
	} else {
		out.RunAsUser = &runtimeapi.Int64Value{Value: imageUID}
	}
	if sc.RunAsGroup != nil {
		out.RunAsGroup = &runtimeapi.Int64Value{Value: *sc.RunAsGroup}
	}
	out.NoNewPrivs = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
	return out
}
