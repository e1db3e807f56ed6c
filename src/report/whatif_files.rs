//! The files of `capsim sweep`, `capsim sensitivity` and `capsim solve`, as bytes:
//! `sweep.csv`'s columns, `sensitivity.csv`, `solve.csv`, `runs.csv` of a sensitivity shard
//! (and read back for `capsim merge`), the charts ([`super::whatif`]) and `manifest.json`.
//! The CLI runs the points, prints and writes; it asks this module for what to write.

use serde::Serialize;
use serde_json::Value;

use super::ReportError;
use super::shard::{Part, ShardError};
use super::whatif::{self as charts, Context, DrawFn};
use crate::format::num_or_empty as num;
use crate::montecarlo::{Outcome, PERCENTILES};
use crate::whatif::{Input, Solution};

/// Output files: (name, bytes).
pub type Files = Vec<(String, Vec<u8>)>;

/// Errors of building a what-if command's files.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// `manifest.json` did not serialise.
    #[error("cannot serialise manifest.json: {0}")]
    Manifest(serde_json::Error),
    /// A CSV file could not be written into its buffer.
    #[error("cannot write {what}: {message}")]
    Csv {
        /// Which file.
        what: String,
        /// Why not.
        message: String,
    },
    /// The base run of a sensitivity analysis has no value.
    #[error("the base run has no value: {0}")]
    NoBase(String),
    /// The charts could not be drawn.
    #[error(transparent)]
    Chart(#[from] ReportError),
}

/// What `manifest.json` records of the scenario and the command, and whether to draw the
/// charts.
pub struct Meta<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// The files it was loaded from.
    pub scenario_files: &'a [String],
    /// Their hash.
    pub scenario_sha256: &'a str,
    /// Seed of every point.
    pub seed: u64,
    /// Replications per point.
    pub replications: u64,
    /// The user's `--set` overrides.
    pub overrides: &'a [String],
    /// The scenario as loaded, as JSON.
    pub resolved_scenario: &'a Value,
    /// Draw the charts (not with `--no-charts`).
    pub charts: bool,
}

/// `manifest.json` of a what-if command.
#[derive(Serialize)]
struct Manifest<'a> {
    capsim_version: &'static str,
    command: &'a str,
    scenario: &'a str,
    scenario_files: &'a [String],
    scenario_sha256: &'a str,
    seed: u64,
    replications: u64,
    overrides: &'a [String],
    arguments: Value,
    files: Vec<&'a str>,
    resolved_scenario: &'a Value,
}

fn manifest(
    m: &Meta,
    command: &str,
    arguments: Value,
    files: &[(String, Vec<u8>)],
) -> Result<Vec<u8>, FilesError> {
    let mut names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    names.push("manifest.json");
    let doc = Manifest {
        capsim_version: env!("CARGO_PKG_VERSION"),
        command,
        scenario: m.scenario,
        scenario_files: m.scenario_files,
        scenario_sha256: m.scenario_sha256,
        seed: m.seed,
        replications: m.replications,
        overrides: m.overrides,
        arguments,
        files: names,
        resolved_scenario: m.resolved_scenario,
    };
    let mut out = serde_json::to_vec_pretty(&doc).map_err(FilesError::Manifest)?;
    out.push(b'\n');
    Ok(out)
}

