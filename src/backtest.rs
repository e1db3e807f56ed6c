//! Backtesting: observations of the real world (CSV files a scenario names with `observed:`)
//! set beside what a run gives over the same periods.
//!
//! - [`parse_csv`] reads one observations file (at load, by `scenario::load`, which reads the
//!   file): periods, numbers, dates and metric expressions are checked there, with problems
//!   located in the CSV file (line and column);
//! - [`evaluate`] computes each metric from a run's parsed outputs (`report::read`'s
//!   [`Table`] and [`EventRow`]s: the bytes of `timeseries.csv` and `events.csv`) and scores the run; column names are checked here,
//!   since only a run's header says which exist;
//! - [`backtest_csv`], [`parse_backtest_csv`], [`table`] and [`markdown`]: the writers (bytes
//!   and text; the CLI writes them through `report::write_outputs`) and the reader the charts
//!   are drawn from.
//!
//! The format, the grammar and the score are documented in `docs/backtest.md`.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::format::compact;
use crate::report::read::{EventRow, Table};
use crate::scenario::yaml::{Diagnostic, Loc, did_you_mean, unknown_name_hint};

/// Largest observations file read \[bytes\]: 16 MiB.
pub const MAX_FILE_BYTES: u64 = 16 << 20;
/// Half-width of the range of a number given without `low` and `high` [share of the value].
pub const DEFAULT_RELATIVE_TOLERANCE: f64 = 0.10;
/// Half-width of the range of a date given without `low` and `high` \[days\].
pub const DEFAULT_DAYS_TOLERANCE: f64 = 7.0;
/// The columns of an observations file (`period`, `metric` and `value` are required).
pub const COLUMNS: [&str; 7] = [
    "period", "metric", "value", "low", "high", "required", "source",
];
/// The aggregations of the metric grammar.
pub const AGGREGATIONS: [&str; 6] = ["sum", "mean", "min", "max", "first", "last"];

/// A period of observation: every day from `first` to `last`, inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// As written: `2023-11-14`, `2023-06`, `2023Q2`, `2023H2`, `2023`.
    pub label: String,
    /// First day.
    pub first: NaiveDate,
    /// Last day.
    pub last: NaiveDate,
}

fn last_of_month(y: i32, m: u32) -> Option<NaiveDate> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()
}

impl Period {
    /// Parses a day `2023-11-14`, a month `2023-06`, a quarter `2023Q2`, a half `2023H2` or a
    /// year `2023`.
    pub fn parse(text: &str) -> Result<Period, String> {
        let t = text.trim();
        let bad = || {
            format!(
                "`{t}` is not a period; write a day `2023-11-14`, a month `2023-06`, a quarter \
                 `2023Q2`, a half `2023H2` or a year `2023`"
            )
        };
        let year = |s: &str| -> Option<i32> {
            (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let months = |y: i32, m0: u32, m1: u32| -> Option<(NaiveDate, NaiveDate)> {
            Some((NaiveDate::from_ymd_opt(y, m0, 1)?, last_of_month(y, m1)?))
        };
        let span = if let Some(y) = year(t) {
            months(y, 1, 12)
        } else if let Some((y, q)) = t.split_once(['Q', 'q']) {
            match (year(y), q) {
                (Some(y), "1" | "2" | "3" | "4") => {
                    let q: u32 = q.parse().map_err(|_| bad())?;
                    months(y, 3 * q - 2, 3 * q)
                }
                _ => None,
            }
        } else if let Some((y, h)) = t.split_once(['H', 'h']) {
            match (year(y), h) {
                (Some(y), "1") => months(y, 1, 6),
                (Some(y), "2") => months(y, 7, 12),
                _ => None,
            }
        } else if t.len() == 7 {
            let (y, m) = t.split_once('-').ok_or_else(bad)?;
            let digits = m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit());
            match (year(y), m.parse::<u32>()) {
                (Some(y), Ok(m)) if digits && (1..=12).contains(&m) => months(y, m, m),
                _ => None,
            }
        } else if t.len() == 10 {
            crate::engine::parse_date(t).ok().map(|d| (d, d))
        } else {
            None
        };
        let (first, last) = span.ok_or_else(bad)?;
        Ok(Period {
            label: t.to_string(),
            first,
            last,
        })
    }

    /// Days in the period.
    pub fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }
}

/// How a metric's daily values become one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    /// Sum over the period's days (of a `_per_day` column: the period's total).
    Sum,
    /// Mean over the period's days.
    Mean,
    /// Least value.
    Min,
    /// Greatest value.
    Max,
    /// Value on the period's first day.
    First,
    /// Value on the period's last day.
    Last,
}

/// `coef × column` inside an aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// Sign and factor.
    pub coef: f64,
    /// A column of `timeseries.csv`: `shipped_units_per_day[H100]`.
    pub column: String,
    /// Where the column name starts in the metric text [characters, from 0].
    pub at: usize,
}

/// `agg(term ± term ...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// How days are combined.
    pub agg: Agg,
    /// Summed day by day before aggregating.
    pub terms: Vec<Term>,
}

/// What a metric divides by.
#[derive(Debug, Clone, PartialEq)]
pub enum Divisor {
    /// Another aggregation over the same period.
    Aggregate(Aggregate),
    /// A constant (`/7` turns days into weeks).
    Number(f64),
}

/// A metric: a number from the daily series, or the date of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// `agg(...)` or `agg(...)/agg(...)` or `agg(...)/NUMBER`.
    Value {
        /// The aggregation.
        num: Aggregate,
        /// Divided by this, if given.
        div: Option<Divisor>,
    },
    /// `event_date(kind, subject)` or `first_pause_date[segment]`: the first event of that
    /// kind (and subject) within the period.
    EventDate {
        /// `pause`, `resume`, `launch`, ... as in `events.csv`.
        kind: String,
        /// Its subject, if it must match.
        subject: Option<String>,
        /// Where the subject starts in the metric text \[characters\].
        at: usize,
    },
}

impl Metric {
    /// Whether the metric is a date.
    pub fn is_date(&self) -> bool {
        matches!(self, Metric::EventDate { .. })
    }
}

