#!/usr/bin/env bash
# Live-cluster benchmark: a real kube-apiserver with N realistic pods, and the
# wall time and peak RSS of
#   A  kubectl-caps audit -A -o json > /dev/null
#   A2 the same with --report-version v1alpha2 (the lean report)
#   B  kubectl get pods -A -o json > /dev/null      (the real kubectl)
#   C  a paginated protobuf LIST with client-go, 500 a page (the floor)
# run alternately for BENCH_ROUNDS rounds (default 5), on each mix of pods
# BENCH_MIX names: realistic (the archetypes of docs/benchmarks.md), bare
# (small, mostly bare pods: issue 15) or both (the default; one fresh
# apiserver each, one after the other). BENCH_BASE=REV also builds
# kubectl-caps at git revision REV and measures it in the same rounds (A0),
# to compare a change with what it changes. Each mix ends with one JSON object
# with the medians, the ratios and the bytes of -o json:
#
#   hack/bench-live.sh 10000 | grep '^{'
#
# Two more modes, for issue 15 part 3 (Scale), each on BENCH_MIX as above:
#
#   BENCH_CLUSTERS=K   fleet mode (K >= 2): K separate clusters of N pods each
#                      (one etcd and apiserver each, different seeds), one
#                      kubeconfig with contexts c1..cK; times
#                        F-all     audit -A -o json --all-contexts
#                        F-serial  audit -A -o json --context cI, I = 1..K in turn
#                      and judges F-all's wall against F-serial's sum (target
#                      <= 0.75) and its peak RSS against one cluster's (<= 1.5).
#                      BENCH_MAX_CONCURRENCY=M passes --max-concurrency M.
#                      BENCH_RTT_MS=R puts a round trip of R ms between the
#                      client and each cluster (a delay proxy in front of each
#                      apiserver), as for clusters reached over a network;
#                      unset or 0, the clusters are on loopback and the run is
#                      CPU-bound (the case the target is judged by).
#   BENCH_REPORT=1     report mode: the PolicyReport CRDs installed (from
#                      hack/policytools.sh, or $KUBECTL_CAPS_POLICYTOOLS), times
#                      kubectl-caps report -A (the first run, which creates
#                      every report, then the steady state) against
#                      audit -A -o json (target <= 2).
#
#   BENCH_MIX=realistic BENCH_CLUSTERS=3 hack/bench-live.sh 10000 | grep '^{'
#
# `make bench-scale` (hack/bench-scale.sh) runs the whole scale suite.
#
# Needs the test binaries (hack/testbin.sh builds them; several minutes cold)
# and GNU time (installed from Debian's "time" package when missing).
# Progress goes to stderr, results to stdout. docs/benchmarks.md has the
# method and the recorded figures. BENCH_KUBECTL=0 leaves B out: kubectl
# peaked at 2.2 GB of RSS at 10,000 realistic pods and grows with N.
set -euo pipefail

usage() {
	printf 'usage: %s N   (N = number of pods to seed, per cluster)\n' "$0" >&2
	printf '  env BENCH_ROUNDS=5, BENCH_MIX=realistic|bare|both, BENCH_BASE=REV, BENCH_KUBECTL=0|1,\n' >&2
	printf '      BENCH_CLUSTERS=K (fleet mode, K >= 2), BENCH_MAX_CONCURRENCY=M, BENCH_RTT_MS=R,\n' >&2
	printf '      BENCH_REPORT=1 (report mode)\n' >&2
	exit 2
}
[[ $# -eq 1 && $1 =~ ^[1-9][0-9]*$ ]] || usage
pods=$1
rounds=${BENCH_ROUNDS:-5}
case "${BENCH_MIX:-both}" in
realistic | bare) mixes=("$BENCH_MIX") ;;
both) mixes=(realistic bare) ;;
*) usage ;;
esac
clusters=${BENCH_CLUSTERS:-1}
[[ $clusters =~ ^[1-9][0-9]*$ ]] || usage
mode=()
if [[ $clusters -gt 1 ]]; then
	mode=(-clusters "$clusters")
	if [[ -n ${BENCH_MAX_CONCURRENCY-} ]]; then
		[[ $BENCH_MAX_CONCURRENCY =~ ^[1-9][0-9]*$ ]] || usage
		mode+=(-max-concurrency "$BENCH_MAX_CONCURRENCY")
	fi
	if [[ -n ${BENCH_RTT_MS-} ]]; then
		[[ $BENCH_RTT_MS =~ ^[0-9]+$ ]] || usage
		mode+=(-rtt "${BENCH_RTT_MS}ms")
	fi
