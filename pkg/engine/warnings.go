package engine

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

// warner builds warnings. Nothing here runs unless a warning is due, so
// the common path allocates no strings.
type warner struct {
	typ     ContainerType
	index   int
	prefix  string
	name    string
	profile runtimes.Profile
	base    string
	ws      []Warning
}

// add records a warning: summary is its short form (Warning.Summary), msg
// the full explanation.
func (w *warner) add(code, field, summary, msg string) {
	w.ws = append(w.ws, Warning{Code: code, Field: field, Summary: summary, Message: msg})
}

// path is the container's field path followed by suffix.
func (w *warner) path(suffix string) string {
	if w.base == "" {
		w.base = ContainerPath(w.prefix, w.typ, w.index)
	}
	return w.base + suffix
}

func (w *warner) entryPath(e *runtimes.EntryOutcome) string {
	return w.path(".securityContext.capabilities." + e.List + "[" + strconv.Itoa(e.Index) + "]")
}

// who names the container the way kubectl's messages do.
func (w *warner) who() string {
	switch w.typ {
	case TypeInitContainer:
		return fmt.Sprintf("init container %q", w.name)
	case TypeEphemeralContainer:
		return fmt.Sprintf("ephemeral container %q", w.name)
	}
	return fmt.Sprintf("container %q", w.name)
}

func (w *warner) collect(r *Result, sc *corev1.SecurityContext, ambient bool) []Warning {
	p := w.profile
	rt := p.Name()
	entries := r.Applied.Entries
	var addSet, dropSet capability.Set
	var addAllAt, dropAllAt *runtimes.EntryOutcome

	for i := range entries {
		e := &entries[i]
		add := e.List == "add"
		switch {
		case e.All:
			if add && addAllAt == nil {
				addAllAt = e
			} else if !add && dropAllAt == nil {
				dropAllAt = e
			}
		case e.Known && add:
			addSet = addSet.Add(e.Cap)
		case e.Known:
			dropSet = dropSet.Add(e.Cap)
		}
		// On a privileged container the entries do nothing; one warning
		// below says so. Names that still fail creation are reported.
		if r.Privileged && e.Effect != runtimes.EffectCreateFailsUnknown {
			continue
		}
		switch {
		case e.All:
			if e.Raw != "ALL" {
				w.lowercaseAll(e)
			}
		case !e.Known && e.Prefixed && e.IntendedKnown && p.Kind == runtimes.Containerd:
			w.capPrefix(e, rt)
		case !e.Known:
			w.unknown(e, p, rt)
		case e.Prefixed:
			w.capPrefix(e, rt)
		case add && e.Raw != e.Cap.String():
			w.add("non-canonical-name", w.entryPath(e), fmt.Sprintf("%q fails Pod Security Admission's exact-name check; write %q", e.Raw, e.Cap.String()), fmt.Sprintf(
				"%s: capabilities.add entry %q works on every runtime (read as %s), but Pod Security Admission compares exact strings, so this spelling fails the baseline and restricted checks even where %s is allowed; write %q.",
				w.who(), e.Raw, e.Cap, e.Cap, e.Cap.String()))
		}
	}

	if r.Privileged {
		if len(entries) > 0 {
			w.add("privileged-add-drop", w.path(".securityContext.capabilities"), "privileged: it gets every capability and add/drop are not applied", fmt.Sprintf(
				"%s is privileged, so on %s it gets every capability and its capabilities.add/drop entries are not applied; drop privileged: true and keep only the capabilities it needs.",
				w.who(), rt))
		}
	} else {
		w.addAndDrop(entries, addSet&dropSet, addAllAt, dropAllAt, rt, p.Kind)
		if dropAllAt != nil {
			w.dropAllLegacy(dropAllAt, r, p)
		}
	}

	if r.KubeletRefuses {
		field := w.path(".securityContext.runAsUser")
		if r.User.Source == SourcePodRunAsUser {
			field = "securityContext.runAsUser"
			if w.prefix != "" {
				field = w.prefix + "." + field
			}
		}
		w.add("kubelet-refuses-root", field, "never starts: runAsNonRoot is true but runAsUser is 0; the kubelet refuses it", fmt.Sprintf(
			"%s never starts: runAsNonRoot is true but the effective runAsUser is 0 (from %s), so the kubelet refuses it with \"container's runAsUser breaks non-root policy\" (pkg/kubelet/kuberuntime/security_context_others.go verifyRunAsNonRoot) and the pod stays in CreateContainerConfigError; it holds no capabilities. Set runAsUser to a non-zero UID, or drop runAsNonRoot if it must run as root.",
			w.who(), r.User.Source))
	}
	if r.CreateFails {
		w.add("create-fails", w.path(".securityContext.capabilities"), fmt.Sprintf("never created on %s: it lists a name that is no capability", rt), fmt.Sprintf(
			"%s will not be created on %s: it lists a name that runtime does not know as a capability (see the unknown-capability warnings); the pod stays in CreateContainerError until the name is fixed.",
			w.who(), rt))
	}
	if ambient {
		w.add("privileged-nonroot-ambient", w.path(".securityContext.privileged"), "privileged and non-root on cri-o: keeps every capability after exec (ambient)", fmt.Sprintf(
			"%s is privileged and runs as non-root on cri-o: CRI-O fills every capability set of a privileged container, ambient included, so the non-root process keeps every capability after exec (derived from the CRI-O and runtime-tools source, not runtime-tested); reported as effective. containerd and Docker leave ambient empty.",
			w.who()))
	}
	if r.User.Kind == UserUnknown {
		w.add("unknown-user", w.path(".securityContext.runAsUser"), "no runAsUser or runAsNonRoot: the image's USER decides; audited as root", fmt.Sprintf(
			"%s: no runAsUser or runAsNonRoot in the spec and no UID reported by the runtime, so the image's USER decides; assuming root, whose effective set is the whole bounding set. Set runAsUser (or runAsNonRoot: true) to make it explicit.",
			w.who()))
	}
	if r.NoNewPrivs && sc != nil {
		if r.Privileged {
			w.add("api-rejects", w.path(".securityContext.allowPrivilegeEscalation"), "allowPrivilegeEscalation: false with privileged: true: the API server rejects it", w.who()+
				": allowPrivilegeEscalation: false together with privileged: true is rejected by the API server; remove one of them.")
		}
		for i := range entries {
			if e := &entries[i]; e.List == "add" && e.Raw == "CAP_SYS_ADMIN" {
				w.add("api-rejects", w.entryPath(e), `allowPrivilegeEscalation: false with add "CAP_SYS_ADMIN": the API server rejects it`, w.who()+
					`: allowPrivilegeEscalation: false together with capabilities.add "CAP_SYS_ADMIN" is rejected by the API server, which checks only this literal string; "SYS_ADMIN" passes validation, but no_new_privs is no real barrier for a process holding SYS_ADMIN.`)
			}
		}
	}
	return w.ws
}

