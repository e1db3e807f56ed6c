//! The six charts of one run, built as figures from its [`ChartData`].

use chrono::NaiveDate;
use plotters::style::{Color, RGBColor};

use super::figure::{Dash, Figure, Layer, LegendItem, Panel, Row, StripItem};

use super::scale::{TimeAxis, entity_colour};
use crate::backtest::Backtest;
use crate::format::{NumFormat, human, usd};
use crate::model::Constraint;
use crate::model::record::SHORTAGE_THRESHOLD;
use crate::report::data::ChartData;

pub(super) const INK: RGBColor = RGBColor(0, 0, 0);
/// Blue of the capacity line.
pub(super) const CAPACITY: RGBColor = RGBColor(0x00, 0x72, 0xB2);
/// Vermillion: shortage and power in use.
pub(super) const ALARM: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
pub(super) const GREY: RGBColor = RGBColor(0x77, 0x77, 0x77);
/// Observation ranges the model falls inside (Okabe-Ito bluish green).
const INSIDE: RGBColor = RGBColor(0x00, 0x9E, 0x73);

/// Opacity of a pause band in a plot.
pub(super) const BAND_ALPHA: f64 = 0.14;
/// Opacity of the shortage fill.
const SHORTAGE_ALPHA: f64 = 0.35;
/// Opacity of stacked areas.
const STACK_ALPHA: f64 = 0.85;

/// A run's series, cleaned for drawing: every value finite (non-finite values become 0),
/// every series one value per day.
pub(super) struct Run<'a> {
    pub d: &'a ChartData,
    /// Days.
    pub n: usize,
    /// x of the first day (0 unless runs with different starts are compared).
    pub offset: f64,
    pub base: NaiveDate,
    pub products: Vec<String>,
    pub segments: Vec<String>,
    /// Each numeric column's position in `d.columns`, so that looking a column up costs
    /// the same however many lines and products the run has (issue 13: charts were
    /// quadratic in the number of packaging lines).
    index: std::collections::HashMap<&'a str, usize>,
}

/// A sign-up pause, in x units.
pub(super) struct Pause {
    pub segment: String,
    pub x0: f64,
    pub x1: f64,
    pub days: i64,
}

fn parse(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

impl<'a> Run<'a> {
    pub fn new(d: &'a ChartData) -> Self {
        let base = d
            .dates
            .first()
            .copied()
            .or_else(|| parse(&d.summary.start))
            .unwrap_or_default();
        Run {
            d,
            n: d.dates.len(),
            offset: 0.0,
            base,
            products: d.products(),
            segments: d.segments(),
            index: d
                .columns
                .iter()
                .enumerate()
                .rev()
                .map(|(i, (name, _))| (name.as_str(), i))
                .collect(),
        }
    }

    /// The run's own time axis.
    pub fn time(&self) -> TimeAxis {
        TimeAxis {
            base: self.base,
            len: self.n.max(1),
        }
    }

    /// A numeric column, one finite value per day (zeros if the column is missing).
    pub fn get(&self, name: &str) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .index
            .get(name)
            .map_or(&[][..], |&i| self.d.columns[i].1.as_slice())
            .iter()
            .map(|x| if x.is_finite() { *x } else { 0.0 })
            .collect();
        v.resize(self.n, 0.0);
        v
    }

    /// Points of a series; a single day is drawn one day wide.
    pub fn points(&self, v: &[f64]) -> Vec<(f64, f64)> {
        day_points(self.offset, v)
    }

    /// x of a date.
    pub fn x_of(&self, d: NaiveDate) -> f64 {
        self.offset + (d - self.base).num_days() as f64
    }

    /// The summary's pause episodes, each from half a day before its first paused day to half
    /// a day after its last.
    pub fn pauses(&self) -> Vec<Pause> {
        self.d
            .summary
            .pause_episodes
            .iter()
            .filter_map(|e| {
                let (s, t) = (parse(&e.start)?, parse(&e.end)?);
                Some(Pause {
                    segment: e.segment.clone(),
                    x0: self.x_of(s) - 0.5,
                    x1: self.x_of(t) + 0.5,
                    days: e.days,
                })
            })
            .collect()
    }

    pub fn segment_colour(&self, segment: &str) -> RGBColor {
        self.segments
            .iter()
            .position(|s| s == segment)
            .map_or(GREY, entity_colour)
    }

    fn line(&self, v: &[f64], colour: RGBColor, dash: Dash) -> Layer {
        Layer::Line {
            points: self.points(v),
            colour,
            width: 3,
            dash,
        }
    }

    /// Stacked areas, first series at the bottom.
    fn stack(&self, series: &[(RGBColor, Vec<f64>)]) -> Vec<Layer> {
        let mut lower = vec![0.0; self.n];
        let mut out = Vec::new();
        for (colour, v) in series {
            let upper: Vec<f64> = lower.iter().zip(v).map(|(a, b)| a + b.max(0.0)).collect();
            if v.iter().any(|x| *x > 0.0) {
                out.push(Layer::Area {
                    upper: self.points(&upper),
                    lower: self.points(&lower),
                    colour: colour.mix(STACK_ALPHA),
                });
            }
            lower = upper;
        }
        out
    }
}

