// Package profile models the container runtimes that Kubernetes nodes use
// (containerd, CRI-O, Docker through cri-dockerd): their default capability
// sets and the exact way each one turns a container's capabilities.add and
// capabilities.drop strings into the capability set the container gets.
//
// The rules follow the runtimes' own source (containerd internal/cri/opts/spec_opts.go WithCapabilities, CRI-O
// internal/factory/container/container.go SpecSetupCapabilities with
// runtime-tools generate, moby daemon/pkg/oci/caps/utils.go); docs/engine.md
// explains them with citations. The package does no I/O.
package runtimes

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// Kind names a container runtime as the kubelet reports it in
// node.status.nodeInfo.containerRuntimeVersion ("<kind>://<version>").
type Kind string

const (
	Containerd Kind = "containerd"
	CRIO       Kind = "cri-o"
	Docker     Kind = "docker"
)

// Profile is one runtime, optionally at a version. The zero Version means
// "current release".
type Profile struct {
	Kind Kind
	// Version as reported (node string) or implied ("1.17" for cri-o<1.18);
	// may be empty.
	Version string
	// VersionUnknown is set by Parse when a node reported a version that
	// does not parse. The profile then assumes the current release, and the
	// caller should say so (for CRI-O this decides between 9 and 11 default
	// capabilities).
	VersionUnknown bool
}

// legacyName is the stable name of CRI-O before v1.18, which still granted
// NET_RAW and SYS_CHROOT by default (cri-o commit 63b9f4ec98 "Remove
// NET_RAW and SYS_CHROOT capabilities", first in v1.18.0).
const legacyName = "cri-o<1.18"

// Parse turns a --runtime flag value or a node's containerRuntimeVersion
// into a Profile.
//
// Flag values are "containerd", "cri-o" (or "crio"), "cri-o<1.18" and
// "docker", in any case. Node strings are "<scheme>://<version>"; following
// the kubelet (pkg/kubelet/nodestatus/setters.go: "%s://%s" of the CRI
// RuntimeName and version) the input is split on the first "://", the scheme is compared
// case-sensitively (the kubelet always writes the runtime's own lower-case
// name) and the version is parsed the way the kubelet parses it
// (version.ParseGeneric tolerates suffixes such as
// "-2.rhaos4.8.gitb948fcd.2.el8").
func Parse(s string) (Profile, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return Profile{}, fmt.Errorf("empty container runtime; use containerd, cri-o or docker")
	}
	if scheme, ver, ok := strings.Cut(t, "://"); ok {
		var k Kind
		switch scheme {
		case string(Containerd):
			k = Containerd
		case string(CRIO):
			k = CRIO
		case string(Docker):
			k = Docker
		default:
			return Profile{}, fmt.Errorf("unknown container runtime %q (from %q); use containerd, cri-o or docker", scheme, s)
		}
		p := Profile{Kind: k, Version: ver}
		if _, err := version.ParseGeneric(ver); err != nil {
			p.VersionUnknown = true
		}
		return p, nil
	}
	switch strings.ToLower(t) {
	case string(Containerd):
		return Profile{Kind: Containerd}, nil
	case string(CRIO), "crio":
		return Profile{Kind: CRIO}, nil
	case legacyName, "crio<1.18":
		return Profile{Kind: CRIO, Version: "1.17"}, nil
	case string(Docker):
		return Profile{Kind: Docker}, nil
	}
	return Profile{}, fmt.Errorf("unknown container runtime %q; use containerd, cri-o or docker", s)
}

// Known lists the profiles the tool knows, in the order reports show them.
// It is the one place the catalog's "granted by default by" column comes
// from. Each call returns a new slice.
func Known() []Profile {
	return []Profile{
		{Kind: Containerd},
		{Kind: CRIO},
		{Kind: CRIO, Version: "1.17"},
		{Kind: Docker},
	}
}

// crioGen classifies a CRI-O version by what drop: [ALL] does.
type crioGen uint8

