//! The four charts of a Monte Carlo run (`capsim run --reps N`), drawn from `bands.csv`,
//! `replications.csv` and the `replications` block of `summary.json` ([`McData`]): demand
//! and capacity as fans, each segment's daily probability of a sign-up pause, and histograms
//! of paused segment-days and of revenue lost.

use plotters::style::{Color, RGBAColor, RGBColor};

use super::figure::{Dash, Figure, Layer, LegendItem, Panel, StripItem};
use super::run::{ALARM, CAPACITY, GREY, INK, any_nonzero, day_points, plural};
use super::scale::{TimeAxis, ValueAxis, XAxis, entity_colour};
use crate::format::NumFormat;
use crate::montecarlo::percentile;
use crate::report::data::{ChartData, McData};

/// Opacity of the P5–P95 fan.
const OUTER_ALPHA: f64 = 0.15;
/// Opacity of the P25–P75 fan, drawn over the outer one.
const INNER_ALPHA: f64 = 0.3;
/// Opacity of histogram bars.
const BAR_ALPHA: f64 = 0.75;
/// Most bars a histogram gets.
const MAX_BINS: usize = 60;

/// The four charts: (file stem, figure, caption).
pub(super) fn figures(d: &ChartData, mc: &McData) -> Vec<(&'static str, Figure, String)> {
    let time = TimeAxis {
        base: mc.bands.dates.first().copied().unwrap_or_default(),
        len: mc.bands.dates.len().max(1),
    };
    let scenario = d.summary.scenario.as_str();
    vec![
        fan_capacity_demand(mc, time, scenario),
        pause_probability(mc, time, scenario),
        histogram(mc, &PAUSE_DAYS, scenario),
        histogram(mc, &LOST_REVENUE, scenario),
    ]
}

/// `200 replications`.
fn replications(mc: &McData) -> String {
    plural(mc.reps.count as i64, "replication")
}

/// A colour's look when drawn with opacity `a` over the same colour with opacity `b`.
fn over(c: RGBColor, a: f64, b: f64) -> RGBAColor {
    c.mix(1.0 - (1.0 - a) * (1.0 - b))
}

/// A band series as a fan: P5–P95 light, P25–P75 darker, the median as a line; and its
/// legend entries under a heading.
fn fan(mc: &McData, series: &str, colour: RGBColor, name: &str) -> (Vec<Layer>, Vec<LegendItem>) {
    let pts = |stat: &str| {
        day_points(
            0.0,
            mc.bands
                .series(&format!("{series}.{stat}"))
                .unwrap_or_default(),
        )
    };
    let layers = vec![
        Layer::Area {
            upper: pts("p95"),
            lower: pts("p5"),
            colour: colour.mix(OUTER_ALPHA),
        },
        Layer::Area {
            upper: pts("p75"),
            lower: pts("p25"),
            colour: colour.mix(INNER_ALPHA),
        },
        Layer::Line {
            points: pts("p50"),
            colour,
            width: 3,
            dash: Dash::Solid,
        },
    ];
    let legend = vec![
        LegendItem::heading(name),
        LegendItem::line("median (P50)", colour, Dash::Solid),
        LegendItem::fill(
            "P25–P75: middle half",
            over(colour, OUTER_ALPHA, INNER_ALPHA),
        ),
        LegendItem::fill("P5–P95: 90% of runs", colour.mix(OUTER_ALPHA)),
    ];
    (layers, legend)
}

fn fan_capacity_demand(
    mc: &McData,
    time: TimeAxis,
    scenario: &str,
) -> (&'static str, Figure, String) {
    let mut panel = Panel::new(None, "H100-equivalents (H100e)", NumFormat::Count);
    let mut legend = Vec::new();
    for (series, colour, name) in [
        ("capacity_h100e", CAPACITY, "serving capacity"),
        ("demand_h100e", INK, "demand"),
    ] {
        let (layers, items) = fan(mc, series, colour, name);
        panel.layers.extend(layers);
        legend.extend(items);
    }
    if mc.bands.dates.is_empty() {
        panel.note = Some("no days simulated".into());
    }
    let caption = format!(
        "The operator's demand (black) and serving capacity (blue) in H100-equivalents over \
         {}: each day's median as a line, the middle half of the replications (P25–P75) as \
         the darker fan and 90% of them (P5–P95) as the lighter one.",
        replications(mc)
    );
    let fig = Figure::single(
        format!("Capacity vs demand, {} — {scenario}", replications(mc)),
        time.into(),
        Vec::new(),
        panel,
        legend,
    );
    ("fan_capacity_demand", fig, caption)
}

