//! Monte Carlo replications: run a scenario many times, each replication with its own random
//! numbers, and aggregate what they give as they finish.
//!
//! ```text
//! replications 0..64 ──rayon──▶ 64 results, in replication order ──fold──▶ aggregates
//! replications 64..128 ─────────▶ ...                                       (bounded)
//! ```
//!
//! With `--until-ci`, replications run in batches of [`BATCH`]: a batch runs in parallel,
//! its results are collected in replication order and folded into the aggregates, and the
//! stopping rule is checked at its end. Without a stopping rule there are no batches: each
//! thread takes a few replications at a time (16), runs them and folds them as it finishes
//! (`run_unbatched`). A band's state depends only on the values it holds, not on their
//! order, and the metrics are kept in replication order, so neither the batches nor the
//! threads change any output: the same scenario and seed give the same bytes on one thread
//! or many, with batches or without.
//!
//! Memory: a batch's (or chunk's) daily series are dropped once folded. What is kept grows
//! with the number of replications only by one number per summary metric per replication
//! (exact percentiles of the summary, `replications.csv`, paired differences); the daily
//! bands are sketches of bounded size, one per series and day ([`bands`]).
//!
//! Sharding: [`run_range`] runs any range of replication numbers; a replication's random
//! numbers depend only on (seed, replication, name), and the bands' state only on the
//! values added, so outcomes of consecutive ranges [`merge`]d give the bytes of one run of
//! the whole range.

use std::borrow::Cow;
use std::fmt;

use rayon::prelude::*;

use crate::model::record::{SUMMARY_DATES, SUMMARY_NUMBERS};
use crate::model::{self, RunOutput, Summary};
use crate::scenario::Scenario;
use crate::scenario::yaml::did_you_mean;

pub mod confidence;
pub use confidence::Confidence;

/// Replications per batch: run in parallel, then folded in order.
pub const BATCH: u64 = 64;
/// Percentiles reported, as (quantile, name).
pub const PERCENTILES: [(f64, &str); 5] = [
    (0.05, "p5"),
    (0.25, "p25"),
    (0.50, "p50"),
    (0.75, "p75"),
    (0.95, "p95"),
];
/// Replications needed before `--until-ci` may stop.
pub const MIN_REPS_FOR_CI: u64 = 30;
/// Metrics that choose the representative replication (those the scenario has).
pub const REPRESENTATIVE_METRICS: [&str; 8] = [
    "pause_days",
    "lost_revenue_usd",
    "shortage_days",
    "peak_unserved_share",
    "fleet_end_h100e",
    "revenue_usd",
    "capex_usd",
    "lead_time_peak_days",
];

/// How many replications to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The seed every replication's streams derive from.
    pub seed: u64,
    /// Replications to run; with `until_ci`, the most to run.
    pub reps: u64,
    /// Stop once the confidence interval of a metric's mean is this narrow.
    pub until_ci: Option<UntilCi>,
    /// The level of the confidence intervals (and of `until_ci`).
    pub confidence: Confidence,
}

/// `--until-ci METRIC=HALF_WIDTH`.
#[derive(Debug, Clone, PartialEq)]
pub struct UntilCi {
    /// A summary metric (`pause_days`, `fleet_end.H100`, ...).
    pub metric: String,
    /// The largest acceptable half-width of the confidence interval of its mean (at the
    /// run's `--confidence`, 95% by default).
    pub half_width: f64,
}

impl std::str::FromStr for UntilCi {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let Some((metric, hw)) = s.rsplit_once('=') else {
            return Err(format!(
                "`{s}` needs the form METRIC=HALF_WIDTH, e.g. pause_days=2"
            ));
        };
        let half_width: f64 = hw.trim().parse().map_err(|_| {
            format!("`{hw}` is not a number; write the half-width in the metric's unit, e.g. pause_days=2")
        })?;
        if !(half_width.is_finite() && half_width > 0.0) {
            return Err(format!("the half-width must be above 0, not {hw}"));
        }
        Ok(UntilCi {
            metric: metric.trim().to_string(),
            half_width,
        })
    }
}

/// Why the replications stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// The number asked for was run.
    Count,
    /// `--until-ci` was met.
    CiMet,
    /// `--until-ci` was not met within the most replications allowed.
    CiNotMet,
}

/// A replication could not run: its scenario could not be made.
#[derive(Debug)]
pub struct RepError {
    /// The replication.
    pub replication: u64,
    /// What went wrong, as the scenario loader rendered it.
    pub message: String,
}

impl fmt::Display for RepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "replication {}: {}", self.replication, self.message)
    }
}

/// What is measured of each replication, fixed by the scenario before the first one runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    /// Numeric summary metrics, named as in `expect:` (`pause_days`, `fleet_end.H100`).
    pub metrics: Vec<String>,
    /// Date metrics (`first_shortage`, `first_pause.paid`), null when it never happens.
    pub dates: Vec<String>,
    /// Daily series given as bands (columns of `timeseries.csv`).
    pub series: Vec<String>,
    /// Segments, for the daily probability of a pause.
    pub segments: Vec<String>,
    /// The run's dates (YYYY-MM-DD), one per day.
    pub days: Vec<String>,
}

