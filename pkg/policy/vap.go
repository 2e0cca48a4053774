package policy

import (
	"fmt"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Name is the name of the policy and its binding: kubectl-caps-MODE, and
// -NAMESPACE for a namespace's.
func (p *Policy) Name() string {
	if p.Namespace == "" {
		return "kubectl-caps-" + p.Mode
	}
	return "kubectl-caps-" + p.Mode + "-" + p.Namespace
}

// VAP is the policy as a ValidatingAdmissionPolicy and its binding
// (admissionregistration.k8s.io/v1, GA since Kubernetes 1.30). It matches
// Pods on create, their ephemeral containers (pods/ephemeralcontainers, as
// kubectl debug adds them) and every built-in kind with a pod template on
// create and update, and checks containers, initContainers and
// ephemeralContainers. action is deny, warn or audit.
func VAP(p *Policy, action string) (*admissionv1.ValidatingAdmissionPolicy, *admissionv1.ValidatingAdmissionPolicyBinding) {
	vap := &admissionv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: p.Name(), Labels: map[string]string{"app.kubernetes.io/managed-by": "kubectl-caps"}},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy:    ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: resourceRules()},
			Variables:        variables(p, vapDialect),
			Validations:      validations(p),
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: p.Name(), Labels: map[string]string{"app.kubernetes.io/managed-by": "kubectl-caps"}},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        p.Name(),
			ValidationActions: []admissionv1.ValidationAction{validationAction(action)},
		},
	}
	if p.Namespace != "" {
		binding.Spec.MatchResources = &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{"kubernetes.io/metadata.name": p.Namespace}}}
	}
	return vap, binding
}

func validationAction(action string) admissionv1.ValidationAction {
	switch action {
	case ActionWarn:
		return admissionv1.Warn
	case ActionAudit:
		return admissionv1.Audit
	}
	return admissionv1.Deny
}

// resourceRules: Pods on create (a pod's containers cannot change their
// securityContext afterwards, and matching every pod update would refuse
// a label change on a pod created before the policy), ephemeral containers
// when they are added, and the pod templates of workload.Kinds' controllers.
func resourceRules() []admissionv1.NamedRuleWithOperations {
	rule := func(group string, ops []admissionv1.OperationType, resources ...string) admissionv1.NamedRuleWithOperations {
		return admissionv1.NamedRuleWithOperations{RuleWithOperations: admissionv1.RuleWithOperations{
			Operations: ops,
			Rule:       admissionv1.Rule{APIGroups: []string{group}, APIVersions: []string{"v1"}, Resources: resources},
		}}
	}
	createUpdate := []admissionv1.OperationType{admissionv1.Create, admissionv1.Update}
	return []admissionv1.NamedRuleWithOperations{
		rule("", []admissionv1.OperationType{admissionv1.Create}, "pods"),
		rule("", []admissionv1.OperationType{admissionv1.Update}, "pods/ephemeralcontainers"),
		rule("", createUpdate, "replicationcontrollers"),
		rule("apps", createUpdate, "deployments", "statefulsets", "daemonsets", "replicasets"),
		rule("batch", createUpdate, "jobs", "cronjobs"),
	}
}

// The container lists a policy checks, as CEL variables.
var lists = []struct {
	variable string
	typ      engine.ContainerType
}{
	{"containers", engine.TypeContainer},
	{"initContainers", engine.TypeInitContainer},
	{"ephemeralContainers", engine.TypeEphemeralContainer},
}

// dialect is what differs between the engines that run the policy's CEL:
// the apiserver's ValidatingAdmissionPolicy and Kyverno's validate.cel
// rules, which run the same k8s.io/apiserver CEL library
// (pkg/engine/handlers/validation/validate_cel.go in Kyverno) but also in
// background scans and in the Kyverno CLI, where there is no request.
type dialect struct {
	// resource is CEL yielding the object's resource in the plural (pods).
	resource string
	// namespace is CEL yielding the object's namespace.
	namespace string
}

// vapDialect reads the request: the resource, not the kind, is "pods" for
// the pods/ephemeralcontainers subresource too, whose request kind has
// varied between releases (EphemeralContainers, Pod).
var vapDialect = dialect{resource: "request.resource.resource", namespace: "request.namespace"}

func variables(p *Policy, d dialect) []admissionv1.Variable {
	vs := []admissionv1.Variable{
		{Name: "resource", Expression: d.resource},
		{Name: "spec", Expression: "variables.resource == 'pods' ? object.spec : variables.resource == 'cronjobs' ? " +
			"object.spec.jobTemplate.spec.template.spec : object.spec.template.spec"},
	}
	for _, l := range lists {
		vs = append(vs, admissionv1.Variable{Name: l.variable, Expression: "variables.spec.?" + l.variable + ".orValue([])"})
	}
	vs = append(vs,
		admissionv1.Variable{Name: "names", Expression: celList(KnownNames())},
		admissionv1.Variable{Name: "allowed", Expression: celList(p.Allowed)},
		admissionv1.Variable{Name: "owners", Expression: "object.metadata.?ownerReferences.orValue([])"},
	)
	if p.WindowsExempt {
		vs = append(vs, admissionv1.Variable{Name: "windows", Expression: "variables.spec.?os.?name.orValue('') == 'windows'"})
	}
	for i, r := range p.Allowances {
		vs = append(vs, admissionv1.Variable{Name: fmt.Sprintf("allow%d", i), Expression: selects(r, p.Namespace == "", d)})
	}
	return vs
}

// CEL of one container's lists.
const (
	celAdd  = "c.?securityContext.?capabilities.?add.orValue([])"
	celDrop = "c.?securityContext.?capabilities.?drop.orValue([])"
)

