#!/usr/bin/env bash
# Gathers the real Kyverno and OpenShift CRDs that the integration tests of
# `kubectl caps policy --format kyverno|scc` install, and with --with-cli
# builds the real Kyverno CLI too, and prints the directory holding them
# (only that, on stdout; progress goes to stderr):
#
#   KUBECTL_CAPS_POLICYTOOLS="$(hack/policytools.sh [--with-cli])"
#
#   crds/kyverno/*.yaml     config/crds/kyverno/ of github.com/kyverno/kyverno
#   crds/openshift/*.yaml   security/v1/zz_generated.crd-manifests/ of github.com/openshift/api
#   crds/policyreport/*.yaml  config/crds/policyreport/ of github.com/kyverno/kyverno
#                           (wgpolicyk8s.io PolicyReport, ClusterPolicyReport)
#   crds/openreports/*.yaml config/crd/ of github.com/openreports/reports-api, at
#                           the version Kyverno's module graph pins (and the
#                           plugin's go.mod requires): Report, ClusterReport
#   kyverno                 with --with-cli: the Kyverno CLI of the same module
#                           (github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno)
#
# The CLI is opt-in because its cold build is too slow for CI: measured on
# this project's 2-core machine with empty GOCACHE and GOMODCACHE, 62 minutes
# of wall time under a load of 12-19 from other jobs, 1155 s user + 387 s
# system CPU (about 13 minutes on 2 idle cores), 403 MB of module zips
# (2.4 GB unpacked), 2.7 GB of build cache, 2.9 GB peak memory, a 320 MB
# binary. Without it, TestPolicyKyvernoCLI skips and says so.
#
# Everything comes from the Go module proxy through two nested modules, whose
# go.mod files are the one place the versions are pinned and whose go.sum
# files are committed (so a tampered module fails the checksum):
#   hack/tools/kyverno        the CLI as a tool directive; Kyverno's own
#                             replace of k8s.io/pod-security-admission is
#                             repeated there, which is why `go install
#                             ...@v1.19.1` cannot build it
#   hack/tools/openshift-api  github.com/openshift/api, whose proxy serves no
#                             tagged release newer than v3.9.0 (2018): the pin
#                             is a pseudo-version of 2026-03-18 that the proxy
#                             serves
# Neither is a dependency of the plugin. The CRD files are copied from the
# module cache into the cache below, never into the repository.
#
# The result is cached in
# ${KUBECTL_CAPS_POLICYTOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-caps-policytools}/<versions>-<hash>/
# where <hash> covers both go.mod/go.sum pairs and $recipe, so a pin change
# rebuilds and a warm cache answers in milliseconds. Without --with-cli it
# downloads two module zips (10 MB and 6 MB) and the go.mod files of
# Kyverno's ~400-module graph, and builds nothing.
#
#   hack/policytools.sh --cached-only   print the directory if it is already
#                                       there, else exit 3 without building
set -euo pipefail

cached_only=false
with_cli=false
for arg in "$@"; do
	case "$arg" in
	--cached-only) cached_only=true ;;
	--with-cli) with_cli=true ;;
	*)
		printf 'usage: %s [--cached-only] [--with-cli]\n' "$0" >&2
		exit 2
		;;
	esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools_mod="$here/tools"

log() { printf 'policytools: %s\n' "$*" >&2; }

# Read the pins straight from go.mod: the warm path must not wait for the go
# command to load Kyverno's module graph.
# A pin is `MOD VERSION` inside a require block or `require MOD VERSION`.
pin() {
	awk -v m="$2" '$1 == "require" { $1 = ""; $0 = $0 } $1 == m && $2 ~ /^v/ { print $2; exit }' "$tools_mod/$1/go.mod"
}
kyverno_version="$(pin kyverno github.com/kyverno/kyverno)"
openshift_version="$(pin openshift-api github.com/openshift/api)"
if [[ -z "$kyverno_version" || -z "$openshift_version" ]]; then
	log "cannot read the kyverno and openshift/api pins from $tools_mod/{kyverno,openshift-api}/go.mod"
	exit 2
fi
# Bump when the commands below change, so caches of the old recipe are not reused.
recipe=1
hash="$( (cat "$tools_mod"/kyverno/go.{mod,sum} "$tools_mod"/openshift-api/go.{mod,sum}; echo "recipe $recipe") |
	sha256sum | cut -c1-16)"
cache_root="${KUBECTL_CAPS_POLICYTOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-caps-policytools}"
dest="$cache_root/kyverno-${kyverno_version}-openshift-api-${openshift_version##*-}-${hash}"

