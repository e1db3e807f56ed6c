//! The charts of `capsim sweep`, `sensitivity` and `solve`: a metric against an input (lines,
//! bands, points, a target and an answer), a heatmap over two inputs, and a tornado of the
//! inputs ranked by their effect. Each is built as plain data ([`Chart`]) from the parsed
//! CSV, then drawn by [`render`] on either backend, in the size, fonts, text sizes and
//! palette of the run charts (`figure.rs`, `scale.rs`).
//!
//! Unlike the run charts, the x axis is a number (an input's value or the metric), so these
//! charts have their own layout: the title (and a muted line under it), one plot, a legend
//! (or a colour bar) in a column on the right.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figure::{
    DESC_PX, LEGEND_PX, LEGEND_ROW_H, LEGEND_W, LegendItem, MUTED, Res, TICK_PX, TITLE_H, TITLE_PX,
    bold, draw_legend_item, fit, font, grid_style,
};
use super::run::{BAND_ALPHA, INK};
use super::scale::{PALETTE, entity_colour, is_light};
use super::{HEIGHT, WIDTH};
use crate::format::NumFormat;
use crate::format::{compact, readout as precise};
use crate::report::whatif::{Input, Sensitivity, Solve, Stat, Sweep};

/// Most lines in a sweep chart (one colour each); further combinations are left out, and
/// the chart says so.
const MAX_LINES: usize = 8;
/// Most inputs in a tornado.
const TORNADO_ROWS: usize = 15;
/// Room left of a plot for value labels and the rotated axis title [px].
const Y_AREA: i32 = 118;
/// How far right the plot's area starts, so the rotated axis title is not cut [px].
const DESC_INSET: i32 = 16;
/// Room under a plot for tick labels and the axis title [px].
const X_AREA: i32 = 72;
/// Space right of a plot [px].
const RIGHT_PAD: i32 = 30;
const BOTTOM_PAD: i32 = 8;
/// Height of the line under the title [px].
const SUBTITLE_H: i32 = 30;
/// Value labels in plots (bar ends, heatmap cells) [px].
const VALUE_PX: f64 = 17.0;
/// Width of the heatmap's colour-bar column [px].
const COLOUR_BAR_W: i32 = 250;

/// Blue: an input lowered; vermillion: raised (Okabe-Ito).
const LOWERED: RGBColor = PALETTE[0];
const RAISED: RGBColor = PALETTE[3];
/// Bluish green: the target; reddish purple: the answer; orange: bisection trials.
const TARGET: RGBColor = PALETTE[2];
const ANSWER: RGBColor = PALETTE[4];
const BISECT: RGBColor = PALETTE[1];
/// Colour of the least (first) to the greatest (last) value of a heatmap: viridis, which
/// reads in order in grey and to readers with colour-vision deficiencies.
const VIRIDIS: [RGBColor; 8] = [
    RGBColor(68, 1, 84),
    RGBColor(70, 50, 127),
    RGBColor(54, 92, 141),
    RGBColor(39, 127, 143),
    RGBColor(31, 162, 136),
    RGBColor(74, 194, 110),
    RGBColor(160, 219, 57),
    RGBColor(254, 232, 37),
];

/// A what-if chart, as data.
#[derive(Debug, Clone)]
pub(super) enum Chart {
    Xy(Xy),
    Heatmap(Heatmap),
    Tornado(Tornado),
}

/// Numbers against numbers.
#[derive(Debug, Clone)]
pub(super) struct Xy {
    pub title: String,
    pub subtitle: Option<String>,
    pub x_desc: String,
    pub y_desc: String,
    pub x_format: NumFormat,
    pub y_format: NumFormat,
    /// Drawn in order.
    pub layers: Vec<XyLayer>,
    pub legend: Vec<Key>,
}

/// Something drawn in an [`Xy`] chart, in data coordinates.
#[derive(Debug, Clone)]
pub(super) enum XyLayer {
    /// The region between two lines (same x values).
    Band {
        upper: Vec<(f64, f64)>,
        lower: Vec<(f64, f64)>,
        colour: RGBAColor,
    },
    /// A line through points, each marked with a dot.
    Line {
        points: Vec<(f64, f64)>,
        colour: RGBColor,
        width: u32,
    },
    /// Points alone.
    Points {
        points: Vec<(f64, f64)>,
        colour: RGBColor,
        shape: Shape,
    },
    /// A dashed horizontal line across the plot, labelled at its right end.
    HLine {
        y: f64,
        colour: RGBColor,
        label: String,
    },
    /// A vertical line through the plot, labelled at its top.
    VLine {
        x: f64,
        colour: RGBColor,
        label: String,
    },
}

/// How a point is marked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Shape {
    Circle,
    Triangle,
}

/// A legend entry: as in the run charts, or a point.
#[derive(Debug, Clone)]
pub(super) enum Key {
    Item(LegendItem),
    Point {
        label: String,
        colour: RGBColor,
        shape: Shape,
    },
}

/// A metric over the grid of two inputs.
#[derive(Debug, Clone)]
pub(super) struct Heatmap {
    pub title: String,
    pub subtitle: Option<String>,
    pub x_desc: String,
    pub y_desc: String,
    /// The values of the inputs, in order: columns left to right, rows bottom to top.
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// `ys.len()` rows of `xs.len()` values; NaN where there is none.
    pub cells: Vec<Vec<f64>>,
    /// The colour bar's title: the metric, and its unit on a second line.
    pub value_desc: (String, Option<String>),
    pub format: NumFormat,
}

