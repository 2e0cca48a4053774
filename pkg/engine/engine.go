// Package engine computes the Linux capabilities a Kubernetes container's
// processes really hold: it feeds the container's add/drop lists through the
// node's runtime profile, then applies what the kernel does at exec for the
// container's user (capabilities(7)), and judges the lists as Pod Security
// Admission does (k8s.io/pod-security-admission policy). It is pure: values
// in, values out, no I/O, no global mutable state. docs/engine.md explains every rule with its source.
package engine

import (
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// ContainerType says which list of the pod spec a container is in.
type ContainerType string

const (
	TypeContainer          ContainerType = "container"
	TypeInitContainer      ContainerType = "initContainer"
	TypeEphemeralContainer ContainerType = "ephemeralContainer"
)

// Field is the pod spec field that holds containers of this type, e.g.
// "initContainers".
func (t ContainerType) Field() string {
	switch t {
	case TypeInitContainer:
		return "initContainers"
	case TypeEphemeralContainer:
		return "ephemeralContainers"
	}
	return "containers"
}

// ContainerPath is the field path of a container in its object, e.g.
// "spec.template.spec.initContainers[1]" for prefix "spec.template.spec";
// the one place such paths are written, for warnings, notes and patches.
func ContainerPath(prefix string, typ ContainerType, index int) string {
	p := typ.Field() + "[" + strconv.Itoa(index) + "]"
	if prefix == "" {
		return p
	}
	return prefix + "." + p
}

// Ref points at one container of a pod spec.
type Ref struct {
	Container *corev1.Container
	Type      ContainerType
	Index     int
	// Sidecar: an init container with restartPolicy: Always. It takes its
	// capabilities from the same securityContext field as any container.
	Sidecar bool
}

// IsSidecar reports whether an init container is a native sidecar
// (restartPolicy: Always, KEP-753): it starts before the main containers and
// runs beside them, rather than running to completion first.
func IsSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// Containers lists every container of spec: init containers, containers,
// then ephemeral containers (the order Pod Security Admission visits them).
// Ephemeral containers are returned as *corev1.Container pointing into the
// spec; EphemeralContainerCommon has exactly Container's fields.
func Containers(spec *corev1.PodSpec) []Ref {
	if spec == nil {
		return nil
	}
	refs := make([]Ref, 0, len(spec.InitContainers)+len(spec.Containers)+len(spec.EphemeralContainers))
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		refs = append(refs, Ref{Container: c, Type: TypeInitContainer, Index: i, Sidecar: IsSidecar(c)})
	}
	for i := range spec.Containers {
		refs = append(refs, Ref{Container: &spec.Containers[i], Type: TypeContainer, Index: i})
	}
	for i := range spec.EphemeralContainers {
		refs = append(refs, Ref{Container: (*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon),
			Type: TypeEphemeralContainer, Index: i})
	}
	return refs
}

// Input is one container in its pod, on one runtime.
type Input struct {
	// Pod is the pod (or pod template) spec; nil is read as an empty spec.
	Pod *corev1.PodSpec
	// PodMeta may be nil; it is handed to the Pod Security Admission checks.
	PodMeta *metav1.ObjectMeta
	// Container is the container; for an ephemeral container, see
	// Containers.
	Container *corev1.Container
	Type      ContainerType
	Index     int
	// FieldPrefix is the path of the pod spec inside the object, e.g.
	// "spec", "spec.template.spec", "spec.jobTemplate.spec.template.spec".
	FieldPrefix string
	Profile     runtimes.Profile
	// ObservedUID is status.*ContainerStatuses[].user.linux.uid, when the
	// runtime reports it (SupplementalGroupsPolicy, KEP-3619).
	ObservedUID *int64
}

// User kinds.
const (
	UserRoot    = "root"
	UserNonRoot = "nonroot"
	UserUnknown = "unknown"
)

// Where UserInfo came from. They are stable codes rather than full field
// paths so that the common path builds no strings.
const (
	SourceContainerRunAsUser    = "container.securityContext.runAsUser"
	SourcePodRunAsUser          = "pod.securityContext.runAsUser"
	SourceContainerRunAsNonRoot = "container.securityContext.runAsNonRoot"
	SourcePodRunAsNonRoot       = "pod.securityContext.runAsNonRoot"
	SourceObserved              = "status.user.linux.uid"
)

