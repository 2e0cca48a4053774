package suggest

import (
	"errors"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Patched applies a strategic merge patch with the kind's Go type; a
// patchable kind without one would fail at print time. Every kind a patch
// can target has one.
func TestTypedObjectForEveryPatchableKind(t *testing.T) {
	for _, k := range workload.Kinds() {
		if k.Mutable && typedObject(k.Name) == nil {
			t.Errorf("%s is patchable but typedObject has no Go type for it", k.Name)
		}
	}
}

func TestPatchedNeedsAnObject(t *testing.T) {
	if _, err := (&Workload{Kind: "Deployment"}).Patched(); !errors.Is(err, ErrNoObject) {
		t.Errorf("a live workload: err %v, want ErrNoObject", err)
	}
}

// The object as read is not changed by printing it patched: it is shared
// with the reader.
func TestPatchedLeavesTheObject(t *testing.T) {
	obj := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "app", "image": "x"}}}}}}
	w := &Workload{Kind: "Deployment", Name: "web", Target: PatchTarget{Prefix: workload.PrefixController, Patchable: true}, Object: obj,
		Containers: []Container{{Change: &ContainerChange{Name: "app", Type: engine.TypeContainer, New: Capabilities{Drop: []string{"NET_RAW"}}}}}}
	out, err := w.Patched()
	if err != nil {
		t.Fatal(err)
	}
	c := out["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	if c["securityContext"] == nil {
		t.Fatalf("not patched: %v", out)
	}
	orig := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	if orig["securityContext"] != nil {
		t.Errorf("the object as read was changed: %v", orig)
	}
}
