package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// Sets per runtime and user. Expectations: the runtimes' defaults and
// add/drop rules (docs/engine.md section 1), privileged and CRI-O ambient,
// capabilities(7) (UID 0 gets the bounding set, non-root gets nothing after
// exec).
func TestEvaluateSets(t *testing.T) {
	all := capability.All
	tests := []struct {
		name          string
		in            Input
		bounding, eff capability.Set
		createFails   bool
		applied       capability.Set // Applied.Set, checked when createFails
	}{
		{"containerd/defaults root", in(ctrd, s(uid(0))), d14, d14, false, 0},
		{"containerd/no securityContext, observed root", withObserved(in(ctrd, nil), 0), d14, d14, false, 0},
		{"containerd/drop ALL add NET_BIND_SERVICE root", in(ctrd, s(uid(0), dropCaps("ALL"), addCaps("NET_BIND_SERVICE"))), set("NET_BIND_SERVICE"), set("NET_BIND_SERVICE"), false, 0},
		{"containerd/drop ALL add NET_BIND_SERVICE nonroot", in(ctrd, s(uid(1000), dropCaps("ALL"), addCaps("NET_BIND_SERVICE"))), set("NET_BIND_SERVICE"), 0, false, 0},
		{"containerd/add ALL", in(ctrd, s(uid(0), addCaps("ALL"))), all, all, false, 0},
		{"containerd/drop all (lower case) works", in(ctrd, s(uid(0), dropCaps("all"))), 0, 0, false, 0},
		{"containerd/CAP_NET_RAW drop leaves NET_RAW", in(ctrd, s(uid(0), dropCaps("CAP_NET_RAW"))), d14, d14, false, 0},
		{"containerd/CAP_SYS_ADMIN add is ignored", in(ctrd, s(uid(0), addCaps("CAP_SYS_ADMIN"))), d14, d14, false, 0},
		{"containerd/unknown names ignored", in(ctrd, s(uid(0), addCaps("FOO"), dropCaps("BAR"))), d14, d14, false, 0},
		{"containerd/drop beats add", in(ctrd, s(uid(0), addCaps("SYS_ADMIN"), dropCaps("SYS_ADMIN"))), d14, d14, false, 0},
		{"containerd/add ALL drop ALL add NET_ADMIN", in(ctrd, s(uid(0), addCaps("ALL", "NET_ADMIN"), dropCaps("ALL"))), set("NET_ADMIN"), set("NET_ADMIN"), false, 0},

		{"cri-o/defaults root", in(crio, s(uid(0))), o9, o9, false, 0},
		{"cri-o/drop ALL add NET_BIND_SERVICE", in(crio, s(uid(0), dropCaps("ALL"), addCaps("NET_BIND_SERVICE"))), set("NET_BIND_SERVICE"), set("NET_BIND_SERVICE"), false, 0},
		{"cri-o/sys_admin gives 0x2005fb", in(crio, s(uid(0), addCaps("sys_admin"))), o9.Add(capability.SYS_ADMIN), o9.Add(capability.SYS_ADMIN), false, 0},
		{"cri-o/CAP_KILL drop works", in(crio, s(uid(0), dropCaps("CAP_KILL"))), o9.Remove(capability.KILL), o9.Remove(capability.KILL), false, 0},
		{"cri-o/drop beats add", in(crio, s(uid(0), addCaps("NET_RAW"), dropCaps("NET_RAW"))), o9, o9, false, 0},
		{"cri-o/unknown add fails creation", in(crio, s(uid(0), addCaps("FOO"))), 0, 0, true, o9},
		{"cri-o/unknown drop fails creation", in(crio, s(uid(0), dropCaps("NET_RAWW"))), 0, 0, true, o9},

		{"cri-o<1.18/defaults root", in(crio117, s(uid(0))), o11, o11, false, 0},
		{"cri-o<1.18/drop ALL re-adds defaults", in(crio117, s(uid(0), dropCaps("ALL"))), o11, o11, false, 0},
		{"cri-o<1.18/drop by name works", in(crio117, s(uid(0), dropCaps("NET_RAW", "SYS_CHROOT"))), o9, o9, false, 0},

		{"docker/defaults root", in(dock, s(uid(0))), d14, d14, false, 0},
		{"docker/add beats drop", in(dock, s(uid(0), addCaps("SYS_ADMIN"), dropCaps("SYS_ADMIN"))), d14.Add(capability.SYS_ADMIN), d14.Add(capability.SYS_ADMIN), false, 0},
		{"docker/add ALL,X drop X lacks X", in(dock, s(uid(0), addCaps("ALL", "NET_ADMIN"), dropCaps("NET_ADMIN"))), all.Remove(capability.NET_ADMIN), all.Remove(capability.NET_ADMIN), false, 0},
		{"docker/add ALL beats drop ALL", in(dock, s(uid(0), addCaps("ALL"), dropCaps("ALL"))), all, all, false, 0},
		{"docker/CAP_NET_RAW drop works", in(dock, s(uid(0), dropCaps("CAP_NET_RAW"))), d14.Remove(capability.NET_RAW), d14.Remove(capability.NET_RAW), false, 0},
		{"docker/unknown fails creation", in(dock, s(uid(0), dropCaps("FOO"))), 0, 0, true, d14},

		// privileged: every capability, add/drop not applied.
		{"containerd/privileged root ignores drop ALL", in(ctrd, s(uid(0), privileged(true), dropCaps("ALL"))), all, all, false, 0},
		{"containerd/privileged nonroot", in(ctrd, s(uid(1000), privileged(true))), all, 0, false, 0},
		{"docker/privileged nonroot", in(dock, s(uid(1000), privileged(true))), all, 0, false, 0},
		{"cri-o/privileged nonroot keeps all via ambient", in(crio, s(uid(1000), privileged(true))), all, all, false, 0},
		{"cri-o<1.18/privileged nonroot keeps all via ambient", in(crio117, s(uid(1000), privileged(true))), all, all, false, 0},
		{"cri-o/privileged ignores unknown names", in(crio, s(uid(0), privileged(true), addCaps("FOO"))), all, all, false, 0},
		{"containerd/privileged ignores unknown names", in(ctrd, s(uid(0), privileged(true), addCaps("FOO"))), all, all, false, 0},
		{"docker/privileged still validates names", in(dock, s(uid(0), privileged(true), addCaps("FOO"))), 0, 0, true, all},
		{"containerd/privileged false is not privileged", in(ctrd, s(uid(0), privileged(false))), d14, d14, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(tt.in)
			if r.Bounding != tt.bounding || r.Effective != tt.eff {
				t.Errorf("bounding %v effective %v; want %v and %v", r.Bounding, r.Effective, tt.bounding, tt.eff)
			}
			if r.CreateFails != tt.createFails {
				t.Errorf("CreateFails = %v, want %v", r.CreateFails, tt.createFails)
			}
			if tt.createFails && r.Applied.Set != tt.applied {
				t.Errorf("Applied.Set = %v, want %v (what the container would get once fixed)", r.Applied.Set, tt.applied)
			}
			if r.Effective&^r.Bounding != 0 || r.Inert&^r.Bounding != 0 {
				t.Errorf("effective %v or inert %v outside bounding %v", r.Effective, r.Inert, r.Bounding)
			}
		})
	}
}