crds_complete() {
	compgen -G "$1/crds/kyverno/kyverno.io_clusterpolicies.yaml" >/dev/null &&
		compgen -G "$1/crds/openshift/*securitycontextconstraints*.yaml" >/dev/null
}
# The report CRDs (kubectl caps report) came after the others: a cache
# built before them is completed in place rather than rebuilt, so that the
# Kyverno CLI cached beside them survives.
reports_complete() {
	compgen -G "$1/crds/policyreport/wgpolicyk8s.io_policyreports.yaml" >/dev/null &&
		compgen -G "$1/crds/openreports/openreports.io_reports.yaml" >/dev/null
}
complete() {
	crds_complete "$1" && reports_complete "$1" && { ! $with_cli || [[ -x "$1/kyverno" ]]; }
}

if complete "$dest"; then
	printf '%s\n' "$dest"
	exit 0
fi
if $cached_only; then
	log "not there yet: run $0 [--with-cli] or set KUBECTL_CAPS_POLICYTOOLS"
	exit 3
fi

mkdir -p "$cache_root"
# Two cold runs at once would each spend minutes of both cores; the second
# waits for the first and then finds the cache warm.
exec 9>"$cache_root/.lock"
flock 9
if complete "$dest"; then
	printf '%s\n' "$dest"
	exit 0
fi

# moddir MODULE PATH: the module's directory in the module cache, downloaded
# (and checked against go.sum) at the version go.mod pins.
moddir() {
	(cd "$tools_mod/$1" && GOWORK=off GOFLAGS=-mod=readonly go mod download -json "$2") |
		awk -F'"' '$2 == "Dir" { print $4 }'
}

start=$SECONDS
mkdir -p "$dest/crds"
trap 'rm -rf "$dest"/.crds-*' EXIT
# install_crds NAME FILE...: the CRD files into $dest/crds/NAME, staged
# beside it so that the directory appears whole or not at all (one rename
# on one filesystem); crds_complete and reports_complete then see a group
# either complete or missing, and a missing one is installed again.
install_crds() {
	local name="$1" stage
	shift
	stage="$(mktemp -d "$dest/.crds-XXXXXX")"
	cp "$@" "$stage/"
	chmod -R u+w "$stage"
	chmod 0755 "$stage"
	rm -rf "$dest/crds/$name"
	mv -T "$stage" "$dest/crds/$name"
}

if ! crds_complete "$dest"; then
	kdir="$(moddir kyverno github.com/kyverno/kyverno)"
	odir="$(moddir openshift-api github.com/openshift/api)"
	if [[ -z "$kdir" || -z "$odir" ]]; then
		log "cannot find the kyverno or openshift/api module in the module cache"
		exit 1
	fi
	install_crds kyverno "$kdir"/config/crds/kyverno/*.yaml
	install_crds openshift "$odir"/security/v1/zz_generated.crd-manifests/*.crd.yaml
	log "CRDs of kyverno $kyverno_version and openshift/api $openshift_version in $dest"
fi

if ! reports_complete "$dest"; then
	kdir="$(moddir kyverno github.com/kyverno/kyverno)"
	rdir="$(moddir kyverno github.com/openreports/reports-api)"
	if [[ -z "$kdir" || -z "$rdir" ]]; then
		log "cannot find the kyverno or openreports/reports-api module in the module cache"
		exit 1
	fi
	install_crds policyreport "$kdir"/config/crds/policyreport/*.yaml
	install_crds openreports "$rdir"/config/crd/*.yaml
	log "report CRDs of kyverno $kyverno_version and openreports/reports-api in $dest/crds"
fi

if $with_cli && [[ ! -x "$dest/kyverno" ]]; then
	# A private GOCACHE keeps Kyverno's 2.7 GB of objects (every cloud SDK
	# it can verify images with) out of the user's cache; it is useless
	# after the link.
	gocache="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-caps-policytools-gocache-XXXXXX")"
	trap 'rm -rf "$gocache" "$dest/.kyverno.tmp"' EXIT
	log "cold build of the Kyverno CLI $kyverno_version into $dest (about 26 CPU-minutes; see the top of $0)"
	(
		cd "$tools_mod/kyverno"
		# The CLI prints this version (kyverno version), the -X
		# Kyverno's own Makefile sets.
		GOWORK=off GOCACHE="$gocache" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-}" \
			go build -mod=readonly -buildvcs=false -trimpath \
			-ldflags "-s -w -X github.com/kyverno/kyverno/pkg/version.BuildVersion=$kyverno_version" \
			-o "$dest/.kyverno.tmp" github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno
	)
	# A binary that builds but cannot start is not worth caching.
	"$dest/.kyverno.tmp" version >&2
	mv -f "$dest/.kyverno.tmp" "$dest/kyverno"
	log "built kyverno in $((SECONDS - start))s"
fi
printf '%s\n' "$dest"
