//! `capsim sweep`, `capsim sensitivity` and `capsim solve`: many runs of one scenario with
//! overrides, through the same loading and replication machinery as `capsim run`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::reps::{progress_bar, scenario_of};
use super::shard;
use super::ui::{Failure, Problem, Ui, load_problems};
use crate::format::{duration_words, num_or_empty as num, precise, readout};
use crate::montecarlo::{self, Outcome, Plan};
use crate::report::whatif_files::{
    Effect, FilesError, Meta, RunResult, Sensitivity, outcome_columns, read_runs_csv, runs_csv,
    sensitivity_files, solve_files, sweep_files,
};
use crate::scenario::{self, Loaded, Source};
use crate::whatif::{self, Input, Search, Target, Vary};

/// What every what-if subcommand shares.
pub struct Common {
    /// Scenario file; the built-in default if None.
    pub path: Option<PathBuf>,
    /// Output folder.
    pub out: Option<PathBuf>,
    /// The user's `--set` overrides, applied before each point's own.
    pub sets: Vec<String>,
    /// Seed of every point (default: the scenario's).
    pub seed: Option<u64>,
    /// Replications per point.
    pub reps: u64,
    /// The statistic of a metric under replications: a percentile (0–100), or the mean.
    pub percentile: Option<f64>,
    /// `--from DATE` of sweep and solve: additions apply from that date on.
    pub from: Option<chrono::NaiveDate>,
    /// Draw the charts (`charts/*.png|svg`) from the CSV written.
    pub charts: bool,
    /// Largest number of runs a sweep starts (`--max-runs`).
    pub max_runs: u64,
    /// The level of the confidence intervals in `sweep.csv` (`--confidence` of sweep).
    pub confidence: montecarlo::Confidence,
}

/// The scenario as the user gave it, and what every point is built from.
struct Base {
    loaded: Loaded,
    raw: Value,
    seed: u64,
    warnings: Vec<Problem>,
}

impl Common {
    fn source(&self) -> Source<'_> {
        match &self.path {
            Some(p) => Source::File(p),
            None => Source::BuiltIn,
        }
    }

    fn base(&self, ui: &Ui) -> Result<Base, Failure> {
        let (loaded, warnings) = super::load(ui, self.path.as_deref(), &self.sets)?;
        let raw = serde_json::to_value(&loaded.raw)
            .map_err(|e| Failure::io(format!("cannot serialise the scenario: {e}")))?;
        let seed = self.seed.unwrap_or(loaded.scenario.seed);
        Ok(Base {
            loaded,
            raw,
            seed,
            warnings,
        })
    }

    /// Loads the scenario with the user's overrides and then `extra`.
    fn load_with(&self, extra: &[String]) -> Result<Loaded, scenario::LoadError> {
        let mut sets = self.sets.clone();
        sets.extend(extra.iter().cloned());
        scenario::load(self.source(), &sets)
    }

    /// Runs every point (`self.reps` replications each, one seed for all), in order, with
    /// a progress bar.
    fn run_points(
        &self,
        ui: &Ui,
        seed: u64,
        points: &[Loaded],
        what: &str,
    ) -> Result<Vec<Outcome>, Failure> {
        let refs: Vec<&Loaded> = points.iter().collect();
        self.run_refs(ui, seed, &refs, what)
    }

    /// [`Common::run_points`] of borrowed points.
    fn run_refs(
        &self,
        ui: &Ui,
        seed: u64,
        points: &[&Loaded],
        what: &str,
    ) -> Result<Vec<Outcome>, Failure> {
        let bar = progress_bar(ui, points.len() as u64 * self.reps, what);
        let tick = || bar.inc(1);
        let result = self.run_chunk(seed, points, &tick);
        bar.finish_and_clear();
        result
    }

    /// Runs points in order, without the daily bands (what-ifs use the summary metrics).
    /// Single runs go in parallel over points; replications in parallel within a point.
    fn run_chunk<L: std::borrow::Borrow<Loaded> + Sync>(
        &self,
        seed: u64,
        points: &[L],
        tick: &(dyn Fn() + Sync),
    ) -> Result<Vec<Outcome>, Failure> {
        let one = |l: &L| {
            let l = l.borrow();
            let plan = Plan {
                seed,
                reps: self.reps,
                until_ci: None,
                confidence: self.confidence,
            };
            let of = |r: u64| scenario_of(l, seed, r);
            montecarlo::run_range(&plan, 0..self.reps, false, &of, tick)
        };
        let result: Result<Vec<Outcome>, _> = if self.reps == 1 {
            points.par_iter().map(one).collect()
        } else {
            points.iter().map(one).collect()
        };
        result.map_err(|e| Failure::bad_input(vec![Problem::error(e.to_string())]))
    }

    /// The value of a metric an outcome gives: the one run's, or the mean (or the asked
    /// percentile) over its replications.
    fn value(&self, o: &Outcome, metric: usize) -> f64 {
        let v = &o.metrics[metric];
        match (self.reps, self.percentile) {
            (1, _) => v[0],
            (_, Some(p)) => {
                let mut s = v.clone();
                s.sort_by(f64::total_cmp);
                montecarlo::percentile(&s, p / 100.0)
            }
            (_, None) => montecarlo::stats(v, o.confidence).mean,
        }
    }

    /// How a metric's value is taken, in words.
    fn statistic(&self) -> String {
        match (self.reps, self.percentile) {
            (1, _) => "one run".into(),
            (n, Some(p)) => format!("P{p} over {n} replications"),
            (n, None) => format!("mean over {n} replications"),
        }
    }
}

