//! Regression checks of scenarios: their `expect:` assertions, and their outputs against
//! stored golden outputs (`summary.json` and `timeseries.csv`) within a tolerance.
//!
//! Everything here works on bytes and parsed values (read by `report::read`, not through the
//! charts' `report::data`); `cli` reads and writes the files.

use std::collections::BTreeMap;
use std::fmt::Write;

use chrono::NaiveDate;
use serde_json::Value;

use crate::format::fixed;
use crate::model::Summary;
use crate::report::read::{EventRow, Table};
use crate::scenario::types::{Expect, ExpectTarget, ExpectTest};

/// The outcome of one assertion.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectOutcome {
    /// The assertion in words (`pause_days below 200`).
    pub what: String,
    /// What the run gave (`442`).
    pub actual: String,
    /// Whether it held.
    pub passed: bool,
    /// The scenario's reason, if it gave one.
    pub because: Option<String>,
}

fn fmt_window(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    match (from, to) {
        (Some(a), Some(b)) => format!(" between {a} and {b}"),
        (Some(a), None) => format!(" on or after {a}"),
        (None, Some(b)) => format!(" on or before {b}"),
        (None, None) => String::new(),
    }
}

/// Looks a dotted key up in the summary's JSON.
fn lookup<'a>(summary: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(summary, |v, k| v.get(k))
}

/// Evaluates a scenario's assertions against a run's summary and events.
pub fn evaluate(expect: &[Expect], summary: &Summary, events: &[EventRow]) -> Vec<ExpectOutcome> {
    let json = serde_json::to_value(summary).unwrap_or(Value::Null);
    expect
        .iter()
        .map(|e| {
            let (what, actual, passed) = match (&e.target, &e.test) {
                (ExpectTarget::Metric(m), test) => {
                    let v = lookup(&json, m);
                    let num = v.and_then(Value::as_f64);
                    let date = v
                        .and_then(Value::as_str)
                        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
                    let actual = match v {
                        None => "absent".to_string(),
                        Some(Value::Null) => "null (never)".to_string(),
                        Some(Value::String(s)) => s.clone(),
                        Some(x) => x.as_f64().map_or_else(|| x.to_string(), fixed),
                    };
                    let (what, passed) = match test {
                        ExpectTest::Below(x) => (
                            format!("{m} below {}", fixed(*x)),
                            num.is_some_and(|n| n < *x),
                        ),
                        ExpectTest::Above(x) => (
                            format!("{m} above {}", fixed(*x)),
                            num.is_some_and(|n| n > *x),
                        ),
                        ExpectTest::AtMost(x) => (
                            format!("{m} at most {}", fixed(*x)),
                            num.is_some_and(|n| n <= *x),
                        ),
                        ExpectTest::AtLeast(x) => (
                            format!("{m} at least {}", fixed(*x)),
                            num.is_some_and(|n| n >= *x),
                        ),
                        ExpectTest::Between(a, b) => (
                            format!("{m} between {} and {}", fixed(*a), fixed(*b)),
                            num.is_some_and(|n| *a <= n && n <= *b),
                        ),
                        ExpectTest::DateIn(from, to) => (
                            format!("{m}{}", fmt_window(*from, *to)),
                            date.is_some_and(|d| {
                                from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t)
                            }),
                        ),
                        ExpectTest::Never => {
                            (format!("{m} never (null)"), matches!(v, Some(Value::Null)))
                        }
                        ExpectTest::Happens { .. } => (m.clone(), false),
                    };
                    (what, actual, passed)
                }
                (
                    ExpectTarget::Event { kind, subject },
                    ExpectTest::Happens { happens, from, to },
                ) => {
                    let matching: Vec<&EventRow> = events
                        .iter()
                        .filter(|ev| {
                            &ev.kind == kind
                                && subject.as_ref().is_none_or(|s| &ev.subject == s)
                                && from.is_none_or(|f| ev.date >= f)
                                && to.is_none_or(|t| ev.date <= t)
                        })
                        .collect();
                    let who = subject
                        .as_ref()
                        .map_or(String::new(), |s| format!(" of {s}"));
                    let what = format!(
                        "a `{kind}` event{who} {}{}",
                        if *happens {
                            "happens"
                        } else {
                            "does not happen"
                        },
                        fmt_window(*from, *to)
                    );
                    let actual = match matching.first() {
                        Some(first) => {
                            format!("{} matching, first on {}", matching.len(), first.date)
                        }
                        None => "none".to_string(),
                    };
                    (what, actual, matching.is_empty() != *happens)
                }
                (ExpectTarget::Event { kind, .. }, _) => {
                    (format!("event {kind}"), "?".into(), false)
                }
            };
            ExpectOutcome {
                what,
                actual,
                passed,
                because: e.because.clone(),
            }
        })
        .collect()
}

