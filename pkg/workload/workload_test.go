package workload

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// LookupResource reads a kind as kubectl takes a resource type on its
// command line (kubectl api-resources: NAME, SHORTNAMES, KIND).
func TestLookupResource(t *testing.T) {
	for in, want := range map[string]string{
		"deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment", "Deployment": "Deployment", "DEPLOY": "Deployment",
		"po": "Pod", "pod": "Pod", "pods": "Pod",
		"sts": "StatefulSet", "statefulsets": "StatefulSet",
		"ds": "DaemonSet", "rs": "ReplicaSet", "rc": "ReplicationController", "replicationcontrollers": "ReplicationController",
		"job": "Job", "jobs": "Job", "cj": "CronJob", "cronjob": "CronJob", "cronjobs": "CronJob",
		"podtemplate": "PodTemplate", "podtemplates": "PodTemplate",
	} {
		k, ok := LookupResource(in)
		if !ok || k.Name != want {
			t.Errorf("LookupResource(%q) = %q, %v; want %q", in, k.Name, ok, want)
		}
	}
	for _, in := range []string{"", "deploymnet", "Rollout", "svc", "deploy/web"} {
		if k, ok := LookupResource(in); ok {
			t.Errorf("LookupResource(%q) = %q, want none", in, k.Name)
		}
	}
}

// Group is what `-o name` prints (deployment.apps/web): each kind must be
// registered in client-go's scheme under that group, at v1, as the API
// server serves it.
func TestKindGroupsAreTheAPIGroups(t *testing.T) {
	for _, k := range Kinds() {
		gvk := schema.GroupVersionKind{Group: k.Group, Version: "v1", Kind: k.Name}
		if !scheme.Scheme.Recognizes(gvk) {
			t.Errorf("%s: client-go's scheme does not know %v; is %q its group?", k.Name, gvk, k.Group)
		}
	}
}
