//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/internal/captest"
	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
)

// suggestObject is one object of an example file, written to a file of its
// own: `kubectl patch --local -f FILE` patches every object in FILE, so a
// workload's patch must meet only that workload.
type suggestObject struct {
	file, kind, name string
	source           string
}

// suggestSplitExamples writes every object of examples/ (Lists flattened)
// to its own JSON file under dir.
func suggestSplitExamples(t *testing.T, root, dir string) []suggestObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "examples", "*.*")) // files: examples/evidence/ holds traces
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	var out []suggestObject
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
		for i := 0; ; i++ {
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				t.Fatal(err)
			}
			items, _ := obj["items"].([]any)
			if obj["kind"] != "List" {
				items = []any{obj}
			}
			for j, it := range items {
				m := it.(map[string]any)
				md, _ := m["metadata"].(map[string]any)
				o := suggestObject{kind: fmt.Sprint(m["kind"]), name: fmt.Sprint(md["name"]), source: fmt.Sprintf("%s#%d.%d", filepath.Base(f), i, j)}
				o.file = filepath.Join(dir, fmt.Sprintf("%s-%s.json", strings.ToLower(o.kind), o.name))
				b, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(o.file, b, 0o644); err != nil {
					t.Fatal(err)
				}
				out = append(out, o)
			}
		}
		r.Close()
	}
	return out
}

