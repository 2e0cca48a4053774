// Package audit runs the engine over every container of a pod spec and
// annotates the results with the catalog. Both sources (manifests and the
// live cluster) and both commands (audit, suggest-drop) go through it, so a
// container is judged the same way whichever way it arrives.
package audit

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/profile"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// Target is one pod spec to audit, with where it came from.
type Target struct {
	Namespace string
	Workload  report.WorkloadRef
	Source    string
	Pods      int

	Spec        *corev1.PodSpec
	Meta        *metav1.ObjectMeta
	FieldPrefix string
	Profile     profile.Profile
	// ObservedUIDs maps container names to the UID the runtime reported in
	// status.*ContainerStatuses[].user.linux.uid.
	ObservedUIDs map[string]int64
	// UnknownFields are misspelt fields of the pod template (manifests
	// only); each becomes a warning on the container it belongs to.
	UnknownFields []string
	// Notes apply to every container, e.g. how the runtime was chosen.
	Notes []string
}

// Auditor holds the catalog; it has no other state and is safe to share.
type Auditor struct {
	Catalog *catalog.Catalog
}

// New returns an auditor over the embedded catalog.
func New() *Auditor { return &Auditor{Catalog: catalog.Default()} }

// Target audits every container of t, calling visit with one item each, in
// the order init containers, containers, ephemeral containers.
func (a *Auditor) Target(t *Target, visit func(report.Item, *engine.Result)) {
	for _, ref := range engine.Containers(t.Spec) {
		in := engine.Input{
			Pod:         t.Spec,
			PodMeta:     t.Meta,
			Container:   ref.Container,
			Type:        ref.Type,
			Index:       ref.Index,
			FieldPrefix: t.FieldPrefix,
			Profile:     t.Profile,
		}
		if uid, ok := t.ObservedUIDs[ref.Container.Name]; ok {
			in.ObservedUID = &uid
		}
		res := engine.Evaluate(in)
		item := report.NewItem(a.Catalog, report.Subject{
			Namespace: t.Namespace,
			Workload:  t.Workload,
			Source:    t.Source,
			Pods:      t.Pods,
			Container: ref.Container.Name,
			Type:      ref.Type,
		}, &res)
		if len(t.UnknownFields) > 0 {
			item.Warnings = append(item.Warnings, unknownFieldWarnings(t, ref)...)
		}
		if len(t.Notes) > 0 || t.Profile.Kind == profile.CRIO {
			notes := append([]string(nil), t.Notes...)
			if t.Profile.Kind == profile.CRIO {
				// The node's crio.conf may change the defaults, and the API
				// does not show it (docs/sources.md#crio-defaults).
				notes = append(notes, engine.CRIOConfigNote)
			}
			item.Notes = append(notes, item.Notes...)
		}
		visit(item, &res)
	}
}

// ContainerPath is the field path of a container, e.g.
// "spec.template.spec.initContainers[1]".
func ContainerPath(prefix string, typ engine.ContainerType, index int) string {
	list := "containers"
	switch typ {
	case engine.TypeInitContainer:
		list = "initContainers"
	case engine.TypeEphemeralContainer:
		list = "ephemeralContainers"
	}
	if prefix == "" {
		return fmt.Sprintf("%s[%d]", list, index)
	}
	return fmt.Sprintf("%s.%s[%d]", prefix, list, index)
}

// unknownFieldWarnings turns the misspelt fields under this container's
// path into warnings; fields elsewhere in the pod spec go to every
// container, since any of them may be what the author meant to change.
func unknownFieldWarnings(t *Target, ref engine.Ref) []report.Warning {
	own := ContainerPath(t.FieldPrefix, ref.Type, ref.Index)
	var out []report.Warning
	for _, f := range t.UnknownFields {
		inContainer := strings.Contains(f, "ontainers[")
		if inContainer && f != own && !strings.HasPrefix(f, own+".") {
			continue
		}
		out = append(out, report.Warning{
			Code:  "unknown-field",
			Field: f,
			Message: fmt.Sprintf("container %q: this is not a Kubernetes field, so it is ignored and changes nothing in the pod; "+
				"check its spelling (securityContext.capabilities, runAsNonRoot, allowPrivilegeEscalation, ...)", ref.Container.Name),
		})
	}
	return out
}
