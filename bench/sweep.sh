#!/usr/bin/env bash
# Wall time and peak memory of a one-replication sweep of the default scenario with
# --no-charts, by number of points (issue 14's benchmark: 100,000 points must stay under
# 500 MB; results in docs/scale.md). Not part of CI: 100,000 points take minutes.
#
#   bench/sweep.sh                  # 1000, 10000 and 100000 points
#   bench/sweep.sh 500 5000         # other sizes
#
# The points vary the H100's power (a range of N steps), so each is a distinct scenario
# loaded, checked and run. Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/capsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000 100000)
echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %10s %10s %14s %14s\n' points wall_s cpu_s points_per_s peak_rss_MiB
for n in "${sizes[@]}"; do
    /usr/bin/time -f '%e %U %S %M' -o "$out/time" \
        "$bin" sweep --vary "products.H100.power_w=600..800:$n" --no-charts --quiet \
        --max-runs "$n" --out "$out/sweep"
    read -r wall user sys rss < "$out/time"
    awk -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
        'BEGIN { printf "%-8d %10.2f %10.2f %14.0f %14.1f\n", n, w, u + s, n / w, r / 1024 }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