fn pause_probability(
    mc: &McData,
    time: TimeAxis,
    scenario: &str,
) -> (&'static str, Figure, String) {
    let mut panel = Panel::new(None, "replications paused that day", NumFormat::Percent);
    // A little headroom, so that a line at 100% stays clear of the frame.
    panel.y_fixed = Some(0.0..104.0);
    let mut legend = Vec::new();
    let mut ever = Vec::new();
    let mut never = Vec::new();
    for (i, seg) in mc.segments().iter().enumerate() {
        let share: Vec<f64> = mc
            .bands
            .series(&format!("pause_probability[{seg}]"))
            .unwrap_or_default()
            .iter()
            .map(|p| p * 100.0)
            .collect();
        if !any_nonzero(&share) {
            never.push(seg.clone());
            continue;
        }
        let colour = entity_colour(i);
        panel.layers.push(Layer::Line {
            points: day_points(0.0, &share),
            colour,
            width: 3,
            dash: Dash::Solid,
        });
        let at_all = mc
            .reps
            .dates
            .get(&format!("first_pause.{seg}"))
            .map(|d| d.probability);
        legend.push(LegendItem::line(seg.clone(), colour, Dash::Solid));
        ever.push(match at_all {
            Some(p) => format!("{seg} in {:.0}% of them", p * 100.0),
            None => seg.clone(),
        });
    }
    if ever.is_empty() {
        panel.note = Some(format!(
            "no segment's sign-ups were paused in any of the {}",
            replications(mc)
        ));
    }
    if !never.is_empty() {
        legend.push(LegendItem::heading(format!(
            "never paused: {}",
            never.join(", ")
        )));
    }
    let caption = format!(
        "Share of the {} in which each segment's sign-ups were paused, day by day; {}.",
        replications(mc),
        match (ever.is_empty(), never.is_empty()) {
            (true, _) => "no segment was ever paused".to_string(),
            (false, true) => format!("paused at least once: {}", ever.join(", ")),
            (false, false) => format!(
                "paused at least once: {}; never paused: {}",
                ever.join(", "),
                never.join(", ")
            ),
        }
    );
    let fig = Figure::single(
        format!(
            "Probability of a sign-up pause, {} — {scenario}",
            replications(mc)
        ),
        time.into(),
        Vec::new(),
        panel,
        legend,
    );
    ("pause_probability", fig, caption)
}

/// A histogram of one metric of `replications.csv`.
struct Histogram {
    /// File stem.
    name: &'static str,
    /// Column of `replications.csv` and key of `replications.metrics`.
    metric: &'static str,
    /// What is counted, for the title.
    title: &'static str,
    /// The x axis: what is measured, with its unit.
    desc: &'static str,
    format: NumFormat,
    /// Whether values are whole numbers (days), so bars are whole numbers wide.
    whole: bool,
    colour: RGBColor,
}

const PAUSE_DAYS: Histogram = Histogram {
    name: "hist_pause_days",
    metric: "pause_days",
    title: "Paused segment-days",
    desc: "sign-up pause days, summed over segments (segment-days)",
    format: NumFormat::Count,
    whole: true,
    colour: CAPACITY,
};

const LOST_REVENUE: Histogram = Histogram {
    name: "hist_lost_revenue",
    metric: "lost_revenue_usd",
    title: "Revenue lost",
    desc: "revenue lost to sign-up pauses and shortage churn (USD)",
    format: NumFormat::Usd,
    whole: false,
    colour: ALARM,
};

/// 1, 2, 5 × 10^k around `x` (x > 0).
fn nice_steps(x: f64) -> impl Iterator<Item = f64> {
    let mag = 10f64.powi(x.log10().floor() as i32);
    [1.0, 2.0, 5.0, 10.0].into_iter().map(move |m| m * mag)
}

/// The smallest of 1, 2, 5 × 10^k at least `x` (x > 0).
fn nice_up(x: f64) -> f64 {
    nice_steps(x).find(|s| *s >= x * (1.0 - 1e-12)).unwrap_or(x)
}

/// The 1, 2, 5 × 10^k nearest `x` (x > 0) on a log scale.
fn nice_near(x: f64) -> f64 {
    nice_steps(x)
        .min_by(|a, b| (a / x).ln().abs().total_cmp(&(b / x).ln().abs()))
        .unwrap_or(x)
}

