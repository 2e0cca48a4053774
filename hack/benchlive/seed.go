package main

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// The shape of the benchmark cluster. The numbers follow the issue: 50
// namespaces, 20 nodes, 70% of the pods owned by ReplicaSets of Deployments.
const (
	numNamespaces = 50
	numNodes      = 20
	ownedShare    = 0.7
	// bareOwnedShare is the owned share of the bare mix.
	bareOwnedShare = 0.1
)

// nodeRuntimes is what the 20 nodes report in
// status.nodeInfo.containerRuntimeVersion: a mixed fleet in the middle of an
// upgrade, so pods of one Deployment land on nodes with different runtimes
// and the rollup cannot merge them (every runtime version is a key of its
// own). cri-o 1.20 is in the range whose drop-ALL behaviour depends on the
// patch release; docker is cri-dockerd.
var nodeRuntimes = []string{
	"containerd://2.1.4", "containerd://2.1.4", "containerd://2.1.4", "containerd://2.1.4", "containerd://2.1.4",
	"containerd://2.1.4", "containerd://2.1.4", "containerd://2.1.4", "containerd://2.1.4", "containerd://2.1.4",
	"containerd://1.7.27", "containerd://1.7.27", "containerd://1.7.27", "containerd://1.7.27",
	"cri-o://1.33.2", "cri-o://1.33.2", "cri-o://1.33.2", "cri-o://1.33.2",
	"cri-o://1.20.3",
	"docker://28.3.2",
}

// replicaChoices is the distribution of Deployment sizes: mostly small,
// a few large (mean ≈ 5.9 pods).
var replicaChoices = []struct {
	replicas int
	weight   int
}{{1, 15}, {2, 25}, {3, 25}, {5, 15}, {10, 12}, {20, 5}, {50, 3}}

// The mixes of pods the benchmark seeds (-mix).
const (
	// mixRealistic: the archetypes below, 70% owned, 1-3 containers
	// carrying env, probes, resources and mounts.
	mixRealistic = "realistic"
	// mixBare: small, mostly bare pods (issue 15): 90% without a
	// controller, so nearly every pod is a group of its own and the report
	// has an item per container; one or two containers (87% two, as in
	// the 10,000 pods with 18,740 containers) with an image by tag,
	// one port, no securityContext (5% restricted), one label. Per pod the
	// audit then encodes more and the apiserver sends less than with the
	// realistic mix.
	mixBare = "bare"
)

// plan is the whole cluster, decided up front from a fixed seed so every
// run of the benchmark sees the same objects.
type plan struct {
	mix         string
	seed        uint64
	namespaces  []string
	nodes       []string
	deployments []deployPlan
	pods        []podPlan
}

type deployPlan struct {
	namespace, name, hash string
	app                   string
	archetype             int
	replicas              int
	rsUID                 types.UID // set once the ReplicaSet exists
}

type podPlan struct {
	namespace, name string
	app             string
	deployment      int // index into plan.deployments, or -1 for a bare pod
	archetype       int
	node            int
}

func newPlan(pods int, seed uint64, mix string) *plan {
	r := rand.New(rand.NewPCG(seed, 0x6b756265))
	p := &plan{seed: seed, mix: mix}
	for i := range numNamespaces {
		p.namespaces = append(p.namespaces, fmt.Sprintf("%s-%02d", teams[i%len(teams)], i))
	}
	for i := range numNodes {
		p.nodes = append(p.nodes, fmt.Sprintf("node-%02d", i))
	}
	share := ownedShare
	if mix == mixBare {
		share = bareOwnedShare
	}
	owned := int(float64(pods)*share + 0.5)
	for left := owned; left > 0; {
		n := min(pickReplicas(r), left)
		left -= n
		app := services[r.IntN(len(services))]
		d := deployPlan{
			namespace: p.namespaces[r.IntN(numNamespaces)],
			name:      fmt.Sprintf("%s-%d", app, len(p.deployments)),
			app:       app,
			hash:      randName(r, 10),
			archetype: pickArchetype(r),
			replicas:  n,
		}
		p.deployments = append(p.deployments, d)
		for range n {
			p.pods = append(p.pods, podPlan{
				namespace:  d.namespace,
				name:       d.name + "-" + d.hash + "-" + randName(r, 5),
				app:        app,
				deployment: len(p.deployments) - 1,
				archetype:  d.archetype,
				node:       r.IntN(numNodes),
			})
		}
	}
	for i := 0; len(p.pods) < pods; i++ {
		app := bareNames[r.IntN(len(bareNames))]
		p.pods = append(p.pods, podPlan{
			namespace:  p.namespaces[r.IntN(numNamespaces)],
			name:       fmt.Sprintf("%s-%d-%s", app, i, randName(r, 5)),
			app:        app,
			deployment: -1,
			archetype:  pickArchetype(r),
			node:       r.IntN(numNodes),
		})
	}
	return p
}

