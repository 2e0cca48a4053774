package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// realisticPod is a Deployment's pod as the apiserver stores it after the
// controller and the kubelet wrote it: managedFields from both, owner
// reference, annotations, init and ephemeral containers, container
// statuses with the user the runtime reports.
func realisticPod(i int) *corev1.Pod {
	ts := metav1.NewTime(time.Date(2026, 11, 30, 12, 0, i%60, 0, time.UTC))
	name := fmt.Sprintf("web-5d4f8c7b9-%05d", i)
	mf := func(manager, sub string, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{
			Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &ts,
			FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}, Subresource: sub,
		}
	}
	spec := `{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/restartedAt":{}},"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"0b7e\"}":{}}},` +
		`"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},` +
		`"f:resources":{".":{},"f:limits":{".":{},"f:memory":{}},"f:requests":{".":{},"f:cpu":{},"f:memory":{}}},"f:securityContext":{".":{},"f:allowPrivilegeEscalation":{},"f:capabilities":{".":{},"f:add":{},"f:drop":{}},"f:runAsNonRoot":{}},` +
		`"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:enableServiceLinks":{},"f:initContainers":{"k:{\"name\":\"init\"}":{".":{},"f:image":{},"f:name":{}}},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}`
	status := `{"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Initialized\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},` +
		`"k:{\"type\":\"PodReadyToStartContainers\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Ready\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},` +
		`"f:containerStatuses":{},"f:hostIP":{},"f:hostIPs":{},"f:initContainerStatuses":{},"f:phase":{},"f:podIP":{},"f:podIPs":{".":{},"k:{\"ip\":\"10.244.1.7\"}":{".":{},"f:ip":{}}},"f:startTime":{}}}`
	cstatus := func(n string) corev1.ContainerStatus {
		return corev1.ContainerStatus{
			Name: n, Ready: true, RestartCount: 0, Image: "registry.example/shop/" + n + ":1.4.2",
			ImageID:     "registry.example/shop/" + n + "@sha256:9f2d0c6b0f0b8f27f6a4c5a4ab8c6b7b2f6f1e2d3c4b5a69788796a5b4c3d2e1",
			ContainerID: "containerd://4c1f0e9b2a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c",
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ts}},
			User:        &corev1.ContainerUser{Linux: &corev1.LinuxContainerUser{UID: 10001, GID: 10001, SupplementalGroups: []int64{10001}}},
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, GenerateName: "web-5d4f8c7b9-", Namespace: fmt.Sprintf("team-%02d", i%20),
			UID: types.UID(fmt.Sprintf("7d1f3a52-8b9e-4c0d-a1f2-%012d", i)), ResourceVersion: strconv.Itoa(100000 + i),
			CreationTimestamp: ts,
			Labels:            map[string]string{"app": "web", "pod-template-hash": "5d4f8c7b9"},
			Annotations:       map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-11-30T12:00:00Z"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d4f8c7b9", UID: "0b7e",
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
			ManagedFields: []metav1.ManagedFieldsEntry{mf("kube-controller-manager", "", spec), mf("kubelet", "status", status)},
		},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: "busybox:1.37", Command: []string{"sh", "-c", "true"}}},
			Containers: []corev1.Container{{
				Name: "app", Image: "registry.example/shop/app:1.4.2", ImagePullPolicy: corev1.PullIfNotPresent,
				Ports: []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Resources: corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false), RunAsNonRoot: ptr.To(true),
					Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}},
				},
				VolumeMounts:           []corev1.VolumeMount{{Name: "kube-api-access-x7k2p", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}},
				TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
			EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debugger", Image: "busybox:1.37",
				SecurityContext: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}},
			}, TargetContainerName: "app"}},
			RestartPolicy: corev1.RestartPolicyAlways, DNSPolicy: corev1.DNSClusterFirst,
			ServiceAccountName: "default", NodeName: fmt.Sprintf("node-%03d", i%100),
			SecurityContext: &corev1.PodSecurityContext{}, SchedulerName: "default-scheduler",
			Tolerations: []corev1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
				{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
			},
			Volumes: []corev1.Volume{{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr.To[int64](3607), Path: "token"}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
				},
				DefaultMode: ptr.To[int32](420),
			}}}},
			PreemptionPolicy: ptr.To(corev1.PreemptLowerPriority), Priority: ptr.To[int32](0), EnableServiceLinks: ptr.To(true),
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, HostIP: "172.18.0.3", PodIP: "10.244.1.7", QOSClass: corev1.PodQOSBurstable,
			HostIPs: []corev1.HostIP{{IP: "172.18.0.3"}}, PodIPs: []corev1.PodIP{{IP: "10.244.1.7"}}, StartTime: &ts,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: ts},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: ts},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: ts},
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: ts},
			},
			InitContainerStatuses: []corev1.ContainerStatus{cstatus("init")},
			ContainerStatuses:     []corev1.ContainerStatus{cstatus("app")},
		},
	}
}

