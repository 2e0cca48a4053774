package cmd

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// The v1alpha2 report loses nothing: for the examples on every runtime and
// for the shared corpus of real manifests, each v1alpha1 item is rebuilt
// from the v1alpha2 document (JSON and YAML) and compared equal.
func TestReportV1alpha2RebuildsV1alpha1(t *testing.T) {
	type input struct{ name, dir string }
	inputs := []input{{"examples", examples}}
	if dir, ok := sharedtest.Optional(t, "corpus"); ok {
		inputs = append(inputs, input{"corpus", dir})
	} else {
		t.Log("shared/corpus absent: the examples only")
	}
	for _, in := range inputs {
		for _, rt := range []string{"containerd", "cri-o://1.17.3", "docker://20.10.24", "docker"} {
			t.Run(in.name+"/"+rt, func(t *testing.T) {
				args := []string{"audit", "-f", in.dir, "-R", "--runtime", rt}
				out, errOut, code := run(t, "", append(args, "-o", "json")...)
				if code != 0 {
					t.Fatalf("v1alpha1: exit %d: %s", code, errOut)
				}
				var want report.Report
				if err := json.Unmarshal([]byte(out), &want); err != nil {
					t.Fatal(err)
				}
				if len(want.Items) < 10 {
					t.Fatalf("%d items: the case proves little", len(want.Items))
				}
				for _, format := range []string{"json", "yaml"} {
					out, errOut, code := run(t, "", append(args, "-o", format, "--report-version", "v1alpha2")...)
					if code != 0 {
						t.Fatalf("v1alpha2 %s: exit %d: %s", format, code, errOut)
					}
					var lean report.LeanReport
					if err := yaml.UnmarshalStrict([]byte(out), &lean); err != nil {
						t.Fatalf("v1alpha2 %s does not parse strictly: %v", format, err)
					}
					if lean.APIVersion != "caps.kubectl-caps.io/v1alpha2" || lean.Kind != "CapabilityReport" {
						t.Errorf("%s: apiVersion %q, kind %q", format, lean.APIVersion, lean.Kind)
					}
					got, err := lean.Expand()
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(&want, got); diff != "" {
						t.Errorf("%s: v1alpha2 expanded differs from v1alpha1 (-v1alpha1 +expanded):\n%s", format, diff)
					}
					if len(out) >= len(mustMarshal(t, format, want)) {
						t.Errorf("%s: v1alpha2 is %d bytes, not less than v1alpha1's", format, len(out))
					}
				}
			})
		}
	}
}

func mustMarshal(t *testing.T, format string, v any) []byte {
	t.Helper()
	var b []byte
	var err error
	if format == "json" {
		b, err = json.MarshalIndent(v, "", "    ")
	} else {
		b, err = yaml.Marshal(v)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReportVersionGolden(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		golden string
	}{
		{[]string{"-o", "json"}, "audit/examples-v1alpha2.json"},
		{[]string{"-o", "yaml"}, "audit/examples-v1alpha2.yaml"},
		{[]string{"-o", "jsonpath={.capabilities.NET_RAW.risk} {.items[*].findings[*].capability}"}, "audit/examples-v1alpha2-jsonpath.txt"},
		{[]string{"-o", "custom-columns=NAME:.workload.name,CONTAINER:.container,RAISED:.findings[*].capability"}, "audit/examples-v1alpha2-columns.txt"},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"audit", "-f", examples, "--report-version", "v1alpha2"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
	// The default stays v1alpha1, so that nobody's jq script breaks unasked.
	out, _, _ := run(t, "", "audit", "-f", examples, "-o", "jsonpath={.apiVersion}")
	if out != "caps.kubectl-caps.io/v1alpha1" {
		t.Errorf("default apiVersion %q", out)
	}
	expectError(t, []string{"audit", "-f", examples, "-o", "json", "--report-version", "v2"}, ExitUsage,
		`unknown --report-version "v2"; use v1alpha1 or v1alpha2`)
}
