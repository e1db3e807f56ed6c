//! A chart as data ([`Figure`]), and the one renderer that lays out and draws any figure on
//! any plotters backend, so the PNG and the SVG of a chart are the same drawing.
//!
//! Layout at 1600x900 (pixels, top to bottom): the title; a strip of annotation labels (event
//! markers and labelled bands, stacked in rows so that no two overlap); then rows of panels
//! sharing the x axis (time, or values for a histogram), each row with an optional heading,
//! dates (or values and what they measure) under the last row only.
//! Legends sit in a column right of the plots, each beside its row, so they never cover data.
//! What-if charts use the same kit: a value x axis, points, a labelled rule, cells (a heatmap,
//! a tornado's bars) and text labels, a subtitle under the title, and category labels on the
//! value axis (a tornado's inputs).

use std::ops::Range;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::scale::{Ticks, XAxis, is_light};
use super::{HEIGHT, WIDTH};
use crate::format::NumFormat;

/// Title text size [px].
pub(super) const TITLE_PX: f64 = 34.0;
/// Panel heading text size [px].
const HEADING_PX: f64 = 21.0;
/// Tick label text size [px].
pub(super) const TICK_PX: f64 = 18.0;
/// Axis description text size [px].
pub(super) const DESC_PX: f64 = 20.0;
/// Legend and annotation text size [px].
pub(super) const LEGEND_PX: f64 = 19.0;
const STRIP_PX: f64 = 18.0;
/// Text size of values written in a plot (cells, bar ends) [px].
const VALUE_PX: f64 = 17.0;
/// Height of the subtitle's line under the title [px].
const SUBTITLE_H: i32 = 30;

/// Height of the title row [px].
pub(super) const TITLE_H: i32 = 64;
/// Height of a panel heading [px].
const HEADING_H: i32 = 30;
/// Height of a row of the annotation strip [px].
const STRIP_ROW_H: i32 = 27;
/// Most rows in the annotation strip; further labels share the least crowded row.
const STRIP_MAX_ROWS: usize = 6;
/// Room for the dates under the last row [px].
const X_AREA: i32 = 44;
/// More room under the last row for the description of a value axis [px].
const X_DESC_H: i32 = 32;
/// Room for value labels and the unit left of a plot, one column / several [px].
const Y_AREA: i32 = 128;
const Y_AREA_GRID: i32 = 108;
/// How far right of its column a panel's area starts, so that the rotated unit is not cut
/// at the left edge [px].
const DESC_INSET: i32 = 16;
/// Space between a plot's right edge and what follows [px].
const RIGHT_PAD: i32 = 30;
/// Vertical gap between rows [px].
const ROW_GAP: i32 = 18;
const BOTTOM_PAD: i32 = 8;
/// Width of the legend column [px].
pub(super) const LEGEND_W: i32 = 340;
/// Height of a [`Layer::Rug`] [px].
const RUG_PX: f64 = 9.0;
/// Height of a legend entry [px].
pub(super) const LEGEND_ROW_H: i32 = 28;
/// Height of each further line of a legend entry whose label is wrapped [px].
const LEGEND_LINE_H: i32 = 22;
/// Most lines of a legend label; a longer one (over some 100 characters) is cut on its last
/// line, with `…`.
const LEGEND_MAX_LINES: usize = 3;
/// Room for a legend label's text: the legend column less its margins and the mark [px].
const LEGEND_TEXT_W: i32 = LEGEND_W - 24 - LEGEND_MARK_W;
/// Width of a legend entry's mark and the gap after it [px].
const LEGEND_MARK_W: i32 = 44;

const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(super) const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Dash {
    Solid,
    /// Dashes of 12 px, gaps of 7 px.
    Dashed,
    /// Dots.
    Dotted,
    /// Long dashes of 24 px, gaps of 8 px.
    Long,
}

impl Dash {
    /// (dash, gap) [px], `None` when solid.
    fn pattern(self) -> Option<(i32, i32)> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some((12, 7)),
            Dash::Dotted => Some((3, 5)),
            Dash::Long => Some((24, 8)),
        }
    }

    /// Line styles distinguishing the entities of one kind (segments in the compare chart).
    pub fn nth(i: usize) -> Dash {
        [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::Long][i % 4]
    }

    /// How a reader would name it, for captions.
    pub fn name(self) -> &'static str {
        match self {
            Dash::Solid => "solid",
            Dash::Dashed => "dashed",
            Dash::Dotted => "dotted",
            Dash::Long => "long-dashed",
        }
    }
}

/// How a point is marked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Shape {
    /// A small dot on a line.
    Dot,
    /// A circle with a white edge, so that overlapping points stay apart.
    Circle,
    /// A triangle with a white edge.
    Triangle,
}

/// Which side of its point a [`Layer::Text`] is written on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Side {
    Left,
    Right,
}

/// A rectangle of a [`Layer::Cells`], in data coordinates, with a value written inside if it
/// fits.
#[derive(Debug, Clone)]
pub(super) struct Cell {
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub fill: RGBAColor,
    pub label: Option<String>,
}

/// Something drawn in a panel, in data coordinates (x in days, y in the panel's unit).
#[derive(Debug, Clone)]
pub(super) enum Layer {
    /// A full-height translucent band from `x0` to `x1`.
    Band { x0: f64, x1: f64, colour: RGBAColor },
    /// Full-height opaque blocks `(x0, x1, colour)`: a categorical strip.
    Blocks(Vec<(f64, f64, RGBColor)>),
    /// Spans `(x0, x1)` marked by a strip along the bottom of the plot, [`RUG_PX`] high,
    /// so that days stand out however small the quantity drawn above them.
    Rug {
        spans: Vec<(f64, f64)>,
        colour: RGBAColor,
    },
    /// The region between `lower` and `upper` (same x values).
    Area {
        upper: Vec<(f64, f64)>,
        lower: Vec<(f64, f64)>,
        colour: RGBAColor,
    },
    /// Bars `(x0, x1, height)` rising from 0: a histogram.
    Bars {
        bars: Vec<(f64, f64, f64)>,
        colour: RGBAColor,
    },
    /// A line.
    Line {
        points: Vec<(f64, f64)>,
        colour: RGBColor,
        width: u32,
        dash: Dash,
    },
    /// Points, each marked.
    Points {
        points: Vec<(f64, f64)>,
        colour: RGBColor,
        shape: Shape,
    },
    /// A dashed horizontal line across the plot, labelled at its right end (a target).
    Rule {
        y: f64,
        colour: RGBColor,
        label: String,
    },
    /// Rectangles with a white edge (a heatmap's cells, a tornado's bars).
    Cells(Vec<Cell>),
    /// Text beside a point, 6 px off it.
    Text {
        at: (f64, f64),
        text: String,
        side: Side,
    },
}

