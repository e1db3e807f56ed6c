#!/usr/bin/env bash
# `capsim run` on the built-in scenario as a user runs it, with and without charts: the
# medians of N runs of the figures it prints ("simulated 1096 days in X ms (Y ms in all)").
# Issue 15's targets for a whole run are these figures; results in docs/performance.md.
# Not part of CI.
#
#   bench/run.sh                    # 21 runs of each
#   bench/run.sh 41                 # 41 runs of each
#   bench/run.sh 21 /tmp/capsim-old # the same, alternating with another build, side by side
#   PAUSE=15 bench/run.sh 5         # 15 s idle before each run: runs as a user makes them,
#                                   # after a pause, not back to back (docs/performance.md,
#                                   # third round: on a virtual machine the two differ)
#
# Runs alternate between the builds (and between with and without charts), so that a change
# of load on the machine falls on all of them alike.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-21}
other=${2:-}
cargo build --release --quiet
bins=("${CARGO_TARGET_DIR:-target}/release/capsim")
[ -n "$other" ] && bins+=("$other")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg); pause before each run: ${PAUSE:-0} s"
for _ in $(seq "$n"); do
    for i in "${!bins[@]}"; do
        for charts in no yes; do
            sleep "${PAUSE:-0}"
            flag=()
            [ "$charts" = no ] && flag=(--no-charts)
            line=$("${bins[$i]}" run "${flag[@]}" --out "$out/run" | tail -n 1)
            # "simulated 1096 days in 4.7 ms (9.8 ms in all)" -> 4.7 9.8
            echo "$i $charts $(echo "$line" | sed -E 's/.* in ([0-9.]+) ms \(([0-9.]+) ms in all\)/\1 \2/')"
        done
    done
done >"$out/times"
printf '%-40s %-7s %14s %14s\n' build charts simulate_ms in_all_ms
for i in "${!bins[@]}"; do
    for charts in no yes; do
        awk -v i="$i" -v c="$charts" '$1 == i && $2 == c { print $3, $4 }' "$out/times" |
            sort -n -k1,1 | awk '{ s[NR] = $1 } END { print s[int((NR + 1) / 2)] }' >"$out/sim"
        awk -v i="$i" -v c="$charts" '$1 == i && $2 == c { print $4 }' "$out/times" |
            sort -n | awk '{ s[NR] = $1 } END { print s[int((NR + 1) / 2)] }' >"$out/all"
        printf '%-40s %-7s %14s %14s\n' "${bins[$i]}" "$charts" "$(cat "$out/sim")" "$(cat "$out/all")"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
