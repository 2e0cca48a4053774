// Package cmd holds kubectl-caps' commands, one file each, in kubectl's
// Options + Complete/Validate/Run shape.
package cmd

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/source/cluster"
)

// NewCmdRoot builds `kubectl caps` and its subcommands. Nothing here is
// global: every call returns a fresh tree, so tests can run commands in
// parallel with their own streams.
func NewCmdRoot(streams genericiooptions.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-caps",
		Short: "Which Linux capabilities your containers really hold, and what to drop",
		Long: `kubectl caps shows the Linux capabilities each container really holds, the way
the kernel gives them: the container runtime's default set, capabilities.add and
drop, ALL, privileged, the user the process runs as and allowPrivilegeEscalation.
Each capability is annotated with its risk from the built-in catalog.

` + exitCodesHelp,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl caps",
		},
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetVersionTemplate("{{.Version}}\n")
	// --version without cobra's -v shorthand: kubectl's -v is the log
	// verbosity (-v=6), and a plugin should not give it another meaning.
	// cobra adds its own flag only when none is defined.
	root.Flags().Bool("version", false, "Print the version of kubectl-caps")
	verbosity := root.PersistentFlags().IntP("v", "v", 0,
		"Log verbosity, as kubectl's -v: 6 logs each API request with its status and time, 8 also the bodies; 0 logs nothing")
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if err := cluster.LogRequests(*verbosity, streams.ErrOut); err != nil {
			return usageErrorf(c.CommandPath(), "%v", err)
		}
		return nil
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf(c.CommandPath(), "%v", err)
	})

	root.AddCommand(NewCmdAudit(streams))
	root.AddCommand(NewCmdExplain(streams))
	root.AddCommand(NewCmdSuggest(streams))
	root.AddCommand(NewCmdPolicy(streams))
	root.AddCommand(NewCmdReport(streams))
	root.AddCommand(NewCmdVersion(streams))
	return root
}
