//go:build integration

package integration

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// TestReportedUID: the UID the runtime reports in
// status.containerStatuses[].user.linux.uid decides the user when the spec
// does not (docs/sources.md#container-user; docs/engine.md, User: runAsUser,
// container then pod, else the reported UID, else unknown).
func TestReportedUID(t *testing.T) {
	e := newEnv(t)
	kc := e.auditor()
	ns := e.namespace("uid")
	node := e.node("uid", "containerd://2.1.4")

	tests := []struct {
		name     string
		spec     corev1.PodSpec
		reported map[string]int64
		// per container
		wantUser   map[string]string
		wantUID    map[string]*int64
		wantSource map[string]string
	}{
		{
			name:       "reported-1000",
			spec:       containers("app"),
			reported:   map[string]int64{"app": 1000},
			wantUser:   map[string]string{"app": "nonroot"},
			wantUID:    map[string]*int64{"app": ptr(int64(1000))},
			wantSource: map[string]string{"app": "status.user.linux.uid"},
		},
		{
			name:       "reported-0",
			spec:       containers("app"),
			reported:   map[string]int64{"app": 0},
			wantUser:   map[string]string{"app": "root"},
			wantUID:    map[string]*int64{"app": ptr(int64(0))},
			wantSource: map[string]string{"app": "status.user.linux.uid"},
		},
		{
			// Each container's own status: the one without a status stays
			// unknown.
			name:       "reported-for-one-of-two",
			spec:       containers("app", "sidecar"),
			reported:   map[string]int64{"app": 1000},
			wantUser:   map[string]string{"app": "nonroot", "sidecar": "unknown"},
			wantUID:    map[string]*int64{"app": ptr(int64(1000))},
			wantSource: map[string]string{"app": "status.user.linux.uid"},
		},
		{
			// runAsNonRoot says only "not 0"; the reported UID says which.
			name: "run-as-non-root-reported-1000",
			spec: corev1.PodSpec{
				SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr(true)},
				Containers:      []corev1.Container{{Name: "app"}},
			},
			reported:   map[string]int64{"app": 1000},
			wantUser:   map[string]string{"app": "nonroot"},
			wantUID:    map[string]*int64{"app": ptr(int64(1000))},
			wantSource: map[string]string{"app": "status.user.linux.uid"},
		},
	}
	for _, tt := range tests {
		e.pod(ns, tt.name, node, tt.spec)
		e.reportUID(ns, tt.name, tt.reported)
	}
	rep := runPlugin(t, kc, "audit", "-n", ns, "-o", "json").report(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range tt.spec.Containers {
				it := rep.one(t, ns, "Pod", tt.name, c.Name)
				if it.User != tt.wantUser[c.Name] {
					t.Errorf("%s: user = %q, want %q", c.Name, it.User, tt.wantUser[c.Name])
				}
				if diff := cmp.Diff(tt.wantUID[c.Name], it.UID); diff != "" {
					t.Errorf("%s: uid (-want +got):\n%s", c.Name, diff)
				}
				if it.UserSource != tt.wantSource[c.Name] {
					t.Errorf("%s: userSource = %q, want %q", c.Name, it.UserSource, tt.wantSource[c.Name])
				}
				// A non-zero UID holds nothing after exec
				// (docs/sources.md#exec-transformation); root (and
				// unknown, audited as root) holds the bounding set.
				var wantEff []string
				if tt.wantUser[c.Name] != "nonroot" {
					wantEff = containerd14
				}
				if diff := cmp.Diff(sorted(wantEff), sorted(it.Effective)); diff != "" {
					t.Errorf("%s: effective (-want +got):\n%s", c.Name, diff)
				}
				if diff := cmp.Diff(sorted(containerd14), sorted(it.Bounding)); diff != "" {
					t.Errorf("%s: bounding (-want +got):\n%s", c.Name, diff)
				}
			}
		})
	}
}