impl Layout {
    /// The layout of a scenario's replications, read off one run of it (replication 0).
    pub fn new(s: &Scenario, run: &RunOutput) -> Self {
        let mut metrics: Vec<String> = SUMMARY_NUMBERS
            .iter()
            .filter(|m| **m != "days")
            .map(|m| m.to_string())
            .collect();
        for seg in &s.segments {
            metrics.push(format!("pause_days_by_segment.{}", seg.name));
        }
        for p in &s.products {
            metrics.push(format!("fleet_end.{}", p.name));
        }
        let first_year: i32 = year(&run.dates[0]);
        let last_year: i32 = year(run.dates.last().unwrap_or("0"));
        for p in &s.products {
            for y in first_year..=last_year {
                metrics.push(format!("production_by_year.{}.{y}", p.name));
            }
        }
        for c in run.summary.binding_constraint_days.keys() {
            metrics.push(format!("binding_constraint_days.{c}"));
        }
        for seg in &s.segments {
            metrics.push(format!("users_end.{}", seg.name));
        }
        let mut dates: Vec<String> = SUMMARY_DATES.iter().map(|d| d.to_string()).collect();
        for seg in &s.segments {
            dates.push(format!("first_pause.{}", seg.name));
        }
        let mut series: Vec<String> = [
            "demand_h100e",
            "capacity_h100e",
            "served_h100e",
            "unserved_h100e",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        for seg in &s.segments {
            series.push(format!("users[{}]", seg.name));
        }
        for p in &s.products {
            series.push(format!("lead_time_days[{}]", p.name));
        }
        series.retain(|c| run.column(c).is_some());
        Layout {
            metrics,
            dates,
            series,
            segments: s.segments.iter().map(|g| g.name.clone()).collect(),
            days: run.dates.iter().map(str::to_owned).collect(),
        }
    }

    /// The index of a numeric metric, or a message with the likely intended name.
    pub fn metric(&self, name: &str) -> Result<usize, String> {
        if let Some(i) = self.metrics.iter().position(|m| m == name) {
            return Ok(i);
        }
        let hint = did_you_mean(name, self.metrics.iter().map(String::as_str))
            .map(|m| format!("; did you mean `{m}`?"))
            .unwrap_or_default();
        Err(format!(
            "`{name}` is not a summary metric of this scenario{hint} (numeric metrics: {})",
            self.metrics
                .iter()
                .filter(|m| !m.contains('.'))
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// The year of a `YYYY-MM-DD` date.
fn year(date: &str) -> i32 {
    date.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0)
}

/// What one replication contributes.
struct RepResult {
    metrics: Vec<f64>,
    dates: Vec<Option<u32>>,
    /// `series × days`, series by series.
    series: Vec<f64>,
    /// `segments × days`, segment by segment.
    paused: Vec<bool>,
}

/// The day index of a date of the run, by binary search of the run's dates.
fn day_of(days: &[String], date: Option<&str>) -> Option<u32> {
    let d = date?;
    days.binary_search_by(|x| x.as_str().cmp(d))
        .ok()
        .and_then(|i| u32::try_from(i).ok())
}

fn measure(layout: &Layout, run: &RunOutput, with_bands: bool) -> RepResult {
    let s: &Summary = &run.summary;
    let mut metrics = Vec::with_capacity(layout.metrics.len());
    for name in &layout.metrics {
        metrics.push(metric_value(s, name));
    }
    let mut dates = Vec::with_capacity(layout.dates.len());
    for name in &layout.dates {
        let d = match name.as_str() {
            "first_shortage" => s.first_shortage.as_deref(),
            "last_shortage" => s.last_shortage.as_deref(),
            "lead_time_peak_date" => s.lead_time_peak_date.as_deref(),
            other => {
                let seg = other.strip_prefix("first_pause.").unwrap_or_default();
                s.pause_episodes
                    .iter()
                    .filter(|e| e.segment == seg)
                    .map(|e| e.start.as_str())
                    .min()
            }
        };
        dates.push(day_of(&layout.days, d));
    }
    if !with_bands {
        return RepResult {
            metrics,
            dates,
            series: Vec::new(),
            paused: Vec::new(),
        };
    }
    let n = layout.days.len();
    let mut series = Vec::with_capacity(layout.series.len() * n);
    let width = run.columns.len();
    for name in &layout.series {
        match run.column(name) {
            Some(c) => series.extend(run.values.iter().skip(c).step_by(width).take(n)),
            None => series.extend(std::iter::repeat_n(0.0, n)),
        }
    }
    let mut paused = Vec::with_capacity(layout.segments.len() * n);
    for seg in &layout.segments {
        match run.column(&format!("paused[{seg}]")) {
            Some(c) => paused.extend(
                run.values
                    .iter()
                    .skip(c)
                    .step_by(width)
                    .take(n)
                    .map(|v| *v > 0.5),
            ),
            None => paused.extend(std::iter::repeat_n(false, n)),
        }
    }
    RepResult {
        metrics,
        dates,
        series,
        paused,
    }
}

/// A numeric metric of a run's summary, by its dotted name (0 for a year without output).
pub fn metric_value(s: &Summary, name: &str) -> f64 {
    let mut parts = name.splitn(2, '.');
    let head = parts.next().unwrap_or_default();
    let rest = parts.next().unwrap_or_default();
    match head {
        "shortage_days" => s.shortage_days as f64,
        "peak_unserved_share" => s.peak_unserved_share,
        "pause_days" => s.pause_days as f64,
        "lost_signups" => s.lost_signups,
        "lost_revenue_usd" => s.lost_revenue_usd,
        "lost_revenue_pause_usd" => s.lost_revenue_pause_usd,
        "lost_revenue_churn_usd" => s.lost_revenue_churn_usd,
        "revenue_usd" => s.revenue_usd,
        "lead_time_peak_days" => s.lead_time_peak_days,
        "capex_usd" => s.capex_usd,
        "power_cost_usd" => s.power_cost_usd,
        "fleet_end_h100e" => s.fleet_end_h100e,
        "stranded_end" => s.stranded_end as f64,
        "realised_lead_time_peak_days" => s.realised_lead_time_peak_days,
        "orders_placed_units" => s.orders_placed_units as f64,
        "orders_cancelled_units" => s.orders_cancelled_units as f64,
        "phantom_share_peak" => s.phantom_share_peak,
        "bullwhip_ratio" => s.bullwhip_ratio.get(rest).copied().unwrap_or(f64::NAN),
        "days" => s.days as f64,
        "pause_days_by_segment" => s
            .pause_episodes
            .iter()
            .filter(|e| e.segment == rest)
            .map(|e| e.days as f64)
            .sum(),
        "fleet_end" => s.fleet_end.get(rest).copied().unwrap_or(0) as f64,
        "users_end" => s.users_end.get(rest).copied().unwrap_or(0.0),
        "binding_constraint_days" => {
            s.binding_constraint_days.get(rest).copied().unwrap_or(0) as f64
        }
        "production_by_year" => {
            let (product, y) = rest.rsplit_once('.').unwrap_or((rest, ""));
            s.production_by_year
                .get(product)
                .and_then(|m| m.get(y))
                .copied()
                .unwrap_or(0) as f64
        }
        _ => f64::NAN,
    }
}

pub mod bands;

/// Daily aggregates: a sketch (quantiles, exact sum) per series and day, pause counts per
/// segment and day. Empty when the bands were not asked for.
#[derive(Debug, Clone, Default)]
struct Bands {
    cells: Vec<bands::Cell>,
    paused: Vec<u64>,
}

/// First bytes of the bands' state (`Outcome::bands_state`).
const BANDS_MAGIC: &[u8] = b"capsim bands state 1\n";

/// The distribution of one numeric metric over the replications. Serialised with the
/// interval's keys named after its level: `ci95_low`, `ci95_high` at 0.95.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 with one replication).
    pub sd: f64,
    /// The level of the confidence interval.
    pub confidence: Confidence,
    /// Confidence interval of the mean (Student's t), low end.
    pub ci_low: f64,
    /// ... high end.
    pub ci_high: f64,
    /// Smallest value.
    pub min: f64,
    /// Percentiles (linear interpolation between order statistics).
    pub p5: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest value.
    pub max: f64,
}

impl serde::Serialize for Stats {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(11))?;
        m.serialize_entry("mean", &self.mean)?;
        m.serialize_entry("sd", &self.sd)?;
        m.serialize_entry(&self.confidence.low_key(), &self.ci_low)?;
        m.serialize_entry(&self.confidence.high_key(), &self.ci_high)?;
        m.serialize_entry("min", &self.min)?;
        m.serialize_entry("p5", &self.p5)?;
        m.serialize_entry("p25", &self.p25)?;
        m.serialize_entry("p50", &self.p50)?;
        m.serialize_entry("p75", &self.p75)?;
        m.serialize_entry("p95", &self.p95)?;
        m.serialize_entry("max", &self.max)?;
        m.end()
    }
}

/// The distribution of a date metric: how often it never happens, and percentiles of when.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DateStats {
    /// Share of replications in which it happened [0..1].
    pub probability: f64,
    /// Percentiles of the date among those replications (the nearest replication's date at
    /// or below the rank), or null if it never happened.
    pub p5: Option<String>,
    /// 25th percentile.
    pub p25: Option<String>,
    /// Median.
    pub p50: Option<String>,
    /// 75th percentile.
    pub p75: Option<String>,
    /// 95th percentile.
    pub p95: Option<String>,
}