// containers counts the containers of every pod, init containers included.
func (p *plan) containers() int {
	n := 0
	for i := range p.pods {
		pod := p.pod(i)
		n += len(pod.Spec.InitContainers) + len(pod.Spec.Containers)
	}
	return n
}

func (p *plan) owned() int {
	n := 0
	for _, d := range p.deployments {
		n += d.replicas
	}
	return n
}

func pickReplicas(r *rand.Rand) int {
	total := 0
	for _, c := range replicaChoices {
		total += c.weight
	}
	n := r.IntN(total)
	for _, c := range replicaChoices {
		if n < c.weight {
			return c.replicas
		}
		n -= c.weight
	}
	return 1
}

var (
	teams     = []string{"shop", "payments", "search", "platform", "data", "ml", "identity", "media", "ops", "web"}
	services  = []string{"api", "checkout", "cart", "frontend", "worker", "indexer", "gateway", "auth", "billing", "notifier", "recommender", "ingest"}
	bareNames = []string{"debug", "migrate", "backfill", "smoke-test", "one-off", "batch-export"}
)

// safeAlphabet is the one Kubernetes uses for generated name suffixes and
// pod-template-hash values (no vowels, no look-alike digits).
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

func randName(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = safeAlphabet[r.IntN(len(safeAlphabet))]
	}
	return string(b)
}

func randHex(r *rand.Rand, n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hex[r.IntN(16)]
	}
	return string(b)
}