// podList is a PodList of n realistic pods with a continue token.
func podList(n int, cont string) *corev1.PodList {
	l := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "123456", Continue: cont}}
	for i := range n {
		l.Items = append(l.Items, *realisticPod(i))
	}
	return l
}

// encodeProtobuf encodes obj as the apiserver does: k8s.io/apimachinery's
// protobuf serializer with client-go's scheme, so the envelope is the
// real one.
func encodeProtobuf(t testing.TB, obj runtime.Object) []byte {
	t.Helper()
	return mustEncode(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), obj)
}

func encodeJSON(t testing.TB, obj runtime.Object) []byte {
	t.Helper()
	return mustEncode(json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme, json.SerializerOptions{}), obj)
}

// mustEncode encodes a copy of obj with its apiVersion and kind set; it
// panics since it also runs in test servers' handlers, without a T.
func mustEncode(enc runtime.Encoder, obj runtime.Object) []byte {
	gvks, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil {
		panic(err)
	}
	obj = obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	var buf bytes.Buffer
	if err := enc.Encode(obj, &buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// withoutManagedFields is what ListPods promises: the pods of the list,
// managedFields cleared.
func withoutManagedFields(l *corev1.PodList) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range l.Items {
		p := l.Items[i].DeepCopy()
		p.ManagedFields = nil
		out = append(out, p)
	}
	return out
}

func collectPage(body []byte) ([]*corev1.Pod, error) {
	var got []*corev1.Pod
	err := decodePodPage(body, 1, func(p *corev1.Pod) error {
		got = append(got, p)
		return nil
	})
	return got, err
}

func TestDecodePodPage(t *testing.T) {
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "default"}}
	tests := []struct {
		name string
		list *corev1.PodList
	}{
		{"one realistic pod", podList(1, "")},
		{"several pods and a continue token", podList(7, "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzNDU2LCJzdGFydCI6InRlYW0tMDYvd2ViIn0")},
		{"empty list", &corev1.PodList{}},
		{"a pod with metadata only", &corev1.PodList{Items: []corev1.Pod{*bare}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := encodeProtobuf(t, tt.list)
			got, err := collectPage(body)
			if err != nil {
				t.Fatal(err)
			}
			// Against the generated decoder of the same bytes: every field
			// kept, field 17 dropped.
			var ref corev1.PodList
			raw, err := unwrapEnvelope(body)
			if err != nil {
				t.Fatal(err)
			}
			if err := ref.Unmarshal(raw); err != nil {
				t.Fatal(err)
			}
			for i := range tt.list.Items {
				if len(tt.list.Items[i].ManagedFields) > 0 && len(ref.Items[i].ManagedFields) == 0 {
					t.Fatal("the fixture's managedFields did not survive encoding; the test would prove nothing")
				}
			}
			want := withoutManagedFields(&ref)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("pods differ from (*PodList).Unmarshal without managedFields (-want +got):\n%s", cmp.Diff(want, got))
			}
			// And against the original objects.
			if diff := cmp.Diff(withoutManagedFields(tt.list), got, cmp.Comparer(func(a, b metav1.Time) bool { return a.Equal(&b) }),
				cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })); diff != "" {
				t.Errorf("pods differ from the originals (-want +got):\n%s", diff)
			}
			cont, err := pageContinue(body)
			if err != nil || cont != tt.list.Continue {
				t.Errorf("continue = %q, %v; want %q", cont, err, tt.list.Continue)
			}

			// JSON, from a server that does not speak protobuf: the same pods.
			js := encodeJSON(t, tt.list)
			got, err = collectPage(js)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(withoutManagedFields(tt.list), got, cmp.Comparer(func(a, b metav1.Time) bool { return a.Equal(&b) }),
				cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })); diff != "" {
				t.Errorf("JSON page: pods differ from the originals (-want +got):\n%s", diff)
			}
			cont, err = pageContinue(js)
			if err != nil || cont != tt.list.Continue {
				t.Errorf("JSON continue = %q, %v; want %q", cont, err, tt.list.Continue)
			}
		})
	}
}

