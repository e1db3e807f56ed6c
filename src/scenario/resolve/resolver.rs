//! The problem collector the subjects share: located errors and warnings, dates to ticks,
//! names to indices, timelines and the common range checks, and the small helpers of their
//! messages.

use chrono::{Datelike, NaiveDate};

use crate::engine::Time;
use crate::engine::calendar::{Calendar, parse_date};
use crate::scenario::raw::*;
use crate::scenario::timeline::RawTimeline;
use crate::scenario::types::*;
use crate::scenario::yaml::{
    Diagnostic, Loc, Node, Severity, child_path, did_you_mean, locate, locate_key, locate_nearest,
};

use super::{MAX_DAYS_FIELD, MAX_ITEMS, name_problem};
pub(super) use crate::format::in_message as num;

/// Collects problems while resolving, each located in the merged YAML tree.
pub(super) struct Resolver<'a> {
    pub(super) root: &'a Node,
    pub(super) calendar: Calendar,
    pub(super) end: Time,
    pub(super) problems: Vec<Diagnostic>,
}

impl<'a> Resolver<'a> {
    pub(super) fn push(&mut self, severity: Severity, path: &str, message: String) {
        let loc = locate(self.root, path);
        self.push_located(severity, path, message, loc);
    }

    /// A problem at `loc`; a field left out (and defaulted) has no node (`None`), so the
    /// problem points at the item that lacks it.
    fn push_located(&mut self, severity: Severity, path: &str, message: String, loc: Option<Loc>) {
        let loc = loc.or_else(|| Some(locate_nearest(self.root, path)));
        self.problems.push(Diagnostic {
            severity,
            loc,
            path: path.to_string(),
            message,
        });
    }

    /// An error at the key of a mapping entry (a timeline's date) rather than its value.
    pub(super) fn err_at_key(&mut self, path: &str, message: impl Into<String>) {
        self.push_at_key(Severity::Error, path, message.into());
    }

    pub(super) fn push_at_key(&mut self, severity: Severity, path: &str, message: String) {
        let loc = locate_key(self.root, path);
        self.push_located(severity, path, message, loc);
    }

    pub(super) fn err(&mut self, path: &str, message: impl Into<String>) {
        self.push(Severity::Error, path, message.into());
    }