/// A point whose overrides do not load: bad input, naming the point.
fn point_failed(label: &str, e: &scenario::LoadError) -> Failure {
    let mut problems = vec![Problem::error(format!("{label} does not load:"))];
    problems.extend(load_problems(e));
    Failure::bad_input(problems)
}

/// The metric's index, or bad input with the likely intended name.
fn metric_index(o: &Outcome, metric: &str) -> Result<usize, Failure> {
    o.layout
        .metric(metric)
        .map_err(|m| Failure::bad_input(vec![Problem::error(m)]))
}

/// What `manifest.json` records of the scenario and the command.
fn meta<'a>(c: &'a Common, b: &'a Base) -> Meta<'a> {
    Meta {
        scenario: &b.loaded.scenario.name,
        scenario_files: &b.loaded.files,
        scenario_sha256: &b.loaded.hash,
        seed: b.seed,
        replications: c.reps,
        overrides: &c.sets,
        resolved_scenario: &b.raw,
        charts: c.charts,
    }
}

impl From<FilesError> for Failure {
    fn from(e: FilesError) -> Failure {
        Failure::io(e.to_string())
    }
}

/// `DIR/ (sweep.csv, charts/sweep_pause_days.png|svg, manifest.json)`: the files written.
fn outputs(dir: &std::path::Path, files: &[(String, Vec<u8>)]) -> String {
    let mut names: Vec<String> = Vec::new();
    for (n, _) in files {
        match n.strip_suffix(".svg") {
            Some(stem) if names.last().map(String::as_str) == Some(&format!("{stem}.png")) => {
                if let Some(last) = names.last_mut() {
                    last.push_str("|svg");
                }
            }
            _ => names.push(n.clone()),
        }
    }
    format!("{}/ ({})", dir.display(), names.join(", "))
}

fn out_dir(c: &Common, kind: &str, b: &Base) -> PathBuf {
    c.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(format!("{kind}-{}", b.loaded.scenario.name))
    })
}

/// `capsim sweep --json`.
#[derive(Serialize)]
struct SweepDoc<'a> {
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    points: usize,
    replications: u64,
    metric: &'a str,
    /// Per point: the varied values and the metric.
    rows: Vec<SweepRowDoc>,
    warnings: &'a [Problem],
}

#[derive(Serialize)]
struct SweepRowDoc {
    values: Vec<f64>,
    metric: f64,
}

/// Points loaded and run at a time by a sweep: what it holds in memory besides its output
/// (each point's scenario and outcome is dropped once its row is written).
const CHUNK: usize = 256;

/// The `--set` overrides of one point of a sweep.
fn point_sets(c: &Common, b: &Base, varies: &[Vary], p: &[f64]) -> Result<Vec<String>, Failure> {
    varies
        .iter()
        .zip(p)
        .map(|(v, x)| {
            whatif::override_for(&b.raw, &v.path, v.op, *x, c.from).map_err(|m| {
                Failure::bad_input(vec![Problem::error(format!("--vary {}: {m}", v.path))])
            })
        })
        .collect()
}

/// The scenario, the grid, and every point's overrides checked (before any run).
fn sweep_plan(ui: &Ui, c: &Common, varies: &[Vary]) -> Result<(Base, Vec<Vec<f64>>), Failure> {
    let b = c.base(ui)?;
    let grid = whatif::grid(varies).map_err(|m| Failure::bad_input(vec![Problem::error(m)]))?;
    grid.par_iter()
        .try_for_each(|p| point_sets(c, &b, varies, p).map(drop))?;
    Ok((b, grid))
}

/// Refuses more runs than `--max-runs`, with an estimate of their time.
fn check_runs(c: &Common, b: &Base, points: usize) -> Result<(), Failure> {
    let runs = points as u64 * c.reps;
    if runs <= c.max_runs {
        return Ok(());
    }
    // An estimate from one run of the scenario as given, on this machine.
    let timer = Instant::now();
    let one = b
        .loaded
        .replication(b.seed, 0)
        .map_err(|e| Failure::load(&e))?;
    let _ = crate::model::simulate_replication(&one, b.seed, 0);
    let per_run = timer.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads().max(1) as f64;
    Err(Failure::bad_input(vec![Problem::error(format!(
        "this sweep is {points} points x {} replications = {runs} runs, more than --max-runs \
         {}; at {:.1} ms a run on {} threads it would take about {}. Narrow the grid, or \
         pass --max-runs {runs} to run it",
        c.reps,
        c.max_runs,
        per_run * 1e3,
        threads,
        duration_words(per_run * runs as f64 / threads),
    ))]))
}

