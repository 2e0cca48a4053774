package runtimes

import (
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/internal/captest"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// Default sets written out from the runtimes' source (containerd
// pkg/oci/spec.go defaultUnixCaps, CRI-O internal/config/capabilities
// Default, moby oci/caps/defaults.go DefaultCapabilities), independently
// of the code.
var (
	factsDocker14 = capability.SetOf(capability.CHOWN, capability.DAC_OVERRIDE, capability.FSETID, capability.FOWNER, capability.MKNOD, capability.NET_RAW, capability.SETGID, capability.SETUID, capability.SETFCAP, capability.SETPCAP, capability.NET_BIND_SERVICE, capability.SYS_CHROOT, capability.KILL, capability.AUDIT_WRITE)
	factsCRIO9    = capability.SetOf(capability.CHOWN, capability.DAC_OVERRIDE, capability.FSETID, capability.FOWNER, capability.SETGID, capability.SETUID, capability.SETPCAP, capability.NET_BIND_SERVICE, capability.KILL)
	factsCRIO11   = factsCRIO9.Union(capability.SetOf(capability.NET_RAW, capability.SYS_CHROOT))
)

func set(names ...string) capability.Set { return captest.Set(names...) }

var (
	containerd = Profile{Kind: Containerd}
	crio       = Profile{Kind: CRIO}
	crio117    = Profile{Kind: CRIO, Version: "1.17"}
	docker     = Profile{Kind: Docker}
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Profile
		name    string
		wantErr string
	}{
		// --runtime flag values, any case.
		{in: "containerd", want: Profile{Kind: Containerd}, name: "containerd"},
		{in: "ContainerD", want: Profile{Kind: Containerd}, name: "containerd"},
		{in: " docker ", want: Profile{Kind: Docker}, name: "docker"},
		{in: "DOCKER", want: Profile{Kind: Docker}, name: "docker"},
		{in: "cri-o", want: Profile{Kind: CRIO}, name: "cri-o"},
		{in: "CRI-O", want: Profile{Kind: CRIO}, name: "cri-o"},
		{in: "crio", want: Profile{Kind: CRIO}, name: "cri-o"},
		{in: "CriO", want: Profile{Kind: CRIO}, name: "cri-o"},
		// The report's own name for old CRI-O round-trips.
		{in: "cri-o<1.18", want: Profile{Kind: CRIO, Version: "1.17"}, name: "cri-o<1.18"},
		{in: "CRIO<1.18", want: Profile{Kind: CRIO, Version: "1.17"}, name: "cri-o<1.18"},
		// Node strings as the kubelet writes them (nodestatus ContainerRuntimeVersion), seen on real nodes.
		{in: "containerd://1.7.11", want: Profile{Kind: Containerd, Version: "1.7.11"}, name: "containerd"},
		{in: "containerd://1.5.9", want: Profile{Kind: Containerd, Version: "1.5.9"}, name: "containerd"},
		{in: "containerd://v2.0.0", want: Profile{Kind: Containerd, Version: "v2.0.0"}, name: "containerd"},
		{in: "containerd://1.7.11-k3s1", want: Profile{Kind: Containerd, Version: "1.7.11-k3s1"}, name: "containerd"},
		{in: "cri-o://1.17.3", want: Profile{Kind: CRIO, Version: "1.17.3"}, name: "cri-o<1.18"},
		{in: "cri-o://1.16.3-28.dev.rhaos4.3.git9aad8e4.el8", want: Profile{Kind: CRIO, Version: "1.16.3-28.dev.rhaos4.3.git9aad8e4.el8"}, name: "cri-o<1.18"},
		{in: "cri-o://1.21.6-2.rhaos4.8.gitb948fcd.2.el8", want: Profile{Kind: CRIO, Version: "1.21.6-2.rhaos4.8.gitb948fcd.2.el8"}, name: "cri-o"},
		{in: "cri-o://1.18.0", want: Profile{Kind: CRIO, Version: "1.18.0"}, name: "cri-o"},
		{in: "cri-o://1.30.4", want: Profile{Kind: CRIO, Version: "1.30.4"}, name: "cri-o"},
		{in: "docker://20.10.7", want: Profile{Kind: Docker, Version: "20.10.7"}, name: "docker"},
		// Only the first "://" splits.
		{in: "containerd://1.7://x", want: Profile{Kind: Containerd, Version: "1.7://x"}, name: "containerd"},
		// An unparseable version: current release assumed, and said so.
		{in: "cri-o://Unknown", want: Profile{Kind: CRIO, Version: "Unknown", VersionUnknown: true}, name: "cri-o"},
		{in: "cri-o://", want: Profile{Kind: CRIO, VersionUnknown: true}, name: "cri-o"},
		{in: "cri-o://17", want: Profile{Kind: CRIO, Version: "17", VersionUnknown: true}, name: "cri-o"},
		{in: "docker://dev", want: Profile{Kind: Docker, Version: "dev", VersionUnknown: true}, name: "docker"},
		// The scheme is compared case-sensitively and must be the runtime's
		// RuntimeName exactly.
		{in: "CONTAINERD://1.7.11", wantErr: `unknown container runtime "CONTAINERD"`},
		{in: "crio://1.20.0", wantErr: `unknown container runtime "crio"`},
		{in: "remote://1.0", wantErr: `unknown container runtime "remote"`},
		{in: "podman", wantErr: `unknown container runtime "podman"; use containerd, cri-o or docker`},
		{in: "Unknown", wantErr: `unknown container runtime "Unknown"; use containerd, cri-o or docker`},
		{in: "cri-o 1.17", wantErr: `unknown container runtime`},
		{in: "", wantErr: "empty container runtime; use containerd, cri-o or docker"},
		{in: "   ", wantErr: "empty container runtime"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) err = %v, want containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
			}
			if got.Name() != tt.name {
				t.Errorf("Name() = %q, want %q", got.Name(), tt.name)
			}
		})
	}
}