func (w *warner) lowercaseAll(e *runtimes.EntryOutcome) {
	what := "drops every capability"
	policy := `Pod Security Admission's restricted check requires the exact string "ALL" in drop`
	if e.List == "add" {
		what = "adds every capability"
		policy = `Pod Security Admission compares exact strings (and baseline forbids adding ALL in any spelling)`
	}
	w.add("lowercase-all", w.entryPath(e), fmt.Sprintf(`%q works, but Pod Security Admission compares exact strings; write "ALL"`, e.Raw), fmt.Sprintf(
		`%s: capabilities.%s entry %q %s on every runtime, but %s; write "ALL".`,
		w.who(), e.List, e.Raw, what, policy))
}

func (w *warner) capPrefix(e *runtimes.EntryOutcome, rt string) {
	name := e.Intended.String()
	var summary, msg string
	switch {
	case e.Known:
		summary = fmt.Sprintf("%q works on %s, but not on containerd nor for Pod Security Admission; write %q", e.Raw, rt, name)
		msg = fmt.Sprintf("%s: capabilities.%s entry %q works on %s (read as %s), but containerd ignores CAP_-prefixed names and Pod Security Admission compares exact strings; write %q.",
			w.who(), e.List, e.Raw, rt, name, name)
	case e.List == "add":
		summary = fmt.Sprintf("%q is ignored on containerd: no %s; write %q", e.Raw, name, name)
		msg = fmt.Sprintf("%s: capabilities.add entry %q is ignored on containerd: it becomes %s, which runc drops with a warning (runc before 1.0.0-rc94 refuses to create the container), so the container does not get %s; write %q.",
			w.who(), e.Raw, e.Normalized, name, name)
	default:
		summary = fmt.Sprintf("%q drops nothing on containerd: %s stays; write %q", e.Raw, name, name)
		msg = fmt.Sprintf("%s: capabilities.drop entry %q drops nothing on containerd: it becomes %s, which matches no capability, so %s stays; write %q.",
			w.who(), e.Raw, e.Normalized, name, name)
	}
	w.add("cap-prefix", w.entryPath(e), summary, msg)
}

