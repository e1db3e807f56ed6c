#!/usr/bin/env bash
# Redraws every picture under docs/img from the commands the docs show beside it, so that the
# pictures are the current model's: README's two charts of the default scenario, backtest.md's
# backtest of the baseline, outputs.md's Monte Carlo charts, whatif.md's sweep, heatmap,
# tornado and solves, and scenarios.md's chart of each library scenario. Runs the release
# build of this tree (built first), or the capsim binary given; writes its runs to a
# temporary folder and copies each chart over its picture. About 15 seconds on 2 cores after
# the build. Not part of CI: look at the pictures (and at the figures the docs quote beside
# them) before committing them.
#
#   docs/img/redraw.sh                  # build, then redraw every picture
#   docs/img/redraw.sh /tmp/capsim      # with another binary
set -euo pipefail
# The binary given is found from where the script was called, before moving to the tree.
given=${1:+$(realpath "$1")}
cd "$(dirname "$0")/../.."
if [ -n "$given" ]; then
    capsim=$given
else
    cargo build --release --quiet
    capsim=$PWD/target/release/capsim
fi
if [ ! -x "$capsim" ]; then
    echo "docs/img/redraw.sh: $capsim is not an executable capsim" >&2
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
img=docs/img

# run NAME ARGS...: `capsim ARGS... --out $work/NAME`, its output kept for a failure.
run() {
    local name=$1
    shift
    if ! "$capsim" "$@" --out "$work/$name" >"$work/$name.log" 2>&1; then
        echo "docs/img/redraw.sh: capsim $* failed:" >&2
        cat "$work/$name.log" >&2
        exit 1
    fi
}
# put NAME CHART PICTURE: copies chart CHART of run NAME to docs/img/PICTURE.
put() {
    if [ ! -f "$work/$1/charts/$2.png" ]; then
        echo "docs/img/redraw.sh: run $1 drew no chart $2 (for $img/$3.png)" >&2
        exit 1
    fi
    cp "$work/$1/charts/$2.png" "$img/$3.png"
    echo "$img/$3.png  <-  $2 of $1"
    drawn+=("$img/$3.png")
}
drawn=()

# README.md: the built-in scenario.
run default run
put default capacity_demand default-capacity-demand
put default supply default-supply

# docs/backtest.md.
run backtest backtest scenarios/baseline.yaml
put backtest backtest baseline-backtest

# docs/outputs.md: Monte Carlo.
run montecarlo run scenarios/uncertain.yaml --reps 300
put montecarlo fan_capacity_demand montecarlo-fan-capacity-demand
put montecarlo pause_probability montecarlo-pause-probability
put montecarlo hist_pause_days montecarlo-hist-pause-days
put montecarlo hist_lost_revenue montecarlo-hist-lost-revenue

# docs/whatif.md.
cowos='supply.packaging_lines.CoWoS-S.capacity_wafers_per_month+'
run sweep sweep scenarios/baseline.yaml --metric shortage_days --vary "$cowos=0..40000:9"
put sweep sweep_shortage_days whatif-sweep
run heatmap sweep scenarios/baseline.yaml --metric shortage_days \
    --vary "$cowos=0..20000:5" --vary 'supply.hbm.stacks_per_month+=0..4000000:5'
put heatmap sweep_shortage_days_heatmap whatif-heatmap
run tornado sensitivity scenarios/baseline.yaml --metric shortage_days
put tornado tornado_shortage_days whatif-tornado
run solve solve scenarios/baseline.yaml --vary "$cowos" --range 0..40000 \
    --target 'shortage_days <= 700'
put solve solve_shortage_days whatif-solve
run solve-unmet solve scenarios/baseline.yaml --vary "$cowos" --from 2023-06 \
    --range 0..40000 --target 'shortage_days <= 200'
put solve-unmet solve_shortage_days whatif-solve-unmet

# docs/scenarios.md: each picture is named <scenario>-<chart>.png (chart names have no `-`).
for picture in "$img"/scenarios/*.png; do
    base=$(basename "$picture" .png)
    chart=${base##*-}
    scenario=${base%-*}
    if [ "$chart" = "$base" ] || [ ! -f "scenarios/$scenario.yaml" ]; then
        echo "docs/img/redraw.sh: $picture is not <scenario>-<chart>.png of a scenario in scenarios/" >&2
        exit 1
    fi
    [ -d "$work/scenario-$scenario" ] || run "scenario-$scenario" run "scenarios/$scenario.yaml"
    put "scenario-$scenario" "$chart" "scenarios/$base"
done

# A picture this script does not draw would go stale unseen: name it.
stale=0
while IFS= read -r -d '' picture; do
    case " ${drawn[*]} " in
    *" $picture "*) ;;
    *)
        echo "docs/img/redraw.sh: $picture is drawn by no command here; add it" >&2
        stale=1
        ;;
    esac
done < <(find "$img" -name '*.png' -print0)
exit "$stale"