/// Points of a daily series whose first day is at x = `offset`; a single day is drawn one
/// day wide.
pub(super) fn day_points(offset: f64, v: &[f64]) -> Vec<(f64, f64)> {
    if v.len() == 1 {
        return vec![(offset, v[0]), (offset + 1.0, v[0])];
    }
    v.iter()
        .enumerate()
        .map(|(i, y)| (offset + i as f64, *y))
        .collect()
}

pub(super) fn any_nonzero(v: &[f64]) -> bool {
    v.iter().any(|x| *x != 0.0)
}

/// Days of the trailing mean that smooths daily production and orders: buyers order on a
/// cadence (every 30 days unless a scenario says otherwise), so orders and output come in
/// lumps; a week smooths a short run, 30 days a run of more than a year. A window of the
/// review period holds one lump of each buyer every day; 28 days held none for two days in
/// thirty, which drew a comb of false dips in the orders panel.
fn smoothing_days(days: usize) -> usize {
    if days > 400 { 30 } else { 7 }
}

/// Mean of the last `k` days, today included (fewer at the start).
fn trailing_mean(v: &[f64], k: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(v.len());
    let mut sum = 0.0;
    for i in 0..v.len() {
        sum += v[i];
        if i >= k {
            sum -= v[i - k];
        }
        out.push(sum / (i + 1).min(k) as f64);
    }
    out
}

fn running_sum(v: &[f64]) -> Vec<f64> {
    v.iter()
        .scan(0.0, |s, x| {
            *s += x;
            Some(*s)
        })
        .collect()
}

pub(super) use crate::format::plural;

/// The six charts: (file stem, figure, caption).
pub(super) fn figures(d: &ChartData, bt: Option<&Backtest>) -> Vec<(&'static str, Figure, String)> {
    let run = Run::new(d);
    let observed = bt.map(|b| Observed::of(&run, b)).unwrap_or_default();
    vec![
        capacity_demand(&run),
        supply(&run, &observed),
        fleet(&run),
        market(&run, &observed),
        users(&run),
        money(&run),
    ]
}

/// An observation of the record, placed on a run's time axis: its period, its value and
/// range as a daily figure (a sum over the period divided by its days; a mean as it is).
pub(super) struct Mark {
    pub x0: f64,
    pub x1: f64,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    pub inside: bool,
}

/// The observations of a backtest that a run chart can draw on its own axes: those whose
/// metric is `sum(...)` or `mean(...)` of one family of daily columns (`lead_time_days[H100]`,
/// `shipped_units_per_day[H100]+shipped_units_per_day[H200]`), by family and products.
#[derive(Default)]
pub(super) struct Observed {
    /// `(family, products, marks)`, in the order of first appearance.
    pub series: Vec<(String, Vec<String>, Vec<Mark>)>,
}

impl Observed {
    fn of(run: &Run, bt: &Backtest) -> Self {
        let mut out = Observed::default();
        for o in bt.rows.iter().filter(|o| !o.is_date) {
            let Some((family, products, per_day)) = daily_terms(&o.metric) else {
                continue;
            };
            let days = ((o.last_day - o.first_day).num_days() + 1).max(1) as f64;
            let k = if per_day { 1.0 / days } else { 1.0 };
            let mark = Mark {
                x0: run.x_of(o.first_day) - 0.5,
                x1: run.x_of(o.last_day) + 0.5,
                value: o.observed * k,
                low: o.low * k,
                high: o.high * k,
                inside: o.inside,
            };
            match out
                .series
                .iter_mut()
                .find(|(f, p, _)| *f == family && *p == products)
            {
                Some((_, _, marks)) => marks.push(mark),
                None => out.series.push((family, products, vec![mark])),
            }
        }
        out
    }

    /// The observed series of one column family.
    fn family<'s>(&'s self, family: &'s str) -> impl Iterator<Item = (&'s [String], &'s [Mark])> {
        self.series
            .iter()
            .filter(move |(f, _, _)| f == family)
            .map(|(_, p, m)| (p.as_slice(), m.as_slice()))
    }
}

/// `sum(f[a]+f[b])` gives `(f, [a, b], true)`, `mean(f[a])` gives `(f, [a], false)`; any
/// other metric (ratios, other aggregates, mixed families) gives `None`.
fn daily_terms(metric: &str) -> Option<(String, Vec<String>, bool)> {
    let (inner, per_day) = if let Some(r) = metric.strip_prefix("sum(") {
        (r.strip_suffix(')')?, true)
    } else {
        (metric.strip_prefix("mean(")?.strip_suffix(')')?, false)
    };
    let mut family: Option<&str> = None;
    let mut products = Vec::new();
    for term in inner.split('+') {
        let (f, rest) = term.trim().split_once('[')?;
        let p = rest.strip_suffix(']')?;
        if family.is_some_and(|g| g != f) || p.contains(['[', ']', '(', ')']) {
            return None;
        }
        family = Some(f);
        products.push(p.to_string());
    }
    Some((family?.to_string(), products, per_day))
}

/// Layers of observation marks, values multiplied by `scale`: the range as a band across the
/// period (green when the model is inside it, orange when outside) and the observed value as a
/// black dashed bar.
fn mark_layers(marks: &[Mark], scale: f64) -> Vec<Layer> {
    let mut out = Vec::new();
    for m in marks {
        let colour = if m.inside { INSIDE } else { ALARM };
        if m.low.is_finite() && m.high.is_finite() {
            out.push(Layer::Area {
                upper: vec![(m.x0, m.high * scale), (m.x1, m.high * scale)],
                lower: vec![(m.x0, m.low * scale), (m.x1, m.low * scale)],
                colour: colour.mix(0.35),
            });
        }
        out.push(Layer::Line {
            points: vec![(m.x0, m.value * scale), (m.x1, m.value * scale)],
            colour: INK,
            width: 3,
            dash: Dash::Dashed,
        });
    }
    out
}

