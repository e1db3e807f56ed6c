//! What-if at scale: the pieces of `capsim sweep`, `capsim sensitivity` and `capsim solve`
//! that do not touch files or the terminal.
//!
//! A point of a sweep, a perturbed input of a sensitivity analysis and a trial value of a
//! solve are all the same thing: extra `--set` overrides applied after the user's own, so a
//! point is loaded, checked and run exactly as `capsim run --set ...` would (with its
//! `extends:`), and with the same seed every point shares its random numbers with the others.
//! The overrides are written from the scenario as loaded (`Loaded::raw` as JSON), so `+=`
//! can add to a number or shift a whole timeline.

use std::str::FromStr;

use chrono::NaiveDate;
use serde_json::Value;

use crate::format::set_value;
use crate::scenario::yaml::path_segments;

/// How a varied value applies to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `PATH=...`: the field becomes the value (a timeline becomes constant).
    Set,
    /// `PATH+=...`: the value is added to the field (to every point of a timeline).
    Add,
}

/// One `--vary` of a sweep: a field and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Vary {
    /// The field, as for `--set` (`products.H100.power_w`).
    pub path: String,
    /// Set or add.
    pub op: Op,
    /// The values, in order.
    pub values: Vec<f64>,
}

impl Vary {
    /// The column name of this field in `sweep.csv` (`+` marks an addition).
    pub fn label(&self) -> String {
        match self.op {
            Op::Set => self.path.clone(),
            Op::Add => format!("{}+", self.path),
        }
    }
}

/// Most points a sweep may have.
pub const MAX_POINTS: usize = 100_000;

impl FromStr for Vary {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (path, op, values) = if let Some((p, v)) = s.split_once("+=") {
            (p, Op::Add, v)
        } else if let Some((p, v)) = s.split_once('=') {
            (p, Op::Set, v)
        } else {
            return Err(format!(
                "`{s}` needs the form PATH=V1,V2,... or PATH=LO..HI:STEPS (or += to add)"
            ));
        };
        let path = path.trim();
        path_segments(path).map_err(|e| format!("bad path: {e}"))?;
        Ok(Vary {
            path: path.to_string(),
            op,
            values: parse_values(values.trim())?,
        })
    }
}

/// Parses `V1,V2,...` or `LO..HI:STEPS` (STEPS evenly spaced values, ends included).
/// A value may end in `%` (`20%` is 0.2).
pub fn parse_values(s: &str) -> Result<Vec<f64>, String> {
    if let Some((range, steps)) = s.split_once(':') {
        let (lo, hi) = parse_range(range)?;
        let n: usize = steps
            .trim()
            .parse()
            .map_err(|_| format!("`{steps}` is not a number of steps; write e.g. 0..20000:11"))?;
        if n < 2 {
            return Err(format!("a range needs at least 2 steps, not {n}"));
        }
        if n > MAX_POINTS {
            return Err(format!("{n} steps is more than the {MAX_POINTS} allowed"));
        }
        return Ok((0..n)
            .map(|k| lo + (hi - lo) * k as f64 / (n - 1) as f64)
            .collect());
    }
    if s.contains("..") {
        return Err(format!(
            "`{s}` is a range without a number of steps; write e.g. {s}:11"
        ));
    }
    let values: Vec<f64> = s
        .split(',')
        .map(|v| number(v.trim()))
        .collect::<Result<_, _>>()?;
    if values.is_empty() {
        return Err("no values given".into());
    }
    Ok(values)
}

/// Parses `LO..HI` (LO < HI).
pub fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let Some((lo, hi)) = s.split_once("..") else {
        return Err(format!("`{s}` needs the form LO..HI, e.g. 0..20000"));
    };
    let (lo, hi) = (number(lo.trim())?, number(hi.trim())?);
    if lo >= hi {
        return Err(format!("the range {s} is empty: LO must be below HI"));
    }
    Ok((lo, hi))
}

/// A number, `20%` being 0.2; `_` separators allowed (`20_000`).
pub fn number(s: &str) -> Result<f64, String> {
    let (body, scale) = match s.strip_suffix('%') {
        Some(b) => (b, 0.01),
        None => (s, 1.0),
    };
    let v: f64 = body
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if !v.is_finite() {
        return Err(format!("`{s}` is not a finite number"));
    }
    Ok(v * scale)
}

