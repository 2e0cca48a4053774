#!/usr/bin/env bash
# Builds and installs the container runtimes that the ground-truth harness
# (test/runtime, `make test-runtime`) runs containers under, and prints the
# directory holding the built ones (only that, on stdout; progress goes to
# stderr):
#
#   KUBECTL_CAPS_RUNTIMES="$(hack/runtimes.sh)"
#
# Two sources, both of which CI reaches:
#   - the Go module proxy, through the nested wrapper module in hack/runtimes/
#     (go.mod pins containerd v2.4.x and runc v1.5.x and lists their commands
#     as tool directives; go.sum is committed, so the build is -mod=readonly
#     and a tampered module fails the checksum): containerd, ctr,
#     containerd-shim-runc-v2 and runc go into the cache directory;
#   - Debian's packages, installed with apt-get when missing: libseccomp-dev
#     (runc is built with the seccomp tag, which needs cgo and libseccomp) and
#     docker.io (Docker Engine 20.10, which brings Debian's containerd 1.6 and
#     runc 1.1, the harness's second and third runtimes). The daemons are
#     never started here; the harness starts its own, with its own state
#     directories and sockets.
#
# The build is cached in
# ${KUBECTL_CAPS_RUNTIMES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-caps-runtimes}/<versions>-<hash>/
# where <hash> covers go.mod and go.sum, so a pin change rebuilds and a warm
# cache answers in milliseconds.
#
#   hack/runtimes.sh --cached-only   print the directory if it is already
#                                    built and the Debian packages are
#                                    installed, else exit 3 without doing
#                                    anything (used by tests outside CI)
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
mod="$here/runtimes"

log() { printf 'runtimes: %s\n' "$*" >&2; }

pin() { awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$mod/go.mod"; }
containerd_version="$(pin github.com/containerd/containerd/v2)"
runc_version="$(pin github.com/opencontainers/runc)"
if [[ -z "$containerd_version" || -z "$runc_version" ]]; then
	log "cannot read the containerd and runc pins from $mod/go.mod"
	exit 2
fi
hash="$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-16)"
cache_root="${KUBECTL_CAPS_RUNTIMES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-caps-runtimes}"
dest="$cache_root/containerd-${containerd_version}-runc-${runc_version}-${hash}"
bins=(containerd containerd-shim-runc-v2 ctr runc)

# Debian bookworm's packages: the binaries each one must provide.
debian_pkgs=(docker.io libseccomp-dev)
debian_files=(/usr/sbin/dockerd /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/bin/ctr /usr/sbin/runc /usr/include/seccomp.h)

complete() {
	local b
	for b in "${bins[@]}"; do [[ -x "$1/$b" ]] || return 1; done
}
debian_ready() {
	local f
	for f in "${debian_files[@]}"; do [[ -e "$f" ]] || return 1; done
}

if complete "$dest" && debian_ready; then
	printf '%s\n' "$dest"
	exit 0
fi
if $cached_only; then
	log "not built or not installed yet: run $0 (a cold build takes minutes) or set KUBECTL_CAPS_RUNTIMES"
	exit 3
fi

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9

if ! debian_ready; then
	if [[ $(id -u) -ne 0 ]]; then
		log "the Debian packages ${debian_pkgs[*]} are missing and installing them needs root"
		exit 1
	fi
	log "installing ${debian_pkgs[*]} from Debian"
	# policy-rc.d exit 101 tells invoke-rc.d not to start the daemons the
	# packages ship (docker, containerd): the harness runs its own instances
	# with their own state, and a system dockerd would hold iptables and
	# /var/run/docker.sock for nothing. Removed again when apt-get is done,
	# unless it was there before.
	own_policy=false
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		own_policy=true
	fi
	rc=0
	{
		DEBIAN_FRONTEND=noninteractive apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${debian_pkgs[@]}"
	} >&2 || rc=$?
	if $own_policy; then rm -f /usr/sbin/policy-rc.d; fi
	if [[ $rc -ne 0 ]] || ! debian_ready; then
		log "apt-get install ${debian_pkgs[*]} failed (exit $rc)"
		exit 1
	fi
fi

if complete "$dest"; then
	printf '%s\n' "$dest"
	exit 0
fi

stage="$(mktemp -d "$cache_root/.build-XXXXXX")"
chmod 0755 "$stage"
gocache="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-caps-runtimes-gocache-XXXXXX")"
cleanup() { rm -rf "$stage" "$gocache"; }
trap cleanup EXIT

log "cold build of containerd $containerd_version and runc $runc_version into $dest"
start=$SECONDS
build() {
	local out="$1" pkg="$2" cgo="$3" tags="$4" ldflags="$5" t=$SECONDS
	log "building $out ($pkg)"
	(
		cd "$mod"
		GOWORK=off GOCACHE="$gocache" CGO_ENABLED="$cgo" GOFLAGS="${GOFLAGS:-}" \
			go build -mod=readonly -buildvcs=false -trimpath -tags "$tags" -ldflags "$ldflags" -o "$stage/$out" "$pkg"
	)
	log "built $out in $((SECONDS - t))s"
}
# containerd's Makefile sets version.Version and version.Revision with -X;
# without them containerd reports "2.4.2+unknown" and ctr a version the
# harness cannot check. The revision is unknown (module zips carry no git
# metadata).
cv="github.com/containerd/containerd/v2/version"
cld="-s -w -X $cv.Version=$containerd_version -X $cv.Revision=module-proxy -X $cv.Package=github.com/containerd/containerd/v2"
# No btrfs/devmapper/zfs snapshotters: the harness uses overlayfs or native,
# and the btrfs one needs btrfs headers (containerd's BUILDTAGS do the same
# with no_btrfs).
ctags="no_btrfs no_devmapper no_zfs no_aufs"
build containerd github.com/containerd/containerd/v2/cmd/containerd 0 "$ctags" "$cld"
build containerd-shim-runc-v2 github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 0 "$ctags" "$cld"
build ctr github.com/containerd/containerd/v2/cmd/ctr 0 "$ctags" "$cld"
# runc needs cgo (libcontainer/nsenter is C); the seccomp tag needs
# libseccomp. runc's Makefile builds with "seccomp urfave_cli_no_docs
# libpathrs"; libpathrs needs a Rust library Debian bookworm does not ship,
# and without the tag runc uses its Go fallback (features_pathrslite.go).
# The version is embedded from the module's VERSION file; the commit is
# unknown.
build runc github.com/opencontainers/runc 1 "seccomp urfave_cli_no_docs" "-s -w -X main.gitCommit=module-proxy"

"$stage/containerd" --version >&2
"$stage/ctr" --version >&2
"$stage/runc" --version >&2

if ! mv -T "$stage" "$dest" 2>/dev/null; then
	complete "$dest" || { log "cannot move $stage to $dest"; exit 1; }
fi
log "cold build done in $((SECONDS - start))s"
printf '%s\n' "$dest"