/// One plot: a value axis and layers.
#[derive(Debug, Clone)]
pub(super) struct Panel {
    /// Text above the plot (what is shown).
    pub heading: Option<String>,
    /// The value axis's description, with its unit: `H100e`, `units/day`.
    pub y_desc: String,
    /// How values are written.
    pub format: NumFormat,
    /// A categorical strip (no value axis).
    pub categorical: bool,
    /// Drawn in order, after sorting bands first, then blocks, areas and bars, rugs, lines.
    pub layers: Vec<Layer>,
    /// A fixed value range (0..100 for percentages), instead of one fitted to the values.
    pub y_fixed: Option<Range<f64>>,
    /// Shown in the middle of the plot (e.g. "no backlog in this run").
    pub note: Option<String>,
    /// Category labels at values of the value axis instead of numbers (a tornado's inputs),
    /// shortened in the middle to fit; the label area widens for them.
    pub y_labels: Option<Vec<(f64, String)>>,
}

impl Panel {
    pub fn new(heading: Option<String>, y_desc: &str, format: NumFormat) -> Self {
        Panel {
            heading,
            y_desc: y_desc.to_string(),
            format,
            categorical: false,
            layers: Vec::new(),
            y_fixed: None,
            note: None,
            y_labels: None,
        }
    }

    /// Whether any line or area leaves zero.
    fn has_values(&self) -> bool {
        self.layers.iter().any(|l| match l {
            Layer::Line { points, .. } => points.iter().any(|p| p.1 != 0.0),
            Layer::Area { upper, .. } => upper.iter().any(|p| p.1 != 0.0),
            Layer::Bars { bars, .. } => bars.iter().any(|b| b.2 != 0.0),
            Layer::Points { points, .. } => points.iter().any(|p| p.1 != 0.0),
            Layer::Band { .. }
            | Layer::Blocks(_)
            | Layer::Rug { .. }
            | Layer::Rule { .. }
            | Layer::Cells(_)
            | Layer::Text { .. } => false,
        })
    }

    /// The value range: from 0 (or the least value if negative) to the greatest value plus
    /// 8% headroom; 0..1 when there is nothing to show.
    fn y_range(&self) -> Range<f64> {
        if self.categorical {
            return 0.0..1.0;
        }
        if let Some(r) = &self.y_fixed {
            return r.clone();
        }
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        let mut see = |p: &[(f64, f64)]| {
            for &(_, y) in p {
                if y.is_finite() {
                    lo = lo.min(y);
                    hi = hi.max(y);
                }
            }
        };
        for l in &self.layers {
            match l {
                Layer::Line { points, .. } | Layer::Points { points, .. } => see(points),
                Layer::Rule { y, .. } => see(&[(0.0, *y)]),
                Layer::Area { upper, lower, .. } => {
                    see(upper);
                    see(lower);
                }
                Layer::Bars { bars, .. } => {
                    see(&bars.iter().map(|b| (b.0, b.2)).collect::<Vec<_>>());
                }
                Layer::Band { .. }
                | Layer::Blocks(_)
                | Layer::Rug { .. }
                | Layer::Cells(_)
                | Layer::Text { .. } => {}
            }
        }
        if hi - lo <= 0.0 {
            return lo..lo + 1.0;
        }
        lo..hi + (hi - lo) * 0.08
    }
}

/// How a legend entry is marked.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mark {
    /// A line sample.
    Line {
        colour: RGBColor,
        width: u32,
        dash: Dash,
    },
    /// A filled square.
    Fill(RGBAColor),
    /// A point's marker.
    Point { colour: RGBColor, shape: Shape },
    /// No mark: the entry is a heading, in bold.
    Heading,
}

/// A legend entry.
#[derive(Debug, Clone)]
pub(super) struct LegendItem {
    pub label: String,
    pub mark: Mark,
}

impl LegendItem {
    pub fn line(label: impl Into<String>, colour: RGBColor, dash: Dash) -> Self {
        LegendItem {
            label: label.into(),
            mark: Mark::Line {
                colour,
                width: 3,
                dash,
            },
        }
    }
    pub fn fill(label: impl Into<String>, colour: RGBAColor) -> Self {
        LegendItem {
            label: label.into(),
            mark: Mark::Fill(colour),
        }
    }
    pub fn point(label: impl Into<String>, colour: RGBColor, shape: Shape) -> Self {
        LegendItem {
            label: label.into(),
            mark: Mark::Point { colour, shape },
        }
    }
    pub fn heading(label: impl Into<String>) -> Self {
        LegendItem {
            label: label.into(),
            mark: Mark::Heading,
        }
    }
}

/// A row of panels side by side, with its legend.
#[derive(Debug, Clone)]
pub(super) struct Row {
    /// Relative height.
    pub weight: f64,
    pub panels: Vec<Panel>,
    pub legend: Vec<LegendItem>,
}

/// A label in the annotation strip above the plots.
#[derive(Debug, Clone)]
pub(super) enum StripItem {
    /// A dated event: a vertical dashed line through every panel, labelled.
    Marker {
        x: f64,
        colour: RGBColor,
        label: String,
    },
    /// A labelled period, drawn as a bar over its extent (its band is a [`Layer::Band`]).
    Period {
        x0: f64,
        x1: f64,
        colour: RGBAColor,
        label: String,
    },
}

/// A whole chart.
#[derive(Debug, Clone)]
pub(super) struct Figure {
    pub title: String,
    /// A muted line under the title (how the values were computed).
    pub subtitle: Option<String>,
    pub x: XAxis,
    /// Labels above the plots (single-column figures only).
    pub strip: Vec<StripItem>,
    pub rows: Vec<Row>,
}