const (
	// crioCurrent: drop ALL removes the defaults. v1.22.0 and later
	// (cri-o commit c52b85d6c6 "Add support to drop ALL and add back few
	// capabilities", server/container_create.go setupCapabilities:
	// "if !(addAll || dropAll)"), v1.21.1+ (backport 2f4af82569), v1.19.5+
	// (backport 1e72afd358); also an absent or unparsable version, which
	// is read as the current release.
	crioCurrent crioGen = iota
	// crioFixMaybe: 1.19 or 1.21 without a patch version: the fix came in a
	// patch release (1.19.5, 1.21.1), so the version does not settle it.
	crioFixMaybe
	// crioUnfixed: 9 defaults, but CreateContainer still appended
	// s.config.DefaultCapabilities to the add list before
	// setupCapabilities (server/container_create_linux.go in v1.18.0 to
	// v1.18.6, v1.19.0 to v1.19.4, v1.20.0 to v1.20.9, v1.21.0), so drop
	// ALL re-adds them. The release-1.18 branch never got the fix; the
	// release-1.20 branch got it (502281934f) after its last release,
	// v1.20.9, so no released 1.20 carries it.
	crioUnfixed
	// crioBefore118: 11 defaults (NET_RAW and SYS_CHROOT until v1.18.0),
	// and drop ALL re-adds them like crioUnfixed.
	crioBefore118
)

func (p Profile) crioGen() crioGen {
	if p.Kind != CRIO || p.Version == "" {
		return crioCurrent
	}
	v, n, ok := versionParts(p.Version)
	major, minor, patch := v[0], v[1], v[2]
	switch {
	case !ok:
		return crioCurrent
	case major < 1 || major == 1 && minor < 18:
		return crioBefore118
	case major > 1 || minor >= 22:
		return crioCurrent
	case minor == 18 || minor == 20:
		return crioUnfixed
	case n < 3:
		return crioFixMaybe
	case minor == 19 && patch >= 5 || minor == 21 && patch >= 1:
		return crioCurrent
	}
	return crioUnfixed
}

// dockerGen classifies a Docker Engine (moby) version by how its daemon
// fills the OCI spec's capability sets (oci/oci.go SetCapabilities) and
// what it calls "every capability" (oci/caps GetAllCapabilities).
type dockerGen uint8

const (
	// dockerCurrent: v25.0.0 and later, v24.0.6+ and v23.0.7+ (moby commit
	// 3aef732e61 "Do not drop effective&permitted set", backported as
	// bf2b8a05a0 to 24.0 and 09b65e0082 to 23.0): bounding = permitted =
	// effective = the container's list for every user, inheritable and
	// ambient empty. ALL is the daemon's own effective set (oci/caps
	// utils_linux.go initCaps, via containerd pkg/cap Current). Also an
	// absent or unparsable version.
	dockerCurrent dockerGen = iota
	// dockerNoEP: v20.10.14 to v23.0.6 and v24.0.0 to v24.0.5: for UID 0
	// bounding = permitted = effective; for any other UID only the
	// bounding set ("Do not set Effective and Permitted capabilities for
	// non-root users"); inheritable and ambient empty.
	dockerNoEP
	// dockerPreCVE: before v20.10.14 (the CVE-2022-24769 fix): bounding =
	// permitted = effective = inheritable = the list, and for UID ≠ 0
	// permitted and effective emptied ("if non root drop capabilities in
	// the way execve does", since v18.04.0-ce, commit 15ff09395c).
	dockerPreCVE
	// dockerBefore1804: before v18.04.0-ce daemon/oci_linux.go
	// setCapabilities put the list into all four sets for every user
	// (v17.12.1-ce): non-root processes then have a permitted set, as on
	// current releases, plus the inheritable set.
	dockerBefore1804
)

func (p Profile) dockerGen() dockerGen {
	if p.Kind != Docker || p.Version == "" {
		return dockerCurrent
	}
	v, n, ok := versionParts(p.Version)
	major, minor, patch := v[0], v[1], v[2]
	if n < 3 {
		patch = 0 // "20.10" is read as the first release of the line
	}
	switch {
	case !ok:
		return dockerCurrent
	case major < 18 || major == 18 && minor < 4:
		return dockerBefore1804
	case major < 20 || major == 20 && minor < 10 || major == 20 && minor == 10 && patch < 14:
		return dockerPreCVE
	case major == 23 && minor == 0 && patch >= 7, major == 24 && minor == 0 && patch >= 6, major >= 25:
		return dockerCurrent
	}
	return dockerNoEP
}

