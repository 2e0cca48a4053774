// Command krew-render renders the krew-index manifest plugins/caps.yaml from
// the krew-release-bot template krew-manifest.yaml and a goreleaser dist/
// directory:
//
//	go run ./hack/release/krew-render -dist dist -tag v0.1.0 -o plugins/caps.yaml
//
// It evaluates the template the way krew-release-bot does at release time
// (Go text/template, .TagName, addURIAndSha and indent), so the template that
// the bot will submit is the one the release tests install. The one
// difference: addURIAndSha takes the sha256 from goreleaser's checksums file,
// after checking it against the archive on disk, instead of downloading the
// asset. No sha256 is ever typed by hand.
//
// It refuses to render when the dist was built for another version than -tag,
// when an archive is missing from the template or named twice, and, unless
// -allow-dirty, when the binaries were built from a modified working tree,
// because the sha256 of such a build cannot be reproduced by anyone.
package main

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"text/template"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

func main() {
	var o options
	flag.StringVar(&o.Template, "template", "krew-manifest.yaml", "krew-release-bot template of the manifest")
	flag.StringVar(&o.Dist, "dist", "dist", "goreleaser output directory (holds metadata.json and artifacts.json)")
	flag.StringVar(&o.Tag, "tag", "", "release tag to render for, e.g. v0.1.0; must be the version dist/ was built for")
	flag.BoolVar(&o.AllowDirty, "allow-dirty", false, "render even if the binaries were built from a modified working tree (tests only)")
	flag.StringVar(&o.GoreleaserManifest, "goreleaser-manifest", "", "goreleaser's own krew manifest (dist/krew/caps.yaml) that the result must agree with")
	out := flag.String("o", "-", "output file, - for stdout")
	flag.Parse()
	if o.Tag == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: krew-render -tag vX.Y.Z [-dist dist] [-template krew-manifest.yaml] [-o plugins/caps.yaml] [-goreleaser-manifest dist/krew/caps.yaml] [-allow-dirty]")
		os.Exit(2)
	}
	b, err := render(o, buildinfo.ReadFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "krew-render: %v\n", err)
		os.Exit(1)
	}
	if *out == "-" {
		_, err = os.Stdout.Write(b)
	} else {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "krew-render: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	Template           string
	Dist               string
	Tag                string
	AllowDirty         bool
	GoreleaserManifest string
}

// metadata is the part of goreleaser's dist/metadata.json used here.
type metadata struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// artifact is one entry of goreleaser's dist/artifacts.json.
type artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
}

// buildInfoReader reads the Go build info of a binary (buildinfo.ReadFile;
// tests substitute their own, as they cannot cheaply build real binaries).
type buildInfoReader func(file string) (*debug.BuildInfo, error)

