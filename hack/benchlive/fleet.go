package main

// Fleet mode (-clusters K, issue 15 part 3): K separate clusters of N pods
// each, every one its own etcd and kube-apiserver, read
//
//	F-all     kubectl-caps audit -A -o json --all-contexts      one process
//	F-serial  kubectl-caps audit -A -o json --context cI        I = 1..K, one after another
//
// in alternating rounds. F-serial's wall time is the sum of its K runs and
// its peak RSS the largest of them; one cluster's RSS is the median of all
// the single-context runs.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Targets of issue 15 part 3 for three clusters of 10,000 pods.
const (
	fleetWallTarget = 0.75 // F-all wall <= 0.75 x the serial sum
	fleetRSSTarget  = 1.5  // F-all peak RSS <= 1.5 x one cluster's
)

// contextNames are the fleet's context names, c1..cK.
func contextNames(k int) []string {
	var names []string
	for i := 1; i <= k; i++ {
		names = append(names, "c"+strconv.Itoa(i))
	}
	return names
}

// fleetConfig merges one kubeconfig per cluster into one with a context per
// cluster, names[i] for one[i]'s current context, each with its own
// cluster and user entry under that name, as a kubeconfig merged from
// several clusters' has them (test/integration's fleetKubeconfig does the
// same). The current context is the first.
func fleetConfig(names []string, one []*clientcmdapi.Config) (*clientcmdapi.Config, error) {
	if len(names) != len(one) || len(names) == 0 {
		return nil, fmt.Errorf("%d context names for %d kubeconfigs", len(names), len(one))
	}
	cfg := clientcmdapi.NewConfig()
	for i, name := range names {
		if name == "" {
			return nil, fmt.Errorf("kubeconfig %d: empty context name", i+1)
		}
		if _, dup := cfg.Contexts[name]; dup {
			return nil, fmt.Errorf("context %q named twice", name)
		}
		c := one[i]
		ctx, ok := c.Contexts[c.CurrentContext]
		if !ok {
			return nil, fmt.Errorf("kubeconfig %d: no current context %q", i+1, c.CurrentContext)
		}
		cluster, user := c.Clusters[ctx.Cluster], c.AuthInfos[ctx.AuthInfo]
		if cluster == nil || user == nil {
			return nil, fmt.Errorf("kubeconfig %d: context %q names cluster %q and user %q, which it lacks", i+1, c.CurrentContext, ctx.Cluster, ctx.AuthInfo)
		}
		cfg.Clusters[name], cfg.AuthInfos[name] = cluster.DeepCopy(), user.DeepCopy()
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: ctx.Namespace}
	}
	cfg.CurrentContext = names[0]
	return cfg, nil
}

// fleetFigures are the medians F-all is judged by.
type fleetFigures struct {
	WallAllS, WallSerialSumS, WallRatio float64
	RSSAllMB, RSSOneMB, RSSSerialMaxMB  float64
	RSSRatio                            float64
}

// summarizeFleet computes the figures from F-all's samples, one a round,
// and serial[i], cluster i's single-context samples, one a round: the
// serial wall of a round is the sum of its K runs, its RSS their maximum.
// The ratios are of medians: F-all's median wall over the median serial
// sum, F-all's median RSS over the median of every single-cluster run.
func summarizeFleet(all []sample, serial [][]sample) (fleetFigures, error) {
	rounds := len(all)
	if rounds == 0 || len(serial) == 0 {
		return fleetFigures{}, errors.New("no samples")
	}
	var sums, maxes, ones []float64
	for i, s := range serial {
		if len(s) != rounds {
			return fleetFigures{}, fmt.Errorf("cluster %d has %d samples, F-all %d", i+1, len(s), rounds)
		}
	}
	for r := range rounds {
		sum, peak := 0.0, 0.0
		for _, s := range serial {
			sum += s[r].wall.Seconds()
			peak = max(peak, s[r].rssMB())
			ones = append(ones, s[r].rssMB())
		}
		sums, maxes = append(sums, sum), append(maxes, peak)
	}
	var walls, rsss []float64
	for _, s := range all {
		walls, rsss = append(walls, s.wall.Seconds()), append(rsss, s.rssMB())
	}
	for _, v := range [][]float64{sums, maxes, ones, walls, rsss} {
		slices.Sort(v)
	}
	f := fleetFigures{
		WallAllS: median(walls), WallSerialSumS: median(sums),
		RSSAllMB: median(rsss), RSSOneMB: median(ones), RSSSerialMaxMB: median(maxes),
	}
	f.WallRatio = f.WallAllS / f.WallSerialSumS
	f.RSSRatio = f.RSSAllMB / f.RSSOneMB
	return f, nil
}

