//! Charts of `capsim sweep`, `capsim sensitivity` and `capsim solve`, drawn from the files
//! the commands write: the bytes of `sweep.csv`, `sensitivity.csv` or `solve.csv`, and what
//! `manifest.json` records of the command (its `scenario`, `replications` and `arguments`).
//! The commands call the same functions on the bytes they are about to write, so a chart is a
//! function of the files beside it: [`redraw`] of an output folder gives the same bytes.
//!
//! | file stem | command | what it shows |
//! |---|---|---|
//! | `sweep_<metric>` | sweep | the metric against the first varied input; a line per value of the others; P5–P95 and P25–P75 bands around the P50 under `--reps` |
//! | `sweep_<metric>_heatmap` | sweep with two `--vary` | the metric over the grid of both inputs, each cell coloured and labelled |
//! | `tornado_<metric>` | sensitivity | the 15 inputs with the largest swing: the metric with each lowered and raised, around the base value |
//! | `solve_<metric>` | solve | every trial (scan and bisection), the target and the answer |

use serde_json::Value;

use super::ReportError;
use super::charts;
pub use super::data::whatif::Context;
use super::data::whatif::{Sensitivity, Solve, Sweep, bad};

/// What draws the charts of a command's CSV: [`sweep_charts`], [`sensitivity_charts`] or
/// [`solve_charts`].
pub type DrawFn = fn(&[u8], &Context) -> Result<Vec<(String, Vec<u8>)>, ReportError>;

/// The charts of `sweep.csv` (`charts/<stem>.png` and `.svg`): the metric against the first
/// input, and with two inputs the heatmap.
pub fn sweep_charts(csv: &[u8], c: &Context) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    charts::draw_sweep(&Sweep::parse(csv, c, None)?)
}

/// The tornado chart of `sensitivity.csv`.
pub fn sensitivity_charts(csv: &[u8], c: &Context) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    charts::draw_tornado(&Sensitivity::parse(csv, c)?)
}

/// The chart of the trials of `solve.csv`.
pub fn solve_charts(csv: &[u8], c: &Context) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    charts::draw_solve(&Solve::parse(csv, c)?)
}

/// The charts of a what-if output folder's files (as read by
/// [`super::read_output_dir`]): the command is read from `manifest.json`.
pub fn redraw(files: &[(String, Vec<u8>)]) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let manifest: Value = super::find(files, "manifest.json")
        .ok_or_else(|| bad("manifest.json", "missing"))
        .and_then(|b| serde_json::from_slice(b).map_err(|e| bad("manifest.json", e.to_string())))?;
    let null = Value::Null;
    let c = Context {
        scenario: manifest["scenario"].as_str().unwrap_or_default(),
        replications: manifest["replications"].as_u64().unwrap_or(1),
        arguments: manifest.get("arguments").unwrap_or(&null),
    };
    let csv = |name: &'static str| super::find(files, name).ok_or_else(|| bad(name, "missing"));
    match manifest["command"].as_str() {
        Some("sweep") => sweep_charts(csv("sweep.csv")?, &c),
        Some("sensitivity") => sensitivity_charts(csv("sensitivity.csv")?, &c),
        Some("solve") => solve_charts(csv("solve.csv")?, &c),
        other => Err(bad(
            "manifest.json",
            format!(
                "`command` is {}, not sweep, sensitivity or solve",
                other.map_or("missing".into(), |s| format!("`{s}`"))
            ),
        )),
    }
}
