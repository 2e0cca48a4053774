package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// repo is a small repository: manifests, custom resources, a Helm chart,
// Helm values, kustomizations and a GitHub workflow.
const repo = "../source/manifest/testdata/repo"

// Walking a repository prints the table of what is in it, with a note per
// file that is not a manifest and a summary line (issue 16, item 9), and
// audits custom resources that carry a pod template (item 10).
func TestAuditRepositoryGolden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		golden string
	}{
		{"repository walk", []string{"audit", "-f", repo, "-R"}, "audit/repo"},
		{"kustomization", []string{"audit", "-k", repo + "/kustomize/overlay", "-o", "wide"}, "audit/kustomize"},
		{"namespace", []string{"audit", "-f", repo, "-R", "-n", "serverless"}, "audit/repo-ns"},
		{"suggest-drop on a kustomization", []string{"suggest-drop", "-k", repo + "/kustomize/overlay", "-o", "patch"}, "suggest/kustomize"},
		{"suggest-drop on a custom resource", []string{"suggest-drop", "-f", repo + "/apps/rollout.yaml", "-o", "patch"}, "suggest/rollout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			golden(t, tt.golden+".txt", out)
			golden(t, tt.golden+".stderr.txt", errOut)
		})
	}
}

// The case: a Rollout next to a Deployment gave only the
// Deployment's row, without a word, exit 0.
func TestAuditCustomResourceBesideDeployment(t *testing.T) {
	out, errOut, code := run(t, "", "audit", "-f", repo+"/apps/rollout.yaml", "-f", repo+"/apps/web.yaml", "-o", "json", "--fail-on", "critical")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Items) != 2 || rep.Items[0].Workload.Kind != "Rollout" || rep.Items[1].Workload.Kind != "Deployment" {
		t.Fatalf("items %+v", rep.Items)
	}
	ro := rep.Items[0]
	if len(ro.Notes) == 0 || !strings.Contains(ro.Notes[0], "a custom resource; its pod template at spec.template") {
		t.Errorf("the Rollout's item does not say it is a custom resource: %q", ro.Notes)
	}
	if !strings.Contains(strings.Join(ro.Effective, ","), "NET_ADMIN") {
		t.Errorf("the Rollout's add is not audited: %v", ro.Effective)
	}
	if !strings.Contains(errOut, `Note: `+repo+`/apps/rollout.yaml:2: document 1: Rollout "checkout" (argoproj.io/v1alpha1): a custom resource`) {
		t.Errorf("stderr lacks the note:\n%s", errOut)
	}
	// --fail-on sees the custom resource's containers too.
	_, _, code = run(t, "", "audit", "-f", repo+"/apps/rollout.yaml", "--fail-on", "high")
	if code != ExitFindings {
		t.Errorf("--fail-on=high on the Rollout (NET_ADMIN): exit %d, want %d", code, ExitFindings)
	}
}

// A broken manifest found in a walk is still an error, but the rest of the
// run is printed first; a broken file named explicitly prints nothing.
func TestAuditPartialWalk(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good, err := os.ReadFile(filepath.Join(examples, "01-web-defaults.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write("a-good.yaml", string(good))
	write("b-broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: [\n")
	write("c-values.yaml", "replicaCount: 1\n")

	for _, cmd := range []string{"audit", "suggest-drop"} {
		t.Run(cmd, func(t *testing.T) {
			out, errOut, code := run(t, "", cmd, "-f", dir, "-o", "json")
			if code != ExitInput {
				t.Errorf("exit %d, want %d", code, ExitInput)
			}
			var doc struct{ Items []json.RawMessage }
			if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Items) != 1 {
				t.Errorf("stdout must hold the good file's workload: %v\n%s", err, out)
			}
			for _, want := range []string{
				"c-values.yaml: skipped, not a Kubernetes manifest",
				"Skipped 1 of the 3 files found in directories",
				"error: 1 problem(s) in files found in directories; the output leaves them out:\n" + filepath.Join(dir, "b-broken.yaml") + ":4: document 1: invalid YAML",
			} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
		})
	}
	t.Run("with --fail-on, the input error decides the exit code", func(t *testing.T) {
		out, errOut, code := run(t, "", "audit", "-f", dir, "--fail-on", "low")
		if code != ExitInput || !strings.Contains(out, "deploy/web") {
			t.Errorf("exit %d, stdout %q", code, out)
		}
		if !strings.Contains(errOut, "hold capabilities at or above --fail-on=low") {
			t.Errorf("the findings are not said:\n%s", errOut)
		}
	})
	t.Run("named explicitly: strict", func(t *testing.T) {
		expectError(t, []string{"audit", "-f", filepath.Join(dir, "b-broken.yaml"), "-f", dir}, ExitInput, "invalid YAML")
		expectError(t, []string{"audit", "-f", filepath.Join(dir, "c-values.yaml")}, ExitInput, "the object has no kind")
	})
}

func TestSourceFlagErrors(t *testing.T) {
	k := repo + "/kustomize/overlay"
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "-k", k, "-f", repo}, "only one of -f or -k can be specified"},
		{[]string{"audit", "-k", k, "-R"}, "the -k flag can't be used with -f or -R"},
		{[]string{"suggest-drop", "-k", k, "-A"}, "apply to the live cluster, not to -f or -k manifests"},
		{[]string{"audit", "-k", k, "deploy/web"}, "cannot be combined with -f or -k"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			expectError(t, tt.args, ExitUsage, tt.want)
		})
	}
	expectError(t, []string{"audit", "-k", repo + "/apps"}, ExitInput, "kustomize cannot render this directory")
}

// -n with -f selects, and says what it left out; an empty selection says so.
func TestAuditNamespaceSelects(t *testing.T) {
	out, errOut, code := run(t, "", "audit", "-f", repo, "-R", "-n", "nowhere", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// Only the Deployment that sets no namespace: kubectl -n would create it there.
	if len(rep.Items) != 1 || rep.Items[0].Workload.Name != "api" || rep.Items[0].Namespace != "nowhere" {
		t.Errorf("items %+v", rep.Items)
	}
	if !strings.Contains(errOut, "Note: -n nowhere left out 4 workload(s) in other namespaces (serverless 1, shop 3)") {
		t.Errorf("stderr:\n%s", errOut)
	}
	_, errOut, code = run(t, "", "audit", "-f", repo+"/apps/web.yaml", "-n", "nowhere")
	if code != 0 || !strings.Contains(errOut, "No workloads in namespace nowhere.") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}
