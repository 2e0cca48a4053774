package cluster

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Every kind suggest-drop may patch (a controller whose template can
// change) has a lister, and its listed objects a template: the typed
// client calls are written per kind, the kinds come from workload.Kinds.
func TestTemplatesListEveryPatchableKind(t *testing.T) {
	c := fake.NewClientset()
	for _, k := range workload.Kinds() {
		fn := listFunc(context.Background(), c, k.Name, "ns")
		want := k.Controller && k.Mutable
		if (fn != nil) != want {
			t.Errorf("%s: lister %v, want %v", k.Name, fn != nil, want)
			continue
		}
		if fn == nil {
			continue
		}
		obj, err := fn(metav1.ListOptions{})
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		if _, ok := obj.(interface{ GetResourceVersion() string }); !ok {
			t.Errorf("%s: %T is no list", k.Name, obj)
		}
	}
}