/// Everything the replications gave.
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// The first replication (0 unless a shard).
    pub first: u64,
    /// Replications run: `first..first + reps`.
    pub reps: u64,
    /// Why they stopped.
    pub stop: Stop,
    /// `--until-ci`, if given.
    pub until_ci: Option<UntilCi>,
    /// The level of the confidence intervals.
    pub confidence: Confidence,
    /// What was measured.
    pub layout: Layout,
    /// Per metric, its value in each replication (in replication order, from `first`).
    pub metrics: Vec<Vec<f64>>,
    /// Per date metric, its day in each replication (None: never).
    pub dates: Vec<Vec<Option<u32>>>,
    bands: Bands,
    /// The replication nearest the median.
    pub representative: u64,
}

/// Runs the replications of `plan`, in parallel, and aggregates them.
///
/// `scenario_of(r)` gives the scenario of replication `r` (its distributions sampled);
/// `progress(done)` is called once as each replication finishes, from any thread.
pub fn run<'s>(
    plan: &Plan,
    scenario_of: &(dyn Fn(u64) -> Result<Cow<'s, Scenario>, String> + Sync),
    progress: &(dyn Fn() + Sync),
) -> Result<Outcome, RepError> {
    run_range(plan, 0..plan.reps.max(1), true, scenario_of, progress)
}

