package cmd

import (
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/explain"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
)

// ExplainOptions holds the flags and arguments of `kubectl caps explain`.
type ExplainOptions struct {
	Output    string
	SortBy    string
	NoHeaders bool
	Color     string

	names   []string
	caps    []capability.Cap
	cmdPath string
	output  *outputFlag
	color   bool

	genericiooptions.IOStreams
}

// NewExplainOptions returns options with the defaults.
func NewExplainOptions(streams genericiooptions.IOStreams) *ExplainOptions {
	return &ExplainOptions{SortBy: "number", IOStreams: streams}
}

// NewCmdExplain builds `kubectl caps explain`.
func NewCmdExplain(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewExplainOptions(streams)
	cmd := &cobra.Command{
		Use:   "explain [CAPABILITY...]",
		Short: "Show the catalog entry of a capability, or the table of all of them",
		Long: `Show what a Linux capability permits, its impact in a Kubernetes container, the
reasoning behind its risk tier, the recommendation, known attack paths, which
container runtimes grant it by default, and its Pod Security Standards status.

A capability may be named in any case, with or without the CAP_ prefix, or by
its number: NET_RAW, net_raw, CAP_NET_RAW and 13 are the same. With no
argument, print a table of all 41 capabilities (0..40).

` + explainExitCodesHelp,
		Example: `  # The catalog page of NET_RAW
  kubectl caps explain NET_RAW

  # Several at once, as JSON (a list object with items)
  kubectl caps explain sys_admin CAP_SYS_PTRACE 39 -o json

  # All capabilities, most dangerous first, with extra columns
  kubectl caps explain --sort-by=risk -o wide`,
		ValidArgsFunction: completeCapabilities,
		RunE:              runE(o),
	}
	o.output = addOutputFlag(cmd, &o.Output, "a page per named capability, or the table when none is named",
		printers.FormatWide, printers.FormatJSON, printers.FormatYAML)
	cmd.Flags().StringVar(&o.SortBy, "sort-by", o.SortBy, "Order of the table: number, name or risk (highest first)")
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "Print the table without its header line")
	addColorFlag(cmd, &o.Color, "RISK in the table and on the page")
	_ = cmd.RegisterFlagCompletionFunc("sort-by", fixedCompletion("number", "name", "risk"))
	return cmd
}

// Complete records the arguments and resolves every name before anything
// is printed, so that an unknown name leaves stdout empty; all unknown
// names are reported at once.
func (o *ExplainOptions) Complete(c *cobra.Command, args []string) error {
	o.names = args
	o.cmdPath = c.CommandPath()
	o.color = printers.ColorFor(o.Color, o.Out)
	var unknown []string
	var err error
	if o.caps, unknown, err = explain.Resolve(args); err != nil {
		return err
	}
	if len(unknown) > 0 {
		return usageErrorf(o.cmdPath, "%s", strings.Join(unknown, "\n"))
	}
	return nil
}

// Validate checks the flags.
func (o *ExplainOptions) Validate() error {
	if err := o.output.check(o.cmdPath); err != nil {
		return err
	}
	if err := oneOf(o.cmdPath, "--color", o.Color, colorValues...); err != nil {
		return err
	}
	return oneOf(o.cmdPath, "--sort-by", o.SortBy, "number", "name", "risk")
}

// Run prints the pages, the table, or the object.
func (o *ExplainOptions) Run() error {
	views := explain.Build(o.caps)
	if len(o.names) == 0 || o.Output == printers.FormatWide {
		if err := explain.SortBy(views, o.SortBy); err != nil {
			return err
		}
	}
	switch {
	case o.Output == printers.FormatJSON || o.Output == printers.FormatYAML:
		return printers.WriteObject(o.Out, o.Output, explain.Object(views, len(o.names) == 1))
	case len(o.names) == 0 || o.Output == printers.FormatWide:
		return printers.WriteExplainTable(o.Out, views, o.Output == printers.FormatWide, o.NoHeaders, o.color)
	}
	return printers.WriteExplainPages(o.Out, views, o.color)
}

// completeCapabilities offers capability names for the words typed so far
// (explain.Completions).
func completeCapabilities(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return explain.Completions(args, toComplete), cobra.ShellCompDirectiveNoFileComp
}

func fixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}
