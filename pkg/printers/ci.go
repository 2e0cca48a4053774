package printers

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kubectl-caps/kubectl-caps/pkg/finding"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/safetext"
)

// Formats for CI and code review (docs/findings.md).
const (
	FormatSARIF  = "sarif"
	FormatJUnit  = "junit"
	FormatGitHub = "github"
)

// CIOptions are what the CI formats need beyond the findings.
type CIOptions struct {
	// Version is the tool's release (SARIF's driver version).
	Version string
	// Root is the directory file paths are made relative to: the current
	// directory, where a CI job checks the repository out. A path the
	// user gave relative is kept as given (it is relative to Root
	// already); an absolute one under Root is made relative; one outside
	// Root gets no file location (see fileURI).
	Root string
	// Baseline: a --baseline was given, so every SARIF result says
	// whether it is new or unchanged (baselineState).
	Baseline bool
}

// fileURI is a finding's file as a relative URI reference (SARIF's
// artifactLocation.uri, GitHub's file=): "" for a live object, standard
// input, or a file outside Root, which a repository cannot show; a URL
// as given.
func (o CIOptions) fileURI(file string) string {
	switch {
	case file == "" || file == "STDIN":
		return ""
	case strings.HasPrefix(file, "http://") || strings.HasPrefix(file, "https://"):
		return file
	}
	p := filepath.Clean(file)
	if filepath.IsAbs(p) {
		rel, err := filepath.Rel(o.Root, p)
		if o.Root == "" || err != nil {
			return ""
		}
		p = rel
	}
	p = filepath.ToSlash(p)
	if p == ".." || strings.HasPrefix(p, "../") {
		return ""
	}
	return (&url.URL{Path: p}).String()
}

// logicalName names a finding's container for SARIF's logical location
// and JUnit: "NAMESPACE/KIND/NAME/CONTAINER".
func logicalName(f *finding.Finding) string {
	return f.Namespace + "/" + f.Workload.Kind + "/" + f.Workload.Name + "/" + f.Container
}

// SARIF 2.1.0, the parts written here (docs.oasis-open.org/sarif/sarif/v2.1.0).
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool       sarifTool     `json:"tool"`
		ColumnKind string        `json:"columnKind"`
		Results    []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifText struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifRule struct {
		ID               string         `json:"id"`
		Name             string         `json:"name"`
		ShortDescription sarifText      `json:"shortDescription"`
		FullDescription  sarifText      `json:"fullDescription"`
		Help             sarifText      `json:"help"`
		HelpURI          string         `json:"helpUri"`
		Default          sarifConfig    `json:"defaultConfiguration"`
		Properties       map[string]any `json:"properties"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifText          `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
		BaselineState       string             `json:"baselineState,omitempty"`
		Properties          map[string]any     `json:"properties"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification"`
	}
	sarifLocation struct {
		Physical *sarifPhysical `json:"physicalLocation,omitempty"`
		Logical  []sarifLogical `json:"logicalLocations"`
	}
	sarifPhysical struct {
		Artifact sarifArtifact `json:"artifactLocation"`
		Region   *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn,omitempty"`
	}
	sarifLogical struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// SARIFFingerprint is the partialFingerprints key of a finding's
// fingerprint (finding.Fingerprint).
const SARIFFingerprint = "kubectlCapsFinding/v1"

