//! `capsim sensitivity`: inputs ranked by their effect on one metric (the work is in
//! `cli::whatif`).

use clap::Args;

use super::ui::{Failure, Ui};
use super::{OutputArgs, WhatIfArgs, whatif};

pub const AFTER_HELP: &str = "Examples:
  capsim sensitivity scenarios/baseline.yaml --metric pause_days
  capsim sensitivity my.yaml --metric lost_revenue_usd --delta 10%
  capsim sensitivity my.yaml --metric pause_days \\
      --params products.H100.packaging_yield,supply.hbm.stacks_per_month

Each numeric input (every number, and every timeline as a whole) is lowered and raised by
delta, one at a time, and the metric measured; inputs whose change does not load (a share
above 1, say) are listed with the reason. Writes sensitivity.csv (ranked by swing), the
tornado chart charts/tornado_<metric>.png|svg unless --no-charts, and manifest.json to
output/sensitivity-<scenario>/ unless --out. See docs/whatif.md.";

#[derive(Debug, Args)]
pub struct SensitivityArgs {
    #[command(flatten)]
    pub common: WhatIfArgs,
    /// The summary metric to explain (as in `expect:`), e.g. pause_days.
    #[arg(long, value_name = "METRIC")]
    pub metric: String,
    /// How far each input moves down and up: a share (0.2) or a percentage (20%).
    #[arg(long, value_name = "DELTA", default_value = "20%", value_parser = parse_delta)]
    pub delta: f64,
    /// Only these inputs (comma-separated paths) [default: every numeric input].
    #[arg(long, value_name = "PATH,...", value_delimiter = ',')]
    pub params: Vec<String>,
    /// Run only shard K of N of the runs (the base, then each input lowered and raised),
    /// `auto/N` or runs A..B; writes a shard folder for `capsim merge` (docs/scale.md).
    #[arg(long, value_name = "K/N|auto/N|A..B")]
    pub shard: Option<crate::shard::Spec>,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_delta(s: &str) -> Result<f64, String> {
    let d = crate::whatif::number(s.trim())?;
    if d > 0.0 && d < 1.0 {
        Ok(d)
    } else {
        Err(format!("`{s}` must be between 0 and 100% (exclusive)"))
    }
}

pub fn run(ui: &Ui, a: SensitivityArgs) -> Result<(), Failure> {
    whatif::sensitivity(
        ui,
        &a.common.common(),
        &a.metric,
        a.delta,
        &a.params,
        a.shard.as_ref(),
    )
}