    pub(super) fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.push(Severity::Warning, path, message.into());
    }

    pub(super) fn date(&mut self, path: &str, text: &str) -> Option<Time> {
        match parse_date(text) {
            Ok(d) => Some(self.calendar.tick(d)),
            Err(e) => {
                self.err(path, format!("{e}{}", date_hint(text)));
                None
            }
        }
    }

    /// A date that should fall inside the run: outside it, the item has no effect and a
    /// warning says so (shortening a run with `--set end=...` must not make it invalid).
    pub(super) fn date_in_run(&mut self, path: &str, text: &str) -> Option<Time> {
        let t = self.date(path, text)?;
        if t < 0 || t > self.end {
            let start = self.calendar.date(0);
            let end = self.calendar.date(self.end);
            self.warn(
                path,
                format!("date {text} is outside the run ({start} to {end}); it has no effect"),
            );
        }
        Some(t)
    }

    pub(super) fn timeline(
        &mut self,
        path: &str,
        raw: &RawTimeline,
        default: Interpolation,
        min: f64,
    ) -> Option<Timeline> {
        let tl = match raw {
            RawTimeline::Constant(v) => Timeline::constant(*v),
            RawTimeline::Points {
                interpolation,
                points,
            } => {
                let mut pts: Vec<(Time, f64)> = Vec::with_capacity(points.len());
                let mut ok = true;
                let mut last_date = "";
                let root = self.root;
                for (date, v) in points {
                    // Dated values sit in the timeline map itself or under its `points:`.
                    // Found only for a message: a replication resolves every timeline again.
                    let point = || {
                        let p = child_path(path, date);
                        if locate_key(root, &p).is_none() {
                            let under = child_path(&child_path(path, "points"), date);
                            if locate_key(root, &under).is_some() {
                                return under;
                            }
                        }
                        p
                    };
                    match parse_date(date) {
                        Ok(d) => {
                            let t = self.calendar.tick(d);
                            if let Some(prev) = pts.last()
                                && t <= prev.0
                            {
                                let msg = if t == prev.0 {
                                    format!(
                                        "{date} is the same day as {last_date} just before it \
                                         (YYYY-MM means the first of the month); give each date \
                                         once"
                                    )
                                } else {
                                    format!(
                                        "dates in a timeline must increase; {date} comes after \
                                         the later {last_date}"
                                    )
                                };
                                self.err_at_key(&point(), msg);
                                ok = false;
                            }
                            // A date long after the end changes nothing; it is most often a
                            // mistyped year (2204-01 for 2024-01).
                            if t > self.end + 10 * 365 {
                                self.push_at_key(
                                    Severity::Warning,
                                    &point(),
                                    format!(
                                        "{date} is more than 10 years after the run ends ({}), \
                                         so this value is never used; is the year mistyped?",
                                        self.calendar.date(self.end)
                                    ),
                                );
                            }
                            pts.push((t, *v));
                            last_date = date;
                        }
                        Err(e) => {
                            self.err_at_key(&point(), format!("{e}{}", date_hint(date)));
                            ok = false;
                        }
                    }
                }
                if !ok {
                    return None;
                }
                if pts.is_empty() {
                    // `points: {}`: without this the field would silently be nothing.
                    self.err(
                        path,
                        "a timeline needs at least one dated value, e.g. \
                         {points: {2024-01: 8000}}",
                    );
                    return None;
                }
                Timeline::new(interpolation.unwrap_or(default), pts)?
            }
        };
        let (lo, hi) = tl.range();
        if !lo.is_finite() || !hi.is_finite() {
            self.err(path, "values must be finite numbers (not .inf or .nan)");
            return None;
        }
        if lo < min {
            // Point at the first dated value below the minimum, if the timeline has dates.
            let at = match raw {
                RawTimeline::Points { points, .. } => points.iter().find(|(_, v)| *v < min),
                RawTimeline::Constant(_) => None,
            };
            match at {
                Some((date, v)) => self.err(
                    &child_path(path, date),
                    format!(
                        "`{}` must be at least {min} at every date; found {} on {date}",
                        field(path),
                        num(*v)
                    ),
                ),
                None => self.err(
                    path,
                    format!(
                        "`{}` must be at least {min}; found {}",
                        field(path),
                        num(lo)
                    ),
                ),
            }
            return None;
        }
        Some(tl)
    }

    pub(super) fn positive(&mut self, path: &str, v: f64) {
        if !(v > 0.0 && v.is_finite()) {
            self.err(
                path,
                format!("`{}` must be above 0; found {}", field(path), num(v)),
            );
        }
    }

    /// A duration of at least `min` days and at most [`MAX_DAYS_FIELD`].
    pub(super) fn days_between(&mut self, path: &str, v: f64, min: f64) {
        if !(v >= min && v <= MAX_DAYS_FIELD as f64) {
            self.err(
                path,
                format!(
                    "`{}` must be between {} and {MAX_DAYS_FIELD} days; found {}",
                    field(path),
                    num(min),
                    num(v)
                ),
            );
        }
    }

    /// A whole number of days of at least `min` and at most [`MAX_DAYS_FIELD`]: such fields
    /// size rings and windows allocated for the run, so a huge value must stop here, at its
    /// place in the file, not abort the process later.
    pub(super) fn whole_days(&mut self, path: &str, v: u32, min: u32) {
        if !(min..=MAX_DAYS_FIELD).contains(&v) {
            self.err(
                path,
                format!(
                    "`{}` must be between {min} and {MAX_DAYS_FIELD} days (30 years); found {v}",
                    field(path)
                ),
            );
        }
    }

    pub(super) fn non_negative(&mut self, path: &str, v: f64) {
        if !(v >= 0.0 && v.is_finite()) {
            self.err(
                path,
                format!("`{}` must be 0 or more; found {}", field(path), num(v)),
            );
        }
    }

    pub(super) fn fraction(&mut self, path: &str, v: f64) {
        if !(0.0..=1.0).contains(&v) {
            self.err(
                path,
                format!(
                    "`{}` is a share, between 0 and 1; found {}{}",
                    field(path),
                    num(v),
                    percent_hint(v)
                ),
            );
        }
    }

    /// Index of `name` among `names`, or an error naming the kind and suggesting a name.
    pub(super) fn lookup(
        &mut self,
        path: &str,
        kind: &str,
        name: &str,
        names: &[&str],
    ) -> Option<usize> {
        if let Some(i) = names.iter().position(|n| *n == name) {
            return Some(i);
        }
        let mut msg = format!("{kind} `{name}` names no {kind}");
        if let Some(s) = names
            .iter()
            .find(|n| n.to_lowercase() == name.to_lowercase())
        {
            msg.push_str(&format!("; names are case-sensitive: did you mean `{s}`?"));
        } else if let Some(s) = did_you_mean(name, names.iter().copied()) {
            msg.push_str(&format!("; did you mean `{s}`?"));
        }
        if names.is_empty() {
            msg.push_str(" (none is defined)");
        } else {
            let shown: Vec<&str> = names.iter().take(12).copied().collect();
            msg.push_str(&format!(" (known: {})", shown.join(", ")));
        }
        self.err(path, msg);
        None
    }

    /// [`Resolver::lookup`] for a name written as a mapping key (`products: {H10: 1.0}`): an
    /// unknown name is shown at the key, not at its value.
    pub(super) fn lookup_key(
        &mut self,
        path: &str,
        kind: &str,
        name: &str,
        names: &[&str],
    ) -> Option<usize> {
        let found = self.lookup(path, kind, name, names);
        if found.is_none()
            && let Some(d) = self.problems.last_mut()
            && let Some(loc) = locate_key(self.root, path)
        {
            d.loc = Some(loc);
        }
        found
    }

    pub(super) fn unique(&mut self, section: &str, names: &[&str]) {
        if names.len() > MAX_ITEMS {
            // Per-day buffers grow with the product of list lengths and the longest delay.
            self.err(
                section,
                format!(
                    "`{}` has {} items, more than the {MAX_ITEMS} accepted",
                    field(section),
                    names.len()
                ),
            );
            return;
        }
        for (i, n) in names.iter().enumerate() {
            if let Some(why) = name_problem(n) {
                self.err(&format!("{section}[{i}].name"), why);
            } else if let Some(first) = names[..i].iter().position(|m| m == n) {
                self.err(
                    &format!("{section}[{i}].name"),
                    format!(
                        "duplicate name `{n}` in {section} (also {section}[{first}]); names must \
                         be unique"
                    ),
                );
            } else if let Some(first) = names[..i]
                .iter()
                .position(|m| m.to_lowercase() == n.to_lowercase())
            {
                // Two spellings of one name are almost always one thing written twice; in an
                // `extends:` what-if the second spelling adds an item instead of changing one.
                self.err(
                    &format!("{section}[{i}].name"),
                    format!(
                        "`{n}` differs from `{}` ({section}[{first}]) only in case; names are \
                         compared exactly, so this is a second item: use one spelling",
                        names[first]
                    ),
                );
            }
        }
    }

    pub(super) fn noise(&mut self, path: &str, raw: &Option<RawNoise>) -> Option<Noise> {
        let n = raw.as_ref()?;
        self.non_negative(&format!("{path}.sd"), n.sd);
        if n.sd > 1.0 {
            self.warn(
                &format!("{path}.sd"),
                format!(
                    "a noise sd of {} is more than 100% of the value; is it a percentage? \
                     (0.05 is ±5%)",
                    num(n.sd)
                ),
            );
        }
        self.non_negative(&format!("{path}.correlation_days"), n.correlation_days);
        Some(Noise {
            sd: n.sd,
            correlation_days: n.correlation_days,
        })
    }

    pub(super) fn outages(&mut self, path: &str, raw: &Option<RawOutages>) -> Option<Outages> {
        let o = raw.as_ref()?;
        self.non_negative(&format!("{path}.rate_per_year"), o.rate_per_year);
        if o.rate_per_year > 365.0 {
            self.err(
                &format!("{path}.rate_per_year"),
                format!(
                    "{} outages a year is more than one a day; the rate is per year",
                    num(o.rate_per_year)
                ),
            );
        }
        if let Quantity::Fixed(d) = o.duration_days {
            self.positive(&format!("{path}.duration_days"), d);
        }
        if !(o.capacity_lost > 0.0 && o.capacity_lost <= 1.0) {
            self.err(
                &format!("{path}.capacity_lost"),
                format!(
                    "`capacity_lost` is the share of capacity an outage removes, above 0 and at \
                     most 1; found {}{}",
                    num(o.capacity_lost),
                    percent_hint(o.capacity_lost)
                ),
            );
        }
        Some(Outages {
            rate_per_year: o.rate_per_year,
            duration_days: o.duration_days,
            capacity_lost: o.capacity_lost,
        })
    }

    pub(super) fn slip(&mut self, path: &str, raw: &Option<Quantity>) -> Option<Quantity> {
        let q = raw.as_ref()?;
        if let Quantity::Fixed(d) = q {
            self.non_negative(path, *d);
        }
        Some(*q)
    }

    pub(super) fn growth(&mut self, path: &str, raw: &RawGrowth) -> Option<Growth> {
        Some(match raw {
            RawGrowth::Bass {
                market_size,
                p,
                q,
                since,
            } => {
                self.positive(&format!("{path}.bass.market_size"), *market_size);
                self.positive(&format!("{path}.bass.p"), *p);
                self.non_negative(&format!("{path}.bass.q"), *q);
                let since = match since {
                    Some(s) => self.date(&format!("{path}.bass.since"), s)?,
                    None => 0,
                };
                Growth::Bass {
                    market_size: *market_size,
                    p: *p,
                    q: *q,
                    since,
                }
            }
            RawGrowth::Logistic {
                capacity,
                rate_per_year,
                midpoint,
            } => {
                self.positive(&format!("{path}.logistic.capacity"), *capacity);
                self.positive(&format!("{path}.logistic.rate_per_year"), *rate_per_year);
                let midpoint = self.date(&format!("{path}.logistic.midpoint"), midpoint)?;
                Growth::Logistic {
                    capacity: *capacity,
                    rate_per_year: *rate_per_year,
                    midpoint,
                }
            }
            RawGrowth::Exponential {
                initial,
                growth_per_year,
                since,
            } => {
                self.non_negative(&format!("{path}.exponential.initial"), *initial);
                self.positive(
                    &format!("{path}.exponential.growth_per_year"),
                    *growth_per_year,
                );
                let since = match since {
                    Some(s) => self.date(&format!("{path}.exponential.since"), s)?,
                    None => 0,
                };
                Growth::Exponential {
                    initial: *initial,
                    growth_per_year: *growth_per_year,
                    since,
                }
            }
            RawGrowth::Timeline(tl) => Growth::Timeline(self.timeline(
                &format!("{path}.timeline"),
                tl,
                Interpolation::Linear,
                0.0,
            )?),
        })
    }
}

