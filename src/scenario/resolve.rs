//! From raw scenario to resolved [`Scenario`]: names to indices, dates to ticks, and every
//! cross-field check. All problems are collected, not only the first.

use chrono::{Datelike, NaiveDate};

use crate::engine::Time;
use crate::engine::calendar::{Calendar, parse_date};

use super::dist::Quantity;
use super::raw::*;
use super::timeline::{Interpolation, RawTimeline, Timeline};
use super::types::*;
/// Longest duration a days field may hold: 30 years [days].
pub const MAX_DAYS_FIELD: u32 = 10_950;
/// Most items in one list of a scenario (packaging lines, logic processes, products,
/// vendors, buyers, sites, segments): the model's per-day buffers grow with their product.
pub const MAX_ITEMS: usize = 1_000;
/// Longest lifetime of a chip [years]: 100.
pub const MAX_LIFETIME_YEARS: f64 = 100.0;
/// Longest build of a site, from construction start to power on [months]: 30 years.
pub const MAX_BUILD_MONTHS: u32 = 360;

use super::yaml::{
    Diagnostic, Node, Severity, child_path, did_you_mean, locate, locate_key, locate_nearest,
};

/// Collects problems while resolving, each located in the merged YAML tree.
struct Resolver<'a> {
    root: &'a Node,
    calendar: Calendar,
    end: Time,
    problems: Vec<Diagnostic>,
}

impl<'a> Resolver<'a> {
    fn push(&mut self, severity: Severity, path: &str, message: String) {
        // A field left out (and defaulted) has no node: point at the item that lacks it.
        let loc = locate(self.root, path).or_else(|| Some(locate_nearest(self.root, path)));
        self.problems.push(Diagnostic {
            severity,
            loc,
            path: path.to_string(),
            message,
        });
    }

    /// An error at the key of a mapping entry (a timeline's date) rather than its value.
    fn err_at_key(&mut self, path: &str, message: impl Into<String>) {
        self.push_at_key(Severity::Error, path, message.into());
    }

    fn push_at_key(&mut self, severity: Severity, path: &str, message: String) {
        let loc = locate_key(self.root, path).or_else(|| Some(locate_nearest(self.root, path)));
        self.problems.push(Diagnostic {
            severity,
            loc,
            path: path.to_string(),
            message,
        });
    }

    fn err(&mut self, path: &str, message: impl Into<String>) {
        self.push(Severity::Error, path, message.into());
    }

    fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.push(Severity::Warning, path, message.into());
    }

    fn date(&mut self, path: &str, text: &str) -> Option<Time> {
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
    fn date_in_run(&mut self, path: &str, text: &str) -> Option<Time> {
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

    fn timeline(
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

    fn positive(&mut self, path: &str, v: f64) {
        if !(v > 0.0 && v.is_finite()) {
            self.err(
                path,
                format!("`{}` must be above 0; found {}", field(path), num(v)),
            );
        }
    }

    /// A duration of at least `min` days and at most [`MAX_DAYS_FIELD`].
    fn days_between(&mut self, path: &str, v: f64, min: f64) {
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
    fn whole_days(&mut self, path: &str, v: u32, min: u32) {
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

    fn non_negative(&mut self, path: &str, v: f64) {
        if !(v >= 0.0 && v.is_finite()) {
            self.err(
                path,
                format!("`{}` must be 0 or more; found {}", field(path), num(v)),
            );
        }
    }

    fn fraction(&mut self, path: &str, v: f64) {
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
    fn lookup(&mut self, path: &str, kind: &str, name: &str, names: &[&str]) -> Option<usize> {
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
    fn lookup_key(&mut self, path: &str, kind: &str, name: &str, names: &[&str]) -> Option<usize> {
        let found = self.lookup(path, kind, name, names);
        if found.is_none()
            && let Some(d) = self.problems.last_mut()
            && let Some(loc) = locate_key(self.root, path)
        {
            d.loc = Some(loc);
        }
        found
    }

    fn unique(&mut self, section: &str, names: &[&str]) {
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

    fn noise(&mut self, path: &str, raw: &Option<RawNoise>) -> Option<Noise> {
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

    fn outages(&mut self, path: &str, raw: &Option<RawOutages>) -> Option<Outages> {
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

    fn slip(&mut self, path: &str, raw: &Option<Quantity>) -> Option<Quantity> {
        let q = raw.as_ref()?;
        if let Quantity::Fixed(d) = q {
            self.non_negative(path, *d);
        }
        Some(*q)
    }

    fn growth(&mut self, path: &str, raw: &RawGrowth) -> Option<Growth> {
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

/// Why `name` cannot name a scenario, product, segment or other item, if it cannot. Names
/// become folder names, CSV column headers (`users[chat]`) and chart labels, so they hold
/// only printable characters: no control character, no bidirectional control or zero-width
/// character (which make a name display as another), no slash look-alike; and they do not
/// start with `=`, `+`, `-` or `@`, which a spreadsheet opening a CSV runs as a formula.
pub fn name_problem(name: &str) -> Option<String> {
    let hidden = |c: char| {
        matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{061C}'
                | '\u{FEFF}'
                | '\u{00AD}'
        )
    };
    let slash = |c: char| {
        matches!(
            c,
            '\u{FF0F}' | '\u{FF3C}' | '\u{2215}' | '\u{2044}' | '\u{29F8}'
        )
    };
    if let Some(c) = name.chars().find(|&c| c.is_control() || hidden(c)) {
        return Some(format!(
            "a name may hold only printable characters; `{}` holds U+{:04X} (a control, \
             bidirectional or zero-width character, which makes a name display as another)",
            name.escape_default(),
            c as u32
        ));
    }
    if let Some(c) = name.chars().find(|&c| slash(c)) {
        return Some(format!(
            "a name may not hold U+{:04X}, which looks like a slash",
            c as u32
        ));
    }
    if let Some(c) = name
        .chars()
        .next()
        .filter(|c| matches!(c, '=' | '+' | '-' | '@'))
    {
        return Some(format!(
            "a name may not start with `{c}`: a spreadsheet opening the CSV outputs would run \
             it as a formula"
        ));
    }
    None
}

/// Largest magnitude of any number in a scenario: 1e15 (a quadrillion: far above any count,
/// price or budget of the domain, and far enough below `f64::MAX` that sums and products of
/// a few such values over a run stay finite).
pub const MAX_MAGNITUDE: f64 = 1e15;
/// Smallest magnitude of a number that is not 0: 1e-12 (no rate, share or size of the domain
/// is this small; below it, dividing by the value overflows a run's sums).
pub const MIN_MAGNITUDE: f64 = 1e-12;

/// Every number of the tree is finite, 0 or of magnitude between [`MIN_MAGNITUDE`] and
/// [`MAX_MAGNITUDE`] (`seed` excepted: any `u64`). Field checks then narrow the range; this
/// one keeps `inf`, `.nan`, `1e308` and subnormals out of every field, including those whose
/// own check would let them through, so no output can hold a non-finite value.
fn check_magnitudes(node: &Node, path: &str, out: &mut Vec<Diagnostic>) {
    use super::yaml::Value;
    let v = match &node.value {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                check_magnitudes(item, &super::yaml::item_path(path, i), out);
            }
            return;
        }
        Value::Map(entries) => {
            for (k, child) in entries {
                let p = child_path(path, &k.name);
                if p != "seed" {
                    check_magnitudes(child, &p, out);
                }
            }
            return;
        }
        _ => return,
    };
    if v == 0.0 || (MIN_MAGNITUDE..=MAX_MAGNITUDE).contains(&v.abs()) {
        return;
    }
    let what = if !v.is_finite() {
        format!("found {v}, which is not a finite number")
    } else if v.abs() > MAX_MAGNITUDE {
        format!("found {}, more than 1e15 in magnitude", num(v))
    } else {
        format!(
            "found {}, less than 1e-12 in magnitude (write 0 for nothing)",
            num(v)
        )
    };
    out.push(
        Diagnostic::error(format!(
            "every number in a scenario is 0 or between 1e-12 and 1e15 in magnitude; {what}"
        ))
        .at(node.loc)
        .with_path(path),
    );
}

/// Resolves `raw` (deserialised from the merged tree `root`) into a [`Scenario`].
///
/// Returns the scenario and its warnings, or every problem found (errors and warnings).
pub fn resolve(
    raw: &RawScenario,
    root: &Node,
) -> Result<(Scenario, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut problems = Vec::new();
    check_magnitudes(root, "", &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let start = parse_or_push(&mut problems, root, "start", &raw.start);
    // `end: 2025-12` means the whole of December: the last day of the month.
    let end = parse_or_push(&mut problems, root, "end", &raw.end).map(|d| {
        if raw.end.trim().len() == 7 {
            last_of_month(d)
        } else {
            d
        }
    });
    let (Some(start), Some(end_date)) = (start, end) else {
        return Err(problems);
    };
    let calendar = Calendar::new(start);
    let end = calendar.tick(end_date);
    let mut r = Resolver {
        root,
        calendar,
        end,
        problems,
    };
    if end < 1 {
        r.err(
            "end",
            format!("end {end_date} must come after start {start}"),
        );
        return Err(r.problems);
    }
    if end > 365 * 50 {
        r.err(
            "end",
            "a run longer than 50 years is refused; check the dates",
        );
        return Err(r.problems);
    }
    if raw.name.trim().is_empty() {
        r.err(
            "name",
            "the scenario needs a name (it names the output folder)",
        );
    } else if raw.name == "." || raw.name == ".." {
        r.err("name", "`.` and `..` cannot name an output folder");
    } else if let Some(why) = name_problem(&raw.name) {
        r.err("name", why);
    } else if raw
        .name
        .chars()
        .any(|c| matches!(c, '/' | '\\' | ':' | '\0') || c.is_control())
    {
        r.err(
            "name",
            "a name may not contain / \\ : or control characters (it names the output folder)",
        );
    }

    let line_names: Vec<&str> = raw
        .supply
        .packaging_lines
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    let logic_names: Vec<&str> = raw.supply.logic.iter().map(|l| l.name.as_str()).collect();
    let product_names: Vec<&str> = raw.products.iter().map(|p| p.name.as_str()).collect();
    let vendor_names: Vec<&str> = raw.vendors.iter().map(|v| v.name.as_str()).collect();
    let buyer_names: Vec<&str> = raw.buyers.iter().map(|b| b.name.as_str()).collect();
    let site_names: Vec<&str> = raw.sites.iter().map(|s| s.name.as_str()).collect();
    let segment_names: Vec<&str> = raw.segments.iter().map(|s| s.name.as_str()).collect();
    r.unique("supply.packaging_lines", &line_names);
    r.unique("supply.logic", &logic_names);
    r.unique("products", &product_names);
    r.unique("vendors", &vendor_names);
    r.unique("buyers", &buyer_names);
    r.unique("sites", &site_names);
    r.unique("segments", &segment_names);
    if raw.products.is_empty() {
        r.err("products", "a scenario needs at least one product");
    }
    if raw.buyers.is_empty() {
        r.err("buyers", "a scenario needs at least one buyer");
    }

    // Supply.
    let mut lines = Vec::new();
    for (i, l) in raw.supply.packaging_lines.iter().enumerate() {
        let p = format!("supply.packaging_lines[{i}]");
        let cap = r.timeline(
            &format!("{p}.capacity_wafers_per_month"),
            &l.capacity_wafers_per_month,
            Interpolation::Step,
            0.0,
        );
        let split = match l.split {
            RawSplit::Shares => {
                if !l.priority.is_empty() {
                    r.err(
                        &format!("{p}.priority"),
                        "`priority` is only used with `split: priority`",
                    );
                }
                Split::Shares
            }
            RawSplit::Priority => {
                let mut order = Vec::new();
                for (j, name) in l.priority.iter().enumerate() {
                    if let Some(k) = r.lookup(
                        &format!("{p}.priority[{j}]"),
                        "product",
                        name,
                        &product_names,
                    ) {
                        order.push(k);
                    }
                }
                Split::Priority(order)
            }
        };
        let outages = r.outages(&format!("{p}.outages"), &l.outages);
        let expansion_slip_days =
            r.slip(&format!("{p}.expansion_slip_days"), &l.expansion_slip_days);
        r.fraction(&format!("{p}.reserved_share"), l.reserved_share);
        if l.reserved_share >= 1.0 {
            r.err(
                &format!("{p}.reserved_share"),
                "a line wholly reserved for products outside the scenario makes nothing here; \
                 use a share below 1",
            );
        }
        r.days_between(
            &format!("{p}.reallocation_lag_days"),
            l.reallocation_lag_days,
            0.0,
        );
        lines.push(Line {
            name: l.name.clone(),
            capacity_wafers_per_month: cap.unwrap_or_else(|| Timeline::constant(0.0)),
            split,
            products: Vec::new(),
            outages,
            expansion_slip_days,
            reserved_share: l.reserved_share,
            reallocation_lag_days: l.reallocation_lag_days,
        });
    }
    let hbm = raw.supply.hbm.as_ref().and_then(|h| {
        r.timeline(
            "supply.hbm.stacks_per_month",
            &h.stacks_per_month,
            Interpolation::Step,
            0.0,
        )
    });
    r.fraction("warm_start_utilisation", raw.warm_start_utilisation);
    let hbm_expansion_slip_days = match &raw.supply.hbm {
        Some(h) => r.slip("supply.hbm.expansion_slip_days", &h.expansion_slip_days),
        None => None,
    };
    let mut logic = Vec::new();
    for (i, l) in raw.supply.logic.iter().enumerate() {
        let tl = r.timeline(
            &format!("supply.logic[{i}].wafers_per_month"),
            &l.wafers_per_month,
            Interpolation::Step,
            0.0,
        );
        let p = format!("supply.logic[{i}]");
        let outages = r.outages(&format!("{p}.outages"), &l.outages);
        let expansion_slip_days =
            r.slip(&format!("{p}.expansion_slip_days"), &l.expansion_slip_days);
        logic.push(Logic {
            name: l.name.clone(),
            wafers_per_month: tl.unwrap_or_else(|| Timeline::constant(0.0)),
            outages,
            expansion_slip_days,
        });
    }

    // Vendors.
    let mut vendors = Vec::new();
    for (i, v) in raw.vendors.iter().enumerate() {
        r.whole_days(&format!("vendors[{i}].shipping_days"), v.shipping_days, 0);
        let p = format!("vendors[{i}]");
        r.positive(
            &format!("{p}.normal_lead_time_days"),
            v.normal_lead_time_days,
        );
        r.non_negative(&format!("{p}.price_elasticity"), v.price_elasticity);
        if v.max_price_multiple.is_nan() || v.max_price_multiple < 1.0 {
            r.err(
                &format!("{p}.max_price_multiple"),
                format!(
                    "must be at least 1 (a multiple of list price); found {}",
                    num(v.max_price_multiple)
                ),
            );
        }
        if v.booking_window_days == 0 || v.booking_window_days > MAX_DAYS_FIELD {
            r.err(
                &format!("{p}.booking_window_days"),
                format!(
                    "must be between 1 and {MAX_DAYS_FIELD} days; found {}",
                    v.booking_window_days
                ),
            );
        }
        r.days_between(&format!("{p}.history_days"), v.history_days, 1.0);
        let pp = format!("{p}.plan");
        r.days_between(
            &format!("{pp}.order_smoothing_days"),
            v.plan.order_smoothing_days,
            1.0,
        );
        r.days_between(
            &format!("{pp}.inventory_cover_days"),
            v.plan.inventory_cover_days,
            0.0,
        );
        r.days_between(&format!("{pp}.adjust_days"), v.plan.adjust_days, 1.0);
        r.fraction(&format!("{pp}.min_capacity_use"), v.plan.min_capacity_use);
        vendors.push(Vendor {
            booking_window_days: v.booking_window_days.clamp(1, MAX_DAYS_FIELD) as Time,
            history_days: v.history_days,
            plan: Plan {
                order_smoothing_days: v.plan.order_smoothing_days,
                inventory_cover_days: v.plan.inventory_cover_days,
                adjust_days: v.plan.adjust_days,
                min_capacity_use: v.plan.min_capacity_use,
            },
            name: v.name.clone(),
            allocation: match v.allocation {
                RawAllocation::ProRata => Allocation::ProRata,
                RawAllocation::Priority => Allocation::Priority,
                RawAllocation::Floors => Allocation::Floors,
                RawAllocation::TurnAndEarn => Allocation::TurnAndEarn,
            },
            shipping_days: v.shipping_days as Time,
            normal_lead_time_days: v.normal_lead_time_days,
            price_elasticity: v.price_elasticity,
            max_price_multiple: v.max_price_multiple,
        });
    }

    // Products.
    let mut products = Vec::new();
    for (i, pr) in raw.products.iter().enumerate() {
        let p = format!("products[{i}]");
        let vendor = r.lookup(&format!("{p}.vendor"), "vendor", &pr.vendor, &vendor_names);
        let line = match &pr.packaging_line {
            Some(name) => r.lookup(
                &format!("{p}.packaging_line"),
                "packaging line",
                name,
                &line_names,
            ),
            None => None,
        };
        if let Some(l) = line {
            lines[l].products.push(i);
        }
        let mut packages_per_wafer = 0.0;
        match (&pr.packaging_line, pr.packages_per_wafer, &pr.units_per_month) {
            (Some(_), Some(ppw), None) => {
                r.positive(&format!("{p}.packages_per_wafer"), ppw);
                if ppw > 1000.0 {
                    r.warn(&format!("{p}.packages_per_wafer"), format!("{} packages per wafer is far above any CoWoS product (H100 ~29); check the unit", num(ppw)));
                }
                packages_per_wafer = ppw;
            }
            (Some(_), None, _) => r.err(
                &format!("{p}.packages_per_wafer"),
                "a product on a packaging line needs `packages_per_wafer`",
            ),
            (Some(_), Some(_), Some(_)) => r.err(
                &format!("{p}.units_per_month"),
                "`units_per_month` is for products without a `packaging_line`; give one or the other",
            ),
            (None, _, None) => r.err(
                &p,
                "a product needs either `packaging_line` (with `packages_per_wafer`) or `units_per_month`",
            ),
            (None, _, Some(_)) => {}
        }
        let packaging_yield = r.timeline(
            &format!("{p}.packaging_yield"),
            &pr.packaging_yield,
            Interpolation::Linear,
            0.0,
        );
        if let Some(y) = &packaging_yield
            && (y.range().0 <= 0.0 || y.range().1 > 1.0)
        {
            let (lo, hi) = y.range();
            let found = if lo == hi {
                num(lo)
            } else {
                format!("values from {} to {}", num(lo), num(hi))
            };
            let bad = if hi > 1.0 { hi } else { lo };
            r.err(
                &format!("{p}.packaging_yield"),
                format!(
                    "a yield is a share above 0 and at most 1; found {found}{}",
                    percent_hint(bad)
                ),
            );
        }
        r.non_negative(&format!("{p}.hbm_stacks"), pr.hbm_stacks);
        if pr.hbm_stacks > 32.0 {
            r.warn(
                &format!("{p}.hbm_stacks"),
                format!(
                    "{} HBM stacks per package is more than any product carries (B200: 8)",
                    num(pr.hbm_stacks)
                ),
            );
        }
        let plogic = match &pr.logic {
            Some(pl) => {
                let lp = format!("{p}.logic");
                r.positive(&format!("{lp}.dies_per_wafer"), pl.dies_per_wafer);
                if !(pl.yield_ > 0.0 && pl.yield_ <= 1.0) {
                    r.err(
                        &format!("{lp}.yield"),
                        format!(
                            "a yield is a share above 0 and at most 1; found {}{}",
                            num(pl.yield_),
                            percent_hint(pl.yield_)
                        ),
                    );
                }
                r.lookup(
                    &format!("{lp}.process"),
                    "logic process",
                    &pl.process,
                    &logic_names,
                )
                .map(|process| ProductLogic {
                    process,
                    good_dies_per_wafer: pl.dies_per_wafer * pl.yield_,
                })
            }
            None => None,
        };
        let upm = pr.units_per_month.as_ref().and_then(|tl| {
            r.timeline(
                &format!("{p}.units_per_month"),
                tl,
                Interpolation::Step,
                0.0,
            )
        });
        r.positive(&format!("{p}.h100_equivalents"), pr.h100_equivalents);
        if pr.h100_equivalents > 100.0 {
            r.warn(
                &format!("{p}.h100_equivalents"),
                format!(
                    "{} H100-equivalents per unit is unusual; the field is relative to one H100",
                    num(pr.h100_equivalents)
                ),
            );
        }
        r.positive(&format!("{p}.power_w"), pr.power_w);
        if pr.power_w > 0.0 && pr.power_w < 20.0 {
            r.warn(&format!("{p}.power_w"), format!("{} W is very low for an accelerator; is it in kW? The field is in watts (H100: 700)", num(pr.power_w)));
        }
        if pr.power_w > 5000.0 && pr.packaging_line.is_some() {
            r.warn(
                &format!("{p}.power_w"),
                format!(
                    "{} W per package is far above any GPU (B200: 1000 W); `power_w` is one \
                     unit's power in watts, not a server's or a rack's",
                    num(pr.power_w)
                ),
            );
        }
        let price = r.timeline(
            &format!("{p}.price_usd"),
            &pr.price_usd,
            Interpolation::Step,
            0.0,
        );
        if let Some(pt) = &price
            && pt.range().1 > 0.0
            && pt.range().1 < 100.0
        {
            r.warn(
                &format!("{p}.price_usd"),
                format!(
                    "{} USD is below any accelerator's price; `price_usd` is in US dollars per \
                     unit, not thousands (H100: about 30000)",
                    num(pt.range().1)
                ),
            );
        }
        let available = match &pr.available {
            Some(d) => r.date(&format!("{p}.available"), d).unwrap_or(0),
            None => 0,
        };
        if available > r.end {
            r.warn(
                &format!("{p}.available"),
                format!(
                    "`{}` becomes available after the run ends ({}); it is never produced",
                    pr.name,
                    r.calendar.date(r.end)
                ),
            );
        }
        let line_share = match &pr.line_share {
            Some(tl) => r.timeline(&format!("{p}.line_share"), tl, Interpolation::Step, 0.0),
            None => Some(Timeline::constant(1.0)),
        };
        if let Some(ls) = &line_share
            && ls.range().1 > 1.0
        {
            r.err(
                &format!("{p}.line_share"),
                "a line share is a share of the line's wafers, at most 1",
            );
        }
        if pr.line_share.is_some() && pr.packaging_line.is_none() {
            r.err(
                &format!("{p}.line_share"),
                "`line_share` needs a `packaging_line`",
            );
        }
        r.fraction(&format!("{p}.annual_failure_rate"), pr.annual_failure_rate);
        r.positive(&format!("{p}.lifetime_years"), pr.lifetime_years);
        if pr.lifetime_years > MAX_LIFETIME_YEARS {
            r.err(
                &format!("{p}.lifetime_years"),
                format!(
                    "`lifetime_years` must be at most {MAX_LIFETIME_YEARS}; found {}",
                    num(pr.lifetime_years)
                ),
            );
        }
        r.whole_days(&format!("{p}.cycle_time_days"), pr.cycle_time_days, 0);
        let yield_noise = r.noise(&format!("{p}.yield_noise"), &pr.yield_noise);
        products.push(Product {
            name: pr.name.clone(),
            vendor: vendor.unwrap_or(0),
            line,
            packages_per_wafer,
            packaging_yield: packaging_yield.unwrap_or_else(|| Timeline::constant(1.0)),
            hbm_stacks: pr.hbm_stacks,
            logic: plogic,
            units_per_month: upm,
            h100e: pr.h100_equivalents,
            power_w: pr.power_w,
            price_usd: price.unwrap_or_else(|| Timeline::constant(0.0)),
            available,
            cycle_time_days: pr.cycle_time_days as Time,
            line_share: line_share.unwrap_or_else(|| Timeline::constant(0.0)),
            failure_rate_per_day: pr.annual_failure_rate / 365.0,
            lifetime_days: (pr.lifetime_years * 365.0).round().max(1.0) as Time,
            yield_noise,
        });
    }
    for (i, l) in raw.supply.packaging_lines.iter().enumerate() {
        if let Split::Priority(order) = &lines[i].split {
            for (j, &k) in order.iter().enumerate() {
                if products[k].line != Some(i) {
                    r.err(
                        &format!("supply.packaging_lines[{i}].priority[{j}]"),
                        format!(
                            "product `{}` is not packaged on line `{}`",
                            product_names[k], l.name
                        ),
                    );
                }
                if order[..j].contains(&k) {
                    r.err(
                        &format!("supply.packaging_lines[{i}].priority[{j}]"),
                        format!("product `{}` is listed twice", product_names[k]),
                    );
                }
            }
            for &k in &lines[i].products {
                if !order.contains(&k) {
                    r.err(
                        &format!("supply.packaging_lines[{i}].priority"),
                        format!(
                            "product `{}` is on line `{}` but missing from its priority list",
                            product_names[k], l.name
                        ),
                    );
                }
            }
        }
        // A product whose line name is unknown already has an error; "no product uses" the
        // line it meant would only repeat it.
        let unresolved = raw.products.iter().any(|pr| {
            pr.packaging_line
                .as_ref()
                .is_some_and(|n| !line_names.contains(&n.as_str()))
        });
        if lines[i].products.is_empty() && !unresolved {
            r.warn(
                &format!("supply.packaging_lines[{i}]"),
                format!("no product uses line `{}`", l.name),
            );
        }
    }

    // Feasibility: can HBM feed the packaging lines at the start?
    if let Some(h) = &hbm {
        let need: f64 = lines
            .iter()
            .map(|l| {
                let cap = l.capacity_wafers_per_month.at(0);
                let n = l.products.len().max(1) as f64;
                l.products
                    .iter()
                    .map(|&k| cap / n * products[k].units_per_wafer(0) * products[k].hbm_stacks)
                    .sum::<f64>()
            })
            .sum();
        let have = h.at(0);
        if need > 0.0 && have < 0.5 * need {
            r.warn(
                "supply.hbm.stacks_per_month",
                format!(
                    "HBM supply at the start ({have:.0} stacks/month) is less than half of what \
                     the packaging lines could use ({need:.0}: wafers x packages_per_wafer x \
                     packaging_yield x hbm_stacks); HBM will bind and packaging capacity go \
                     unused. Check that `stacks_per_month` is per month and each product's \
                     `hbm_stacks`"
                ),
            );
        }
    }

    // Buyers.
    let mut buyers = Vec::new();
    let mut operator = None;
    for (i, b) in raw.buyers.iter().enumerate() {
        let p = format!("buyers[{i}]");
        let kind = match (b.kind, &b.demand_h100e) {
            (RawBuyerKind::Operator, None) => {
                if let Some(o) = operator {
                    r.err(
                        &format!("{p}.kind"),
                        format!(
                            "only one buyer can be the operator; `{}` already is",
                            buyer_names[o]
                        ),
                    );
                }
                operator = Some(i);
                BuyerKind::Operator
            }
            (RawBuyerKind::Operator, Some(_)) => {
                r.err(&format!("{p}.demand_h100e"), "the operator's demand comes from its segments; remove `demand_h100e` or make it a competitor");
                BuyerKind::Operator
            }
            (RawBuyerKind::Competitor, Some(g)) => BuyerKind::Competitor(
                r.growth(&format!("{p}.demand_h100e"), g)
                    .unwrap_or(Growth::Timeline(Timeline::constant(0.0))),
            ),
            (RawBuyerKind::Competitor, None) => {
                let no_operator = !raw.buyers.iter().any(|b| b.kind == RawBuyerKind::Operator);
                let hint = if no_operator && !raw.segments.is_empty() {
                    format!(
                        "; if `{}` is the operator whose segments make its demand, add \
                         `kind: operator`",
                        b.name
                    )
                } else {
                    String::new()
                };
                r.err(
                    &format!("{p}.demand_h100e"),
                    format!(
                        "a competitor needs `demand_h100e` (the fleet it wants, in \
                         H100-equivalents){hint}"
                    ),
                );
                BuyerKind::Competitor(Growth::Timeline(Timeline::constant(0.0)))
            }
        };
        r.whole_days(&format!("{p}.review_every_days"), b.review_every_days, 1);
        let mut mix = Vec::new();
        let mut total = Some(0.0);
        let mut terms = Vec::new();
        for (name, share) in &b.products {
            let mp = child_path(&format!("{p}.products"), name);
            total = total.zip(share.constant()).map(|(a, b)| a + b);
            if let Some(v) = share.constant() {
                terms.push(format!("{name} {}", num(v)));
            }
            let tl = r.timeline(&mp, share, Interpolation::Step, 0.0);
            if let Some(tl) = &tl
                && tl.range().1 > 1.0
            {
                r.err(
                    &mp,
                    format!(
                        "a share is at most 1; found {}{}",
                        num(tl.range().1),
                        percent_hint(tl.range().1)
                    ),
                );
            }
            if let (Some(k), Some(tl)) = (r.lookup_key(&mp, "product", name, &product_names), tl) {
                mix.push((k, tl));
            }
        }
        if b.products.is_empty() {
            r.err(
                &format!("{p}.products"),
                "a buyer needs a product mix, e.g. {H100: 1.0}",
            );
        } else if let Some(total) = total
            && (total - 1.0).abs() > 1e-6
        {
            let hint = if (total - 100.0).abs() < 1e-6 {
                "; write shares as fractions (60% is 0.6)".to_string()
            } else {
                format!(
                    "; scale them so they add up to 1 (each share divided by {})",
                    num(round6(total))
                )
            };
            r.err(
                &format!("{p}.products"),
                format!(
                    "product shares must sum to 1; they sum to {} ({}){hint}",
                    num(round6(total)),
                    terms.join(" + ")
                ),
            );
        }
        let budget = b.budget_usd_per_year.as_ref().and_then(|tl| {
            r.timeline(
                &format!("{p}.budget_usd_per_year"),
                tl,
                Interpolation::Step,
                0.0,
            )
        });
        r.non_negative(&format!("{p}.headroom"), b.headroom);
        r.whole_days(
            &format!("{p}.max_planning_horizon_days"),
            b.max_planning_horizon_days,
            1,
        );
        r.whole_days(
            &format!("{p}.forecast_window_days"),
            b.forecast_window_days,
            2,
        );
        let over_order = match &b.over_order {
            Some(o) if o.enabled => {
                r.non_negative(
                    &format!("{p}.over_order.above_lead_time_days"),
                    o.above_lead_time_days,
                );
                if !o.factor.is_finite() || o.factor < 1.0 {
                    r.err(
                        &format!("{p}.over_order.factor"),
                        format!(
                            "an over-order factor below 1 would under-order; found {}",
                            o.factor
                        ),
                    );
                }
                Some(OverOrder {
                    factor: o.factor,
                    above_lead_time_days: o.above_lead_time_days,
                })
            }
            _ => None,
        };
        let mut contracts = Vec::new();
        for (j, c) in b.contracts.iter().enumerate() {
            let cp = format!("{p}.contracts[{j}]");
            r.non_negative(&format!("{cp}.units_per_month"), c.units_per_month);
            if let Some(k) = r.lookup(
                &format!("{cp}.product"),
                "product",
                &c.product,
                &product_names,
            ) {
                if let Some(v) = raw.vendors.get(products[k].vendor)
                    && v.allocation != RawAllocation::Floors
                {
                    let rule = match v.allocation {
                        RawAllocation::ProRata => "pro_rata",
                        RawAllocation::Priority => "priority",
                        RawAllocation::Floors => "floors",
                        RawAllocation::TurnAndEarn => "turn_and_earn",
                    };
                    r.warn(
                        &format!("{cp}.product"),
                        format!("vendor `{}` allocates by `{rule}`; contracts only count under `allocation: floors`", v.name),
                    );
                }
                contracts.push((k, c.units_per_month * 12.0 / 365.0));
            }
        }
        let mut initial_fleet = Vec::new();
        for (name, units) in &b.initial_fleet {
            let fp = child_path(&format!("{p}.initial_fleet"), name);
            r.non_negative(&fp, *units);
            if *units > 1e10 {
                r.err(
                    &fp,
                    format!(
                        "{} units is more than were ever made; check the number",
                        num(*units)
                    ),
                );
            }
            if let Some(k) = r.lookup_key(&fp, "product", name, &product_names) {
                initial_fleet.push((k, units.max(0.0).round() as u64));
            }
        }
        let o = &b.ordering;
        let op = format!("{p}.ordering");
        r.days_between(&format!("{op}.stock_adjust_days"), o.stock_adjust_days, 1.0);
        r.days_between(
            &format!("{op}.supply_line_adjust_days"),
            o.supply_line_adjust_days,
            1.0,
        );
        r.days_between(
            &format!("{op}.lead_time_smoothing_days"),
            o.lead_time_smoothing_days,
            0.0,
        );
        if o.deploy_horizon_days > MAX_DAYS_FIELD {
            r.err(
                &format!("{op}.deploy_horizon_days"),
                format!(
                    "must be at most {MAX_DAYS_FIELD} days; found {}",
                    o.deploy_horizon_days
                ),
            );
        }
        let review_every = b.review_every_days.max(1);
        if let Some(off) = o.review_offset_days
            && off >= review_every
        {
            r.err(
                &format!("{op}.review_offset_days"),
                format!("must be less than review_every_days ({review_every}); found {off}"),
            );
        }
        let phantom = o.phantom_orders.as_ref().map(|ph| {
            r.non_negative(&format!("{op}.phantom_orders.slope"), ph.slope);
            if !(ph.max_multiple >= 1.0 && ph.max_multiple <= 100.0) {
                r.err(
                    &format!("{op}.phantom_orders.max_multiple"),
                    format!(
                        "a multiple of firm orders, between 1 and 100; found {}",
                        num(ph.max_multiple)
                    ),
                );
            }
            (ph.slope, ph.max_multiple)
        });
        if o.cancel.non_cancellable_days > MAX_DAYS_FIELD {
            r.err(
                &format!("{op}.cancel.non_cancellable_days"),
                format!(
                    "must be at most {MAX_DAYS_FIELD} days; found {}",
                    o.cancel.non_cancellable_days
                ),
            );
        }
        // Reviews spread evenly over one period, in file order, unless given.
        let offset = o.review_offset_days.unwrap_or_else(|| {
            (i as u64 * review_every as u64 / raw.buyers.len().max(1) as u64) as u32
        });
        let ordering = Ordering {
            stock_adjust_days: o.stock_adjust_days,
            supply_line_adjust_days: o.supply_line_adjust_days,
            lead_time_smoothing_days: o.lead_time_smoothing_days,
            deploy_horizon_days: o.deploy_horizon_days.min(MAX_DAYS_FIELD) as Time,
            review_offset_days: offset.min(review_every.saturating_sub(1)) as Time,
            phantom,
            cancel_outside_days: o
                .cancel
                .enabled
                .then_some(o.cancel.non_cancellable_days.min(MAX_DAYS_FIELD) as Time),
        };
        buyers.push(Buyer {
            ordering,
            name: b.name.clone(),
            kind,
            region: b.region.clone(),
            priority: b.priority,
            review_every_days: b.review_every_days.max(1) as Time,
            mix,
            budget_usd_per_year: budget,
            headroom: b.headroom,
            forecast_window_days: b.forecast_window_days.max(2) as Time,
            max_planning_horizon_days: b.max_planning_horizon_days as Time,
            lead_time_substitution: b.lead_time_substitution,
            over_order,
            contracts,
            initial_fleet,
        });
    }

    // Sites.
    let mut sites = Vec::new();
    for (i, s) in raw.sites.iter().enumerate() {
        let p = format!("sites[{i}]");
        let owner = r.lookup(&format!("{p}.owner"), "buyer", &s.owner, &buyer_names);
        let mw = s
            .megawatts
            .as_ref()
            .and_then(|tl| r.timeline(&format!("{p}.megawatts"), tl, Interpolation::Step, 0.0));
        if s.megawatts.is_none() && s.builds.is_empty() {
            r.err(&p, "a site needs `megawatts` or `builds`");
        }
        let mut builds = Vec::new();
        for (j, b) in s.builds.iter().enumerate() {
            let bp = format!("{p}.builds[{j}]");
            r.positive(&format!("{bp}.megawatts"), b.megawatts);
            if b.months > MAX_BUILD_MONTHS {
                r.err(
                    &format!("{bp}.months"),
                    format!(
                        "`months` must be at most {MAX_BUILD_MONTHS} (30 years); found {}",
                        b.months
                    ),
                );
            }
            if let Some(t) = r.date(&format!("{bp}.start"), &b.start) {
                let online = r
                    .calendar
                    .date(t)
                    .checked_add_months(chrono::Months::new(b.months));
                if let Some(d) = online {
                    builds.push((r.calendar.tick(d), b.megawatts));
                }
            }
        }
        let peak =
            mw.as_ref().map_or(0.0, |tl| tl.range().1) + builds.iter().map(|b| b.1).sum::<f64>();
        // Point at the power the site states, or at the site when it only has builds.
        let power_path = if s.megawatts.is_some() {
            format!("{p}.megawatts")
        } else {
            p.clone()
        };
        if peak > 0.0 && peak < 0.1 {
            r.warn(
                &power_path,
                format!(
                    "site `{}` peaks at {} MW, less than one rack; power is in megawatts: a \
                     50 MW site is `megawatts: 50`",
                    s.name,
                    num(peak)
                ),
            );
        }
        if peak > 20_000.0 {
            r.warn(
                &power_path,
                format!(
                    "site `{}` peaks at {} MW, more than any datacenter campus; power is in \
                     megawatts, not kilowatts",
                    s.name,
                    num(peak)
                ),
            );
        }
        if !(1.0..=3.0).contains(&s.pue) {
            r.err(
                &format!("{p}.pue"),
                format!(
                    "PUE is facility power over IT power, between 1 and 3; found {}",
                    num(s.pue)
                ),
            );
        }
        if !(1.0..=5.0).contains(&s.server_overhead) {
            r.err(&format!("{p}.server_overhead"), format!("server overhead is all server power per watt of chip power, between 1 and 5; found {}", num(s.server_overhead)));
        }
        r.non_negative(&format!("{p}.capex_usd_per_mw"), s.capex_usd_per_mw);
        r.whole_days(&format!("{p}.install_delay_days"), s.install_delay_days, 0);
        let expansion_slip_days =
            r.slip(&format!("{p}.expansion_slip_days"), &s.expansion_slip_days);
        sites.push(Site {
            name: s.name.clone(),
            owner: owner.unwrap_or(0),
            megawatts: mw,
            builds,
            watts_per_chip_watt: s.pue * s.server_overhead,
            install_delay_days: s.install_delay_days as Time,
            capex_usd_per_mw: s.capex_usd_per_mw,
            expansion_slip_days,
        });
    }

    // Segments.
    if !raw.segments.is_empty() && operator.is_none() {
        r.err(
            "segments",
            "segments need a buyer with `kind: operator` to serve them",
        );
    }
    let mut segments = Vec::new();
    for (i, s) in raw.segments.iter().enumerate() {
        let p = format!("segments[{i}]");
        let growth = r.growth(&format!("{p}.growth"), &s.growth);
        r.fraction(&format!("{p}.churn_per_month"), s.churn_per_month);
        let qpd = r.timeline(
            &format!("{p}.queries_per_user_per_day"),
            &s.queries_per_user_per_day,
            Interpolation::Linear,
            0.0,
        );
        let tpq = r.timeline(
            &format!("{p}.tokens_per_query"),
            &s.tokens_per_query,
            Interpolation::Linear,
            0.0,
        );
        let cpt = r.timeline(
            &format!("{p}.h100_seconds_per_1k_tokens"),
            &s.h100_seconds_per_1k_tokens,
            Interpolation::Linear,
            0.0,
        );
        if !s.peak_factor.is_finite() || s.peak_factor < 1.0 {
            r.err(
                &format!("{p}.peak_factor"),
                format!(
                    "peak-to-average is at least 1; found {}",
                    num(s.peak_factor)
                ),
            );
        }
        let revenue = r.timeline(
            &format!("{p}.revenue_per_user_per_month"),
            &s.revenue_per_user_per_month,
            Interpolation::Step,
            0.0,
        );
        let pause = s.pause.as_ref().map(|pz| {
            let pp = format!("{p}.pause");
            r.positive(&format!("{pp}.pause_above"), pz.pause_above);
            r.positive(&format!("{pp}.resume_below"), pz.resume_below);
            if pz.resume_below > pz.pause_above {
                r.err(&format!("{pp}.resume_below"), format!("resume_below ({}) must not exceed pause_above ({}), or the policy would flap", pz.resume_below, pz.pause_above));
            }
            r.whole_days(&format!("{pp}.pause_after_days"), pz.pause_after_days, 1);
            r.whole_days(&format!("{pp}.resume_after_days"), pz.resume_after_days, 1);
            r.whole_days(&format!("{pp}.min_pause_days"), pz.min_pause_days, 0);
            let waitlist = pz.waitlist.as_ref().map(|w| {
                r.fraction(&format!("{pp}.waitlist.conversion_per_day"), w.conversion_per_day);
                r.fraction(&format!("{pp}.waitlist.dropout_per_day"), w.dropout_per_day);
                (w.conversion_per_day, w.dropout_per_day)
            });
            Pause {
                relievable: match pz.watch {
                    Some(w) => w == RawWatch::Relievable,
                    None => raw.market == RawMarket::StockManagement,
                },
                pause_above: pz.pause_above,
                pause_after_days: pz.pause_after_days,
                resume_below: pz.resume_below,
                resume_after_days: pz.resume_after_days,
                min_pause_days: pz.min_pause_days,
                waitlist,
            }
        });
        let rate_limit = s.rate_limit.as_ref().map(|rl| {
            r.positive(
                &format!("{p}.rate_limit.max_queries_per_user_per_day"),
                rl.max_queries_per_user_per_day,
            );
            if let Some(a) = rl.active_above {
                r.positive(&format!("{p}.rate_limit.active_above"), a);
            }
            let inactive_below = match (rl.active_above, rl.inactive_below) {
                (Some(a), Some(b)) => {
                    r.positive(&format!("{p}.rate_limit.inactive_below"), b);
                    if b > a {
                        r.err(
                            &format!("{p}.rate_limit.inactive_below"),
                            format!("inactive_below ({}) must not exceed active_above ({}), or the limit would flap", num(b), num(a)),
                        );
                    }
                    b
                }
                (Some(a), None) => 0.9 * a,
                (None, Some(_)) => {
                    r.err(
                        &format!("{p}.rate_limit.inactive_below"),
                        "a limit that is always on never switches off; set `active_above` too",
                    );
                    0.0
                }
                (None, None) => 0.0,
            };
            if rl.switch_days == 0 || rl.switch_days > MAX_DAYS_FIELD {
                r.err(
                    &format!("{p}.rate_limit.switch_days"),
                    format!("must be between 1 and {MAX_DAYS_FIELD} days; found {}", rl.switch_days),
                );
            }
            RateLimit {
                max_queries_per_user_per_day: rl.max_queries_per_user_per_day,
                active_above: rl.active_above,
                inactive_below,
                switch_days: rl.switch_days.max(1),
            }
        });
        let shortage_churn = s.shortage_churn.as_ref().map(|sc| {
            r.fraction(
                &format!("{p}.shortage_churn.extra_churn_per_month"),
                sc.extra_churn_per_month,
            );
            r.whole_days(
                &format!("{p}.shortage_churn.window_days"),
                sc.window_days,
                1,
            );
            ShortageChurn {
                extra_churn_per_day: sc.extra_churn_per_month * 12.0 / 365.0,
                window_days: sc.window_days.max(1) as usize,
            }
        });
        let demand_noise = r.noise(&format!("{p}.demand_noise"), &s.demand_noise);
        if let (Some(growth), Some(qpd), Some(tpq), Some(cpt)) = (growth, qpd, tpq, cpt) {
            segments.push(Segment {
                name: s.name.clone(),
                growth,
                churn_per_day: s.churn_per_month * 12.0 / 365.0,
                queries_per_user_per_day: qpd,
                tokens_per_query: tpq,
                h100_seconds_per_1k_tokens: cpt,
                peak_factor: s.peak_factor,
                revenue_per_user_per_month: revenue
                    .clone()
                    .unwrap_or_else(|| Timeline::constant(0.0)),
                priority: s.priority,
                pause,
                rate_limit,
                shortage_churn,
                demand_noise,
            });
        }
    }

    // Launches.
    let mut launches = Vec::new();
    for (i, l) in raw.launches.iter().enumerate() {
        let p = format!("launches[{i}]");
        let day = r.date_in_run(&format!("{p}.date"), &l.date);
        let mut segs = Vec::new();
        for (j, name) in l.segments.iter().enumerate() {
            if let Some(k) = r.lookup(
                &format!("{p}.segments[{j}]"),
                "segment",
                name,
                &segment_names,
            ) {
                segs.push(k);
            }
        }
        if l.segments.is_empty() {
            segs = (0..raw.segments.len()).collect();
        }
        r.non_negative(&format!("{p}.extra_signups"), l.extra_signups);
        r.non_negative(&format!("{p}.usage_uplift"), l.usage_uplift);
        r.positive(&format!("{p}.decay_days"), l.decay_days);
        r.days_between(&format!("{p}.ramp_days"), l.ramp_days, 0.0);
        if let Some(day) = day {
            launches.push(Launch {
                name: l.name.clone(),
                day,
                segments: segs,
                extra_signups: l.extra_signups,
                usage_uplift: l.usage_uplift,
                decay_days: l.decay_days,
                ramp_days: l.ramp_days,
            });
        }
    }

    // Export rules.
    let regions: Vec<&str> = raw
        .buyers
        .iter()
        .filter_map(|b| b.region.as_deref())
        .collect();
    let mut export_rules = Vec::new();
    for (i, e) in raw.export_rules.iter().enumerate() {
        let p = format!("export_rules[{i}]");
        let mut prods = Vec::new();
        for (j, name) in e.products.iter().enumerate() {
            if let Some(k) = r.lookup(
                &format!("{p}.products[{j}]"),
                "product",
                name,
                &product_names,
            ) {
                prods.push(k);
            }
        }
        if e.products.is_empty() {
            r.warn(
                &format!("{p}.products"),
                "the rule lists no products, so it changes nothing",
            );
        }
        if !regions.contains(&e.region.as_str()) {
            let mut msg = format!(
                "no buyer is in region `{}`, so the rule changes nothing",
                e.region
            );
            if let Some(s) = did_you_mean(&e.region, regions.iter().copied()) {
                msg.push_str(&format!("; did you mean `{s}`?"));
            }
            r.warn(&format!("{p}.region"), msg);
        }
        // A rule may already be in force when the run starts; one that starts after the end,
        // or ends before the start, changes nothing.
        let from = r.date(&format!("{p}.from"), &e.from);
        if let Some(f) = from
            && f > r.end
        {
            r.warn(
                &format!("{p}.from"),
                format!("{} is after the run's end; the rule has no effect", e.from),
            );
        }
        let until = e
            .until
            .as_ref()
            .and_then(|u| r.date(&format!("{p}.until"), u));
        if let (Some(f), Some(u)) = (from, until)
            && u < f
        {
            r.err(
                &format!("{p}.until"),
                format!(
                    "`until` {} comes before `from` {}; the rule would never be in force",
                    e.until.as_deref().unwrap_or(""),
                    e.from
                ),
            );
        }
        if let Some(u) = until
            && u < 0
        {
            r.warn(
                &format!("{p}.until"),
                "the rule ends before the run starts; it has no effect",
            );
        }
        if let Some(from) = from {
            export_rules.push(ExportRule {
                name: e.name.clone(),
                products: prods,
                region: e.region.clone(),
                from,
                until,
            });
        }
    }

    // Reservations.
    let mut reservations = Vec::new();
    for (i, res) in raw.reservations.iter().enumerate() {
        let p = format!("reservations[{i}]");
        let buyer = match &res.buyer {
            Some(b) => r.lookup(&format!("{p}.buyer"), "buyer", b, &buyer_names),
            None => {
                if operator.is_none() {
                    r.err(
                        &format!("{p}.buyer"),
                        "name the buyer whose fleet is reserved (there is no operator)",
                    );
                }
                operator
            }
        };
        let start = r.date(&format!("{p}.start"), &res.start);
        let end = r.date(&format!("{p}.end"), &res.end);
        r.non_negative(&format!("{p}.h100e"), res.h100e);
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            r.err(
                &format!("{p}.end"),
                format!(
                    "`end` {} comes before `start` {}; a reservation's `end` is its last day",
                    res.end, res.start
                ),
            );
        }
        if let Some(b) = buyer
            && Some(b) != operator
        {
            r.warn(
                &format!("{p}.buyer"),
                format!("`{}` is a competitor: reservations only hold back the operator's serving capacity, so this one only appears in the event log", buyer_names[b]),
            );
        }
        if let (Some(buyer), Some(start), Some(end)) = (buyer, start, end) {
            reservations.push(Reservation {
                name: res.name.clone(),
                buyer,
                start,
                end,
                h100e: res.h100e,
            });
        }
    }

    let power_price = r.timeline(
        "money.power_price_usd_per_mwh",
        &raw.money.power_price_usd_per_mwh,
        Interpolation::Step,
        0.0,
    );

    let segment_names_owned: Vec<&str> = segment_names.clone();
    let expect = resolve_expect(&mut r, raw, &product_names, &segment_names_owned);

    let (errors, warnings): (Vec<_>, Vec<_>) = std::mem::take(&mut r.problems)
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    if !errors.is_empty() {
        let mut all = errors;
        all.extend(warnings);
        return Err(all);
    }
    let scenario = Scenario {
        name: raw.name.clone(),
        description: raw.description.clone().unwrap_or_default(),
        calendar: r.calendar,
        days: end + 1,
        seed: raw.seed.unwrap_or(0),
        lines,
        hbm_stacks_per_month: hbm,
        logic,
        products,
        vendors,
        buyers,
        operator,
        sites,
        segments,
        launches,
        export_rules,
        reservations,
        power_price_usd_per_mwh: power_price.unwrap_or_else(|| Timeline::constant(0.0)),
        expect,
        hbm_expansion_slip_days,
        warm_start: raw.warm_start && raw.market == RawMarket::StockManagement,
        warm_start_utilisation: raw.warm_start_utilisation,
        market: match raw.market {
            RawMarket::Legacy => Market::Legacy,
            RawMarket::StockManagement => Market::StockManagement,
        },
    };
    Ok((scenario, warnings))
}

/// Keys of `summary.json` an assertion can test, by kind. Kept in step with
/// `model::Summary` (a test in `check.rs` compares them).
pub const SUMMARY_NUMBERS: &[&str] = &[
    "days",
    "shortage_days",
    "peak_unserved_share",
    "pause_days",
    "lost_signups",
    "lost_revenue_usd",
    "lost_revenue_pause_usd",
    "lost_revenue_churn_usd",
    "revenue_usd",
    "lead_time_peak_days",
    "capex_usd",
    "power_cost_usd",
    "fleet_end_h100e",
    "stranded_end",
    "realised_lead_time_peak_days",
    "orders_placed_units",
    "orders_cancelled_units",
    "phantom_share_peak",
];
/// Date-valued keys (or null).
pub const SUMMARY_DATES: &[&str] = &["first_shortage", "last_shortage", "lead_time_peak_date"];
/// Map-valued keys, reached with dotted paths, and what their keys name.
pub const SUMMARY_MAPS: &[(&str, &str)] = &[
    ("fleet_end", "product"),
    ("production_by_year", "product"),
    ("binding_constraint_days", "constraint"),
    ("users_end", "segment"),
    ("bullwhip_ratio", "product"),
];

/// Checks and resolves the `expect:` block.
fn resolve_expect(
    r: &mut Resolver,
    raw: &RawScenario,
    product_names: &[&str],
    segment_names: &[&str],
) -> Vec<Expect> {
    let mut out = Vec::new();
    let constraints = ["packaging", "hbm", "logic", "capacity", "demand", "none"];
    for (i, e) in raw.expect.iter().enumerate() {
        let p = format!("expect[{i}]");
        let target = match (&e.metric, &e.event) {
            (Some(m), None) => {
                let mut parts = m.split('.');
                let head = parts.next().unwrap_or_default();
                let rest: Vec<&str> = parts.collect();
                let known: Vec<&str> = SUMMARY_NUMBERS
                    .iter()
                    .chain(SUMMARY_DATES)
                    .copied()
                    .chain(SUMMARY_MAPS.iter().map(|m| m.0))
                    .collect();
                if let Some(&(_, names)) = SUMMARY_MAPS.iter().find(|m| m.0 == head) {
                    let ok = match (names, rest.as_slice()) {
                        ("product", [name]) if head == "fleet_end" || head == "bullwhip_ratio" => r
                            .lookup(&format!("{p}.metric"), "product", name, product_names)
                            .is_some(),
                        ("product", [name, year]) => {
                            let known = r
                                .lookup(&format!("{p}.metric"), "product", name, product_names)
                                .is_some();
                            if year.parse::<i32>().is_err() {
                                r.err(&format!("{p}.metric"), format!("`{year}` is not a year; write e.g. `production_by_year.{name}.2024`"));
                            }
                            known
                        }
                        ("constraint", [name]) => r
                            .lookup(&format!("{p}.metric"), "constraint", name, &constraints)
                            .is_some(),
                        ("segment", [name]) => r
                            .lookup(&format!("{p}.metric"), "segment", name, segment_names)
                            .is_some(),
                        _ => {
                            let example = match head {
                                "production_by_year" => "production_by_year.H100.2024",
                                "binding_constraint_days" => "binding_constraint_days.packaging",
                                "users_end" => "users_end.paid",
                                _ => "fleet_end.H100",
                            };
                            r.err(
                                &format!("{p}.metric"),
                                format!("`{head}` is a map: name an entry, e.g. `{example}`"),
                            );
                            false
                        }
                    };
                    if !ok {
                        continue;
                    }
                } else if !known.contains(&head) || !rest.is_empty() {
                    let mut msg = format!("`{m}` is not a key of summary.json that can be tested");
                    if let Some(s) = did_you_mean(head, known.iter().copied()) {
                        msg.push_str(&format!("; did you mean `{s}`?"));
                    } else {
                        msg.push_str(&format!(" (keys: {})", known.join(", ")));
                    }
                    r.err(&format!("{p}.metric"), msg);
                    continue;
                }
                ExpectTarget::Metric(m.clone())
            }
            (None, Some(ev)) => ExpectTarget::Event {
                kind: ev.kind.clone(),
                subject: ev.subject.clone(),
            },
            _ => {
                r.err(
                    &p,
                    "an assertion names exactly one of `metric:` or `event:`",
                );
                continue;
            }
        };
        let is_date =
            matches!(&target, ExpectTarget::Metric(m) if SUMMARY_DATES.contains(&m.as_str()));
        let mut date = |r: &mut Resolver, field: &str, text: &str| -> Option<chrono::NaiveDate> {
            match parse_date(text) {
                Ok(d) => Some(d),
                Err(err) => {
                    r.err(&format!("{p}.{field}"), err.to_string());
                    None
                }
            }
        };
        let numbers = [e.below, e.above, e.at_most, e.at_least]
            .iter()
            .filter(|x| x.is_some())
            .count()
            + usize::from(matches!(
                &e.between,
                Some((RawBound::Number(_), RawBound::Number(_)))
            ));
        let dates_given = e.before.is_some()
            || e.after.is_some()
            || matches!(&e.between, Some((RawBound::Date(_), RawBound::Date(_))));
        if matches!(
            &e.between,
            Some((RawBound::Number(_), RawBound::Date(_)))
                | Some((RawBound::Date(_), RawBound::Number(_)))
        ) {
            r.err(
                &format!("{p}.between"),
                "`between` takes two numbers or two dates",
            );
            continue;
        }
        let window = |r: &mut Resolver,
                      date: &mut dyn FnMut(
            &mut Resolver,
            &str,
            &str,
        ) -> Option<chrono::NaiveDate>| {
            let (mut from, mut to) = (None, None);
            if let Some(b) = &e.after {
                from = date(r, "after", b).and_then(|d| d.succ_opt());
            }
            if let Some(b) = &e.before {
                to = date(r, "before", b).and_then(|d| d.pred_opt());
            }
            if let Some((RawBound::Date(a), RawBound::Date(b))) = &e.between {
                from = date(r, "between", a);
                to = date(r, "between", b);
            }
            (from, to)
        };
        let test = match &target {
            ExpectTarget::Event { .. } => {
                if numbers > 0 || e.never.is_some() {
                    r.err(&p, "an event assertion takes `happens:` and an optional window (`before`, `after`, `between` dates)");
                    continue;
                }
                let (from, to) = window(r, &mut date);
                ExpectTest::Happens {
                    happens: e.happens.unwrap_or(true),
                    from,
                    to,
                }
            }
            ExpectTarget::Metric(m) if is_date => {
                if numbers > 0 || e.happens.is_some() {
                    r.err(&p, format!("`{m}` is a date: test it with `before`, `after`, `between: [DATE, DATE]` or `never: true`"));
                    continue;
                }
                match (e.never, dates_given) {
                    (Some(true), false) => ExpectTest::Never,
                    (None, true) => {
                        let (from, to) = window(r, &mut date);
                        ExpectTest::DateIn(from, to)
                    }
                    _ => {
                        r.err(&p, format!("give `{m}` one test: `before`/`after`/`between` dates, or `never: true`"));
                        continue;
                    }
                }
            }
            ExpectTarget::Metric(m) => {
                if dates_given || e.never.is_some() || e.happens.is_some() || numbers != 1 {
                    r.err(&p, format!("`{m}` is a number: give it exactly one of `below`, `above`, `at_most`, `at_least` or `between: [LOW, HIGH]`"));
                    continue;
                }
                match (e.below, e.above, e.at_most, e.at_least, &e.between) {
                    (Some(x), ..) => ExpectTest::Below(x),
                    (_, Some(x), ..) => ExpectTest::Above(x),
                    (_, _, Some(x), ..) => ExpectTest::AtMost(x),
                    (_, _, _, Some(x), _) => ExpectTest::AtLeast(x),
                    (_, _, _, _, Some((RawBound::Number(a), RawBound::Number(b)))) => {
                        if b < a {
                            r.err(
                                &format!("{p}.between"),
                                format!(
                                    "the range [{a}, {b}] is empty: write the lower bound first"
                                ),
                            );
                            continue;
                        }
                        ExpectTest::Between(*a, *b)
                    }
                    _ => continue,
                }
            }
        };
        out.push(Expect {
            target,
            test,
            because: e.because.clone(),
        });
    }
    out
}

/// For a date written another common way (`01/15/2024`, `2024/01/15`, `15.01.2024`,
/// `2024-1-5`): the same date as capsim writes it.
fn date_hint(text: &str) -> String {
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
fn field(path: &str) -> &str {
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
fn percent_hint(v: f64) -> String {
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
fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// A number for messages: plain when ordinary, scientific when huge or tiny.
fn num(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e9).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// The last day of `d`'s month.
fn last_of_month(d: NaiveDate) -> NaiveDate {
    let first_next = d
        .with_day(1)
        .and_then(|f| f.checked_add_months(chrono::Months::new(1)));
    first_next.and_then(|f| f.pred_opt()).unwrap_or(d)
}

fn parse_or_push(
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
