package cmd

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/catalog"
	"github.com/kubectl-caps/kubectl-caps/pkg/finding"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/report"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// AuditOptions holds the flags of `kubectl caps audit`.
type AuditOptions struct {
	sourceOptions
	evidenceFlags
	exceptionFlags

	Output        string
	NoHeaders     bool
	MinRisk       string
	FailOn        string
	Color         string
	SortBy        string
	Capabilities  []string
	Annotations   string
	ReportVersion string

	sel     report.Selection
	failOn  catalog.Risk
	color   bool
	output  *outputFlag
	printer printers.ReportPrinter
	// width is what the default table is fitted to; 0 until print asks
	// the terminal (printers.TerminalWidth).
	width int
	// annotate: --annotations, decided (printers.AnnotationsOn).
	annotate bool

	genericiooptions.IOStreams
}

// NewAuditOptions returns options with the defaults.
func NewAuditOptions(streams genericiooptions.IOStreams) *AuditOptions {
	return &AuditOptions{
		sourceOptions: newSourceOptions(),
		Color:         "auto",
		ReportVersion: report.Version1,
		IOStreams:     streams,
	}
}

// NewCmdAudit builds `kubectl caps audit`.
func NewCmdAudit(streams genericiooptions.IOStreams) *cobra.Command {
	o := NewAuditOptions(streams)
	cmd := &cobra.Command{
		Use:   "audit [TYPE[/NAME] ...] [-n NAMESPACE | -A] [-l SELECTOR] | audit -f FILENAME | audit -k DIR",
		Short: "Show the capabilities each container really holds, with their risk",
		Long: `Show, per workload and container, the Linux capabilities the container really
holds, each annotated with its risk from the catalog.

The computation follows the container runtime: its default set (containerd and
Docker grant 14, CRI-O 9), how it reads capabilities.add and drop (containerd
puts "CAP_" in front of every name, so CAP_NET_RAW in drop drops nothing), ALL,
privileged, the user the process runs as (non-root processes hold nothing after
exec) and allowPrivilegeEscalation.

Without -f or -k, audit reads the cluster of the current kubeconfig context, like
kubectl: the current namespace, -n NAMESPACE, or -A for all; -l and
--field-selector filter pods; arguments name what to audit (pod/NAME,
deploy/NAME, ds/NAME, sts/NAME, job/NAME, cronjob/NAME, ns/NAME, or a type
such as deployments): a workload audits its pods. Each pod is judged with the
runtime of the node it runs on (status.nodeInfo.containerRuntimeVersion);
pending pods and unknown runtimes use containerd, or --runtime. An explicit
--runtime overrides every pod's node runtime, to ask "what if these pods ran
on CRI-O"; a warning names the node runtimes it contradicts. The pods of one workload
with the same spec are one row with a PODS count (--per-pod shows each pod
on its own row, named in a POD column).
A controller none of whose pods exists (a Deployment scaled to zero, a CronJob
between runs, a DaemonSet whose nodes are gone) is audited from its pod
template, on each runtime the nodes report, with PODS 0 (POD "(no pods)" with
--per-pod; "fromTemplate": true in JSON); -l selects templates by their labels;
--field-selector selects pods only, so no template is read with it.
Only get and list are used. Pods are required; the rest is optional and the
audit degrades with a warning when it is forbidden: nodes (runtimes),
replicasets and jobs (owners), and deployments, statefulsets, daemonsets,
replicasets, replicationcontrollers, jobs and cronjobs (controllers without
pods).

` + manifestsHelp + "\n\n" + fleetHelp + `

Columns: NAMESPACE, WORKLOAD (as kubectl takes it: deploy/NAME, sts/NAME,
ds/NAME, rs/NAME, rc/NAME, pod/NAME, job/NAME, cronjob/NAME; other kinds by
their kind), CONTAINER, PODS in a live audit (how many pods the row stands
for; "(with ephemeral)" marks pods whose ephemeral container, e.g. from
kubectl debug, splits them from their siblings), RUNTIME when some workload's
pods run on several runtimes or releases (a row for each), MAX-RISK (the highest risk among what the container
holds or can regain without an exploit: a non-root container gets its
bounding set back through any setuid-root binary unless
allowPrivilegeEscalation is false; raised by hostPID, hostNetwork, hostIPC
or a mounted hostPath where that matters), with its reason: the capability
that gives it, how a non-root container gets it, and what raised it, e.g.
"high (NET_ADMIN via file caps)", "high (NET_RAW via setuid)", "critical
(NET_RAW with hostNetwork)"), EFFECTIVE (what the first process holds: how
many, riskiest first, e.g. "14 (NET_RAW, DAC_OVERRIDE, MKNOD +11)"; ALL, or
"ALL except ..." where that is shorter; "(not started)" when the runtime or
the kubelet refuses the container).

The table fits the terminal's width, or 120 columns when stdout is not a
terminal, by naming fewer capabilities before "+N" (at most 3), then by
shortening MAX-RISK's reason to the capability, then to the risk alone.
Names of namespaces, workloads and containers are never cut: when they alone
are wider, the lines are too. -o wide adds USER (root, nonroot or unknown,
with the UID; an unknown user is audited as root), shows MAX-RISK's reason
in full, lists EFFECTIVE in full, and adds BOUNDING, RUNTIME, PSS-CAPS (the highest
Pod Security Standard whose capability rules the container meets: only the
capability rules, so a privileged or hostPID pod may still be restricted
here; kubectl label --dry-run=server ns pod-security.kubernetes.io/enforce=...
judges the whole pod), ADDED, DROPPED and the number of WARNINGS.

Warnings about the spec go to stderr, one line each: with -f, FILE:LINE of
the field (or of the nearest part of it the manifest writes); the namespace,
workload and container as the table names them; the field path; what is
wrong, in short. A line that several rows of one workload share is printed
once. -o wide adds the full explanation under each line; JSON and YAML carry
both (summary, message) and the location. Then one line counts the rows:
workloads, containers, containers by MAX-RISK and by PSS capability rules.

Rows come in the order read: manifests file by file and object by object; a
live cluster in the order the API server lists the pods (by namespace, then
name; argument by argument), the controllers without pods last.
--sort-by=risk puts the highest MAX-RISK first, then orders by namespace,
workload and container; --sort-by=namespace and --sort-by=workload order by
those names. --capability=NET_RAW,SYS_ADMIN shows only the containers that
hold any of those capabilities as MAX-RISK counts them: held after exec, or
regainable by a non-root process through a setuid-root binary or, when the
manifest adds it, through file capabilities (docs/report.md); names in any
case, with or without CAP_. --min-risk shows only the containers at or above
a risk. --fail-on counts only the containers shown.

--evidence FILE|DIR|- (repeatable) compares what each container holds with
what Inspektor Gadget's trace_capabilities traces saw it use
(docs/evidence.md): the table adds USED (an audited check the kernel
allowed) and DENIED (refused: wanted, not held), -o wide UNUSED (held and
never used), "(no events)" for a container the traces never saw; JSON and
YAML add an evidence object per item. A capability the traces show allowed
that the container cannot hold by this audit is a MODEL DISAGREEMENT warning
on stderr, never merged. A line of a trace that is no event is an input
error (exit 3), unless --evidence-skip-invalid.

Besides the table, -o takes the formats of kubectl get: json and yaml (the
CapabilityReport, docs/report.md); name, one line per workload in kubectl's
form (deployment.apps/web, pod/web; no namespace, as kubectl writes it; a
custom resource is left out with a note), to pipe into kubectl get -n
NAMESPACE; jsonpath=TEMPLATE, jsonpath-file=FILE and
jsonpath-as-json=TEMPLATE over the report ('{.items[*].workload.name}'); and
custom-columns=SPEC or custom-columns-file=FILE over each row
(NS:.namespace,WORKLOAD:.workload.name,RISK:.maxRisk), with --no-headers. A
live audit streams json and yaml in the order read; --sort-by and the other
formats hold the whole report in memory first. --report-version v1alpha2
prints the lean CapabilityReport: each capability's catalog risk and
recommendation once per document, and per container only the findings that
differ from them (a raised risk, an explicit add); half the bytes of
v1alpha1, the default, with nothing lost (docs/report.md).

For CI and code review (docs/findings.md), -o sarif (SARIF 2.1.0, for GitHub
code scanning), -o junit (JUnit XML, for GitLab and Jenkins) and -o github
(GitHub Actions workflow commands, shown as annotations on the pull request)
print the findings of the containers shown: each with a rule id (CAPS001...),
the file, line and column of the node that causes it (the add entry,
privileged: true, the drop list or the container where something is
missing), and a fingerprint that survives unrelated edits. Files are named
relative to the current directory. A finding at or above --fail-on is an
error; the risk findings start at high (lower with a lower --fail-on).
--annotations=always also writes the findings as annotations to stderr
beside any -o format; a bare --annotations (auto) does so only when
GITHUB_ACTIONS=true, so one command serves a workflow and a terminal.

Exceptions and a baseline (docs/exceptions.md): --exceptions FILE and a
workload's caps.kubectl-caps.io/allow annotation ('CONTAINER: CAP,CAP;
reason: WHY') record which capabilities or rules a workload is allowed and
why; --baseline FILE (written by --write-baseline) accepts today's
findings. Excepted and known findings are still printed, with their
reason, but only open ones count for --fail-on; expired and unused
exceptions and fixed baseline entries are reported on stderr.

` + exitCodesHelp,
		Example: `  # Every pod in the cluster, one row per workload container
  kubectl caps audit -A

  # One deployment and one namespace, as JSON
  kubectl caps audit deploy/web ns/monitoring -o json

  # Pods with a label, each pod on its own row, on a known runtime
  kubectl caps audit -n shop -l app=web --per-pod --runtime cri-o

  # Audit the bundled examples, no cluster needed
  kubectl caps audit -f examples/ -R

  # What a Helm chart's containers would hold on CRI-O
  helm template my-release ./chart | kubectl caps audit -f - --runtime cri-o

  # A whole repository (files that are not manifests are skipped with a note),
  # and what a kustomize overlay renders
  kubectl caps audit -f . -R
  kubectl caps audit -k overlays/prod

  # Fail a CI job when any container holds a high or critical capability
  kubectl caps audit -f deploy/ -R --fail-on=high

  # The riskiest containers first, and only those that can use NET_RAW or SYS_ADMIN
  kubectl caps audit -A --sort-by=risk --capability=NET_RAW,SYS_ADMIN

  # The workloads of a namespace that hold SYS_ADMIN, as kubectl names them
  kubectl get -n shop $(kubectl caps audit -n shop --capability=SYS_ADMIN -o name)

  # Your own columns, as with kubectl get
  kubectl caps audit -f examples/ -o custom-columns=NS:.namespace,WORKLOAD:.workload.name,CONTAINER:.container,RISK:.maxRisk

  # What the containers used, from an Inspektor Gadget trace
  kubectl caps audit -n shop --evidence caps.jsonl -o wide
  # Findings for GitHub code scanning, and annotations in the job's log
  kubectl caps audit -f deploy/ -R --fail-on=high -o sarif > caps.sarif
  kubectl caps audit -f deploy/ -R --fail-on=high --annotations

  # Machine-readable report
  kubectl caps audit -f deploy.yaml -o json | jq '.items[] | select(.privileged)'`,
		RunE: runE(o),
	}
	o.addFlags(cmd, "audit", true)
	o.addEvidenceFlags(cmd)
	o.addExceptionFlags(cmd)
	o.output = addOutputFlag(cmd, &o.Output, "table", printers.FormatWide, printers.FormatJSON, printers.FormatYAML, printers.FormatName,
		printers.FormatJSONPath, printers.FormatJSONPathFile, printers.FormatJSONPathAsJSON, printers.FormatCustomColumns, printers.FormatCustomColumnsFile,
		printers.FormatSARIF, printers.FormatJUnit, printers.FormatGitHub)
	f := cmd.Flags()
	f.BoolVar(&o.NoHeaders, "no-headers", false, "Print the table (or -o custom-columns) without its header line")
	f.StringVar(&o.MinRisk, "min-risk", "", "Show only containers whose MAX-RISK is at least this: low, medium, high or critical")
	f.StringSliceVar(&o.Capabilities, "capability", nil, "Show only containers that hold any of these capabilities, as MAX-RISK counts them (effective, or regainable through setuid or, when added, file capabilities), e.g. NET_RAW,SYS_ADMIN; repeatable")
	f.StringVar(&o.SortBy, "sort-by", "", "Order of the rows: risk (MAX-RISK, highest first), namespace or workload (default: the order read)")
	f.StringVar(&o.FailOn, "fail-on", "", "Exit with code 1 when any container shown has a MAX-RISK at least this: low, medium, high or critical")
	f.StringVar(&o.Annotations, "annotations", "never", "Also write each finding as a GitHub Actions annotation to stderr: always, never, or auto (a bare --annotations: only when GITHUB_ACTIONS=true)")
	f.Lookup("annotations").NoOptDefVal = "auto"
	f.StringVar(&o.ReportVersion, "report-version", o.ReportVersion, "Version of the CapabilityReport that -o json, yaml, jsonpath and custom-columns print: v1alpha1, or v1alpha2 (the catalog's risk and recommendation once per document, findings only where they differ; docs/report.md)")
	_ = cmd.RegisterFlagCompletionFunc("report-version", fixedCompletion(report.Versions...))
	addColorFlag(cmd, &o.Color, "the capabilities in the table")
	for _, name := range []string{"min-risk", "fail-on"} {
		_ = cmd.RegisterFlagCompletionFunc(name, fixedCompletion("low", "medium", "high", "critical"))
	}
	_ = cmd.RegisterFlagCompletionFunc("sort-by", fixedCompletion(report.Orders...))
	_ = cmd.RegisterFlagCompletionFunc("capability", completeWith(catalog.CompleteList))
	return cmd
}

