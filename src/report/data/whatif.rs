//! The CSVs of `capsim sweep`, `sensitivity` and `solve` parsed for their charts, with what
//! `manifest.json` records of the command ([`Context`]).

use serde_json::Value;

use crate::report::ReportError;
use crate::whatif::Target;

/// What a chart needs besides its CSV: what `manifest.json` records of the command.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// Replications per point.
    pub replications: u64,
    /// The command's `arguments`, as in `manifest.json`.
    pub arguments: &'a Value,
}

pub(in crate::report) fn bad(what: &'static str, message: impl Into<String>) -> ReportError {
    ReportError::Parse {
        what,
        message: message.into(),
    }
}

/// A cell of a CSV as a number: empty is NaN (no value), anything else must parse.
fn cell(what: &'static str, row: usize, column: &str, s: &str) -> Result<f64, ReportError> {
    if s.is_empty() {
        return Ok(f64::NAN);
    }
    s.parse().map_err(|_| {
        bad(
            what,
            format!("row {row}: `{s}` in column `{column}` is not a number"),
        )
    })
}

/// The header and rows of a CSV. Row numbers in messages count the header as row 1.
fn records(
    what: &'static str,
    bytes: &[u8],
) -> Result<(Vec<String>, Vec<Vec<String>>), ReportError> {
    Ok(super::csv_records(what, bytes)?)
}

/// The index of `name` in `header`, or a message naming what is missing.
fn column(what: &'static str, header: &[String], name: &str) -> Result<usize, ReportError> {
    header.iter().position(|h| h == name).ok_or_else(|| {
        bad(
            what,
            format!("no column `{name}` (the header is {})", header.join(",")),
        )
    })
}

fn argument<'a>(what: &'static str, c: &Context<'a>, key: &str) -> Result<&'a Value, ReportError> {
    c.arguments
        .get(key)
        .ok_or_else(|| bad(what, format!("manifest.json `arguments` has no `{key}`")))
}

fn argument_str<'a>(
    what: &'static str,
    c: &Context<'a>,
    key: &str,
) -> Result<&'a str, ReportError> {
    argument(what, c, key)?
        .as_str()
        .ok_or_else(|| bad(what, format!("manifest.json `arguments.{key}` is not text")))
}

/// A varied input as the charts name it.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The field's path, as for `--set`.
    pub path: String,
    /// Whether the values are added to the field (`+=`) rather than set.
    pub added: bool,
}

/// The metric at one point of a sweep: its value (one run) or P50, and the bands under
/// replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// The value, or the median over replications.
    pub mid: f64,
    /// P5, P25, P75, P95 over replications (None for one run per point).
    pub bands: Option<[f64; 4]>,
}

/// `sweep.csv`, parsed for a chart of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// The scenario's name.
    pub scenario: String,
    /// Replications per point.
    pub replications: u64,
    /// The varied inputs, in `--vary` order.
    pub inputs: Vec<Input>,
    /// Per point, the varied values (the first changing slowest).
    pub points: Vec<Vec<f64>>,
    /// The metric charted.
    pub metric: String,
    /// Per point, the metric.
    pub values: Vec<Stat>,
}

impl Sweep {
    /// Parses `sweep.csv` for `metric` (`arguments.metric` when None).
    pub fn parse(csv: &[u8], c: &Context, metric: Option<&str>) -> Result<Sweep, ReportError> {
        const W: &str = "sweep.csv";
        let metric = match metric {
            Some(m) => m,
            None => argument_str(W, c, "metric")?,
        };
        let vary = argument(W, c, "vary")?
            .as_array()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| bad(W, "manifest.json `arguments.vary` is not a list of inputs"))?;
        let inputs: Vec<Input> = vary
            .iter()
            .map(|v| {
                Ok(Input {
                    path: v["path"]
                        .as_str()
                        .ok_or_else(|| bad(W, "an input of `arguments.vary` has no `path`"))?
                        .to_string(),
                    added: v["op"] == "add",
                })
            })
            .collect::<Result<_, ReportError>>()?;
        let (header, rows) = records(W, csv)?;
        if header.first().map(String::as_str) != Some("point") {
            return Err(bad(W, "the first column must be `point`"));
        }
        for (k, input) in inputs.iter().enumerate() {
            let label = format!("{}{}", input.path, if input.added { "+" } else { "" });
            if header.get(k + 1) != Some(&label) {
                return Err(bad(
                    W,
                    format!("column {} must be the varied input `{label}`", k + 2),
                ));
            }
        }
        let (single, banded) = (
            header.iter().position(|h| h == metric),
            ["p50", "p5", "p25", "p75", "p95"]
                .iter()
                .map(|s| header.iter().position(|h| *h == format!("{metric}.{s}")))
                .collect::<Option<Vec<usize>>>(),
        );
        if single.is_none() && banded.is_none() {
            return Err(bad(
                W,
                format!("no column `{metric}` (nor `{metric}.p50` and its percentiles)"),
            ));
        }
        let mut points = Vec::with_capacity(rows.len());
        let mut values = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let get = |k: usize| cell(W, i + 2, &header[k], row.get(k).map_or("", |s| s));
            points.push((1..=inputs.len()).map(get).collect::<Result<_, _>>()?);
            values.push(match (&banded, single) {
                (Some(b), _) => Stat {
                    mid: get(b[0])?,
                    bands: Some([get(b[1])?, get(b[2])?, get(b[3])?, get(b[4])?]),
                },
                (None, Some(k)) => Stat {
                    mid: get(k)?,
                    bands: None,
                },
                (None, None) => unreachable!("checked above"),
            });
        }
        if points.iter().flatten().any(|x: &f64| !x.is_finite()) {
            return Err(bad(W, "a varied value is missing"));
        }
        Ok(Sweep {
            scenario: c.scenario.to_string(),
            replications: c.replications,
            inputs,
            points,
            metric: metric.to_string(),
            values,
        })
    }
}