// WriteSARIF writes the findings as one SARIF 2.1.0 run, as GitHub code
// scanning takes it: every rule with its descriptions, help and
// security-severity; each result with its rule, level, message, the file
// relative to the repository with the line and column of the node, a
// logical location naming the container (the only location of a live
// object), and the fingerprint.
func WriteSARIF(w io.Writer, fs []finding.Finding, o CIOptions) error {
	rules := finding.Rules()
	index := map[string]int{}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "kubectl-caps", Version: o.Version, InformationURI: "https://github.com/kubectl-caps/kubectl-caps",
			Rules: make([]sarifRule, len(rules)),
		}},
		ColumnKind: "unicodeCodePoints",
		Results:    make([]sarifResult, 0, len(fs)),
	}
	for i, r := range rules {
		index[r.ID] = i
		help := finding.DocsURL + "#" + strings.ToLower(r.ID)
		run.Tool.Driver.Rules[i] = sarifRule{
			ID: r.ID, Name: r.Name,
			ShortDescription: sarifText{Text: r.Short},
			FullDescription:  sarifText{Text: r.Full},
			Help: sarifText{Text: r.Help + " See " + help + ".",
				Markdown: fmt.Sprintf("**%s** %s\n\n%s\n\n[%s](%s)", r.ID, r.Short, r.Help, "docs/findings.md", help)},
			HelpURI:    help,
			Default:    sarifConfig{Level: string(r.Level)},
			Properties: map[string]any{"security-severity": r.Severity, "tags": finding.Tags},
		}
	}
	for i := range fs {
		f := &fs[i]
		loc := sarifLocation{Logical: []sarifLogical{{FullyQualifiedName: logicalName(f), Kind: "object"}}}
		if uri := o.fileURI(f.Position.File); uri != "" {
			loc.Physical = &sarifPhysical{Artifact: sarifArtifact{URI: uri, URIBaseID: "%SRCROOT%"}}
			if f.Position.Line > 0 {
				loc.Physical.Region = &sarifRegion{StartLine: f.Position.Line, StartColumn: f.Position.Column}
			}
		}
		props := map[string]any{"namespace": f.Namespace, "workload": f.Workload.Kind + "/" + f.Workload.Name,
			"container": f.Container, "field": f.Field, "status": string(f.Status)}
		if f.Capability != "" {
			props["capability"] = f.Capability
		}
		if f.Risk != "" {
			props["risk"] = f.Risk
		}
		res := sarifResult{
			RuleID: f.RuleID, RuleIndex: index[f.RuleID], Level: string(f.Level),
			Message:             sarifText{Text: f.Message},
			Locations:           []sarifLocation{loc},
			PartialFingerprints: map[string]string{SARIFFingerprint: f.Fingerprint},
			Properties:          props,
		}
		// An excepted finding is reported as suppressed, with the reason
		// (SARIF 2.1.0, sections 3.27.23 and 3.35): inSource when the workload's
		// annotation says so, external for an --exceptions file. GitHub
		// code scanning shows suppressed results as dismissed.
		if f.Status == finding.StatusExcepted {
			kind := "external"
			if strings.Contains(f.ExceptedBy, "annotation") {
				kind = "inSource"
			}
			res.Suppressions = []sarifSuppression{{Kind: kind, Status: "accepted", Justification: f.Reason + " (" + f.ExceptedBy + ")"}}
		}
		switch {
		case f.Status == finding.StatusKnown:
			res.BaselineState = "unchanged"
		case o.Baseline:
			res.BaselineState = "new"
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs:    []sarifRun{run},
	})
}

