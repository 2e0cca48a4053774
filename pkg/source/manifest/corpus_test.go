package manifest

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/resource"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
)

// testWorkloads is the tests' own table of workload apiVersion/kind pairs
// and where each keeps its PodSpec, written from the API reference rather
// than from the package's table.
var testWorkloads = map[string][]string{
	"v1 Pod":                        {"spec"},
	"v1 ReplicationController":      {"spec", "template", "spec"},
	"v1 PodTemplate":                {"template", "spec"},
	"apps/v1 Deployment":            {"spec", "template", "spec"},
	"apps/v1 StatefulSet":           {"spec", "template", "spec"},
	"apps/v1 DaemonSet":             {"spec", "template", "spec"},
	"apps/v1 ReplicaSet":            {"spec", "template", "spec"},
	"batch/v1 Job":                  {"spec", "template", "spec"},
	"batch/v1 CronJob":              {"spec", "jobTemplate", "spec", "template", "spec"},
	"apps/v1beta1 Deployment":       {"spec", "template", "spec"},
	"apps/v1beta2 Deployment":       {"spec", "template", "spec"},
	"extensions/v1beta1 Deployment": {"spec", "template", "spec"},
	"apps/v1beta1 StatefulSet":      {"spec", "template", "spec"},
	"apps/v1beta2 StatefulSet":      {"spec", "template", "spec"},
	"apps/v1beta2 DaemonSet":        {"spec", "template", "spec"},
	"extensions/v1beta1 DaemonSet":  {"spec", "template", "spec"},
	"apps/v1beta2 ReplicaSet":       {"spec", "template", "spec"},
	"extensions/v1beta1 ReplicaSet": {"spec", "template", "spec"},
	"batch/v1beta1 CronJob":         {"spec", "jobTemplate", "spec", "template", "spec"},
	"batch/v2alpha1 CronJob":        {"spec", "jobTemplate", "spec", "template", "spec"},
}

type corpusCount struct {
	Objects, Workloads, Containers int
	WorkloadFiles                  []string // in walk order
}

// countIndependently counts a directory's objects, workloads and
// containers without cli-runtime: it splits YAML at "---" lines and decodes
// each document with sigs.k8s.io/yaml. It also returns the number of
// manifest files.
func countIndependently(t testing.TB, dir string) (corpusCount, int) {
	t.Helper()
	var c corpusCount
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !isManifestName(path) {
			return nil
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, doc := range splitDocuments(data) {
			var obj map[string]any
			if err := yaml.Unmarshal(doc, &obj); err != nil {
				return fmt.Errorf("%s: %v", path, err)
			}
			if obj == nil {
				continue
			}
			objects := []any{obj}
			if items, ok := obj["items"].([]any); ok {
				objects = items
			}
			for _, o := range objects {
				c.Objects++
				m, _ := o.(map[string]any)
				specPath, ok := testWorkloads[fmt.Sprintf("%v %v", m["apiVersion"], m["kind"])]
				if !ok {
					continue
				}
				c.Workloads++
				if n := len(c.WorkloadFiles); n == 0 || c.WorkloadFiles[n-1] != path {
					c.WorkloadFiles = append(c.WorkloadFiles, path)
				}
				for _, p := range specPath {
					m, _ = m[p].(map[string]any)
				}
				for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
					l, _ := m[list].([]any)
					c.Containers += len(l)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, files
}

func isManifestName(path string) bool {
	switch filepath.Ext(path) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// splitDocuments splits a YAML stream at lines that start with "---".
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "---") {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.Write(sc.Bytes())
		cur.WriteByte('\n')
	}
	return append(docs, cur.Bytes())
}

func TestCorpus(t *testing.T) {
	// Real manifests from public projects, shared read-only beside the repository.
	corpusDir := sharedtest.Path(t, "corpus")
	want, files := countIndependently(t, corpusDir)

	var got corpusCount
	stats, err := Read(Options{Filenames: []string{corpusDir}, Recursive: true}, func(w Workload) error {
		if n := len(got.WorkloadFiles); n == 0 || got.WorkloadFiles[n-1] != w.Source {
			got.WorkloadFiles = append(got.WorkloadFiles, w.Source)
		}
		got.Containers += len(w.Spec.InitContainers) + len(w.Spec.Containers) + len(w.Spec.EphemeralContainers)
		if w.Document < 1 || w.Line < 1 {
			t.Errorf("%s %s %q: document %d line %d, want both known for a YAML file", w.Source, w.Kind, w.Name, w.Document, w.Line)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	got.Objects, got.Workloads = stats.Objects, stats.Workloads
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-independent +Read):\n%s", diff)
	}
	t.Logf("corpus: %d manifest files, %d objects, %d workloads in %d files, %d containers",
		files, want.Objects, want.Workloads, len(want.WorkloadFiles), want.Containers)
	compareWithBuilder(t, Options{Filenames: []string{corpusDir}, Recursive: true})
}

// compareWithBuilder checks that Read sees what cli-runtime's Builder sees
// when set up as kubectl apply sets it up: the same number of objects, and
// the same workloads in the same order.
func compareWithBuilder(t *testing.T, opts Options) {
	t.Helper()
	infos, err := resource.NewLocalBuilder().Unstructured().ContinueOnError().
		FilenameParam(false, &resource.FilenameOptions{Filenames: opts.Filenames, Recursive: opts.Recursive}).
		Flatten().Do().Infos()
	if err != nil {
		t.Fatalf("Builder: %v", err)
	}
	var want, got []string
	for _, info := range infos {
		u := info.Object.(*unstructured.Unstructured)
		if _, ok := testWorkloads[u.GetAPIVersion()+" "+u.GetKind()]; ok {
			want = append(want, fmt.Sprintf("%s %s/%s %s", info.Source, u.GetAPIVersion(), u.GetKind(), u.GetName()))
		}
	}
	stats, err := Read(opts, func(w Workload) error {
		if w.Custom {
			return nil // custom resources with a pod template: not in kubectl's table
		}
		got = append(got, fmt.Sprintf("%s %s/%s %s", w.Source, w.APIVersion, w.Kind, w.Name))
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workloads (-Builder +Read):\n%s", diff)
	}
	if stats.Objects != len(infos) {
		t.Errorf("Read counted %d objects, the Builder %d", stats.Objects, len(infos))
	}
}

// BenchmarkReadCorpus reports objects/s over the whole corpus; run with
// -benchmem to see the allocation per pass.
func BenchmarkReadCorpus(b *testing.B) {
	corpusDir := sharedtest.Path(b, "corpus")
	var size int64
	filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isManifestName(path) {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	b.SetBytes(size)
	objects := 0
	for b.Loop() {
		stats, err := Read(Options{Filenames: []string{corpusDir}, Recursive: true}, func(Workload) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		objects += stats.Objects
	}
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
}