/// Points `range` of a sweep, loaded and run [`CHUNK`] at a time: the bytes of `sweep.csv`
/// for them (the header from the first point), and the metric at each point.
fn sweep_points(
    ui: &Ui,
    c: &Common,
    b: &Base,
    varies: &[Vary],
    grid: &[Vec<f64>],
    range: std::ops::Range<usize>,
    metric: &str,
) -> Result<(Vec<u8>, Vec<f64>), Failure> {
    let bar = progress_bar(ui, range.len() as u64 * c.reps, "sweep");
    let tick = || bar.inc(1);
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Failure::io(format!("cannot write sweep.csv: {e}"));
    let mut values = Vec::with_capacity(range.len());
    let mut m = None;
    for start in range.clone().step_by(CHUNK) {
        let chunk = start..(start + CHUNK).min(range.end);
        let loaded: Vec<Loaded> = chunk
            .clone()
            .into_par_iter()
            .map(|i| {
                let sets = point_sets(c, b, varies, &grid[i])?;
                c.load_with(&sets)
                    .map_err(|e| point_failed(&format!("point {i} ({})", sets.join(", ")), &e))
            })
            .collect::<Result<_, _>>()?;
        let outcomes = c.run_chunk(b.seed, &loaded, &tick)?;
        drop(loaded);
        for (i, o) in chunk.zip(&outcomes) {
            let mi = match m {
                Some(mi) => mi,
                None => *m.insert(metric_index(o, metric)?),
            };
            let (h, r) = outcome_columns(o, c.reps);
            if i == range.start {
                let mut header: Vec<String> = vec!["point".into()];
                header.extend(varies.iter().map(Vary::label));
                header.extend(h);
                w.write_record(&header).map_err(fail)?;
            }
            let mut row = vec![i.to_string()];
            row.extend(grid[i].iter().map(|x| num(*x)));
            row.extend(r);
            w.write_record(&row).map_err(fail)?;
            values.push(c.value(o, mi));
        }
    }
    bar.finish_and_clear();
    let bytes = w
        .into_inner()
        .map_err(|e| Failure::io(format!("cannot write sweep.csv: {e}")))?;
    Ok((bytes, values))
}

/// `arguments` of a sweep's `manifest.json`.
/// `confidence` only when not the default 0.95, so a sweep at the default reads as before.
fn sweep_args(c: &Common, varies: &[Vary], metric: &str) -> Value {
    let mut args = serde_json::json!({
        "vary": varies.iter().map(|v| serde_json::json!({
            "path": v.path, "op": if v.op == whatif::Op::Add { "add" } else { "set" }, "values": v.values
        })).collect::<Vec<_>>(),
        "metric": metric,
        "percentile": c.percentile, "from": c.from.map(|d| d.to_string()),
    });
    if !c.confidence.is_default() {
        args["confidence"] = serde_json::json!(c.confidence);
    }
    args
}

/// What a shard of a what-if command records of it, for `capsim merge`.
#[derive(Debug, Serialize, Deserialize)]
struct Invocation {
    scenario: Option<String>,
    sets: Vec<String>,
    seed: Option<u64>,
    reps: u64,
    percentile: Option<f64>,
    charts: bool,
    from: Option<String>,
    max_runs: u64,
    metric: String,
    /// Sweep's `--confidence`, when not the default 0.95.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confidence: Option<montecarlo::Confidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vary: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delta: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    params: Option<Vec<String>>,
}

impl Invocation {
    fn of(c: &Common, metric: &str) -> Invocation {
        Invocation {
            scenario: c.path.as_ref().map(|p| p.display().to_string()),
            sets: c.sets.clone(),
            seed: c.seed,
            reps: c.reps,
            percentile: c.percentile,
            charts: c.charts,
            from: c.from.map(|d| d.to_string()),
            max_runs: c.max_runs,
            metric: metric.to_string(),
            confidence: Some(c.confidence).filter(|l| !l.is_default()),
            vary: None,
            delta: None,
            params: None,
        }
    }

    fn value(&self) -> Result<Value, Failure> {
        serde_json::to_value(self)
            .map_err(|e| Failure::io(format!("cannot serialise shard.json: {e}")))
    }

