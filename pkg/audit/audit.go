// Package audit runs the engine over every container of a target. Both
// sources (manifests and the live cluster) and both commands (audit,
// suggest-drop) go through Each, so a container is judged the same way
// whichever way it arrives; Item annotates the verdict for the report.
package audit

import (
	"fmt"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Container is one container of a target with the engine's verdict.
type Container struct {
	Target *workload.Target
	// Ref is the container in Target.Spec.
	Ref    engine.Ref
	Result engine.Result
}

// Each evaluates every container of t and calls visit with each, in the
// order init containers, containers, ephemeral containers. The Container
// is valid only during the call.
func Each(t *workload.Target, visit func(*Container)) {
	var c Container
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
		c = Container{Target: t, Ref: ref, Result: engine.Evaluate(in)}
		visit(&c)
	}
}

// Items audits every container of t into its report item.
func Items(t *workload.Target, visit func(report.Item)) {
	Each(t, func(c *Container) { visit(c.Item()) })
}

// Item is the container's report item: the verdict annotated with the
// catalog, with the target's unknown fields and notes.
func (c *Container) Item() report.Item {
	t := c.Target
	item := report.NewItem(report.Subject{
		Namespace:      t.Namespace,
		Workload:       t.Workload,
		Source:         t.Source,
		Pods:           t.Pods,
		Pod:            t.Pod,
		FromTemplate:   t.FromTemplate,
		RuntimeVersion: t.Profile.Version,
		Container:      c.Ref.Container.Name,
		Type:           c.Ref.Type,
		Sidecar:        c.Ref.Sidecar,
	}, &c.Result)
	if len(t.UnknownFields) > 0 {
		item.Warnings = append(item.Warnings, unknownFieldWarnings(t, c.Ref)...)
	}
	if t.Locate != nil {
		for i := range item.Warnings {
			item.Warnings[i].Location = t.Locate(item.Warnings[i].Field)
		}
	}
	item.Path = engine.ContainerPath(t.FieldPrefix, c.Ref.Type, c.Ref.Index)
	if t.Position != nil {
		// A manifest: its places are looked up now, while its text is
		// at hand. A live object's findings, which have no place, are
		// built only if a format asks for them (report.Findings).
		item.Issues = report.Issues(&item, item.Path)
		for i := range item.Issues {
			item.Issues[i].Position = t.Position(item.Issues[i].Field)
		}
	}
	if len(t.Notes) > 0 || t.Profile.Kind == runtimes.CRIO {
		notes := append([]string(nil), t.Notes...)
		if t.Profile.Kind == runtimes.CRIO {
			// The node's crio.conf may change the defaults, and the API
			// does not show it (docs/sources.md#crio-defaults).
			notes = append(notes, engine.CRIOConfigNote)
		}
		item.Notes = append(notes, item.Notes...)
	}
	return item
}

// unknownFieldWarnings turns the misspelt fields under this container's
// path into warnings; fields elsewhere in the pod spec go to every
// container, since any of them may be what the author meant to change.
func unknownFieldWarnings(t *workload.Target, ref engine.Ref) []report.Warning {
	own := engine.ContainerPath(t.FieldPrefix, ref.Type, ref.Index)
	var out []report.Warning
	for _, f := range t.UnknownFields {
		inContainer := strings.Contains(f, "ontainers[")
		if inContainer && f != own && !strings.HasPrefix(f, own+".") {
			continue
		}
		out = append(out, report.Warning{
			Code:    "unknown-field",
			Field:   f,
			Summary: "not a Kubernetes field: ignored, so it changes nothing; check its spelling",
			Message: fmt.Sprintf("container %q: this is not a Kubernetes field, so it is ignored and changes nothing in the pod; "+
				"check its spelling (securityContext.capabilities, runAsNonRoot, allowPrivilegeEscalation, ...)", ref.Container.Name),
		})
	}
	return out
}
