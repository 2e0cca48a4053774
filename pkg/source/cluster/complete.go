package cluster

import (
	"context"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/tools/pager"
)

// Shell completion reads the cluster and the kubeconfig the flags select.
// Every function here fails silently (nil): a completion that cannot be had
// offers nothing rather than an error in the middle of a command line.

// completionTimeout bounds a completion's API calls: a shell waiting on an
// unreachable cluster is worse than no suggestion.
const completionTimeout = 5 * time.Second

// CompleteNamespaces is the cluster's namespaces that start with prefix,
// for -n (one paginated LIST).
func CompleteNamespaces(flags *genericclioptions.ConfigFlags, prefix string) []string {
	c, err := Connect(flags, true)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	var names []string
	p := pager.New(pager.SimplePageFunc(func(opts metav1.ListOptions) (runtime.Object, error) {
		return c.Typed.CoreV1().Namespaces().List(ctx, opts)
	}))
	p.PageSize = DefaultChunkSize
	err = p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		if m, ok := obj.(metav1.Object); ok {
			names = append(names, m.GetName())
		}
		return nil
	})
	if err != nil {
		return nil
	}
	return withPrefix(names, prefix)
}

// CompleteContexts is the kubeconfig's contexts that start with prefix,
// sorted, for --context; after a comma (--context a,b: docs/fleet.md),
// the contexts not yet listed that start with what follows it, each
// completing the whole list.
func CompleteContexts(flags *genericclioptions.ConfigFlags, prefix string) []string {
	raw, err := flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil
	}
	head, last := "", prefix
	if i := strings.LastIndex(prefix, ","); i >= 0 {
		head, last = prefix[:i+1], prefix[i+1:]
	}
	listed := strings.Split(head, ",")
	var names []string
	for n := range raw.Contexts {
		if strings.HasPrefix(n, last) && !slices.Contains(listed, n) {
			names = append(names, head+n)
		}
	}
	slices.Sort(names)
	return names
}

// CompleteNames is the names of the objects of type typ ("deployments")
// that start with prefix, in the namespace the flags select, the way
// kubectl completes TYPE/NAME.
func CompleteNames(flags *genericclioptions.ConfigFlags, typ, prefix string) []string {
	ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil
	}
	infos, err := resource.NewBuilder(flags).
		Unstructured().
		NamespaceParam(ns).DefaultNamespace().
		ResourceTypeOrNameArgs(true, typ).
		ContinueOnError().
		Flatten().
		Do().Infos()
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(infos))
	for _, info := range infos {
		names = append(names, info.Name)
	}
	return withPrefix(names, prefix)
}

func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}