/// Inputs ranked by their effect on a metric.
#[derive(Debug, Clone)]
pub(super) struct Tornado {
    pub title: String,
    pub subtitle: Option<String>,
    pub x_desc: String,
    pub format: NumFormat,
    /// The metric at the base.
    pub base: f64,
    /// Top to bottom.
    pub bars: Vec<Bar>,
    pub legend: Vec<Key>,
}

/// One input of a tornado: the metric with it lowered and raised.
#[derive(Debug, Clone)]
pub(super) struct Bar {
    pub label: String,
    pub low: f64,
    pub high: f64,
}

/// The unit of a summary metric, as `docs/outputs.md` gives it.
fn metric_unit(metric: &str) -> Option<&'static str> {
    let head = metric.split('.').next().unwrap_or(metric);
    Some(match head {
        "pause_days" => "segment-days",
        "shortage_days" | "lead_time_peak_days" | "pause_days_by_segment" => "days",
        "binding_constraint_days" => "days",
        "peak_unserved_share" => "share of demand",
        "lost_signups" | "users_end" => "users",
        "fleet_end_h100e" => "H100e",
        "stranded_end" | "fleet_end" | "production_by_year" => "units",
        m if m.ends_with("_usd") => "USD",
        _ => return None,
    })
}

/// A word of a field name as a unit.
fn unit_word(w: &str) -> String {
    match w {
        "usd" => "USD".into(),
        "w" => "W".into(),
        "mw" | "megawatts" => "MW".into(),
        "h100e" => "H100e".into(),
        "1k_tokens" => "1k tokens".into(),
        other => other.replace('_', " "),
    }
}

/// The unit of an input, read from its field's name (`capacity_wafers_per_month`:
/// wafers/month; `power_w`: W), if the name carries one.
fn input_unit(path: &str) -> Option<String> {
    let field = path.rsplit('.').next().unwrap_or(path).trim_matches('"');
    if let Some((num, per)) = field.split_once("_per_") {
        let num = num.rsplit('_').next().unwrap_or(num);
        let num = if num == "seconds" && field.starts_with("h100_") {
            "H100-seconds".to_string()
        } else {
            unit_word(num)
        };
        let per: Vec<String> = per.split("_per_").map(unit_word).collect();
        return Some(format!("{num}/{}", per.join("/")));
    }
    let last = field.rsplit('_').next().unwrap_or(field);
    match last {
        "usd" | "w" | "mw" | "megawatts" | "h100e" => Some(unit_word(last)),
        "days" | "months" | "years" | "hours" | "wafers" | "units" | "users" => {
            Some(last.to_string())
        }
        _ => None,
    }
}

fn format_of(name: &str) -> NumFormat {
    if name.contains("usd") {
        NumFormat::Usd
    } else {
        NumFormat::Count
    }
}

/// `pause_days (segment-days)`.
fn metric_desc(metric: &str) -> String {
    match metric_unit(metric) {
        Some(u) => format!("{metric} ({u})"),
        None => metric.to_string(),
    }
}

/// `added to supply.x.capacity_wafers_per_month (wafers/month)`.
fn input_desc(i: &Input) -> String {
    let what = if i.added {
        format!("added to {}", i.path)
    } else {
        i.path.clone()
    };
    match input_unit(&i.path) {
        Some(u) => format!("{what} ({u})"),
        None => what,
    }
}

/// The last two segments of an input's path, `(added)` marking an addition: for legends.
fn input_short(i: &Input) -> String {
    let segs: Vec<&str> = i.path.rsplitn(3, '.').collect();
    let tail = match segs.as_slice() {
        [a, b, ..] => format!("{b}.{a}"),
        _ => i.path.clone(),
    };
    if i.added {
        format!("{tail} (added)")
    } else {
        tail
    }
}

/// How many runs make a point.
fn reps_text(n: u64) -> String {
    if n > 1 {
        format!("{n} replications per point")
    } else {
        "one run per point".into()
    }
}

/// The charts of a sweep: `(file stem, chart)`.
pub(super) fn sweep(s: &Sweep) -> Vec<(String, Chart)> {
    let mut out = vec![(format!("sweep_{}", s.metric), Chart::Xy(sweep_lines(s)))];
    if s.inputs.len() == 2 {
        out.push((
            format!("sweep_{}_heatmap", s.metric),
            Chart::Heatmap(sweep_heatmap(s)),
        ));
    }
    out
}

/// One line of a sweep chart: the values of the other inputs, and the points along the first.
type Group = (Vec<f64>, Vec<(f64, Stat)>);

