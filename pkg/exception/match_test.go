package exception

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func TestMatch(t *testing.T) {
	data, err := os.ReadFile("testdata/exceptions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file, err := ParseFile("testdata/exceptions.yaml", data, knownRule)
	if err != nil {
		t.Fatal(err)
	}
	ann, err := FromAnnotation("apps", workload.Ref{Kind: "Deployment", Name: "web"}, []string{"web", "sidecar"},
		"web: NET_RAW; *: NET_BIND_SERVICE; reason: ping probes")
	if err != nil {
		t.Fatal(err)
	}
	set := Set{Entries: append(file, ann...)}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	calico := func(c capability.Cap) Subject {
		return Subject{Namespace: "kube-system", Kind: "DaemonSet", Name: "calico-node", Container: "calico-node", Rule: "CAPS001", Cap: c, HasCap: true}
	}
	tests := []struct {
		name    string
		s       Subject
		now     time.Time
		index   int
		expired int
	}{
		{"file entry by glob", calico(capability.NET_ADMIN), now, 0, 0},
		{"kind compares without case", func() Subject { s := calico(capability.NET_RAW); s.Kind = "daemonset"; return s }(), now, 0, 0},
		{"a capability the entry does not list", calico(capability.SYS_PTRACE), now, -1, 0},
		{"another container", func() Subject { s := calico(capability.NET_ADMIN); s.Container = "install-cni"; return s }(), now, -1, 0},
		{"another namespace", func() Subject { s := calico(capability.NET_ADMIN); s.Namespace = "default"; return s }(), now, -1, 0},
		{"by rule, any capability, until its last day", Subject{Namespace: "monitoring", Kind: "DaemonSet", Name: "node-exporter", Container: "x", Rule: "CAPS003"}, time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC), 1, 0},
		{"by rule, the day after", Subject{Namespace: "monitoring", Kind: "DaemonSet", Name: "node-exporter", Container: "x", Rule: "CAPS003"}, time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC), -1, 1},
		{"another rule", Subject{Namespace: "monitoring", Kind: "DaemonSet", Name: "node-exporter", Container: "x", Rule: "CAPS001"}, now, -1, 0},
		{"rules and caps both must match: expired", Subject{Name: "ntp", Rule: "CAPS002", Cap: capability.SYS_TIME, HasCap: true}, now, -1, 2},
		{"rules and caps both must match: other cap", Subject{Name: "ntp", Rule: "CAPS002", Cap: capability.SYS_NICE, HasCap: true}, now, -1, 0},
		{"a finding about no capability", Subject{Name: "ntp", Rule: "CAPS002"}, now, -1, 0},
		{"annotation, its container", Subject{Namespace: "apps", Kind: "Deployment", Name: "web", Container: "web", Rule: "CAPS001", Cap: capability.NET_RAW, HasCap: true}, now, 3, 0},
		{"annotation, not the other container", Subject{Namespace: "apps", Kind: "Deployment", Name: "web", Container: "sidecar", Rule: "CAPS001", Cap: capability.NET_RAW, HasCap: true}, now, -1, 0},
		{"annotation, '*' is every container", Subject{Namespace: "apps", Kind: "Deployment", Name: "web", Container: "sidecar", Rule: "CAPS001", Cap: capability.NET_BIND_SERVICE, HasCap: true}, now, 4, 0},
		{"annotation, not another workload", Subject{Namespace: "apps", Kind: "Deployment", Name: "web2", Container: "web", Rule: "CAPS001", Cap: capability.NET_RAW, HasCap: true}, now, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := set.Match(tt.s, tt.now)
			if m.Index != tt.index || m.Excepted() != (tt.index >= 0) {
				t.Fatalf("Match = %d, want %d", m.Index, tt.index)
			}
			if tt.index >= 0 && m.Entry.Origin != set.Entries[tt.index].Origin {
				t.Errorf("entry %q, want %q", m.Entry.Origin, set.Entries[tt.index].Origin)
			}
			if tt.expired != 0 && (len(m.Expired) != 1 || m.Expired[0] != tt.expired) || tt.expired == 0 && len(m.Expired) != 0 {
				t.Errorf("expired = %v, want [%d]", m.Expired, tt.expired)
			}
		})
	}

	used := make([]bool, len(set.Entries))
	used[0] = true
	var unused []string
	for _, e := range set.Unused(used, now) {
		unused = append(unused, e.Origin)
	}
	if got, want := strings.Join(unused, " | "), "testdata/exceptions.yaml:11 | apps/deploy/web annotation caps.kubectl-caps.io/allow | apps/deploy/web annotation caps.kubectl-caps.io/allow"; got != want {
		t.Errorf("Unused = %q, want %q", got, want)
	}
	if exp := set.ExpiredEntries(now); len(exp) != 1 || exp[0].Origin != "testdata/exceptions.yaml:16" {
		t.Errorf("ExpiredEntries = %+v", exp)
	}
}

func TestFromAnnotationErrors(t *testing.T) {
	ref := workload.Ref{Kind: "DaemonSet", Name: "calico-node"}
	_, err := FromAnnotation("kube-system", ref, []string{"calico-node", "install-cni"}, "calico: NET_ADMIN; reason: CNI")
	if err == nil || err.Error() != `kube-system/ds/calico-node: caps.kubectl-caps.io/allow names container "calico", which the workload does not have (it has calico-node, install-cni)` {
		t.Errorf("unknown container: %v", err)
	}
	_, err = FromAnnotation("kube-system", ref, []string{"calico-node"}, "calico-node: NET_ADMIN")
	if err == nil || !strings.HasPrefix(err.Error(), "kube-system/ds/calico-node: caps.kubectl-caps.io/allow: column 23: no reason") {
		t.Errorf("syntax: %v", err)
	}
}

// A workload whose name holds glob characters (a manifest is input) is
// matched exactly, not as a pattern.
func TestAnnotationNamesAreNotGlobs(t *testing.T) {
	ann, err := FromAnnotation("ns", workload.Ref{Kind: "Deployment", Name: "w*"}, []string{"c"}, "c: NET_RAW; reason: r")
	if err != nil {
		t.Fatal(err)
	}
	set := Set{Entries: ann}
	s := Subject{Namespace: "ns", Kind: "Deployment", Name: "wx", Container: "c", Cap: capability.NET_RAW, HasCap: true}
	if set.Match(s, time.Now()).Excepted() {
		t.Error("w* matched wx")
	}
	s.Name = "w*"
	if !set.Match(s, time.Now()).Excepted() {
		t.Error("w* did not match itself")
	}
}