// UserInfo is the identity the container's first process runs as.
type UserInfo struct {
	Kind string // UserRoot, UserNonRoot or UserUnknown
	// UID when known (runAsUser or observed); nil for runAsNonRoot without a
	// UID and for unknown.
	UID    *int64
	Source string
}

// ReachableInfo is what a non-root container's processes can still gain
// after exec (capabilities(7), "Transformation of capabilities during
// execve()"). Zero for root containers, whose processes already
// hold the whole bounding set.
type ReachableInfo struct {
	// ViaSetuid: through a setuid-root binary, the whole bounding set;
	// empty when no_new_privs is set.
	ViaSetuid capability.Set
	// ViaFileCaps: through a binary with file capabilities, at most the
	// bounding set, also with no_new_privs.
	ViaFileCaps capability.Set
	// FileCapsEntrypointOnly: with no_new_privs the kernel grants file
	// capabilities only up to the exec-ing process's permitted set; runc
	// gives that set to the process that execs the entrypoint, but the
	// entrypoint's own permitted set is empty, so only the entrypoint
	// binary's file capabilities can take effect. False, with ViaFileCaps
	// empty, on Docker releases that give a non-root process no permitted
	// set at all (runtimes.Profile.NonRootNoPermitted).
	FileCapsEntrypointOnly bool
	// Explanation is one fixed sentence saying the above for a non-root
	// container; empty for root.
	Explanation string
}

// PodContext holds the pod settings that change what capabilities mean
// (the catalog's amplifiers; docs/engine.md "Pod context").
type PodContext struct {
	HostPID               bool
	HostNetwork           bool
	HostIPC               bool
	HostPath              bool // the pod has a hostPath volume
	HostPathMounted       bool // this container mounts one
	ShareProcessNamespace bool
	UserNamespace         bool // hostUsers: false
	Windows               bool // spec.os.name: windows
	// Seccomp is the profile type in force: the container's, else the
	// pod's; "" when neither sets one (Unconfined unless the kubelet runs
	// with --seccomp-default).
	Seccomp               string
	SeccompRuntimeDefault bool
}

// Warning is a finding about how the spec is written.
type Warning struct {
	// Code is stable: cap-prefix, unknown-capability, non-canonical-name,
	// lowercase-all, add-and-drop, privileged-add-drop,
	// privileged-nonroot-ambient, unknown-user, create-fails,
	// kubelet-refuses-root, api-rejects, crio-drop-all-readds-defaults,
	// crio-drop-all-may-readd-defaults.
	Code string
	// Field is the full path, e.g.
	// "spec.template.spec.containers[0].securityContext.capabilities.add[1]".
	Field string
	// Summary is the warning in one short clause, without the container
	// (the line that prints it names the container and the field): what
	// goes wrong and what to write. Message is the full explanation, with
	// the sources.
	Summary string
	Message string
}

