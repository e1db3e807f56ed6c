//! `capsim sweep`: a scenario run over a grid of input values (the work is in `cli::whatif`).

use clap::Args;

use super::args::parse_from;
use super::ui::{Failure, Problem, Ui};
use super::{OutputArgs, WhatIfArgs, whatif};

pub const AFTER_HELP: &str = "Examples:
  capsim sweep scenarios/baseline.yaml --metric shortage_days \\
      --vary 'supply.packaging_lines.CoWoS-S.capacity_wafers_per_month+=0..40000:9'
  capsim sweep my.yaml --vary products.H100.power_w=600,700,800 --vary sites.0.pue=1.1,1.3
  capsim sweep my.yaml --vary 'segments.paid.pause.pause_above=1.0..1.5:6' --reps 200

PATH is a field as for --set (list items by name). `PATH=V1,V2,...` or `PATH=LO..HI:STEPS`
sets the field to each value (a timeline becomes constant); `PATH+=...` adds each value to
it (to every point of a timeline). Every combination is run, with one seed for all (common
random numbers). Writes sweep.csv (one row per point: the values, then every summary
metric, with percentiles under --reps), charts/sweep_<metric>.png|svg (and, with two --vary,
charts/sweep_<metric>_heatmap.png|svg) unless --no-charts, and manifest.json to
output/sweep-<scenario>/ unless --out. See docs/whatif.md.";

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub common: WhatIfArgs,
    /// A field and its values: PATH=V1,V2,... | PATH=LO..HI:STEPS | PATH+=... (repeatable).
    #[arg(long, required = true, value_name = "PATH=VALUES")]
    pub vary: Vec<crate::whatif::Vary>,
    /// The metric printed per point (any key of summary.json, e.g. shortage_days).
    #[arg(long, value_name = "METRIC", default_value = "pause_days")]
    pub metric: String,
    /// Additions (`+=`) apply from this date on only (YYYY-MM or YYYY-MM-DD): a step up on
    /// that day, the timeline unchanged before it.
    #[arg(long, value_name = "DATE", value_parser = parse_from)]
    pub from: Option<chrono::NaiveDate>,
    /// Run only shard K of N of the points (from 0), `auto/N` (K from SLURM_ARRAY_TASK_ID,
    /// JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX) or points A..B; writes a shard
    /// folder for `capsim merge` (docs/scale.md).
    #[arg(long, value_name = "K/N|auto/N|A..B")]
    pub shard: Option<crate::shard::Spec>,
    /// With --reps: the level of the confidence intervals of sweep.csv's means, a number
    /// between 0 and 1 [default: 0.95]; their columns name it (`<metric>.ci95_low` at 0.95,
    /// `<metric>.ci90_low` at 0.9).
    #[arg(long, value_name = "LEVEL", requires = "reps")]
    pub confidence: Option<crate::montecarlo::Confidence>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(ui: &Ui, a: SweepArgs) -> Result<(), Failure> {
    confidence_needs_reps(a.confidence.is_some(), a.common.reps)?;
    let c = whatif::Common {
        from: a.from,
        confidence: a.confidence.unwrap_or_default(),
        ..a.common.common()
    };
    whatif::sweep(ui, &c, &a.vary, &a.metric, a.shard.as_ref())
}

/// `--confidence` of a sweep names the interval of `sweep.csv`'s means, which only a sweep of
/// two or more replications a point has: refused otherwise (as docs/cli.md says), rather than
/// recorded in the manifest for columns that are not there.
pub fn confidence_needs_reps(confidence: bool, reps: u64) -> Result<(), Failure> {
    if confidence && reps < 2 {
        return Err(Failure::bad_input(vec![Problem::error(format!(
            "--confidence needs --reps 2 or more: with {reps} replication a point, sweep.csv \
             has no confidence interval"
        ))]));
    }
    Ok(())
}