// archetypes are the pod templates found in real clusters, with the share
// of workloads that use each. Their securityContexts span what the engine
// distinguishes: none at all (the most common), restricted, drop ALL with
// one add, a service mesh whose init container adds NET_ADMIN and NET_RAW,
// privileged host agents, explicit root with extra capabilities, and the
// CAP_-prefixed drop that containerd ignores.
var archetypes = []struct {
	name   string
	weight int
	build  func(r *rand.Rand, app string) corev1.PodSpec
}{
	{"plain", 30, func(r *rand.Rand, app string) corev1.PodSpec {
		return corev1.PodSpec{Containers: []corev1.Container{appContainer(r, app, nil)}}
	}},
	{"restricted", 20, func(r *rand.Rand, app string) corev1.PodSpec {
		return corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				RunAsUser:      ptr.To[int64](10001),
				RunAsGroup:     ptr.To[int64](10001),
				FSGroup:        ptr.To[int64](10001),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{appContainer(r, app, restrictedSC())},
		}
	}},
	{"mesh", 15, func(r *rand.Rand, app string) corev1.PodSpec {
		return corev1.PodSpec{
			InitContainers: []corev1.Container{meshInit()},
			Containers:     []corev1.Container{appContainer(r, app, nil), meshProxy()},
		}
	}},
	{"bind", 10, func(r *rand.Rand, app string) corev1.PodSpec {
		return corev1.PodSpec{Containers: []corev1.Container{appContainer(r, app, &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities: &corev1.Capabilities{
				Drop: []corev1.Capability{"ALL"},
				Add:  []corev1.Capability{"NET_BIND_SERVICE", "CHOWN", "SETUID", "SETGID"},
			},
		})}}
	}},
	{"logging", 10, func(r *rand.Rand, app string) corev1.PodSpec {
		return corev1.PodSpec{
			InitContainers: []corev1.Container{waitForDB()},
			Containers:     []corev1.Container{appContainer(r, app, restrictedSC()), logShipper()},
		}
	}},
	{"netadmin", 5, func(r *rand.Rand, app string) corev1.PodSpec {
		return corev1.PodSpec{Containers: []corev1.Container{appContainer(r, app, &corev1.SecurityContext{
			RunAsUser:    ptr.To[int64](0),
			Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "SYS_TIME"}},
		})}}
	}},
	{"legacy-drop", 5, func(r *rand.Rand, app string) corev1.PodSpec {
		return corev1.PodSpec{Containers: []corev1.Container{appContainer(r, app, &corev1.SecurityContext{
			Capabilities: &corev1.Capabilities{
				Drop: []corev1.Capability{"CAP_NET_RAW"},
				Add:  []corev1.Capability{"SYS_PTRACE"},
			},
		})}}
	}},
	{"host-agent", 5, func(r *rand.Rand, app string) corev1.PodSpec {
		return corev1.PodSpec{
			HostNetwork: true,
			HostPID:     true,
			Volumes: []corev1.Volume{
				{Name: "varlog", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
				{Name: "proc", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/proc"}}},
			},
			Containers: []corev1.Container{withMounts(appContainer(r, app, &corev1.SecurityContext{Privileged: ptr.To(true)}),
				corev1.VolumeMount{Name: "varlog", MountPath: "/var/log", ReadOnly: true},
				corev1.VolumeMount{Name: "proc", MountPath: "/host/proc", ReadOnly: true},
			)},
		}
	}},
}

func pickArchetype(r *rand.Rand) int {
	total := 0
	for _, a := range archetypes {
		total += a.weight
	}
	n := r.IntN(total)
	for i, a := range archetypes {
		if n < a.weight {
			return i
		}
		n -= a.weight
	}
	return 0
}

func restrictedSC() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func image(repo, tag string, r *rand.Rand) string {
	return fmt.Sprintf("registry.example.com/%s:%s@sha256:%s", repo, tag, randHex(r, 64))
}

func appContainer(r *rand.Rand, app string, sc *corev1.SecurityContext) corev1.Container {
	env := []corev1.EnvVar{
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
		{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}},
		{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}},
		{Name: "LOG_LEVEL", Value: "info"},
		{Name: "HTTP_PORT", Value: "8080"},
		{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Value: "http://otel-collector.observability.svc:4317"},
		{Name: "DATABASE_URL", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: app + "-db"}, Key: "url"}}},
	}
	for i := range r.IntN(6) {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("FEATURE_FLAG_%d", i), Value: "true"})
	}
	probe := func(path string, delay int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
			InitialDelaySeconds: delay, PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
		}
	}
	return corev1.Container{
		Name:            "app",
		Image:           image("team/"+app, fmt.Sprintf("1.%d.%d", r.IntN(20), r.IntN(10)), r),
		ImagePullPolicy: corev1.PullIfNotPresent,
		Args:            []string{"--config=/etc/app/config.yaml", "--listen=:8080"},
		Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
			{Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolTCP},
		},
		Env: env,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
		},
		LivenessProbe:            probe("/healthz", 10),
		ReadinessProbe:           probe("/readyz", 5),
		VolumeMounts:             []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app", ReadOnly: true}, {Name: "tmp", MountPath: "/tmp"}},
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		SecurityContext:          sc,
	}
}

func withMounts(c corev1.Container, m ...corev1.VolumeMount) corev1.Container {
	c.VolumeMounts = append(c.VolumeMounts, m...)
	return c
}

// meshInit and meshProxy follow Istio's injected containers.
func meshInit() corev1.Container {
	return corev1.Container{
		Name:  "istio-init",
		Image: "docker.io/istio/proxyv2:1.27.1",
		Args:  []string{"istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("40Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Privileged:               ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(false),
			RunAsGroup:               ptr.To[int64](0),
			RunAsNonRoot:             ptr.To(false),
			RunAsUser:                ptr.To[int64](0),
			Capabilities: &corev1.Capabilities{
				Add:  []corev1.Capability{"NET_ADMIN", "NET_RAW"},
				Drop: []corev1.Capability{"ALL"},
			},
		},
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		ImagePullPolicy:          corev1.PullIfNotPresent,
	}
}

