package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubectl-caps/kubectl-caps/internal/sharedtest"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
)

// corpusReport audits the shared corpus of real manifests from 24 projects,
// which lives beside the repository as in CI.
func corpusReport(t *testing.T, runtime string) map[string]report.Item {
	t.Helper()
	corpusDir := sharedtest.Path(t, "corpus")
	out, errOut, code := run(t, "", "audit", "-f", corpusDir, "-R", "-o", "json", "--runtime", runtime)
	if code != 0 {
		t.Fatalf("audit of the corpus: exit %d\n%s", code, errOut)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	items := map[string]report.Item{}
	for _, it := range rep.Items {
		file := strings.TrimPrefix(it.Source, corpusDir+"/")
		file = file[:strings.LastIndex(file, "#")]
		items[file+" "+it.Workload.Kind+"/"+it.Workload.Name+" "+it.Container] = it
	}
	// 127 containers in 80 workloads (counted independently by the manifest
	// package's corpus test with a plain YAML decoder).
	if len(rep.Items) != 127 {
		t.Errorf("%d containers audited, want 127", len(rep.Items))
	}
	return items
}

// Expectations derived by hand from the manifests and docs/sources.md
// (runtime defaults, add/drop rules, exec rules for users, the catalog's
// context amplifiers), not from running the code.
const (
	d14 = "AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT"
	c9  = "CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,NET_BIND_SERVICE,SETGID,SETPCAP,SETUID"
	all = "ALL"
)

type corpusCase struct {
	key       string
	user      string
	bounding  string
	effective string
	maxRisk   string
	pss       string
}

func TestCorpusContainersContainerd(t *testing.T) {
	items := corpusReport(t, "containerd")
	cases := []corpusCase{
		// privileged: every capability, whatever add/drop say
		{"calico/calico.yaml DaemonSet/calico-node calico-node", "unknown", all, all, "critical", "baseline"},
		{"csi-driver-nfs/csi-nfs-node.yaml DaemonSet/csi-nfs-node nfs", "unknown", all, all, "critical", "privileged"},
		{"kured/kured-ds.yaml DaemonSet/kured kured", "unknown", all, all, "critical", "baseline"},
		// runAsNonRoot without drop: holds nothing, but setuid binaries regain the defaults (NET_RAW high)
		{"calico/calico.yaml Deployment/calico-kube-controllers calico-kube-controllers", "nonroot", d14, "", "high", "baseline"},
		// drop ALL, user unknown: nothing at all
		{"csi-driver-nfs/csi-nfs-node.yaml DaemonSet/csi-nfs-node liveness-probe", "unknown", "", "", "none", "restricted"},
		{"nvidia-k8s-device-plugin/nvidia-device-plugin.yml DaemonSet/nvidia-device-plugin-daemonset nvidia-device-plugin-ctr", "unknown", "", "", "none", "restricted"},
		// root (pod runAsUser 0), hostPID, many adds: SYS_PTRACE and SYS_ADMIN are critical
		{"datadog-agent/daemonset.yaml DaemonSet/datadog system-probe", "root",
			"AUDIT_WRITE,CHOWN,DAC_OVERRIDE,DAC_READ_SEARCH,FOWNER,FSETID,IPC_LOCK,KILL,MKNOD,NET_ADMIN,NET_BIND_SERVICE,NET_BROADCAST,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_ADMIN,SYS_CHROOT,SYS_PTRACE,SYS_RESOURCE",
			"AUDIT_WRITE,CHOWN,DAC_OVERRIDE,DAC_READ_SEARCH,FOWNER,FSETID,IPC_LOCK,KILL,MKNOD,NET_ADMIN,NET_BIND_SERVICE,NET_BROADCAST,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_ADMIN,SYS_CHROOT,SYS_PTRACE,SYS_RESOURCE",
			"critical", "privileged"},
		{"datadog-agent/daemonset.yaml DaemonSet/datadog security-agent", "root",
			"AUDIT_CONTROL,AUDIT_READ,AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT",
			"AUDIT_CONTROL,AUDIT_READ,AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT",
			"high", "privileged"},
		{"datadog-agent/daemonset.yaml DaemonSet/datadog agent", "root", d14, d14, "high", "baseline"},
		// hostNetwork: NET_ADMIN and NET_RAW become critical
		{"flannel/kube-flannel.yml DaemonSet/kube-flannel-ds kube-flannel", "unknown",
			"AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_ADMIN,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT",
			"AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_ADMIN,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT",
			"critical", "privileged"},
		{"metallb/metallb-frr.yaml DaemonSet/speaker speaker", "unknown", "NET_RAW", "NET_RAW", "critical", "privileged"},
		{"metallb/metallb-frr.yaml DaemonSet/speaker frr", "unknown",
			"AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_ADMIN,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_ADMIN,SYS_CHROOT",
			"AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_ADMIN,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_ADMIN,SYS_CHROOT",
			"critical", "privileged"},
		// non-root (runAsUser 100) without no_new_privs on the host network: setuid regains NET_RAW, critical there
		{"metallb/metallb-frr.yaml DaemonSet/speaker cp-frr-files", "nonroot", d14, "", "critical", "baseline"},
		// the hardened shape: non-root, no_new_privs, drop ALL, add NET_BIND_SERVICE: low for what it adds back
		{"ingress-nginx/deploy.yaml Deployment/ingress-nginx-controller controller", "nonroot", "NET_BIND_SERVICE", "", "low", "restricted"},
		{"metrics-server/deployment.yaml Deployment/metrics-server metrics-server", "nonroot", "", "", "none", "restricted"},
		// istio-init runs as root with drop ALL + NET_ADMIN, NET_RAW
		{"istio/hello-multi.injected.yaml Deployment/hello-v1 istio-init", "root", "NET_ADMIN,NET_RAW", "NET_ADMIN,NET_RAW", "high", "privileged"},
		{"istio/hello-multi.injected.yaml Deployment/hello-v1 istio-proxy", "nonroot", "", "", "none", "restricted"},
		// linkerd-init: non-root with no_new_privs adds NET_ADMIN, NET_RAW without dropping the defaults;
		// only what it adds explicitly counts (file capabilities of its entrypoint)
		{"linkerd/inject_emojivoto_already_injected.golden.yml Deployment/web1 linkerd-init", "nonroot",
			"AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_ADMIN,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT",
			"", "high", "privileged"},
		{"linkerd/inject_emojivoto_already_injected.golden.yml Deployment/web1 linkerd-proxy", "nonroot", d14, "", "none", "baseline"},
		// node-exporter: non-root, no_new_privs, drop ALL + SYS_TIME: SYS_TIME is high
		{"kube-prometheus/nodeExporter-daemonset.yaml DaemonSet/node-exporter node-exporter", "nonroot", "SYS_TIME", "", "high", "privileged"},
		// antrea's install-cni adds SYS_MODULE: critical
		{"antrea/antrea.yml DaemonSet/antrea-agent install-cni", "unknown",
			"AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT,SYS_MODULE",
			"AUDIT_WRITE,CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,MKNOD,NET_BIND_SERVICE,NET_RAW,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT,SYS_MODULE",
			"critical", "privileged"},
		// sock-shop writes drop: [all]: it works, but PSA restricted wants "ALL"
		{"sock-shop/complete-demo.yaml Deployment/carts carts", "nonroot", "NET_BIND_SERVICE", "", "low", "baseline"},
		{"falco/daemonset.yaml DaemonSet/falco falcoctl-artifact-install", "unknown", d14, d14, "high", "baseline"},
	}
	checkCorpus(t, items, cases)
}

func TestCorpusContainersCRIO(t *testing.T) {
	items := corpusReport(t, "cri-o")
	cases := []corpusCase{
		{"datadog-agent/daemonset.yaml DaemonSet/datadog agent", "root", c9, c9, "high", "baseline"}, // KILL with hostPID
		{"flannel/kube-flannel.yml DaemonSet/kube-flannel-ds kube-flannel", "unknown",
			"CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,NET_ADMIN,NET_BIND_SERVICE,NET_RAW,SETGID,SETPCAP,SETUID",
			"CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,NET_ADMIN,NET_BIND_SERVICE,NET_RAW,SETGID,SETPCAP,SETUID",
			"critical", "privileged"},
		{"falco/daemonset.yaml DaemonSet/falco falcoctl-artifact-install", "unknown", c9, c9, "medium", "baseline"},
		{"calico/calico.yaml DaemonSet/calico-node calico-node", "unknown", all, all, "critical", "baseline"},
	}
	checkCorpus(t, items, cases)
}

func checkCorpus(t *testing.T, items map[string]report.Item, cases []corpusCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.key, func(t *testing.T) {
			it, ok := items[tc.key]
			if !ok {
				t.Fatalf("no item %q", tc.key)
			}
			if it.User != tc.user {
				t.Errorf("user = %s, want %s", it.User, tc.user)
			}
			if got := joinSet(it.Bounding); got != tc.bounding {
				t.Errorf("bounding = %s, want %s", got, tc.bounding)
			}
			if got := joinSet(it.Effective); got != tc.effective {
				t.Errorf("effective = %s, want %s", got, tc.effective)
			}
			if it.MaxRisk != tc.maxRisk {
				t.Errorf("maxRisk = %s, want %s", it.MaxRisk, tc.maxRisk)
			}
			if it.PSSCapabilities != tc.pss {
				t.Errorf("pssCapabilities = %s, want %s", it.PSSCapabilities, tc.pss)
			}
		})
	}
}

func joinSet(names []string) string {
	if len(names) == 41 {
		return all
	}
	return strings.Join(names, ",")
}
