package cluster

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Explain is the one line that says why the cluster could not be read and
// what to do about it: verb is the command's ("audit"), allNamespaces
// whether -A was given. The commands print it as their error (exit 4).
func Explain(err error, host, verb string, allNamespaces bool) string {
	var se *ScopeError
	scope := ""
	if errors.As(err, &se) {
		scope = se.Scope.What
		err = se.Err
	}
	var msg string
	switch {
	case apierrors.IsForbidden(err) && scope == "":
		// Reading a named resource (deploy/web, deployments) was refused.
		msg = fmt.Sprintf("the cluster refused to show what the arguments name (%s); ask for get/list on it, or %s the pods of a namespace you may read with -n", APIMessage(err), verb)
	case apierrors.IsForbidden(err) && allNamespaces:
		msg = fmt.Sprintf("you may not list pods in all namespaces (%s); %s a namespace you may read with -n NAMESPACE", APIMessage(err), verb)
	case apierrors.IsForbidden(err):
		msg = fmt.Sprintf("you may not list pods in %s (%s); ask for get/list on pods there, or pick another namespace with -n", scope, APIMessage(err))
	case apierrors.IsUnauthorized(err):
		msg = "the cluster rejected the credentials (401 Unauthorized); they may have expired: log in again or refresh the kubeconfig's token"
	case apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || errors.Is(err, context.DeadlineExceeded) || IsTimeout(err):
		msg = fmt.Sprintf("the cluster did not answer in time (%v); try a larger --request-timeout or a smaller --chunk-size", err)
	case IsConnectionError(err):
		where := host
		if where == "" {
			where = "the API server"
		}
		msg = fmt.Sprintf("cannot reach the cluster at %s (%v); check --context/--kubeconfig and that the API server is up", where, rootCause(err))
	case IsExpired(err):
		msg = fmt.Sprintf("the server kept expiring the pod list (%v); retry with a smaller --chunk-size", err)
	default:
		if scope != "" {
			msg = fmt.Sprintf("listing pods in %s: %v", scope, err)
		} else {
			msg = err.Error()
		}
	}
	return msg
}

// rootCause is the innermost error, e.g. "connection refused".
func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}