/// How close a number must be to its golden value: `|now − golden| ≤ abs + rel × |golden|`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Relative part \[share\].
    pub rel: f64,
    /// Absolute part [same unit as the value].
    pub abs: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        // Runs are deterministic: only last-digit float differences across platforms pass.
        Tolerance {
            rel: 1e-9,
            abs: 1e-9,
        }
    }
}

impl Tolerance {
    /// Parses `1%`, `0.01` (relative) or `abs:0.5`.
    pub fn parse(text: &str) -> Result<Tolerance, String> {
        let t = text.trim();
        let bad =
            || format!("tolerance `{text}`: expected a share like `0.01` or `1%`, or `abs:0.5`");
        if let Some(a) = t.strip_prefix("abs:") {
            let abs: f64 = a.trim().parse().map_err(|_| bad())?;
            return (abs >= 0.0)
                .then_some(Tolerance { rel: 0.0, abs })
                .ok_or_else(bad);
        }
        let rel = match t.strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
            None => t.parse::<f64>().map_err(|_| bad())?,
        };
        if rel.is_finite() && rel >= 0.0 {
            Ok(Tolerance { rel, abs: 1e-9 })
        } else {
            Err(bad())
        }
    }

    /// True when `now` is within the tolerance of `golden`. A non-finite value on either side
    /// is never close: `inf` against `inf` would otherwise pass (and a finite value against
    /// an `inf` golden too, the allowed difference being infinite).
    fn close(&self, golden: f64, now: f64) -> bool {
        golden.is_finite()
            && now.is_finite()
            && (now - golden).abs() <= self.abs + self.rel * golden.abs()
    }
}

/// One thing that moved against the golden outputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    /// `summary: pause_days` or `series: users[paid]`.
    pub what: String,
    /// The golden value (for a series: on the day of the largest move).
    pub from: String,
    /// The value now.
    pub to: String,
    /// The change, with its relative size.
    pub by: String,
    /// For a series: the days on which it moved.
    pub dates: String,
}

/// Flattens a JSON value into `path → leaf` pairs.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), x, out);
            }
            if a.is_empty() {
                out.insert(format!("{prefix}[]"), Value::Null);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), leaf.clone());
        }
    }
}

fn change(golden: f64, now: f64) -> String {
    let d = now - golden;
    let rel = if golden != 0.0 {
        format!(" ({:+.1}%)", d / golden.abs() * 100.0)
    } else {
        String::new()
    };
    format!("{}{}{rel}", if d >= 0.0 { "+" } else { "" }, fixed(d))
}

/// Compares two `summary.json` documents key by key.
pub fn compare_summaries(golden: &[u8], now: &[u8], tol: Tolerance) -> Result<Vec<Moved>, String> {
    let g: Value =
        serde_json::from_slice(golden).map_err(|e| format!("golden summary.json: {e}"))?;
    let n: Value = serde_json::from_slice(now).map_err(|e| format!("summary.json: {e}"))?;
    let (mut gf, mut nf) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &g, &mut gf);
    flatten("", &n, &mut nf);
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&String> = gf.keys().chain(nf.keys()).collect();
    for k in keys {
        let (a, b) = (gf.get(k), nf.get(k));
        let moved = match (a.and_then(Value::as_f64), b.and_then(Value::as_f64)) {
            (Some(x), Some(y)) => (!tol.close(x, y)).then(|| change(x, y)),
            _ => (a != b).then(|| "changed".to_string()),
        };
        if let Some(by) = moved {
            let show = |v: Option<&Value>| match v {
                None => "absent".to_string(),
                Some(Value::String(s)) => s.clone(),
                Some(x) => x.as_f64().map_or_else(|| x.to_string(), fixed),
            };
            out.push(Moved {
                what: format!("summary: {k}"),
                from: show(a),
                to: show(b),
                by,
                dates: String::new(),
            });
        }
    }
    Ok(out)
}

