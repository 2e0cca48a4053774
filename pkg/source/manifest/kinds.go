package manifest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// workloadKind is a kind whose objects carry a pod template.
type workloadKind struct {
	// versions are the apiVersions that served the kind with the pod
	// template in the same place, current one first. Old ones are kept
	// because old manifests still exist; their objects are read into the
	// current type, whose template has the same shape.
	versions []string
	prefix   string // path of the PodSpec, see Workload.FieldPrefix
	// read converts the object and returns its pod template.
	read func(u map[string]any) (*metav1.ObjectMeta, *corev1.PodSpec, []string, error)
}

const (
	prefixPod         = "spec"
	prefixController  = "spec.template.spec"
	prefixCronJob     = "spec.jobTemplate.spec.template.spec"
	prefixPodTemplate = "template.spec"
)

// Served versions: extensions/v1beta1, apps/v1beta1 and apps/v1beta2
// workloads stopped being served in 1.16
// (https://kubernetes.io/blog/2019/07/18/api-deprecations-in-1-16/),
// batch/v1beta1 CronJob in 1.25; batch/v2alpha1 was CronJob's alpha.
var workloadKinds = map[string]workloadKind{
	"Pod": {[]string{"v1"}, prefixPod, convert(func(o *corev1.Pod) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.ObjectMeta, &o.Spec
	})},
	"ReplicationController": {[]string{"v1"}, prefixController, convert(func(o *corev1.ReplicationController) (*metav1.ObjectMeta, *corev1.PodSpec) {
		if o.Spec.Template == nil {
			return &metav1.ObjectMeta{}, &corev1.PodSpec{}
		}
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	})},
	"PodTemplate": {[]string{"v1"}, prefixPodTemplate, convert(func(o *corev1.PodTemplate) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Template.ObjectMeta, &o.Template.Spec
	})},
	"Deployment": {[]string{"apps/v1", "apps/v1beta2", "apps/v1beta1", "extensions/v1beta1"}, prefixController, convert(func(o *appsv1.Deployment) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	})},
	"StatefulSet": {[]string{"apps/v1", "apps/v1beta2", "apps/v1beta1"}, prefixController, convert(func(o *appsv1.StatefulSet) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	})},
	"DaemonSet": {[]string{"apps/v1", "apps/v1beta2", "extensions/v1beta1"}, prefixController, convert(func(o *appsv1.DaemonSet) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	})},
	"ReplicaSet": {[]string{"apps/v1", "apps/v1beta2", "extensions/v1beta1"}, prefixController, convert(func(o *appsv1.ReplicaSet) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	})},
	"Job": {[]string{"batch/v1"}, prefixController, convert(func(o *batchv1.Job) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	})},
	"CronJob": {[]string{"batch/v1", "batch/v1beta1", "batch/v2alpha1"}, prefixCronJob, convert(func(o *batchv1.CronJob) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.JobTemplate.Spec.Template.ObjectMeta, &o.Spec.JobTemplate.Spec.Template.Spec
	})},
}

// convert builds a workloadKind.read for the typed object T.
func convert[T any](template func(*T) (*metav1.ObjectMeta, *corev1.PodSpec)) func(map[string]any) (*metav1.ObjectMeta, *corev1.PodSpec, []string, error) {
	return func(u map[string]any) (*metav1.ObjectMeta, *corev1.PodSpec, []string, error) {
		obj := new(T)
		var unknown []string
		err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u, obj, true)
		if strict, ok := runtime.AsStrictDecodingError(err); ok {
			for _, e := range strict.Errors() {
				if m := unknownFieldRE.FindStringSubmatch(e.Error()); m != nil {
					unknown = append(unknown, m[1])
				}
			}
			err = nil
		}
		if err != nil {
			return nil, nil, nil, explainConversion(u, new(T), err)
		}
		meta, spec := template(obj)
		return meta, spec, unknown, nil
	}
}

var unknownFieldRE = regexp.MustCompile(`^unknown field "(.*)"$`)

// podTemplatePath is where a workload's pod template sits: unknown fields
// are reported only below it, because only the template's shape is the same
// in every served version (extensions/v1beta1 Deployment had spec.rollbackTo,
// which the apps/v1 type does not know).
func podTemplatePath(prefix string) string { return strings.TrimSuffix(prefix, "spec") }

// builtinKinds maps each API group compiled into client-go to the kinds it
// knows in any version. A kind that is not there, in a group that is,
// cannot be applied to any cluster, so it may be a typo.
var builtinKinds = sync.OnceValue(func() map[string]map[string]bool {
	groups := map[string]map[string]bool{}
	for gvk := range scheme.Scheme.AllKnownTypes() {
		if groups[gvk.Group] == nil {
			groups[gvk.Group] = map[string]bool{}
		}
		groups[gvk.Group][gvk.Kind] = true
	}
	return groups
})