/// Every combination of the varied values, the first `--vary` changing slowest.
pub fn grid(varies: &[Vary]) -> Result<Vec<Vec<f64>>, String> {
    let total = varies
        .iter()
        .try_fold(1usize, |acc, v| acc.checked_mul(v.values.len()))
        .filter(|n| *n <= MAX_POINTS)
        .ok_or_else(|| format!("the grid has more than {MAX_POINTS} points"))?;
    let mut points = Vec::with_capacity(total);
    for mut k in 0..total {
        let mut p = vec![0.0; varies.len()];
        for (i, v) in varies.iter().enumerate().rev() {
            p[i] = v.values[k % v.values.len()];
            k /= v.values.len();
        }
        points.push(p);
    }
    Ok(points)
}

/// The value at `path` in the scenario as loaded (its raw form as JSON), or why not.
pub fn lookup<'a>(raw: &'a Value, path: &str) -> Result<&'a Value, String> {
    let mut at = raw;
    let mut walked = String::new();
    for seg in path_segments(path)? {
        let next = match at {
            Value::Object(m) => m.get(&seg),
            Value::Array(items) => items
                .iter()
                .find(|it| it.get("name").and_then(Value::as_str) == Some(seg.as_str()))
                .or_else(|| seg.parse::<usize>().ok().and_then(|i| items.get(i))),
            _ => None,
        };
        match next {
            Some(v) => at = v,
            None => {
                let here = if walked.is_empty() {
                    "the scenario".to_string()
                } else {
                    format!("`{walked}`")
                };
                return Err(format!(
                    "{here} has no `{seg}` (in `{path}`){}",
                    expected_names(at)
                ));
            }
        }
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(&seg);
    }
    Ok(at)
}

/// What a path may name under `at`, for an error: the keys of a map, the names (else the
/// indices) of a list's items; at most a dozen.
fn expected_names(at: &Value) -> String {
    let names: Vec<String> = match at {
        Value::Object(m) => m.keys().map(|k| format!("`{k}`")).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, it)| match it.get("name").and_then(Value::as_str) {
                Some(name) => format!("`{name}` ({i})"),
                None => format!("`{i}`"),
            })
            .collect(),
        _ => return String::new(),
    };
    if names.is_empty() {
        return String::new();
    }
    let more = names.len().saturating_sub(12);
    let mut list = names.into_iter().take(12).collect::<Vec<_>>().join(", ");
    if more > 0 {
        list.push_str(&format!(" and {more} more"));
    }
    format!("; expected one of {list}")
}

/// Whether a JSON value is a timeline of numbers: dated values, or `{interpolation, points}`.
pub fn is_timeline(v: &Value) -> bool {
    match v {
        Value::Object(m) if m.contains_key("points") => m.get("points").is_some_and(is_timeline),
        Value::Object(m) => {
            !m.is_empty()
                && m.iter()
                    .all(|(k, v)| k.starts_with(|c: char| c.is_ascii_digit()) && v.is_number())
        }
        _ => false,
    }
}

fn is_integer(v: &Value) -> bool {
    v.is_i64() || v.is_u64()
}