func meshProxy() corev1.Container {
	return corev1.Container{
		Name:  "istio-proxy",
		Image: "docker.io/istio/proxyv2:1.27.1",
		Args:  []string{"proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning", "--log_output_level=default:info"},
		Ports: []corev1.ContainerPort{{Name: "http-envoy-prom", ContainerPort: 15090, Protocol: corev1.ProtocolTCP}},
		Env: []corev1.EnvVar{
			{Name: "PILOT_CERT_PROVIDER", Value: "istiod"},
			{Name: "CA_ADDR", Value: "istiod.istio-system.svc:15012"},
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
			{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}},
			{Name: "INSTANCE_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}},
			{Name: "SERVICE_ACCOUNT", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.serviceAccountName"}}},
			{Name: "PROXY_CONFIG", Value: "{}\n"},
			{Name: "ISTIO_META_INTERCEPTION_MODE", Value: "REDIRECT"},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("40Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz/ready", Port: intstr.FromInt32(15021), Scheme: corev1.URISchemeHTTP}},
			PeriodSeconds: 15, TimeoutSeconds: 3, SuccessThreshold: 1, FailureThreshold: 4,
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Privileged:               ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			RunAsGroup:               ptr.To[int64](1337),
			RunAsNonRoot:             ptr.To(true),
			RunAsUser:                ptr.To[int64](1337),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "istio-envoy", MountPath: "/etc/istio/proxy"},
			{Name: "istio-data", MountPath: "/var/lib/istio/data"},
		},
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		ImagePullPolicy:          corev1.PullIfNotPresent,
	}
}

func waitForDB() corev1.Container {
	return corev1.Container{
		Name:                     "wait-for-db",
		Image:                    "docker.io/library/busybox:1.37",
		Command:                  []string{"sh", "-c", "until nc -z db 5432; do echo waiting for db; sleep 2; done"},
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		ImagePullPolicy:          corev1.PullIfNotPresent,
	}
}

func logShipper() corev1.Container {
	return corev1.Container{
		Name:  "fluent-bit",
		Image: "cr.fluentbit.io/fluent/fluent-bit:4.0.3",
		Args:  []string{"--config=/fluent-bit/etc/fluent-bit.yaml"},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("20m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "tmp", MountPath: "/var/log/app", ReadOnly: true},
			{Name: "config", MountPath: "/fluent-bit/etc", ReadOnly: true},
		},
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		ImagePullPolicy:          corev1.PullIfNotPresent,
	}
}

// template is a Deployment's pod template: the archetype plus the volumes
// every pod of it shares. The random source is the Deployment's own, so
// all its pods get the same images.
func (p *plan) template(d *deployPlan) corev1.PodTemplateSpec {
	r := rand.New(rand.NewPCG(p.seed, hashString(d.namespace+"/"+d.name)))
	app := d.app
	if p.mix == mixBare {
		return smallTemplate(r, d.name, app)
	}
	spec := archetypes[d.archetype].build(r, app)
	spec.Volumes = append(spec.Volumes, sharedVolumes(app, d.archetype)...)
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels: map[string]string{"app.kubernetes.io/name": app, "app.kubernetes.io/instance": d.name, "app.kubernetes.io/part-of": d.namespace},
			Annotations: map[string]string{
				"prometheus.io/scrape": "true", "prometheus.io/port": "9090",
				"kubectl.kubernetes.io/restartedAt": "2026-03-02T10:15:00Z",
			},
		},
		Spec: spec,
	}
}

func sharedVolumes(app string, archetype int) []corev1.Volume {
	v := []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: app + "-config"}, DefaultMode: ptr.To[int32](0o644)}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if archetypes[archetype].name == "mesh" {
		v = append(v,
			corev1.Volume{Name: "istio-envoy", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}},
			corev1.Volume{Name: "istio-data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		)
	}
	return v
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// pod builds pod i as the kubelet and the ServiceAccount admission plugin
// would leave it: the template, a node, a per-pod projected token volume
// mounted into every container, and the default tolerations.
func (p *plan) pod(i int) *corev1.Pod {
	pp := &p.pods[i]
	r := rand.New(rand.NewPCG(p.seed, uint64(i)+1))
	var tmpl corev1.PodTemplateSpec
	var owners []metav1.OwnerReference
	labels := map[string]string{}
	if pp.deployment >= 0 {
		d := &p.deployments[pp.deployment]
		tmpl = p.template(d)
		labels["pod-template-hash"] = d.hash
		owners = []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "ReplicaSet", Name: d.name + "-" + d.hash, UID: d.rsUID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
		}}
	} else {
		tmpl = p.template(&deployPlan{namespace: pp.namespace, name: pp.name, app: pp.app, archetype: pp.archetype})
		tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	}
	for k, v := range tmpl.Labels {
		labels[k] = v
	}
	spec := tmpl.Spec
	spec.NodeName = p.nodes[pp.node]
	spec.ServiceAccountName = "default"
	spec.Tolerations = []corev1.Toleration{
		{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
		{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
	}
	token := "kube-api-access-" + randName(r, 5)
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: token, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr.To[int32](0o644),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr.To[int64](3607), Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}})
	mount := corev1.VolumeMount{Name: token, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for j := range list {
			list[j].VolumeMounts = append(list[j].VolumeMounts, mount)
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: pp.name, Namespace: pp.namespace, Labels: labels, Annotations: tmpl.Annotations, OwnerReferences: owners,
		},
		Spec: spec,
	}
}

