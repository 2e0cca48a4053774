package finding

import (
	"strconv"

	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
)

// Rule is one kind of finding. Its id never changes meaning; a rule that
// goes away leaves its id unused.
type Rule struct {
	ID string
	// Name is the rule in kebab case (SARIF's rule name); for a rule that
	// restates an engine warning, the warning's code.
	Name string
	// Short is one sentence; Full says what it means and Help what to do.
	Short, Full, Help string
	Level             Level
	// Severity is GitHub code scanning's security-severity (0.0 to 10.0:
	// 9.0 and above critical, 7.0 high, 4.0 medium, else low).
	Severity string
	// Risk is the capability risk the rule reports, for the four risk
	// rules.
	Risk catalog.Risk
	// Warning: the rule restates the engine's warning of that code
	// (report.Warning.Code, pkg/engine/warnings.go).
	Warning bool
}

// Score is Severity as a number, for ordering.
func (r Rule) Score() float64 {
	s, _ := strconv.ParseFloat(r.Severity, 64)
	return s
}

// Band is Severity's band as GitHub code scanning names it: critical
// (9.0 and above), high (7.0), medium (4.0), else low.
func (r Rule) Band() string {
	switch s := r.Score(); {
	case s >= 9:
		return "critical"
	case s >= 7:
		return "high"
	case s >= 4:
		return "medium"
	}
	return "low"
}

// Tags are SARIF's rule tags, the same for every rule: GitHub shows
// "security" rules' severities.
var Tags = []string{"security", "kubernetes", "linux-capabilities"}

// DocsURL is where every rule is explained, one anchor per rule id in
// lower case (docs/findings.md#caps001).
const DocsURL = "https://github.com/kubectl-caps/kubectl-caps/blob/main/docs/findings.md"

