package evidence

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
)

// benchEvents adds a size to BenchmarkRead, for measuring peak RSS on a
// longer trace: go test -c, then
// ./evidence.test -test.run='^$' -test.bench='BenchmarkRead/events=10000000$' -test.benchtime=1x -evidence.events=10000000
var benchEvents = flag.Int("evidence.events", 0, "an extra trace size for BenchmarkRead")

// benchBlock renders k image-based (v0.35+) events as JSON lines, as
// "kubectl gadget run trace_capabilities -o json" writes them (every field
// of pkg/evidence/testdata/shapes/image-v0.55.jsonl, kernel stack
// included): 100 Deployments of 3 pods on 10 nodes, 2 containers each,
// 6 capabilities, 1 check in 10 not audited, 1 in 20 denied.
func benchBlock(k int) []byte {
	caps := []capability.Cap{capability.CHOWN, capability.SETUID, capability.SETGID, capability.NET_BIND_SERVICE, capability.DAC_OVERRIDE, capability.SYS_ADMIN}
	syscalls := []string{"SYS_FCHOWNAT", "SYS_SETUID", "SYS_SETGID", "SYS_BIND", "SYS_OPENAT", "SYS_EXECVE"}
	base := time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC).UnixNano()
	var b strings.Builder
	for i := range k {
		dep := i % 100
		pod := fmt.Sprintf("app%d-6f7c9d8b4-%05d", dep, (i/100)%3)
		ctr := []string{"main", "sidecar"}[(i/300)%2]
		c := i % len(caps)
		audit := 1
		if i%10 == 9 {
			audit = 0
		}
		capable := i%20 != 7
		ts := base + int64(i)*1_000_000
		fmt.Fprintf(&b, `{"audit":%d,"cap":"CAP_%s","cap_effective":"CAP_CHOWN|CAP_DAC_OVERRIDE|CAP_FOWNER|CAP_FSETID|CAP_KILL|CAP_SETGID|CAP_SETUID|CAP_SETPCAP|CAP_NET_BIND_SERVICE|CAP_NET_RAW|CAP_SYS_CHROOT|CAP_MKNOD|CAP_AUDIT_WRITE|CAP_SETFCAP","cap_effective_raw":2818844155,"cap_raw":%d,"capable":%t,"current_userns":4026531837,"insetid":0,`+
			`"k8s":{"containerName":%q,"hostnetwork":false,"namespace":"prod","node":"node-%d","owner":{"kind":"Deployment","name":"app%d"},"podLabels":"app=app%d,pod-template-hash=6f7c9d8b4","podName":%q},`+
			`"kstack":"[0]cap_capable; [1]security_capable; [2]ns_capable; [3]__x64_sys_call; [4]do_syscall_64; [5]entry_SYSCALL_64_after_hwframe; ","kstack_raw":1234,`+
			`"proc":{"comm":"app%d","creds":{"gid":0,"uid":0},"mntns_id":4026532712,"parent":{"comm":"sh","pid":4241,"tid":4241},"pid":4242,"tid":4242},`+
			`"runtime":{"containerId":"3f1c0ffee5a1d2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b","containerImageDigest":"sha256:0c6f9d0e7b3bd2f1cc4ebc4b2e5d6d4f1a9d6f6b6d2a9f0e2c6b7e8f9a0b1c2d","containerImageName":"registry.example/app:1.0","containerName":%q,"containerPid":4100,"containerStartedAt":1717405200000000000,"runtimeName":"containerd"},`+
			`"syscall":%q,"syscall_raw":49,"target_userns":4026531837,"timestamp":%q,"timestamp_raw":%d}`+"\n",
			audit, caps[c], int(caps[c]), capable, ctr, dep%10, dep, dep, pod, dep, ctr, syscalls[c],
			time.Unix(0, ts).UTC().Format("2006-01-02T15:04:05.000000000Z07:00"), ts)
	}
	return []byte(b.String())
}

// repeat reads block n times without holding more than block.
type repeat struct {
	block []byte
	left  int
	pos   int
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.block[r.pos:])
	r.pos += n
	if r.pos == len(r.block) {
		r.pos = 0
		r.left--
	}
	return n, nil
}

// BenchmarkRead reads and sums a trace of the given number of events,
// generated as it is read. events/s is the figure of docs/evidence.md;
// heap-MB (live heap after the read) and B/op stay flat from 100,000 to
// 1,000,000 events because the reader holds one record at a time.
func BenchmarkRead(b *testing.B) {
	const k = 1000
	block := benchBlock(k)
	sizes := []int{100_000, 1_000_000}
	if *benchEvents > 0 {
		sizes = append(sizes, *benchEvents)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(block)) * int64(n/k))
			b.ReportAllocs()
			var heap uint64
			cpu := cpuTime()
			for b.Loop() {
				a := New(Options{})
				if err := a.Read("bench", &repeat{block: block, left: n / k}); err != nil {
					b.Fatal(err)
				}
				r := a.Result(nil)
				if len(r.Containers) != 200 || r.Window.Events != int64(n) {
					b.Fatalf("%d containers, %d events", len(r.Containers), r.Window.Events)
				}
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap = max(heap, ms.HeapInuse)
			}
			reportRates(b, n*b.N, cpuTime()-cpu)
			b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
		})
	}
}

// jsonEvent is what encoding/json would decode the fields into: the
// alternative the hand-written parser was measured against.
type jsonEvent struct {
	Cap       json.RawMessage `json:"cap"`
	CapRaw    *int            `json:"cap_raw"`
	CapName   string          `json:"capName"`
	Capable   *bool           `json:"capable"`
	Verdict   string          `json:"verdict"`
	Audit     *int            `json:"audit"`
	Syscall   string          `json:"syscall"`
	Timestamp json.RawMessage `json:"timestamp"`
	Comm      string          `json:"comm"`
	K8s       struct {
		Node, Namespace, PodName, ContainerName string
		Owner                                   struct{ Kind, Name string }
		PodLabels                               json.RawMessage
	} `json:"k8s"`
	Proc    struct{ Comm string } `json:"proc"`
	Runtime struct {
		ContainerName string `json:"containerName"`
	} `json:"runtime"`
	CurrentUserNS uint64 `json:"current_userns"`
	TargetUserNS  uint64 `json:"target_userns"`
}

// BenchmarkParse compares the parser with encoding/json on one line.
func BenchmarkParse(b *testing.B) {
	line := benchBlock(1)
	b.Run("hand", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		var p parser
		var c timeCache
		cpu := cpuTime()
		for b.Loop() {
			if _, err := p.parse(line); err != nil {
				b.Fatal(err)
			}
			if _, why := p.resolve(&c); why != "" {
				b.Fatal(why)
			}
		}
		reportRates(b, b.N, cpuTime()-cpu)
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			var ev jsonEvent
			if err := json.Unmarshal(line, &ev); err != nil {
				b.Fatal(err)
			}
		}
		reportRates(b, b.N, cpuTime()-cpu)
	})
}

// reportRates reports events per second of wall-clock time and, where the
// CPU time is known, per second of CPU time (all threads).
func reportRates(b *testing.B, events int, cpu time.Duration) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	}
}
