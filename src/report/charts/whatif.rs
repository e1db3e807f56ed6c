//! The charts of `capsim sweep`, `sensitivity` and `solve` as figures of the chart kit
//! (`figure.rs`), drawn by its one renderer: a metric against an input (lines, bands, points,
//! a target and an answer), a heatmap over two inputs, and a tornado of the inputs ranked by
//! their effect. The x axis is a value axis (an input's value, or the metric).

use plotters::style::{Color, RGBColor};

use super::figure::{Cell, Dash, Figure, Layer, LegendItem, Panel, Shape, Side, StripItem};
use super::run::{BAND_ALPHA, INK};
use super::scale::{PALETTE, ValueAxis, XAxis, entity_colour};
use crate::format::{NumFormat, compact, readout};
use crate::report::data::whatif::{Input, Sensitivity, Solve, Stat, Sweep};

/// Most lines in a sweep chart (one colour each); further combinations are left out, and
/// the chart says so.
const MAX_LINES: usize = 8;
/// Most inputs in a tornado.
const TORNADO_ROWS: usize = 15;
/// Most labelled columns and rows of a heatmap.
const MAX_X_LABELS: usize = 12;
const MAX_Y_LABELS: usize = 20;

/// Blue: an input lowered; vermillion: raised (Okabe-Ito).
const LOWERED: RGBColor = PALETTE[0];
const RAISED: RGBColor = PALETTE[3];
/// Bluish green: the target; reddish purple: the answer; orange: bisection trials.
const TARGET: RGBColor = PALETTE[2];
const ANSWER: RGBColor = PALETTE[4];
const BISECT: RGBColor = PALETTE[1];
/// A heatmap cell without a value.
const NO_VALUE: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
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

/// A one-plot figure with a value x axis and a subtitle.
fn figure(
    title: String,
    subtitle: String,
    x: ValueAxis,
    strip: Vec<StripItem>,
    panel: Panel,
    legend: Vec<LegendItem>,
) -> Figure {
    let mut fig = Figure::single(title, XAxis::Value(x), strip, panel, legend);
    fig.subtitle = Some(subtitle);
    fig
}

/// A value axis along x over `range`, ticks at round numbers.
fn value_axis(range: (f64, f64), format: NumFormat, desc: String) -> ValueAxis {
    ValueAxis {
        range: range.0..range.1,
        format,
        desc,
        min_step: 0.0,
        fixed: None,
        plain_zero: true,
    }
}

/// The charts of a sweep: `(file stem, figure)`.
pub(super) fn sweep(s: &Sweep) -> Vec<(String, Figure)> {
    let mut out = vec![(format!("sweep_{}", s.metric), sweep_lines(s))];
    if s.inputs.len() == 2 {
        out.push((format!("sweep_{}_heatmap", s.metric), sweep_heatmap(s)));
    }
    out
}

/// One line of a sweep chart: the values of the other inputs, and the points along the first.
type Group = (Vec<f64>, Vec<(f64, Stat)>);

/// The metric against the first input, a line per combination of the others.
fn sweep_lines(s: &Sweep) -> Figure {
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
    let mut panel = Panel::new(None, &metric_desc(&s.metric), format_of(&s.metric));
    let mut legend = Vec::new();
    let others = &s.inputs[1..];
    if !others.is_empty() {
        let names: Vec<String> = others.iter().map(input_short).collect();
        legend.push(LegendItem::heading(names.join(", ")));
    }
    let single = groups.len() == 1;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
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
            for (upper, lower, a) in [(3, 0, BAND_ALPHA), (2, 1, BAND_ALPHA * 2.0)] {
                let (upper, lower) = (with(upper), with(lower));
                ys.extend(upper.iter().chain(&lower).map(|p| p.1));
                panel.layers.push(Layer::Area {
                    upper,
                    lower,
                    colour: colour.mix(a * alpha),
                });
            }
        }
        let points: Vec<(f64, f64)> = finite.iter().map(|(x, v)| (*x, v.mid)).collect();
        xs.extend(points.iter().map(|p| p.0));
        ys.extend(points.iter().map(|p| p.1));
        panel.layers.push(Layer::Line {
            points: points.clone(),
            colour,
            width: 3,
            dash: Dash::Solid,
        });
        panel.layers.push(Layer::Points {
            points,
            colour,
            shape: Shape::Dot,
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
        legend.push(LegendItem::line(label, colour, Dash::Solid));
    }
    if banded {
        legend.push(LegendItem::fill(
            "P25–P75",
            entity_colour(0).mix(BAND_ALPHA * 2.0),
        ));
        legend.push(LegendItem::fill("P5–P95", entity_colour(0).mix(BAND_ALPHA)));
    }
    let (y0, y1) = value_range(ys.into_iter(), 0.08, true);
    panel.y_fixed = Some(y0..y1);
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
    let x = value_axis(
        value_range(xs.into_iter(), 0.03, false),
        format_of(&s.inputs[0].path),
        input_desc(&s.inputs[0]),
    );
    figure(
        format!("Sweep of {} — {}", s.metric, s.scenario),
        sub,
        x,
        Vec::new(),
        panel,
        legend,
    )
}

