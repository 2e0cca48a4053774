// Command benchlive is the live-cluster benchmark behind hack/bench-live.sh:
// it starts the real test apiserver (internal/testserver), seeds it with a
// realistic cluster of N pods, and then times, alternating, the three ways
// of reading every pod:
//
//	A  kubectl-caps audit -A -o json      the plugin
//	B  kubectl get pods -A -o json        what users would script instead
//	C  floor                              a paginated protobuf LIST, objects dropped
//
// Each run is a separate process under GNU time, so the figures are wall
// time and peak RSS as a user sees them. The last line of the output is one
// JSON object with the medians and ratios; docs/benchmarks.md records them.
//
// Two more modes serve issue 15 part 3 (Scale): -clusters K times
// --all-contexts over K clusters against one context at a time (fleet.go),
// and -report times kubectl-caps report against audit (reportmode.go).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-caps/kubectl-caps/internal/testserver"
)

func main() {
	o := options{}
	flag.IntVar(&o.pods, "pods", 1000, "pods to seed")
	flag.IntVar(&o.rounds, "rounds", 5, "measured rounds; each runs A, B and C once, in a rotating order")
	flag.IntVar(&o.workers, "workers", 48, "concurrent requests while seeding")
	flag.StringVar(&o.caps, "caps", "", "the built kubectl-caps binary")
	flag.StringVar(&o.capsBase, "caps-base", "", "optional: a kubectl-caps built from an earlier commit, measured beside as A0 (-o json), or in fleet mode as F-base (its --all-contexts run)")
	flag.StringVar(&o.floor, "floor", "", "the built floor binary (hack/benchlive/floor)")
	flag.StringVar(&o.timeBin, "time", "/usr/bin/time", "GNU time")
	flag.StringVar(&o.binDir, "testbin", "", "directory with etcd, kube-apiserver and kubectl (default: $KUBECTL_CAPS_TESTBIN or hack/testbin.sh)")
	flag.Uint64Var(&o.seed, "seed", 7, "seed of the generated cluster")
	flag.StringVar(&o.mix, "mix", mixRealistic, "the pods to seed: realistic (the archetypes, docs/benchmarks.md) or bare (small, mostly bare pods, issue 15)")
	flag.BoolVar(&o.noKubectl, "no-kubectl", false, "default mode: leave out B, kubectl get pods -A -o json (about 2.2 GB of RSS at 10,000 realistic pods, growing with N: too much at 100,000)")
	flag.BoolVar(&o.hold, "hold", false, "seed, print the kubeconfig and keep the server (with -clusters, every cluster) up until interrupted, measuring nothing (for profiling)")
	flag.IntVar(&o.clusters, "clusters", 1, "fleet mode when above 1: K clusters of -pods pods each, audit --all-contexts against K runs of one --context (docs/benchmarks.md)")
	flag.DurationVar(&o.rtt, "rtt", 0, "fleet mode: a round trip of this long between the client and each cluster (a delay proxy, latency.go), as for clusters reached over a network; 0: loopback, the CPU-bound case the issue's target is judged by")
	flag.IntVar(&o.maxConcurrency, "max-concurrency", 0, "fleet mode: --max-concurrency of the --all-contexts run (0: the plugin's default)")
	flag.BoolVar(&o.report, "report", false, "report mode: kubectl-caps report -A (server-side apply of PolicyReports) against audit -A -o json")
	flag.StringVar(&o.policyTools, "policytools", "", "report mode: the directory hack/policytools.sh prints, holding crds/policyreport (default: $KUBECTL_CAPS_POLICYTOOLS)")
	flag.Parse()
	if err := o.run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "benchlive: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	pods, rounds, workers   int
	caps, floor, timeBin    string
	capsBase                string
	binDir, mix             string
	seed                    uint64
	hold                    bool
	noKubectl               bool
	clusters                int
	maxConcurrency          int
	rtt                     time.Duration
	report                  bool
	policyTools             string
	kubeconfig, kubeCache   string
	kubectlPath, scratchDir string
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-live: "+format+"\n", args...)
}