/// One observation, parsed. Dates are held as days since 0001-01-01 (CE), so that ranges and
/// errors are plain numbers of days.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// When.
    pub period: Period,
    /// The metric as written.
    pub metric_text: String,
    /// The metric, parsed.
    pub metric: Metric,
    /// Whether value, low and high are dates.
    pub is_date: bool,
    /// The observed value.
    pub value: f64,
    /// Lowest value counted as agreeing (may be −∞).
    pub low: f64,
    /// Highest value counted as agreeing (may be +∞).
    pub high: f64,
    /// Whether `low` and `high` came from the file (else the default tolerance).
    pub range_given: bool,
    /// A required observation fails `capsim check` and `capsim backtest` when outside.
    pub required: bool,
    /// Where the figure comes from.
    pub source: String,
    /// Line of the row.
    pub line: u32,
    /// Where the period field is.
    pub period_loc: Loc,
    /// Where the metric field is.
    pub metric_loc: Loc,
}

/// An observations file, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedFile {
    /// Its path as shown in messages (relative to where capsim runs).
    pub path: String,
    /// Its observations, in file order.
    pub observations: Vec<Observation>,
}

fn day_number(d: NaiveDate) -> f64 {
    f64::from(d.num_days_from_ce())
}

fn date_of(days: f64) -> Option<NaiveDate> {
    if !days.is_finite() {
        return None;
    }
    NaiveDate::from_num_days_from_ce_opt(days.round() as i32)
}

/// The lines of a CSV text that hold data or the header, with their 1-based numbers: blank
/// lines and `#` comments skipped, a Windows line end taken off.
pub(crate) fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, raw)| {
        let line = raw.trim_end_matches('\r');
        let t = line.trim_start();
        (!t.is_empty() && !t.starts_with('#')).then_some((i + 1, line))
    })
}

/// The message for a row whose field count is not the header's.
pub(crate) fn wrong_width(fields: usize, width: usize) -> String {
    format!("{fields} fields, but the header has {width}; quote a field that holds a comma")
}

/// Splits one CSV line into trimmed fields with the 1-based column (in characters) where
/// each starts. Fields may be quoted (`"a, b"`, with `""` for a quote); a quoted field
/// cannot span lines.
pub(crate) fn split_fields(line: &str) -> Result<Vec<(String, u32)>, (u32, String)> {
    let chars: Vec<char> = line.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < n && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        let col = (i + 1) as u32;
        let mut field = String::new();
        if i < n && chars[i] == '"' {
            i += 1;
            loop {
                if i >= n {
                    return Err((
                        col,
                        "a quote opened here is not closed on this line; a field cannot span \
                         lines"
                            .into(),
                    ));
                }
                if chars[i] == '"' {
                    if i + 1 < n && chars[i + 1] == '"' {
                        field.push('"');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                field.push(chars[i]);
                i += 1;
            }
            while i < n && (chars[i] == ' ' || chars[i] == '\t') {
                i += 1;
            }
            if i < n && chars[i] != ',' {
                return Err((
                    (i + 1) as u32,
                    "text after a closing quote; quote the whole field".into(),
                ));
            }
            out.push((field, col));
        } else {
            while i < n && chars[i] != ',' {
                field.push(chars[i]);
                i += 1;
            }
            out.push((field.trim_end().to_string(), col));
        }
        if i >= n {
            return Ok(out);
        }
        i += 1;
    }
}

/// A small recursive-descent parser of the metric grammar (see `docs/backtest.md`).
struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    text: &'a str,
}

type PResult<T> = Result<T, (usize, usize, String)>;

impl Parser<'_> {
    fn skip(&mut self) {
        while self.pos < self.chars.len() && self.chars[self.pos].is_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip();
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, what: &str) -> PResult<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error_here(format!("expected `{c}` {what}")))
        }
    }

    fn error_here(&mut self, message: String) -> (usize, usize, String) {
        let at = self.pos.min(self.chars.len());
        let found = match self.chars.get(at) {
            Some(c) => format!(", found `{c}`"),
            None => ", found the end of the metric".to_string(),
        };
        (at, 1, format!("{message}{found}"))
    }

    fn ident(&mut self) -> Option<(usize, String)> {
        self.skip();
        let start = self.pos;
        while self.pos < self.chars.len()
            && (self.chars[self.pos].is_ascii_alphanumeric() || self.chars[self.pos] == '_')
        {
            self.pos += 1;
        }
        (self.pos > start).then(|| (start, self.chars[start..self.pos].iter().collect()))
    }

    fn number(&mut self) -> Option<f64> {
        self.skip();
        let start = self.pos;
        while self.pos < self.chars.len()
            && (self.chars[self.pos].is_ascii_digit()
                || matches!(self.chars[self.pos], '.' | 'e' | 'E'))
        {
            self.pos += 1;
        }
        let s: String = self.chars[start..self.pos].iter().collect();
        match s.parse::<f64>() {
            Ok(v) if !s.is_empty() && v.is_finite() => Some(v),
            _ => {
                self.pos = start;
                None
            }
        }
    }

    /// `[ ... ]` after a name: everything up to the closing bracket.
    fn bracket(&mut self) -> PResult<Option<(usize, String)>> {
        if self.chars.get(self.pos) != Some(&'[') {
            return Ok(None);
        }
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        while self.pos < self.chars.len() && self.chars[self.pos] != ']' {
            self.pos += 1;
        }
        if self.pos >= self.chars.len() {
            return Err((open, 1, "this `[` is not closed".into()));
        }
        let inner: String = self.chars[start..self.pos].iter().collect();
        self.pos += 1;
        Ok(Some((start, inner)))
    }

    fn column(&mut self) -> PResult<(usize, String)> {
        let Some((at, mut name)) = self.ident() else {
            return Err(self.error_here("expected a column of timeseries.csv".into()));
        };
        if let Some((_, inner)) = self.bracket()? {
            name = format!("{name}[{inner}]");
        }
        Ok((at, name))
    }

    fn aggregate(&mut self) -> PResult<Aggregate> {
        self.skip();
        let start = self.pos;
        let Some((at, name)) = self.ident() else {
            return Err(self.error_here(
                "expected an aggregation (sum, mean, min, max, first, last) or event_date".into(),
            ));
        };
        let agg = match name.as_str() {
            "sum" => Agg::Sum,
            "mean" => Agg::Mean,
            "min" => Agg::Min,
            "max" => Agg::Max,
            "first" => Agg::First,
            "last" => Agg::Last,
            other => {
                let hint = unknown_name_hint(other, &AGGREGATIONS);
                let what = if self.peek() == Some('(') {
                    format!("unknown aggregation `{other}`{hint}")
                } else {
                    format!(
                        "`{other}` needs an aggregation over the period around it, such as \
                         `sum({other}...)` or `mean({other}...)`"
                    )
                };
                return Err((at, name.chars().count(), what));
            }
        };
        let _ = start;
        self.expect('(', "after the aggregation")?;
        let mut terms = Vec::new();
        let mut sign = 1.0;
        if self.eat('-') {
            sign = -1.0;
        }
        loop {
            let coef = match self.number() {
                Some(k) => {
                    self.expect('*', "between a factor and its column")?;
                    k
                }
                None => 1.0,
            };
            let (at, column) = self.column()?;
            terms.push(Term {
                coef: sign * coef,
                column,
                at,
            });
            if self.eat('+') {
                sign = 1.0;
            } else if self.eat('-') {
                sign = -1.0;
            } else {
                break;
            }
        }
        self.expect(')', "to close the aggregation")?;
        Ok(Aggregate { agg, terms })
    }

    fn metric(&mut self) -> PResult<Metric> {
        self.skip();
        let save = self.pos;
        if let Some((_, name)) = self.ident() {
            if name == "event_date" {
                self.expect('(', "after event_date")?;
                let Some((_, kind)) = self.ident() else {
                    return Err(self.error_here("expected an event kind such as `pause`".into()));
                };
                let mut subject = None;
                let mut at = 0;
                if self.eat(',') {
                    self.skip();
                    let start = self.pos;
                    while self.pos < self.chars.len() && self.chars[self.pos] != ')' {
                        self.pos += 1;
                    }
                    let s: String = self.chars[start..self.pos].iter().collect();
                    if s.trim().is_empty() {
                        return Err(self.error_here("expected the event's subject".into()));
                    }
                    subject = Some(s.trim().to_string());
                    at = start;
                }
                self.expect(')', "to close event_date")?;
                return Ok(Metric::EventDate { kind, subject, at });
            }
            if name == "first_pause_date" {
                let Some((at, segment)) = self.bracket()? else {
                    return Err(self.error_here("expected `[segment]`".into()));
                };
                return Ok(Metric::EventDate {
                    kind: "pause".into(),
                    subject: Some(segment),
                    at,
                });
            }
        }
        self.pos = save;
        let num = self.aggregate()?;
        let div = if self.eat('/') {
            match self.number() {
                Some(0.0) => return Err((self.pos - 1, 1, "division by zero".into())),
                Some(k) => Some(Divisor::Number(k)),
                None => Some(Divisor::Aggregate(self.aggregate()?)),
            }
        } else {
            None
        };
        Ok(Metric::Value { num, div })
    }
}

