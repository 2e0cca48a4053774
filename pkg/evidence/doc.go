// Package evidence reads the capability checks that Inspektor Gadget's
// trace_capabilities recorded and sums them per container: which
// capabilities a workload used (an audited check the kernel allowed), which
// it wanted and was denied, and over which window, so that a drop list can
// rest on what the workload did rather than on what is usually safe.
//
// It takes streams and returns values: no clients, no printers. The
// command layer opens the --evidence paths (ReadPaths), fills the
// Resolver from the cluster or the manifests, and joins Result with the
// engine's verdicts (Container.Unused, Container.Disagreements).
//
// The shapes it reads, auto-detected per object, and the upstream files
// that define them (github.com/inspektor-gadget/inspektor-gadget):
//
//   - the image-based gadget, v0.30.0 and later: gadgets/trace_capabilities
//     (program.bpf.c, struct cap_event; gadget.yaml), with the enrichment
//     of pkg/types/types.go (CommonData: k8s{node, namespace, podName,
//     containerName, podLabels, owner{kind, name}} and runtime{...}) and
//     pkg/operators/ebpf/types/types.go (Process: proc{comm, pid, tid,
//     mntns_id, creds{uid, gid}, parent{...}}, v0.35.0 and later). cap is
//     the enum's name "CAP_SYS_NICE" and cap_raw its number; capable is
//     the kernel's verdict; audit is 1, or 0 for CAP_OPT_NOAUDIT; syscall
//     is "SYS_SETPRIORITY" and timestamp an RFC 3339 string
//     (pkg/operators/formatters/formatters.go).
//   - the built-in gadget, up to v0.41.x (removed in v0.42.0):
//     pkg/gadgets/trace/capabilities/types/types.go (Event: cap, capName
//     "SYS_NICE", verdict "Allow"/"Deny", audit, caps, capsNames,
//     syscall "setpriority"; cap and audit are omitted when 0) and
//     pkg/types/types.go (Event: timestamp in nanoseconds, type; identity
//     flat node/namespace/pod/container up to v0.18.x, k8s{...} from
//     v0.19.0).
//
// docs/evidence.md says how to collect traces and what the reader counts.
package evidence