/// Room under the last row: for the dates, or for the values and their description.
fn x_area(fig: &Figure) -> i32 {
    X_AREA + fig.x.desc().map_or(0, |_| X_DESC_H)
}

impl Figure {
    /// A figure of one plot, with its legend beside it.
    pub fn single(
        title: String,
        x: XAxis,
        strip: Vec<StripItem>,
        panel: Panel,
        legend: Vec<LegendItem>,
    ) -> Self {
        Figure {
            title,
            subtitle: None,
            x,
            strip,
            rows: vec![Row {
                weight: 1.0,
                panels: vec![panel],
                legend,
            }],
        }
    }
}

pub(super) type Res<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

pub(super) fn font(px: f64) -> TextStyle<'static> {
    TextStyle::from(FontDesc::new(FontFamily::SansSerif, px, FontStyle::Normal)).color(&TEXT)
}

pub(super) fn bold(px: f64) -> TextStyle<'static> {
    TextStyle::from(FontDesc::new(FontFamily::SansSerif, px, FontStyle::Bold)).color(&TEXT)
}

/// Shortens `text` with an ellipsis until it fits `max_w` pixels.
pub(super) fn fit<DB: DrawingBackend, CT: CoordTranslate>(
    root: &DrawingArea<DB, CT>,
    text: &str,
    style: &TextStyle,
    max_w: i32,
) -> Res<String, DB> {
    let width = |s: &str| root.estimate_text_size(s, style).map(|(w, _)| w as i32);
    if width(text)? <= max_w {
        return Ok(text.to_string());
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let s: String = chars.iter().collect::<String>().trim_end().to_string() + "…";
        if width(&s)? <= max_w {
            return Ok(s);
        }
    }
    Ok(String::new())
}

/// Shortens `text` by replacing its middle with an ellipsis until it fits `max_w` pixels,
/// so both the start and the end of a path stay readable.
pub(super) fn fit_middle<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    text: &str,
    style: &TextStyle,
    max_w: i32,
) -> Res<String, DB> {
    let width = |s: &str| area.estimate_text_size(s, style).map(|(w, _)| w as i32);
    if width(text)? <= max_w {
        return Ok(text.to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    for cut in 1..chars.len() {
        let keep = chars.len() - cut;
        let (head, tail) = (keep / 2, keep - keep / 2);
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

/// Smallest text size of a panel heading that is too long for its plot [px].
const HEADING_MIN_PX: f64 = 15.0;

/// A panel heading and its text size: [`HEADING_PX`], or smaller (down to
/// [`HEADING_MIN_PX`]) so that a long one (a backtest's metric) is written whole; only one too
/// long even then is cut, with `…`.
pub(super) fn heading_text<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    max_w: i32,
) -> Res<(String, f64), DB> {
    let mut px = HEADING_PX;
    while px > HEADING_MIN_PX {
        if root.estimate_text_size(text, &bold(px))?.0 as i32 <= max_w {
            return Ok((text.to_string(), px));
        }
        px -= 1.0;
    }
    Ok((fit(root, text, &bold(px), max_w)?, px))
}

/// `text` in lines that each fit `max_w` pixels, measured in `style`: broken at the last space
/// (dropped) or after the last `-`, `/`, `_`, `.`, `:` or `+` that fits, else between any two
/// characters,
/// so that nothing of a label is lost. At most `max_lines` lines: only text that needs more is
/// cut, on the last line, with `…`.
pub(super) fn wrap<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    text: &str,
    style: &TextStyle,
    max_w: i32,
    max_lines: usize,
) -> Res<Vec<String>, DB> {
    let width = |s: &str| area.estimate_text_size(s, style).map(|(w, _)| w as i32);
    let mut lines = Vec::new();
    let mut rest: &str = text.trim();
    while !rest.is_empty() {
        if lines.len() + 1 == max_lines.max(1) {
            lines.push(fit(area, rest, style, max_w)?);
            break;
        }
        if width(rest)? <= max_w {
            lines.push(rest.to_string());
            break;
        }
        // The longest head that fits, preferring a break at a space, then after punctuation.
        let ends: Vec<usize> = rest.char_indices().map(|(i, c)| i + c.len_utf8()).collect();
        let mut fits = 0;
        for &end in &ends {
            if width(rest[..end].trim_end())? > max_w {
                break;
            }
            fits = end;
        }
        let head = &rest[..fits];
        let at_space = head.rfind(' ').filter(|&i| !head[..i].trim().is_empty());
        let after_mark = head.rfind(['-', '/', '_', '.', ':', '+']).map(|i| i + 1);
        // At least one character, so that a line too narrow for any still moves on.
        // The later of the two, so that a line is as full as it can be.
        let cut = at_space.max(after_mark).unwrap_or(fits).max(ends[0]);
        lines.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start();
    }
    Ok(lines)
}

/// A point's marker at pixel `at` of `area`.
fn draw_point<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    colour: RGBColor,
    shape: Shape,
) -> Res<(), DB> {
    match shape {
        Shape::Dot => area.draw(&Circle::new(at, 5, colour.filled()))?,
        Shape::Circle => {
            area.draw(&Circle::new(at, 8, WHITE.filled()))?;
            area.draw(&Circle::new(at, 6, colour.filled()))?;
        }
        Shape::Triangle => {
            area.draw(&TriangleMarker::new(at, 11, WHITE.filled()))?;
            area.draw(&TriangleMarker::new(at, 8, colour.filled()))?;
        }
    }
    Ok(())
}

/// Text colour that reads on `fill` (over white): white on dark, ink on light.
fn ink_on(fill: RGBAColor) -> RGBColor {
    let over_white = |c: u8| c as f64 * fill.3 + 255.0 * (1.0 - fill.3);
    let lum =
        0.2126 * over_white(fill.0) + 0.7152 * over_white(fill.1) + 0.0722 * over_white(fill.2);
    if lum < 140.0 { WHITE } else { TEXT }
}

/// A strip label, measured: its pixel extent and how it is drawn.
struct Label {
    /// Extent it occupies in its row [px].
    x0: i32,
    x1: i32,
    /// x of a marker's line [px].
    line: Option<i32>,
    /// A period's bar [px].
    bar: Option<(i32, i32)>,
    colour: RGBAColor,
    /// Where the text is anchored, and whether at its right end.
    text_x: i32,
    right_aligned: bool,
    text: String,
}

/// Puts strip labels in rows, lowest row (nearest the plots) first, so that no two labels
/// overlap and no marker's line, running down from its label to the plots, crosses a label
/// below it. Returns each label's row.
fn pack(labels: &[Label]) -> Vec<usize> {
    let mut rows: Vec<usize> = Vec::with_capacity(labels.len());
    for (i, l) in labels.iter().enumerate() {
        let fits = |row: usize| {
            labels[..i].iter().zip(&rows).all(|(p, &prow)| {
                let overlap = prow == row && l.x0 < p.x1 + 10 && p.x0 < l.x1 + 10;
                let ours_crosses = l.line.is_some_and(|x| prow < row && p.x0 <= x && x <= p.x1);
                let theirs_crosses = p.line.is_some_and(|x| prow > row && l.x0 <= x && x <= l.x1);
                !overlap && !ours_crosses && !theirs_crosses
            })
        };
        let row = (0..STRIP_MAX_ROWS).find(|&r| fits(r)).unwrap_or_else(|| {
            // Crowded: the row whose labels end furthest left.
            (0..STRIP_MAX_ROWS)
                .min_by_key(|&r| {
                    labels[..i]
                        .iter()
                        .zip(&rows)
                        .filter(|(_, pr)| **pr == r)
                        .map(|(p, _)| p.x1)
                        .max()
                        .unwrap_or(i32::MIN)
                })
                .unwrap_or(0)
        });
        rows.push(row);
    }
    rows
}

/// The x axis as plotters sees it: days (or values) as `f64`, with our ticks.
#[derive(Clone)]
struct DayAxis {
    range: Range<f64>,
    major: Vec<f64>,
    minor: Vec<f64>,
}

impl Ranged for DayAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.range.clone()).map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// Maps x in data units to pixels, for one column of plots.
#[derive(Clone)]
struct XMap {
    range: Range<f64>,
    px: Range<i32>,
}

