package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/policyreport"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/sink/reports"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// reportNow stamps new and changed results; tests fix it.
var reportNow = time.Now

// --dry-run's values, as kubectl's.
var dryRuns = []string{"none", "client", "server"}

// ReportOptions holds the flags of `kubectl caps report`.
type ReportOptions struct {
	sourceOptions
	ReportAPI string
	DryRun    string
	Output    string
	output    *outputFlag
	genericiooptions.IOStreams
}

// NewCmdReport builds `kubectl caps report`.
func NewCmdReport(streams genericiooptions.IOStreams) *cobra.Command {
	o := &ReportOptions{sourceOptions: newSourceOptions(), ReportAPI: string(policyreport.WGPolicy), DryRun: dryRuns[0], IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "report [-n NAMESPACE | -A] [--report-api wgpolicyk8s|openreports] [--dry-run=none|client|server] | report -f FILENAME --dry-run=client",
		Short: "Write what audit finds as policy reports in the cluster",
		Long: `Write what audit finds into the cluster as policy reports, for Policy Reporter,
kubectl get policyreports -A and any other reader of the Policy Working Group's
reports (docs/fleet.md#reports-in-the-cluster). This is the only command that
writes, and it writes only these reports.

It audits the cluster as audit -A (or -n NAMESPACE) does, then writes one report
per namespace, named kubectl-caps and labelled
app.kubernetes.io/managed-by=kubectl-caps: a PolicyReport
(wgpolicyk8s.io/v1alpha2, the default) or, with --report-api openreports, a
Report (openreports.io/v1alpha1). Each holds one result per workload container
and rule (docs/findings.md): fail for an error, warn for a warning or a note,
skip when an allow annotation excepts every finding of it, severity from the
capability's risk, the workload (the owner, not the pod) as its resource, the
container and its capability sets in its properties; a container that breaks
no rule has one pass result. Its summary counts them. Every workload is
namespaced, so there is no ClusterPolicyReport.

Each report is applied server-side with the field manager kubectl-caps. A
result that has not changed keeps its timestamp, so a run that finds nothing
new changes nothing (not even the resourceVersion). Each report carries the
annotation caps.kubectl-caps.io/results-digest, a SHA-256 of its content
without timestamps: a run reads back only the reports' metadata and does not
send a report whose digest, labels and annotations are current and that
only kubectl-caps's apply manages. The reports of namespaces
in scope that have nothing left to report are deleted; no other object is
ever written or deleted. The CRD must be installed: report checks and says
which to install. It reports whole namespaces, so resource arguments, -l and
--field-selector are refused.

--dry-run=client prints the reports it would write (-o yaml or json, yaml
by default) and writes nothing; with -f or -k it needs no cluster.
--dry-run=server sends every write to the API server with dryRun=All, which
validates it against the CRD and persists nothing. Without -o, a line per
report says what was done: created, configured, unchanged or deleted.

deploy/ runs it in the cluster as a CronJob, with a ServiceAccount whose
ClusterRole allows exactly this (docs/fleet.md#install).

` + fleetHelp + `

` + exitCodesHelp,
		Example: `  # Write the reports of every namespace, and read them back
  kubectl caps report -A
  kubectl get policyreports -A

  # What would be written for the bundled examples, without a cluster
  kubectl caps report -f examples/ --dry-run=client -o yaml

  # OpenReports instead, checked by the API server but not written
  kubectl caps report -n shop --report-api openreports --dry-run=server`,
		RunE: runE(o),
	}
	o.addFlags(cmd, "report", false)
	f := cmd.Flags()
	f.StringVar(&o.ReportAPI, "report-api", o.ReportAPI, "The report kind to write: wgpolicyk8s (PolicyReport, wgpolicyk8s.io/v1alpha2) or openreports (Report, openreports.io/v1alpha1)")
	f.StringVar(&o.DryRun, "dry-run", o.DryRun, "none writes; client prints what it would write; server has the API server check every write without persisting it")
	o.output = addOutputFlag(cmd, &o.Output, "a line per report; yaml with --dry-run=client", printers.FormatYAML, printers.FormatJSON)
	_ = cmd.RegisterFlagCompletionFunc("report-api", fixedCompletion(policyreport.APIs...))
	_ = cmd.RegisterFlagCompletionFunc("dry-run", fixedCompletion(dryRuns...))
	return cmd
}

