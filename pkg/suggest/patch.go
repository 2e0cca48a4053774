package suggest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
)

// Where each workload kind keeps its pod spec, as kubectl patch sees the
// object.
const (
	PrefixPod         = "spec"
	PrefixController  = "spec.template.spec"
	PrefixCronJob     = "spec.jobTemplate.spec.template.spec"
	PrefixPodTemplate = "template.spec"
)

// Target says whether a patch can change a workload kind's containers and
// where: the controller's pod template, never the pods it made (a patched
// pod would be replaced by its controller, and a pod's securityContext
// cannot change anyway).
type Target struct {
	Prefix    string
	Patchable bool
	// Code and Why say why a kind cannot be patched: NoteImmutable,
	// NoteUnknownWorkload or NoteNoTemplate.
	Code string
	Why  string
}

// TargetOf is the patch target of a workload kind.
func TargetOf(kind string) Target {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController":
		return Target{Prefix: PrefixController, Patchable: true}
	case "CronJob":
		return Target{Prefix: PrefixCronJob, Patchable: true}
	case "PodTemplate":
		return Target{Prefix: PrefixPodTemplate, Patchable: true}
	case "Pod":
		return Target{Prefix: PrefixPod, Code: NoteImmutable, Why: "A Pod's containers cannot change their securityContext after creation (the pod spec is immutable): " +
			"change the manifest or the controller that creates the pod, and recreate it"}
	case "Job":
		return Target{Prefix: PrefixController, Code: NoteImmutable, Why: "A Job's pod template cannot change after creation (spec.template is immutable): " +
			"change the manifest (or the CronJob that creates it) and recreate the Job"}
	}
	return Target{Code: NoteUnknownWorkload, Why: fmt.Sprintf("kubectl caps does not know where a %s keeps its pod template: change the template in the %s itself", kind, kind)}
}

// CustomTarget is the patch target of a custom resource whose pod template
// sits at spec.template (an Argo Rollout, a Knative Service): none, because
// kubectl patch cannot apply a strategic merge patch to a custom resource,
// and a JSON merge patch would replace the whole containers list
// (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/).
func CustomTarget(kind string) Target {
	return Target{Prefix: PrefixController, Code: NoteUnknownWorkload, Why: fmt.Sprintf(
		"A %s is a custom resource, to which kubectl patch cannot apply a strategic merge patch "+
			"(a merge patch would replace the whole containers list): change spec.template.spec in the %s itself", kind, kind)}
}

// Rollout says what happens to running pods when a kind's template changes.
func Rollout(kind string) string {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		return "the controller replaces the running pods (a rollout)"
	case "ReplicaSet", "ReplicationController":
		return "running pods keep the old spec; only pods created from now on get the change"
	case "CronJob":
		return "the next Jobs get the change; running Jobs keep the old spec"
	case "PodTemplate":
		return "nothing runs from a PodTemplate directly; objects copied from it later get the change"
	}
	return ""
}

// ContainerChange is one container's new capability lists.
type ContainerChange struct {
	Name  string
	Type  engine.ContainerType
	Index int
	// Old is the container's securityContext as the object has it now; it
	// decides the RFC 6902 operations.
	Old *corev1.SecurityContext
	New Capabilities
}

// Patch is the change of one workload.
type Patch struct {
	Namespace string
	Kind      string
	Name      string
	// Prefix is the path of the pod spec in the object (PrefixController, ...).
	Prefix  string
	Changes []ContainerChange
}

// listField is the pod spec field of a container type; ephemeral
// containers are never patched (they cannot change once added).
func listField(t engine.ContainerType) string {
	if t == engine.TypeInitContainer {
		return "initContainers"
	}
	return "containers"
}

// Strategic is the strategic-merge patch: containers and init containers
// are merged by name (their patchMergeKey), so the patch names each one
// and sets only securityContext.capabilities. capabilities.add and drop
// have no patch strategy, so each list is replaced whole; a list that
// must go is set to null, which deletes it.
func (p *Patch) Strategic() map[string]any {
	lists := map[string][]any{}
	for _, c := range p.Changes {
		caps := map[string]any{}
		for _, l := range []struct {
			key      string
			old, new []string
		}{{"add", oldList(c.Old, "add"), c.New.Add}, {"drop", oldList(c.Old, "drop"), c.New.Drop}} {
			switch {
			case len(l.new) > 0:
				caps[l.key] = l.new
			case len(l.old) > 0:
				caps[l.key] = nil
			}
		}
		f := listField(c.Type)
		lists[f] = append(lists[f], map[string]any{
			"name":            c.Name,
			"securityContext": map[string]any{"capabilities": caps},
		})
	}
	spec := map[string]any{}
	for k, v := range lists {
		spec[k] = v
	}
	var out any = spec
	parts := strings.Split(p.Prefix, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		out = map[string]any{parts[i]: out}
	}
	return out.(map[string]any)
}