// suggestPatchBody is the patch of a one-workload -o patch/json-patch
// output without its comment lines; "" when it has none.
func suggestPatchBody(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "#") || l == "---" || strings.TrimSpace(l) == "" {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// suggestAudit is the part of the audit report this test reads.
type suggestAudit struct {
	Items []struct {
		Workload struct {
			Kind string `json:"kind"`
			Name string `json:"name"`
		} `json:"workload"`
		Container     string   `json:"container"`
		ContainerType string   `json:"containerType"`
		Bounding      []string `json:"bounding"`
	} `json:"items"`
}

type suggestList struct {
	Items []struct {
		Container     string `json:"container"`
		ContainerType string `json:"containerType"`
		Drop          []struct {
			Capability string `json:"capability"`
		} `json:"drop"`
		Capabilities *struct {
			Add  []string `json:"add"`
			Drop []string `json:"drop"`
		} `json:"capabilities"`
	} `json:"items"`
}

// TestSuggestDropLocalRoundTrip is the local half of issue 5's round trip:
// for every workload of examples/, `kubectl caps suggest-drop -o patch` (and
// -o json-patch) through the real kubectl, applied with the real
// `kubectl patch --local`, then audited again with `kubectl caps audit`:
//
//   - no capability the catalog says to drop is left in any patched
//     container's bounding set (a privileged container after privileged:
//     true is removed, which its note says must come first), except, under
//     the catalog strategy, what the manifest adds by name, which it keeps;
//   - with --strategy=strict every container meets Pod Security Standards
//     restricted's capability rules, judged by the PSA library;
//   - suggesting again on the result finds nothing left to drop or
//     rewrite: the suggestion is a fixed point.
func TestSuggestDropLocalRoundTrip(t *testing.T) {
	srv := testserver.Get(t)
	pluginDir(t)
	dir := t.TempDir()
	objs := suggestSplitExamples(t, plugin.modRoot, dir)
	local := kubectlOpts{noConfig: true, dir: dir}
	drops := suggestCatalogDrops(t, srv)
	check := policy.CheckCapabilitiesRestricted()
	restricted := check.Versions[len(check.Versions)-1].CheckPod

	applied := 0
	for _, strategy := range []string{"catalog", "strict"} {
		for _, typ := range []string{"strategic", "json"} {
			for _, o := range objs {
				if o.kind == "Service" {
					continue
				}
				t.Run(fmt.Sprintf("%s/%s/%s %s", strategy, typ, o.kind, o.name), func(t *testing.T) {
					format := "patch"
					if typ == "json" {
						format = "json-patch"
					}
					out := kubectl(t, srv, local, "caps", "suggest-drop", "-f", o.file, "--strategy", strategy, "-o", format).ok(t).stdout
					body := suggestPatchBody(out)
					patched := o.file
					if typ == "strategic" {
						// -o patched is kubectl patch --local on the object alone
						// (or the object as read, without a patch).
						want, err := os.ReadFile(o.file)
						if err != nil {
							t.Fatal(err)
						}
						if body != "" {
							pf := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.cmp.patch", strategy, o.kind, o.name))
							if err := os.WriteFile(pf, []byte(body), 0o644); err != nil {
								t.Fatal(err)
							}
							want = []byte(kubectl(t, srv, local, "patch", "--local", "-f", o.file, "--type", "strategic", "--patch-file", pf, "-o", "yaml").ok(t).stdout)
						}
						got := kubectl(t, srv, local, "caps", "suggest-drop", "-f", o.file, "--strategy", strategy, "-o", "patched").ok(t).stdout
						var w, g map[string]any
						if err := yaml.Unmarshal(want, &w); err != nil {
							t.Fatal(err)
						}
						if err := yaml.Unmarshal([]byte(got), &g); err != nil {
							t.Fatalf("-o patched is not one YAML object: %v\n%s", err, got)
						}
						if diff := cmp.Diff(w, g); diff != "" {
							t.Errorf("-o patched differs from kubectl patch --local (-kubectl +patched):\n%s", diff)
						}
					}
					switch {
					case o.kind == "Pod":
						// Capabilities live in the pod spec (docs/sources.md#where-capabilities-are-set), which
						// cannot change; no patch, and the output says why.
						if body != "" || !strings.Contains(out, "not patched") {
							t.Fatalf("a bare Pod got a patch, or no reason:\n%s", out)
						}
						return
					case body == "":
					default:
						pf := filepath.Join(dir, fmt.Sprintf("%s-%s-%s-%s.patch", strategy, typ, o.kind, o.name))
						if err := os.WriteFile(pf, []byte(body), 0o644); err != nil {
							t.Fatal(err)
						}
						res := kubectl(t, srv, local, "patch", "--local", "-f", o.file, "--type", typ, "--patch-file", pf, "-o", "yaml").ok(t)
						patched = filepath.Join(dir, fmt.Sprintf("%s-%s-%s-%s.patched.yaml", strategy, typ, o.kind, o.name))
						// As the privileged note says: remove privileged first.
						y := strings.ReplaceAll(res.stdout, "privileged: true", "privileged: false")
						if err := os.WriteFile(patched, []byte(y), 0o644); err != nil {
							t.Fatal(err)
						}
						applied++
					}
					y, err := os.ReadFile(patched)
					if err != nil {
						t.Fatal(err)
					}
					if body == "" && strings.Contains(string(y), `"privileged":true`) {
						y = []byte(strings.ReplaceAll(string(y), `"privileged":true`, `"privileged":false`))
						patched = filepath.Join(dir, fmt.Sprintf("%s-%s-%s-%s.unprivileged.json", strategy, typ, o.kind, o.name))
						if err := os.WriteFile(patched, y, 0o644); err != nil {
							t.Fatal(err)
						}
					}

					var rep suggestAudit
					a := kubectl(t, srv, local, "caps", "audit", "-f", patched, "-o", "json").ok(t)
					if err := json.Unmarshal([]byte(a.stdout), &rep); err != nil {
						t.Fatalf("audit -o json: %v\n%s", err, a.stdout)
					}
					if len(rep.Items) == 0 {
						t.Fatalf("the patched object has no containers:\n%s", y)
					}
					byName := map[string]bool{}
					if strategy == "catalog" {
						orig, err := os.ReadFile(o.file)
						if err != nil {
							t.Fatal(err)
						}
						_, spec := suggestTemplate(t, o.kind, orig)
						byName = captest.AddedByName(spec)
					}
					for _, it := range rep.Items {
						for _, c := range it.Bounding {
							if drops[c] && !byName[it.Container+" "+c] {
								t.Errorf("container %s still holds %s, which the catalog says to drop and the manifest does not add by name", it.Container, c)
							}
						}
					}
					if strategy == "strict" {
						meta, spec := suggestTemplate(t, o.kind, y)
						if spec.OS == nil || spec.OS.Name != corev1.Windows {
							if r := restricted(meta, spec); !r.Allowed {
								t.Errorf("strict result fails PSS restricted capabilities: %s: %s", r.ForbiddenReason, r.ForbiddenDetail)
							}
						}
					}

					// A fixed point: nothing left to drop or rewrite.
					var again suggestList
					s := kubectl(t, srv, local, "caps", "suggest-drop", "-f", patched, "--strategy", strategy, "-o", "json").ok(t)
					if err := json.Unmarshal([]byte(s.stdout), &again); err != nil {
						t.Fatal(err)
					}
					for _, it := range again.Items {
						if len(it.Drop) > 0 || it.Capabilities != nil {
							t.Errorf("after the patch, container %s still gets drop %v, lists %+v", it.Container, it.Drop, it.Capabilities)
						}
					}
				})
			}
		}
	}
	if applied == 0 {
		t.Fatal("no patch was applied")
	}

	// Expectations written out from the runtime defaults
	// (docs/sources.md#containerd-defaults) and the catalog for the
	// plainest example: the containerd default set minus MKNOD, NET_RAW and
	// SETFCAP (catalog: drop); strict keeps only NET_BIND_SERVICE for the
	// container's port 80 (its user is the image's, so possibly root).
	t.Run("web, exact sets", func(t *testing.T) {
		want := map[string][]string{
			"catalog": {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"},
			"strict":  {"NET_BIND_SERVICE"},
		}
		for strategy, w := range want {
			var rep suggestAudit
			f := filepath.Join(dir, strategy+"-strategic-Deployment-web.patched.yaml")
			a := kubectl(t, srv, local, "caps", "audit", "-f", f, "-o", "json").ok(t)
			if err := json.Unmarshal([]byte(a.stdout), &rep); err != nil || len(rep.Items) != 1 {
				t.Fatalf("audit of %s: %v\n%s", f, err, a.stdout)
			}
			got := slices.Clone(rep.Items[0].Bounding)
			sort.Strings(got)
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("%s: bounding after the patch (-want +got):\n%s", strategy, diff)
			}
		}
	})

	// The RFC 6902 form tests each container's name before changing it: on
	// an object whose containers moved, kubectl refuses the patch instead
	// of changing the wrong container.
	t.Run("json-patch refuses a moved container", func(t *testing.T) {
		var db suggestObject
		for _, o := range objs {
			if o.kind == "StatefulSet" && o.name == "db" {
				db = o
			}
		}
		out := kubectl(t, srv, local, "caps", "suggest-drop", "-f", db.file, "-o", "json-patch").ok(t).stdout
		pf := filepath.Join(dir, "db-moved.patch")
		if err := os.WriteFile(pf, []byte(suggestPatchBody(out)), 0o644); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(db.file)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatal(err)
		}
		cs := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
		cs[0], cs[1] = cs[1], cs[0]
		moved := filepath.Join(dir, "db-moved.json")
		b, _ := json.Marshal(obj)
		if err := os.WriteFile(moved, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r := kubectl(t, srv, local, "patch", "--local", "-f", moved, "--type", "json", "--patch-file", pf, "-o", "yaml")
		if r.code == 0 {
			t.Errorf("kubectl applied a JSON patch to moved containers:\n%s", r.stdout)
		}
	})
}

// suggestCatalogDrops asks the catalog, through the plugin, which
// capabilities it recommends dropping.
func suggestCatalogDrops(t *testing.T, srv *testserver.Server) map[string]bool {
	t.Helper()
	r := kubectl(t, srv, kubectlOpts{noConfig: true}, "caps", "explain", "-o", "json").ok(t)
	var doc struct {
		Items []struct {
			Name           string `json:"name"`
			Recommendation string `json:"recommendation"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, it := range doc.Items {
		if it.Recommendation == "drop" {
			out[it.Name] = true
		}
	}
	if len(out) < 20 {
		t.Fatalf("catalog drops only %d capabilities", len(out))
	}
	return out
}

// suggestTemplate reads the pod template of a (patched) workload.
func suggestTemplate(t *testing.T, kind string, y []byte) (*metav1.ObjectMeta, *corev1.PodSpec) {
	t.Helper()
	var x struct {
		Spec struct {
			Template    *corev1.PodTemplateSpec  `json:"template"`
			JobTemplate *batchv1.JobTemplateSpec `json:"jobTemplate"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(y, &x); err != nil {
		t.Fatal(err)
	}
	switch {
	case kind == "CronJob" && x.Spec.JobTemplate != nil:
		return &x.Spec.JobTemplate.Spec.Template.ObjectMeta, &x.Spec.JobTemplate.Spec.Template.Spec
	case x.Spec.Template != nil:
		return &x.Spec.Template.ObjectMeta, &x.Spec.Template.Spec
	}
	t.Fatalf("%s has no pod template", kind)
	return nil, nil
}
