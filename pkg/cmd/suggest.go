package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/capability"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/cluster"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/suggest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// Output formats of suggest-drop besides json and yaml.
const (
	formatPatch           = "patch"
	formatJSONPatch       = "json-patch"
	formatKubectl         = "kubectl"
	formatSecurityContext = "securitycontext"
	formatPatched         = "patched"
)

// SuggestOptions holds the flags of `kubectl caps suggest-drop`.
type SuggestOptions struct {
	sourceOptions

	Strategy  string
	Keep      []string
	Output    string
	NoHeaders bool
	FailOn    string
	Color     string

	strategy suggest.Strategy
	keep     capability.Set
	rules    []suggest.KeepRule
	failOn   catalog.Risk
	output   *outputFlag
	color    bool
	// width is what the default table is fitted to; 0 until writeTable
	// asks the terminal (printers.TerminalWidth).
	width int

	genericiooptions.IOStreams
}

// NewSuggestOptions returns options with the defaults.
func NewSuggestOptions(streams genericiooptions.IOStreams) *SuggestOptions {
	return &SuggestOptions{
		sourceOptions: newSourceOptions(),
		Strategy:      string(suggest.Catalog),
		IOStreams:     streams,
	}
}

// NewCmdSuggest builds `kubectl caps suggest-drop`.
func NewCmdSuggest(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewSuggestOptions(streams)
	cmd := &cobra.Command{
		Use:   "suggest-drop [TYPE[/NAME] ...] [-n NAMESPACE | -A] [-l SELECTOR] | suggest-drop -f FILENAME | suggest-drop -k DIR",
		Short: "Suggest which capabilities each container should drop, as patches",
		Long: `Suggest, per workload and container, which of the Linux capabilities it holds
it should drop and which it should keep, each with its reason, and print the
change as patches you can review and apply. It never writes to the cluster:
applying is your kubectl patch, which -o kubectl prints ready to run.

What a container holds is computed as audit computes it (runtime defaults,
add/drop as the runtime reads them, ALL, privileged, the user).

Strategies:
  catalog (default)  drop what the catalog recommends dropping of what the
                     runtime grants by default (NET_RAW, MKNOD, SETFCAP on
                     containerd), and keep the rest. A capability the spec
                     adds by name is the author's statement of need: it is
                     kept, and when risky (high or critical, or medium where
                     the catalog does not say keep; raised by hostPID,
                     hostNetwork, hostIPC or hostPath where the catalog says
                     so) flagged with a review-explicit-add note saying its
                     risk and why. add: ["ALL"] names nothing: of what it
                     grants, catalog drops and risky capabilities go. So the
                     default patches never remove what a manifest adds by
                     name (a mesh init container's NET_ADMIN, a CNI's
                     NET_RAW, a CSI node plugin's SYS_ADMIN).
  strict             drop: ["ALL"], then add back only what the container
                     needs: --keep, and NET_BIND_SERVICE when it runs as root
                     (or as the image's unknown user) and declares a
                     containerPort below 1024. The result meets the Pod
                     Security Standards restricted capability rules whenever
                     that keep list allows it. Its notes name, per container,
                     the capabilities added by name that it removes
                     (strict-drops-explicit-add) and, for a root container,
                     the loss of CHOWN, DAC_OVERRIDE, FOWNER, SETGID and
                     SETUID that entrypoints use to chown files and switch
                     to a service user (strict-root-setup).

--keep=CAP,... keeps capabilities in every container, under either strategy,
if the container holds them; a suggestion never adds a capability the
container does not hold. --keep=[NAMESPACE/]KIND/NAME[:CONTAINER]=CAP,...
keeps them in one workload's containers, or in one container of it: KIND as
kubectl takes it (deployment, deploy, deployments, Deployment; po, cj) or a
custom resource's exact kind (Rollout); without NAMESPACE, in every
namespace. Repeat the flag for each; the two forms mix. A per-container
--keep that selects no container is a usage error (exit 2), reported before
anything is printed.

The new lists are written the way Pod Security Admission compares them: names
without CAP_, in upper case, "ALL" in upper case, and never the same name in
add and drop (Docker lets add win). A container that already holds only what
it should gets an empty DROP and no patch.

Notes say what else matters: privileged: true must go first (no drop list works
under it); CAP_-prefixed entries do nothing on containerd and are rewritten; the
sysctls net.ipv4.ip_unprivileged_port_start and net.ipv4.ping_group_range
replace NET_BIND_SERVICE and NET_RAW; a binary with file capabilities outside
the new bounding set fails with EPERM at exec.

Sources are those of audit: without -f or -k the cluster of the current
kubeconfig context (-n, -A, -l, --field-selector, resource arguments; each pod
judged with its node's runtime unless --runtime is given, which overrides every
pod's), or manifests with -f or -k. Live, the patch is
computed from the pod template of the workload's controller, which suggest-drop
lists (deployments, statefulsets, daemonsets, replicasets,
replicationcontrollers, cronjobs: list verb) besides what audit reads; bare
pods and workloads whose template may not be listed are judged from their
pods, without a patch.

` + manifestsHelp + "\n\n" + fleetHelp + `

Custom resources get suggestions but no patch: kubectl patch cannot apply a
strategic merge patch to them.

Output (-o):
  (table)          NAMESPACE, WORKLOAD (deploy/NAME, sts/NAME, ... as kubectl
                   takes it), CONTAINER, RUNTIME (when a workload's pods
                   run on several runtimes: a row for each), DROP, KEEP: how many, riskiest
                   first, e.g. "3 (NET_RAW, MKNOD +1)", or ALL, or "ALL
                   except ..." when that is exact and shorter; fitted to the
                   terminal's width (120 columns when stdout is not a
                   terminal) by naming fewer capabilities, never by cutting
                   names. The notes go to stderr, then one line that counts
                   the containers with something to drop, by the highest
                   risk among it, and those the patches change
  wide             DROP and KEEP in full, and NOTES (the note codes)
  json, yaml       a DropSuggestionList (caps.kubectl-caps.io/v1alpha1) with
                   drop and keep as {capability, risk, reason}, notes as
                   {code, message}, and the new capabilities lists
  patch            one strategic-merge patch per workload (YAML), aimed at the
                   controller: a Deployment, not its ReplicaSet or pods; a
                   CronJob at spec.jobTemplate.spec.template.spec
  json-patch       the same as RFC 6902 operations with index paths, each
                   container guarded by a test of its name
  kubectl          one ready "kubectl patch ... --type strategic -p '...'"
                   command per workload
  securitycontext  each container's securityContext with the new lists, to
                   paste into a manifest
  patched          with -f or -k only: each workload of the manifests with
                   its patch applied, as YAML documents separated by ---
                   (what kubectl patch --local -o yaml prints for a file
                   holding that workload alone), ready for audit -f, a diff
                   or kubectl apply; other objects (a Service) are left out
Bare Pods and bare Jobs cannot change their pod template after creation, and
ephemeral containers cannot change at all: they get a note and no patch.
kubectl patch --local -f FILE applies a patch to every object in FILE, a
Service too; on a file holding more than the workload, use -o patched.

` + exitCodesHelp,
		Example: `  # What every workload in the current namespace should drop
  kubectl caps suggest-drop

  # The strict shape for one deployment, as a command to run
  kubectl caps suggest-drop deploy/web --strategy=strict -o kubectl

  # Keep NET_RAW for a container that must ping, and see why the rest goes
  kubectl caps suggest-drop -n shop --keep=NET_RAW -o yaml

  # Keep SYS_PTRACE in one container only, strict for the rest
  kubectl caps suggest-drop -n shop --strategy=strict --keep=shop/deploy/web:debugger=SYS_PTRACE

  # Harden a manifest without a cluster (a Deployment and a Service), then audit the result
  kubectl caps suggest-drop -f examples/01-web-defaults.yaml -o patched > web.yaml
  kubectl caps audit -f web.yaml

  # The securityContext to paste into each container of a Helm chart
  helm template ./chart | kubectl caps suggest-drop -f - -o securitycontext

  # Fail a CI job while any container still holds a high or critical capability it should drop
  kubectl caps suggest-drop -f deploy/ -R --fail-on=high`,
		RunE: runE(o),
	}
	o.addFlags(cmd, "check", false)
	o.output = addOutputFlag(cmd, &o.Output, "table", printers.FormatWide, printers.FormatJSON, printers.FormatYAML, formatPatch, formatJSONPatch, formatKubectl, formatSecurityContext, formatPatched)
	f := cmd.Flags()
	f.StringVar(&o.Strategy, "strategy", o.Strategy, "How much to keep: catalog (drop the runtime defaults the catalog says to drop; keep what the manifest adds by name, flagged for review when risky) or strict (drop ALL, add back only what is needed)")
	// An array, not a slice: a per-container value holds commas of its
	// own (deploy/web=NET_RAW,SYS_PTRACE), which a slice flag would split.
	f.StringArrayVar(&o.Keep, "keep", nil, "Capabilities to keep whatever the strategy says: CAP,... in every container, e.g. --keep=NET_RAW,SYS_PTRACE (any case, with or without CAP_), or "+
		suggest.KeepForm+" in one workload's containers, e.g. --keep=shop/deploy/web:nginx=NET_RAW; repeatable")
	f.BoolVar(&o.NoHeaders, "no-headers", false, "Print the table without its header line")
	f.StringVar(&o.FailOn, "fail-on", "", "Exit with code 1 when any container should drop a capability whose risk is at least this: low, medium, high or critical")
	addColorFlag(cmd, &o.Color, "DROP and KEEP in the table")
	_ = cmd.RegisterFlagCompletionFunc("strategy", fixedCompletion("catalog", "strict"))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", fixedCompletion("low", "medium", "high", "critical"))
	_ = cmd.RegisterFlagCompletionFunc("keep", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return suggest.KeepCompletions(toComplete), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// Complete records the command line and parses the flag values.
func (o *SuggestOptions) Complete(c *cobra.Command, args []string) error {
	if err := o.complete(c, args); err != nil {
		return err
	}
	var err error
	if o.strategy, err = suggest.ParseStrategy(o.Strategy); err != nil {
		return usageErrorf(o.cmdPath, "--strategy: %v", err)
	}
	if o.keep, o.rules, err = suggest.ParseKeep(o.Keep); err != nil {
		return usageErrorf(o.cmdPath, "%v", err)
	}
	if o.FailOn != "" {
		if o.failOn, err = catalog.ParseRisk(o.FailOn); err != nil {
			return usageErrorf(o.cmdPath, "--fail-on: %v", err)
		}
	}
	o.color = printers.ColorFor(o.Color, o.Out)
	return nil
}

// Validate checks the flags; no API calls, no files.
func (o *SuggestOptions) Validate() error {
	if err := o.validate(); err != nil {
		return err
	}
	if err := oneOf(o.cmdPath, "--color", o.Color, colorValues...); err != nil {
		return err
	}
	if err := o.output.check(o.cmdPath); err != nil {
		return err
	}
	if o.Output == formatPatched && o.live() {
		return usageErrorf(o.cmdPath, "-o patched prints the manifests given with -f or -k with their patches applied; "+
			"for the cluster, print the patches (-o patch) or the kubectl patch commands (-o kubectl)")
	}
	return nil
}

func (o *SuggestOptions) options() suggest.Options {
	return suggest.Options{Strategy: o.strategy, Keep: o.keep, Rules: o.rules}
}

// Run suggests for the manifests given with -f or -k, or else the live
// cluster.
func (o *SuggestOptions) Run() error {
	if o.live() {
		return o.runLive()
	}
	var ws []*suggest.Workload
	err := o.readManifests(o.In, o.ErrOut, func(w *manifest.Workload, t *workload.Target) {
		tgt := suggest.TargetOf(w.Kind)
		if w.Custom {
			tgt = suggest.CustomTarget(w.Kind)
		}
		tgt.Prefix = w.FieldPrefix
		sw := o.options().ForTarget(t, tgt, "")
		sw.Object = w.Object
		ws = append(ws, sw)
	})
	var partial *partialError
	if err != nil && !errors.As(err, &partial) {
		return err
	}
	// A manifest that could not be read may hold what a rule selects: the
	// input error (exit 3) says so, not a usage error.
	if miss := o.options().Unmatched(ws); err == nil && miss != nil {
		return usageErrorf(o.cmdPath, "%v", miss)
	}
	return afterOutput(err, o.print(ws))
}

// runLive finds the workloads of each context's cluster as audit does
// (pods, each judged with its node's runtime, rolled up under their
// controller) and suggests for each: from the controller's pod template
// where it can be read and patched (suggest.Options.ForTemplate says why),
// else from the pods. Several contexts (docs/fleet.md) are printed one
// after the other, JSON and YAML as one streamed list; -o kubectl names
// each context; the patches, which do not, take one context at a time.
func (o *SuggestOptions) runLive() error {
	var list *printers.ReportStream
	failed, tables := 0, 0
	err := o.eachCluster(o.ErrOut, func(ctx context.Context, r *clusterRead) error {
		templates := cluster.NewTemplates(r.lc.Typed, o.ChunkSize, o.AllNamespaces)
		ws, err := o.options().ForLive(ctx, suggest.GroupPods(r.col.Rollup), templates, cluster.IsForbidden)
		if err != nil {
			return o.clusterError(err, r.lc.Host)
		}
		for _, w := range templates.Warnings {
			fmt.Fprintf(r.warnOut, "Warning: %s\n", w)
		}
		r.ws = suggest.InCluster(ws, r.name)
		return nil
	}, func(r *clusterRead) error {
		if err := o.options().Unmatched(r.ws); err != nil && r.name == "" {
			return usageErrorf(o.cmdPath, "%v", err)
		}
		if r.name == "" {
			return o.print(r.ws)
		}
		failed += suggest.CountDropsAtLeast(r.ws, o.failOn)
		switch o.Output {
		case formatPatch, formatJSONPatch, formatSecurityContext:
			return usageErrorf(o.cmdPath, "-o %s does not say which cluster a patch is for: with several contexts, use -o kubectl (which names each context) or one --context at a time", o.Output)
		case printers.FormatJSON, printers.FormatYAML:
			if list == nil {
				list, _ = printers.NewListStream(o.Out, o.Output, suggest.NewList(o.strategy))
			}
			for _, it := range suggest.Items(r.ws) {
				if err := list.WriteItem(&it); err != nil {
					return err
				}
			}
			return nil
		}
		if tables += min(len(r.ws), 1); tables > 1 && len(r.ws) > 0 && o.Output != formatKubectl {
			fmt.Fprintln(o.Out)
		}
		view := *o
		view.sourceOptions, view.ErrOut = *r.sourceOptions, r.errOut // -o kubectl's --context
		return view.write(r.ws)
	})
	if ee := (*ExitError)(nil); list != nil && (err == nil || errors.As(err, &ee)) {
		if cerr := list.Close(); cerr != nil {
			return cerr
		}
	}
	if n := failed; n > 0 {
		return afterClusters(err, findingsError("%d container(s) should drop capabilities at or above --fail-on=%s", n, o.failOn))
	}
	return err
}

func (o *SuggestOptions) print(ws []*suggest.Workload) error {
	if err := o.write(ws); err != nil {
		return err
	}
	if n := suggest.CountDropsAtLeast(ws, o.failOn); n > 0 {
		return findingsError("%d container(s) should drop capabilities at or above --fail-on=%s", n, o.failOn)
	}
	return nil
}

// kubectlFlags are the kubeconfig flags the user gave, repeated in the
// printed kubectl commands so that they patch the same cluster.
func (o *sourceOptions) kubectlFlags() []string {
	var out []string
	cf := o.ConfigFlags
	for _, f := range []struct {
		name string
		v    *string
	}{{"--kubeconfig", cf.KubeConfig}, {"--context", cf.Context}, {"--cluster", cf.ClusterName}, {"--user", cf.AuthInfoName}} {
		if f.v != nil && *f.v != "" {
			out = append(out, f.name, *f.v)
		}
	}
	return out
}
