package cmd

import (
	"github.com/spf13/cobra"
)

// colorValues are --color's values on every command that colours.
var colorValues = []string{"auto", "always", "never"}

// addColorFlag registers --color for a command whose output paints what
// with the risk colours of audit's table; printers.ColorFor decides, with
// audit's semantics (printers.UseColor).
func addColorFlag(cmd *cobra.Command, v *string, what string) {
	*v = "auto"
	cmd.Flags().StringVar(v, "color", *v, "Colour "+what+" by risk: auto (when stdout is a terminal, NO_COLOR is unset or empty and TERM is not dumb), always (even with NO_COLOR) or never")
	_ = cmd.RegisterFlagCompletionFunc("color", fixedCompletion(colorValues...))
}
