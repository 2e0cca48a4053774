package evidence

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// summary renders a result one line per container, the way the tests
// compare it.
func summary(r Result) []string {
	var out []string
	for _, c := range r.Containers {
		out = append(out, fmt.Sprintf("%s %s/%s %s by=%s pods=%d events=%d notaudited=%d used=%s denied=%s",
			c.Namespace, c.Workload.Kind, c.Workload.Name, c.Name, c.Attribution, len(c.Pods), c.Events, c.NotAudited, c.Used, c.Denied))
	}
	return out
}

func readPaths(t *testing.T, opts Options, resolve Resolver, paths ...string) (Result, error) {
	t.Helper()
	a := New(opts)
	err := a.ReadPaths(paths, strings.NewReader(""))
	return a.Result(resolve), err
}

const (
	webLine    = "shop Deployment/web nginx by=trace pods=2 events=6 notaudited=1 used=CHOWN,NET_BIND_SERVICE,SETGID,SETUID denied=SYS_NICE"
	apiFlat31  = "shop Deployment/api api by=naming pods=1 events=2 notaudited=0 used=NET_RAW denied=KILL"
	apiFlat30  = "shop Deployment/api api by=naming pods=1 events=1 notaudited=0 used=FOWNER denied=-"
	redisLine  = "cache Pod/redis-0 redis by=pod pods=1 events=3 notaudited=1 used=CHOWN,SETUID denied=SYS_RESOURCE"
	reportLine = "batch Pod/report-28617120-7xk2p report by=pod pods=1 events=1 notaudited=0 used=DAC_OVERRIDE denied=-"
)

