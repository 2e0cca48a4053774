package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// An SCC is granted per service account: the allowance's SCC binds the
// workload's account, and names the other workloads that share it.
func TestSCCAllowanceBindsTheServiceAccount(t *testing.T) {
	web := ctr("shop", "Deployment", "web", "app", []string{"NET_BIND_SERVICE"}, nil, false)
	web.Pod = PodAccess{ServiceAccount: "web"}
	proxy := ctr("shop", "Deployment", "proxy", "envoy", nil, nil, false)
	proxy.Pod = PodAccess{ServiceAccount: "default", HostNetwork: true}
	batch := ctr("shop", "Job", "batch", "run", nil, nil, false)
	batch.Pod = PodAccess{ServiceAccount: "default"}
	allow, err := ParseAllow([]string{"shop/deploy/proxy:envoy=NET_ADMIN"})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Build([]Container{web, proxy, batch}, Options{Mode: ModeObserved, Scope: ScopeNamespace, Allow: allow})
	if err != nil || len(ps) != 1 {
		t.Fatalf("%v %v", ps, err)
	}
	set := SCCs(&ps[0])
	if len(set.SCCs) != 2 || len(set.ClusterRoles) != 2 || len(set.RoleBindings) != 2 {
		t.Fatalf("want two SCCs, roles and bindings, got %d, %d, %d", len(set.SCCs), len(set.ClusterRoles), len(set.RoleBindings))
	}
	main, extra := set.SCCs[0], set.SCCs[1]
	if diff := cmp.Diff([]SCCBinding{{"shop", "default"}, {"shop", "web"}}, main.Bindings()); diff != "" {
		t.Errorf("main SCC bindings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]SCCBinding{{"shop", "default"}}, extra.Bindings()); diff != "" {
		t.Errorf("allowance bindings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"NET_BIND_SERVICE", "NET_ADMIN"}, extra.AllowedCapabilities); diff != "" {
		t.Errorf("allowance capabilities (-want +got):\n%s", diff)
	}
	if !main.AllowHostNetwork || !extra.AllowHostNetwork {
		t.Errorf("observed mode: host network as the proxy uses it, got %v %v", main.AllowHostNetwork, extra.AllowHostNetwork)
	}
	comment := strings.Join(set.Comments[1], "\n")
	for _, want := range []string{"not only envoy", "SHARED", "shop/job/batch (service account default)"} {
		if !strings.Contains(comment, want) {
			t.Errorf("allowance comment lacks %q:\n%s", want, comment)
		}
	}
	if strings.Contains(comment, "deploy/web") {
		t.Errorf("web has its own account, yet is named as sharing:\n%s", comment)
	}
}

// What an SCC refuses: added names not listed exactly (any spelling),
// privileged, and host access outside observed mode; a missing drop of ALL
// it completes instead.
func TestSCCRejects(t *testing.T) {
	hostNet := ctr("ns", "Pod", "agent", "a", nil, []string{"ALL"}, false)
	hostNet.Pod.HostNetwork = true
	tests := []struct {
		name string
		mode string
		c    Container
		want []string
	}{
		{"restricted: NET_BIND_SERVICE without drop", ModeRestricted, ctr("ns", "Pod", "p", "a", []string{"NET_BIND_SERVICE"}, nil, false), nil},
		{"restricted: CAP_ prefix", ModeRestricted, ctr("ns", "Pod", "p", "a", []string{"CAP_NET_BIND_SERVICE"}, []string{"ALL"}, false), []string{`adds "CAP_NET_BIND_SERVICE"`}},
		{"baseline: lower case", ModeBaseline, ctr("ns", "Pod", "p", "a", []string{"chown"}, nil, false), []string{`adds "chown"`}},
		{"baseline: privileged", ModeBaseline, ctr("ns", "Pod", "p", "a", nil, nil, true), []string{"is privileged"}},
		{"baseline: host network", ModeBaseline, hostNet, []string{"its pod uses hostNetwork"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := Build([]Container{tt.c}, Options{Mode: tt.mode, Scope: ScopeNamespace})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ps[0].SCCRejects(&tt.c)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
