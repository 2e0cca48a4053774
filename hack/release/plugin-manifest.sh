#!/usr/bin/env bash
# Renders the committed krew-index manifest, plugins/caps.yaml, for a release
# tag from a goreleaser build of a clean clone of a commit:
#
#   hack/release/plugin-manifest.sh v0.1.0 [COMMIT]     # COMMIT defaults to HEAD
#
# The clone makes the result independent of this checkout: uncommitted files
# cannot leak into the archives, and the file's header names a commit that
# anyone can rebuild to get the same sha256 values (`make test-release` does,
# see docs/release.md). With GORELEASER_CURRENT_TAG set, the snapshot builds
# the same bytes `goreleaser release` builds from that tag at that commit.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
	echo "usage: $0 vX.Y.Z [COMMIT]" >&2
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
commit="$(git rev-parse --verify "${2:-HEAD}^{commit}")"

work="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-caps-plugin-manifest-XXXXXX")"
trap 'rm -rf "$work"' EXIT
git clone -q --no-checkout --shared "$root" "$work/src"
git -C "$work/src" checkout -q --detach "$commit"

echo "building $commit as $tag in a clean clone" >&2
(cd "$work/src" && GORELEASER_CURRENT_TAG="$tag" "$root/hack/release/goreleaser.sh" release --snapshot --clean >"$work/goreleaser.log" 2>&1) ||
	{ tail -40 "$work/goreleaser.log" >&2; exit 1; }
mkdir -p plugins
# The template of that commit, so the file is exactly what the commit renders.
go run ./hack/release/krew-render -dist "$work/src/dist" -tag "$tag" \
	-template "$work/src/krew-manifest.yaml" -goreleaser-manifest "$work/src/dist/krew/caps.yaml" \
	-o plugins/caps.yaml
echo "wrote plugins/caps.yaml for $tag from $commit; review and commit it" >&2