/// For a date written another common way (`01/15/2024`, `2024/01/15`, `15.01.2024`,
/// `2024-1-5`): the same date as capsim writes it.
pub(super) fn date_hint(text: &str) -> String {
    let parts: Vec<&str> = text.trim().split(['/', '.', '-']).collect();
    let nums: Option<Vec<u32>> = parts.iter().map(|p| p.parse::<u32>().ok()).collect();
    let Some(nums) = nums else {
        return String::new();
    };
    let ymd = |y: u32, m: u32, d: u32| {
        let s = format!("{y:04}-{m:02}-{d:02}");
        parse_date(&s).is_ok().then_some(s)
    };
    let year_first = parts.first().is_some_and(|p| p.len() == 4);
    let year_last = parts.last().is_some_and(|p| p.len() == 4);
    let candidates: Vec<String> = match nums.as_slice() {
        [y, m] if year_first => ymd(*y, *m, 1)
            .map(|s| s[..7].to_string())
            .into_iter()
            .collect(),
        [y, m, d] if year_first => ymd(*y, *m, *d).into_iter().collect(),
        [a, b, y] if year_last => {
            // Month first (US) or day first: offer whichever exist.
            let mut c: Vec<String> = [ymd(*y, *a, *b), ymd(*y, *b, *a)]
                .into_iter()
                .flatten()
                .collect();
            c.dedup();
            c
        }
        _ => Vec::new(),
    };
    match candidates.as_slice() {
        [one] => format!("; write `{one}`"),
        [a, b] => format!("; write `{a}` (month first) or `{b}` (day first)"),
        _ => String::new(),
    }
}