// Complete records the command line and parses the flag values.
func (o *AuditOptions) Complete(c *cobra.Command, args []string) error {
	if err := o.complete(c, args); err != nil {
		return err
	}
	var err error
	if o.sel, err = report.ParseSelection(o.MinRisk, o.Capabilities, o.SortBy); err != nil {
		return usageErrorf(o.cmdPath, "%v", err)
	}
	if o.printer, err = printers.NewReportPrinter(o.Output, o.NoHeaders, o.ReportVersion); err != nil {
		return usageErrorf(o.cmdPath, "-o: %v", err)
	}
	if o.FailOn != "" {
		if o.failOn, err = catalog.ParseRisk(o.FailOn); err != nil {
			return usageErrorf(o.cmdPath, "--fail-on: %v", err)
		}
	}
	o.color = printers.ColorFor(o.Color, o.Out)
	o.annotate = printers.AnnotationsOn(o.Annotations, os.Getenv("GITHUB_ACTIONS"))
	return nil
}

// Validate checks the flags; it makes no API calls and reads no files.
func (o *AuditOptions) Validate() error {
	if err := o.validate(); err != nil {
		return err
	}
	if err := o.output.check(o.cmdPath); err != nil {
		return err
	}
	if err := oneOf(o.cmdPath, "--annotations", o.Annotations, printers.AnnotationModes...); err != nil {
		return err
	}
	if err := oneOf(o.cmdPath, "--report-version", o.ReportVersion, report.Versions...); err != nil {
		return err
	}
	return oneOf(o.cmdPath, "--color", o.Color, colorValues...)
}