impl XMap {
    fn px(&self, x: f64) -> i32 {
        let span = (self.range.end - self.range.start).max(f64::MIN_POSITIVE);
        let t = ((x - self.range.start) / span).clamp(0.0, 1.0);
        self.px.start + (t * (self.px.end - self.px.start) as f64).round() as i32
    }
}

/// Measures the strip's labels.
fn strip_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    strip: &[StripItem],
    map: &XMap,
) -> Res<Vec<Label>, DB> {
    let style = font(STRIP_PX);
    let (lo, hi) = (map.px.start, map.px.end);
    let mut out = Vec::new();
    // Markers first, so they take the rows nearest the plots, from right to left: a label
    // runs right of its line, so a marker placed later (further left) never has a line
    // running down through it. Then periods, left to right.
    let x_of = |it: &StripItem| match it {
        StripItem::Marker { x, .. } => (0, -*x),
        StripItem::Period { x0, .. } => (1, *x0),
    };
    // Items wholly outside the time axis are not drawn.
    let visible = |it: &&StripItem| {
        let (a, b) = match it {
            StripItem::Marker { x, .. } => (*x, *x),
            StripItem::Period { x0, x1, .. } => (*x0, *x1),
        };
        b >= map.range.start && a <= map.range.end
    };
    let mut order: Vec<&StripItem> = strip.iter().filter(visible).collect();
    order.sort_by(|a, b| {
        let (ka, xa) = x_of(a);
        let (kb, xb) = x_of(b);
        ka.cmp(&kb).then(xa.total_cmp(&xb))
    });
    for it in order {
        let (a, b, line, colour, label) = match it {
            StripItem::Marker { x, colour, label } => {
                let px = map.px(*x);
                (px, px, Some(px), colour.mix(1.0), label)
            }
            StripItem::Period {
                x0,
                x1,
                colour,
                label,
            } => {
                let a = map.px(*x0);
                (a, map.px(*x1).max(a + 3), None, *colour, label)
            }
        };
        let text = fit(root, label, &style, (hi - lo) / 2)?;
        let tw = root.estimate_text_size(&text, &style)?.0 as i32;
        let bar = line.is_none().then_some((a, b));
        // Text starts right of the line or the bar's start; near the right edge it ends there.
        let l = if a + 7 + tw <= hi + RIGHT_PAD / 2 {
            Label {
                x0: a - 2,
                x1: b.max(a + 7 + tw),
                line,
                bar,
                colour,
                text_x: a + 7,
                right_aligned: false,
                text,
            }
        } else {
            let end = if line.is_some() { a } else { b };
            Label {
                x0: (end - 7 - tw).min(a),
                x1: end + 2,
                line,
                bar,
                colour,
                text_x: end - 7,
                right_aligned: true,
                text,
            }
        };
        out.push(l);
    }
    Ok(out)
}

