package printers

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/internal/sariftest"
	"github.com/kubectl-caps/kubectl-caps/pkg/finding"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

func TestFileURI(t *testing.T) {
	o := CIOptions{Root: "/repo"}
	tests := []struct{ in, want string }{
		{"deploy/web.yaml", "deploy/web.yaml"},
		{"./deploy//web.yaml", "deploy/web.yaml"},
		{"/repo/deploy/web.yaml", "deploy/web.yaml"},
		{"/elsewhere/web.yaml", ""}, // outside the repository: no file location
		{"../web.yaml", ""},
		{"STDIN", ""},
		{"", ""},
		{"deploy/my app.yaml", "deploy/my%20app.yaml"},
		{"a:b.yaml", "./a:b.yaml"}, // not read as a URI scheme
		{"https://example.com/x.yaml", "https://example.com/x.yaml"},
	}
	for _, tt := range tests {
		if got := o.fileURI(tt.in); got != tt.want {
			t.Errorf("fileURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func ciFinding(rule string, lvl finding.Level, file string, line, col int, msg string) finding.Finding {
	w := workload.Ref{Kind: "Deployment", Name: "web"}
	return finding.Finding{
		RuleID: rule, Level: lvl, Namespace: "shop", Workload: w, Container: "app", Capability: "NET_ADMIN",
		Position: workload.Position{File: file, Line: line, Column: col}, Summary: "short", Message: msg,
		Fingerprint: finding.Fingerprint(rule, "shop", w, "app", msg), Status: finding.StatusOpen,
	}
}

// The workflow commands exactly as the runner reads them: % escaped in the
// message, and : and , too in a property (the runner's ActionCommand
// unescaping; actions/toolkit command.ts escapeProperty). A line break in
// a message, which only the input can put there, is written as \r\n
// (safetext.Prose), so the runner cannot unescape it into a second line.
func TestWriteGitHub(t *testing.T) {
	fs := []finding.Finding{
		ciFinding("CAPS002", finding.LevelError, "dir,1/web:v2.yaml", 12, 9, "100% bad\r\nnext line"),
		ciFinding("CAPS105", finding.LevelWarning, "STDIN", 3, 1, "no file"),
		ciFinding("CAPS007", finding.LevelNote, "a.yaml", 4, 0, "note"),
	}
	var b bytes.Buffer
	if err := WriteGitHub(&b, fs, CIOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "::error file=dir%2C1/web%3Av2.yaml,line=12,col=9,title=CAPS002 shop/deploy/web app NET_ADMIN::100%25 bad\\r\\nnext line\n" +
		"::warning title=CAPS105 shop/deploy/web app NET_ADMIN::no file\n" +
		"::notice file=a.yaml,line=4,title=CAPS007 shop/deploy/web app NET_ADMIN::note\n"
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// GitHub shows 10 of a kind per step: the most severe rule first.
	b.Reset()
	if err := WriteGitHub(&b, []finding.Finding{fs[2], fs[1], fs[0]}, CIOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != want {
		t.Errorf("not ordered by severity:\n%s", got)
	}
}

// Testcases never collide: the same container on two runtimes, or twice.
// Text is escaped as XML requires, even a control character from a
// manifest's entry (which CDATA would pass through, making the file
// unreadable).
func TestWriteJUnitNames(t *testing.T) {
	it := report.Item{Namespace: "shop", Workload: workload.Ref{Kind: "Deployment", Name: "web"}, Container: "app", Runtime: "containerd"}
	crio := it
	crio.Runtime = "cri-o"
	fs := []finding.Finding{ciFinding("CAPS002", finding.LevelError, "w.yaml", 1, 1, "m")}
	odd := ciFinding("CAPS103", finding.LevelWarning, "w.yaml", 2, 3, "m2")
	odd.Summary = "\"NET\x01RAW\" <names> no capability & more"
	fs = append(fs, odd)
	var b bytes.Buffer
	if err := WriteJUnit(&b, []report.Item{it, crio, it}, fs, CIOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`<testsuites name="kubectl caps audit" tests="3" failures="3">`,
		`<testcase classname="shop.Deployment/web" name="app" file="w.yaml">`,
		`<testcase classname="shop.Deployment/web" name="app [cri-o]" file="w.yaml">`,
		`<testcase classname="shop.Deployment/web" name="app [containerd]" file="w.yaml">`,
		"<failure message=\"CAPS002 short\" type=\"kubectl-caps\">error CAPS002 w.yaml:1:1 short&#xA;warning CAPS103 w.yaml:2:3 &#34;NET\uFFFDRAW&#34; &lt;names&gt; no capability &amp; more</failure>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
}

// A live object has no file: its results carry the logical location
// alone, and the document is still valid SARIF.
func TestWriteSARIFLive(t *testing.T) {
	f := ciFinding("CAPS002", finding.LevelError, "", 0, 0, "m")
	var b bytes.Buffer
	if err := WriteSARIF(&b, []finding.Finding{f}, CIOptions{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	sariftest.Validate(t, b.Bytes())
	if strings.Contains(b.String(), "physicalLocation") || !strings.Contains(b.String(), `"fullyQualifiedName": "shop/Deployment/web/app"`) {
		t.Errorf("want a logical location only:\n%s", b.String())
	}
}