// The default lists and their /proc bitmasks (bit numbers from
// include/uapi/linux/capability.h).
func TestDefaults(t *testing.T) {
	tests := []struct {
		p    Profile
		name string
		want capability.Set
		hex  string
		n    int
	}{
		{containerd, "containerd", factsDocker14, "00000000a80425fb", 14},
		{Profile{Kind: Containerd, Version: "1.4.2"}, "containerd", factsDocker14, "00000000a80425fb", 14},
		{crio, "cri-o", factsCRIO9, "00000000000005fb", 9},
		{Profile{Kind: CRIO, Version: "1.18.0"}, "cri-o", factsCRIO9, "00000000000005fb", 9},
		{Profile{Kind: CRIO, Version: "1.36.3"}, "cri-o", factsCRIO9, "00000000000005fb", 9},
		{crio117, "cri-o<1.18", factsCRIO11, "00000000000425fb", 11},
		{Profile{Kind: CRIO, Version: "1.17.99-rhaos"}, "cri-o<1.18", factsCRIO11, "00000000000425fb", 11},
		{Profile{Kind: CRIO, Version: "1.9.0"}, "cri-o<1.18", factsCRIO11, "00000000000425fb", 11},
		{Profile{Kind: CRIO, Version: "garbage", VersionUnknown: true}, "cri-o", factsCRIO9, "00000000000005fb", 9},
		{docker, "docker", factsDocker14, "00000000a80425fb", 14},
		{Profile{}, "unknown", 0, "0000000000000000", 0},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			if got := tt.p.Name(); got != tt.name {
				t.Errorf("Name() = %q, want %q", got, tt.name)
			}
			got := tt.p.Defaults()
			if got != tt.want || got.Hex() != tt.hex || got.Len() != tt.n {
				t.Errorf("Defaults() = %v (%s, %d), want %v (%s, %d)", got, got.Hex(), got.Len(), tt.want, tt.hex, tt.n)
			}
			// With nothing added or dropped a container gets exactly the defaults.
			if a := tt.p.Apply(nil, nil); a.Set != tt.want || len(a.Entries) != 0 || a.CreateFails {
				t.Errorf("Apply(nil, nil) = %+v, want the defaults", a)
			}
		})
	}
}