// Each pod is a new struct: a caller may keep it (or its strings).
func TestDecodePodPageNewPodPerItem(t *testing.T) {
	got, err := collectPage(encodeProtobuf(t, podList(3, "")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] == got[1] || got[0].Name == got[1].Name || got[2].Name != "web-5d4f8c7b9-00002" {
		t.Errorf("pods are not distinct: %v %v %v", got[0].Name, got[1].Name, got[2].Name)
	}
}

func TestDecodePodPageVisitError(t *testing.T) {
	stop := errors.New("stop here")
	n := 0
	err := decodePodPage(encodeProtobuf(t, podList(5, "")), 1, func(*corev1.Pod) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("err %v after %d pods; want visit's own error after 2", err, n)
	}
}

func TestDecodePodPageMalformed(t *testing.T) {
	good := encodeProtobuf(t, podList(2, "next"))
	status := encodeProtobuf(t, &metav1.Status{Status: metav1.StatusFailure, Code: 500, Message: "boom"})
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	tests := []struct {
		name, want string
		body       []byte
	}{
		{"protobuf without its prefix", "not protobuf", good[4:]},
		{"JSON that is not a PodList", "not protobuf", []byte(`{"kind":"PodList"}`)},
		{"a Status, not a PodList", `"Status"`, status},
		{"truncated in the last pod", "byte", good[:len(good)-10]},
		{"truncated in the envelope", "envelope", good[:6]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := collectPage(tt.body)
			if err == nil || !strings.Contains(err.Error(), "page 1") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want one naming page 1 and %q", err, tt.want)
			}
		})
	}
	// Every truncation and a flipped byte: an error or a valid prefix,
	// never a panic.
	for i := range good {
		_, _ = collectPage(good[:i])
		_, _ = pageContinue(good[:i])
	}
	_, _ = collectPage(flipped)
}

func FuzzDecodePodPage(f *testing.F) {
	f.Add(encodeProtobuf(f, podList(2, "next")))
	f.Add(encodeProtobuf(f, &corev1.PodList{}))
	f.Add(encodeProtobuf(f, &corev1.PodList{Items: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "bare"}}}}))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = collectPage(body)
		_, _ = pageContinue(body)
	})
}