func render(o options, readBuildInfo buildInfoReader) ([]byte, error) {
	var md metadata
	if err := readJSON(filepath.Join(o.Dist, "metadata.json"), &md); err != nil {
		return nil, err
	}
	// goreleaser's version has no "v"; the tag, the krew version and the
	// archive names do.
	if "v"+md.Version != o.Tag {
		return nil, fmt.Errorf("%s was built for version v%s, not %s: run goreleaser for %s first (GORELEASER_CURRENT_TAG=%s for a snapshot)",
			o.Dist, md.Version, o.Tag, o.Tag, o.Tag)
	}
	var arts []artifact
	if err := readJSON(filepath.Join(o.Dist, "artifacts.json"), &arts); err != nil {
		return nil, err
	}
	sums, archives, err := checkedSums(o.Dist, arts)
	if err != nil {
		return nil, err
	}
	build, err := buildOrigin(o.Dist, arts, readBuildInfo)
	if err != nil {
		return nil, err
	}
	if build.Modified && !o.AllowDirty {
		return nil, fmt.Errorf("the binaries in %s were built from a modified working tree (vcs.modified=true), so nobody can reproduce their sha256; commit or stash, rebuild, and render again", o.Dist)
	}

	used := map[string]int{}
	body, err := execute(o.Template, o.Tag, func(name string) (string, error) {
		sum, ok := sums[name]
		if !ok {
			return "", fmt.Errorf("%s names %q, which is not in the checksums file of %s (archives: %s)",
				o.Template, name, o.Dist, strings.Join(archives, ", "))
		}
		used[name]++
		return sum, nil
	})
	if err != nil {
		return nil, err
	}
	// One platform entry per archive: an archive goreleaser builds but the
	// template does not list would be a platform krew users silently lack.
	for _, a := range archives {
		switch used[a] {
		case 0:
			return nil, fmt.Errorf("%s has no platform entry for the archive %s", o.Template, a)
		case 1:
		default:
			return nil, fmt.Errorf("%s names the archive %s %d times", o.Template, a, used[a])
		}
	}

	if err := checkManifest(body, o.Tag); err != nil {
		return nil, fmt.Errorf("%s renders a bad manifest: %w", o.Template, err)
	}
	if o.GoreleaserManifest != "" {
		theirs, err := os.ReadFile(o.GoreleaserManifest)
		if err != nil {
			return nil, err
		}
		if err := agree(body, theirs); err != nil {
			return nil, fmt.Errorf("%s and %s disagree (one of krew-manifest.yaml and the krews: section of .goreleaser.yaml was changed without the other): %w",
				o.Template, o.GoreleaserManifest, err)
		}
	}

	dirty := ""
	if build.Modified {
		dirty = ", MODIFIED working tree: not reproducible"
	}
	header := fmt.Sprintf("# Generated by hack/release/krew-render from %s and the goreleaser\n"+
		"# archives of commit %s (%s%s). Do not edit; see docs/release.md.\n",
		filepath.Base(o.Template), md.Commit, build.GoVersion, dirty)
	return append([]byte(header), body...), nil
}

// execute evaluates the template as krew-release-bot's RenderTemplate does;
// sha256Of answers for the base name of each asset URL.
func execute(templateFile, tag string, sha256Of func(name string) (string, error)) ([]byte, error) {
	funcs := template.FuncMap{
		"indent": indent,
		"addURIAndSha": func(url, tag string) (string, error) {
			// The URL is itself a template over the tag, as in the bot.
			ut, err := template.New("url").Option("missingkey=error").Parse(url)
			if err != nil {
				return "", err
			}
			var buf bytes.Buffer
			if err := ut.Execute(&buf, struct{ TagName, Version string }{tag, versionFromTag(tag)}); err != nil {
				return "", err
			}
			sum, err := sha256Of(path.Base(buf.String()))
			if err != nil {
				return "", err
			}
			// Exactly the bot's output, including its fixed 4-space indent
			// of the sha256 line.
			return fmt.Sprintf("uri: %s\n    sha256: %s", buf.String(), sum), nil
		},
	}
	t, err := template.New(filepath.Base(templateFile)).Option("missingkey=error").Funcs(funcs).ParseFiles(templateFile)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := t.Execute(&out, struct{ TagName string }{tag}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// indent is krew-release-bot's: it re-indents a value, including the output
// of addURIAndSha, for templates that need more than 4 spaces.
func indent(spaces int, v string) string {
	v = strings.ReplaceAll(v, "    sha256:", "sha256:")
	pad := strings.Repeat(" ", spaces)
	return strings.TrimSpace(pad + strings.ReplaceAll(v, "\n", "\n"+pad))
}

var versionRE = regexp.MustCompile(`\d+(\.\d+)+`)

// versionFromTag is krew-release-bot's .Version inside addURIAndSha URLs.
func versionFromTag(tag string) string {
	if v := versionRE.FindString(tag); v != "" {
		return v
	}
	return tag
}

// checkedSums reads goreleaser's checksums file and returns the sha256 of
// every archive in artifacts.json, after hashing each archive on disk: a
// checksums file left over from another build must not end up in a manifest.
func checkedSums(dist string, arts []artifact) (map[string]string, []string, error) {
	var sumsFile string
	var archives []string
	for _, a := range arts {
		switch a.Type {
		case "Checksum":
			sumsFile = filepath.Join(dist, a.Name)
		case "Archive":
			archives = append(archives, a.Name)
		}
	}
	if sumsFile == "" {
		return nil, nil, fmt.Errorf("%s/artifacts.json lists no checksums file", dist)
	}
	if len(archives) == 0 {
		return nil, nil, fmt.Errorf("%s/artifacts.json lists no archives", dist)
	}
	sort.Strings(archives)
	listed, err := parseChecksums(sumsFile)
	if err != nil {
		return nil, nil, err
	}
	sums := map[string]string{}
	for _, name := range archives {
		want, ok := listed[name]
		if !ok {
			return nil, nil, fmt.Errorf("%s has no line for %s", sumsFile, name)
		}
		got, err := sha256File(filepath.Join(dist, name))
		if err != nil {
			return nil, nil, err
		}
		if got != want {
			return nil, nil, fmt.Errorf("%s says %s has sha256 %s, but the file has %s", sumsFile, name, want, got)
		}
		sums[name] = want
	}
	return sums, archives, nil
}

// parseChecksums reads sha256sum-style lines, "<hex>  <name>".
func parseChecksums(file string) (map[string]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || len(f[0]) != sha256.Size*2 {
			return nil, fmt.Errorf("%s:%d: want \"<sha256>  <file>\", got %q", file, i+1, line)
		}
		if _, err := hex.DecodeString(f[0]); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", file, i+1, err)
		}
		out[strings.TrimPrefix(f[1], "*")] = strings.ToLower(f[0])
	}
	return out, nil
}

