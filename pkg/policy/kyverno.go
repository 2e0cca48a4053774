package policy

import (
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"

	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Meta is the metadata a generated object carries: a plain struct rather
// than metav1.ObjectMeta, whose zero creationTimestamp would print as null.
type Meta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// KyvernoPolicy is a kyverno.io/v1 ClusterPolicy or Policy, with only the
// fields this command sets (the schema is config/crds/kyverno/ of
// github.com/kyverno/kyverno, which the integration test installs).
type KyvernoPolicy struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   Meta        `json:"metadata"`
	Spec       KyvernoSpec `json:"spec"`
}

// KyvernoSpec is the policy's spec.
type KyvernoSpec struct {
	// Background: the rule also runs in Kyverno's background scans, so
	// existing objects that break it show in policy reports.
	Background bool `json:"background"`
	// EmitWarning returns Audit results to kubectl as warnings (--action warn).
	EmitWarning bool          `json:"emitWarning,omitempty"`
	Rules       []KyvernoRule `json:"rules"`
}

// KyvernoRule is one validate rule.
type KyvernoRule struct {
	Name     string          `json:"name"`
	Match    KyvernoMatch    `json:"match"`
	Validate KyvernoValidate `json:"validate"`
}

// KyvernoMatch selects the resources by kind.
type KyvernoMatch struct {
	Any []KyvernoFilter `json:"any"`
}

// KyvernoFilter is one resource filter.
type KyvernoFilter struct {
	Resources KyvernoResources `json:"resources"`
}

// KyvernoResources are the kinds a rule matches.
type KyvernoResources struct {
	Kinds []string `json:"kinds"`
}

// KyvernoValidate is a validate rule written in CEL (validate.cel): the
// same variables and expressions as the ValidatingAdmissionPolicy.
type KyvernoValidate struct {
	// FailureAction is Enforce or Audit; the per-rule field replaces the
	// policy-wide validationFailureAction, which the v1.19 CRD marks
	// deprecated.
	FailureAction string `json:"failureAction"`
	// AllowExistingViolations lets an UPDATE of an object that already
	// broke the rule through (Kyverno's default, written out): a pod created
	// before the policy can still be relabelled.
	AllowExistingViolations bool       `json:"allowExistingViolations"`
	CEL                     KyvernoCEL `json:"cel"`
}

// KyvernoCEL is validate.cel.
type KyvernoCEL struct {
	Variables   []admissionv1.Variable   `json:"variables"`
	Expressions []admissionv1.Validation `json:"expressions"`
}

// kyvernoDialect reads the object, not the request: Kyverno also runs the
// rule in background scans and in its CLI, where no admission request
// exists. A Pod's ephemeral containers arrive as the Pod.
var kyvernoDialect = dialect{resource: kindToResource(), namespace: "object.metadata.?namespace.orValue('')"}

// kindToResource is CEL mapping object.kind to the resource the CEL
// expects, "pods" for a Pod.
func kindToResource() string {
	var entries []string
	for _, k := range matchedKinds() {
		if k.Name != "Pod" {
			entries = append(entries, fmt.Sprintf("'%s': '%s'", k.Name, k.Plural()))
		}
	}
	return "{" + strings.Join(entries, ", ") + "}[?object.kind].orValue('pods')"
}

// matchedKinds are the kinds a policy matches: Pods and every built-in
// kind with a pod template (not PodTemplate, which runs nothing).
func matchedKinds() []workload.Kind {
	var out []workload.Kind
	for _, k := range workload.Kinds() {
		if k.Name == "Pod" || k.Controller {
			out = append(out, k)
		}
	}
	return out
}

