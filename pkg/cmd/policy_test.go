package cmd

import (
	"strings"
	"testing"
	"time"
)

// fixPolicyTime makes the generated headers reproducible.
func fixPolicyTime(t *testing.T) {
	t.Helper()
	saved := policyNow
	policyNow = func() time.Time { return time.Date(2026, 11, 30, 21, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { policyNow = saved })
}

func TestPolicyGolden(t *testing.T) {
	fixPolicyTime(t)
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"vap observed", []string{"--format", "vap", "-f", examples, "-R"}, "policy/examples-vap-observed.yaml"},
		{"vap baseline, warn", []string{"--format", "vap", "--mode", "baseline", "--action", "warn", "-f", examples}, "policy/examples-vap-baseline.yaml"},
		{"vap restricted, cluster, with allowances", []string{"--format", "vap", "--mode", "restricted", "--scope", "cluster", "-f", examples,
			"--allow", "net/deploy/vpn=NET_ADMIN,NET_RAW", "--allow", "cj/backup:backup=DAC_READ_SEARCH", "--action", "audit"},
			"policy/examples-vap-restricted-cluster.yaml"},
		{"vap observed, one namespace", []string{"--format", "vap", "-f", examples, "-n", "shop"}, "policy/examples-vap-observed-shop.yaml"},
		{"psa", []string{"--format", "psa", "-f", examples, "-R"}, "policy/examples-psa.sh"},
		{"kyverno observed", []string{"--format", "kyverno", "-f", examples, "-R"}, "policy/examples-kyverno-observed.yaml"},
		{"kyverno baseline, warn", []string{"--format", "kyverno", "--mode", "baseline", "--action", "warn", "-f", examples}, "policy/examples-kyverno-baseline.yaml"},
		{"kyverno restricted, cluster, with allowances", []string{"--format", "kyverno", "--mode", "restricted", "--scope", "cluster", "-f", examples,
			"--allow", "net/deploy/vpn=NET_ADMIN,NET_RAW", "--allow", "cj/backup:backup=DAC_READ_SEARCH", "--action", "audit"},
			"policy/examples-kyverno-restricted-cluster.yaml"},
		{"scc observed", []string{"--format", "scc", "-f", examples, "-R"}, "policy/examples-scc-observed.yaml"},
		{"scc baseline", []string{"--format", "scc", "--mode", "baseline", "-f", examples}, "policy/examples-scc-baseline.yaml"},
		{"scc restricted, cluster, with allowances", []string{"--format", "scc", "--mode", "restricted", "--scope", "cluster", "-f", examples,
			"--allow", "net/deploy/vpn=NET_ADMIN,NET_RAW", "--allow", "cj/backup:backup=DAC_READ_SEARCH"},
			"policy/examples-scc-restricted-cluster.yaml"},
		// The allow annotation (net/deploy/vpn) and an --exceptions file
		// (a glob, an expired entry, one for a namespace not read) become
		// allowances as --allow's do (docs/policy.md).
		{"vap restricted, cluster, annotation", []string{"--format", "vap", "--mode", "restricted", "--scope", "cluster", "-f", excWorkloads},
			"policy/exceptions/vap-annotation.yaml"},
		{"vap restricted, annotation and file", []string{"--format", "vap", "--mode", "restricted", "-f", excWorkloads, "--exceptions", excFile},
			"policy/exceptions/vap-file.yaml"},
		{"kyverno restricted, cluster, annotation", []string{"--format", "kyverno", "--mode", "restricted", "--scope", "cluster", "-f", excWorkloads},
			"policy/exceptions/kyverno-annotation.yaml"},
		{"kyverno restricted, annotation and file", []string{"--format", "kyverno", "--mode", "restricted", "-f", excWorkloads, "--exceptions", excFile},
			"policy/exceptions/kyverno-file.yaml"},
		{"scc restricted, cluster, annotation", []string{"--format", "scc", "--mode", "restricted", "--scope", "cluster", "-f", excWorkloads},
			"policy/exceptions/scc-annotation.yaml"},
		{"scc restricted, annotation and file", []string{"--format", "scc", "--mode", "restricted", "-f", excWorkloads, "--exceptions", excFile},
			"policy/exceptions/scc-file.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"policy"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			golden(t, tt.golden, out)
			golden(t, strings.TrimSuffix(strings.TrimSuffix(tt.golden, ".yaml"), ".sh")+".stderr", errOut)
		})
	}
}