func TestKnown(t *testing.T) {
	var names []string
	for _, p := range Known() {
		names = append(names, p.Name())
	}
	if diff := cmp.Diff([]string{"containerd", "cri-o", "cri-o<1.18", "docker"}, names); diff != "" {
		t.Errorf("Known() names (-want +got):\n%s", diff)
	}
	// Every known name parses back to a profile with the same defaults.
	for _, p := range Known() {
		q, err := Parse(p.Name())
		if err != nil || q.Defaults() != p.Defaults() {
			t.Errorf("Parse(%q) = %v, %v; defaults differ from Known()", p.Name(), q, err)
		}
	}
	// Callers get their own slice.
	k := Known()
	k[0].Kind = Docker
	if Known()[0].Kind != Containerd {
		t.Error("Known() returned shared state")
	}
}

// The CRI-O releases and their drop: [ALL] behaviour, read from the
// tagged source: "if !(addAll || dropAll)" is in server/container_create.go
// of v1.19.5, v1.21.1 and v1.22.0, and absent from every v1.18 tag,
// v1.19.0-v1.19.4, every v1.20 tag (last v1.20.9) and v1.21.0.
func TestDropAllVersions(t *testing.T) {
	cr := func(v string) Profile { return Profile{Kind: CRIO, Version: v} }
	tests := []struct {
		p            Profile
		readds, mayb bool
	}{
		{containerd, false, false},
		{docker, false, false},
		{crio, false, false},
		{crio117, true, false},
		{cr("1.16.3-28.dev.rhaos4.3.git9aad8e4.el8"), true, false},
		{cr("1.18.0"), true, false},
		{cr("1.18.4"), true, false},
		{cr("1.18"), true, false}, // no 1.18 release has the fix
		{cr("1.19.0"), true, false},
		{cr("1.19.4"), true, false},
		{cr("1.19.5"), false, false},
		{cr("1.19.6"), false, false},
		{cr("1.19"), false, true}, // 1.19.5 has it, 1.19.4 not
		{cr("1.20.0"), true, false},
		{cr("1.20.9"), true, false},
		{cr("1.20"), true, false},
		{cr("1.21.0"), true, false},
		{cr("v1.21.0-rc.1"), true, false},
		{cr("1.21.1"), false, false},
		{cr("1.21.6-2.rhaos4.8.gitb948fcd.2.el8"), false, false},
		{cr("1.21"), false, true},
		{cr("1.22.0"), false, false},
		{cr("1.22"), false, false},
		{cr("2.0.0"), false, false},
		{Profile{Kind: CRIO, Version: "x", VersionUnknown: true}, false, false},
		{Profile{Kind: Containerd, Version: "1.17.0"}, false, false},
		{Profile{Kind: Docker, Version: "1.19.0"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			if got := tt.p.DropAllReaddsDefaults(); got != tt.readds {
				t.Errorf("DropAllReaddsDefaults() = %v, want %v", got, tt.readds)
			}
			if got := tt.p.DropAllMayReaddDefaults(); got != tt.mayb {
				t.Errorf("DropAllMayReaddDefaults() = %v, want %v", got, tt.mayb)
			}
			// Apply follows: an unfixed release keeps the defaults after drop ALL.
			want := capability.SetOf(capability.NET_ADMIN)
			if tt.readds {
				want |= tt.p.Defaults()
			}
			if got := tt.p.Apply([]string{"NET_ADMIN"}, []string{"ALL"}).Set; got != want {
				t.Errorf("Apply(add NET_ADMIN, drop ALL) = %v, want %v", got, want)
			}
		})
	}
}