// JUnit XML as Jenkins and GitLab read it.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		File      string        `xml:"file,attr,omitempty"`
		Failure   *junitFailure `xml:"failure"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes one testcase per container shown, in one testsuite per
// workload. classname is "NAMESPACE.KIND/NAME" (Jenkins groups by what
// precedes the last dot, the namespace, since neither a namespace nor a
// kind has a dot) and name the container; a second row of the same
// container (its pods on another runtime, --per-pod) is told apart by the
// runtime or pod in brackets, so that no two testcases collide. A
// container fails when any of its findings is an error (at or above
// --fail-on for the risk rules): one failure that lists every finding,
// since the JUnit schema allows one per testcase; warnings and notes
// alone are listed in system-out and pass.
func WriteJUnit(w io.Writer, items []report.Item, fs []finding.Finding, o CIOptions) error {
	byContainer := map[string][]finding.Finding{}
	for _, f := range fs {
		k := logicalName(&f)
		byContainer[k] = append(byContainer[k], f)
	}
	doc := junitSuites{Name: "kubectl caps audit"}
	suites := map[string]int{}
	seen := map[string]int{}
	used := map[string]bool{}
	for i := range items {
		it := &items[i]
		class := report.Scope(it) + "." + it.Workload.Kind + "/" + it.Workload.Name
		si, ok := suites[class]
		if !ok {
			si = len(doc.Suites)
			suites[class] = si
			doc.Suites = append(doc.Suites, junitSuite{Name: class})
		}
		name := it.Container
		if seen[class+"\x00"+it.Container] > 0 {
			if it.Pod != "" {
				name += " [pod " + it.Pod + "]"
			} else {
				name += " [" + it.Runtime + "]"
			}
		}
		seen[class+"\x00"+it.Container]++
		for base, n := name, 2; used[class+"\x00"+name]; n++ {
			name = base + " #" + strconv.Itoa(n)
		}
		used[class+"\x00"+name] = true
		tc := junitCase{Classname: class, Name: name}
		mine := byContainer[report.Scope(it)+"/"+it.Workload.Kind+"/"+it.Workload.Name+"/"+it.Container]
		var lines []string
		errors, first := 0, ""
		for _, f := range mine {
			if tc.File == "" {
				tc.File = o.fileURI(f.Position.File)
			}
			lines = append(lines, findingLine(&f, o))
			if f.Level == finding.LevelError && f.Status != finding.StatusExcepted && f.Status != finding.StatusKnown {
				if errors == 0 {
					first = f.RuleID + " " + f.Summary
				}
				errors++
			}
		}
		text := strings.Join(lines, "\n")
		if errors > 0 {
			msg := first
			if errors > 1 {
				msg = fmt.Sprintf("%s (+%d more)", first, errors-1)
			}
			tc.Failure = &junitFailure{Message: msg, Type: "kubectl-caps", Text: text}
			doc.Suites[si].Failures++
			doc.Failures++
		} else {
			tc.SystemOut = text
		}
		doc.Suites[si].Cases = append(doc.Suites[si].Cases, tc)
		doc.Suites[si].Tests++
		doc.Tests++
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// findingLine is one finding on a line: "error CAPS002 FILE:LINE:COL
// NET_ADMIN: high risk (...)", for JUnit's texts.
func findingLine(f *finding.Finding, o CIOptions) string {
	at := o.fileURI(f.Position.File)
	switch {
	case at == "":
		at = f.Field
	case f.Position.Line > 0:
		at += ":" + strconv.Itoa(f.Position.Line)
		if f.Position.Column > 0 {
			at += ":" + strconv.Itoa(f.Position.Column)
		}
	}
	return fmt.Sprintf("%s %s %s %s%s", f.Level, f.RuleID, at, f.Summary, statusNote(f))
}

// statusNote says why a finding does not fail the run: an exception
// (where it is written, and its reason) or the baseline; "" when open.
func statusNote(f *finding.Finding) string {
	switch f.Status {
	case finding.StatusExcepted:
		return fmt.Sprintf(" [excepted by %s: %s]", f.ExceptedBy, f.Reason)
	case finding.StatusKnown:
		return " [known: in the baseline]"
	}
	return ""
}

// WriteGitHub writes each finding as a GitHub Actions workflow command
// (docs.github.com, "Workflow commands for GitHub Actions": error,
// warning, notice), which the runner shows as an annotation on the file's
// line in the pull request, without code scanning:
//
//	::error file=deploy/web.yaml,line=12,col=11,title=CAPS002 NET_ADMIN (deploy/web app)::container "app" holds ...
//
// A live object's annotation has no file. GitHub shows at most 10
// annotations of each kind per step and 50 per job (actions/toolkit
// docs/problem-matchers.md, "Limitations"), so the most severe come first:
// by the rule's security-severity, then in the order read.
func WriteGitHub(w io.Writer, fs []finding.Finding, o CIOptions) error {
	sorted := slices.Clone(fs)
	slices.SortStableFunc(sorted, func(a, b finding.Finding) int {
		return cmp.Compare(severity(b.RuleID), severity(a.RuleID))
	})
	for i := range sorted {
		f := &sorted[i]
		cmd := "notice"
		switch {
		case f.Status == finding.StatusExcepted || f.Status == finding.StatusKnown:
			// Shown, never hidden, but as a notice: it fails nothing.
		case f.Level == finding.LevelError:
			cmd = "error"
		case f.Level == finding.LevelWarning:
			cmd = "warning"
		}
		var props []string
		if uri := o.fileURI(f.Position.File); uri != "" && !strings.Contains(uri, "://") {
			p, _ := url.PathUnescape(uri)
			props = append(props, "file="+escapeProperty(p))
			if f.Position.Line > 0 {
				props = append(props, "line="+strconv.Itoa(f.Position.Line))
				if f.Position.Column > 0 {
					props = append(props, "col="+strconv.Itoa(f.Position.Column))
				}
			}
		}
		// The names and the message go through safetext first: the
		// runner unescapes %0A back into a line break, and a terminal
		// escape would reach the log as it is.
		title := fmt.Sprintf("%s %s/%s %s", f.RuleID, safetext.Quote(f.Namespace), f.Workload.Label(), safetext.Quote(f.Container))
		if f.Capability != "" {
			title += " " + safetext.Quote(f.Capability)
		}
		props = append(props, "title="+escapeProperty(title))
		if _, err := fmt.Fprintf(w, "::%s %s::%s\n", cmd, strings.Join(props, ","), escapeData(safetext.Prose(f.Message+statusNote(f)))); err != nil {
			return err
		}
	}
	return nil
}

// severity is a rule's security-severity as a number, for ordering.
func severity(id string) float64 {
	r, _ := finding.Lookup(id)
	return r.Score()
}

// escapeData and escapeProperty escape as the runner unescapes
// (actions/toolkit packages/core/src/command.ts escapeData,
// escapeProperty): %, CR and LF in the message; also : and , in a
// property.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// IsCIFormat reports whether -o names a format for CI and code review.
func IsCIFormat(output string) bool {
	return output == FormatSARIF || output == FormatJUnit || output == FormatGitHub
}

// WriteCI writes the findings of the rows shown, settled against --fail-on
// (report.Findings), in a CI format.
func WriteCI(w io.Writer, format string, items []report.Item, fs []finding.Finding, o CIOptions) error {
	switch format {
	case FormatSARIF:
		return WriteSARIF(w, fs, o)
	case FormatJUnit:
		return WriteJUnit(w, items, fs, o)
	}
	return WriteGitHub(w, fs, o)
}

// Values of audit's --annotations.
var AnnotationModes = []string{"auto", "always", "never"}

// AnnotationsOn decides --annotations: always, never, or auto (the value
// of a bare --annotations), which annotates only inside GitHub Actions,
// where the runner sets GITHUB_ACTIONS=true. So one command line serves a
// workflow and a laptop, and nothing changes unless asked.
func AnnotationsOn(mode, githubActions string) bool {
	return mode == "always" || mode == "auto" && githubActions == "true"
}