/// The distinct values of `vals` in order, each with the extent of its cell: from halfway
/// to the previous value to halfway to the next (the outer cells as wide as their
/// neighbours' halves).
fn cells_of(vals: impl Iterator<Item = f64>) -> Vec<(f64, f64, f64)> {
    let mut v: Vec<f64> = vals.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    let n = v.len();
    (0..n)
        .map(|i| {
            let half_gap = |a: f64, b: f64| (b - a) / 2.0;
            let lone = if v[i] != 0.0 { v[i].abs() * 0.1 } else { 0.5 };
            let below = if i > 0 {
                half_gap(v[i - 1], v[i])
            } else if n > 1 {
                half_gap(v[0], v[1])
            } else {
                lone
            };
            let above = if i + 1 < n {
                half_gap(v[i], v[i + 1])
            } else if n > 1 {
                half_gap(v[n - 2], v[n - 1])
            } else {
                lone
            };
            (v[i], v[i] - below, v[i] + above)
        })
        .collect()
}

/// Every `k`-th of `items`, so that at most `max` remain.
fn thinned<T: Clone>(items: &[T], max: usize) -> Vec<T> {
    let k = items.len().div_ceil(max.max(1)).max(1);
    items.iter().step_by(k).cloned().collect()
}

/// The metric over the grid of the two inputs.
fn sweep_heatmap(s: &Sweep) -> Figure {
    let xs = cells_of(s.points.iter().map(|p| p[0]));
    let ys = cells_of(s.points.iter().map(|p| p[1]));
    let finite = || s.values.iter().map(|v| v.mid).filter(|v| v.is_finite());
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    let t_of = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
    let format = format_of(&s.metric);
    let find = |cells: &[(f64, f64, f64)], v: f64| cells.iter().find(|c| c.0 == v).copied();
    let mut cells = Vec::with_capacity(s.points.len());
    for (p, v) in s.points.iter().zip(&s.values) {
        let (Some(cx), Some(cy)) = (find(&xs, p[0]), find(&ys, p[1])) else {
            continue;
        };
        let (fill, label) = if v.mid.is_finite() {
            (viridis(t_of(v.mid)), format.value(v.mid))
        } else {
            (NO_VALUE, "–".to_string())
        };
        cells.push(Cell {
            x: (cx.1, cx.2),
            y: (cy.1, cy.2),
            fill: fill.mix(1.0),
            label: Some(label),
        });
    }
    let mut panel = Panel::new(None, &input_desc(&s.inputs[1]), NumFormat::Count);
    let span = |c: &[(f64, f64, f64)]| match (c.first(), c.last()) {
        (Some(a), Some(b)) => (a.1, b.2),
        _ => (0.0, 1.0),
    };
    let (y0, y1) = span(&ys);
    panel.y_fixed = Some(y0..y1);
    panel.y_labels = Some(
        thinned(&ys, MAX_Y_LABELS)
            .into_iter()
            .map(|c| (c.0, compact(c.0)))
            .collect(),
    );
    panel.layers.push(Layer::Cells(cells));
    // The ticks of x at the columns' values, the step between them setting their decimals.
    let x_ticks: Vec<f64> = thinned(&xs, MAX_X_LABELS).iter().map(|c| c.0).collect();
    let step = x_ticks
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let step = if step.is_finite() {
        step
    } else {
        x_ticks.first().map_or(1.0, |v| v.abs().max(1.0))
    };
    let mut x = value_axis(
        span(&xs),
        format_of(&s.inputs[0].path),
        input_desc(&s.inputs[0]),
    );
    x.fixed = Some((x_ticks, step));
    // The colour scale as a legend: the greatest value on top.
    let mut legend = vec![LegendItem::heading(metric_desc(&s.metric))];
    // The extremes themselves, so the brightest and darkest cells are in the legend, with
    // round steps between them.
    let ticks = if hi > lo {
        let inner = nice_ticks(lo, hi, 6)
            .into_iter()
            .filter(|&v| v > lo && v < hi);
        let mut ticks = vec![lo];
        ticks.extend(inner);
        ticks.push(hi);
        ticks
    } else if lo.is_finite() {
        vec![lo]
    } else {
        Vec::new()
    };
    for v in ticks.into_iter().rev() {
        legend.push(LegendItem::fill(format.value(v), viridis(t_of(v)).mix(1.0)));
    }
    if s.values.iter().any(|v| !v.mid.is_finite()) {
        legend.push(LegendItem::fill("no value", NO_VALUE.mix(1.0)));
    }
    let stat = if s.replications > 1 {
        format!("median (P50) of {} replications per cell", s.replications)
    } else {
        "one run per cell".into()
    };
    figure(
        format!("Sweep of {} over two inputs — {}", s.metric, s.scenario),
        stat,
        x,
        Vec::new(),
        panel,
        legend,
    )
}

