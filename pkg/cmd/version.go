package cmd

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
)

// Set at release time with -ldflags "-X github.com/kubectl-caps/kubectl-caps/pkg/cmd.version=v1.2.3 ...".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// VersionInfo is what `kubectl caps version -o json|yaml` prints.
type VersionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

func versionInfo() VersionInfo {
	return VersionInfo{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
}

func versionString() string {
	v := versionInfo()
	return fmt.Sprintf("kubectl-caps %s (commit %s, built %s, %s, %s)", v.Version, v.Commit, v.Date, v.GoVersion, v.Platform)
}

// VersionOptions holds the flags of `kubectl caps version`.
type VersionOptions struct {
	Output string

	cmdPath string
	output  *outputFlag
	genericiooptions.IOStreams
}

// NewCmdVersion builds `kubectl caps version`.
func NewCmdVersion(streams genericiooptions.IOStreams) *cobra.Command {
	o := &VersionOptions{IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of kubectl-caps",
		Example: `  kubectl caps version
  kubectl caps version -o json`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.output = addOutputFlag(cmd, &o.Output, "one line of text", printers.FormatJSON, printers.FormatYAML)
	return cmd
}

// Complete records the command path for messages.
func (o *VersionOptions) Complete(c *cobra.Command, _ []string) error {
	o.cmdPath = c.CommandPath()
	return nil
}

// Validate checks the output format.
func (o *VersionOptions) Validate() error { return o.output.check(o.cmdPath) }

// Run prints the version.
func (o *VersionOptions) Run() error {
	if o.Output == "" {
		_, err := fmt.Fprintln(o.Out, versionString())
		return err
	}
	return printers.WriteObject(o.Out, o.Output, versionInfo())
}