func withObserved(i Input, n int64) Input {
	i.ObservedUID = ptr.To(n)
	return i
}

// The unmodified lists are handed back as written, add and drop apart.
func TestAddedDropped(t *testing.T) {
	r := Evaluate(in(ctrd, s(addCaps("net_admin", "CAP_SYS_TIME"), dropCaps("ALL", "chown"))))
	if diff := cmp.Diff([]string{"net_admin", "CAP_SYS_TIME"}, r.Added); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"ALL", "chown"}, r.Dropped); diff != "" {
		t.Error(diff)
	}
	// Appending to Added must not overwrite Dropped: they share one array.
	_ = append(r.Added, "X")
	if r.Dropped[0] != "ALL" {
		t.Error("Added and Dropped overlap")
	}
	if r := Evaluate(in(ctrd, s(uid(0)))); r.Added != nil || r.Dropped != nil || r.Applied.Entries != nil {
		t.Errorf("no lists: %+v", r)
	}
}

// runAsUser (container over pod), then
// runAsNonRoot (container over pod), then the observed UID, else unknown,
// treated as root.
func TestUserResolution(t *testing.T) {
	tests := []struct {
		name     string
		in       Input
		kind     string
		uid      *int64
		source   string
		effEmpty bool
		warn     bool
	}{
		{"container uid beats pod uid", in(ctrd, s(uid(1000)), podUID(0)), UserNonRoot, ptr.To[int64](1000), SourceContainerRunAsUser, true, false},
		{"container uid 0 beats pod uid", in(ctrd, s(uid(0)), podUID(1000)), UserRoot, ptr.To[int64](0), SourceContainerRunAsUser, false, false},
		{"pod uid", in(ctrd, nil, podUID(1000)), UserNonRoot, ptr.To[int64](1000), SourcePodRunAsUser, true, false},
		{"pod uid 0", in(ctrd, s(), podUID(0)), UserRoot, ptr.To[int64](0), SourcePodRunAsUser, false, false},
		{"uid beats runAsNonRoot", in(ctrd, s(nonRoot(true)), podUID(1000)), UserNonRoot, ptr.To[int64](1000), SourcePodRunAsUser, true, false},
		{"container runAsNonRoot", in(ctrd, s(nonRoot(true))), UserNonRoot, nil, SourceContainerRunAsNonRoot, true, false},
		{"pod runAsNonRoot", in(ctrd, nil, podNonRoot(true)), UserNonRoot, nil, SourcePodRunAsNonRoot, true, false},
		{"container runAsNonRoot false overrides pod true", in(ctrd, s(nonRoot(false)), podNonRoot(true)), UserUnknown, nil, "", false, true},
		{"container false, pod true, observed uid", withObserved(in(ctrd, s(nonRoot(false)), podNonRoot(true)), 1000), UserNonRoot, ptr.To[int64](1000), SourceObserved, true, false},
		{"pod runAsNonRoot false", in(ctrd, nil, podNonRoot(false)), UserUnknown, nil, "", false, true},
		{"observed root", withObserved(in(ctrd, nil), 0), UserRoot, ptr.To[int64](0), SourceObserved, false, false},
		{"observed non-root", withObserved(in(ctrd, nil), 65532), UserNonRoot, ptr.To[int64](65532), SourceObserved, true, false},
		{"spec runAsUser beats observed", withObserved(in(ctrd, s(uid(0))), 1000), UserRoot, ptr.To[int64](0), SourceContainerRunAsUser, false, false},
		{"runAsNonRoot beats observed", withObserved(in(ctrd, s(nonRoot(true))), 0), UserNonRoot, nil, SourceContainerRunAsNonRoot, true, false},
		// runAsNonRoot says non-root; the runtime says which UID.
		{"runAsNonRoot with observed uid", withObserved(in(ctrd, s(nonRoot(true))), 1000), UserNonRoot, ptr.To[int64](1000), SourceObserved, true, false},
		{"pod runAsNonRoot with observed uid", withObserved(in(ctrd, nil, podNonRoot(true)), 2000), UserNonRoot, ptr.To[int64](2000), SourceObserved, true, false},
		{"nothing known", in(ctrd, nil), UserUnknown, nil, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(tt.in)
			want := UserInfo{Kind: tt.kind, UID: tt.uid, Source: tt.source}
			if diff := cmp.Diff(want, r.User); diff != "" {
				t.Errorf("User (-want +got):\n%s", diff)
			}
			if tt.effEmpty != (r.Effective == 0) || !tt.effEmpty && r.Effective != d14 {
				t.Errorf("Effective = %v; want empty=%v (else the bounding set)", r.Effective, tt.effEmpty)
			}
			if got := slices.Contains(codes(r.Warnings), "unknown-user"); got != tt.warn {
				t.Errorf("unknown-user warning = %v, want %v (%v)", got, tt.warn, codes(r.Warnings))
			}
		})
	}
}

