package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// What a repository holds besides manifests, and how to tell. kubectl
// apply -f DIR stops at the first of them; an audit of a repository should
// not, as long as it says what it left out.

// notAnObject says why a document that failed to decode is not meant as a
// Kubernetes object at all: it is not a mapping, or it is a mapping with
// neither apiVersion nor kind. "" means it is a broken object. data is the
// document as JSON.
func notAnObject(data []byte) string {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return ""
	}
	if data[0] != '{' {
		return fmt.Sprintf("the document is %s, not a mapping with apiVersion and kind", article(valueKind(data)))
	}
	var head struct {
		APIVersion json.RawMessage `json:"apiVersion"`
		Kind       json.RawMessage `json:"kind"`
	}
	if json.Unmarshal(data, &head) != nil || !isEmptyValue(head.APIVersion) || !isEmptyValue(head.Kind) {
		return ""
	}
	return "no document has apiVersion or kind"
}

// looksLike names the kind of file a non-manifest probably is, from its
// name, with what to do about it.
func looksLike(path string) string {
	base := filepath.Base(path)
	slash := filepath.ToSlash(path)
	switch {
	case base == "kustomization.yaml" || base == "kustomization.yml" || base == "Kustomization":
		return fmt.Sprintf(" (a kustomization; to audit what it renders, pass its directory with -k %s)", filepath.Dir(path))
	case strings.Contains(slash, ".github/workflows/"):
		return " (a GitHub Actions workflow)"
	case strings.HasPrefix(base, "values") && (strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")):
		return " (Helm values, probably; render the chart with helm template and pipe it: ... | kubectl caps audit -f -)"
	}
	return ""
}

// chartFinder tells which files of a directory walk belong to a Helm chart:
// a directory with a Chart.yaml (https://helm.sh/docs/topics/charts/), at
// or below the walk's root, or its parent (-f chart/templates).
type chartFinder struct {
	root  string
	isDir map[string]bool // directory -> has Chart.yaml
	found []*chart
	by    map[string]*chart
}

type chart struct {
	dir   string
	files int
}

func newChartFinder(root string) *chartFinder {
	return &chartFinder{root: filepath.Dir(filepath.Clean(root)), isDir: map[string]bool{}, by: map[string]*chart{}}
}

// skip reports whether path is in a chart, counting it there.
func (c *chartFinder) skip(path string) bool {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		has, ok := c.isDir[dir]
		if !ok {
			_, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
			has = err == nil
			c.isDir[dir] = has
		}
		if has {
			ch := c.by[dir]
			if ch == nil {
				ch = &chart{dir: dir}
				c.by[dir] = ch
				c.found = append(c.found, ch)
			}
			ch.files++
			return true
		}
		if filepath.Clean(dir) == c.root || dir == filepath.Dir(dir) {
			return false
		}
	}
}

// readKustomize renders a kustomization exactly as cli-runtime's
// KustomizeVisitor.Visit does for kubectl apply -k (k8s.io/cli-runtime
// pkg/resource/kustomizevisitor.go: krusty with the legacy resource order,
// on the real file system) and reads the output as one stream.
func (r *reader) readKustomize(dir string) {
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		r.problem(loc{source: dir}, fmt.Sprintf("kustomize cannot render this directory: %v; check it with kubectl kustomize %s", err, dir))
		return
	}
	out, err := m.AsYaml()
	if err != nil {
		r.problem(loc{source: dir}, fmt.Sprintf("kustomize cannot write its output: %v", err))
		return
	}
	pos := &positions{}
	r.rendered = true
	defer func() { r.rendered = false }()
	r.readStream(r.newStream(pos.observe(bytes.NewReader(out)), dir), dir, pos)
}
