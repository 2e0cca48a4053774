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

	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
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
	// custom: a custom resource with a pod template at spec.template.
	custom bool
}

// The pod spec paths are workload's; TestKindsAreWorkloadKinds holds this
// table to workload.Kinds.
const (
	prefixPod         = workload.PrefixPod
	prefixController  = workload.PrefixController
	prefixCronJob     = workload.PrefixCronJob
	prefixPodTemplate = workload.PrefixPodTemplate
)

// Served versions: extensions/v1beta1, apps/v1beta1 and apps/v1beta2
// workloads stopped being served in 1.16
// (https://kubernetes.io/blog/2019/07/18/api-deprecations-in-1-16/),
// batch/v1beta1 CronJob in 1.25; batch/v2alpha1 was CronJob's alpha.
var workloadKinds = map[string]workloadKind{
	"Pod": {[]string{"v1"}, prefixPod, convert(func(o *corev1.Pod) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.ObjectMeta, &o.Spec
	}), false},
	"ReplicationController": {[]string{"v1"}, prefixController, convert(func(o *corev1.ReplicationController) (*metav1.ObjectMeta, *corev1.PodSpec) {
		if o.Spec.Template == nil {
			return &metav1.ObjectMeta{}, &corev1.PodSpec{}
		}
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	}), false},
	"PodTemplate": {[]string{"v1"}, prefixPodTemplate, convert(func(o *corev1.PodTemplate) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Template.ObjectMeta, &o.Template.Spec
	}), false},
	"Deployment": {[]string{"apps/v1", "apps/v1beta2", "apps/v1beta1", "extensions/v1beta1"}, prefixController, convert(func(o *appsv1.Deployment) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	}), false},
	"StatefulSet": {[]string{"apps/v1", "apps/v1beta2", "apps/v1beta1"}, prefixController, convert(func(o *appsv1.StatefulSet) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	}), false},
	"DaemonSet": {[]string{"apps/v1", "apps/v1beta2", "extensions/v1beta1"}, prefixController, convert(func(o *appsv1.DaemonSet) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	}), false},
	"ReplicaSet": {[]string{"apps/v1", "apps/v1beta2", "extensions/v1beta1"}, prefixController, convert(func(o *appsv1.ReplicaSet) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	}), false},
	"Job": {[]string{"batch/v1"}, prefixController, convert(func(o *batchv1.Job) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	}), false},
	"CronJob": {[]string{"batch/v1", "batch/v1beta1", "batch/v2alpha1"}, prefixCronJob, convert(func(o *batchv1.CronJob) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.Spec.JobTemplate.Spec.Template.ObjectMeta, &o.Spec.JobTemplate.Spec.Template.Spec
	}), false},
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
	note      string        // for an object skipped although it has containers
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
		if kind == "Kustomization" || kind == "Component" {
			// kustomize reads these without apiVersion too.
			return classification{groupKind: kind + "." + kustomizeGroup, note: kustomizationNote(kind)}
		}
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
	c := classification{groupKind: schema.GroupKind{Group: gv.Group, Kind: kind}.String()}
	if gv.Group == kustomizeGroup {
		c.note = kustomizationNote(kind)
		return c
	}
	if _, builtin := builtinKinds()[gv.Group]; !builtin {
		if hasCustomTemplate(u.Object) {
			return classification{workload: &customWorkload}
		}
		if paths := containerPaths(u.Object); len(paths) > 0 {
			c.note = fmt.Sprintf("%s (%s) has containers at %s that were not audited: kubectl caps reads a custom resource's "+
				"containers only from a pod template at spec.template.spec; audit the pods its controller creates, on the cluster",
				what, apiVersion, strings.Join(paths, ", "))
		}
	}
	return c
}

// kustomizeGroup is the group of kustomization files (Kustomization,
// Component) that say so.
const kustomizeGroup = "kustomize.config.k8s.io"

func kustomizationNote(kind string) string {
	return fmt.Sprintf("a %s is kustomize's input, not an object to apply; to audit what it renders, pass its directory with -k", kind)
}

// groupKind names an object's kind as Stats.SkippedKinds does.
func groupKind(u *unstructured.Unstructured) string {
	return u.GroupVersionKind().GroupKind().String()
}

// customWorkload reads the pod template of a custom resource at
// spec.template, where Argo Rollouts, OpenKruise CloneSets and Knative
// Services keep it. The resource's own schema is unknown here, so fields
// the Kubernetes PodTemplateSpec lacks (Knative's containerConcurrency)
// are ignored, not reported as misspellings.
var customWorkload = workloadKind{prefix: prefixController, custom: true,
	read: func(u map[string]any) (*metav1.ObjectMeta, *corev1.PodSpec, []string, error) {
		tmpl, _, _ := unstructured.NestedMap(u, "spec", "template")
		var pt corev1.PodTemplateSpec
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &pt); err != nil {
			return nil, nil, nil, explainConversion(tmpl, &corev1.PodTemplateSpec{}, err)
		}
		// Knative lets the one container go unnamed; name it by its field
		// path so that every row says which container it is.
		for i := range pt.Spec.Containers {
			if pt.Spec.Containers[i].Name == "" {
				pt.Spec.Containers[i].Name = fmt.Sprintf("containers[%d]", i)
			}
		}
		return &pt.ObjectMeta, &pt.Spec, nil, nil
	}}

// hasCustomTemplate reports whether spec.template.spec.containers is a
// non-empty list of mappings.
func hasCustomTemplate(u map[string]any) bool {
	list, ok, _ := unstructured.NestedSlice(u, "spec", "template", "spec", "containers")
	if !ok || len(list) == 0 {
		return false
	}
	for _, c := range list {
		if _, ok := c.(map[string]any); !ok {
			return false
		}
	}
	return true
}

// containerFields are the keys under which custom resources keep
// containers, in lists (containers, Argo Workflow's and Tekton's steps,
// sidecars) or alone (Argo Workflow's templates[].container).
var containerFields = map[string]bool{
	"containers": true, "initContainers": true, "ephemeralContainers": true, "sidecars": true, "steps": true,
	"container": true, "sidecar": true,
}

// maxContainerPaths bounds the paths a note lists.
const maxContainerPaths = 3

// containerPaths finds containers, that is mappings with an image, under
// the containerFields of an object (metadata and status aside), as field
// paths such as "spec.templates[0].container".
func containerPaths(u map[string]any) []string {
	var out []string
	var walk func(v any, path string, depth int)
	walk = func(v any, path string, depth int) {
		if len(out) >= maxContainerPaths || depth > 12 {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				if depth == 0 && (k == "metadata" || k == "status") {
					continue
				}
				p := k
				if path != "" {
					p = path + "." + k
				}
				if containerFields[k] && holdsContainer(v[k]) {
					out = append(out, p)
					continue
				}
				walk(v[k], p, depth+1)
			}
		case []any:
			for i, e := range v {
				walk(e, fmt.Sprintf("%s[%d]", path, i), depth+1)
			}
		}
	}
	walk(u, "", 0)
	return out
}

// holdsContainer: v is a mapping with an image, or a list with one.
func holdsContainer(v any) bool {
	hasImage := func(e any) bool {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		img, ok := m["image"].(string)
		return ok && img != ""
	}
	if l, ok := v.([]any); ok {
		return slices.ContainsFunc(l, hasImage)
	}
	return hasImage(v)
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
