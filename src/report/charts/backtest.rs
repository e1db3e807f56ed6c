//! The backtest chart: every observation of `backtest.csv` beside the model's value, on a
//! time axis covering the observed periods, one row per metric (and period length).

use plotters::style::{Color, RGBColor};

use super::figure::{Dash, Figure, Layer, LegendItem, Panel, Row};
use super::scale::TimeAxis;
use crate::backtest::{Backtest, Row as Obs, unit_of};
use crate::format::NumFormat;

const INK: RGBColor = RGBColor(0, 0, 0);
/// Blue: the model.
const MODEL: RGBColor = RGBColor(0x00, 0x72, 0xB2);
/// Bluish green: an observed range the model falls inside.
const INSIDE: RGBColor = RGBColor(0x00, 0x9E, 0x73);
/// Vermillion: an observed range the model misses.
const OUTSIDE: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const RANGE_ALPHA: f64 = 0.35;
/// Longest panel heading [characters].
const HEADING_CHARS: usize = 120;

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// The chart `backtest`, or `None` without observations.
pub(super) fn figure(bt: &Backtest, scenario: &str) -> Option<(&'static str, Figure, String)> {
    let first = bt.rows.iter().map(|r| r.first_day).min()?;
    let last = bt.rows.iter().map(|r| r.last_day).max()?;
    let axis = TimeAxis {
        base: first,
        len: ((last - first).num_days() + 1).max(2) as usize,
    };
    let x_of = |d: chrono::NaiveDate| axis.x_of(d);
    let x_days = |days: f64| {
        // Dates in rows are days since 0001-01-01 (CE).
        x_of(chrono::NaiveDate::from_num_days_from_ce_opt(days.round() as i32).unwrap_or(first))
    };
    // Rows of the chart: one per metric and period length, in order of first appearance.
    let mut groups: Vec<((String, i64), Vec<&Obs>)> = Vec::new();
    for r in &bt.rows {
        let days = (r.last_day - r.first_day).num_days() + 1;
        let class = match days {
            0..=1 => 1,
            2..=31 => 31,
            32..=92 => 92,
            93..=184 => 184,
            _ => 366,
        };
        let key = (r.metric.clone(), if r.is_date { 0 } else { class });
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(r),
            None => groups.push((key, vec![r])),
        }
    }
    let mut rows = Vec::new();
    for (i, ((metric, class), obs)) in groups.iter().enumerate() {
        let per = match class {
            0 => "",
            1 => " per day",
            31 => " per month",
            92 => " per quarter",
            184 => " per half-year",
            _ => " per year",
        };
        let required = if obs.iter().any(|o| o.required) {
            " (required)"
        } else {
            ""
        };
        let heading = shorten(&format!("{metric}{per}{required}"), HEADING_CHARS);
        let is_date = obs.iter().all(|o| o.is_date);
        let unit = unit_of(metric);
        let mut panel = Panel::new(Some(heading), &unit, NumFormat::Count);
        if is_date {
            panel.categorical = true;
        }
        let mut missing = Vec::new();
        for o in obs {
            let colour = if o.inside { INSIDE } else { OUTSIDE };
            let (x0, x1) = (x_of(o.first_day) - 0.5, x_of(o.last_day) + 0.5);
            if o.is_date {
                let lo = if o.low.is_finite() { x_days(o.low) } else { x0 };
                let hi = if o.high.is_finite() {
                    x_days(o.high)
                } else {
                    x1
                };
                panel.layers.push(Layer::Band {
                    x0: lo - 0.5,
                    x1: hi + 0.5,
                    colour: colour.mix(RANGE_ALPHA),
                });
                let x = x_days(o.observed);
                panel.layers.push(Layer::Line {
                    points: vec![(x, 0.0), (x, 1.0)],
                    colour: INK,
                    width: 3,
                    dash: Dash::Dashed,
                });
                match o.model {
                    Some(m) => {
                        let x = x_days(m);
                        panel.layers.push(Layer::Line {
                            points: vec![(x, 0.0), (x, 1.0)],
                            colour: MODEL,
                            width: 4,
                            dash: Dash::Solid,
                        });
                    }
                    None => missing.push(o.period.clone()),
                }
            } else {
                let top = o.observed.max(o.model.unwrap_or(0.0)).max(0.0);
                let lo = if o.low.is_finite() { o.low } else { 0.0 };
                let hi = if o.high.is_finite() {
                    o.high
                } else {
                    top * 1.25
                };
                panel.layers.push(Layer::Area {
                    upper: vec![(x0, hi), (x1, hi)],
                    lower: vec![(x0, lo), (x1, lo)],
                    colour: colour.mix(RANGE_ALPHA),
                });
                panel.layers.push(Layer::Line {
                    points: vec![(x0, o.observed), (x1, o.observed)],
                    colour: INK,
                    width: 3,
                    dash: Dash::Dashed,
                });
                match o.model {
                    Some(m) => panel.layers.push(Layer::Line {
                        points: vec![(x0, m), (x1, m)],
                        colour: MODEL,
                        width: 4,
                        dash: Dash::Solid,
                    }),
                    None => missing.push(o.period.clone()),
                }
            }
        }
        if !missing.is_empty() {
            panel.note = Some(format!("model: no value in {}", missing.join(", ")));
        }
        let legend = if i == 0 {
            vec![
                LegendItem::line("observed", INK, Dash::Dashed),
                LegendItem::line("model", MODEL, Dash::Solid),
                LegendItem::fill("range, model inside", INSIDE.mix(RANGE_ALPHA)),
                LegendItem::fill("range, model outside", OUTSIDE.mix(RANGE_ALPHA)),
            ]
        } else {
            Vec::new()
        };
        rows.push(Row {
            weight: if is_date { 0.6 } else { 1.0 },
            panels: vec![panel],
            legend,
        });
    }
    let s = &bt.score;
    let caption = format!(
        "Each observation of backtest.csv over its period: its range from low to high (green \
         when the model's value falls inside, vermillion when outside), the observed value \
         (dashed black) and the model's value (blue); for a date, the range is a band and the \
         values are vertical lines. {} of {} observations inside.",
        s.inside, s.observations
    );
    let fig = Figure {
        title: format!(
            "Backtest — {scenario}: {} of {} observations inside",
            s.inside, s.observations
        ),
        subtitle: None,
        x: axis.into(),
        strip: Vec::new(),
        rows,
    };
    Some(("backtest", fig, caption))
}