var epoch = time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)

// status is what the kubelet reports for a running pod: conditions, IPs and
// one status per container with its image digest and container ID. Nodes
// running containerd 2 report the user the process runs as (KEP-3619), as
// that kubelet and runtime do.
func (p *plan) status(i int, pod *corev1.Pod) corev1.PodStatus {
	pp := &p.pods[i]
	r := rand.New(rand.NewPCG(p.seed^0x5eed, uint64(i)+1))
	start := metav1.NewTime(epoch.Add(time.Duration(i) * time.Second))
	running := metav1.NewTime(start.Add(4 * time.Second))
	rt := nodeRuntimes[pp.node]
	scheme, _, _ := strings.Cut(rt, "://")
	reportsUser := strings.HasPrefix(rt, "containerd://2.")
	podIP := fmt.Sprintf("10.244.%d.%d", i/250%250, i%250+2)
	hostIP := fmt.Sprintf("192.168.10.%d", pp.node+10)
	st := corev1.PodStatus{
		Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{
			{Type: "PodReadyToStartContainers", Status: corev1.ConditionTrue, LastTransitionTime: start},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: running},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: running},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: running},
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: start},
		},
		HostIP: hostIP, HostIPs: []corev1.HostIP{{IP: hostIP}},
		PodIP: podIP, PodIPs: []corev1.PodIP{{IP: podIP}},
		StartTime: &start,
		// The class the apiserver gave the pod on create (immutable):
		// Burstable for the realistic mix, BestEffort for the bare one.
		QOSClass: cmp.Or(pod.Status.QOSClass, corev1.PodQOSBurstable),
	}
	cs := func(c *corev1.Container, state corev1.ContainerState) corev1.ContainerStatus {
		s := corev1.ContainerStatus{
			Name: c.Name, State: state, Ready: state.Running != nil, RestartCount: int32(r.IntN(2)),
			Image:       strings.SplitN(c.Image, "@", 2)[0],
			ImageID:     strings.SplitN(c.Image, ":", 2)[0] + "@sha256:" + randHex(r, 64),
			ContainerID: scheme + "://" + randHex(r, 64),
			Started:     ptr.To(state.Running != nil),
		}
		for _, m := range c.VolumeMounts {
			s.VolumeMounts = append(s.VolumeMounts, corev1.VolumeMountStatus{Name: m.Name, MountPath: m.MountPath, ReadOnly: m.ReadOnly,
				RecursiveReadOnly: ptr.To(corev1.RecursiveReadOnlyDisabled)})
		}
		if reportsUser {
			uid := int64(0)
			if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
				uid = *c.SecurityContext.RunAsUser
			} else if pod.Spec.SecurityContext != nil && pod.Spec.SecurityContext.RunAsUser != nil {
				uid = *pod.Spec.SecurityContext.RunAsUser
			}
			s.User = &corev1.ContainerUser{Linux: &corev1.LinuxContainerUser{UID: uid, GID: uid}}
		}
		return s
	}
	for j := range pod.Spec.InitContainers {
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs(&pod.Spec.InitContainers[j], corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: start, FinishedAt: running,
				ContainerID: scheme + "://" + randHex(r, 64)},
		}))
		st.InitContainerStatuses[j].RestartCount = 0
	}
	for j := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, cs(&pod.Spec.Containers[j], corev1.ContainerState{
			Running: &corev1.ContainerStateRunning{StartedAt: running},
		}))
	}
	return st
}