/// Runs replications `range` of `plan` (a shard of `plan.reps`), with the daily bands if
/// `with_bands` (what-if commands use only the summary metrics). Replication 0 is run even
/// when outside the range, as it fixes the layout. With `until_ci`, the range must start at
/// 0: the stopping rule looks at every replication run.
pub fn run_range<'s>(
    plan: &Plan,
    range: std::ops::Range<u64>,
    with_bands: bool,
    scenario_of: &(dyn Fn(u64) -> Result<Cow<'s, Scenario>, String> + Sync),
    progress: &(dyn Fn() + Sync),
) -> Result<Outcome, RepError> {
    let scenario = |r: u64| {
        scenario_of(r).map_err(|message| RepError {
            replication: r,
            message,
        })
    };
    // Replication 0 fixes the layout (the run's dates, the binding constraints named).
    let s0 = scenario(0)?;
    // Replications that borrow the scenario of replication 0 (no distributions to sample)
    // share one capacity plan and one list of dates, made once; a scenario of their own
    // makes its own.
    let shared: Option<(&Scenario, model::Prepared)> = match &s0 {
        Cow::Borrowed(s) => Some((*s, model::Prepared::new(s))),
        Cow::Owned(_) => None,
    };
    // A replication in full (`keep: None`), or lean: the summary and the kept columns only.
    let run_on = |s: &Scenario, r: u64, keep: Option<&[String]>| {
        // The same scenario (borrowed for 's, so its address is no other's meanwhile).
        let prepared = match &shared {
            Some((same, prepared)) if std::ptr::eq(*same, s) => Some(prepared),
            _ => None,
        };
        let out = match (keep, prepared) {
            (Some(keep), _) => model::simulate_replication_keeping(s, prepared, plan.seed, r, keep),
            (None, Some(prepared)) => model::simulate_replication_on(s, prepared, plan.seed, r),
            (None, None) => model::simulate_replication(s, plan.seed, r),
        };
        progress();
        out
    };
    // Replication 0 in full: it fixes the layout.
    let first = if range.contains(&0) {
        run_on(&s0, 0, None)
    } else {
        model::simulate_replication(&s0, plan.seed, 0)
    };
    let layout = Layout::new(&s0, &first);
    drop(s0);
    // The others lean: what `measure` reads of them is their summary and these columns.
    let mut keep: Vec<String> = Vec::new();
    if with_bands {
        keep.extend(layout.series.iter().cloned());
        keep.extend(layout.segments.iter().map(|g| format!("paused[{g}]")));
    }
    keep.sort();
    keep.dedup();
    let one =
        |r: u64| -> Result<RunOutput, RepError> { Ok(run_on(&*scenario(r)?, r, Some(&keep))) };
    let target = plan.until_ci.as_ref().map(|u| {
        (
            layout.metric(&u.metric).map_err(|message| RepError {
                replication: 0,
                message,
            }),
            u.half_width,
        )
    });
    let target = match target {
        Some((Ok(i), hw)) => Some((i, hw)),
        Some((Err(e), _)) => return Err(e),
        None => None,
    };
    let n_days = layout.days.len();
    let mut bands = if with_bands {
        Bands {
            cells: vec![bands::Cell::default(); layout.series.len() * n_days],
            paused: vec![0; layout.segments.len() * n_days],
        }
    } else {
        Bands::default()
    };
    let mut metrics: Vec<Vec<f64>> = vec![Vec::new(); layout.metrics.len()];
    let mut dates: Vec<Vec<Option<u32>>> = vec![Vec::new(); layout.dates.len()];
    let (start, end) = (range.start, range.end.max(range.start + 1));
    let mut first = range.contains(&0).then_some(first);
    let mut done = start;
    let mut stop = Stop::Count;
    if target.is_none() {
        // No stopping rule, so no batch boundaries to keep: see `run_unbatched`.
        let reps = run_unbatched(start..end, &first, &one, &layout, with_bands, &mut bands)?;
        for (_, r) in &reps {
            append(&mut metrics, &mut dates, r);
        }
        done = end;
    }
    while done < end {
        let to = (done + BATCH).min(end);
        let results: Vec<RepResult> = (done..to)
            .into_par_iter()
            .map(|r| {
                let out = match (r, &first) {
                    (0, Some(f)) => Cow::Borrowed(f),
                    _ => Cow::Owned(one(r)?),
                };
                Ok(measure(&layout, &out, with_bands))
            })
            .collect::<Result<_, RepError>>()?;
        first = None;
        if with_bands {
            fold(&mut bands, &results, n_days);
        }
        for r in &results {
            append(&mut metrics, &mut dates, r);
        }
        done = to;
        if let Some((i, hw)) = target {
            if done >= MIN_REPS_FOR_CI && ci_half_width(&metrics[i], plan.confidence) <= hw {
                stop = Stop::CiMet;
                break;
            }
            if done >= end {
                stop = Stop::CiNotMet;
            }
        }
    }
    let representative = start + representative(&layout, &metrics);
    Ok(Outcome {
        seed: plan.seed,
        first: start,
        reps: done - start,
        stop,
        until_ci: plan.until_ci.clone(),
        confidence: plan.confidence,
        layout,
        metrics,
        dates,
        bands,
        representative,
    })
}