/// Parses a metric expression; an error gives its start, length (characters) and message.
pub fn parse_metric(text: &str) -> Result<Metric, (usize, usize, String)> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        text,
    };
    let m = p.metric()?;
    if p.peek().is_some() {
        let _ = p.text;
        return Err(p.error_here("unexpected text after the metric".into()));
    }
    Ok(m)
}

/// A value: a number, or a date when the metric is a date.
fn parse_value(text: &str, is_date: bool) -> Result<f64, String> {
    if is_date {
        crate::engine::parse_date(text)
            .map(day_number)
            .map_err(|_| format!("`{text}` is not a date; this metric is a date: write YYYY-MM-DD"))
    } else {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!(
                "`{text}` is not a number; write digits only (`892000`, not `892k` or `892,000`)"
            )),
        }
    }
}

/// Parses an observations file registered as source `source`. Lines starting with `#` are
/// comments; blank lines are skipped; the first other line is the header. Every problem is
/// reported, located in the file.
pub fn parse_csv(path: &str, text: &str, source: u32) -> Result<ObservedFile, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let loc = |line: usize, column: u32, len: usize| Loc {
        source,
        line: line as u32,
        column,
        len: len as u32,
    };
    let mut header: Option<Vec<Option<usize>>> = None;
    let mut index: [Option<usize>; 7] = [None; 7];
    let mut observations = Vec::new();
    for (line_no, line) in data_lines(text) {
        let fields = match split_fields(line) {
            Ok(f) => f,
            Err((col, message)) => {
                problems.push(Diagnostic::error(message).at(loc(line_no, col, 1)));
                continue;
            }
        };
        if header.is_none() {
            let mut cols = Vec::new();
            for (name, col) in &fields {
                match COLUMNS.iter().position(|c| c == name) {
                    Some(k) if index[k].is_none() => {
                        index[k] = Some(cols.len());
                        cols.push(Some(k));
                    }
                    Some(_) => {
                        problems.push(
                            Diagnostic::error(format!("column `{name}` appears twice")).at(loc(
                                line_no,
                                *col,
                                name.chars().count(),
                            )),
                        );
                        cols.push(None);
                    }
                    None => {
                        problems.push(
                            Diagnostic::error(format!(
                                "unknown column `{name}` in the header{}",
                                unknown_name_hint(name, &COLUMNS)
                            ))
                            .at(loc(
                                line_no,
                                *col,
                                name.chars().count(),
                            )),
                        );
                        cols.push(None);
                    }
                }
            }
            for (k, name) in COLUMNS.iter().enumerate().take(3) {
                if index[k].is_none() {
                    problems.push(
                        Diagnostic::error(format!(
                            "the header has no `{name}` column; it needs period, metric and \
                             value (and may have low, high, required, source)"
                        ))
                        .at(loc(line_no, 1, line.chars().count())),
                    );
                }
            }
            header = Some(cols);
            if !problems.is_empty() {
                return Err(problems);
            }
            continue;
        }
        let width = header.as_ref().map_or(0, Vec::len);
        if fields.len() != width {
            problems.push(Diagnostic::error(wrong_width(fields.len(), width)).at(loc(
                line_no,
                1,
                line.chars().count(),
            )));
            continue;
        }
        let get = |k: usize| -> Option<(&str, Loc)> {
            let (text, col) = &fields[index[k]?];
            Some((
                text.as_str(),
                loc(line_no, *col, text.chars().count().max(1)),
            ))
        };
        let mut row_ok = true;
        let mut fail = |d: Diagnostic| {
            problems.push(d);
            row_ok = false;
        };
        let (ptext, period_loc) = get(0).unwrap_or(("", Loc::UNKNOWN));
        let period = Period::parse(ptext)
            .map_err(|m| fail(Diagnostic::error(m).at(period_loc)))
            .ok();
        let (mtext, metric_loc) = get(1).unwrap_or(("", Loc::UNKNOWN));
        let metric = match parse_metric(mtext) {
            Ok(m) => Some(m),
            Err((at, len, message)) => {
                fail(Diagnostic::error(format!("metric: {message}")).at(Loc {
                    column: metric_loc.column + at as u32,
                    len: len as u32,
                    ..metric_loc
                }));
                None
            }
        };
        let is_date = metric.as_ref().is_some_and(Metric::is_date);
        let mut value_of = |k: usize| -> Option<f64> {
            let (text, at) = get(k)?;
            if text.is_empty() {
                return None;
            }
            parse_value(text, is_date)
                .map_err(|m| fail(Diagnostic::error(format!("{}: {m}", COLUMNS[k])).at(at)))
                .ok()
        };
        let value = value_of(2);
        let low = value_of(3);
        let high = value_of(4);
        let required = match get(5).map(|(t, at)| (t.to_ascii_lowercase(), at)) {
            None => false,
            Some((t, _)) if t.is_empty() || t == "false" || t == "no" => false,
            Some((t, _)) if t == "true" || t == "yes" => true,
            Some((t, at)) => {
                fail(
                    Diagnostic::error(format!(
                        "required: `{t}` is neither `true` nor `false` (empty means false)"
                    ))
                    .at(at),
                );
                false
            }
        };
        let source_text = get(6).map(|(t, _)| t.to_string()).unwrap_or_default();
        if value.is_none() && get(2).is_some_and(|(t, _)| t.is_empty()) {
            fail(
                Diagnostic::error("value: empty; every observation needs a value")
                    .at(get(2).map_or(loc(line_no, 1, 1), |(_, at)| at)),
            );
        }
        let (Some(period), Some(metric), Some(value), true) = (period, metric, value, row_ok)
        else {
            continue;
        };
        let range_given = low.is_some() || high.is_some();
        let (low, high) = if range_given {
            (
                low.unwrap_or(f64::NEG_INFINITY),
                high.unwrap_or(f64::INFINITY),
            )
        } else if is_date {
            (
                value - DEFAULT_DAYS_TOLERANCE,
                value + DEFAULT_DAYS_TOLERANCE,
            )
        } else {
            let d = value.abs() * DEFAULT_RELATIVE_TOLERANCE;
            (value - d, value + d)
        };
        if !(low <= value && value <= high) {
            problems.push(
                Diagnostic::error("the value is outside its own range: need low <= value <= high")
                    .at(loc(line_no, 1, line.chars().count())),
            );
            continue;
        }
        observations.push(Observation {
            period,
            metric_text: mtext.to_string(),
            metric,
            is_date,
            value,
            low,
            high,
            range_given,
            required,
            source: source_text,
            line: line_no as u32,
            period_loc,
            metric_loc,
        });
    }
    if header.is_none() {
        problems.push(
            Diagnostic::error(format!(
                "no header line; the first line that is not a comment must name the columns: {}",
                COLUMNS.join(",")
            ))
            .at(loc(1, 1, 0)),
        );
    }
    if problems.is_empty() {
        Ok(ObservedFile {
            path: path.to_string(),
            observations,
        })
    } else {
        Err(problems)
    }
}

