package suggest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/risk"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
)

type noteInput struct {
	lists                                       runtimes.Applied
	classes                                     classes
	L, H, target, needs, portNeed, intendedDrop capability.Set
	explicit, named, review                     capability.Set
	port                                        int32
	portOK                                      bool
	risk                                        func(capability.Cap) risk.Assessment
}

// notes lists what else the user must know, the most pressing first:
// privileged before everything, because no list works under it.
func (s *Suggestion) notes(in Input, o Options, x noteInput) []Note {
	r := in.Result
	p := in.Profile
	var n []Note
	add := func(code, format string, a ...any) { n = append(n, Note{code, fmt.Sprintf(format, a...)}) }
	dropped := x.H &^ x.target

	if r.Privileged {
		add(NotePrivileged, "privileged: true gives every capability whatever the lists say, so no drop list works under it: "+
			"remove privileged first (check what the container uses it for: devices, host mounts, sysctls); the new lists take effect only then.")
	}
	if r.KubeletRefuses {
		add(NoteKubeletRefusesRoot, "The kubelet never starts this container: runAsNonRoot is true but the effective runAsUser is 0 (%s), which verifyRunAsNonRoot in pkg/kubelet/kuberuntime refuses; "+
			"set runAsUser to a non-zero UID first. The lists here are for the container once it starts; they do not depend on the user.", r.User.Source)
	}
	if r.CreateFails {
		add(NoteCreateFails, "%s refuses to create this container as written (a name in the lists is no capability it knows); the new lists leave that name out.", p.Name())
	}
	newAdd, newDrop := capability.Set(0), capability.Set(0)
	if s.Capabilities != nil {
		newAdd, newDrop = capability.SetOfNames(s.Capabilities.Add), capability.SetOfNames(s.Capabilities.Drop)
	}
	tail := func(e *runtimes.EntryOutcome) string {
		in := newDrop
		if e.List == "add" {
			in = newAdd
		}
		switch {
		case s.Capabilities == nil:
			return ""
		case e.IntendedKnown && in.Has(e.Intended):
			return fmt.Sprintf("; the new lists write it as %s", e.Intended)
		}
		return "; the new lists leave it out"
	}
	for i := range x.classes.entries {
		e := &x.classes.entries[i]
		switch {
		case e.All:
			if e.Raw != "ALL" {
				add(NoteNonCanonical, "The %s entry %q works on every runtime, but Pod Security Admission compares exact strings (restricted requires \"ALL\" in drop)%s.",
					e.List, e.Raw, allTail(s.Capabilities, e.List))
			}
		case !e.IntendedKnown:
			hint := ""
			if len(e.Suggestions) > 0 {
				hint = " (did you mean " + strings.Join(e.Suggestions, " or ") + "?)"
			}
			what := "containerd ignores it"
			if p.Kind == runtimes.CRIO || p.Kind == runtimes.Docker {
				what = p.Name() + " refuses to create the container because of it"
			}
			add(NoteUnknownName, "The %s entry %q names no capability%s: %s%s.", e.List, e.Raw, hint, what, tail(e))
		case e.Prefixed:
			var what string
			switch {
			case p.Kind == runtimes.Containerd && e.List == "add":
				what = fmt.Sprintf("does nothing on containerd (it becomes CAP_%s, which runc ignores), so the container does not get %s", strings.ToUpper(e.Raw), e.Intended)
			case p.Kind == runtimes.Containerd:
				what = fmt.Sprintf("drops nothing on containerd (it becomes CAP_%s, which matches no capability)", strings.ToUpper(e.Raw))
			default:
				what = fmt.Sprintf("works on %s, but does nothing on containerd, and Pod Security Admission rejects it", p.Name())
			}
			add(NoteCapPrefix, "The %s entry %q %s%s.", e.List, e.Raw, what, tail(e))
		case e.Raw != e.Intended.String():
			add(NoteNonCanonical, "The %s entry %q works on every runtime, but Pod Security Admission compares exact strings%s.", e.List, e.Raw, tail(e))
		}
	}
	for _, cp := range (x.classes.addNamed & x.classes.dropNamed).Caps() {
		where := "only in drop"
		if x.target.Has(cp) {
			where = "only in add"
		}
		switch {
		case p.Kind == runtimes.Docker && x.lists.AddAll:
			add(NoteAddAndDrop, "%s is in both add and drop: with add: [ALL] Docker (cri-dockerd) takes every capability except the drops, so drop wins here as on containerd and CRI-O (without ALL, Docker would let add win); the new lists name it %s.", cp, where)
		case p.Kind == runtimes.Docker:
			add(NoteAddAndDrop, "%s is in both add and drop: Docker (cri-dockerd) lets add win, containerd and CRI-O let drop win; the new lists name it %s, so every runtime agrees.", cp, where)
		default:
			add(NoteAddAndDrop, "%s is in both add and drop: %s lets drop win, but Docker (cri-dockerd) would let add win; the new lists name it %s.", cp, p.Name(), where)
		}
	}
	if s.Capabilities != nil && slices.Contains(s.Capabilities.Drop, "ALL") {
		switch {
		case p.DropAllReaddsDefaults():
			add(NoteCRIODropAll, "cri-o %s re-adds its default capabilities after drop: [ALL] (cri-o#4922; fixed by cri-o#4923 in v1.19.5, v1.21.1 and v1.22.0), so the new drop list also names each default that goes.", p.Version)
		case p.DropAllMayReaddDefaults():
			add(NoteCRIODropAll, "cri-o %s re-adds its default capabilities after drop: [ALL] unless the patch release has the fix (cri-o#4923, in v1.19.5 and v1.21.1), so the new drop list also names each default that goes.", p.Version)
		}
	}
	if miss := o.Keep &^ x.H; miss != 0 {
		add(NoteKeepNotHeld, "--keep names %s, which the container does not hold; a suggestion never adds a capability, so it is not in the new lists.", strings.Join(miss.Names(), ", "))
	}
	nbs := capability.NET_BIND_SERVICE
	if x.portOK && r.User.Kind == engine.UserNonRoot && dropped.Has(nbs) {
		add(NoteNonRootLowPort, "It runs as non-root and declares containerPort %d: a non-root process holds no capability after exec, so it binds that port only through "+
			"file capabilities on its binary (then keep NET_BIND_SERVICE with --keep, or exec fails with EPERM) or through the sysctl %s.", x.port, portSysctl)
	}
	if x.portNeed.Has(nbs) && x.target.Has(nbs) && !r.Context.HostNetwork {
		add(NotePortSysctl, "Instead of keeping NET_BIND_SERVICE, the pod can set the Pod Security Standards safe sysctl %s=%d in spec.securityContext.sysctls and drop it too; "+
			"containerd 2.0 and later and Docker already set it to 0 for pods without hostNetwork.", portSysctl, x.port)
	}
	raw := capability.NET_RAW
	if x.H.Has(raw) && (dropped.Has(raw) || o.Keep.Has(raw)) && !r.Context.HostNetwork {
		add(NotePingSysctl, "If the container uses ping, the Pod Security Standards safe sysctl net.ipv4.ping_group_range (e.g. \"0 2147483647\" in spec.securityContext.sysctls) "+
			"lets it send ICMP echo without NET_RAW; containerd 2.0 and later and Docker set it by default, except in user-namespaced pods.")
	}
	if dropped != 0 {
		why := ""
		if gone := x.explicit & dropped; gone != 0 && r.User.Kind == engine.UserNonRoot {
			why = fmt.Sprintf(" It runs as non-root and adds %s explicitly, which is usually done for such a binary.", strings.Join(gone.Names(), ", "))
		}
		add(NoteFileCaps, "A binary carrying file capabilities (setcap …=+ep) fails at exec with EPERM when one of them is no longer in the bounding set; "+
			"if the image has one, keep its capabilities with --keep.%s", why)
	}
	for _, cp := range (x.review & x.target).Caps() {
		if o.Keep.Has(cp) || x.portNeed.Has(cp) {
			continue
		}
		add(NoteReviewExplicitAdd, "%s is added by name, so it is kept: an explicit add is the author's statement that the workload needs it. "+
			"Its risk here is %s: %s. Review it: if the workload does not need it, remove it from the add list, or use --strategy=strict, which drops it "+
			"(kubectl caps explain %s says why it is risky).", cp, x.risk(cp), lowerFirst(catalog.Default().Get(cp).Summary), cp)
	}
	if gone := x.named & dropped; s.Strategy == Strict && gone != 0 {
		it := "it"
		if len(gone.Names()) > 1 {
			it = "them"
		}
		add(NoteStrictDropsExplicitAdd, "--strategy=strict removes %s, which the manifest adds by name: the author's statement that the workload needs %s. "+
			"Check that the workload runs without %s, or keep %s with --keep=%s (for this container only: --keep=KIND/NAME:CONTAINER=%s).",
			strings.Join(gone.Names(), ", "), it, it, it, strings.Join(gone.Names(), ","), strings.Join(gone.Names(), ","))
	}
	if gone := x.L & dropped & rootSetup; s.Strategy == Strict && gone != 0 && r.User.Kind != engine.UserNonRoot {
		who := "It runs as root"
		if r.User.Kind == engine.UserUnknown {
			who = "It may run as root (the image's USER decides)"
		}
		add(NoteStrictRootSetup, "%s and --strategy=strict removes %s: an image whose entrypoint starts as root to chown its files and then switch to a service user fails with EPERM without them, "+
			"e.g. the official postgres image (docker-library/postgres docker-entrypoint.sh: docker_create_db_directories chowns PGDATA to postgres, then it re-runs itself with exec gosu postgres) "+
			"and nginx (its worker processes, started as root, call setgid, initgroups and setuid to the configured user in ngx_worker_process_init, src/os/unix/ngx_process_cycle.c). "+
			"Keep what the image needs with --keep, or run it as its non-root user (runAsUser), which needs none of them.", who, strings.Join(gone.Names(), ", "))
	}
	for _, cp := range x.target.Caps() {
		rk := x.risk(cp)
		if x.review.Has(cp) {
			continue // its review note says the risk
		}
		if len(rk.Amplifiers) > 0 && rk.Risk.Level() >= catalog.RiskHigh.Level() && !o.Keep.Has(cp) && !x.portNeed.Has(cp) {
			add(NoteAmplified, "%s is kept (catalog: %s) but its risk is %s here; --strategy=strict drops it unless the workload needs it.",
				cp, catalog.Default().Get(cp).Recommendation, rk)
		}
	}
	if (s.Strategy == Strict || s.Strategy == Observed && s.Capabilities != nil) && x.target&^capability.SetOf(nbs) != 0 {
		add(NotePSSRestricted, "It keeps %s, so the container cannot meet Pod Security Standards restricted, which lets a container add only NET_BIND_SERVICE.",
			strings.Join((x.target&^capability.SetOf(nbs)).Names(), ", "))
	}
	if p.Name() == "unknown" {
		add(NoteUnknownRuntime, "The container runtime is unknown, so its default set is not known and the lists cover only what the spec adds; --strategy=strict does not depend on the runtime.")
	}
	return n
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func allTail(c *Capabilities, list string) string {
	if c == nil {
		return ""
	}
	l := c.Drop
	if list == "add" {
		l = c.Add
	}
	if slices.Contains(l, "ALL") {
		return "; the new lists write \"ALL\""
	}
	return "; the new lists leave it out"
}
