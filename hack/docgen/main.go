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
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
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
	if err := machineIndependent(); err != nil {
		return err
	}
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
	views := explain.Build(caps)
	for _, v := range views {
		if err := write(filepath.Join(dir, printers.ExplainPageFile(v)), func(f *os.File) error {
			return printers.WriteExplainMarkdown(f, v)
		}); err != nil {
			return err
		}
	}
	return write(filepath.Join(dir, "README.md"), func(f *os.File) error {
		return printers.WriteExplainMarkdownIndex(f, views, cat.SeedDefects(), catalog.Intro())
	})
}

// machineIndependent makes the flag defaults that the commands derive from the
// environment read the same on every machine, so that the committed docs are
// current for every contributor and not only on a machine whose home is /root.
// cli-runtime's --cache-dir default is $KUBECACHEDIR, else
// filepath.Join(homedir.HomeDir(), ".kube", "cache") (k8s.io/cli-runtime
// pkg/genericclioptions/config_flags.go, getDefaultCacheDir), computed when
// the flags are built. kubectl's own generator pins HOME for the same reason
// (kubernetes cmd/gendocs/gen_kubectl_docs.go sets HOME=/home/username); we
// set it to the literal "$HOME" so the page shows the default as a user reads
// it: "$HOME/.kube/cache". The commands are built after this, in
// writeCommandDocs. Nothing else in the generated pages reads the
// environment, the working directory, the clock or the Go version;
// TestDocsIndependentOfMachine holds that.
func machineIndependent() error {
	for _, v := range []string{"KUBECACHEDIR", "KUBECONFIG", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"} {
		if err := os.Unsetenv(v); err != nil {
			return err
		}
	}
	return os.Setenv("HOME", "$HOME")
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
