package cmd

import (
	"cmp"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-caps/kubectl-caps/pkg/audit"
	"github.com/kubectl-caps/kubectl-caps/pkg/exception"
	"github.com/kubectl-caps/kubectl-caps/pkg/policy"
	"github.com/kubectl-caps/kubectl-caps/pkg/printers"
	"github.com/kubectl-caps/kubectl-caps/pkg/source/manifest"
	"github.com/kubectl-caps/kubectl-caps/pkg/workload"
)

// policyNow is when a policy is generated, for its header; tests fix it.
var policyNow = time.Now

// PolicyOptions holds the flags of `kubectl caps policy`.
type PolicyOptions struct {
	sourceOptions
	policy.Flags
	exceptionFlags

	opts policy.Options
	genericiooptions.IOStreams
}

// NewCmdPolicy builds `kubectl caps policy`.
func NewCmdPolicy(streams genericiooptions.IOStreams) *cobra.Command {
	o := &PolicyOptions{sourceOptions: newSourceOptions(), IOStreams: streams, Flags: policy.Flags{
		Mode: policy.ModeObserved, Scope: policy.ScopeNamespace, Action: policy.ActionDeny}}
	cmd := &cobra.Command{
		Use:   "policy --format vap|kyverno|scc|psa [TYPE[/NAME] ...] [-n NAMESPACE | -A] [-l SELECTOR] | policy --format FORMAT -f FILENAME | -k DIR",
		Short: "Print admission policies that keep the capabilities the audit found",
		Long: `Print admission policies that lock in what the audit found, so that the next
deployment cannot add SYS_ADMIN back. It reads the same sources as audit and
never writes to the cluster: the output is YAML to review and kubectl apply
(vap, kyverno, scc), or kubectl label commands to review and run (psa).

Formats:
  vap  a ValidatingAdmissionPolicy and its ValidatingAdmissionPolicyBinding
       (admissionregistration.k8s.io/v1, Kubernetes 1.30 or later) per
       namespace (--scope cluster: one for the cluster). The binding selects
       the namespace by its kubernetes.io/metadata.name label. The policy
       matches Pods on create, pods/ephemeralcontainers (kubectl debug) and
       Deployments, StatefulSets, DaemonSets, ReplicaSets,
       ReplicationControllers, Jobs and CronJobs on create and update, and
       checks containers, initContainers and ephemeralContainers. Its CEL
       refuses, naming the container and the capability:
         - an add or drop entry that is not "ALL" or a capability name in upper
           case without CAP_ (containerd ignores CAP_SYS_ADMIN, CRI-O grants
           it; Pod Security Admission compares exact strings, so "all" in
           drop is not ALL to it);
         - an added capability the mode does not allow;
         - privileged: true, where the mode forbids it;
         - a drop without "ALL", where the mode requires it.
       --action sets the binding's validationActions: deny (Deny), warn (Warn)
       or audit (Audit).
  kyverno  a Kyverno Policy per namespace (--scope cluster: one
       ClusterPolicy), kyverno.io/v1, background scanning on, whose one
       validate rule runs the CEL of vap (validate.cel), so both refuse the
       same objects. It matches Pods (and their ephemeral containers) and
       the seven pod-template kinds itself; Kyverno's autogen is off. The
       capability-spelling annotation says how names are read. --action:
       deny (failureAction Enforce), warn (Audit, with warnings to the
       client) or audit (Audit).
  scc  OpenShift SecurityContextConstraints (security.openshift.io/v1) per
       namespace (--scope cluster: one), with allowedCapabilities (exact
       strings, as OpenShift compares them), requiredDropCapabilities (ALL
       where the mode requires it: the SCC adds it), defaultAddCapabilities
       [] and allowPrivilegedContainer; host access as the workloads use it
       (observed) or none (baseline, restricted); user, SELinux and group
       strategies RunAsAny. Plus a ClusterRole granting use of it and a
       RoleBinding per namespace to the service accounts of the workloads
       it covers. Each --allow becomes an SCC of its own, bound to that
       workload's service account. No --action: an SCC only admits or refuses.
  psa  per namespace, the highest Pod Security Standards level (privileged,
       baseline, restricted) that every pod meets, judged on the whole pod
       by Pod Security Admission's own evaluator
       (k8s.io/pod-security-admission/policy, every check), the workloads
       and checks that block the next level, and the kubectl label command
       that enforces the level and warns and audits at the next one.

Modes (vap, kyverno, scc):
  observed    (default) allow exactly the capabilities the audited workloads
              of the namespace add today, require drop ALL where every one of
              them drops ALL, refuse privileged where none is privileged.
              The policy admits every workload it was generated from, except
              those that write capability names otherwise (CAP_SYS_ADMIN,
              "all"): they are listed in the output and on stderr.
  baseline    the Pod Security Standards baseline capability rules: add only
              what baseline allows (taken from Pod Security Admission's own
              check), no privileged.
  restricted  restricted's: drop ALL, add only NET_BIND_SERVICE, no
              privileged; Windows pods exempt, as in Pod Security Admission.
In baseline and restricted modes the current containers the policy would
reject are listed, so that it can be rolled out namespace by namespace with
exceptions.

--allow=[NAMESPACE/]KIND/NAME[:CONTAINER]=CAP,... lets one workload (or one of
its containers) add more, with the selector of suggest-drop's --keep; the
policy applies it to the workload, the ReplicaSets and Jobs it creates, and
their Pods (found by their ownerReferences). Repeatable. An allowance that
selects no audited container, or names an unknown capability, is a usage
error (exit 2).

Recorded exceptions (docs/exceptions.md) become the same allowances: the
caps.kubectl-caps.io/allow annotation of every workload read, and the
entries of --exceptions FILE (repeatable). Globs are expanded against the
workloads read; expired entries, and entries that select no workload read,
are left out with a warning; an entry with no capabilities, or with a rule
other than CAPS001-CAPS004, cannot be a policy's allowance and is an error
(exit 3). The policy's comments give each allowance's origin and reason.

` + manifestsHelp + "\n\n" + fleetHelp + `

A policy generated from a partial read would reject what was not read: when
any manifest cannot be read, nothing is printed (exit 3).

` + exitCodesHelp,
		Example: `  # Lock in what the bundled examples do today, one policy per namespace
  kubectl caps policy --format vap -f examples/ -R

  # The restricted capability rules for one namespace, warning only, with an exception
  kubectl caps policy --format vap --mode restricted --action warn -n shop \
    --allow shop/deploy/web:proxy=NET_ADMIN

  # The same, allowing what a reviewed exceptions file and the annotations record
  kubectl caps policy --format vap --mode restricted -n shop --exceptions caps-exceptions.yaml

  # Apply it after review
  kubectl caps policy --format vap -n shop > caps-policy.yaml && kubectl apply -f caps-policy.yaml

  # The same as a Kyverno ClusterPolicy, and as OpenShift SCCs with their RBAC
  kubectl caps policy --format kyverno --scope cluster -A
  kubectl caps policy --format scc -n shop

  # The Pod Security Admission level every namespace's pods already meet
  kubectl caps policy --format psa -A`,
		RunE: runE(o),
	}
	o.addFlags(cmd, "read", false)
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "", "What to print: "+strings.Join(policy.Formats, " or ")+" (required)")
	f.StringVar(&o.Mode, "mode", o.Mode, "vap, kyverno, scc: which capabilities to allow: "+strings.Join(policy.Modes, ", "))
	f.StringVar(&o.Scope, "scope", o.Scope, "vap, kyverno, scc: one policy per namespace or one for the cluster: "+strings.Join(policy.Scopes, ", "))
	f.StringVar(&o.Action, "action", o.Action, "vap, kyverno: what the policy does with a rejected object: "+strings.Join(policy.Actions, ", "))
	f.StringArrayVar(&o.Allow, "allow", nil, "vap, kyverno, scc: let one workload's containers add more: "+policy.AllowForm+", e.g. --allow=shop/deploy/web:proxy=NET_ADMIN; repeatable")
	f.StringArrayVar(&o.ExceptionFiles, "exceptions", nil, "vap, kyverno, scc: a file of exceptions (docs/exceptions.md) whose entries become allowances as --allow's do, besides the workloads' allow annotations; repeatable")
	for name, values := range map[string][]string{"format": policy.Formats, "mode": policy.Modes, "scope": policy.Scopes, "action": policy.Actions} {
		_ = cmd.RegisterFlagCompletionFunc(name, fixedCompletion(values...))
	}
	return cmd
}

