package printers

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/safetext"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// WriteNotes prints the notes behind the table's NOTES column on stderr,
// each distinct note once with the containers it is about, so that a
// cluster of similar workloads does not repeat the same sentence.
func WriteNotes(w io.Writer, ws []*suggest.Workload) {
	type note struct {
		msg  string
		subj []string
	}
	var order []*note
	byMsg := map[string]*note{}
	for _, wl := range ws {
		for _, c := range wl.Containers {
			for _, n := range c.Item.Notes {
				x := byMsg[n.Message]
				if x == nil {
					x = &note{msg: fmt.Sprintf("Note (%s): %s", n.Code, n.Message)}
					byMsg[n.Message] = x
					order = append(order, x)
				}
				// Named as the table names them (shop deploy/web nginx), so a
				// note leads back to its rows.
				x.subj = append(x.subj, fmt.Sprintf("%s %s %s", safetext.Quote(wl.Namespace), WorkloadLabel(wl.Kind, wl.Name),
					ContainerLabel(c.Item.Container, c.Item.ContainerType, c.Item.Sidecar)))
			}
		}
	}
	for _, n := range order {
		fmt.Fprintf(w, "%s\n  containers: %s\n", safetext.Prose(n.msg), safetext.Prose(strings.Join(n.subj, ", ")))
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// header is the comment block above a workload's patch: what it targets,
// what applying it does, and why a container is not in it.
func header(w *suggest.Workload, p *suggest.Patch, how string) []string {
	lines := []string{"# " + w.Label()}
	switch {
	case p == nil && !w.HasChanges():
		lines = append(lines, "# nothing to change")
	case !w.Target.Patchable:
		lines = append(lines, "# not patched: "+lowerFirst(w.Target.Why))
	case p == nil:
		lines = append(lines, "# the capability lists need no change")
	default:
		if how != "" {
			lines = append(lines, "# "+how)
		}
		if r := rollout(w.Kind); r != "" {
			lines = append(lines, "# applying it: "+r)
		}
		if w.Managed != "" {
			lines = append(lines, fmt.Sprintf("# %s %s/%s is managed by %s, which may undo the patch: change the template there", w.Kind, w.Namespace, w.Name, w.Managed))
		}
	}
	add := func(l string) {
		// A container on two runtimes has two items with the same note.
		if !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	for _, c := range w.Containers {
		for _, n := range c.Item.Notes {
			switch n.Code {
			case suggest.NotePrivileged:
				add(fmt.Sprintf("# container %q is privileged: remove privileged: true first, the new lists take effect only then", c.Item.Container))
			// Said where a script of -o kubectl is reviewed: what the patch
			// keeps or removes of what the manifest adds by name.
			case suggest.NoteReviewExplicitAdd:
				cp, _, _ := strings.Cut(n.Message, " ")
				i := slices.IndexFunc(c.Item.Keep, func(e suggest.Entry) bool { return e.Capability == cp })
				if i >= 0 {
					add(fmt.Sprintf("# container %q keeps %s, risk %s, because the manifest adds it by name: review it (%s)", c.Item.Container, cp, c.Item.Keep[i].Risk, n.Code))
				}
			case suggest.NoteStrictDropsExplicitAdd:
				first, _, _ := strings.Cut(n.Message, ": ")
				add(fmt.Sprintf("# container %q: %s (%s)", c.Item.Container, first, n.Code))
			case suggest.NoteEphemeral, suggest.NoteNotInTemplate, suggest.NoteUnknownWorkload:
				if len(c.Item.Drop) > 0 {
					add(fmt.Sprintf("# container %q is not patched: %s", c.Item.Container, lowerFirst(n.Message)))
				}
			}
		}
	}
	// One comment line each, whatever the names hold (safetext).
	for i, l := range lines {
		lines[i] = safetext.Prose(l)
	}
	return lines
}

// WritePatches prints one YAML document per workload: comments, then the
// strategic-merge patch (or the RFC 6902 operations, which are JSON and so
// valid YAML) when there is one.
func WritePatches(out io.Writer, ws []*suggest.Workload, jsonPatch bool) error {
	for i, w := range ws {
		if i > 0 {
			fmt.Fprintln(out, "---")
		}
		p := w.Patch()
		how := fmt.Sprintf("apply: kubectl patch %s %s -n %s --type strategic --patch-file FILE", workload.Resource(w.Kind), w.Name, w.Namespace)
		if jsonPatch {
			how = fmt.Sprintf("apply: kubectl patch %s %s -n %s --type json --patch-file FILE", workload.Resource(w.Kind), w.Name, w.Namespace)
		}
		for _, l := range header(w, p, how) {
			fmt.Fprintln(out, l)
		}
		if p == nil {
			continue
		}
		var b []byte
		var err error
		if jsonPatch {
			b, err = json.MarshalIndent(p.JSONPatch(), "", "  ")
			b = append(b, '\n')
		} else {
			b, err = marshalYAML(p.Strategic())
		}
		if err != nil {
			return err
		}
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// WritePatched prints, for manifests, every workload with its patch
// applied (suggest.Workload.Patched: what kubectl patch --local prints for
// a file holding that object alone), one YAML document each, separated by
// "---", under the comment lines of -o patch; a workload without a patch
// as read, with the comment saying why. Only the workloads: a Service or
// ConfigMap of the same file is not printed, so the output goes to audit,
// a diff or kubectl apply beside the rest, not over the original file.
func WritePatched(out io.Writer, ws []*suggest.Workload) error {
	for i, w := range ws {
		obj, err := w.Patched()
		if err != nil {
			return err
		}
		b, err := marshalYAML(obj)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(out, "---")
		}
		for _, l := range header(w, w.Patch(), "") {
			fmt.Fprintln(out, l)
		}
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// WriteKubectl prints a ready kubectl patch command per workload.
func WriteKubectl(out io.Writer, ws []*suggest.Workload, flags []string) error {
	for i, w := range ws {
		if i > 0 {
			fmt.Fprintln(out)
		}
		p := w.Patch()
		for _, l := range header(w, p, "") {
			fmt.Fprintln(out, l)
		}
		if p == nil {
			continue
		}
		line, err := p.KubectlCommand(flags...)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, safetext.Prose(line))
	}
	return nil
}

// WriteSecurityContexts prints, per container, its securityContext with
// the new capability lists: the whole block, so that pasting it over the
// old one keeps runAsUser and the other fields.
func WriteSecurityContexts(out io.Writer, ws []*suggest.Workload) error {
	first := true
	for _, w := range ws {
		for _, c := range w.Containers {
			if !first {
				fmt.Fprintln(out, "---")
			}
			first = false
			it := &c.Item
			fmt.Fprintf(out, "# %s, %s\n", safetext.Prose(w.Label()), strings.Replace(ContainerLabel(it.Container, it.ContainerType, it.Sidecar), safetext.Quote(it.Container), fmt.Sprintf("container %q", it.Container), 1))
			if it.ContainerType == engine.TypeEphemeralContainer {
				fmt.Fprintln(out, "# ephemeral: cannot be changed; use kubectl debug --profile=restricted next time")
				continue
			}
			if slices.ContainsFunc(it.Notes, func(n suggest.Note) bool { return n.Code == suggest.NotePrivileged }) {
				fmt.Fprintln(out, "# privileged: true gives every capability whatever the lists say: remove it first; the lists take effect only then")
			}
			if it.Capabilities == nil {
				fmt.Fprintln(out, "# no change to the capability lists")
				continue
			}
			if !w.Target.Patchable {
				fmt.Fprintln(out, "# "+lowerFirst(w.Target.Why))
			}
			sc := &corev1.SecurityContext{}
			if c.Old != nil {
				sc = c.Old.DeepCopy()
			}
			sc.Capabilities = nil
			if caps := it.Capabilities; len(caps.Add)+len(caps.Drop) > 0 {
				sc.Capabilities = &corev1.Capabilities{}
				for _, a := range caps.Add {
					sc.Capabilities.Add = append(sc.Capabilities.Add, corev1.Capability(a))
				}
				for _, d := range caps.Drop {
					sc.Capabilities.Drop = append(sc.Capabilities.Drop, corev1.Capability(d))
				}
			}
			b, err := marshalYAML(map[string]any{"securityContext": sc})
			if err != nil {
				return err
			}
			if _, err := out.Write(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// rollout says what applying a template patch does to running pods.
func rollout(kind string) string {
	k, _ := workload.Lookup(kind)
	return k.Rollout
}
