#!/usr/bin/env bash
# Runs the pinned goreleaser (built and cached by hack/release/tools.sh) in the
# current directory:
#
#   hack/release/goreleaser.sh release --snapshot --clean
#
# A checkout without a remote (a copied tree, a fresh `git init`, some CI
# workspaces) would otherwise build with the wrong version data: goreleaser
# asks `git ls-remote --get-url`, and when that fails in snapshot mode it
# drops all git information and stamps version 0.0.0-SNAPSHOT-none, commit
# "none". For such a checkout the project's URL is supplied as
# remote.origin.url through git's environment configuration (git 2.31+),
# which changes nothing on disk. The URL itself ends up in no artifact: the
# release is disabled and the krew url_template is spelled out.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$("$here/tools.sh")"

if [[ -z "$(git remote 2>/dev/null)" ]]; then
	n="${GIT_CONFIG_COUNT:-0}"
	export "GIT_CONFIG_KEY_$n=remote.origin.url"
	export "GIT_CONFIG_VALUE_$n=https://github.com/kubectl-caps/kubectl-caps.git"
	export GIT_CONFIG_COUNT=$((n + 1))
fi
exec "$tools/goreleaser" "$@"
