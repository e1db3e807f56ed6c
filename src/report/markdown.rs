//! `report.md` for one run and `compare.md` for several: Markdown a user can paste into
//! their own report, with the charts beside it in `charts/`.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::model::Summary;

use super::data::{ChartData, McData};
use super::montecarlo::{PAIRED_SHOWN, PairedDoc, verdict};
use crate::format::{compact, human, share_pct, tenths, usd, usd_compact};

/// What the report needs to know of a chart.
#[derive(Debug, Clone)]
pub struct ChartRef {
    /// File stem under `charts/` (`capacity_demand`).
    pub name: String,
    /// Chart title.
    pub title: String,
    /// One sentence on what it shows.
    pub caption: String,
}

/// What `report.md` shows of a Monte Carlo run, in its section "Uncertainty".
#[derive(Debug, Clone)]
pub struct Uncertainty<'a> {
    /// The Monte Carlo files, parsed.
    pub mc: &'a McData,
    /// The Monte Carlo charts.
    pub charts: Vec<ChartRef>,
}

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn or_none(d: &Option<String>) -> String {
    d.clone().unwrap_or_else(|| "none".to_string())
}

/// The headline metrics of a summary, as (label, value) rows, shared by both reports.
fn metric_rows(s: &Summary) -> Vec<(&'static str, String)> {
    let lead = match (&s.lead_time_peak_date, &s.lead_time_peak_product) {
        (Some(d), Some(p)) => format!("{:.0} days ({p}, {d})", s.lead_time_peak_days),
        _ => "0 days".to_string(),
    };
    let binding: Vec<String> = s
        .binding_constraint_days
        .iter()
        .filter(|(_, d)| **d > 0)
        .map(|(c, d)| format!("{c} {d} d"))
        .collect();
    vec![
        ("First shortage day", or_none(&s.first_shortage)),
        ("Last shortage day", or_none(&s.last_shortage)),
        (
            "Shortage days",
            format!(
                "{} of {} ({})",
                s.shortage_days,
                s.days,
                share_pct(s.shortage_days as f64 / s.days.max(1) as f64)
            ),
        ),
        (
            "Worst unserved share of demand",
            share_pct(s.peak_unserved_share),
        ),
        (
            "Sign-up pauses",
            format!(
                "{}, {} segment-days",
                crate::format::plural(s.pause_episodes.len() as i64, "episode"),
                s.pause_days
            ),
        ),
        ("Sign-ups lost", human(s.lost_signups)),
        (
            "Revenue lost",
            format!(
                "{} (pauses {}, shortage churn {})",
                usd(s.lost_revenue_usd),
                usd(s.lost_revenue_pause_usd),
                usd(s.lost_revenue_churn_usd)
            ),
        ),
        ("Revenue", usd(s.revenue_usd)),
        ("Capital spent (operator)", usd(s.capex_usd)),
        ("Electricity (operator)", usd(s.power_cost_usd)),
        ("Longest lead time", lead),
        (
            "Fleet at the end",
            format!("{} H100e", human(s.fleet_end_h100e)),
        ),
        (
            "Units waiting for power at the end",
            human(s.stranded_end as f64),
        ),
        ("Binding constraint", binding.join(", ")),
    ]
}

/// A chart in a report: its title as a heading, the picture, the caption and a link to the
/// SVG.
fn chart_md(out: &mut String, c: &ChartRef) {
    let _ = writeln!(out, "### {}\n", c.title);
    let _ = writeln!(out, "![{}](charts/{}.png)\n", c.title, c.name);
    let _ = writeln!(
        out,
        "{} (Vector version: [charts/{}.svg](charts/{}.svg).)\n",
        c.caption, c.name, c.name
    );
}

/// How a Monte Carlo metric is written.
#[derive(Clone, Copy)]
enum Unit {
    Count,
    /// Days, to a tenth.
    Days,
    Share,
    Usd,
}