/// The metric against the first input, a line per combination of the others.
fn sweep_lines(s: &Sweep) -> Xy {
    let banded = s.values.iter().any(|v| v.bands.is_some());
    // Combinations of the other inputs, in the order of the grid.
    let mut groups: Vec<Group> = Vec::new();
    for (p, v) in s.points.iter().zip(&s.values) {
        let rest = p[1..].to_vec();
        let at = match groups.iter().position(|(r, _)| *r == rest) {
            Some(k) => k,
            None => {
                groups.push((rest, Vec::new()));
                groups.len() - 1
            }
        };
        groups[at].1.push((p[0], *v));
    }
    let total = groups.len();
    groups.truncate(MAX_LINES);
    let mut layers = Vec::new();
    let mut legend = Vec::new();
    let others = &s.inputs[1..];
    if !others.is_empty() {
        let names: Vec<String> = others.iter().map(input_short).collect();
        legend.push(Key::Item(LegendItem::heading(names.join(", "))));
    }
    let single = groups.len() == 1;
    for (k, (rest, pts)) in groups.iter().enumerate() {
        let colour = entity_colour(k);
        let finite: Vec<(f64, Stat)> = pts
            .iter()
            .copied()
            .filter(|(_, v)| v.mid.is_finite())
            .collect();
        if banded {
            let with = |i: usize| -> Vec<(f64, f64)> {
                finite
                    .iter()
                    .filter_map(|(x, v)| v.bands.map(|b| (*x, b[i])))
                    .collect()
            };
            // P5–P95 paler than P25–P75; fainter still when several lines share the plot.
            let alpha = if single { 1.0 } else { 0.55 };
            layers.push(XyLayer::Band {
                upper: with(3),
                lower: with(0),
                colour: colour.mix(BAND_ALPHA * alpha),
            });
            layers.push(XyLayer::Band {
                upper: with(2),
                lower: with(1),
                colour: colour.mix(BAND_ALPHA * 2.0 * alpha),
            });
        }
        layers.push(XyLayer::Line {
            points: finite.iter().map(|(x, v)| (*x, v.mid)).collect(),
            colour,
            width: 3,
        });
        let label = if others.is_empty() {
            if banded {
                "median (P50)".to_string()
            } else {
                s.metric.clone()
            }
        } else {
            let vals: Vec<String> = rest.iter().map(|x| compact(*x)).collect();
            format!("= {}", vals.join(", "))
        };
        legend.push(Key::Item(LegendItem::line(
            label,
            colour,
            super::figure::Dash::Solid,
        )));
    }
    if banded {
        legend.push(Key::Item(LegendItem::fill(
            "P25–P75",
            entity_colour(0).mix(BAND_ALPHA * 2.0),
        )));
        legend.push(Key::Item(LegendItem::fill(
            "P5–P95",
            entity_colour(0).mix(BAND_ALPHA),
        )));
    }
    let mut sub = reps_text(s.replications);
    if banded {
        sub.push_str(": the median (P50) and the P25–P75 and P5–P95 bands");
    }
    if !others.is_empty() {
        let which = if others.len() == 1 {
            format!("value of {}", input_short(&others[0]))
        } else {
            "combination of the other inputs".into()
        };
        sub = format!("one line per {which}; {sub}");
    }
    if total > MAX_LINES {
        sub = format!("showing the first {MAX_LINES} of {total} combinations; {sub}");
    }
    Xy {
        title: format!("Sweep of {} — {}", s.metric, s.scenario),
        subtitle: Some(sub),
        x_desc: input_desc(&s.inputs[0]),
        y_desc: metric_desc(&s.metric),
        x_format: format_of(&s.inputs[0].path),
        y_format: format_of(&s.metric),
        layers,
        legend,
    }
}

/// The metric over the grid of the two inputs.
fn sweep_heatmap(s: &Sweep) -> Heatmap {
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    for p in &s.points {
        if !xs.contains(&p[0]) {
            xs.push(p[0]);
        }
        if !ys.contains(&p[1]) {
            ys.push(p[1]);
        }
    }
    let mut cells = vec![vec![f64::NAN; xs.len()]; ys.len()];
    for (p, v) in s.points.iter().zip(&s.values) {
        let (Some(i), Some(j)) = (
            xs.iter().position(|x| *x == p[0]),
            ys.iter().position(|y| *y == p[1]),
        ) else {
            continue;
        };
        cells[j][i] = v.mid;
    }
    let stat = if s.replications > 1 {
        format!("median (P50) of {} replications per cell", s.replications)
    } else {
        "one run per cell".into()
    };
    Heatmap {
        title: format!("Sweep of {} over two inputs — {}", s.metric, s.scenario),
        subtitle: Some(stat),
        x_desc: input_desc(&s.inputs[0]),
        y_desc: input_desc(&s.inputs[1]),
        xs,
        ys,
        cells,
        value_desc: (
            s.metric.clone(),
            metric_unit(&s.metric).map(|u| format!("({u})")),
        ),
        format: format_of(&s.metric),
    }
}

/// The tornado of a sensitivity analysis: `(file stem, chart)`.
pub(super) fn tornado(s: &Sensitivity) -> (String, Chart) {
    let ok: Vec<_> = s
        .effects
        .iter()
        .filter(|e| e.status.starts_with("ok") && e.low.is_finite() && e.high.is_finite())
        .collect();
    let bars: Vec<Bar> = ok
        .iter()
        .take(TORNADO_ROWS)
        .map(|e| Bar {
            label: e.input.clone(),
            low: e.low,
            high: e.high,
        })
        .collect();
    let pct = compact(s.delta * 100.0);
    let format = format_of(&s.metric);
    let legend = vec![
        Key::Item(LegendItem::fill(
            format!("input lowered by {pct}%"),
            LOWERED.mix(0.9),
        )),
        Key::Item(LegendItem::fill(
            format!("input raised by {pct}%"),
            RAISED.mix(0.9),
        )),
        Key::Item(LegendItem::line(
            format!("base: {}", format.tick(s.base)),
            INK,
            super::figure::Dash::Solid,
        )),
    ];
    let each = if s.replications > 1 {
        format!("{} replications per run", s.replications)
    } else {
        "one run each".into()
    };
    let subtitle = format!(
        "the {} of {} inputs varied with the largest swing; each moved alone, the others at base ({each})",
        bars.len(),
        ok.len()
    );
    (
        format!("tornado_{}", s.metric),
        Chart::Tornado(Tornado {
            title: format!(
                "Sensitivity of {} to ±{pct}% of each input — {}",
                s.metric, s.scenario
            ),
            subtitle: Some(subtitle),
            x_desc: metric_desc(&s.metric),
            format,
            base: s.base,
            bars,
            legend,
        }),
    )
}

