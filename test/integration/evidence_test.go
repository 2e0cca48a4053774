//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// igEvent is one capability check in the image-based trace_capabilities
// gadget's -o json shape (Inspektor Gadget v0.35.0 and later:
// gadgets/trace_capabilities/program.bpf.c, struct cap_event, with the
// k8s{} of pkg/types/types.go and the proc{} of
// pkg/operators/ebpf/types/types.go). owner is "" for a trace without
// k8s.owner (before v0.32.0): the plugin then resolves the pod from the
// cluster.
func igEvent(ns, pod, container, owner, cap string, capRaw int, allowed bool, syscall, comm string) string {
	k8s := map[string]any{"namespace": ns, "podName": pod, "containerName": container, "node": "node-1", "podLabels": ""}
	if kind, name, ok := strings.Cut(owner, "/"); ok {
		k8s["owner"] = map[string]string{"kind": kind, "name": name}
	}
	b, _ := json.Marshal(map[string]any{
		"audit": 1, "cap": "CAP_" + cap, "cap_raw": capRaw, "capable": allowed,
		"current_userns": 4026531837, "target_userns": 4026531837, "k8s": k8s,
		"proc":      map[string]any{"comm": comm, "pid": 42, "tid": 42, "creds": map[string]int{"uid": 0, "gid": 0}},
		"runtime":   map[string]string{"containerName": container, "runtimeName": "containerd"},
		"syscall":   "SYS_" + strings.ToUpper(syscall),
		"timestamp": "2026-11-30T10:00:00.000000000Z",
	})
	return string(b)
}

