package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/runtimes"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/cluster"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// manifestsHelp is how audit and suggest-drop read manifests (-f, -k),
// for their --help.
const manifestsHelp = `Manifests (-f) are read as kubectl reads them: files, directories (-R to
recurse), URLs, multi-document YAML, JSON, kind List, and - for standard input;
-k DIR renders a kustomization as kubectl apply -k does. Pods, Deployments,
StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs, CronJobs
and PodTemplates are read, and custom resources with a pod template at
spec.template (Argo Rollout, OpenKruise CloneSet, Knative Service), shown with
their own kind and a note; a custom resource with containers elsewhere (an
Argo Workflow) gets a note saying they were not read; other kinds are skipped.

In a directory, a file in which no document has apiVersion or kind (Helm
values, a GitHub workflow, a kustomization.yaml) and every file of a Helm chart
(a directory with Chart.yaml) are skipped, each with a note on stderr and a
count in a summary line. A broken manifest found in a directory is an error
(exit 3), but the rest of the run is printed first. A file named in -f, a URL
or standard input is read strictly: when it cannot be read, nothing is printed.

-n NAMESPACE with -f or -k selects: workloads that set another namespace are
left out (stderr says how many), those that set none are placed in NAMESPACE.
kubectl apply would refuse them instead; audit only reads, so -n narrows the
view. See docs/manifests.md.`

// fleetHelp is how the live commands read several clusters, for --help.
const fleetHelp = `Several clusters: --context a,b (or --context repeated) or --all-contexts (every
context of the kubeconfig, sorted) reads each context's cluster with its own
server, credentials and namespace (-n overrides it), at most --max-concurrency
at once (default 4), and prints them in the order of the contexts: tables one
per cluster with a CLUSTER column first, separated by a blank line, stderr
lines prefixed with [CONTEXT]; JSON and YAML as one document with a cluster
field in every item. Nothing is merged across clusters. A cluster that cannot
be read is one error line naming its context; the others are printed and the
exit code is 6 (4 when none could be read). --fail-fast stops at the first
that fails, in context order (exit 4). See docs/fleet.md.`

// sourceOptions are the flags and steps that every command reading
// workloads shares (audit, suggest-drop): local manifests with -f, or the
// live cluster of the kubeconfig with -n/-A/-l/--field-selector and
// resource arguments, and the runtime to assume. One implementation, so the
// commands accept the same inputs and fail the same way.
type sourceOptions struct {
	ConfigFlags *genericclioptions.ConfigFlags

	Filenames     []string
	Kustomize     string
	Recursive     bool
	AllNamespaces bool
	Selector      string
	FieldSelector string
	ChunkSize     int64
	PerPod        bool
	Runtime       string
	cluster.FleetFlags

	args            []string
	runtimeExplicit bool
	// chunkExplicit: --chunk-size was given, and is then each cluster's
	// when several are read (cluster.Fleet.ChunkSize).
	chunkExplicit bool
	profile       runtimes.Profile
	// namespace is -n as given, for manifests that set none.
	namespace string
	cmdPath   string
	// hasPerPod: the command offers --per-pod.
	hasPerPod bool
	// verb is what the command does to workloads ("audit"), for messages.
	verb  string
	index *workload.PodIndex // --evidence: the pods or workloads read
	// needsOne names flags that take one cluster, e.g. because their
	// records name namespaces but never a cluster: several contexts are a
	// usage error with them.
	needsOne string
	// flush, when set, takes the rollup of each context's pods a namespace
	// at a time while they are read (cluster.Query.Flush; no r.col.Rollup).
	flush func(*clusterRead, *workload.Rollup) error
}

func newSourceOptions() sourceOptions {
	return sourceOptions{
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		Runtime:     "containerd",
		ChunkSize:   cluster.DefaultChunkSize,
	}
}

