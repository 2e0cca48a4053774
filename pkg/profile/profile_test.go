package profile

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// Default sets written out from FACTS §2.1, independently of the code.
var (
	factsDocker14 = capability.MustParseSet("CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW",
		"SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE")
	factsCRIO9 = capability.MustParseSet("CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "SETGID", "SETUID",
		"SETPCAP", "NET_BIND_SERVICE", "KILL")
	factsCRIO11 = factsCRIO9.Union(capability.MustParseSet("NET_RAW", "SYS_CHROOT"))
)

func set(names ...string) capability.Set { return capability.MustParseSet(names...) }

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
		// Node strings from FACTS §2.2.
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

// FACTS §2.1 lists and the /proc bitmasks of §1.0.
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

func TestDropAllVersions(t *testing.T) {
	tests := []struct {
		p            Profile
		readds, mayb bool
	}{
		{containerd, false, false},
		{docker, false, false},
		{crio, false, false},
		{crio117, true, false},
		{Profile{Kind: CRIO, Version: "1.16.3-28.dev.rhaos4.3.git9aad8e4.el8"}, true, false},
		{Profile{Kind: CRIO, Version: "1.18.4"}, false, true},
		{Profile{Kind: CRIO, Version: "1.21.6-2.rhaos4.8.gitb948fcd.2.el8"}, false, true},
		{Profile{Kind: CRIO, Version: "1.22.0"}, false, false},
		{Profile{Kind: CRIO, Version: "2.0.0"}, false, false},
		{Profile{Kind: CRIO, Version: "x", VersionUnknown: true}, false, false},
		{Profile{Kind: Containerd, Version: "1.17.0"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.p.String(), func(t *testing.T) {
			if got := tt.p.DropAllReaddsDefaults(); got != tt.readds {
				t.Errorf("DropAllReaddsDefaults() = %v, want %v", got, tt.readds)
			}
			if got := tt.p.DropAllMayReaddDefaults(); got != tt.mayb {
				t.Errorf("DropAllMayReaddDefaults() = %v, want %v", got, tt.mayb)
			}
		})
	}
}

func TestMajorMinor(t *testing.T) {
	tests := []struct {
		in           string
		major, minor uint64
		ok           bool
	}{
		{"1.17", 1, 17, true},
		{"1.17.3", 1, 17, true},
		{"v1.7.11", 1, 7, true},
		{"  1.21.6-2.rhaos4.8.gitb948fcd.2.el8", 1, 21, true},
		{"1.16.3-28.dev.rhaos4.3.git9aad8e4.el8", 1, 16, true},
		{"20.10.7", 20, 10, true},
		{"1.2.", 1, 2, true},
		{"1.02", 1, 2, true}, // only the first field may not have a leading zero
		{"01.2", 0, 0, false},
		{"1", 0, 0, false},
		{"1.", 0, 0, false},
		{"1..2", 0, 0, false},
		{"V1.2", 0, 0, false},
		{"vv1.2", 0, 0, false},
		{"", 0, 0, false},
		{"Unknown", 0, 0, false},
		{"1.2\n", 0, 0, false},
		{"\n1.2", 1, 2, true},
		{"1.2.99999999999999999999", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ma, mi, ok := majorMinor(tt.in)
			if ma != tt.major || mi != tt.minor || ok != tt.ok {
				t.Errorf("majorMinor(%q) = %d, %d, %v; want %d, %d, %v", tt.in, ma, mi, ok, tt.major, tt.minor, tt.ok)
			}
			// The kubelet's parser is the reference.
			v, err := version.ParseGeneric(tt.in)
			if (err == nil) != tt.ok || (err == nil && (uint64(v.Major()) != tt.major || uint64(v.Minor()) != tt.minor)) {
				t.Errorf("ParseGeneric(%q) = %v, %v disagrees with the table", tt.in, v, err)
			}
		})
	}
}

func FuzzMajorMinor(f *testing.F) {
	for _, s := range []string{"1.17", "v1.7.11", "1.21.6-2.rhaos4.8", "01.2", "1..2", " \t1.2", "1.2\n", "1.2.", "v", "18446744073709551616.1", "1.18446744073709551615"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ma, mi, ok := majorMinor(s)
		v, err := version.ParseGeneric(s)
		if ok != (err == nil) {
			t.Fatalf("majorMinor(%q) ok=%v, ParseGeneric err=%v", s, ok, err)
		}
		if ok && (uint64(v.Major()) != ma || uint64(v.Minor()) != mi) {
			t.Fatalf("majorMinor(%q) = %d.%d, ParseGeneric = %d.%d", s, ma, mi, v.Major(), v.Minor())
		}
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