/// One observation beside the model's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The observations file.
    pub file: String,
    /// Its line.
    pub line: u32,
    /// The period as written.
    pub period: String,
    /// Its first day.
    pub first_day: NaiveDate,
    /// Its last day.
    pub last_day: NaiveDate,
    /// The metric as written.
    pub metric: String,
    /// Whether the values are dates.
    pub is_date: bool,
    /// Observed value (a date as days since 0001-01-01).
    pub observed: f64,
    /// Lowest agreeing value (−∞ when open).
    pub low: f64,
    /// Highest agreeing value (+∞ when open).
    pub high: f64,
    /// The model's value; `None` when it has none (no such event in the period, or a
    /// division by zero).
    pub model: Option<f64>,
    /// Whether the model's value lies in `low..=high`.
    pub inside: bool,
    /// Whether the observation is required.
    pub required: bool,
    /// Source of the observation.
    pub source: String,
}

/// In JSON, values are numbers (dates: `YYYY-MM-DD` strings) and `null` when open or absent.
impl Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let value = |v: Option<f64>| -> serde_json::Value {
            match v.filter(|x| x.is_finite()) {
                None => serde_json::Value::Null,
                Some(x) if self.is_date => serde_json::Value::String(self.show(x)),
                Some(x) => serde_json::json!(x),
            }
        };
        let mut st = s.serialize_struct("Row", 15)?;
        st.serialize_field("file", &self.file)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("period", &self.period)?;
        st.serialize_field("first_day", &self.first_day.to_string())?;
        st.serialize_field("last_day", &self.last_day.to_string())?;
        st.serialize_field("metric", &self.metric)?;
        st.serialize_field("observed", &value(Some(self.observed)))?;
        st.serialize_field("low", &value(Some(self.low)))?;
        st.serialize_field("high", &value(Some(self.high)))?;
        st.serialize_field("model", &value(self.model))?;
        st.serialize_field("inside", &self.inside)?;
        st.serialize_field("required", &self.required)?;
        st.serialize_field("relative_error", &self.relative_error())?;
        st.serialize_field("error_days", &self.error_days())?;
        st.serialize_field("source", &self.source)?;
        st.end()
    }
}

impl Row {
    /// A value as written in the CSV and table: a date, or a number in shortest form.
    pub fn show(&self, v: f64) -> String {
        if !v.is_finite() {
            return String::new();
        }
        if self.is_date {
            date_of(v).map_or_else(String::new, |d| d.to_string())
        } else {
            let mut buf = crate::format::Shortest::new();
            crate::format::fmt_num(&mut buf, v).to_string()
        }
    }

    /// A value for people: a date, or 892k.
    pub fn human(&self, v: f64) -> String {
        if !v.is_finite() {
            return "open".into();
        }
        if self.is_date {
            self.show(v)
        } else {
            compact(v)
        }
    }

    /// (model − observed) / |observed|, for numbers.
    pub fn relative_error(&self) -> Option<f64> {
        let m = self.model?;
        (!self.is_date && self.observed != 0.0).then(|| (m - self.observed) / self.observed.abs())
    }

    /// |ln(model / observed)|, for positive numbers.
    pub fn abs_log_error(&self) -> Option<f64> {
        let m = self.model?;
        (!self.is_date && m > 0.0 && self.observed > 0.0).then(|| (m / self.observed).ln().abs())
    }

    /// model − observed \[days\], for dates.
    pub fn error_days(&self) -> Option<f64> {
        let m = self.model?;
        self.is_date.then_some(m - self.observed)
    }

    /// The error for people: `-12.3%`, `+5 days`, or `no value`.
    pub fn error_text(&self) -> String {
        match (self.relative_error(), self.error_days()) {
            (Some(r), _) => format!("{:+.1}%", r * 100.0),
            (_, Some(d)) => format!("{:+.0} days", d),
            _ if self.model.is_none() => "no value".into(),
            _ => String::new(),
        }
    }

