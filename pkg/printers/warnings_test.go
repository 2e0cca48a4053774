package printers

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Spec warnings on stderr are one line each, naming the object as the
// table does, the container, the field and, for manifests, FILE:LINE, with
// the short form; -o wide adds the full message; a line repeated by rows
// of one workload is printed once (issue 16 items 6 and 14).
func TestWriteWarnings(t *testing.T) {
	prefix := report.Warning{Code: "cap-prefix", Field: "spec.template.spec.containers[0].securityContext.capabilities.drop[0]",
		Location: "examples/04.yaml:18", Summary: `"CAP_NET_RAW" drops nothing on containerd: NET_RAW stays; write "NET_RAW"`,
		Message: `container "web": capabilities.drop entry "CAP_NET_RAW" drops nothing on containerd: it becomes CAP_CAP_NET_RAW, ...`}
	unknownUser := report.Warning{Code: "unknown-user", Field: "spec.template.spec.containers[0].securityContext.runAsUser",
		Summary: "no runAsUser", Message: "long"}
	live := report.Warning{Code: "add-and-drop", Field: "spec.initContainers[0].securityContext.capabilities.add[0]",
		Summary: "NET_ADMIN is both added and dropped: on containerd the drop wins; remove one", Message: "the long one"}
	deploy := workload.Ref{Kind: "Deployment", Name: "web"}
	item := func(ref workload.Ref, container string, typ engine.ContainerType, runtime string, ws ...report.Warning) report.Item {
		return report.Item{Namespace: "shop", Workload: ref, Container: container, ContainerType: typ, Runtime: runtime, Warnings: ws}
	}
	items := []report.Item{
		item(deploy, "web", engine.TypeContainer, "containerd", prefix, unknownUser),
		// The same workload on another runtime (a live audit's split
		// rows): the same warning is printed once, the user counted once.
		item(deploy, "web", engine.TypeContainer, "cri-o", prefix, unknownUser),
		item(workload.Ref{Kind: "Pod", Name: "debug"}, "setup", engine.TypeInitContainer, "containerd", live, unknownUser),
	}
	tests := []struct {
		name string
		full bool
		want []string
	}{
		{"short", false, []string{
			`Warning: examples/04.yaml:18: shop deploy/web, container web: spec.template.spec.containers[0].securityContext.capabilities.drop[0]: "CAP_NET_RAW" drops nothing on containerd: NET_RAW stays; write "NET_RAW"`,
			`Warning: shop pod/debug, container setup (init): spec.initContainers[0].securityContext.capabilities.add[0]: NET_ADMIN is both added and dropped: on containerd the drop wins; remove one`,
			`Warning: 2 container(s) set neither runAsUser nor runAsNonRoot, so the image's USER decides; they are audited as root (USER unknown). Set runAsUser or runAsNonRoot: true to make it explicit.`,
		}},
		{"wide", true, []string{
			`Warning: examples/04.yaml:18: shop deploy/web, container web: spec.template.spec.containers[0].securityContext.capabilities.drop[0]: "CAP_NET_RAW" drops nothing on containerd: NET_RAW stays; write "NET_RAW"`,
			`  container "web": capabilities.drop entry "CAP_NET_RAW" drops nothing on containerd: it becomes CAP_CAP_NET_RAW, ...`,
			`Warning: shop pod/debug, container setup (init): spec.initContainers[0].securityContext.capabilities.add[0]: NET_ADMIN is both added and dropped: on containerd the drop wins; remove one`,
			`  the long one`,
			`Warning: 2 container(s) set neither runAsUser nor runAsNonRoot, so the image's USER decides; they are audited as root (USER unknown). Set runAsUser or runAsNonRoot: true to make it explicit.`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			WriteWarnings(&b, items, tt.full)
			got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
