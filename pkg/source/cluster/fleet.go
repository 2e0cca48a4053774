package cluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// Several clusters in one run (docs/fleet.md): --context a,b (or repeated)
// and --all-contexts name kubeconfig contexts; each is read with its own
// client, at most MaxConcurrency at once, and handed on in the order of the
// contexts, one at a time, so that the output does not depend on which
// cluster answers first.

// DefaultMaxConcurrency is --max-concurrency's default: each cluster being
// read has up to three LISTs in flight and holds its pods' rollup (or, for
// audit -o json|yaml, spools its items: printers.Spool) until it is
// printed, so four overlaps the round trips of a fleet without holding
// much more than a few clusters at once.
const DefaultMaxConcurrency = 4

// ContextsUsage is the --context flag's help once it takes several.
const ContextsUsage = "The name of the kubeconfig context to use; several, comma-separated or repeated, read each context's cluster (docs/fleet.md)"

// contextList is kubectl's --context, which cli-runtime registers as a
// single string, taking several: a repeated flag appends with a comma,
// so that --context a --context b reads as --context a,b. Type stays
// "string", as kubectl's help shows it.
type contextList struct {
	p   *string
	set bool
}

func (c *contextList) String() string { return *c.p }
func (c *contextList) Type() string   { return "string" }
func (c *contextList) Set(v string) error {
	if c.set && *c.p != "" && v != "" {
		v = *c.p + "," + v
	}
	*c.p, c.set = v, true
	return nil
}

// AcceptContextLists lets the --context flag that flags registered on fs
// (ConfigFlags.AddFlags) be repeated; it stays one string, split by
// Contexts.
func AcceptContextLists(fs *pflag.FlagSet, flags *genericclioptions.ConfigFlags) {
	if f := fs.Lookup("context"); f != nil && flags.Context != nil {
		f.Value = &contextList{p: flags.Context}
		f.Usage = ContextsUsage
	}
}

// FleetFlags are the flags of a run over several contexts, next to
// kubectl's own kubeconfig flags.
type FleetFlags struct {
	AllContexts    bool
	MaxConcurrency int
	FailFast       bool
}

// AddFlags registers them, and lets --context (from flags) take several;
// verb is the command's ("Audit").
func (f *FleetFlags) AddFlags(fs *pflag.FlagSet, flags *genericclioptions.ConfigFlags, verb string) {
	AcceptContextLists(fs, flags)
	f.MaxConcurrency = DefaultMaxConcurrency
	fs.BoolVar(&f.AllContexts, "all-contexts", false, verb+" the cluster of every context in the kubeconfig, each with its own credentials and namespace (docs/fleet.md)")
	fs.IntVar(&f.MaxConcurrency, "max-concurrency", f.MaxConcurrency, "With several contexts: how many clusters are read at once")
	fs.BoolVar(&f.FailFast, "fail-fast", false, "With several contexts: stop at the first cluster that cannot be read (exit 4) instead of going on with the others (exit 6)")
}

// Validate checks the flags alone.
func (f *FleetFlags) Validate(flags *genericclioptions.ConfigFlags) error {
	switch {
	case f.MaxConcurrency < 1:
		return fmt.Errorf("--max-concurrency must be at least 1, got %d", f.MaxConcurrency)
	case f.AllContexts && flags.Context != nil && *flags.Context != "":
		return fmt.Errorf("--all-contexts reads every context; it cannot be combined with --context %s", *flags.Context)
	}
	return nil
}

// Fleet is the run the flags ask for: nil for one context, which is then
// read exactly as kubectl reads it (--all-contexts of a kubeconfig with one
// context sets flags' context to it). A context that is not in the
// kubeconfig is an error, as kubectl's --context makes it.
func (f *FleetFlags) Fleet(flags *genericclioptions.ConfigFlags) (*Fleet, error) {
	names, err := Contexts(flags, f.AllContexts)
	if err != nil || len(names) < 2 {
		if len(names) == 1 {
			*flags.Context = names[0]
		}
		return nil, err
	}
	return &Fleet{Contexts: names, MaxConcurrency: f.MaxConcurrency, FailFast: f.FailFast}, nil
}