/// A CSV file's bytes from its header and rows; `what` names it in the error.
pub fn csv_bytes(
    header: &[String],
    rows: &[Vec<String>],
    what: &str,
) -> Result<Vec<u8>, FilesError> {
    let fail = |message: String| FilesError::Csv {
        what: what.to_string(),
        message,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(|e| fail(e.to_string()))?;
    for r in rows {
        w.write_record(r).map_err(|e| fail(e.to_string()))?;
    }
    w.into_inner().map_err(|e| fail(e.to_string()))
}

/// The charts of a command's CSV (drawn from its bytes, as `manifest.json` will record the
/// command), appended to `files`; nothing with `--no-charts`.
fn add_charts(
    m: &Meta,
    files: &mut Files,
    arguments: &Value,
    draw: DrawFn,
) -> Result<(), FilesError> {
    if !m.charts {
        return Ok(());
    }
    let ctx = Context {
        scenario: m.scenario,
        replications: m.replications,
        arguments,
    };
    let drawn = draw(&files[0].1, &ctx)?;
    files.extend(drawn);
    Ok(())
}

/// The files of a command from its CSV (the first file): the charts and `manifest.json`
/// recording `arguments`.
fn finish(
    m: &Meta,
    command: &str,
    mut files: Files,
    arguments: Value,
    draw: DrawFn,
) -> Result<Files, FilesError> {
    add_charts(m, &mut files, &arguments, draw)?;
    let manifest = manifest(m, command, arguments, &files)?;
    files.push(("manifest.json".into(), manifest));
    Ok(files)
}

/// The columns of one outcome in `sweep.csv`: every metric (with percentiles under
/// replications) and every date metric.
pub fn outcome_columns(o: &Outcome, reps: u64) -> (Vec<String>, Vec<String>) {
    let mut header = Vec::new();
    let mut row = Vec::new();
    let dates = o.date_stats();
    if reps == 1 {
        for (name, v) in o.layout.metrics.iter().zip(&o.metrics) {
            header.push(name.clone());
            row.push(num(v[0]));
        }
        for (name, v) in o.layout.dates.iter().zip(&o.dates) {
            header.push(name.clone());
            row.push(
                v[0].and_then(|d| o.layout.days.get(d as usize).cloned())
                    .unwrap_or_default(),
            );
        }
    } else {
        let (low, high) = (o.confidence.low_key(), o.confidence.high_key());
        for (name, s) in o.metric_stats() {
            for (stat, v) in [
                ("mean", s.mean),
                ("p5", s.p5),
                ("p25", s.p25),
                ("p50", s.p50),
                ("p75", s.p75),
                ("p95", s.p95),
                (low.as_str(), s.ci_low),
                (high.as_str(), s.ci_high),
            ] {
                header.push(format!("{name}.{stat}"));
                row.push(num(v));
            }
        }
        for (name, d) in dates {
            header.push(format!("{name}.probability"));
            row.push(num(d.probability));
            header.push(format!("{name}.p50"));
            row.push(d.p50.unwrap_or_default());
        }
    }
    debug_assert_eq!(PERCENTILES.len(), 5);
    (header, row)
}

/// The files of a sweep from its `sweep.csv`: the charts and `manifest.json` recording
/// `arguments`.
pub fn sweep_files(m: &Meta, arguments: Value, csv: Vec<u8>) -> Result<Files, FilesError> {
    let files = vec![("sweep.csv".to_string(), csv)];
    finish(m, "sweep", files, arguments, charts::sweep_charts)
}

/// One input's effect in `capsim sensitivity`.
#[derive(Debug, Clone, Serialize)]
pub struct Effect {
    /// The input's path.
    pub input: String,
    /// Its value as loaded (a number, or a timeline's range).
    pub base: String,
    /// The metric with the input lowered by delta, and raised.
    pub low: Option<f64>,
    /// ...
    pub high: Option<f64>,
    /// |high − low|, the ranking key.
    pub swing: f64,
    /// `ok`, or why the input was not varied.
    pub status: String,
}

/// The result of one run of a sensitivity analysis: the metric, or why its scenario did not
/// load.
pub type RunResult = Result<f64, String>;

/// What a sensitivity analysis ran and how it was asked: its inputs, its runs after the
/// base ((input, side, override)), each input's status before the runs, and the options
/// `manifest.json` records.
pub struct Sensitivity<'a> {
    /// The inputs.
    pub inputs: &'a [Input],
    /// The runs after the base: (input, side (0 lowered, 1 raised), override).
    pub jobs: &'a [(usize, usize, String)],
    /// Each input's status before the runs.
    pub status: &'a [String],
    /// The metric.
    pub metric: &'a str,
    /// The relative change of each input.
    pub delta: f64,
    /// `--params`.
    pub params: &'a [String],
    /// `--percentile`.
    pub percentile: Option<f64>,
}