/// The trials of a solve: `(file stem, chart)`.
pub(super) fn solve(s: &Solve) -> (String, Chart) {
    let m = &s.target.metric;
    let mut sorted: Vec<(f64, f64)> = s
        .trials
        .iter()
        .filter(|t| t.metric.is_finite())
        .map(|t| (t.x, t.metric))
        .collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pick = |bisect: bool| -> Vec<(f64, f64)> {
        s.trials
            .iter()
            .filter(|t| t.bisect == bisect && t.metric.is_finite())
            .map(|t| (t.x, t.metric))
            .collect()
    };
    let target = format!("{m} {} {}", s.target.op(), compact(s.target.value));
    let grey = RGBColor(0x99, 0x99, 0x99);
    let mut layers = vec![
        XyLayer::Line {
            points: sorted,
            colour: grey,
            width: 2,
        },
        XyLayer::HLine {
            y: s.target.value,
            colour: TARGET,
            label: format!("target: {target}"),
        },
    ];
    let x_format = format_of(&s.input.path);
    if let Some(a) = s.answer {
        layers.push(XyLayer::VLine {
            x: a,
            colour: ANSWER,
            label: format!("answer: {}", precise(a)),
        });
    }
    layers.push(XyLayer::Points {
        points: pick(false),
        colour: PALETTE[0],
        shape: Shape::Circle,
    });
    layers.push(XyLayer::Points {
        points: pick(true),
        colour: BISECT,
        shape: Shape::Triangle,
    });
    let dash = super::figure::Dash::Dashed;
    let mut legend = vec![
        Key::Point {
            label: "scan (evenly spaced)".into(),
            colour: PALETTE[0],
            shape: Shape::Circle,
        },
        Key::Item(LegendItem::line("target", TARGET, dash)),
    ];
    if s.trials.iter().any(|t| t.bisect) {
        legend.insert(
            1,
            Key::Point {
                label: "bisection".into(),
                colour: BISECT,
                shape: Shape::Triangle,
            },
        );
    }
    if s.answer.is_some() {
        legend.push(Key::Item(LegendItem::line("answer", ANSWER, dash)));
    }
    let which = if s.largest { "largest" } else { "smallest" };
    let stat = match (s.replications, s.percentile) {
        (1, _) => "one run per trial".to_string(),
        (n, Some(p)) => format!("P{} of {n} replications per trial", compact(p)),
        (n, None) => format!("mean of {n} replications per trial"),
    };
    let subtitle = match s.answer {
        Some(a) => format!(
            "the {which} value meeting the target: {} ({} trials; {stat})",
            precise(a),
            s.trials.len()
        ),
        None => format!(
            "the target is not met anywhere in the range ({} trials; {stat})",
            s.trials.len()
        ),
    };
    let y_desc = match (s.replications, s.percentile) {
        (1, _) => metric_desc(m),
        (_, Some(p)) => format!("{}, P{}", metric_desc(m), compact(p)),
        (_, None) => format!("{}, mean", metric_desc(m)),
    };
    (
        format!("solve_{m}"),
        Chart::Xy(Xy {
            title: format!("Solve: {target} — {}", s.scenario),
            subtitle: Some(subtitle),
            x_desc: input_desc(&s.input),
            y_desc,
            x_format,
            y_format: format_of(m),
            layers,
            legend,
        }),
    )
}

/// Draws a what-if chart on `root`, [`WIDTH`] x [`HEIGHT`] pixels.
pub(super) fn render<DB: DrawingBackend>(c: &Chart, root: &DrawingArea<DB, Shift>) -> Res<(), DB> {
    root.fill(&WHITE)?;
    match c {
        Chart::Xy(x) => render_xy(x, root),
        Chart::Heatmap(h) => render_heatmap(h, root),
        Chart::Tornado(t) => render_tornado(t, root),
    }
}

/// The title and the line under it; returns where the plot may start [px].
fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: Option<&str>,
) -> Res<i32, DB> {
    let w = WIDTH as i32;
    let t = fit(root, title, &bold(TITLE_PX), w - 40)?;
    root.draw_text(
        &t,
        &bold(TITLE_PX).pos(Pos::new(HPos::Left, VPos::Center)),
        (20, TITLE_H / 2),
    )?;
    let Some(sub) = subtitle else {
        return Ok(TITLE_H + 8);
    };
    let style = font(LEGEND_PX).color(&MUTED);
    let s = fit(root, sub, &style, w - 40)?;
    root.draw_text(
        &s,
        &style.pos(Pos::new(HPos::Left, VPos::Center)),
        (20, TITLE_H + SUBTITLE_H / 2 - 6),
    )?;
    Ok(TITLE_H + SUBTITLE_H + 8)
}