// AddNoNewPrivileges: no_new_privs only when allowPrivilegeEscalation is explicitly
// false; setuid-root reaches the bounding set unless no_new_privs; file caps
// reach it even then (the entrypoint's own).
func TestReachable(t *testing.T) {
	tests := []struct {
		name      string
		in        Input
		nnp       bool
		reachable ReachableInfo
		note      string
	}{
		{"nonroot, escalation unset", in(ctrd, s(uid(1000))), false,
			ReachableInfo{ViaSetuid: d14, ViaFileCaps: d14, Explanation: noteNonRoot}, "setuid-root binary would regain"},
		{"nonroot, escalation true", in(ctrd, s(uid(1000), ape(true))), false,
			ReachableInfo{ViaSetuid: d14, ViaFileCaps: d14, Explanation: noteNonRoot}, "setuid-root binary would regain"},
		{"nonroot, escalation false", in(ctrd, s(uid(1000), ape(false))), true,
			ReachableInfo{ViaFileCaps: d14, FileCapsEntrypointOnly: true, Explanation: noteNonRootNNP}, "only an entrypoint binary"},
		{"nonroot, NET_BIND_SERVICE only, escalation false", in(crio, s(uid(1000), ape(false), dropCaps("ALL"), addCaps("NET_BIND_SERVICE"))), true,
			ReachableInfo{ViaFileCaps: set("NET_BIND_SERVICE"), FileCapsEntrypointOnly: true, Explanation: noteNonRootNNP}, "only an entrypoint binary"},
		{"nonroot, nothing left", in(dock, s(nonRoot(true), dropCaps("ALL"))), false,
			ReachableInfo{FileCapsEntrypointOnly: false, Explanation: noteNonRootEmpty}, "cannot gain any"},
		{"root has nothing more to reach", in(ctrd, s(uid(0), ape(false))), true, ReachableInfo{}, ""},
		{"unknown user is treated as root", in(ctrd, nil), false, ReachableInfo{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(tt.in)
			if r.NoNewPrivs != tt.nnp {
				t.Errorf("NoNewPrivs = %v, want %v", r.NoNewPrivs, tt.nnp)
			}
			if diff := cmp.Diff(tt.reachable, r.Reachable); diff != "" {
				t.Errorf("Reachable (-want +got):\n%s", diff)
			}
			if tt.note != "" && !hasNote(r.Notes, tt.note) {
				t.Errorf("notes %q lack %q", r.Notes, tt.note)
			}
			if tt.note == "" && hasNote(r.Notes, "non-root") {
				t.Errorf("unexpected non-root note: %q", r.Notes)
			}
		})
	}
}

