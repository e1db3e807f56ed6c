#!/usr/bin/env bash
# The simulate-only default run in process (criterion's `model/default`: `simulate` of the
# built-in scenario, which records every column and the ledger), side by side with other
# builds of the same bench, with glibc's heap kept from shrinking. Issue 15's simulate
# target is this figure; results in docs/performance.md ("ninth round"). Not part of CI.
#
#   bench/simulate.sh                          # this tree's bench, 3 rounds
#   bench/simulate.sh 5 /tmp/model-50baa6f     # 5 rounds, alternating with another build's
#                                              # bench binary (target/release/deps/model-*)
#
# Why the heap is pinned: a bench iteration allocates and frees a whole run's buffers (the
# daily table alone is 1 MB). With glibc's defaults, whether the free at the end of an
# iteration gives the top of the heap back to the system (and the next iteration takes
# fresh pages again) depends on the sizes a build happens to allocate: `strace -c -e brk`
# counted 3,028 calls in 3 s for one build and 19 for another. The same simulation then runs
# in one of two states about 30% apart (2.9 against 3.8 ms on 2026-12-05; 50baa6f's 5.15 ms
# is its slow state, 4.2 ms its other). MALLOC_TRIM_THRESHOLD_ stops the shrinking, and
# MALLOC_MMAP_THRESHOLD_ (32 MiB, glibc's largest) keeps the large buffers on the heap, so
# that every build reuses its heap and the figures compare the code. `capsim run` in a fresh
# process (bench/run.sh), sweeps and Monte Carlo runs measured the same with and without.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
if ! [[ $rounds =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: bench/simulate.sh [ROUNDS] [OTHER_BENCH_BINARY...]; ROUNDS is a number, not '$rounds'" >&2
    exit 2
fi
shift || true
others=()
for b in "$@"; do
    others+=("$(realpath "$b")")
done
# The bench binary cargo builds (or finds up to date) for this tree: the path it prints.
own=$(cargo bench --bench model --no-run --message-format=json --quiet |
    sed -n 's/.*"target":{[^}]*"name":"model".*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
if [ -z "$own" ]; then
    echo "bench/simulate.sh: cargo did not name the model bench's binary" >&2
    exit 1
fi
bins=("$own" "${others[@]}")
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296
# Criterion keeps its records in CRITERION_HOME (else under the target folder): a scratch
# one, so that builds do not read each other's records.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CRITERION_HOME=$work
cd "$work"
echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-60s %s\n' bench 'model/default [low mid high]'
for _ in $(seq "$rounds"); do
    for b in "${bins[@]}"; do
        # An older build's bench may fail after this group (its other groups read files of
        # its own tree): the line is what counts.
        line=$({ "$b" --bench model/default --warm-up-time 2 --measurement-time 4 --noplot 2>&1 || true; } |
            grep '^model/default' | sed -E 's/.*time: *//' || true)
        printf '%-60s %s\n' "$b" "${line:-(no result)}"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