/// Replications a thread of `run_unbatched` runs at a time, then folds together.
const CHUNK: u64 = 16;

/// Runs replications `range` without batch boundaries: each of rayon's threads takes
/// [`CHUNK`] replications at a time from a shared counter, runs them, and folds them into
/// the bands under a lock (a fold takes about a thirtieth of the time the chunk took to
/// run), so no thread waits for another to finish a batch. A cell's state depends only on
/// the values it holds, whatever their order, so the bands are those of the batches
/// whichever thread took which replications; the metrics come back in replication order.
/// Batches cost each batch the time its last replication runs alone (about 2% of a
/// 10,000-replication run on 2 cores). Returns each replication's metrics and dates (its
/// series emptied), in replication order.
fn run_unbatched(
    range: std::ops::Range<u64>,
    first: &Option<RunOutput>,
    one: &(dyn Fn(u64) -> Result<RunOutput, RepError> + Sync),
    layout: &Layout,
    with_bands: bool,
    bands: &mut Bands,
) -> Result<Vec<(u64, RepResult)>, RepError> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let next = AtomicU64::new(range.start);
    let failed = AtomicBool::new(false);
    let n_days = layout.days.len();
    let bands = Mutex::new(bands);
    // Each thread's replications, and the error of the lowest replication that failed.
    let parts: Mutex<Vec<Vec<(u64, RepResult)>>> = Mutex::new(Vec::new());
    let error: Mutex<Option<RepError>> = Mutex::new(None);
    rayon::scope(|scope| {
        for _ in 0..rayon::current_num_threads() {
            scope.spawn(|_| {
                let mut reps: Vec<(u64, RepResult)> = Vec::new();
                while !failed.load(Ordering::Relaxed) {
                    let from = next.fetch_add(CHUNK, Ordering::Relaxed);
                    if from >= range.end {
                        break;
                    }
                    let to = (from + CHUNK).min(range.end);
                    let mut chunk = Vec::with_capacity((to - from) as usize);
                    for r in from..to {
                        let out = match (r, first) {
                            (0, Some(f)) => Cow::Borrowed(f),
                            _ => match one(r) {
                                Ok(out) => Cow::Owned(out),
                                Err(e) => {
                                    failed.store(true, Ordering::Relaxed);
                                    let mut lowest = error.lock().expect("not poisoned");
                                    if lowest
                                        .as_ref()
                                        .is_none_or(|l| e.replication < l.replication)
                                    {
                                        *lowest = Some(e);
                                    }
                                    return;
                                }
                            },
                        };
                        chunk.push(measure(layout, &out, with_bands));
                    }
                    if with_bands {
                        fold_here(&mut bands.lock().expect("not poisoned"), &chunk, n_days);
                    }
                    reps.extend((from..to).zip(chunk.into_iter().map(|mut c| {
                        c.series = Vec::new();
                        c.paused = Vec::new();
                        c
                    })));
                }
                parts.lock().expect("not poisoned").push(reps);
            });
        }
    });
    if let Some(e) = error.into_inner().expect("not poisoned") {
        return Err(e);
    }
    let mut all: Vec<(u64, RepResult)> = parts
        .into_inner()
        .expect("not poisoned")
        .into_iter()
        .flatten()
        .collect();
    all.sort_unstable_by_key(|(r, _)| *r);
    Ok(all)
}

/// Appends a replication's metrics and dates, one to each metric's and date's list.
fn append(metrics: &mut [Vec<f64>], dates: &mut [Vec<Option<u32>>], r: &RepResult) {
    for (m, v) in metrics.iter_mut().zip(&r.metrics) {
        m.push(*v);
    }
    for (d, v) in dates.iter_mut().zip(&r.dates) {
        d.push(*v);
    }
}

/// [`fold`] on the calling thread, cell after cell.
fn fold_here(bands: &mut Bands, results: &[RepResult], n_days: usize) {
    let mut values = Vec::with_capacity(results.len());
    for (cell, c) in bands.cells.iter_mut().enumerate() {
        add_cell(c, cell, results, &mut values);
    }
    count_paused(bands, results, n_days);
}

/// Adds the replications' values of cell `cell` to `c`, gathered in `values` (a buffer).
fn add_cell(c: &mut bands::Cell, cell: usize, results: &[RepResult], values: &mut Vec<f64>) {
    values.clear();
    values.extend(results.iter().map(|r| r.series[cell]));
    c.add(values);
}

/// Adds the replications' pause flags to the bands' pause counts.
fn count_paused(bands: &mut Bands, results: &[RepResult], n_days: usize) {
    for r in results {
        for (count, &p) in bands.paused.iter_mut().zip(&r.paused) {
            *count += u64::from(p);
        }
    }
    debug_assert!(bands.paused.len().is_multiple_of(n_days.max(1)));
}