// fleetResult is fleet mode's JSON line.
type fleetResult struct {
	Mode             string  `json:"mode"` // "fleet"
	Mix              string  `json:"mix"`
	Clusters         int     `json:"clusters"`
	PodsPerCluster   int     `json:"pods_per_cluster"`
	Containers       int     `json:"containers"` // of all clusters
	MaxConcurrency   int     `json:"max_concurrency,omitempty"`
	RTTMillis        float64 `json:"rtt_ms"` // the round trip put between client and each cluster; 0: loopback
	Rounds           int     `json:"rounds"`
	WallAllS         float64 `json:"wall_all_s"`
	WallSerialSumS   float64 `json:"wall_serial_sum_s"`
	WallRatio        float64 `json:"wall_ratio"`
	WallTarget       float64 `json:"wall_ratio_target"`
	RSSAllMB         float64 `json:"rss_all_mb"`
	RSSOneMB         float64 `json:"rss_one_mb"`
	RSSSerialMaxMB   float64 `json:"rss_serial_max_mb"`
	RSSRatio         float64 `json:"rss_ratio"`
	RSSTarget        float64 `json:"rss_ratio_target"`
	WallVerdict      string  `json:"wall_verdict"`
	RSSVerdict       string  `json:"rss_verdict"`
	AllContextsBytes int     `json:"all_contexts_bytes"`
	// With -caps-base: the earlier build's F-all, medians.
	WallBaseAllS float64 `json:"wall_base_all_s,omitempty"`
	RSSBaseAllMB float64 `json:"rss_base_all_mb,omitempty"`
}

func newFleetResult(o *options, containers int, f fleetFigures, allBytes int) fleetResult {
	return fleetResult{
		Mode: "fleet", Mix: o.mix, Clusters: o.clusters, PodsPerCluster: o.pods, Containers: containers,
		MaxConcurrency: o.maxConcurrency, RTTMillis: float64(o.rtt) / float64(time.Millisecond), Rounds: o.rounds,
		WallAllS: round3(f.WallAllS), WallSerialSumS: round3(f.WallSerialSumS), WallRatio: round3(f.WallRatio), WallTarget: fleetWallTarget,
		RSSAllMB: round1(f.RSSAllMB), RSSOneMB: round1(f.RSSOneMB), RSSSerialMaxMB: round1(f.RSSSerialMaxMB),
		RSSRatio: round3(f.RSSRatio), RSSTarget: fleetRSSTarget,
		WallVerdict: verdict(f.WallRatio <= fleetWallTarget), RSSVerdict: verdict(f.RSSRatio <= fleetRSSTarget),
		AllContextsBytes: allBytes,
	}
}