/// Maps every number of a timeline (or a number) through `f`.
fn map_numbers(v: &Value, f: &dyn Fn(f64) -> f64) -> Value {
    match v {
        Value::Number(n) => {
            let x = f(n.as_f64().unwrap_or(0.0));
            if is_integer(v) {
                Value::from(x.round() as i64)
            } else {
                serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
            }
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let y = if k == "interpolation" {
                        x.clone()
                    } else {
                        map_numbers(x, f)
                    };
                    (k.clone(), y)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The `--set PATH=VALUE` override that applies `op value` at `path`; with `from`
/// (`--from DATE`), an addition applies from that date on only.
pub fn override_for(
    raw: &Value,
    path: &str,
    op: Op,
    value: f64,
    from: Option<NaiveDate>,
) -> Result<String, String> {
    let base = lookup(raw, path)?;
    if let Some(from) = from {
        if op == Op::Set {
            return Err("--from applies to additions (`+=`, or a solve PATH ending in `+`)".into());
        }
        let start = raw
            .get("start")
            .and_then(Value::as_str)
            .and_then(parse_date)
            .ok_or("the scenario has no readable `start`")?;
        let shifted = shift_from(base, value, from, start).map_err(|m| format!("`{path}`: {m}"))?;
        return Ok(format!("{path}={shifted}"));
    }
    match (op, base) {
        (Op::Set, b) if b.is_number() || b.is_null() => {
            Ok(format!("{path}={}", set_value(value, is_integer(b))))
        }
        (Op::Set, b) if is_timeline(b) => Ok(format!("{path}={}", set_value(value, false))),
        (Op::Add, b) if b.is_number() || is_timeline(b) => {
            let shifted = map_numbers(b, &|x| x + value);
            Ok(format!("{path}={shifted}"))
        }
        (_, b) => Err(format!(
            "`{path}` is not a number or a timeline of numbers (it is {})",
            kind(b)
        )),
    }
}

/// A timeline date: `YYYY-MM` (the first of the month) or `YYYY-MM-DD`, by the one grammar
/// of scenario files ([`crate::engine::parse_date`]), so `--from 2024-1-5` is refused as
/// `2024-1-5` is in YAML.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    crate::engine::parse_date(s).ok()
}

/// `base` with `v` added from `from` on: a number becomes a step timeline (its value, then
/// the sum from `from`); a timeline with `interpolation:` gets `v` added to every point from
/// `from`, a point at `from` (its old value there plus `v`) and, if linear, a point the day
/// before holding the old value, so that nothing before `from` changes.
fn shift_from(base: &Value, v: f64, from: NaiveDate, start: NaiveDate) -> Result<Value, String> {
    let key = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    if let Some(b) = base.as_f64() {
        if from <= start {
            return Ok(Value::from(b + v));
        }
        return Ok(serde_json::json!({
            "interpolation": "step",
            "points": { key(start): b, key(from): b + v }
        }));
    }
    let (Some(interp), Some(Value::Object(points))) = (
        base.get("interpolation").and_then(Value::as_str),
        base.get("points"),
    ) else {
        return Err(
            "to add from a date, write the timeline with `interpolation:` and `points:` \
             (a plain dated map takes the field's own interpolation, which --from cannot see)"
                .into(),
        );
    };
    let mut pts: Vec<(NaiveDate, f64)> = Vec::with_capacity(points.len() + 2);
    for (k, x) in points {
        let d = parse_date(k).ok_or_else(|| format!("`{k}` is not a date"))?;
        let x = x
            .as_f64()
            .ok_or_else(|| format!("the value at {k} is not a number"))?;
        pts.push((d, x));
    }
    pts.sort_by_key(|p| p.0);
    let linear = interp == "linear";
    let old = |d: NaiveDate| -> f64 {
        match pts.iter().position(|p| p.0 > d) {
            Some(0) => pts[0].1,
            None => pts.last().map_or(0.0, |p| p.1),
            Some(i) => {
                let (a, b) = (pts[i - 1], pts[i]);
                if linear {
                    let span = (b.0 - a.0).num_days() as f64;
                    let part = (d - a.0).num_days() as f64;
                    a.1 + (b.1 - a.1) * part / span
                } else {
                    a.1
                }
            }
        }
    };
    let mut out: Vec<(NaiveDate, f64)> = pts
        .iter()
        .map(|&(d, x)| (d, if d >= from { x + v } else { x }))
        .collect();
    if !pts.iter().any(|p| p.0 == from) {
        out.push((from, old(from) + v));
        let before = from.pred_opt().unwrap_or(from);
        if linear && pts.first().is_some_and(|p| p.0 < before) && !pts.iter().any(|p| p.0 == before)
        {
            out.push((before, old(before)));
        }
    }
    out.sort_by_key(|p| p.0);
    let points: serde_json::Map<String, Value> = out
        .into_iter()
        .map(|(d, x)| (key(d), Value::from(x)))
        .collect();
    Ok(serde_json::json!({ "interpolation": interp, "points": points }))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A numeric input of the scenario, for `capsim sensitivity`.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// Its path, as for `--set`.
    pub path: String,
    /// Its value as loaded: a number or a timeline.
    pub base: Value,
}

impl Input {
    /// The input's value for a table: the number, or the timeline's range.
    pub fn describe(&self) -> String {
        let mut nums = Vec::new();
        collect_numbers(&self.base, &mut nums);
        let f = crate::format::num;
        match nums.as_slice() {
            [] => "-".into(),
            [x] => f(*x),
            _ => {
                let lo = nums.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = nums.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                format!("timeline {}..{}", f(lo), f(hi))
            }
        }
    }

    /// The override that scales the input by `factor` (every point of a timeline), or None
    /// when scaling leaves it unchanged (0, or an integer too small to move).
    pub fn scaled(&self, factor: f64) -> Option<String> {
        let v = map_numbers(&self.base, &|x| x * factor);
        (v != self.base).then(|| format!("{}={v}", self.path))
    }
}

fn collect_numbers(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Number(n) => out.extend(n.as_f64()),
        Value::Object(m) => {
            for (k, x) in m {
                if k != "interpolation" {
                    collect_numbers(x, out);
                }
            }
        }
        _ => {}
    }
}

/// Top-level keys that are not inputs of the model.
const NOT_INPUTS: [&str; 6] = ["name", "description", "start", "end", "seed", "expect"];

/// Every numeric input of a scenario (its raw form as JSON): numbers and whole timelines,
/// with list items named by their `name`.
pub fn numeric_inputs(raw: &Value) -> Vec<Input> {
    let mut out = Vec::new();
    if let Value::Object(m) = raw {
        for (k, v) in m {
            if !NOT_INPUTS.contains(&k.as_str()) {
                walk(v, k.clone(), &mut out);
            }
        }
    }
    out
}

fn walk(v: &Value, path: String, out: &mut Vec<Input>) {
    if v.is_number() || is_timeline(v) {
        out.push(Input {
            path,
            base: v.clone(),
        });
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                walk(x, format!("{path}.{}", quote(k)), out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                let seg = x
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| i.to_string(), quote);
                walk(x, format!("{path}.{seg}"), out);
            }
        }
        _ => {}
    }
}

