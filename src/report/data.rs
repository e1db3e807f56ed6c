//! What charts and reports are drawn from: a run's output files, parsed back.
//!
//! Charts are always drawn from the files (`timeseries.csv`, `summary.json`, `events.csv`,
//! and for a Monte Carlo run `bands.csv`, `replications.csv` and the `replications` block of
//! `summary.json`), whether just written by `capsim run` or read from disk by `capsim chart`,
//! so the two give the same pictures.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

use crate::model::Summary;

use super::ReportError;
pub(crate) use super::read::csv_records;
pub use super::read::{EventRow, Table};
use super::read::{csv_columns, numbers, parse_date};

/// A file that cannot be read back, as the report's error.
fn bad(what: &'static str, message: impl Into<String>) -> ReportError {
    super::read::bad(what, message).into()
}

pub mod whatif;

/// A run's outputs, parsed.
#[derive(Debug, Clone)]
pub struct ChartData {
    /// The summary.
    pub summary: Summary,
    /// One date per day.
    pub dates: Vec<NaiveDate>,
    /// Numeric columns in file order: `(name, values per day)`.
    pub columns: Vec<(String, Vec<f64>)>,
    /// Text columns in file order.
    pub text_columns: Vec<(String, Vec<String>)>,
    /// The event log.
    pub events: Vec<EventRow>,
}

impl ChartData {
    /// Parses the bytes of `timeseries.csv`, `summary.json` and `events.csv`.
    pub fn from_bytes(
        timeseries: &[u8],
        summary: &[u8],
        events: &[u8],
    ) -> Result<Self, ReportError> {
        let summary: Summary =
            serde_json::from_slice(summary).map_err(|e| bad("summary.json", e.to_string()))?;
        let Table {
            dates,
            columns,
            text_columns,
        } = Table::parse(timeseries)?;
        let evs = super::read::events(events)?;
        Ok(ChartData {
            summary,
            dates,
            columns,
            text_columns,
            events: evs,
        })
    }

    /// The values of a numeric column.
    pub fn series(&self, name: &str) -> Option<&[f64]> {
        super::read::column(&self.columns, name)
    }

    /// The values of a text column.
    pub fn text_series(&self, name: &str) -> Option<&[String]> {
        super::read::column(&self.text_columns, name)
    }

    /// Entities of a per-entity column family, in file order: `entities("users")` gives the
    /// segment names of `users[<segment>]`.
    pub fn entities(&self, prefix: &str) -> Vec<String> {
        super::read::entities(
            self.columns
                .iter()
                .map(|(n, _)| n.as_str())
                .chain(self.text_columns.iter().map(|(n, _)| n.as_str())),
            prefix,
        )
    }

    /// Products of the run, in scenario order.
    pub fn products(&self) -> Vec<String> {
        self.entities("installed_units")
    }

    /// Segments of the run, in scenario order.
    pub fn segments(&self) -> Vec<String> {
        self.entities("users")
    }

    /// Packaging lines of the run, in scenario order.
    pub fn lines(&self) -> Vec<String> {
        self.entities("packaging_capacity_wafers_per_day")
    }
}

/// The distribution of a numeric metric over the replications: an entry of
/// `replications.metrics` in `summary.json`. Numbers may be `null` (JSON has no NaN), read as
/// NaN; the confidence interval's keys name its level (`ci95_low`, `ci90_low`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricStats {
    /// Mean.
    pub mean: f64,
    /// The level of the confidence interval, from its keys.
    pub confidence: crate::montecarlo::Confidence,
    /// Confidence interval of the mean, low end.
    pub ci_low: f64,
    /// ... high end.
    pub ci_high: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

impl<'de> Deserialize<'de> for MetricStats {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let m = BTreeMap::<String, Option<f64>>::deserialize(d)?;
        let get = |k: &str| {
            m.get(k).map(|v| v.unwrap_or(f64::NAN)).ok_or_else(|| {
                D::Error::missing_field(match k {
                    "mean" => "mean",
                    "p5" => "p5",
                    "p50" => "p50",
                    _ => "p95",
                })
            })
        };
        let (stem, confidence) = m
            .keys()
            .filter_map(|k| k.strip_suffix("_low"))
            .find_map(|stem| Some((stem, crate::montecarlo::Confidence::from_key(stem)?)))
            .ok_or_else(|| D::Error::custom("no confidence interval (`ci95_low`, ...)"))?;
        let end = |side: &str| {
            let k = format!("{stem}_{side}");
            m.get(&k)
                .map(|v| v.unwrap_or(f64::NAN))
                .ok_or_else(|| D::Error::custom(format!("missing field `{k}`")))
        };
        Ok(MetricStats {
            mean: get("mean")?,
            confidence,
            ci_low: end("low")?,
            ci_high: end("high")?,
            p5: get("p5")?,
            p50: get("p50")?,
            p95: get("p95")?,
        })
    }
}

/// The distribution of a date metric: an entry of `replications.dates` in `summary.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DateStats {
    /// Share of replications in which it happened [0..1].
    pub probability: f64,
    /// 5th percentile of the date among those replications (`YYYY-MM-DD`).
    pub p5: Option<String>,
    /// Median.
    pub p50: Option<String>,
    /// 95th percentile.
    pub p95: Option<String>,
}