impl Unit {
    fn fmt(self, v: f64) -> String {
        if !v.is_finite() {
            return "—".into();
        }
        match self {
            Unit::Count => compact(v),
            Unit::Days => tenths(v),
            Unit::Share => share_pct(v),
            Unit::Usd => usd_compact(v),
        }
    }
}

/// Metrics of the Monte Carlo table: (label, metric, unit).
const MC_METRICS: [(&str, &str, Unit); 9] = [
    ("Shortage days", "shortage_days", Unit::Days),
    (
        "Worst unserved share of demand",
        "peak_unserved_share",
        Unit::Share,
    ),
    ("Paused segment-days", "pause_days", Unit::Days),
    ("Sign-ups lost", "lost_signups", Unit::Count),
    ("Revenue lost", "lost_revenue_usd", Unit::Usd),
    ("Revenue", "revenue_usd", Unit::Usd),
    ("Capital spent (operator)", "capex_usd", Unit::Usd),
    (
        "Longest lead time (days)",
        "lead_time_peak_days",
        Unit::Days,
    ),
    ("Fleet at the end (H100e)", "fleet_end_h100e", Unit::Count),
];

/// The section "Uncertainty (N replications)" of a Monte Carlo run's report.
fn uncertainty_md(out: &mut String, u: &Uncertainty) {
    let r = &u.mc.reps;
    let _ = writeln!(out, "## Uncertainty ({} replications)\n", r.count);
    let _ = writeln!(
        out,
        "The scenario was run {} times (seed {}), each replication with its own random \
         numbers. The rest of this report (summary, pauses, charts, production, events) shows \
         replication {}, the one nearest the median of the key metrics. `replications.csv` \
         holds every replication's metrics, `bands.csv` the daily percentiles.\n",
        r.count, r.seed, r.representative
    );
    let level = r.confidence().percent();
    if let Some(c) = &r.until_ci {
        let _ = match r.stop.as_str() {
            "ci_met" => writeln!(
                out,
                "Replications stopped once the {level}% confidence interval of the mean of `{}` \
                 was within ±{}.\n",
                c.metric, c.half_width
            ),
            _ => writeln!(
                out,
                "Replications stopped at the most allowed: the {level}% confidence interval of \
                 the mean of `{}` is still wider than ±{}.\n",
                c.metric, c.half_width
            ),
        };
    }
    let _ = writeln!(
        out,
        "| metric | median | P5 – P95 | mean ({level}% CI) |\n|---|---:|---:|---:|"
    );
    for (label, metric, unit) in MC_METRICS {
        let Some(m) = r.metrics.get(metric) else {
            continue;
        };
        let f = |v| unit.fmt(v);
        let _ = writeln!(
            out,
            "| {label} | {} | {} – {} | {} ({} – {}) |",
            f(m.p50),
            f(m.p5),
            f(m.p95),
            f(m.mean),
            f(m.ci_low),
            f(m.ci_high)
        );
    }
    let _ = writeln!(out);
    let segments = u.mc.segments();
    if !segments.is_empty() {
        let _ = writeln!(
            out,
            "| segment | sign-ups paused in | first pause: median | P5 – P95 |\n|---|---:|---|---|"
        );
        for seg in &segments {
            let Some(d) = r.dates.get(&format!("first_pause.{seg}")) else {
                continue;
            };
            let (median, range) = match (&d.p50, &d.p5, &d.p95) {
                (Some(m), Some(a), Some(b)) => (m.clone(), format!("{a} – {b}")),
                _ => ("never".to_string(), "—".to_string()),
            };
            let _ = writeln!(
                out,
                "| {} | {} of replications | {median} | {range} |",
                cell(seg),
                share_pct(d.probability),
            );
        }
        let _ = writeln!(out);
    }
    for c in &u.charts {
        chart_md(out, c);
    }
}

