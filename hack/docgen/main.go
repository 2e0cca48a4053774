// Command docgen writes the generated documentation: one Markdown page per
// capability plus an index under docs/capabilities, and one page per command
// under docs/commands. `make docs` runs it and
// `make verify` runs it into a temporary folder and compares.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/explain"
)

func main() {
	out := flag.String("out", "docs", "folder to write the generated docs into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintf(os.Stderr, "docgen: %v\n", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dir := filepath.Join(out, "capabilities")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cat := catalog.Default()
	caps := make([]capability.Cap, 0, capability.Count)
	for c := capability.Cap(0); c <= capability.Last; c++ {
		caps = append(caps, c)
	}
	if err := writeCommandDocs(out); err != nil {
		return err
	}
	views := explain.Build(cat, caps)
	for _, v := range views {
		if err := write(filepath.Join(dir, explain.PageFile(v)), func(f *os.File) error {
			return explain.WriteMarkdownPage(f, v)
		}); err != nil {
			return err
		}
	}
	return write(filepath.Join(dir, "README.md"), func(f *os.File) error {
		return explain.WriteMarkdownIndex(f, views, cat.SeedDefects(), catalog.Intro())
	})
}

func write(path string, fill func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
