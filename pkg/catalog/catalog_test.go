package catalog

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

func TestEmbeddedCatalogIsValid(t *testing.T) {
	if _, err := Parse(embedded); err != nil {
		t.Fatal(err)
	}
}

func TestEveryCapabilityOnce(t *testing.T) {
	c := Default()
	entries := entries(c)
	if len(entries) != 41 {
		t.Fatalf("%d entries, want 41", len(entries))
	}
	for n, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			if e.Number != n {
				t.Errorf("entry %d has number %d", n, e.Number)
			}
			if e.Name != capability.Cap(n).String() {
				t.Errorf("entry %d is named %q, want %q", n, e.Name, capability.Cap(n))
			}
			for field, v := range map[string]string{
				"since": e.Since, "summary": e.Summary, "description": e.Description, "impact": e.Impact,
				"reasoning": e.Reasoning, "risk": string(e.Risk), "recommendation": string(e.Recommendation),
				"userNamespaceNote": e.UserNamespaceNote, "seed.status": string(e.Seed.Status),
			} {
				if strings.TrimSpace(v) == "" {
					t.Errorf("%s is empty", field)
				}
			}
			if len(e.Summary) > 90 {
				t.Errorf("summary is %d characters, want at most 90", len(e.Summary))
			}
			if strings.HasPrefix(e.Name, "CAP_") {
				t.Errorf("name carries the CAP_ prefix")
			}
		})
	}
}

func TestNoCopiedText(t *testing.T) {
	seen := map[string]string{}
	for _, e := range entries(Default()) {
		for field, v := range map[string]string{"description": e.Description, "impact": e.Impact, "reasoning": e.Reasoning} {
			k := normalise(v)
			if prev, ok := seen[k]; ok {
				t.Errorf("%s %s repeats %s", e.Name, field, prev)
			}
			seen[k] = e.Name + " " + field
		}
	}
}

// The catalog's pssBaseline flags must agree with Pod Security Admission's
// own baseline check, judged by running it, not by a list typed here.
func TestPSSBaselineMatchesPSA(t *testing.T) {
	check := latest(t, policy.CheckCapabilitiesBaseline())
	for _, e := range entries(Default()) {
		spec := &corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c",
			SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{
				Add: []corev1.Capability{corev1.Capability(e.Name)},
			}},
		}}}
		allowed := check(nil, spec).Allowed
		if allowed != e.PSSBaseline {
			t.Errorf("%s: pssBaseline=%v but PSA baseline allows adding it: %v", e.Name, e.PSSBaseline, allowed)
		}
	}
}

func latest(t *testing.T, c policy.Check) policy.CheckPodFn {
	t.Helper()
	if len(c.Versions) == 0 {
		t.Fatalf("check %s has no versions", c.ID)
	}
	return c.Versions[len(c.Versions)-1].CheckPod
}

