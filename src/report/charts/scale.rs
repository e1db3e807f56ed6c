//! Scales: the x axis (dates, or values for a histogram) and the palette; how axis values are
//! written is [`crate::format::NumFormat`].

use std::ops::Range;

use chrono::{Datelike, Days, NaiveDate};
use plotters::style::RGBColor;

use crate::format::NumFormat;

/// Okabe-Ito, the colour-blind-safe palette, in the order entities (products, segments,
/// scenarios) take it by their index (yellow is eighth: it is hard to see as a thin line);
/// then eight colours of Paul Tol's colour-blind-safe "muted" scheme, darker and duller than
/// Okabe-Ito's, so that a run with up to sixteen products keeps them apart.
pub(super) const PALETTE: [RGBColor; 16] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x33, 0x22, 0x88), // indigo (Tol)
    RGBColor(0x11, 0x77, 0x33), // green (Tol)
    RGBColor(0x88, 0x22, 0x55), // wine (Tol)
    RGBColor(0x99, 0x99, 0x33), // olive (Tol)
    RGBColor(0x44, 0xAA, 0x99), // teal (Tol)
    RGBColor(0xAA, 0x44, 0x99), // purple (Tol)
    RGBColor(0x88, 0xCC, 0xEE), // cyan (Tol)
    RGBColor(0xDD, 0xCC, 0x77), // sand (Tol)
];

/// Colour of the entity at `index` in its run's list (products, segments or compared runs).
/// Beyond sixteen entities the palette repeats.
pub(super) fn entity_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Whether a colour is too light for a thin line (the palette's yellow).
pub(super) fn is_light(c: RGBColor) -> bool {
    // Relative luminance, roughly: yellow is about 0.86, sky blue 0.63.
    let l = 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
    l > 200.0
}

/// How dates are written under the time axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum DateLabel {
    /// `2024`
    Year,
    /// `Jan 2024`
    Month,
    /// `2024-01-15`
    Day,
}

/// How the labels of the x axis read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum TickLabel {
    /// Dates.
    Date(DateLabel),
    /// Values `step` apart, in a format.
    Value {
        format: NumFormat,
        step: f64,
        top: f64,
    },
}

/// Tick positions of the x axis [days since the first date, or values].
#[derive(Debug, Clone)]
pub(super) struct Ticks {
    /// Labelled ticks, with a grid line.
    pub major: Vec<f64>,
    /// Light grid lines.
    pub minor: Vec<f64>,
    /// How the labels read.
    pub label: TickLabel,
}

/// The x axis of a figure: time (most charts) or values (histograms).
#[derive(Debug, Clone)]
pub(super) enum XAxis {
    Time(TimeAxis),
    Value(ValueAxis),
}

impl From<TimeAxis> for XAxis {
    fn from(t: TimeAxis) -> Self {
        XAxis::Time(t)
    }
}

impl XAxis {
    /// The x range.
    pub fn range(&self) -> Range<f64> {
        match self {
            XAxis::Time(t) => t.range(),
            XAxis::Value(v) => v.range.clone(),
        }
    }

    /// Ticks for a plot `width_px` wide.
    pub fn ticks(&self, width_px: i32) -> Ticks {
        match self {
            XAxis::Time(t) => t.ticks(width_px),
            XAxis::Value(v) => v.ticks(width_px),
        }
    }

    /// The label of a tick at `x`.
    pub fn label(&self, x: f64, ticks: &Ticks) -> String {
        match (self, ticks.label) {
            (XAxis::Time(t), TickLabel::Date(style)) => t.label(x, style),
            (XAxis::Value(v), TickLabel::Value { .. }) if v.plain_zero && x == 0.0 => "0".into(),
            (_, TickLabel::Value { format, step, top }) => format.tick_step(x, step, top),
            (XAxis::Value(v), TickLabel::Date(_)) => v.format.tick(x),
        }
    }

    /// What the axis shows, with its unit, written under it (value axes only: dates need no
    /// words).
    pub fn desc(&self) -> Option<&str> {
        match self {
            XAxis::Time(_) => None,
            XAxis::Value(v) => Some(&v.desc),
        }
    }
}