/// The legend of observation marks.
fn mark_legend() -> Vec<LegendItem> {
    vec![
        LegendItem::line("observed (record)", INK, Dash::Dashed),
        LegendItem::fill("its range, model inside", INSIDE.mix(0.35)),
        LegendItem::fill("its range, model outside", ALARM.mix(0.35)),
    ]
}

/// Pause bands of `segment` (all segments if `None`) as layers.
fn pause_bands(run: &Run, segment: Option<&str>) -> Vec<Layer> {
    run.pauses()
        .into_iter()
        .filter(|p| segment.is_none_or(|s| s == p.segment))
        .map(|p| Layer::Band {
            x0: p.x0,
            x1: p.x1,
            colour: run.segment_colour(&p.segment).mix(BAND_ALPHA),
        })
        .collect()
}

/// Kinds of events marked on the capacity chart: (kind, legend label, colour).
const MARKED: [(&str, &str, RGBColor); 3] = [
    ("launch", "launch", GREEN),
    ("export_rule", "export rule in force", PURPLE),
    ("reservation_start", "reservation starts", SKY),
];

fn capacity_demand(run: &Run) -> (&'static str, Figure, String) {
    let demand = run.get("demand_h100e");
    let capacity = run.get("capacity_h100e");
    let unserved = run.get("unserved_h100e");
    let mut panel = Panel::new(None, "H100-equivalents (H100e)", NumFormat::Count);
    panel.layers.extend(pause_bands(run, None));

    // Shortage: fill between capacity and demand on every run of shortage days.
    let short: Vec<bool> = (0..run.n)
        .map(|i| demand[i] > 0.0 && unserved[i] > SHORTAGE_THRESHOLD * demand[i])
        .collect();
    let mut i = 0;
    let mut shortage_days = 0;
    let mut rug = Vec::new();
    while i < run.n {
        if !short[i] {
            i += 1;
            continue;
        }
        let a = i;
        while i < run.n && short[i] {
            i += 1;
        }
        let b = i - 1;
        shortage_days += b - a + 1;
        rug.push((run.offset + a as f64 - 0.5, run.offset + b as f64 + 0.5));
        // Half a day either side, so a single day shows.
        let xs = |k: usize| run.offset + k as f64;
        let mut upper = vec![(xs(a) - 0.5, demand[a])];
        let mut lower = vec![(xs(a) - 0.5, capacity[a].min(demand[a]))];
        for k in a..=b {
            upper.push((xs(k), demand[k]));
            lower.push((xs(k), capacity[k].min(demand[k])));
        }
        upper.push((xs(b) + 0.5, demand[b]));
        lower.push((xs(b) + 0.5, capacity[b].min(demand[b])));
        panel.layers.push(Layer::Area {
            upper,
            lower,
            colour: ALARM.mix(SHORTAGE_ALPHA),
        });
    }
    // Every shortage day, marked along the axis: a small gap barely shows as a fill.
    panel.layers.push(Layer::Rug {
        spans: rug,
        colour: ALARM.mix(0.75),
    });
    panel
        .layers
        .push(run.line(&capacity, CAPACITY, Dash::Solid));
    panel.layers.push(run.line(&demand, INK, Dash::Solid));
    if run.n == 0 {
        panel.note = Some("no days simulated".into());
    }

    let mut legend = vec![
        LegendItem::line("demand", INK, Dash::Solid),
        LegendItem::line("serving capacity", CAPACITY, Dash::Solid),
    ];
    if shortage_days > 0 {
        legend.push(LegendItem::fill(
            "shortage: over 0.1% unserved",
            ALARM.mix(SHORTAGE_ALPHA),
        ));
        legend.push(LegendItem::fill("shortage days", ALARM.mix(0.75)));
    }

    // Pauses: bands with labels in the strip.
    let mut strip = Vec::new();
    let pauses = run.pauses();
    let mut paused_segments: Vec<&str> = Vec::new();
    for p in &pauses {
        if !paused_segments.contains(&p.segment.as_str()) {
            paused_segments.push(&p.segment);
        }
        strip.push(StripItem::Period {
            x0: p.x0,
            x1: p.x1,
            colour: run.segment_colour(&p.segment).mix(0.35),
            label: format!("{} sign-ups paused, {}", p.segment, plural(p.days, "day")),
        });
    }
    for s in &paused_segments {
        legend.push(LegendItem::fill(
            format!("{s} sign-ups paused"),
            run.segment_colour(s).mix(BAND_ALPHA * 1.5),
        ));
    }

    // Dated events.
    let range = run.time().range();
    let mut kinds_seen = Vec::new();
    for e in &run.d.events {
        let Some(&(kind, _, colour)) = MARKED.iter().find(|(k, _, _)| *k == e.kind) else {
            continue;
        };
        let x = run.x_of(e.date);
        if x < range.start || x > range.end {
            continue;
        }
        if !kinds_seen.contains(&kind) {
            kinds_seen.push(kind);
        }
        // The whole name: the strip measures it, and only a name wider than half the plot is
        // cut there (events.csv and report.md give it whole).
        let label = e.subject.clone();
        strip.push(StripItem::Marker { x, colour, label });
    }
    for (kind, text, colour) in MARKED {
        if kinds_seen.contains(&kind) {
            legend.push(LegendItem::line(text, colour, Dash::Dashed));
        }
    }

    let s = &run.d.summary;
    let caption = format!(
        "Demand of the operator's users against its serving capacity, in H100-equivalents: \
         {} shortage days (more than 0.1% of demand unserved: shaded, and marked along the \
         time axis), {} of sign-up pauses (bands), and launches, export rules and reservations marked on the day they happen.",
        s.shortage_days,
        plural(s.pause_episodes.len() as i64, "episode"),
    );
    let fig = Figure {
        title: format!("Capacity vs demand — {}", s.scenario),
        subtitle: None,
        x: run.time().into(),
        strip,
        rows: vec![Row {
            weight: 1.0,
            panels: vec![panel],
            legend,
        }],
    };
    ("capacity_demand", fig, caption)
}