// The manifests and exceptions file of the exception goldens.
const (
	excWorkloads = "testdata/policy/exceptions/workloads.yaml"
	excFile      = "testdata/policy/exceptions/exceptions.yaml"
)

func TestPolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no format", []string{"-f", examples}, ExitUsage, "--format is required: vap, kyverno, scc or psa"},
		{"unknown format", []string{"--format", "gatekeeper", "-f", examples}, ExitUsage, `unknown --format "gatekeeper"; use vap, kyverno, scc or psa`},
		{"kyverno: unknown capability", []string{"--format", "kyverno", "-f", examples, "--allow", "shop/deploy/web=SYS_FOO"}, ExitUsage,
			`--allow "shop/deploy/web=SYS_FOO": unknown capability "SYS_FOO"`},
		{"scc: allowance matching nothing", []string{"--format", "scc", "-f", examples, "--allow", "shop/deploy/web:sidecar=NET_ADMIN"}, ExitUsage,
			"--allow shop/deploy/web:sidecar=NET_ADMIN matched no container"},
		{"scc: --action", []string{"--format", "scc", "--action", "warn", "-f", examples}, ExitUsage, "--action does not apply to --format scc"},
		{"bad mode", []string{"--format", "vap", "--mode", "strict", "-f", examples}, ExitUsage, `unknown --mode "strict"; use observed, baseline or restricted`},
		{"bad scope", []string{"--format", "vap", "--scope", "ns", "-f", examples}, ExitUsage, `unknown --scope "ns"`},
		{"bad action", []string{"--format", "vap", "--action", "Deny", "-f", examples}, ExitUsage, `unknown --action "Deny"; use deny, warn or audit`},
		{"unknown capability", []string{"--format", "vap", "-f", examples, "--allow", "shop/deploy/web=NET_ADMINN"}, ExitUsage,
			`--allow "shop/deploy/web=NET_ADMINN": unknown capability "NET_ADMINN"; did you mean NET_ADMIN?`},
		{"allowance matching nothing", []string{"--format", "vap", "-f", examples, "--allow", "shop/deploy/web:sidecar=NET_ADMIN"}, ExitUsage,
			"--allow shop/deploy/web:sidecar=NET_ADMIN matched no container"},
		{"vap flags with psa", []string{"--format", "psa", "--mode", "restricted", "-f", examples}, ExitUsage, "--mode apply to --format vap, kyverno and scc"},
		{"unreadable manifest", []string{"--format", "vap", "-f", "testdata/no-such-file.yaml"}, ExitInput, "no-such-file.yaml"},
		{"exceptions: a rule a policy cannot express", []string{"--format", "kyverno", "-f", excWorkloads, "--exceptions", "testdata/policy/exceptions/rules.yaml"}, ExitInput,
			"the exception at testdata/policy/exceptions/rules.yaml:8 excepts rule CAPS005: a policy allows capabilities per workload and cannot except other findings"},
		{"exceptions: a missing file", []string{"--format", "scc", "-f", excWorkloads, "--exceptions", "testdata/policy/exceptions/missing.yaml"}, ExitInput,
			"testdata/policy/exceptions/missing.yaml"},
		{"exceptions: a malformed annotation", []string{"--format", "vap", "-f", "testdata/policy/exceptions/bad-annotation.yaml"}, ExitInput,
			"no reason; end with '; reason: WHY'"},
		{"exceptions with psa", []string{"--format", "psa", "-f", excWorkloads, "--exceptions", excFile}, ExitUsage, "--exceptions apply to --format vap, kyverno and scc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectError(t, append([]string{"policy"}, tt.args...), tt.code, tt.want)
		})
	}
}

// The label commands repeat the kubeconfig flags, quoted for the shell,
// so that they label the cluster that was read.
func TestPolicyPSARepeatsKubeconfigFlags(t *testing.T) {
	out, errOut, code := run(t, "", "policy", "--format", "psa", "-f", examples+"/02-api-restricted.yaml", "--context", "prod's")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `kubectl --context 'prod'\''s' label --overwrite ns shop pod-security.kubernetes.io/enforce=restricted `) {
		t.Errorf("output:\n%s", out)
	}
}