/// One row of `sensitivity.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    /// The input's path.
    pub input: String,
    /// The metric with the input lowered and raised (NaN where not run).
    pub low: f64,
    /// ...
    pub high: f64,
    /// `ok`, or why the input was not varied.
    pub status: String,
}

/// `sensitivity.csv`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensitivity {
    /// The scenario's name.
    pub scenario: String,
    /// Replications per run.
    pub replications: u64,
    /// The metric.
    pub metric: String,
    /// How far each input moved down and up (0.2 for ±20%).
    pub delta: f64,
    /// The metric at the base.
    pub base: f64,
    /// Every input, ranked as in the file.
    pub effects: Vec<Effect>,
}

impl Sensitivity {
    /// Parses `sensitivity.csv`.
    pub fn parse(csv: &[u8], c: &Context) -> Result<Sensitivity, ReportError> {
        const W: &str = "sensitivity.csv";
        let delta = argument(W, c, "delta")?
            .as_f64()
            .ok_or_else(|| bad(W, "manifest.json `arguments.delta` is not a number"))?;
        let (header, rows) = records(W, csv)?;
        let metric = header
            .get(3)
            .and_then(|h| h.strip_suffix(".low"))
            .ok_or_else(|| bad(W, "column 4 must be `<metric>.low`"))?
            .to_string();
        let ix = |name: &str| column(W, &header, name);
        let (input, low, base, high, status) = (
            ix("input")?,
            ix(&format!("{metric}.low"))?,
            ix(&format!("{metric}.base"))?,
            ix(&format!("{metric}.high"))?,
            ix("status")?,
        );
        let mut effects = Vec::with_capacity(rows.len());
        let mut base_value = f64::NAN;
        for (i, row) in rows.iter().enumerate() {
            let text = |k: usize| row.get(k).cloned().unwrap_or_default();
            let num = |k: usize| cell(W, i + 2, &header[k], row.get(k).map_or("", |s| s));
            base_value = num(base)?;
            effects.push(Effect {
                input: text(input),
                low: num(low)?,
                high: num(high)?,
                status: text(status),
            });
        }
        Ok(Sensitivity {
            scenario: c.scenario.to_string(),
            replications: c.replications,
            metric,
            delta,
            base: base_value,
            effects,
        })
    }
}

/// One row of `solve.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// The input's value.
    pub x: f64,
    /// The metric there.
    pub metric: f64,
    /// Whether it met the target.
    pub met: bool,
    /// Tried by the bisection (else by the first scan).
    pub bisect: bool,
}

/// `solve.csv`, parsed, with the target and the answer from `arguments`.
#[derive(Debug, Clone, PartialEq)]
pub struct Solve {
    /// The scenario's name.
    pub scenario: String,
    /// Replications per trial.
    pub replications: u64,
    /// `--percentile`, if given.
    pub percentile: Option<f64>,
    /// The input searched.
    pub input: Input,
    /// The target.
    pub target: Target,
    /// Whether the largest value meeting the target was sought.
    pub largest: bool,
    /// The answer, if the target was met.
    pub answer: Option<f64>,
    /// The bisection's tolerance (absent from folders written before it was recorded).
    pub tolerance: Option<f64>,
    /// The trials, in the order run.
    pub trials: Vec<Trial>,
}

impl Solve {
    /// Parses `solve.csv`.
    pub fn parse(csv: &[u8], c: &Context) -> Result<Solve, ReportError> {
        const W: &str = "solve.csv";
        let target: Target = argument_str(W, c, "target")?
            .parse()
            .map_err(|m: String| bad(W, format!("manifest.json `arguments.target`: {m}")))?;
        let (header, rows) = records(W, csv)?;
        let want = ["x", target.metric.as_str(), "met", "phase"];
        if header != want {
            return Err(bad(
                W,
                format!(
                    "the header must be `{}`, not `{}`",
                    want.join(","),
                    header.join(",")
                ),
            ));
        }
        let mut trials = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let get = |k: usize| row.get(k).map_or("", |s| s.as_str());
            let flag = |k: usize, yes: &str, no: &str| match get(k) {
                s if s == yes => Ok(true),
                s if s == no => Ok(false),
                s => Err(bad(
                    W,
                    format!(
                        "row {}: `{s}` in column `{}` is neither {yes} nor {no}",
                        i + 2,
                        header[k]
                    ),
                )),
            };
            trials.push(Trial {
                x: cell(W, i + 2, "x", get(0))?,
                metric: cell(W, i + 2, &header[1], get(1))?,
                met: flag(2, "true", "false")?,
                bisect: flag(3, "bisect", "scan")?,
            });
        }
        Ok(Solve {
            scenario: c.scenario.to_string(),
            replications: c.replications,
            percentile: c.arguments.get("percentile").and_then(Value::as_f64),
            input: Input {
                path: argument_str(W, c, "vary")?.to_string(),
                added: c.arguments.get("op").and_then(Value::as_str) == Some("add"),
            },
            target,
            largest: c.arguments.get("largest").and_then(Value::as_bool) == Some(true),
            answer: c.arguments.get("answer").and_then(Value::as_f64),
            tolerance: c.arguments.get("tolerance").and_then(Value::as_f64),
            trials,
        })
    }
}