// addFlags registers the source flags; verb completes "manifests to ...".
func (s *sourceOptions) addFlags(cmd *cobra.Command, verb string, perPod bool) {
	s.verb = verb
	f := cmd.Flags()
	cap := strings.ToUpper(verb[:1]) + verb[1:]
	f.StringSliceVarP(&s.Filenames, "filename", "f", nil, "Files, directories or URLs of manifests to "+verb+"; - reads standard input")
	f.StringVarP(&s.Kustomize, "kustomize", "k", "", "A kustomization directory to render, as kubectl apply -k renders it, and "+verb+"; not with -f or -R")
	f.BoolVarP(&s.Recursive, "recursive", "R", false, "Process the directories named in -f recursively")
	f.BoolVarP(&s.AllNamespaces, "all-namespaces", "A", false, cap+" pods in all namespaces")
	f.StringVarP(&s.Selector, "selector", "l", "", "Label selector for the pods (and workloads) to "+verb+", e.g. -l app=web")
	f.StringVar(&s.FieldSelector, "field-selector", "", "Field selector for the pods to "+verb+", e.g. --field-selector spec.nodeName=node-1")
	f.Int64Var(&s.ChunkSize, "chunk-size", s.ChunkSize, "Pods per page when listing (0 is not allowed: "+verb+"s always paginate); left at its default with several contexts, it is shared among the clusters read at once (docs/fleet.md)")
	if perPod {
		s.hasPerPod = true
		f.BoolVar(&s.PerPod, "per-pod", false, "Show every pod on its own row, named in a POD column, instead of one row per workload container")
	}
	f.StringVar(&s.Runtime, "runtime", s.Runtime, "Container runtime to "+verb+" for: containerd, cri-o or docker (also a node's runtime string such as cri-o://1.17.3 or docker://20.10.24, which selects that release's behaviour). Manifests are judged with it. Live, each pod is judged with its node's runtime and this is the fallback for pods whose node's is unknown; given explicitly, it overrides every pod's node (a \"what if\"), with a warning naming the node runtimes it contradicts")
	addConfigFlags(s.ConfigFlags, f)
	s.FleetFlags.AddFlags(f, s.ConfigFlags, cap)
	_ = cmd.RegisterFlagCompletionFunc("runtime", fixedCompletion("containerd", "cri-o", "docker"))
	_ = cmd.RegisterFlagCompletionFunc("namespace", completeWith(func(p string) []string { return cluster.CompleteNamespaces(s.ConfigFlags, p) }))
	_ = cmd.RegisterFlagCompletionFunc("context", completeWith(func(p string) []string { return cluster.CompleteContexts(s.ConfigFlags, p) }))
	cmd.ValidArgsFunction = s.completeResources
}

// addConfigFlags is kubectl's own kubeconfig flag set.
func addConfigFlags(c *genericclioptions.ConfigFlags, f *pflag.FlagSet) { c.AddFlags(f) }

// complete records what only the command line knows and parses --runtime.
func (s *sourceOptions) complete(c *cobra.Command, args []string) error {
	s.args = args
	s.cmdPath = c.CommandPath()
	s.runtimeExplicit = c.Flags().Changed("runtime")
	s.chunkExplicit = c.Flags().Changed("chunk-size")
	if c.Flags().Changed("namespace") && s.ConfigFlags.Namespace != nil {
		s.namespace = *s.ConfigFlags.Namespace
	}
	var err error
	if s.profile, err = runtimes.Parse(s.Runtime); err != nil {
		return usageErrorf(s.cmdPath, "--runtime: %v", err)
	}
	return nil
}

// validate checks the source flags; no API calls, no files.
func (s *sourceOptions) validate() error {
	if s.Kustomize != "" {
		// kubectl's own rules (cli-runtime FilenameOptions.validate).
		switch {
		case len(s.Filenames) > 0:
			return usageErrorf(s.cmdPath, "only one of -f or -k can be specified")
		case s.Recursive:
			return usageErrorf(s.cmdPath, "the -k flag can't be used with -f or -R")
		}
	}
	if !s.live() {
		switch {
		case len(s.args) > 0:
			return usageErrorf(s.cmdPath, "resource arguments (%s) read the cluster and cannot be combined with -f or -k", strings.Join(s.args, " "))
		case s.AllNamespaces || s.Selector != "" || s.FieldSelector != "" || s.PerPod:
			if s.hasPerPod {
				return usageErrorf(s.cmdPath, "-A, -l, --field-selector and --per-pod apply to the live cluster, not to -f or -k manifests")
			}
			return usageErrorf(s.cmdPath, "-A, -l and --field-selector apply to the live cluster, not to -f or -k manifests")
		}
	}
	if err := s.FleetFlags.Validate(s.ConfigFlags); err != nil {
		return usageErrorf(s.cmdPath, "%v", err)
	}
	if s.ChunkSize <= 0 {
		return usageErrorf(s.cmdPath, "--chunk-size must be positive, got %d", s.ChunkSize)
	}
	return nil
}

