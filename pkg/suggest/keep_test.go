package suggest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func TestParseKeepRule(t *testing.T) {
	caps := func(cs ...capability.Cap) capability.Set { return capability.SetOf(cs...) }
	tests := []struct {
		in      string
		want    KeepRule
		wantErr string
	}{
		{in: "shop/deploy/web:nginx=NET_RAW", want: KeepRule{Namespace: "shop", Kind: "Deployment", Name: "web", Container: "nginx", Caps: caps(capability.NET_RAW)}},
		{in: "deployments/web=net_raw,CAP_SYS_PTRACE", want: KeepRule{Kind: "Deployment", Name: "web", Caps: caps(capability.NET_RAW, capability.SYS_PTRACE)}},
		{in: "Deployment/web=NET_RAW", want: KeepRule{Kind: "Deployment", Name: "web", Caps: caps(capability.NET_RAW)}},
		{in: "cj/backup:backup=DAC_READ_SEARCH", want: KeepRule{Kind: "CronJob", Name: "backup", Container: "backup", Caps: caps(capability.DAC_READ_SEARCH)}},
		// A custom resource's kind, exactly as its objects spell it.
		{in: "argo/Rollout/web=NET_ADMIN", want: KeepRule{Namespace: "argo", Kind: "Rollout", Name: "web", Caps: caps(capability.NET_ADMIN)}},
		{in: "web=NET_RAW", wantErr: `"web" is no [NAMESPACE/]KIND/NAME`},
		{in: "a/b/c/d=NET_RAW", wantErr: `"a/b/c/d" is no [NAMESPACE/]KIND/NAME`},
		{in: "deploy/web", wantErr: "no '=' before the capabilities"},
		{in: "deploymnet/web=NET_RAW", wantErr: `unknown kind "deploymnet"`},
		{in: "rollout/web=NET_RAW", wantErr: `unknown kind "rollout"`},
		{in: "Shop_NS/deploy/web=NET_RAW", wantErr: `namespace "Shop_NS"`},
		{in: "deploy/Web=NET_RAW", wantErr: `name "Web"`},
		{in: "deploy/web:Nginx=NET_RAW", wantErr: `container name "Nginx"`},
		{in: "deploy/web=", wantErr: "unknown capability"},
		{in: "deploy/web=NET_RAWW", wantErr: "did you mean NET_RAW?"},
		{in: "deploy/web=all", wantErr: "ALL would keep everything"},
		{in: "deploy/web=NET_RAW,deploy/api=CHOWN", wantErr: "one --keep per container: repeat the flag"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseKeepRule(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Text = tt.in
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A per-container rule reaches only the containers it selects, on top of
// the global --keep, through ForTarget; Unmatched names the rules that
// selected nothing.
func TestKeepRulesSelectContainers(t *testing.T) {
	spec := podSpec(t, `
containers:
- name: app
  image: x
  securityContext: {runAsUser: 0}
- name: sidecar
  image: x
  securityContext: {runAsUser: 0}`)
	rule := func(s string) KeepRule {
		r, err := ParseKeepRule(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	o := Options{Strategy: Strict, Keep: capability.SetOf(capability.CHOWN), Rules: []KeepRule{
		rule("shop/deploy/web:app=NET_RAW"),
		rule("deployments/web=KILL"),
		rule("other/deploy/web=SETUID"),
		rule("deploy/web:nope=SETGID"),
		rule("sts/web=FOWNER"),
	}}
	tg := &workload.Target{Namespace: "shop", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Spec: spec, FieldPrefix: workload.PrefixController, Profile: mustProfile(t, "containerd")}
	w := o.ForTarget(tg, TargetOf("Deployment"), "")
	got := map[string][]string{}
	for _, c := range w.Containers {
		got[c.Item.Container] = names(c.Item.Keep)
	}
	want := map[string][]string{"app": {"CHOWN", "KILL", "NET_RAW"}, "sidecar": {"CHOWN", "KILL"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keep per container (-want +got):\n%s", diff)
	}
	if got := o.KeepFor("shop", "Deployment", "web", "sidecar"); got != capability.SetOf(capability.CHOWN, capability.KILL) {
		t.Errorf("KeepFor(sidecar) = %v", got)
	}
	err := o.Unmatched([]*Workload{w})
	if want := "--keep other/deploy/web=SETUID, --keep deploy/web:nope=SETGID, --keep sts/web=FOWNER matched no container"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("unmatched: %v, want %q", err, want)
	}
	o.Rules = o.Rules[:2]
	if err := o.Unmatched([]*Workload{w}); err != nil {
		t.Errorf("every rule matched, got %v", err)
	}
}

// Live, the rules reach containers through ForPods and ForTemplate too,
// including a container the pods run but the template lacks (injected).
func TestKeepRulesLive(t *testing.T) {
	pods := podSpec(t, `
containers:
- name: app
  image: x
  securityContext: {runAsUser: 0}
- name: injected
  image: x
  securityContext: {runAsUser: 0}`)
	tmpl := podSpec(t, `
containers:
- name: app
  image: x
  securityContext: {runAsUser: 0}`)
	tg := &workload.Target{Namespace: "shop", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Pods: 2, Spec: pods, Profile: mustProfile(t, "containerd")}
	g := &Pods{Namespace: "shop", Kind: "Deployment", Name: "web"}
	audit.Each(tg, func(c *audit.Container) { g.Containers = append(g.Containers, *c) })
	r1, err := ParseKeepRule("shop/deploy/web:app=NET_RAW")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := ParseKeepRule("deploy/web:injected=MKNOD")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Strategy: Strict, Rules: []KeepRule{r1, r2}}
	want := map[string][]string{"app": {"NET_RAW"}, "injected": {"MKNOD"}}
	for name, w := range map[string]*Workload{
		"ForPods":     o.ForPods(g, TargetOf("Deployment")),
		"ForTemplate": o.ForTemplate(g, tmpl, &metav1.ObjectMeta{}, "", TargetOf("Deployment")),
	} {
		got := map[string][]string{}
		for _, c := range w.Containers {
			got[c.Item.Container] = names(c.Item.Keep)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: keep per container (-want +got):\n%s", name, diff)
		}
		if err := o.Unmatched([]*Workload{w}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
