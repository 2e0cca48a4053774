package printers

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// openSpools are the files under dir this process holds open, removed
// from the directory or not: a spool is removed from its directory as
// soon as it is created, so only /proc/self/fd (Linux) still sees it.
func openSpools(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to see open files by: %v", err)
	}
	var open []string
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, dir+string(filepath.Separator)) {
			open = append(open, l)
		}
	}
	return open
}

// noSpoolLeft fails unless dir is empty and no file under it is open.
func noSpoolLeft(t *testing.T, dir string) {
	t.Helper()
	if left, err := os.ReadDir(dir); err != nil || len(left) > 0 {
		t.Errorf("spool directory: %v, %v; want it empty", left, err)
	}
	if open := openSpools(t, dir); len(open) > 0 {
		t.Errorf("spool files still open: %q", open)
	}
}

// A document whose items come partly straight from Write and partly from
// spools, some empty, some discarded, is byte for byte the document that
// Write alone prints for the items kept, in JSON and YAML, in v1alpha1
// and in v1alpha2, whose catalog section covers the spooled items'
// capabilities and none of the discarded ones'. Spools are written
// concurrently, as the clusters of a fleet are read.
func TestSpoolMatchesDirectStream(t *testing.T) {
	all := exampleItems(t)
	// A capability some items' bounding sets name and others' do not:
	// the discarded spool gets the items that name it, so that a catalog
	// section that counted them would show it.
	gone := ""
	for _, it := range all {
		for _, c := range it.Bounding {
			if gone == "" && slices.ContainsFunc(all, func(o report.Item) bool { return !slices.Contains(o.Bounding, c) }) {
				gone = c
			}
		}
	}
	var kept, dropped []report.Item
	for _, it := range all {
		if slices.Contains(it.Bounding, gone) {
			dropped = append(dropped, it)
		} else {
			kept = append(kept, it)
		}
	}
	if gone == "" || len(kept) < 4 || len(dropped) == 0 {
		t.Fatalf("%d items kept, %d dropped (by %q): the cases prove little", len(kept), len(dropped), gone)
	}
	// Several batches, encoded on several cores, and a short last one.
	var many []report.Item
	for len(many) < 3*batchSize {
		many = append(many, kept...)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	third := len(kept) / 3
	cases := map[string][][]report.Item{
		// The parts of the document in order: the first straight into
		// it, the others each a spool; nil is a spool never written.
		"direct then spools":  {kept[:third], kept[third : 2*third], nil, kept[2*third:]},
		"spool first":         {nil, kept[:third], kept[third:]},
		"only empty spools":   {nil, nil, nil},
		"many, in batches":    {many[:batchSize/2], many[batchSize/2 : 2*batchSize+7], many[2*batchSize+7:]},
		"one spool, no write": {nil, kept},
	}
	for _, format := range []string{FormatJSON, FormatYAML} {
		for _, version := range report.Versions {
			for name, parts := range cases {
				t.Run(format+"/"+version+"/"+name, func(t *testing.T) {
					dir := t.TempDir()
					t.Setenv("TMPDIR", dir)
					var want, got bytes.Buffer
					ws, err := NewVersionedReportStream(&want, format, version)
					if err != nil {
						t.Fatal(err)
					}
					for _, part := range parts {
						for i := range part {
							if err := ws.Write(&part[i]); err != nil {
								t.Fatal(err)
							}
						}
					}
					if err := ws.Close(); err != nil {
						t.Fatal(err)
					}

					s, err := NewVersionedReportStream(&got, format, version)
					if err != nil {
						t.Fatal(err)
					}
					// The first part straight into the document, through
					// a spool that is not ahead of its turn.
					through := s.Spool(false)
					for i := range parts[0] {
						if err := through.Write(&parts[0][i]); err != nil {
							t.Fatal(err)
						}
					}
					if err := s.Append(through); err != nil {
						t.Fatal(err)
					}
					// Every spool written at once, one of them discarded.
					spools := make([]*Spool, len(parts))
					discard := s.Spool(true)
					var wg sync.WaitGroup
					errs := make([]error, len(parts)+1)
					for i, part := range append(parts[1:], dropped) {
						p := discard
						if i < len(parts)-1 {
							spools[i+1] = s.Spool(true)
							p = spools[i+1]
						}
						wg.Add(1)
						go func() {
							defer wg.Done()
							for j := range part {
								if errs[i] = p.Write(&part[j]); errs[i] != nil {
									return
								}
							}
						}()
					}
					wg.Wait()
					for _, err := range errs {
						if err != nil {
							t.Fatal(err)
						}
					}
					discard.Discard()
					for _, p := range spools[1:] {
						if err := s.Append(p); err != nil {
							t.Fatal(err)
						}
					}
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want.String(), got.String()); diff != "" {
						t.Errorf("appended spools differ from one stream (-want +got):\n%s", diff)
					}
					if version == report.Version2 && strings.Contains(got.String(), gone) {
						t.Errorf("the document names %s, which only the discarded spool's items hold", gone)
					}
					noSpoolLeft(t, dir)
				})
			}
		}
	}
}

// A spool is a file under $TMPDIR, open while it is written and gone from
// the directory at once; a run that stops before a spool's turn discards
// it with DiscardSpools, leaving nothing; and a $TMPDIR that cannot hold
// one is an error that says what the spool is for.
func TestSpoolFiles(t *testing.T) {
	items := exampleItems(t)
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	var out bytes.Buffer
	s, err := NewReportStream(&out, FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	a, b, never := s.Spool(true), s.Spool(true), s.Spool(true)
	for i := range items {
		if err := a.Write(&items[i]); err != nil {
			t.Fatal(err)
		}
		if err := b.Write(&items[i]); err != nil {
			t.Fatal(err)
		}
	}
	if open := openSpools(t, dir); len(open) != 2 {
		t.Errorf("two spools written, %d open: %q", len(open), open)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("spool files left in the directory while open: %v", left)
	}
	if err := s.Append(a); err != nil {
		t.Fatal(err)
	}
	if open := openSpools(t, dir); len(open) != 1 {
		t.Errorf("one spool appended, %d still open, want 1: %q", len(open), open)
	}
	s.DiscardSpools()
	never.Discard()
	noSpoolLeft(t, dir)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var one bytes.Buffer
	if err := WriteReport(&one, FormatJSON, report.Version1, items); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(one.String(), out.String()); diff != "" {
		t.Errorf("the discarded spool printed something (-want +got):\n%s", diff)
	}
	var nilStream *ReportStream
	nilStream.DiscardSpools()
	if err := nilStream.Append(nilStream.Spool(true)); err != nil {
		t.Errorf("a nil stream's nil spool: %v", err)
	}

	t.Setenv("TMPDIR", filepath.Join(dir, "missing"))
	err = s.Spool(true).Write(&items[0])
	if want := "spooling a cluster's report items until its turn (docs/fleet.md; $TMPDIR sets the directory): open " + filepath.Join(dir, "missing"); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("a missing $TMPDIR: %v, want %q...", err, want)
	}
}
