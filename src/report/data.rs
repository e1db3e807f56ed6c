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

pub mod whatif;

/// One row of `events.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// Day of the event.
    pub date: NaiveDate,
    /// `pause`, `resume`, `launch`, `expansion`, ...
    pub kind: String,
    /// What it concerns.
    pub subject: String,
    /// Why.
    pub cause: String,
}

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

fn bad(what: &'static str, message: impl Into<String>) -> ReportError {
    ReportError::Parse {
        what,
        message: message.into(),
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The daily series of `timeseries.csv`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// One date per day.
    pub dates: Vec<NaiveDate>,
    /// Numeric columns in file order: `(name, values per day)`.
    pub columns: Vec<(String, Vec<f64>)>,
    /// Text columns (the binding constraints) in file order.
    pub text_columns: Vec<(String, Vec<String>)>,
}

/// The header and rows of a CSV file, as text.
pub(crate) fn csv_records(
    what: &'static str,
    bytes: &[u8],
) -> Result<(Vec<String>, Vec<Vec<String>>), ReportError> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| bad(what, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(what, e.to_string()))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok((header, rows))
}

/// The columns of a CSV file with a header, as text: `(header, one vector per column)`.
fn csv_columns(
    what: &'static str,
    bytes: &[u8],
) -> Result<(Vec<String>, Vec<Vec<String>>), ReportError> {
    let (header, rows) = csv_records(what, bytes)?;
    let mut raw: Vec<Vec<String>> = vec![Vec::with_capacity(rows.len()); header.len()];
    for row in rows {
        for (col, field) in raw.iter_mut().zip(row) {
            col.push(field);
        }
    }
    Ok((header, raw))
}

/// The values of column `name` of `what` as numbers, or an error naming the column and row.
fn numbers(what: &'static str, name: &str, values: &[String]) -> Result<Vec<f64>, ReportError> {
    values
        .iter()
        .enumerate()
        .map(|(row, v)| {
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                // capsim never writes `inf` or `NaN`: such a file was damaged or edited, and
                // a chart would draw the value as 0.
                Ok(_) => Err(bad(
                    what,
                    format!(
                        "column `{name}`, row {}: `{v}` is not a finite number",
                        row + 2
                    ),
                )),
                Err(_) => Err(bad(
                    what,
                    format!("column `{name}`, row {}: `{v}` is not a number", row + 2),
                )),
            }
        })
        .collect()
}

impl Table {
    /// Parses the bytes of `timeseries.csv`.
    pub fn parse(timeseries: &[u8]) -> Result<Table, ReportError> {
        Table::parse_file("timeseries.csv", timeseries)
    }

    /// Parses a daily table, `date` first (`timeseries.csv`, `bands.csv`); errors name `what`.
    pub fn parse_file(what: &'static str, bytes: &[u8]) -> Result<Table, ReportError> {
        let (header, mut raw) = csv_columns(what, bytes)?;
        if header.first().map(String::as_str) != Some("date") {
            return Err(bad(what, "the first column must be `date`"));
        }
        let mut dates = Vec::new();
        for (i, d) in raw
            .first()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            dates.push(parse_date(d).ok_or_else(|| bad(what, format!("row {}: bad date", i + 2)))?);
        }
        let mut columns = Vec::new();
        let mut text_columns = Vec::new();
        for (name, values) in header.into_iter().zip(raw.drain(..)).skip(1) {
            // The binding-constraint columns hold words; every other column numbers.
            if name.starts_with("binding") {
                text_columns.push((name, values));
                continue;
            }
            let nums = numbers(what, &name, &values)?;
            columns.push((name, nums));
        }
        Ok(Table {
            dates,
            columns,
            text_columns,
        })
    }

    /// The values of a numeric column.
    pub fn series(&self, name: &str) -> Option<&[f64]> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The values of a text column.
    pub fn text_series(&self, name: &str) -> Option<&[String]> {
        self.text_columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
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
        let mut er = csv::Reader::from_reader(events);
        let mut evs = Vec::new();
        for (i, rec) in er.records().enumerate() {
            let rec = rec.map_err(|e| bad("events.csv", e.to_string()))?;
            let field = |k: usize| rec.get(k).unwrap_or_default().to_string();
            let date = rec
                .get(0)
                .and_then(parse_date)
                .ok_or_else(|| bad("events.csv", format!("row {}: bad date", i + 2)))?;
            evs.push(EventRow {
                date,
                kind: field(1),
                subject: field(2),
                cause: field(3),
            });
        }
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
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The values of a text column.
    pub fn text_series(&self, name: &str) -> Option<&[String]> {
        self.text_columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Entities of a per-entity column family, in file order: `entities("users")` gives the
    /// segment names of `users[<segment>]`.
    pub fn entities(&self, prefix: &str) -> Vec<String> {
        let open = format!("{prefix}[");
        self.columns
            .iter()
            .map(|(n, _)| n)
            .chain(self.text_columns.iter().map(|(n, _)| n))
            .filter_map(|n| n.strip_prefix(&open)?.strip_suffix(']'))
            .map(str::to_string)
            .collect()
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

/// A number of `summary.json` that may be `null` (JSON has no NaN): `null` reads as NaN.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The distribution of a numeric metric over the replications: an entry of
/// `replications.metrics` in `summary.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MetricStats {
    /// Mean.
    #[serde(deserialize_with = "nullable")]
    pub mean: f64,
    /// 95% confidence interval of the mean, low end.
    #[serde(deserialize_with = "nullable")]
    pub ci95_low: f64,
    /// ... high end.
    #[serde(deserialize_with = "nullable")]
    pub ci95_high: f64,
    /// 5th percentile.
    #[serde(deserialize_with = "nullable")]
    pub p5: f64,
    /// Median.
    #[serde(deserialize_with = "nullable")]
    pub p50: f64,
    /// 95th percentile.
    #[serde(deserialize_with = "nullable")]
    pub p95: f64,
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
