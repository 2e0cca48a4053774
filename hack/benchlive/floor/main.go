// Command floor is the benchmark's lower bound for reading every pod of a
// cluster: a paginated protobuf LIST with client-go, 500 pods a page, each
// page dropped as soon as the next is requested. Nothing a pod-reading
// client does can cost less than this, so hack/bench-live.sh divides the
// plugin's wall time by this program's.
//
//	floor -kubeconfig FILE [-chunk-size 500]
//
// It prints the number of pods read on stderr, so the harness can check
// that it saw the whole cluster.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster to read")
	chunk := flag.Int64("chunk-size", 500, "pods per page")
	flag.Parse()
	n, err := run(context.Background(), *kubeconfig, *chunk)
	if err != nil {
		fmt.Fprintf(os.Stderr, "floor: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "pods: %d\n", n)
}

func run(ctx context.Context, kubeconfig string, chunk int64) (int, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return 0, err
	}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	// client-go's default limiter (5 requests/s after a burst of 10) would
	// make this measure the limiter, not the transfer: 10,000 pods are 20
	// pages.
	cfg.QPS = -1
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	n := 0
	opts := metav1.ListOptions{Limit: chunk}
	for {
		list, err := cs.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			return n, err
		}
		n += len(list.Items)
		if list.Continue == "" {
			return n, nil
		}
		opts.Continue = list.Continue
	}
}
