package workload

import "strings"

// PodTemplateHashLabel is the label the Deployment controller puts on each
// ReplicaSet it creates and on that ReplicaSet's pods
// (apps.DefaultDeploymentUniqueLabelKey in kubernetes pkg/apis/apps).
const PodTemplateHashLabel = "pod-template-hash"

// DeploymentOf is the naming rule for a ReplicaSet whose owner cannot be
// read: the Deployment controller names each ReplicaSet it creates
// "<deployment>-<pod-template-hash>" (kubernetes
// pkg/controller/deployment/sync.go, getNewReplicaSet), so a ReplicaSet
// named that way with a non-empty hash belongs to the Deployment <deployment>.
// It is the one place that rule lives: the live source (cluster.Owners.Of)
// and the trace reader (pkg/evidence) both call it.
func DeploymentOf(replicaSet, podTemplateHash string) (Ref, bool) {
	if podTemplateHash == "" {
		return Ref{}, false
	}
	name, ok := strings.CutSuffix(replicaSet, "-"+podTemplateHash)
	if !ok || name == "" {
		return Ref{}, false
	}
	return Ref{Kind: "Deployment", Name: name}, true
}