/// `report.md` for one run: summary, pause episodes, charts, production, events; for a Monte
/// Carlo run (`uncertainty`), first the spread over the replications.
pub fn report_md(
    data: &ChartData,
    description: &str,
    charts: &[ChartRef],
    uncertainty: Option<&Uncertainty>,
) -> String {
    let s = &data.summary;
    let mut out = String::new();
    let _ = writeln!(out, "# {} — capsim report\n", s.scenario);
    if !description.trim().is_empty() {
        let _ = writeln!(out, "{}\n", description.trim());
    }
    let _ = writeln!(
        out,
        "Simulated {} to {} ({} days), seed {}. Figures below are for the operator's fleet \
         and users unless a row says otherwise; see `docs/outputs.md` for definitions.\n",
        s.start, s.end, s.days, s.seed
    );
    if let Some(u) = uncertainty {
        uncertainty_md(&mut out, u);
        let _ = writeln!(
            out,
            "## Summary of replication {}\n\n| | |\n|---|---|",
            u.mc.reps.representative
        );
    } else {
        let _ = writeln!(out, "## Summary\n\n| | |\n|---|---|");
    }
    for (label, value) in metric_rows(s) {
        let _ = writeln!(out, "| {label} | {} |", cell(&value));
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "## Sign-up pauses\n");
    if s.pause_episodes.is_empty() {
        let _ = writeln!(out, "No segment's sign-ups were paused.\n");
    } else {
        let _ = writeln!(out, "| segment | first day | last day | days | cause |");
        let _ = writeln!(out, "|---|---|---|---:|---|");
        for e in &s.pause_episodes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&e.segment),
                e.start,
                e.end,
                e.days,
                cell(&e.cause)
            );
        }
        let _ = writeln!(out);
    }

    if !charts.is_empty() {
        let _ = writeln!(out, "## Charts\n");
        for c in charts {
            chart_md(&mut out, c);
        }
    }

    let _ = writeln!(out, "## Production by year\n");
    let years: BTreeSet<&String> = s
        .production_by_year
        .values()
        .flat_map(|y| y.keys())
        .collect();
    if years.is_empty() {
        let _ = writeln!(out, "Nothing was produced.\n");
    } else {
        let _ = write!(out, "| product (units) |");
        for y in &years {
            let _ = write!(out, " {y} |");
        }
        let _ = write!(out, "\n|---|");
        for _ in &years {
            let _ = write!(out, "---:|");
        }
        let _ = writeln!(out);
        for (product, by_year) in &s.production_by_year {
            let _ = write!(out, "| {} |", cell(product));
            for y in &years {
                let v = by_year.get(*y).copied().unwrap_or(0);
                let _ = write!(out, " {} |", human(v as f64));
            }
            let _ = writeln!(out);
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(
        out,
        "## Fleet at the end\n\n| product | units |\n|---|---:|"
    );
    for (product, units) in &s.fleet_end {
        if *units > 0 {
            let _ = writeln!(out, "| {} | {} |", cell(product), human(*units as f64));
        }
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "## Events\n");
    if data.events.is_empty() {
        let _ = writeln!(out, "No events.");
    } else {
        let _ = writeln!(out, "| date | kind | subject | cause |\n|---|---|---|---|");
        for e in &data.events {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                e.date.format("%Y-%m-%d"),
                cell(&e.kind),
                cell(&e.subject),
                cell(&e.cause)
            );
        }
    }
    out
}

/// The period of each scenario compared, `(name, start, end, days)`, when any differs from
/// the first's; `None` when they all cover the same days.
pub fn different_periods<'a>(
    summaries: impl IntoIterator<Item = &'a Summary>,
) -> Option<Vec<(&'a str, &'a str, &'a str, i64)>> {
    let periods: Vec<_> = summaries
        .into_iter()
        .map(|s| {
            (
                s.scenario.as_str(),
                s.start.as_str(),
                s.end.as_str(),
                s.days,
            )
        })
        .collect();
    let first = periods.first()?;
    if periods.iter().all(|p| p.1 == first.1 && p.2 == first.2) {
        return None;
    }
    Some(periods)
}

