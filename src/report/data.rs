//! What charts and reports are drawn from: a run's output files, parsed back.
//!
//! Charts are always drawn from the files (`timeseries.csv`, `summary.json`, `events.csv`),
//! whether just written by `capsim run` or read from disk by `capsim chart`, so the two give
//! the same pictures.

use chrono::NaiveDate;

use crate::model::Summary;

use super::ReportError;

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

impl Table {
    /// Parses the bytes of `timeseries.csv`.
    pub fn parse(timeseries: &[u8]) -> Result<Table, ReportError> {
        let mut r = csv::Reader::from_reader(timeseries);
        let header: Vec<String> = r
            .headers()
            .map_err(|e| bad("timeseries.csv", e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        if header.first().map(String::as_str) != Some("date") {
            return Err(bad("timeseries.csv", "the first column must be `date`"));
        }
        let mut dates = Vec::new();
        let mut raw: Vec<Vec<String>> = vec![Vec::new(); header.len()];
        for (i, rec) in r.records().enumerate() {
            let rec = rec.map_err(|e| bad("timeseries.csv", e.to_string()))?;
            let date = rec
                .get(0)
                .and_then(parse_date)
                .ok_or_else(|| bad("timeseries.csv", format!("row {}: bad date", i + 2)))?;
            dates.push(date);
            for (c, field) in rec.iter().enumerate().skip(1) {
                if let Some(col) = raw.get_mut(c) {
                    col.push(field.to_string());
                }
            }
        }
        let mut columns = Vec::new();
        let mut text_columns = Vec::new();
        for (name, values) in header.into_iter().zip(raw).skip(1) {
            // The binding-constraint columns hold words; every other column numbers.
            if name.starts_with("binding") {
                text_columns.push((name, values));
                continue;
            }
            let mut nums = Vec::with_capacity(values.len());
            for (row, v) in values.iter().enumerate() {
                let x = v.parse::<f64>().map_err(|_| {
                    bad(
                        "timeseries.csv",
                        format!("column `{name}`, row {}: `{v}` is not a number", row + 2),
                    )
                })?;
                nums.push(x);
            }
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