/// Shortens `text` by replacing its middle with an ellipsis until it fits `max_w` pixels,
/// so both the start and the end of a path stay readable.
fn fit_middle<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max_w: i32,
) -> Res<String, DB> {
    let width = |s: &str| root.estimate_text_size(s, style).map(|(w, _)| w as i32);
    if width(text)? <= max_w {
        return Ok(text.to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    for cut in 1..chars.len() {
        let keep = chars.len() - cut;
        let head = keep / 2;
        let tail = keep - head;
        let s: String = chars[..head]
            .iter()
            .chain(['…'].iter())
            .chain(chars[chars.len() - tail..].iter())
            .collect();
        if width(&s)? <= max_w {
            return Ok(s);
        }
    }
    Ok("…".into())
}

/// The legend column from `(x, y)`, `width` wide.
fn draw_keys<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    keys: &[Key],
    x: i32,
    mut y: i32,
    width: i32,
) -> Res<(), DB> {
    for k in keys {
        if y + LEGEND_ROW_H > HEIGHT as i32 {
            break;
        }
        match k {
            Key::Item(item) => draw_legend_item(root, item, x, y, width)?,
            Key::Point {
                label,
                colour,
                shape,
            } => {
                let cy = y + LEGEND_ROW_H / 2;
                draw_point(root, (x + 17, cy), *colour, *shape)?;
                let style = font(LEGEND_PX);
                let text = fit(root, label, &style, width - 44)?;
                root.draw_text(
                    &text,
                    &style.pos(Pos::new(HPos::Left, VPos::Center)),
                    (x + 44, cy),
                )?;
            }
        }
        y += LEGEND_ROW_H;
    }
    Ok(())
}

/// A point marker at pixel `at`, with a white edge so that overlapping points stay apart.
fn draw_point<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    colour: RGBColor,
    shape: Shape,
) -> Res<(), DB> {
    match shape {
        Shape::Circle => {
            root.draw(&Circle::new(at, 8, WHITE.filled()))?;
            root.draw(&Circle::new(at, 6, colour.filled()))?;
        }
        Shape::Triangle => {
            root.draw(&TriangleMarker::new(at, 11, WHITE.filled()))?;
            root.draw(&TriangleMarker::new(at, 8, colour.filled()))?;
        }
    }
    Ok(())
}

/// A range covering `values`, padded by `pad` of its span on each side; from 0 when the
/// values are all positive and 0 is not far below them.
fn value_range(values: impl Iterator<Item = f64>, pad: f64, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero && lo >= 0.0 && lo <= hi * 0.5 {
        lo = 0.0;
        let span = if hi > lo { hi - lo } else { 1.0 };
        return (0.0, hi + span * pad);
    }
    let span = if hi > lo {
        hi - lo
    } else {
        lo.abs().max(1.0) * 0.1
    };
    (lo - span * pad, hi + span * pad)
}

fn render_xy<DB: DrawingBackend>(c: &Xy, root: &DrawingArea<DB, Shift>) -> Res<(), DB> {
    let (w, h) = (WIDTH as i32, HEIGHT as i32);
    let top = header(root, &c.title, c.subtitle.as_deref())?;
    let legend_w = if c.legend.is_empty() { 0 } else { LEGEND_W };
    let xs = c.layers.iter().flat_map(|l| -> Vec<f64> {
        match l {
            XyLayer::Band { upper, .. } => upper.iter().map(|p| p.0).collect(),
            XyLayer::Line { points, .. } | XyLayer::Points { points, .. } => {
                points.iter().map(|p| p.0).collect()
            }
            XyLayer::VLine { x, .. } => vec![*x],
            XyLayer::HLine { .. } => vec![],
        }
    });
    let (x0, x1) = value_range(xs, 0.03, false);
    let ys = c.layers.iter().flat_map(|l| -> Vec<f64> {
        match l {
            XyLayer::Band { upper, lower, .. } => upper.iter().chain(lower).map(|p| p.1).collect(),
            XyLayer::Line { points, .. } | XyLayer::Points { points, .. } => {
                points.iter().map(|p| p.1).collect()
            }
            XyLayer::HLine { y, .. } => vec![*y],
            XyLayer::VLine { .. } => vec![],
        }
    });
    let (y0, y1) = value_range(ys, 0.08, true);
    // Room above the plot for the labels of vertical lines.
    let vlabels = c.layers.iter().any(|l| matches!(l, XyLayer::VLine { .. }));
    let plot_top = top + if vlabels { 30 } else { 6 };
    let area = root.clone().shrink(
        (DESC_INSET, plot_top),
        (w - legend_w - DESC_INSET, h - plot_top - BOTTOM_PAD),
    );
    let mut chart = ChartBuilder::on(&area)
        .margin_right(RIGHT_PAD)
        .x_label_area_size(X_AREA)
        .y_label_area_size(Y_AREA - DESC_INSET)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let (xf, yf) = (c.x_format, c.y_format);
    let xfmt = move |x: &f64| xf.tick(*x);
    let yfmt = move |y: &f64| yf.tick(*y);
    let plot_w = w - legend_w - Y_AREA - RIGHT_PAD;
    let x_desc = fit_middle(root, &c.x_desc, &font(DESC_PX), plot_w)?;
    let y_desc = fit_middle(root, &c.y_desc, &font(DESC_PX), h - plot_top - X_AREA)?;
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&xfmt)
        .y_label_formatter(&yfmt)
        .x_labels(10)
        .y_labels(9)
        .x_desc(x_desc)
        .y_desc(y_desc);
    grid_style(&mut mesh).draw()?;
    let pa = chart.plotting_area();
    let (px, py) = pa.get_pixel_range();
    for l in &c.layers {
        match l {
            XyLayer::Band {
                upper,
                lower,
                colour,
            } => {
                let mut pts = upper.clone();
                pts.extend(lower.iter().rev());
                if pts.len() >= 3 {
                    pa.draw(&Polygon::new(pts, colour.filled()))?;
                }
            }
            XyLayer::Line {
                points,
                colour,
                width,
            } => {
                if is_light(*colour) {
                    pa.draw(&PathElement::new(
                        points.clone(),
                        ShapeStyle::from(BLACK.mix(0.6)).stroke_width(width + 2),
                    ))?;
                }
                pa.draw(&PathElement::new(
                    points.clone(),
                    ShapeStyle::from(*colour).stroke_width(*width),
                ))?;
                if *width >= 3 {
                    for p in points {
                        pa.draw(&Circle::new(*p, 5, colour.filled()))?;
                    }
                }
            }
            XyLayer::Points {
                points,
                colour,
                shape,
            } => {
                for p in points {
                    draw_point(root, chart.backend_coord(p), *colour, *shape)?;
                }
            }
            XyLayer::HLine { y, colour, label } => {
                let (_, yy) = chart.backend_coord(&(x0, *y));
                root.draw(&DashedPathElement::new(
                    vec![(px.start, yy), (px.end, yy)],
                    12,
                    7,
                    ShapeStyle::from(*colour).stroke_width(3),
                ))?;
                let style = font(LEGEND_PX).color(colour);
                // Above the line, or below it when it runs along the plot's top.
                let (v, ty) = if yy - 26 > py.start {
                    (VPos::Bottom, yy - 6)
                } else {
                    (VPos::Top, yy + 6)
                };
                root.draw_text(
                    label,
                    &style.pos(Pos::new(HPos::Right, v)),
                    (px.end - 10, ty),
                )?;
            }
            XyLayer::VLine { x, colour, label } => {
                let (xx, _) = chart.backend_coord(&(*x, y0));
                root.draw(&DashedPathElement::new(
                    vec![(xx, py.start - 24), (xx, py.end)],
                    12,
                    7,
                    ShapeStyle::from(*colour).stroke_width(3),
                ))?;
                let style = bold(LEGEND_PX).color(colour);
                let tw = root.estimate_text_size(label, &style)?.0 as i32;
                let (hp, tx) = if xx + 8 + tw <= px.end {
                    (HPos::Left, xx + 8)
                } else {
                    (HPos::Right, xx - 8)
                };
                root.draw_text(
                    label,
                    &style.pos(Pos::new(hp, VPos::Center)),
                    (tx, py.start - 14),
                )?;
            }
        }
    }
    let frame = pa.strip_coord_spec();
    let (fw, fh) = frame.dim_in_pixel();
    frame.draw(&Rectangle::new(
        [(0, 0), (fw as i32 - 1, fh as i32 - 1)],
        ShapeStyle::from(BLACK.mix(0.35)).stroke_width(1),
    ))?;
    draw_keys(root, &c.legend, w - legend_w + 14, py.start, legend_w - 24)
}