// suggestKind returns the kind the user most likely meant by kind in the
// built-in group, or "" if nothing is close enough to call it a typo.
// Workload kinds are matched more generously (two edits for longer names,
// one for "Jobs", or a prefix such as "Deploy") because missing one means
// auditing too little; other kinds need a name of five letters or more and
// one edit, so that kinds removed from Kubernetes, e.g. resource.k8s.io
// ResourceClass (two edits from ResourceClaim), are skipped as unknown
// rather than rejected. Any kind may differ from the real one in case
// alone. Ties go to workload kinds, then to the alphabet, so the answer
// does not depend on map order.
func suggestKind(group, kind string) string {
	best, bestDist := "", 1<<30
	try := func(cand string, budget int, prefixOK bool) {
		d := kindDistance(kind, cand)
		if prefixOK && len(kind) >= 4 && strings.HasPrefix(strings.ToLower(cand), strings.ToLower(kind)) {
			d = min(d, budget)
		}
		if d <= budget && d < bestDist {
			best, bestDist = cand, d
		}
	}
	workloadBudget, otherBudget := 0, 0
	switch n := len(kind); {
	case n >= 6:
		workloadBudget, otherBudget = 2, 1
	case n >= 5:
		workloadBudget, otherBudget = 1, 1
	case n >= 4:
		workloadBudget = 1
	}
	for _, cand := range slices.Sorted(maps.Keys(workloadKinds)) {
		try(cand, workloadBudget, true)
	}
	for _, cand := range slices.Sorted(maps.Keys(builtinKinds()[group])) {
		try(cand, otherBudget, false)
	}
	return best
}

// kindDistance is the optimal string alignment distance (insertions,
// deletions, substitutions and swaps of neighbours) between a and b,
// ignoring case, since "deployment" is as wrong as "Deploymnet".
func kindDistance(a, b string) int {
	x, y := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	prev2 := make([]int, len(y)+1)
	prev := make([]int, len(y)+1)
	cur := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(y)]
}

// classification is what an object is to the audit.
type classification struct {
	workload  *workloadKind // set for a workload
	groupKind string        // set for an object to skip, as in Stats.SkippedKinds
	problem   string        // set when the object cannot be right
}

// classify decides whether u is a workload, an object to skip, or a
// mistake. Objects of groups client-go does not know (CRDs, custom
// resources) are skipped whatever their kind; in the built-in groups a
// workload kind under the wrong apiVersion, or a kind one typo away from a
// real one, is a problem, because skipping it would audit too little.
func classify(u *unstructured.Unstructured) classification {
	apiVersion, kind := u.GetAPIVersion(), u.GetKind()
	what := describe(u)
	if apiVersion == "" {
		if v := suggestAPIVersion(kind); v != "" {
			return classification{problem: fmt.Sprintf("%s has no apiVersion; add apiVersion: %s", what, v)}
		}
		return classification{problem: fmt.Sprintf("%s has no apiVersion; every object needs apiVersion and kind", what)}
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return classification{problem: fmt.Sprintf(`%s: apiVersion %q is not valid; write it as "group/version", or "v1" for the core group`, what, apiVersion)}
	}
	w, isWorkload := workloadKinds[kind]
	if isWorkload && slices.Contains(w.versions, apiVersion) {
		return classification{workload: &w}
	}
	if known, builtin := builtinKinds()[gv.Group]; builtin {
		if isWorkload {
			return classification{problem: fmt.Sprintf("%s: apiVersion %s does not serve %s; use apiVersion: %s", what, apiVersion, kind, w.versions[0])}
		}
		if !known[kind] {
			if s := suggestKind(gv.Group, kind); s != "" {
				did := "kind: " + s
				if sw, ok := workloadKinds[s]; ok && !slices.Contains(sw.versions, apiVersion) {
					did += " with apiVersion: " + sw.versions[0]
				}
				return classification{problem: fmt.Sprintf("unknown kind %q in apiVersion %s; did you mean %s?", kind, apiVersion, did)}
			}
		}
	}
	return classification{groupKind: schema.GroupKind{Group: gv.Group, Kind: kind}.String()}
}

// suggestAPIVersion returns the apiVersion to add to an object of kind
// that has none, if kind belongs to exactly one built-in group.
func suggestAPIVersion(kind string) string {
	if w, ok := workloadKinds[kind]; ok {
		return w.versions[0]
	}
	var found []string
	for group, kinds := range builtinKinds() {
		if kinds[kind] {
			found = append(found, group)
		}
	}
	if len(found) != 1 {
		return ""
	}
	if versions := scheme.Scheme.PrioritizedVersionsForGroup(found[0]); len(versions) > 0 {
		return versions[0].String()
	}
	return ""
}

// describe names an object in messages: Deployment "web".
func describe(u *unstructured.Unstructured) string {
	if name := u.GetName(); name != "" {
		return fmt.Sprintf("%s %q", u.GetKind(), name)
	}
	return u.GetKind() + " (no name)"
}