// Result is the engine's verdict on one container.
type Result struct {
	// Runtime is the profile's stable name (runtimes.Profile.Name).
	Runtime string
	// Bounding is what the container's processes can ever hold.
	Bounding capability.Set
	// Effective is what its first process holds after exec; its
	// permitted set is the same.
	Effective capability.Set
	// Inheritable is the first process's inheritable set after exec (the
	// kernel keeps it: I' = I): the container's list on Docker before
	// 20.10.14, else empty.
	Inheritable capability.Set
	// Ambient is its ambient set: every capability for a privileged
	// container on CRI-O, else empty.
	Ambient    capability.Set
	Privileged bool
	User       UserInfo
	// NoNewPrivs: allowPrivilegeEscalation is explicitly false; the kubelet
	// sets no_new_privs only then (pkg/securitycontext/util.go
	// AddNoNewPrivileges).
	NoNewPrivs bool
	Reachable  ReachableInfo
	// Inert: with hostUsers: false, members of Bounding the kernel checks in
	// the initial user namespace, so they do nothing (user_namespaces(7);
	// docs/engine.md "User namespaces").
	Inert   capability.Set
	Context PodContext
	// Added and Dropped are the lists as written.
	Added   []string
	Dropped []string
	Applied runtimes.Applied
	// PSSCapabilities is the highest Pod Security Standards level whose
	// capability rules the container meets: "restricted", "baseline" or
	// "privileged".
	PSSCapabilities string
	// CreateFails: the runtime refuses to create the container; Bounding
	// and Effective are then empty (Applied.Set shows what it would get once
	// fixed).
	CreateFails bool
	// KubeletRefuses: runAsNonRoot is true and the effective runAsUser is 0
	// (pod and container securityContext merged, the container's field
	// winning), so the kubelet never asks the runtime for the container
	// (pkg/kubelet/kuberuntime/security_context_others.go
	// verifyRunAsNonRoot: "container's runAsUser breaks non-root policy").
	// Bounding and Effective are then empty, like CreateFails.
	KubeletRefuses bool
	Warnings       []Warning
	Notes          []string
}

// inertInUserNamespace is the set the kernel checks in the initial user
// namespace, as the catalog records it per capability: SYS_MODULE,
// SYS_TIME, MKNOD (user_namespaces(7)), BPF, PERFMON
// (include/linux/capability.h bpf_capable, perfmon_capable), AUDIT_*
// (kernel/audit.c audit_netlink_ok). MAC_ADMIN is not in it: SELinux
// checks it in the initial namespace, but AppArmor policy namespaces accept
// it with ns_capable (security/apparmor/policy.c policy_admin_capable). Read once from the catalog so that the two can
// never disagree.
var inertInUserNamespace = sync.OnceValue(func() capability.Set { return catalog.Default().InertInUserNamespace() })

