// Package workload is what the sources hand to the engine: a pod spec with
// where it came from (Target), the built-in kinds that carry pod templates
// (Kind), and the rollup that makes the pods of one workload one target.
// It knows no clients, files or printers.
package workload

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/safetext"
)

// Ref names the object a container belongs to: the controller for pods
// that have one, else the pod.
type Ref struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Label names the workload as kubectl takes it on the command line, the
// way every table and message shows it: kubectl's short name for a
// built-in kind (deploy/web, sts/db, cronjob/backup), other kinds (custom
// resources) by their kind, which kubectl also accepts.
func (r Ref) Label() string {
	kind := r.Kind
	if k, ok := Lookup(kind); ok {
		kind = k.Short
	}
	// Quoted when the name is not printable text: a manifest's names reach
	// the output unvalidated (safetext).
	return safetext.Quote(kind + "/" + r.Name)
}

// Target is one pod spec to judge, with where it came from.
type Target struct {
	Namespace string
	Workload  Ref
	// Source is the file (and document) a manifest came from.
	Source string
	// Pods counts the pods a live target stands for.
	Pods int
	// Pod names the first of those pods.
	Pod string

	Spec *corev1.PodSpec
	Meta *metav1.ObjectMeta
	// FieldPrefix is where Spec sits in the object, e.g. "spec.template.spec".
	FieldPrefix string
	Profile     runtimes.Profile
	// ObservedUIDs maps container names to the UID the runtime reported in
	// status.*ContainerStatuses[].user.linux.uid.
	ObservedUIDs map[string]int64
	// UnknownFields are misspelt fields of the pod template (manifests
	// only); each becomes a warning on the container it belongs to.
	UnknownFields []string
	// Notes apply to every container, e.g. how the runtime was chosen.
	Notes []string
	// Locate, for a manifest, says where a field path of the object (as a
	// warning names it, "spec.template.spec.containers[0]...") is written:
	// "FILE:LINE", the line of the field or of its nearest ancestor the
	// manifest writes, or FILE alone when lines are not known. Nil for a
	// live object.
	Locate func(field string) string
	// Position is Locate as a value: the file and the line and column of
	// the same node, for findings (pkg/report, docs/findings.md). Nil for a
	// live object.
	Position func(field string) Position
	// FromTemplate: a live controller none of whose pods exists now (scaled
	// to zero, a CronJob between runs); Spec is its pod template and Pods
	// is 0.
	FromTemplate bool
}

// Position is where a node of a manifest is written: File as the source
// names it (the path as given, a URL, "STDIN"), the 1-based Line and
// Column (in characters) of the node, or of its nearest ancestor the
// manifest writes; Line or Column is 0 when not known (kustomize's output,
// a URL, a document that cannot be parsed again). The zero Position is a
// live object's.
type Position struct {
	File   string
	Line   int
	Column int
}

// Template is a controller's pod template as a live source read it,
// reduced to what a verdict reads (Relevant).
type Template struct {
	Spec *corev1.PodSpec
	Meta *metav1.ObjectMeta
	// Managed is "Kind/name" of the controller's own controller (an
	// operator's resource), whose reconciliation would undo a patch.
	Managed string
}

// Pod spec paths of the built-in kinds.
const (
	PrefixPod         = "spec"
	PrefixController  = "spec.template.spec"
	PrefixCronJob     = "spec.jobTemplate.spec.template.spec"
	PrefixPodTemplate = "template.spec"
)

// Kind is a built-in kind whose objects carry a pod spec: the one table
// every source, suggestion and printer reads.
type Kind struct {
	Name string
	// Short is how tables name the kind, as kubectl takes it on the
	// command line (deploy/web): kubectl's short name (kubectl
	// api-resources) where it has one, the resource in full for Pod, Job
	// and CronJob ("po/" and "cj/" read as codes) and PodTemplate.
	Short string
	// Aliases are kubectl's other short names for the kind (kubectl
	// api-resources), where they differ from Short: "po", "cj".
	Aliases []string
	// Group is the kind's API group, "" for the core group (kubectl's
	// `-o name` prints deployment.apps/web, pod/web).
	Group string
	// Prefix is the path of the pod spec in the object.
	Prefix string
	// Controller: it creates pods, which point back at it (or at its own
	// controller) through ownerReferences.
	Controller bool
	// Mutable: its pod template can change after creation, so a patch of
	// it reaches the pods created afterwards.
	Mutable bool
	// Rollout says what happens to running pods when the template changes.
	Rollout string
	// Immutable says why the pod spec cannot be changed, when !Mutable.
	Immutable string
}