/// `--until-ci` as recorded in `summary.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UntilCi {
    /// The metric watched.
    pub metric: String,
    /// The half-width asked for, in the metric's unit.
    pub half_width: f64,
}

/// The `replications` block of a Monte Carlo run's `summary.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Replications {
    /// Replications run.
    pub count: u64,
    /// The seed every replication derives its streams from.
    pub seed: u64,
    /// Why they stopped: `count`, `ci_met` or `ci_not_met`.
    pub stop: String,
    /// `--until-ci`, if given.
    #[serde(default)]
    pub until_ci: Option<UntilCi>,
    /// The replication whose files (and ordinary charts) are those of the folder.
    pub representative: u64,
    /// Numeric metrics by name.
    pub metrics: BTreeMap<String, MetricStats>,
    /// Date metrics by name (`first_pause.<segment>`, ...).
    pub dates: BTreeMap<String, DateStats>,
}

impl Replications {
    /// The level of the confidence intervals (every metric has the same), 0.95 if there is
    /// no metric.
    pub fn confidence(&self) -> crate::montecarlo::Confidence {
        self.metrics
            .values()
            .next()
            .map(|m| m.confidence)
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct SummaryReps {
    replications: Option<Replications>,
}

/// Statistics of each band series, day by day, in `bands.csv`, in this order.
pub const BAND_STATS: [&str; 6] = ["p5", "p25", "p50", "p75", "p95", "mean"];

/// A Monte Carlo run's own files, parsed: `bands.csv`, `replications.csv` and the
/// `replications` block of `summary.json`.
#[derive(Debug, Clone)]
pub struct McData {
    /// The `replications` block of `summary.json`.
    pub reps: Replications,
    /// `bands.csv`: per day, `<series>.<stat>` for each band series and each of
    /// [`BAND_STATS`], then `pause_probability[<segment>]` [0..1].
    pub bands: Table,
    /// The numeric columns of `replications.csv`, in file order: one value per replication.
    pub metrics: Vec<(String, Vec<f64>)>,
}

/// Band series that must be in `bands.csv`.
const REQUIRED_BANDS: [&str; 2] = ["demand_h100e", "capacity_h100e"];
/// Metrics that must be in `replications.csv`.
const REQUIRED_METRICS: [&str; 2] = ["pause_days", "lost_revenue_usd"];

impl McData {
    /// Parses the bytes of `bands.csv`, `replications.csv` and `summary.json`. Errors name
    /// the file and the column.
    pub fn from_bytes(
        bands: &[u8],
        replications: &[u8],
        summary: &[u8],
    ) -> Result<McData, ReportError> {
        let reps = serde_json::from_slice::<SummaryReps>(summary)
            .map_err(|e| bad("summary.json", format!("`replications`: {e}")))?
            .replications
            .ok_or_else(|| {
                bad(
                    "summary.json",
                    "no `replications` block, though bands.csv is there (was it written by \
                     `capsim run --reps`?)",
                )
            })?;
        let bands = Table::parse_file("bands.csv", bands)?;
        for series in REQUIRED_BANDS {
            for stat in BAND_STATS {
                let col = format!("{series}.{stat}");
                if bands.series(&col).is_none() {
                    return Err(bad("bands.csv", format!("no column `{col}`")));
                }
            }
        }
        let (header, raw) = csv_columns("replications.csv", replications)?;
        if header.first().map(String::as_str) != Some("replication") {
            return Err(bad(
                "replications.csv",
                "the first column must be `replication`",
            ));
        }
        let rows = raw.first().map_or(0, Vec::len);
        if rows as u64 != reps.count {
            return Err(bad(
                "replications.csv",
                format!(
                    "{rows} rows, but summary.json counts {} replications",
                    reps.count
                ),
            ));
        }
        // Numbers first, then dates (`YYYY-MM-DD`, empty when it never happened).
        let mut metrics = Vec::new();
        for (name, values) in header.iter().zip(&raw).skip(1) {
            let dated = values
                .iter()
                .any(|v| v.is_empty() || parse_date(v).is_some());
            if dated && !REQUIRED_METRICS.contains(&name.as_str()) {
                continue;
            }
            metrics.push((name.clone(), numbers("replications.csv", name, values)?));
        }
        for m in REQUIRED_METRICS {
            if !metrics.iter().any(|(n, _)| n == m) {
                return Err(bad("replications.csv", format!("no column `{m}`")));
            }
        }
        Ok(McData {
            reps,
            bands,
            metrics,
        })
    }

    /// A metric's value in each replication.
    pub fn metric(&self, name: &str) -> Option<&[f64]> {
        self.metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Segments with a `pause_probability[<segment>]` column, in file (scenario) order.
    pub fn segments(&self) -> Vec<String> {
        self.bands
            .columns
            .iter()
            .filter_map(|(n, _)| n.strip_prefix("pause_probability[")?.strip_suffix(']'))
            .map(str::to_string)
            .collect()
    }
}
