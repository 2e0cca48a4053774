package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
)

// write prints the suggestions in the chosen format. stdout carries only
// data; in the table format the notes go to stderr.
func (o *SuggestOptions) write(ws []*workload) error {
	switch o.Output {
	case printers.FormatJSON, printers.FormatYAML:
		list := suggest.NewList(o.strategy)
		for _, w := range ws {
			for _, c := range w.Containers {
				list.Items = append(list.Items, c.Item)
			}
		}
		return printers.WriteObject(o.Out, o.Output, list)
	case formatPatch, formatJSONPatch:
		return writePatches(o.Out, ws, o.Output == formatJSONPatch)
	case formatKubectl:
		return writeKubectl(o.Out, ws, o.kubectlFlags())
	case formatSecurityContext:
		return writeSecurityContexts(o.Out, ws)
	}
	return o.writeTable(ws)
}

func (o *SuggestOptions) writeTable(ws []*workload) error {
	var items []suggest.Item
	for _, w := range ws {
		for _, c := range w.Containers {
			items = append(items, c.Item)
		}
	}
	if len(items) == 0 {
		fmt.Fprintln(o.ErrOut, "No containers found.")
		return nil
	}
	if o.width == 0 {
		o.width = printers.TerminalWidth(o.Out)
	}
	if err := printers.WriteSuggestTable(o.Out, items, printers.SuggestTableOptions{
		Wide: o.Output == printers.FormatWide, NoHeaders: o.NoHeaders, Width: o.width,
	}); err != nil {
		return err
	}
	writeNotes(o.ErrOut, ws)
	// Last, so it is the line a terminal shows under the notes.
	return printers.WriteSuggestSummary(o.ErrOut, items)
}

// writeNotes prints the notes behind the table's NOTES column on stderr,
// each distinct note once with the containers it is about, so that a
// cluster of similar workloads does not repeat the same sentence.
func writeNotes(w io.Writer, ws []*workload) {
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
				x.subj = append(x.subj, fmt.Sprintf("%s/%s/%s %s", wl.Namespace, wl.Kind, wl.Name, c.Item.Container))
			}
		}
	}
	for _, n := range order {
		fmt.Fprintf(w, "%s\n  containers: %s\n", n.msg, strings.Join(n.subj, ", "))
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
func header(w *workload, p *suggest.Patch, how string) []string {
	lines := []string{"# " + workloadLabel(w)}
	switch {
	case p == nil && !hasChanges(w):
		lines = append(lines, "# nothing to change")
	case !w.Target.Patchable:
		lines = append(lines, "# not patched: "+lowerFirst(w.Target.Why))
	case p == nil:
		lines = append(lines, "# the capability lists need no change")
	default:
		if how != "" {
			lines = append(lines, "# "+how)
		}
		if r := suggest.Rollout(w.Kind); r != "" {
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
			case suggest.NoteEphemeral, suggest.NoteNotInTemplate, suggest.NoteUnknownWorkload:
				if len(c.Item.Drop) > 0 {
					add(fmt.Sprintf("# container %q is not patched: %s", c.Item.Container, lowerFirst(n.Message)))
				}
			}
		}
	}
	return lines
}

func hasChanges(w *workload) bool {
	for _, c := range w.Containers {
		if c.Item.Capabilities != nil || len(c.Item.Drop) > 0 {
			return true
		}
	}
	return false
}

// writePatches prints one YAML document per workload: comments, then the
// strategic-merge patch (or the RFC 6902 operations, which are JSON and so
// valid YAML) when there is one.
func writePatches(out io.Writer, ws []*workload, jsonPatch bool) error {
	for i, w := range ws {
		if i > 0 {
			fmt.Fprintln(out, "---")
		}
		p := w.patch()
		how := fmt.Sprintf("apply: kubectl patch %s %s -n %s --type strategic --patch-file FILE", suggest.Resource(w.Kind), w.Name, w.Namespace)
		if jsonPatch {
			how = fmt.Sprintf("apply: kubectl patch %s %s -n %s --type json --patch-file FILE", suggest.Resource(w.Kind), w.Name, w.Namespace)
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
			b, err = yaml.Marshal(p.Strategic())
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

// writeKubectl prints a ready kubectl patch command per workload.
func writeKubectl(out io.Writer, ws []*workload, flags []string) error {
	for i, w := range ws {
		if i > 0 {
			fmt.Fprintln(out)
		}
		p := w.patch()
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
		fmt.Fprintln(out, line)
	}
	return nil
}

// writeSecurityContexts prints, per container, its securityContext with
// the new capability lists: the whole block, so that pasting it over the
// old one keeps runAsUser and the other fields.
func writeSecurityContexts(out io.Writer, ws []*workload) error {
	first := true
	for _, w := range ws {
		for _, c := range w.Containers {
			if !first {
				fmt.Fprintln(out, "---")
			}
			first = false
			it := &c.Item
			fmt.Fprintf(out, "# %s, %s\n", workloadLabel(w), strings.Replace(printers.ContainerLabel(it.Container, it.ContainerType), it.Container, fmt.Sprintf("container %q", it.Container), 1))
			if it.ContainerType == "ephemeralContainer" {
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
			b, err := yaml.Marshal(map[string]any{"securityContext": sc})
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