/// Draws `fig` on `root`, which is [`WIDTH`] x [`HEIGHT`] pixels.
pub(super) fn render<DB: DrawingBackend>(
    fig: &Figure,
    root: &DrawingArea<DB, Shift>,
) -> Res<(), DB> {
    let (w, h) = (WIDTH as i32, HEIGHT as i32);
    root.fill(&WHITE)?;

    let title = fit(root, &fig.title, &bold(TITLE_PX), w - 40)?;
    root.draw_text(
        &title,
        &bold(TITLE_PX).pos(Pos::new(HPos::Left, VPos::Center)),
        (20, TITLE_H / 2),
    )?;
    let head_h = match &fig.subtitle {
        None => TITLE_H,
        Some(sub) => {
            let style = font(LEGEND_PX).color(&MUTED);
            let sub = fit(root, sub, &style, w - 40)?;
            root.draw_text(
                &sub,
                &style.pos(Pos::new(HPos::Left, VPos::Center)),
                (20, TITLE_H + SUBTITLE_H / 2 - 6),
            )?;
            TITLE_H + SUBTITLE_H
        }
    };

    // Columns.
    let legend_w = if fig.rows.iter().any(|r| !r.legend.is_empty()) {
        LEGEND_W
    } else {
        0
    };
    let ncols = fig
        .rows
        .iter()
        .map(|r| r.panels.len())
        .max()
        .unwrap_or(1)
        .max(1) as i32;
    let content_w = w - legend_w;
    let col_w = content_w / ncols;
    let mut y_area = if ncols > 1 { Y_AREA_GRID } else { Y_AREA };
    // Category labels widen the label area, to at most 45% of a column.
    let labels_w = fig
        .rows
        .iter()
        .flat_map(|r| &r.panels)
        .flat_map(|p| p.y_labels.iter().flatten())
        .map(|(_, t)| {
            root.estimate_text_size(t, &font(TICK_PX))
                .map(|(w, _)| w as i32)
        })
        .try_fold(0, |m, w| w.map(|w| m.max(w)))?;
    if labels_w > 0 {
        y_area = (labels_w + DESC_INSET + 24).clamp(y_area, col_w * 45 / 100);
    }
    let xmap = |c: i32| XMap {
        range: fig.x.range(),
        px: (c * col_w + y_area)..((c + 1) * col_w - RIGHT_PAD),
    };
    let ticks = fig.x.ticks(col_w - y_area - RIGHT_PAD);

    // The annotation strip (single column only).
    let map0 = xmap(0);
    let labels = if ncols == 1 {
        strip_labels(root, &fig.strip, &map0)?
    } else {
        Vec::new()
    };
    let label_rows = pack(&labels);
    let strip_rows = label_rows.iter().map(|r| r + 1).max().unwrap_or(0) as i32;
    let strip_bottom = head_h
        + if strip_rows > 0 {
            strip_rows * STRIP_ROW_H + 6
        } else {
            0
        };

    // Rows of panels.
    let nrows = fig.rows.len() as i32;
    let heading_h = |r: &Row| {
        if r.panels.iter().any(|p| p.heading.is_some()) {
            HEADING_H
        } else {
            0
        }
    };
    let fixed = fig.rows.iter().map(heading_h).sum::<i32>() + ROW_GAP * (nrows - 1).max(0);
    let avail = (h - BOTTOM_PAD - x_area(fig) - strip_bottom - 4 - fixed).max(40);
    let total_weight: f64 = fig.rows.iter().map(|r| r.weight.max(0.01)).sum();
    let mut y = strip_bottom + 4;
    let mut plots_top = None;
    let mut legend_next = 0;
    for (ri, row) in fig.rows.iter().enumerate() {
        let last = ri as i32 == nrows - 1;
        let hh = heading_h(row);
        let ph = (avail as f64 * row.weight.max(0.01) / total_weight).floor() as i32;
        let plot_top = y + hh;
        plots_top.get_or_insert(plot_top);
        for (ci, panel) in row.panels.iter().enumerate() {
            let ci = ci as i32;
            let map = xmap(ci);
            if let Some(hd) = &panel.heading {
                let (hd, px) = heading_text(root, hd, map.px.end - map.px.start)?;
                root.draw_text(
                    &hd,
                    &bold(px).pos(Pos::new(HPos::Left, VPos::Center)),
                    (map.px.start, y + hh / 2),
                )?;
            }
            let area_h = ph + if last { x_area(fig) } else { 0 };
            // The rotated unit is centred on the area's left edge: start the area a little
            // right of the column so that it is not cut.
            let area = root.clone().shrink(
                (ci * col_w + DESC_INSET, plot_top),
                (col_w - DESC_INSET, area_h),
            );
            draw_panel(panel, &area, fig, &ticks, last, y_area - DESC_INSET, ph)?;
        }
        if !row.legend.is_empty() {
            let mut ly = plot_top.max(legend_next);
            for item in &row.legend {
                let lines = legend_lines(root, item)?;
                let entry_h = legend_entry_h(lines.len());
                if ly + entry_h > h {
                    break;
                }
                draw_legend_item(root, item, &lines, content_w + 14, ly)?;
                ly += entry_h;
            }
            legend_next = ly + 10;
        }
        y = plot_top + ph + ROW_GAP;
    }

    // The strip's labels, over the bands and lines already drawn below them.
    let plots_top = plots_top.unwrap_or(strip_bottom);
    let style = font(STRIP_PX);
    for (l, &row) in labels.iter().zip(&label_rows) {
        let ry = strip_bottom - 4 - (row as i32 + 1) * STRIP_ROW_H;
        if let Some((a, b)) = l.bar {
            root.draw(&Rectangle::new(
                [(a, ry + 2), (b, ry + STRIP_ROW_H - 2)],
                l.colour.filled(),
            ))?;
        }
        if let Some(px) = l.line {
            root.draw(&PathElement::new(
                vec![(px, ry + 2), (px, ry + STRIP_ROW_H)],
                ShapeStyle::from(l.colour).stroke_width(3),
            ))?;
            root.draw(&DashedPathElement::new(
                vec![(px, ry + STRIP_ROW_H), (px, plots_top)],
                6,
                4,
                ShapeStyle::from(l.colour.mix(0.8)).stroke_width(2),
            ))?;
        }
        let anchor = if l.right_aligned {
            HPos::Right
        } else {
            HPos::Left
        };
        root.draw_text(
            &l.text,
            &style.pos(Pos::new(anchor, VPos::Center)),
            (l.text_x, ry + STRIP_ROW_H / 2),
        )?;
    }
    Ok(())
}