// Contexts is the contexts a run reads when it reads several: every
// context of the kubeconfig, sorted, with all; else the names of --context
// when it holds a comma, in the order given, each once. It returns nil for
// a run of one context (no comma, or a context whose own name has one),
// which then reads the kubeconfig exactly as kubectl does.
func Contexts(flags *genericclioptions.ConfigFlags, all bool) ([]string, error) {
	given := ""
	if flags.Context != nil {
		given = *flags.Context
	}
	if !all && !strings.Contains(given, ",") {
		return nil, nil
	}
	raw, err := flags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	if all {
		if len(raw.Contexts) == 0 {
			return nil, fmt.Errorf("--all-contexts: %w", ErrNoKubeconfig)
		}
		names := make([]string, 0, len(raw.Contexts))
		for n := range raw.Contexts {
			names = append(names, n)
		}
		slices.Sort(names)
		return names, nil
	}
	if _, ok := raw.Contexts[given]; ok {
		return nil, nil // one context whose name holds a comma
	}
	var names []string
	for _, n := range strings.Split(given, ",") {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
			return nil, fmt.Errorf("--context %q: an empty context name", given)
		case raw.Contexts[n] == nil:
			return nil, fmt.Errorf("--context: context %q is not in the kubeconfig (kubectl config get-contexts lists them)", n)
		case !slices.Contains(names, n):
			names = append(names, n)
		}
	}
	return names, nil
}

// ForContext is a copy of flags that reads context name: its own server,
// credentials and default namespace, with every other flag as given (-n
// still overrides the namespace). flags itself is not changed.
func ForContext(flags *genericclioptions.ConfigFlags, name string) *genericclioptions.ConfigFlags {
	c := genericclioptions.NewConfigFlags(true)
	c.CacheDir, c.KubeConfig, c.ClusterName, c.AuthInfoName = flags.CacheDir, flags.KubeConfig, flags.ClusterName, flags.AuthInfoName
	c.Namespace, c.APIServer, c.TLSServerName, c.Insecure = flags.Namespace, flags.APIServer, flags.TLSServerName, flags.Insecure
	c.CertFile, c.KeyFile, c.CAFile, c.BearerToken = flags.CertFile, flags.KeyFile, flags.CAFile, flags.BearerToken
	c.Impersonate, c.ImpersonateUID, c.ImpersonateGroup, c.ImpersonateUserExtra = flags.Impersonate, flags.ImpersonateUID, flags.ImpersonateGroup, flags.ImpersonateUserExtra
	c.Username, c.Password, c.Timeout, c.DisableCompression = flags.Username, flags.Password, flags.Timeout, flags.DisableCompression
	c.ProxyURL, c.WrapConfigFn = flags.ProxyURL, flags.WrapConfigFn
	c.Context = &name
	return c
}

// Fleet is how a run reads several contexts.
type Fleet struct {
	Contexts []string
	// MaxConcurrency bounds the contexts read or waiting to be handed on
	// at once (at least 1).
	MaxConcurrency int
	// FailFast: the first context that fails, in the order of Contexts,
	// ends the run; the contexts after it are cancelled.
	FailFast bool
	// Failed, if set, is told of each context that could not be read (in
	// order) when the run goes on without it.
	Failed func(name string, err error)
	// Fatal, if set, says which read errors end the run whatever FailFast
	// says (a usage error, the same in every context).
	Fatal func(error) bool
}

// MinFleetChunkSize is the smallest page Fleet.ChunkSize shares out: below
// it the round trips of many small pages cost more than the memory saved.
const MinFleetChunkSize = 100

// ChunkSize is the pods per page of each cluster of f, for a run whose
// --chunk-size is chunk; given says the user set it. Given, it is each
// cluster's, as kubectl's is. Left at its default, it is shared among the
// clusters read at once (at least MinFleetChunkSize each): pages are most
// of what a cluster being read holds (PageBuffer+1 of them, ~3.4 MB each
// at 500 realistic pods), and three clusters at 500 each held 1.7–1.8× one
// cluster's peak RSS (docs/benchmarks.md, "Three clusters").
func (f Fleet) ChunkSize(chunk int64, given bool) int64 {
	n := int64(min(max(f.MaxConcurrency, 1), len(f.Contexts)))
	if given || n <= 1 {
		return chunk
	}
	return max(chunk/n, min(chunk, MinFleetChunkSize))
}