    /// The invocation of a set of shards (checked equal by `shard::read_parts`).
    fn read(parts: &[shard::Part]) -> Result<(Invocation, Common), Failure> {
        let p = &parts[0];
        let inv: Invocation = serde_json::from_value(p.doc.invocation.clone())
            .map_err(|e| p.error(format!("shard.json `invocation`: {e}")))?;
        let from = match &inv.from {
            Some(d) => Some(
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| p.error(format!("shard.json: `{d}` is not a date")))?,
            ),
            None => None,
        };
        let c = Common {
            path: inv.scenario.as_ref().map(PathBuf::from),
            out: None,
            sets: inv.sets.clone(),
            seed: inv.seed,
            reps: inv.reps,
            percentile: inv.percentile,
            from,
            charts: inv.charts,
            max_runs: inv.max_runs,
            confidence: inv.confidence.unwrap_or_default(),
        };
        Ok((inv, c))
    }
}

/// Writes a shard folder: `shard.json` and the partial results.
#[allow(clippy::too_many_arguments)]
fn write_shard(
    ui: &Ui,
    c: &Common,
    b: &Base,
    command: &str,
    sh: crate::shard::Shard,
    inv: &Invocation,
    mut files: Vec<(String, Vec<u8>)>,
    started: Instant,
) -> Result<(), Failure> {
    let doc = shard::ShardDoc::new(
        command,
        &b.loaded.scenario.name,
        &b.loaded.hash,
        b.seed,
        sh,
        inv.value()?,
    );
    files.insert(0, ("shard.json".into(), doc.to_bytes()?));
    let dir = c.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(format!(
            "{command}-{}.shard-{}-{}",
            b.loaded.scenario.name, sh.first, sh.end
        ))
    });
    super::write(ui, &dir, &files)?;
    super::shard_done(ui, &doc, &dir, &files, started)
}

/// `capsim sweep`.
pub fn sweep(
    ui: &Ui,
    c: &Common,
    varies: &[Vary],
    metric: &str,
    shard_spec: Option<&crate::shard::Spec>,
) -> Result<(), Failure> {
    let started = Instant::now();
    let (b, grid) = sweep_plan(ui, c, varies)?;
    if let Some(spec) = shard_spec {
        let sh = shard::resolve(spec, grid.len() as u64, "points")?;
        let range = sh.first as usize..sh.end as usize;
        check_runs(c, &b, range.len())?;
        let (csv, _) = sweep_points(ui, c, &b, varies, &grid, range, metric)?;
        let mut inv = Invocation::of(c, metric);
        inv.vary = Some(sweep_args(c, varies, metric)["vary"].clone());
        let files = vec![("sweep.csv".to_string(), csv)];
        return write_shard(ui, c, &b, "sweep", sh, &inv, files, started);
    }
    check_runs(c, &b, grid.len())?;
    let (csv, values) = sweep_points(ui, c, &b, varies, &grid, 0..grid.len(), metric)?;
    let files = sweep_files(&meta(c, &b), sweep_args(c, varies, metric), csv)?;
    let dir = out_dir(c, "sweep", &b);
    super::write(ui, &dir, &files)?;
    ui.doc(&SweepDoc {
        scenario: &b.loaded.scenario.name,
        out_dir: dir.display().to_string(),
        files: files.iter().map(|(n, _)| n.as_str()).collect(),
        points: grid.len(),
        replications: c.reps,
        metric,
        rows: grid
            .iter()
            .zip(&values)
            .map(|(p, v)| SweepRowDoc {
                values: p.clone(),
                metric: *v,
            })
            .collect(),
        warnings: &b.warnings,
    })?;
    let mut text = format!(
        "sweep of {} over {} points ({}, seed {})\n",
        b.loaded.scenario.name,
        grid.len(),
        c.statistic(),
        b.seed
    );
    let mut header: Vec<String> = varies.iter().map(Vary::label).collect();
    header.push(metric.to_string());
    let rows: Vec<Vec<String>> = grid
        .iter()
        .zip(&values)
        .take(40)
        .map(|(p, v)| p.iter().chain([v]).map(|x| precise(*x)).collect())
        .collect();
    text.push_str(&aligned(&header, &rows));
    if grid.len() > 40 {
        let _ = writeln!(text, "  ... {} more rows in sweep.csv", grid.len() - 40);
    }
    let _ = writeln!(
        text,
        "outputs: {}\nran {} points in {:.2} s",
        outputs(&dir, &files),
        grid.len(),
        started.elapsed().as_secs_f64()
    );
    ui.say(&text)
}