/// A value axis along x.
#[derive(Debug, Clone)]
pub(super) struct ValueAxis {
    pub range: Range<f64>,
    pub format: NumFormat,
    /// What is measured, with its unit: `paused segment-days`.
    pub desc: String,
    /// Smallest step between labelled ticks (1 for whole numbers).
    pub min_step: f64,
    /// Ticks to label instead of round numbers, `step` apart (for the decimals they need).
    pub fixed: Option<(Vec<f64>, f64)>,
    /// A tick at zero reads `0`, not `0k` like its neighbours.
    pub plain_zero: bool,
}

/// Width a value label needs, room around it included [px].
const VALUE_PX: i32 = 120;

impl ValueAxis {
    /// Ticks at multiples of 1, 2 or 5 × 10^k, as many as fit.
    fn ticks(&self, width_px: i32) -> Ticks {
        let (lo, hi) = (self.range.start, self.range.end);
        let label = |step: f64| TickLabel::Value {
            format: self.format,
            step,
            top: lo.abs().max(hi.abs()),
        };
        if let Some((major, step)) = &self.fixed {
            return Ticks {
                major: major.clone(),
                minor: Vec::new(),
                label: label(*step),
            };
        }
        let max_labels = (width_px / VALUE_PX).max(2) as f64;
        let raw = ((hi - lo) / max_labels).max(f64::MIN_POSITIVE);
        let mag = 10f64.powi(raw.log10().floor() as i32);
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * mag)
            .max(self.min_step);
        let major: Vec<f64> = ((lo / step).ceil() as i64..=(hi / step).floor() as i64)
            .map(|k| k as f64 * step)
            .collect();
        Ticks {
            major,
            minor: Vec::new(),
            label: label(step),
        }
    }
}

/// The shared time axis: x is days since `base`, one point per day.
#[derive(Debug, Clone, Copy)]
pub(super) struct TimeAxis {
    /// Date at x = 0.
    pub base: NaiveDate,
    /// Days on the axis (at least 1 for drawing).
    pub len: usize,
}

/// Month steps tried for labelled ticks, smallest first.
const MONTH_STEPS: [u32; 9] = [1, 2, 3, 6, 12, 24, 60, 120, 240];
/// Day steps tried when a run is too short for two month ticks.
const DAY_STEPS: [u64; 5] = [1, 2, 7, 14, 28];
/// Width a date label needs, room around it included, by style [px].
const YEAR_PX: i32 = 70;
const MONTH_PX: i32 = 115;
const DAY_PX: i32 = 125;

impl TimeAxis {
    /// The x range: first to last day, at least one day wide.
    pub fn range(&self) -> Range<f64> {
        0.0..(self.len.max(2) - 1) as f64
    }

    /// x of a date (may fall outside the range).
    pub fn x_of(&self, d: NaiveDate) -> f64 {
        (d - self.base).num_days() as f64
    }

    fn date(&self, x: f64) -> NaiveDate {
        let days = x.round();
        if days >= 0.0 {
            self.base.checked_add_days(Days::new(days as u64))
        } else {
            self.base.checked_sub_days(Days::new((-days) as u64))
        }
        .unwrap_or(self.base)
    }

    /// Ticks for a plot `width_px` wide: month starts (every 1, 2, 3, 6, 12... months, aligned
    /// to January) or, for runs too short for two month starts, days.
    pub fn ticks(&self, width_px: i32) -> Ticks {
        let last = self.range().end;
        let end = self.date(last);
        let months = month_starts(self.base, end);
        // Light grid lines at most every 8 px.
        let max_minor = (width_px / 8).max(2) as usize;
        if months.len() >= 2 {
            for step in MONTH_STEPS {
                let (label, label_px) = if step >= 12 {
                    (DateLabel::Year, YEAR_PX)
                } else {
                    (DateLabel::Month, MONTH_PX)
                };
                let max_labels = (width_px / label_px).max(2) as usize;
                let major: Vec<f64> = months
                    .iter()
                    .filter(|d| month_index(**d).is_multiple_of(step))
                    .map(|d| self.x_of(*d))
                    .collect();
                // Take the finest step whose labels fit; never fewer than two labels.
                let coarser_too_few = months
                    .iter()
                    .filter(|d| month_index(**d).is_multiple_of(step * 2))
                    .count()
                    < 2;
                if major.len() > max_labels && !coarser_too_few {
                    continue;
                }
                let minor_step = [1, 3, 12, 60]
                    .into_iter()
                    .find(|m| months.len() / (*m as usize) <= max_minor)
                    .unwrap_or(120);
                let minor = months
                    .iter()
                    .filter(|d| month_index(**d).is_multiple_of(minor_step))
                    .map(|d| self.x_of(*d))
                    .collect();
                return Ticks {
                    major,
                    minor,
                    label: TickLabel::Date(label),
                };
            }
        }
        // Short runs: days.
        let max_labels = (width_px / DAY_PX).max(2) as u64;
        let days = last as u64;
        let step = DAY_STEPS
            .into_iter()
            .find(|s| days / s < max_labels)
            .unwrap_or_else(|| days.div_ceil(max_labels).max(1));
        let major = (0..=days)
            .step_by(step as usize)
            .map(|d| d as f64)
            .collect();
        let minor_step = days.div_ceil(max_minor as u64).max(1);
        let minor = (0..=days)
            .step_by(minor_step as usize)
            .map(|d| d as f64)
            .collect();
        Ticks {
            major,
            minor,
            label: TickLabel::Date(DateLabel::Day),
        }
    }