/// Compares two `timeseries.csv` files column by column and day by day.
pub fn compare_series(golden: &[u8], now: &[u8], tol: Tolerance) -> Result<Vec<Moved>, String> {
    let g = Table::parse(golden).map_err(|e| format!("golden timeseries.csv: {e}"))?;
    let n = Table::parse(now).map_err(|e| format!("timeseries.csv: {e}"))?;
    let mut out = Vec::new();
    if g.dates != n.dates {
        out.push(Moved {
            what: "series: dates".into(),
            from: format!("{} days", g.dates.len()),
            to: format!("{} days", n.dates.len()),
            by: "the run covers other days".into(),
            dates: String::new(),
        });
        return Ok(out);
    }
    for (name, gv) in &g.columns {
        let Some(nv) = n.series(name) else {
            out.push(Moved {
                what: format!("series: {name}"),
                from: "present".into(),
                to: "absent".into(),
                by: "column removed".into(),
                dates: String::new(),
            });
            continue;
        };
        let moved: Vec<usize> = (0..gv.len())
            .filter(|&i| !tol.close(gv[i], nv[i]))
            .collect();
        let (Some(&first), Some(&last)) = (moved.first(), moved.last()) else {
            continue;
        };
        let worst = moved
            .iter()
            .copied()
            .max_by(|&a, &b| (nv[a] - gv[a]).abs().total_cmp(&(nv[b] - gv[b]).abs()))
            .unwrap_or(first);
        out.push(Moved {
            what: format!("series: {name}"),
            from: fixed(gv[worst]),
            to: fixed(nv[worst]),
            by: format!(
                "{} (largest, on {})",
                change(gv[worst], nv[worst]),
                g.dates[worst]
            ),
            dates: day_span(moved.len(), g.dates[first], g.dates[last]),
        });
    }
    for (name, _) in &n.columns {
        if g.series(name).is_none() {
            out.push(Moved {
                what: format!("series: {name}"),
                from: "absent".into(),
                to: "present".into(),
                by: "column added".into(),
                dates: String::new(),
            });
        }
    }
    for (name, gv) in &g.text_columns {
        if let Some(nv) = n.text_series(name) {
            let moved: Vec<usize> = (0..gv.len().min(nv.len()))
                .filter(|&i| gv[i] != nv[i])
                .collect();
            if let (Some(&first), Some(&last)) = (moved.first(), moved.last()) {
                out.push(Moved {
                    what: format!("series: {name}"),
                    from: gv[first].clone(),
                    to: nv[first].clone(),
                    by: format!("changed (first on {})", g.dates[first]),
                    dates: day_span(moved.len(), g.dates[first], g.dates[last]),
                });
            }
        }
    }
    Ok(out)
}

/// `3 days, 2024-01-02 to 2024-01-09`, or `1 day, 2024-01-02`.
fn day_span(n: usize, first: NaiveDate, last: NaiveDate) -> String {
    if n == 1 {
        format!("1 day, {first}")
    } else {
        format!("{n} days, {first} to {last}")
    }
}

