package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

func TestEachContext(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f"}
	errB := errors.New("b is down")
	tests := []struct {
		name     string
		limit    int
		failFast bool
		fail     map[string]bool
		// delay makes the early contexts the slow ones, so that the
		// order emitted is not the order finished.
		emitted []string
		wantErr string
	}{
		{name: "all, one at a time", limit: 1, emitted: names},
		{name: "all, concurrently, in order", limit: 4, emitted: names},
		{name: "more slots than contexts", limit: 20, emitted: names},
		{name: "zero means one", limit: 0, emitted: names},
		{name: "partial", limit: 3, fail: map[string]bool{"b": true, "e": true}, emitted: names,
			wantErr: "2 of 6 contexts could not be read (b, e); the others are printed"},
		{name: "none", limit: 2, fail: map[string]bool{"a": true, "b": true, "c": true, "d": true, "e": true, "f": true}, emitted: names,
			wantErr: "none of the 6 contexts could be read (a, b, c, d, e, f)"},
		{name: "fail fast", limit: 3, failFast: true, fail: map[string]bool{"b": true, "e": true}, emitted: []string{"a"},
			wantErr: `context "b": b is down`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var running, peak atomic.Int32
			var emitted, failed []string
			err := EachContext(context.Background(), Fleet{Contexts: names, MaxConcurrency: tt.limit, FailFast: tt.failFast,
				Failed: func(name string, err error) {
					if !tt.fail[name] || err == nil {
						t.Errorf("Failed(%s, %v)", name, err)
					}
					failed = append(failed, name)
					emitted = append(emitted, name)
				}},
				func(ctx context.Context, name string) (string, error) {
					now := running.Add(1)
					defer running.Add(-1)
					for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
					}
					// Earlier contexts answer later.
					select {
					case <-time.After(time.Duration(len(names)-strings.Index("abcdef", name)) * 3 * time.Millisecond):
					case <-ctx.Done():
						return "", ctx.Err()
					}
					if tt.fail[name] {
						if name == "b" {
							return "", errB
						}
						return "", fmt.Errorf("%s is down", name)
					}
					return "read " + name, nil
				},
				func(name, v string) error {
					if tt.fail[name] || v != "read "+name {
						t.Errorf("emit(%s, %q)", name, v)
					}
					emitted = append(emitted, name)
					return nil
				})
			if !slices.Equal(emitted, tt.emitted) {
				t.Errorf("emitted %v, want %v", emitted, tt.emitted)
			}
			if got := fmt.Sprint(err); tt.wantErr == "" && err != nil || tt.wantErr != "" && got != tt.wantErr {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if tt.failFast && errors.Unwrap(err) != errB || !tt.failFast && len(failed) != len(tt.fail) {
				t.Errorf("error %#v after %v failed", err, failed)
			}
			if max := int32(max(tt.limit, 1)); peak.Load() > max {
				t.Errorf("%d contexts read at once, more than %d", peak.Load(), max)
			}
			if running.Load() != 0 {
				t.Errorf("%d reads still running after EachContext returned", running.Load())
			}
		})
	}
}

// A fatal read error stops the run whatever FailFast says.
func TestEachContextFatal(t *testing.T) {
	usage := errors.New("usage")
	err := EachContext(context.Background(), Fleet{Contexts: []string{"a", "b", "c"}, MaxConcurrency: 1, Fatal: func(err error) bool { return err == usage }},
		func(ctx context.Context, name string) (int, error) {
			if name == "b" {
				return 0, usage
			}
			return 1, nil
		},
		func(name string, _ int) error {
			if name != "a" {
				t.Errorf("emitted %s", name)
			}
			return nil
		})
	if !errors.Is(err, usage) || err.Error() != `context "b": usage` {
		t.Errorf("got %v", err)
	}
}

// An emit error stops the run and cancels the contexts still being read.
func TestEachContextStopsOnEmitError(t *testing.T) {
	stopErr := errors.New("usage")
	var cancelled atomic.Int32
	err := EachContext(context.Background(), Fleet{Contexts: []string{"a", "b", "c"}, MaxConcurrency: 3},
		func(ctx context.Context, name string) (int, error) {
			if name == "a" {
				return 1, nil
			}
			<-ctx.Done()
			cancelled.Add(1)
			return 0, ctx.Err()
		},
		func(name string, _ int) error {
			if name != "a" {
				t.Errorf("emitted %s after the run stopped", name)
			}
			return stopErr
		})
	if !errors.Is(err, stopErr) || cancelled.Load() != 2 {
		t.Errorf("got %v with %d cancelled, want the emit error and 2 cancelled", err, cancelled.Load())
	}
}

const fleetKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster: {server: "https://one.example:6443"}
- name: c2
  cluster: {server: "https://two.example:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: prod
  context: {cluster: c1, user: u, namespace: shop}
- name: staging
  context: {cluster: c2, user: u}
- name: "odd,name"
  context: {cluster: c2, user: u}
current-context: prod
`

func TestContexts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(fleetKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args    []string
		all     bool
		want    []string
		wantErr string
	}{
		{args: nil},
		{args: []string{"--context", "staging"}},
		{args: []string{"--context", "odd,name"}},
		{args: []string{"--context", "staging,prod"}, want: []string{"staging", "prod"}},
		{args: []string{"--context", "staging", "--context", "prod"}, want: []string{"staging", "prod"}},
		{args: []string{"--context=prod", "--context=staging,prod"}, want: []string{"prod", "staging"}},
		{all: true, want: []string{"odd,name", "prod", "staging"}},
		{args: []string{"--context", "prod,nope"}, wantErr: `--context: context "nope" is not in the kubeconfig`},
		{args: []string{"--context", "prod,"}, wantErr: `an empty context name`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.args, tt.all), func(t *testing.T) {
			flags := genericclioptions.NewConfigFlags(true)
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			flags.AddFlags(fs)
			AcceptContextLists(fs, flags)
			if err := fs.Parse(append([]string{"--kubeconfig", path}, tt.args...)); err != nil {
				t.Fatal(err)
			}
			got, err := Contexts(flags, tt.all)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("error %v", err)
			case !slices.Equal(got, tt.want):
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// Each context gets its own server and default namespace; -n overrides.
func TestForContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(fleetKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"", "other"} {
		flags := genericclioptions.NewConfigFlags(true)
		*flags.KubeConfig = path
		*flags.Namespace = ns
		for _, c := range []struct{ context, host, ns string }{
			{"prod", "https://one.example:6443", "shop"}, {"staging", "https://two.example:6443", "default"},
		} {
			conn, err := Connect(ForContext(flags, c.context), false)
			if err != nil {
				t.Fatal(err)
			}
			want := c.ns
			if ns != "" {
				want = ns
			}
			if conn.Host != c.host || conn.Namespace != want {
				t.Errorf("-n %q, context %s: host %s, namespace %s; want %s, %s", ns, c.context, conn.Host, conn.Namespace, c.host, want)
			}
		}
		if *flags.Context != "" {
			t.Errorf("ForContext changed the flags' context to %q", *flags.Context)
		}
	}
}

func TestFleetFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	one := strings.Replace(fleetKubeconfig, "- name: staging\n  context: {cluster: c2, user: u}\n- name: \"odd,name\"\n  context: {cluster: c2, user: u}\n", "", 1)
	if err := os.WriteFile(path, []byte(one), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(args ...string) (*FleetFlags, *genericclioptions.ConfigFlags) {
		flags := genericclioptions.NewConfigFlags(true)
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		flags.AddFlags(fs)
		var f FleetFlags
		f.AddFlags(fs, flags, "Audit")
		if err := fs.Parse(append([]string{"--kubeconfig", path}, args...)); err != nil {
			t.Fatal(err)
		}
		return &f, flags
	}
	if f, flags := parse("--all-contexts", "--context", "prod"); f.Validate(flags) == nil {
		t.Error("--all-contexts with --context: no error")
	}
	if f, flags := parse("--max-concurrency", "0"); f.Validate(flags) == nil {
		t.Error("--max-concurrency 0: no error")
	}
	// A kubeconfig of one context is a run of one, of that context.
	f, flags := parse("--all-contexts")
	if fl, err := f.Fleet(flags); fl != nil || err != nil || *flags.Context != "prod" {
		t.Errorf("--all-contexts of one: fleet %v, error %v, context %q", fl, err, *flags.Context)
	}
	if f.MaxConcurrency != DefaultMaxConcurrency {
		t.Errorf("default --max-concurrency %d", f.MaxConcurrency)
	}
}

func TestCompleteContexts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(fleetKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := genericclioptions.NewConfigFlags(true)
	*flags.KubeConfig = path
	for prefix, want := range map[string][]string{
		"":              {"odd,name", "prod", "staging"},
		"p":             {"prod"},
		"prod,":         {"prod,odd,name", "prod,staging"},
		"prod,s":        {"prod,staging"},
		"prod,staging,": {"prod,staging,odd,name"},
		"x":             nil,
	} {
		if got := CompleteContexts(flags, prefix); !slices.Equal(got, want) {
			t.Errorf("CompleteContexts(%q) = %q, want %q", prefix, got, want)
		}
	}
}

func TestFleetChunkSize(t *testing.T) {
	for _, tt := range []struct {
		contexts, concurrency int
		chunk                 int64
		given                 bool
		want                  int64
	}{
		{3, 4, 500, false, 166},
		{3, 2, 500, false, 250},
		{3, 1, 500, false, 500},
		{2, 4, 500, false, 250},
		{8, 4, 500, false, 125},
		{30, 20, 500, false, MinFleetChunkSize},
		{3, 0, 500, false, 500},
		{3, 4, 500, true, 500},
		{3, 4, 40, true, 40},
		{30, 20, 50, false, 50}, // never more than the chunk
	} {
		f := Fleet{Contexts: make([]string, tt.contexts), MaxConcurrency: tt.concurrency}
		if got := f.ChunkSize(tt.chunk, tt.given); got != tt.want {
			t.Errorf("%d contexts, %d at once, chunk %d (given %v): %d, want %d", tt.contexts, tt.concurrency, tt.chunk, tt.given, got, tt.want)
		}
	}
}