/// The files of a sweep from its shards: their `sweep.csv` rows in order (each shard's
/// header must be the first's).
pub fn sweep_merge(ui: &Ui, parts: &[shard::Part]) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let (inv, c) = Invocation::read(parts)?;
    let vary = inv
        .vary
        .as_ref()
        .and_then(Value::as_array)
        .ok_or_else(|| parts[0].error("shard.json has no `invocation.vary`"))?;
    let varies: Vec<Vary> = vary
        .iter()
        .map(|v| {
            Some(Vary {
                path: v.get("path")?.as_str()?.to_string(),
                op: if v.get("op")? == "add" {
                    whatif::Op::Add
                } else {
                    whatif::Op::Set
                },
                values: serde_json::from_value(v.get("values")?.clone()).ok()?,
            })
        })
        .collect::<Option<_>>()
        .ok_or_else(|| parts[0].error("shard.json: `invocation.vary` is not a list of inputs"))?;
    let b = c.base(ui)?;
    shard::check_scenario(parts, &b.loaded)?;
    let mut csv: Vec<u8> = Vec::new();
    let mut header: Vec<u8> = Vec::new();
    for p in parts {
        let bytes = p.file("sweep.csv")?;
        let cut = bytes
            .iter()
            .position(|&x| x == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        let (h, rows) = bytes.split_at(cut);
        if csv.is_empty() {
            header = h.to_vec();
            csv.extend_from_slice(&bytes);
        } else if h != header.as_slice() {
            return Err(p
                .error(format!(
                    "sweep.csv has other columns than shard {}'s",
                    parts[0].dir.display()
                ))
                .into());
        } else {
            csv.extend_from_slice(rows);
        }
    }
    Ok(sweep_files(
        &meta(&c, &b),
        sweep_args(&c, &varies, &inv.metric),
        csv,
    )?)
}

/// `capsim sensitivity --json`.
#[derive(Serialize)]
struct SensitivityDoc<'a> {
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    metric: &'a str,
    delta: f64,
    base_value: f64,
    effects: &'a [Effect],
    warnings: &'a [Problem],
}

/// What a sensitivity analysis runs: the inputs, and its runs in order (the base, then
/// each input lowered and raised where scaling changes it: (input, side, override)).
struct SensitivityPlan {
    inputs: Vec<Input>,
    jobs: Vec<(usize, usize, String)>,
    status: Vec<String>,
}

impl SensitivityPlan {
    /// What `report::whatif_files::sensitivity_files` needs of the plan and the options.
    fn files<'a>(
        &'a self,
        metric: &'a str,
        delta: f64,
        params: &'a [String],
        percentile: Option<f64>,
    ) -> Sensitivity<'a> {
        Sensitivity {
            inputs: &self.inputs,
            jobs: &self.jobs,
            status: &self.status,
            metric,
            delta,
            params,
            percentile,
        }
    }
}

fn sensitivity_plan(
    c: &Common,
    b: &Base,
    params: &[String],
    delta: f64,
) -> Result<SensitivityPlan, Failure> {
    let all = whatif::numeric_inputs(&b.raw);
    let inputs: Vec<Input> = if params.is_empty() {
        all
    } else {
        params
            .iter()
            .map(|p| {
                let base = whatif::lookup(&b.raw, p).map_err(|m| {
                    Failure::bad_input(vec![Problem::error(format!("--params: {m}"))])
                })?;
                if !(base.is_number() || whatif::is_timeline(base)) {
                    return Err(Failure::bad_input(vec![Problem::error(format!(
                        "--params: `{p}` is not a number or a timeline of numbers"
                    ))]));
                }
                Ok(Input {
                    path: p.clone(),
                    base: base.clone(),
                })
            })
            .collect::<Result<_, _>>()?
    };
    let mut status: Vec<String> = vec!["ok".into(); inputs.len()];
    let mut jobs: Vec<(usize, usize, String)> = Vec::new();
    // Each side is varied by ±delta, or, where that leaves the input's valid range (a share
    // above 1, a date out of order...), by the largest of delta/2, delta/4 and delta/8 that
    // loads: decided here, by loading only, so that the plan (and every shard's part of
    // it) is fixed before any run.
    let tries = |input: &Input, sign: f64| -> Result<(f64, String), String> {
        let mut first_error = None;
        for k in 0..4 {
            let d = delta / f64::from(1u32 << k);
            let Some(s) = input.scaled(1.0 + sign * d) else {
                return Err("unchanged by scaling (0, or too small an integer)".into());
            };
            match c.load_with(std::slice::from_ref(&s)) {
                Ok(_) => return Ok((d, s)),
                Err(e) => {
                    first_error.get_or_insert_with(|| {
                        load_problems(&e)
                            .into_iter()
                            .find(|p| matches!(p.severity, super::ui::Level::Error))
                            .map_or_else(|| "does not load".to_string(), |p| p.message)
                    });
                }
            }
        }
        Err(format!(
            "cannot vary within its valid range (even ±{}%): {}",
            num(delta / 8.0 * 100.0),
            first_error.unwrap_or_default()
        ))
    };
    let loaded: Vec<[Result<(f64, String), String>; 2]> = inputs
        .par_iter()
        .map(|input| [tries(input, -1.0), tries(input, 1.0)])
        .collect();
    for (i, sides) in loaded.into_iter().enumerate() {
        // An input at the edge of its valid range (a share of 1) moves one way only: the
        // other side is run at its value as it is (a change of 0%).
        let edge = |r: &Result<(f64, String), String>| matches!(r, Err(why) if why.starts_with("cannot vary"));
        let one_way = sides.iter().filter(|r| r.is_ok()).count() == 1 && sides.iter().any(edge);
        let mut used = [0.0; 2];
        for (side, r) in sides.into_iter().enumerate() {
            match r {
                Ok((d, s)) => {
                    jobs.push((i, side, s));
                    used[side] = d;
                }
                Err(_) if one_way => {
                    jobs.push((i, side, format!("{}={}", inputs[i].path, inputs[i].base)));
                }
                Err(why) => status[i] = why,
            }
        }
        if status[i] == "ok" && used.iter().any(|d| *d < delta) {
            status[i] = format!(
                "ok, varied by -{}% / +{}% (the most its valid range allows)",
                num(used[0] * 100.0),
                num(used[1] * 100.0)
            );
        }
    }
    Ok(SensitivityPlan {
        inputs,
        jobs,
        status,
    })
}

