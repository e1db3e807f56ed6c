//! From raw scenario to resolved [`Scenario`]: names to indices, dates to ticks, and every
//! cross-field check. All problems are collected, not only the first, in the order of the
//! subjects below (supply, vendors and products, buyers, sites, demand, rules, `expect:`).

mod buyers;
mod demand;
mod expect;
mod products;
mod resolver;
mod rules;
mod sites;
mod supply;

use crate::engine::calendar::Calendar;

use super::raw::*;
use super::types::*;
use super::yaml::{Diagnostic, Node, Severity, child_path};
use resolver::{Resolver, last_of_month, num, parse_or_push};

/// Longest duration a days field may hold: 30 years \[days\].
pub const MAX_DAYS_FIELD: u32 = 10_950;
/// Most items in one list of a scenario (packaging lines, logic processes, products,
/// vendors, buyers, sites, segments): the model's per-day buffers grow with their product.
pub const MAX_ITEMS: usize = 1_000;
/// Longest lifetime of a chip \[years\]: 100.
pub const MAX_LIFETIME_YEARS: f64 = 100.0;
/// Longest build of a site, from construction start to power on \[months\]: 30 years.
pub const MAX_BUILD_MONTHS: u32 = 360;

/// The names of each list of the scenario, in file order: what references resolve against.
pub(super) struct Names<'a> {
    lines: Vec<&'a str>,
    logic: Vec<&'a str>,
    products: Vec<&'a str>,
    vendors: Vec<&'a str>,
    buyers: Vec<&'a str>,
    sites: Vec<&'a str>,
    segments: Vec<&'a str>,
}

impl<'a> Names<'a> {
    fn of(raw: &'a RawScenario) -> Self {
        Names {
            lines: raw
                .supply
                .packaging_lines
                .iter()
                .map(|l| l.name.as_str())
                .collect(),
            logic: raw.supply.logic.iter().map(|l| l.name.as_str()).collect(),
            products: raw.products.iter().map(|p| p.name.as_str()).collect(),
            vendors: raw.vendors.iter().map(|v| v.name.as_str()).collect(),
            buyers: raw.buyers.iter().map(|b| b.name.as_str()).collect(),
            sites: raw.sites.iter().map(|s| s.name.as_str()).collect(),
            segments: raw.segments.iter().map(|s| s.name.as_str()).collect(),
        }
    }
}

/// Collects problems while resolving, each located in the merged YAML tree.
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

    let names = Names::of(raw);
    r.unique("supply.packaging_lines", &names.lines);
    r.unique("supply.logic", &names.logic);
    r.unique("products", &names.products);
    r.unique("vendors", &names.vendors);
    r.unique("buyers", &names.buyers);
    r.unique("sites", &names.sites);
    r.unique("segments", &names.segments);
    if raw.products.is_empty() {
        r.err("products", "a scenario needs at least one product");
    }
    if raw.buyers.is_empty() {
        r.err("buyers", "a scenario needs at least one buyer");
    }

    let s = supply::supply(&mut r, raw, &names);
    let vendors = products::vendors(&mut r, raw);
    let mut lines = s.lines;
    let products = products::products(&mut r, raw, &names, &mut lines);
    let s = supply::Supply { lines, ..s };
    supply::check_lines(&mut r, raw, &names, &s, &products);
    let (buyers, operator) = buyers::buyers(&mut r, raw, &names, &products);
    let sites = sites::sites(&mut r, raw, &names);
    let segments = demand::segments(&mut r, raw, operator);
    let launches = demand::launches(&mut r, raw, &names);
    let export_rules = rules::export_rules(&mut r, raw, &names);
    let reservations = rules::reservations(&mut r, raw, &names, operator);

    let power_price = r.timeline(
        "money.power_price_usd_per_mwh",
        &raw.money.power_price_usd_per_mwh,
        Interpolation::Step,
        0.0,
    );

    let expect = expect::resolve_expect(&mut r, raw, &names);

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
        lines: s.lines,
        hbm_stacks_per_month: s.hbm,
        logic: s.logic,
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
        hbm_expansion_slip_days: s.hbm_expansion_slip_days,
        warm_start: raw.warm_start && raw.market == RawMarket::StockManagement,
        warm_start_utilisation: raw.warm_start_utilisation,
        market: match raw.market {
            RawMarket::Legacy => Market::Legacy,
            RawMarket::StockManagement => Market::StockManagement,
        },
    };
    Ok((scenario, warnings))
}
