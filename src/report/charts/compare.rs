//! Charts of several runs overlaid: capacity vs demand, and users.
//!
//! Runs may start on different dates: the time axis runs from the earliest start to the
//! latest end, and each run is placed at its own dates. A run takes the colour of its index
//! in the list compared.

use plotters::style::{Color, RGBColor};

use super::figure::{Dash, Figure, Layer, LegendItem, Panel, Row, StripItem};
use super::run::{BAND_ALPHA, Run};
use super::scale::{TimeAxis, entity_colour};
use crate::format::NumFormat;
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

/// Opacity of one scenario's pause band.
const PAUSE_ALPHA: f64 = BAND_ALPHA * 0.7;

/// The colour that pause bands of the scenarios `set` (indices, drawn in that order) give
/// together over the white plot: each band is laid over what is below it at [`PAUSE_ALPHA`].
fn blend(set: &[usize]) -> RGBColor {
    let mut c = [255.0f64; 3];
    for &i in set {
        let col = entity_colour(i);
        for (k, v) in [col.0, col.1, col.2].into_iter().enumerate() {
            c[k] = c[k] * (1.0 - PAUSE_ALPHA) + f64::from(v) * PAUSE_ALPHA;
        }
    }
    let byte = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    RGBColor(byte(c[0]), byte(c[1]), byte(c[2]))
}

/// The sets of two or more scenarios whose pauses overlap, in order of first overlap:
/// `pauses` is `(scenario index, x0, x1)`.
fn overlaps(pauses: &[(usize, f64, f64)]) -> Vec<Vec<usize>> {
    let mut edges: Vec<f64> = pauses.iter().flat_map(|p| [p.1, p.2]).collect();
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for w in edges.windows(2) {
        let mid = (w[0] + w[1]) / 2.0;
        let mut set: Vec<usize> = pauses
            .iter()
            .filter(|p| p.1 <= mid && mid < p.2)
            .map(|p| p.0)
            .collect();
        set.sort_unstable();
        set.dedup();
        if set.len() >= 2 && !out.contains(&set) {
            out.push(set);
        }
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
    let mut all_pauses = Vec::new();
    for (i, (run, name)) in runs.iter().zip(names).enumerate() {
        let colour = entity_colour(i);
        let pauses = run.pauses();
        for p in &pauses {
            all_pauses.push((i, p.x0, p.x1));
            panel.layers.push(Layer::Band {
                x0: p.x0,
                x1: p.x1,
                colour: colour.mix(PAUSE_ALPHA),
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
            // The swatch is the band as drawn over the plot's white.
            legend.push(LegendItem::fill("sign-ups paused", blend(&[i]).mix(1.0)));
        }
    }
    // Where pauses of several scenarios overlap, their bands blend: say into what.
    let shared = overlaps(&all_pauses);
    if !shared.is_empty() {
        legend.push(LegendItem::heading("pauses overlapping"));
        for set in &shared {
            // One entry a scenario, so that long names are not cut: the swatch by the first,
            // `+ name` under it for the others.
            legend.push(LegendItem::fill(names[set[0]].clone(), blend(set).mix(1.0)));
            for &i in &set[1..] {
                legend.push(LegendItem::fill(
                    format!("+ {}", names[i]),
                    RGBColor(255, 255, 255).mix(0.0),
                ));
            }
        }
    }
    if runs.is_empty() {
        panel.note = Some("no runs to compare".into());
    }
    let caption = format!(
        "Demand (solid) and serving capacity (dashed) of {}, one colour per scenario, with each \
         scenario's sign-up pauses as bands of its colour, labelled above the plot in a row of \
         its own; where pauses overlap, the legend shows the colour their bands blend to.",
        versus(names),
    );
    let fig = Figure {
        title: format!("Capacity vs demand — {}", versus(names)),
        subtitle: None,
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
        subtitle: None,
        x: time.into(),
        strip: Vec::new(),
        rows,
    };
    ("compare_users", fig, caption)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_pauses_are_found_and_their_blend_is_the_bands_over_white() {
        // Scenario 0 pauses on days 10-40, 1 on 30-50, 2 on 35-38: 0+1 on 30-35 and 38-40,
        // 0+1+2 on 35-38; 1 alone after 40 is no overlap.
        let sets = overlaps(&[(0, 10.0, 40.0), (1, 30.0, 50.0), (2, 35.0, 38.0)]);
        assert_eq!(sets, vec![vec![0, 1], vec![0, 1, 2]]);
        assert!(
            overlaps(&[(0, 0.0, 5.0), (1, 5.0, 9.0)]).is_empty(),
            "touching is not overlapping"
        );
        // One band over white: 255 x (1 - a) + c x a per channel.
        let a = PAUSE_ALPHA;
        let c = entity_colour(0);
        let want = |v: u8| (255.0 * (1.0 - a) + f64::from(v) * a).round() as u8;
        assert_eq!(blend(&[0]), RGBColor(want(c.0), want(c.1), want(c.2)));
        // Two bands are darker than either alone.
        let sum = |c: RGBColor| u32::from(c.0) + u32::from(c.1) + u32::from(c.2);
        assert!(sum(blend(&[0, 1])) < sum(blend(&[0])).min(sum(blend(&[1]))));
    }
}