// Run audits the manifests given with -f or -k, or else the live cluster.
func (o *AuditOptions) Run() error {
	if err := o.readEvidence(&o.sourceOptions, o.In, o.ErrOut); err != nil {
		return err
	}
	if err := o.readExceptions(); err != nil {
		return err
	}
	if o.live() {
		if o.settling() {
			o.needsOne = "--exceptions, --baseline and --write-baseline read"
		}
		return o.runLive()
	}
	rep := report.New()
	err := o.readManifests(o.In, o.ErrOut, func(w *manifest.Workload, t *workload.Target) {
		o.exc.Entries = append(o.exc.Entries, o.annotations(w.Allowances(t))...)
		o.index.AddWorkload(t.Namespace, t.Workload)
		audit.Items(t, func(it report.Item) { rep.Items = append(rep.Items, it) })
	})
	var partial *partialError
	if err != nil && !errors.As(err, &partial) {
		return err
	}
	if o.annErr != nil {
		return o.annErr
	}
	j := report.NewJoined(o.traces.Result())
	for i := range rep.Items {
		j.Add(&rep.Items[i])
	}
	defer printers.WriteEvidenceEnd(o.ErrOut, j)
	return afterOutput(err, o.print(rep))
}

// runLive audits the cluster of each context (docs/fleet.md), each sorted,
// filtered and summed on its own. JSON and YAML are one document streamed
// item by item (printers.ReportStream), a namespace at a time as the pods
// are read, so memory does not grow with the cluster (docs/benchmarks.md):
// one context's straight out, several contexts' each into a spool until
// its turn, so a failed LIST prints nothing of it. --sort-by, --evidence
// and any other output hold a cluster's report; --fail-on counts all.
func (o *AuditOptions) runLive() error {
	s, _ := printers.NewVersionedReportStream(o.Out, o.Output, o.ReportVersion) // nil for the other formats
	defer s.DiscardSpools()
	failed, tables := 0, 0
	var ci []report.Item // -o sarif, junit, github: one document for every cluster
	held := s == nil || o.sel.Order != report.OrderRead || o.annotate || o.settling() || o.index != nil
	rows := func(r *clusterRead, j *report.Joined, rep *report.Report) func(*workload.Target) {
		r.spool = cmp.Or(r.spool, s.Spool(r.name != "")) // several contexts: ahead of its turn
		return func(t *workload.Target) {
			audit.Items(t, func(it report.Item) {
				j.Add(&it)
				if it.Cluster = r.name; held {
					rep.Items = append(rep.Items, it)
				} else if r.werr == nil && o.sel.Keep(&it) {
					r.failed += report.CountAtLeast(o.failOn, it)
					r.werr = r.spool.Write(&it)
				}
			})
		}
	}
	if !held {
		o.flush = func(r *clusterRead, roll *workload.Rollup) error { roll.Each(rows(r, nil, nil)); return r.werr }
	}
	err := o.eachCluster(o.ErrOut, nil, func(r *clusterRead) error {
		if err := o.liveAllowances(r); err != nil {
			return err
		}
		rep := report.New()
		// The traces are joined once the pods are read: the index they
		// resolve pods with is filled by the collection.
		j := report.NewJoined(o.traces.Result())
		defer printers.WriteEvidenceEnd(r.errOut, j)
		if failed += r.failed; r.col.Rollup != nil {
			r.col.Rollup.Each(rows(r, j, rep))
		}
		if rep.Items = o.sel.Apply(rep.Items); printers.IsCIFormat(o.Output) {
			ci = append(ci, rep.Items...)
			return o.failing(&failed, rep.Items, r.errOut)
		} else if s == nil {
			if tables += min(len(rep.Items), 1); tables > 1 && len(rep.Items) > 0 && o.printer == nil {
				fmt.Fprintln(o.Out)
			}
			view := *o
			view.ErrOut, view.failOn = r.errOut, ""
			return cmp.Or(o.failing(&failed, rep.Items, nil), view.print(rep))
		}
		werr := cmp.Or(s.Append(r.spool), o.failing(&failed, rep.Items, r.errOut))
		for i := 0; i < len(rep.Items) && werr == nil; i++ { // held for --sort-by
			werr = s.Write(&rep.Items[i])
		}
		if werr == nil && o.annotate {
			werr = printers.WriteCI(r.errOut, printers.FormatGitHub, rep.Items, o.ciFindings(rep.Items), printers.CIOptions{Version: version, Baseline: o.base != nil})
		}
		return werr
	})
	if ee := (*ExitError)(nil); printers.IsCIFormat(o.Output) && (err == nil || errors.As(err, &ee) && ee.Code == ExitPartial) {
		if werr := printers.WriteCI(o.Out, o.Output, ci, o.ciFindings(ci), printers.CIOptions{Version: version, Baseline: o.base != nil}); werr != nil {
			return werr
		}
	}
	// Closed unless nothing was written of a run that failed (a cluster
	// error, not a write error): a partial or --fail-fast run is valid JSON.
	if ee := (*ExitError)(nil); s != nil && (err == nil || errors.As(err, &ee) && (ee.Code == ExitPartial || s.Started())) {
		if cerr := s.Close(); cerr != nil {
			return cerr
		}
	}
	return afterClusters(err, o.failed(failed))
}