/// Runs `range` of a sensitivity analysis (run 0 is the base, run k the job k − 1): the
/// metric of each, or why its scenario did not load. The base, when in the range, runs
/// first: it checks the metric's name before hundreds of runs.
fn sensitivity_runs(
    ui: &Ui,
    c: &Common,
    b: &Base,
    plan: &SensitivityPlan,
    range: std::ops::Range<usize>,
    metric: &str,
) -> Result<Vec<RunResult>, Failure> {
    let mut results: Vec<RunResult> = Vec::with_capacity(range.len());
    let mut m = None;
    let mut jobs = range.clone();
    if range.start == 0 {
        let base_out = c.run_points(ui, b.seed, std::slice::from_ref(&b.loaded), "base")?;
        let mi = *m.insert(metric_index(&base_out[0], metric)?);
        results.push(Ok(c.value(&base_out[0], mi)));
        jobs.start = 1;
    }
    let loaded: Vec<Result<Loaded, String>> = jobs
        .clone()
        .into_par_iter()
        .map(|k| {
            let s = &plan.jobs[k - 1].2;
            c.load_with(std::slice::from_ref(s)).map_err(|e| {
                load_problems(&e)
                    .into_iter()
                    .find(|p| matches!(p.severity, super::ui::Level::Error))
                    .map_or_else(|| "does not load".into(), |p| p.message)
            })
        })
        .collect();
    let ok: Vec<&Loaded> = loaded.iter().filter_map(|l| l.as_ref().ok()).collect();
    let outs = c.run_refs(ui, b.seed, &ok, "sensitivity")?;
    let mut outs = outs.iter();
    for l in &loaded {
        match l {
            Ok(_) => {
                let o = outs.next().ok_or_else(|| Failure::io("a run is missing"))?;
                let mi = match m {
                    Some(mi) => mi,
                    None => *m.insert(metric_index(o, metric)?),
                };
                results.push(Ok(c.value(o, mi)));
            }
            Err(msg) => results.push(Err(msg.clone())),
        }
    }
    Ok(results)
}

/// `capsim sensitivity`.
pub fn sensitivity(
    ui: &Ui,
    c: &Common,
    metric: &str,
    delta: f64,
    params: &[String],
    shard_spec: Option<&crate::shard::Spec>,
) -> Result<(), Failure> {
    let started = Instant::now();
    let b = c.base(ui)?;
    let plan = sensitivity_plan(c, &b, params, delta)?;
    let total = plan.jobs.len() + 1;
    if let Some(spec) = shard_spec {
        let sh = shard::resolve(spec, total as u64, "runs")?;
        let range = sh.first as usize..sh.end as usize;
        let results = sensitivity_runs(ui, c, &b, &plan, range.clone(), metric)?;
        let mut inv = Invocation::of(c, metric);
        inv.delta = Some(delta);
        inv.params = Some(params.to_vec());
        let files = vec![("runs.csv".to_string(), runs_csv(range.start, &results)?)];
        return write_shard(ui, c, &b, "sensitivity", sh, &inv, files, started);
    }
    let results = sensitivity_runs(ui, c, &b, &plan, 0..total, metric)?;
    let (files, effects, base_value) = sensitivity_files(
        &meta(c, &b),
        &plan.files(metric, delta, params, c.percentile),
        &results,
    )?;
    let inputs = &plan.inputs;
    let ran = results.iter().filter(|r| r.is_ok()).count() as u64;
    let dir = out_dir(c, "sensitivity", &b);
    super::write(ui, &dir, &files)?;
    ui.doc(&SensitivityDoc {
        scenario: &b.loaded.scenario.name,
        out_dir: dir.display().to_string(),
        files: files.iter().map(|(n, _)| n.as_str()).collect(),
        metric,
        delta,
        base_value,
        effects: &effects,
        warnings: &b.warnings,
    })?;
    let varied = effects
        .iter()
        .filter(|e| e.status.starts_with("ok"))
        .count();
    let mut text = format!(
        "sensitivity of {metric} in {} to ±{}% of each input ({}, seed {}): base {}\n",
        b.loaded.scenario.name,
        num(delta * 100.0),
        c.statistic(),
        b.seed,
        readout(base_value)
    );
    for (k, e) in effects
        .iter()
        .filter(|e| e.status.starts_with("ok"))
        .take(15)
        .enumerate()
    {
        let _ = writeln!(
            text,
            "  {:>2}. {:<60} {} → {} (swing {})",
            k + 1,
            e.input,
            e.low.map(readout).unwrap_or_default(),
            e.high.map(readout).unwrap_or_default(),
            readout(e.swing)
        );
    }
    let _ = writeln!(
        text,
        "{varied} of {} inputs varied ({} runs); the rest are listed with the reason in sensitivity.csv\noutputs: {}\nin {:.2} s",
        inputs.len(),
        ran * c.reps,
        outputs(&dir, &files),
        started.elapsed().as_secs_f64()
    );
    ui.say(&text)
}

