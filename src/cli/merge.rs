//! `capsim merge`: shard folders joined into the outputs of one whole run.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::common::{load, names, render_failed, write};
use super::ui::{Failure, Ui};
use super::{OutputArgs, reps, shard, whatif};
use crate::report;
use crate::scenario::Loaded;

pub const AFTER_HELP: &str = "Examples:
  capsim run my.yaml --reps 10000 --shard 0/4 --out shards/0   # ... and 1/4, 2/4, 3/4
  capsim merge shards/* --out output/my

The shards must come from one command (same capsim, scenario, overrides, seed and
arguments) and cover its replications or points exactly once; otherwise merge refuses,
naming the shard. The outputs are those one process running all the work writes, byte
for byte: run --reps (summary.json, bands.csv, replications.csv, the representative's
files, charts, report.md), sweep.csv, sensitivity.csv. A relative scenario path is read
from the current folder, as the shards read it. See docs/scale.md.";

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard folders, in any order.
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub shards: Vec<PathBuf>,
    /// Output folder (new, empty or written by capsim).
    #[arg(long, value_name = "DIR", required = true)]
    pub out: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `capsim merge --json`.
#[derive(Serialize)]
struct MergeDoc<'a> {
    command: &'a str,
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    shards: usize,
    total: u64,
}

/// The scenario of the shards, loaded as they loaded it, and its overrides; refused if it
/// is not what they ran (its hash differs).
fn load_for_merge(ui: &Ui, parts: &[shard::Part]) -> Result<(Loaded, Vec<String>), Failure> {
    let first = &parts[0];
    let inv = &first.doc.invocation;
    let path = inv
        .get("scenario")
        .and_then(serde_json::Value::as_str)
        .map(PathBuf::from);
    let sets: Vec<String> = inv
        .get("sets")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| first.error("shard.json has no `invocation.sets`"))?;
    let (loaded, _) = load(ui, path.as_deref(), &sets)?;
    shard::check_scenario(parts, &loaded)?;
    Ok((loaded, sets))
}

/// `capsim merge`.
pub fn run(ui: &Ui, a: MergeArgs) -> Result<(), Failure> {
    let (dirs, out) = (&a.shards, a.out.as_path());
    let started = Instant::now();
    let parts = shard::read_parts(dirs)?;
    let command = parts[0].doc.command.clone();
    let total = parts[0].doc.shard.total;
    let files = match command.as_str() {
        "run" => {
            let (loaded, sets) = load_for_merge(ui, &parts)?;
            let mut merged = shard::merge_run(&parts)?;
            if let Some(level) = parts[0].doc.invocation.get("confidence") {
                merged.confidence = serde_json::from_value(level.clone()).map_err(|e| {
                    parts[0].error(format!("shard.json `invocation.confidence`: {e}"))
                })?;
            }
            let flag = |k| parts[0].doc.invocation.get(k) == Some(&serde_json::Value::Bool(true));
            let extras = report::Extras {
                charts: flag("charts"),
                tidy: flag("tidy"),
                parquet: flag("parquet"),
            };
            if extras.parquet && !report::PARQUET_BUILT {
                return Err(parts[0]
                    .error(format!(
                        "the shards ran with --parquet, but {}",
                        report::PARQUET_MISSING
                    ))
                    .into());
            }
            reps::render(&loaded, &merged, &sets, None, total, extras).map_err(render_failed)?
        }
        "sweep" => whatif::sweep_merge(ui, &parts)?,
        "sensitivity" => whatif::sensitivity_merge(ui, &parts)?,
        other => {
            return Err(parts[0]
                .error(format!("`{other}` is not a command capsim can merge"))
                .into());
        }
    };
    write(ui, out, &files)?;
    ui.doc(&MergeDoc {
        command: &command,
        scenario: &parts[0].doc.scenario,
        out_dir: out.display().to_string(),
        files: names(&files),
        shards: parts.len(),
        total,
    })?;
    ui.say(&format!(
        "merged {} shards of {} of {} ({} {}) in {:.2} s\noutputs: {}/ ({})\n",
        parts.len(),
        command,
        parts[0].doc.scenario,
        total,
        shard::unit(&command),
        started.elapsed().as_secs_f64(),
        out.display(),
        names(&files).join(", ")
    ))
}