func (w *warner) unknown(e *runtimes.EntryOutcome, p runtimes.Profile, rt string) {
	if p.Kind == runtimes.Docker && e.IntendedKnown && !p.All().Has(e.Intended) {
		w.add("unknown-capability", w.entryPath(e), fmt.Sprintf("%q: docker %s does not know %s and refuses the container; remove it or upgrade Docker", e.Raw, p.Version, e.Intended), fmt.Sprintf(
			"%s: capabilities.%s entry %q names %s, which docker %s does not know: moby before v23.0.0 stops its capability list at AUDIT_READ (oci/caps/utils.go init), so the daemon refuses to create the container (unknown capability: \"CAP_%s\"); remove the entry or upgrade Docker to 23.0 or later.",
			w.who(), e.List, e.Raw, e.Intended, p.Version, e.Intended))
		return
	}
	var what, short string
	switch {
	case p.Kind == runtimes.CRIO || p.Kind == runtimes.Docker:
		what = fmt.Sprintf("%s refuses to create the container (unknown capability %s)", rt, e.Normalized)
		short = rt + " refuses the container"
	case p.Kind == runtimes.Containerd && e.List == "add":
		what = fmt.Sprintf("containerd passes %s to runc, which ignores it with a warning", e.Normalized)
		short = "ignored"
	case p.Kind == runtimes.Containerd:
		what = "containerd silently ignores it"
		short = "ignored"
	default:
		what = "it has no effect"
		short = "no effect"
	}
	var hint, shortHint string
	switch {
	case e.IntendedKnown:
		hint = fmt.Sprintf("write %q", e.Intended.String())
	case len(e.Suggestions) == 1 && e.Suggestions[0] == "ALL":
		hint, shortHint = `write the keyword as "ALL", with no prefix or blanks`, `write "ALL"`
	case len(e.Suggestions) > 0:
		hint = fmt.Sprintf("did you mean %q?", e.Suggestions[0])
	default:
		hint = "run 'kubectl caps explain' to list all capabilities"
	}
	if shortHint == "" {
		shortHint = hint
	}
	w.add("unknown-capability", w.entryPath(e), fmt.Sprintf("%q names no capability (%s); %s", e.Raw, short, shortHint),
		fmt.Sprintf("%s: capabilities.%s entry %q names no capability; %s; %s", w.who(), e.List, e.Raw, what, hint))
}

func (w *warner) addAndDrop(entries []runtimes.EntryOutcome, both capability.Set, addAllAt, dropAllAt *runtimes.EntryOutcome, rt string, kind runtimes.Kind) {
	if addAllAt != nil && dropAllAt != nil {
		how := fmt.Sprintf("on %s drop ALL wins, leaving only the individual adds (Docker would grant every capability)", rt)
		short := fmt.Sprintf("ALL is both added and dropped: the drop wins on %s, the add on docker; keep one", rt)
		if kind == runtimes.Docker {
			how = "on docker add ALL wins: the container gets every capability except the individually dropped ones (containerd and CRI-O would let drop ALL win)"
			short = "ALL is both added and dropped: the add wins on docker, the drop on containerd and cri-o; keep one"
		}
		w.add("add-and-drop", w.entryPath(addAllAt), short, fmt.Sprintf("%s: ALL is both added and dropped; %s. Keep one of them.", w.who(), how))
	}
	if both == 0 {
		return
	}
	for i := range entries {
		e := &entries[i]
		if e.List != "add" || !e.Known || !both.Has(e.Cap) {
			continue
		}
		both = both.Remove(e.Cap)
		how := fmt.Sprintf("on %s the drop wins, so the container does not get %s (under Docker the add would win)", rt, e.Cap)
		short := fmt.Sprintf("%s is both added and dropped: on %s the drop wins; remove one", e.Cap, rt)
		switch {
		case kind == runtimes.Docker && addAllAt != nil:
			// moby oci/caps TweakCapabilities: with ALL in add it takes
			// every capability except the drops and never reads the
			// individual adds.
			how = fmt.Sprintf("on docker add: [ALL] takes every capability except the dropped ones, so the drop wins and the container does not get %s (without ALL in add, Docker would let the add win)", e.Cap)
			short = fmt.Sprintf("%s is both added and dropped: with add ALL the drop wins on docker; remove one", e.Cap)
		case kind == runtimes.Docker:
			how = fmt.Sprintf("on docker the add wins, so the container gets %s (containerd and CRI-O let the drop win)", e.Cap)
			short = fmt.Sprintf("%s is both added and dropped: on docker the add wins; remove one", e.Cap)
		}
		w.add("add-and-drop", w.entryPath(e), short, fmt.Sprintf("%s: %s is both added and dropped; %s. Remove one of the entries.", w.who(), e.Cap, how))
	}
}

