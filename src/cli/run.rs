//! `capsim run`: one run, `--reps` replications, or a shard of them.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::common::{describe, load, names, render_failed, shard_done, write};
use super::ui::{Failure, Problem, Ui};
use super::{OutputArgs, ScenarioArgs, reps, shard};
use crate::model;
use crate::montecarlo;
use crate::report;

pub const AFTER_HELP: &str = "Examples:
  capsim run                                  # the built-in default scenario
  capsim run scenarios/default.yaml --out /tmp/base
  capsim run my.yaml --set supply.packaging_lines.CoWoS-S.capacity_wafers_per_month=20000
  capsim run my.yaml --seed 7 --quiet
  capsim run my.yaml --json | jq .summary.shortage_days

Outputs go to output/<scenario name>/ unless --out names a folder: timeseries.csv,
summary.json, events.csv, ledger.csv, manifest.json (see docs/outputs.md), and unless
--no-charts, charts/*.png|svg, report.md and report.html. With --json, stdout is
{scenario, out_dir, files, summary, warnings}.";

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Skip the charts, report.md and report.html (data files only).
    #[arg(long)]
    pub no_charts: bool,
    /// Monte Carlo: run N replications in parallel and write percentile bands.
    ///
    /// Each replication samples the scenario's distributions and draws its noise from
    /// streams of (seed, replication, name). Adds bands.csv and replications.csv; the
    /// other files are those of the replication nearest the median, and summary.json
    /// gains `replications` (percentiles, mean and confidence interval of every metric).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub reps: Option<u64>,
    /// Add replications until the confidence interval (95% unless --confidence) of METRIC's
    /// mean is within ±HALF_WIDTH.
    ///
    /// Checked after every 64 replications (at least 30 run); stops at --reps (default
    /// 10000) if never met. METRIC is a summary metric as in `expect:`, e.g.
    /// pause_days, lost_revenue_usd, fleet_end.H100.
    #[arg(long, value_name = "METRIC=HALF_WIDTH")]
    pub until_ci: Option<montecarlo::UntilCi>,
    /// With --reps or --until-ci: the level of the confidence intervals of the means, a number
    /// between 0 and 1 [default: 0.95].
    ///
    /// Their keys and columns name it: ci95_low and ci95_high at 0.95, ci90_low at 0.9,
    /// ci99_5_low at 0.995. --until-ci watches the interval at this level.
    #[arg(long, value_name = "LEVEL")]
    pub confidence: Option<montecarlo::Confidence>,
    /// With --reps: run only shard K of N (from 0), `auto/N` (K from SLURM_ARRAY_TASK_ID,
    /// JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX) or replications A..B.
    ///
    /// Writes a shard folder (partial results) for `capsim merge`; see docs/scale.md.
    #[arg(
        long,
        value_name = "K/N|auto/N|A..B",
        requires = "reps",
        conflicts_with = "until_ci"
    )]
    pub shard: Option<crate::shard::Spec>,
    /// Also write the daily series in long form, one row an observation
    /// (timeseries_long.csv: date,metric,entity,value,unit), and units.csv.
    #[arg(long)]
    pub tidy: bool,
    /// Also write the daily series as Parquet: timeseries.parquet (the wide table) and
    /// timeseries_long.parquet (the long one), for pandas, Polars, DuckDB or Spark.
    ///
    /// Needs a capsim built with the cargo feature `parquet` (`cargo install --features
    /// parquet`); others refuse the flag with exit code 2.
    #[arg(long)]
    pub parquet: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `capsim run --json`.
#[derive(Serialize)]
struct RunDoc<'a> {
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    summary: &'a model::Summary,
    warnings: &'a [Problem],
}

pub fn run(ui: &Ui, o: RunArgs) -> Result<(), Failure> {
    if o.parquet && !report::PARQUET_BUILT {
        return Err(Failure::bad_input(vec![Problem::error(
            report::PARQUET_MISSING.to_string(),
        )]));
    }
    if o.reps.is_some() || o.until_ci.is_some() {
        return run_reps(ui, o);
    }
    if o.confidence.is_some() {
        return Err(Failure::bad_input(vec![Problem::error(
            "--confidence sets the level of the confidence intervals of a Monte Carlo run; \
             give --reps N (or --until-ci) with it"
                .to_string(),
        )]));
    }
    let started = Instant::now();
    let charts = !o.no_charts;
    let s = &o.scenario;
    let extras = report::Extras {
        charts,
        tidy: o.tidy,
        parquet: o.parquet,
    };
    let r = super::common::simulate_and_render(ui, s.scenario.as_deref(), &s.sets, s.seed, extras)?;
    let dir = o
        .scenario
        .out
        .unwrap_or_else(|| PathBuf::from("output").join(&r.name));
    write(ui, &dir, &r.files)?;
    ui.doc(&RunDoc {
        scenario: &r.name,
        out_dir: dir.display().to_string(),
        files: names(&r.files),
        summary: &r.summary,
        warnings: &r.warnings,
    })?;
    let mut what = report::OUTPUT_FILES.join(", ");
    if r.files.iter().any(|(n, _)| n == "backtest.csv") {
        what.push_str(", backtest.csv");
    }
    if o.tidy {
        what.push_str(", timeseries_long.csv, units.csv");
    }
    if o.parquet {
        what.push_str(", timeseries.parquet, timeseries_long.parquet");
    }
    if charts {
        what.push_str(", report.md, report.html, charts/");
    }
    ui.say(&format!(
        "{}outputs: {}/ ({what})\nsimulated {} days in {:.1} ms ({:.1} ms in all)\n",
        describe(&r.summary),
        dir.display(),
        r.summary.days,
        r.sim_ms,
        started.elapsed().as_secs_f64() * 1e3
    ))
}

/// `capsim run --reps N --json`.
#[derive(Serialize)]
struct RunRepsDoc<'a> {
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    replications: u64,
    representative: u64,
    /// The summary.json written: the representative's summary and `replications`.
    summary: serde_json::Value,
    warnings: &'a [Problem],
}

fn run_reps(ui: &Ui, o: RunArgs) -> Result<(), Failure> {
    if let Some(spec) = &o.shard {
        return run_shard(ui, &o, spec);
    }
    let started = Instant::now();
    let s = &o.scenario;
    let (loaded, warnings) = load(ui, s.scenario.as_deref(), &s.sets)?;
    let seed = s.seed.unwrap_or(loaded.scenario.seed);
    let asked = o.reps.unwrap_or(reps::DEFAULT_MAX_REPS);
    let until_text = o
        .until_ci
        .as_ref()
        .map(|u| format!("{}={}", u.metric, u.half_width));
    let sim_start = Instant::now();
    let confidence = o.confidence.unwrap_or_default();
    let outcome = reps::replicate(
        ui,
        &loaded,
        seed,
        asked,
        o.until_ci.clone(),
        confidence,
        "running",
    )?;
    let sim_s = sim_start.elapsed().as_secs_f64();
    let extras = report::Extras {
        charts: !o.no_charts,
        tidy: o.tidy,
        parquet: o.parquet,
    };
    let files = reps::render(
        &loaded,
        &outcome,
        &s.sets,
        until_text.as_deref(),
        asked,
        extras,
    )
    .map_err(render_failed)?;
    let name = loaded.scenario.name.clone();
    let dir = s
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&name));
    write(ui, &dir, &files)?;
    let summary = files
        .iter()
        .find(|(n, _)| n == "summary.json")
        .and_then(|(_, b)| serde_json::from_slice(b).ok())
        .unwrap_or(serde_json::Value::Null);
    ui.doc(&RunRepsDoc {
        scenario: &name,
        out_dir: dir.display().to_string(),
        files: names(&files),
        replications: outcome.reps,
        representative: outcome.representative,
        summary,
        warnings: &warnings,
    })?;
    let mut what = report::OUTPUT_FILES.join(", ");
    what.push_str(", bands.csv, replications.csv");
    if o.tidy {
        what.push_str(", timeseries_long.csv, units.csv");
    }
    if o.parquet {
        what.push_str(", timeseries.parquet, timeseries_long.parquet");
    }
    if !o.no_charts {
        what.push_str(", report.md, report.html, charts/");
    }
    ui.say(&format!(
        "scenario {name} ({} to {})\n{}outputs: {}/ ({what})\nsimulated {} in {:.2} s ({:.2} s in all)\n",
        loaded.scenario.calendar.date(0).format("%Y-%m-%d"),
        loaded.scenario.calendar.date(loaded.scenario.days - 1).format("%Y-%m-%d"),
        reps::describe(&outcome),
        dir.display(),
        crate::format::replications(outcome.reps),
        sim_s,
        started.elapsed().as_secs_f64()
    ))
}

/// `capsim run --reps N --shard SPEC`: the shard's replications, as a shard folder.
fn run_shard(ui: &Ui, o: &RunArgs, spec: &crate::shard::Spec) -> Result<(), Failure> {
    let started = Instant::now();
    let s = &o.scenario;
    let (loaded, _warnings) = load(ui, s.scenario.as_deref(), &s.sets)?;
    let seed = s.seed.unwrap_or(loaded.scenario.seed);
    let total = o.reps.unwrap_or(reps::DEFAULT_MAX_REPS);
    let sh = shard::resolve(spec, total, "replications")?;
    let confidence = o.confidence.unwrap_or_default();
    let outcome = reps::replicate_range(ui, &loaded, seed, total, sh.first..sh.end, confidence)?;
    let mut doc = shard::ShardDoc::new(
        "run",
        &loaded.scenario.name,
        &loaded.hash,
        seed,
        sh,
        invocation(o, total),
    );
    doc.layout = Some(outcome.layout.clone());
    let files = vec![
        ("shard.json".to_string(), doc.to_bytes()?),
        ("replications.state".to_string(), outcome.metrics_state()),
        ("bands.state".to_string(), outcome.bands_state()),
        (
            "replications.csv".to_string(),
            report::montecarlo::replications_csv(&outcome).map_err(render_failed)?,
        ),
    ];
    let dir = shard_dir(s.out.as_deref(), &loaded.scenario.name, &sh);
    write(ui, &dir, &files)?;
    shard_done(ui, &doc, &dir, &files, started)
}

/// What a `run --reps` shard records of its options in `shard.json`, for `capsim merge`
/// (the seed is the document's own). `tidy` and `parquet` only when set, `confidence` only
/// when not 0.95, so older shards read the same.
fn invocation(o: &RunArgs, total: u64) -> serde_json::Value {
    let s = &o.scenario;
    let mut inv = serde_json::json!({
        "scenario": s.scenario.as_ref().map(|p| p.display().to_string()),
        "sets": s.sets,
        "reps": total,
        "charts": !o.no_charts,
    });
    if o.tidy {
        inv["tidy"] = serde_json::Value::Bool(true);
    }
    if o.parquet {
        inv["parquet"] = serde_json::Value::Bool(true);
    }
    if let Some(c) = o.confidence.filter(|c| !c.is_default()) {
        inv["confidence"] = serde_json::json!(c);
    }
    inv
}

/// The default folder of a shard: `output/<name>.shard-<first>-<end>`.
fn shard_dir(out: Option<&Path>, name: &str, sh: &crate::shard::Shard) -> PathBuf {
    out.map(Path::to_path_buf).unwrap_or_else(|| {
        PathBuf::from("output").join(format!("{name}.shard-{}-{}", sh.first, sh.end))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// Options of `run` a shard does not record in its invocation: where it writes, the
    /// shard itself, `--until-ci` (refused with `--shard`), the seed (`shard.json`'s own),
    /// and the output and global options.
    const NOT_RECORDED: [&str; 10] = [
        "out", "shard", "until_ci", "seed", "quiet", "json", "color", "jobs", "help", "version",
    ];

    #[test]
    fn a_run_shard_records_every_option_merge_needs() {
        let cli = crate::cli::Cli::try_parse_from([
            "capsim",
            "run",
            "s.yaml",
            "--set",
            "end=2024-01",
            "--reps",
            "4",
            "--shard",
            "0/2",
            "--no-charts",
            "--tidy",
            "--parquet",
            "--confidence",
            "0.9",
        ])
        .expect("parses");
        let crate::cli::Command::Run(o) = cli.command else {
            panic!("not run")
        };
        let inv = invocation(&o, 4);
        for arg in crate::cli::command()
            .find_subcommand("run")
            .expect("run")
            .get_arguments()
        {
            let id = arg.get_id().as_str();
            let key = match id {
                "no_charts" => "charts",
                other => other,
            };
            assert!(
                NOT_RECORDED.contains(&id) || inv.get(key).is_some(),
                "`capsim run --{id}` is not recorded in a shard's invocation, so `capsim \
                 merge` would not redo it"
            );
        }
    }
}