/// A binding constraint's colour and legend label; the match is exhaustive, so a new
/// [`Constraint`] cannot be drawn without both.
fn constraint_style(c: Constraint) -> (RGBColor, &'static str) {
    match c {
        Constraint::Packaging => (RGBColor(0x00, 0x72, 0xB2), "packaging"),
        Constraint::Hbm => (RGBColor(0xCC, 0x79, 0xA7), "HBM"),
        Constraint::Logic => (RGBColor(0x00, 0x9E, 0x73), "logic wafers"),
        Constraint::Capacity => (RGBColor(0xE6, 0x9F, 0x00), "fixed capacity"),
        Constraint::Demand => (RGBColor(0xBB, 0xBB, 0xBB), "demand (orders)"),
        Constraint::Nothing => (RGBColor(0xEE, 0xEE, 0xEE), "nothing made"),
    }
}

/// The constraint named `name` in the outputs.
fn constraint_named(name: &str) -> Option<Constraint> {
    Constraint::ALL.into_iter().find(|c| c.as_str() == name)
}

/// The legend label of a constraint named in the outputs (the name itself if unknown).
fn constraint_label(name: &str) -> &str {
    constraint_named(name).map_or(name, |c| constraint_style(c).1)
}

fn supply(run: &Run, observed: &Observed) -> (&'static str, Figure, String) {
    // Production, stacked.
    let window = smoothing_days(run.n);
    let mut prod = Panel::new(
        Some(format!(
            "Production started by product, {window}-day trailing mean"
        )),
        "units/day",
        NumFormat::Count,
    );
    let mut prod_legend = Vec::new();
    let mut series = Vec::new();
    for (i, p) in run.products.iter().enumerate() {
        let v = run.get(&format!("production_units_per_day[{p}]"));
        let label = if any_nonzero(&v) {
            p.clone()
        } else {
            format!("{p} (none made)")
        };
        prod_legend.push(LegendItem::fill(label, entity_colour(i).mix(STACK_ALPHA)));
        series.push((entity_colour(i), trailing_mean(&v, window)));
    }
    prod.layers = run.stack(&series);
    if run.products.is_empty() {
        prod.note = Some("no products".into());
    }

    // Packaging, all lines together.
    let lines = run.d.lines();
    let mut pack = Panel::new(
        Some("Packaging, all lines: capacity and wafers used".into()),
        "wafers/day",
        NumFormat::Count,
    );
    let (mut cap, mut used) = (vec![0.0; run.n], vec![0.0; run.n]);
    for l in &lines {
        for (a, b) in cap
            .iter_mut()
            .zip(run.get(&format!("packaging_capacity_wafers_per_day[{l}]")))
        {
            *a += b;
        }
        for (a, b) in used
            .iter_mut()
            .zip(run.get(&format!("packaging_used_wafers_per_day[{l}]")))
        {
            *a += b;
        }
    }
    let used_mean = trailing_mean(&used, window);
    pack.layers.push(Layer::Area {
        upper: run.points(&used_mean),
        lower: run.points(&vec![0.0; run.n]),
        colour: GREY.mix(0.35),
    });
    pack.layers.push(run.line(&used_mean, GREY, Dash::Solid));
    pack.layers.push(run.line(&cap, INK, Dash::Solid));
    let pack_legend = if lines.is_empty() {
        pack.note = Some("no packaging lines in this scenario".into());
        Vec::new()
    } else {
        vec![
            LegendItem::line(
                format!("capacity ({})", lines.join(" + ")),
                INK,
                Dash::Solid,
            ),
            LegendItem::fill(format!("used, {window}-day mean"), GREY.mix(0.5)),
        ]
    };

    // Binding constraint, day by day.
    let mut bind = Panel::new(
        Some("Binding constraint: what held back the day's output".into()),
        "",
        NumFormat::Count,
    );
    bind.categorical = true;
    let text: Vec<String> = run
        .d
        .text_series("binding_constraint")
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    let colour_of =
        |c: &str| constraint_named(c).map_or(RGBColor(0xEE, 0xEE, 0xEE), |c| constraint_style(c).0);
    let mut spans = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let a = i;
        while i < text.len() && text[i] == text[a] {
            i += 1;
        }
        let (x0, x1) = (run.offset + a as f64 - 0.5, run.offset + i as f64 - 0.5);
        let (x0, x1) = if text.len() == 1 {
            (run.offset, run.offset + 1.0)
        } else {
            (x0, x1)
        };
        spans.push((x0, x1, colour_of(&text[a])));
    }
    bind.layers.push(Layer::Blocks(spans));
    let days = &run.d.summary.binding_constraint_days;
    let mut bind_legend = Vec::new();
    for k in Constraint::ALL {
        let n = days.get(k.as_str()).copied().unwrap_or(0);
        let (c, label) = constraint_style(k);
        if n > 0 {
            bind_legend.push(LegendItem::fill(
                format!("{label} ({})", plural(n, "day")),
                c.mix(1.0),
            ));
        }
    }
    if text.is_empty() {
        bind.note = Some("not recorded".into());
    }

    let top = days
        .iter()
        .filter(|(k, _)| k.as_str() != "demand" && k.as_str() != "none")
        .max_by_key(|(_, n)| **n)
        .filter(|(_, n)| **n > 0);
    let caption = format!(
        "Accelerators started per day by product (stacked, {window}-day mean), packaging \
         capacity against wafers used, and the constraint that bound output each day{}.",
        match top {
            Some((k, n)) => format!(
                " ({} was the tightest supply constraint, on {})",
                constraint_label(k),
                plural(*n, "day")
            ),
            None => String::new(),
        }
    );
    // Units shipped or made of the products the record observes, beside the record.
    let mut obs_rows = Vec::new();
    for (family, what) in [
        ("shipped_units_per_day", "shipped"),
        ("production_units_per_day", "started"),
    ] {
        let mut panel = Panel::new(
            Some(format!(
                "Units {what} of the observed products ({window}-day mean) against the record \
                 (period averages)"
            )),
            "units/day",
            NumFormat::Count,
        );
        let mut legend = Vec::new();
        for (products, marks) in observed.family(family) {
            let mut sum = vec![0.0; run.n];
            for p in products {
                for (a, b) in sum.iter_mut().zip(run.get(&format!("{family}[{p}]"))) {
                    *a += b;
                }
            }
            let colour = run
                .products
                .iter()
                .position(|q| Some(q) == products.first())
                .map_or(GREY, entity_colour);
            panel.layers.extend(mark_layers(marks, 1.0));
            panel
                .layers
                .push(run.line(&trailing_mean(&sum, window), colour, Dash::Solid));
            legend.push(LegendItem::line(
                format!("{} (model)", products.join("+")),
                colour,
                Dash::Solid,
            ));
        }
        if !panel.layers.is_empty() {
            legend.extend(mark_legend());
            obs_rows.push(Row {
                weight: 0.7,
                panels: vec![panel],
                legend,
            });
        }
    }

    let fig = Figure {
        title: format!("Accelerator supply — {}", run.d.summary.scenario),
        subtitle: None,
        x: run.time().into(),
        strip: Vec::new(),
        rows: vec![
            Row {
                weight: 1.0,
                panels: vec![prod],
                legend: prod_legend,
            },
            Row {
                weight: 0.6,
                panels: vec![pack],
                legend: pack_legend,
            },
            Row {
                weight: 0.14,
                panels: vec![bind],
                legend: bind_legend,
            },
        ]
        .into_iter()
        .chain(obs_rows)
        .collect(),
    };
    ("supply", fig, caption)
}