func sha256File(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// origin is what the binaries' embedded build info says about their source.
type origin struct {
	GoVersion string
	Modified  bool
}

// buildOrigin reads the Go build info of every binary goreleaser built. All
// must agree on the toolchain, and one modified build taints the lot.
func buildOrigin(dist string, arts []artifact, readBuildInfo buildInfoReader) (origin, error) {
	var o origin
	n := 0
	for _, a := range arts {
		if a.Type != "Binary" {
			continue
		}
		p := a.Path
		if !filepath.IsAbs(p) {
			// goreleaser records paths relative to where it ran, the
			// directory holding dist/.
			p = filepath.Join(filepath.Dir(filepath.Clean(dist)), p)
		}
		bi, err := readBuildInfo(p)
		if err != nil {
			return o, fmt.Errorf("reading the build info of %s: %w", p, err)
		}
		if n > 0 && bi.GoVersion != o.GoVersion {
			return o, fmt.Errorf("binaries in %s were built with both %s and %s", dist, o.GoVersion, bi.GoVersion)
		}
		o.GoVersion = bi.GoVersion
		o.Modified = o.Modified || vcsModified(bi.Settings)
		n++
	}
	if n == 0 {
		return o, fmt.Errorf("%s/artifacts.json lists no binaries", dist)
	}
	return o, nil
}

// vcsModified reports the vcs.modified stamp. A build without VCS stamping
// (-buildvcs=false, or no git) cannot show where it came from and counts as
// modified.
func vcsModified(settings []debug.BuildSetting) bool {
	rev, mod := "", ""
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			mod = s.Value
		}
	}
	return rev == "" || mod != "false"
}

func readJSON(file string, v any) error {
	b, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s does not exist: run goreleaser (make dist) first", file)
		}
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// manifest is the part of a krew Plugin manifest that is checked here.
type manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string     `json:"version"`
		Homepage         string     `json:"homepage"`
		ShortDescription string     `json:"shortDescription"`
		Description      string     `json:"description"`
		Caveats          string     `json:"caveats"`
		Platforms        []platform `json:"platforms"`
	} `json:"spec"`
}

