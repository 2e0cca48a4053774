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
	entries := c.Entries()
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
	for _, e := range Default().Entries() {
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
	for _, e := range Default().Entries() {
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

// FACTS.md §6 rule 5 lists the capabilities the kernel checks only in the
// initial user namespace; the catalog must mark exactly those as inert.
// MAC_ADMIN is only partly so (SELinux's check is, AppArmor's ns_capable one
// is not, §1.0 and [K-AA]), and a capability that still acts is not inert.
func TestInertInUserNamespace(t *testing.T) {
	want := capability.MustParseSet("SYS_MODULE", "SYS_TIME", "MKNOD", "AUDIT_WRITE", "AUDIT_CONTROL",
		"AUDIT_READ", "PERFMON", "BPF")
	for _, e := range Default().Entries() {
		if e.InertInUserNamespace != want.Has(e.Cap()) {
			t.Errorf("%s: inertInUserNamespace=%v, want %v", e.Name, e.InertInUserNamespace, want.Has(e.Cap()))
		}
	}
}

// InertInUserNamespace is what the engine discounts; it must be the
// catalog's flags, not a second list.
func TestInertSetMatchesEntries(t *testing.T) {
	c := Default()
	for _, e := range c.Entries() {
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

// Known escalation paths must be on record with their CVE ids (FACTS §1).
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
			t.Errorf("seed defect %d (FACTS.md §5) is not handled", id)
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
		doc := &Document{Capabilities: Default().Entries(), SeedDefects: Default().SeedDefects()}
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

func TestMaxRiskAndParseRisk(t *testing.T) {
	c := Default()
	if got := c.MaxRisk(capability.MustParseSet("CHOWN", "NET_RAW")); got != RiskHigh {
		t.Errorf("MaxRisk = %s, want high", got)
	}
	if got := c.MaxRisk(0); got != RiskNone {
		t.Errorf("MaxRisk(empty) = %s", got)
	}
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