// Docker releases by how the daemon fills the spec (moby oci/oci.go
// SetCapabilities at each tag) and what ALL means (oci/caps/utils.go).
func TestDockerVersions(t *testing.T) {
	old := capability.All &^ set("PERFMON", "BPF", "CHECKPOINT_RESTORE")
	tests := []struct {
		version     string
		noPermitted bool
		inheritable bool
		all         capability.Set
	}{
		{"", false, false, capability.All},
		{"garbage", false, false, capability.All},
		{"17.12.1-ce", false, true, old}, // every set = the list, for every user
		{"18.03.1-ce", false, true, old},
		{"18.04.0-ce", true, true, old},
		{"18.09.9", true, true, old},
		{"19.03.15", true, true, old},
		{"20.10.0", true, true, old},
		{"20.10.13", true, true, old},
		{"20.10", true, true, old}, // read as 20.10.0
		{"20.10.14", true, false, old},
		{"20.10.24+dfsg1", true, false, old}, // Debian bookworm's docker.io
		{"20.10.27", true, false, old},
		{"23.0.0", true, false, capability.All},
		{"23.0.6", true, false, capability.All},
		{"23.0.7", false, false, capability.All},
		{"24.0.0", true, false, capability.All},
		{"24.0.5", true, false, capability.All},
		{"24.0.6", false, false, capability.All},
		{"24.0.9", false, false, capability.All},
		{"25.0.0", false, false, capability.All},
		{"28.3.2", false, false, capability.All},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			p, err := Parse("docker://" + tt.version)
			if tt.version == "" {
				p, err = Parse("docker")
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.NonRootNoPermitted(); got != tt.noPermitted {
				t.Errorf("NonRootNoPermitted() = %v, want %v", got, tt.noPermitted)
			}
			if got := p.Inheritable(factsDocker14) == factsDocker14; got != tt.inheritable {
				t.Errorf("Inheritable(defaults) = %v, want the defaults: %v", p.Inheritable(factsDocker14), tt.inheritable)
			}
			if got := p.All(); got != tt.all {
				t.Errorf("All() = %v, want %v", got, tt.all)
			}
			if got := p.ApplyPrivileged(nil, nil).Set; got != tt.all {
				t.Errorf("ApplyPrivileged = %v, want %v", got, tt.all)
			}
			if got := p.Apply([]string{"ALL"}, []string{"NET_RAW"}).Set; got != tt.all.Remove(capability.NET_RAW) {
				t.Errorf("Apply(add ALL, drop NET_RAW) = %v", got)
			}
			// BPF is unknown to Docker before 23.0: creation fails.
			a := p.Apply([]string{"BPF"}, nil)
			if a.CreateFails != (tt.all != capability.All) || a.Entries[0].Intended != capability.BPF {
				t.Errorf("Apply(add BPF) createFails %v, entry %+v", a.CreateFails, a.Entries[0])
			}
			if got := p.Defaults(); got != factsDocker14 {
				t.Errorf("Defaults() = %v", got)
			}
			// Before 23.0 ALL is a static list, from 23.0 the daemon's
			// own set (moby 485cf38d48); the static list is exactly the
			// one that stops at AUDIT_READ.
			if got, want := p.AllFromDaemon(), tt.all == capability.All; got != want {
				t.Errorf("AllFromDaemon() = %v, want %v", got, want)
			}
		})
	}
	// Only Docker has these generations.
	for _, p := range []Profile{{Kind: Containerd, Version: "1.6.20"}, {Kind: CRIO, Version: "1.17.0"}} {
		if p.NonRootNoPermitted() || p.Inheritable(factsDocker14) != 0 || p.All() != capability.All {
			t.Errorf("%v: docker generations leak", p)
		}
	}
}

func TestVersionParts(t *testing.T) {
	tests := []struct {
		in   string
		want [3]uint64
		n    int
		ok   bool
	}{
		{"1.17", [3]uint64{1, 17, 0}, 2, true},
		{"1.17.3", [3]uint64{1, 17, 3}, 3, true},
		{"v1.7.11", [3]uint64{1, 7, 11}, 3, true},
		{"  1.21.6-2.rhaos4.8.gitb948fcd.2.el8", [3]uint64{1, 21, 6}, 3, true},
		{"1.16.3-28.dev.rhaos4.3.git9aad8e4.el8", [3]uint64{1, 16, 3}, 3, true},
		{"20.10.7", [3]uint64{20, 10, 7}, 3, true},
		{"20.10.24+dfsg1", [3]uint64{20, 10, 24}, 3, true},
		{"1.2.3.4", [3]uint64{1, 2, 3}, 3, true},
		{"1.2.", [3]uint64{1, 2, 0}, 2, true},
		{"1.02", [3]uint64{1, 2, 0}, 2, true}, // only the first field may not have a leading zero
		{"01.2", [3]uint64{}, 0, false},
		{"1", [3]uint64{}, 0, false},
		{"1.", [3]uint64{}, 0, false},
		{"1..2", [3]uint64{}, 0, false},
		{"V1.2", [3]uint64{}, 0, false},
		{"vv1.2", [3]uint64{}, 0, false},
		{"", [3]uint64{}, 0, false},
		{"Unknown", [3]uint64{}, 0, false},
		{"1.2\n", [3]uint64{}, 0, false},
		{"\n1.2", [3]uint64{1, 2, 0}, 2, true},
		{"1.2.99999999999999999999", [3]uint64{}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, n, ok := versionParts(tt.in)
			if v != tt.want || n != tt.n || ok != tt.ok {
				t.Errorf("versionParts(%q) = %v, %d, %v; want %v, %d, %v", tt.in, v, n, ok, tt.want, tt.n, tt.ok)
			}
			// The kubelet's parser is the reference.
			checkParseGeneric(t, tt.in, tt.want, tt.n, tt.ok)
		})
	}
}

