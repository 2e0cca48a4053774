package workload

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
)

// Relevant returns a copy of spec that keeps only what the engine, the
// suggestions and Pod Security Admission's checks (kubectl caps policy
// --format psa) read: the pod and container security contexts, the host
// namespaces, hostUsers, the OS, the service account (which
// OpenShift's SCCs are granted to: kubectl caps policy --format scc), hostPath volumes and their mounts, the
// types of the other volumes, container names, restart policies, ports, and
// the hosts of probes and lifecycle handlers. Pods of one workload differ
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
		ServiceAccountName:    spec.ServiceAccountName,
	}
	hostPath := map[string]bool{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPath[v.Name] = true
			out.Volumes = append(out.Volumes, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{HostPath: v.HostPath}})
		}
	}
	out.Volumes = append(out.Volumes, volumeTypes(spec.Volumes)...)
	reduce := func(c *corev1.Container) corev1.Container {
		r := corev1.Container{
			Name:            c.Name,
			SecurityContext: c.SecurityContext,
			RestartPolicy:   c.RestartPolicy,
			Ports:           c.Ports,
			LivenessProbe:   probeHosts(c.LivenessProbe),
			ReadinessProbe:  probeHosts(c.ReadinessProbe),
			StartupProbe:    probeHosts(c.StartupProbe),
			Lifecycle:       lifecycleHosts(c.Lifecycle),
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

// volumeTypes are the volumes other than hostPath reduced to their name
// and type, which is all Pod Security Admission's restricted volume check
// reads. Projected volumes, which restricted allows, are one "(projected)":
// the kubelet's token volume is named differently in every pod of a
// workload (kube-api-access-x1b2c), and those pods must stay one rollup
// group.
func volumeTypes(vs []corev1.Volume) []corev1.Volume {
	var out []corev1.Volume
	projected := false
	for i := range vs {
		if vs[i].HostPath != nil {
			continue
		}
		if vs[i].Projected != nil {
			if !projected {
				out = append(out, corev1.Volume{Name: "(projected)", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}})
			}
			projected = true
			continue
		}
		src := reflect.ValueOf(vs[i].VolumeSource)
		var marker corev1.VolumeSource
		for f := 0; f < src.NumField(); f++ {
			if field := src.Field(f); field.Kind() == reflect.Pointer && !field.IsNil() {
				reflect.ValueOf(&marker).Elem().Field(f).Set(reflect.New(field.Type().Elem()))
			}
		}
		out = append(out, corev1.Volume{Name: vs[i].Name, VolumeSource: marker})
	}
	return out
}

// probeHosts keeps of a probe only a host it sets (httpGet.host,
// tcpSocket.host), which Pod Security Admission's baseline forbids.
func probeHosts(p *corev1.Probe) *corev1.Probe {
	if p == nil {
		return nil
	}
	h := handlerHosts(p.HTTPGet, p.TCPSocket)
	if h == nil {
		return nil
	}
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: h.HTTPGet, TCPSocket: h.TCPSocket}}
}

// lifecycleHosts keeps of lifecycle handlers only the hosts they set.
func lifecycleHosts(l *corev1.Lifecycle) *corev1.Lifecycle {
	if l == nil {
		return nil
	}
	var out corev1.Lifecycle
	if l.PostStart != nil {
		out.PostStart = handlerHosts(l.PostStart.HTTPGet, l.PostStart.TCPSocket)
	}
	if l.PreStop != nil {
		out.PreStop = handlerHosts(l.PreStop.HTTPGet, l.PreStop.TCPSocket)
	}
	if out.PostStart == nil && out.PreStop == nil {
		return nil
	}
	return &out
}

func handlerHosts(get *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction) *corev1.LifecycleHandler {
	var h corev1.LifecycleHandler
	if get != nil && get.Host != "" {
		h.HTTPGet = &corev1.HTTPGetAction{Host: get.Host}
	}
	if tcp != nil && tcp.Host != "" {
		h.TCPSocket = &corev1.TCPSocketAction{Host: tcp.Host}
	}
	if h.HTTPGet == nil && h.TCPSocket == nil {
		return nil
	}
	return &h
}