// seed creates the namespaces, nodes, Deployments, ReplicaSets and pods of
// the plan with `workers` concurrent requests, then writes every pod's
// status (the apiserver discards status sent on create).
func seed(ctx context.Context, cs kubernetes.Interface, p *plan, workers int, progress func(string)) error {
	run := func(what string, n int, job func(ctx context.Context, i int) error) error {
		start := time.Now()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var next, done atomic.Int64
		var firstErr error
		var once sync.Once
		var wg sync.WaitGroup
		for range min(workers, n) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= n || ctx.Err() != nil {
						return
					}
					if err := job(ctx, i); err != nil {
						once.Do(func() { firstErr = fmt.Errorf("%s %d: %w", what, i, err); cancel() })
						return
					}
					if d := done.Add(1); d%2000 == 0 {
						progress(fmt.Sprintf("%s: %d/%d", what, d, n))
					}
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		progress(fmt.Sprintf("%s: %d in %.1fs", what, n, time.Since(start).Seconds()))
		return nil
	}

	if err := run("namespaces", len(p.namespaces), func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.namespaces[i]}}, metav1.CreateOptions{})
		return err
	}); err != nil {
		return err
	}
	if err := run("nodes", len(p.nodes), func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Nodes().Create(ctx, node(p.nodes[i], nodeRuntimes[i]), metav1.CreateOptions{})
		return err
	}); err != nil {
		return err
	}
	if err := run("deployments+replicasets", len(p.deployments), func(ctx context.Context, i int) error {
		d := &p.deployments[i]
		tmpl := p.template(d)
		sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/instance": d.name}}
		dep, err := cs.AppsV1().Deployments(d.namespace).Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: d.name, Labels: tmpl.Labels},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(int32(d.replicas)), Selector: sel, Template: tmpl},
		}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		rsTmpl := *tmpl.DeepCopy()
		rsTmpl.Labels["pod-template-hash"] = d.hash
		rsSel := sel.DeepCopy()
		rsSel.MatchLabels["pod-template-hash"] = d.hash
		rs, err := cs.AppsV1().ReplicaSets(d.namespace).Create(ctx, &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{
				Name: d.name + "-" + d.hash, Labels: rsTmpl.Labels,
				Annotations: map[string]string{"deployment.kubernetes.io/desired-replicas": fmt.Sprint(d.replicas), "deployment.kubernetes.io/revision": "1"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.name, UID: dep.UID,
					Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
			},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(d.replicas)), Selector: rsSel, Template: rsTmpl},
		}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		d.rsUID = rs.UID
		return nil
	}); err != nil {
		return err
	}
	return run("pods (create + status)", len(p.pods), func(ctx context.Context, i int) error {
		pod, err := cs.CoreV1().Pods(p.pods[i].namespace).Create(ctx, p.pod(i), metav1.CreateOptions{})
		if err != nil {
			return err
		}
		pod.Status = p.status(i, pod)
		_, err = cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
}

// node is a registered, ready node; its status is kept on create.
func node(name, runtime string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
		}},
		Status: corev1.NodeStatus{
			Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("16"), corev1.ResourceMemory: resource.MustParse("64Gi"),
				corev1.ResourcePods: resource.MustParse("110")},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}},
			NodeInfo: corev1.NodeSystemInfo{
				ContainerRuntimeVersion: runtime, KubeletVersion: "v1.37.2", OperatingSystem: "linux", Architecture: "amd64",
				OSImage: "Debian GNU/Linux 13 (trixie)", KernelVersion: "6.12.41",
			},
		},
	}
}

// smallTemplate is a pod of the bare mix: one or two containers with an
// image by tag and one port, no securityContext but in 5% of pods, one
// label, no annotations.
func smallTemplate(r *rand.Rand, name, app string) corev1.PodTemplateSpec {
	c := func(cname, repo string, port int32) corev1.Container {
		return corev1.Container{
			Name: cname, Image: fmt.Sprintf("registry.example.com/%s:1.%d", repo, r.IntN(20)), ImagePullPolicy: corev1.PullIfNotPresent,
			Ports:                    []corev1.ContainerPort{{ContainerPort: port, Protocol: corev1.ProtocolTCP}},
			TerminationMessagePath:   "/dev/termination-log",
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		}
	}
	spec := corev1.PodSpec{Containers: []corev1.Container{c("app", "team/"+app, 8080)}}
	if r.IntN(100) < 87 {
		spec.Containers = append(spec.Containers, c("sidecar", "tools/proxy", 15090))
	}
	if r.IntN(100) < 5 {
		spec.Containers[0].SecurityContext = restrictedSC()
	}
	// The one label is the one a Deployment's selector needs (seed).
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/instance": name}}, Spec: spec}
}
