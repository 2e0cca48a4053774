package citecheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// self is this file: it spells the forbidden patterns out.
const self = "hack/citecheck/citecheck_test.go"

// sourcesDoc is the page whose anchors code and docs link to.
const sourcesDoc = "docs/sources.md"

var (
	// factsID is any mention of the fact file: FACTS.md, "FACTS §2.1",
	// ../shared/FACTS.md.
	factsID = regexp.MustCompile(`\bFACTS\b`)
	// sectionID is a bare section id such as §3.3 or § 6. Standards cite
	// sections with § too (RFC 6902 §4.1), so a line naming an RFC is allowed.
	sectionID = regexp.MustCompile(`§\s?\d`)
	rfc       = regexp.MustCompile(`\bRFC\s?\d`)
	// sharedPath is a path into the shared working directory.
	sharedPath = regexp.MustCompile(`(\.\./)+shared/([A-Za-z0-9_.-]*)|/work/shared\b`)
	// sourcesLink is a link to an anchor of docs/sources.md, from any
	// directory (docs/sources.md#x, ../sources.md#x, sources.md#x).
	sourcesLink = regexp.MustCompile(`sources\.md#([A-Za-z0-9_-]+)`)
	// anchorID is an explicit anchor; only these are stable.
	anchorID = regexp.MustCompile(`<a id="([^"]+)"></a>`)
)

// testDataDirs are the shared directories tests may read as data: real
// manifests and Pod Security Admission fixtures. They are inputs, not
// citations, and only test code may name them.
var testDataDirs = map[string]bool{"corpus": true, "psa-fixtures": true}

// hit is one offending line.
type hit struct {
	file string
	line int
	why  string
	text string
}

func (h hit) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", h.file, h.line, h.why, strings.TrimSpace(h.text))
}

// scan returns the lines of one file that cite something users do not have,
// or link to an anchor of docs/sources.md that anchors does not hold.
func scan(path string, content []byte, anchors map[string]bool) []hit {
	var hits []hit
	isTest := strings.HasSuffix(path, "_test.go")
	for i, line := range strings.Split(string(content), "\n") {
		add := func(why string) { hits = append(hits, hit{path, i + 1, why, line}) }
		if factsID.MatchString(line) {
			add("cites the fact file (FACTS); cite the upstream source or docs/sources.md#anchor")
		}
		if sectionID.MatchString(line) && !rfc.MatchString(line) {
			add("cites a § section id; cite the upstream source or docs/sources.md#anchor")
		}
		for _, m := range sharedPath.FindAllStringSubmatch(line, -1) {
			if !isTest || !testDataDirs[m[2]] {
				add(fmt.Sprintf("names %q outside the project; only tests may read ../shared/corpus and ../shared/psa-fixtures", m[0]))
			}
		}
		if anchors != nil {
			for _, m := range sourcesLink.FindAllStringSubmatch(line, -1) {
				if !anchors[m[1]] {
					add(fmt.Sprintf("links to %s#%s, which has no <a id=%q></a>", sourcesDoc, m[1], m[1]))
				}
			}
		}
	}
	return hits
}

// anchorsOf returns the explicit anchors of a page and any id used twice.
func anchorsOf(content []byte) (map[string]bool, []string) {
	anchors := map[string]bool{}
	var dup []string
	for _, m := range anchorID.FindAllSubmatch(content, -1) {
		id := string(m[1])
		if anchors[id] {
			dup = append(dup, id)
		}
		anchors[id] = true
	}
	return anchors, dup
}

// trackedFiles lists the repository's tracked files, relative to its root.
func trackedFiles(t *testing.T) (root string, files []string) {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git rev-parse: %v (CI must run from a git checkout)", err)
		}
		t.Skipf("not a git checkout (%v); run from a clone", err)
	}
	root = strings.TrimSpace(string(out))
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return root, files
}

// binary reports whether content looks like a binary file (a NUL byte in
// its first 8000 bytes, the test git itself uses).
func binary(content []byte) bool {
	return bytes.IndexByte(content[:min(len(content), 8000)], 0) >= 0
}

