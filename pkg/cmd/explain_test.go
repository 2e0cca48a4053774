package cmd

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestExplainGolden(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"table of all", []string{"explain"}, "explain/table.txt"},
		{"table sorted by risk, wide", []string{"explain", "--sort-by=risk", "-o", "wide"}, "explain/table-risk-wide.txt"},
		{"table sorted by name, no headers", []string{"explain", "--sort-by", "name", "--no-headers"}, "explain/table-name-noheaders.txt"},
		{"one page", []string{"explain", "NET_RAW"}, "explain/net_raw.txt"},
		{"page of the missing seed entry", []string{"explain", "checkpoint_restore"}, "explain/checkpoint_restore.txt"},
		{"two pages", []string{"explain", "CAP_SYS_ADMIN", "19"}, "explain/sys_admin-sys_ptrace.txt"},
		{"one as json", []string{"explain", "NET_RAW", "-o", "json"}, "explain/net_raw.json"},
		{"two as yaml", []string{"explain", "bpf", "perfmon", "-o", "yaml"}, "explain/bpf-perfmon.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

func TestExplainSpellingsGiveTheSamePage(t *testing.T) {
	want, _, _ := run(t, "", "explain", "NET_RAW")
	for _, in := range []string{"net_raw", "CAP_NET_RAW", "cap_net_raw", "Net_Raw", "13"} {
		got, errOut, code := run(t, "", "explain", in)
		if code != 0 || got != want {
			t.Errorf("explain %s: exit %d, stderr %q, same page: %v", in, code, errOut, got == want)
		}
	}
}

func TestExplainJSONShape(t *testing.T) {
	out, _, code := run(t, "", "explain", "NET_RAW", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var one map[string]any
	if err := json.Unmarshal([]byte(out), &one); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"apiVersion", "kind", "name", "number", "risk", "recommendation", "summary", "defaultIn", "escalations"} {
		if _, ok := one[k]; !ok {
			t.Errorf("one-entry JSON lacks %q", k)
		}
	}
	if one["kind"] != "Capability" || one["name"] != "NET_RAW" || one["number"] != float64(13) {
		t.Errorf("unexpected identity: %v %v %v", one["kind"], one["name"], one["number"])
	}
	// NET_RAW is a default of containerd, docker and old CRI-O, not of CRI-O >= 1.18
	// (docs/sources.md#crio-1-18).
	if got := one["defaultIn"]; !equalJSONList(got, "containerd", "cri-o<1.18", "docker") {
		t.Errorf("defaultIn = %v", got)
	}

	for _, args := range [][]string{{"explain", "-o", "json"}, {"explain", "chown", "kill", "-o", "json"}} {
		out, _, _ := run(t, "", args...)
		var list struct {
			Kind  string           `json:"kind"`
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatal(err)
		}
		want := 41
		if len(args) > 3 {
			want = 2
		}
		if list.Kind != "CapabilityList" || len(list.Items) != want {
			t.Errorf("%v: kind %q with %d items, want CapabilityList with %d", args, list.Kind, len(list.Items), want)
		}
	}
	out, _, _ = run(t, "", "explain", "-o", "yaml")
	var y struct{ Items []any }
	if err := yaml.Unmarshal([]byte(out), &y); err != nil || len(y.Items) != 41 {
		t.Errorf("yaml list: %d items, %v", len(y.Items), err)
	}
}

// The corrections of the catalog reviews (issues 11 and 18), held on the
// explain -o json output a user sees: each row names a capability, a field,
// what the field must now say (a value, or phrases with their kernel
// source) and the false claim it must no longer make.
func TestExplainCatalogCorrections(t *testing.T) {
	tests := []struct {
		cap, field string
		want       string   // exact value, when set
		has, not   []string // phrases the field must contain / must not contain
	}{
		// KILL: hostPID reaches root daemons without it (kill_ok_by_cred()).
		{"KILL", "amplifier:hostPID", "medium", nil, nil},
		{"KILL", "description", "", []string{"kill_ok_by_cred(), kernel/signal.c"}, nil},
		{"KILL", "reasoning", "", []string{"Dropping it does not protect a hostPID pod's node", "contrib/apparmor/template.go"},
			[]string{"Drop it in pods that use hostPID"}},
		{"KILL", "escalations", "", []string{"dropping KILL does not protect them"}, []string{"e.g. terminate the kubelet"}},
		// SYS_NICE: capable() for realtime; CFS bandwidth does not contain SCHED_FIFO.
		{"SYS_NICE", "userNamespaceNote", "", []string{"Partly inert: ", "Still acts: ", "sched_setaffinity()", "block/ioprio.c"},
			[]string{"treat the realtime-starvation risk as unchanged"}},
		{"SYS_NICE", "reasoning", "", []string{"Documentation/scheduler/sched-bwc.rst", "static CPU manager", "sched_rt_runtime_us"},
			[]string{"give that pod CPU requests and limits"}},
		// SYS_BOOT: kexec_load is not confined to the pod's PID namespace.
		{"SYS_BOOT", "risk", "high", nil, nil},
		{"SYS_BOOT", "amplifier:hostPID", "critical", nil, nil},
		{"SYS_BOOT", "escalations", "", []string{"Staging a kernel with kexec_load", "KEXEC_ON_CRASH"}, nil},
		{"SYS_BOOT", "impact", "", []string{"Unconfined", "kexec_load"}, nil},
		{"SYS_BOOT", "userNamespaceNote", "", []string{"Partly inert: ", "kexec_load", "Still acts: ", "kernel/reboot.c"}, []string{"was not verified"}},
		// DAC_OVERRIDE: runc chdir since v1.0.0-rc94; exec needs an execute bit.
		{"DAC_OVERRIDE", "impact", "", []string{"v1.0.0-rc94 (commit 6ce2d63a5)"}, []string{"containerd#4669"}},
		{"DAC_OVERRIDE", "description", "", []string{"at least one execute bit", "generic_permission(), fs/namei.c"},
			[]string{"execve(2) proceed whatever the mode says"}},
		// SYS_TIME: adjtimex and clock_adjtime are not gated by RuntimeDefault.
		{"SYS_TIME", "impact", "", []string{"allow adjtimex and clock_adjtime to every process"},
			[]string{"allows the clock-setting syscalls only when the capability is present"}},
		{"SYS_TIME", "inertInUserNamespace", "true", nil, nil},
		{"SYS_TIME", "userNamespaceNote", "", []string{"proc_timens_set_offset()"}, nil},
		// SYS_PACCT: capable(); accounting reaches ancestor PID namespaces.
		{"SYS_PACCT", "inertInUserNamespace", "true", nil, nil},
		{"SYS_PACCT", "amplifier:hostPID", "medium", nil, nil},
		{"SYS_PACCT", "impact", "", []string{"kernel/acct.c"}, []string{"was not verified"}},
		// AUDIT_READ: records are multicast only in the initial network namespace.
		{"AUDIT_READ", "risk", "low", nil, nil},
		{"AUDIT_READ", "amplifier:hostNetwork", "medium", nil, nil},
		{"AUDIT_READ", "impact", "", []string{"kauditd_send_multicast_skb()"}, nil},
		// CHECKPOINT_RESTORE: map_files is checked against init_user_ns.
		{"CHECKPOINT_RESTORE", "userNamespaceNote", "", []string{"Partly inert: ", "map_files", "Still acts: ", "ns_last_pid"},
			[]string{"keeps working on the PID namespaces and processes"}},
		{"CHECKPOINT_RESTORE", "impact", "", []string{"ptrace_may_access()"}, []string{"It is namespace-aware (ns_capable)"}},
		// BLOCK_SUSPEND: the interface is /sys/power/wake_lock.
		{"BLOCK_SUSPEND", "summary", "", []string{"/sys/power/wake_lock"}, []string{"/proc/sys/wake_lock"}},
		{"BLOCK_SUSPEND", "description", "", []string{"/sys/power/wake_lock"}, []string{"/proc/sys/wake_lock"}},
		// Inert where every check is capable() against the initial user namespace.
		{"LINUX_IMMUTABLE", "inertInUserNamespace", "true", nil, nil},
		{"SYSLOG", "inertInUserNamespace", "true", nil, nil},
		{"LEASE", "inertInUserNamespace", "true", nil, nil},
		{"SYS_RAWIO", "inertInUserNamespace", "true", nil, nil},
		{"BLOCK_SUSPEND", "inertInUserNamespace", "true", nil, nil},
		{"SYS_TTY_CONFIG", "inertInUserNamespace", "true", nil, nil},
		{"SYS_TTY_CONFIG", "userNamespaceNote", "", []string{"Inert: ", "fs/open.c"}, nil},
		{"MAC_OVERRIDE", "inertInUserNamespace", "true", nil, nil},
		{"MAC_OVERRIDE", "userNamespaceNote", "", []string{"smack_privileged_cred()"}, nil},
		{"WAKE_ALARM", "inertInUserNamespace", "true", nil, nil},
		// Partly inert: a ns_capable check remains, named in the note.
		{"IPC_LOCK", "inertInUserNamespace", "false", []string{}, nil},
		{"IPC_LOCK", "userNamespaceNote", "", []string{"Partly inert: ", "can_do_mlock()", "Still acts: ", "ipc/shm.c"}, nil},
		{"SYS_RESOURCE", "inertInUserNamespace", "false", nil, nil},
		{"SYS_RESOURCE", "userNamespaceNote", "", []string{"Partly inert: ", "__set_oom_adj()", "Still acts: ", "check_prlimit_permission()",
			"set_permissions(), kernel/ucount.c", "The IPC sysctls need no capability at all"},
			// ipc_permissions() (ipc/ipc_sysctl.c) checks the namespace owner's UID/GID, not a capability.
			[]string{"IPC and user-namespace limit sysctls"}},
		{"NET_BROADCAST", "userNamespaceNote", "", []string{"Partly inert: ", "do_one_broadcast()", "Still acts: "}, nil},
		// Decided items.
		{"SETUID", "reasoning", "", []string{"root_squash", "scm_check_creds()"}, nil},
		{"SETGID", "reasoning", "", []string{"root_squash"}, nil},
		{"IPC_LOCK", "risk", "low", nil, nil},
		{"IPC_LOCK", "impact", "", []string{"charged to the container's memory cgroup"}, nil},
		{"SYS_RAWIO", "escalations", "", []string{"Raw I/O ports without a device node"}, nil},
		{"SYS_RAWIO", "impact", "", []string{"arch/x86/kernel/ioport.c"}, []string{"Most of what it allows also needs a device node"}},
		{"SYS_PTRACE", "description", "", []string{"cap_ptrace_access_check()", "yama_ptrace_access_check()"},
			[]string{"(still subject to Yama and other LSMs)"}},
		{"SYS_PTRACE", "escalations", "", []string{"/proc/<pid>/root", "/proc/<pid>/environ"}, nil},
		{"AUDIT_CONTROL", "impact", "", []string{"audit_set_loginuid_perm(), kernel/auditsc.c"}, nil},
		{"AUDIT_WRITE", "impact", "", []string{"audit_log_common_recv_msg()", "only the message body"}, nil},
		{"AUDIT_WRITE", "escalations", "", nil, []string{"fake authentication events"}},
		{"SYS_RESOURCE", "impact", "", []string{"exempts it from the OOM killer altogether"}, []string{"less likely OOM victim"}},
		{"IPC_OWNER", "amplifier:hostIPC", "medium", nil, nil},
		{"IPC_OWNER", "reasoning", "", []string{"ipcperms(), ipc/util.c"}, nil},
		{"NET_BIND_SERVICE", "impact", "", []string{"0xERR0R/blocky#2071", "bprm_caps_from_vfs_caps()"}, []string{"blocky#1461"}},
	}
	pages := map[string]map[string]any{}
	for _, tt := range tests {
		t.Run(tt.cap+" "+tt.field, func(t *testing.T) {
			page, ok := pages[tt.cap]
			if !ok {
				out, errOut, code := run(t, "", "explain", tt.cap, "-o", "json")
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				if err := json.Unmarshal([]byte(out), &page); err != nil {
					t.Fatal(err)
				}
				pages[tt.cap] = page
			}
			got := explainField(page, tt.field)
			if tt.want != "" && got != tt.want {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
			for _, h := range tt.has {
				if !strings.Contains(got, h) {
					t.Errorf("%s does not say %q:\n%s", tt.field, h, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("%s still says %q", tt.field, n)
				}
			}
		})
	}
}

// explainField renders one field of an explain JSON page as text:
// "amplifier:CTX" is the risk of that amplifier ("" when there is none),
// "escalations" the names and descriptions together.
func explainField(page map[string]any, field string) string {
	if ctx, ok := strings.CutPrefix(field, "amplifier:"); ok {
		amps, _ := page["amplifiers"].([]any)
		for _, a := range amps {
			if m, _ := a.(map[string]any); m["when"] == ctx {
				return fmt.Sprint(m["risk"])
			}
		}
		return ""
	}
	if field == "escalations" {
		var b strings.Builder
		xs, _ := page["escalations"].([]any)
		for _, x := range xs {
			m, _ := x.(map[string]any)
			fmt.Fprintf(&b, "%v: %v\n", m["name"], m["description"])
		}
		return b.String()
	}
	return fmt.Sprint(page[field])
}

func equalJSONList(v any, want ...string) bool {
	l, ok := v.([]any)
	if !ok || len(l) != len(want) {
		return false
	}
	for i := range l {
		if l[i] != want[i] {
			return false
		}
	}
	return true
}

func TestExplainErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"misspelled", []string{"explain", "NET_RAWW"}, ExitUsage, []string{`unknown capability "NET_RAWW"; did you mean NET_RAW?`}},
		{"one good one bad", []string{"explain", "NET_RAW", "SYS_ADMN", "FOO_BAR_BAZ_QUX"}, ExitUsage,
			[]string{`did you mean SYS_ADMIN?`, `unknown capability "FOO_BAR_BAZ_QUX"`}},
		{"number out of range", []string{"explain", "41"}, ExitUsage, []string{`unknown capability "41"`}},
		// ALL is the lists' keyword, not a misspelled KILL.
		{"ALL", []string{"explain", "ALL"}, ExitUsage, []string{`"ALL" is not a capability`, "keyword meaning every capability", "kubectl caps explain' without arguments"}},
		{"all, with a capability", []string{"explain", "NET_RAW", "all"}, ExitUsage, []string{`"all" is not a capability`}},
		{"bad output", []string{"explain", "-o", "xml"}, ExitUsage, []string{`unknown output format "xml"`, "See 'kubectl caps explain -h'"}},
		{"bad sort", []string{"explain", "--sort-by", "colour"}, ExitUsage, []string{`unknown --sort-by "colour"`}},
		{"unknown flag", []string{"explain", "--colour"}, ExitUsage, []string{"unknown flag: --colour", "See 'kubectl caps explain -h'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectError(t, tt.args, tt.code, tt.want...)
		})
	}
}