    fn range_text(&self) -> String {
        format!("{} .. {}", self.human(self.low), self.human(self.high))
    }
}

/// The score of a run against its observations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Observations compared.
    pub observations: usize,
    /// Of which the model's value is inside the range.
    pub inside: usize,
    /// `inside / observations` (0 when there are none).
    pub share_inside: f64,
    /// Required observations.
    pub required: usize,
    /// Required observations outside their range: any makes the backtest fail.
    pub required_outside: usize,
    /// Mean of |ln(model / observed)| over the numeric observations where both are
    /// positive; `None` when there are none.
    pub mean_abs_log_error: Option<f64>,
    /// Observations the mean log error is over.
    pub log_error_count: usize,
    /// Mean of |model − observed| in days over the date observations with a model date.
    pub mean_abs_error_days: Option<f64>,
}

impl Score {
    /// Scores rows.
    pub fn of(rows: &[Row]) -> Score {
        let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        let inside = rows.iter().filter(|r| r.inside).count();
        Score {
            observations: rows.len(),
            inside,
            share_inside: if rows.is_empty() {
                0.0
            } else {
                inside as f64 / rows.len() as f64
            },
            required: rows.iter().filter(|r| r.required).count(),
            required_outside: rows.iter().filter(|r| r.required && !r.inside).count(),
            mean_abs_log_error: mean(rows.iter().filter_map(Row::abs_log_error).collect()),
            log_error_count: rows.iter().filter_map(Row::abs_log_error).count(),
            mean_abs_error_days: mean(
                rows.iter()
                    .filter_map(Row::error_days)
                    .map(f64::abs)
                    .collect(),
            ),
        }
    }

    /// Whether every required observation is inside.
    pub fn passed(&self) -> bool {
        self.required_outside == 0
    }

    /// One line: `score: 3 of 9 inside (33%); mean |log error| 0.42 (×1.52); ...`.
    pub fn line(&self) -> String {
        let mut out = format!(
            "score: {} of {} observations inside their range ({:.0}%)",
            self.inside,
            self.observations,
            self.share_inside * 100.0
        );
        if let Some(e) = self.mean_abs_log_error {
            let _ = write!(
                out,
                "; mean |log error| {e:.3} (a factor of {:.2}) over {} numeric observations",
                e.exp(),
                self.log_error_count
            );
        }
        if let Some(d) = self.mean_abs_error_days {
            let _ = write!(out, "; dates off by {d:.0} days on average");
        }
        let _ = write!(
            out,
            "; required: {} of {} inside",
            self.required - self.required_outside,
            self.required
        );
        out
    }
}

/// Errors of `backtest.csv`'s writer and reader (`report` makes them its own).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// Serialisation failed (a bug, not bad input).
    #[error("cannot serialise backtest.csv: {0}")]
    Write(String),
    /// The file cannot be read back.
    #[error("cannot read backtest.csv: {0}")]
    Read(String),
}

/// A run set beside its observations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    /// One row per observation, files in the order given, rows in file order.
    pub rows: Vec<Row>,
    /// The score.
    pub score: Score,
}

/// The value of `agg` over days `a..=b` of the run (indices into its series).
fn aggregate_value(
    a: &Aggregate,
    data: &Table,
    range: (usize, usize),
    obs: &Observation,
    problems: &mut Vec<Diagnostic>,
) -> Option<f64> {
    let mut daily = vec![0.0; range.1 - range.0 + 1];
    let mut ok = true;
    for t in &a.terms {
        match data.series(&t.column) {
            Some(v) => {
                for (k, d) in daily.iter_mut().enumerate() {
                    *d += t.coef * v.get(range.0 + k).copied().unwrap_or(0.0);
                }
            }
            None => {
                ok = false;
                let names: Vec<&str> = data.columns.iter().map(|(n, _)| n.as_str()).collect();
                let message = if data.text_series(&t.column).is_some() {
                    format!(
                        "column `{}` of timeseries.csv holds text, not numbers",
                        t.column
                    )
                } else {
                    let hint = match did_you_mean(&t.column, names.iter().copied()) {
                        Some(best) => format!(", did you mean `{best}`?"),
                        None => similar_columns(&t.column, &names),
                    };
                    format!("unknown column `{}` of timeseries.csv{hint}", t.column)
                };
                problems.push(Diagnostic::error(message).at(Loc {
                    column: obs.metric_loc.column + t.at as u32,
                    len: t.column.chars().count() as u32,
                    ..obs.metric_loc
                }));
            }
        }
    }
    if !ok {
        return None;
    }
    let n = daily.len() as f64;
    Some(match a.agg {
        Agg::Sum => daily.iter().sum(),
        Agg::Mean => daily.iter().sum::<f64>() / n,
        Agg::Min => daily.iter().copied().fold(f64::INFINITY, f64::min),
        Agg::Max => daily.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Agg::First => daily[0],
        Agg::Last => daily[daily.len() - 1],
    })
}

