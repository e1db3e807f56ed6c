//! The files of a Monte Carlo run (`capsim run --reps N`): `bands.csv`, `replications.csv`,
//! and the `replications` block of `summary.json`. Each writer returns bytes.

use serde::Serialize;
use serde::ser::SerializeMap;

use super::{ReportError, csv_err, into_bytes, json};
use crate::format::fmt_num;
use crate::model::{RunOutput, Summary};
use crate::montecarlo::{DateStats, Outcome, Stats, Stop, UntilCi};

/// Files a Monte Carlo run writes besides those of its representative replication.
pub const MC_FILES: [&str; 2] = ["bands.csv", "replications.csv"];

/// `bands.csv`: one row per day; for each band series its P5, P25, P50, P75, P95 and mean
/// over the replications, then each segment's probability of being paused that day.
pub fn bands_csv(o: &Outcome) -> Result<Vec<u8>, ReportError> {
    let (header, rows) = o.band_rows();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut h = vec!["date"];
    h.extend(header.iter().map(String::as_str));
    w.write_record(&h).map_err(csv_err("bands.csv"))?;
    let mut buf = crate::format::Shortest::new();
    for (date, row) in o.layout.days.iter().zip(&rows) {
        w.write_field(date).map_err(csv_err("bands.csv"))?;
        for v in row {
            w.write_field(fmt_num(&mut buf, *v))
                .map_err(csv_err("bands.csv"))?;
        }
        w.write_record(None::<&[u8]>)
            .map_err(csv_err("bands.csv"))?;
    }
    into_bytes(w, "bands.csv")
}

/// `replications.csv`: one row per replication (numbered from `o.first`), its every summary metric (numbers, then
/// dates as YYYY-MM-DD, empty when it never happened).
pub fn replications_csv(o: &Outcome) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut h = vec!["replication"];
    h.extend(o.layout.metrics.iter().map(String::as_str));
    h.extend(o.layout.dates.iter().map(String::as_str));
    w.write_record(&h).map_err(csv_err("replications.csv"))?;
    let mut buf = crate::format::Shortest::new();
    for r in 0..o.reps as usize {
        w.write_field((o.first + r as u64).to_string())
            .map_err(csv_err("replications.csv"))?;
        for m in &o.metrics {
            w.write_field(fmt_num(&mut buf, m[r]))
                .map_err(csv_err("replications.csv"))?;
        }
        for d in &o.dates {
            let date = d[r]
                .and_then(|i| o.layout.days.get(i as usize))
                .map_or("", String::as_str);
            w.write_field(date).map_err(csv_err("replications.csv"))?;
        }
        w.write_record(None::<&[u8]>)
            .map_err(csv_err("replications.csv"))?;
    }
    into_bytes(w, "replications.csv")
}

/// A list of `(name, value)` written as a JSON object in list order.
struct Ordered<'a, T>(&'a [(&'a str, T)]);

impl<T: Serialize> Serialize for Ordered<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The `replications` block of `summary.json`.
#[derive(Serialize)]
struct Block<'a> {
    count: u64,
    seed: u64,
    stop: Stop,
    #[serde(skip_serializing_if = "Option::is_none")]
    until_ci: Option<UntilCiDoc<'a>>,
    representative: u64,
    metrics: Ordered<'a, Stats>,
    dates: Ordered<'a, DateStats>,
}

#[derive(Serialize)]
struct UntilCiDoc<'a> {
    metric: &'a str,
    half_width: f64,
    reached: f64,
}

#[derive(Serialize)]
struct McSummary<'a> {
    #[serde(flatten)]
    run: &'a Summary,
    replications: Block<'a>,
}

/// `summary.json` of a Monte Carlo run: the representative replication's summary, as a
/// single run writes it, plus `replications` (the distribution of every metric).
pub fn summary_json(representative: &RunOutput, o: &Outcome) -> Result<Vec<u8>, ReportError> {
    let metrics = o.metric_stats();
    let dates = o.date_stats();
    let until_ci = o.until_ci.as_ref().map(|u: &UntilCi| UntilCiDoc {
        metric: &u.metric,
        half_width: u.half_width,
        reached: o
            .layout
            .metric(&u.metric)
            .map(|i| crate::montecarlo::ci_half_width(&o.metrics[i], o.confidence))
            .unwrap_or(f64::NAN),
    });
    json(
        &McSummary {
            run: &representative.summary,
            replications: Block {
                count: o.reps,
                seed: o.seed,
                stop: o.stop,
                until_ci,
                representative: o.representative,
                metrics: Ordered(&metrics),
                dates: Ordered(&dates),
            },
        },
        "summary.json",
    )
}

/// Metrics shown in the paired-difference table and text (the JSON has every metric).
pub const PAIRED_SHOWN: [(&str, &str, bool); 6] = [
    ("pause_days", "Paused segment-days", false),
    ("shortage_days", "Shortage days", false),
    ("lost_revenue_usd", "Revenue lost", true),
    ("revenue_usd", "Revenue", true),
    ("capex_usd", "Capital spent", true),
    ("fleet_end_h100e", "Fleet at the end (H100e)", false),
];

/// Paired differences of one scenario against the first.
#[derive(Debug, Serialize)]
pub struct PairedDoc {
    /// The baseline's folder.
    pub baseline: String,
    /// This scenario's folder.
    pub scenario: String,
    /// Replications paired.
    pub replications: u64,
    /// The level of the confidence intervals (their keys in `differences` name it).
    #[serde(skip)]
    pub confidence: crate::montecarlo::Confidence,
    /// Per metric: the distribution of (this − baseline), replication by replication.
    pub differences: std::collections::BTreeMap<String, Stats>,
}

impl PairedDoc {
    /// The paired differences `b − a`.
    pub fn new(a: &Outcome, b: &Outcome, a_name: &str, b_name: &str) -> Self {
        PairedDoc {
            baseline: a_name.to_string(),
            scenario: b_name.to_string(),
            replications: a.reps.min(b.reps),
            confidence: a.confidence,
            differences: crate::montecarlo::paired(a, b).into_iter().collect(),
        }
    }
}

/// Whether a confidence interval excludes 0.
pub fn verdict(s: &Stats) -> &'static str {
    if s.ci_low > 0.0 || s.ci_high < 0.0 {
        "yes"
    } else {
        "no"
    }
}