func (o *options) runFleet(ctx context.Context) error {
	names := contextNames(o.clusters)
	var clusters []*seeded
	defer func() {
		for _, c := range clusters {
			c.srv.Stop()
		}
	}()
	containers := 0
	var configs []*clientcmdapi.Config
	// One cluster after another: seeding saturates the two cores, and
	// the clusters differ by their seed (o.seed, o.seed+1, ...).
	for i, name := range names {
		c, err := o.startSeeded(ctx, name, o.seed+uint64(i))
		if err != nil {
			return err
		}
		clusters = append(clusters, c)
		containers += c.containers
		one, err := clientcmd.LoadFromFile(c.srv.Kubeconfig())
		if err != nil {
			return err
		}
		configs = append(configs, one)
	}
	cfg, err := fleetConfig(names, configs)
	if err != nil {
		return err
	}
	if o.rtt > 0 {
		for _, name := range names {
			server, proxy, err := distantServer(cfg.Clusters[name].Server, o.rtt)
			if err != nil {
				return fmt.Errorf("cluster %s: %w", name, err)
			}
			defer proxy.Close()
			cfg.Clusters[name].Server = server
		}
		logf("each cluster %s away (a delay proxy in front of each apiserver)", o.rtt)
	}
	first := clusters[0].srv
	o.scratchDir = first.Dir
	o.kubeCache = filepath.Join(first.Dir, "kube-cache")
	o.kubeconfig = filepath.Join(first.Dir, "fleet.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, o.kubeconfig); err != nil {
		return err
	}
	if o.hold {
		fmt.Printf("KUBECONFIG=%s\n", o.kubeconfig)
		holdUntilInterrupted()
		return nil
	}
	weight, err := podWeight(ctx, first, o.pods)
	if err != nil {
		return err
	}

	wantAll := map[string]int{}
	for _, n := range names {
		wantAll[n] = o.pods
	}
	allArgv := []string{o.caps, "audit", "-A", "-o", "json", "--all-contexts"}
	if o.maxConcurrency > 0 {
		allArgv = append(allArgv, "--max-concurrency", strconv.Itoa(o.maxConcurrency))
	}
	all := &command{name: "F-all", argv: allArgv, check: func(stdout, _ []byte) error { return o.checkCoverage(stdout, wantAll) }}
	var serial []*command
	for _, n := range names {
		serial = append(serial, &command{name: "F-" + n, argv: []string{o.caps, "audit", "-A", "-o", "json", "--context", n}, check: o.checkCaps})
	}
	// The steps of a round: F-all, F-serial's K runs back to back, and
	// with -caps-base the earlier build's F-all, under the same load.
	steps, measured := [][]*command{{all}, serial}, append([]*command{all}, serial...)
	var base *command
	if o.capsBase != "" {
		base = &command{name: "F-base", argv: append([]string{o.capsBase}, allArgv[1:]...), check: all.check}
		steps, measured = append(steps, []*command{base}), append(measured, base)
	}
	for _, c := range measured {
		if _, err := o.measure(c, true); err != nil {
			return err
		}
	}
	load0, load1, err := o.measureRounds(steps)
	if err != nil {
		return err
	}

	var serialSamples [][]sample
	for _, c := range serial {
		serialSamples = append(serialSamples, c.samples)
	}
	f, err := summarizeFleet(all.samples, serialSamples)
	if err != nil {
		return err
	}
	res := newFleetResult(o, containers, f, all.bytes)
	if base != nil {
		w, r := base.walls(), base.rsss()
		res.WallBaseAllS, res.RSSBaseAllMB = round3(median(w)), round1(median(r))
	}
	fmt.Printf("fleet, %s mix: %d clusters of %d pods, %d containers in all, round trip %s  (cluster c1: %s)  load average %s -> %s\n",
		o.mix, o.clusters, o.pods, containers, rttName(o.rtt), weight, load0, load1)
	printTable(o.rounds, measured)
	fmt.Printf("F-serial  wall (sum of the %d runs of a round) median %.3fs; RSS (largest of a round) median %.1f MB\n", o.clusters, f.WallSerialSumS, f.RSSSerialMaxMB)
	fmt.Printf("all/serial wall %.3f (target <= %.2f: %s)\n", res.WallRatio, fleetWallTarget, res.WallVerdict)
	fmt.Printf("all/one    RSS  %.3f (%.1f MB vs %.1f MB, one cluster's median; target <= %.1f: %s)\n", res.RSSRatio, f.RSSAllMB, f.RSSOneMB, fleetRSSTarget, res.RSSVerdict)
	return printJSON(res)
}

// rttName names the round trip to the clusters.
func rttName(rtt time.Duration) string {
	if rtt == 0 {
		return "loopback"
	}
	return rtt.String()
}

// printTable prints min, median and max of each command's wall time and
// peak RSS.
func printTable(rounds int, cmds []*command) {
	fmt.Printf("%-10s %9s %9s %9s   %9s %9s %9s   (%d rounds)\n", "", "wall min", "median", "max", "RSS min", "median", "max", rounds)
	for _, c := range cmds {
		w, r := c.walls(), c.rsss()
		fmt.Printf("%-10s %8.3fs %8.3fs %8.3fs   %7.1fMB %7.1fMB %7.1fMB\n", c.name, w[0], median(w), w[len(w)-1], r[0], median(r), r[len(r)-1])
	}
}

func printJSON(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(os.Stdout, string(line))
	return err
}