fn fleet(run: &Run) -> (&'static str, Figure, String) {
    let mut inst = Panel::new(
        Some("Installed accelerators by product".into()),
        "units",
        NumFormat::Count,
    );
    let mut legend = Vec::new();
    let mut series = Vec::new();
    for (i, p) in run.products.iter().enumerate() {
        let v = run.get(&format!("installed_units[{p}]"));
        let label = if any_nonzero(&v) {
            p.clone()
        } else {
            format!("{p} (none installed)")
        };
        legend.push(LegendItem::fill(label, entity_colour(i).mix(STACK_ALPHA)));
        series.push((entity_colour(i), v));
    }
    inst.layers = run.stack(&series);
    if run.products.is_empty() {
        inst.note = Some("no products".into());
    }

    let stranded = run.get("stranded_units");
    let mut str_panel = Panel::new(
        Some("Stranded: delivered, waiting for power".into()),
        "units",
        NumFormat::Count,
    );
    str_panel.layers.push(run.line(&stranded, INK, Dash::Solid));
    if !any_nonzero(&stranded) {
        str_panel.note = Some("no unit waited for power".into());
    }
    let str_legend = vec![LegendItem::line("stranded units", INK, Dash::Solid)];

    let in_use = run.get("power_in_use_mw");
    let avail = run.get("power_available_mw");
    // A virtual site writes its unlimited power as 1e9 MW: not worth a line.
    let unlimited = avail.iter().any(|x| *x >= 1e9 * 0.999);
    let mut power = Panel::new(
        Some("Power at the operator's sites".into()),
        "MW",
        NumFormat::Count,
    );
    power.layers.push(run.line(&in_use, ALARM, Dash::Solid));
    let mut power_legend = vec![LegendItem::line("in use (all-in)", ALARM, Dash::Solid)];
    if unlimited {
        power_legend.push(LegendItem::heading("available: unlimited"));
    } else {
        power.layers.push(run.line(&avail, INK, Dash::Dashed));
        power_legend.push(LegendItem::line("available", INK, Dash::Dashed));
    }

    let s = &run.d.summary;
    let caption = format!(
        "Accelerators installed by product (stacked; the operator's fleet, or all buyers' if \
         there is no operator), units delivered but waiting for power, and power in use \
         against power available: {} H100e installed and {} units stranded at the end.",
        human(s.fleet_end_h100e),
        human(s.stranded_end as f64),
    );
    let fig = Figure {
        title: format!("Fleet and power — {}", s.scenario),
        subtitle: None,
        x: run.time().into(),
        strip: Vec::new(),
        rows: vec![
            Row {
                weight: 1.0,
                panels: vec![inst],
                legend,
            },
            Row {
                weight: 0.42,
                panels: vec![str_panel],
                legend: str_legend,
            },
            Row {
                weight: 0.55,
                panels: vec![power],
                legend: power_legend,
            },
        ],
    };
    ("fleet", fig, caption)
}

