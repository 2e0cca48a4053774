package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
)

func TestFromExceptions(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	cs := []Container{
		{Namespace: "kube-system", Kind: "DaemonSet", Name: "calico-node", Container: "calico-node"},
		{Namespace: "kube-system", Kind: "DaemonSet", Name: "calico-node", Container: "calico-init"},
		{Namespace: "kube-system", Kind: "DaemonSet", Name: "calico-typha", Container: "typha"},
		{Namespace: "net", Kind: "Pod", Name: "probe", Container: "probe"},
		{Namespace: "net", Kind: "Rollout", Name: "canary", Container: "app"},
	}
	netAdmin := capability.Set(0).Add(capability.Cap(12)) // NET_ADMIN
	tests := []struct {
		name  string
		entry exception.Entry
		want  []string // the allowances' Text
		note  string
		err   string
	}{
		{name: "a name glob: one allowance per workload, for all its containers",
			entry: exception.Entry{Namespace: "kube-*", Kind: "daemonset", Name: "calico-*", Caps: netAdmin},
			want:  []string{"kube-system/ds/calico-node=NET_ADMIN", "kube-system/ds/calico-typha=NET_ADMIN"}},
		{name: "a container glob: one allowance per container",
			entry: exception.Entry{Name: "calico-node", Container: "calico-*", Caps: netAdmin},
			want:  []string{"kube-system/ds/calico-node:calico-node=NET_ADMIN", "kube-system/ds/calico-node:calico-init=NET_ADMIN"}},
		{name: "the annotation's any container",
			entry: exception.Entry{Namespace: "net", Kind: "Pod", Name: "probe", Container: "*", Caps: netAdmin},
			want:  []string{"net/pod/probe=NET_ADMIN"}},
		{name: "a holding rule narrows audit's findings, not the policy's allowance",
			entry: exception.Entry{Name: "probe", Caps: netAdmin, Rules: []string{"CAPS001", "CAPS002"}},
			want:  []string{"net/pod/probe=NET_ADMIN"}},
		{name: "expired", entry: exception.Entry{Name: "probe", Caps: netAdmin, Expires: now.AddDate(0, 0, -1)},
			note: "expired on 2026-11-29 and no longer applies"},
		{name: "its last day applies", entry: exception.Entry{Name: "probe", Caps: netAdmin, Expires: now.Truncate(24 * time.Hour)},
			want: []string{"net/pod/probe=NET_ADMIN"}},
		{name: "nothing read", entry: exception.Entry{Namespace: "shop", Caps: netAdmin}, note: "selects no container read"},
		{name: "another rule", entry: exception.Entry{Name: "probe", Caps: netAdmin, Rules: []string{"CAPS002", "CAPS101"}},
			err: "excepts rule CAPS101: a policy allows capabilities per workload"},
		{name: "no capabilities", entry: exception.Entry{Name: "probe", Rules: []string{"CAPS002"}}, err: "names no capabilities"},
		{name: "a kind the policy does not match", entry: exception.Entry{Namespace: "net", Caps: netAdmin},
			err: "selects net/Rollout/canary, of a kind the policy does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.entry.Origin, tt.entry.Reason = "x.yaml:4", "why"
			got, notes, err := FromExceptions([]exception.Entry{tt.entry}, cs, now)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "x.yaml:4") {
					t.Fatalf("err %v, want one naming x.yaml:4 with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, a := range got {
				texts = append(texts, a.Text)
				if a.Origin != "x.yaml:4" || a.Reason != "why" || !a.Matches(a.Namespace, a.Kind, a.Name, a.Container) {
					t.Errorf("allowance %+v", a)
				}
			}
			if diff := cmp.Diff(tt.want, texts); diff != "" {
				t.Errorf("allowances (-want +got):\n%s", diff)
			}
			if tt.note == "" && len(notes) > 0 || tt.note != "" && (len(notes) != 1 || !strings.Contains(notes[0], tt.note)) {
				t.Errorf("notes %q, want %q", notes, tt.note)
			}
		})
	}
}

// The policy comment says where an exception's allowance comes from and why.
func TestAllowanceBy(t *testing.T) {
	got, _, err := FromExceptions([]exception.Entry{{Name: "probe", Container: "probe", Caps: capability.Set(0).Add(capability.Cap(12)),
		Origin: "x.yaml:4", Reason: "ping probes"}}, []Container{{Namespace: "net", Kind: "Pod", Name: "probe", Container: "probe"}}, time.Now())
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if want := "x.yaml:4, for net/pod/probe:probe (reason: ping probes)"; got[0].By() != want {
		t.Errorf("By() = %q, want %q", got[0].By(), want)
	}
}