/// Folds a batch into the daily aggregates; cells in parallel (each cell's state depends
/// only on its own values, whatever their order).
fn fold(bands: &mut Bands, results: &[RepResult], n_days: usize) {
    bands
        .cells
        .par_iter_mut()
        .enumerate()
        .for_each_init(Vec::new, |values, (cell, c)| {
            add_cell(c, cell, results, values)
        });
    count_paused(bands, results, n_days);
}

/// Why outcomes cannot be merged.
#[derive(Debug)]
pub struct MergeError(pub String);

/// Outcomes of consecutive ranges of replications (in order, each starting where the last
/// ended) as one outcome of their whole range: metrics appended, bands merged, the
/// representative chosen again over all. With `until_ci` the parts cannot be merged.
pub fn merge(parts: Vec<Outcome>) -> Result<Outcome, MergeError> {
    let mut it = parts.into_iter();
    let mut all = it
        .next()
        .ok_or_else(|| MergeError("nothing to merge".into()))?;
    for p in it {
        if p.first != all.first + all.reps {
            return Err(MergeError(format!(
                "replications {}..{} do not follow {}..{}",
                p.first,
                p.first + p.reps,
                all.first,
                all.first + all.reps
            )));
        }
        if p.seed != all.seed
            || p.confidence != all.confidence
            || p.until_ci.is_some()
            || all.until_ci.is_some()
        {
            return Err(MergeError(
                "the parts differ in seed or confidence level, or use --until-ci".into(),
            ));
        }
        if p.layout != all.layout {
            return Err(MergeError(
                "the parts measure different metrics, series or days".into(),
            ));
        }
        if p.bands.cells.len() != all.bands.cells.len()
            || p.bands.paused.len() != all.bands.paused.len()
        {
            return Err(MergeError("the parts' bands differ in size".into()));
        }
        for (m, v) in all.metrics.iter_mut().zip(p.metrics) {
            m.extend(v);
        }
        for (d, v) in all.dates.iter_mut().zip(p.dates) {
            d.extend(v);
        }
        all.bands
            .cells
            .par_iter_mut()
            .zip(p.bands.cells.par_iter())
            .for_each(|(a, b)| a.merge(b));
        for (a, b) in all.bands.paused.iter_mut().zip(&p.bands.paused) {
            *a += b;
        }
        all.reps += p.reps;
    }
    all.representative = all.first + representative(&all.layout, &all.metrics);
    Ok(all)
}

/// The replication nearest the median: the least sum over [`REPRESENTATIVE_METRICS`] of
/// each metric's distance from its median, in units of its interquartile range (of its
/// range where that is 0; metrics that never vary are skipped). Ties go to the lowest
/// replication.
fn representative(layout: &Layout, metrics: &[Vec<f64>]) -> u64 {
    let n = metrics.first().map_or(0, Vec::len);
    let mut score = vec![0.0f64; n];
    for name in REPRESENTATIVE_METRICS {
        let Ok(i) = layout.metric(name) else { continue };
        let mut sorted = metrics[i].clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let med = percentile(&sorted, 0.5);
        let mut scale = percentile(&sorted, 0.75) - percentile(&sorted, 0.25);
        if scale <= 0.0 {
            scale = sorted.last().copied().unwrap_or(0.0) - sorted.first().copied().unwrap_or(0.0);
        }
        if scale.is_nan() || scale <= 0.0 {
            continue;
        }
        for (s, v) in score.iter_mut().zip(&metrics[i]) {
            *s += ((v - med) / scale).abs();
        }
    }
    let mut best = 0;
    for (r, s) in score.iter().enumerate() {
        if *s < score[best] {
            best = r;
        }
    }
    best as u64
}

/// The `q` quantile of sorted values, interpolating linearly between order statistics
/// (numpy's default, "type 7").
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = q * (n - 1) as f64;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// Mean and sample standard deviation.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Half-width of the confidence interval of the mean at `level`: t · sd / √n.
pub fn ci_half_width(values: &[f64], level: Confidence) -> f64 {
    if values.len() < 2 {
        return f64::INFINITY;
    }
    let (_, sd) = mean_sd(values);
    level.t_quantile(values.len() as u64 - 1) * sd / (values.len() as f64).sqrt()
}

/// Summary statistics of a sample of a metric. When no value is negative (counts, costs,
/// days: every metric of a run that is never below 0), the low end of the confidence
/// interval is clamped at 0: the mean of a quantity that is never negative cannot be, and a
/// negative bound (the symmetric t interval of a skewed sample, e.g. mostly 0 with a few large
/// values) would read as nonsense. The high end is the t interval's.
pub fn stats(values: &[f64], level: Confidence) -> Stats {
    let mut s = stats_signed(values, level);
    if s.min >= 0.0 && s.ci_low < 0.0 {
        s.ci_low = 0.0;
    }
    s
}

/// Summary statistics of a sample that may be negative (paired differences): the confidence
/// interval is Student's t, never clamped.
pub fn stats_signed(values: &[f64], level: Confidence) -> Stats {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_unstable_by(f64::total_cmp);
    let (mean, sd) = mean_sd(&sorted);
    let hw = if sorted.len() < 2 {
        0.0
    } else {
        ci_half_width(&sorted, level)
    };
    Stats {
        mean,
        sd,
        confidence: level,
        ci_low: mean - hw,
        ci_high: mean + hw,
        min: sorted.first().copied().unwrap_or(f64::NAN),
        p5: percentile(&sorted, 0.05),
        p25: percentile(&sorted, 0.25),
        p50: percentile(&sorted, 0.50),
        p75: percentile(&sorted, 0.75),
        p95: percentile(&sorted, 0.95),
        max: sorted.last().copied().unwrap_or(f64::NAN),
    }
}