// live reports whether the command reads the cluster rather than -f or -k.
func (s *sourceOptions) live() bool { return len(s.Filenames) == 0 && s.Kustomize == "" }

// readManifests reads the -f or -k inputs and calls visit with each
// workload and the audit target built from it, then writes the reader's
// notes (files skipped, custom resources) to errOut. An unreadable input is
// an input error (exit 3); visit is then not called again, and the caller
// prints nothing. The exception is a *partialError: only files found in
// directory walks had problems, and the caller prints what was visited,
// then returns it.
func (s *sourceOptions) readManifests(in io.Reader, errOut io.Writer, visit func(w *manifest.Workload, t *workload.Target)) error {
	stats, err := manifest.Read(manifest.Options{Filenames: s.Filenames, Kustomize: s.Kustomize, Recursive: s.Recursive,
		Namespace: s.namespace, Stdin: in},
		func(w manifest.Workload) error {
			t := w.Target(s.namespace, s.profile)
			visit(&w, &t)
			return nil
		})
	printers.WriteManifestNotes(errOut, &stats, s.namespace)
	var ie *manifest.InputError
	if errors.As(err, &ie) && ie.Partial {
		return &partialError{&ExitError{Code: ExitInput, Err: fmt.Errorf(
			"%d problem(s) in files found in directories; the output leaves them out:\n%w", len(ie.Problems), err)}}
	}
	if err != nil {
		return &ExitError{Code: ExitInput, Err: err}
	}
	if err == nil {
		printers.WhyEmpty(errOut, &stats, s.namespace)
	}
	return nil
}

// partialError is an input error after which the output is still printed:
// see readManifests.
type partialError struct{ *ExitError }

func (e *partialError) Unwrap() error { return e.ExitError }

// afterOutput is the error a command returns once it has printed the output
// of a partial read: the input error, which decides the exit code (3),
// with the failure the output found (--fail-on) said too.
func afterOutput(readErr, printErr error) error {
	var pe *partialError
	if !errors.As(readErr, &pe) {
		return printErr
	}
	if printErr == nil || ExitCode(printErr) != ExitFindings {
		if printErr != nil {
			return printErr // the output itself failed
		}
		return pe.ExitError
	}
	return &ExitError{Code: ExitInput, Err: fmt.Errorf("%v\n%v", pe.ExitError.Err, printErr)}
}

// connect builds the clients for the live cluster of the kubeconfig.
func (s *sourceOptions) connect() (*cluster.Connection, error) {
	c, err := cluster.Connect(s.ConfigFlags, s.AllNamespaces)
	if errors.Is(err, cluster.ErrNoKubeconfig) {
		err = fmt.Errorf("%w, so there is no cluster to %s; to %s manifests without a cluster, pass them with -f FILE, -f DIR -R or -f -", err, s.verb, s.verb)
	}
	if err != nil {
		return nil, &ExitError{Code: ExitCluster, Err: err}
	}
	return c, nil
}

// collect lists the pods the flags and arguments select, with each node's
// runtime and the owner links, and rolls them up per workload. Warnings
// about degraded lookups go to errOut.
func (r *clusterRead) collect(ctx context.Context, lc *cluster.Connection, errOut io.Writer) (*cluster.Collected, error) {
	s, flush := r.sourceOptions, (func(*workload.Rollup) error)(nil)
	if s.flush != nil {
		flush = func(roll *workload.Rollup) error { return s.flush(r, roll) }
	}
	scopes, err := cluster.Scopes(s.ConfigFlags, cluster.Selection{Namespace: lc.Namespace, AllNamespaces: s.AllNamespaces,
		Args: s.args, LabelSelector: s.Selector, FieldSelector: s.FieldSelector})
	var ae *cluster.ArgumentError
	if errors.As(err, &ae) {
		return nil, usageErrorf(s.cmdPath, "%v", ae.Err)
	}
	if err != nil {
		return nil, s.clusterError(err, lc.Host)
	}
	progress := progressLine(errOut)
	col, err := cluster.Collect(ctx, lc.Clients, cluster.Query{
		Scopes:          scopes,
		ChunkSize:       s.ChunkSize,
		Runtime:         s.profile,
		RuntimeExplicit: s.runtimeExplicit,
		PerPod:          s.PerPod,
		Index:           s.index,
		Progress:        progress,
		Flush:           flush,
	})
	if progress != nil {
		fmt.Fprint(errOut, "\r\033[K")
	}
	if fe := (*cluster.FlushError)(nil); errors.As(err, &fe) {
		return nil, fe.Err // writing the output failed
	}
	if err != nil {
		return nil, s.clusterError(err, lc.Host)
	}
	for _, w := range col.Warnings {
		fmt.Fprintf(errOut, "Warning: %s\n", w)
	}
	return col, nil
}

