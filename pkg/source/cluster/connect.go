package cluster

import (
	"errors"
	"fmt"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// inCluster: the process runs in a pod with a ServiceAccount token
// (KUBERNETES_SERVICE_HOST and the token file); tests replace it.
var inCluster = func() bool { _, err := rest.InClusterConfig(); return err == nil }

// ErrNoKubeconfig: no kubeconfig names a cluster, and no --server was given.
var ErrNoKubeconfig = errors.New("no kubeconfig found (looked at --kubeconfig, $KUBECONFIG and ~/.kube/config)")

// Connection is the clients of the kubeconfig's cluster.
type Connection struct {
	Clients
	// Host is the API server's address, for messages.
	Host string
	// Namespace is the namespace of the current context, or of -n; "" with
	// allNamespaces.
	Namespace string
}

// Connect builds the clients from kubectl's kubeconfig flags, refusing
// with ErrNoKubeconfig when there is no kubeconfig at all: client-go would
// quietly fall back to http://localhost:8080, which only ever produces a
// confusing "connection refused".
//
// In a pod (the reporter's CronJob, deploy/), where there is no kubeconfig
// but a ServiceAccount token, client-go's loader falls back to the pod's
// in-cluster config (clientcmd's DeferredLoadingClientConfig, through
// rest.InClusterConfig), as kubectl in a pod does: that is no missing
// kubeconfig.
func Connect(flags *genericclioptions.ConfigFlags, allNamespaces bool) (*Connection, error) {
	loader := flags.ToRawKubeConfigLoader()
	if raw, err := loader.RawConfig(); err == nil && len(raw.Clusters) == 0 &&
		(flags.APIServer == nil || *flags.APIServer == "") && !inCluster() {
		return nil, ErrNoKubeconfig
	}
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, ErrNoKubeconfig
		}
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	clients, err := NewClients(cfg)
	if err != nil {
		return nil, err
	}
	c := &Connection{Clients: clients, Host: cfg.Host}
	if !allNamespaces {
		if c.Namespace, _, err = loader.Namespace(); err != nil {
			return nil, fmt.Errorf("reading the namespace of the current context: %w", err)
		}
	}
	return c, nil
}