func TestExplainCompletion(t *testing.T) {
	out, _, code := run(t, "", "__complete", "explain", "NET_")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if line == "" || strings.HasPrefix(line, ":") {
			continue
		}
		names = append(names, strings.SplitN(line, "\t", 2)[0])
	}
	if strings.Join(names, ",") != "NET_BIND_SERVICE,NET_BROADCAST,NET_ADMIN,NET_RAW" {
		t.Errorf("completion = %v", names)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "kubectl-caps dev (") {
		t.Errorf("version: %d %q", code, out)
	}
	out, _, _ = run(t, "", "--version")
	if !strings.HasPrefix(out, "kubectl-caps dev (") {
		t.Errorf("--version: %q", out)
	}
	// -v is kubectl's verbosity, not a version shorthand.
	out, errOut, code := run(t, "", "-v")
	if code != ExitUsage || strings.Contains(out, "kubectl-caps dev") || !strings.Contains(errOut, "-v") {
		t.Errorf("-v: exit %d, stdout %q, stderr %q; want a usage error", code, out, errOut)
	}
	out, _, _ = run(t, "", "version", "-o", "json")
	if !strings.Contains(out, `"version": "dev"`) {
		t.Errorf("version -o json: %q", out)
	}
}

func TestRootHelpListsCommands(t *testing.T) {
	out, _, code := run(t, "", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"kubectl caps [command]", "explain", "version", "Exit codes:"} {
		if !strings.Contains(out, w) {
			t.Errorf("help lacks %q", w)
		}
	}
}

// TestExplainHelpListsOnlyItsExitCodes: explain reads only the catalog, so
// its help lists 0, 2 and 5, not --fail-on's 1, manifests' 3 or the
// cluster's 4.
func TestExplainHelpListsOnlyItsExitCodes(t *testing.T) {
	out, _, code := run(t, "", "explain", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	_, codes, ok := strings.Cut(out, "Exit codes:")
	if !ok {
		t.Fatalf("no exit codes in explain --help:\n%s", out)
	}
	codes, _, _ = strings.Cut(codes, "\n\n")
	var got []string
	for _, l := range strings.Split(codes, "\n") {
		if f := strings.Fields(l); len(f) > 0 && len(f[0]) == 1 && f[0] >= "0" && f[0] <= "9" {
			got = append(got, f[0])
		}
	}
	if strings.Join(got, " ") != "0 2 5" {
		t.Errorf("explain --help lists exit codes %v, want 0 2 5:\n%s", got, codes)
	}
}
