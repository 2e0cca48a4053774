package main

import (
	"math"
	"strings"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// oneConfig is a kubeconfig as internal/testserver writes it: one
// context named after the user, on cluster "testserver".
func oneConfig(server, token string) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["testserver"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: []byte("ca of " + server)}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["admin"] = &clientcmdapi.Context{Cluster: "testserver", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "admin"
	return cfg
}

func TestContextNames(t *testing.T) {
	got := strings.Join(contextNames(3), ",")
	if got != "c1,c2,c3" {
		t.Errorf("contextNames(3) = %s, want c1,c2,c3", got)
	}
	if n := contextNames(0); len(n) != 0 {
		t.Errorf("contextNames(0) = %v, want none", n)
	}
}

// Every context must reach its own server with its own credentials: the
// servers share the names "testserver" and "admin", so a merge by those
// names would send all three contexts to one cluster.
func TestFleetConfig(t *testing.T) {
	noCurrent := oneConfig("https://127.0.0.1:3", "t3")
	noCurrent.CurrentContext = "gone"
	noUser := oneConfig("https://127.0.0.1:4", "t4")
	delete(noUser.AuthInfos, "admin")
	tests := []struct {
		name    string
		names   []string
		configs []*clientcmdapi.Config
		wantErr string
	}{
		{name: "three clusters", names: []string{"c1", "c2", "c3"},
			configs: []*clientcmdapi.Config{oneConfig("https://127.0.0.1:1", "t1"), oneConfig("https://127.0.0.1:2", "t2"), oneConfig("https://127.0.0.1:3", "t3")}},
		{name: "one cluster", names: []string{"c1"}, configs: []*clientcmdapi.Config{oneConfig("https://127.0.0.1:1", "t1")}},
		{name: "count mismatch", names: []string{"c1", "c2"}, configs: []*clientcmdapi.Config{oneConfig("https://127.0.0.1:1", "t1")}, wantErr: "2 context names for 1 kubeconfigs"},
		{name: "nothing", wantErr: "0 context names"},
		{name: "duplicate name", names: []string{"c1", "c1"},
			configs: []*clientcmdapi.Config{oneConfig("https://127.0.0.1:1", "t1"), oneConfig("https://127.0.0.1:2", "t2")}, wantErr: `context "c1" named twice`},
		{name: "empty name", names: []string{""}, configs: []*clientcmdapi.Config{oneConfig("https://127.0.0.1:1", "t1")}, wantErr: "empty context name"},
		{name: "no current context", names: []string{"c1"}, configs: []*clientcmdapi.Config{noCurrent}, wantErr: `no current context "gone"`},
		{name: "context without its user", names: []string{"c1"}, configs: []*clientcmdapi.Config{noUser}, wantErr: "which it lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fleetConfig(tt.names, tt.configs)
			if wantError(t, err, tt.wantErr) {
				return
			}
			if got.CurrentContext != tt.names[0] {
				t.Errorf("current context %q, want %q", got.CurrentContext, tt.names[0])
			}
			if len(got.Contexts) != len(tt.names) || len(got.Clusters) != len(tt.names) || len(got.AuthInfos) != len(tt.names) {
				t.Errorf("%d contexts, %d clusters, %d users; want %d each", len(got.Contexts), len(got.Clusters), len(got.AuthInfos), len(tt.names))
			}
			for i, name := range tt.names {
				ctx := got.Contexts[name]
				if ctx == nil {
					t.Fatalf("no context %s", name)
				}
				cl, user := got.Clusters[ctx.Cluster], got.AuthInfos[ctx.AuthInfo]
				src := tt.configs[i]
				if cl == nil || cl.Server != src.Clusters["testserver"].Server || string(cl.CertificateAuthorityData) != string(src.Clusters["testserver"].CertificateAuthorityData) {
					t.Errorf("context %s reaches %+v, want %s", name, cl, src.Clusters["testserver"].Server)
				}
				if user == nil || user.Token != src.AuthInfos["admin"].Token {
					t.Errorf("context %s authenticates as %+v, want token %s", name, user, src.AuthInfos["admin"].Token)
				}
				if ctx.Namespace != "default" {
					t.Errorf("context %s namespace %q, want the source's default", name, ctx.Namespace)
				}
			}
		})
	}
}

func secs(v ...float64) []sample {
	var s []sample
	for _, f := range v {
		s = append(s, sample{wall: time.Duration(f * float64(time.Second))})
	}
	return s
}

func withRSS(s []sample, mb ...float64) []sample {
	for i := range s {
		s[i].rssKB = int64(mb[i] * 1024)
	}
	return s
}

