//! `capsim solve`: the smallest (or largest) value of one input that meets a target (the
//! work is in `cli::whatif`).

use clap::Args;

use super::args::parse_from;
use super::ui::{Failure, Ui};
use super::{OutputArgs, WhatIfArgs, whatif};

pub const AFTER_HELP: &str = "Examples:
  capsim solve scenarios/baseline.yaml \\
      --vary 'supply.packaging_lines.CoWoS-S.capacity_wafers_per_month+' --range 0..40000 \\
      --target 'shortage_days <= 700'
  capsim solve my.yaml --vary sites.0.megawatts --range 50..500 --target 'stranded_end <= 0'
  capsim solve my.yaml --vary products.H100.packaging_yield --range 0.5..1 \\
      --target 'pause_days <= 30' --reps 200 --percentile 90

A PATH ending in `+` adds the value to the field (to every point of a timeline) instead of
setting it. Nine evenly spaced values are run first; then bisection between the last that
fails and the first that meets the target, to --tolerance. If the metric is not monotone
over the values tried, the answer is flagged. Prints the answer and the runs it took; writes
solve.csv (every trial), charts/solve_<metric>.png|svg (the trials, the target, the answer)
unless --no-charts, and manifest.json to output/solve-<scenario>/ unless --out. See
docs/whatif.md.";

#[derive(Debug, Args)]
pub struct SolveArgs {
    #[command(flatten)]
    pub common: WhatIfArgs,
    /// The input, as for --set; end it with `+` to add to the field instead of setting it.
    #[arg(long, value_name = "PATH")]
    pub vary: String,
    /// The range searched: LO..HI.
    #[arg(long, value_name = "LO..HI", value_parser = parse_range)]
    pub range: (f64, f64),
    /// The target: 'METRIC <= VALUE' (or <, >=, >).
    #[arg(long, value_name = "'METRIC <= VALUE'")]
    pub target: crate::whatif::Target,
    /// Find the largest value meeting the target instead of the smallest.
    #[arg(long)]
    pub largest: bool,
    /// Stop bisecting once the bracket is this narrow [default: range / 1000; 1 for integers].
    #[arg(long, value_name = "X")]
    pub tolerance: Option<f64>,
    /// With a PATH ending in `+`: add from this date on only (YYYY-MM or YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = parse_from)]
    pub from: Option<chrono::NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_range(s: &str) -> Result<(f64, f64), String> {
    crate::whatif::parse_range(s.trim())
}

pub fn run(ui: &Ui, a: SolveArgs) -> Result<(), Failure> {
    let c = whatif::Common {
        from: a.from,
        ..a.common.common()
    };
    whatif::solve(ui, &c, &a.vary, a.range, &a.target, a.largest, a.tolerance)
}