// Only CRI-O fills ambient for privileged containers (runtime-tools
// SetupPrivileged; containerd WithoutAmbientCaps clears it).
func TestPrivilegedNonRootPerRuntime(t *testing.T) {
	for _, p := range allProfiles {
		t.Run(p.Name(), func(t *testing.T) {
			r := Evaluate(in(p, s(uid(1000), privileged(true))))
			isCRIO := p.Kind == runtimes.CRIO
			if r.Bounding != capability.All || (r.Effective == capability.All) != isCRIO || (r.Effective == 0) == isCRIO {
				t.Errorf("bounding %v effective %v", r.Bounding, r.Effective)
			}
			if got := slices.Contains(codes(r.Warnings), "privileged-nonroot-ambient"); got != isCRIO {
				t.Errorf("privileged-nonroot-ambient = %v, want %v", got, isCRIO)
			}
			// Under CRI-O nothing is left to reach; elsewhere everything is.
			want := ReachableInfo{ViaSetuid: capability.All, ViaFileCaps: capability.All, Explanation: noteNonRoot}
			if isCRIO {
				want = ReachableInfo{Explanation: noteAmbient}
			}
			if diff := cmp.Diff(want, r.Reachable); diff != "" {
				t.Errorf("Reachable (-want +got):\n%s", diff)
			}
			if !r.Privileged || !r.Applied.Privileged {
				t.Error("Privileged not reported")
			}
		})
	}
}

// Linux capabilities do not apply to Windows pods; PSA's
// restricted capability check exempts them from v1.25.
func TestWindows(t *testing.T) {
	for _, p := range allProfiles {
		t.Run(p.Name(), func(t *testing.T) {
			r := Evaluate(in(p, nil, windows))
			if r.Bounding != 0 || r.Effective != 0 || !r.Context.Windows || r.PSSCapabilities != "restricted" {
				t.Errorf("windows pod: %+v", r)
			}
			if !hasNote(r.Notes, "Windows") || len(r.Warnings) != 0 || r.User.Kind != UserUnknown {
				t.Errorf("notes %q warnings %v user %v", r.Notes, r.Warnings, r.User)
			}
			// Capabilities on a Windows pod are rejected by the API server.
			r = Evaluate(in(p, s(addCaps("NET_ADMIN")), windows))
			if r.Bounding != 0 || !slices.Equal(codes(r.Warnings), []string{"api-rejects"}) {
				t.Errorf("windows pod with add: bounding %v warnings %v", r.Bounding, r.Warnings)
			}
			if r.Warnings[0].Field != "spec.containers[0].securityContext" {
				t.Errorf("field = %q", r.Warnings[0].Field)
			}
		})
	}
	// An explicit linux OS is an ordinary pod.
	r := Evaluate(in(ctrd, s(uid(0)), func(p *corev1.PodSpec) { p.OS = &corev1.PodOS{Name: corev1.Linux} }))
	if r.Context.Windows || r.Bounding != d14 {
		t.Errorf("linux pod: windows=%v bounding=%v", r.Context.Windows, r.Bounding)
	}
}