// TestNoCitationUsersCannotFollow fails on any tracked file that cites the
// fact file, a § id or a path under ../shared, or links to a missing anchor
// of docs/sources.md. The failure lists every hit by file.
func TestNoCitationUsersCannotFollow(t *testing.T) {
	root, files := trackedFiles(t)
	page, err := os.ReadFile(filepath.Join(root, sourcesDoc))
	if err != nil {
		t.Fatalf("reading %s: %v", sourcesDoc, err)
	}
	anchors, dup := anchorsOf(page)
	if len(dup) > 0 {
		t.Errorf("%s defines these anchors more than once: %s", sourcesDoc, strings.Join(dup, ", "))
	}
	byFile := map[string][]hit{}
	for _, f := range files {
		if f == self {
			continue
		}
		content, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			if os.IsNotExist(err) { // deleted in the work tree, not yet staged
				continue
			}
			t.Fatalf("reading %s: %v", f, err)
		}
		if binary(content) {
			continue
		}
		if hits := scan(f, content, anchors); len(hits) > 0 {
			byFile[f] = hits
		}
	}
	if len(byFile) == 0 {
		return
	}
	names := make([]string, 0, len(byFile))
	total := 0
	for f, hits := range byFile {
		names = append(names, f)
		total += len(hits)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%d lines in %d files cite what users cannot follow:\n", total, len(names))
	for _, f := range names {
		fmt.Fprintf(&b, "\n%s (%d)\n", f, len(byFile[f]))
		for _, h := range byFile[f] {
			fmt.Fprintf(&b, "  %s\n", h)
		}
	}
	t.Error(b.String())
}

// TestScan holds the checker to what it must and must not flag, so that a
// clean run means something.
func TestScan(t *testing.T) {
	anchors := map[string]bool{"containerd-defaults": true}
	tests := []struct {
		name, path, line string
		want             int
	}{
		{"fact file by name", "docs/engine.md", "see FACTS.md for details", 1},
		{"fact file section", "pkg/x/x.go", "// FACTS §2.1: defaults", 2}, // FACTS and the § id
		{"bare section id", "docs/engine.md", "### Default sets (§2.1)", 1},
		{"spaced section id", "docs/engine.md", "as § 3 says", 1},
		{"RFC section is a standard's", "pkg/suggest/patch.go", "// (RFC 6902 §4.1)", 0},
		{"shared fact file", "hack/x.sh", "# ../shared/FACTS.md", 2},
		{"shared corpus read by a test", "pkg/cmd/corpus_test.go", `const corpusDir = "../../../shared/corpus"`, 0},
		{"shared fixtures read by a test", "pkg/x/x_test.go", `"../../shared/psa-fixtures"`, 0},
		{"shared corpus cited in docs", "docs/testing.md", "the manifests in ../shared/corpus", 1},
		{"shared corpus named in code", "pkg/x/x.go", `dir := "../shared/corpus"`, 1},
		{"other shared file in a test", "pkg/x/x_test.go", `"../shared/seed/catalog.txt"`, 1},
		{"absolute shared path", "docs/x.md", "/work/shared/STYLE.md", 1},
		{"existing anchor", "docs/engine.md", "[containerd](sources.md#containerd-defaults)", 0},
		{"existing anchor from code", "pkg/x/x.go", "// docs/sources.md#containerd-defaults", 0},
		{"missing anchor", "docs/engine.md", "[x](sources.md#no-such-anchor)", 1},
		{"missing anchor from a catalog page", "docs/capabilities/x.md", "[X](../sources.md#ref-nope)", 1},
		{"ordinary prose", "docs/x.md", "facts and sources, shared volumes", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scan(tt.path, []byte(tt.line), anchors)
			if len(got) != tt.want {
				t.Errorf("scan(%q, %q) = %d hits %v, want %d", tt.path, tt.line, len(got), got, tt.want)
			}
		})
	}
}

func TestAnchorsOf(t *testing.T) {
	anchors, dup := anchorsOf([]byte(`<a id="a"></a>
## A
<a id="b"></a> and <a id="a"></a>`))
	if !anchors["a"] || !anchors["b"] || len(anchors) != 2 {
		t.Errorf("anchors = %v", anchors)
	}
	if len(dup) != 1 || dup[0] != "a" {
		t.Errorf("duplicates = %v, want [a]", dup)
	}
}
