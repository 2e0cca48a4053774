package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/engine"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/profile"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
)

// AuditOptions holds the flags of `kubectl caps audit`.
type AuditOptions struct {
	ConfigFlags *genericclioptions.ConfigFlags

	Filenames []string
	Recursive bool
	Runtime   string
	Output    string
	NoHeaders bool
	MinRisk   string
	FailOn    string
	Color     string

	profile   profile.Profile
	minRisk   catalog.Risk
	failOn    catalog.Risk
	namespace string
	color     bool
	auditor   *audit.Auditor
	cmdPath   string

	genericiooptions.IOStreams
}

// NewAuditOptions returns options with the defaults.
func NewAuditOptions(streams genericiooptions.IOStreams) *AuditOptions {
	return &AuditOptions{
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		Runtime:     "containerd",
		Color:       "auto",
		IOStreams:   streams,
	}
}

// NewCmdAudit builds `kubectl caps audit`.
func NewCmdAudit(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewAuditOptions(streams)
	cmd := &cobra.Command{
		Use:   "audit (-f FILENAME | -f DIR [-R] | -f -)",
		Short: "Show the capabilities each container really holds, with their risk",
		Long: `Show, per workload and container, the Linux capabilities the container really
holds, each annotated with its risk from the catalog.

The computation follows the container runtime: its default set (containerd and
Docker grant 14, CRI-O 9), how it reads capabilities.add and drop (containerd
puts "CAP_" in front of every name, so CAP_NET_RAW in drop drops nothing), ALL,
privileged, the user the process runs as (non-root processes hold nothing after
exec) and allowPrivilegeEscalation.

Manifests are read as kubectl reads them: files, directories (-R to recurse),
URLs, multi-document YAML, JSON, kind List, and - for standard input. Pods,
Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers,
Jobs, CronJobs and PodTemplates are audited; other kinds are skipped. Nothing
is printed when an input cannot be read: a partial table never looks complete.

Columns: NAMESPACE, WORKLOAD, CONTAINER, USER (root, nonroot or unknown; an
unknown user is audited as root), EFFECTIVE (what the first process holds),
MAX-RISK (highest risk among them, raised by hostPID, hostNetwork, hostIPC or
hostPath where that matters). -o wide adds BOUNDING, RUNTIME, PSS (the highest
Pod Security Standard whose capability rules the container meets), ADDED,
DROPPED and the number of WARNINGS. Warnings about the spec go to stderr.

` + exitCodesHelp,
		Example: `  # Audit the bundled examples, no cluster needed
  kubectl caps audit -f examples/ -R

  # What a Helm chart's containers would hold on CRI-O
  helm template my-release ./chart | kubectl caps audit -f - --runtime cri-o

  # Fail a CI job when any container holds a high or critical capability
  kubectl caps audit -f deploy/ -R --fail-on=high

  # Machine-readable report
  kubectl caps audit -f deploy.yaml -o json | jq '.items[] | select(.privileged)'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(c); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.Filenames, "filename", "f", nil, "Files, directories or URLs of manifests to audit; - reads standard input")
	f.BoolVarP(&o.Recursive, "recursive", "R", false, "Process the directories named in -f recursively")
	f.StringVar(&o.Runtime, "runtime", o.Runtime, "Container runtime to audit for: containerd, cri-o or docker (also a node's runtime string such as cri-o://1.17.3)")
	f.StringVarP(&o.Output, "output", "o", "", "Output format: wide, json or yaml (default: table)")
	f.BoolVar(&o.NoHeaders, "no-headers", false, "Print the table without its header line")
	f.StringVar(&o.MinRisk, "min-risk", "", "Show only containers whose MAX-RISK is at least this: low, medium, high or critical")
	f.StringVar(&o.FailOn, "fail-on", "", "Exit with code 1 when any container's MAX-RISK is at least this: low, medium, high or critical")
	f.StringVar(&o.Color, "color", o.Color, "Colour risky capabilities in the table: auto (when stdout is a terminal), always or never")
	o.ConfigFlags.AddFlags(f)
	_ = cmd.RegisterFlagCompletionFunc("runtime", fixedCompletion("containerd", "cri-o", "docker"))
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion("wide", "json", "yaml"))
	for _, name := range []string{"min-risk", "fail-on"} {
		_ = cmd.RegisterFlagCompletionFunc(name, fixedCompletion("low", "medium", "high", "critical"))
	}
	_ = cmd.RegisterFlagCompletionFunc("color", fixedCompletion("auto", "always", "never"))
	return cmd
}

// Complete resolves the namespace and the colour decision.
func (o *AuditOptions) Complete(c *cobra.Command) error {
	o.cmdPath = c.CommandPath()
	o.auditor = audit.New()
	if c.Flags().Changed("namespace") && o.ConfigFlags.Namespace != nil {
		o.namespace = *o.ConfigFlags.Namespace
	}
	switch o.Color {
	case "always":
		o.color = true
	case "auto":
		o.color = isTerminal(o.Out)
	}
	return nil
}

// Validate checks flag values; it makes no API calls and reads no files.
func (o *AuditOptions) Validate() error {
	var err error
	if o.profile, err = profile.Parse(o.Runtime); err != nil {
		return usageErrorf(o.cmdPath, "--runtime: %v", err)
	}
	switch o.Output {
	case "", printers.FormatWide, printers.FormatJSON, printers.FormatYAML:
	default:
		return usageErrorf(o.cmdPath, "unknown output format %q; use wide, json or yaml", o.Output)
	}
	switch o.Color {
	case "auto", "always", "never":
	default:
		return usageErrorf(o.cmdPath, "unknown --color %q; use auto, always or never", o.Color)
	}
	if o.MinRisk != "" {
		if o.minRisk, err = catalog.ParseRisk(o.MinRisk); err != nil {
			return usageErrorf(o.cmdPath, "--min-risk: %v", err)
		}
	}
	if o.FailOn != "" {
		if o.failOn, err = catalog.ParseRisk(o.FailOn); err != nil {
			return usageErrorf(o.cmdPath, "--fail-on: %v", err)
		}
	}
	if len(o.Filenames) == 0 {
		return usageErrorf(o.cmdPath, "auditing the live cluster is not available in this build yet; audit manifests with -f FILE, -f DIR -R or -f -")
	}
	return nil
}

// Run reads the manifests, evaluates every container and prints the report.
func (o *AuditOptions) Run() error {
	rep := report.New()
	stats, err := manifest.Read(manifest.Options{Filenames: o.Filenames, Recursive: o.Recursive, Stdin: o.In},
		func(w manifest.Workload) error {
			o.auditWorkload(rep, &w)
			return nil
		})
	if err != nil {
		return &ExitError{Code: ExitInput, Err: err}
	}
	_ = stats
	return o.print(rep)
}

func (o *AuditOptions) auditWorkload(rep *report.Report, w *manifest.Workload) {
	ns := w.Namespace
	if ns == "" {
		ns = o.namespace
	}
	if ns == "" {
		ns = "default"
	}
	source := w.Source
	if w.Document > 0 {
		source = fmt.Sprintf("%s#%d", w.Source, w.Document)
	}
	o.auditor.Target(&audit.Target{
		Namespace:     ns,
		Workload:      report.WorkloadRef{Kind: w.Kind, Name: w.Name},
		Source:        source,
		Spec:          w.Spec,
		Meta:          &w.PodMeta,
		FieldPrefix:   w.FieldPrefix,
		Profile:       o.profile,
		UnknownFields: w.UnknownFields,
	}, func(it report.Item, _ *engine.Result) {
		rep.Items = append(rep.Items, it)
	})
}

func (o *AuditOptions) print(rep *report.Report) error {
	failed := 0
	kept := rep.Items[:0]
	for _, it := range rep.Items {
		if o.failOn != "" && it.RiskAtLeast(o.failOn) {
			failed++
		}
		if o.minRisk == "" || it.RiskAtLeast(o.minRisk) {
			kept = append(kept, it)
		}
	}
	rep.Items = kept
	switch o.Output {
	case printers.FormatJSON, printers.FormatYAML:
		if err := printers.WriteObject(o.Out, o.Output, rep); err != nil {
			return err
		}
	default:
		if len(rep.Items) > 0 {
			if err := printers.WriteAuditTable(o.Out, rep.Items, printers.AuditTableOptions{
				Wide: o.Output == printers.FormatWide, NoHeaders: o.NoHeaders, Color: o.color,
			}); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(o.ErrOut, "No containers found.")
		}
		writeWarnings(o.ErrOut, rep.Items)
	}
	if failed > 0 {
		return findingsError("%d container(s) hold capabilities at or above --fail-on=%s", failed, o.failOn)
	}
	return nil
}

// writeWarnings prints each spec warning once per workload container, on
// stderr so that stdout stays data.
func writeWarnings(w io.Writer, items []report.Item) {
	for _, it := range items {
		for _, warn := range it.Warnings {
			fmt.Fprintf(w, "Warning: %s/%s/%s: %s: %s\n", it.Namespace, it.Workload.Kind, it.Workload.Name, warn.Field, warn.Message)
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

var _ = errors.New
