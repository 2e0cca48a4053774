package cmd

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
)

// colorValues are --color's values on every command that colours.
var colorValues = []string{"auto", "always", "never"}

// addColorFlag registers --color for a command whose output paints what
// with the risk colours of audit's table, with audit's semantics
// (printers.UseColor).
func addColorFlag(cmd *cobra.Command, v *string, what string) {
	*v = "auto"
	cmd.Flags().StringVar(v, "color", *v, "Colour "+what+" by risk: auto (when stdout is a terminal, NO_COLOR is unset or empty and TERM is not dumb), always (even with NO_COLOR) or never")
	_ = cmd.RegisterFlagCompletionFunc("color", fixedCompletion(colorValues...))
}

// useColor decides --color for output written to out.
func useColor(flag string, out io.Writer) bool {
	return printers.UseColor(flag, isTerminal(out), os.Getenv("NO_COLOR"), os.Getenv("TERM"))
}
