#!/usr/bin/env bash
# Renders the committed krew-index manifest, plugins/caps.yaml, for a release
# tag from the release build of a commit, made in a throwaway clone:
#
#   hack/release/plugin-manifest.sh v0.1.0 [COMMIT [OUT]]
#
# COMMIT defaults to the tag if it exists, else HEAD; OUT to plugins/caps.yaml.
# In the clone the commit is tagged (unless the tag already exists there, in
# which case it must point at COMMIT) and `goreleaser release --clean` runs:
# a real release build, not a snapshot, because Go stamps the main module's
# version from the git tag into the binary, so only a tagged build has the
# release's bytes. Nothing is published (release.disable, skip_upload) and
# this checkout is not touched: the tag lives only in the clone, and
# uncommitted files cannot leak into the archives. The file's header names
# the commit and toolchain, so anyone can rebuild it and get the same sha256
# values (`make test-release` does; see docs/release.md).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 3 ]]; then
	echo "usage: $0 vX.Y.Z [COMMIT [OUT]]" >&2
	exit 2
fi
tag="$1"
# krew requires a semantic version with the v prefix.
if ! [[ "$tag" =~ ^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]]; then
	echo "$0: $tag is not a version krew accepts (vMAJOR.MINOR.PATCH[-PRERELEASE])" >&2
	exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
default_commit=HEAD
git rev-parse -q --verify "refs/tags/$tag" >/dev/null && default_commit="$tag"
commit="$(git rev-parse --verify "${2:-$default_commit}^{commit}")"
out="${3:-plugins/caps.yaml}"

work="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-caps-plugin-manifest-XXXXXX")"
trap 'rm -rf "$work"' EXIT
git clone -q --no-checkout --shared "$root" "$work/src"
git -C "$work/src" checkout -q --detach "$commit"
if existing="$(git -C "$work/src" rev-parse -q --verify "refs/tags/$tag^{commit}")"; then
	if [[ "$existing" != "$commit" ]]; then
		echo "$0: tag $tag exists and points at $existing, not $commit" >&2
		exit 1
	fi
else
	# Lightweight: it needs no identity, and Go and goreleaser read it like an
	# annotated one.
	git -C "$work/src" tag "$tag" "$commit"
fi

echo "building $commit as $tag (goreleaser release, nothing published) in a clean clone" >&2
(cd "$work/src" && "$root/hack/release/goreleaser.sh" release --clean >"$work/goreleaser.log" 2>&1) ||
	{ tail -40 "$work/goreleaser.log" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
# The template of that commit, so the file is exactly what the commit renders.
go run ./hack/release/krew-render -dist "$work/src/dist" -tag "$tag" \
	-template "$work/src/krew-manifest.yaml" -goreleaser-manifest "$work/src/dist/krew/caps.yaml" \
	-o "$out"
echo "wrote $out for $tag from $commit" >&2
