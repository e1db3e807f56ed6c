#!/usr/bin/env bash
# The simulate-only default run in process (criterion's `model/default`: `simulate` of the
# built-in scenario, which records every column and the ledger), side by side with other
# builds of the same bench, with glibc's allocator pinned. Issue 15's simulate target is this
# figure; results in docs/performance.md. Not part of CI.
#
#   bench/simulate.sh                          # this tree's bench, 3 rounds
#   bench/simulate.sh 5 /tmp/model-50baa6f     # 5 rounds, alternating with another build's
#                                              # bench binary (target/release/deps/model-*)
#
# Why the allocator is pinned: a bench iteration allocates and frees a run's buffers (the
# daily table alone is 1 MB). With glibc's defaults, whether those come back as fresh
# mmap'd pages or as reused heap depends on the sizes a build happens to allocate, and the
# same simulation then runs in one of two states about 30% apart (2.9 against 3.8 ms for one
# build on 2026-12-05; 50baa6f's 5.15 ms was the slow state). MALLOC_MMAP_THRESHOLD_ and
# MALLOC_TRIM_THRESHOLD_ keep every build on reused heap, so the figures compare the code.
# A `capsim run` in a fresh process (bench/run.sh) and Monte Carlo runs measured no
# difference between the two settings.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
cargo bench --bench model --no-run --quiet 2>/dev/null
own=$(ls -t "$PWD/${CARGO_TARGET_DIR:-target}"/release/deps/model-* | grep -v '\.d$' | head -n 1)
bins=("$own" "$@")
# Criterion keeps its records under the working directory: a scratch one, so that builds
# do not read each other's records (nor an older build this tree's files).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=4294967296
echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-60s %s\n' bench 'model/default [low mid high]'
for _ in $(seq "$rounds"); do
    for b in "${bins[@]}"; do
        # An older build's bench may fail after this group (its other groups read files of
        # its own tree): the line is what counts.
        line=$({ "$b" --bench model/default --warm-up-time 2 --measurement-time 4 --noplot 2>&1 || true; } |
            grep '^model/default' | sed -E 's/.*time: *//' || true)
        printf '%-60s %s\n' "$b" "$line"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