/// A plain-text table of what moved, at most `limit` rows.
pub fn moved_table(moved: &[Moved], limit: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "    {:<44} {:>16} {:>16}  {:<34} on",
        "what moved", "from", "to", "by"
    );
    for m in moved.iter().take(limit) {
        let _ = writeln!(
            out,
            "    {:<44} {:>16} {:>16}  {:<34} {}",
            m.what, m.from, m.to, m.by, m.dates
        );
    }
    if moved.len() > limit {
        let _ = writeln!(out, "    ... and {} more", moved.len() - limit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_finite_value_is_never_within_tolerance() {
        let tol = Tolerance::parse("1%").expect("tol");
        assert!(tol.close(100.0, 100.5));
        assert!(!tol.close(f64::INFINITY, 5.0));
        assert!(!tol.close(f64::INFINITY, f64::INFINITY));
        assert!(!tol.close(5.0, f64::NAN));
        assert!(!tol.close(f64::NAN, f64::NAN));
    }

    #[test]
    fn tolerances_parse() {
        assert_eq!(Tolerance::parse("1%").map(|t| t.rel), Ok(0.01));
        assert_eq!(Tolerance::parse("0.02").map(|t| t.rel), Ok(0.02));
        assert_eq!(Tolerance::parse("abs:5").map(|t| t.abs), Ok(5.0));
        assert!(Tolerance::parse("lots").is_err());
        assert!(Tolerance::parse("-1%").is_err());
    }

    #[test]
    fn summary_keys_listed_for_assertions_exist() {
        // The lists next to Summary must name real keys of it.
        use crate::model::record::{SUMMARY_DATES, SUMMARY_MAPS, SUMMARY_NUMBERS};
        let s: Summary = serde_json::from_slice(
            b"{\"scenario\":\"x\",\"seed\":0,\"start\":\"2024-01-01\",\"end\":\"2024-01-02\",\"days\":2,\"first_shortage\":null,\"last_shortage\":null,\"shortage_days\":0,\"peak_unserved_share\":0,\"pause_episodes\":[],\"pause_days\":0,\"lost_signups\":0,\"lost_revenue_usd\":0,\"lost_revenue_pause_usd\":0,\"lost_revenue_churn_usd\":0,\"revenue_usd\":0,\"lead_time_peak_days\":0,\"lead_time_peak_date\":null,\"lead_time_peak_product\":null,\"capex_usd\":0,\"power_cost_usd\":0,\"production_by_year\":{},\"fleet_end\":{},\"fleet_end_h100e\":0,\"stranded_end\":0,\"binding_constraint_days\":{},\"users_end\":{},\"realised_lead_time_peak_days\":0,\"orders_placed_units\":0,\"orders_cancelled_units\":0,\"phantom_share_peak\":0,\"bullwhip_ratio\":{}}",
        )
        .expect("a summary");
        let v = serde_json::to_value(&s).expect("json");
        for k in SUMMARY_NUMBERS {
            assert!(v[*k].is_number(), "{k}");
        }
        for k in SUMMARY_DATES {
            assert!(v.get(*k).is_some(), "{k}");
        }
        for (k, _) in SUMMARY_MAPS {
            assert!(v[*k].is_object(), "{k}");
        }
    }

    #[test]
    fn series_comparison_names_the_days_that_moved() {
        let g =
            b"date,a,binding_constraint\n2024-01-01,1,hbm\n2024-01-02,2,hbm\n2024-01-03,3,hbm\n";
        let n = b"date,a,binding_constraint\n2024-01-01,1,hbm\n2024-01-02,2.5,hbm\n2024-01-03,4,demand\n";
        let moved = compare_series(g, n, Tolerance::default()).expect("parses");
        assert_eq!(moved.len(), 2, "{moved:?}");
        assert_eq!(moved[0].what, "series: a");
        assert_eq!(moved[0].dates, "2 days, 2024-01-02 to 2024-01-03");
        assert!(moved[0].by.contains("+1") && moved[0].by.contains("2024-01-03"));
        assert_eq!(moved[1].what, "series: binding_constraint");
        // Within 50%, only the larger move remains.
        let moved = compare_series(g, n, Tolerance::parse("30%").expect("tol")).expect("parses");
        assert_eq!(moved.len(), 2);
        let moved = compare_series(g, n, Tolerance::parse("40%").expect("tol")).expect("parses");
        assert_eq!(moved.len(), 1);
    }
}