// Complete records the command line and which vap-only flags were given.
func (o *PolicyOptions) Complete(c *cobra.Command, args []string) error {
	for _, name := range []string{"mode", "scope", "action", "allow", "exceptions"} {
		if c.Flags().Changed(name) {
			o.VAPOnly = append(o.VAPOnly, "--"+name)
		}
	}
	return o.complete(c, args)
}

// Validate checks the flags; no API calls, no files.
func (o *PolicyOptions) Validate() error {
	if err := o.validate(); err != nil {
		return err
	}
	var err error
	if o.opts, err = o.Parse(); err != nil {
		return usageErrorf(o.cmdPath, "%v", err)
	}
	return nil
}

// Run reads the workloads as audit does and prints the policy: one for the
// cluster of each context (docs/fleet.md), each headed by its context.
func (o *PolicyOptions) Run() error {
	var targets []*workload.Target
	var cs []policy.Container
	var ann []exception.Entry // the allow annotations of the workloads read
	if err := o.readExceptions(); err != nil {
		return err
	}
	visit := func(t *workload.Target) {
		targets = append(targets, t)
		audit.Each(t, func(c *audit.Container) { cs = append(cs, policy.FromAudit(c)) })
	}
	src := printers.PolicySource{Filenames: o.Filenames, Kustomize: o.Kustomize, Recursive: o.Recursive, Namespace: o.namespace,
		AllNamespaces: o.AllNamespaces, Selector: o.Selector, Args: o.args}
	if o.live() {
		return o.eachCluster(o.ErrOut, nil, func(r *clusterRead) (err error) {
			targets, cs = nil, nil
			r.col.Rollup.Each(visit)
			if ann, err = r.col.Exceptions(""); err != nil {
				return &ExitError{Code: ExitInput, Err: err}
			}
			src.Host, src.ContextNamespace, src.Context = r.lc.Host, r.lc.Namespace, r.name
			return o.write(targets, cs, ann, src, r.sourceOptions, r.errOut)
		})
	}
	if err := o.readManifests(o.In, o.ErrOut, func(w *manifest.Workload, t *workload.Target) {
		visit(t)
		ann = append(ann, o.annotations(w.Allowances(t))...)
	}); err != nil || o.annErr != nil {
		return cmp.Or(err, o.annErr)
	}
	return o.write(targets, cs, ann, src, &o.sourceOptions, o.ErrOut)
}

// write prints the policy of one source; s gives -o psa's kubectl flags.
func (o *PolicyOptions) write(targets []*workload.Target, cs []policy.Container, ann []exception.Entry, src printers.PolicySource, s *sourceOptions, errOut io.Writer) error {
	origin := printers.PolicyOrigin{Command: "kubectl caps policy --format " + o.Format, Source: src, At: policyNow()}
	if o.Format == policy.FormatPSA {
		return printers.WritePSA(o.Out, policy.PSA(targets), s.kubectlFlags(), origin)
	}
	opts, notes, err := o.opts.WithExceptions(o.exc.Entries, ann, cs, origin.At)
	if err != nil {
		return &ExitError{Code: ExitInput, Err: err}
	}
	printers.WritePolicyNotes(errOut, notes)
	ps, err := policy.Build(cs, opts)
	if err != nil {
		return usageErrorf(o.cmdPath, "%v", err)
	}
	return printers.WritePolicies(o.Out, errOut, o.Format, ps, o.Mode, o.Scope, o.Action, origin)
}
