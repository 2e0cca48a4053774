package cluster

import (
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
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/resource"

	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Selection is what the command line selects: kubectl's namespace flags,
// selectors and resource arguments (pod/NAME, deploy/NAME, ns/NAME, a type).
type Selection struct {
	Namespace     string
	AllNamespaces bool
	Args          []string
	LabelSelector string
	FieldSelector string
}

// ArgumentError says that the resource arguments name nothing the pods of
// which can be read: a usage error, not a cluster failure.
type ArgumentError struct{ Err error }

func (e *ArgumentError) Error() string { return e.Err.Error() }
func (e *ArgumentError) Unwrap() error { return e.Err }

// Scopes turns a selection into pod lists. Resource arguments are resolved
// with kubectl's own resource.Builder (get on each named object, list on a
// type), so they read as in kubectl get. A failure to reach or read the
// cluster is returned as is; anything else is an *ArgumentError.
func Scopes(getter genericclioptions.RESTClientGetter, sel Selection) ([]Scope, error) {
	what := fmt.Sprintf("namespace %q", sel.Namespace)
	if sel.AllNamespaces {
		what = "all namespaces"
	}
	if len(sel.Args) == 0 {
		return []Scope{{Namespace: sel.Namespace, LabelSelector: sel.LabelSelector, FieldSelector: sel.FieldSelector, What: what,
			Templates: sel.FieldSelector == ""}}, nil
	}
	r := resource.NewBuilder(getter).
		Unstructured().
		NamespaceParam(sel.Namespace).DefaultNamespace().AllNamespaces(sel.AllNamespaces).
		ResourceTypeOrNameArgs(true, sel.Args...).
		LabelSelectorParam(sel.LabelSelector).
		ContinueOnError().
		Flatten().
		Do()
	infos, err := r.Infos()
	if err != nil {
		// ContinueOnError aggregates one error per argument; a cluster
		// failure among them decides the exit code, not the usage errors.
		for _, e := range utilerrors.Flatten(asAggregate(err)).Errors() {
			if IsConnectionError(e) || apierrors.IsUnauthorized(e) || apierrors.IsForbidden(e) ||
				apierrors.IsTimeout(e) || IsTimeout(e) {
				return nil, e
			}
		}
		return nil, &ArgumentError{err}
	}
	var scopes []Scope
	for _, info := range infos {
		kind := info.Mapping.GroupVersionKind.Kind
		u, _ := info.Object.(*unstructured.Unstructured)
		s := Scope{Namespace: info.Namespace, FieldSelector: sel.FieldSelector,
			What: fmt.Sprintf("%s %q", strings.ToLower(kind), info.Name)}
		k, known := workload.Lookup(kind)
		switch {
		case kind == "Namespace":
			s.Namespace = info.Name
			s.LabelSelector = sel.LabelSelector
			s.Templates = sel.FieldSelector == ""
		case kind == "Pod":
			s.FieldSelector = joinSelectors(sel.FieldSelector, "metadata.name="+info.Name)
		case known && k.Controller:
			ls, err := podSelector(kind, u)
			if err != nil {
				return nil, &ArgumentError{fmt.Errorf("%s %s/%s: %v", kind, info.Namespace, info.Name, err)}
			}
			s.LabelSelector = ls
			want := workload.Ref{Kind: kind, Name: info.Name}
			if sel.FieldSelector == "" {
				tmpl, err := podTemplate(k, u)
				if err != nil {
					return nil, &ArgumentError{fmt.Errorf("%s %s/%s: %v", kind, info.Namespace, info.Name, err)}
				}
				s.Controller, s.Prefix, s.Template = &want, k.Prefix, tmpl
				if v, ok := u.GetAnnotations()[exception.AnnotationKey]; ok {
					s.ObjectAllow = &v
				}
			}
			s.Match = func(pod *corev1.Pod, owner workload.Ref) bool {
				if owner == want {
					return true
				}
				ref := metav1.GetControllerOfNoCopy(pod)
				return ref != nil && ref.Kind == want.Kind && ref.Name == want.Name
			}
		default:
			return nil, &ArgumentError{fmt.Errorf("cannot read the pods of %s %q: kubectl caps reads pods, the workloads that own them (%s) and namespaces",
				strings.ToLower(kind), info.Name, workload.Names(func(k workload.Kind) bool { return k.Controller }))}
		}
		scopes = append(scopes, s)
	}
	if len(scopes) == 0 {
		return nil, &ArgumentError{fmt.Errorf("no resources found for %s", strings.Join(sel.Args, " "))}
	}
	return scopes, nil
}

// podSelector is the label selector of a controller's pods; CronJobs have
// none, so their pods are found by owner alone.
func podSelector(kind string, u *unstructured.Unstructured) (string, error) {
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
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		return "", err
	}
	s, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		return "", err
	}
	return s.String(), nil
}

// podTemplate reads a controller's pod template from the object the
// builder fetched, at the kind's own path (spec.template, or
// spec.jobTemplate.spec.template for a CronJob).
func podTemplate(k workload.Kind, u *unstructured.Unstructured) (*corev1.PodTemplateSpec, error) {
	tmpl := &corev1.PodTemplateSpec{}
	if u == nil {
		return tmpl, nil
	}
	path := strings.Split(strings.TrimSuffix(k.Prefix, ".spec"), ".")
	raw, found, err := unstructured.NestedMap(u.Object, path...)
	if err != nil || !found {
		return tmpl, err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, tmpl); err != nil {
		return nil, fmt.Errorf("reading its pod template (%s): %w", strings.TrimSuffix(k.Prefix, ".spec"), err)
	}
	return tmpl, nil
}

func joinSelectors(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

// IsConnectionError reports a failure to reach the API server at all.
func IsConnectionError(err error) bool {
	var ue *url.Error
	var ne *net.OpError
	var de *net.DNSError
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.As(err, &de) || errors.Is(err, os.ErrDeadlineExceeded) ||
		strings.Contains(err.Error(), "connection refused")
}

// IsTimeout reports a client-side timeout (--request-timeout).
func IsTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// APIMessage is the server's own message of an API error, or the error.
func APIMessage(err error) string {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		return s.Status().Message
	}
	return err.Error()
}

// asAggregate views err as an aggregate of errors, one when it is not.
func asAggregate(err error) utilerrors.Aggregate {
	var agg utilerrors.Aggregate
	if errors.As(err, &agg) {
		return agg
	}
	return utilerrors.NewAggregate([]error{err})
}
