package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/cli-runtime/pkg/resource"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/cluster"
)

// runLive audits the cluster of the current kubeconfig context.
func (o *AuditOptions) runLive(ctx context.Context) error {
	lc, err := o.connect()
	if err != nil {
		return err
	}
	col, err := o.collect(ctx, lc, o.ErrOut)
	if err != nil {
		return err
	}
	if o.Output == printers.FormatJSON || o.Output == printers.FormatYAML {
		return o.streamReport(col.Rollup)
	}
	rep := report.New()
	col.Rollup.Each(o.auditor, func(it report.Item, _ *engine.Result) {
		rep.Items = append(rep.Items, it)
	})
	return o.print(rep)
}

// scopes turns the namespace flags and resource arguments into pod lists.
func (o *sourceOptions) scopes(ns, host string) ([]cluster.Scope, error) {
	what := fmt.Sprintf("namespace %q", ns)
	if o.AllNamespaces {
		what = "all namespaces"
	}
	if len(o.args) == 0 {
		return []cluster.Scope{{Namespace: ns, LabelSelector: o.Selector, FieldSelector: o.FieldSelector, What: what}}, nil
	}
	r := resource.NewBuilder(o.ConfigFlags).
		Unstructured().
		NamespaceParam(ns).DefaultNamespace().AllNamespaces(o.AllNamespaces).
		ResourceTypeOrNameArgs(true, o.args...).
		LabelSelectorParam(o.Selector).
		ContinueOnError().
		Flatten().
		Do()
	infos, err := r.Infos()
	if err != nil {
		// ContinueOnError aggregates one error per argument; a cluster
		// failure among them decides the exit code, not the usage errors.
		for _, e := range utilerrors.Flatten(asAggregate(err)).Errors() {
			if isConnectionError(e) || apierrors.IsUnauthorized(e) || apierrors.IsForbidden(e) ||
				apierrors.IsTimeout(e) || isTimeout(e) {
				return nil, o.clusterError(e, host)
			}
		}
		return nil, usageErrorf(o.cmdPath, "%v", err)
	}
	var scopes []cluster.Scope
	for _, info := range infos {
		kind := info.Mapping.GroupVersionKind.Kind
		u, _ := info.Object.(*unstructured.Unstructured)
		s := cluster.Scope{Namespace: info.Namespace, FieldSelector: o.FieldSelector,
			What: fmt.Sprintf("%s %q", strings.ToLower(kind), info.Name)}
		switch kind {
		case "Namespace":
			s.Namespace = info.Name
			s.LabelSelector = o.Selector
		case "Pod":
			s.FieldSelector = joinSelectors(o.FieldSelector, "metadata.name="+info.Name)
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController", "CronJob":
			sel, err := workloadSelector(kind, u)
			if err != nil {
				return nil, usageErrorf(o.cmdPath, "%s %s/%s: %v", kind, info.Namespace, info.Name, err)
			}
			s.LabelSelector = sel
			want := cluster.Owner{Kind: kind, Name: info.Name}
			s.Match = func(pod *corev1.Pod, owner cluster.Owner) bool {
				if owner == want {
					return true
				}
				ref := metav1.GetControllerOfNoCopy(pod)
				return ref != nil && ref.Kind == want.Kind && ref.Name == want.Name
			}
		default:
			return nil, usageErrorf(o.cmdPath, "cannot audit %s %q: kubectl caps audits pods, the workloads that own them "+
				"(deployments, statefulsets, daemonsets, replicasets, jobs, cronjobs, replicationcontrollers) and namespaces",
				strings.ToLower(kind), info.Name)
		}
		scopes = append(scopes, s)
	}
	if len(scopes) == 0 {
		return nil, usageErrorf(o.cmdPath, "no resources found for %s", strings.Join(o.args, " "))
	}
	return scopes, nil
}

// workloadSelector is the label selector of a controller's pods; CronJobs
// have none, so their pods are found by owner alone.
func workloadSelector(kind string, u *unstructured.Unstructured) (string, error) {
	if u == nil || kind == "CronJob" {
		return "", nil
	}
	if kind == "ReplicationController" {
		m, _, err := unstructured.NestedStringMap(u.Object, "spec", "selector")
		if err != nil {
			return "", err
		}
		return labels.SelectorFromSet(m).String(), nil
	}
	raw, found, err := unstructured.NestedMap(u.Object, "spec", "selector")
	if err != nil || !found {
		return "", err
	}
	var ls metav1.LabelSelector
	if err := runtimeConvert(raw, &ls); err != nil {
		return "", err
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return "", err
	}
	return sel.String(), nil
}

func joinSelectors(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

// clusterError turns a failure to read the cluster into one clear line and
// exit code 4.
func (o *sourceOptions) clusterError(err error, host string) error {
	var se *cluster.ScopeError
	scope := ""
	if errors.As(err, &se) {
		scope = se.Scope.What
		err = se.Err
	}
	var msg string
	switch {
	case apierrors.IsForbidden(err) && scope == "":
		// Reading a named resource (deploy/web, deployments) was refused.
		msg = fmt.Sprintf("the cluster refused to show what the arguments name (%s); ask for get/list on it, or audit the pods of a namespace you may read with -n", apiMessage(err))
	case apierrors.IsForbidden(err) && o.AllNamespaces:
		msg = fmt.Sprintf("you may not list pods in all namespaces (%s); audit a namespace you may read with -n NAMESPACE", apiMessage(err))
	case apierrors.IsForbidden(err):
		msg = fmt.Sprintf("you may not list pods in %s (%s); ask for get/list on pods there, or pick another namespace with -n", scope, apiMessage(err))
	case apierrors.IsUnauthorized(err):
		msg = "the cluster rejected the credentials (401 Unauthorized); they may have expired: log in again or refresh the kubeconfig's token"
	case apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		msg = fmt.Sprintf("the cluster did not answer in time (%v); try a larger --request-timeout or a smaller --chunk-size", err)
	case isConnectionError(err):
		where := host
		if where == "" {
			where = "the API server"
		}
		msg = fmt.Sprintf("cannot reach the cluster at %s (%v); check --context/--kubeconfig and that the API server is up", where, rootCause(err))
	case cluster.IsExpired(err):
		msg = fmt.Sprintf("the server kept expiring the pod list (%v); retry with a smaller --chunk-size", err)
	default:
		if scope != "" {
			msg = fmt.Sprintf("listing pods in %s: %v", scope, err)
		} else {
			msg = err.Error()
		}
	}
	return &ExitError{Code: ExitCluster, Err: errors.New(msg)}
}

func apiMessage(err error) string {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		return s.Status().Message
	}
	return err.Error()
}

func isConnectionError(err error) bool {
	var ue *url.Error
	var ne *net.OpError
	var de *net.DNSError
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.As(err, &de) || errors.Is(err, os.ErrDeadlineExceeded) ||
		strings.Contains(err.Error(), "connection refused")
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func runtimeConvert(in map[string]any, out any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(in, out)
}

// asAggregate views err as an aggregate of errors, one when it is not.
func asAggregate(err error) utilerrors.Aggregate {
	var agg utilerrors.Aggregate
	if errors.As(err, &agg) {
		return agg
	}
	return utilerrors.NewAggregate([]error{err})
}
