// Package profile models the container runtimes that Kubernetes nodes use
// (containerd, CRI-O, Docker through cri-dockerd): their default capability
// sets and the exact way each one turns a container's capabilities.add and
// capabilities.drop strings into the capability set the container gets.
//
// The rules follow FACTS.md §2 and §3.3 and the runtimes' own source
// (containerd internal/cri/opts/spec_opts.go WithCapabilities, CRI-O
// internal/factory/container/container.go SpecSetupCapabilities with
// runtime-tools generate, moby daemon/pkg/oci/caps/utils.go); docs/engine.md
// explains them with citations. The package does no I/O.
package profile

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
	Kind Kind `json:"kind"`
	// Version as reported (node string) or implied ("1.17" for cri-o<1.18);
	// may be empty.
	Version string `json:"version,omitempty"`
	// VersionUnknown is set by Parse when a node reported a version that
	// does not parse. The profile then assumes the current release, and the
	// caller should say so (for CRI-O this decides between 9 and 11 default
	// capabilities).
	VersionUnknown bool `json:"versionUnknown,omitempty"`
}

// legacyName is the stable name of CRI-O before v1.18, which still granted
// NET_RAW and SYS_CHROOT by default (FACTS §2.1, [CRIO-118]).
const legacyName = "cri-o<1.18"

// Parse turns a --runtime flag value or a node's containerRuntimeVersion
// into a Profile.
//
// Flag values are "containerd", "cri-o" (or "crio"), "cri-o<1.18" and
// "docker", in any case. Node strings are "<scheme>://<version>"; following
// FACTS §2.2 the input is split on the first "://", the scheme is compared
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

// crioGen classifies a CRI-O version.
type crioGen uint8

const (
	crioCurrent   crioGen = iota // ≥1.22, or version unknown/absent
	crioFixMaybe                 // 1.18–1.21: 9 defaults; drop-ALL fix only in some patch releases
	crioBefore118                // <1.18: 11 defaults, drop ALL re-adds them
)

func (p Profile) crioGen() crioGen {
	if p.Kind != CRIO || p.Version == "" {
		return crioCurrent
	}
	major, minor, ok := majorMinor(p.Version)
	switch {
	case !ok:
		return crioCurrent
	case major < 1 || major == 1 && minor < 18:
		return crioBefore118
	case major == 1 && minor < 22:
		return crioFixMaybe
	}
	return crioCurrent
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

// Default sets, FACTS §2.1. Written out once here; everything else asks a
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
// runtime's defaults. CRI-O appended its defaults to the add list
// unconditionally until cri-o#4923 (May 2021, first in v1.22), so after
// "drop ALL" the individual adds, defaults included, came back (cri-o#4922).
// Every release before v1.18 predates the fix.
func (p Profile) DropAllReaddsDefaults() bool { return p.crioGen() == crioBefore118 }

// DropAllMayReaddDefaults reports a CRI-O version (1.18–1.21) whose drop ALL
// behaviour depends on the patch release: cri-o#4923 was backported to some
// 1.19–1.21 branches (e.g. cri-o#5467 for 1.19) but not to 1.18. Apply
// assumes the fixed behaviour; the caller should warn.
func (p Profile) DropAllMayReaddDefaults() bool { return p.crioGen() == crioFixMaybe }

// majorMinor reads the first two numeric fields of a version exactly as
// version.ParseGeneric accepts it (optional blanks and "v", at least two
// dot-separated numbers, the first without a leading zero, no newline in the
// rest) without its regexp and allocations, because Defaults and Apply run
// once per container. FuzzMajorMinor checks it against ParseGeneric.
func majorMinor(s string) (major, minor uint64, ok bool) {
	i := 0
	for i < len(s) && isRESpace(s[i]) {
		i++
	}
	if i < len(s) && s[i] == 'v' {
		i++
	}
	var comps [2]uint64
	n := 0
	for {
		start := i
		var v uint64
		overflow := false
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			d := uint64(s[i] - '0')
			if v > (1<<64-1-d)/10 {
				overflow = true
			}
			v = v*10 + d
			i++
		}
		if i == start {
			if n == 0 {
				return 0, 0, false
			}
			// A trailing "." without digits belongs to the uninterpreted rest.
			i = start - 1
			break
		}
		if overflow || (n == 0 && s[start] == '0' && i-start > 1) {
			return 0, 0, false
		}
		if n < 2 {
			comps[n] = v
		}
		n++
		if i < len(s) && s[i] == '.' {
			i++
			continue
		}
		break
	}
	if n < 2 || strings.IndexByte(s[i:], '\n') >= 0 {
		return 0, 0, false
	}
	return comps[0], comps[1], true
}

// isRESpace is RE2's \s: [\t\n\f\r ].
func isRESpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r'
}