/// Histogram bars `(x0, x1, count)` of `values` (non-finite ones left out). Bar width by
/// Freedman–Diaconis (2 IQR / n^⅓; the range over √n bars when the IQR is 0), rounded to
/// the nearest 1, 2 or 5 × 10^k, so that bars start at round numbers, and widened if that
/// makes more than [`MAX_BINS`] bars; whole numbers get whole widths with each number inside
/// a bar, not on an edge. Values all equal give one bar centred on them.
fn bins(values: &[f64], whole: bool) -> Vec<(f64, f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_unstable_by(f64::total_cmp);
    let (Some(&lo), Some(&hi)) = (v.first(), v.last()) else {
        return Vec::new();
    };
    let n = v.len() as f64;
    let span = hi - lo;
    if span <= 0.0 {
        let w = if whole || lo == 0.0 {
            1.0
        } else {
            nice_up(lo.abs() * 0.02)
        };
        return vec![(lo - w / 2.0, lo + w / 2.0, n)];
    }
    let iqr = percentile(&v, 0.75) - percentile(&v, 0.25);
    let fd = if iqr > 0.0 {
        2.0 * iqr / n.cbrt()
    } else {
        span / n.sqrt().ceil()
    };
    let mut w = nice_near(fd);
    if span / w > MAX_BINS as f64 {
        w = nice_up(span / MAX_BINS as f64);
    }
    let offset = if whole {
        w = w.max(1.0);
        0.5
    } else {
        0.0
    };
    let start = ((lo + offset) / w).floor() * w - offset;
    let count = ((hi - start) / w).floor() as usize + 1;
    let mut bars: Vec<(f64, f64, f64)> = (0..count)
        .map(|k| (start + k as f64 * w, start + (k + 1) as f64 * w, 0.0))
        .collect();
    for x in &v {
        let k = (((x - start) / w).floor() as usize).min(count - 1);
        bars[k].2 += 1.0;
    }
    bars
}

