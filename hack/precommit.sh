#!/usr/bin/env bash
# Installs Debian's pre-commit when it is missing and prints the path of the
# pre-commit command (only that, on stdout; progress goes to stderr), for the
# test of the repository's .pre-commit-hooks.yaml (test/e2e/precommit,
# docs/ci.md):
#
#   KUBECTL_CAPS_PRECOMMIT="$(hack/precommit.sh)"
#
# Debian bookworm ships pre-commit 3.0.4 (python3, no download at run time).
# The hook is `language: golang`: pre-commit builds this repository with the
# machine's go (`go install ./...`) and the Go module proxy; the test keeps
# what pre-commit builds under ~/.cache/kubectl-caps-precommit.
set -euo pipefail

log() { printf 'precommit: %s\n' "$*" >&2; }

if pc="$(command -v pre-commit)"; then
	printf '%s\n' "$pc"
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	log "pre-commit is missing and installing Debian's package needs root (apt-get install pre-commit)"
	exit 1
fi
log "installing pre-commit from Debian"
rc=0
{
	DEBIAN_FRONTEND=noninteractive apt-get update -q &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends pre-commit
} >&2 || rc=$?
if [[ $rc -ne 0 ]] || ! pc="$(command -v pre-commit)"; then
	log "apt-get install pre-commit failed (exit $rc)"
	exit 1
fi
printf '%s\n' "$pc"