/// Drops the points of a line that lie within 0.3 px of the line through their neighbours
/// (Douglas-Peucker), so a daily series is drawn as the few segments that can be seen rather
/// than a thousand stubs. `sx`, `sy`: pixels per unit of x and y.
fn simplify(pts: &[(f64, f64)], sx: f64, sy: f64) -> Vec<(f64, f64)> {
    const TOLERANCE_PX: f64 = 0.3;
    let n = pts.len();
    if n <= 2 {
        return pts.to_vec();
    }
    let px: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x * sx, y * sy)).collect();
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let mut stack = vec![(0, n - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (ax, ay) = px[a];
        let (bx, by) = px[b];
        let (dx, dy) = (bx - ax, by - ay);
        let len = dx.hypot(dy);
        let (mut far, mut dist) = (a, -1.0);
        for (k, &(x, y)) in px.iter().enumerate().take(b).skip(a + 1) {
            let d = if len == 0.0 {
                (x - ax).hypot(y - ay)
            } else {
                ((x - ax) * dy - (y - ay) * dx).abs() / len
            };
            if d > dist {
                (far, dist) = (k, d);
            }
        }
        if dist > TOLERANCE_PX {
            keep[far] = true;
            stack.push((a, far));
            stack.push((far, b));
        }
    }
    pts.iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

/// Draws one panel in `area` (its value labels left, its dates below if `last`).
fn draw_panel<DB: DrawingBackend>(
    panel: &Panel,
    area: &DrawingArea<DB, Shift>,
    fig: &Figure,
    ticks: &Ticks,
    last: bool,
    y_area: i32,
    plot_h: i32,
) -> Res<(), DB> {
    let xr = fig.x.range();
    let yr = panel.y_range();
    let mut chart = ChartBuilder::on(area)
        .margin_right(RIGHT_PAD)
        .y_label_area_size(y_area)
        .x_label_area_size(if last { x_area(fig) } else { 0 })
        .build_cartesian_2d(
            DayAxis {
                range: xr.clone(),
                major: ticks.major.clone(),
                minor: ticks.minor.clone(),
            },
            yr.clone(),
        )?;
    let xfmt = |x: &f64| fig.x.label(*x, ticks);
    let format = panel.format;
    let yfmt = move |y: &f64| format.tick(*y);
    {
        let mut mesh = chart.configure_mesh();
        mesh.x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .y_labels((plot_h / 38).clamp(3, 10) as usize);
        grid_style(&mut mesh);
        if panel.categorical
            || panel.y_labels.is_some()
            || (!panel.has_values() && panel.y_fixed.is_none())
        {
            // Nothing to read off a value axis (a flat zero says so in the panel's note), or
            // category labels drawn below instead of numbers.
            mesh.disable_y_mesh().y_labels(0);
        }
        let desc_style = font(DESC_PX);
        if !panel.categorical && !panel.y_desc.is_empty() {
            mesh.y_desc(fit_middle(area, &panel.y_desc, &desc_style, plot_h)?);
        }
        if let Some(desc) = fig.x.desc().filter(|_| last) {
            let (aw, _) = area.dim_in_pixel();
            let room = aw as i32 - y_area - RIGHT_PAD;
            mesh.x_desc(fit_middle(area, desc, &desc_style, room)?);
        }
        mesh.draw()?;
    }

    // Everything is clipped to the plot: plotters does not clip.
    let cx = |x: f64| x.clamp(xr.start, xr.end);
    let cy = |y: f64| {
        if y.is_finite() {
            y.clamp(yr.start, yr.end)
        } else {
            0.0f64.clamp(yr.start, yr.end)
        }
    };
    let clip =
        |p: &[(f64, f64)]| -> Vec<(f64, f64)> { p.iter().map(|&(x, y)| (cx(x), cy(y))).collect() };
    let rank = |l: &Layer| match l {
        Layer::Band { .. } => 0,
        Layer::Blocks(_) | Layer::Cells(_) => 1,
        Layer::Area { .. } | Layer::Bars { .. } => 2,
        Layer::Rug { .. } => 3,
        Layer::Line { .. } | Layer::Rule { .. } => 4,
        Layer::Points { .. } => 5,
        Layer::Text { .. } => 6,
    };
    let mut layers: Vec<&Layer> = panel.layers.iter().collect();
    layers.sort_by_key(|l| rank(l));
    let pa = chart.plotting_area();
    // Pixels per data unit, to simplify lines to what can be seen.
    let (pw, ph) = pa.dim_in_pixel();
    let sx = pw as f64 / (xr.end - xr.start).max(f64::MIN_POSITIVE);
    let sy = ph as f64 / (yr.end - yr.start).max(f64::MIN_POSITIVE);
    // Pixels in the plot's own coordinates, for markers and text.
    let plot = pa.strip_coord_spec();
    let base = plot.get_base_pixel();
    let px = |x: f64, y: f64| {
        let (a, b) = chart.backend_coord(&(x, y));
        (a - base.0, b - base.1)
    };
    for l in layers {
        match l {
            Layer::Band { x0, x1, .. } if *x1 < xr.start || *x0 > xr.end => {}
            Layer::Band { x0, x1, colour } => {
                pa.draw(&Rectangle::new(
                    [(cx(*x0), yr.start), (cx(*x1), yr.end)],
                    colour.filled(),
                ))?;
            }
            Layer::Blocks(spans) => {
                for (x0, x1, c) in spans {
                    pa.draw(&Rectangle::new(
                        [(cx(*x0), yr.start), (cx(*x1), yr.end)],
                        c.filled(),
                    ))?;
                }
            }
            Layer::Rug { spans, colour } => {
                let top = yr.start + RUG_PX / sy;
                for (x0, x1) in spans {
                    if *x1 < xr.start || *x0 > xr.end {
                        continue;
                    }
                    pa.draw(&Rectangle::new(
                        [(cx(*x0), yr.start), (cx(*x1), top)],
                        colour.filled(),
                    ))?;
                }
            }
            Layer::Area {
                upper,
                lower,
                colour,
            } => {
                // Both edges simplified alike: a stacked band's lower edge is the upper edge
                // of the band below, and stays so.
                let mut pts = simplify(&clip(upper), sx, sy);
                pts.extend(simplify(&clip(lower), sx, sy).into_iter().rev());
                if pts.len() >= 3 {
                    pa.draw(&Polygon::new(pts, colour.filled()))?;
                }
            }
            Layer::Bars { bars, colour } => {
                for &(x0, x1, y) in bars {
                    let r = [(cx(x0), cy(0.0)), (cx(x1), cy(y))];
                    pa.draw(&Rectangle::new(r, colour.filled()))?;
                    // A white edge keeps neighbouring bars apart.
                    pa.draw(&Rectangle::new(r, ShapeStyle::from(WHITE).stroke_width(1)))?;
                }
            }
            Layer::Line {
                points,
                colour,
                width,
                dash,
            } => {
                let pts = simplify(&clip(points), sx, sy);
                if pts.len() < 2 {
                    continue;
                }
                // The palette's yellow gets a dark edge to stand out as a line.
                if is_light(*colour) {
                    pa.draw(&PathElement::new(
                        pts.clone(),
                        ShapeStyle::from(BLACK.mix(0.6)).stroke_width(width + 2),
                    ))?;
                }
                let style = ShapeStyle::from(*colour).stroke_width(*width);
                match dash.pattern() {
                    None => pa.draw(&PathElement::new(pts, style))?,
                    Some((d, g)) => pa.draw(&DashedPathElement::new(pts, d, g, style))?,
                }
            }
            Layer::Points {
                points,
                colour,
                shape,
            } => {
                for &(x, y) in points {
                    if x.is_finite() && y.is_finite() {
                        draw_point(&plot, px(cx(x), cy(y)), *colour, *shape)?;
                    }
                }
            }
            Layer::Rule { y, colour, label } => {
                let y = cy(*y);
                pa.draw(&DashedPathElement::new(
                    vec![(xr.start, y), (xr.end, y)],
                    12,
                    7,
                    ShapeStyle::from(*colour).stroke_width(3),
                ))?;
                let (x1, yy) = px(xr.end, y);
                // Above the line, or below it when it runs along the plot's top.
                let (v, ty) = if yy > 26 {
                    (VPos::Bottom, yy - 6)
                } else {
                    (VPos::Top, yy + 6)
                };
                plot.draw_text(
                    label,
                    &font(LEGEND_PX).color(colour).pos(Pos::new(HPos::Right, v)),
                    (x1 - 10, ty),
                )?;
            }
            Layer::Cells(cells) => {
                let style = font(VALUE_PX);
                for c in cells {
                    let (x0, x1) = (cx(c.x.0), cx(c.x.1));
                    let (y0, y1) = (cy(c.y.0), cy(c.y.1));
                    pa.draw(&Rectangle::new([(x0, y0), (x1, y1)], c.fill.filled()))?;
                    pa.draw(&Rectangle::new(
                        [(x0, y0), (x1, y1)],
                        ShapeStyle::from(WHITE).stroke_width(1),
                    ))?;
                    let Some(text) = &c.label else { continue };
                    let ((a, b), (e, d)) = (px(x0, y0), px(x1, y1));
                    let (tw, th) = plot.estimate_text_size(text, &style)?;
                    if tw as i32 > (e - a).abs() - 8 || th as i32 > (d - b).abs() - 4 {
                        continue;
                    }
                    plot.draw_text(
                        text,
                        &style
                            .color(&ink_on(c.fill))
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                        ((a + e) / 2, (b + d) / 2),
                    )?;
                }
            }
            Layer::Text { at, text, side } => {
                let (x, y) = px(cx(at.0), cy(at.1));
                let (h, x) = match side {
                    Side::Left => (HPos::Right, x - 6),
                    Side::Right => (HPos::Left, x + 6),
                };
                plot.draw_text(text, &font(VALUE_PX).pos(Pos::new(h, VPos::Center)), (x, y))?;
            }
        }
    }
    // Category labels left of the plot, each with a tick.
    for (y, text) in panel.y_labels.iter().flatten() {
        let (_, yy) = px(xr.start, cy(*y));
        plot.draw(&PathElement::new(
            vec![(-5, yy), (0, yy)],
            ShapeStyle::from(BLACK.mix(0.55)),
        ))?;
        let style = font(TICK_PX);
        let text = fit_middle(&plot, text, &style, y_area - 12)?;
        plot.draw_text(
            &text,
            &style.pos(Pos::new(HPos::Right, VPos::Center)),
            (-9, yy),
        )?;
    }
    // Event markers run through every panel.
    for it in &fig.strip {
        if let StripItem::Marker { x, colour, .. } = it {
            if *x < xr.start || *x > xr.end {
                continue;
            }
            let x = *x;
            pa.draw(&DashedPathElement::new(
                vec![(x, yr.end), (x, yr.start)],
                6,
                4,
                ShapeStyle::from(colour.mix(0.8)).stroke_width(2),
            ))?;
        }
    }

    // A frame, and the note, in pixels of the plot.
    let (pw, ph) = plot.dim_in_pixel();
    let (pw, ph) = (pw as i32, ph as i32);
    plot.draw(&Rectangle::new(
        [(0, 0), (pw - 1, ph - 1)],
        ShapeStyle::from(BLACK.mix(0.35)).stroke_width(1),
    ))?;
    if let Some(note) = &panel.note {
        plot.draw_text(
            note,
            &font(LEGEND_PX)
                .color(&MUTED)
                .pos(Pos::new(HPos::Center, VPos::Center)),
            (pw / 2, ph / 2),
        )?;
    }
    Ok(())
}

/// The text style of a legend entry.
fn legend_style(item: &LegendItem) -> TextStyle<'static> {
    match item.mark {
        Mark::Heading => bold(LEGEND_PX),
        _ => font(LEGEND_PX),
    }
}