// ContextFailure is the read error of the context that ended a run.
type ContextFailure struct {
	Context string
	Err     error
}

func (e *ContextFailure) Error() string { return fmt.Sprintf("context %q: %v", e.Context, e.Err) }
func (e *ContextFailure) Unwrap() error { return e.Err }

// PartialError says that some contexts could not be read; the others
// were handed on. Failed are their names, in order, and Of how many
// contexts there were.
type PartialError struct {
	Failed []string
	Of     int
}

// All: no context could be read.
func (e *PartialError) All() bool { return len(e.Failed) == e.Of }

func (e *PartialError) Error() string {
	if len(e.Failed) == e.Of {
		return fmt.Sprintf("none of the %d contexts could be read (%s)", e.Of, strings.Join(e.Failed, ", "))
	}
	return fmt.Sprintf("%d of %d contexts could not be read (%s); the others are printed", len(e.Failed), e.Of, strings.Join(e.Failed, ", "))
}

// EachContext reads every context of f with read, concurrently (at most
// f.MaxConcurrency at once, started in order), and calls emit with each
// context's result in the order of f.Contexts, one call at a time. A
// context holds its slot until emit has had its result, so at most
// MaxConcurrency results are held at once, however slow the first
// context. An error from emit ends the run: the contexts not yet emitted
// are cancelled, and EachContext returns it. A read error, in its turn,
// ends the run as a *ContextFailure with FailFast or when Fatal says so;
// otherwise it goes to Failed, the run goes on, and EachContext returns a
// *PartialError naming every context that failed.
func EachContext[T any](ctx context.Context, f Fleet, read func(ctx context.Context, name string) (T, error), emit func(name string, v T) error) error {
	n := len(f.Contexts)
	limit := max(f.MaxConcurrency, 1)
	type result struct {
		v   T
		err error
	}
	done := make([]chan result, n)
	cancels := make([]context.CancelFunc, n)
	for i := range done {
		done[i] = make(chan result, 1)
	}
	var mu sync.Mutex // guards cancels and stopped
	slots := make(chan struct{}, limit)
	stop := make(chan struct{})
	stopped := false
	var wg sync.WaitGroup
	// cancelFrom cancels the contexts from i on and starts no more: they
	// are started in order, so every context before i has started, and
	// none after it will be emitted.
	cancelFrom := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		for j := i; j < n; j++ {
			if cancels[j] != nil {
				cancels[j]()
			}
		}
		if !stopped {
			stopped = true
			close(stop)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, name := range f.Contexts {
			select {
			case slots <- struct{}{}:
			case <-stop:
				return
			}
			mu.Lock()
			if stopped {
				mu.Unlock()
				<-slots
				return
			}
			cctx, cancel := context.WithCancel(ctx)
			cancels[i] = cancel
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := read(cctx, name)
				if err != nil && (f.FailFast || f.Fatal != nil && f.Fatal(err)) {
					cancelFrom(i + 1)
				}
				done[i] <- result{v, err}
			}()
		}
	}()
	defer func() {
		cancelFrom(0)
		wg.Wait()
		for _, c := range cancels {
			if c != nil {
				c()
			}
		}
	}()
	var failed []string
	for i, name := range f.Contexts {
		r := <-done[i]
		switch {
		case r.err != nil && (f.FailFast || f.Fatal != nil && f.Fatal(r.err)):
			return &ContextFailure{Context: name, Err: r.err}
		case r.err != nil:
			if f.Failed != nil {
				f.Failed(name, r.err)
			}
			failed = append(failed, name)
		default:
			if err := emit(name, r.v); err != nil {
				return err
			}
		}
		<-slots
	}
	if failed != nil {
		return &PartialError{Failed: failed, Of: n}
	}
	return nil
}
