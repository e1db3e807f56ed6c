//! The data files of a run read back, without chart types: `timeseries.csv` as a [`Table`],
//! `events.csv` as [`EventRow`]s, and the CSV helpers both `data` (charts) and `check` use.
//!
//! A leaf: it depends on nothing else in the crate, so `backtest` and `check` read outputs
//! here without depending on the rest of `report` (docs/ARCHITECTURE.md).

use chrono::NaiveDate;

/// An output file that cannot be read back (in `report`, its `Parse` error).
#[derive(Debug, thiserror::Error)]
#[error("cannot read {what}: {message}")]
pub struct ParseError {
    /// Which file.
    pub what: &'static str,
    /// What is wrong.
    pub message: String,
}

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

pub(crate) fn bad(what: &'static str, message: impl Into<String>) -> ParseError {
    ParseError {
        what,
        message: message.into(),
    }
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
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

/// A reader of a CSV file with a header, past its header, and the header's names.
fn csv_reader<'a>(
    what: &'static str,
    bytes: &'a [u8],
) -> Result<(csv::Reader<&'a [u8]>, Vec<String>), ParseError> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| bad(what, e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    Ok((r, header))
}

/// The header and rows of a CSV file, as text.
pub(crate) fn csv_records(
    what: &'static str,
    bytes: &[u8],
) -> Result<(Vec<String>, Vec<Vec<String>>), ParseError> {
    let (mut r, header) = csv_reader(what, bytes)?;
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(what, e.to_string()))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok((header, rows))
}

/// The columns of a CSV file with a header, as text: `(header, one vector per column)`.
pub(crate) fn csv_columns(
    what: &'static str,
    bytes: &[u8],
) -> Result<(Vec<String>, Vec<Vec<String>>), ParseError> {
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
pub(crate) fn numbers(
    what: &'static str,
    name: &str,
    values: &[String],
) -> Result<Vec<f64>, ParseError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| number(what, name, i + 2, v))
        .collect()
}

/// The field `v` of column `name`, on line `row` of `what`, as a number.
fn number(what: &'static str, name: &str, row: usize, v: &str) -> Result<f64, ParseError> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        // capsim never writes `inf` or `NaN`: such a file was damaged or edited, and a chart
        // would draw the value as 0.
        Ok(_) => Err(bad(
            what,
            format!("column `{name}`, row {row}: `{v}` is not a finite number"),
        )),
        Err(_) => Err(bad(
            what,
            format!("column `{name}`, row {row}: `{v}` is not a number"),
        )),
    }
}

impl Table {
    /// Parses the bytes of `timeseries.csv`.
    pub fn parse(timeseries: &[u8]) -> Result<Table, ParseError> {
        Table::parse_file("timeseries.csv", timeseries)
    }

    /// Parses a daily table, `date` first (`timeseries.csv`, `bands.csv`); errors name `what`.
    ///
    /// Fields go straight into their column, numbers parsed as they are read (one record
    /// buffer reused), so a 100,000-cell file makes no String per number: the charts of every
    /// run read `timeseries.csv` back this way.
    pub fn parse_file(what: &'static str, bytes: &[u8]) -> Result<Table, ParseError> {
        let (mut r, header) = csv_reader(what, bytes)?;
        if header.first().map(String::as_str) != Some("date") {
            return Err(bad(what, "the first column must be `date`"));
        }
        // Where each column after `date` goes: the binding-constraint columns hold words,
        // every other column numbers.
        let text: Vec<bool> = header[1..]
            .iter()
            .map(|n| n.starts_with("binding"))
            .collect();
        let mut nums: Vec<Vec<f64>> = Vec::new();
        let mut words: Vec<Vec<String>> = Vec::new();
        for &t in &text {
            if t {
                words.push(Vec::new());
            } else {
                nums.push(Vec::new());
            }
        }
        let mut dates = Vec::new();
        let mut rec = csv::StringRecord::new();
        let mut row = 1;
        while r
            .read_record(&mut rec)
            .map_err(|e| bad(what, e.to_string()))?
        {
            row += 1;
            let mut fields = rec.iter();
            let d = fields.next().unwrap_or_default();
            dates.push(parse_date(d).ok_or_else(|| bad(what, format!("row {row}: bad date")))?);
            let (mut n, mut w) = (0, 0);
            for ((field, &t), name) in fields.zip(&text).zip(&header[1..]) {
                if t {
                    words[w].push(field.to_string());
                    w += 1;
                } else {
                    nums[n].push(number(what, name, row, field)?);
                    n += 1;
                }
            }
        }
        let mut columns = Vec::with_capacity(nums.len());
        let mut text_columns = Vec::with_capacity(words.len());
        let (mut nums, mut words) = (nums.into_iter(), words.into_iter());
        for (name, &t) in header.into_iter().skip(1).zip(&text) {
            if t {
                text_columns.push((name, words.next().unwrap_or_default()));
            } else {
                columns.push((name, nums.next().unwrap_or_default()));
            }
        }
        Ok(Table {
            dates,
            columns,
            text_columns,
        })
    }

    /// The values of a numeric column.
    pub fn series(&self, name: &str) -> Option<&[f64]> {
        column(&self.columns, name)
    }

    /// The values of a text column.
    pub fn text_series(&self, name: &str) -> Option<&[String]> {
        column(&self.text_columns, name)
    }

    /// Entities of a per-entity column family, in file order: `entities("users")` gives the
    /// segment names of `users[<segment>]`.
    pub fn entities(&self, prefix: &str) -> Vec<String> {
        entities(
            self.columns
                .iter()
                .map(|(n, _)| n.as_str())
                .chain(self.text_columns.iter().map(|(n, _)| n.as_str())),
            prefix,
        )
    }
}

/// The values of the column `name` among named columns.
pub(crate) fn column<'a, T>(columns: &'a [(String, Vec<T>)], name: &str) -> Option<&'a [T]> {
    columns
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_slice())
}

/// The `<entity>` of each name `prefix[<entity>]`, in order.
pub(crate) fn entities<'a>(names: impl Iterator<Item = &'a str>, prefix: &str) -> Vec<String> {
    let open = format!("{prefix}[");
    names
        .filter_map(|n| n.strip_prefix(&open)?.strip_suffix(']'))
        .map(str::to_string)
        .collect()
}

/// The daily series and the event log of a run's files (as rendered or read from disk).
pub fn series_and_events(
    files: &[(String, Vec<u8>)],
) -> Result<(Table, Vec<EventRow>), ParseError> {
    Ok((
        Table::parse(get(files, "timeseries.csv")?)?,
        events(get(files, "events.csv")?)?,
    ))
}

/// Looks a file up in a list of rendered outputs.
pub fn find<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    files
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.as_slice())
}

/// A rendered output file, or an error saying it is missing.
pub fn get<'a>(files: &'a [(String, Vec<u8>)], name: &'static str) -> Result<&'a [u8], ParseError> {
    find(files, name).ok_or(ParseError {
        what: name,
        message: "missing".into(),
    })
}

/// Parses the bytes of `events.csv`.
pub fn events(bytes: &[u8]) -> Result<Vec<EventRow>, ParseError> {
    let mut er = csv::Reader::from_reader(bytes);
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
    Ok(evs)
}