// User namespaces: docs/engine.md "User namespaces".
func TestUserNamespace(t *testing.T) {
	tests := []struct {
		name  string
		in    Input
		inert capability.Set
	}{
		{"containerd defaults", in(ctrd, s(uid(0)), hostUsers(false)), set("MKNOD", "AUDIT_WRITE")},
		{"docker defaults", in(dock, s(uid(0)), hostUsers(false)), set("MKNOD", "AUDIT_WRITE")},
		{"cri-o defaults have none", in(crio, s(uid(0)), hostUsers(false)), 0},
		{"cri-o<1.18 defaults have none", in(crio117, s(uid(0)), hostUsers(false)), 0},
		{"add ALL", in(ctrd, s(uid(0), addCaps("ALL")), hostUsers(false)), initNS},
		{"privileged", in(crio, s(uid(0), privileged(true)), hostUsers(false)), initNS},
		{"MAC_ADMIN and CHECKPOINT_RESTORE stay live", in(ctrd, s(uid(0), dropCaps("ALL"), addCaps("MAC_ADMIN", "CHECKPOINT_RESTORE", "SYS_TIME")), hostUsers(false)), set("SYS_TIME")},
		{"non-root too", in(ctrd, s(uid(1000), addCaps("BPF", "PERFMON")), hostUsers(false)), set("MKNOD", "AUDIT_WRITE", "BPF", "PERFMON")},
		{"hostUsers true", in(ctrd, s(uid(0)), hostUsers(true)), 0},
		{"hostUsers unset", in(ctrd, s(uid(0))), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(tt.in)
			if r.Inert != tt.inert {
				t.Errorf("Inert = %v, want %v", r.Inert, tt.inert)
			}
			userns := tt.in.Pod.HostUsers != nil && !*tt.in.Pod.HostUsers
			if r.Context.UserNamespace != userns || hasNote(r.Notes, "inside the pod's user namespace") != userns {
				t.Errorf("UserNamespace %v, notes %q", r.Context.UserNamespace, r.Notes)
			}
		})
	}
}

func TestContext(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want PodContext
	}{
		{"plain", in(ctrd, nil), PodContext{}},
		{"host namespaces", in(ctrd, nil, hostPID, hostNetwork, hostIPC, shareProcessNamespace),
			PodContext{HostPID: true, HostNetwork: true, HostIPC: true, ShareProcessNamespace: true}},
		{"hostPath volume not mounted here", in(ctrd, nil, hostPathVolume("sock", false)), PodContext{HostPath: true}},
		{"hostPath volume mounted", in(ctrd, nil, hostPathVolume("sock", true)), PodContext{HostPath: true, HostPathMounted: true}},
		{"pod RuntimeDefault", in(ctrd, nil, podSeccomp("RuntimeDefault")), PodContext{Seccomp: "RuntimeDefault", SeccompRuntimeDefault: true}},
		{"container RuntimeDefault", in(ctrd, s(seccompC("RuntimeDefault"))), PodContext{Seccomp: "RuntimeDefault", SeccompRuntimeDefault: true}},
		{"container Unconfined overrides pod", in(ctrd, s(seccompC("Unconfined")), podSeccomp("RuntimeDefault")), PodContext{Seccomp: "Unconfined"}},
		{"container Localhost", in(ctrd, s(seccompC("Localhost")), podSeccomp("RuntimeDefault")), PodContext{Seccomp: "Localhost"}},
		{"user namespace", in(ctrd, nil, hostUsers(false)), PodContext{UserNamespace: true}},
		{"windows", in(ctrd, nil, windows), PodContext{Windows: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Evaluate(tt.in).Context); diff != "" {
				t.Errorf("Context (-want +got):\n%s", diff)
			}
		})
	}
}

