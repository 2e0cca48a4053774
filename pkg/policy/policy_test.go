package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// The lists are asked of PSA's checks; the standard itself
// (https://kubernetes.io/docs/concepts/security/pod-security-standards/)
// names these, so a library that changed them would fail here.
func TestPSSAllowedAddsComeFromPSA(t *testing.T) {
	want := []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE",
		"SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP"}
	if diff := cmp.Diff(want, BaselineAllowed()); diff != "" {
		t.Errorf("baseline (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"NET_BIND_SERVICE"}, RestrictedAllowed()); diff != "" {
		t.Errorf("restricted (-want +got):\n%s", diff)
	}
}

func TestParseAllow(t *testing.T) {
	tests := []struct {
		in, err string
		kind    string
	}{
		{in: "shop/deploy/web:proxy=NET_ADMIN", kind: "Deployment"},
		{in: "cj/backup=net_admin,CAP_SYS_TIME", kind: "CronJob"},
		{in: "shop/deploy/web", err: "no '=' before the capabilities"},
		{in: "deploy/web=ALL", err: "ALL would allow every capability"},
		{in: "deploy/web=NET_ADMINN", err: `unknown capability "NET_ADMINN"; did you mean NET_ADMIN?`},
		{in: "Rollout/web=NET_ADMIN", err: "Rollout is not a kind the policy matches"},
		{in: "podtemplate/web=NET_ADMIN", err: "PodTemplate is not a kind the policy matches"},
		{in: "deploymnet/web=NET_ADMIN", err: `unknown kind "deploymnet"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			rs, err := ParseAllow([]string{tt.in})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || len(rs) != 1 || rs[0].Kind != tt.kind {
				t.Fatalf("got %+v, %v", rs, err)
			}
		})
	}
}

func ctr(ns, kind, name, c string, add, drop []string, privileged bool) Container {
	return Container{Namespace: ns, Kind: kind, Name: name, Container: c, Type: engine.TypeContainer, Add: add, Drop: drop, Privileged: privileged}
}

func TestBuild(t *testing.T) {
	cs := []Container{
		ctr("shop", "Deployment", "web", "nginx", []string{"NET_BIND_SERVICE"}, []string{"ALL"}, false),
		ctr("shop", "Deployment", "web", "proxy", []string{"NET_ADMIN", "NET_BIND_SERVICE"}, []string{"ALL"}, false),
		ctr("tools", "Pod", "debug", "shell", []string{"CAP_SYS_ADMIN"}, []string{"all"}, false),
		ctr("monitoring", "DaemonSet", "agent", "agent", nil, []string{"ALL"}, true),
	}
	allow, err := ParseAllow([]string{"shop/deploy/web:nginx=SYS_PTRACE"})
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Namespace       string
		Allowed         []string
		DropAll, NoPriv bool
		Allowances      int
		Workloads, Ctrs int
		RejectedReasons []string
	}
	sum := func(ps []Policy) []summary {
		var out []summary
		for _, p := range ps {
			s := summary{p.Namespace, p.Allowed, p.RequireDropAll, p.ForbidPrivileged, len(p.Allowances), p.Workloads, p.Containers, nil}
			for _, r := range p.Rejected {
				s.RejectedReasons = append(s.RejectedReasons, r.Workload+"/"+r.Container+": "+strings.Join(r.Reasons, "; "))
			}
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		name string
		o    Options
		want []summary
	}{
		{"observed per namespace", Options{Mode: ModeObserved, Scope: ScopeNamespace, Allow: allow}, []summary{
			{"monitoring", nil, true, false, 0, 1, 1, nil},
			{"shop", []string{"NET_BIND_SERVICE", "NET_ADMIN"}, true, true, 1, 1, 2, nil},
			// CAP_SYS_ADMIN adds nothing on containerd and "all" is not
			// ALL to PSA: neither is allowed, and the pod is named.
			{"tools", nil, false, true, 0, 1, 1, []string{`pod/debug/shell: writes "CAP_SYS_ADMIN", "all" (not an upper-case capability name without CAP_)`}},
		}},
		{"observed, cluster", Options{Mode: ModeObserved, Scope: ScopeCluster}, []summary{
			{"", []string{"NET_BIND_SERVICE", "NET_ADMIN"}, false, false, 0, 3, 4,
				[]string{`pod/debug/shell: writes "CAP_SYS_ADMIN", "all" (not an upper-case capability name without CAP_)`}},
		}},
		{"restricted", Options{Mode: ModeRestricted, Scope: ScopeCluster, Allow: allow}, []summary{
			{"", []string{"NET_BIND_SERVICE"}, true, true, 1, 3, 4, []string{
				"deploy/web/proxy: adds NET_ADMIN",
				`pod/debug/shell: writes "CAP_SYS_ADMIN", "all" (not an upper-case capability name without CAP_); does not drop "ALL"`,
				"ds/agent/agent: is privileged",
			}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := Build(cs, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, sum(ps)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// An allowance is honoured only for the container it names, and one that
// names nothing audited is an error.
func TestAllowances(t *testing.T) {
	cs := []Container{
		ctr("shop", "Deployment", "web", "nginx", nil, []string{"ALL"}, false),
		ctr("shop", "Deployment", "web", "proxy", []string{"NET_ADMIN"}, []string{"ALL"}, false),
	}
	allow, _ := ParseAllow([]string{"shop/deploy/web:proxy=NET_ADMIN"})
	ps, err := Build(cs, Options{Mode: ModeRestricted, Allow: allow})
	if err != nil || len(ps) != 1 || len(ps[0].Rejected) != 0 {
		t.Fatalf("got %+v, %v", ps, err)
	}
	wrong, _ := ParseAllow([]string{"shop/deploy/web:nginx=NET_ADMIN"})
	if ps, _ := Build(cs, Options{Mode: ModeRestricted, Allow: wrong}); len(ps[0].Rejected) != 1 {
		t.Errorf("an allowance for nginx let proxy add NET_ADMIN: %+v", ps[0].Rejected)
	}
	miss, _ := ParseAllow([]string{"shop/deploy/api=NET_ADMIN", "data/deploy/web=NET_ADMIN"})
	_, err = Build(cs, Options{Mode: ModeObserved, Allow: miss})
	if err == nil || !strings.Contains(err.Error(), "--allow shop/deploy/api=NET_ADMIN, --allow data/deploy/web=NET_ADMIN matched no container") {
		t.Errorf("error %v", err)
	}
}

// Windows pods are exempt from restricted's capability rules, as PSA
// exempts them.
func TestRestrictedExemptsWindows(t *testing.T) {
	c := ctr("win", "Deployment", "iis", "iis", nil, nil, false)
	c.Windows = true
	ps, _ := Build([]Container{c}, Options{Mode: ModeRestricted})
	if len(ps[0].Rejected) != 0 {
		t.Errorf("rejected: %+v", ps[0].Rejected)
	}
	c.Windows = false
	ps, _ = Build([]Container{c}, Options{Mode: ModeRestricted})
	if len(ps[0].Rejected) != 1 {
		t.Errorf("not rejected: %+v", ps[0].Rejected)
	}
}

func TestPSA(t *testing.T) {
	target := func(ns, name string, spec corev1.PodSpec) *workload.Target {
		return &workload.Target{Namespace: ns, Workload: workload.Ref{Kind: "Deployment", Name: name}, Spec: &spec, Meta: &metav1.ObjectMeta{}}
	}
	f := false
	t1 := true
	nonRoot := &corev1.SecurityContext{AllowPrivilegeEscalation: &f, RunAsNonRoot: &t1,
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	restricted := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "x", SecurityContext: nonRoot}}}
	plain := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "x"}}}
	host := corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "app", Image: "x"}}}
	got := PSA([]*workload.Target{
		target("a", "r", restricted),
		target("b", "r", restricted), target("b", "p", plain),
		target("c", "h", host), target("c", "p", plain),
	})
	type row struct{ NS, Level, Next, Blocking string }
	var rows []row
	for _, l := range got {
		var bl []string
		for _, b := range l.Blocking {
			bl = append(bl, b.Workload+": "+strings.Join(b.Reasons, "; "))
		}
		rows = append(rows, row{l.Namespace, l.Level, l.Next, strings.Join(bl, " | ")})
	}
	want := []row{
		{"a", "restricted", "", ""},
		{"b", "baseline", "restricted", `deploy/p: allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false); ` +
			`unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]); ` +
			`runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true); ` +
			`seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`},
		{"c", "privileged", "baseline", "deploy/h: host namespaces (hostNetwork=true)"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if cmd := LabelCommand(&got[1], []string{"--context", "prod"}); !strings.Contains(cmd, "kubectl --context prod label --overwrite ns b pod-security.kubernetes.io/enforce=baseline pod-security.kubernetes.io/enforce-version=v1.") {
		t.Errorf("command %q", cmd)
	}
}

// The live source hands PSA workload.Relevant(spec), not the pod's full
// spec: it must keep everything a PSA check reads, so that every level
// gives the same verdict and the same reasons on both.
func TestRelevantKeepsWhatPSAReads(t *testing.T) {
	f := false
	base := func(mut func(*corev1.PodSpec)) corev1.PodSpec {
		s := corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptrTo(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Volumes: []corev1.Volume{{Name: "kube-api-access-x1b2c", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}},
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}},
			Containers: []corev1.Container{{Name: "app", Image: "x", SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &f,
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
				LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}}}},
		}
		if mut != nil {
			mut(&s)
		}
		return s
	}
	specs := map[string]corev1.PodSpec{
		"restricted": base(nil),
		"nfs volume": base(func(s *corev1.PodSpec) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs", Path: "/"}}})
		}),
		"hostPath volume": base(func(s *corev1.PodSpec) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "proc", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/proc"}}})
		}),
		"probe host": base(func(s *corev1.PodSpec) {
			s.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Host: "10.0.0.1"}}}
		}),
		"lifecycle host": base(func(s *corev1.PodSpec) {
			s.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Host: "example.com"}}}
		}),
		"host port": base(func(s *corev1.PodSpec) {
			s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
		}),
		"sysctl": base(func(s *corev1.PodSpec) {
			s.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "kernel.msgmax", Value: "1"}}
		}),
	}
	for name, spec := range specs {
		for _, level := range levels {
			full := failing([]*workload.Target{{Workload: workload.Ref{Kind: "Pod", Name: name}, Spec: &spec}}, level)
			small := failing([]*workload.Target{{Workload: workload.Ref{Kind: "Pod", Name: name}, Spec: workload.Relevant(&spec)}}, level)
			if diff := cmp.Diff(full, small); diff != "" {
				t.Errorf("%s at %s: PSA judges workload.Relevant differently (-full +relevant):\n%s", name, level, diff)
			}
		}
	}
	if got := failing([]*workload.Target{{Spec: workload.Relevant(ptrTo(specs["nfs volume"]))}}, "restricted"); len(got) != 1 {
		t.Errorf("the nfs volume was lost: %+v", got)
	}
}

func ptrTo[T any](v T) *T { return &v }

// A container audited on two runtimes (a controller without pods, on a
// cluster with containerd and CRI-O nodes) is one container to a policy:
// counted and named once.
func TestBuildCountsAContainerOnce(t *testing.T) {
	c := ctr("shop", "Deployment", "web", "nginx", []string{"SYS_ADMIN"}, nil, false)
	ps, err := Build([]Container{c, c}, Options{Mode: ModeBaseline})
	if err != nil || len(ps) != 1 {
		t.Fatal(ps, err)
	}
	if ps[0].Containers != 1 || len(ps[0].Rejected) != 1 {
		t.Errorf("containers %d, rejected %+v", ps[0].Containers, ps[0].Rejected)
	}
}