// Every shape Inspektor Gadget has written is read, recognised per object
// and summed per workload container.
func TestShapes(t *testing.T) {
	for _, tc := range []struct {
		file     string
		shape    Shape
		events   int64
		messages int64
		want     []string
	}{
		{"image-v0.55.jsonl", ShapeImage, 7, 0, []string{webLine}},
		{"image-v0.31.jsonl", ShapeImageFlat, 2, 0, []string{apiFlat31}},
		{"image-v0.30.jsonl", ShapeImageFlat, 1, 0, []string{apiFlat30}},
		{"builtin-v0.41.jsonl", ShapeBuiltin, 4, 1, []string{redisLine}},
		{"builtin-v0.18.jsonl", ShapeBuiltinFlat, 1, 0, []string{reportLine}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := readPaths(t, Options{}, nil, filepath.Join("testdata", "shapes", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, summary(r)); diff != "" {
				t.Errorf("containers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[Shape]int64{tc.shape: tc.events}, r.Stats.Shapes); diff != "" {
				t.Errorf("shapes (-want +got):\n%s", diff)
			}
			if r.Stats.Messages != tc.messages || r.Window.Events != tc.events {
				t.Errorf("messages %d, events %d; want %d, %d", r.Stats.Messages, r.Window.Events, tc.messages, tc.events)
			}
		})
	}
}

// The details of one container: syscalls normalised across shapes,
// commands, timestamps, and the window.
func TestContainerDetails(t *testing.T) {
	r, err := readPaths(t, Options{}, nil, "testdata/shapes/image-v0.55.jsonl", "testdata/shapes/builtin-v0.41.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC)
	want := Window{First: base.Add(100), Last: base.Add(23 * time.Second), Events: 11, Audited: 9, Nodes: []string{"node-a", "node-b"}}
	if diff := cmp.Diff(want, r.Window); diff != "" {
		t.Errorf("window (-want +got):\n%s", diff)
	}
	var web, redis *Container
	for i := range r.Containers {
		switch r.Containers[i].Name {
		case "nginx":
			web = &r.Containers[i]
		case "redis":
			redis = &r.Containers[i]
		}
	}
	if web == nil || redis == nil {
		t.Fatalf("containers: %v", summary(r))
	}
	if diff := cmp.Diff([]string{"web-7d9f8c6b5-abcde", "web-7d9f8c6b5-fghij"}, web.Pods); diff != "" {
		t.Errorf("pods (-want +got):\n%s", diff)
	}
	if !web.First.Equal(base.Add(100)) || !web.Last.Equal(base.Add(5*time.Second)) {
		t.Errorf("web window %v..%v", web.First, web.Last)
	}
	got := map[string]string{}
	for _, c := range []*Container{web, redis} {
		for _, u := range c.Caps {
			got[c.Name+" "+u.Cap.String()] = fmt.Sprintf("used=%d denied=%d notaudited=%d syscalls=%v comms=%v", u.Used, u.Denied, u.NotAudited, u.Syscalls, u.Comms)
		}
	}
	wantCaps := map[string]string{
		"nginx CHOWN":            "used=1 denied=0 notaudited=0 syscalls=[chown] comms=[nginx]",
		"nginx NET_BIND_SERVICE": "used=2 denied=0 notaudited=0 syscalls=[bind] comms=[nginx]",
		"nginx SETGID":           "used=1 denied=0 notaudited=0 syscalls=[setgid] comms=[nginx]",
		"nginx SETUID":           "used=1 denied=0 notaudited=0 syscalls=[setuid] comms=[nginx]",
		"nginx SYS_ADMIN":        "used=0 denied=0 notaudited=1 syscalls=[] comms=[]",
		"nginx SYS_NICE":         "used=0 denied=1 notaudited=0 syscalls=[setpriority] comms=[nice]",
		"redis CHOWN":            "used=1 denied=0 notaudited=0 syscalls=[fchownat] comms=[redis-server]",
		"redis SETUID":           "used=1 denied=0 notaudited=0 syscalls=[setuid] comms=[redis-server]",
		"redis SYS_RESOURCE":     "used=0 denied=1 notaudited=0 syscalls=[setpriority] comms=[redis-server]",
		"redis SYS_ADMIN":        "used=0 denied=0 notaudited=1 syscalls=[] comms=[]",
	}
	if diff := cmp.Diff(wantCaps, got); diff != "" {
		t.Errorf("capabilities (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"lost 3 samples"}, r.Stats.MessageTexts); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

// An array over many lines or on one, objects over many lines
// (jsonpretty), and JSON lines give the same result; a last line cut
// short is counted and left out.
func TestForms(t *testing.T) {
	for _, tc := range []struct {
		file      string
		want      string
		truncated int
	}{
		{"array.json", webLine, 0},
		{"array-one-line.json", webLine, 0},
		{"pretty.json", webLine, 0},
		{"truncated.jsonl", "shop Deployment/web nginx by=trace pods=2 events=5 notaudited=1 used=CHOWN,NET_BIND_SERVICE,SETGID,SETUID denied=SYS_NICE", 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, err := readPaths(t, Options{}, nil, filepath.Join("testdata", "forms", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tc.want}, summary(r)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if r.Stats.Truncated != tc.truncated {
				t.Errorf("truncated %d, want %d", r.Stats.Truncated, tc.truncated)
			}
		})
	}
}

// A directory is read recursively, hidden files left out; shapes mix
// within files and across them; stdin and gzip are read too.
func TestMixedDirectoryStdinAndGzip(t *testing.T) {
	web := "shop Deployment/web nginx by=trace pods=2 events=6 notaudited=1 used=CHOWN,NET_BIND_SERVICE,SETGID,SETUID denied=SYS_NICE"
	want := []string{
		"batch Pod/report-28617120-7xk2p report by=pod pods=1 events=1 notaudited=0 used=DAC_OVERRIDE denied=-",
		"cache Pod/redis-0 redis by=pod pods=1 events=1 notaudited=0 used=SETGID denied=-",
		"shop Deployment/api api by=naming pods=1 events=3 notaudited=0 used=FOWNER,NET_RAW denied=KILL",
		web,
		"shop Deployment/worker worker by=naming pods=1 events=1 notaudited=0 used=KILL denied=-",
	}
	r, err := readPaths(t, Options{}, nil, "testdata/mixed")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, summary(r)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r.Stats.Inputs != 3 {
		t.Errorf("read %d files, want 3 (the hidden one left out)", r.Stats.Inputs)
	}
	wantShapes := map[Shape]int64{ShapeImage: 7, ShapeImageFlat: 3, ShapeBuiltin: 2, ShapeBuiltinFlat: 1}
	if diff := cmp.Diff(wantShapes, r.Stats.Shapes); diff != "" {
		t.Errorf("shapes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"node-a", "node-b", "node-c"}, r.Window.Nodes); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		ns, kind, name, container string
		ok                        bool
	}{
		{"shop", "Deployment", "web", "nginx", true},
		{"shop", "Deployment", "worker", "worker", true},
		{"batch", "Pod", "report-28617120-7xk2p", "report", true},
		{"shop", "Deployment", "web", "sidecar", false},
		{"shop", "StatefulSet", "web", "nginx", false},
		{"zzz", "Deployment", "web", "nginx", false},
	} {
		c, ok := r.Lookup(tc.ns, workload.Ref{Kind: tc.kind, Name: tc.name}, tc.container)
		if ok != tc.ok || ok && (c.Name != tc.container || c.Workload.Name != tc.name) {
			t.Errorf("Lookup(%s, %s/%s, %s) = %v, %v", tc.ns, tc.kind, tc.name, tc.container, c, ok)
		}
	}

	data, err := os.ReadFile("testdata/shapes/image-v0.55.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trace.jsonl.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func(a *Aggregator) error{
		"stdin": func(a *Aggregator) error { return a.ReadPaths([]string{"-"}, bytes.NewReader(data)) },
		"gzip":  func(a *Aggregator) error { return a.ReadPaths([]string{filepath.Join(dir, "trace.jsonl.gz")}, nil) },
	} {
		a := New(Options{})
		if err := read(a); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff([]string{web}, summary(a.Result(nil))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

const okLine = `{"cap":"CAP_CHOWN","capable":true,"audit":1,"k8s":{"namespace":"ns","podName":"p","containerName":"c"}}`

// Anything that is no event is an *InputError naming the file and the
// line; with SkipInvalid it is counted and reading goes on.
func TestInvalidInput(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		msg      string
		events   int64 // read with SkipInvalid
	}{
		{"column header", "K8S.NODE K8S.NAMESPACE CAP\n" + okLine + "\n", 1, `not a JSON object: "K8S.NODE`, 1},
		{"log line between events", okLine + "\ntime=\"2024-06-03\" level=info msg=started\n" + okLine + "\n", 2, "not a JSON object", 2},
		{"line cut short before others", okLine + "\n" + `{"cap":"CAP_CHOWN","capable":tr` + "\n" + okLine + "\n", 2, "malformed JSON", 2},
		{"string cut short before others", okLine + "\n" + `{"cap":"CAP_CH` + "\n" + okLine + "\n", 2, "malformed JSON: invalid control character in string", 2},
		{"another gadget's event", `{"k8s":{"podName":"p"},"args":"/bin/sh"}` + "\n" + okLine + "\n", 1, "not a trace_capabilities event: no cap, cap_raw or capName", 1},
		{"no verdict", `{"cap":"CAP_CHOWN","audit":1}` + "\n", 1, "no verdict", 0},
		{"bad verdict", `{"capName":"CHOWN","verdict":"Maybe"}` + "\n", 1, `verdict "Maybe" is neither Allow nor Deny`, 0},
		{"unknown name", `{"cap":"CAP_FLY","capable":true}` + "\n", 1, `unknown capability name "CAP_FLY" in cap`, 0},
		{"number out of range", `{"cap_raw":99,"capable":true}` + "\n", 1, "capability number 99 is not one of 0..63", 0},
		{"wrong type", `{"cap":"CAP_CHOWN","capable":"yes"}` + "\n", 1, "capable: expected true or false", 0},
		{"bad timestamp", `{"cap":"CAP_CHOWN","capable":true,"timestamp":"yesterday"}` + "\n", 1, `timestamp "yesterday" is not an RFC 3339 time`, 0},
		{"array of numbers", "[1,2]\n", 1, "an element of the array is not an object", 0},
		{"trailing comma in array", "[" + okLine + ",]\n", 1, "an element of the array is not an object", 1},
		{"garbage after an element", "[" + okLine + " x]\n", 1, `expected ',' or ']'`, 1},
		{"pretty object with an error on its third line", "{\n  \"cap\": \"CAP_CHOWN\",\n  \"capable\": maybe\n}\n" + okLine + "\n", 3, "capable: expected true or false", 1},
		{"comma between objects", okLine + "," + okLine + "\n", 1, "not a JSON object", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Options{})
			err := a.Read("trace.jsonl", strings.NewReader(tc.in))
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want *InputError", err, err)
			}
			if ie.File != "trace.jsonl" || ie.Line != tc.line || !strings.Contains(ie.Message, tc.msg) {
				t.Errorf("error %q, want trace.jsonl:%d: ...%s...", err, tc.line, tc.msg)
			}
			a = New(Options{SkipInvalid: true})
			if err := a.Read("trace.jsonl", strings.NewReader(tc.in)); err != nil {
				t.Fatalf("SkipInvalid: %v", err)
			}
			st := a.Stats()
			if st.Events != tc.events || st.Skipped == 0 || len(st.Problems) == 0 || st.Problems[0].Line != tc.line {
				t.Errorf("SkipInvalid: events %d (want %d), skipped %d, problems %v", st.Events, tc.events, st.Skipped, st.Problems)
			}
		})
	}
}

// What is not an error: blank lines, CRLF, a byte order mark, an empty
// array, an array left open at the end, events without a pod.
func TestLenientInput(t *testing.T) {
	for _, tc := range []struct {
		name, in      string
		events, noPod int64
		truncated     int
		containers    int
	}{
		{"blank lines and CRLF", "\n\r\n" + okLine + "\r\n\n", 1, 0, 0, 1},
		{"byte order mark", "\xef\xbb\xbf" + okLine + "\n", 1, 0, 0, 1},
		{"empty input", "", 0, 0, 0, 0},
		{"empty array", "[]\n[ ]\n", 0, 0, 0, 0},
		{"array left open", "[\n" + okLine + ",\n" + okLine + "\n", 2, 0, 1, 1},
		{"last line cut inside a number", okLine + "\n" + `{"cap":"CAP_CHOWN","audit":1`, 1, 0, 1, 1},
		{"no pod: a host process", `{"cap":"CAP_SYS_ADMIN","capable":true,"audit":1,"runtime":{"containerName":"dockerd"}}` + "\n", 1, 1, 0, 0},
		{"two objects on one line", okLine + okLine + "\n", 2, 0, 0, 1},
		{"a line longer than the read buffer", `{"kstack":"` + strings.Repeat("x", 300<<10) + `",` + okLine[1:] + "\n" + okLine + "\n", 2, 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Options{})
			if err := a.Read("t", strings.NewReader(tc.in)); err != nil {
				t.Fatal(err)
			}
			st := a.Stats()
			r := a.Result(nil)
			if st.Events != tc.events || st.NoPod != tc.noPod || st.Truncated != tc.truncated || len(r.Containers) != tc.containers {
				t.Errorf("events %d, no pod %d, truncated %d, containers %d; want %d, %d, %d, %d",
					st.Events, st.NoPod, st.Truncated, len(r.Containers), tc.events, tc.noPod, tc.truncated, tc.containers)
			}
		})
	}
}

// A line longer than MaxRecord is an error even with SkipInvalid: it is no
// trace.
func TestLineTooLong(t *testing.T) {
	in := okLine + "\n" + `{"kstack":"` + strings.Repeat("x", MaxRecord) + `"}` + "\n"
	for _, skip := range []bool{false, true} {
		err := New(Options{SkipInvalid: skip}).Read("big.jsonl", strings.NewReader(in))
		var ie *InputError
		if !errors.As(err, &ie) || ie.Line != 2 || !strings.Contains(ie.Message, "a line longer than 4 MiB") {
			t.Errorf("skip %v: error %v", skip, err)
		}
	}
}

func TestReadPathsErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.MkdirAll(filepath.Join(empty, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, msg string
	}{
		{filepath.Join(dir, "nope.jsonl"), "nope.jsonl: does not exist"},
		{empty, "empty: the directory has no trace files"},
	} {
		_, err := readPaths(t, Options{}, nil, tc.path)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.HasSuffix(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want *InputError ending in %q", tc.path, err, tc.msg)
		}
	}
}

// One event of each shape, field by field.
func TestResolve(t *testing.T) {
	type want struct {
		shape                               Shape
		cap                                 string
		allowed, audited, otherNS           bool
		ts                                  string
		node, ns, pod, container, comm, sys string
		owner, hash                         string
	}
	for _, tc := range []struct {
		name, line string
		want       want
	}{
		{"image v0.35+", `{"audit":1,"cap":"CAP_SYS_NICE","cap_raw":23,"capable":false,"current_userns":1,"target_userns":1,` +
			`"k8s":{"node":"n","namespace":"ns","podName":"p","containerName":"c","podLabels":"a=b,pod-template-hash=h1","owner":{"kind":"Deployment","name":"d"}},` +
			`"proc":{"comm":"nice","pid":7,"creds":{"uid":0,"gid":0}},"runtime":{"containerName":"rc"},"syscall":"SYS_SETPRIORITY","timestamp":"2024-06-03T12:00:00.5+02:00","timestamp_raw":1}`,
			want{ShapeImage, "SYS_NICE", false, true, false, "2024-06-03T10:00:00.5Z", "n", "ns", "p", "c", "nice", "SYS_SETPRIORITY", "Deployment/d", "h1"}},
		{"image v0.31-v0.34: flat process, runtime name only", `{"audit":0,"cap":"CAP_SYS_ADMIN","capable":true,"comm":"sh","pid":1,"runtime":{"containerName":"rc"},"syscall":"SYS_EXECVE","timestamp_raw":1717408800000000000}`,
			want{ShapeImageFlat, "SYS_ADMIN", true, false, false, "2024-06-03T10:00:00Z", "", "", "", "rc", "sh", "SYS_EXECVE", "/", ""}},
		{"image v0.30: task", `{"audit":1,"cap_raw":12,"capable":true,"task":"ip","k8s":{"namespace":"ns","podName":"p","containerName":"c"}}`,
			want{ShapeImageFlat, "NET_ADMIN", true, true, false, "", "", "ns", "p", "c", "ip", "", "/", ""}},
		{"image: a check against a child user namespace", `{"audit":1,"cap":"CAP_SYS_ADMIN","capable":true,"current_userns":4026531837,"target_userns":4026532999,"proc":{}}`,
			want{ShapeImage, "SYS_ADMIN", true, true, true, "", "", "", "", "", "", "", "/", ""}},
		{"built-in v0.19+", `{"timestamp":1717408800000000007,"type":"normal","k8s":{"node":"n","namespace":"ns","podName":"p","containerName":"c","podLabels":{"pod-template-hash":"h2"}},"comm":"nice","syscall":"setpriority","cap":23,"capName":"SYS_NICE","audit":1,"verdict":"Deny","caps":0,"capsNames":[]}`,
			want{ShapeBuiltin, "SYS_NICE", false, true, false, "2024-06-03T10:00:00.000000007Z", "n", "ns", "p", "c", "nice", "setpriority", "/", "h2"}},
		{"built-in: CHOWN has no cap, audit 0 is omitted", `{"type":"normal","k8s":{},"capName":"CHOWN","verdict":"Allow"}`,
			want{ShapeBuiltin, "CHOWN", true, false, false, "", "", "", "", "", "", "", "/", ""}},
		{"built-in up to v0.18: flat identity", `{"node":"n","namespace":"ns","pod":"p","container":"c","type":"normal","cap":12,"capName":"NET_ADMIN","audit":1,"verdict":"Allow","comm":"ip"}`,
			want{ShapeBuiltinFlat, "NET_ADMIN", true, true, false, "", "n", "ns", "p", "c", "ip", "", "/", ""}},
		{"built-in: a capability the gadget did not know", `{"type":"normal","capName":"UNKNOWN (41)","cap":41,"verdict":"Allow","audit":1}`,
			want{ShapeBuiltinFlat, "CAP_41", true, true, false, "", "", "", "", "", "", "", "/", ""}},
		{"boot-time clock is no time", `{"cap":"CAP_CHOWN","capable":true,"timestamp_raw":123456789}`,
			want{ShapeImageFlat, "CHOWN", true, false, false, "", "", "", "", "", "", "", "/", ""}},
		{"escapes and null", `{"cap":"CAP_CHOWN","capable":true,"comm":"a\"b\u00e9","k8s":null,"namespace":"ns","pod":null}`,
			want{ShapeImageFlat, "CHOWN", true, false, false, "", "", "ns", "", "", "a\"bé", "", "/", ""}},
		{"last key wins", `{"cap":"CAP_CHOWN","cap":"CAP_KILL","capable":false,"capable":true}`,
			want{ShapeImageFlat, "KILL", true, false, false, "", "", "", "", "", "", "", "/", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p parser
			var c timeCache
			n, err := p.parse([]byte(tc.line))
			if err != nil || n != len(tc.line) {
				t.Fatalf("parse: %d, %v", n, err)
			}
			ev, why := p.resolve(&c)
			if why != "" {
				t.Fatal(why)
			}
			ts := ""
			if ev.ts != 0 {
				ts = time.Unix(0, ev.ts).UTC().Format(time.RFC3339Nano)
			}
			got := want{shapes[ev.shape], capability.Cap(ev.cap).String(), ev.allowed, ev.audited, ev.otherUserNS, ts,
				string(ev.node), string(ev.namespace), string(ev.pod), string(ev.container), string(ev.comm), string(ev.syscall),
				string(ev.ownerKind) + "/" + string(ev.ownerName), string(ev.hash)}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Pods map to workloads as the live audit maps them; pods that are gone
// still count for the owner the trace or their name tells.
func TestAttribution(t *testing.T) {
	ev := func(pod, owner, labels string) string {
		o := ""
		if owner != "" {
			kind, name, _ := strings.Cut(owner, "/")
			o = fmt.Sprintf(`,"owner":{"kind":%q,"name":%q}`, kind, name)
		}
		return fmt.Sprintf(`{"cap":"CAP_CHOWN","capable":true,"audit":1,"k8s":{"namespace":"ns","podName":%q,"containerName":"c","podLabels":%q%s}}`+"\n", pod, labels, o)
	}
	live := map[string]workload.Ref{
		"cron-28617120-abcde": {Kind: "CronJob", Name: "cron"},
		"sts-0":               {Kind: "StatefulSet", Name: "sts"},
		"web-5d4f8-zzzzz":     {Kind: "Deployment", Name: "from-cluster"},
	}
	resolve := func(ns, pod string) (workload.Ref, bool) {
		r, ok := live[pod]
		return r, ok && ns == "ns"
	}
	for _, tc := range []struct {
		name, in string
		resolve  Resolver
		want     string
	}{
		{"top-level owner in the trace wins", ev("web-5d4f8-zzzzz", "Deployment/web", ""), resolve, "Deployment/web by=trace"},
		{"DaemonSet owner", ev("agent-x1y2z", "DaemonSet/agent", ""), resolve, "DaemonSet/agent by=trace"},
		{"a Job in the trace: the cluster knows its CronJob", ev("cron-28617120-abcde", "Job/cron-28617120", ""), resolve, "CronJob/cron by=resolver"},
		{"a Job in the trace, pod gone", ev("cron-28617000-fffff", "Job/cron-28617000", ""), resolve, "Job/cron-28617000 by=trace"},
		{"a ReplicaSet in the trace, pod gone: naming rule", ev("api-6b7c8-qqqqq", "ReplicaSet/api-6b7c8", "pod-template-hash=6b7c8"), resolve, "Deployment/api by=naming"},
		{"a ReplicaSet in the trace without the label", ev("api-6b7c8-qqqqq", "ReplicaSet/api-6b7c8", ""), resolve, "ReplicaSet/api-6b7c8 by=trace"},
		{"no owner: the resolver", ev("sts-0", "", ""), resolve, "StatefulSet/sts by=resolver"},
		{"no owner, pod gone, hash label: naming rule", ev("shop-7f9c6-abcde", "", "app=shop,pod-template-hash=7f9c6"), resolve, "Deployment/shop by=naming"},
		{"no owner, no resolver, hash that does not match the name", ev("shop-7f9c6-abcde", "", "pod-template-hash=xxxxx"), nil, "Pod/shop-7f9c6-abcde by=pod"},
		{"nothing known", ev("loner", "", ""), resolve, "Pod/loner by=pod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Options{})
			if err := a.Read("t", strings.NewReader(tc.in)); err != nil {
				t.Fatal(err)
			}
			r := a.Result(tc.resolve)
			if len(r.Containers) != 1 {
				t.Fatalf("containers %v", summary(r))
			}
			c := r.Containers[0]
			if got := c.Workload.Kind + "/" + c.Workload.Name + " by=" + string(c.Attribution); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}

	// Two pods of one workload, one attributed by the trace, one by name:
	// one container, the less certain attribution.
	a := New(Options{})
	in := ev("web-5d4f8-aaaaa", "Deployment/web", "") + ev("web-5d4f8-bbbbb", "", "pod-template-hash=5d4f8")
	if err := a.Read("t", strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	want := []string{"ns Deployment/web c by=naming pods=2 events=2 notaudited=0 used=CHOWN denied=-"}
	if diff := cmp.Diff(want, summary(a.Result(nil))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// One pod by the trace, one by the resolver: always "resolver",
	// whatever order the pods come out of the reader's map in.
	b := New(Options{})
	if err := b.Read("t", strings.NewReader(ev("sts-0", "StatefulSet/sts", "")+ev("sts-1", "", ""))); err != nil {
		t.Fatal(err)
	}
	byResolver := func(_, pod string) (workload.Ref, bool) {
		return workload.Ref{Kind: "StatefulSet", Name: "sts"}, pod == "sts-1"
	}
	for range 50 {
		if r := b.Result(byResolver); len(r.Containers) != 1 || r.Containers[0].Attribution != ByResolver {
			t.Fatalf("attribution %v, want one container by=resolver", summary(r))
		}
	}
}

// Unused is held minus used; a disagreement is a capability allowed in the
// container's own user namespace that the engine says it cannot hold.
func TestUnusedAndDisagreements(t *testing.T) {
	in := strings.Join([]string{
		`{"cap":"CAP_CHOWN","capable":true,"audit":1,"k8s":{"namespace":"ns","podName":"p","containerName":"c"}}`,
		`{"cap":"CAP_NET_ADMIN","capable":true,"audit":1,"k8s":{"namespace":"ns","podName":"p","containerName":"c"}}`,
		`{"cap":"CAP_SYS_NICE","capable":false,"audit":1,"k8s":{"namespace":"ns","podName":"p","containerName":"c"}}`,
		// Allowed only against a child user namespace: use, not proof of holding.
		`{"cap":"CAP_SYS_ADMIN","capable":true,"audit":1,"current_userns":1,"target_userns":2,"k8s":{"namespace":"ns","podName":"p","containerName":"c"}}`,
		// Allowed but not audited: not use, but proof of holding.
		`{"cap":"CAP_SYS_PTRACE","capable":true,"audit":0,"k8s":{"namespace":"ns","podName":"p","containerName":"c"}}`,
	}, "\n")
	a := New(Options{})
	if err := a.Read("t", strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	r := a.Result(nil)
	if len(r.Containers) != 1 {
		t.Fatalf("containers %v", summary(r))
	}
	c := r.Containers[0]
	held := capability.SetOf(capability.CHOWN, capability.KILL, capability.SETUID)
	if got, want := c.Used.String(), "CHOWN,NET_ADMIN,SYS_ADMIN"; got != want {
		t.Errorf("used %s, want %s", got, want)
	}
	if got, want := c.Unused(held).String(), "KILL,SETUID"; got != want {
		t.Errorf("unused %s, want %s", got, want)
	}
	if got, want := c.Disagreements(held).String(), "NET_ADMIN,SYS_PTRACE"; got != want {
		t.Errorf("disagreements %s, want %s", got, want)
	}
	if got := c.Disagreements(capability.All); !got.Empty() {
		t.Errorf("disagreements with everything held: %s", got)
	}
}

// The names kept per capability are bounded; the counts stay exact.
func TestNamesBounded(t *testing.T) {
	var b strings.Builder
	for i := range 20 {
		fmt.Fprintf(&b, `{"cap":"CAP_KILL","capable":true,"audit":1,"syscall":"SYS_KILL%d","proc":{"comm":"c%d"},"k8s":{"namespace":"ns","podName":"p","containerName":"c"}}`+"\n", i, i)
	}
	a := New(Options{MaxNames: 3})
	if err := a.Read("t", strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
	u := a.Result(nil).Containers[0].Caps[0]
	if u.Used != 20 || len(u.Syscalls) != 3 || len(u.Comms) != 3 || !u.MoreNames || u.Syscalls[2] != "kill2" {
		t.Errorf("%+v", u)
	}
}

func TestLabelValue(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		"app=web":                     "",
		"pod-template-hash=abc":       "abc",
		"app=web,pod-template-hash=x": "x",
		"xpod-template-hash=y,a=b":    "",
		"pod-template-hash=,a=b":      "",
	} {
		if got := string(labelValue([]byte(in))); got != want {
			t.Errorf("labelValue(%q) = %q, want %q", in, got, want)
		}
	}
}