impl Outcome {
    /// The distribution of each numeric metric, in layout order.
    pub fn metric_stats(&self) -> Vec<(&str, Stats)> {
        self.layout
            .metrics
            .iter()
            .zip(&self.metrics)
            .map(|(n, v)| (n.as_str(), stats(v, self.confidence)))
            .collect()
    }

    /// The distribution of each date metric, in layout order.
    pub fn date_stats(&self) -> Vec<(&str, DateStats)> {
        self.layout
            .dates
            .iter()
            .zip(&self.dates)
            .map(|(n, v)| {
                let mut happened: Vec<u32> = v.iter().flatten().copied().collect();
                happened.sort_unstable();
                let at = |q: f64| -> Option<String> {
                    if happened.is_empty() {
                        return None;
                    }
                    let i = (q * (happened.len() - 1) as f64).floor() as usize;
                    self.layout.days.get(happened[i] as usize).cloned()
                };
                (
                    n.as_str(),
                    DateStats {
                        probability: happened.len() as f64 / v.len().max(1) as f64,
                        p5: at(0.05),
                        p25: at(0.25),
                        p50: at(0.50),
                        p75: at(0.75),
                        p95: at(0.95),
                    },
                )
            })
            .collect()
    }

    /// Day by day: for each band series, P5..P95 and the mean; for each segment, the share
    /// of replications paused. Rows are days.
    pub fn band_rows(&self) -> (Vec<String>, Vec<Vec<f64>>) {
        let l = &self.layout;
        let n_days = l.days.len();
        let mut header = Vec::new();
        for s in &l.series {
            for (_, p) in PERCENTILES {
                header.push(format!("{s}.{p}"));
            }
            header.push(format!("{s}.mean"));
        }
        for seg in &l.segments {
            header.push(format!("pause_probability[{seg}]"));
        }
        let reps = self.reps.max(1) as f64;
        let rows = (0..n_days)
            .map(|d| {
                let mut row = Vec::with_capacity(header.len());
                for s in 0..l.series.len() {
                    let cell = &self.bands.cells[s * n_days + d];
                    for (q, _) in PERCENTILES {
                        row.push(cell.quantile(q));
                    }
                    row.push(if cell.count() == 0 { 0.0 } else { cell.mean() });
                }
                for k in 0..l.segments.len() {
                    row.push(self.bands.paused[k * n_days + d] as f64 / reps);
                }
                row
            })
            .collect();
        (header, rows)
    }
}

impl Outcome {
    /// The daily bands' aggregate state as bytes, for a shard's partial results; read back by
    /// [`Outcome::from_parts`].
    pub fn bands_state(&self) -> Vec<u8> {
        let mut out = BANDS_MAGIC.to_vec();
        out.extend((self.bands.cells.len() as u64).to_le_bytes());
        for c in &self.bands.cells {
            c.encode(&mut out);
        }
        out.extend((self.bands.paused.len() as u64).to_le_bytes());
        for p in &self.bands.paused {
            out.extend(p.to_le_bytes());
        }
        out
    }

    /// An outcome of replications `first..first + reps` rebuilt from a shard's files: its
    /// per-replication metrics and dates and its bands' state ([`Outcome::bands_state`]).
    pub fn from_parts(
        seed: u64,
        first: u64,
        layout: Layout,
        metrics: Vec<Vec<f64>>,
        dates: Vec<Vec<Option<u32>>>,
        state: &[u8],
    ) -> Result<Outcome, String> {
        let reps = metrics.first().map_or(0, Vec::len) as u64;
        if metrics.len() != layout.metrics.len() || dates.len() != layout.dates.len() {
            return Err("the metrics do not match the layout".into());
        }
        let body = state
            .strip_prefix(BANDS_MAGIC)
            .ok_or("not a bands state of this capsim (its first bytes differ)")?;
        let mut r = bands::Reader::new(body);
        let n = r.u64()? as usize;
        let n_days = layout.days.len();
        if n != layout.series.len() * n_days {
            return Err(format!(
                "{n} band cells, not {} series x {n_days} days",
                layout.series.len()
            ));
        }
        let cells = (0..n)
            .map(|_| bands::Cell::decode(&mut r))
            .collect::<Result<Vec<_>, _>>()?;
        let m = r.u64()? as usize;
        if m != layout.segments.len() * n_days {
            return Err(format!("{m} pause counts, not segments x days"));
        }
        let paused = (0..m).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
        if !r.done() {
            return Err("bytes left after the bands state".into());
        }
        if cells.iter().any(|c| c.count() > reps) || paused.iter().any(|p| *p > reps) {
            return Err(format!("the bands count more than the {reps} replications"));
        }
        Ok(Outcome {
            seed,
            first,
            reps,
            stop: Stop::Count,
            until_ci: None,
            confidence: Confidence::default(),
            representative: first + representative(&layout, &metrics),
            layout,
            metrics,
            dates,
            bands: Bands { cells, paused },
        })
    }
}

