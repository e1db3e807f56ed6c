//! Charts of several runs overlaid: capacity vs demand, and users.
//!
//! Runs may start on different dates: the time axis runs from the earliest start to the
//! latest end, and each run is placed at its own dates. A run takes the colour of its index
//! in the list compared.

use plotters::style::Color;

use super::figure::{Dash, Figure, Layer, LegendItem, Panel, Row, StripItem};
use super::run::{BAND_ALPHA, Run};
use super::scale::{NumFormat, TimeAxis, entity_colour};
use crate::report::data::ChartData;

/// Names of the runs, made unique (` (2)` appended to a repeated name).
fn names(runs: &[Run]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in runs {
        let base = r.d.summary.scenario.clone();
        let mut name = base.clone();
        let mut k = 2;
        while out.contains(&name) {
            name = format!("{base} ({k})");
            k += 1;
        }
        out.push(name);
    }
    out
}

/// `A vs B vs C`.
fn versus(names: &[String]) -> String {
    if names.is_empty() {
        "no runs".into()
    } else {
        names.join(" vs ")
    }
}

/// The runs, each placed on the common time axis.
fn place(data: &[ChartData]) -> (Vec<Run<'_>>, TimeAxis) {
    let mut runs: Vec<Run> = data.iter().map(Run::new).collect();
    let base = runs.iter().map(|r| r.base).min().unwrap_or_default();
    let mut len = 1;
    for r in &mut runs {
        r.offset = (r.base - base).num_days() as f64;
        len = len.max(r.offset as usize + r.n);
    }
    (runs, TimeAxis { base, len })
}

/// The two comparison charts: (file stem, figure, caption).
pub(super) fn figures(data: &[ChartData]) -> Vec<(&'static str, Figure, String)> {
    let (runs, time) = place(data);
    let names = names(&runs);
    vec![
        capacity_demand(&runs, &names, time),
        users(&runs, &names, time),
    ]
}

fn capacity_demand(
    runs: &[Run],
    names: &[String],
    time: TimeAxis,
) -> (&'static str, Figure, String) {
    let mut panel = Panel::new(None, "H100-equivalents (H100e)", NumFormat::Count);
    let mut legend = Vec::new();
    let mut strip = Vec::new();
    for (i, (run, name)) in runs.iter().zip(names).enumerate() {
        let colour = entity_colour(i);
        let pauses = run.pauses();
        for p in &pauses {
            panel.layers.push(Layer::Band {
                x0: p.x0,
                x1: p.x1,
                colour: colour.mix(BAND_ALPHA * 0.7),
            });
            strip.push(StripItem::Period {
                x0: p.x0,
                x1: p.x1,
                colour: colour.mix(0.35),
                label: format!("{name}: {} paused, {} d", p.segment, p.days),
            });
        }
        panel.layers.push(Layer::Line {
            points: run.points(&run.get("demand_h100e")),
            colour,
            width: 3,
            dash: Dash::Solid,
        });
        panel.layers.push(Layer::Line {
            points: run.points(&run.get("capacity_h100e")),
            colour,
            width: 3,
            dash: Dash::Dashed,
        });
        legend.push(LegendItem::heading(name.clone()));
        legend.push(LegendItem::line("demand", colour, Dash::Solid));
        legend.push(LegendItem::line("capacity", colour, Dash::Dashed));
        if !pauses.is_empty() {
            legend.push(LegendItem::fill(
                "sign-ups paused",
                colour.mix(BAND_ALPHA * 1.5),
            ));
        }
    }
    if runs.is_empty() {
        panel.note = Some("no runs to compare".into());
    }
    let caption = format!(
        "Demand (solid) and serving capacity (dashed) of {}, one colour per scenario, with each \
         scenario's sign-up pauses as bands of its colour, labelled above the plot.",
        versus(names),
    );
    let fig = Figure {
        title: format!("Capacity vs demand — {}", versus(names)),
        x: time.into(),
        strip,
        rows: vec![Row {
            weight: 1.0,
            panels: vec![panel],
            legend,
        }],
    };
    ("compare_capacity_demand", fig, caption)
}

fn users(runs: &[Run], names: &[String], time: TimeAxis) -> (&'static str, Figure, String) {
    // Segments of every run, in order of first appearance.
    let mut segments: Vec<String> = Vec::new();
    for r in runs {
        for s in &r.segments {
            if !segments.contains(s) {
                segments.push(s.clone());
            }
        }
    }
    let mut rows = Vec::new();
    for (k, seg) in segments.iter().enumerate() {
        let dash = Dash::nth(k);
        let mut panel = Panel::new(Some(format!("{seg}: users")), "users", NumFormat::Count);
        let mut legend = Vec::new();
        for (i, (run, name)) in runs.iter().zip(names).enumerate() {
            if !run.segments.contains(seg) {
                continue;
            }
            let colour = entity_colour(i);
            panel.layers.push(Layer::Line {
                points: run.points(&run.get(&format!("users[{seg}]"))),
                colour,
                width: 3,
                dash,
            });
            legend.push(LegendItem::line(format!("{name}: {seg}"), colour, dash));
        }
        rows.push(Row {
            weight: 1.0,
            panels: vec![panel],
            legend,
        });
    }
    if rows.is_empty() {
        let mut p = Panel::new(None, "users", NumFormat::Count);
        p.note = Some(if runs.is_empty() {
            "no runs to compare".into()
        } else {
            "no user segments in these scenarios".into()
        });
        rows.push(Row {
            weight: 1.0,
            panels: vec![p],
            legend: Vec::new(),
        });
    }
    let styles: Vec<String> = segments
        .iter()
        .enumerate()
        .map(|(k, s)| format!("{s} {}", Dash::nth(k).name()))
        .collect();
    let caption = format!(
        "Users of each segment in {}, one colour per scenario and one line style per segment{}.",
        versus(names),
        if styles.is_empty() {
            String::new()
        } else {
            format!(" ({})", styles.join(", "))
        },
    );
    let fig = Figure {
        title: format!("Users — {}", versus(names)),
        x: time.into(),
        strip: Vec::new(),
        rows,
    };
    ("compare_users", fig, caption)
}
