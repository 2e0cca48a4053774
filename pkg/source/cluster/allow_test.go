package cluster

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// The allow annotation counts on a controller's own metadata (its pods
// never carry it) and on the template of a controller without pods, read
// from the lists the idle controllers need, or from the controller a
// resource argument named; a controller not audited (another scope) is
// not read.
func TestCollectAllowOnControllers(t *testing.T) {
	key := exception.AnnotationKey
	tmpl := func(app string, ann map[string]string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}, Annotations: ann},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
	}
	deploy := func(name string, replicas int32, obj, template map[string]string) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Annotations: obj},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), Template: tmpl(name, template)}}
	}
	tests := []struct {
		name  string
		scope Scope
		want  []string // Origin: Reason of each entry
		err   string
	}{{
		name:  "a namespace: the running Deployment's metadata, the idle one's template",
		scope: Scope{Namespace: "shop", Templates: true},
		// Sorted by workload: neither comes from a pod.
		want: []string{"shop/deploy/idle annotation " + key + ": on the template",
			"shop/deploy/web annotation " + key + ": on the object"},
	}, {
		name: "a Deployment named on the command line: its own metadata",
		scope: Scope{Namespace: "shop", Controller: &workload.Ref{Kind: "Deployment", Name: "web"}, Prefix: workload.PrefixController,
			Template: ptr.To(tmpl("web", nil)), ObjectAllow: ptr.To("app: NET_ADMIN; reason: on the object")},
		want: []string{"shop/deploy/web annotation " + key + ": on the object"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeCluster{}.clients(t)
			typed := c.Typed.(*fake.Clientset)
			for _, o := range []*appsv1.Deployment{
				deploy("web", 1, map[string]string{key: "app: NET_ADMIN; reason: on the object"}, nil),
				deploy("idle", 0, nil, map[string]string{key: "app: NET_RAW; reason: on the template"}),
			} {
				if err := typed.Tracker().Add(o); err != nil {
					t.Fatal(err)
				}
			}
			p, _ := runtimes.Parse("containerd")
			tt.scope.What = "the scope"
			col, err := Collect(context.Background(), c, Query{Scopes: []Scope{tt.scope}, Runtime: p})
			if err != nil {
				t.Fatal(err)
			}
			es, err := col.Exceptions("")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Origin+": "+e.Reason)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("exceptions (-want +got):\n%s", diff)
			}
		})
	}
}

// Object and template set to different values: an error naming the object.
func TestCollectAllowBothDiffer(t *testing.T) {
	c := fakeCluster{noPods: true}.clients(t)
	key := exception.AnnotationKey
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "both", Namespace: "shop", Annotations: map[string]string{key: "app: NET_ADMIN; reason: a"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(0)), Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{key: "app: NET_ADMIN; reason: b"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}}}
	if err := c.Typed.(*fake.Clientset).Tracker().Add(d); err != nil {
		t.Fatal(err)
	}
	p, _ := runtimes.Parse("containerd")
	col, err := Collect(context.Background(), c, Query{Scopes: []Scope{{Namespace: "shop", Templates: true, What: "the scope"}}, Runtime: p})
	if err != nil {
		t.Fatal(err)
	}
	_, err = col.Exceptions("")
	if want := "shop/deploy/both: " + key + " is set on the object and on its pod template with different values"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err %v, want %q", err, want)
	}
}