// NonRootNoPermitted reports a Docker version whose daemon gives a
// container running as a UID other than 0 only a bounding set: its
// permitted and effective sets start empty (dockerNoEP, dockerPreCVE).
// With no_new_privs the kernel then caps whatever an exec gains at that
// empty permitted set (security/commoncap.c cap_bprm_creds_from_file), so
// no file capability takes effect, not even the entrypoint's.
func (p Profile) NonRootNoPermitted() bool {
	g := p.dockerGen()
	return g == dockerNoEP || g == dockerPreCVE
}

// Inheritable is the inheritable set the runtime writes into the OCI spec
// for a container whose capability list is set; the kernel keeps it
// through exec (I' = I). Only Docker before v20.10.14 sets it (to the
// whole list, for every user); later Docker releases, containerd and
// current CRI-O leave it empty.
func (p Profile) Inheritable(set capability.Set) capability.Set {
	if g := p.dockerGen(); g == dockerPreCVE || g == dockerBefore1804 {
		return set
	}
	return 0
}

// All is what this runtime means by "every capability": add: [ALL] and
// privileged. Docker 20.10 and older stop at AUDIT_READ (37): oci/caps
// utils.go init() caps the list at CAP_AUDIT_READ "to prevent docker from
// setting CAP_PERFMON, CAP_BPF, and CAP_CHECKPOINT_RESTORE" (removed by
// moby commit c1c973e81b, first in v23.0.0); those three names are then
// unknown to the daemon. Everywhere else it is capability.All (0..40),
// capped by the kernel and the runtime's own set, which the API does not
// show (docs/engine.md, "What ALL means").
func (p Profile) All() capability.Set {
	if p.dockerBefore23() {
		return capability.All &^ (one<<capability.PERFMON | one<<capability.BPF | one<<capability.CHECKPOINT_RESTORE)
	}
	return capability.All
}

// AllFromDaemon reports whether this runtime takes "every capability" (add:
// [ALL], privileged) from its own process's current set, so that on a node
// whose bounding set is short (a node in a container, say) ALL quietly
// shrinks to what the node has. containerd does
// (WithAllCurrentCapabilities, pkg/cap Current()) and so does Docker from
// v23.0.0 (oci/caps/utils_linux.go initCaps, moby commit 485cf38d48). Docker
// before 23.0 and CRI-O expand ALL from a static list (Docker 20.10
// oci/caps/utils.go GetAllCapabilities; CRI-O getOCICapabilitiesList), so
// on such a node runc's capset(2) fails with EPERM for the missing ones and
// the container does not start; measured on Docker 20.10 in
// docs/verification.md.
func (p Profile) AllFromDaemon() bool {
	switch p.Kind {
	case Containerd:
		return true
	case Docker:
		return !p.dockerBefore23()
	}
	return false
}

// dockerBefore23 is a Docker release before v23.0.0, read from a version that
// parses; no version, or one that does not parse, is the current release.
func (p Profile) dockerBefore23() bool {
	if p.Kind != Docker || p.Version == "" || p.VersionUnknown {
		return false
	}
	v, _, ok := versionParts(p.Version)
	return ok && v[0] < 23
}

// Name is the stable name used in reports and in the catalog:
// "containerd", "cri-o", "cri-o<1.18", "docker", or "unknown".
func (p Profile) Name() string {
	switch p.Kind {
	case Containerd, Docker:
		return string(p.Kind)
	case CRIO:
		if p.crioGen() == crioBefore118 {
			return legacyName
		}
		return string(CRIO)
	}
	return "unknown"
}

func (p Profile) String() string {
	if p.Version == "" {
		return p.Name()
	}
	return p.Name() + " " + p.Version
}

const one = capability.Set(1)