func oldList(sc *corev1.SecurityContext, which string) []string {
	if sc == nil || sc.Capabilities == nil {
		return nil
	}
	src := sc.Capabilities.Drop
	if which == "add" {
		src = sc.Capabilities.Add
	}
	if src == nil {
		return nil
	}
	out := make([]string, len(src))
	for i, s := range src {
		out[i] = string(s)
	}
	return out
}

// Merge combines the lists suggested for one container on several
// runtimes (a workload whose pods run on nodes with different runtimes)
// into lists that never give a runtime more than its own suggestion: every
// drop of either, and the adds that neither drops.
func Merge(a, b Capabilities) Capabilities {
	drop := append(slices.Clone(a.Drop), b.Drop...)
	slices.SortFunc(drop, compareNames)
	drop = slices.Compact(drop)
	var add []string
	for _, n := range append(slices.Clone(a.Add), b.Add...) {
		if !slices.Contains(drop, n) && !slices.Contains(add, n) {
			add = append(add, n)
		}
	}
	slices.Sort(add)
	return Capabilities{Add: add, Drop: drop}
}

// Op is one RFC 6902 operation.
type Op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// JSONPatch is the RFC 6902 form: index paths, each container guarded by a
// "test" of its name, so that the patch fails instead of changing the
// wrong container if the list changed since it was computed.
func (p *Patch) JSONPatch() []Op {
	var ops []Op
	for _, c := range p.Changes {
		base := "/" + strings.ReplaceAll(p.Prefix, ".", "/") + "/" + listField(c.Type) + "/" + strconv.Itoa(c.Index)
		ops = append(ops, Op{Op: "test", Path: base + "/name", Value: c.Name})
		switch {
		case c.Old == nil:
			ops = append(ops, Op{Op: "add", Path: base + "/securityContext", Value: map[string]any{"capabilities": capsValue(c.New)}})
		case c.Old.Capabilities == nil:
			ops = append(ops, Op{Op: "add", Path: base + "/securityContext/capabilities", Value: capsValue(c.New)})
		default:
			for _, l := range []struct {
				key string
				old []corev1.Capability
				new []string
			}{{"add", c.Old.Capabilities.Add, c.New.Add}, {"drop", c.Old.Capabilities.Drop, c.New.Drop}} {
				path := base + "/securityContext/capabilities/" + l.key
				switch {
				case len(l.new) > 0:
					// "add" on an existing member replaces it (RFC 6902 §4.1),
					// so one operation covers both cases.
					ops = append(ops, Op{Op: "add", Path: path, Value: l.new})
				case l.old != nil:
					ops = append(ops, Op{Op: "remove", Path: path})
				}
			}
		}
	}
	return ops
}

func capsValue(c Capabilities) map[string]any {
	v := map[string]any{}
	if len(c.Add) > 0 {
		v["add"] = c.Add
	}
	if len(c.Drop) > 0 {
		v["drop"] = c.Drop
	}
	return v
}

// Resource is the name kubectl takes for a kind, e.g. "deployment".
func Resource(kind string) string { return strings.ToLower(kind) }

// KubectlCommand is a ready `kubectl patch` command line for the
// strategic-merge patch, every argument shell-quoted. extra are flags such
// as --context that the user gave this command.
func (p *Patch) KubectlCommand(extra ...string) (string, error) {
	b, err := json.Marshal(p.Strategic())
	if err != nil {
		return "", err
	}
	args := []string{"kubectl", "patch", Resource(p.Kind), p.Name}
	if p.Namespace != "" {
		args = append(args, "-n", p.Namespace)
	}
	args = append(args, extra...)
	args = append(args, "--type", "strategic", "-p", string(b))
	for i, a := range args {
		args[i] = ShellQuote(a)
	}
	return strings.Join(args, " "), nil
}

// ShellQuote quotes s for a POSIX shell: unchanged when it holds only
// characters no shell treats specially, else in single quotes, with each
// single quote written as '\”.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
