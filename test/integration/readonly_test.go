//go:build integration

package integration

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestReadOnly is the proof that the plugin never writes (issue 4 item 6):
// it runs every kind of audit as the auditor user, whom only the plugin
// uses, and reads the apiserver's audit log, which records every request.
// Every request of that user must be a get, list or watch.
func TestReadOnly(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	w := e.workloads()
	ns := w.ns
	e.addEphemeral(ns, w.webPods[0], ephemeralDebugger("nginx"))
	e.pod(ns, "pending", "", containers("app"))

	off := e.auditOffset()
	runs := [][]string{
		{"-A"},
		{"-A", "-o", "json", "--per-pod"},
		{"-n", ns, "-o", "wide"},
		{"-n", ns, "-o", "yaml", "--chunk-size", "2"},
		{"-n", ns, "-l", "app=web", "--field-selector", "status.phase!=Failed"},
		{"-n", ns, "--runtime", "cri-o"},
		{"-n", ns, "deploy/web", "sts/db", "ds/agent", "job/migrate", "cronjob/backup", "pod/lonely"},
		{"-n", ns, "deployments,statefulsets,daemonsets,jobs,cronjobs,replicasets"},
		{"ns/" + ns},
		{"-n", ns, "--fail-on", "critical"},
	}
	for _, args := range runs {
		r := runPlugin(t, kc, append([]string{"audit"}, args...)...)
		if r.Code != 0 {
			t.Errorf("audit %s: exit %d: %s", strings.Join(args, " "), r.Code, r.ErrOut)
		}
	}

	events := e.pluginEvents(off, auditorUser)
	// The filter must have caught the plugin's requests, else the proof
	// below is empty: each of these must be among them.
	seen := map[string]int{}
	for _, ev := range events {
		res := "(non-resource)"
		if ev.ObjectRef != nil {
			res = ev.ObjectRef.Resource
			if ev.ObjectRef.Subresource != "" {
				res += "/" + ev.ObjectRef.Subresource
			}
		}
		seen[ev.Verb+" "+res]++
		switch ev.Verb {
		case "get", "list", "watch":
		default:
			t.Errorf("the plugin made a %s request: %s (user agent %q, code %d)", ev.Verb, ev.RequestURI, ev.UserAgent, ev.Code())
		}
		// A denied request would mean the plugin needs more than the
		// get/list rules it was given.
		if ev.Code() == 403 {
			t.Errorf("the plugin was refused %s %s", ev.Verb, ev.RequestURI)
		}
	}
	for _, want := range []string{"list pods", "list nodes", "list replicasets", "list jobs", "get deployments", "list deployments", "get namespaces"} {
		if seen[want] == 0 {
			t.Errorf("no %q request by %s in the audit log; the filter or the runs are wrong", want, auditorUser)
		}
	}
	var summary []string
	for k, n := range seen {
		summary = append(summary, fmt.Sprintf("%s ×%d", k, n))
	}
	sort.Strings(summary)
	t.Logf("%d requests by the plugin: %s", len(events), strings.Join(summary, ", "))
}