/// Room for a legend entry's text [px]: a heading has no mark before it.
fn legend_text_w(item: &LegendItem) -> i32 {
    match item.mark {
        Mark::Heading => LEGEND_TEXT_W + LEGEND_MARK_W,
        _ => LEGEND_TEXT_W,
    }
}

/// A legend entry's label in the lines it is drawn in, each as wide as the legend allows.
pub(super) fn legend_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    item: &LegendItem,
) -> Res<Vec<String>, DB> {
    wrap(
        root,
        &item.label,
        &legend_style(item),
        legend_text_w(item),
        LEGEND_MAX_LINES,
    )
}

/// Height of a legend entry of `lines` lines [px].
fn legend_entry_h(lines: usize) -> i32 {
    LEGEND_ROW_H + LEGEND_LINE_H * (lines.max(1) as i32 - 1)
}

/// Draws a legend entry, its mark beside the first line of its label, at `(x, y)`.
pub(super) fn draw_legend_item<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    item: &LegendItem,
    lines: &[String],
    x: i32,
    y: i32,
) -> Res<(), DB> {
    let cy = y + LEGEND_ROW_H / 2;
    let style = legend_style(item);
    let text_x = match item.mark {
        Mark::Heading => x,
        _ => x + LEGEND_MARK_W,
    };
    match item.mark {
        Mark::Line {
            colour,
            width: lw,
            dash,
        } => {
            let pts = vec![(x, cy), (x + 34, cy)];
            if is_light(colour) {
                root.draw(&PathElement::new(
                    pts.clone(),
                    ShapeStyle::from(BLACK.mix(0.6)).stroke_width(lw + 2),
                ))?;
            }
            let style = ShapeStyle::from(colour).stroke_width(lw);
            match dash.pattern() {
                None => root.draw(&PathElement::new(pts, style))?,
                Some((d, g)) => {
                    root.draw(&DashedPathElement::new(pts, d.min(9), g.min(5), style))?
                }
            }
        }
        Mark::Fill(c) => {
            let r = [(x + 4, cy - 9), (x + 30, cy + 9)];
            root.draw(&Rectangle::new(r, c.filled()))?;
            // A border in the same hue, more opaque, so a pale band's swatch still shows.
            let edge = RGBColor(c.0, c.1, c.2).mix((c.3 * 2.5).min(1.0));
            root.draw(&Rectangle::new(r, ShapeStyle::from(edge).stroke_width(1)))?;
        }
        Mark::Point { colour, shape } => draw_point(root, (x + 17, cy), colour, shape)?,
        Mark::Heading => {}
    }
    for (i, line) in lines.iter().enumerate() {
        root.draw_text(
            line,
            &style.pos(Pos::new(HPos::Left, VPos::Center)),
            (text_x, cy + LEGEND_LINE_H * i as i32),
        )?;
    }
    Ok(())
}

