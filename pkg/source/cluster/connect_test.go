package cluster

import (
	"errors"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// Without a kubeconfig, Connect refuses with ErrNoKubeconfig, except in a
// pod, where client-go uses the pod's ServiceAccount (the reporter's
// CronJob, deploy/): there the error, if any, is client-go's own.
func TestConnectWithoutKubeconfig(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	saved := inCluster
	t.Cleanup(func() { inCluster = saved })
	for _, pod := range []bool{false, true} {
		inCluster = func() bool { return pod }
		flags := genericclioptions.NewConfigFlags(false)
		_, err := Connect(flags, true)
		if got := errors.Is(err, ErrNoKubeconfig); got == pod {
			t.Errorf("in a pod %v: error %v; ErrNoKubeconfig %v", pod, err, got)
		}
	}
}