// Evaluate computes one container's capabilities. See docs/engine.md.
func Evaluate(in Input) Result {
	pod := in.Pod
	if pod == nil {
		pod = &corev1.PodSpec{}
	}
	c := in.Container
	if c == nil {
		c = &corev1.Container{}
	}
	sc := c.SecurityContext
	var caps *corev1.Capabilities
	if sc != nil {
		caps = sc.Capabilities
	}

	r := Result{Runtime: in.Profile.Name()}
	if caps != nil && len(caps.Add)+len(caps.Drop) > 0 {
		// One allocation for both lists.
		buf := make([]string, len(caps.Add)+len(caps.Drop))
		for i, s := range caps.Add {
			buf[i] = string(s)
		}
		for i, s := range caps.Drop {
			buf[len(caps.Add)+i] = string(s)
		}
		r.Added, r.Dropped = buf[:len(caps.Add):len(caps.Add)], buf[len(caps.Add):]
	}
	r.Context = podContext(pod, c)
	r.PSSCapabilities = pssCapabilities(in.PodMeta, pod.OS, ownSlice(pod, in.Type, in.Index, c))
	r.Privileged = sc != nil && sc.Privileged != nil && *sc.Privileged
	r.NoNewPrivs = sc != nil && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation

	w := warner{typ: in.Type, index: in.Index, prefix: in.FieldPrefix, name: c.Name, profile: in.Profile}
	if r.Context.Windows {
		// No Linux capabilities (core/v1 SecurityContext: "cannot be set
		// when spec.os.name is windows"); the API server rejects the
		// Linux-only fields on Windows pods.
		r.User.Kind = UserUnknown
		r.Notes = append(r.Notes, noteWindows)
		if caps != nil && len(r.Added)+len(r.Dropped) > 0 || sc != nil && (sc.Privileged != nil || sc.AllowPrivilegeEscalation != nil) {
			w.add("api-rejects", w.path(".securityContext"), "capabilities, privileged or allowPrivilegeEscalation on a Windows pod: the API server rejects it", w.who()+
				": spec.os.name is windows, and capabilities, privileged and allowPrivilegeEscalation cannot be set on a Windows pod; the API server rejects it. Remove them.")
		}
		r.Warnings = w.ws
		return r
	}

	if r.Privileged {
		r.Applied = in.Profile.ApplyPrivileged(r.Added, r.Dropped)
	} else {
		r.Applied = in.Profile.Apply(r.Added, r.Dropped)
	}
	r.CreateFails = r.Applied.CreateFails
	r.User = resolveUser(&in, pod, sc)
	r.KubeletRefuses = runAsNonRootBreaks(pod, sc)
	if !r.CreateFails && !r.KubeletRefuses {
		r.Bounding = r.Applied.Set
	}

	ambient := false
	switch {
	case r.CreateFails, r.KubeletRefuses:
	case r.User.Kind != UserNonRoot:
		// Root, or unknown and assumed root: at exec P' = bounding, E' = P'
		// (capabilities(7)).
		r.Effective = r.Bounding
	case r.Privileged && in.Profile.Kind == runtimes.CRIO:
		// CRI-O's privileged spec fills Ambient too, and runc raises it after
		// switching user, so a non-root process keeps everything through exec
		// (runtime-tools generate.go SetupPrivileged and runc
		// libcontainer/init_linux.go finalizeNamespace; derived from source). Reported as effective because
		// under-reporting a privileged container is the worse error.
		r.Effective = r.Bounding
		ambient = true
		r.Reachable.Explanation = noteAmbient
	default:
		// Non-root without ambient caps: at exec P' = (I & fI) | (fP & B)
		// and E' = ∅ unless the file says otherwise (capabilities(7),
		// "Transformation of capabilities during execve()").
		r.Reachable.ViaFileCaps = r.Bounding
		r.Reachable.FileCapsEntrypointOnly = r.NoNewPrivs
		switch {
		case r.Bounding == 0:
			r.Reachable.Explanation = noteNonRootEmpty
		case r.NoNewPrivs && in.Profile.NonRootNoPermitted():
			// With no_new_privs the kernel caps the new permitted set at
			// the old one (security/commoncap.c
			// cap_bprm_creds_from_file), and Docker before 24.0.6 (and
			// 23.0.7) gave a non-root process an empty permitted set
			// (moby oci/oci.go SetCapabilities), so not even the
			// entrypoint's file capabilities take effect.
			r.Reachable.ViaFileCaps = 0
			r.Reachable.FileCapsEntrypointOnly = false
			r.Reachable.Explanation = noteNonRootNNPNoPermitted
		case r.NoNewPrivs:
			r.Reachable.Explanation = noteNonRootNNP
		default:
			r.Reachable.ViaSetuid = r.Bounding
			r.Reachable.Explanation = noteNonRoot
		}
	}
	if !r.CreateFails {
		// Docker before 20.10.14 also filled the inheritable set, which
		// exec keeps (I' = I).
		r.Inheritable = in.Profile.Inheritable(r.Bounding)
		if ambient {
			r.Ambient = r.Bounding
		}
	}
	if r.Context.UserNamespace {
		r.Inert = r.Bounding & inertInUserNamespace()
	}

	r.Warnings = w.collect(&r, sc, ambient)
	r.Notes = notes(&in, &r)
	return r
}

func podContext(pod *corev1.PodSpec, c *corev1.Container) PodContext {
	x := PodContext{
		HostPID:               pod.HostPID,
		HostNetwork:           pod.HostNetwork,
		HostIPC:               pod.HostIPC,
		ShareProcessNamespace: pod.ShareProcessNamespace != nil && *pod.ShareProcessNamespace,
		UserNamespace:         pod.HostUsers != nil && !*pod.HostUsers,
		Windows:               pod.OS != nil && pod.OS.Name == corev1.Windows,
	}
	for i := range pod.Volumes {
		v := &pod.Volumes[i]
		if v.HostPath == nil {
			continue
		}
		x.HostPath = true
		for j := range c.VolumeMounts {
			if c.VolumeMounts[j].Name == v.Name {
				x.HostPathMounted = true
			}
		}
	}
	switch {
	case c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil:
		x.Seccomp = string(c.SecurityContext.SeccompProfile.Type)
	case pod.SecurityContext != nil && pod.SecurityContext.SeccompProfile != nil:
		x.Seccomp = string(pod.SecurityContext.SeccompProfile.Type)
	}
	x.SeccompRuntimeDefault = x.Seccomp == string(corev1.SeccompProfileTypeRuntimeDefault)
	return x
}