fn market(run: &Run, observed: &Observed) -> (&'static str, Figure, String) {
    let specs: [(&str, &str, &str, NumFormat, f64, &str); 4] = [
        (
            "backlog_units",
            "Order backlog (open orders of all buyers)",
            "units",
            NumFormat::Count,
            1.0,
            "no backlog in this run",
        ),
        (
            "lead_time_days",
            "Lead time quoted to a new order",
            "weeks",
            NumFormat::Count,
            1.0 / 7.0,
            "no lead time in this run",
        ),
        (
            "realised_lead_time_days",
            "Lead time realised: order to delivery of the units shipped",
            "weeks",
            NumFormat::Count,
            1.0 / 7.0,
            "no deliveries in this run",
        ),
        (
            "price_usd",
            "Price of new orders",
            "USD per unit",
            NumFormat::Usd,
            1.0,
            "no prices in this run",
        ),
    ];
    let mut shown = vec![false; run.products.len()];
    let mut rows = Vec::new();
    // The first day each product is on the market: quoted a lead time, ordered or made.
    // Prices are drawn from that day only, not at list price before a product exists.
    let on_market: Vec<usize> = run
        .products
        .iter()
        .map(|p| {
            [
                "lead_time_days",
                "ordered_units_per_day",
                "production_units_per_day",
            ]
            .iter()
            .filter_map(|c| run.get(&format!("{c}[{p}]")).iter().position(|x| *x > 0.0))
            .min()
            .unwrap_or(run.n)
        })
        .collect();
    for (col, heading, unit, format, scale, empty) in specs {
        let mut panel = Panel::new(Some(heading.into()), unit, format);
        for (i, p) in run.products.iter().enumerate() {
            let v: Vec<f64> = run
                .get(&format!("{col}[{p}]"))
                .into_iter()
                .map(|x| x * scale)
                .collect();
            if !any_nonzero(&v) {
                continue;
            }
            shown[i] = true;
            // Backlogs from the start; a lead time from the first day there is one (a
            // quote, or a delivery); a price from the first day on the market.
            let from = match col {
                "backlog_units" => 0,
                "price_usd" => on_market[i].min(v.len()),
                _ => v.iter().position(|x| *x > 0.0).unwrap_or(v.len()),
            };
            if from >= v.len() {
                continue;
            }
            panel.layers.push(Layer::Line {
                points: day_points(run.offset + from as f64, &v[from..]),
                colour: entity_colour(i),
                width: 3,
                dash: Dash::Solid,
            });
        }
        if panel.layers.is_empty() {
            panel.note = Some(empty.into());
        }
        // The record's figures of the same column, on the same axes.
        let mut legend = Vec::new();
        for (_, marks) in observed.family(col) {
            panel.layers.extend(mark_layers(marks, scale));
            legend = mark_legend();
        }
        rows.push(Row {
            weight: 1.0,
            panels: vec![panel],
            legend,
        });
    }
    // Orders placed and cancelled, all products.
    let window = smoothing_days(run.n);
    let mut orders = Panel::new(
        Some(format!(
            "Orders placed and cancelled, all products, {window}-day mean"
        )),
        "units/day",
        NumFormat::Count,
    );
    let (mut placed, mut cancelled) = (vec![0.0; run.n], vec![0.0; run.n]);
    for p in &run.products {
        for (a, b) in placed
            .iter_mut()
            .zip(run.get(&format!("ordered_units_per_day[{p}]")))
        {
            *a += b;
        }
        for (a, b) in cancelled
            .iter_mut()
            .zip(run.get(&format!("cancelled_units_per_day[{p}]")))
        {
            *a += b;
        }
    }
    // Grey and dashed, and named as totals: the legend column also lists the products, whose
    // lines are solid and may be black or vermillion.
    orders
        .layers
        .push(run.line(&trailing_mean(&placed, window), GREY, Dash::Solid));
    orders
        .layers
        .push(run.line(&trailing_mean(&cancelled, window), ALARM, Dash::Dashed));
    let orders_legend = vec![
        LegendItem::line("orders placed, all products", GREY, Dash::Solid),
        LegendItem::line("orders cancelled, all products", ALARM, Dash::Dashed),
    ];
    if !any_nonzero(&placed) && !any_nonzero(&cancelled) {
        orders.note = Some("no orders in this run".into());
    }
    rows.insert(
        1,
        Row {
            weight: 0.8,
            panels: vec![orders],
            legend: orders_legend,
        },
    );
    let legend: Vec<LegendItem> = run
        .products
        .iter()
        .enumerate()
        .filter(|(i, _)| shown[*i])
        .map(|(i, p)| LegendItem::line(p.clone(), entity_colour(i), Dash::Solid))
        .collect();
    if let Some(first) = rows.first_mut() {
        first.legend = legend;
    }
    let s = &run.d.summary;
    let caption = match &s.lead_time_peak_product {
        Some(p) => format!(
            "Open orders, orders placed and cancelled, the lead time quoted to a new order and \
             the lead time realised from order to delivery (in weeks), and price of each \
             product; the quote peaked at {:.0} weeks ({}, {}), the realised lead time at {:.0} \
             weeks.{}",
            s.lead_time_peak_days / 7.0,
            p,
            s.lead_time_peak_date.as_deref().unwrap_or("?"),
            s.realised_lead_time_peak_days / 7.0,
            if observed.series.is_empty() {
                ""
            } else {
                " Black dashed: the observed record, over its period; shaded: its range, green where \
                 the model falls inside it."
            }
        ),
        None => {
            "Open orders, quoted and realised lead times (in weeks) and price of each product; \
                 no product ever had a lead time."
                .to_string()
        }
    };
    let fig = Figure {
        title: format!("Market: backlog, lead time and price — {}", s.scenario),
        subtitle: None,
        x: run.time().into(),
        strip: Vec::new(),
        rows,
    };
    ("market", fig, caption)
}