func validations(p *Policy) []admissionv1.Validation {
	var out []admissionv1.Validation
	exempt := ""
	if p.WindowsExempt {
		exempt = "variables.windows || "
	}
	where := "namespace " + p.Namespace
	if p.Namespace == "" {
		where = "this cluster"
	}
	for _, l := range lists {
		v := "variables." + l.variable
		label := string(l.typ)
		each := func(ok, detail, message string) admissionv1.Validation {
			// Line breaks make YAML print the CEL as a block, readable
			// for review; CEL ignores them.
			return admissionv1.Validation{
				Expression: exempt + v + ".all(c,\n  " + ok + ")",
				MessageExpression: v + ".filter(c, !(" + ok + "))\n.map(c, '" + label + " \"' + c.name + '\"" + detail + ")\n.join('; ') + '" +
					celString(message) + "'",
				Reason: ptr.To(metav1.StatusReasonForbidden),
			}
		}
		okNames := celAdd + ".all(n, n in variables.names) && " + celDrop + ".all(n, n in variables.names)"
		out = append(out, each(okNames,
			": ' + ("+celAdd+" + "+celDrop+").filter(n, !(n in variables.names)).join(', ')",
			": capabilities must be written as Kubernetes compares them: ALL or a capability name in upper case without CAP_ "+
				"(containerd ignores CAP_SYS_ADMIN, CRI-O grants it, Pod Security Admission compares exact strings; see kubectl caps explain and docs/policy.md)"))
		if p.ForbidPrivileged {
			out = append(out, each("!c.?securityContext.?privileged.orValue(false)", "'",
				" is privileged: privileged: true grants every capability whatever add and drop say, and no workload in "+where+" was privileged when this policy was generated"))
		}
		okAdd := celAdd + ".all(n, !(n in variables.names) || n in variables.allowed" + allowanceTerms(p.Allowances) + ")"
		out = append(out, each(okAdd,
			" adds ' + "+celAdd+".filter(n, n in variables.names && !(n in variables.allowed"+allowanceTerms(p.Allowances)+")).join(', ')",
			": not allowed in "+where+" by this policy ("+allowedText(p)+"); ask for an exception (kubectl caps policy --allow)"))
		if p.RequireDropAll {
			out = append(out, each("'ALL' in "+celDrop, " does not drop ALL'",
				`: capabilities.drop must hold "ALL" (in upper case) in `+where))
		}
	}
	return out
}

func allowedText(p *Policy) string {
	if p.AllowsAll() {
		return "it allows ALL"
	}
	if len(p.Allowed) == 0 {
		return "it allows no added capability"
	}
	return "allowed: " + strings.Join(p.Allowed, ", ")
}

// allowanceTerms are the per-workload allowances inside a container's
// check: the object is the allowance's workload (variables.allowN) and
// the container is the one it names.
func allowanceTerms(rules []Allowance) string {
	var b strings.Builder
	for i, r := range rules {
		fmt.Fprintf(&b, " || variables.allow%d", i)
		if r.Container != "" {
			fmt.Fprintf(&b, " && c.name == '%s'", r.Container)
		}
		fmt.Fprintf(&b, " && n in %s", celList(r.Caps.Names()))
	}
	return b.String()
}

// selects is the CEL that tells whether the admitted object is the
// allowance's workload, or was made from it: a Deployment's ReplicaSets
// (owner Deployment) and their Pods (owner ReplicaSet NAME-HASH with the
// pod-template-hash label HASH); a CronJob's Jobs (owner CronJob) and their
// Pods (owner Job NAME-TIME, the name the CronJob controller gives);
// another controller's Pods (owner KIND NAME).
func selects(r Allowance, clusterScope bool, d dialect) string {
	is := func(kind string) string {
		k, _ := workload.Lookup(kind)
		return fmt.Sprintf("variables.resource == '%s'", k.Plural())
	}
	owner := func(kind, nameCEL string) string {
		return fmt.Sprintf("variables.owners.exists(o, o.kind == '%s' && %s)", kind, nameCEL)
	}
	terms := []string{fmt.Sprintf("%s && object.metadata.name == '%s'", is(r.Kind), r.Name)}
	switch r.Kind {
	case "Pod":
	case "Deployment":
		terms = append(terms,
			is("ReplicaSet")+" && "+owner("Deployment", fmt.Sprintf("o.name == '%s'", r.Name)),
			is("Pod")+" && "+owner("ReplicaSet", fmt.Sprintf("o.name == '%s-' + object.metadata.?labels[?'pod-template-hash'].orValue('')", r.Name)))
	case "CronJob":
		terms = append(terms,
			is("Job")+" && "+owner("CronJob", fmt.Sprintf("o.name == '%s'", r.Name)),
			is("Pod")+" && "+owner("Job", fmt.Sprintf("o.name.matches('^%s-[0-9]+$')", strings.ReplaceAll(r.Name, ".", "\\\\."))))
	default:
		terms = append(terms, is("Pod")+" && "+owner(r.Kind, fmt.Sprintf("o.name == '%s'", r.Name)))
	}
	expr := "(" + strings.Join(terms, ") || (") + ")"
	if clusterScope && r.Namespace != "" {
		expr = fmt.Sprintf("%s == '%s' && (%s)", d.namespace, r.Namespace, expr)
	}
	return expr
}

// celList is a CEL list of strings. The names come from the capability
// table and DNS names, which hold no quote.
func celList(items []string) string {
	if len(items) == 0 {
		return "[]"
	}
	return "['" + strings.Join(items, "', '") + "']"
}

// celString escapes text for a single-quoted CEL string.
func celString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}