/// First bytes of the per-replication metrics' state (`Outcome::metrics_state`).
const METRICS_MAGIC: &[u8] = b"capsim replications state 1\n";

impl Outcome {
    /// Every replication's metrics and dates as exact bytes (f64 bits; a date that never
    /// happened as `u32::MAX`), for a shard's partial results.
    pub fn metrics_state(&self) -> Vec<u8> {
        let mut out = METRICS_MAGIC.to_vec();
        for n in [
            self.first,
            self.reps,
            self.metrics.len() as u64,
            self.dates.len() as u64,
        ] {
            out.extend(n.to_le_bytes());
        }
        for m in &self.metrics {
            for v in m {
                out.extend(v.to_bits().to_le_bytes());
            }
        }
        for d in &self.dates {
            for v in d {
                out.extend(v.unwrap_or(u32::MAX).to_le_bytes());
            }
        }
        out
    }

    /// Reads [`Outcome::metrics_state`]: (first, metrics, dates).
    #[allow(clippy::type_complexity)]
    pub fn read_metrics_state(
        bytes: &[u8],
    ) -> Result<(u64, Vec<Vec<f64>>, Vec<Vec<Option<u32>>>), String> {
        let body = bytes
            .strip_prefix(METRICS_MAGIC)
            .ok_or("not a replications state of this capsim (its first bytes differ)")?;
        let mut r = bands::Reader::new(body);
        let (first, reps, nm, nd) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
        let need = (nm.saturating_mul(8) + nd.saturating_mul(4)).saturating_mul(reps);
        if need != (body.len() as u64).saturating_sub(32) {
            return Err(format!(
                "{} bytes of values, not the {need} of {reps} replications",
                body.len().saturating_sub(32)
            ));
        }
        let metrics = (0..nm)
            .map(|_| (0..reps).map(|_| r.u64().map(f64::from_bits)).collect())
            .collect::<Result<Vec<Vec<f64>>, String>>()?;
        let dates = (0..nd)
            .map(|_| {
                (0..reps)
                    .map(|_| r.u32().map(|d| (d != u32::MAX).then_some(d)))
                    .collect()
            })
            .collect::<Result<Vec<Vec<Option<u32>>>, String>>()?;
        Ok((first, metrics, dates))
    }
}

/// Paired differences `b − a` of every metric the two outcomes share, replication by
/// replication (common random numbers: replication `r` of each used the same streams).
pub fn paired(a: &Outcome, b: &Outcome) -> Vec<(String, Stats)> {
    let n = a.reps.min(b.reps) as usize;
    a.layout
        .metrics
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let j = b.layout.metrics.iter().position(|m| m == name)?;
            let d: Vec<f64> = a.metrics[i][..n]
                .iter()
                .zip(&b.metrics[j][..n])
                .map(|(x, y)| y - x)
                .collect();
            Some((name.clone(), stats_signed(&d, a.confidence)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 1.0), 10.0);
        // numpy.percentile([1,2,3,4,10], 95) = 8.8
        assert!((percentile(&v, 0.95) - 8.8).abs() < 1e-12);
        assert!((percentile(&v, 0.25) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn the_interval_of_a_metric_never_negative_stays_non_negative() {
        // Mostly 0 with one large value: the t interval would go below 0.
        let mut v = vec![0.0; 9];
        v.push(100.0);
        let c = Confidence::default();
        let s = stats(&v, c);
        assert_eq!(s.ci_low, 0.0);
        assert!((s.ci_high - (10.0 + ci_half_width(&v, c))).abs() < 1e-9);
        // Differences may be negative: never clamped.
        let d = stats_signed(&v, c);
        assert!(d.ci_low < 0.0);
        let d = stats(&[-1.0, 5.0, 9.0], c);
        assert!(d.ci_low < 0.0);
    }

    #[test]
    fn stats_of_a_known_sample() {
        let sample = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let s = stats(&sample, Confidence::default());
        assert_eq!(s.mean, 5.0);
        // Sample sd: sqrt(32 / 7).
        assert!((s.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        // t(0.975, 7) = 2.365 in the tables (2.364624...).
        let hw = 2.365 * s.sd / 8f64.sqrt();
        assert!((s.ci_high - 5.0 - hw).abs() < 1e-3 * hw);
        // At 90%, t(0.95, 7) = 1.895: narrower.
        let s90 = stats(&sample, "0.9".parse().expect("level"));
        let hw90 = 1.895 * s.sd / 8f64.sqrt();
        assert!((s90.ci_high - 5.0 - hw90).abs() < 1e-3 * hw90);
        let json = serde_json::to_value(&s90).expect("serialises");
        assert!(json.get("ci90_low").is_some() && json.get("ci95_low").is_none());
        assert_eq!(s.min, 2.0);
        assert_eq!(s.max, 9.0);
    }

    #[test]
    fn until_ci_parses_and_refuses() {
        let u: UntilCi = "pause_days=2.5".parse().unwrap();
        assert_eq!(u.metric, "pause_days");
        assert_eq!(u.half_width, 2.5);
        assert!("pause_days".parse::<UntilCi>().is_err());
        assert!("pause_days=abc".parse::<UntilCi>().is_err());
        assert!("pause_days=0".parse::<UntilCi>().is_err());
    }
}
