//go:build runtime

package runtimetest

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// The harness's own pieces, checked without a runtime: a harness that
// cannot see a difference would prove nothing.

func TestParseStatus(t *testing.T) {
	o, err := parseStatus(`{"capInh":"0000000000000000","capPrm":"00000000a80425fb","capEff":"00000000a80425fb","capBnd":"00000000a80425fb","capAmb":"0000000000000000","noNewPrivs":"1","uid":"1000 1000 1000 1000"}`)
	if err != nil {
		t.Fatal(err)
	}
	if o.Bounding != 0xa80425fb || o.Permitted != o.Bounding || o.Effective != o.Bounding || o.Ambient != 0 || !o.NoNewPrivs || o.UID != "1000 1000 1000 1000" {
		t.Errorf("parsed %+v", o)
	}
	if !o.Bounding.Has(capability.SetOf(capability.NET_RAW).Caps()[0]) {
		t.Errorf("NET_RAW (bit 13) not in %s", names(o.Bounding))
	}
	for _, bad := range []string{`not json`, `{"capBnd":"zz"}`} {
		if _, err := parseStatus(bad); err == nil {
			t.Errorf("parseStatus(%q) = nil error", bad)
		}
	}
}

func TestDiff(t *testing.T) {
	a := outcome{Bounding: capability.SetOf(capability.CHOWN, capability.NET_RAW), Permitted: capability.SetOf(capability.CHOWN, capability.NET_RAW), Effective: capability.SetOf(capability.CHOWN, capability.NET_RAW)}
	if d := diff(a, a); d != nil {
		t.Errorf("equal outcomes differ: %v", d)
	}
	b := a
	b.Effective = capability.SetOf(capability.CHOWN)
	b.NoNewPrivs = true
	d := diff(a, b)
	if len(d) != 2 || !strings.Contains(d[0], "effective: predicted {CHOWN,NET_RAW}, measured {CHOWN} (missing {NET_RAW}, extra {})") || !strings.Contains(d[1], "no_new_privs") {
		t.Errorf("diff = %q", d)
	}
	if d := diff(a, outcome{Refused: true, By: "runtime", Message: "boom"}); len(d) != 1 || !strings.Contains(d[0], "refused by the runtime: boom") {
		t.Errorf("refusal diff = %q", d)
	}
	if d := diff(outcome{Refused: true}, a); len(d) != 1 || !strings.Contains(d[0], "predicted to be refused") {
		t.Errorf("unexpected run diff = %q", d)
	}
	if d := diff(outcome{Refused: true}, outcome{Refused: true, By: "kubelet"}); d != nil {
		t.Errorf("refusal vs refusal = %q", d)
	}
}

func TestKubeletTranslation(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	tr, fa := true, false
	for _, tc := range []struct {
		name    string
		pod     *corev1.PodSecurityContext
		sc      *corev1.SecurityContext
		image   int64
		refuse  string
		wantUID int64
		nnp     bool
	}{
		{name: "nothing set: the image's user", image: 0, wantUID: 0},
		{name: "pod runAsUser", pod: &corev1.PodSecurityContext{RunAsUser: i64(1000)}, wantUID: 1000},
		{name: "container wins", pod: &corev1.PodSecurityContext{RunAsUser: i64(1000)}, sc: &corev1.SecurityContext{RunAsUser: i64(0)}, wantUID: 0},
		{name: "runAsNonRoot with 0", sc: &corev1.SecurityContext{RunAsNonRoot: &tr, RunAsUser: i64(0)}, refuse: "container's runAsUser breaks non-root policy"},
		{name: "pod runAsNonRoot, container 0", pod: &corev1.PodSecurityContext{RunAsNonRoot: &tr}, sc: &corev1.SecurityContext{RunAsUser: i64(0)}, refuse: "breaks non-root policy"},
		{name: "runAsNonRoot, root image", sc: &corev1.SecurityContext{RunAsNonRoot: &tr}, image: 0, refuse: "image will run as root"},
		{name: "runAsNonRoot, non-root image", sc: &corev1.SecurityContext{RunAsNonRoot: &tr}, image: 1000, wantUID: 1000},
		{name: "container runAsNonRoot false overrides pod", pod: &corev1.PodSecurityContext{RunAsNonRoot: &tr}, sc: &corev1.SecurityContext{RunAsNonRoot: &fa, RunAsUser: i64(0)}, wantUID: 0},
		{name: "allowPrivilegeEscalation false", sc: &corev1.SecurityContext{AllowPrivilegeEscalation: &fa}, nnp: true},
		{name: "allowPrivilegeEscalation true", sc: &corev1.SecurityContext{AllowPrivilegeEscalation: &tr}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.PodSpec{SecurityContext: tc.pod, Containers: []corev1.Container{{Name: "c", SecurityContext: tc.sc}}}
			sc := effectiveSecurityContext(p, &p.Containers[0])
			err := verifyRunAsNonRoot(sc, "c", tc.image)
			if tc.refuse != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refuse) {
					t.Fatalf("verifyRunAsNonRoot = %v, want %q", err, tc.refuse)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cri := criSecurityContext(sc, tc.image)
			if cri.RunAsUser.Value != tc.wantUID || cri.NoNewPrivs != tc.nnp {
				t.Errorf("run_as_user %d no_new_privs %v, want %d %v", cri.RunAsUser.Value, cri.NoNewPrivs, tc.wantUID, tc.nnp)
			}
		})
	}
	// Capability strings pass unchanged, in order.
	sc := capsSC([]string{"cap_net_admin", "ALL", "FOO"}, []string{"all"})
	cri := criSecurityContext(sc, 0)
	if got := strings.Join(cri.Capabilities.AddCapabilities, ",") + "|" + strings.Join(cri.Capabilities.DropCapabilities, ","); got != "cap_net_admin,ALL,FOO|all" {
		t.Errorf("capabilities = %s", got)
	}
}

