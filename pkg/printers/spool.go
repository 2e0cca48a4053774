package printers

import (
	"fmt"
	"io"
	"os"

	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// Spool holds a run of a ReportStream's items written before their turn:
// in a run over several contexts (docs/fleet.md), the items of each
// cluster, encoded namespace by namespace while its pods are read, until
// the clusters before it are printed. The items are encoded as the stream
// encodes them, batchSize at a time on every core, into a temporary file,
// so a cluster waiting for its turn holds a batch in memory, not its
// rollup: memory stays that of one cluster being read, however many wait
// (docs/benchmarks.md). ReportStream.Append copies the file into the
// document in its turn; Discard drops it (a cluster that could not be
// read prints nothing of itself).
//
// The file is created on the first Write, under os.TempDir ($TMPDIR), and
// removed from its directory at once where the system allows it (every
// Unix): its space is freed when it is closed, also when the process is
// interrupted or killed. Elsewhere (Windows) it is removed when it is
// appended or discarded, or by ReportStream.DiscardSpools.
//
// A Spool is written by one goroutine at a time; Append and Discard are
// called once its writer is done.
type Spool struct {
	parent *ReportStream
	// s encodes the items into file: a stream whose frame has no
	// opening, so that it holds ITEM, sep, ITEM..., the document's own
	// separator between them. nil before the first item.
	s    *ReportStream
	file *os.File
	path string // the file's name, until it is removed
	// through: the items go straight into the document.
	through bool
}

// spoolPattern names the spool files (os.CreateTemp).
const spoolPattern = "kubectl-caps-spool-*"

// Spool starts a spool of s's items: ahead of their turn, in a file
// until Append; else straight into the document (the one cluster of a
// run of one context), Append then adding nothing. nil for a nil stream
// (a format that is not streamed), whose spools are then never written.
func (s *ReportStream) Spool(ahead bool) *Spool {
	if s == nil {
		return nil
	}
	return &Spool{parent: s, through: !ahead}
}

// Write adds one item to the spool, as ReportStream.Write adds it to the
// document.
func (p *Spool) Write(it *report.Item) error {
	if p.through {
		return p.parent.Write(it)
	}
	if p.s == nil {
		if err := p.create(); err != nil {
			return err
		}
	}
	return p.s.Write(it)
}

// create opens the spool's file and the stream that writes into it.
func (p *Spool) create() error {
	f, err := os.CreateTemp("", spoolPattern)
	if err != nil {
		return fmt.Errorf("spooling a cluster's report items until its turn (docs/fleet.md; $TMPDIR sets the directory): %w", err)
	}
	p.file, p.path = f, f.Name()
	if os.Remove(p.path) == nil {
		p.path = "" // open, but no longer in the directory
	}
	parent := p.parent
	parent.mu.Lock()
	if parent.spools == nil {
		parent.spools = map[*Spool]bool{}
	}
	parent.spools[p] = true
	parent.mu.Unlock()
	s, err := NewListStream(f, parent.f.format, parent.empty)
	if err != nil {
		p.Discard()
		return err
	}
	s.lean, s.f.open = parent.lean, nil
	p.s = s
	return nil
}

// Append writes the spool's items into the document after those already
// written, byte for byte as if they had been written with Write, and
// discards the spool; a v1alpha2 document's catalog section then also
// covers their capabilities. A nil or empty spool adds nothing.
func (s *ReportStream) Append(p *Spool) error {
	if p == nil || p.s == nil {
		return nil
	}
	defer p.Discard()
	if err := p.s.encodePending(); err != nil {
		return err
	}
	if err := p.s.w.Flush(); err != nil {
		return fmt.Errorf("spooling a cluster's report items: %w", err)
	}
	if p.s.n == 0 {
		return nil
	}
	if err := s.encodePending(); err != nil {
		return err
	}
	if _, err := p.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("reading a cluster's spooled report items: %w", err)
	}
	if s.n == 0 {
		s.w.Write(s.f.open)
	} else {
		s.w.Write(s.f.sep)
	}
	if _, err := io.Copy(s.w, p.file); err != nil {
		return err
	}
	s.n += p.s.n
	s.caps = s.caps.Union(p.s.caps)
	return nil
}

// Discard drops the spool: its file is closed and removed. It is safe to
// call more than once, and on nil.
func (p *Spool) Discard() {
	if p == nil || p.file == nil {
		return
	}
	_ = p.file.Close()
	if p.path != "" {
		_ = os.Remove(p.path)
	}
	p.file, p.path = nil, ""
	p.parent.mu.Lock()
	delete(p.parent.spools, p)
	p.parent.mu.Unlock()
}

// DiscardSpools discards every spool of s not yet appended or discarded:
// those of the clusters a run never printed (it stopped before their
// turn). Call it once no spool is being written; nil is a no-op.
func (s *ReportStream) DiscardSpools() {
	if s == nil {
		return
	}
	s.mu.Lock()
	left := make([]*Spool, 0, len(s.spools))
	for p := range s.spools {
		left = append(left, p)
	}
	s.mu.Unlock()
	for _, p := range left {
		p.Discard()
	}
}