// Complete records the command line.
func (o *ReportOptions) Complete(c *cobra.Command, args []string) error {
	if o.Output == "" && o.DryRun == "client" {
		o.Output = printers.FormatYAML
	}
	return o.complete(c, args)
}

// Validate checks the flags; no API calls, no files.
func (o *ReportOptions) Validate() error {
	if err := o.validate(); err != nil {
		return err
	}
	switch {
	case len(o.args) > 0 || o.Selector != "" || o.FieldSelector != "":
		return usageErrorf(o.cmdPath, "report writes whole namespaces: resource arguments, -l and --field-selector would leave results out of them")
	case !o.live() && o.DryRun != "client":
		return usageErrorf(o.cmdPath, "-f and -k only print (--dry-run=client): a report in the cluster says what runs there")
	}
	if err := o.output.check(o.cmdPath); o.Output != "" && err != nil {
		return err
	}
	if err := oneOf(o.cmdPath, "--dry-run", o.DryRun, dryRuns...); err != nil {
		return err
	}
	return oneOf(o.cmdPath, "--report-api", o.ReportAPI, policyreport.APIs...)
}

// Run prints the reports of the manifests, or writes those of each
// context's cluster (pkg/sink/reports).
func (o *ReportOptions) Run() error {
	var items []report.Item
	var exc exception.Set
	add := func(t *workload.Target) { audit.Items(t, func(it report.Item) { items = append(items, it) }) }
	if !o.live() {
		err := o.readManifests(o.In, o.ErrOut, func(w *manifest.Workload, t *workload.Target) {
			es, _ := w.Allowances(t) // audit reports a malformed one
			exc.Entries = append(exc.Entries, es...)
			add(t)
		})
		if err != nil {
			return err
		}
		return o.write(reports.Offline(policyreport.API(o.ReportAPI)), items, exc)
	}
	return o.eachCluster(o.ErrOut, nil, func(r *clusterRead) error {
		items = nil
		r.col.Rollup.Each(add)
		es, err := r.col.Exceptions("")
		if err != nil {
			return &ExitError{Code: ExitInput, Err: err}
		}
		w, err := reports.Open(context.Background(), r.ConfigFlags, policyreport.API(o.ReportAPI), o.DryRun, r.lc.Namespace)
		if err != nil {
			return &ExitError{Code: ExitCluster, Err: err}
		}
		return o.write(w, items, exception.Set{Entries: es})
	})
}

// write builds the reports of the items, settled against the allow
// annotations, and writes them with w, which keeps the timestamps of
// unchanged results and, with --dry-run=client, returns them unsent.
func (o *ReportOptions) write(w *reports.Writer, items []report.Item, exc exception.Set) error {
	now := reportNow()
	fs := report.Settle(items, "", exc, nil, now).Findings
	w.Objects = o.Output != ""
	changes, err := w.Write(context.Background(), policyreport.Build(items, fs, policyreport.Options{Now: now, Namespace: o.namespace}))
	for i := 0; o.Output == "" && i < len(changes); i++ {
		fmt.Fprintln(o.Out, w.Describe(changes[i]))
	}
	if err != nil {
		return &ExitError{Code: ExitCluster, Err: err}
	}
	return o.print(reports.Objects(changes))
}

// print writes the reports as one kind: List, as kubectl get -o yaml
// does, when -o asks for them.
func (o *ReportOptions) print(objs []*unstructured.Unstructured) error {
	if o.Output == "" {
		return nil
	}
	return printers.WriteObject(o.Out, o.Output, map[string]any{"apiVersion": "v1", "kind": "List", "items": objs})
}