/// The colour of `t` in 0..=1 on the viridis scale.
fn viridis(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let f = t * (VIRIDIS.len() - 1) as f64;
    let i = (f.floor() as usize).min(VIRIDIS.len() - 2);
    let r = f - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * r).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Round values for the ticks of `lo..=hi`: multiples of 1, 2, 2.5 or 5 × 10^k, at most
/// `max` of them.
fn nice_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    if hi <= lo || !hi.is_finite() || !lo.is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / max.max(2) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| (hi - lo) / s <= max as f64)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Labels along an axis of `n` cells `cell` pixels apart: every `k`-th, so that they do not
/// overlap (`need` is the widest label's extent along the axis).
fn label_every(n: usize, cell: i32, need: i32) -> usize {
    (1..=n.max(1))
        .find(|k| cell * *k as i32 >= need + 10)
        .unwrap_or(n.max(1))
}

fn render_heatmap<DB: DrawingBackend>(c: &Heatmap, root: &DrawingArea<DB, Shift>) -> Res<(), DB> {
    let (w, h) = (WIDTH as i32, HEIGHT as i32);
    let top = header(root, &c.title, c.subtitle.as_deref())?;
    let (nx, ny) = (c.xs.len().max(1), c.ys.len().max(1));
    let left = Y_AREA + 20;
    let right = w - COLOUR_BAR_W - RIGHT_PAD;
    let (plot_top, bottom) = (top + 10, h - X_AREA - BOTTOM_PAD);
    let cw = (right - left) / nx as i32;
    let ch = (bottom - plot_top) / ny as i32;
    let right = left + cw * nx as i32;
    let plot_top = bottom - ch * ny as i32;
    let finite = || c.cells.iter().flatten().copied().filter(|v| v.is_finite());
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    let t_of = |v: f64| {
        if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }
    };
    let value_style = font(VALUE_PX);
    for (j, row) in c.cells.iter().enumerate() {
        for (i, v) in row.iter().enumerate() {
            let x = left + i as i32 * cw;
            let y = bottom - (j as i32 + 1) * ch;
            let fill = if v.is_finite() {
                viridis(t_of(*v))
            } else {
                RGBColor(0xDD, 0xDD, 0xDD)
            };
            root.draw(&Rectangle::new([(x, y), (x + cw, y + ch)], fill.filled()))?;
            root.draw(&Rectangle::new(
                [(x, y), (x + cw, y + ch)],
                ShapeStyle::from(WHITE).stroke_width(1),
            ))?;
            let text = if v.is_finite() {
                c.format.tick(*v)
            } else {
                "–".into()
            };
            let (tw, th) = root.estimate_text_size(&text, &value_style)?;
            if (tw as i32) <= cw - 8 && (th as i32) <= ch - 4 {
                let lum = 0.2126 * fill.0 as f64 + 0.7152 * fill.1 as f64 + 0.0722 * fill.2 as f64;
                let ink = if lum < 140.0 {
                    WHITE
                } else {
                    RGBColor(0x22, 0x22, 0x22)
                };
                root.draw_text(
                    &text,
                    &value_style
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                    (x + cw / 2, y + ch / 2),
                )?;
            }
        }
    }
    root.draw(&Rectangle::new(
        [(left, plot_top), (right, bottom)],
        ShapeStyle::from(BLACK.mix(0.35)).stroke_width(1),
    ))?;
    // Tick labels at the cells' centres, thinned where they would overlap.
    let tick = font(TICK_PX);
    let xl: Vec<String> = c.xs.iter().map(|x| compact(*x)).collect();
    let widest = xl
        .iter()
        .map(|s| root.estimate_text_size(s, &tick).map(|(w, _)| w as i32))
        .try_fold(0, |m, w| w.map(|w| m.max(w)))?;
    let every = label_every(nx, cw, widest);
    for (i, s) in xl.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let x = left + i as i32 * cw + cw / 2;
        root.draw(&PathElement::new(
            vec![(x, bottom), (x, bottom + 5)],
            BLACK.mix(0.55),
        ))?;
        root.draw_text(
            s,
            &tick.pos(Pos::new(HPos::Center, VPos::Top)),
            (x, bottom + 9),
        )?;
    }
    let every = label_every(ny, ch, 22);
    for (j, y) in c.ys.iter().enumerate().filter(|(j, _)| j % every == 0) {
        let yy = bottom - j as i32 * ch - ch / 2;
        root.draw(&PathElement::new(
            vec![(left - 5, yy), (left, yy)],
            BLACK.mix(0.55),
        ))?;
        root.draw_text(
            &compact(*y),
            &tick.pos(Pos::new(HPos::Right, VPos::Center)),
            (left - 9, yy),
        )?;
    }
    // Axis titles.
    let desc = font(DESC_PX).color(&MUTED);
    let x_desc = fit_middle(root, &c.x_desc, &desc, right - left)?;
    root.draw_text(
        &x_desc,
        &desc.pos(Pos::new(HPos::Center, VPos::Bottom)),
        ((left + right) / 2, h - BOTTOM_PAD - 8),
    )?;
    let y_desc = fit_middle(root, &c.y_desc, &desc, bottom - plot_top)?;
    root.draw_text(
        &y_desc,
        &desc
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Top)),
        (DESC_INSET + 4, (plot_top + bottom) / 2),
    )?;
    // The colour bar: the least value at the bottom.
    let bx = right + RIGHT_PAD + 24;
    let (btop, bbottom) = (plot_top + 64, bottom);
    let title_style = bold(LEGEND_PX);
    let t1 = fit_middle(root, &c.value_desc.0, &title_style, COLOUR_BAR_W - 30)?;
    root.draw_text(
        &t1,
        &title_style.pos(Pos::new(HPos::Left, VPos::Center)),
        (bx, plot_top + 12),
    )?;
    if let Some(u) = &c.value_desc.1 {
        let t2 = fit(root, u, &font(LEGEND_PX), COLOUR_BAR_W - 30)?;
        root.draw_text(
            &t2,
            &font(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center)),
            (bx, plot_top + 38),
        )?;
    }
    const STEPS: i32 = 64;
    let bh = bbottom - btop;
    for k in 0..STEPS {
        let y1 = bbottom - k * bh / STEPS;
        let y0 = bbottom - (k + 1) * bh / STEPS;
        let t = (k as f64 + 0.5) / STEPS as f64;
        root.draw(&Rectangle::new(
            [(bx, y0), (bx + 28, y1)],
            viridis(t).filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(bx, btop), (bx + 28, bbottom)],
        ShapeStyle::from(BLACK.mix(0.35)).stroke_width(1),
    ))?;
    let ticks = if hi > lo {
        nice_ticks(lo, hi, 6)
    } else {
        vec![lo]
    };
    for v in ticks {
        let y = bbottom - (t_of(v) * bh as f64).round() as i32;
        root.draw(&PathElement::new(
            vec![(bx + 28, y), (bx + 34, y)],
            BLACK.mix(0.55),
        ))?;
        root.draw_text(
            &c.format.tick(v),
            &tick.pos(Pos::new(HPos::Left, VPos::Center)),
            (bx + 40, y),
        )?;
    }
    Ok(())
}

