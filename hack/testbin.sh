#!/usr/bin/env bash
# Builds the real etcd, kube-apiserver and kubectl that the integration and
# end-to-end tests run, and prints the directory holding them (only that, on
# stdout; progress goes to stderr):
#
#   KUBECTL_CAPS_TESTBIN="$(hack/testbin.sh)"
#
# Everything comes from the Go module proxy through the nested wrapper module in
# hack/testbin/ (its go.mod pins k8s.io/kubernetes and etcd and lists the three
# commands as tool directives; its go.sum is committed, so the build is
# -mod=readonly and a tampered module fails the checksum). The result is cached
# in ${KUBECTL_CAPS_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-caps-testbin}/<version>-<hash>/
# where <hash> covers go.mod and go.sum, so a pin change rebuilds and a warm
# cache answers in milliseconds. A cold build takes ~7 CPU-minutes (4.5 minutes
# on 2 idle cores; 18 on a busy machine with an empty module cache) and peaks
# at ~2.35 GB of memory.
#
#   hack/testbin.sh --cached-only   print the directory if it is already built,
#                                   else exit 3 without building (used by tests
#                                   outside CI, where a cold build would outlast
#                                   go test's default timeout)
set -euo pipefail

cached_only=false
case "${1-}" in
"") ;;
--cached-only) cached_only=true ;;
*)
	printf 'usage: %s [--cached-only]\n' "$0" >&2
	exit 2
	;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mod="$here/testbin"

log() { printf 'testbin: %s\n' "$*" >&2; }

# Read the pins straight from go.mod: the warm path must not wait for the go
# command to load a 400-module graph.
pin() { awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$mod/go.mod"; }
kube_version="$(pin k8s.io/kubernetes)"
etcd_version="$(pin go.etcd.io/etcd/server/v3)"
if [[ -z "$kube_version" || -z "$etcd_version" ]]; then
	log "cannot read the k8s.io/kubernetes and etcd pins from $mod/go.mod"
	exit 2
fi
hash="$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-16)"
cache_root="${KUBECTL_CAPS_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-caps-testbin}"
dest="$cache_root/kube-${kube_version}-etcd-${etcd_version}-${hash}"
bins=(etcd kube-apiserver kubectl)

complete() {
	local b
	for b in "${bins[@]}"; do [[ -x "$1/$b" ]] || return 1; done
}

if complete "$dest"; then
	printf '%s\n' "$dest"
	exit 0
fi
if $cached_only; then
	log "not built yet: run $0 (a cold build takes minutes) or set KUBECTL_CAPS_TESTBIN"
	exit 3
fi

mkdir -p "$cache_root"
# Two test runs that start cold at the same time would each spend minutes
# and 3 GB; the second waits for the first and then finds the cache warm.
exec 9>"$cache_root/.lock"
flock 9
if complete "$dest"; then
	printf '%s\n' "$dest"
	exit 0
fi

# The staging directory sits beside the destination so the final rename is on
# one filesystem and therefore atomic: readers see all three binaries or none.
stage="$(mktemp -d "$cache_root/.build-XXXXXX")"
chmod 0755 "$stage"
# A private GOCACHE keeps the ~3 GB of kubernetes objects out of the user's
# cache; it is useless after the link, so it goes with the staging directory.
gocache="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-caps-testbin-gocache-XXXXXX")"
cleanup() { rm -rf "$stage" "$gocache"; }
trap cleanup EXIT

major="${kube_version#v}"
major="${major%%.*}"
minor="${kube_version#v*.}"
minor="${minor%%.*}"
build_date="$(date -u ${SOURCE_DATE_EPOCH:+--date=@"$SOURCE_DATE_EPOCH"} +%Y-%m-%dT%H:%M:%SZ)"
# The same -X set that kubernetes' hack/lib/version.sh passes; without it
# kube-apiserver and kubectl report v0.0.0-master and the apiserver's /version
# is useless for version-dependent tests. The commit is unknown (module zips
# carry no git metadata), so gitCommit is emptied rather than left as the
# literal "$Format:%H$", and gitTreeState says "archive".
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X '$pkg.gitVersion=$kube_version'"
	ldflags+=" -X '$pkg.gitMajor=$major'"
	ldflags+=" -X '$pkg.gitMinor=$minor'"
	ldflags+=" -X '$pkg.gitCommit='"
	ldflags+=" -X '$pkg.gitTreeState=archive'"
	ldflags+=" -X '$pkg.buildDate=$build_date'"
done
ldflags+=" -X 'go.etcd.io/etcd/api/v3/version.GitSHA=module-proxy-$etcd_version'"

log "cold build of kubernetes $kube_version and etcd $etcd_version into $dest (measured 4.5 minutes on 2 idle cores with modules cached, 18 on a busy machine with none)"
start=$SECONDS
build() {
	local out="$1" pkg="$2" t=$SECONDS
	log "building $out ($pkg)"
	(
		cd "$mod"
		GOWORK=off GOCACHE="$gocache" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-}" \
			go build -mod=readonly -buildvcs=false -trimpath -ldflags "$ldflags" -o "$stage/$out" "$pkg"
	)
	log "built $out in $((SECONDS - t))s"
}
# etcd's main package is the module root go.etcd.io/etcd/server/v3 (server/main.go
# calls etcdmain.Main); etcdmain itself is a library package.
build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kubectl k8s.io/kubernetes/cmd/kubectl

# A binary that builds but cannot report its version is not worth caching.
"$stage/etcd" --version >&2
"$stage/kube-apiserver" --version >&2
"$stage/kubectl" version --client >&2

if ! mv -T "$stage" "$dest" 2>/dev/null; then
	# Only possible if the cache was filled behind the lock's back; keep theirs.
	complete "$dest" || { log "cannot move $stage to $dest"; exit 1; }
fi
log "cold build done in $((SECONDS - start))s"
printf '%s\n' "$dest"