/// `sensitivity.csv`, its chart and `manifest.json` from the result of every run; the
/// effects and the base value.
pub fn sensitivity_files(
    m: &Meta,
    plan: &Sensitivity,
    results: &[RunResult],
) -> Result<(Files, Vec<Effect>, f64), FilesError> {
    let (metric, delta, params) = (plan.metric, plan.delta, plan.params);
    let base_value = match &results[0] {
        Ok(v) => *v,
        Err(e) => return Err(FilesError::NoBase(e.clone())),
    };
    let inputs = plan.inputs;
    let mut status = plan.status.to_vec();
    let mut low = vec![None; inputs.len()];
    let mut high = vec![None; inputs.len()];
    for (job, r) in plan.jobs.iter().zip(&results[1..]) {
        match r {
            Ok(v) if job.1 == 0 => low[job.0] = Some(*v),
            Ok(v) => high[job.0] = Some(*v),
            Err(msg) => {
                let side = if job.1 == 0 { "lowered" } else { "raised" };
                status[job.0] = format!("invalid when {side}: {msg}");
            }
        }
    }
    let mut effects: Vec<Effect> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let ok = status[i].starts_with("ok");
            let (l, h) = if ok { (low[i], high[i]) } else { (None, None) };
            Effect {
                input: input.path.clone(),
                base: input.describe(),
                low: l,
                high: h,
                swing: match (l, h) {
                    (Some(l), Some(h)) => (h - l).abs(),
                    _ => 0.0,
                },
                status: status[i].clone(),
            }
        })
        .collect();
    // Largest swing first; inputs not varied last; ties by path.
    effects.sort_by(|a, b| {
        (b.status.starts_with("ok"))
            .cmp(&(a.status.starts_with("ok")))
            .then(b.swing.total_cmp(&a.swing))
            .then(a.input.cmp(&b.input))
    });
    let header: Vec<String> = [
        "rank",
        "input",
        "base",
        &format!("{metric}.low"),
        &format!("{metric}.base"),
        &format!("{metric}.high"),
        "swing",
        "status",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows: Vec<Vec<String>> = effects
        .iter()
        .enumerate()
        .map(|(k, e)| {
            vec![
                (k + 1).to_string(),
                e.input.clone(),
                e.base.clone(),
                e.low.map(num).unwrap_or_default(),
                num(base_value),
                e.high.map(num).unwrap_or_default(),
                num(e.swing),
                e.status.clone(),
            ]
        })
        .collect();
    let files = vec![(
        "sensitivity.csv".to_string(),
        csv_bytes(&header, &rows, "sensitivity.csv")?,
    )];
    let args = serde_json::json!({
        "metric": metric, "delta": delta, "params": params, "percentile": plan.percentile,
    });
    let files = finish(m, "sensitivity", files, args, charts::sensitivity_charts)?;
    Ok((files, effects, base_value))
}

/// `runs.csv` of a sensitivity shard: each run's metric (exact: its bits in hex too) or
/// why it did not load.
pub fn runs_csv(first: usize, results: &[RunResult]) -> Result<Vec<u8>, FilesError> {
    let header: Vec<String> = ["run", "value", "bits", "error"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows: Vec<Vec<String>> = results
        .iter()
        .enumerate()
        .map(|(k, r)| match r {
            Ok(v) => vec![
                (first + k).to_string(),
                num(*v),
                format!("{:016x}", v.to_bits()),
                String::new(),
            ],
            Err(m) => vec![
                (first + k).to_string(),
                String::new(),
                String::new(),
                m.clone(),
            ],
        })
        .collect();
    csv_bytes(&header, &rows, "runs.csv")
}

/// `runs.csv` of a sensitivity shard read back, checked against its `shard.json`.
pub fn read_runs_csv(p: &Part) -> Result<Vec<RunResult>, ShardError> {
    let (header, rows) =
        super::data::csv_records("runs.csv", &p.file("runs.csv")?).map_err(|e| p.error(e))?;
    if header != ["run", "value", "bits", "error"] {
        return Err(p.error("runs.csv has other columns than run,value,bits,error"));
    }
    let s = p.doc.shard;
    if rows.len() as u64 != s.end - s.first {
        return Err(p.error(format!(
            "runs.csv has {} runs, but shard.json says {}",
            rows.len(),
            p.doc.covers("runs")
        )));
    }
    rows.iter()
        .enumerate()
        .map(|(k, r)| {
            if r.first().map(String::as_str) != Some(&(s.first + k as u64).to_string()) {
                return Err(p.error(format!(
                    "runs.csv row {}: not run {}",
                    k + 2,
                    s.first + k as u64
                )));
            }
            if r[2].is_empty() {
                return Ok(Err(r[3].clone()));
            }
            u64::from_str_radix(&r[2], 16)
                .map(|b| Ok(f64::from_bits(b)))
                .map_err(|_| {
                    p.error(format!(
                        "runs.csv row {}: `{}` is not hex bits",
                        k + 2,
                        r[2]
                    ))
                })
        })
        .collect()
}

/// The files of a solve: `solve.csv` (every trial), its chart and `manifest.json` recording
/// `arguments`.
pub fn solve_files(
    m: &Meta,
    solution: &Solution,
    metric: &str,
    arguments: Value,
) -> Result<Files, FilesError> {
    let header: Vec<String> = ["x", metric, "met", "phase"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rows: Vec<Vec<String>> = solution
        .trials
        .iter()
        .map(|t| {
            vec![
                num(t.x),
                num(t.metric),
                t.met.to_string(),
                t.phase.to_string(),
            ]
        })
        .collect();
    let files = vec![(
        "solve.csv".to_string(),
        csv_bytes(&header, &rows, "solve.csv")?,
    )];
    finish(m, "solve", files, arguments, charts::solve_charts)
}