    /// The label of a tick at `x`.
    pub fn label(&self, x: f64, style: DateLabel) -> String {
        let d = self.date(x);
        match style {
            DateLabel::Year => d.format("%Y").to_string(),
            DateLabel::Month => d.format("%b %Y").to_string(),
            DateLabel::Day => d.format("%Y-%m-%d").to_string(),
        }
    }
}

fn month_index(d: NaiveDate) -> u32 {
    (d.year().rem_euclid(10_000) as u32) * 12 + d.month0()
}

/// First days of the months from `from` to `to`, both included.
fn month_starts(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let (mut y, mut m) = (from.year(), from.month());
    if from.day() != 1 {
        (y, m) = next_month(y, m);
    }
    while let Some(d) = NaiveDate::from_ymd_opt(y, m, 1) {
        if d > to || out.len() > 12 * 500 {
            break;
        }
        out.push(d);
        (y, m) = next_month(y, m);
    }
    out
}

fn next_month(y: i32, m: u32) -> (i32, u32) {
    if m == 12 { (y + 1, 1) } else { (y, m + 1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_ticks_are_round_numbers_within_the_range() {
        let axis = ValueAxis {
            range: 441.5..444.5,
            format: NumFormat::Count,
            desc: String::new(),
            min_step: 1.0,
            fixed: None,
            plain_zero: false,
        };
        // 1100 px / 120 px = 9 labels at most over 3 days: steps of 0.5 would do, but whole
        // numbers need a step of at least 1.
        let t = axis.ticks(1100);
        assert_eq!(t.major, vec![442.0, 443.0, 444.0]);
        let axis = ValueAxis {
            range: 0.0..2.4e9,
            format: NumFormat::Usd,
            desc: String::new(),
            min_step: 0.0,
            fixed: None,
            plain_zero: false,
        };
        // 2.4B / 9 = 267M a label at most: steps of 500M.
        assert_eq!(axis.ticks(1100).major.len(), 5);
    }

    #[test]
    fn three_years_get_half_year_ticks_at_month_starts() {
        let t = TimeAxis {
            base: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            len: 1096,
        };
        let ticks = t.ticks(1100);
        // 1100 px / 115 px = 9 labels at most: every 6 months gives Jan and Jul of
        // 2023, 2024, 2025 = 6 ticks (every 3 months would give 12).
        assert_eq!(ticks.major.len(), 6);
        assert_eq!(ticks.label, TickLabel::Date(DateLabel::Month));
        assert_eq!(t.label(ticks.major[1], DateLabel::Month), "Jul 2023");
    }

    #[test]
    fn a_narrow_plot_gets_years() {
        let t = TimeAxis {
            base: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            len: 1096,
        };
        // 282 px / 70 px = 4 year labels at most: 2023, 2024, 2025.
        let ticks = t.ticks(282);
        assert_eq!(ticks.label, TickLabel::Date(DateLabel::Year));
        assert_eq!(ticks.major.len(), 3);
        assert!(ticks.minor.len() <= 282 / 8);
    }

    #[test]
    fn a_one_day_run_still_has_ticks() {
        let t = TimeAxis {
            base: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            len: 1,
        };
        let ticks = t.ticks(1100);
        assert_eq!(ticks.label, TickLabel::Date(DateLabel::Day));
        assert_eq!(ticks.major, vec![0.0, 1.0]);
    }
}
