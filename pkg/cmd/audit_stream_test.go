package cmd

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/profile"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
)

// exampleRollup rolls up every workload of the examples as a live audit
// would, on two runtimes, with a note carrying characters that JSON
// escapes, so the streamed and the buffered output have something to
// disagree about.
func exampleRollup(t *testing.T) *audit.Rollup {
	t.Helper()
	roll := &audit.Rollup{}
	n := 0
	for _, rt := range []string{"containerd://2.1.4", "cri-o://1.17.3"} {
		p, err := profile.Parse(rt)
		if err != nil {
			t.Fatal(err)
		}
		_, err = manifest.Read(manifest.Options{Filenames: []string{examples}, Recursive: true}, func(w manifest.Workload) error {
			n++
			return roll.Add(audit.Target{
				Namespace:   "shop",
				Workload:    report.WorkloadRef{Kind: w.Kind, Name: w.Name},
				Spec:        audit.Relevant(w.Spec),
				FieldPrefix: "spec",
				Profile:     p,
				Notes:       []string{`audited as cri-o<1.18 & "quoted"`},
			}, fmt.Sprintf("%s-%d", w.Name, n))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return roll
}

// streamReport must print exactly what print prints for -o json and -o
// yaml, with the same --min-risk filtering and the same --fail-on error.
func TestStreamReportMatchesPrint(t *testing.T) {
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) { testStreamReport(t, format) })
	}
}

func testStreamReport(t *testing.T, format string) {
	roll := exampleRollup(t)
	tests := []struct {
		name            string
		minRisk, failOn string
		empty           *audit.Rollup
	}{
		{name: "everything"},
		{name: "min-risk high", minRisk: "high"},
		{name: "fail-on medium", failOn: "medium"},
		{name: "min-risk critical, fail-on low", minRisk: "critical", failOn: "low"},
		{name: "no pods", empty: &audit.Rollup{}},
	}
	kept := map[string]int{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := roll
			if tt.empty != nil {
				r = tt.empty
			}
			opts := func(out *bytes.Buffer) *AuditOptions {
				o := &AuditOptions{Output: format, auditor: audit.New(), IOStreams: genericiooptions.IOStreams{Out: out}}
				var err error
				if tt.minRisk != "" {
					if o.minRisk, err = catalog.ParseRisk(tt.minRisk); err != nil {
						t.Fatal(err)
					}
				}
				if tt.failOn != "" {
					if o.failOn, err = catalog.ParseRisk(tt.failOn); err != nil {
						t.Fatal(err)
					}
				}
				return o
			}
			var want, got bytes.Buffer
			rep := report.New()
			r.Each(audit.New(), func(it report.Item, _ *engine.Result) { rep.Items = append(rep.Items, it) })
			wantErr := opts(&want).print(rep)
			gotErr := opts(&got).streamReport(r)
			if diff := cmp.Diff(want.String(), got.String()); diff != "" {
				t.Errorf("streamed %s differs from print's (-print +stream):\n%s", format, diff)
			}
			if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) || ExitCode(wantErr) != ExitCode(gotErr) {
				t.Errorf("error %v (exit %d), print gives %v (exit %d)", gotErr, ExitCode(gotErr), wantErr, ExitCode(wantErr))
			}
			var parsed report.Report
			if err := yaml.UnmarshalStrict(got.Bytes(), &parsed); err != nil {
				t.Fatalf("streamed output does not parse as a report: %v", err)
			}
			kept[tt.name] = len(parsed.Items)
		})
	}
	// The cases must exercise several items, a filtered subset and none,
	// or the comparison above proves little.
	if !(kept["everything"] > kept["min-risk high"] && kept["min-risk high"] > 0 && kept["no pods"] == 0) {
		t.Errorf("items kept per case: %v; want everything > min-risk high > 0 and none for no pods", kept)
	}
}
