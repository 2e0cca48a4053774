package cmd

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/internal/sariftest"
	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
)

// The CI formats on the bundled examples and on the shared corpus, run
// from the directory the files are named relative to (as a CI job runs
// from its checkout), each SARIF document held to the SARIF 2.1.0 schema
// and GitHub's requirements. Not parallel: t.Chdir.
func TestAuditCIFormatsGolden(t *testing.T) {
	corpus, haveCorpus := sharedtest.Optional(t, "corpus")
	if haveCorpus {
		abs, err := filepath.Abs(corpus)
		if err != nil {
			t.Fatal(err)
		}
		corpus = abs
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir string
		args      []string
		golden    string
		code      int
	}{
		{"examples sarif", repo, []string{"-f", "examples", "-o", "sarif"}, "ci/examples.sarif", 0},
		{"examples sarif fail-on medium", repo, []string{"-f", "examples", "-o", "sarif", "--fail-on", "medium"}, "ci/examples-medium.sarif", 1},
		{"examples junit", repo, []string{"-f", "examples", "-o", "junit", "--fail-on", "high"}, "ci/examples.junit.xml", 1},
		{"examples github", repo, []string{"-f", "examples", "-o", "github", "--fail-on", "critical"}, "ci/examples.github.txt", 1},
		{"examples github on cri-o", repo, []string{"-f", "examples", "-o", "github", "--runtime", "cri-o://1.20"}, "ci/examples-crio120.github.txt", 0},
		{"corpus sarif", filepath.Dir(corpus), []string{"-f", "corpus", "-R", "-o", "sarif", "--fail-on", "high"}, "ci/corpus.sarif", 1},
		{"corpus junit", filepath.Dir(corpus), []string{"-f", "corpus", "-R", "-o", "junit"}, "ci/corpus.junit.xml", 0},
		{"corpus github", filepath.Dir(corpus), []string{"-f", "corpus", "-R", "-o", "github"}, "ci/corpus.github.txt", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasPrefix(tt.name, "corpus") && !haveCorpus {
				t.Skip("../shared is absent")
			}
			wd, _ := os.Getwd()
			t.Chdir(tt.dir)
			out, errOut, code := run(t, "", append([]string{"audit", "--runtime", "containerd"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			if errOut != "" && tt.code == 0 {
				t.Errorf("stderr %q: the CI formats carry the warnings themselves", errOut)
			}
			if strings.HasSuffix(tt.golden, ".sarif") {
				sariftest.Validate(t, []byte(out))
			}
			if strings.HasSuffix(tt.golden, ".xml") {
				checkJUnit(t, out)
			}
			t.Chdir(wd)
			golden(t, tt.golden, out)
		})
	}
}

// checkJUnit parses a JUnit document and checks that no two testcases
// share a classname and name, and that the counts add up.
func checkJUnit(t *testing.T, doc string) {
	t.Helper()
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Classname string    `xml:"classname,attr"`
				Name      string    `xml:"name,attr"`
				Failure   *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(doc), &suites); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	seen := map[string]bool{}
	tests, failures := 0, 0
	for _, s := range suites.Suites {
		for _, c := range s.Cases {
			k := c.Classname + " " + c.Name
			if seen[k] {
				t.Errorf("testcase %q twice", k)
			}
			seen[k] = true
			tests++
			if c.Failure != nil {
				failures++
			}
		}
	}
	if tests == 0 || tests != suites.Tests || failures != suites.Failures {
		t.Errorf("%d testcases, %d failures; the document says %d and %d", tests, failures, suites.Tests, suites.Failures)
	}
}

// --fail-on and the findings agree: the containers that fail the run are
// exactly those with an error among their risk findings.
func TestAuditFindingsFollowFailOn(t *testing.T) {
	for _, failOn := range []string{"low", "medium", "high", "critical"} {
		t.Run(failOn, func(t *testing.T) {
			out, errOut, code := run(t, "", "audit", "-f", examples, "-o", "sarif", "--fail-on", failOn)
			var doc struct {
				Runs []struct {
					Results []struct {
						RuleID     string         `json:"ruleId"`
						Level      string         `json:"level"`
						Properties map[string]any `json:"properties"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			failing := map[string]bool{}
			for _, r := range doc.Runs[0].Results {
				if r.Level == "error" && r.Properties["risk"] != nil {
					p := r.Properties
					failing[fmt.Sprint(p["namespace"], p["workload"], p["container"])] = true
				}
			}
			want := fmt.Sprintf("error: %d container(s) hold capabilities at or above --fail-on=%s", len(failing), failOn)
			if len(failing) == 0 || code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("exit %d, stderr %q; want %q", code, errOut, want)
			}
		})
	}
}

// --annotations adds the annotations to stderr beside the table: always,
// or with a bare --annotations only inside GitHub Actions.
func TestAuditAnnotations(t *testing.T) {
	t.Chdir("../..")
	file := filepath.Join("examples", "05-add-and-drop.yaml")
	tests := []struct {
		env  string
		args []string
		want bool
	}{
		{"true", []string{"--annotations"}, true},
		{"", []string{"--annotations"}, false},
		{"", []string{"--annotations=always"}, true},
		{"true", []string{"--annotations=never"}, false},
		{"true", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.env+strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("GITHUB_ACTIONS", tt.env)
			out, errOut, code := run(t, "", append([]string{"audit", "-f", file}, tt.args...)...)
			if code != 0 || !strings.HasPrefix(out, "NAMESPACE") {
				t.Fatalf("exit %d, stdout %q: the table stays on stdout", code, out)
			}
			got := strings.Contains(errOut, "\n::error file=") || strings.HasPrefix(errOut, "::error file=")
			if got != tt.want {
				t.Errorf("annotations on stderr: %v, want %v\n%s", got, tt.want, errOut)
			}
			if tt.want && !strings.Contains(errOut, "::warning file=examples/05-add-and-drop.yaml,line=22,col=20,title=CAPS102 data/sts/db postgres all::") {
				t.Errorf("no warning annotation naming the file:\n%s", errOut)
			}
		})
	}
	expectError(t, []string{"audit", "-f", file, "--annotations=yes"}, 2, "--annotations")
}
