package workload

import (
	corev1 "k8s.io/api/core/v1"
)

// Relevant returns a copy of spec that keeps only what the engine and the
// suggestions read: the pod and container security contexts, the host
// namespaces, hostUsers, the OS, hostPath volumes and their mounts,
// container names, restart policies and ports. Pods of one workload differ
// in node names, service-account token volumes and the like; their relevant
// specs are equal, so the live audit evaluates each distinct one once and
// counts pods. Auditing the relevant spec instead of the full one is what
// makes that safe: whatever this function drops cannot influence a result
// (a test checks that Evaluate gives the same answer on both).
func Relevant(spec *corev1.PodSpec) *corev1.PodSpec {
	if spec == nil {
		return &corev1.PodSpec{}
	}
	out := &corev1.PodSpec{
		SecurityContext:       spec.SecurityContext,
		HostPID:               spec.HostPID,
		HostNetwork:           spec.HostNetwork,
		HostIPC:               spec.HostIPC,
		ShareProcessNamespace: spec.ShareProcessNamespace,
		HostUsers:             spec.HostUsers,
		OS:                    spec.OS,
	}
	hostPath := map[string]bool{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPath[v.Name] = true
			out.Volumes = append(out.Volumes, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{HostPath: v.HostPath}})
		}
	}
	reduce := func(c *corev1.Container) corev1.Container {
		r := corev1.Container{
			Name:            c.Name,
			SecurityContext: c.SecurityContext,
			RestartPolicy:   c.RestartPolicy,
			Ports:           c.Ports,
		}
		for _, m := range c.VolumeMounts {
			if hostPath[m.Name] {
				r.VolumeMounts = append(r.VolumeMounts, m)
			}
		}
		return r
	}
	for i := range spec.InitContainers {
		out.InitContainers = append(out.InitContainers, reduce(&spec.InitContainers[i]))
	}
	for i := range spec.Containers {
		out.Containers = append(out.Containers, reduce(&spec.Containers[i]))
	}
	for i := range spec.EphemeralContainers {
		e := &spec.EphemeralContainers[i]
		r := reduce((*corev1.Container)(&e.EphemeralContainerCommon))
		out.EphemeralContainers = append(out.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon(r),
			TargetContainerName:      e.TargetContainerName,
		})
	}
	return out
}