// The catalog marks inert exactly the capabilities whose every kernel check
// is against the initial user namespace. Each row names the check, read in
// the kernel source, so that a change to the set has to argue with it.
// Partly inert capabilities (a ns_capable check remains somewhere) stay
// false and say which part is inert in their note.
func TestInertInUserNamespace(t *testing.T) {
	inert := map[string]string{
		"LINUX_IMMUTABLE": "fileattr_set_prepare(): capable(CAP_LINUX_IMMUTABLE)",
		"SYS_MODULE":      "may_init_module(): capable(CAP_SYS_MODULE)",
		"SYS_RAWIO":       "ksys_ioperm(), open_port(), ioctl_fibmap(): capable(); cap_mmap_addr(): init_user_ns",
		"SYS_PACCT":       "SYSCALL acct (kernel/acct.c): capable(CAP_SYS_PACCT)",
		"SYS_TIME":        "cap_settime(), timekeeping_validate_timex(): capable(CAP_SYS_TIME)",
		"SYS_TTY_CONFIG":  "SYSCALL vhangup (fs/open.c), vt_ioctl(): capable(CAP_SYS_TTY_CONFIG)",
		"MKNOD":           "vfs_mknod(): capable(CAP_MKNOD)",
		"LEASE":           "vfs_setlease(): capable(CAP_LEASE)",
		"AUDIT_WRITE":     "audit_netlink_ok(): initial user namespace only",
		"AUDIT_CONTROL":   "audit_netlink_ok(); audit_set_loginuid_perm(): capable(CAP_AUDIT_CONTROL)",
		"MAC_OVERRIDE":    "smack_privileged_cred(): cap_capable(cred, &init_user_ns, ...)",
		"SYSLOG":          "check_syslog_permissions(): capable(CAP_SYSLOG); restricted_pointer(): init_user_ns",
		"WAKE_ALARM":      "alarm_timer_create(), timerfd_create: capable(CAP_WAKE_ALARM)",
		"BLOCK_SUSPEND":   "pm_wake_lock(), ep_take_care_of_epollwakeup(): capable(CAP_BLOCK_SUSPEND)",
		"AUDIT_READ":      "audit_multicast_bind(): capable(CAP_AUDIT_READ)",
		"PERFMON":         "perfmon_capable(): capable(CAP_PERFMON)",
		"BPF":             "bpf_capable(): capable(CAP_BPF)",
	}
	// Partly inert: a part is checked against the initial user namespace,
	// another with ns_capable; not inert, and the note says "Still acts".
	partly := map[string]string{
		"NET_BROADCAST":      "do_one_broadcast(): file_ns_capable(sender's owner) vs netlink_setsockopt(): ns_capable",
		"IPC_LOCK":           "can_do_mlock(): capable vs shmctl_do_lock(): ns_capable",
		"SYS_BOOT":           "kexec_load_permitted(): capable vs reboot: ns_capable(pid_ns->user_ns)",
		"SYS_NICE":           "can_nice(), ioprio_check_cap(): capable vs sched_setaffinity(), set_one_prio_perm(): ns_capable",
		"SYS_RESOURCE":       "do_prlimit(), __set_oom_adj(): capable vs check_prlimit_permission(): ns_capable",
		"MAC_ADMIN":          "SELinux has_cap_mac_admin(): init ns vs AppArmor policy_admin_capable(): ns_capable",
		"CHECKPOINT_RESTORE": "proc_map_files_get_link(): init_user_ns vs ns_last_pid, set_tid: ns_capable",
	}
	for _, e := range entries(Default()) {
		_, wantInert := inert[e.Name]
		if e.InertInUserNamespace != wantInert {
			t.Errorf("%s: inertInUserNamespace=%v, want %v (%s)", e.Name, e.InertInUserNamespace, wantInert, inert[e.Name])
		}
		if why, ok := partly[e.Name]; ok {
			if !strings.HasPrefix(e.UserNamespaceNote, "Partly inert: ") || !strings.Contains(e.UserNamespaceNote, "Still acts: ") {
				t.Errorf("%s is partly inert (%s); its note does not say which part: %q", e.Name, why, e.UserNamespaceNote)
			}
		} else if strings.HasPrefix(e.UserNamespaceNote, "Partly inert: ") {
			t.Errorf("%s: note says partly inert, but the test table does not", e.Name)
		}
	}
}

// InertInUserNamespace is what the engine discounts; it must be the
// catalog's flags, not a second list.
func TestInertSetMatchesEntries(t *testing.T) {
	c := Default()
	for _, e := range entries(c) {
		if c.InertInUserNamespace().Has(e.Cap()) != e.InertInUserNamespace {
			t.Errorf("%s: set and entry disagree", e.Name)
		}
	}
}

func TestKernelVersions(t *testing.T) {
	tests := map[string]string{
		"CHOWN": "2.2", "SYS_TTY_CONFIG": "2.2", "MKNOD": "2.4", "LEASE": "2.4", "AUDIT_WRITE": "2.6.11",
		"AUDIT_CONTROL": "2.6.11", "SETFCAP": "2.6.24", "MAC_OVERRIDE": "2.6.25", "MAC_ADMIN": "2.6.25",
		"SYSLOG": "2.6.37", "WAKE_ALARM": "3.0", "BLOCK_SUSPEND": "3.5", "AUDIT_READ": "3.16",
		"PERFMON": "5.8", "BPF": "5.8", "CHECKPOINT_RESTORE": "5.9",
	}
	c := Default()
	for name, since := range tests {
		e, err := c.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if e.Since != since {
			t.Errorf("%s since %q, want %q", name, e.Since, since)
		}
	}
}

// Known escalation paths must be on record with their CVE ids (the kernel
// fix commits are named in the entries).
func TestEscalationsNameTheirCVEs(t *testing.T) {
	tests := []struct {
		cap  string
		want string
	}{
		{"SYS_ADMIN", "CVE-2022-0492"},
		{"SYS_ADMIN", "CVE-2022-0185"},
		{"NET_RAW", "CVE-2020-14386"},
		{"NET_RAW", "CVE-2020-10749"},
		{"NET_RAW", "CVE-2020-13401"},
	}
	c := Default()
	for _, tt := range tests {
		e, _ := c.Lookup(tt.cap)
		found := false
		for _, x := range e.Escalations {
			for _, cve := range x.CVEs {
				found = found || cve == tt.want
			}
		}
		if !found {
			t.Errorf("%s: no escalation names %s", tt.cap, tt.want)
		}
	}
	e, _ := c.Lookup("DAC_READ_SEARCH")
	if len(e.Escalations) == 0 || !strings.Contains(strings.ToLower(e.Escalations[0].Name+e.Escalations[0].Description), "shocker") {
		t.Errorf("DAC_READ_SEARCH must name the shocker breakout first")
	}
}

