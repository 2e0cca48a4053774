// Command kubectl-caps is the kubectl plugin `kubectl caps`.
package main

import (
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	// Every auth provider kubectl supports (exec, OIDC, ...), so any
	// kubeconfig that works with kubectl works here.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"github.com/kubectl-caps/kubectl-caps/pkg/cmd"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := cmd.NewCmdRoot(streams).Execute()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
	}
	os.Exit(cmd.ExitCode(err))
}