func (o *options) run(ctx context.Context) error {
	if err := o.validate(); err != nil {
		return err
	}
	switch {
	case o.clusters > 1:
		return o.runFleet(ctx)
	case o.report:
		return o.runReport(ctx)
	}
	cl, err := o.startSeeded(ctx, "", o.seed)
	if err != nil {
		return err
	}
	defer cl.srv.Stop()
	srv, containers := cl.srv, cl.containers
	o.kubeconfig = srv.Kubeconfig()
	o.kubeCache = filepath.Join(srv.Dir, "kube-cache")
	o.kubectlPath = srv.KubectlPath
	o.scratchDir = srv.Dir
	if o.hold {
		fmt.Printf("KUBECONFIG=%s\n", o.kubeconfig)
		holdUntilInterrupted()
		return nil
	}
	weight, err := podWeight(ctx, srv, o.pods)
	if err != nil {
		return err
	}

	capsCmd := &command{name: "A caps", argv: []string{o.caps, "audit", "-A", "-o", "json"}, check: o.checkCaps}
	// The lean report of issue 15 part 4, measured in the same rounds.
	caps2Cmd := &command{name: "A2 caps v2", argv: []string{o.caps, "audit", "-A", "-o", "json", "--report-version", "v1alpha2"}, check: o.checkCaps}
	kubectlCmd := &command{name: "B kubectl", argv: []string{o.kubectlPath, "get", "pods", "-A", "-o", "json"}, check: o.checkKubectl}
	floorCmd := &command{name: "C floor", argv: []string{o.floor, "-kubeconfig", o.kubeconfig}, check: o.checkFloor}
	cmds := []*command{capsCmd, caps2Cmd, kubectlCmd, floorCmd}
	if o.noKubectl {
		cmds = []*command{capsCmd, caps2Cmd, floorCmd}
	}
	var baseCmd *command
	if o.capsBase != "" {
		baseCmd = &command{name: "A0 base", argv: []string{o.capsBase, "audit", "-A", "-o", "json"}, check: o.checkCaps}
		cmds = append(cmds, baseCmd)
	}
	// One unmeasured run of each fills kubectl's discovery cache and the
	// page cache, and proves each command saw every pod.
	for _, c := range cmds {
		if _, err := o.measure(c, true); err != nil {
			return err
		}
	}
	var steps [][]*command
	for _, c := range cmds {
		steps = append(steps, []*command{c})
	}
	load0, load1, err := o.measureRounds(steps)
	if err != nil {
		return err
	}

	capsS, caps2S, floorS := capsCmd.medianWall(), caps2Cmd.medianWall(), floorCmd.medianWall()
	capsMB, floorMB := capsCmd.medianRSS(), floorCmd.medianRSS()
	res := result{
		Mix: o.mix, Pods: o.pods, Containers: containers,
		CapsS: round3(capsS), CapsV2S: round3(caps2S), FloorS: round3(floorS),
		CapsRSSMB: round1(capsMB), CapsV2RSSMB: round1(caps2Cmd.medianRSS()),
		RatioVsFloor: round3(capsS / floorS), V2RatioVsFloor: round3(caps2S / floorS),
		CapsBytes: capsCmd.bytes, CapsV2Bytes: caps2Cmd.bytes,
	}
	if !o.noKubectl {
		kubectlS, kubectlMB := kubectlCmd.medianWall(), kubectlCmd.medianRSS()
		res.KubectlS, res.KubectlRSSMB, res.KubectlBytes = round3(kubectlS), round1(kubectlMB), kubectlCmd.bytes
		res.RatioVsKubectl, res.RSSRatioVsKubectl = round3(capsS/kubectlS), round3(capsMB/kubectlMB)
	}
	fmt.Printf("%s mix: pods %d, containers %d  (%s)  load average %s -> %s\n", o.mix, o.pods, containers, weight, load0, load1)
	printTable(o.rounds, cmds)
	if !o.noKubectl {
		fmt.Printf("caps/kubectl wall %.3f (target <= 0.2: %s)\n", res.RatioVsKubectl, verdict(res.RatioVsKubectl <= 0.2))
	}
	fmt.Printf("caps/floor   wall %.3f (target <= 1.5: %s)\n", res.RatioVsFloor, verdict(res.RatioVsFloor <= 1.5))
	fmt.Printf("caps v1alpha2/floor wall %.3f (target <= 1.5: %s)\n", res.V2RatioVsFloor, verdict(res.V2RatioVsFloor <= 1.5))
	if o.capsBase != "" {
		res.BaseS = round3(baseCmd.medianWall())
		res.BaseRatioVsFloor = round3(res.BaseS / floorS)
		fmt.Printf("base/floor   wall %.3f (the earlier commit, -o json)\n", res.BaseRatioVsFloor)
	}
	kubectlBytes := "not measured"
	if !o.noKubectl {
		kubectlBytes = strconv.Itoa(res.KubectlBytes)
	}
	fmt.Printf("JSON bytes: caps %d (%.0f per container), caps v1alpha2 %d (%.0f per container), kubectl %s\n",
		res.CapsBytes, float64(res.CapsBytes)/float64(containers), res.CapsV2Bytes, float64(res.CapsV2Bytes)/float64(containers), kubectlBytes)
	if !o.noKubectl {
		fmt.Printf("caps/kubectl RSS  %.3f (target <= 0.15: %s)\n", res.RSSRatioVsKubectl, verdict(res.RSSRatioVsKubectl <= 0.15))
	}
	fmt.Printf("floor RSS %.1f MB\n", floorMB)
	line, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Println(string(line))
	return nil
}

