#!/usr/bin/env bash
# The scale suite of issue 15 part 3, on the realistic mix, one run of
# hack/bench-live.sh after another (never two at once: they share the cores):
#
#   1. one cluster of 1,000, 10,000 and 100,000 pods    (BENCH_SCALE_SIZES)
#        audit -A -o json against the LIST floor, and its peak RSS;
#        target at the largest size: wall <= 1.25 x the floor's, peak RSS
#        <= 1.3 x the RSS at BENCH_SCALE_N pods. Above 10,000 pods kubectl
#        get pods is left out (BENCH_KUBECTL=0): it peaked at 2.2 GB of RSS
#        at 10,000 pods and grows with N, more than the machine can spare
#        beside an apiserver holding 100,000 pods.
#   2. three clusters of 10,000 pods                      (BENCH_SCALE_N)
#        audit --all-contexts against the three one after another;
#        target: wall <= 0.75 x the serial sum, peak RSS <= 1.5 x one cluster's;
#        then the same with each cluster BENCH_SCALE_RTT_MS (default 20) ms
#        away, as remote clusters are (a delay proxy; 0 leaves it out)
#   3. kubectl caps report -A on 10,000 pods              (BENCH_SCALE_N)
#        against audit -A -o json; target: wall <= 2 x audit's
#
# Each run's stdout (its table and JSON line) is kept in
# BENCH_SCALE_OUT (default: a new directory under $TMPDIR), progress goes to
# stderr, and the suite ends with every JSON line and the cross-run ratios.
# BENCH_ROUNDS passes through (default 5). Long: seeding 100,000 pods alone
# takes about 13 minutes on the 2-core machine of docs/benchmarks.md, so
# this is `make bench-scale`, never part of `make test`.
#
#   make bench-scale                                    # the issue's sizes
#   BENCH_SCALE_SIZES="300 1000" BENCH_SCALE_N=1000 hack/bench-scale.sh   # a smoke run
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sizes=(${BENCH_SCALE_SIZES:-1000 10000 100000})
n=${BENCH_SCALE_N:-10000}
rtt=${BENCH_SCALE_RTT_MS:-20}
[[ $rtt =~ ^[0-9]+$ ]] || {
	printf 'bench-scale: BENCH_SCALE_RTT_MS=%q is not a number of milliseconds\n' "$rtt" >&2
	exit 2
}
for s in "${sizes[@]}" "$n"; do
	[[ $s =~ ^[1-9][0-9]*$ ]] || {
		printf 'bench-scale: %q is not a number of pods (BENCH_SCALE_SIZES, BENCH_SCALE_N)\n' "$s" >&2
		exit 2
	}
done
out="${BENCH_SCALE_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/bench-scale.XXXXXX")}"
mkdir -p "$out"
log() { printf 'bench-scale: %s\n' "$*" >&2; }
log "results in $out"

# run NAME ENV... : one hack/bench-live.sh run on the realistic mix.
run() {
	local name=$1 pods=$2
	shift 2
	log "$name"
	env BENCH_MIX=realistic "$@" "$here/bench-live.sh" "$pods" | tee "$out/$name.txt"
}

for s in "${sizes[@]}"; do
	if [[ $s -gt 10000 ]]; then
		run "one-$s" "$s" BENCH_KUBECTL=0
	else
		run "one-$s" "$s"
	fi
done
run "fleet-3x$n" "$n" BENCH_CLUSTERS=3
[[ $rtt -eq 0 ]] || run "fleet-3x$n-rtt$rtt" "$n" BENCH_CLUSTERS=3 BENCH_RTT_MS="$rtt"
run "report-$n" "$n" BENCH_REPORT=1

# field FILE KEY: a number from a run's JSON line (its last line).
field() { grep '^{' "$1" | tail -1 | grep -o "\"$2\":[0-9.]*" | cut -d: -f2; }

echo
echo "== JSON lines (docs/benchmarks.md)"
for s in "${sizes[@]}"; do grep '^{' "$out/one-$s.txt"; done
grep '^{' "$out/fleet-3x$n.txt"
[[ $rtt -eq 0 ]] || grep '^{' "$out/fleet-3x$n-rtt$rtt.txt"
grep '^{' "$out/report-$n.txt"

echo
echo "== one cluster: against the floor, and peak RSS against $n pods'"
ref=""
[[ -f $out/one-$n.txt ]] && ref=$(field "$out/one-$n.txt" caps_rss_mb)
for s in "${sizes[@]}"; do
	f="$out/one-$s.txt"
	awk -v s="$s" -v r="$(field "$f" ratio_vs_floor)" -v m="$(field "$f" caps_rss_mb)" -v ref="$ref" 'BEGIN {
		line = sprintf("%7d pods: caps/floor wall %.3f, peak RSS %.1f MB", s, r, m)
		if (ref != "") line = line sprintf(" = %.3f x at the reference size", m / ref)
		print line
	}'
done
echo "   targets at the largest size: caps/floor <= 1.25, RSS <= 1.3 x at $n pods"
echo "== three clusters of $n: all/serial wall $(field "$out/fleet-3x$n.txt" wall_ratio) (target <= 0.75), all/one RSS $(field "$out/fleet-3x$n.txt" rss_ratio) (target <= 1.5)"
[[ $rtt -eq 0 ]] || echo "== the same, each cluster $rtt ms away: all/serial wall $(field "$out/fleet-3x$n-rtt$rtt.txt" wall_ratio), all/one RSS $(field "$out/fleet-3x$n-rtt$rtt.txt" rss_ratio)"
echo "== report on $n: report/audit wall $(field "$out/report-$n.txt" ratio) steady, $(field "$out/report-$n.txt" first_ratio) first run (target <= 2)"
