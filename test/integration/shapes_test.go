//go:build integration

package integration

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// TestPodShapes spot-checks the pod shapes the engine knows, as the API
// server stores them and the live audit reads them back. Every expected set
// comes from docs/sources.md: the runtime defaults, how each runtime reads
// add/drop/ALL/privileged, the exec rules per user, user namespaces and
// Windows pods.
func TestPodShapes(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	ns := e.namespace("shapes")
	ctrd := e.node("shapes-containerd", "containerd://2.1.4")
	dock := e.node("shapes-docker", "docker://20.10.7")

	sc := func(add, drop []corev1.Capability) *corev1.SecurityContext {
		return &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: add, Drop: drop}}
	}
	caps := func(names ...string) []corev1.Capability {
		var out []corev1.Capability
		for _, n := range names {
			out = append(out, corev1.Capability(n))
		}
		return out
	}
	one := func(name string, s *corev1.SecurityContext) corev1.PodSpec {
		return corev1.PodSpec{Containers: []corev1.Container{{Name: name, SecurityContext: s}}}
	}
	always := corev1.ContainerRestartPolicyAlways

	type want struct {
		container, containerType string
		runtime                  string // default containerd
		user                     string // default unknown
		uid                      *int64
		privileged               bool
		bounding, effective      []string
		inert                    []string
		warnFields               []string // fields that must carry a warning with warnCode
		warnCode                 string
		note                     string // a note must contain this
		finding                  *Finding
	}
	tests := []struct {
		name string
		node string
		spec corev1.PodSpec
		// ephemeral is added through pods/ephemeralcontainers after create.
		ephemeral *corev1.EphemeralContainer
		want      []want
	}{
		{
			name: "privileged",
			spec: one("app", &corev1.SecurityContext{Privileged: ptr(true)}),
			// privileged gets every capability, add/drop ignored (docs/sources.md#privileged).
			want: []want{{container: "app", privileged: true, bounding: all41, effective: all41}},
		},
		{
			name: "drop-all-add-one",
			spec: one("app", sc(caps("NET_BIND_SERVICE"), caps("ALL"))),
			want: []want{{container: "app", bounding: []string{"NET_BIND_SERVICE"}, effective: []string{"NET_BIND_SERVICE"}}},
		},
		{
			name: "cap-prefix-on-containerd",
			spec: one("app", sc(caps("CAP_SYS_ADMIN"), caps("CAP_NET_RAW"))),
			// containerd prefixes again, so the add is ignored and the drop
			// drops nothing (docs/sources.md#containerd-add-drop); warn on CAP_.
			want: []want{{container: "app", bounding: containerd14, effective: containerd14, warnCode: "cap-prefix",
				warnFields: []string{
					"spec.containers[0].securityContext.capabilities.add[0]",
					"spec.containers[0].securityContext.capabilities.drop[0]",
				}}},
		},
		{
			name: "lower-case-drop",
			spec: one("app", sc(nil, caps("net_raw"))),
			// containerd upper-cases, so lower case works (docs/sources.md#containerd-add-drop).
			want: []want{{container: "app", bounding: without(containerd14, "NET_RAW"), effective: without(containerd14, "NET_RAW")}},
		},
		{
			name: "add-and-drop-containerd",
			spec: one("app", sc(caps("NET_ADMIN"), caps("NET_ADMIN"))),
			// drop wins on containerd (docs/sources.md#containerd-add-drop).
			want: []want{{container: "app", bounding: containerd14, effective: containerd14}},
		},
		{
			name: "add-and-drop-docker",
			node: dock,
			spec: one("app", sc(caps("NET_ADMIN"), caps("NET_ADMIN"))),
			// add wins on Docker (docs/sources.md#docker-add-drop).
			want: []want{{container: "app", runtime: "docker", bounding: with(docker14, "NET_ADMIN"), effective: with(docker14, "NET_ADMIN")}},
		},
		{
			name: "run-as-non-root",
			spec: corev1.PodSpec{
				SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)},
				Containers:      []corev1.Container{{Name: "app"}},
			},
			// a non-zero UID holds nothing after exec (docs/sources.md#exec-transformation); the bounding
			// set is unchanged.
			want: []want{{container: "app", user: "nonroot", bounding: containerd14, effective: nil}},
		},
		{
			name: "run-as-user-1000",
			spec: one("app", &corev1.SecurityContext{RunAsUser: ptr(int64(1000))}),
			want: []want{{container: "app", user: "nonroot", uid: ptr(int64(1000)), bounding: containerd14, effective: nil}},
		},
		{
			name: "run-as-user-0",
			spec: corev1.PodSpec{
				SecurityContext: &corev1.PodSecurityContext{RunAsUser: ptr(int64(0))},
				Containers:      []corev1.Container{{Name: "app"}},
			},
			want: []want{{container: "app", user: "root", uid: ptr(int64(0)), bounding: containerd14, effective: containerd14}},
		},
		{
			name: "host-pid",
			spec: corev1.PodSpec{HostPID: true, Containers: []corev1.Container{{Name: "app"}}},
			// the catalog's tier of KILL: low, medium with hostPID (other
			// UIDs' processes on the node; UID-0 daemons are reachable
			// without it, kill_ok_by_cred() in kernel/signal.c).
			want: []want{{container: "app", bounding: containerd14, effective: containerd14,
				finding: &Finding{Capability: "KILL", Risk: "medium", Amplified: []string{"hostPID"}}}},
		},
		{
			name: "init-and-sidecar",
			spec: corev1.PodSpec{
				InitContainers: []corev1.Container{
					{Name: "init", SecurityContext: sc(nil, caps("ALL"))},
					{Name: "sidecar", RestartPolicy: &always, SecurityContext: sc(caps("NET_ADMIN"), nil)},
				},
				Containers: []corev1.Container{{Name: "app"}},
			},
			// init and sidecar containers use the same field (docs/sources.md#where-capabilities-are-set).
			want: []want{
				{container: "init", containerType: "initContainer", bounding: nil, effective: nil},
				{container: "sidecar", containerType: "initContainer", bounding: with(containerd14, "NET_ADMIN"), effective: with(containerd14, "NET_ADMIN")},
				{container: "app", bounding: containerd14, effective: containerd14},
			},
		},
		{
			name: "ephemeral-debug",
			spec: one("app", nil),
			// kubectl debug's default profile adds SYS_PTRACE (docs/sources.md#kubectl-debug).
			ephemeral: &corev1.EphemeralContainer{
				EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger", SecurityContext: sc(caps("SYS_PTRACE"), nil)},
				TargetContainerName:      "app",
			},
			want: []want{
				{container: "app", bounding: containerd14, effective: containerd14},
				{container: "debugger", containerType: "ephemeralContainer", bounding: with(containerd14, "SYS_PTRACE"), effective: with(containerd14, "SYS_PTRACE")},
			},
		},
		{
			name: "user-namespace",
			spec: corev1.PodSpec{HostUsers: ptr(false), Containers: []corev1.Container{{Name: "app"}}},
			// of the 14, MKNOD and AUDIT_WRITE are checked in the initial user
			// namespace and do nothing here (docs/sources.md#userns-inert).
			want: []want{{container: "app", bounding: containerd14, effective: containerd14, inert: []string{"AUDIT_WRITE", "MKNOD"}}},
		},
		{
			name: "windows",
			spec: corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Windows}, Containers: []corev1.Container{{Name: "app"}}},
			// Linux capabilities do not apply to Windows pods (docs/sources.md#windows-pods).
			want: []want{{container: "app", bounding: nil, effective: nil, note: "Windows"}},
		},
	}

	for _, tt := range tests {
		node := tt.node
		if node == "" {
			node = ctrd
		}
		e.pod(ns, tt.name, node, tt.spec)
		if tt.ephemeral != nil {
			e.addEphemeral(ns, tt.name, *tt.ephemeral)
		}
	}
	rep := runPlugin(t, kc, "audit", "-n", ns, "-o", "json").report(t)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range tt.want {
				it := rep.one(t, ns, "Pod", tt.name, w.container)
				wantType := w.containerType
				if wantType == "" {
					wantType = "container"
				}
				wantRuntime, wantUser := w.runtime, w.user
				if wantRuntime == "" {
					wantRuntime = "containerd"
				}
				if wantUser == "" {
					wantUser = "unknown"
				}
				if it.ContainerType != wantType {
					t.Errorf("%s: containerType = %q, want %q", w.container, it.ContainerType, wantType)
				}
				if it.Runtime != wantRuntime {
					t.Errorf("%s: runtime = %q, want %q", w.container, it.Runtime, wantRuntime)
				}
				if it.User != wantUser {
					t.Errorf("%s: user = %q, want %q", w.container, it.User, wantUser)
				}
				if diff := cmp.Diff(w.uid, it.UID); diff != "" {
					t.Errorf("%s: uid (-want +got):\n%s", w.container, diff)
				}
				if it.Privileged != w.privileged {
					t.Errorf("%s: privileged = %v, want %v", w.container, it.Privileged, w.privileged)
				}
				if diff := cmp.Diff(sorted(w.bounding), sorted(it.Bounding)); diff != "" {
					t.Errorf("%s: bounding (-want +got):\n%s", w.container, diff)
				}
				if diff := cmp.Diff(sorted(w.effective), sorted(it.Effective)); diff != "" {
					t.Errorf("%s: effective (-want +got):\n%s", w.container, diff)
				}
				if diff := cmp.Diff(sorted(w.inert), sorted(it.Inert)); diff != "" {
					t.Errorf("%s: inert (-want +got):\n%s", w.container, diff)
				}
				for _, f := range w.warnFields {
					found := false
					for _, got := range it.Warnings {
						found = found || got.Field == f && got.Code == w.warnCode
					}
					if !found {
						t.Errorf("%s: no %s warning on %s; warnings: %+v", w.container, w.warnCode, f, it.Warnings)
					}
				}
				if w.note != "" && it.noteWith(w.note) == "" {
					t.Errorf("%s: no note mentions %q; notes: %q", w.container, w.note, it.Notes)
				}
				if w.finding != nil {
					i := slices.IndexFunc(it.Findings, func(f Finding) bool { return f.Capability == w.finding.Capability })
					if i < 0 {
						t.Fatalf("%s: no finding for %s", w.container, w.finding.Capability)
					}
					if diff := cmp.Diff(*w.finding, it.Findings[i]); diff != "" {
						t.Errorf("%s: finding (-want +got):\n%s", w.container, diff)
					}
				}
			}
		})
	}
	t.Run("--fail-on and --min-risk", func(t *testing.T) {
		// The catalog's tiers: of everything above only the privileged
		// container holds a critical capability (SYS_ADMIN, SYS_MODULE, ...);
		// the rest reach high at most (NET_ADMIN, SYS_PTRACE, KILL with
		// hostPID) with no hostNetwork or hostPath to raise them.
		r := runPlugin(t, kc, "audit", "-n", ns, "--fail-on", "critical", "--min-risk", "critical", "-o", "json")
		if r.Code != 1 {
			t.Errorf("--fail-on critical: exit %d, want 1 (findings); stderr %q", r.Code, r.ErrOut)
		}
		r.Code = 0 // the report is still printed; decode it
		var got []string
		for _, it := range r.report(t).inNamespace(ns) {
			got = append(got, it.Workload.Name+"/"+it.Container)
		}
		if diff := cmp.Diff([]string{"privileged/app"}, got); diff != "" {
			t.Errorf("--min-risk critical kept (-want +got):\n%s", diff)
		}
	})

	// Every container of every pod, and nothing else.
	wantItems := 0
	for _, tt := range tests {
		wantItems += len(tt.want)
	}
	if got := len(rep.inNamespace(ns)); got != wantItems {
		t.Errorf("report has %d items in %s, want %d:\n%s", got, ns, wantItems, rep.summary())
	}
}