fn render_tornado<DB: DrawingBackend>(c: &Tornado, root: &DrawingArea<DB, Shift>) -> Res<(), DB> {
    let (w, h) = (WIDTH as i32, HEIGHT as i32);
    let top = header(root, &c.title, c.subtitle.as_deref())?;
    let legend_w = LEGEND_W;
    let label_style = font(TICK_PX);
    // The label column: as wide as the widest path, up to 45% of the width; longer paths lose
    // their middle.
    let widest = c
        .bars
        .iter()
        .map(|b| {
            root.estimate_text_size(&b.label, &label_style)
                .map(|(w, _)| w as i32)
        })
        .try_fold(0, |m, w| w.map(|w| m.max(w)))?;
    let label_w = (widest + 30).clamp(200, (w - legend_w) * 45 / 100);
    let n = c.bars.len().max(1);
    let (x0, x1) = value_range(
        c.bars.iter().flat_map(|b| [b.low, b.high]).chain([c.base]),
        0.12,
        false,
    );
    let plot_top = top + 30;
    let area = root
        .clone()
        .shrink((0, plot_top), (w - legend_w, h - plot_top - BOTTOM_PAD));
    let mut chart = ChartBuilder::on(&area)
        .margin_right(RIGHT_PAD)
        .x_label_area_size(X_AREA)
        .y_label_area_size(label_w)
        .build_cartesian_2d(x0..x1, 0.0..n as f64)?;
    let f = c.format;
    let xfmt = move |x: &f64| f.tick(*x);
    let plot_w = w - legend_w - label_w - RIGHT_PAD;
    let x_desc = fit_middle(root, &c.x_desc, &font(DESC_PX), plot_w)?;
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&xfmt)
        .x_labels(8)
        .y_labels(0)
        .disable_y_mesh()
        .x_desc(x_desc);
    grid_style(&mut mesh).draw()?;
    let pa = chart.plotting_area();
    let (px, py) = pa.get_pixel_range();
    let value_style = font(VALUE_PX);
    for (i, b) in c.bars.iter().enumerate() {
        // Row i from the top: y from n - i - 1 to n - i.
        let y = (n - i) as f64;
        if i % 2 == 1 {
            pa.draw(&Rectangle::new(
                [(x0, y - 1.0), (x1, y)],
                BLACK.mix(0.035).filled(),
            ))?;
        }
        for (v, colour, (ya, yb)) in [
            (b.low, LOWERED, (y - 0.5, y - 0.14)),
            (b.high, RAISED, (y - 0.86, y - 0.5)),
        ] {
            pa.draw(&Rectangle::new(
                [(c.base, ya), (v, yb)],
                colour.mix(0.9).filled(),
            ))?;
            let (ex, ey) = chart.backend_coord(&(v, (ya + yb) / 2.0));
            let (hp, tx) = if v >= c.base {
                (HPos::Left, ex + 6)
            } else {
                (HPos::Right, ex - 6)
            };
            root.draw_text(
                &f.tick(v),
                &value_style.pos(Pos::new(hp, VPos::Center)),
                (tx, ey),
            )?;
        }
        let (_, ly) = chart.backend_coord(&(x0, y - 0.5));
        let text = fit_middle(root, &b.label, &label_style, label_w - 24)?;
        root.draw_text(
            &text,
            &label_style.pos(Pos::new(HPos::Right, VPos::Center)),
            (px.start - 12, ly),
        )?;
    }
    let (bx, _) = chart.backend_coord(&(c.base, 0.0));
    root.draw(&PathElement::new(
        vec![(bx, py.start - 8), (bx, py.end)],
        ShapeStyle::from(INK).stroke_width(2),
    ))?;
    root.draw_text(
        &format!("base {}", f.tick(c.base)),
        &bold(LEGEND_PX).pos(Pos::new(HPos::Center, VPos::Bottom)),
        (bx, py.start - 10),
    )?;
    if c.bars.is_empty() {
        root.draw_text(
            "no input changed the metric",
            &font(LEGEND_PX)
                .color(&MUTED)
                .pos(Pos::new(HPos::Center, VPos::Center)),
            ((px.start + px.end) / 2, (py.start + py.end) / 2),
        )?;
    }
    let frame = pa.strip_coord_spec();
    let (fw, fh) = frame.dim_in_pixel();
    frame.draw(&Rectangle::new(
        [(0, 0), (fw as i32 - 1, fh as i32 - 1)],
        ShapeStyle::from(BLACK.mix(0.35)).stroke_width(1),
    ))?;
    draw_keys(root, &c.legend, w - legend_w + 14, py.start, legend_w - 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_come_from_field_names() {
        let u = |p: &str| input_unit(p);
        assert_eq!(
            u("supply.packaging_lines.CoWoS-S.capacity_wafers_per_month").as_deref(),
            Some("wafers/month")
        );
        assert_eq!(u("products.H100.power_w").as_deref(), Some("W"));
        assert_eq!(
            u("segments.free.queries_per_user_per_day").as_deref(),
            Some("queries/user/day")
        );
        assert_eq!(
            u("buyers.A.budget_usd_per_year").as_deref(),
            Some("USD/year")
        );
        assert_eq!(u("sites.S.megawatts").as_deref(), Some("MW"));
        assert_eq!(u("sites.S.pue"), None);
        assert_eq!(metric_desc("pause_days"), "pause_days (segment-days)");
        assert_eq!(metric_desc("lost_revenue_usd"), "lost_revenue_usd (USD)");
        assert_eq!(metric_desc("fleet_end.H100"), "fleet_end.H100 (units)");
    }

    #[test]
    fn nice_ticks_are_round_and_inside() {
        // 263..539 in at most 6 ticks: a step of 50 gives 300, 350, ..., 500.
        assert_eq!(
            nice_ticks(263.0, 539.0, 6),
            vec![300.0, 350.0, 400.0, 450.0, 500.0]
        );
        // 0..1 in at most 5 ticks: 0.2 gives 6 intervals of 5, so 0, 0.2, ..., 1.
        let t = nice_ticks(0.0, 1.0, 5);
        assert_eq!(t.len(), 6);
        assert!((t[5] - 1.0).abs() < 1e-12, "{t:?}");
    }

    #[test]
    fn viridis_runs_dark_to_light() {
        assert_eq!(viridis(0.0), VIRIDIS[0]);
        assert_eq!(viridis(1.0), VIRIDIS[7]);
        assert_eq!(viridis(f64::NAN), VIRIDIS[0]);
    }
}