// KEP-127: drop ALL without seccomp still leaves the unshare trick.
func TestSeccompNote(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want bool
	}{
		{"drop ALL, no seccomp", in(ctrd, s(uid(0), dropCaps("ALL"))), true},
		{"drop all, Unconfined", in(crio, s(uid(0), dropCaps("all"), seccompC("Unconfined"))), true},
		{"drop ALL, RuntimeDefault", in(ctrd, s(uid(0), dropCaps("ALL")), podSeccomp("RuntimeDefault")), false},
		{"drop ALL, Localhost", in(ctrd, s(uid(0), dropCaps("ALL"), seccompC("Localhost"))), false},
		{"no drop ALL", in(ctrd, s(uid(0), dropCaps("NET_RAW"))), false},
		{"privileged", in(ctrd, s(uid(0), privileged(true), dropCaps("ALL"))), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hasNote(Evaluate(tt.in).Notes, "unshare"); got != tt.want {
				t.Errorf("seccomp note = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnknownRuntime(t *testing.T) {
	r := Evaluate(in(runtimes.Profile{}, s(uid(0), addCaps("NET_ADMIN"), dropCaps("FOO"))))
	if r.Bounding != set("NET_ADMIN") || r.CreateFails || !hasNote(r.Notes, "runtime unknown") {
		t.Errorf("unknown runtime: bounding %v notes %q", r.Bounding, r.Notes)
	}
}

// Nil pod and container are read as empty, not a panic.
func TestNilInput(t *testing.T) {
	r := Evaluate(Input{Profile: ctrd})
	if r.Bounding != d14 || r.User.Kind != UserUnknown || r.PSSCapabilities != "baseline" {
		t.Errorf("nil input: %+v", r)
	}
}

func TestContainers(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	spec := &corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init"}, {Name: "sidecar", RestartPolicy: &always}},
		Containers:     []corev1.Container{{Name: "app"}, {Name: "helper"}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debugger", SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}},
		}}},
	}
	refs := Containers(spec)
	type row struct {
		Name    string
		Type    ContainerType
		Index   int
		Sidecar bool
	}
	var got []row
	for _, r := range refs {
		got = append(got, row{r.Container.Name, r.Type, r.Index, r.Sidecar})
	}
	want := []row{
		{"init", TypeInitContainer, 0, false},
		{"sidecar", TypeInitContainer, 1, true},
		{"app", TypeContainer, 0, false},
		{"helper", TypeContainer, 1, false},
		{"debugger", TypeEphemeralContainer, 0, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Containers (-want +got):\n%s", diff)
	}
	// The refs point into the spec, ephemeral containers included.
	if refs[1].Container != &spec.InitContainers[1] || refs[4].Container.SecurityContext != spec.EphemeralContainers[0].SecurityContext {
		t.Error("refs do not point into the spec")
	}
	if Containers(nil) != nil {
		t.Error("Containers(nil) != nil")
	}
	// kubectl debug's default "general" profile adds SYS_PTRACE to the
	// ephemeral container (allowedEphemeralContainerFields); the engine treats it like any other.
	r := Evaluate(Input{Pod: spec, Container: refs[4].Container, Type: refs[4].Type, Index: refs[4].Index, FieldPrefix: "spec", Profile: ctrd,
		ObservedUID: ptr.To[int64](0)})
	if r.Bounding != d14.Add(capability.SYS_PTRACE) || r.PSSCapabilities != "privileged" {
		t.Errorf("ephemeral: bounding %v pss %s", r.Bounding, r.PSSCapabilities)
	}
	// A restartable sidecar takes its capabilities from the same field.
	spec.InitContainers[1].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To[int64](0),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_ADMIN"}}}
	r = Evaluate(Input{Pod: spec, Container: refs[1].Container, Type: refs[1].Type, Index: refs[1].Index, FieldPrefix: "spec", Profile: crio})
	if r.Bounding != set("NET_ADMIN") || r.Effective != set("NET_ADMIN") {
		t.Errorf("sidecar: bounding %v effective %v", r.Bounding, r.Effective)
	}
}

// Every message names the container and its kind, and every field path is
// the full path from the object's root.
func TestFieldPaths(t *testing.T) {
	mk := func(typ ContainerType, idx int, prefix string) Input {
		c := &corev1.Container{Name: "c" + strings.Repeat("x", idx), SecurityContext: &corev1.SecurityContext{
			Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "CAP_SYS_TIME"}}}}
		return Input{Pod: &corev1.PodSpec{}, Container: c, Type: typ, Index: idx, FieldPrefix: prefix, Profile: ctrd, ObservedUID: ptr.To[int64](0)}
	}
	tests := []struct {
		in    Input
		field string
		who   string
	}{
		{mk(TypeContainer, 0, "spec"), "spec.containers[0].securityContext.capabilities.add[1]", `container "c"`},
		{mk(TypeContainer, 2, "spec.template.spec"), "spec.template.spec.containers[2].securityContext.capabilities.add[1]", `container "cxx"`},
		{mk(TypeInitContainer, 1, "spec.jobTemplate.spec.template.spec"), "spec.jobTemplate.spec.template.spec.initContainers[1].securityContext.capabilities.add[1]", `init container "cx"`},
		{mk(TypeEphemeralContainer, 0, "spec"), "spec.ephemeralContainers[0].securityContext.capabilities.add[1]", `ephemeral container "c"`},
		{mk(TypeInitContainer, 0, "template.spec"), "template.spec.initContainers[0].securityContext.capabilities.add[1]", `init container "c"`},
		{mk(TypeContainer, 0, ""), "containers[0].securityContext.capabilities.add[1]", `container "c"`},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			r := Evaluate(tt.in)
			if len(r.Warnings) != 1 || r.Warnings[0].Code != "cap-prefix" {
				t.Fatalf("warnings = %+v", r.Warnings)
			}
			if r.Warnings[0].Field != tt.field || !strings.HasPrefix(r.Warnings[0].Message, tt.who+":") {
				t.Errorf("got %q %q; want field %q, message starting %q", r.Warnings[0].Field, r.Warnings[0].Message, tt.field, tt.who)
			}
		})
	}
}

