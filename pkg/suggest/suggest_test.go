package suggest

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// Pod specs shared by several cases.
const (
	webPort80 = `
containers:
- name: c
  image: x
  ports: [{containerPort: 80}]`
	rootNoPorts = `
containers:
- name: c
  image: x
  securityContext: {runAsUser: 0}`
	// examples/04-cap-prefix-pitfall.yaml
	capPrefix = `
containers:
- name: c
  image: x
  securityContext:
    runAsUser: 0
    capabilities: {add: ["CAP_SYS_ADMIN"], drop: ["CAP_NET_RAW", "CAP_MKNOD"]}`
	// examples/05-add-and-drop.yaml, both containers
	addAndDrop = `
containers:
- name: postgres
  image: x
  securityContext:
    capabilities: {drop: ["all"], add: ["CHOWN", "SETUID", "SETGID", "NET_ADMIN", "FOWNER"]}
- name: exporter
  image: x
  securityContext:
    runAsUser: 65534
    capabilities: {add: ["NET_ADMIN"], drop: ["NET_ADMIN", "NET_RAWW"]}`
	// examples/03-node-agent-privileged.yaml
	nodeAgent = `
hostPID: true
hostNetwork: true
containers:
- name: c
  image: x
  securityContext:
    privileged: true
    capabilities: {drop: ["ALL"]}`
	// examples/02-api-restricted.yaml
	hardened = `
securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
containers:
- name: c
  image: x
  securityContext:
    allowPrivilegeEscalation: false
    capabilities: {drop: ["ALL"], add: ["NET_BIND_SERVICE"]}`
	// non-root with no_new_privs, adding what the image does not need
	hardenedAdds = `
securityContext: {runAsNonRoot: true, runAsUser: 10001}
containers:
- name: c
  image: x
  securityContext:
    allowPrivilegeEscalation: false
    capabilities: {drop: ["ALL"], add: ["NET_BIND_SERVICE", "SETUID"]}`
	// examples/10-debug-pod-list.json, the ReplicationController
	addAll = `
containers:
- name: c
  image: x
  securityContext:
    capabilities: {add: ["ALL"], drop: ["SYS_ADMIN", "SYS_MODULE"]}`
)