/// The files of a sensitivity analysis from its shards' runs.
pub fn sensitivity_merge(
    ui: &Ui,
    parts: &[shard::Part],
) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let (inv, c) = Invocation::read(parts)?;
    let (Some(delta), Some(params)) = (inv.delta, inv.params.clone()) else {
        return Err(parts[0]
            .error("shard.json has no `invocation.delta` or `params`")
            .into());
    };
    let b = c.base(ui)?;
    shard::check_scenario(parts, &b.loaded)?;
    let plan = sensitivity_plan(&c, &b, &params, delta)?;
    let mut results = Vec::with_capacity(plan.jobs.len() + 1);
    for p in parts {
        results.extend(read_runs_csv(p)?);
    }
    if results.len() != plan.jobs.len() + 1 {
        return Err(parts[0]
            .error(format!(
                "the shards hold {} runs, but the analysis has {}",
                results.len(),
                plan.jobs.len() + 1
            ))
            .into());
    }
    let (files, _, _) = sensitivity_files(
        &meta(&c, &b),
        &plan.files(&inv.metric, delta, &params, c.percentile),
        &results,
    )?;
    Ok(files)
}

/// `capsim solve --json`.
#[derive(Serialize)]
struct SolveDoc<'a> {
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    path: &'a str,
    op: &'a str,
    target: String,
    statistic: String,
    #[serde(flatten)]
    solution: &'a whatif::Solution,
    runs: u64,
    warnings: &'a [Problem],
}

/// `capsim solve`.
pub fn solve(
    ui: &Ui,
    c: &Common,
    vary: &str,
    range: (f64, f64),
    target: &Target,
    largest: bool,
    tolerance: Option<f64>,
) -> Result<(), Failure> {
    let started = Instant::now();
    let b = c.base(ui)?;
    let (path, op) = match vary.strip_suffix('+') {
        Some(p) => (p.trim(), whatif::Op::Add),
        None => (vary.trim(), whatif::Op::Set),
    };
    let base = whatif::lookup(&b.raw, path)
        .map_err(|m| Failure::bad_input(vec![Problem::error(format!("--vary: {m}"))]))?;
    // A field that holds an integer is searched over integers.
    let integer = op == whatif::Op::Set && (base.is_i64() || base.is_u64());
    let mut runs = 0u64;
    let mut checked_metric: Option<usize> = None;
    let mut eval = |xs: &[f64]| -> Result<Vec<f64>, Failure> {
        let loaded: Vec<Loaded> = xs
            .par_iter()
            .map(|x| {
                let s = whatif::override_for(&b.raw, path, op, *x, c.from).map_err(|m| {
                    Failure::bad_input(vec![Problem::error(format!("--vary {path}: {m}"))])
                })?;
                c.load_with(std::slice::from_ref(&s))
                    .map_err(|e| point_failed(&s, &e))
            })
            .collect::<Result<_, _>>()?;
        let outs = c.run_points(ui, b.seed, &loaded, "solve")?;
        runs += xs.len() as u64 * c.reps;
        let m = match checked_metric {
            Some(m) => m,
            None => *checked_metric.insert(metric_index(&outs[0], &target.metric)?),
        };
        Ok(outs.iter().map(|o| c.value(o, m)).collect())
    };
    let search = Search {
        lo: range.0,
        hi: range.1,
        tolerance: tolerance.unwrap_or((range.1 - range.0) / 1000.0),
        integer,
        largest,
        scan: 9,
    };
    let solution = whatif::solve(&search, target, &mut eval)?;
    let target_text = format!("{} {} {}", target.metric, target.op(), num(target.value));
    let label = if op == whatif::Op::Add {
        format!("{path} (added)")
    } else {
        path.to_string()
    };
    let args = serde_json::json!({
        "vary": path, "op": if op == whatif::Op::Add { "add" } else { "set" },
        "range": [range.0, range.1], "target": target_text, "largest": largest,
        "percentile": c.percentile, "from": c.from.map(|d| d.to_string()), "answer": solution.answer,
        "tolerance": search.tolerance, "note": solution.note,
    });
    let files = solve_files(&meta(c, &b), &solution, &target.metric, args)?;
    let dir = out_dir(c, "solve", &b);
    super::write(ui, &dir, &files)?;
    ui.doc(&SolveDoc {
        scenario: &b.loaded.scenario.name,
        out_dir: dir.display().to_string(),
        files: files.iter().map(|(n, _)| n.as_str()).collect(),
        path,
        op: if op == whatif::Op::Add { "add" } else { "set" },
        target: target_text.clone(),
        statistic: c.statistic(),
        solution: &solution,
        runs,
        warnings: &b.warnings,
    })?;
    let which = if largest { "largest" } else { "smallest" };
    let mut text = format!(
        "solve: the {which} {label} in {}..{} with {target_text} ({}, seed {})\n",
        num(range.0),
        num(range.1),
        c.statistic(),
        b.seed
    );
    match (solution.answer, solution.metric_at_answer) {
        (Some(a), Some(v)) => {
            // The bisection knows the answer to its tolerance only: say it to that precision,
            // rounded towards the side that still meets the target (solve.csv keeps every
            // trial exactly).
            let tol = search.tolerance;
            let (shown, how) = whatif::rounded_answer(a, tol, largest);
            let _ = writeln!(
                text,
                "  answer: {} ({} found to within {}, {how}; {} there: {})",
                num(shown),
                num(a),
                num(tol),
                target.metric,
                readout(v)
            );
        }
        _ => {
            let _ = writeln!(text, "  no answer in the range");
        }
    }
    let _ = writeln!(text, "  {}", solution.note);
    let _ = writeln!(
        text,
        "  {} values tried, {runs} runs, in {:.2} s; every trial is in solve.csv\noutputs: {}",
        solution.trials.len(),
        started.elapsed().as_secs_f64(),
        outputs(&dir, &files)
    );
    ui.say(&text)
}