// Explicit means the spec asked for it: add entries (ALL counts), or
// privileged: true beyond the runtime's defaults.
func TestExplicitlyAdded(t *testing.T) {
	all := capability.All
	tests := []struct {
		name string
		in   Input
		want capability.Set
	}{
		{"defaults only", in(ctrd, s(uid(0))), 0},
		{"drop ALL add NET_BIND_SERVICE", in(ctrd, s(uid(0), dropCaps("ALL"), addCaps("NET_BIND_SERVICE"))), set("NET_BIND_SERVICE")},
		{"adding a default is still asking for it", in(ctrd, s(uid(0), addCaps("CHOWN"))), set("CHOWN")},
		{"containerd drop wins", in(ctrd, s(uid(0), addCaps("NET_ADMIN"), dropCaps("NET_ADMIN"))), 0},
		{"docker add wins", in(dock, s(uid(0), addCaps("NET_ADMIN"), dropCaps("NET_ADMIN"))), set("NET_ADMIN")},
		{"add ALL drop CHOWN", in(crio, s(uid(0), addCaps("ALL"), dropCaps("CHOWN"))), all.Remove(capability.CHOWN)},
		{"ignored CAP_ add on containerd", in(ctrd, s(uid(0), addCaps("CAP_SYS_ADMIN"))), 0},
		{"privileged containerd", in(ctrd, s(uid(0), privileged(true))), all.Minus(d14)},
		{"privileged cri-o", in(crio, s(uid(0), privileged(true))), all.Minus(o9)},
		{"privileged cri-o<1.18", in(crio117, s(uid(0), privileged(true))), all.Minus(o11)},
		{"privileged docker", in(dock, s(uid(0), privileged(true), addCaps("NET_ADMIN"))), all.Minus(d14)},
		{"privileged, unknown runtime", in(runtimes.Profile{}, s(uid(0), privileged(true))), all},
		{"not created", in(crio, s(uid(0), addCaps("NET_ADMIN", "FOO"))), 0},
		{"windows", in(ctrd, s(addCaps("NET_ADMIN")), windows), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(tt.in)
			if got := r.ExplicitlyAdded(); got != tt.want {
				t.Errorf("ExplicitlyAdded() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRuntimeName(t *testing.T) {
	for p, want := range map[runtimes.Profile]string{ctrd: "containerd", crio: "cri-o", crio117: "cri-o<1.18", dock: "docker", {}: "unknown"} {
		if got := Evaluate(in(p, s(uid(0)))).Runtime; got != want {
			t.Errorf("Runtime = %q, want %q", got, want)
		}
	}
}

// Every set of a Docker container, per moby release line, for root and
// non-root, with and without no_new_privs. The spec sets are moby's
// oci/oci.go SetCapabilities at each tag; the sets after exec follow
// capabilities(7) and security/commoncap.c cap_bprm_creds_from_file (with
// no_new_privs the new permitted set is capped at the old one).
func TestDockerGenerations(t *testing.T) {
	noEP := ReachableInfo{Explanation: noteNonRootNNPNoPermitted}
	entry := ReachableInfo{ViaFileCaps: d14, FileCapsEntrypointOnly: true, Explanation: noteNonRootNNP}
	full := ReachableInfo{ViaSetuid: d14, ViaFileCaps: d14, Explanation: noteNonRoot}
	old37 := capability.All &^ set("PERFMON", "BPF", "CHECKPOINT_RESTORE")
	tests := []struct {
		version       string
		uid           int64
		nnp           bool
		eff, inh      capability.Set
		reach         ReachableInfo
		privilegedBnd capability.Set
	}{
		// Before 20.10.14: inheritable = the list for every user.
		{"20.10.13", 0, false, d14, d14, ReachableInfo{}, old37},
		{"20.10.13", 1000, false, 0, d14, full, old37},
		{"20.10.13", 1000, true, 0, d14, noEP, old37},
		// 20.10.14 to 24.0.5 (23.0.6 on 23.0): bounding only for non-root.
		{"20.10.24+dfsg1", 0, false, d14, 0, ReachableInfo{}, old37},
		{"20.10.24+dfsg1", 0, true, d14, 0, ReachableInfo{}, old37},
		{"20.10.24+dfsg1", 1000, false, 0, 0, full, old37},
		{"20.10.24+dfsg1", 1000, true, 0, 0, noEP, old37},
		{"23.0.6", 1000, true, 0, 0, noEP, capability.All},
		{"24.0.5", 1000, true, 0, 0, noEP, capability.All},
		// 23.0.7, 24.0.6, 25.0.0 and later: permitted for every user, so the
		// entrypoint's file capabilities work under no_new_privs.
		{"23.0.7", 1000, true, 0, 0, entry, capability.All},
		{"24.0.6", 1000, true, 0, 0, entry, capability.All},
		{"25.0.0", 1000, true, 0, 0, entry, capability.All},
		{"25.0.0", 1000, false, 0, 0, full, capability.All},
		{"", 1000, true, 0, 0, entry, capability.All},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("docker %s uid %d nnp %v", tt.version, tt.uid, tt.nnp)
		t.Run(name, func(t *testing.T) {
			p, err := runtimes.Parse("docker://" + tt.version)
			if tt.version == "" {
				p, err = runtimes.Parse("docker")
			}
			if err != nil {
				t.Fatal(err)
			}
			mods := s(uid(tt.uid))
			if tt.nnp {
				mods = append(mods, ape(false))
			}
			r := Evaluate(in(p, mods))
			if r.Bounding != d14 || r.Effective != tt.eff || r.Inheritable != tt.inh || r.Ambient != 0 {
				t.Errorf("bounding %v effective %v inheritable %v ambient %v; want %v, %v, %v, none",
					r.Bounding, r.Effective, r.Inheritable, r.Ambient, d14, tt.eff, tt.inh)
			}
			if diff := cmp.Diff(tt.reach, r.Reachable); diff != "" {
				t.Errorf("reachable (-want +got):\n%s", diff)
			}
			if tt.uid != 0 && !hasNote(r.Notes, tt.reach.Explanation) {
				t.Errorf("notes %q lack %q", r.Notes, tt.reach.Explanation)
			}
			if pr := Evaluate(in(p, s(uid(0), privileged(true)))); pr.Bounding != tt.privilegedBnd || pr.Effective != tt.privilegedBnd {
				t.Errorf("privileged: bounding %v effective %v, want %v", pr.Bounding, pr.Effective, tt.privilegedBnd)
			}
		})
	}
}

// runAsNonRoot with an effective runAsUser 0 never runs: the kubelet's
// verifyRunAsNonRoot (pkg/kubelet/kuberuntime/security_context_others.go)
// refuses it on the securityContext merged by
// securitycontext.DetermineEffectiveSecurityContext, where each container
// field overrides the pod's.
func TestKubeletRefusesRoot(t *testing.T) {
	const path = "spec.containers[0].securityContext.runAsUser"
	tests := []struct {
		name    string
		in      Input
		refuses bool
		field   string
		eff     capability.Set
	}{
		{"container runAsUser 0 and runAsNonRoot", in(ctrd, s(uid(0), nonRoot(true))), true, path, 0},
		{"container runAsUser 0, pod runAsNonRoot", in(ctrd, s(uid(0)), podNonRoot(true)), true, path, 0},
		{"pod runAsUser 0, container runAsNonRoot", in(ctrd, s(nonRoot(true)), podUID(0)), true, "spec.securityContext.runAsUser", 0},
		{"pod runAsUser 0 and runAsNonRoot", in(crio, nil, podUID(0), podNonRoot(true)), true, "spec.securityContext.runAsUser", 0},
		{"privileged too", in(dock, s(uid(0), nonRoot(true), privileged(true))), true, path, 0},
		{"container runAsNonRoot false overrides the pod's true", in(ctrd, s(uid(0), nonRoot(false)), podNonRoot(true)), false, "", d14},
		{"container runAsUser 1000 overrides the pod's 0", in(ctrd, s(uid(1000)), podUID(0), podNonRoot(true)), false, "", 0},
		{"runAsUser 0 without runAsNonRoot runs as root", in(ctrd, s(uid(0))), false, "", d14},
		{"runAsNonRoot without runAsUser runs (image user checked at start)", in(ctrd, s(nonRoot(true))), false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(tt.in)
			if r.KubeletRefuses != tt.refuses {
				t.Fatalf("KubeletRefuses = %v, want %v", r.KubeletRefuses, tt.refuses)
			}
			if r.Effective != tt.eff || tt.refuses && (r.Bounding != 0 || r.Reachable != (ReachableInfo{})) {
				t.Errorf("bounding %v effective %v reachable %+v; want effective %v", r.Bounding, r.Effective, r.Reachable, tt.eff)
			}
			var got string
			for _, w := range r.Warnings {
				if w.Code == "kubelet-refuses-root" {
					got = w.Field
					if !strings.Contains(w.Message, "container's runAsUser breaks non-root policy") || !strings.Contains(w.Message, "verifyRunAsNonRoot") {
						t.Errorf("message %q", w.Message)
					}
				}
			}
			if got != tt.field {
				t.Errorf("kubelet-refuses-root warning at %q, want %q (%v)", got, tt.field, codes(r.Warnings))
			}
		})
	}
}
