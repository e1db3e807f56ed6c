#!/usr/bin/env bash
# Wall time and peak memory of `capsim run --reps N` on the default scenario, for N = 1,000
# and 10,000 (issue 4's benchmark; results in docs/performance.md). Not part of CI.
#
#   bench/montecarlo.sh              # 1000 and 10000
#   bench/montecarlo.sh 100 1000     # other sizes
#
# Needs GNU time (/usr/bin/time, Debian package `time`) for the peak resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/capsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000)
echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %10s %10s %12s %14s\n' reps wall_s cpu_s reps_per_s peak_rss_MiB
for n in "${sizes[@]}"; do
    /usr/bin/time -f '%e %U %S %M' -o "$out/time" \
        "$bin" run --reps "$n" --no-charts --quiet --out "$out/run"
    read -r wall user sys rss < "$out/time"
    awk -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
        'BEGIN { printf "%-8d %10.2f %10.2f %12.0f %14.1f\n", n, w, u + s, n / w, r / 1024 }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