/// Rows under a header, each column as wide as its widest cell: text left-aligned (the
/// header), numbers right-aligned, two spaces of indent and `  ` between columns.
fn aligned(header: &[String], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .filter_map(|r| r.get(i))
            .chain(header.get(i))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let mut out = String::new();
    let line = |cells: &[String], right: bool, out: &mut String| {
        let cells: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                if right {
                    format!("{c:>w$}")
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        out.push_str("  ");
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    };
    line(header, false, &mut out);
    for r in rows {
        line(r, true, &mut out);
    }
    out
}

#[cfg(test)]
mod table_tests {
    use super::aligned;

    #[test]
    fn columns_line_up() {
        let t = aligned(
            &["x".into(), "shortage_days".into()],
            &[
                vec!["0".into(), "1,126".into()],
                vec!["20,000".into(), "45".into()],
            ],
        );
        assert_eq!(
            t,
            "  x       shortage_days\n       0          1,126\n  20,000             45\n"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Options of `sweep` and `sensitivity` that do not change what a shard computes, so
    /// `shard.json` does not record them; every other option must be in [`Invocation`].
    const NOT_RECORDED: [&str; 8] = [
        "out", "shard", "quiet", "json", "color", "jobs", "help", "version",
    ];

    /// Each option's key in `Invocation` where its name differs.
    fn key(arg: &str) -> &str {
        match arg {
            "no_charts" => "charts",
            other => other,
        }
    }

    #[test]
    fn invocation_records_every_option_of_the_sharded_commands() {
        let c = Common {
            path: Some(PathBuf::from("s.yaml")),
            out: None,
            sets: Vec::new(),
            seed: Some(1),
            reps: 1,
            percentile: Some(50.0),
            from: None,
            charts: true,
            max_runs: 1,
            confidence: "0.9".parse().expect("level"),
        };
        let inv = Invocation {
            vary: Some(Value::Null),
            delta: Some(0.2),
            params: Some(Vec::new()),
            ..Invocation::of(&c, "pause_days")
        };
        let recorded = serde_json::to_value(&inv).expect("serialises");
        let cmd = crate::cli::command();
        for name in ["sweep", "sensitivity"] {
            let sub = cmd.find_subcommand(name).expect("subcommand");
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if NOT_RECORDED.contains(&id) {
                    continue;
                }
                assert!(
                    recorded.get(key(id)).is_some(),
                    "`capsim {name} {}` is not recorded in shard.json's invocation \
                     (cli::whatif::Invocation), so `capsim merge` would not redo it",
                    arg.get_long().map_or(id.to_string(), |l| format!("--{l}"))
                );
            }
        }
    }
}
