// Command kubectl-caps is the kubectl plugin `kubectl caps`.
package main

import (
	"fmt"
	"os"

	"github.com/go-logr/logr"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	// Every auth provider kubectl supports (exec, OIDC, ...), so any
	// kubeconfig that works with kubectl works here.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
	"k8s.io/klog/v2"

	"github.com/kubectl-caps/kubectl-caps/pkg/cmd"
)

func main() {
	// client-go logs its own retries and discovery failures through klog
	// ("couldn't get current server API group list"), several lines before
	// the one error line this command prints for the same cause. Every
	// failure reaches the user through that line, so klog stays silent.
	klog.SetLogger(logr.Discard())

	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := cmd.NewCmdRoot(streams).Execute()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
	}
	os.Exit(cmd.ExitCode(err))
}