// progressLine returns a callback that keeps one line on a terminal's
// stderr up to date; nil when stderr is not a terminal, so logs stay clean.
func progressLine(errOut io.Writer) func(int) {
	if !isTerminal(errOut) {
		return nil
	}
	return func(n int) { fmt.Fprintf(errOut, "\r\033[Kread %d pods...", n) }
}

// clusterRead is the live cluster of one context: the source options that
// read it (its kubeconfig context), the connection, the pods, and its
// stderr (errOut; warnOut while it is read, held in warn with several).
// name is the context in a run over several, "" in a run of one.
type clusterRead struct {
	*sourceOptions
	name            string
	lc              *cluster.Connection
	col             *cluster.Collected
	ws              []*suggest.Workload
	errOut, warnOut io.Writer
	warn            bytes.Buffer
	// What flush did: where it wrote, the --fail-on count, its error.
	spool  *printers.Spool
	failed int
	werr   error
}

// eachCluster connects to the cluster of each context the flags name,
// collects its pods (then runs more, if given) and calls emit with it. One
// context is read as kubectl reads it: its error ends the run, its warnings
// and progress go to errOut. Several (docs/fleet.md) are read concurrently
// and emitted one at a time in the order of the contexts, their stderr
// lines under their names; one that fails is one error line, and the run
// ends with exit 6 (4 when all failed, or the first with --fail-fast).
func (s *sourceOptions) eachCluster(errOut io.Writer, more func(context.Context, *clusterRead) error, emit func(*clusterRead) error) error {
	read := func(ctx context.Context, r *clusterRead) (*clusterRead, error) {
		var err error
		if r.lc, err = r.connect(); err == nil {
			if r.col, err = r.collect(ctx, r.lc, r.warnOut); err == nil && more != nil {
				err = more(ctx, r)
			}
		}
		return r, err
	}
	fl, err := s.Fleet(s.ConfigFlags)
	if err != nil {
		return &ExitError{Code: ExitCluster, Err: err}
	} else if fl == nil {
		r, err := read(context.Background(), &clusterRead{sourceOptions: s, errOut: errOut, warnOut: errOut})
		if err != nil {
			return err
		}
		return emit(r)
	}
	if s.index != nil { // a trace names pods, never a cluster: one pod name may be two pods
		s.needsOne = "--evidence reads the traces of"
	}
	if s.needsOne != "" {
		return usageErrorf(s.cmdPath, "%s one cluster: give one --context with it", s.needsOne)
	}
	fl.Failed = func(name string, err error) { printers.WriteContextError(errOut, name, err) }
	fl.Fatal = func(err error) bool { return ExitCode(err) == ExitUsage }
	err = cluster.EachContext(context.Background(), *fl, func(ctx context.Context, name string) (*clusterRead, error) {
		cs := *s
		cs.ConfigFlags = cluster.ForContext(s.ConfigFlags, name)
		cs.ChunkSize = fl.ChunkSize(s.ChunkSize, s.chunkExplicit)
		r := &clusterRead{sourceOptions: &cs, name: name, errOut: printers.ClusterLines(errOut, name)}
		r.warnOut = &r.warn
		return read(ctx, r)
	}, func(_ string, r *clusterRead) error {
		_, _ = r.errOut.Write(r.warn.Bytes())
		return emit(r)
	})
	if pe := (*cluster.PartialError)(nil); errors.As(err, &pe) {
		err = &ExitError{Code: map[bool]int{false: ExitPartial, true: ExitCluster}[pe.All()], Err: err}
	}
	return err
}

// afterClusters is the error of a run over several contexts that counted
// findings: a partial run (exit 6) wins over --fail-on (exit 1), which it
// says too, since the clusters not read may hold more.
func afterClusters(runErr, findings error) error {
	if runErr != nil && findings != nil && ExitCode(runErr) == ExitPartial {
		return &ExitError{Code: ExitPartial, Err: fmt.Errorf("%v\n%v", runErr, findings)}
	}
	if runErr != nil {
		return runErr
	}
	return findings
}
