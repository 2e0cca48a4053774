//go:build tools

// Package crds pins github.com/openshift/api for hack/policytools.sh, which
// takes the SecurityContextConstraints CRD
// (security/v1/zz_generated.crd-manifests/) from the module cache for the
// integration tests. Nothing here is built; the import only keeps the pin
// (and its go.sum line, which go mod download checks) through go mod tidy.
package crds

import _ "github.com/openshift/api/security/v1"