fn users(run: &Run) -> (&'static str, Figure, String) {
    let with_waitlist = run
        .segments
        .iter()
        .any(|s| any_nonzero(&run.get(&format!("waitlist_users[{s}]"))));
    let pauses = run.pauses();
    let mut rows = Vec::new();
    for (i, seg) in run.segments.iter().enumerate() {
        let colour = entity_colour(i);
        let bands = pause_bands(run, Some(seg));
        let mut cols: Vec<(&str, &str, String, &str)> = vec![
            ("users", "users", format!("{seg}: users"), "no users"),
            (
                "signups_per_day",
                "users/day",
                format!("{seg}: sign-ups arriving per day"),
                "no sign-ups",
            ),
        ];
        if with_waitlist {
            cols.push((
                "waitlist_users",
                "users",
                format!("{seg}: waitlist"),
                "nobody waited",
            ));
        }
        let mut panels = Vec::new();
        for (col, unit, heading, empty) in cols {
            let mut p = Panel::new(Some(heading), unit, NumFormat::Count);
            p.layers.extend(bands.iter().cloned());
            let v = run.get(&format!("{col}[{seg}]"));
            if !any_nonzero(&v) {
                p.note = Some(empty.into());
            }
            p.layers.push(run.line(&v, colour, Dash::Solid));
            panels.push(p);
        }
        let mut legend = vec![LegendItem::line(seg.clone(), colour, Dash::Solid)];
        let mine: Vec<&Pause> = pauses.iter().filter(|p| &p.segment == seg).collect();
        if !mine.is_empty() {
            let days: i64 = mine.iter().map(|p| p.days).sum();
            legend.push(LegendItem::fill(
                format!("sign-ups paused ({})", plural(days, "day")),
                colour.mix(BAND_ALPHA * 1.5),
            ));
        }
        rows.push(Row {
            weight: 1.0,
            panels,
            legend,
        });
    }
    if rows.is_empty() {
        let mut p = Panel::new(None, "users", NumFormat::Count);
        p.note = Some("no user segments in this scenario".into());
        rows.push(Row {
            weight: 1.0,
            panels: vec![p],
            legend: Vec::new(),
        });
    }
    let s = &run.d.summary;
    let end: Vec<String> = run
        .segments
        .iter()
        .map(|g| {
            format!(
                "{} {}",
                human(s.users_end.get(g).copied().unwrap_or(0.0)),
                g
            )
        })
        .collect();
    let caption = if run.segments.is_empty() {
        "The scenario has no user segments.".to_string()
    } else {
        format!(
            "Users, sign-ups arriving per day (while sign-ups are paused they wait or are \
             lost){} of each segment (one row each, own scale), with its sign-up pauses \
             shaded; {} users at the end, {} sign-ups lost.",
            if with_waitlist { " and waitlist" } else { "" },
            end.join(", "),
            human(s.lost_signups),
        )
    };
    let fig = Figure {
        title: format!("Users and sign-ups — {}", s.scenario),
        subtitle: None,
        x: run.time().into(),
        strip: Vec::new(),
        rows,
    };
    ("users", fig, caption)
}

