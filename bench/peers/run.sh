#!/usr/bin/env bash
# Peer comparison: the same M/M/1 queue in capsim (crates/capsim-engine/examples/mm1.rs), SimPy and Ciw.
#
#   bench/peers/run.sh                 # λ = 0.9, μ = 1.0, 1,000,000 customers each
#   CIW_CUSTOMERS=200000 bench/peers/run.sh
#
# Creates bench/peers/.venv (gitignored), installs the pinned simpy and ciw from PyPI
# (requirements.txt), builds capsim's example in release, runs all three, prints customers per
# second, the ratios capsim/SimPy and capsim/Ciw, and checks that every mean wait in queue
# agrees with Erlang C and with the others within 4 standard errors (exit 1 if not).
# Not part of CI: it needs PyPI and takes about two minutes on 2 cores.
#
# Environment: CUSTOMERS (1000000), CIW_CUSTOMERS (= CUSTOMERS), LAMBDA (0.9), MU (1.0),
# SEED (1), CAPSIM_REPEATS (5), PEER_REPEATS (1), PYTHON (python3), CARGO_TARGET_DIR.
# Customers per second are the median over the repeats; the wall time of each is the
# simulation alone (no start-up, no parsing, no report).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
customers="${CUSTOMERS:-1000000}"
ciw_customers="${CIW_CUSTOMERS:-$customers}"
lambda="${LAMBDA:-0.9}"
mu="${MU:-1.0}"
seed="${SEED:-1}"
capsim_repeats="${CAPSIM_REPEATS:-5}"
peer_repeats="${PEER_REPEATS:-1}"
python="${PYTHON:-python3}"
venv="$here/.venv"
results="$here/results"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "creating $venv" >&2
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

echo "building capsim's mm1 example (release)" >&2
(cd "$root" && cargo build --quiet --release --example mm1)
mm1="${CARGO_TARGET_DIR:-$root/target}/release/examples/mm1"

mkdir -p "$results"
out="$results/latest.jsonl"
: > "$out"

rates=(--arrival-rate "$lambda" --service-rate "$mu" --seed "$seed")
echo "capsim: $customers customers x $capsim_repeats" >&2
for _ in $(seq "$capsim_repeats"); do
    "$mm1" --customers "$customers" "${rates[@]}" |
        "$venv/bin/python" -c 'import json,sys; d=json.loads(sys.stdin.read()); d["simulator"]="capsim"; print(json.dumps(d))' >> "$out"
done
echo "simpy: $customers customers x $peer_repeats" >&2
for _ in $(seq "$peer_repeats"); do
    "$venv/bin/python" "$here/mm1_simpy.py" --customers "$customers" "${rates[@]}" >> "$out"
done
echo "ciw: $ciw_customers customers x $peer_repeats" >&2
for _ in $(seq "$peer_repeats"); do
    "$venv/bin/python" "$here/mm1_ciw.py" --customers "$ciw_customers" "${rates[@]}" >> "$out"
done

"$venv/bin/python" "$here/summarise.py" --arrival-rate "$lambda" --service-rate "$mu" "$out"