// rules is the one table of rule ids: docs/findings.md lists the same
// (TestRulesDocumented), and every code the engine warns with has its rule
// (TestEveryWarningHasARule).
var rules = []Rule{
	{ID: "CAPS001", Name: "critical-capability", Level: LevelError, Severity: "9.5", Risk: catalog.RiskCritical,
		Short: "The container holds a capability of critical risk.",
		Full:  "The container holds, or can regain without an exploit, a capability whose risk here is critical: root on the node or equivalent (the catalog's tier, raised by hostPID, hostNetwork, hostIPC, hostPath or another capability it is held with).",
		Help:  "Drop it (capabilities.drop: [ALL] and add back only what the process needs; kubectl caps suggest-drop writes the patch), or record why this workload needs it."},
	{ID: "CAPS002", Name: "high-capability", Level: LevelError, Severity: "8.0", Risk: catalog.RiskHigh,
		Short: "The container holds a capability of high risk.",
		Full:  "The container holds, or can regain without an exploit, a capability whose risk here is high: it breaks an isolation boundary of the node or of other containers.",
		Help:  "Drop it unless the process needs it (kubectl caps suggest-drop); if it does, run as non-root with allowPrivilegeEscalation: false so that only the binary that needs it gains it."},
	{ID: "CAPS003", Name: "medium-capability", Level: LevelWarning, Severity: "5.5", Risk: catalog.RiskMedium,
		Short: "The container holds a capability of medium risk.",
		Full:  "The container holds, or can regain without an exploit, a capability whose risk here is medium: useful to an attacker inside the container, not a way out on its own. Reported only with --fail-on=medium or low.",
		Help:  "Drop it unless the process needs it (kubectl caps suggest-drop)."},
	{ID: "CAPS004", Name: "low-capability", Level: LevelNote, Severity: "3.0", Risk: catalog.RiskLow,
		Short: "The container holds a capability of low risk.",
		Full:  "The container holds a capability of low risk. Reported only with --fail-on=low.",
		Help:  "Drop it unless the process needs it (kubectl caps suggest-drop)."},
	{ID: "CAPS005", Name: "privileged", Level: LevelError, Severity: "9.8",
		Short: "The container is privileged: it holds every capability.",
		Full:  "privileged: true gives the container every capability, whatever capabilities.add and drop say, and every device of the node. Its capabilities are reported by this one finding rather than one each.",
		Help:  "Remove privileged: true and add only the capabilities the process needs (kubectl caps suggest-drop)."},
	{ID: "CAPS006", Name: "privilege-escalation", Level: LevelWarning, Severity: "5.0",
		Short: "A non-root container can regain its capabilities through a setuid-root binary.",
		Full:  "The container runs as non-root, so its process holds no capability after exec, but allowPrivilegeEscalation is not false: any setuid-root binary in the image gives the whole bounding set back.",
		Help:  "Set allowPrivilegeEscalation: false in the container's securityContext."},
	{ID: "CAPS007", Name: "default-capabilities-kept", Level: LevelNote, Severity: "2.0",
		Short: "The container keeps runtime default capabilities the catalog advises dropping.",
		Full:  "The container does not drop the container runtime's default capabilities, and the catalog advises dropping some of those it keeps (the message names them).",
		Help:  "Add capabilities.drop: [ALL] and add back only what the process needs (kubectl caps suggest-drop)."},
	{ID: "CAPS101", Name: "cap-prefix", Level: LevelWarning, Severity: "5.0", Warning: true,
		Short: "A CAP_-prefixed capability name that a runtime ignores or reads differently.",
		Full:  "containerd puts CAP_ in front of every name, so CAP_NET_RAW becomes CAP_CAP_NET_RAW and matches nothing: an add grants nothing, a drop drops nothing; CRI-O and Docker accept the prefix; Pod Security Admission compares exact strings.",
		Help:  "Write the name without CAP_ (NET_RAW)."},
	{ID: "CAPS102", Name: "lowercase-all", Level: LevelWarning, Severity: "3.0", Warning: true,
		Short: "ALL spelt in another case.",
		Full:  "Every runtime reads all or All as ALL, but Pod Security Admission compares exact strings, so the restricted level fails on drop: [all].",
		Help:  "Write ALL in capitals."},
	{ID: "CAPS103", Name: "unknown-capability", Level: LevelError, Severity: "5.0", Warning: true,
		Short: "A name in capabilities.add or drop that names no capability.",
		Full:  "A typo or a capability the runtime does not know: CRI-O and Docker refuse to create the container; containerd ignores it, so a drop leaves the capability in place.",
		Help:  "Fix the name (the message suggests the closest; kubectl caps explain lists them all)."},
	{ID: "CAPS104", Name: "add-and-drop", Level: LevelWarning, Severity: "4.0", Warning: true,
		Short: "A capability both added and dropped.",
		Full:  "The runtimes disagree on which wins: containerd and CRI-O let the drop win, Docker the add (unless ALL is added).",
		Help:  "Remove one of the entries."},
	{ID: "CAPS105", Name: "unknown-user", Level: LevelWarning, Severity: "4.0", Warning: true,
		Short: "No runAsUser or runAsNonRoot: the image's USER decides, audited as root.",
		Full:  "Without runAsUser or runAsNonRoot, the user comes from the image, which the spec does not show; audit assumes root, whose effective set is the whole bounding set.",
		Help:  "Set runAsUser (or runAsNonRoot: true) in the securityContext."},
	{ID: "CAPS106", Name: "non-canonical-name", Level: LevelNote, Severity: "2.0", Warning: true,
		Short: "An add entry not written as Pod Security Admission expects.",
		Full:  "Every runtime reads the name, but Pod Security Admission compares exact strings, so baseline and restricted fail on it.",
		Help:  "Write the capability's name in capitals without CAP_ (NET_BIND_SERVICE)."},
	{ID: "CAPS107", Name: "privileged-add-drop", Level: LevelWarning, Severity: "4.0", Warning: true,
		Short: "capabilities.add and drop on a privileged container, which ignores them.",
		Full:  "A privileged container gets every capability; its add and drop lists are not applied.",
		Help:  "Remove privileged: true and keep the lists, or remove the lists."},
	{ID: "CAPS108", Name: "kubelet-refuses-root", Level: LevelError, Severity: "3.0", Warning: true,
		Short: "runAsNonRoot with runAsUser 0: the kubelet never starts the container.",
		Full:  "The kubelet refuses a container whose effective runAsUser is 0 when runAsNonRoot is true (pkg/kubelet/kuberuntime/security_context_others.go verifyRunAsNonRoot).",
		Help:  "Set runAsUser to a non-zero UID, or drop runAsNonRoot."},
	{ID: "CAPS109", Name: "create-fails", Level: LevelError, Severity: "3.0", Warning: true,
		Short: "The runtime refuses to create the container.",
		Full:  "A name in the capability lists is no capability the runtime knows, so it refuses the container (see CAPS103).",
		Help:  "Fix the name."},
	{ID: "CAPS110", Name: "privileged-nonroot-ambient", Level: LevelWarning, Severity: "7.0", Warning: true,
		Short: "A privileged non-root container on CRI-O keeps every capability after exec.",
		Full:  "CRI-O fills the ambient set of a privileged container, so even a non-root process keeps every capability.",
		Help:  "Remove privileged: true."},
	{ID: "CAPS111", Name: "api-rejects", Level: LevelError, Severity: "3.0", Warning: true,
		Short: "The API server rejects this securityContext.",
		Full:  "allowPrivilegeEscalation: false together with privileged: true, or with an add entry spelt CAP_SYS_ADMIN, fails the API server's validation.",
		Help:  "Remove one of the two."},
	{ID: "CAPS112", Name: "crio-drop-all-readds-defaults", Level: LevelWarning, Severity: "5.0", Warning: true,
		Short: "drop: [ALL] keeps CRI-O's default capabilities on this release.",
		Full:  "CRI-O before cri-o#4923 (v1.19.5, v1.21.1, v1.22.0) appended its defaults after drop ALL.",
		Help:  "Drop the default capabilities by name as well, or upgrade CRI-O."},
	{ID: "CAPS113", Name: "crio-drop-all-may-readd-defaults", Level: LevelNote, Severity: "3.0", Warning: true,
		Short: "drop: [ALL] may keep CRI-O's default capabilities on this release.",
		Full:  "The CRI-O release reported has no patch number, and the fix (cri-o#4923) came in patch releases.",
		Help:  "Drop the default capabilities by name as well."},
	{ID: "CAPS114", Name: "unknown-field", Level: LevelWarning, Severity: "4.0", Warning: true,
		Short: "A misspelt field in the pod template, which Kubernetes ignores.",
		Full:  "The field is not part of the Kubernetes schema, so it changes nothing: a misspelt securityContext or capabilities leaves the container with the runtime's defaults.",
		Help:  "Check its spelling."},
}

// Rules returns every rule, in id order.
func Rules() []Rule { return append([]Rule(nil), rules...) }

// Lookup returns the rule with that id.
func Lookup(id string) (Rule, bool) {
	for _, r := range rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// ForWarning returns the rule that restates the engine's warning code.
func ForWarning(code string) (Rule, bool) {
	for _, r := range rules {
		if r.Warning && r.Name == code {
			return r, true
		}
	}
	return Rule{}, false
}

// ForRisk returns the rule of a capability held at risk r (none for none).
func ForRisk(r catalog.Risk) (Rule, bool) {
	for _, x := range rules {
		if x.Risk != "" && x.Risk == r {
			return x, true
		}
	}
	return Rule{}, false
}