// TestSuggestDropObservedRoundTrip is issue 12's round trip: workloads on
// the real apiserver, traces naming their pods (one with k8s.owner, one
// without, resolved through the cluster's owner references), `suggest-drop
// --strategy observed -o kubectl` as a read-only user, the printed
// commands run by the real kubectl as admin, the rollout played, and the
// audit again: each traced container holds exactly what it used; the
// containers without events were not changed.
func TestSuggestDropObservedRoundTrip(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	w := e.newSuggestWorkloads("observed")
	trace := strings.Join([]string{
		// web's pods: the Deployment through ReplicaSet web-gen1 (no
		// owner in the trace).
		igEvent(w.ns, "web-gen1-0", "nginx", "", "NET_BIND_SERVICE", 10, true, "bind", "nginx"),
		igEvent(w.ns, "web-gen1-1", "nginx", "", "SETUID", 7, true, "setuid", "nginx"),
		igEvent(w.ns, "web-gen1-1", "nginx", "", "SYS_NICE", 23, false, "setpriority", "nginx"),
		igEvent(w.ns, "db-1", "postgres", "StatefulSet/db", "CHOWN", 0, true, "chown", "docker-entrypoi"),
		igEvent(w.ns, "db-1", "postgres", "StatefulSet/db", "SETGID", 6, true, "setgid", "gosu"),
	}, "\n") + "\n"
	traceFile := filepath.Join(t.TempDir(), "caps.jsonl")
	if err := os.WriteFile(traceFile, []byte(trace), 0o600); err != nil {
		t.Fatal(err)
	}

	// audit --evidence on the live cluster: USED per container.
	rep := runPlugin(t, kc, "audit", "-n", w.ns, "--evidence", traceFile, "-o", "json")
	if rep.Code != 0 {
		t.Fatalf("audit --evidence: exit %d\n%s", rep.Code, rep.ErrOut)
	}
	var live struct {
		Items []struct {
			Workload  struct{ Kind, Name string }
			Container string
			Evidence  *struct {
				Observed     bool
				Used, Denied []string
			}
		}
	}
	if err := json.Unmarshal([]byte(rep.Out), &live); err != nil {
		t.Fatal(err)
	}
	used := map[string]string{}
	for _, it := range live.Items {
		if it.Evidence == nil {
			t.Fatalf("%s/%s has no evidence object", it.Workload.Name, it.Container)
		}
		used[it.Workload.Kind+"/"+it.Workload.Name+"/"+it.Container] = strings.Join(it.Evidence.Used, ",") + "|" + strings.Join(it.Evidence.Denied, ",")
	}
	for k, want := range map[string]string{"Deployment/web/nginx": "NET_BIND_SERVICE,SETUID|SYS_NICE", "StatefulSet/db/postgres": "CHOWN,SETGID|",
		"StatefulSet/db/exporter": "|", "CronJob/backup/backup": "|"} {
		if used[k] != want {
			t.Errorf("%s: used|denied = %q, want %q", k, used[k], want)
		}
	}

	// The live table: USED and DENIED, "(no events)" where the traces saw
	// nothing, and the summary line on stderr.
	table := runPlugin(t, kc, "audit", "-n", w.ns, "--evidence", traceFile)
	if table.Code != 0 || !strings.Contains(table.Out, "USED") || !strings.Contains(table.Out, "DENIED") ||
		!strings.Contains(table.Out, "(no events)") || !strings.Contains(table.ErrOut, "Evidence: 5 audited capability check(s)") {
		t.Errorf("audit --evidence table: exit %d\n%s\n%s", table.Code, table.Out, table.ErrOut)
	}

	res := suggestRunAs(t, kc, "suggest-drop", "-n", w.ns, "--strategy", "observed", "--evidence", traceFile, "-o", "kubectl")
	if res.Code != 0 {
		t.Fatalf("suggest-drop: exit %d\n%s", res.Code, res.ErrOut)
	}
	cmds := suggestCommands(res.Out)
	var targets []string
	for _, c := range cmds {
		f := strings.Fields(c)
		targets = append(targets, f[2]+"/"+f[3])
	}
	sort.Strings(targets)
	if d := cmp.Diff([]string{"deployment/web", "statefulset/db"}, targets); d != "" {
		t.Errorf("patched workloads (-want +got):\n%s\noutput:\n%s\n%s", d, res.Out, res.ErrOut)
	}
	kubectlDir := filepath.Dir(e.srv.KubectlPath)
	for _, c := range cmds {
		sh := exec.CommandContext(e.ctx, "sh", "-c", c)
		sh.Env = append(os.Environ(), "KUBECONFIG="+e.srv.Kubeconfig(), "KUBECACHEDIR="+t.TempDir(),
			"PATH="+kubectlDir+string(os.PathListSeparator)+os.Getenv("PATH"))
		if out, err := sh.CombinedOutput(); err != nil {
			t.Fatalf("%s\n%v: %s", c, err, out)
		}
	}
	w.roll()

	after := runPlugin(t, kc, "audit", "-n", w.ns, "-o", "json").report(t)
	for _, tc := range []struct {
		kind, name, container string
		want                  []string
	}{
		// Exactly the used set, on containerd and on CRI-O alike.
		{"Deployment", "web", "nginx", []string{"NET_BIND_SERVICE", "SETUID"}},
		{"StatefulSet", "db", "postgres", []string{"CHOWN", "SETGID"}},
		// No events: kept as they were (the manifest's own lists).
		{"StatefulSet", "db", "exporter", without(containerd14, "NET_ADMIN")},
		{"CronJob", "backup", "backup", with(containerd14, "DAC_READ_SEARCH")},
	} {
		items := after.find(w.ns, tc.kind, tc.name, tc.container)
		if len(items) == 0 {
			t.Errorf("no %s %s/%s after the round trip", tc.kind, tc.name, tc.container)
		}
		for _, it := range items {
			if tc.name == "web" || tc.name == "db" && tc.container == "postgres" || it.Runtime == "containerd" {
				if d := cmp.Diff(tc.want, sorted(it.Bounding)); d != "" {
					t.Errorf("%s bounding (-want +got):\n%s", it, d)
				}
			}
		}
	}
}
