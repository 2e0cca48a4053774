package printers

import (
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
)

// TestAllExcept holds the one "ALL except" rule that audit and suggest-drop
// share: printed only when it is exact, with the exceptions the caller says
// a reader takes them to be.
func TestAllExcept(t *testing.T) {
	set := capSet
	allBut := func(names ...string) capability.Set { return capability.All.Minus(set(names...)) }
	tests := []struct {
		name   string
		s      capability.Set
		except capability.Set
		want   string
		ok     bool
	}{
		{"all", capability.All, 0, "ALL", true},
		{"all, whatever the exceptions", capability.All, set("CHOWN"), "ALL", true},
		{"held set: what it lacks", allBut("SYS_ADMIN", "SYS_MODULE"), set("SYS_ADMIN", "SYS_MODULE"), "ALL except SYS_ADMIN,SYS_MODULE", true},
		// A privileged container keeps NET_BIND_SERVICE: DROP is
		// everything else, exactly.
		{"drop list of a container that held all", allBut("NET_BIND_SERVICE"), set("NET_BIND_SERVICE"), "ALL except NET_BIND_SERVICE", true},
		// It never held SYS_ADMIN and keeps nothing: "ALL except
		// SYS_ADMIN" would say it keeps SYS_ADMIN.
		{"drop list of a container that never held some", allBut("SYS_ADMIN"), 0, "", false},
		{"drop list, kept and never held", allBut("SYS_ADMIN", "CHOWN"), set("CHOWN"), "", false},
		{"overlap is never exact", allBut("CHOWN"), set("CHOWN", "KILL"), "", false},
		{"empty", 0, capability.All, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := allExcept(tt.s, tt.except, ",")
			if got != tt.want || ok != tt.ok {
				t.Errorf("allExcept = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCapCellForms(t *testing.T) {
	risk := map[string]catalog.Risk{"SYS_ADMIN": catalog.RiskCritical, "NET_RAW": catalog.RiskHigh, "MKNOD": catalog.RiskMedium,
		"CHOWN": catalog.RiskLow, "KILL": catalog.RiskLow}
	held := func(s capability.Set) *capCell { return &capCell{set: s, except: capability.All.Minus(s), risk: risk} }
	five := capSet("CHOWN", "KILL", "MKNOD", "NET_RAW", "SYS_ADMIN")
	allButTwo := capability.All.Minus(capSet("SYS_ADMIN", "SYS_MODULE"))
	allButOne := capability.All.Remove(capability.SYS_MODULE)
	tests := []struct {
		name  string
		cell  *capCell
		k     int
		short string
		full  string
	}{
		{"none", held(0), 3, "-", "-"},
		{"all", held(capability.All), 3, "ALL", "ALL"},
		{"all, no names", held(capability.All), 0, "ALL", "ALL"},
		{"riskiest first, alphabetical within a risk", held(five), 3, "5 (SYS_ADMIN, NET_RAW, MKNOD +2)", "CHOWN,KILL,MKNOD,NET_RAW,SYS_ADMIN"},
		{"fewer names", held(five), 1, "5 (SYS_ADMIN +4)", "CHOWN,KILL,MKNOD,NET_RAW,SYS_ADMIN"},
		{"count only", held(five), 0, "5", "CHOWN,KILL,MKNOD,NET_RAW,SYS_ADMIN"},
		{"every name fits: no +0", held(capSet("CHOWN", "KILL")), 3, "2 (CHOWN, KILL)", "CHOWN,KILL"},
		{"ALL except where shorter", held(allButOne), 3, "ALL except SYS_MODULE", "ALL except SYS_MODULE"},
		{"ALL except when it names no more", held(allButTwo), 2, "ALL except SYS_ADMIN, SYS_MODULE", "ALL except SYS_ADMIN,SYS_MODULE"},
		{"count where shorter than ALL except", held(allButTwo), 1, "39 (NET_RAW +38)", "ALL except SYS_ADMIN,SYS_MODULE"},
		{"ALL except never when not exact", &capCell{set: allButTwo, risk: risk}, 3, "39 (NET_RAW, MKNOD, CHOWN +36)", "AUDIT_CONTROL,AUDIT_READ,AUDIT_WRITE,BLOCK_SUSPEND,BPF,CHECKPOINT_RESTORE,CHOWN,DAC_OVERRIDE,DAC_READ_SEARCH,FOWNER,FSETID,IPC_LOCK,IPC_OWNER,KILL,LEASE,LINUX_IMMUTABLE,MAC_ADMIN,MAC_OVERRIDE,MKNOD,NET_ADMIN,NET_BIND_SERVICE,NET_BROADCAST,NET_RAW,PERFMON,SETFCAP,SETGID,SETPCAP,SETUID,SYSLOG,SYS_BOOT,SYS_CHROOT,SYS_NICE,SYS_PACCT,SYS_PTRACE,SYS_RAWIO,SYS_RESOURCE,SYS_TIME,SYS_TTY_CONFIG,WAKE_ALARM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cell.short(tt.k, false); got != tt.short {
				t.Errorf("short(%d) = %q, want %q", tt.k, got, tt.short)
			}
			if tt.full == "" {
				return
			}
			if got := tt.cell.full(false); got != tt.full {
				t.Errorf("full = %q, want %q", got, tt.full)
			}
		})
	}
}

func TestCapCellColour(t *testing.T) {
	c := &capCell{set: capSet("CHOWN", "NET_RAW", "SYS_ADMIN"),
		risk: map[string]catalog.Risk{"CHOWN": catalog.RiskLow, "NET_RAW": catalog.RiskHigh, "SYS_ADMIN": catalog.RiskCritical}}
	c.except = capability.All.Minus(c.set)
	if got, want := c.full(true), "CHOWN,"+ansiRed+"NET_RAW"+ansiReset+","+ansiBold+ansiRed+"SYS_ADMIN"+ansiReset; got != want {
		t.Errorf("full = %q, want %q", got, want)
	}
	if got, want := c.short(2, true), "3 ("+ansiBold+ansiRed+"SYS_ADMIN"+ansiReset+", "+ansiRed+"NET_RAW"+ansiReset+" +1)"; got != want {
		t.Errorf("short = %q, want %q", got, want)
	}
}

func TestUseColor(t *testing.T) {
	tests := []struct {
		flag     string
		terminal bool
		noColor  string
		term     string
		want     bool
	}{
		{"auto", true, "", "xterm-256color", true},
		{"auto", true, "", "", true},
		{"auto", false, "", "xterm", false},
		// https://no-color.org: any non-empty value turns colour off.
		{"auto", true, "1", "xterm", false},
		{"auto", true, "0", "xterm", false},
		// A terminal that says it takes no escape sequences.
		{"auto", true, "", "dumb", false},
		{"always", false, "1", "dumb", true},
		{"never", true, "", "xterm", false},
	}
	for _, tt := range tests {
		if got := UseColor(tt.flag, tt.terminal, tt.noColor, tt.term); got != tt.want {
			t.Errorf("UseColor(%q, terminal %v, NO_COLOR=%q, TERM=%q) = %v, want %v", tt.flag, tt.terminal, tt.noColor, tt.term, got, tt.want)
		}
	}
}

// capSet is the set of those canonical names; the tests name only real ones.
func capSet(names ...string) capability.Set { return capability.SetOfNames(names) }