elif [[ -n ${BENCH_MAX_CONCURRENCY-}${BENCH_RTT_MS-} ]]; then
	printf 'bench-live: BENCH_MAX_CONCURRENCY and BENCH_RTT_MS apply to fleet mode only (BENCH_CLUSTERS=K, K >= 2)\n' >&2
	exit 2
fi
case "${BENCH_REPORT:-0}" in
0) ;;
1)
	[[ $clusters -eq 1 ]] || { printf 'bench-live: BENCH_REPORT=1 and BENCH_CLUSTERS=%s are separate modes\n' "$clusters" >&2; exit 2; }
	mode=(-report)
	;;
*) usage ;;
esac
case "${BENCH_KUBECTL:-1}" in
1) ;;
0)
	[[ ${#mode[@]} -eq 0 ]] || { printf 'bench-live: BENCH_KUBECTL=0 applies to the default mode only (fleet and report modes never run kubectl)\n' >&2; exit 2; }
	mode=(-no-kubectl)
	;;
*) usage ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
log() { printf 'bench-live: %s\n' "$*" >&2; }

# GNU time reports peak RSS (%M, KiB); bash's time keyword cannot.
timebin=/usr/bin/time
if ! "$timebin" -f %M true >/dev/null 2>&1; then
	log "installing GNU time (Debian package time)"
	sudo=""
	[[ $(id -u) -eq 0 ]] || sudo=sudo
	$sudo apt-get install -y -qq time >&2
fi

testbin="${KUBECTL_CAPS_TESTBIN:-$("$here/testbin.sh")}"
if [[ ${mode[0]-} == -report ]]; then
	# The real wgpolicyk8s.io CRDs (Kyverno's), from the module cache.
	mode+=(-policytools "${KUBECTL_CAPS_POLICYTOOLS:-$("$here/policytools.sh")}")
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/bench-live.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The plugin and the floor are built the way releases are (make build), so
# both carry the same runtime and flags.
log "building kubectl-caps, the floor and the harness"
(
	cd "$root"
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/kubectl-caps" ./cmd/kubectl-caps
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/floor" ./hack/benchlive/floor
	go build -o "$work/benchlive" ./hack/benchlive
)
base=()
if [[ -n ${BENCH_BASE-} ]]; then
	[[ ${#mode[@]} -eq 0 || ${mode[0]} == -no-kubectl ]] || { printf 'bench-live: BENCH_BASE is measured in the default mode only\n' >&2; exit 2; }
	log "building kubectl-caps at $BENCH_BASE"
	mkdir "$work/base"
	git -C "$root" archive "$BENCH_BASE" | tar -x -C "$work/base"
	(cd "$work/base" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/kubectl-caps-base" ./cmd/kubectl-caps)
	base=(-caps-base "$work/kubectl-caps-base")
fi

cd "$work"
for mix in "${mixes[@]}"; do
	log "the $mix mix"
	"$work/benchlive" -pods "$pods" -rounds "$rounds" -mix "$mix" -testbin "$testbin" \
		-caps "$work/kubectl-caps" -floor "$work/floor" -time "$timebin" "${base[@]}" "${mode[@]}"
done
