package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubectl-caps/kubectl-caps/pkg/source/cluster"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// resourceTypes are what audit and suggest-drop accept as arguments
// (cluster.Scopes), in the TYPE/NAME form the completion offers: pods, the
// controllers of workload.Kinds, and namespaces.
func resourceTypes() []string {
	var out []string
	for _, k := range workload.Kinds() {
		if k.Name == "Pod" || k.Controller {
			out = append(out, k.Plural())
		}
	}
	return append(out, "namespaces")
}

// completeResources completes resource arguments the way kubectl does:
// a type first ("deployments/"), then the names of that type from the
// cluster of the current context, in the namespace -n selects. A cluster
// that cannot be read simply offers nothing.
func (s *sourceOptions) completeResources(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	typ, prefix, found := strings.Cut(toComplete, "/")
	if !found {
		var out []string
		for _, t := range resourceTypes() {
			if strings.HasPrefix(t, toComplete) {
				out = append(out, t+"/")
			}
		}
		return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, n := range cluster.CompleteNames(s.ConfigFlags, typ, prefix) {
		out = append(out, typ+"/"+n)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeWith makes a flag's completion of names that fail silently.
func completeWith(names func(prefix string) []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return names(prefix), cobra.ShellCompDirectiveNoFileComp
	}
}