type platform struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	URI    string `json:"uri"`
	Sha256 string `json:"sha256"`
	Bin    string `json:"bin"`
	Files  []struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"files,omitempty"`
}

func (p platform) key() string {
	return p.Selector.MatchLabels["os"] + "/" + p.Selector.MatchLabels["arch"]
}

// maxShortDescription is krew-index's limit: `kubectl krew search` prints
// the short description in a column, and longer ones are sent back in review.
const maxShortDescription = 50

// checkManifest holds the rendered manifest to the rules that
// validate-krew-manifest v0.4.3 does not check but krew-index review does.
func checkManifest(b []byte, tag string) error {
	var m manifest
	// Strict: a misspelt key in the template (shortDescripton) would
	// otherwise vanish silently, as krew ignores it too.
	if err := yaml.UnmarshalStrict(b, &m); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(m.Spec.ShortDescription); n > maxShortDescription {
		return fmt.Errorf("shortDescription has %d characters, krew-index allows %d: %q", n, maxShortDescription, m.Spec.ShortDescription)
	}
	if m.Spec.Version != tag {
		return fmt.Errorf("spec.version is %q, want %q", m.Spec.Version, tag)
	}
	if m.Spec.Description == "" || m.Spec.Caveats == "" {
		return errors.New("spec.description and spec.caveats must both be set")
	}
	return nil
}

// agree compares the rendered manifest with goreleaser's rendering of the
// same release, field by field. goreleaser writes no `files` (krew then
// copies the whole archive), so those are not compared; everything else,
// including each platform's uri and sha256, must be equal.
func agree(ours, theirs []byte) error {
	var a, b manifest
	if err := yaml.Unmarshal(ours, &a); err != nil {
		return err
	}
	if err := yaml.Unmarshal(theirs, &b); err != nil {
		return err
	}
	pa, pb := platformsByKey(a.Spec.Platforms), platformsByKey(b.Spec.Platforms)
	a.Spec.Platforms, b.Spec.Platforms = nil, nil
	var diffs []string
	fields := []struct{ name, a, b string }{
		{"apiVersion", a.APIVersion, b.APIVersion},
		{"kind", a.Kind, b.Kind},
		{"metadata.name", a.Metadata.Name, b.Metadata.Name},
		{"spec.version", a.Spec.Version, b.Spec.Version},
		{"spec.homepage", a.Spec.Homepage, b.Spec.Homepage},
		{"spec.shortDescription", a.Spec.ShortDescription, b.Spec.ShortDescription},
		{"spec.description", a.Spec.Description, b.Spec.Description},
		{"spec.caveats", a.Spec.Caveats, b.Spec.Caveats},
	}
	for _, f := range fields {
		if f.a != f.b {
			diffs = append(diffs, fmt.Sprintf("%s: %q vs %q", f.name, f.a, f.b))
		}
	}
	keys := map[string]bool{}
	for k := range pa {
		keys[k] = true
	}
	for k := range pb {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		x, inA := pa[k]
		y, inB := pb[k]
		switch {
		case !inA:
			diffs = append(diffs, fmt.Sprintf("platform %s: only in goreleaser's manifest", k))
		case !inB:
			diffs = append(diffs, fmt.Sprintf("platform %s: not in goreleaser's manifest", k))
		default:
			for _, f := range []struct{ name, a, b string }{{"uri", x.URI, y.URI}, {"sha256", x.Sha256, y.Sha256}, {"bin", x.Bin, y.Bin}} {
				if f.a != f.b {
					diffs = append(diffs, fmt.Sprintf("platform %s %s: %q vs %q", k, f.name, f.a, f.b))
				}
			}
		}
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "; "))
	}
	return nil
}

func platformsByKey(ps []platform) map[string]platform {
	m := map[string]platform{}
	for _, p := range ps {
		m[p.key()] = p
	}
	return m
}