func TestSeedDefectsAllHandled(t *testing.T) {
	ds := Default().SeedDefects()
	ids := map[int]bool{}
	for _, d := range ds {
		ids[d.ID] = true
	}
	for id := 1; id <= 49; id++ {
		if !ids[id] {
			t.Errorf("seed defect %d is not handled", id)
		}
	}
	if len(ds) != 49 {
		t.Errorf("%d seed defects, want 49", len(ds))
	}
	// Specific corrections the seed got wrong.
	c := Default()
	for name, status := range map[string]SeedStatus{
		"CHECKPOINT_RESTORE": SeedMissing, "AUDIT_WRITE": SeedMislabelled, "DAC_READ_SEARCH": SeedCorrected,
		"BPF": SeedCorrected, "NET_BROADCAST": SeedCorrected,
	} {
		if e, _ := c.Lookup(name); e.Seed.Status != status {
			t.Errorf("%s seed status %q, want %q", name, e.Seed.Status, status)
		}
	}
}

func TestValidateCatchesDefects(t *testing.T) {
	base := func() *Document {
		doc := &Document{Capabilities: entries(Default()), SeedDefects: Default().SeedDefects()}
		return doc
	}
	tests := []struct {
		name   string
		mutate func(d *Document)
		want   string
	}{
		{"missing entry", func(d *Document) { d.Capabilities = d.Capabilities[:40] }, "capability 40 (CHECKPOINT_RESTORE) has no entry"},
		{"duplicate number", func(d *Document) { d.Capabilities[1].Number = 0; d.Capabilities[1].Name = "CHOWN" }, "appears twice"},
		{"mislabelled", func(d *Document) { d.Capabilities[29].Name = "AUDIT_READ" }, "number 29 is AUDIT_WRITE"},
		{"copied impact", func(d *Document) { d.Capabilities[39].Impact = d.Capabilities[36].Impact }, "repeats the text of BLOCK_SUSPEND impact"},
		{"empty reasoning", func(d *Document) { d.Capabilities[3].Reasoning = " " }, "reasoning is empty"},
		{"bad risk", func(d *Document) { d.Capabilities[3].Risk = "severe" }, `risk "severe"`},
		{"bad recommendation", func(d *Document) { d.Capabilities[3].Recommendation = "maybe" }, `recommendation "maybe"`},
		{"amplifier lowers", func(d *Document) {
			d.Capabilities[21].Amplifiers = []Amplifier{{When: "hostPID", Risk: RiskLow, Why: "x"}}
		}, "must raise the risk"},
		{"amplifier context", func(d *Document) {
			d.Capabilities[0].Amplifiers = []Amplifier{{When: "hostFoo", Risk: RiskCritical, Why: "x"}}
		}, `context "hostFoo"`},
		{"defect unclaimed", func(d *Document) { d.SeedDefects = d.SeedDefects[:48] }, "not in the defect list"},
		{"inert flag without the note", func(d *Document) { d.Capabilities[0].InertInUserNamespace = true }, `does not start with "Inert: "`},
		{"inert note without the flag", func(d *Document) { d.Capabilities[16].InertInUserNamespace = false }, `but inertInUserNamespace is false`},
		{"partly inert without what still acts", func(d *Document) {
			d.Capabilities[23].UserNamespaceNote = "Partly inert: realtime scheduling."
		}, `must say what "Still acts:"`},
		{"note in no documented form", func(d *Document) { d.Capabilities[5].UserNamespaceNote = "Not verified." }, `must start with`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			tt.mutate(d)
			err := Validate(d)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestLookupSpellings(t *testing.T) {
	c := Default()
	for _, in := range []string{"NET_RAW", "net_raw", "CAP_NET_RAW", "cap_net_raw", "Net_Raw", "13"} {
		e, err := c.Lookup(in)
		if err != nil || e.Name != "NET_RAW" {
			t.Errorf("Lookup(%q) = %v, %v", in, e, err)
		}
	}
	if _, err := c.Lookup("NET_RAWW"); err == nil || !strings.Contains(err.Error(), "did you mean NET_RAW?") {
		t.Errorf("Lookup(NET_RAWW) error = %v", err)
	}
}

func TestParseRisk(t *testing.T) {
	for in, want := range map[string]Risk{"HIGH": RiskHigh, "low": RiskLow, " critical ": RiskCritical} {
		if got, err := ParseRisk(in); err != nil || got != want {
			t.Errorf("ParseRisk(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "none", "severe"} {
		if _, err := ParseRisk(in); err == nil {
			t.Errorf("ParseRisk(%q) accepted", in)
		}
	}
}

// entries are the catalog's entries in number order.
func entries(c *Catalog) []Entry {
	out := make([]Entry, 0, capability.Count)
	for cp := capability.Cap(0); cp <= capability.Last; cp++ {
		out = append(out, *c.Get(cp))
	}
	return out
}