/// A path segment, quoted when it holds a character the path syntax uses.
fn quote(s: &str) -> String {
    if s.chars()
        .any(|c| matches!(c, '.' | '[' | ']' | '"' | '=' | '\\') || c.is_whitespace())
    {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s.to_string()
    }
}

/// A comparison of `--target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

/// `--target 'METRIC <= VALUE'`.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// A summary metric, named as in `expect:`.
    pub metric: String,
    /// The comparison.
    pub cmp: Cmp,
    /// The bound.
    pub value: f64,
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        for (text, cmp) in [
            ("<=", Cmp::Le),
            (">=", Cmp::Ge),
            ("<", Cmp::Lt),
            (">", Cmp::Gt),
        ] {
            if let Some((m, v)) = s.split_once(text) {
                let metric = m.trim();
                if metric.is_empty() {
                    return Err(format!("`{s}` names no metric"));
                }
                return Ok(Target {
                    metric: metric.to_string(),
                    cmp,
                    value: number(v.trim())?,
                });
            }
        }
        Err(format!(
            "`{s}` needs the form 'METRIC <= VALUE' (or <, >=, >), e.g. 'pause_days <= 0'"
        ))
    }
}

impl Target {
    /// Whether a value meets the target.
    pub fn met(&self, v: f64) -> bool {
        match self.cmp {
            Cmp::Le => v <= self.value,
            Cmp::Lt => v < self.value,
            Cmp::Ge => v >= self.value,
            Cmp::Gt => v > self.value,
        }
    }

    /// The comparison as written.
    pub fn op(&self) -> &'static str {
        match self.cmp {
            Cmp::Le => "<=",
            Cmp::Lt => "<",
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
        }
    }
}

/// One evaluation of `solve`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Trial {
    /// The input's value.
    pub x: f64,
    /// The metric there.
    pub metric: f64,
    /// Whether it meets the target.
    pub met: bool,
    /// `scan` or `bisect`.
    pub phase: &'static str,
}

/// What `solve` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Solution {
    /// The smallest (or largest) value found that meets the target, or None.
    pub answer: Option<f64>,
    /// The metric at the answer.
    pub metric_at_answer: Option<f64>,
    /// Whether the metric was monotone over every value tried.
    pub monotone: bool,
    /// The values tried, in order.
    pub trials: Vec<Trial>,
    /// What to make of the answer, in a sentence or two.
    pub note: String,
}