/// What a comparison of different periods says after the periods: which figures the span
/// moves, and how to give every scenario one.
pub const DIFFERENT_PERIODS_HINT: &str = "totals (shortage days, paused segment-days, \
     sign-ups and revenue lost, revenue, capital spent, electricity) and the values taken up to \
     the end (last shortage day, worst unserved share, longest lead time, fleet at the end) \
     differ by the span as well as by the scenario; `--set end=YYYY-MM-DD` gives every \
     scenario one end (`--set start=` one start too, though it also moves the state each run \
     starts from)";

/// `compare.md`: the runs' summaries side by side, each with its difference from the first.
///
/// With `reps`, each run is the representative replication of a Monte Carlo run of that
/// many replications (the paired differences follow, written by the caller).
pub fn compare_md(runs: &[ChartData], charts: &[ChartRef], reps: Option<u64>) -> String {
    let mut out = String::new();
    let names: Vec<&str> = runs.iter().map(|r| r.summary.scenario.as_str()).collect();
    let _ = writeln!(out, "# Comparison: {}\n", names.join(" vs "));
    if let Some(first) = runs.first() {
        let columns = match reps {
            None => "Each column is one run with its own seed as given".to_string(),
            Some(n) => format!(
                "Each column is the replication nearest the median of {n} replications of \
                 that scenario (one seed for all); the paired differences over every \
                 replication are at the end"
            ),
        };
        let _ = writeln!(
            out,
            "Differences are against the first scenario, `{}`. {columns}; see \
             `docs/outputs.md` for definitions.\n",
            first.summary.scenario
        );
    }
    if let Some(periods) = different_periods(runs.iter().map(|r| &r.summary)) {
        let periods: Vec<String> = periods
            .iter()
            .map(|(name, start, end, days)| format!("`{name}` {start} to {end}, {days} days"))
            .collect();
        let _ = writeln!(
            out,
            "**The scenarios cover different periods** ({}): {DIFFERENT_PERIODS_HINT}.\n",
            periods.join("; ")
        );
    }
    // Numeric rows: (label, value, formatter); the share's difference is in percentage points.
    const WORST_SHARE: &str = "Worst unserved share";
    type Row = (&'static str, fn(&Summary) -> f64, fn(f64) -> String);
    let rows: Vec<Row> = vec![
        (
            "Shortage days",
            |s| s.shortage_days as f64,
            |v| format!("{v:.0}"),
        ),
        (WORST_SHARE, |s| s.peak_unserved_share, share_pct),
        (
            "Paused segment-days",
            |s| s.pause_days as f64,
            |v| format!("{v:.0}"),
        ),
        ("Sign-ups lost", |s| s.lost_signups, human),
        ("Revenue lost", |s| s.lost_revenue_usd, usd),
        ("Revenue", |s| s.revenue_usd, usd),
        ("Capital spent", |s| s.capex_usd, usd),
        ("Electricity", |s| s.power_cost_usd, usd),
        (
            "Longest lead time (days)",
            |s| s.lead_time_peak_days,
            |v| format!("{v:.0}"),
        ),
        ("Fleet at the end (H100e)", |s| s.fleet_end_h100e, human),
    ];
    let _ = write!(out, "| metric |");
    for (i, n) in names.iter().enumerate() {
        let _ = write!(out, " {} |", cell(n));
        if i > 0 {
            let _ = write!(out, " Δ vs {} |", cell(names[0]));
        }
    }
    let _ = write!(out, "\n|---|");
    for i in 0..names.len() {
        let _ = write!(out, "---:|");
        if i > 0 {
            let _ = write!(out, "---:|");
        }
    }
    let _ = writeln!(out);
    type DateRow = (&'static str, fn(&Summary) -> Option<String>);
    let dates: Vec<DateRow> = vec![
        ("First shortage day", |s| s.first_shortage.clone()),
        ("Last shortage day", |s| s.last_shortage.clone()),
    ];
    for (label, get) in dates {
        let _ = write!(out, "| {label} |");
        let base = runs.first().and_then(|r| get(&r.summary));
        for (i, r) in runs.iter().enumerate() {
            let v = get(&r.summary);
            let _ = write!(out, " {} |", v.clone().unwrap_or_else(|| "none".into()));
            if i > 0 {
                let diff = match (&base, &v) {
                    (Some(a), Some(b)) => day_diff(a, b),
                    (None, None) => "same".into(),
                    _ => "—".into(),
                };
                let _ = write!(out, " {diff} |");
            }
        }
        let _ = writeln!(out);
    }
    for (label, get, fmt) in rows {
        let _ = write!(out, "| {label} |");
        let base = runs.first().map(|r| get(&r.summary)).unwrap_or(0.0);
        for (i, r) in runs.iter().enumerate() {
            let v = get(&r.summary);
            let _ = write!(out, " {} |", fmt(v));
            if i > 0 {
                let d = v - base;
                let sign = if d > 0.0 {
                    "+"
                } else if d < 0.0 {
                    "−"
                } else {
                    ""
                };
                let rel = if base != 0.0 {
                    format!(" ({}{:.0}%)", sign, (d / base).abs() * 100.0)
                } else {
                    String::new()
                };
                let size = if label == WORST_SHARE {
                    format!("{:.1} pp", d.abs() * 100.0)
                } else {
                    fmt(d.abs())
                };
                let _ = write!(out, " {sign}{size}{rel} |");
            }
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "## Sign-up pauses\n");
    let _ = writeln!(
        out,
        "| scenario | segment | first day | last day | days |\n|---|---|---|---|---:|"
    );
    let mut any = false;
    for r in runs {
        for e in &r.summary.pause_episodes {
            any = true;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&r.summary.scenario),
                cell(&e.segment),
                e.start,
                e.end,
                e.days
            );
        }
    }
    if !any {
        let _ = writeln!(out, "| (none) | | | | |");
    }
    let _ = writeln!(out);
    for c in charts {
        let _ = writeln!(
            out,
            "## {}\n\n![{}](charts/{}.png)\n\n{}\n",
            c.title, c.title, c.name, c.caption
        );
    }
    out
}

/// `b − a` in days, signed, for two `YYYY-MM-DD` dates.
fn day_diff(a: &str, b: &str) -> String {
    let p = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    match (p(a), p(b)) {
        (Some(a), Some(b)) => {
            let d = (b - a).num_days();
            match d {
                0 => "same".into(),
                d if d > 0 => format!("{d} days later"),
                d => format!("{} days earlier", -d),
            }
        }
        _ => "—".into(),
    }
}

/// The paired-difference section of compare.md.
pub fn paired_md(paired: &[PairedDoc], reps: u64, seed: u64) -> String {
    let level = paired
        .first()
        .map(|p| p.confidence)
        .unwrap_or_default()
        .percent();
    let mut out = format!(
        "\n## Paired differences ({reps} replications, common random numbers)\n\n\
         Every scenario ran replications 0..{reps} with seed {seed}, so replication r of each \
         drew the same random numbers wherever they share an entity. Each cell is the mean of \
         (scenario − baseline) over the replications, with its {level}% confidence interval; \
         \"clear\" says whether that interval excludes 0. Every metric is in \
         `compare --json`.\n"
    );
    for p in paired {
        let _ = writeln!(
            out,
            "\n### {} − {}\n\n| metric | mean difference | {level}% CI | clear |\n|---|---|---|---|",
            p.scenario, p.baseline
        );
        for (key, label, money) in PAIRED_SHOWN {
            if let Some(s) = p.differences.get(key) {
                let _ = writeln!(
                    out,
                    "| {label} | {} | {} to {} | {} |",
                    crate::format::signed(s.mean, money),
                    crate::format::signed(s.ci_low, money),
                    crate::format::signed(s.ci_high, money),
                    verdict(s)
                );
            }
        }
    }
    out
}