func TestSummarizeFleet(t *testing.T) {
	tests := []struct {
		name    string
		all     []sample
		serial  [][]sample
		want    fleetFigures
		wantErr string
	}{
		{
			// Round sums 3, 6, 4.5 (median 4.5); round maxima 30, 60, 40
			// (median 40); the nine single runs' RSS median is 20.
			name: "three clusters, three rounds",
			all:  withRSS(secs(2, 3, 2.5), 50, 70, 60),
			serial: [][]sample{
				withRSS(secs(1, 2, 1.5), 10, 20, 40),
				withRSS(secs(1, 2, 1.5), 20, 60, 10),
				withRSS(secs(1, 2, 1.5), 30, 15, 25),
			},
			want: fleetFigures{WallAllS: 2.5, WallSerialSumS: 4.5, WallRatio: 2.5 / 4.5,
				RSSAllMB: 60, RSSOneMB: 20, RSSSerialMaxMB: 40, RSSRatio: 3},
		},
		{
			// Even counts take the mean of the middle two.
			name:   "two rounds",
			all:    withRSS(secs(1, 2), 30, 50),
			serial: [][]sample{withRSS(secs(1, 1), 10, 20), withRSS(secs(2, 2), 30, 40)},
			want: fleetFigures{WallAllS: 1.5, WallSerialSumS: 3, WallRatio: 0.5,
				RSSAllMB: 40, RSSOneMB: 25, RSSSerialMaxMB: 35, RSSRatio: 1.6},
		},
		{name: "a cluster short of a round", all: secs(1, 2), serial: [][]sample{secs(1, 1), secs(1)}, wantErr: "cluster 2 has 1 samples, F-all 2"},
		{name: "no rounds", serial: [][]sample{nil}, wantErr: "no samples"},
		{name: "no clusters", all: secs(1), wantErr: "no samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := summarizeFleet(tt.all, tt.serial)
			if wantError(t, err, tt.wantErr) {
				return
			}
			for _, f := range []struct {
				name      string
				got, want float64
			}{
				{"wall all", got.WallAllS, tt.want.WallAllS}, {"wall serial sum", got.WallSerialSumS, tt.want.WallSerialSumS},
				{"wall ratio", got.WallRatio, tt.want.WallRatio}, {"RSS all", got.RSSAllMB, tt.want.RSSAllMB},
				{"RSS one", got.RSSOneMB, tt.want.RSSOneMB}, {"RSS serial max", got.RSSSerialMaxMB, tt.want.RSSSerialMaxMB},
				{"RSS ratio", got.RSSRatio, tt.want.RSSRatio},
			} {
				if math.Abs(f.got-f.want) > 1e-9 {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
		})
	}
}

func TestNewFleetResultVerdicts(t *testing.T) {
	o := &options{clusters: 3, pods: 10000, mix: mixRealistic, rounds: 5}
	for _, tt := range []struct {
		wall, rss      float64
		wantW, wantRSS string
	}{
		{0.75, 1.5, "met", "met"},
		{0.751, 1.2, "MISSED", "met"},
		{0.5, 1.51, "met", "MISSED"},
	} {
		r := newFleetResult(o, 48000, fleetFigures{WallRatio: tt.wall, RSSRatio: tt.rss}, 0)
		if r.WallVerdict != tt.wantW || r.RSSVerdict != tt.wantRSS || r.Mode != "fleet" || r.Clusters != 3 {
			t.Errorf("ratios %v, %v: verdicts %s, %s (mode %s, clusters %d); want %s, %s", tt.wall, tt.rss, r.WallVerdict, r.RSSVerdict, r.Mode, r.Clusters, tt.wantW, tt.wantRSS)
		}
	}
}

func TestPodsByCluster(t *testing.T) {
	tests := []struct {
		name       string
		json       string
		want       map[string]int
		items      int
		groups     int
		wantErrSub string
	}{
		{
			// A group of two containers is two items naming one pod.
			name: "one context",
			json: `{"items":[{"namespace":"a","pod":"p1","pods":3,"container":"app"},{"namespace":"a","pod":"p1","pods":3,"container":"proxy"},{"namespace":"b","pod":"p2","pods":1}]}`,
			want: map[string]int{"": 4}, items: 3, groups: 2,
		},
		{
			// The same namespace and pod in two clusters are two groups.
			name: "several contexts",
			json: `{"items":[{"cluster":"c1","namespace":"a","pod":"p1","pods":3},{"cluster":"c2","namespace":"a","pod":"p1","pods":2},{"cluster":"c2","namespace":"a","pod":"p1","pods":2}]}`,
			want: map[string]int{"c1": 3, "c2": 2}, items: 3, groups: 2,
		},
		{name: "not JSON", json: `items:`, wantErrSub: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, items, groups, err := podsByCluster([]byte(tt.json))
			if tt.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
					t.Fatalf("err = %v, want %q", err, tt.wantErrSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) || items != tt.items || groups != tt.groups {
				t.Errorf("got %v, %d items, %d groups; want %v, %d, %d", got, items, groups, tt.want, tt.items, tt.groups)
			}
			for c, n := range tt.want {
				if got[c] != n {
					t.Errorf("cluster %q: %d pods, want %d", c, got[c], n)
				}
			}
		})
	}
}