// failed is the --fail-on error for that many containers.
func (o *AuditOptions) failed(n int) error {
	if n == 0 {
		return nil
	}
	return findingsError("%d container(s) hold capabilities at or above --fail-on=%s", n, o.failOn)
}

func (o *AuditOptions) print(rep *report.Report) error {
	rep.Items = o.sel.Apply(rep.Items)
	structured := o.Output == printers.FormatJSON || o.Output == printers.FormatYAML || printers.IsCIFormat(o.Output)
	// Files in the CI formats are named relative to where the job runs:
	// the repository's checkout (docs/findings.md).
	root, _ := os.Getwd()
	ci := printers.CIOptions{Version: version, Root: root, Baseline: o.base != nil}
	// Settled against --fail-on (o.failOn is "" in a cluster's view), the
	// exceptions and the baseline, when anything asks for findings.
	var st finding.Settled
	var err error
	if printers.IsCIFormat(o.Output) || o.annotate || o.settling() {
		st, err = o.settle(rep.Items, o.FailOn)
	}
	switch {
	case err != nil:
	case printers.IsCIFormat(o.Output):
		err = printers.WriteCI(o.Out, o.Output, rep.Items, st.Findings, ci)
	case structured:
		err = printers.WriteReport(o.Out, o.Output, o.ReportVersion, rep.Items)
	case o.printer != nil:
		err = o.printer(o.Out, o.ErrOut, rep)
	case len(rep.Items) > 0:
		if o.width == 0 {
			o.width = printers.TerminalWidth(o.Out)
		}
		err = printers.WriteAuditTable(o.Out, rep.Items, printers.AuditTableOptions{
			Wide: o.Output == printers.FormatWide, NoHeaders: o.NoHeaders, Color: o.color,
			ShowPods: o.live(), PerPod: o.PerPod, Width: o.width, Evidence: len(o.Evidence) > 0,
		})
	}
	if err == nil && o.annotate && o.Output != printers.FormatGitHub {
		err = printers.WriteCI(o.ErrOut, printers.FormatGitHub, rep.Items, st.Findings, ci)
	}
	if err == nil && o.settling() {
		printers.WriteSettled(o.ErrOut, st, o.WriteBaseline)
	}
	// Then stderr, as kubectl get: why there is no row, or the warnings
	// and, last, so that a terminal shows it under them, the summary.
	switch {
	case err != nil:
		return err
	case structured:
	case len(rep.Items) == 0 && o.sel.Filtered():
		fmt.Fprintf(o.ErrOut, "No containers %s.\n", o.sel)
	case len(rep.Items) == 0 && o.live():
		fmt.Fprintln(o.ErrOut, "No pods or controllers found.")
	case len(rep.Items) == 0:
		// readManifests has said why: no workloads in the input.
	case o.printer == nil:
		printers.WriteWarnings(o.ErrOut, rep.Items, o.Output == printers.FormatWide)
		if err := printers.WriteAuditSummary(o.ErrOut, rep.Items); err != nil {
			return err
		}
	}
	if o.settling() && o.failOn != "" {
		return o.failed(finding.Failing(st.Findings))
	}
	return o.failed(report.CountAtLeast(o.failOn, rep.Items...))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