/// The tornado of a sensitivity analysis: `(file stem, figure)`.
pub(super) fn tornado(s: &Sensitivity) -> (String, Figure) {
    let ok: Vec<_> = s
        .effects
        .iter()
        .filter(|e| e.status.starts_with("ok") && e.low.is_finite() && e.high.is_finite())
        .collect();
    let bars: Vec<_> = ok.iter().take(TORNADO_ROWS).collect();
    let pct = compact(s.delta * 100.0);
    let format = format_of(&s.metric);
    let n = bars.len().max(1);
    let (x0, x1) = value_range(
        bars.iter().flat_map(|e| [e.low, e.high]).chain([s.base]),
        0.12,
        false,
    );
    let mut panel = Panel::new(None, "", format);
    panel.y_fixed = Some(0.0..n as f64);
    let mut cells = Vec::new();
    let mut labels = Vec::new();
    let mut texts = Vec::new();
    for (i, e) in bars.iter().enumerate() {
        // Row i from the top: y from n - i - 1 to n - i.
        let y = (n - i) as f64;
        if i % 2 == 1 {
            cells.push(Cell {
                x: (x0, x1),
                y: (y - 1.0, y),
                fill: plotters::style::BLACK.mix(0.035),
                label: None,
            });
        }
        for (v, colour, (ya, yb)) in [
            (e.low, LOWERED, (y - 0.5, y - 0.14)),
            (e.high, RAISED, (y - 0.86, y - 0.5)),
        ] {
            cells.push(Cell {
                x: (s.base, v),
                y: (ya, yb),
                fill: colour.mix(0.9),
                label: None,
            });
            texts.push(Layer::Text {
                at: (v, (ya + yb) / 2.0),
                text: format.value(v),
                side: if v >= s.base { Side::Right } else { Side::Left },
            });
        }
        labels.push((y - 0.5, e.input.clone()));
    }
    panel.layers.push(Layer::Cells(cells));
    panel.layers.extend(texts);
    panel.y_labels = Some(labels);
    if bars.is_empty() {
        panel.note = Some("no input changed the metric".into());
    }
    let legend = vec![
        LegendItem::fill(format!("input lowered by {pct}%"), LOWERED.mix(0.9)),
        LegendItem::fill(format!("input raised by {pct}%"), RAISED.mix(0.9)),
        LegendItem::line(format!("base: {}", format.value(s.base)), INK, Dash::Dashed),
    ];
    let strip = vec![StripItem::Marker {
        x: s.base,
        colour: INK,
        label: format!("base {}", format.value(s.base)),
    }];
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
        figure(
            format!(
                "Sensitivity of {} to ±{pct}% of each input — {}",
                s.metric, s.scenario
            ),
            subtitle,
            value_axis((x0, x1), format, metric_desc(&s.metric)),
            strip,
            panel,
            legend,
        ),
    )
}