// BenchmarkDecodePodPage compares the walker with the generated decoder of
// a whole page of 500 realistic pods; per-pod figures are reported as
// B/pod and allocs/pod.
func BenchmarkDecodePodPage(b *testing.B) {
	body := encodeProtobuf(b, podList(500, "next"))
	raw, err := unwrapEnvelope(body)
	if err != nil {
		b.Fatal(err)
	}
	perPod := func(b *testing.B, f func()) {
		b.ReportAllocs()
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		for b.Loop() {
			f()
		}
		goruntime.ReadMemStats(&after)
		n := float64(b.N) * 500
		b.ReportMetric(float64(len(body))/500, "wire-B/pod")
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/pod")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/pod")
	}
	b.Run("walker", func(b *testing.B) {
		perPod(b, func() {
			if err := decodePodPage(body, 1, func(*corev1.Pod) error { return nil }); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("PodList.Unmarshal", func(b *testing.B) {
		perPod(b, func() {
			var l corev1.PodList
			if err := l.Unmarshal(raw); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// podServer is an apiserver's pod LIST, paged by limit and continue, in
// protobuf (or JSON), counting requests; expireAt makes that request
// answer 410 Expired.
type podServer struct {
	pages    int
	perPage  int
	json     bool
	expireAt int32
	requests atomic.Int32
	// cache, when set, keeps each page's encoding (benchmarks).
	cache map[string][]byte
	mu    sync.Mutex
}

func (s *podServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	if r.URL.Path != "/api/v1/pods" && r.URL.Path != "/api/v1/namespaces/shop/pods" {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("limit") != strconv.Itoa(s.perPage) {
		http.Error(w, "limit "+r.URL.Query().Get("limit"), http.StatusBadRequest)
		return
	}
	page := 0
	if c := r.URL.Query().Get("continue"); c != "" {
		page, _ = strconv.Atoi(strings.TrimPrefix(c, "page-"))
	}
	if n == s.expireAt {
		st := apierrors.NewResourceExpired("The provided continue parameter is too old").Status()
		w.Header().Set("Content-Type", protobufMediaType)
		w.WriteHeader(http.StatusGone)
		_, _ = w.Write(mustEncode(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), &st))
		return
	}
	l := &corev1.PodList{}
	for i := range s.perPage {
		l.Items = append(l.Items, *realisticPod(page*s.perPage + i))
	}
	if page+1 < s.pages {
		l.Continue = fmt.Sprintf("page-%d", page+1)
	}
	if s.json {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(mustEncode(json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme, json.SerializerOptions{}), l))
		return
	}
	w.Header().Set("Content-Type", protobufMediaType)
	s.mu.Lock()
	body, ok := s.cache[l.Continue]
	if !ok {
		body = mustEncode(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), l)
		if s.cache != nil {
			s.cache[l.Continue] = body
		}
	}
	s.mu.Unlock()
	_, _ = w.Write(body)
}

func serveClients(t *testing.T, s *podServer) Clients {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := NewClients(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withTimeout fails the test instead of hanging when ListPods does not
// return (a fetcher that outlives it would block the deferred wait).
func withTimeout(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("ListPods did not return")
		return nil
	}
}

// Pods kept by the caller survive the reuse of page buffers: with more
// pages than buffers, every pod is compared with its original at the end.
func TestListPodsRaw(t *testing.T) {
	const pages, perPage = 6, 3
	var want []*corev1.Pod
	for i := range pages * perPage {
		p := realisticPod(i)
		p.ManagedFields = nil
		want = append(want, p)
	}
	for _, js := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", js), func(t *testing.T) {
			s := &podServer{pages: pages, perPage: perPage, json: js}
			c := serveClients(t, s)
			var got []*corev1.Pod
			err := withTimeout(t, func() error {
				return ListPods(context.Background(), c.Typed, PodQuery{Namespace: "shop", ChunkSize: perPage}, func(p *corev1.Pod) error {
					got = append(got, p)
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b metav1.Time) bool { return a.Equal(&b) }),
				cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })); diff != "" {
				t.Errorf("pods differ (-want +got):\n%s", diff)
			}
			if n := s.requests.Load(); n != pages {
				t.Errorf("%d requests; want %d", n, pages)
			}
		})
	}
}

func TestListPodsRawExpired(t *testing.T) {
	s := &podServer{pages: 4, perPage: 2, expireAt: 3}
	c := serveClients(t, s)
	seen := 0
	err := withTimeout(t, func() error {
		return ListPods(context.Background(), c.Typed, PodQuery{ChunkSize: 2}, func(*corev1.Pod) error { seen++; return nil })
	})
	if !IsExpired(err) || !strings.Contains(err.Error(), "too old") {
		t.Errorf("err = %v; want the server's 410 Expired", err)
	}
	if seen != 4 {
		t.Errorf("saw %d pods before the 410; want the 4 of the first two pages", seen)
	}
}

// The fetcher works one page ahead of visit, PageBuffer pages at most, and
// stops when visit fails.
func TestListPodsRawFetchAhead(t *testing.T) {
	s := &podServer{pages: 20, perPage: 1}
	c := serveClients(t, s)
	stop := errors.New("stop")
	err := withTimeout(t, func() error {
		return ListPods(context.Background(), c.Typed, PodQuery{ChunkSize: 1}, func(*corev1.Pod) error {
			deadline := time.Now().Add(10 * time.Second)
			for s.requests.Load() < 2 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			if n := s.requests.Load(); n < 2 || n > 1+PageBuffer {
				t.Errorf("%d requests while page 1 was visited; want 2 to %d", n, 1+PageBuffer)
			}
			return stop
		})
	})
	if err != stop {
		t.Errorf("err = %v; want visit's error", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := s.requests.Load(); n > 1+PageBuffer {
		t.Errorf("%d requests after visit failed; the fetcher did not stop", n)
	}
}

func TestListPodsRawCancelled(t *testing.T) {
	s := &podServer{pages: 20, perPage: 1}
	c := serveClients(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	err := withTimeout(t, func() error {
		return ListPods(ctx, c.Typed, PodQuery{ChunkSize: 1}, func(*corev1.Pod) error { cancel(); return nil })
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v; want context.Canceled", err)
	}
}

// BenchmarkListPods lists 10 pages of 500 realistic pods from a test
// server, through the raw path and through client-go's pager (the path
// before it, still used for clients without a REST client), and reports
// bytes allocated per pod and the largest live heap seen (sampled every
// 100 pods, after a GC, so it counts what the list holds, not garbage).
func BenchmarkListPods(b *testing.B) {
	const pages, perPage = 10, 500
	s := &podServer{pages: pages, perPage: perPage}
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	c, err := NewClients(&rest.Config{Host: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	// The server's encoding is cached so that it does not weigh on the
	// client's figures.
	s.cache = map[string][]byte{}
	for name, list := range map[string]func(ctx context.Context, visit func(*corev1.Pod) error) error{
		"raw": func(ctx context.Context, visit func(*corev1.Pod) error) error {
			return ListPods(ctx, c.Typed, PodQuery{ChunkSize: perPage}, visit)
		},
		"pager": func(ctx context.Context, visit func(*corev1.Pod) error) error {
			return listPodsPager(ctx, c.Typed, PodQuery{}, perPage, visit)
		},
	} {
		b.Run(name, func(b *testing.B) {
			var peak uint64
			var before, after goruntime.MemStats
			goruntime.ReadMemStats(&before)
			for b.Loop() {
				n := 0
				err := list(context.Background(), func(*corev1.Pod) error {
					n++
					if n%100 == 0 {
						goruntime.GC()
						var m goruntime.MemStats
						goruntime.ReadMemStats(&m)
						peak = max(peak, m.HeapAlloc)
					}
					return nil
				})
				if err != nil || n != pages*perPage {
					b.Fatalf("%d pods, %v", n, err)
				}
			}
			goruntime.ReadMemStats(&after)
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N*pages*perPage), "B/pod")
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-MiB")
		})
	}
}
