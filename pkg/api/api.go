// Package api names the group and version of every document kubectl caps
// prints (the audit report, the drop suggestions, the catalog entries), so
// that they change together: bump Version on any incompatible change of a
// printed field (docs/report.md).
package api

const (
	Group      = "caps.kubectl-caps.io"
	Version    = "v1alpha1"
	APIVersion = Group + "/" + Version
)