func TestPredictHostAdjustment(t *testing.T) {
	p, err := runtimes.Parse("containerd://v2.4.2")
	if err != nil {
		t.Fatal(err)
	}
	host := capability.All.Remove(capability.SetOf(capability.SYS_RESOURCE).Caps()[0])
	named := matrixCase("add SYS_RESOURCE", pod(capsSC([]string{"SYS_RESOURCE"}, nil)), modePlain)
	if o, _ := predict(&named, p, host); !o.Refused || o.By != "host" {
		t.Errorf("named add of a capability the host lacks: %+v, want a refusal", o)
	}
	if o, _ := predict(&named, p, capability.All); o.Refused || !o.Bounding.Has(capability.SetOf(capability.SYS_RESOURCE).Caps()[0]) {
		t.Errorf("same on a full host: %+v, want it to run with SYS_RESOURCE", o)
	}
	all := matrixCase("add ALL", pod(capsSC([]string{"ALL"}, nil)), modePlain)
	if o, _ := predict(&all, p, host); o.Refused || o.Bounding != host {
		t.Errorf("add ALL: %+v, want the host's set", o)
	}
	nonroot := matrixCase("fcap", pod(&corev1.SecurityContext{RunAsUser: ptr(int64(1000))}), modeFcap)
	if o, _ := predict(&nonroot, p, host); o.Permitted == 0 || o.Effective != 0 {
		t.Errorf("file-capability entrypoint as non-root: %+v, want permitted only", o)
	}

	// Docker before 23.0 expands ALL and privileged from a static list:
	// on this host runc is asked for SYS_RESOURCE and refuses, for root;
	// a non-root container there gets a bounding set only and starts.
	d20, err := runtimes.Parse("docker://20.10.24+dfsg1")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := predict(&all, d20, host); !o.Refused || o.By != "host" {
		t.Errorf("docker 20.10 add ALL on a short host: %+v, want a refusal", o)
	}
	if o, _ := predict(&all, d20, capability.All); o.Refused {
		t.Errorf("docker 20.10 add ALL on a full host: %+v, want it to run", o)
	}
	allNonRoot := matrixCase("runAsUser 1000 add ALL", pod(&corev1.SecurityContext{RunAsUser: ptr(int64(1000)),
		Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"ALL"}}}), modePlain)
	if o, _ := predict(&allNonRoot, d20, host); o.Refused || o.Bounding != d20.All()&host {
		t.Errorf("docker 20.10 non-root add ALL: %+v, want it to run with bounding %v", o, d20.All()&host)
	}
	// The kubelet's own refusal is the engine's prediction too.
	refused := matrixCase("runAsUser 0 runAsNonRoot", pod(&corev1.SecurityContext{RunAsUser: ptr(int64(0)), RunAsNonRoot: ptr(true)}), modePlain)
	if o, _ := predict(&refused, p, host); !o.Refused {
		t.Errorf("runAsNonRoot with runAsUser 0: %+v, want a refusal", o)
	}
}

func TestContainerName(t *testing.T) {
	n := containerName(7, "file-capability entrypoint, runAsUser 1000 drop ALL add NET_BIND_SERVICE")
	if len(n) > 45 || !strings.HasPrefix(n, "c007-file-capability-entrypoint") || strings.ContainsAny(n, " ,") {
		t.Errorf("containerName = %q", n)
	}
}