/// How `solve` searches.
#[derive(Debug, Clone, Copy)]
pub struct Search {
    /// The range.
    pub lo: f64,
    /// The range.
    pub hi: f64,
    /// Stop bisecting once the bracket is this narrow.
    pub tolerance: f64,
    /// Round trial values to whole numbers (the field holds an integer).
    pub integer: bool,
    /// Look for the largest value meeting the target instead of the smallest.
    pub largest: bool,
    /// Evenly spaced values tried before bisecting (ends included).
    pub scan: usize,
}

/// Finds the smallest (or largest) value of one input in `[lo, hi]` that meets `target`:
/// a scan of evenly spaced values (run together: `eval` gets them all), then bisection
/// between the last value that fails and the first that meets it. The metric is called
/// monotone if it never changes direction over all the values tried; where it does, the
/// answer is the boundary nearest the end searched from, and the note says so.
pub fn solve<E, F>(s: &Search, target: &Target, eval: &mut F) -> Result<Solution, E>
where
    F: FnMut(&[f64]) -> Result<Vec<f64>, E>,
{
    let round = |x: f64| if s.integer { x.round() } else { x };
    let n = s.scan.max(2);
    let mut xs: Vec<f64> = (0..n)
        .map(|k| round(s.lo + (s.hi - s.lo) * k as f64 / (n - 1) as f64))
        .collect();
    xs.dedup();
    let ms = eval(&xs)?;
    let mut trials: Vec<Trial> = xs
        .iter()
        .zip(&ms)
        .map(|(&x, &m)| Trial {
            x,
            metric: m,
            met: target.met(m),
            phase: "scan",
        })
        .collect();
    // Search from the low end for the smallest, from the high end for the largest.
    let order: Vec<usize> = if s.largest {
        (0..trials.len()).rev().collect()
    } else {
        (0..trials.len()).collect()
    };
    let first_met = order.iter().position(|&k| trials[k].met);
    let (mut answer, bracket) = match first_met {
        None => (None, None),
        Some(0) => (Some(trials[order[0]].x), None),
        Some(i) => (
            Some(trials[order[i]].x),
            Some((trials[order[i - 1]].x, trials[order[i]].x)),
        ),
    };
    let mut metric_at_answer =
        answer.and_then(|a| trials.iter().find(|t| t.x == a).map(|t| t.metric));
    if let Some((mut fail, mut meet)) = bracket {
        let tol = if s.integer {
            s.tolerance.max(1.0)
        } else {
            s.tolerance
        };
        while (meet - fail).abs() > tol {
            let mid = round((fail + meet) / 2.0);
            if mid == fail || mid == meet {
                break;
            }
            let m = eval(&[mid])?[0];
            let met = target.met(m);
            trials.push(Trial {
                x: mid,
                metric: m,
                met,
                phase: "bisect",
            });
            if met {
                meet = mid;
                metric_at_answer = Some(m);
            } else {
                fail = mid;
            }
        }
        answer = Some(meet);
    }
    let monotone = is_monotone(&trials);
    let switches = met_switches(&trials);
    let which = if s.largest { "largest" } else { "smallest" };
    let note = match (answer, monotone, switches <= 1) {
        (None, _, _) => format!(
            "the target is not met anywhere in the range tried ({} values); widen the range",
            trials.len()
        ),
        (Some(_), true, _) => format!(
            "the metric is monotone over the {} values tried, so this is the {which} value \
             meeting the target (to within the bisection's tolerance)",
            trials.len()
        ),
        (Some(_), false, true) => format!(
            "the metric is NOT monotone over the {} values tried (it changes direction), but \
             it crosses the target once among them: this is that crossing, found by \
             bisection; a crossing between two trials cannot be ruled out",
            trials.len()
        ),
        (Some(_), false, false) => format!(
            "the metric is NOT monotone over the values tried and the target is met, then \
             not, then met again: this is the {which} value found meeting the target next to \
             one that does not, but others exist; see the trials"
        ),
    };
    Ok(Solution {
        answer,
        metric_at_answer,
        monotone,
        trials,
        note,
    })
}

