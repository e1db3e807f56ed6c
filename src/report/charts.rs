//! Charts of a run, and of several runs compared, as PNG and SVG bytes.
//!
//! Every chart is first built as a `Figure` (panels, lines, bands, labels, legends:
//! plain data, from a [`ChartData`]), then drawn by one renderer on plotters' bitmap backend
//! (encoded to PNG with the `png` crate) and on its SVG backend, so both files show the same
//! drawing. Text is drawn with DejaVu Sans, embedded in the binary, so a machine without
//! fonts draws the same charts; in the SVG, text stays text (`<text>` elements, family
//! `sans-serif`).
//!
//! Charts are [`WIDTH`] x [`HEIGHT`] pixels: tick labels 18 px, legends 19 px, titles 34 px.
//! Colours come from the Okabe-Ito palette, which readers with colour-vision deficiencies can
//! tell apart; a product, segment or compared scenario takes the colour of its index in its
//! list, so it keeps its colour in every chart and every run of a scenario.
//!
//! | file stem | what it shows |
//! |---|---|
//! | `capacity_demand` | demand vs serving capacity (H100e), shortage shaded, sign-up pauses as bands, launches, export rules and reservations marked |
//! | `supply` | production by product (stacked, 7-day mean), packaging capacity vs used, the binding constraint, and the record's shipments if observed |
//! | `fleet` | installed units by product (stacked), stranded units, power in use vs available |
//! | `market` | backlog, orders placed and cancelled, quoted and realised lead times (weeks) and price per product (lead times and prices only from a product's first day on the market), with the record's lead times |
//! | `users` | users, sign-ups arriving per day and waitlist of each segment, with its pauses |
//! | `money` | cumulative capex, revenue and revenue lost, cost per query |
//! | `fan_capacity_demand` | Monte Carlo: demand and capacity over the replications as fans (P5–P95, P25–P75, median) |
//! | `pause_probability` | Monte Carlo: each segment's share of replications paused, day by day |
//! | `hist_pause_days` | Monte Carlo: histogram of paused segment-days, median and P5/P95 marked |
//! | `hist_lost_revenue` | Monte Carlo: histogram of revenue lost, median and P5/P95 marked |
//! | `backtest` | with `backtest.csv`: each observation's range and value beside the model's, one row per metric |
//! | `compare_capacity_demand` | demand and capacity of several runs overlaid, each run's pauses |
//! | `compare_users` | users of each segment in several runs overlaid |
//!
//! The charts of `capsim sweep`, `sensitivity` and `solve` (numbers against numbers, a
//! heatmap, a tornado) are figures too, built by `whatif.rs`; see [`super::whatif`].

mod backtest;
mod compare;
mod figure;
mod montecarlo;
mod run;
mod scale;
mod whatif;

use std::sync::OnceLock;

use plotters::prelude::{BitMapBackend, DrawingBackend, IntoDrawingArea, SVGBackend};
use plotters::style::{FontStyle, register_font};

use super::ReportError;
use super::data::whatif::{Sensitivity, Solve, Sweep};
use super::data::{ChartData, McData};
use figure::Figure;

/// Width charts are drawn at \[pixels\].
pub const WIDTH: u32 = 1600;
/// Height charts are drawn at \[pixels\].
pub const HEIGHT: u32 = 900;

/// A drawn chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem: `capacity_demand` gives `capacity_demand.png` and `capacity_demand.svg`.
    pub name: &'static str,
    /// The title drawn on the chart.
    pub title: String,
    /// One sentence for a report: what the chart shows.
    pub caption: String,
    /// PNG bytes, [`WIDTH`] x [`HEIGHT`], 8-bit RGB.
    pub png: Vec<u8>,
    /// SVG bytes (UTF-8).
    pub svg: Vec<u8>,
}

const DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the embedded fonts with plotters, once per process, as `sans-serif`.
fn fonts() -> Result<(), ReportError> {
    static FONTS: OnceLock<Result<(), String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS)
                .map_err(|_| "the embedded font DejaVuSans.ttf cannot be read".to_string())?;
            register_font("sans-serif", FontStyle::Bold, DEJAVU_SANS_BOLD)
                .map_err(|_| "the embedded font DejaVuSans-Bold.ttf cannot be read".to_string())
        })
        .clone()
        .map_err(|message| ReportError::Serialise {
            what: "chart",
            message,
        })
}

/// The six charts of a run, in the order of the table above, with the observations of a
/// backtest (if any) drawn on the panels that show their series.
pub fn draw_all(
    data: &ChartData,
    observed: Option<&crate::backtest::Backtest>,
) -> Result<Vec<Chart>, ReportError> {
    draw(run::figures(data, observed))
}

/// The four charts of a Monte Carlo run: `fan_capacity_demand`, `pause_probability`,
/// `hist_pause_days` and `hist_lost_revenue`.
pub fn draw_montecarlo(data: &ChartData, mc: &McData) -> Result<Vec<Chart>, ReportError> {
    draw(montecarlo::figures(data, mc))
}

/// The chart of a backtest (`backtest`), if it has observations.
pub fn draw_backtest(
    bt: &crate::backtest::Backtest,
    scenario: &str,
) -> Result<Vec<Chart>, ReportError> {
    draw(backtest::figure(bt, scenario).into_iter().collect())
}