// validate checks the flags before anything is started.
func (o *options) validate() error {
	if !o.hold && o.caps == "" {
		return errors.New("-caps is required")
	}
	// The floor is measured in the default mode only.
	if !o.hold && !o.report && o.clusters == 1 && o.floor == "" {
		return errors.New("-floor is required")
	}
	if o.pods <= 0 || o.rounds <= 0 {
		return errors.New("-pods and -rounds must be positive")
	}
	if o.mix != mixRealistic && o.mix != mixBare {
		return fmt.Errorf("-mix %q: want %s or %s", o.mix, mixRealistic, mixBare)
	}
	if o.clusters < 1 {
		return fmt.Errorf("-clusters %d: want 1 or more", o.clusters)
	}
	if o.maxConcurrency < 0 {
		return fmt.Errorf("-max-concurrency %d: want 0 (the plugin's default) or more", o.maxConcurrency)
	}
	if o.maxConcurrency > 0 && o.clusters == 1 {
		return errors.New("-max-concurrency applies to fleet mode only (-clusters 2 or more)")
	}
	if o.rtt < 0 {
		return fmt.Errorf("-rtt %s: want 0 (loopback) or more", o.rtt)
	}
	if o.rtt > 0 && o.clusters == 1 {
		return errors.New("-rtt applies to fleet mode only (-clusters 2 or more)")
	}
	modes := 0
	// -hold with -clusters holds the fleet (fleet.kubeconfig).
	for _, on := range []bool{o.clusters > 1 && !o.hold, o.report, o.hold} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return errors.New("-clusters above 1, -report and -hold are separate modes: choose one")
	}
	if o.noKubectl && modes > 0 {
		return errors.New("-no-kubectl applies to the default mode only, the one that measures kubectl")
	}
	if o.capsBase != "" && (o.report || o.hold) {
		return errors.New("-caps-base is measured in the default and the fleet mode only")
	}
	if o.report {
		if o.policyTools == "" {
			o.policyTools = os.Getenv("KUBECTL_CAPS_POLICYTOOLS")
		}
		if o.policyTools == "" {
			return errors.New("-report needs the report CRDs: -policytools DIR or $KUBECTL_CAPS_POLICYTOOLS (the directory hack/policytools.sh prints)")
		}
	}
	return nil
}

// startSeeded starts one test apiserver with its own etcd and seeds it
// with the plan of o.pods pods from seed; name prefixes the progress
// lines of one cluster of several. The caller stops the server.
func (o *options) startSeeded(ctx context.Context, name string, seedValue uint64) (*seeded, error) {
	prefix := ""
	if name != "" {
		prefix = name + ": "
	}
	logf("%sstarting etcd and kube-apiserver", prefix)
	srv, err := testserver.Start(ctx, testserver.Options{
		BinDir: o.binDir,
		ExtraAPIServerArgs: []string{
			// Seeding sends dozens of writes at once, and the measured
			// clients must never queue behind the server's own limits.
			"--max-requests-inflight=2000",
			"--max-mutating-requests-inflight=1000",
			// An empty policy switches the audit log off: in blocking mode
			// it costs the apiserver a synchronous write per request, which
			// would be measured as client time.
			"--audit-policy-file=",
		},
	})
	if err != nil {
		return nil, err
	}
	logf("%sapiserver ready in %s", prefix, srv.StartDuration.Round(time.Millisecond))
	cfg := srv.Config()
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		srv.Stop()
		return nil, err
	}
	p := newPlan(o.pods, seedValue, o.mix)
	containers := p.containers()
	logf("%sseeding the %s mix: %d pods with %d containers (%d Deployments, %d bare pods) in %d namespaces on %d nodes, %d requests at a time",
		prefix, o.mix, len(p.pods), containers, len(p.deployments), len(p.pods)-p.owned(), len(p.namespaces), len(p.nodes), o.workers)
	start := time.Now()
	if err := seed(ctx, cs, p, o.workers, func(s string) { logf("  %s%s", prefix, s) }); err != nil {
		srv.Stop()
		return nil, fmt.Errorf("%sseeding: %w", prefix, err)
	}
	logf("%sseeded in %.1fs", prefix, time.Since(start).Seconds())
	return &seeded{srv: srv, plan: p, containers: containers}, nil
}