/// Sorted by the input, whether the metric never both rises and falls.
fn is_monotone(trials: &[Trial]) -> bool {
    let mut t: Vec<(f64, f64)> = trials.iter().map(|t| (t.x, t.metric)).collect();
    t.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut up, mut down) = (false, false);
    for w in t.windows(2) {
        if w[1].1 > w[0].1 {
            up = true;
        }
        if w[1].1 < w[0].1 {
            down = true;
        }
    }
    !(up && down)
}

/// Sorted by the input, how often "meets the target" changes.
fn met_switches(trials: &[Trial]) -> usize {
    let mut t: Vec<(f64, bool)> = trials.iter().map(|t| (t.x, t.met)).collect();
    t.sort_by(|a, b| a.0.total_cmp(&b.0));
    t.windows(2).filter(|w| w[0].1 != w[1].1).count()
}

/// `x` rounded to the power of ten at or below the tolerance `tol`: up for the smallest value
/// meeting a target (so that it still meets it), down for the largest; and which way it went.
pub fn rounded_answer(x: f64, tol: f64, largest: bool) -> (f64, String) {
    if !(tol > 0.0 && tol.is_finite() && x.is_finite()) {
        return (x, "as found".into());
    }
    let step = 10f64.powf(tol.log10().floor());
    let r = if largest {
        (x / step).floor() * step
    } else {
        (x / step).ceil() * step
    };
    let way = if largest { "down" } else { "up" };
    (
        r,
        format!(
            "rounded {way} to a multiple of {}",
            crate::format::num(step)
        ),
    )
}