// Kinds are the built-in kinds, in the order the docs list them.
var kinds = []Kind{
	{Name: "Pod", Short: "pod", Aliases: []string{"po"}, Prefix: PrefixPod, Immutable: "A Pod's containers cannot change their securityContext after creation (the pod spec is immutable): " +
		"change the manifest or the controller that creates the pod, and recreate it"},
	{Name: "Deployment", Short: "deploy", Group: "apps", Prefix: PrefixController, Controller: true, Mutable: true, Rollout: "the controller replaces the running pods (a rollout)"},
	{Name: "StatefulSet", Short: "sts", Group: "apps", Prefix: PrefixController, Controller: true, Mutable: true, Rollout: "the controller replaces the running pods (a rollout)"},
	{Name: "DaemonSet", Short: "ds", Group: "apps", Prefix: PrefixController, Controller: true, Mutable: true, Rollout: "the controller replaces the running pods (a rollout)"},
	{Name: "ReplicaSet", Short: "rs", Group: "apps", Prefix: PrefixController, Controller: true, Mutable: true, Rollout: "running pods keep the old spec; only pods created from now on get the change"},
	{Name: "ReplicationController", Short: "rc", Prefix: PrefixController, Controller: true, Mutable: true, Rollout: "running pods keep the old spec; only pods created from now on get the change"},
	{Name: "Job", Short: "job", Group: "batch", Prefix: PrefixController, Controller: true, Immutable: "A Job's pod template cannot change after creation (spec.template is immutable): " +
		"change the manifest (or the CronJob that creates it) and recreate the Job"},
	{Name: "CronJob", Short: "cronjob", Aliases: []string{"cj"}, Group: "batch", Prefix: PrefixCronJob, Controller: true, Mutable: true, Rollout: "the next Jobs get the change; running Jobs keep the old spec"},
	{Name: "PodTemplate", Short: "podtemplate", Prefix: PrefixPodTemplate, Mutable: true, Rollout: "nothing runs from a PodTemplate directly; objects copied from it later get the change"},
}

// Kinds returns the built-in kinds that carry a pod spec.
func Kinds() []Kind { return append([]Kind(nil), kinds...) }

// Lookup returns the built-in kind of that name.
func Lookup(name string) (Kind, bool) {
	for _, k := range kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}

// LookupResource returns the built-in kind that s names the way kubectl
// takes a resource type on its command line: the kind (Deployment, in any
// case), the resource in the singular or plural (deployment, deployments)
// or a short name (deploy, po, cj).
func LookupResource(s string) (Kind, bool) {
	l := strings.ToLower(s)
	for _, k := range kinds {
		if l == strings.ToLower(k.Name) || l == k.Plural() || l == k.Short {
			return k, true
		}
		for _, a := range k.Aliases {
			if l == a {
				return k, true
			}
		}
	}
	return Kind{}, false
}

// Resource is the name kubectl takes for a kind, e.g. "deployment" for
// Deployment, as in "kubectl patch deployment web".
func Resource(kind string) string { return strings.ToLower(kind) }

// Plural is the kind's resource name in the plural, e.g. "deployments".
func (k Kind) Plural() string { return strings.ToLower(k.Name) + "s" }

// Names lists the kinds that match keep, in the plural resource form
// ("deployments, statefulsets and jobs"), for help and error messages.
func Names(keep func(Kind) bool) string {
	var out []string
	for _, k := range kinds {
		if keep(k) {
			out = append(out, k.Plural())
		}
	}
	switch len(out) {
	case 0:
		return ""
	case 1:
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

// ContainerNames lists the names of every container of a pod spec:
// containers, initContainers, then ephemeralContainers.
func ContainerNames(spec *corev1.PodSpec) []string {
	if spec == nil {
		return nil
	}
	out := make([]string, 0, len(spec.Containers)+len(spec.InitContainers)+len(spec.EphemeralContainers))
	for _, c := range spec.Containers {
		out = append(out, c.Name)
	}
	for _, c := range spec.InitContainers {
		out = append(out, c.Name)
	}
	for _, c := range spec.EphemeralContainers {
		out = append(out, c.Name)
	}
	return out
}
