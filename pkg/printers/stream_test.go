package printers

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
)

// exampleItems audits every workload of the examples on two runtimes,
// with a note carrying characters that JSON escapes, so the streamed and
// the whole document have something to disagree about.
func exampleItems(t *testing.T) []report.Item {
	t.Helper()
	var items []report.Item
	for _, rt := range []string{"containerd://2.1.4", "cri-o://1.17.3"} {
		p, err := runtimes.Parse(rt)
		if err != nil {
			t.Fatal(err)
		}
		_, err = manifest.Read(manifest.Options{Filenames: []string{"../../examples"}, Recursive: true}, func(w manifest.Workload) error {
			tg := w.Target("shop", p)
			tg.Pods, tg.Pod = 3, w.Name+"-1"
			tg.Notes = []string{`audited as cri-o<1.18 & "quoted"`}
			audit.Items(&tg, func(it report.Item) { items = append(items, it) })
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return items
}

// A streamed report must be exactly what WriteObject prints for the same
// items: many, a subset, none.
func TestReportStreamMatchesWriteObject(t *testing.T) {
	all := exampleItems(t)
	var high []report.Item
	for _, it := range all {
		if it.RiskAtLeast(catalog.RiskHigh) {
			high = append(high, it)
		}
	}
	if !(len(all) > len(high) && len(high) > 0) {
		t.Fatalf("%d items, %d high: the cases prove little", len(all), len(high))
	}
	// Several batches, encoded on several cores, and a last batch short.
	var many []report.Item
	for len(many) < 3*batchSize {
		many = append(many, all...)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for _, format := range []string{FormatJSON, FormatYAML} {
		for name, items := range map[string][]report.Item{"all": all, "high": high, "none": nil, "many": many} {
			t.Run(format+"/"+name, func(t *testing.T) {
				rep := report.New()
				rep.Items = append(rep.Items, items...)
				var want, got bytes.Buffer
				if err := WriteObject(&want, format, rep); err != nil {
					t.Fatal(err)
				}
				s, err := NewReportStream(&got, format)
				if err != nil {
					t.Fatal(err)
				}
				for i := range items {
					if err := s.Write(&items[i]); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want.String(), got.String()); diff != "" {
					t.Errorf("streamed %s differs from WriteObject's (-whole +stream):\n%s", format, diff)
				}
				var parsed report.Report
				if err := yaml.UnmarshalStrict(got.Bytes(), &parsed); err != nil {
					t.Fatalf("streamed output does not parse as a report: %v", err)
				}
				if len(parsed.Items) != len(items) {
					t.Errorf("%d items parsed, %d written", len(parsed.Items), len(items))
				}
			})
		}
	}
}

// A streamed v1alpha2 report is the document report.NewLeanReport holds:
// in JSON byte for byte what WriteObject prints of it (its catalog section
// comes last in both), in YAML the same document once parsed (the stream
// writes the catalog section after kind, the whole document sorts it
// before items).
func TestLeanStreamMatchesLeanReport(t *testing.T) {
	all := exampleItems(t)
	for _, format := range []string{FormatJSON, FormatYAML} {
		for name, items := range map[string][]report.Item{"all": all, "one": all[:1], "none": nil} {
			t.Run(format+"/"+name, func(t *testing.T) {
				want, err := report.NewLeanReport(items)
				if err != nil {
					t.Fatal(err)
				}
				var whole, got bytes.Buffer
				if err := WriteObject(&whole, format, want); err != nil {
					t.Fatal(err)
				}
				if err := WriteReport(&got, format, report.Version2, items); err != nil {
					t.Fatal(err)
				}
				if format == FormatJSON {
					if diff := cmp.Diff(whole.String(), got.String()); diff != "" {
						t.Errorf("streamed JSON differs from WriteObject's (-whole +stream):\n%s", diff)
					}
				}
				var parsed report.LeanReport
				if err := yaml.UnmarshalStrict(got.Bytes(), &parsed); err != nil {
					t.Fatalf("streamed output does not parse as a v1alpha2 report: %v\n%s", err, got.String())
				}
				if parsed.Items == nil {
					parsed.Items = []report.LeanItem{}
				}
				// Issues and Path are not printed (json:"-"), nor the embedded
				// item's full findings (the lean ones stand for them).
				if diff := cmp.Diff(want, &parsed, cmpopts.IgnoreFields(report.Item{}, "Issues", "Path", "Findings"), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("parsed stream differs (-held +streamed):\n%s", diff)
				}
				if len(items) > 0 && len(parsed.Capabilities) == 0 {
					t.Error("no catalog section")
				}
			})
		}
	}
}

// BenchmarkReportStream is what a live audit spends encoding its report:
// the example items (containerd and cri-o<1.18) written through the stream
// in each version, per item, and the bytes each item takes
// (docs/benchmarks.md).
func BenchmarkReportStream(b *testing.B) {
	items := exampleItems(&testing.T{})
	for _, version := range report.Versions {
		for _, format := range []string{FormatJSON, FormatYAML} {
			b.Run(version+"/"+format, func(b *testing.B) {
				var n countingWriter
				b.ReportAllocs()
				for b.Loop() {
					s, err := NewVersionedReportStream(&n, format, version)
					if err != nil {
						b.Fatal(err)
					}
					for i := range items {
						if err := s.Write(&items[i]); err != nil {
							b.Fatal(err)
						}
					}
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items)), "ns/item")
				b.ReportMetric(float64(n)/float64(b.N*len(items)), "bytes/item")
			})
		}
	}
}

type countingWriter int

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
