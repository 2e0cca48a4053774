#!/usr/bin/env bash
# Builds the pinned release tools and prints the directory holding them (only
# that, on stdout; progress goes to stderr):
#
#   tools="$(hack/release/tools.sh)"
#   "$tools/goreleaser" check
#
# The directory holds goreleaser (github.com/goreleaser/goreleaser/v2), krew and
# validate-krew-manifest (sigs.k8s.io/krew). Each comes from the Go module proxy
# through a nested module under hack/tools/ whose go.mod lists it as a tool
# directive and whose go.sum is committed, so the build is -mod=readonly and a
# tampered module fails the checksum. goreleaser and krew live in separate
# modules on purpose: in one module, minimal version selection would lift
# krew's 2021 dependencies (cobra, apimachinery, x/sys) to goreleaser's, and
# we would be testing a krew nobody ships.
#
# The result is cached in
# ${KUBECTL_CAPS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-caps-tools}/<hash>/
# where <hash> covers both go.mod/go.sum pairs and $recipe, so a pin change or
# a change of how the tools are built rebuilds, and a warm cache answers in
# milliseconds. A cold build takes about 6 minutes on 2 cores, nearly all of it
# goreleaser.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools_mod="$(cd "$here/../tools" && pwd)"

log() { printf 'release-tools: %s\n' "$*" >&2; }

# Read the pins straight from go.mod: the warm path must not wait for the go
# command to load goreleaser's 300-module graph.
pin() { awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$tools_mod/$1/go.mod"; }
goreleaser_version="$(pin goreleaser github.com/goreleaser/goreleaser/v2)"
krew_version="$(pin krew sigs.k8s.io/krew)"
if [[ -z "$goreleaser_version" || -z "$krew_version" ]]; then
	log "cannot read the goreleaser and krew pins from $tools_mod/*/go.mod"
	exit 2
fi
# Bump when the build commands below change, so caches of the old recipe are
# not reused (hashing this whole script would rebuild for every comment edit).
recipe=1
hash="$( (cat "$tools_mod"/goreleaser/go.{mod,sum} "$tools_mod"/krew/go.{mod,sum}; echo "recipe $recipe") |
	sha256sum | cut -c1-16)"
cache_root="${KUBECTL_CAPS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-caps-tools}"
dest="$cache_root/goreleaser-${goreleaser_version}-krew-${krew_version}-${hash}"
bins=(goreleaser krew validate-krew-manifest)

complete() {
	local b
	for b in "${bins[@]}"; do [[ -x "$1/$b" ]] || return 1; done
}

if complete "$dest"; then
	printf '%s\n' "$dest"
	exit 0
fi

mkdir -p "$cache_root"
# Two cold runs at once would each spend 6 minutes of both cores; the second
# waits for the first and then finds the cache warm.
exec 9>"$cache_root/.lock"
flock 9
if complete "$dest"; then
	printf '%s\n' "$dest"
	exit 0
fi

# The staging directory sits beside the destination so the final rename is on
# one filesystem and therefore atomic: readers see all three binaries or none.
stage="$(mktemp -d "$cache_root/.build-XXXXXX")"
# A private GOCACHE keeps goreleaser's ~1 GB of objects (every cloud SDK it
# can publish to) out of the user's cache; it is useless after the link.
gocache="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-caps-tools-gocache-XXXXXX")"
cleanup() { rm -rf "$stage" "$gocache"; }
trap cleanup EXIT

start=$SECONDS
build() {
	local mod="$1" ldflags="$2" t=$SECONDS
	shift 2
	log "building $* (module hack/tools/$mod)"
	(
		cd "$tools_mod/$mod"
		GOWORK=off GOCACHE="$gocache" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-}" \
			go build -mod=readonly -buildvcs=false -trimpath -ldflags "$ldflags" -o "$stage/" "$@"
	)
	log "built in $((SECONDS - t))s"
}
log "cold build of goreleaser $goreleaser_version and krew $krew_version into $dest (about 6 minutes on 2 cores)"
# goreleaser reports the -X version it was given; without it, `goreleaser
# --version` says nothing useful in a bug report.
build goreleaser "-s -w -X main.version=$goreleaser_version -X main.builtBy=kubectl-caps/hack/release/tools.sh" \
	github.com/goreleaser/goreleaser/v2
# krew's version stays unstamped on purpose: an unstamped krew is a
# "development build", and only that skips krew's random GitHub API upgrade
# check in every case. KREW_NO_UPGRADE_CHECK would do it too, but
# validate-krew-manifest runs `kubectl krew install` with a scrubbed
# environment that drops it.
build krew "-s -w" sigs.k8s.io/krew/cmd/krew sigs.k8s.io/krew/cmd/validate-krew-manifest

# A binary that builds but cannot start is not worth caching.
"$stage/goreleaser" --version >&2
# krew creates its directory tree in KREW_ROOT on every start; keep it out of ~/.krew.
KREW_ROOT="$gocache/krew-root" "$stage/krew" version >&2
[[ -x "$stage/validate-krew-manifest" ]]

if ! mv -T "$stage" "$dest" 2>/dev/null; then
	complete "$dest" || { log "cannot move $stage to $dest"; exit 1; }
fi
log "cold build done in $((SECONDS - start))s"
printf '%s\n' "$dest"