func checkParseGeneric(t *testing.T, s string, v [3]uint64, n int, ok bool) {
	t.Helper()
	pv, err := version.ParseGeneric(s)
	if (err == nil) != ok {
		t.Fatalf("versionParts(%q) ok=%v, ParseGeneric err=%v", s, ok, err)
	}
	if !ok {
		return
	}
	c := pv.Components()
	if min(len(c), 3) != n {
		t.Fatalf("versionParts(%q) read %d fields, ParseGeneric %d", s, n, len(c))
	}
	for i := 0; i < n; i++ {
		if uint64(c[i]) != v[i] {
			t.Fatalf("versionParts(%q) = %v, ParseGeneric = %v", s, v, c)
		}
	}
}

func FuzzVersionParts(f *testing.F) {
	for _, s := range []string{"1.17", "v1.7.11", "1.21.6-2.rhaos4.8", "01.2", "1..2", " \t1.2", "1.2\n", "1.2.", "v", "18446744073709551616.1", "1.18446744073709551615", "1.2.3.4", "20.10.24+dfsg1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, n, ok := versionParts(s)
		checkParseGeneric(t, s, v, n, ok)
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"containerd", "cri-o", "crio", "docker", "cri-o<1.18", "containerd://1.7.11",
		"cri-o://1.21.6-2.rhaos4.8.gitb948fcd.2.el8", "docker://20.10.7", "cri-o://", "://", "podman", "", "\x00://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if p != (Profile{}) {
				t.Fatalf("Parse(%q) returned %+v with error %v", s, p, err)
			}
			return
		}
		switch p.Name() {
		case "containerd", "cri-o", "cri-o<1.18", "docker":
		default:
			t.Fatalf("Parse(%q) = %+v with name %q", s, p, p.Name())
		}
		if p.Defaults().Len() < 9 {
			t.Fatalf("Parse(%q): defaults %v", s, p.Defaults())
		}
		if scheme, ver, ok := strings.Cut(strings.TrimSpace(s), "://"); ok {
			if string(p.Kind) != scheme || p.Version != ver {
				t.Fatalf("Parse(%q) = %+v, split gives %q %q", s, p, scheme, ver)
			}
			if _, verr := version.ParseGeneric(ver); (verr != nil) != p.VersionUnknown {
				t.Fatalf("Parse(%q): VersionUnknown=%v, ParseGeneric err=%v", s, p.VersionUnknown, verr)
			}
		}
	})
}

func TestAllFromDaemon(t *testing.T) {
	for _, tt := range []struct {
		runtime string
		want    bool
	}{
		{"containerd", true},
		{"containerd://1.6.20~ds1", true},
		{"containerd://v2.4.2", true},
		{"cri-o", false},
		{"cri-o://1.30.2", false},
		{"cri-o<1.18", false},
		{"docker", true},
		{"docker://20.10.24+dfsg1", false},
		{"docker://23.0.0", true},
	} {
		p, err := Parse(tt.runtime)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.AllFromDaemon(); got != tt.want {
			t.Errorf("%s: AllFromDaemon() = %v, want %v", tt.runtime, got, tt.want)
		}
	}
}