// seeded is one running, seeded cluster.
type seeded struct {
	srv        *testserver.Server
	plan       *plan
	containers int
}

type result struct {
	Mix               string  `json:"mix"`
	Pods              int     `json:"pods"`
	Containers        int     `json:"containers"`
	CapsS             float64 `json:"caps_s"`
	CapsV2S           float64 `json:"caps_v1alpha2_s"`
	KubectlS          float64 `json:"kubectl_s,omitempty"`
	FloorS            float64 `json:"floor_s"`
	CapsRSSMB         float64 `json:"caps_rss_mb"`
	CapsV2RSSMB       float64 `json:"caps_v1alpha2_rss_mb"`
	KubectlRSSMB      float64 `json:"kubectl_rss_mb,omitempty"`
	RatioVsKubectl    float64 `json:"ratio_vs_kubectl,omitempty"`
	RatioVsFloor      float64 `json:"ratio_vs_floor"`
	V2RatioVsFloor    float64 `json:"v1alpha2_ratio_vs_floor"`
	RSSRatioVsKubectl float64 `json:"rss_ratio_vs_kubectl,omitempty"`
	BaseS             float64 `json:"base_s,omitempty"`
	BaseRatioVsFloor  float64 `json:"base_ratio_vs_floor,omitempty"`
	// Bytes of -o json, from the checked warm-up run.
	CapsBytes    int `json:"caps_bytes"`
	CapsV2Bytes  int `json:"caps_v1alpha2_bytes"`
	KubectlBytes int `json:"kubectl_bytes,omitempty"`
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

type sample struct {
	wall  time.Duration
	rssKB int64
}

// rssMB is in MiB, as GNU time's %M is in KiB.
func (s sample) rssMB() float64 { return float64(s.rssKB) / 1024 }

type command struct {
	name    string
	argv    []string
	check   func(stdout, stderr []byte) error
	samples []sample
	bytes   int // of output on the checked run
	// checkEvery keeps and checks the output of every run, not only the
	// warm-up's: report's stdout is one short line per namespace.
	checkEvery bool
}

func (c *command) walls() []float64 {
	var v []float64
	for _, s := range c.samples {
		v = append(v, s.wall.Seconds())
	}
	slices.Sort(v)
	return v
}

func (c *command) rsss() []float64 {
	var v []float64
	for _, s := range c.samples {
		v = append(v, s.rssMB())
	}
	slices.Sort(v)
	return v
}

func (c *command) medianWall() float64 { return median(c.walls()) }
func (c *command) medianRSS() float64  { return median(c.rsss()) }

// median of sorted values; the mean of the middle two for an even count.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
func round1(f float64) float64 { return math.Round(f*10) / 10 }

// measure runs one command under GNU time with stdout on /dev/null (or in
// a file on the checked warm-up run) and returns its wall time, taken here
// around the whole process, and its peak RSS as GNU time reports it.
func (o *options) measure(c *command, check bool) (sample, error) {
	rssFile := filepath.Join(o.scratchDir, "rss")
	argv := append([]string{"-f", "%M", "-o", rssFile, "--"}, c.argv...)
	cmd := exec.Command(o.timeBin, argv...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+o.kubeconfig, "KUBECACHEDIR="+o.kubeCache)
	var stdout, stderr bytes.Buffer
	cmd.Stderr = &stderr
	keep := check || c.checkEvery
	if keep {
		cmd.Stdout = &stdout
	} // else nil: /dev/null
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %v\n%s", strings.Join(c.argv, " "), err, stderr.String())
	}
	raw, err := os.ReadFile(rssFile)
	if err != nil {
		return sample{}, err
	}
	kb, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil {
		return sample{}, fmt.Errorf("GNU time's %%M for %s: %q: %w", c.name, raw, err)
	}
	if keep {
		if err := c.check(stdout.Bytes(), stderr.Bytes()); err != nil {
			return sample{}, fmt.Errorf("%s: %w", c.name, err)
		}
		c.bytes = stdout.Len()
	}
	if check {
		logf("warm-up %-9s %7.3fs %8.1f MB, %d bytes of output, checked", c.name, wall.Seconds(), float64(kb)/1024, stdout.Len())
	}
	return sample{wall: wall, rssKB: kb}, nil
}