func TestCheckCoverage(t *testing.T) {
	o := &options{pods: 3}
	two := []byte(`{"items":[{"cluster":"c1","namespace":"a","pod":"p","pods":3},{"cluster":"c2","namespace":"a","pod":"p","pods":3}]}`)
	for _, tt := range []struct {
		name    string
		out     []byte
		want    map[string]int
		wantErr string
	}{
		{"both clusters", two, map[string]int{"c1": 3, "c2": 3}, ""},
		{"a cluster missing", []byte(`{"items":[{"cluster":"c1","namespace":"a","pod":"p","pods":3}]}`), map[string]int{"c1": 3, "c2": 3}, `0 pods of cluster "c2"`},
		{"an extra cluster", two, map[string]int{"c1": 3}, `cluster "c2", which was not asked for`},
		{"one context, short", []byte(`{"items":[{"namespace":"a","pod":"p","pods":2}]}`), map[string]int{"": 3}, "covers 2 pods"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := o.checkCoverage(tt.out, tt.want)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := func() options {
		return options{pods: 10, rounds: 1, mix: mixRealistic, caps: "caps", floor: "floor", clusters: 1}
	}
	tests := []struct {
		name    string
		edit    func(*options)
		env     string
		wantErr string
	}{
		{name: "default mode", edit: func(*options) {}},
		{name: "fleet", edit: func(o *options) { o.clusters = 3 }},
		{name: "fleet held", edit: func(o *options) { o.clusters = 3; o.hold = true; o.caps, o.floor = "", "" }},
		{name: "fleet with concurrency", edit: func(o *options) { o.clusters = 3; o.maxConcurrency = 1 }},
		{name: "report with dir", edit: func(o *options) { o.report = true; o.policyTools = "/tools" }},
		{name: "report from the environment", edit: func(o *options) { o.report = true }, env: "/tools"},
		{name: "report without CRDs", edit: func(o *options) { o.report = true }, wantErr: "-report needs the report CRDs"},
		{name: "zero clusters", edit: func(o *options) { o.clusters = 0 }, wantErr: "-clusters 0"},
		{name: "negative concurrency", edit: func(o *options) { o.clusters = 2; o.maxConcurrency = -1 }, wantErr: "-max-concurrency -1"},
		{name: "concurrency of one cluster", edit: func(o *options) { o.maxConcurrency = 2 }, wantErr: "fleet mode only"},
		{name: "fleet at a distance", edit: func(o *options) { o.clusters = 3; o.rtt = 20 * time.Millisecond }},
		{name: "negative round trip", edit: func(o *options) { o.clusters = 3; o.rtt = -time.Millisecond }, wantErr: "-rtt -1ms"},
		{name: "round trip to one cluster", edit: func(o *options) { o.rtt = time.Millisecond }, wantErr: "-rtt applies to fleet mode only"},
		{name: "fleet and report", edit: func(o *options) { o.clusters = 2; o.report = true; o.policyTools = "x" }, wantErr: "separate modes"},
		{name: "report and hold", edit: func(o *options) { o.hold = true; o.report = true; o.policyTools = "x" }, wantErr: "separate modes"},
		{name: "without kubectl", edit: func(o *options) { o.noKubectl = true }},
		{name: "without kubectl in report mode", edit: func(o *options) { o.noKubectl = true; o.report = true; o.policyTools = "x" }, wantErr: "-no-kubectl applies to the default mode only"},
		{name: "base in fleet mode", edit: func(o *options) { o.clusters = 2; o.capsBase = "old" }},
		{name: "base in report mode", edit: func(o *options) { o.report = true; o.policyTools = "x"; o.capsBase = "old" }, wantErr: "-caps-base"},
		{name: "no plugin", edit: func(o *options) { o.caps = "" }, wantErr: "-caps is required"},
		{name: "no floor", edit: func(o *options) { o.floor = "" }, wantErr: "-floor is required"},
		{name: "no floor in fleet mode", edit: func(o *options) { o.floor = ""; o.clusters = 2 }},
		{name: "no floor in report mode", edit: func(o *options) { o.floor = ""; o.report = true; o.policyTools = "x" }},
		{name: "hold needs neither", edit: func(o *options) { o.floor = ""; o.caps = ""; o.hold = true }},
		{name: "bad mix", edit: func(o *options) { o.mix = "huge" }, wantErr: `-mix "huge"`},
		{name: "no pods", edit: func(o *options) { o.pods = 0 }, wantErr: "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECTL_CAPS_POLICYTOOLS", tt.env)
			o := ok()
			tt.edit(&o)
			err := o.validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if tt.env != "" && err == nil && o.policyTools != tt.env {
				t.Errorf("policyTools = %q, want the environment's %q", o.policyTools, tt.env)
			}
		})
	}
}

// wantError checks a case's error against want ("" for none) and reports
// whether the case ends there.
func wantError(t *testing.T, err error, want string) bool {
	t.Helper()
	if want != "" {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want %q", err, want)
		}
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}
