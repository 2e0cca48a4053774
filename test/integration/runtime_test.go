//go:build integration

package integration

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRuntimePerNode checks that each pod is audited with the runtime of the
// node it is bound to (status.nodeInfo.containerRuntimeVersion,
// docs/sources.md#runtime-detection) and gets that runtime's default set
// (docs/sources.md#containerd-defaults, #crio-defaults); pods whose runtime is
// unknown use --runtime and say so; an explicit --runtime wins everywhere,
// with one warning naming the node runtimes it contradicts.
func TestRuntimePerNode(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	ns := e.namespace("runtime")
	nodes := map[string]string{
		"containerd": e.node("containerd", "containerd://2.1.4"),
		"crio-new":   e.node("crio-new", "cri-o://1.31.2"),
		"crio-old":   e.node("crio-old", "cri-o://1.17.3"),
		"docker":     e.node("docker", "docker://20.10.7"),
		"foo":        e.node("foo", "foo://1.0"),
	}
	for pod, node := range nodes {
		e.pod(ns, pod, node, containers("app"))
	}
	e.pod(ns, "pending", "", containers("app"))

	// No securityContext: the user is the image's, unknown, audited as root
	// (docs/engine.md, User), so effective = bounding = the runtime's defaults.
	tests := []struct {
		pod         string
		wantRuntime string
		wantSet     []string
		// wantNote names what a note must mention when the runtime was not
		// read from the node; "" means no note may mention --runtime.
		wantNote []string
	}{
		{pod: "containerd", wantRuntime: "containerd", wantSet: containerd14},
		{pod: "crio-new", wantRuntime: "cri-o", wantSet: crio9},
		{pod: "crio-old", wantRuntime: "cri-o<1.18", wantSet: crio11},
		{pod: "docker", wantRuntime: "docker", wantSet: docker14},
		{pod: "foo", wantRuntime: "containerd", wantSet: containerd14, wantNote: []string{"foo", "--runtime"}},
		{pod: "pending", wantRuntime: "containerd", wantSet: containerd14, wantNote: []string{"--runtime"}},
	}

	off := e.auditOffset()
	rep := runPlugin(t, kc, "audit", "-n", ns, "-o", "json").report(t)
	if got := len(rep.inNamespace(ns)); got != len(tests) {
		t.Errorf("report has %d items in %s, want one per pod (%d):\n%s", got, ns, len(tests), rep.summary())
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			it := rep.one(t, ns, "Pod", tt.pod, "app")
			if it.Runtime != tt.wantRuntime {
				t.Errorf("runtime = %q, want %q", it.Runtime, tt.wantRuntime)
			}
			if diff := cmp.Diff(sorted(tt.wantSet), sorted(it.Bounding)); diff != "" {
				t.Errorf("bounding (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(sorted(tt.wantSet), sorted(it.Effective)); diff != "" {
				t.Errorf("effective (-want +got):\n%s", diff)
			}
			if it.User != "unknown" {
				t.Errorf("user = %q, want unknown (no runAsUser, no reported UID)", it.User)
			}
			note := it.noteWith("--runtime")
			switch {
			case len(tt.wantNote) == 0 && note != "":
				t.Errorf("runtime was read from the node, yet a note says %q", note)
			case len(tt.wantNote) > 0 && note == "":
				t.Errorf("no note says the runtime came from --runtime; notes: %q", it.Notes)
			}
			for _, w := range tt.wantNote {
				if !strings.Contains(note, w) {
					t.Errorf("note %q does not mention %q", note, w)
				}
			}
		})
	}

	t.Run("nodes are listed once, pods are never fetched one by one", func(t *testing.T) {
		nodeLists := 0
		for _, ev := range e.pluginEvents(off, auditorUser) {
			if ev.ObjectRef == nil || ev.ObjectRef.Resource != "nodes" && ev.ObjectRef.Resource != "pods" {
				continue
			}
			if ev.Verb != "list" {
				t.Errorf("unexpected %s %s", ev.Verb, ev.RequestURI)
			} else if ev.ObjectRef.Resource == "nodes" {
				nodeLists++
			}
		}
		if nodeLists != 1 {
			t.Errorf("listed nodes %d times, want once", nodeLists)
		}
	})

	// docs/sources.md#crio-defaults: CRI-O's default set is configurable per node
	// (crio.conf default_capabilities) and the API does not show it, so a
	// pod audited on a CRI-O node must be flagged as assuming the upstream
	// default.
	t.Run("cri-o pods are flagged as configurable", func(t *testing.T) {
		for _, pod := range []string{"crio-new", "crio-old"} {
			it := rep.one(t, ns, "Pod", pod, "app")
			if it.noteWith("default_capabilities") == "" {
				t.Errorf("pod %s on a CRI-O node: no note says crio.conf default_capabilities may differ; notes: %q", pod, it.Notes)
			}
		}
	})

	t.Run("explicit --runtime overrides every node", func(t *testing.T) {
		off := e.auditOffset()
		r := runPlugin(t, kc, "audit", "-n", ns, "-o", "json", "--runtime", "cri-o")
		rep := r.report(t)
		items := rep.inNamespace(ns)
		if len(items) != len(tests) {
			t.Errorf("report has %d items, want %d", len(items), len(tests))
		}
		for _, it := range items {
			if it.Runtime != "cri-o" {
				t.Errorf("%s: runtime = %q, want cri-o", it, it.Runtime)
			}
			if diff := cmp.Diff(sorted(crio9), sorted(it.Effective)); diff != "" {
				t.Errorf("%s: effective (-want +got):\n%s", it, diff)
			}
		}
		// The nodes are still listed (list only), to say once which node
		// runtimes the override contradicts: containerd, CRI-O 1.17 and
		// Docker; not foo://1.0 (unknown) nor pending (no node).
		for _, ev := range e.pluginEvents(off, auditorUser) {
			if ev.ObjectRef != nil && ev.ObjectRef.Resource == "nodes" && ev.Verb != "list" {
				t.Errorf("with --runtime set the plugin did more than list nodes: %s %s", ev.Verb, ev.RequestURI)
			}
		}
		want := "--runtime cri-o overrides the runtime of 3 pods whose nodes report containerd://2.1.4, cri-o://1.17.3, docker://20.10.7"
		if strings.Count(r.ErrOut, "--runtime cri-o overrides") != 1 || !strings.Contains(r.ErrOut, want) {
			t.Errorf("stderr lacks one warning %q:\n%s", want, r.ErrOut)
		}
	})

}