// measureRounds runs o.rounds rounds of steps, each step's commands back to
// back, the steps in an order that rotates by one each round so that no
// command always follows the same one; it returns the load average before
// and after.
func (o *options) measureRounds(steps [][]*command) (load0, load1 string, err error) {
	load0 = loadavg()
	for round := range o.rounds {
		for k := range steps {
			for _, c := range steps[(round+k)%len(steps)] {
				s, err := o.measure(c, false)
				if err != nil {
					return "", "", err
				}
				c.samples = append(c.samples, s)
				logf("round %d  %-9s %7.3fs %8.1f MB", round+1, c.name, s.wall.Seconds(), s.rssMB())
			}
		}
	}
	return load0, loadavg(), nil
}

func loadavg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// checkCaps proves the audit covered every pod: each group names its first
// pod and counts its pods, so the counts of distinct groups add up to N.
func (o *options) checkCaps(stdout, _ []byte) error {
	return o.checkCoverage(stdout, map[string]int{"": o.pods})
}

// checkCoverage compares the pods a report covers in each cluster with
// want (cluster "" when one context was read and items name none).
func (o *options) checkCoverage(stdout []byte, want map[string]int) error {
	got, items, groups, err := podsByCluster(stdout)
	if err != nil {
		return err
	}
	for _, c := range slices.Sorted(maps.Keys(want)) {
		if got[c] != want[c] {
			return fmt.Errorf("the report covers %d pods of cluster %q in %d groups, want %d", got[c], c, groups, want[c])
		}
	}
	for c := range got {
		if _, ok := want[c]; !ok {
			return fmt.Errorf("the report covers %d pods of cluster %q, which was not asked for", got[c], c)
		}
	}
	logf("caps report: %d items, %d groups", items, groups)
	return nil
}

// podsByCluster sums the pods of a report's distinct groups per cluster
// (the items' cluster field, "" when absent): a group of several
// containers is several items that name the same first pod and count.
func podsByCluster(stdout []byte) (pods map[string]int, items, groups int, err error) {
	var rep struct {
		Items []struct {
			Cluster   string `json:"cluster"`
			Namespace string `json:"namespace"`
			Pod       string `json:"pod"`
			Pods      int    `json:"pods"`
		} `json:"items"`
	}
	if err := json.Unmarshal(stdout, &rep); err != nil {
		return nil, 0, 0, err
	}
	type key struct{ cluster, namespace, pod string }
	seen := map[key]bool{}
	pods = map[string]int{}
	for _, it := range rep.Items {
		k := key{it.Cluster, it.Namespace, it.Pod}
		if !seen[k] {
			seen[k] = true
			pods[it.Cluster] += it.Pods
		}
	}
	return pods, len(rep.Items), len(seen), nil
}

func (o *options) checkKubectl(stdout, _ []byte) error {
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(stdout, &list); err != nil {
		return err
	}
	if len(list.Items) != o.pods {
		return fmt.Errorf("kubectl listed %d pods, want %d", len(list.Items), o.pods)
	}
	return nil
}

func (o *options) checkFloor(_, stderr []byte) error {
	want := fmt.Sprintf("pods: %d", o.pods)
	if !strings.Contains(string(stderr), want) {
		return fmt.Errorf("floor said %q, want %q", strings.TrimSpace(string(stderr)), want)
	}
	return nil
}

// podWeight describes what one stored pod weighs, as JSON and as
// protobuf: the size of the first page of the real list over its pods.
func podWeight(ctx context.Context, srv *testserver.Server, pods int) (string, error) {
	n := min(500, pods)
	var sizes []string
	for _, ct := range []struct{ name, mime string }{{"json", "application/json"}, {"protobuf", "application/vnd.kubernetes.protobuf"}} {
		cfg := srv.Config()
		cfg.AcceptContentTypes = ct.mime
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return "", err
		}
		raw, err := cs.CoreV1().RESTClient().Get().Resource("pods").
			VersionedParams(&metav1.ListOptions{Limit: int64(n)}, metav1.ParameterCodec).DoRaw(ctx)
		if err != nil {
			return "", err
		}
		sizes = append(sizes, fmt.Sprintf("%s %.1f KB/pod", ct.name, float64(len(raw))/float64(n)/1024))
	}
	return strings.Join(sizes, ", "), nil
}

// holdUntilInterrupted waits for SIGINT or SIGTERM (-hold).
func holdUntilInterrupted() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