/// An answer as found, one digit finer than the step [`rounded_answer`] rounds to, with
/// thousands separated (`12,852` at a tolerance of 40, `23.729` at 0.049).
pub fn found_text(x: f64, tol: f64) -> String {
    if !(tol > 0.0 && tol.is_finite() && x.is_finite()) {
        return crate::format::num(x);
    }
    #[allow(clippy::cast_possible_truncation)]
    let digits = (1 - tol.log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{:.digits$}", x.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if x < 0.0 { "-" } else { "" };
    let whole = crate::format::group(whole);
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod rounding_tests {
    use super::rounded_answer;

    #[test]
    fn an_answer_is_rounded_to_its_tolerance_towards_the_target() {
        // Tolerance 40 (0..40000 / 1000): steps of 10.
        assert_eq!(
            rounded_answer(19882.8125, 40.0, false),
            (19890.0, "rounded up to a multiple of 10".to_string())
        );
        assert_eq!(
            rounded_answer(19882.8125, 40.0, true),
            (19880.0, "rounded down to a multiple of 10".to_string())
        );
        // Tolerance 0.05: steps of 0.01.
        let (r, how) = rounded_answer(0.123456, 0.05, false);
        assert!((r - 0.13).abs() < 1e-12, "{r}");
        assert_eq!(how, "rounded up to a multiple of 0.01", "{r}");
        assert_eq!(
            rounded_answer(5.0, 0.0, false),
            (5.0, "as found".to_string())
        );
        // As found, a digit finer than the step: what the chart's subtitle says.
        assert_eq!(super::found_text(12851.5625, 40.0), "12,852");
        assert_eq!(super::found_text(23.7294921875, 0.049), "23.729");
        assert_eq!(super::found_text(-1234.5, 4.0), "-1,234.5");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varies_parse_lists_and_ranges() {
        let v: Vary = "products.H100.power_w=600,700,800".parse().unwrap();
        assert_eq!(v.values, vec![600.0, 700.0, 800.0]);
        assert_eq!(v.op, Op::Set);
        let v: Vary = "a.b+=0..100:5".parse().unwrap();
        assert_eq!(v.values, vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(v.op, Op::Add);
        assert_eq!(v.label(), "a.b+");
        let v: Vary = "x=10%,20%".parse().unwrap();
        assert_eq!(v.values, vec![0.1, 0.2]);
        for bad in ["a.b", "a=1..5", "a=5..1:3", "a=1..5:1", "a=x", "a..b=1"] {
            assert!(bad.parse::<Vary>().is_err(), "{bad}");
        }
    }

    #[test]
    fn grid_is_the_full_product_first_slowest() {
        let a: Vary = "a=1,2".parse().unwrap();
        let b: Vary = "b=10,20,30".parse().unwrap();
        let g = grid(&[a, b]).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], vec![1.0, 10.0]);
        assert_eq!(g[1], vec![1.0, 20.0]);
        assert_eq!(g[5], vec![2.0, 30.0]);
    }

    #[test]
    fn overrides_set_and_shift_numbers_and_timelines() {
        let raw = serde_json::json!({
            "products": [{"name": "H100", "power_w": 700.0, "cycle_time_days": 90}],
            "supply": {"line": {"capacity": {"interpolation": "linear",
                        "points": {"2023-01": 7000.0, "2023-06": 8000.0}}}}
        });
        assert_eq!(
            override_for(&raw, "products.H100.power_w", Op::Set, 800.0, None).unwrap(),
            "products.H100.power_w=800.0"
        );
        assert_eq!(
            override_for(&raw, "products.H100.cycle_time_days", Op::Add, 9.6, None).unwrap(),
            "products.H100.cycle_time_days=100"
        );
        let s = override_for(&raw, "supply.line.capacity", Op::Add, 1000.0, None).unwrap();
        assert!(
            s.contains("\"2023-01\":8000.0") && s.contains("\"2023-06\":9000.0"),
            "{s}"
        );
        assert!(s.contains("\"interpolation\":\"linear\""), "{s}");
        let e = override_for(&raw, "products.H200.power_w", Op::Set, 1.0, None).unwrap_err();
        assert!(e.contains("has no `H200`"), "{e}");
        assert!(e.ends_with("; expected one of `H100` (0)"), "{e}");
        let e = override_for(&raw, "products.H100.power", Op::Set, 1.0, None).unwrap_err();
        assert!(
            e.ends_with("; expected one of `cycle_time_days`, `name`, `power_w`"),
            "{e}"
        );
        let e = override_for(&raw, "products.H100.name", Op::Set, 1.0, None).unwrap_err();
        assert!(e.contains("not a number"), "{e}");
    }

    #[test]
    fn additions_from_a_date_leave_the_past_alone() {
        let raw = serde_json::json!({
            "start": "2023-01",
            "line": {"interpolation": "linear", "points": {"2023-01": 7000.0, "2023-11": 15000.0}},
            "step": {"interpolation": "step", "points": {"2023-01": 10.0, "2024-01": 20.0}},
            "plain": {"2023-01": 1.0},
            "n": 5.0
        });
        let from = parse_date("2023-06");
        // Linear 7000 on 2023-01-01 to 15000 on 2023-11-01 (304 days): on 2023-05-31 (150
        // days in) 7000 + 8000 x 150/304; on 2023-06-01 (151 days in) that ramp + 1000.
        let s = override_for(&raw, "line", Op::Add, 1000.0, from).unwrap();
        let v: Value = serde_json::from_str(s.split_once('=').unwrap().1).unwrap();
        let p = &v["points"];
        assert_eq!(p["2023-01-01"], 7000.0);
        let may31 = p["2023-05-31"].as_f64().unwrap();
        assert!(
            (may31 - (7000.0 + 8000.0 * 150.0 / 304.0)).abs() < 1e-9,
            "{may31}"
        );
        let jun1 = p["2023-06-01"].as_f64().unwrap();
        assert!(
            (jun1 - (7000.0 + 8000.0 * 151.0 / 304.0 + 1000.0)).abs() < 1e-9,
            "{jun1}"
        );
        assert_eq!(p["2023-11-01"], 16000.0);
        assert_eq!(v["interpolation"], "linear");
        // Step: a step at the date, no point the day before.
        let s = override_for(&raw, "step", Op::Add, 5.0, from).unwrap();
        let v: Value = serde_json::from_str(s.split_once('=').unwrap().1).unwrap();
        assert_eq!(v["points"]["2023-06-01"], 15.0);
        assert_eq!(v["points"]["2024-01-01"], 25.0);
        assert_eq!(v["points"].as_object().unwrap().len(), 3);
        // A number becomes a step timeline.
        let s = override_for(&raw, "n", Op::Add, 2.0, from).unwrap();
        assert!(
            s.contains("\"2023-06-01\":7.0") && s.contains("\"2023-01-01\":5.0"),
            "{s}"
        );
        // A plain dated map is refused with the fix; so is --from with =.
        assert!(
            override_for(&raw, "plain", Op::Add, 1.0, from)
                .unwrap_err()
                .contains("interpolation:")
        );
        assert!(override_for(&raw, "n", Op::Set, 1.0, from).is_err());
    }

    #[test]
    fn inputs_are_numbers_and_whole_timelines() {
        let raw = serde_json::json!({
            "name": "x", "seed": 1,
            "products": [{"name": "H 100", "power_w": 700.0, "share": {"2023-01": 0.5}}],
            "money": {"rate": 0.1, "label": "a"}
        });
        let paths: Vec<String> = numeric_inputs(&raw).into_iter().map(|i| i.path).collect();
        assert_eq!(
            paths,
            // Keys in the order serde_json keeps them (sorted).
            vec![
                "money.rate",
                "products.\"H 100\".power_w",
                "products.\"H 100\".share"
            ]
        );
        let i = &numeric_inputs(&raw)[1];
        assert_eq!(i.scaled(1.2).unwrap(), "products.\"H 100\".power_w=840.0");
        assert!(
            Input {
                path: "z".into(),
                base: serde_json::json!(0.0)
            }
            .scaled(1.2)
            .is_none()
        );
    }

    #[test]
    fn targets_parse() {
        let t: Target = "pause_days <= 0".parse().unwrap();
        assert_eq!(
            (t.metric.as_str(), t.cmp, t.value),
            ("pause_days", Cmp::Le, 0.0)
        );
        assert!(t.met(0.0) && !t.met(1.0));
        let t: Target = "fleet_end_h100e>5e5".parse().unwrap();
        assert_eq!(t.cmp, Cmp::Gt);
        assert!("pause_days = 0".parse::<Target>().is_err());
        assert!("<= 3".parse::<Target>().is_err());
    }

    /// A step function the bisection must find to within its tolerance, and a
    /// non-monotone one it must flag.
    #[test]
    fn solve_bisects_a_monotone_metric_and_flags_one_that_is_not() {
        let target: Target = "m <= 10".parse().unwrap();
        // m(x) = 100 - 2x: meets m <= 10 from x = 45.
        let mut f = |xs: &[f64]| -> Result<Vec<f64>, ()> {
            Ok(xs.iter().map(|x| 100.0 - 2.0 * x).collect())
        };
        let s = Search {
            lo: 0.0,
            hi: 100.0,
            tolerance: 0.01,
            integer: false,
            largest: false,
            scan: 9,
        };
        let sol = solve(&s, &target, &mut f).unwrap();
        let a = sol.answer.unwrap();
        assert!((45.0..45.01).contains(&a), "{a}");
        assert!(sol.monotone);
        // Integers: exactly 45.
        let sol = solve(&Search { integer: true, ..s }, &target, &mut f).unwrap();
        assert_eq!(sol.answer, Some(45.0));
        // Largest x with m >= 10 on the same line: x = 45.
        let up: Target = "m >= 10".parse().unwrap();
        let sol = solve(
            &Search {
                integer: true,
                largest: true,
                ..s
            },
            &up,
            &mut f,
        )
        .unwrap();
        assert_eq!(sol.answer, Some(45.0));
        // Never met.
        let never: Target = "m <= -500".parse().unwrap();
        let sol = solve(&s, &never, &mut f).unwrap();
        assert_eq!(sol.answer, None);
        assert!(sol.note.contains("not met anywhere"));
        // A V shape: met near the middle only.
        let mut v = |xs: &[f64]| -> Result<Vec<f64>, ()> {
            Ok(xs.iter().map(|x| (x - 50.0).abs()).collect())
        };
        let sol = solve(&s, &target, &mut v).unwrap();
        assert!(!sol.monotone);
        assert!(sol.note.contains("NOT monotone"), "{}", sol.note);
    }

    #[test]
    fn dates_follow_the_scenario_grammar() {
        assert_eq!(
            parse_date("2024-01-05"),
            NaiveDate::from_ymd_opt(2024, 1, 5)
        );
        assert_eq!(parse_date("2024-06"), NaiveDate::from_ymd_opt(2024, 6, 1));
        for text in ["2024-1-5", "2024-1", "24-01-05", "2024-02-30", "2024/01/05"] {
            assert_eq!(parse_date(text), None, "{text}");
            assert!(crate::engine::parse_date(text).is_err(), "{text}");
        }
    }
}
