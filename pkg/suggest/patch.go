package suggest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// PatchTarget says whether a patch can change a workload's containers and
// where: the controller's pod template, never the pods it made (a patched
// pod would be replaced by its controller, and a pod's securityContext
// cannot change anyway).
type PatchTarget struct {
	// Prefix is the path of the pod spec in the object.
	Prefix    string
	Patchable bool
	// Code and Why say why the workload cannot be patched: NoteImmutable,
	// NoteUnknownWorkload or NoteNoTemplate.
	Code string
	Why  string
}

// TargetOf is the patch target of a built-in workload kind.
func TargetOf(kind string) PatchTarget {
	k, ok := workload.Lookup(kind)
	switch {
	case !ok:
		return PatchTarget{Code: NoteUnknownWorkload, Why: fmt.Sprintf("kubectl caps does not know where a %s keeps its pod template: change the template in the %s itself", kind, kind)}
	case !k.Mutable:
		return PatchTarget{Prefix: k.Prefix, Code: NoteImmutable, Why: k.Immutable}
	}
	return PatchTarget{Prefix: k.Prefix, Patchable: true}
}

// CustomTarget is the patch target of a custom resource whose pod template
// sits at spec.template (an Argo Rollout, a Knative Service): none, because
// kubectl patch cannot apply a strategic merge patch to a custom resource,
// and a JSON merge patch would replace the whole containers list
// (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/).
func CustomTarget(kind string) PatchTarget {
	return PatchTarget{Prefix: workload.PrefixController, Code: NoteUnknownWorkload, Why: fmt.Sprintf(
		"A %s is a custom resource, to which kubectl patch cannot apply a strategic merge patch "+
			"(a merge patch would replace the whole containers list): change spec.template.spec in the %s itself", kind, kind)}
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
	// Prefix is the path of the pod spec in the object (workload.PrefixController, ...).
	Prefix  string
	Changes []ContainerChange
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
		f := c.Type.Field()
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
		base := "/" + strings.ReplaceAll(p.Prefix, ".", "/") + "/" + c.Type.Field() + "/" + strconv.Itoa(c.Index)
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

// KubectlCommand is a ready `kubectl patch` command line for the
// strategic-merge patch, every argument shell-quoted. extra are flags such
// as --context that the user gave this command.
func (p *Patch) KubectlCommand(extra ...string) (string, error) {
	b, err := json.Marshal(p.Strategic())
	if err != nil {
		return "", err
	}
	args := []string{"kubectl", "patch", workload.Resource(p.Kind), p.Name}
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