fn histogram(mc: &McData, h: &Histogram, scenario: &str) -> (&'static str, Figure, String) {
    let values = mc.metric(h.metric).unwrap_or_default();
    let bars = bins(values, h.whole);
    let (first, last) = match (bars.first(), bars.last()) {
        (Some(a), Some(b)) => (a.0, b.1),
        _ => (0.0, 1.0),
    };
    let width = last - first;
    let single = bars.len() == 1;
    // Half a bar of room either side, but no negative values for a quantity that has none;
    // a single bar sits in the middle, its value the one tick.
    let pad = if single {
        width
    } else {
        width / bars.len().max(1) as f64 / 2.0
    };
    let mut lo = first - pad;
    if !single && values.iter().all(|v| *v >= 0.0) {
        lo = lo.max(first.min(0.0));
    }
    let most = bars.iter().map(|b| b.2).fold(0.0, f64::max);
    let mut panel = Panel::new(None, "replications", NumFormat::Count);
    // Whole counts: at least 0..5, so that a small count gets whole ticks.
    panel.y_fixed = Some(0.0..(most * 1.08).max(5.0));
    panel.layers.push(Layer::Bars {
        bars: bars.clone(),
        colour: h.colour.mix(BAR_ALPHA),
    });
    let mut legend = vec![
        LegendItem::heading(replications(mc)),
        LegendItem::fill(
            if h.whole && bars.len() > 1 && bars[0].1 - bars[0].0 == 1.0 {
                "replications per value".to_string()
            } else {
                "replications per bar".to_string()
            },
            h.colour.mix(BAR_ALPHA),
        ),
    ];
    let mut strip = Vec::new();
    let stats = mc.reps.metrics.get(h.metric);
    if let Some(s) = stats {
        // P5, median and P95 as lines; equal ones share a line and a label.
        let marks = [
            ("P5", s.p5, GREY),
            ("median", s.p50, INK),
            ("P95", s.p95, GREY),
        ];
        let mut k = 0;
        while k < marks.len() {
            let mut names = vec![marks[k].0];
            let (x, mut colour) = (marks[k].1, marks[k].2);
            while k + 1 < marks.len() && h.format.tick(marks[k + 1].1) == h.format.tick(x) {
                k += 1;
                names.push(marks[k].0);
                if marks[k].0 == "median" {
                    colour = INK;
                }
            }
            if x.is_finite() {
                strip.push(StripItem::Marker {
                    x: if names.contains(&"median") { s.p50 } else { x },
                    colour,
                    label: if names.len() > 1 {
                        format!("{}: {}", names.join(" = "), h.format.tick(x))
                    } else {
                        format!("{} {}", names[0], h.format.tick(x))
                    },
                });
            }
            k += 1;
        }
        legend.push(LegendItem::line("median", INK, Dash::Dashed));
        if strip
            .iter()
            .any(|m| matches!(m, StripItem::Marker { colour, .. } if *colour == GREY))
        {
            legend.push(LegendItem::line("P5 and P95", GREY, Dash::Dashed));
        }
    }
    if single && values.len() > 1 {
        legend.push(LegendItem::heading(format!(
            "all equal: {}",
            h.format.tick(values[0])
        )));
    }
    if values.is_empty() {
        panel.note = Some("no replications".into());
    }
    let caption = format!(
        "{} over the {}: {}{}",
        h.title,
        replications(mc),
        match stats {
            Some(s) => format!(
                "median {}, P5–P95 {} – {} (dashed lines), mean {}",
                h.format.tick(s.p50),
                h.format.tick(s.p5),
                h.format.tick(s.p95),
                h.format.tick(s.mean)
            ),
            None => "no statistics recorded".into(),
        },
        match bars.len() {
            0 => ".".to_string(),
            1 => "; every replication gave the same value.".to_string(),
            n => format!("; {n} bars, each {} wide.", h.format.tick(width / n as f64)),
        }
    );
    let x = XAxis::Value(ValueAxis {
        range: lo..last + pad,
        format: h.format,
        desc: h.desc.to_string(),
        min_step: if h.whole { 1.0 } else { 0.0 },
        fixed: single.then(|| (vec![(first + last) / 2.0], width)),
        plain_zero: false,
    });
    let title = format!("{}, {} — {scenario}", h.title, replications(mc));
    let fig = Figure::single(title, x, strip, panel, legend);
    (h.name, fig, caption)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_make_one_bar_centred_on_them() {
        assert_eq!(bins(&[444.0; 5], true), vec![(443.5, 444.5, 5.0)]);
        // 2% of 2.4B is 48M, rounded up to 50M.
        assert_eq!(bins(&[2.4e9; 3], false), vec![(2.375e9, 2.425e9, 3.0)]);
        assert_eq!(bins(&[0.0; 2], false), vec![(-0.5, 0.5, 2.0)]);
        assert!(bins(&[], false).is_empty());
        assert!(bins(&[f64::NAN], true).is_empty());
    }

    #[test]
    fn whole_numbers_get_one_bar_each_when_few() {
        // 442 ×1, 443 ×2, 444 ×3: IQR 1, 2 × 1 / 6^⅓ = 1.1, rounded to 1: one bar a day,
        // each day in the middle of its bar.
        let v = [442.0, 443.0, 443.0, 444.0, 444.0, 444.0];
        assert_eq!(
            bins(&v, true),
            vec![
                (441.5, 442.5, 1.0),
                (442.5, 443.5, 2.0),
                (443.5, 444.5, 3.0)
            ]
        );
        // 0..=100 step 4 (26 values): IQR 50, 2 × 50 / 26^⅓ = 33.8, nearest 50 on a log
        // scale (20 is 1.7 times smaller, 50 1.5 times larger): bars from -0.5, 50 wide.
        let v: Vec<f64> = (0..=25).map(|k| f64::from(k * 4)).collect();
        assert_eq!(
            bins(&v, true),
            vec![(-0.5, 49.5, 13.0), (49.5, 99.5, 12.0), (99.5, 149.5, 1.0)]
        );
        // Every value counted once.
        let many: Vec<f64> = (0..1000).map(|i| (i % 37) as f64).collect();
        let b = bins(&many, true);
        assert_eq!(b.iter().map(|x| x.2).sum::<f64>(), 1000.0);
        assert!(b.len() <= MAX_BINS);
    }

    #[test]
    fn freedman_diaconis_width_is_rounded_up_to_a_round_number() {
        // 0, 1, ..., 999: IQR 499.5, 2 × 499.5 / 1000^⅓ = 99.9, rounded to 100: 10 bars.
        let v: Vec<f64> = (0..1000).map(f64::from).collect();
        let b = bins(&v, false);
        assert_eq!(b.len(), 10);
        assert_eq!((b[0].0, b[0].1, b[0].2), (0.0, 100.0, 100.0));
        assert_eq!(nice_near(99.9), 100.0);
        assert_eq!(nice_near(22.0), 20.0);
        assert_eq!(nice_near(35.0), 50.0);
        assert_eq!(nice_up(100.0), 100.0);
        assert!((nice_up(0.03) - 0.05).abs() < 1e-12);
        // Few bars at most, however narrow the quartiles: 1000 values, 999 of them 0.
        let mut v = vec![0.0; 999];
        v.push(1e6);
        assert!(bins(&v, false).len() <= MAX_BINS);
    }
}
