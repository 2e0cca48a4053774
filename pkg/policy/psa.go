package policy

import (
	"maps"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"

	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// The levels of the Pod Security Standards, lowest first.
var levels = []psaapi.Level{psaapi.LevelPrivileged, psaapi.LevelBaseline, psaapi.LevelRestricted}

// evaluator is Pod Security Admission's own: every check of every level,
// as the apiserver built with this library runs them. Read-only after init.
var evaluator = func() psapolicy.Evaluator {
	e, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
	if err != nil {
		panic("pod-security-admission: " + err.Error()) // the library's own checks; a bug if it fails
	}
	return e
}()

// PSALevel is the answer for one namespace: the highest level every pod
// meets, and what keeps it from the next one.
type PSALevel struct {
	Namespace string
	// Level is the highest level every pod of the namespace meets.
	Level string
	// Next is the level above, "" when Level is restricted.
	Next string
	// Workloads counts what was judged.
	Workloads int
	// Blocking are the workloads that fail Next, with PSA's reasons.
	Blocking []PSABlocker
}

// PSABlocker is one workload that fails a level, and why, in PSA's words
// ("host namespaces (hostNetwork=true)").
type PSABlocker struct {
	Workload string
	Source   string
	Reasons  []string
}

// PSA judges every target with Pod Security Admission's evaluator at the
// latest version of the standards, on the whole pod spec, and gives each
// namespace's highest common level. Targets of one namespace are judged
// together: one pod that only meets privileged keeps the namespace there.
func PSA(targets []*workload.Target) []PSALevel {
	byNS := map[string][]*workload.Target{}
	for _, t := range targets {
		byNS[t.Namespace] = append(byNS[t.Namespace], t)
	}
	namespaces := slices.Sorted(maps.Keys(byNS))
	out := make([]PSALevel, 0, len(namespaces))
	for _, ns := range namespaces {
		out = append(out, psaLevel(ns, byNS[ns]))
	}
	return out
}

func psaLevel(ns string, ts []*workload.Target) PSALevel {
	workloads := map[string]bool{}
	for _, t := range ts {
		workloads[t.Workload.Kind+"/"+t.Workload.Name] = true
	}
	res := PSALevel{Namespace: ns, Level: string(psaapi.LevelPrivileged), Workloads: len(workloads)}
	for i := 1; i < len(levels); i++ {
		blocking := failing(ts, levels[i])
		if len(blocking) > 0 {
			res.Next, res.Blocking = string(levels[i]), blocking
			return res
		}
		res.Level = string(levels[i])
	}
	return res
}

// failing are the targets that level rejects, one entry per workload.
func failing(ts []*workload.Target, level psaapi.Level) []PSABlocker {
	var out []PSABlocker
	seen := map[string]int{}
	for _, t := range ts {
		meta := t.Meta
		if meta == nil {
			meta = &metav1.ObjectMeta{}
		}
		agg := psapolicy.AggregateCheckResults(evaluator.EvaluatePod(
			psaapi.LevelVersion{Level: level, Version: psaapi.LatestVersion()}, meta, t.Spec))
		if agg.Allowed {
			continue
		}
		var reasons []string
		for i, r := range agg.ForbiddenReasons {
			if d := agg.ForbiddenDetails[i]; d != "" {
				r += " (" + d + ")"
			}
			reasons = append(reasons, r)
		}
		name := t.Workload.Label()
		if i, ok := seen[name]; ok {
			out[i].Reasons = union(out[i].Reasons, reasons)
			continue
		}
		seen[name] = len(out)
		out = append(out, PSABlocker{Workload: name, Source: t.Source, Reasons: reasons})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Workload < out[j].Workload })
	return out
}

func union(a, b []string) []string {
	for _, s := range b {
		if !has(a, s) {
			a = append(a, s)
		}
	}
	return a
}

// PSAVersion is the version of the standards the levels were judged at,
// which the labels pin, since a newer apiserver may add checks to
// "latest": the newest version at which a check of this library changed
// (v1.37 for k8s.io/pod-security-admission v0.37), so that pinned and
// latest judge alike here.
func PSAVersion() string { return psaVersion }

var psaVersion = func() string {
	newest := psaapi.MajorMinorVersion(1, 0)
	for _, c := range psapolicy.DefaultChecks() {
		for _, v := range c.Versions {
			if newest.Older(v.MinimumVersion) {
				newest = v.MinimumVersion
			}
		}
	}
	return newest.String()
}()

// LabelCommand is the kubectl command that sets a namespace's levels: the
// level every pod meets to enforce, and the next level to warn and audit,
// so that what would break it shows before it is enforced.
func LabelCommand(l *PSALevel, kubectlFlags []string) string {
	warn := l.Level
	if l.Next != "" {
		warn = l.Next
	}
	parts := append([]string{"kubectl"}, kubectlFlags...)
	v := PSAVersion()
	parts = append(parts, "label", "--overwrite", "ns", l.Namespace,
		"pod-security.kubernetes.io/enforce="+l.Level, "pod-security.kubernetes.io/enforce-version="+v,
		"pod-security.kubernetes.io/warn="+warn, "pod-security.kubernetes.io/warn-version="+v,
		"pod-security.kubernetes.io/audit="+warn, "pod-security.kubernetes.io/audit-version="+v)
	for i, p := range parts {
		parts[i] = suggest.ShellQuote(p) // the kubeconfig flags may hold anything
	}
	return strings.Join(parts, " ")
}