/// Columns sharing the unknown name's family (`lead_time_days[...]`), for a hint.
fn similar_columns(name: &str, names: &[&str]) -> String {
    let family = name.split('[').next().unwrap_or(name);
    let same: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.split('[').next() == Some(family))
        .take(12)
        .collect();
    if same.is_empty() {
        "; `capsim run` writes the columns in the header of timeseries.csv (docs/outputs.md)".into()
    } else {
        format!(
            "; columns of that family: {}",
            same.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Sets every observation beside the run's value over its period.
///
/// # Errors
///
/// Every metric naming a column the run does not have, a segment it does not have, or a
/// period outside the run, located in its observations file.
pub fn evaluate(
    files: &[ObservedFile],
    data: &Table,
    events: &[EventRow],
) -> Result<Backtest, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let (Some(&start), Some(&end)) = (data.dates.first(), data.dates.last()) else {
        return Err(vec![Diagnostic::error("the run has no days to compare")]);
    };
    let segments = data.entities("users");
    for file in files {
        for obs in &file.observations {
            let p = &obs.period;
            if p.first < start || p.last > end {
                problems.push(
                    Diagnostic::error(format!(
                        "period {} ({} to {}) is not within the run ({start} to {end})",
                        p.label, p.first, p.last
                    ))
                    .at(obs.period_loc),
                );
                continue;
            }
            let range = (
                (p.first - start).num_days() as usize,
                (p.last - start).num_days() as usize,
            );
            let model = match &obs.metric {
                Metric::Value { num, div } => {
                    let n = aggregate_value(num, data, range, obs, &mut problems);
                    let d = match div {
                        None => Some(1.0),
                        Some(Divisor::Number(k)) => Some(*k),
                        Some(Divisor::Aggregate(a)) => {
                            aggregate_value(a, data, range, obs, &mut problems)
                        }
                    };
                    match (n, d) {
                        (Some(n), Some(d)) if d != 0.0 && (n / d).is_finite() => Some(n / d),
                        _ => None,
                    }
                }
                Metric::EventDate { kind, subject, at } => {
                    if let (Some(s), "pause" | "resume") = (subject, kind.as_str())
                        && !segments.contains(s)
                    {
                        let names: Vec<&str> = segments.iter().map(String::as_str).collect();
                        problems.push(
                            Diagnostic::error(format!(
                                "the run has no segment `{s}`{}",
                                unknown_name_hint(s, &names)
                            ))
                            .at(Loc {
                                column: obs.metric_loc.column + *at as u32,
                                len: s.chars().count() as u32,
                                ..obs.metric_loc
                            }),
                        );
                        continue;
                    }
                    events
                        .iter()
                        .find(|e| {
                            &e.kind == kind
                                && subject.as_ref().is_none_or(|s| &e.subject == s)
                                && p.first <= e.date
                                && e.date <= p.last
                        })
                        .map(|e| day_number(e.date))
                }
            };
            let inside = model.is_some_and(|m| obs.low <= m && m <= obs.high);
            rows.push(Row {
                file: file.path.clone(),
                line: obs.line,
                period: p.label.clone(),
                first_day: p.first,
                last_day: p.last,
                metric: obs.metric_text.clone(),
                is_date: obs.is_date,
                observed: obs.value,
                low: obs.low,
                high: obs.high,
                model,
                inside,
                required: obs.required,
                source: obs.source.clone(),
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let score = Score::of(&rows);
    Ok(Backtest { rows, score })
}

/// The file `capsim backtest` writes beside a run's outputs.
pub const CSV_FILE: &str = "backtest.csv";

/// The columns of `backtest.csv`.
pub const CSV_COLUMNS: [&str; 15] = [
    "file",
    "line",
    "period",
    "first_day",
    "last_day",
    "metric",
    "observed",
    "low",
    "high",
    "model",
    "inside",
    "required",
    "relative_error",
    "error_days",
    "source",
];

/// `backtest.csv`: one row per observation (columns in [`CSV_COLUMNS`]; dates as
/// `YYYY-MM-DD`; an open bound, a missing model value or an error that does not apply is
/// empty).
pub fn backtest_csv(bt: &Backtest) -> Result<Vec<u8>, CsvError> {
    let err = |e: csv::Error| CsvError::Write(e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).map_err(err)?;
    let mut buf = crate::format::Shortest::new();
    let mut num = |v: Option<f64>| {
        v.filter(|x| x.is_finite()).map_or_else(String::new, |x| {
            crate::format::fmt_num(&mut buf, x).to_string()
        })
    };
    for r in &bt.rows {
        let model = r.model.map_or_else(String::new, |m| r.show(m));
        w.write_record([
            r.file.as_str(),
            &r.line.to_string(),
            &r.period,
            &r.first_day.to_string(),
            &r.last_day.to_string(),
            &r.metric,
            &r.show(r.observed),
            &r.show(r.low),
            &r.show(r.high),
            &model,
            if r.inside { "true" } else { "false" },
            if r.required { "true" } else { "false" },
            &num(r.relative_error()),
            &num(r.error_days()),
            &r.source,
        ])
        .map_err(err)?;
    }
    w.into_inner().map_err(|e| CsvError::Write(e.to_string()))
}

/// Parses `backtest.csv` back (for the charts and `report.md`, and `capsim chart`).
pub fn parse_backtest_csv(bytes: &[u8]) -> Result<Backtest, CsvError> {
    let bad = CsvError::Read;
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(str::to_string)
        .collect();
    if header != CSV_COLUMNS {
        return Err(bad(format!("the header must be {}", CSV_COLUMNS.join(","))));
    }
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let f = |k: usize| rec.get(k).unwrap_or_default();
        let at = |what: &str| bad(format!("row {}: bad {what}", i + 2));
        let date = |k: usize| NaiveDate::parse_from_str(f(k), "%Y-%m-%d");
        // A date in `observed` makes the row's values dates.
        let is_date = date(6).is_ok();
        let value = |k: usize, open: f64| -> Result<Option<f64>, CsvError> {
            let t = f(k);
            if t.is_empty() {
                return Ok(Some(open).filter(|x| !x.is_nan()));
            }
            if is_date {
                date(k)
                    .map(|d| Some(day_number(d)))
                    .map_err(|_| at(CSV_COLUMNS[k]))
            } else {
                t.parse::<f64>().map(Some).map_err(|_| at(CSV_COLUMNS[k]))
            }
        };
        rows.push(Row {
            file: f(0).to_string(),
            line: f(1).parse().map_err(|_| at("line"))?,
            period: f(2).to_string(),
            first_day: date(3).map_err(|_| at("first_day"))?,
            last_day: date(4).map_err(|_| at("last_day"))?,
            metric: f(5).to_string(),
            is_date,
            observed: value(6, f64::NAN)?.ok_or_else(|| at("observed"))?,
            low: value(7, f64::NEG_INFINITY)?.unwrap_or(f64::NEG_INFINITY),
            high: value(8, f64::INFINITY)?.unwrap_or(f64::INFINITY),
            model: value(9, f64::NAN)?,
            inside: f(10) == "true",
            required: f(11) == "true",
            source: f(14).to_string(),
        });
    }
    let score = Score::of(&rows);
    Ok(Backtest { rows, score })
}

/// Longest metric shown in the table \[characters\]; `backtest.csv` and `--json` have it whole.
pub const TABLE_METRIC_CHARS: usize = 64;

/// `s`, cut to `n` characters with an ellipsis.
fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// The table printed by `capsim backtest`: one line per observation, columns aligned.
pub fn table(bt: &Backtest) -> String {
    let head = [
        "period", "metric", "observed", "range", "model", "error", "", "",
    ];
    let lines: Vec<[String; 8]> = bt
        .rows
        .iter()
        .map(|r| {
            [
                r.period.clone(),
                shorten(&r.metric, TABLE_METRIC_CHARS),
                r.human(r.observed),
                r.range_text(),
                r.model.map_or_else(|| "none".into(), |m| r.human(m)),
                r.error_text(),
                if r.inside {
                    "✓ inside"
                } else {
                    "✗ OUTSIDE"
                }
                .to_string(),
                if r.required { "required" } else { "" }.to_string(),
            ]
        })
        .collect();
    let mut width = [0usize; 8];
    for l in std::iter::once(&head.map(str::to_string)).chain(&lines) {
        for (w, c) in width.iter_mut().zip(l) {
            *w = (*w).max(c.chars().count());
        }
    }
    let right = [false, false, true, true, true, true, false, false];
    let mut out = String::new();
    for l in std::iter::once(&head.map(str::to_string)).chain(&lines) {
        let mut line = String::from("  ");
        for (k, c) in l.iter().enumerate() {
            let pad = width[k] - c.chars().count();
            if right[k] {
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&" ".repeat(pad));
            }
            line.push_str("  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The "Backtest" section of `report.md`.
pub fn markdown(bt: &Backtest, chart: Option<&str>) -> String {
    let mut out = String::from("\n## Backtest\n\n");
    let files: Vec<&str> = {
        let mut f: Vec<&str> = bt.rows.iter().map(|r| r.file.as_str()).collect();
        f.dedup();
        f
    };
    let _ = writeln!(
        out,
        "The run beside the observations of {} (`backtest.csv`; see docs/backtest.md).\n",
        files
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "| period | metric | observed | range | model | error | |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---|");
    for r in &bt.rows {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {}{} |",
            r.period,
            r.metric.replace('|', "\\|"),
            r.human(r.observed),
            r.range_text(),
            r.model.map_or_else(|| "none".into(), |m| r.human(m)),
            r.error_text(),
            if r.inside { "inside" } else { "**outside**" },
            if r.required { ", required" } else { "" }
        );
    }
    let _ = writeln!(out, "\n{}.", capitalise(&bt.score.line()));
    if let Some(c) = chart {
        let _ = writeln!(out, "\n![Backtest](charts/{c}.png)");
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// The unit of a metric, for a chart's axis: `units` for `sum(shipped_units_per_day[...])`,
/// `days` for `mean(lead_time_days[...])`, `ratio` for a ratio of aggregations.
pub fn unit_of(metric: &str) -> String {
    match parse_metric(metric) {
        Ok(Metric::EventDate { .. }) => "date".into(),
        Ok(Metric::Value {
            div: Some(Divisor::Aggregate(_)),
            ..
        }) => "ratio".into(),
        Ok(Metric::Value { num, div }) => {
            let name = num
                .terms
                .first()
                .map(|t| t.column.split('[').next().unwrap_or_default().to_string())
                .unwrap_or_default();
            let base = match num.agg {
                Agg::Sum => name.strip_suffix("_per_day").unwrap_or(&name).to_string(),
                _ => name.clone(),
            };
            let unit = base.rsplit('_').next().unwrap_or_default().to_string();
            match div {
                Some(Divisor::Number(k)) => format!("{unit} / {}", compact(k)),
                _ => unit,
            }
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn every_period_form_parses() {
        let p = |s: &str| Period::parse(s).map(|p| (p.first, p.last));
        assert_eq!(p("2023-11-14"), Ok((d("2023-11-14"), d("2023-11-14"))));
        assert_eq!(p("2023-06"), Ok((d("2023-06-01"), d("2023-06-30"))));
        assert_eq!(p("2024-02"), Ok((d("2024-02-01"), d("2024-02-29"))));
        assert_eq!(p("2023Q1"), Ok((d("2023-01-01"), d("2023-03-31"))));
        assert_eq!(p("2023Q4"), Ok((d("2023-10-01"), d("2023-12-31"))));
        assert_eq!(p("2023H1"), Ok((d("2023-01-01"), d("2023-06-30"))));
        assert_eq!(p("2023H2"), Ok((d("2023-07-01"), d("2023-12-31"))));
        assert_eq!(p("2023"), Ok((d("2023-01-01"), d("2023-12-31"))));
        assert_eq!(Period::parse("2023Q2").map(|p| p.days()), Ok(91));
        for bad in [
            "2023Q5",
            "2023H3",
            "2023-13",
            "2023-02-30",
            "23",
            "Q1 2023",
            "2023-6",
            "",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn metrics_parse() {
        let m = parse_metric("sum(shipped_units_per_day[H100] + shipped_units_per_day[H200])")
            .expect("parses");
        let Metric::Value { num, div: None } = m else {
            panic!("{m:?}")
        };
        assert_eq!(num.agg, Agg::Sum);
        assert_eq!(num.terms.len(), 2);
        assert_eq!(num.terms[1].column, "shipped_units_per_day[H200]");
        assert_eq!(num.terms[1].at, 34);
        let m = parse_metric("sum(a[Ascend 910B] - 2*b)/sum(c)").expect("parses");
        assert!(matches!(
            m,
            Metric::Value {
                div: Some(Divisor::Aggregate(_)),
                ..
            }
        ));
        assert!(matches!(
            parse_metric("mean(lead_time_days[H100]) / 7"),
            Ok(Metric::Value {
                div: Some(Divisor::Number(7.0)),
                ..
            })
        ));
        assert_eq!(
            parse_metric("first_pause_date[paid]"),
            Ok(Metric::EventDate {
                kind: "pause".into(),
                subject: Some("paid".into()),
                at: 17
            })
        );
        assert!(matches!(
            parse_metric("event_date(pause, paid)"),
            Ok(Metric::EventDate { .. })
        ));
        let (at, _, msg) = parse_metric("sun(x)").expect_err("unknown aggregation");
        assert_eq!(at, 0);
        assert!(msg.contains("did you mean `sum`"), "{msg}");
        let (_, _, msg) = parse_metric("avg(x)").expect_err("unknown aggregation");
        assert!(msg.contains("expected one of `sum`"), "{msg}");
        assert!(parse_metric("shipped_units_per_day[H100]").is_err());
        assert!(parse_metric("sum(x) extra").is_err());
        assert!(parse_metric("sum(x)/0").is_err());
        assert!(parse_metric("sum(x[H100)").is_err());
    }

    #[test]
    fn fields_split_with_quotes_and_columns() {
        let f = split_fields(r#"2023, "a, ""b""", c"#).expect("splits");
        assert_eq!(
            f,
            vec![("2023".into(), 1), ("a, \"b\"".into(), 7), ("c".into(), 19)]
        );
        assert!(split_fields(r#"a,"b"#).is_err());
    }

    #[test]
    fn a_file_parses_with_comments_defaults_and_dates() {
        let text = "# comment\nperiod,metric,value,low,high,required,source\n\
                    2023,sum(x),100,,,,s\n\
                    2023H2,first_pause_date[paid],2023-11-14,2023-10-31,2023-11-28,true,\"OpenAI, via press\"\n\
                    2023Q1,mean(y),10,5,,no,\n";
        let f = parse_csv("obs.csv", text, 0).expect("parses");
        let o = &f.observations;
        assert_eq!(o.len(), 3);
        assert_eq!((o[0].low, o[0].high), (90.0, 110.0));
        assert!(o[1].is_date && o[1].required);
        assert_eq!(o[1].high - o[1].value, 14.0);
        assert_eq!(o[1].source, "OpenAI, via press");
        assert_eq!((o[2].low, o[2].high), (5.0, f64::INFINITY));
        assert_eq!(o[1].line, 4);
    }

    #[test]
    fn problems_are_located_in_the_file() {
        let text = "period,metric,value,low,hihg\n2023Q5,sum(x),1,,\n";
        let e = parse_csv("obs.csv", text, 3).expect_err("bad header");
        assert_eq!(
            e[0].loc.map(|l| (l.source, l.line, l.column)),
            Some((3, 1, 25))
        );
        assert!(
            e[0].message.contains("did you mean `high`"),
            "{}",
            e[0].message
        );
        let text = "period,metric,value\n2023Q5,sum(x),1\n2023,mean(y,1k\n";
        let e = parse_csv("obs.csv", text, 0).expect_err("bad rows");
        assert_eq!(e[0].loc.map(|l| (l.line, l.column)), Some((2, 1)));
        assert!(
            e[1].message.contains("close the aggregation"),
            "{}",
            e[1].message
        );
        let text = "period,metric,value\n2023,sum(x),1,extra\n";
        let e = parse_csv("obs.csv", text, 0).expect_err("too many fields");
        assert!(e[0].message.contains("4 fields"), "{}", e[0].message);
        let text = "period,metric,value\n2023,mean(y) / sum(z,1\n";
        assert!(parse_csv("obs.csv", text, 0).is_err());
        let text = "period,metric,value\n2023,mean(y),1k\n";
        let e = parse_csv("obs.csv", text, 0).expect_err("1k");
        assert_eq!(e[0].loc.map(|l| (l.line, l.column)), Some((2, 14)));
    }

    fn data(days: usize) -> (Table, Vec<EventRow>) {
        let mut ts = String::from("date,a[X],b[X],users[paid]\n");
        let start = d("2023-01-01");
        for i in 0..days {
            let day = start + chrono::Days::new(i as u64);
            let _ = writeln!(ts, "{day},{},{},1", i + 1, 2);
        }
        let events = b"date,kind,subject,cause\n2023-03-05,pause,paid,x\n2023-11-10,pause,paid,y\n";
        (
            Table::parse(ts.as_bytes()).expect("series"),
            crate::report::read::events(events).expect("events"),
        )
    }

    #[test]
    fn aggregations_over_a_quarter_by_hand() {
        // a[X] is the day number 1, 2, 3, ...; 2023Q2 is days 91 (Apr 1) to 181 (Jun 30).
        // sum = (91 + 181) × 91 / 2 = 12376; mean = 136; min 91, max 181, first 91, last 181.
        // sum(a - 2*b) = 12376 − 2 × 2 × 91 = 12012; sum(a)/sum(b) = 12376 / 182 = 68.
        let text = "period,metric,value\n\
                    2023Q2,sum(a[X]),12376\n2023Q2,mean(a[X]),1\n2023Q2,min(a[X]),1\n\
                    2023Q2,max(a[X]),1\n2023Q2,first(a[X]),1\n2023Q2,last(a[X]),1\n\
                    2023Q2,sum(a[X] - 2*b[X]),1\n2023Q2,sum(a[X])/sum(b[X]),68\n\
                    2023H2,first_pause_date[paid],2023-11-14\n2023Q2,event_date(pause),2023-05-01\n";
        let f = parse_csv("obs.csv", text, 0).expect("parses");
        let (table, events) = data(365);
        let bt = evaluate(&[f], &table, &events).expect("evaluates");
        let m: Vec<Option<f64>> = bt.rows.iter().map(|r| r.model).collect();
        let first_pause = day_number(d("2023-11-10"));
        assert_eq!(
            m,
            vec![
                Some(12376.0),
                Some(136.0),
                Some(91.0),
                Some(181.0),
                Some(91.0),
                Some(181.0),
                Some(12012.0),
                Some(68.0),
                Some(first_pause),
                None
            ]
        );
        assert!(bt.rows[0].inside && bt.rows[7].inside && bt.rows[8].inside);
        assert!(!bt.rows[1].inside && !bt.rows[9].inside);
        assert_eq!(bt.rows[8].error_days(), Some(-4.0));
        assert_eq!(bt.score.observations, 10);
        assert_eq!(bt.score.inside, 3);
        // |ln(136/1)| etc. enter the mean log error; dates its mean error in days.
        assert_eq!(bt.score.mean_abs_error_days, Some(4.0));
        // The CSV round-trips.
        let bytes = backtest_csv(&bt).expect("csv");
        let back = parse_backtest_csv(&bytes).expect("parses back");
        assert_eq!(back.rows, bt.rows);
        assert_eq!(back.score, bt.score);
    }

    #[test]
    fn unknown_columns_and_periods_are_located_with_a_suggestion() {
        let text = "period,metric,value\n2023Q2,sum(a[X] + b[Y]),1\n2024,sum(a[X]),1\n\
                    2023,first_pause_date[piad],2023-01-01\n";
        let f = parse_csv("obs.csv", text, 0).expect("parses");
        let (table, events) = data(365);
        let e = evaluate(&[f], &table, &events).expect_err("unknown column");
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(
            e[0].message.contains("did you mean `b[X]`"),
            "{}",
            e[0].message
        );
        let l = e[0].loc.expect("located");
        assert_eq!((l.line, l.column, l.len), (2, 8 + 11, 4));
        assert!(
            e[1].message.contains("not within the run"),
            "{}",
            e[1].message
        );
        assert!(
            e[2].message.contains("did you mean `paid`"),
            "{}",
            e[2].message
        );
    }

    #[test]
    fn units_of_metrics() {
        assert_eq!(unit_of("sum(shipped_units_per_day[H100])"), "units");
        assert_eq!(unit_of("mean(lead_time_days[H100])"), "days");
        assert_eq!(unit_of("sum(a)/sum(b)"), "ratio");
        assert_eq!(unit_of("first_pause_date[paid]"), "date");
    }
}