func TestSuggest(t *testing.T) {
	tests := []struct {
		name     string
		spec     string
		rt       string
		strategy Strategy
		keep     []capability.Cap
		// container name, "" for the first
		container string

		wantDrop, wantKeep []string
		// wantCaps nil: the lists as written stay (no patch).
		wantCaps *Capabilities
		// wantNotes must all appear (in this order among themselves);
		// noNotes must not appear.
		wantNotes, noNotes []string
		// reasons: capability → substring its drop or keep reason must hold.
		reasons map[string]string
		// unchanged: nothing to drop and nothing to rewrite.
		unchanged bool
	}{
		// Catalog strategy on the runtime defaults (docs/sources.md#containerd-defaults): of the 14
		// containerd/Docker defaults the catalog says drop MKNOD, NET_RAW
		// and SETFCAP; CRI-O's 9 hold none of them.
		{
			name: "catalog, containerd defaults, port 80", spec: webPort80, rt: "containerd",
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps:  &Capabilities{Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NotePortSysctl, NotePingSysctl, NoteFileCaps},
			reasons: map[string]string{
				"NET_BIND_SERVICE": "may run as root (the image's USER decides; audited as root) and declares containerPort 80 (< 1024)",
				"NET_RAW":          "catalog: drop (risk high)",
				"DAC_OVERRIDE":     "catalog: review (risk medium); kept",
				"CHOWN":            "catalog: keep (risk low)",
			},
		},
		{
			name: "catalog, docker defaults are containerd's", spec: webPort80, rt: "docker",
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps: &Capabilities{Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
		},
		{
			name: "catalog, cri-o defaults: nothing to drop, no patch", spec: webPort80, rt: "cri-o",
			wantDrop: []string{}, wantKeep: crio9, unchanged: true,
			wantNotes: []string{NotePortSysctl}, noNotes: []string{NotePingSysctl, NoteFileCaps},
		},
		{
			name: "catalog, cri-o before 1.18 still grants NET_RAW", spec: webPort80, rt: "cri-o://1.17.3",
			wantDrop: []string{"NET_RAW"}, wantKeep: minus(crio11, "NET_RAW"),
			wantCaps: &Capabilities{Drop: []string{"NET_RAW"}},
		},

		// Strict: drop ALL, add back only NET_BIND_SERVICE for the port
		// (docs/suggest-drop.md, spelling).
		{
			name: "strict, containerd, port 80", spec: webPort80, rt: "containerd", strategy: Strict,
			wantDrop: minus(containerd14, "NET_BIND_SERVICE"), wantKeep: []string{"NET_BIND_SERVICE"},
			wantCaps:  &Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}},
			wantNotes: []string{NotePortSysctl, NotePingSysctl, NoteFileCaps}, noNotes: []string{NotePSSRestricted, NoteCRIODropAll},
			reasons: map[string]string{"NET_RAW": "strict: not in the keep list (catalog: drop, risk high)"},
		},
		{
			name: "strict, docker", spec: webPort80, rt: "docker", strategy: Strict,
			wantDrop: minus(containerd14, "NET_BIND_SERVICE"), wantKeep: []string{"NET_BIND_SERVICE"},
			wantCaps: &Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}},
		},
		{
			name: "strict, cri-o", spec: webPort80, rt: "cri-o", strategy: Strict,
			wantDrop: minus(crio9, "NET_BIND_SERVICE"), wantKeep: []string{"NET_BIND_SERVICE"},
			wantCaps: &Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}},
			noNotes:  []string{NoteCRIODropAll, NotePingSysctl},
		},
		{
			// docs/engine.md "Old CRI-O and drop: [ALL]": before the fix the
			// defaults come back after drop ALL, so they must be named.
			name: "strict, cri-o 1.17 names the defaults that go", spec: webPort80, rt: "cri-o://1.17.3", strategy: Strict,
			wantDrop: minus(crio11, "NET_BIND_SERVICE"), wantKeep: []string{"NET_BIND_SERVICE"},
			wantCaps: &Capabilities{Add: []string{"NET_BIND_SERVICE"},
				Drop: append([]string{"ALL"}, minus(crio11, "NET_BIND_SERVICE")...)},
			wantNotes: []string{NoteCRIODropAll},
		},
		{
			name: "strict, cri-o 1.19 may re-add the defaults too", spec: webPort80, rt: "cri-o://1.19.0", strategy: Strict,
			wantDrop: minus(crio9, "NET_BIND_SERVICE"), wantKeep: []string{"NET_BIND_SERVICE"},
			wantCaps: &Capabilities{Add: []string{"NET_BIND_SERVICE"},
				Drop: append([]string{"ALL"}, minus(crio9, "NET_BIND_SERVICE")...)},
			wantNotes: []string{NoteCRIODropAll},
		},
		{
			name: "strict, root without ports keeps nothing", spec: rootNoPorts, rt: "containerd", strategy: Strict,
			wantDrop: containerd14, wantKeep: []string{},
			wantCaps: &Capabilities{Drop: []string{"ALL"}},
			noNotes:  []string{NotePortSysctl},
		},
		{
			// A non-root process holds nothing after exec
			// (docs/sources.md#exec-transformation), so the
			// port rule does not apply; the note says how it could bind.
			name: "strict, non-root with port 80", rt: "containerd", strategy: Strict,
			spec: `
containers:
- name: c
  image: x
  ports: [{containerPort: 80}]
  securityContext: {runAsUser: 1000}`,
			wantDrop: containerd14, wantKeep: []string{},
			wantCaps:  &Capabilities{Drop: []string{"ALL"}},
			wantNotes: []string{NoteNonRootLowPort, NoteFileCaps},
		},
		{
			name: "strict, the pod's own port sysctl makes NET_BIND_SERVICE unnecessary", rt: "containerd", strategy: Strict,
			spec: `
securityContext:
  sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}]
containers:
- name: c
  image: x
  ports: [{containerPort: 80}]
  securityContext: {runAsUser: 0}`,
			wantDrop: containerd14, wantKeep: []string{},
			wantCaps: &Capabilities{Drop: []string{"ALL"}},
		},
		{
			name: "strict, a port sysctl above the port does not help", rt: "containerd", strategy: Strict,
			spec: `
securityContext:
  sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "100"}]
containers:
- name: c
  image: x
  ports: [{containerPort: 80}]
  securityContext: {runAsUser: 0}`,
			wantDrop: minus(containerd14, "NET_BIND_SERVICE"), wantKeep: []string{"NET_BIND_SERVICE"},
			wantCaps: &Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}},
		},
		{
			// With hostNetwork the net sysctls cannot be set per pod.
			name: "strict, hostNetwork ignores the sysctl and offers no sysctl alternative", rt: "containerd", strategy: Strict,
			spec: `
hostNetwork: true
securityContext:
  sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}]
containers:
- name: c
  image: x
  ports: [{containerPort: 443}]
  securityContext: {runAsUser: 0}`,
			wantDrop: minus(containerd14, "NET_BIND_SERVICE"), wantKeep: []string{"NET_BIND_SERVICE"},
			wantCaps: &Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}},
			noNotes:  []string{NotePortSysctl, NotePingSysctl},
			reasons:  map[string]string{"NET_BIND_SERVICE": "runs as root and declares containerPort 443"},
		},
		{
			name: "strict, --keep beyond NET_BIND_SERVICE cannot meet restricted", spec: rootNoPorts, rt: "containerd",
			strategy: Strict, keep: []capability.Cap{capability.SYS_CHROOT},
			wantDrop: minus(containerd14, "SYS_CHROOT"), wantKeep: []string{"SYS_CHROOT"},
			wantCaps:  &Capabilities{Add: []string{"SYS_CHROOT"}, Drop: []string{"ALL"}},
			wantNotes: []string{NotePSSRestricted},
			reasons:   map[string]string{"SYS_CHROOT": "named in --keep"},
		},
		{
			name: "catalog, --keep a capability it does not hold adds nothing", spec: rootNoPorts, rt: "containerd",
			keep:     []capability.Cap{capability.NET_ADMIN},
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps:  &Capabilities{Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NoteKeepNotHeld},
		},
		{
			name: "catalog, --keep overrides the catalog's drop", spec: rootNoPorts, rt: "containerd",
			keep:     []capability.Cap{capability.NET_RAW},
			wantDrop: []string{"MKNOD", "SETFCAP"}, wantKeep: plus(containerdKept, "NET_RAW"),
			wantCaps:  &Capabilities{Drop: []string{"MKNOD", "SETFCAP"}},
			wantNotes: []string{NotePingSysctl},
		},

		// privileged: every capability, lists ignored (docs/sources.md#privileged).
		{
			name: "catalog, privileged without lists: the note comes first", rt: "containerd",
			spec: `
containers:
- name: c
  image: x
  securityContext: {privileged: true}`,
			wantDrop: allBut(containerdKept...), wantKeep: containerdKept,
			wantCaps:  &Capabilities{Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NotePrivileged},
			reasons:   map[string]string{"SYS_ADMIN": "held only because of privileged: true", "NET_RAW": "catalog: drop"},
		},
		{
			name: "strict, privileged node agent that already drops ALL: no list change", spec: nodeAgent, rt: "containerd", strategy: Strict,
			wantDrop: capability.All.Names(), wantKeep: []string{}, wantCaps: nil,
			wantNotes: []string{NotePrivileged},
		},
		{
			name: "catalog, privileged node agent that already drops ALL", spec: nodeAgent, rt: "cri-o",
			wantDrop: capability.All.Names(), wantKeep: []string{}, wantCaps: nil,
			wantNotes: []string{NotePrivileged},
		},
		{
			// The privileged container holds SYS_ADMIN now, so --keep may keep
			// it: the new lists add it back for when privileged goes.
			name: "strict, privileged with --keep: the new lists add the kept capabilities", spec: nodeAgent, rt: "containerd",
			strategy: Strict, keep: []capability.Cap{capability.SYS_ADMIN, capability.SYS_PTRACE},
			wantDrop: allBut("SYS_ADMIN", "SYS_PTRACE"), wantKeep: []string{"SYS_ADMIN", "SYS_PTRACE"},
			wantCaps:  &Capabilities{Add: []string{"SYS_ADMIN", "SYS_PTRACE"}, Drop: []string{"ALL"}},
			wantNotes: []string{NotePrivileged, NotePSSRestricted},
		},

		// CAP_ prefixes (docs/sources.md#containerd-add-drop).
		{
			name: "catalog, CAP_ drops do nothing on containerd", spec: capPrefix, rt: "containerd",
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps:  &Capabilities{Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NoteCapPrefix, NoteCapPrefix, NoteCapPrefix},
			reasons: map[string]string{
				"NET_RAW": `the manifest drops it as "CAP_NET_RAW", which drops nothing on containerd`,
				"MKNOD":   `the manifest drops it as "CAP_MKNOD"`,
			},
		},
		{
			// CRI-O reads CAP_SYS_ADMIN as SYS_ADMIN: an add by name, kept
			// and flagged, spelled canonically like the author's own drops.
			name: "catalog, CAP_ entries work on cri-o: SYS_ADMIN is added by name, kept for review", spec: capPrefix, rt: "cri-o",
			wantDrop: []string{}, wantKeep: plus(crio9, "SYS_ADMIN"),
			wantCaps:  &Capabilities{Add: []string{"SYS_ADMIN"}, Drop: []string{"MKNOD", "NET_RAW"}},
			wantNotes: []string{NoteCapPrefix, NoteReviewExplicitAdd},
			reasons:   map[string]string{"SYS_ADMIN": "added by name in the manifest, so kept (catalog: drop, risk critical): review it"},
		},
		{
			name: "strict, CAP_ entries", spec: capPrefix, rt: "containerd", strategy: Strict,
			wantDrop: containerd14, wantKeep: []string{},
			wantCaps: &Capabilities{Drop: []string{"ALL"}},
		},

		// The same name in add and drop (docs/sources.md#containerd-add-drop: drop wins on
		// containerd and CRI-O, add wins on Docker).
		{
			name: "catalog, add and drop on containerd", spec: addAndDrop, rt: "containerd", container: "exporter",
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps:  &Capabilities{Drop: []string{"MKNOD", "NET_ADMIN", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NoteUnknownName, NoteAddAndDrop},
		},
		{
			name: "catalog, add and drop on docker: add won, the new lists drop it", spec: addAndDrop, rt: "docker", container: "exporter",
			wantDrop: []string{"MKNOD", "NET_ADMIN", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps:  &Capabilities{Drop: []string{"MKNOD", "NET_ADMIN", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NoteCreateFails, NoteUnknownName, NoteAddAndDrop},
			// Named in add and in drop: the add-and-drop rule decides, not
			// the explicit-add one.
			reasons: map[string]string{"NET_ADMIN": "Docker (cri-dockerd) lets add win"},
			noNotes: []string{NoteReviewExplicitAdd},
		},
		{
			// Every add is by name, so every one stays; NET_ADMIN, high, is
			// flagged for review. Only "all" is rewritten.
			name: `catalog, drop "all" plus adds: every add stays, NET_ADMIN for review, ALL is rewritten`, spec: addAndDrop, rt: "containerd", container: "postgres",
			wantDrop: []string{}, wantKeep: []string{"CHOWN", "FOWNER", "NET_ADMIN", "SETGID", "SETUID"},
			wantCaps:  &Capabilities{Add: []string{"CHOWN", "FOWNER", "NET_ADMIN", "SETGID", "SETUID"}, Drop: []string{"ALL"}},
			wantNotes: []string{NoteNonCanonical, NoteReviewExplicitAdd},
			noNotes:   []string{NoteAmplified, NoteStrictDropsExplicitAdd, NoteStrictRootSetup},
			reasons: map[string]string{
				"NET_ADMIN": "added by name in the manifest, so kept (catalog: drop, risk high): review it",
				"CHOWN":     "catalog: keep (risk low)",
			},
		},
		{
			// The user is the image's: strict says what a root entrypoint
			// loses, and which adds by name it removes.
			name: `strict, drop "all" plus adds`, spec: addAndDrop, rt: "containerd", container: "postgres", strategy: Strict,
			wantDrop: []string{"CHOWN", "FOWNER", "NET_ADMIN", "SETGID", "SETUID"}, wantKeep: []string{},
			wantCaps:  &Capabilities{Drop: []string{"ALL"}},
			wantNotes: []string{NoteStrictDropsExplicitAdd, NoteStrictRootSetup},
			noNotes:   []string{NoteReviewExplicitAdd},
			reasons:   map[string]string{"NET_ADMIN": "strict: not in the keep list, though the manifest adds it (catalog: drop, risk high)"},
		},
		{
			name: "strict, --keep keeps what the root entrypoint needs: no root-setup note", spec: addAndDrop, rt: "containerd", container: "postgres", strategy: Strict,
			keep:     []capability.Cap{capability.CHOWN, capability.FOWNER, capability.SETGID, capability.SETUID, capability.DAC_OVERRIDE},
			wantDrop: []string{"NET_ADMIN"}, wantKeep: []string{"CHOWN", "FOWNER", "SETGID", "SETUID"},
			wantCaps:  &Capabilities{Add: []string{"CHOWN", "FOWNER", "SETGID", "SETUID"}, Drop: []string{"ALL"}},
			wantNotes: []string{NoteStrictDropsExplicitAdd},
			noNotes:   []string{NoteStrictRootSetup},
		},
		{
			name: "strict, a non-root container: no root-setup note", spec: hardenedAdds, rt: "containerd", strategy: Strict,
			wantDrop: []string{"NET_BIND_SERVICE", "SETUID"}, wantKeep: []string{},
			wantCaps:  &Capabilities{Drop: []string{"ALL"}},
			wantNotes: []string{NoteStrictDropsExplicitAdd},
			noNotes:   []string{NoteStrictRootSetup},
		},
		{
			name: "strict, root on the runtime defaults: the root-setup note, no explicit-add note", spec: rootNoPorts, rt: "cri-o", strategy: Strict,
			wantDrop: crio9, wantKeep: []string{},
			wantCaps:  &Capabilities{Drop: []string{"ALL"}},
			wantNotes: []string{NoteStrictRootSetup},
			noNotes:   []string{NoteStrictDropsExplicitAdd},
		},

		// Explicit adds: the author's statement of need, kept by the
		// catalog strategy, flagged when risky.
		{
			name: "catalog, an added medium review capability stays, flagged", spec: addSpec("SYS_RESOURCE", ""), rt: "containerd",
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: plus(containerdKept, "SYS_RESOURCE"),
			wantCaps:  &Capabilities{Add: []string{"SYS_RESOURCE"}, Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NoteReviewExplicitAdd},
			reasons:   map[string]string{"SYS_RESOURCE": "added by name in the manifest, so kept (catalog: review, risk medium): review it"},
		},
		{
			// The runtime's own NET_RAW still goes; the one the author
			// names stays.
			name: "catalog, an added default the catalog drops stays", spec: addSpec("NET_RAW", ""), rt: "containerd",
			wantDrop: []string{"MKNOD", "SETFCAP"}, wantKeep: plus(containerdKept, "NET_RAW"),
			wantCaps:  &Capabilities{Add: []string{"NET_RAW"}, Drop: []string{"MKNOD", "SETFCAP"}},
			wantNotes: []string{NoteReviewExplicitAdd},
		},
		{
			// hostNetwork raises NET_ADMIN to critical: the note says so,
			// once (not also as amplified).
			name: "catalog, an amplified add: the review note says the raised risk", spec: addSpec("NET_ADMIN", "hostNetwork: true"), rt: "containerd",
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: plus(containerdKept, "NET_ADMIN"),
			wantCaps:  &Capabilities{Add: []string{"NET_ADMIN"}, Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NoteReviewExplicitAdd},
			noNotes:   []string{NoteAmplified},
			reasons:   map[string]string{"NET_ADMIN": "risk critical with hostNetwork"},
		},

		{
			name: "catalog, --keep keeps an added capability", spec: addSpec("SYS_RESOURCE", ""), rt: "containerd",
			keep:     []capability.Cap{capability.SYS_RESOURCE},
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: plus(containerdKept, "SYS_RESOURCE"),
			wantCaps: &Capabilities{Add: []string{"SYS_RESOURCE"}, Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
		},
		{
			name: "catalog, an added default the catalog keeps stays in add", spec: addSpec("SETUID", ""), rt: "containerd",
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps: &Capabilities{Add: []string{"SETUID"}, Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
		},
		{
			name: "catalog, an added default the catalog reviews stays in add, flagged", spec: addSpec("DAC_OVERRIDE", ""), rt: "containerd",
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps:  &Capabilities{Add: []string{"DAC_OVERRIDE"}, Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NoteReviewExplicitAdd},
		},
		{
			// KILL is low, medium with hostPID: hostPID lets container root kill
			// the node's root daemons without KILL (kill_ok_by_cred(),
			// kernel/signal.c), so KILL only adds other UIDs and stays kept.
			name: "catalog, KILL added with hostPID stays", spec: addSpec("KILL", "hostPID: true"), rt: "containerd",
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps: &Capabilities{Add: []string{"KILL"}, Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			reasons:  map[string]string{"KILL": "catalog: keep (risk medium with hostPID)"},
		},
		{
			name: "catalog, default KILL with hostPID is kept with a note", spec: "hostPID: true\n" + rootNoPorts, rt: "containerd",
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps: &Capabilities{Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			reasons:  map[string]string{"KILL": "catalog: keep (risk medium with hostPID)"},
		},

		// User namespaces (docs/sources.md#userns-inert): inert capabilities are said to be.
		{
			name: "catalog, user namespace", rt: "containerd",
			spec: `
hostUsers: false
containers:
- name: c
  image: x
  securityContext:
    runAsUser: 0
    capabilities: {add: ["SYS_TIME", "BPF"]}`,
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: plus(containerdKept, "BPF", "SYS_TIME"),
			wantCaps: &Capabilities{Add: []string{"BPF", "SYS_TIME"}, Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			reasons: map[string]string{
				"SYS_TIME": "inert in this pod's user namespace anyway",
				"BPF":      "inert in this pod's user namespace anyway",
				"MKNOD":    "inert in this pod's user namespace anyway",
			},
		},

		// add: [ALL] names no capability: what it grants is judged as
		// before, catalog drops and risky capabilities go.
		{
			name: "catalog, add ALL", spec: addAll, rt: "containerd",
			wantKeep: []string{"AUDIT_WRITE", "CHOWN", "FOWNER", "FSETID", "IPC_LOCK", "KILL", "NET_BIND_SERVICE", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"},
			wantDrop: allBut("AUDIT_WRITE", "CHOWN", "FOWNER", "FSETID", "IPC_LOCK", "KILL", "NET_BIND_SERVICE", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
				"SYS_ADMIN", "SYS_MODULE"),
			// IPC_LOCK is low since locked pages count against the memory limit,
			// and review, so the explicit add of it stays.
			wantCaps: &Capabilities{Add: []string{"IPC_LOCK"}, Drop: []string{"DAC_OVERRIDE", "MKNOD", "NET_RAW", "SETFCAP", "SYS_ADMIN", "SYS_MODULE"}},
			reasons:  map[string]string{"DAC_OVERRIDE": "granted by add: [ALL], and risky", "SYS_RESOURCE": "granted by add: [ALL], and risky", "BPF": "catalog: drop"},
			noNotes:  []string{NoteReviewExplicitAdd},
		},
		{
			name: "catalog, add ALL on docker", spec: addAll, rt: "docker",
			wantKeep: []string{"AUDIT_WRITE", "CHOWN", "FOWNER", "FSETID", "IPC_LOCK", "KILL", "NET_BIND_SERVICE", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"},
			wantDrop: allBut("AUDIT_WRITE", "CHOWN", "FOWNER", "FSETID", "IPC_LOCK", "KILL", "NET_BIND_SERVICE", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
				"SYS_ADMIN", "SYS_MODULE"),
			// IPC_LOCK is low since locked pages count against the memory limit,
			// and review, so the explicit add of it stays.
			wantCaps: &Capabilities{Add: []string{"IPC_LOCK"}, Drop: []string{"DAC_OVERRIDE", "MKNOD", "NET_RAW", "SETFCAP", "SYS_ADMIN", "SYS_MODULE"}},
		},

		// runAsNonRoot with runAsUser 0: the kubelet refuses it; the lists
		// are those of the container once it starts.
		{
			name: "catalog, runAsNonRoot with runAsUser 0 never starts", rt: "containerd",
			spec: `
securityContext: {runAsNonRoot: true}
containers:
- name: c
  image: x
  securityContext: {runAsUser: 0}`,
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: containerdKept,
			wantCaps:  &Capabilities{Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NoteKubeletRefusesRoot},
		},
		// Docker 20.10: privileged holds 0..37 only.
		{
			name: "catalog, privileged on docker 20.10 holds no BPF", rt: "docker://20.10.24",
			spec: `
containers:
- name: c
  image: x
  securityContext: {runAsUser: 0, privileged: true}`,
			wantDrop: allBut("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
				"BPF", "PERFMON", "CHECKPOINT_RESTORE"),
			wantKeep:  containerdKept,
			wantCaps:  &Capabilities{Drop: []string{"MKNOD", "NET_RAW", "SETFCAP"}},
			wantNotes: []string{NotePrivileged},
		},

		// Already hardened.
		{
			name: "catalog, the hardened shape holds only what it should", spec: hardened, rt: "containerd",
			wantDrop: []string{}, wantKeep: []string{"NET_BIND_SERVICE"}, unchanged: true,
			noNotes: []string{NoteFileCaps},
		},
		{
			name: "strict, the hardened shape loses the NET_BIND_SERVICE it adds", spec: hardened, rt: "containerd", strategy: Strict,
			wantDrop: []string{"NET_BIND_SERVICE"}, wantKeep: []string{},
			wantCaps:  &Capabilities{Drop: []string{"ALL"}},
			wantNotes: []string{NoteFileCaps},
		},
		{
			name: "strict, drop ALL alone: nothing to do", rt: "cri-o", strategy: Strict,
			spec: `
containers:
- name: c
  image: x
  securityContext: {runAsNonRoot: true, capabilities: {drop: ["ALL"]}}`,
			wantDrop: []string{}, wantKeep: []string{}, unchanged: true,
		},
		{
			name: "catalog, a lower-case add is rewritten", rt: "containerd",
			spec: `
containers:
- name: c
  image: x
  ports: [{containerPort: 443}]
  securityContext: {runAsUser: 0, capabilities: {drop: ["ALL"], add: ["net_bind_service"]}}`,
			wantDrop: []string{}, wantKeep: []string{"NET_BIND_SERVICE"},
			wantCaps:  &Capabilities{Add: []string{"NET_BIND_SERVICE"}, Drop: []string{"ALL"}},
			wantNotes: []string{NoteNonCanonical},
		},

		// Containers that cannot be changed.
		{
			name: "windows: nothing to suggest", rt: "containerd",
			spec: `
os: {name: windows}
containers:
- name: c
  image: x`,
			wantDrop: []string{}, wantKeep: []string{}, wantNotes: []string{NoteWindows}, unchanged: true,
		},
		{
			name: "ephemeral: drop list, no new lists, a note", rt: "containerd", container: "dbg",
			spec: `
shareProcessNamespace: true
containers:
- name: app
  image: x
ephemeralContainers:
- name: dbg
  image: busybox
  securityContext: {capabilities: {add: ["SYS_PTRACE"]}}`,
			wantDrop: []string{"MKNOD", "NET_RAW", "SETFCAP"}, wantKeep: plus(containerdKept, "SYS_PTRACE"),
			wantCaps: nil, wantNotes: []string{NoteReviewExplicitAdd, NoteEphemeral},
		},
		{
			name: "unknown runtime: only the spec's own adds are known, and kept", spec: addSpec("NET_ADMIN", ""), rt: "unknown",
			wantDrop: []string{}, wantKeep: []string{"NET_ADMIN"}, unchanged: true,
			wantNotes: []string{NoteReviewExplicitAdd, NoteUnknownRuntime},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := run(t, podSpec(t, tt.spec), tt.rt, tt.container, Options{Strategy: tt.strategy, Keep: capability.SetOf(tt.keep...)})
			if diff := cmp.Diff(tt.wantDrop, names(s.Drop)); diff != "" {
				t.Errorf("drop (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantKeep, names(s.Keep)); diff != "" {
				t.Errorf("keep (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCaps, s.Capabilities); diff != "" {
				t.Errorf("new capabilities (-want +got):\n%s", diff)
			}
			if s.Unchanged != tt.unchanged {
				t.Errorf("unchanged = %v, want %v", s.Unchanged, tt.unchanged)
			}
			got := codes(s.Notes)
			if !isSubsequence(tt.wantNotes, got) {
				t.Errorf("notes %v do not contain %v in that order", got, tt.wantNotes)
			}
			for _, c := range tt.noNotes {
				if slices.Contains(got, c) {
					t.Errorf("unexpected note %s: %v", c, s.Notes)
				}
			}
			if slices.Contains(tt.wantNotes, NotePrivileged) && (len(got) == 0 || got[0] != NotePrivileged) {
				t.Errorf("the privileged note must come first: %v", got)
			}
			for c, want := range tt.reasons {
				why := reasonOf(s.Drop, c) + reasonOf(s.Keep, c)
				if !strings.Contains(why, want) {
					t.Errorf("reason for %s = %q, want it to contain %q", c, why, want)
				}
			}
			for _, e := range append(slices.Clone(s.Drop), s.Keep...) {
				if e.Reason == "" || e.Risk == "" {
					t.Errorf("%s has no reason or risk: %+v", e.Capability, e)
				}
			}
		})
	}
}

// addSpec is a root container adding one capability, with an optional
// pod-level line.
func addSpec(c, podLine string) string {
	return podLine + `
containers:
- name: c
  image: x
  securityContext:
    runAsUser: 0
    capabilities: {add: ["` + c + `"]}`
}

// isSubsequence reports whether want appears in got in order.
func isSubsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestParseStrategy(t *testing.T) {
	for in, want := range map[string]Strategy{"catalog": Catalog, "STRICT": Strict, " strict ": Strict} {
		if got, err := ParseStrategy(in); err != nil || got != want {
			t.Errorf("ParseStrategy(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseStrategy("paranoid"); err == nil || !strings.Contains(err.Error(), "use catalog, strict or observed") {
		t.Errorf("ParseStrategy(paranoid) error = %v", err)
	}
}

// Docker with add: [ALL, X] and drop: [X]: moby TweakCapabilities lets the
// drop win after add ALL, and the note must say so.
func TestAddAllAndDropNoteOnDocker(t *testing.T) {
	spec := `
containers:
- name: c
  image: x
  securityContext:
    runAsUser: 0
    capabilities: {add: ["ALL", "NET_ADMIN"], drop: ["NET_ADMIN"]}`
	s, _ := run(t, podSpec(t, spec), "docker", "", Options{})
	var msg string
	for _, n := range s.Notes {
		if n.Code == NoteAddAndDrop {
			msg = n.Message
		}
	}
	if !strings.Contains(msg, "drop wins here") || strings.Contains(msg, "lets add win, containerd") {
		t.Errorf("add-and-drop note = %q", msg)
	}
}