// resolveUser: the container's runAsUser overrides the pod's; else
// runAsNonRoot (container over pod) means non-root; else the UID the runtime
// reported; else unknown (the image's USER decides).
func resolveUser(in *Input, pod *corev1.PodSpec, sc *corev1.SecurityContext) UserInfo {
	psc := pod.SecurityContext
	var u UserInfo
	switch {
	case sc != nil && sc.RunAsUser != nil:
		u.UID, u.Source = sc.RunAsUser, SourceContainerRunAsUser
	case psc != nil && psc.RunAsUser != nil:
		u.UID, u.Source = psc.RunAsUser, SourcePodRunAsUser
	case sc != nil && sc.RunAsNonRoot != nil:
		if *sc.RunAsNonRoot {
			return nonRootUser(in, SourceContainerRunAsNonRoot)
		}
		// An explicit false at container level overrides the pod's true.
	case psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot:
		return nonRootUser(in, SourcePodRunAsNonRoot)
	}
	if u.UID == nil && in.ObservedUID != nil {
		u.UID, u.Source = in.ObservedUID, SourceObserved
	}
	switch {
	case u.UID == nil:
		u = UserInfo{Kind: UserUnknown}
	case *u.UID == 0:
		u.Kind = UserRoot
	default:
		u.Kind = UserNonRoot
	}
	return u
}

// runAsNonRootBreaks is the kubelet's verifyRunAsNonRoot
// (pkg/kubelet/kuberuntime/security_context_others.go) for the case the
// spec alone decides: the securityContext merged the way
// securitycontext.DetermineEffectiveSecurityContext merges it (each
// container field overrides the pod's) has runAsNonRoot true and runAsUser
// 0. The kubelet then fails the container with CreateContainerConfigError
// before calling the runtime. (A root image user without runAsUser is
// refused too, but the spec does not show the image's user.)
func runAsNonRootBreaks(pod *corev1.PodSpec, sc *corev1.SecurityContext) bool {
	psc := pod.SecurityContext
	var nonRoot *bool
	var user *int64
	if psc != nil {
		nonRoot, user = psc.RunAsNonRoot, psc.RunAsUser
	}
	if sc != nil && sc.RunAsNonRoot != nil {
		nonRoot = sc.RunAsNonRoot
	}
	if sc != nil && sc.RunAsUser != nil {
		user = sc.RunAsUser
	}
	return nonRoot != nil && *nonRoot && user != nil && *user == 0
}

// nonRootUser is the user of a runAsNonRoot container: the kubelet refuses to
// start it as UID 0, so it is non-root; the UID itself is the one the runtime
// reports, when it does.
func nonRootUser(in *Input, source string) UserInfo {
	if in.ObservedUID != nil && *in.ObservedUID != 0 {
		return UserInfo{Kind: UserNonRoot, UID: in.ObservedUID, Source: SourceObserved}
	}
	return UserInfo{Kind: UserNonRoot, Source: source}
}

// ExplicitlyAdded is the part of the bounding set the spec asks for rather
// than inherits from the runtime's defaults: capabilities named in add (ALL
// names them all), and for a privileged container everything beyond the
// defaults.
func (r *Result) ExplicitlyAdded() capability.Set {
	if r.Applied.Privileged {
		return r.Bounding &^ r.defaults()
	}
	var s capability.Set
	for i := range r.Applied.Entries {
		e := &r.Applied.Entries[i]
		switch {
		case e.List != "add":
		case e.All:
			s = capability.All
		case e.Known:
			s = s.Add(e.Cap)
		}
	}
	return s & r.Bounding
}

// defaults reads the runtime's default set back from its stable name;
// runtimes.Parse accepts every Name it produces ("unknown" has none).
func (r *Result) defaults() capability.Set {
	p, err := runtimes.Parse(r.Runtime)
	if err != nil {
		return 0
	}
	return p.Defaults()
}