// Default sets, from each runtime's source (below). Written out once here; everything else asks a
// Profile.
const (
	// containerd pkg/oci/spec.go defaultUnixCaps and moby
	// caps/defaults.go DefaultCapabilities: the same 14.
	docker14 = one<<capability.CHOWN | one<<capability.DAC_OVERRIDE | one<<capability.FSETID |
		one<<capability.FOWNER | one<<capability.MKNOD | one<<capability.NET_RAW |
		one<<capability.SETGID | one<<capability.SETUID | one<<capability.SETFCAP |
		one<<capability.SETPCAP | one<<capability.NET_BIND_SERVICE | one<<capability.SYS_CHROOT |
		one<<capability.KILL | one<<capability.AUDIT_WRITE
	// CRI-O internal/config/capabilities Default() since v1.18.0.
	crio9 = one<<capability.CHOWN | one<<capability.DAC_OVERRIDE | one<<capability.FSETID |
		one<<capability.FOWNER | one<<capability.SETGID | one<<capability.SETUID |
		one<<capability.SETPCAP | one<<capability.NET_BIND_SERVICE | one<<capability.KILL
	// CRI-O up to v1.17: the 9 plus NET_RAW and SYS_CHROOT ([CRIO-118]).
	crio11 = crio9 | one<<capability.NET_RAW | one<<capability.SYS_CHROOT
)

// Defaults is the set a non-privileged container gets when its spec has no
// add/drop: containerd 14, cri-o 9, cri-o<1.18 11, docker 14; empty for an
// unknown runtime. CRI-O's set is configurable per node (crio.conf
// default_capabilities), which the API does not show; this is the upstream
// default.
func (p Profile) Defaults() capability.Set {
	switch p.Kind {
	case Containerd, Docker:
		return docker14
	case CRIO:
		if p.crioGen() == crioBefore118 {
			return crio11
		}
		return crio9
	}
	return 0
}

// DropAllReaddsDefaults reports that drop: [ALL] does not remove this
// runtime's defaults: CRI-O before v1.19.5, v1.20.x, v1.21.0 appended its
// defaults to the add list unconditionally (cri-o#4922), so after drop ALL
// the individual adds, defaults included, came back. The fix ("if
// !(addAll || dropAll)", cri-o#4923) is in v1.19.5+, v1.21.1+ and v1.22.0+
// (see crioGen for the commits).
func (p Profile) DropAllReaddsDefaults() bool {
	g := p.crioGen()
	return g == crioBefore118 || g == crioUnfixed
}

// DropAllMayReaddDefaults reports a CRI-O version whose drop ALL behaviour
// the version does not settle: "1.19" or "1.21" without a patch number
// (the fix came in 1.19.5 and 1.21.1). Apply assumes the fixed behaviour;
// the caller should warn.
func (p Profile) DropAllMayReaddDefaults() bool { return p.crioGen() == crioFixMaybe }

// versionParts reads the first three numeric fields of a version exactly
// as version.ParseGeneric accepts it (optional blanks and "v", at least two
// dot-separated numbers, the first without a leading zero, no newline in
// the rest) without its regexp and allocations, because Defaults and Apply
// run once per container. n is how many fields there were, at most 3 (2
// means no patch version: v[2] is then 0). FuzzVersionParts checks it
// against ParseGeneric.
func versionParts(s string) (v [3]uint64, n int, ok bool) {
	i := 0
	for i < len(s) && isRESpace(s[i]) {
		i++
	}
	if i < len(s) && s[i] == 'v' {
		i++
	}
	var comps [3]uint64
	for {
		start := i
		var x uint64
		overflow := false
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			d := uint64(s[i] - '0')
			if x > (1<<64-1-d)/10 {
				overflow = true
			}
			x = x*10 + d
			i++
		}
		if i == start {
			if n == 0 {
				return v, 0, false
			}
			// A trailing "." without digits belongs to the uninterpreted rest.
			i = start - 1
			break
		}
		if overflow || (n == 0 && s[start] == '0' && i-start > 1) {
			return v, 0, false
		}
		if n < 3 {
			comps[n] = x
		}
		n++
		if i < len(s) && s[i] == '.' {
			i++
			continue
		}
		break
	}
	if n < 2 || strings.IndexByte(s[i:], '\n') >= 0 {
		return v, 0, false
	}
	return comps, min(n, 3), true
}

// isRESpace is RE2's \s: [\t\n\f\r ].
func isRESpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r'
}