/// The run charts' text sizes, grid lines and axis.
pub(super) fn grid_style<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.label_style(font(TICK_PX))
        .axis_desc_style(font(DESC_PX).color(&MUTED))
        .bold_line_style(BLACK.mix(0.14))
        .light_line_style(BLACK.mix(0.05))
        .axis_style(BLACK.mix(0.55))
        .set_all_tick_mark_size(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Measures with the embedded fonts on an SVG canvas, as the renderer does.
    fn with_canvas(check: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>)) {
        super::super::fonts().expect("fonts");
        let mut svg = String::new();
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        check(&root);
    }

    fn width(root: &DrawingArea<SVGBackend<'_>, Shift>, text: &str, style: &TextStyle) -> i32 {
        root.estimate_text_size(text, style).expect("measured").0 as i32
    }

    /// Every line of every legend label fits the legend column, and no character is lost
    /// (the long names of a compare of scenarios, segments and products).
    #[test]
    fn every_legend_label_fits_its_box_whole() {
        with_canvas(|root| {
            let labels = [
                "demand",
                "enterprise-growth-with-early-cowos-expansion: enterprise",
                "capacity (CoWoS-S + CoWoS-L + SoIC-X + InFO-LSI + CoWoS-R)",
                "Operator region A with a very long site name: installed fleet",
                "supply.packaging_lines.CoWoS-S.capacity_wafers_per_month",
                "an_identifier_with_no_spaces_at_all_that_runs_on_and_on_forever",
            ];
            for label in labels {
                for item in [
                    LegendItem::line(label, BLACK, Dash::Solid),
                    LegendItem::heading(label),
                ] {
                    let lines = legend_lines(root, &item).expect("wrapped");
                    let style = legend_style(&item);
                    for line in &lines {
                        assert!(
                            width(root, line, &style) <= legend_text_w(&item),
                            "`{line}` of `{label}` is {} px, wider than {} px",
                            width(root, line, &style),
                            legend_text_w(&item)
                        );
                    }
                    let joined: String = lines.concat();
                    let bare: String = label.chars().filter(|c| *c != ' ').collect();
                    assert_eq!(joined.replace(' ', ""), bare, "{lines:?}");
                    assert!(!joined.contains('…'), "{lines:?}");
                }
            }
            // A long label does need more than one line: the box is narrower than it.
            let long = LegendItem::line(labels[1], BLACK, Dash::Solid);
            assert!(width(root, labels[1], &legend_style(&long)) > legend_text_w(&long));
            assert_eq!(legend_lines(root, &long).expect("wrapped").len(), 2);
        });
    }

    #[test]
    fn wrap_breaks_at_spaces_then_marks_and_cuts_only_past_its_lines() {
        with_canvas(|root| {
            let style = font(LEGEND_PX);
            let w = width(root, "baseline: paid", &style);
            assert_eq!(
                wrap(root, "baseline: paid users", &style, w, 3).expect("wrap"),
                ["baseline: paid", "users"]
            );
            let w = width(root, "enterprise-", &style);
            assert_eq!(
                wrap(root, "enterprise-growth", &style, w, 3).expect("wrap"),
                ["enterprise-", "growth"]
            );
            // The later break of the two, not a lone `+`.
            let w = width(root, "+ enterprise-", &style) + 2;
            assert_eq!(
                wrap(root, "+ enterprise-growth", &style, w, 3).expect("wrap"),
                ["+ enterprise-", "growth"]
            );
            // Past the last line, the rest is cut to fit, with an ellipsis.
            let lines = wrap(root, &"word ".repeat(200), &style, 200, 3).expect("wrap");
            assert_eq!(lines.len(), 3);
            assert!(lines[2].ends_with('…'));
            assert!(lines.iter().all(|l| width(root, l, &style) <= 200));
            // Too narrow for a single character: one a line, and it ends.
            assert_eq!(wrap(root, "abc", &style, 1, 5).expect("wrap").len(), 3);
        });
    }

    /// A heading too long for its plot is written smaller, whole, and fits.
    #[test]
    fn a_long_heading_is_written_smaller_and_whole() {
        with_canvas(|root| {
            let plot_w = 1000;
            let short = "Order backlog (open orders of all buyers)";
            assert_eq!(
                heading_text(root, short, plot_w).expect("fits"),
                (short.to_string(), HEADING_PX)
            );
            let long = "sum(packaging_used_wafers_per_day[CoWoS-S])/\
                        sum(packaging_ordered_wafers_per_day[CoWoS-S]) per year (required)";
            assert!(width(root, long, &bold(HEADING_PX)) > plot_w);
            let (text, px) = heading_text(root, long, plot_w).expect("fits");
            assert_eq!(text, long);
            assert!(px < HEADING_PX);
            assert!(width(root, &text, &bold(px)) <= plot_w);
        });
    }

    /// The legend entry grows by a line's height for each wrapped line.
    #[test]
    fn a_wrapped_legend_entry_is_taller() {
        assert_eq!(legend_entry_h(1), LEGEND_ROW_H);
        assert_eq!(legend_entry_h(3), LEGEND_ROW_H + 2 * LEGEND_LINE_H);
    }
}