/// The two charts comparing runs: `compare_capacity_demand` and `compare_users`.
pub fn draw_compare(runs: &[ChartData]) -> Result<Vec<Chart>, ReportError> {
    draw(compare::figures(runs))
}

/// Draws figures given as (file stem, figure, caption).
///
/// The figures are drawn in parallel (rayon), each one's PNG and SVG side by side too; every
/// chart's bytes depend only on its figure, and `collect` keeps the order, so the result is
/// the same whatever the number of threads.
fn draw(figures: Vec<(&'static str, Figure, String)>) -> Result<Vec<Chart>, ReportError> {
    use rayon::prelude::*;
    fonts()?;
    figures
        .into_par_iter()
        .map(|(name, fig, caption)| finish(name, &fig, caption))
        .collect()
}

/// The charts of a sweep: `sweep_<metric>`, and `sweep_<metric>_heatmap` for two inputs.
/// Returns `(charts/<stem>.png or .svg, bytes)`.
pub fn draw_sweep(s: &Sweep) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    fonts()?;
    let mut out = Vec::new();
    for (stem, fig) in whatif::sweep(s) {
        out.extend(files(&stem, &fig)?);
    }
    Ok(out)
}

/// The tornado chart of a sensitivity analysis: `tornado_<metric>`.
pub fn draw_tornado(s: &Sensitivity) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    fonts()?;
    let (stem, fig) = whatif::tornado(s);
    files(&stem, &fig)
}

/// The chart of a solve's trials: `solve_<metric>`.
pub fn draw_solve(s: &Solve) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    fonts()?;
    let (stem, fig) = whatif::solve(s);
    files(&stem, &fig)
}

/// `charts/<stem>.png` and `charts/<stem>.svg` of a figure.
fn files(stem: &str, fig: &Figure) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let fail = |message: String| ReportError::Serialise {
        what: "chart",
        message: format!("{stem}: {message}"),
    };
    Ok(vec![
        (format!("charts/{stem}.png"), png(fig).map_err(fail)?),
        (format!("charts/{stem}.svg"), svg(fig).map_err(fail)?),
    ])
}

fn finish(name: &'static str, fig: &Figure, caption: String) -> Result<Chart, ReportError> {
    let fail = |message: String| ReportError::Serialise {
        what: "chart",
        message: format!("{name}: {message}"),
    };
    let (png, svg) = rayon::join(|| png(fig), || svg(fig));
    Ok(Chart {
        name,
        title: fig.title.clone(),
        caption,
        png: png.map_err(fail)?,
        svg: svg.map_err(fail)?,
    })
}

fn draw_on<DB: DrawingBackend>(fig: &Figure, backend: DB) -> Result<(), String> {
    let root = backend.into_drawing_area();
    figure::render(fig, &root).map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// How chart PNGs are compressed: zlib level 1 after the `Up` filter (charts are mostly flat
/// colour). Measured on the six charts of the default run, one thread (docs/performance.md,
/// "Charts"): level 1 encodes them in 26 ms and 875 kB, level 2 (used before) in 86 ms and
/// 720 kB, level 6 in 144 ms and 676 kB; fdeflate's fast mode takes 14–17 ms but 1.3–5.3 MB.
/// So level 1: a third of level 2's time for files a fifth larger.
const PNG_COMPRESSION: png::DeflateCompression = png::DeflateCompression::Level(1);

/// Draws into an RGB buffer and encodes it; the same figure gives the same bytes.
///
/// The pixel buffer (4.3 MB) is kept per thread and reused: allocating it anew cost a page
/// fault per 4 KiB and the kernel's zeroing for every chart.
fn png(fig: &Figure) -> Result<Vec<u8>, String> {
    thread_local! {
        static PIXELS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    PIXELS.with(|cell| {
        // A chart drawn inside another one's drawing on this thread (rayon can run a queued
        // task while this one waits) gets its own buffer instead of the shared one.
        match cell.try_borrow_mut() {
            Ok(mut pixels) => png_with(fig, &mut pixels),
            Err(_) => png_with(fig, &mut Vec::new()),
        }
    })
}

fn png_with(fig: &Figure, pixels: &mut Vec<u8>) -> Result<Vec<u8>, String> {
    // Every chart begins by filling its whole area white (`figure::render`), so a buffer
    // kept from the last chart needs no whitening of its own: only a new one is sized.
    let len = WIDTH as usize * HEIGHT as usize * 3;
    if pixels.len() != len {
        pixels.clear();
        pixels.resize(len, 255);
    }
    draw_on(fig, BitMapBackend::with_buffer(pixels, (WIDTH, HEIGHT)))?;
    // Room for a typical chart's file (100 – 200 kB), so the encoder seldom regrows it.
    let mut out = Vec::with_capacity(256 * 1024);
    let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    // Charts are mostly flat colour. PNG_COMPRESSION says which compression, and why.
    enc.set_deflate_compression(PNG_COMPRESSION);
    enc.set_filter(png::Filter::Up);
    let mut w = enc.write_header().map_err(|e| e.to_string())?;
    w.write_image_data(pixels).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

fn svg(fig: &Figure) -> Result<Vec<u8>, String> {
    let mut text = String::new();
    draw_on(fig, SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)))?;
    Ok(text.into_bytes())
}