/// The trials of a solve: `(file stem, figure)`.
pub(super) fn solve(s: &Solve) -> (String, Figure) {
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
    let y_desc = match (s.replications, s.percentile) {
        (1, _) => metric_desc(m),
        (_, Some(p)) => format!("{}, P{}", metric_desc(m), compact(p)),
        (_, None) => format!("{}, mean", metric_desc(m)),
    };
    let (y0, y1) = value_range(
        sorted.iter().map(|p| p.1).chain([s.target.value]),
        0.08,
        true,
    );
    let x_range = value_range(sorted.iter().map(|p| p.0).chain(s.answer), 0.03, false);
    let mut panel = Panel::new(None, &y_desc, format_of(m));
    panel.y_fixed = Some(y0..y1);
    panel.layers = vec![
        Layer::Line {
            points: sorted,
            colour: RGBColor(0x99, 0x99, 0x99),
            width: 2,
            dash: Dash::Solid,
        },
        Layer::Rule {
            y: s.target.value,
            colour: TARGET,
            label: format!("target: {target}"),
        },
        Layer::Points {
            points: pick(false),
            colour: PALETTE[0],
            shape: Shape::Circle,
        },
        Layer::Points {
            points: pick(true),
            colour: BISECT,
            shape: Shape::Triangle,
        },
    ];
    let mut strip = Vec::new();
    let mut legend = vec![LegendItem::point(
        "scan (evenly spaced)",
        PALETTE[0],
        Shape::Circle,
    )];
    if s.trials.iter().any(|t| t.bisect) {
        legend.push(LegendItem::point("bisection", BISECT, Shape::Triangle));
    }
    legend.push(LegendItem::line("target", TARGET, Dash::Dashed));
    // The answer as `capsim solve` prints it: to the bisection's tolerance, rounded towards
    // the side that meets the target (as found, for a folder without the tolerance).
    let shown = s.answer.map(|a| {
        s.tolerance
            .map_or(a, |tol| crate::whatif::rounded_answer(a, tol, s.largest).0)
    });
    if let (Some(a), Some(shown)) = (s.answer, shown) {
        strip.push(StripItem::Marker {
            x: a,
            colour: ANSWER,
            label: format!("answer: {}", readout(shown)),
        });
        legend.push(LegendItem::line("answer", ANSWER, Dash::Dashed));
    }
    let which = if s.largest { "largest" } else { "smallest" };
    let stat = match (s.replications, s.percentile) {
        (1, _) => "one run per trial".to_string(),
        (n, Some(p)) => format!("P{} of {n} replications per trial", compact(p)),
        (n, None) => format!("mean of {n} replications per trial"),
    };
    let found = match (s.answer, s.tolerance) {
        (Some(a), Some(tol)) => format!(
            "found {} to within {}; ",
            crate::whatif::found_text(a, tol),
            crate::format::num(tol)
        ),
        _ => String::new(),
    };
    let subtitle = match shown {
        Some(shown) => format!(
            "the {which} value meeting the target: {} ({found}{} trials; {stat})",
            readout(shown),
            s.trials.len()
        ),
        None => format!(
            "the target is not met anywhere in the range ({} trials; {stat})",
            s.trials.len()
        ),
    };
    (
        format!("solve_{m}"),
        figure(
            format!("Solve: {target} — {}", s.scenario),
            subtitle,
            value_axis(x_range, format_of(&s.input.path), input_desc(&s.input)),
            strip,
            panel,
            legend,
        ),
    )
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
    fn heatmap_cells_meet_halfway() {
        let c = cells_of([2.0, 1.0, 3.0, 2.0].into_iter());
        assert_eq!(c, vec![(1.0, 0.5, 1.5), (2.0, 1.5, 2.5), (3.0, 2.5, 3.5)]);
        assert_eq!(cells_of([4.0].into_iter()), vec![(4.0, 3.6, 4.4)]);
        assert_eq!(thinned(&[1, 2, 3, 4, 5], 2), vec![1, 4]);
    }

    #[test]
    fn viridis_runs_dark_to_light() {
        assert_eq!(viridis(0.0), VIRIDIS[0]);
        assert_eq!(viridis(1.0), VIRIDIS[7]);
        assert_eq!(viridis(f64::NAN), VIRIDIS[0]);
    }
}