func (w *warner) dropAllLegacy(e *runtimes.EntryOutcome, r *Result, p runtimes.Profile) {
	switch {
	case p.DropAllReaddsDefaults():
		w.add("crio-drop-all-readds-defaults", w.entryPath(e), fmt.Sprintf("drop: [ALL] keeps cri-o %s's default capabilities (cri-o#4923); drop them by name too", p.Version), fmt.Sprintf(
			"%s: on %s, drop: [ALL] does not remove the default capabilities: CRI-O appended its configured defaults to the add list even after drop ALL until cri-o#4923 (\"if !(addAll || dropAll)\" in server/container_create.go, released in v1.19.5, v1.21.1 and v1.22.0; no 1.18 or 1.20 release has it), so the container keeps %s; drop those capabilities by name as well.",
			w.who(), "cri-o "+p.Version, r.Applied.Set))
	case p.DropAllMayReaddDefaults():
		w.add("crio-drop-all-may-readd-defaults", w.entryPath(e), fmt.Sprintf("cri-o %s may keep its default capabilities after drop: [ALL] (cri-o#4923); drop them by name too", p.Version), fmt.Sprintf(
			"%s: cri-o %s may re-add its default capabilities after drop: [ALL]: the fix (cri-o#4923) came in the patch releases v1.19.5 and v1.21.1, and the version reported has no patch number; this report assumes the fixed behaviour. Dropping the defaults by name as well is safe on every version.",
			w.who(), p.Version))
	}
}

// Notes are fixed sentences where possible, so they cost one small slice.
const (
	noteWindows               = "Windows pod (spec.os.name: windows): Linux capabilities do not apply."
	noteUserNS                = "hostUsers: false: capabilities act only inside the pod's user namespace; those the kernel checks in the initial namespace are inert (listed in inert)."
	noteNonRoot               = "Runs as non-root: after exec its processes hold no capabilities, but a setuid-root binary would regain the whole bounding set (allowPrivilegeEscalation is not false) and a binary with file capabilities gains those inside the bounding set."
	noteNonRootNNP            = "Runs as non-root with no_new_privs (allowPrivilegeEscalation: false): after exec its processes hold no capabilities and setuid bits are ignored; only an entrypoint binary carrying file capabilities gains them, and only inside the bounding set."
	noteNonRootNNPNoPermitted = "Runs as non-root with no_new_privs (allowPrivilegeEscalation: false) on Docker 18.04 to 24.0.5 (to 23.0.6 on the 23.0 line): the daemon gives a non-root process an empty permitted set, and no_new_privs caps every exec at that empty set, so its processes hold no capabilities and cannot gain any, not even through the entrypoint's file capabilities (moby oci/oci.go SetCapabilities; fixed by moby commit 3aef732e61)."
	noteNonRootEmpty          = "Runs as non-root with an empty bounding set: its processes hold no capabilities and cannot gain any."
	noteAmbient               = "Privileged on cri-o: CRI-O puts every capability into the ambient set too, so the non-root process keeps them all through exec."
	noteNoSeccomp             = "drop: [ALL] without a RuntimeDefault seccomp profile: a process can still unshare a user namespace and hold every capability inside it, which exposes namespaced kernel code (CVE-2022-0185, CVE-2022-0492); set seccompProfile.type: RuntimeDefault."
	noteSysAdminNNP           = "allowPrivilegeEscalation: false does not contain a process holding SYS_ADMIN; the API documents privilege escalation as always possible with it."
	noteUnknownRT             = "Container runtime unknown: the sets show only what the spec adds, without the runtime's defaults."
)

// CRIOConfigNote is added to the notes of every container judged on CRI-O
// (pkg/audit), so that each JSON item stands alone; the tables do not
// print notes. Source: CRI-O docs/crio.conf.5.md default_capabilities.
const CRIOConfigNote = "CRI-O's default set is configurable per node (crio.conf default_capabilities), which the API does not show; the upstream default is assumed."

func notes(in *Input, r *Result) []string {
	var n []string
	if in.Profile.Name() == "unknown" {
		n = append(n, noteUnknownRT)
	}
	if r.Context.UserNamespace && !r.CreateFails {
		n = append(n, noteUserNS)
	}
	if r.User.Kind == UserNonRoot && !r.CreateFails && r.Effective == 0 {
		n = append(n, r.Reachable.Explanation)
	}
	if r.Applied.DropAll && !r.Privileged && (r.Context.Seccomp == "" || r.Context.Seccomp == string(corev1.SeccompProfileTypeUnconfined)) {
		n = append(n, noteNoSeccomp)
	}
	if r.NoNewPrivs && r.Bounding.Has(capability.SYS_ADMIN) {
		n = append(n, noteSysAdminNNP)
	}
	return n
}
