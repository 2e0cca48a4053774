package suggest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func TestTargetOf(t *testing.T) {
	tests := []struct {
		kind      string
		prefix    string
		patchable bool
		code      string
	}{
		{"Deployment", "spec.template.spec", true, ""},
		{"StatefulSet", "spec.template.spec", true, ""},
		{"DaemonSet", "spec.template.spec", true, ""},
		{"ReplicaSet", "spec.template.spec", true, ""},
		{"ReplicationController", "spec.template.spec", true, ""},
		// A CronJob's pods come from spec.jobTemplate, never from its Jobs.
		{"CronJob", "spec.jobTemplate.spec.template.spec", true, ""},
		{"PodTemplate", "template.spec", true, ""},
		// The pod spec and a Job's template are immutable.
		{"Pod", "spec", false, NoteImmutable},
		{"Job", "spec.template.spec", false, NoteImmutable},
		{"Rollout", "", false, NoteUnknownWorkload},
	}
	for _, tt := range tests {
		got := TargetOf(tt.kind)
		if got.Prefix != tt.prefix || got.Patchable != tt.patchable || got.Code != tt.code || (!got.Patchable && got.Why == "") {
			t.Errorf("TargetOf(%s) = %+v, want prefix %q patchable %v code %q and a reason when not patchable", tt.kind, got, tt.prefix, tt.patchable, tt.code)
		}
	}
}

func caps(add, drop []corev1.Capability) *corev1.SecurityContext {
	return &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: add, Drop: drop}}
}

func TestStrategicPatch(t *testing.T) {
	p := Patch{Kind: "CronJob", Name: "backup", Namespace: "data", Prefix: workload.PrefixCronJob, Changes: []ContainerChange{
		{Name: "init", Type: engine.TypeInitContainer, Index: 0, Old: nil, New: Capabilities{Drop: []string{"ALL"}}},
		// The old add list must go: SMP deletes a key set to null.
		{Name: "main", Type: engine.TypeContainer, Index: 1, Old: caps([]corev1.Capability{"NET_ADMIN"}, nil), New: Capabilities{Drop: []string{"MKNOD", "NET_RAW"}}},
		// Neither list existed: nothing to delete.
		{Name: "side", Type: engine.TypeContainer, Index: 2, Old: &corev1.SecurityContext{}, New: Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}}},
	}}
	got, err := json.Marshal(p.Strategic())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"spec":{"jobTemplate":{"spec":{"template":{"spec":{` +
		`"containers":[{"name":"main","securityContext":{"capabilities":{"add":null,"drop":["MKNOD","NET_RAW"]}}},` +
		`{"name":"side","securityContext":{"capabilities":{"add":["NET_BIND_SERVICE"],"drop":["ALL"]}}}],` +
		`"initContainers":[{"name":"init","securityContext":{"capabilities":{"drop":["ALL"]}}}]}}}}}}`
	if string(got) != want {
		t.Errorf("strategic patch\n got %s\nwant %s", got, want)
	}
}

func TestJSONPatch(t *testing.T) {
	p := Patch{Kind: "Deployment", Name: "web", Namespace: "shop", Prefix: workload.PrefixController, Changes: []ContainerChange{
		{Name: "a", Type: engine.TypeContainer, Index: 0, Old: nil, New: Capabilities{Drop: []string{"ALL"}}},
		{Name: "b", Type: engine.TypeContainer, Index: 1, Old: &corev1.SecurityContext{}, New: Capabilities{Drop: []string{"NET_RAW"}}},
		{Name: "c", Type: engine.TypeInitContainer, Index: 3, Old: caps([]corev1.Capability{"SYS_ADMIN"}, []corev1.Capability{}),
			New: Capabilities{Drop: []string{"MKNOD"}}},
	}}
	want := []Op{
		{Op: "test", Path: "/spec/template/spec/containers/0/name", Value: "a"},
		{Op: "add", Path: "/spec/template/spec/containers/0/securityContext", Value: map[string]any{"capabilities": map[string]any{"drop": []string{"ALL"}}}},
		{Op: "test", Path: "/spec/template/spec/containers/1/name", Value: "b"},
		{Op: "add", Path: "/spec/template/spec/containers/1/securityContext/capabilities", Value: map[string]any{"drop": []string{"NET_RAW"}}},
		{Op: "test", Path: "/spec/template/spec/initContainers/3/name", Value: "c"},
		{Op: "remove", Path: "/spec/template/spec/initContainers/3/securityContext/capabilities/add"},
		{Op: "add", Path: "/spec/template/spec/initContainers/3/securityContext/capabilities/drop", Value: []string{"MKNOD"}},
	}
	if diff := cmp.Diff(want, p.JSONPatch()); diff != "" {
		t.Errorf("json patch (-want +got):\n%s", diff)
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		a, b, want Capabilities
	}{
		{Capabilities{Drop: []string{"MKNOD", "NET_RAW"}}, Capabilities{}, Capabilities{Drop: []string{"MKNOD", "NET_RAW"}}},
		// An add one runtime keeps and the other drops is dropped.
		{Capabilities{Add: []string{"SYS_CHROOT"}, Drop: []string{"MKNOD"}}, Capabilities{Drop: []string{"SYS_CHROOT"}},
			Capabilities{Drop: []string{"MKNOD", "SYS_CHROOT"}}},
		{Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}}, Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL", "KILL"}},
			Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL", "KILL"}}},
	}
	for _, tt := range tests {
		got := Merge(tt.a, tt.b)
		if len(got.Add) == 0 {
			got.Add = nil
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Merge(%+v, %+v) (-want +got):\n%s", tt.a, tt.b, diff)
		}
	}
}

func TestKubectlCommand(t *testing.T) {
	p := Patch{Kind: "StatefulSet", Name: "db", Namespace: "data", Prefix: workload.PrefixController, Changes: []ContainerChange{
		{Name: "it's", Type: engine.TypeContainer, New: Capabilities{Drop: []string{"ALL"}}},
	}}
	got, err := p.KubectlCommand("--context", "my ctx")
	if err != nil {
		t.Fatal(err)
	}
	want := `kubectl patch statefulset db -n data --context 'my ctx' --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"it'\''s","securityContext":{"capabilities":{"drop":["ALL"]}}}]}}}}'`
	if got != want {
		t.Errorf("command\n got %s\nwant %s", got, want)
	}
}

// TestShellQuote checks the quoting against a real shell: whatever the
// string, sh must give it back unchanged as one argument.
func TestShellQuote(t *testing.T) {
	inputs := []string{"", "plain", "a b", "it's", `"double"`, "$(rm -rf /)", "`x`", "a\nb", "tab\there", `back\slash`, "*?[]", "~home", "'", "''", "{\"a\":[1]}"}
	sh, err := exec.LookPath("sh")
	for _, in := range inputs {
		q := ShellQuote(in)
		if err != nil {
			continue
		}
		out, err := exec.Command(sh, "-c", "printf %s "+q).Output()
		if err != nil {
			t.Fatalf("sh -c printf %%s %s: %v", q, err)
		}
		if string(out) != in {
			t.Errorf("ShellQuote(%q) = %s, which sh reads as %q", in, q, out)
		}
	}
	if got := ShellQuote("deployment.apps"); got != "deployment.apps" {
		t.Errorf("a safe word must stay bare, got %s", got)
	}
	if !strings.HasPrefix(ShellQuote("a b"), "'") {
		t.Errorf("a blank must be quoted")
	}
}
