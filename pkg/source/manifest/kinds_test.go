package manifest

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		apiVersion, kind string
		// exactly one of these
		prefix  string // a workload with this FieldPrefix
		skip    string // skipped, counted under this key
		problem string // a problem containing this
	}{
		// Workloads, current and old apiVersions.
		{apiVersion: "v1", kind: "Pod", prefix: "spec"},
		{apiVersion: "apps/v1", kind: "Deployment", prefix: "spec.template.spec"},
		{apiVersion: "extensions/v1beta1", kind: "DaemonSet", prefix: "spec.template.spec"},
		{apiVersion: "apps/v1beta2", kind: "ReplicaSet", prefix: "spec.template.spec"},
		{apiVersion: "batch/v2alpha1", kind: "CronJob", prefix: "spec.jobTemplate.spec.template.spec"},
		{apiVersion: "v1", kind: "PodTemplate", prefix: "template.spec"},

		// A workload kind under an apiVersion that never served it.
		{apiVersion: "apps/v1beta1", kind: "DaemonSet", problem: "apiVersion apps/v1beta1 does not serve DaemonSet; use apiVersion: apps/v1"},
		{apiVersion: "v1", kind: "Deployment", problem: "apiVersion v1 does not serve Deployment; use apiVersion: apps/v1"},
		{apiVersion: "apps/v1", kind: "Pod", problem: "apiVersion apps/v1 does not serve Pod; use apiVersion: v1"},
		{apiVersion: "apps/v2", kind: "StatefulSet", problem: "use apiVersion: apps/v1"},

		// Typos of built-in kinds, in built-in groups.
		{apiVersion: "apps/v1", kind: "Deploymnet", problem: `unknown kind "Deploymnet" in apiVersion apps/v1; did you mean kind: Deployment?`},
		{apiVersion: "apps/v1", kind: "deployment", problem: "did you mean kind: Deployment?"},
		{apiVersion: "apps/v1", kind: "Deploy", problem: "did you mean kind: Deployment?"},
		{apiVersion: "apps/v1", kind: "StatefullSet", problem: "did you mean kind: StatefulSet?"},
		{apiVersion: "batch/v1", kind: "Jobs", problem: "did you mean kind: Job?"},
		{apiVersion: "v1", kind: "pod", problem: "did you mean kind: Pod?"},
		{apiVersion: "v1", kind: "Deploymnet", problem: "did you mean kind: Deployment with apiVersion: apps/v1?"},
		{apiVersion: "v1", kind: "Servcie", problem: "did you mean kind: Service?"},
		{apiVersion: "v1", kind: "configmap", problem: "did you mean kind: ConfigMap?"},

		// Unknown kinds that are not typos: custom resources, kinds Kubernetes
		// removed, names nothing like a built-in kind.
		{apiVersion: "example.com/v1", kind: "Deployment", skip: "Deployment.example.com"},
		{apiVersion: "example.com/v1", kind: "Deploymnet", skip: "Deploymnet.example.com"},
		{apiVersion: "policy/v1beta1", kind: "PodSecurityPolicy", skip: "PodSecurityPolicy.policy"},
		{apiVersion: "extensions/v1beta1", kind: "PodSecurityPolicy", skip: "PodSecurityPolicy.extensions"},
		{apiVersion: "resource.k8s.io/v1alpha2", kind: "ResourceClass", skip: "ResourceClass.resource.k8s.io"},
		{apiVersion: "networking.k8s.io/v1alpha1", kind: "ClusterCIDR", skip: "ClusterCIDR.networking.k8s.io"},
		{apiVersion: "v1", kind: "Foo", skip: "Foo"},
		{apiVersion: "v1", kind: "Service", skip: "Service"},
		{apiVersion: "networking.k8s.io/v1", kind: "Ingress", skip: "Ingress.networking.k8s.io"},

		// Broken apiVersions.
		{apiVersion: "", kind: "Service", problem: `Service "x" has no apiVersion; add apiVersion: v1`},
		{apiVersion: "", kind: "StatefulSet", problem: "add apiVersion: apps/v1"},
		{apiVersion: "", kind: "Ingress", problem: `Ingress "x" has no apiVersion; every object needs apiVersion and kind`}, // in two groups
		{apiVersion: "a/b/c", kind: "Pod", problem: `apiVersion "a/b/c" is not valid`},
	}
	for _, tt := range tests {
		t.Run(tt.apiVersion+" "+tt.kind, func(t *testing.T) {
			u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": tt.apiVersion, "kind": tt.kind, "metadata": map[string]any{"name": "x"}}}
			c := classify(u)
			var prefix string
			if c.workload != nil {
				prefix = c.workload.prefix
			}
			if prefix != tt.prefix || c.groupKind != tt.skip || (tt.problem == "") != (c.problem == "") || !strings.Contains(c.problem, tt.problem) {
				t.Errorf("classify = workload %q, skip %q, problem %q; want workload %q, skip %q, problem containing %q",
					prefix, c.groupKind, c.problem, tt.prefix, tt.skip, tt.problem)
			}
		})
	}
}

func TestKindDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"Deployment", "Deployment", 0},
		{"deployment", "Deployment", 0}, // case does not count
		{"Deploymnet", "Deployment", 1}, // a swap is one edit
		{"Deploymen", "Deployment", 1},
		{"kitten", "sitting", 3},
		{"", "Pod", 3},
		{"ResourceClass", "ResourceClaim", 2},
	}
	for _, tt := range tests {
		if got := kindDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("kindDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// Custom resources: a pod template at spec.template.spec is audited;
// containers anywhere else get a note; no containers, silence.
func TestClassifyCustomResources(t *testing.T) {
	container := map[string]any{"name": "c", "image": "busybox"}
	tests := []struct {
		name   string
		obj    map[string]any
		custom bool   // audited through spec.template
		note   string // skipped, with a note containing this ("" for no note)
	}{
		{"Argo Rollout", map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{container}}}}}, true, ""},
		{"Knative Service, unnamed container", map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containerConcurrency": int64(10), "containers": []any{map[string]any{"image": "hello"}}}}}}, true, ""},
		{"Argo Workflow", map[string]any{"spec": map[string]any{"templates": []any{map[string]any{"name": "main", "container": container}}}}, false,
			"has containers at spec.templates[0].container that were not audited"},
		{"Tekton Task", map[string]any{"spec": map[string]any{"steps": []any{container}}}, false, "has containers at spec.steps"},
		{"pod template one level deeper", map[string]any{"spec": map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{
			"spec": map[string]any{"containers": []any{container}}}}}}}, false, "spec.jobTemplate.spec.template.spec.containers"},
		{"containers without an image are no containers", map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "x"}}}}, false, ""},
		{"an image in metadata or status is not a container", map[string]any{"status": map[string]any{"container": container}}, false, ""},
		{"no containers at all", map[string]any{"spec": map[string]any{"replicas": int64(3)}}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := map[string]any{"apiVersion": "example.com/v1", "kind": "Thing", "metadata": map[string]any{"name": "x"}}
			for k, v := range tt.obj {
				obj[k] = v
			}
			c := classify(&unstructured.Unstructured{Object: obj})
			if c.problem != "" {
				t.Fatalf("problem %q", c.problem)
			}
			if got := c.workload != nil && c.workload.custom; got != tt.custom {
				t.Fatalf("custom workload = %v, want %v", got, tt.custom)
			}
			if tt.custom {
				if c.workload.prefix != "spec.template.spec" {
					t.Errorf("prefix %q", c.workload.prefix)
				}
				_, spec, unknown, err := c.workload.read(obj)
				if err != nil || len(spec.Containers) != 1 || spec.Containers[0].Name == "" || len(unknown) > 0 {
					t.Errorf("read: err %v, containers %+v, unknown %v", err, spec.Containers, unknown)
				}
				return
			}
			if c.groupKind != "Thing.example.com" {
				t.Errorf("groupKind %q", c.groupKind)
			}
			if (tt.note == "") != (c.note == "") || !strings.Contains(c.note, tt.note) {
				t.Errorf("note %q, want one containing %q", c.note, tt.note)
			}
		})
	}
}

// kustomize reads a kustomization without apiVersion; it is kustomize's
// input, skipped with a note that points at -k, never an error.
func TestClassifyKustomization(t *testing.T) {
	for _, obj := range []map[string]any{
		{"kind": "Kustomization", "resources": []any{"a.yaml"}},
		{"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"},
		{"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component"},
	} {
		c := classify(&unstructured.Unstructured{Object: obj})
		if c.problem != "" || c.workload != nil || !strings.Contains(c.note, "pass its directory with -k") ||
			!strings.HasSuffix(c.groupKind, ".kustomize.config.k8s.io") {
			t.Errorf("%v: %+v", obj, c)
		}
	}
}

// A custom resource whose spec.template is not a pod template is skipped
// with a note, not rejected: its schema is its own.
func TestReadCustomTemplateThatIsNoPodTemplate(t *testing.T) {
	in := "apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: odd}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: x, ports: \"80\"}]\n"
	got, stats, err := readAll(t, Options{Filenames: []string{"-"}, Stdin: strings.NewReader(in)})
	if err != nil || len(got) != 0 {
		t.Fatalf("err %v, %d workloads", err, len(got))
	}
	if len(stats.Notes) != 1 || !strings.Contains(stats.Notes[0].Message, "is not a pod template") || stats.SkippedKinds["Thing.example.com"] != 1 {
		t.Errorf("notes %q, skipped %v", notes(stats), stats.SkippedKinds)
	}
}

// The manifest reader knows the same built-in kinds, with the same pod
// spec paths, as every other part of kubectl caps (workload.Kinds).
func TestKindsAreWorkloadKinds(t *testing.T) {
	names := map[string]bool{}
	for _, k := range workload.Kinds() {
		names[k.Name] = true
		wk, ok := workloadKinds[k.Name]
		if !ok {
			t.Errorf("workload kind %s is not read from manifests", k.Name)
			continue
		}
		if wk.prefix != k.Prefix {
			t.Errorf("%s: manifests read the pod spec at %q, workload.Kinds says %q", k.Name, wk.prefix, k.Prefix)
		}
	}
	for name := range workloadKinds {
		if !names[name] {
			t.Errorf("manifests read kind %s, which workload.Kinds does not list", name)
		}
	}
}
