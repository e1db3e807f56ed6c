#!/usr/bin/env bash
# A sharded run and a sharded sweep on a real Slurm cluster (issue 14), from .ci/run.
#
# 1. Installs Debian's slurm-wlm and munge if they are missing (needs root; CI runs as root).
# 2. Starts a one-node cluster on localhost: munged, slurmctld and slurmd, each in the
#    foreground of its own process, with a minimal slurm.conf, key, sockets, state and logs
#    under a temporary folder (nothing under /etc is changed; ports 16817-16818).
# 3. Submits `capsim slurm run ... --submit` and `capsim slurm sweep ... --submit`.
# 4. Waits for both merge jobs.
# 5. Checks that each merged folder equals a single-process run, byte for byte.
# 6. Stops every daemon it started, by its PID, and removes the folder.
#
# Usage: .ci/slurm-test.sh   (CAPSIM=path/to/capsim to test another build)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v slurmctld >/dev/null || need+=(slurm-wlm)
command -v munged >/dev/null || need+=(munge)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "slurm-test: ${need[*]} missing, and installing needs root" >&2
        exit 1
    fi
    echo "slurm-test: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

if [ -z "${CAPSIM:-}" ]; then
    # With the tests, as `cargo test` builds it: the same features, so after `cargo test`
    # (as in .ci/run) nothing is rebuilt.
    cargo build --locked --quiet --bins --tests
    CAPSIM=$(cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug/capsim
fi
capsim=$(realpath "$CAPSIM")
started=$(date +%s)

tmp=$(mktemp -d /tmp/capsim-slurm.XXXXXX)
chmod 700 "$tmp"
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        # Wait (at most 10 s) for each daemon to exit, then make sure.
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ "$status" != 0 ]; then
        echo "slurm-test: FAILED; the daemons' logs:" >&2
        tail -n 20 "$tmp"/*.log "$tmp"/*.out >&2 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

host=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/munge"
chmod 700 "$tmp/munge"

# munge: its own key and socket.
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munged --foreground --force --key-file="$tmp/munge/munge.key" \
    --socket="$tmp/munge/munge.socket" --pid-file="$tmp/munge/munged.pid" \
    --seed-file="$tmp/munge/munged.seed" --log-file="$tmp/munged.log" \
    >"$tmp/munged.out" 2>&1 &
pids+=($!)

cat > "$tmp/slurm.conf" <<EOF
ClusterName=capsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/munge.socket
CredType=cred/munge
SlurmUser=$(id -un)
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=capsim Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf

# Wait for munged's socket before the Slurm daemons use it.
for _ in $(seq 50); do [ -S "$tmp/munge/munge.socket" ] && break; sleep 0.2; done
slurmctld -D -i -f "$SLURM_CONF" >"$tmp/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N "$host" -f "$SLURM_CONF" >"$tmp/slurmd.out" 2>&1 &
pids+=($!)

for i in $(seq 120); do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    case "$state" in idle*) break ;; esac
    [ "$i" = 120 ] && { echo "slurm-test: the node is not idle after 60 s ($state)" >&2; exit 1; }
    sleep 0.5
done
echo "slurm-test: one-node cluster up in $(( $(date +%s) - started )) s"

# Waits for a job to leave the queue; fails if its dependency can never be met.
wait_job() {
    local job=$1
    for _ in $(seq 600); do
        local line
        line=$(squeue -h -j "$job" -o '%T %r' 2>/dev/null || true)
        [ -z "$line" ] && return 0
        case "$line" in *DependencyNeverSatisfied*)
            echo "slurm-test: job $job will never run: a shard failed ($line)" >&2
            tail -n 20 "$tmp"/jobs-*/*.log >&2 || true
            return 1 ;;
        esac
        sleep 0.5
    done
    echo "slurm-test: job $job still queued after 300 s" >&2
    return 1
}

cd "$tmp"
# capsim's warnings (the short horizon ends before some products ship) go to a log, shown
# on failure.
exec 3>&2 2>>"$tmp/capsim.log"
sets=(--set end=2023-06 --set products.H100.annual_failure_rate=0.9)
# 3 shards of 150 replications: boundaries 50 and 100, multiples of no batch size.
"$capsim" run --reps 150 "${sets[@]}" --quiet --out single-run
"$capsim" sweep --vary 'products.H100.power_w=600..800:29' --metric shortage_days \
    "${sets[@]}" --quiet --out single-sweep
submitted=$("$capsim" slurm run --reps 150 "${sets[@]}" --shards 3 --partition capsim \
    --time 00:10:00 --dir jobs-run --out merged-run --submit)
echo "slurm-test: run: $submitted"
run_merge=${submitted##*merge job }
submitted=$("$capsim" slurm sweep --vary 'products.H100.power_w=600..800:29' \
    --metric shortage_days "${sets[@]}" --shards 4 --dir jobs-sweep --out merged-sweep --submit)
echo "slurm-test: sweep: $submitted"
sweep_merge=${submitted##*merge job }
wait_job "$run_merge"
wait_job "$sweep_merge"
exec 2>&3

for what in run sweep; do
    if [ ! -f "merged-$what/manifest.json" ]; then
        echo "slurm-test: the merge of the $what wrote nothing" >&2
        cat "jobs-$what"/*.log >&2 || true
        exit 1
    fi
    diff -r "single-$what" "merged-$what"
    echo "slurm-test: sharded $what on Slurm = single process, byte for byte ($(ls "jobs-$what/shards" | wc -l) shards)"
done
echo "slurm-test: passed in $(( $(date +%s) - started )) s"