// Annotations that say how the policy reads capability names, on the
// Kyverno policy and the SCC alike.
const (
	AnnotationSpelling = "kubectl-caps/capability-spelling"
	spellingText       = "capabilities.add and capabilities.drop entries must be ALL or a capability name in upper case without CAP_, " +
		"the only spelling every runtime and Pod Security Admission read alike: containerd upper-cases every entry and puts CAP_ in front " +
		"(internal/cri/opts/spec_opts.go WithCapabilities), so net_admin grants NET_ADMIN and CAP_SYS_ADMIN grants nothing; " +
		"CRI-O upper-cases and adds CAP_ only when missing (internal/factory/container/container.go SpecSetupCapabilities), " +
		"so CAP_SYS_ADMIN grants SYS_ADMIN; Pod Security Admission compares exact strings " +
		"(k8s.io/pod-security-admission policy/check_capabilities_restricted.go), so all is not ALL to it. " +
		"Every other spelling is refused, not read as one runtime would read it (docs/policy.md)."
)

// Kyverno is the policy as a Kyverno ClusterPolicy (cluster scope) or a
// Policy in its namespace, kyverno.io/v1, with one validate rule in CEL:
// the variables and expressions of VAP, so both formats refuse exactly
// the same objects. The rule matches Pods (and, through them, their
// ephemeral containers: Kyverno matches pods/ephemeralcontainers on kind
// Pod, pkg/engine/utils/match.go doesResourceMatchConditionBlock) and
// every kind with a pod template itself, so Kyverno's autogen, which
// rewrites Pod rules for controllers, is switched off (autogen-controllers:
// none). action is deny (Enforce), warn (Audit with warnings) or audit
// (Audit).
func Kyverno(p *Policy, action string) *KyvernoPolicy {
	kind := "Policy"
	if p.Namespace == "" {
		kind = "ClusterPolicy"
	}
	var kinds []string
	for _, k := range matchedKinds() {
		kinds = append(kinds, k.Name)
	}
	failure := "Enforce"
	if action != ActionDeny {
		failure = "Audit"
	}
	return &KyvernoPolicy{
		APIVersion: "kyverno.io/v1",
		Kind:       kind,
		Metadata: Meta{Name: p.Name(), Namespace: p.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "kubectl-caps"},
			Annotations: map[string]string{
				"policies.kyverno.io/title":                   "Capabilities (" + p.Mode + ")",
				"policies.kyverno.io/category":                "Pod Security",
				"policies.kyverno.io/subject":                 "Pod",
				"policies.kyverno.io/description":             kyvernoDescription(p),
				"pod-policies.kyverno.io/autogen-controllers": "none",
				AnnotationSpelling:                            spellingText,
			}},
		Spec: KyvernoSpec{
			Background:  true,
			EmitWarning: action == ActionWarn,
			Rules: []KyvernoRule{{
				Name:  "capabilities",
				Match: KyvernoMatch{Any: []KyvernoFilter{{Resources: KyvernoResources{Kinds: kinds}}}},
				Validate: KyvernoValidate{
					FailureAction:           failure,
					AllowExistingViolations: true,
					CEL:                     KyvernoCEL{Variables: variables(p, kyvernoDialect), Expressions: validations(p)},
				},
			}},
		},
	}
}

func kyvernoDescription(p *Policy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Generated by kubectl caps policy (mode %s). In containers, initContainers and ephemeralContainers of Pods and of every pod template: ", p.Mode)
	switch {
	case p.AllowsAll():
		b.WriteString("capabilities.add may hold any capability (a workload added ALL)")
	case len(p.Allowed) == 0:
		b.WriteString("capabilities.add must be empty")
	default:
		b.WriteString("capabilities.add may hold " + strings.Join(p.Allowed, ", "))
	}
	if len(p.Allowances) > 0 {
		b.WriteString(", plus the per-workload allowances in the rule's allowN variables")
	}
	if p.RequireDropAll {
		b.WriteString(`; capabilities.drop must hold "ALL"`)
	}
	if p.ForbidPrivileged {
		b.WriteString("; privileged: true is refused")
	}
	if p.WindowsExempt {
		b.WriteString("; Windows pods are exempt")
	}
	b.WriteString(".")
	return b.String()
}