/// The last segment of a field path, for messages: `power_w` for `products[0].power_w`.
pub(super) fn field(path: &str) -> &str {
    // A quoted last key (`products."Gaudi 3.0"`) may hold dots.
    if let Some(inner) = path.strip_suffix('"')
        && let Some(open) = inner.rfind('"')
    {
        return &path[open..];
    }
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

/// For a share written as a percentage (1 < v ≤ 100): how to write it as a fraction.
pub(super) fn percent_hint(v: f64) -> String {
    if v > 1.0 && v <= 100.0 {
        format!(
            "; is it a percentage? write {}% as {}",
            num(v),
            num(v / 100.0)
        )
    } else {
        String::new()
    }
}

/// `v` rounded to 6 decimals, so sums of shares print as `1.1`, not `1.1000000000000001`.
pub(super) fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The last day of `d`'s month.
pub(super) fn last_of_month(d: NaiveDate) -> NaiveDate {
    let first_next = d
        .with_day(1)
        .and_then(|f| f.checked_add_months(chrono::Months::new(1)));
    first_next.and_then(|f| f.pred_opt()).unwrap_or(d)
}

pub(super) fn parse_or_push(
    problems: &mut Vec<Diagnostic>,
    root: &Node,
    path: &str,
    text: &str,
) -> Option<NaiveDate> {
    match parse_date(text) {
        Ok(d) => Some(d),
        Err(e) => {
            problems.push(Diagnostic {
                severity: Severity::Error,
                loc: locate(root, path),
                path: path.to_string(),
                message: format!("{e}{}", date_hint(text)),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_written_another_way_get_the_capsim_spelling() {
        assert_eq!(date_hint("01/15/2024"), "; write `2024-01-15`");
        assert_eq!(date_hint("15.01.2024"), "; write `2024-01-15`");
        assert_eq!(
            date_hint("03/04/2024"),
            "; write `2024-03-04` (month first) or `2024-04-03` (day first)"
        );
        assert_eq!(date_hint("2024/1/5"), "; write `2024-01-05`");
        assert_eq!(date_hint("2024.01"), "; write `2024-01`");
        assert_eq!(date_hint("2024-02-30"), "");
        assert_eq!(date_hint("soon"), "");
    }

    #[test]
    fn shares_written_as_percentages_are_spotted() {
        assert_eq!(percent_hint(90.0), "; is it a percentage? write 90% as 0.9");
        assert_eq!(percent_hint(0.9), "");
        assert_eq!(percent_hint(250.0), "");
        assert_eq!(field("products[0].power_w"), "power_w");
        assert_eq!(field("buyers[0].products.\"Gaudi 3.0\""), "\"Gaudi 3.0\"");
        // 0.7 + 0.2 is 0.8999999999999999 in binary; the message should say 0.9.
        assert_eq!(num(round6(0.7 + 0.2)), "0.9");
    }
}