fn money(run: &Run) -> (&'static str, Figure, String) {
    let capex = run.get("capex_cum_usd");
    let revenue = running_sum(&run.get("revenue_usd_per_day"));
    let lost_pause = running_sum(&run.get("lost_revenue_pause_usd_per_day"));
    let lost_churn = running_sum(&run.get("lost_revenue_churn_usd_per_day"));
    let last = |v: &[f64]| v.last().copied().unwrap_or(0.0);
    // Revenue lost is often a few thousandths of the spending (the default scenario loses
    // $0.14B beside $40B of capex): a panel and scale of its own, so that it shows.
    let mut cum = Panel::new(
        Some("Cumulative spending and revenue".into()),
        "USD",
        NumFormat::Usd,
    );
    let mut legend = Vec::new();
    for (label, v, colour) in [("capex", &capex, CAPACITY), ("revenue", &revenue, GREEN)] {
        cum.layers.push(run.line(v, colour, Dash::Solid));
        let text = format!("{label}: {}", usd(last(v)));
        legend.push(LegendItem::line(text, colour, Dash::Solid));
    }
    let mut lost = Panel::new(
        Some("Revenue lost to sign-up pauses and churn, cumulative".into()),
        "USD",
        NumFormat::Usd,
    );
    let mut lost_legend = Vec::new();
    for (label, v, colour, dash) in [
        ("lost to pauses", &lost_pause, ALARM, Dash::Solid),
        ("lost to churn", &lost_churn, PURPLE, Dash::Dashed),
    ] {
        lost.layers.push(run.line(v, colour, dash));
        let text = format!("{label}: {}", usd(last(v)));
        lost_legend.push(LegendItem::line(text, colour, dash));
    }
    if !any_nonzero(&lost_pause) && !any_nonzero(&lost_churn) {
        lost.note = Some("no revenue lost in this run".into());
    }
    let cents: Vec<f64> = run
        .get("cost_per_query_usd")
        .into_iter()
        .map(|x| x * 100.0)
        .collect();
    let mut cpq = Panel::new(
        Some("Cost per query served: depreciation and power".into()),
        "US cents per query",
        NumFormat::Count,
    );
    cpq.layers.push(run.line(&cents, INK, Dash::Solid));
    let s = &run.d.summary;
    let caption = format!(
        "Capital spent, revenue earned and revenue lost to sign-up pauses and churn, \
         cumulative (capex {}, revenue {}, lost {}), and the cost of a query served in US cents.",
        usd(s.capex_usd),
        usd(s.revenue_usd),
        usd(s.lost_revenue_usd),
    );
    let fig = Figure {
        title: format!("Money — {}", s.scenario),
        subtitle: None,
        x: run.time().into(),
        strip: Vec::new(),
        rows: vec![
            Row {
                weight: 1.0,
                panels: vec![cum],
                legend,
            },
            Row {
                weight: 0.6,
                panels: vec![lost],
                legend: lost_legend,
            },
            Row {
                weight: 0.6,
                panels: vec![cpq],
                legend: vec![LegendItem::line("cost per query", INK, Dash::Solid)],
            },
        ],
    };
    ("money", fig, caption)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;

    /// Ten days of one product that is first quoted and ordered on day 4 (a lead time of 30
    /// days from then), with a list price on every day.
    fn launched_on_day_four() -> ChartData {
        let mut ts = String::from(
            "date,installed_units[X],lead_time_days[X],price_usd[X],ordered_units_per_day[X],\
             production_units_per_day[X],backlog_units[X]\n",
        );
        for i in 0..10u64 {
            let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(i);
            let on = i >= 4;
            let _ = writeln!(
                ts,
                "{day},0,{},1000,{},0,{}",
                if on { 30 } else { 0 },
                if i == 4 { 5 } else { 0 },
                if on { 5 } else { 0 }
            );
        }
        let summary = br#"{"scenario":"x","seed":0,"start":"2024-01-01","end":"2024-01-10","days":10,"first_shortage":null,"last_shortage":null,"shortage_days":0,"peak_unserved_share":0,"pause_episodes":[],"pause_days":0,"lost_signups":0,"lost_revenue_usd":0,"lost_revenue_pause_usd":0,"lost_revenue_churn_usd":0,"revenue_usd":0,"lead_time_peak_days":30,"lead_time_peak_date":"2024-01-05","lead_time_peak_product":"X","capex_usd":0,"power_cost_usd":0,"production_by_year":{},"fleet_end":{},"fleet_end_h100e":0,"stranded_end":0,"binding_constraint_days":{},"users_end":{}}"#;
        ChartData::from_bytes(ts.as_bytes(), summary, b"date,kind,subject,cause\n")
            .expect("chart data")
    }

    /// The figure's panel whose heading starts with `heading`.
    fn panel<'a>(fig: &'a Figure, heading: &str) -> &'a Panel {
        fig.rows
            .iter()
            .flat_map(|r| &r.panels)
            .find(|p| p.heading.as_deref().is_some_and(|h| h.starts_with(heading)))
            .unwrap_or_else(|| panic!("no panel {heading}"))
    }

    fn first_x(panel: &Panel) -> f64 {
        panel
            .layers
            .iter()
            .find_map(|l| match l {
                Layer::Line { points, .. } => points.first().map(|p| p.0),
                _ => None,
            })
            .expect("a line")
    }

    /// The money chart's revenue-lost panel says so when a run loses nothing, rather than
    /// showing two bare lines at zero.
    #[test]
    fn a_run_that_loses_no_revenue_says_so_on_the_money_chart() {
        let d = launched_on_day_four();
        let run = Run::new(&d);
        let (_, fig, _) = money(&run);
        let lost = panel(&fig, "Revenue lost");
        assert_eq!(lost.note.as_deref(), Some("no revenue lost in this run"));
    }

    #[test]
    fn lead_times_and_prices_start_on_a_products_first_day_on_the_market() {
        let d = launched_on_day_four();
        let run = Run::new(&d);
        let (_, fig, _) = market(&run, &Observed::default());
        // Day 4 is x = 4 (a day drawn one day wide starts at its own x).
        assert_eq!(first_x(panel(&fig, "Lead time quoted")), 4.0);
        assert_eq!(first_x(panel(&fig, "Price of new orders")), 4.0);
        // The backlog is drawn from the start.
        assert_eq!(first_x(panel(&fig, "Order backlog")), 0.0);
    }
}
