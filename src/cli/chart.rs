//! `capsim chart`: the charts and reports of an output folder drawn again from its files.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::OutputArgs;
use super::common::write;
use super::ui::{Failure, Problem, Ui};
use crate::report;

pub const AFTER_HELP: &str = "Examples:
  capsim chart output/default
  capsim chart /tmp/base          # a folder written by `capsim run --out /tmp/base`
  capsim chart output/default --json   # {out_dir, files}";

#[derive(Debug, Args)]
pub struct ChartArgs {
    /// Output folder of a run (holds timeseries.csv, summary.json, events.csv).
    pub dir: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `capsim chart --json`.
#[derive(Serialize)]
struct ChartDoc<'a> {
    out_dir: String,
    files: Vec<&'a str>,
}

pub fn run(ui: &Ui, a: ChartArgs) -> Result<(), Failure> {
    let dir = a.dir.as_path();
    let started = Instant::now();
    if !dir.is_dir() {
        let what = if dir.exists() {
            "not a folder"
        } else {
            "no such folder"
        };
        // Where a relative path was looked for: runs write output/<scenario>/ under the
        // folder they were run from, which may not be this one.
        let here = if dir.is_relative() {
            std::env::current_dir()
                .map(|d| format!(" in {}", d.display()))
                .unwrap_or_default()
        } else {
            String::new()
        };
        return Err(Failure::bad_input(vec![Problem::error(format!(
            "{}: {what}{here}; give the folder a command wrote: its --out folder, or \
             output/<scenario>/ under the folder it was run from",
            dir.display()
        ))]));
    }
    let r =
        report::redraw(dir).map_err(|e| Failure::bad_input(vec![Problem::error(e.to_string())]))?;
    write(ui, dir, &r.files)?;
    ui.doc(&ChartDoc {
        out_dir: dir.display().to_string(),
        files: r.drawn.iter().map(String::as_str).collect(),
    })?;
    let reports: Vec<&str> = r
        .drawn
        .iter()
        .map(String::as_str)
        .filter(|n| !n.starts_with("charts/"))
        .collect();
    ui.say(&format!(
        "redrew {}/charts/{}{} in {:.0} ms\n",
        dir.display(),
        if reports.is_empty() { "" } else { " and " },
        reports.join(", "),
        started.elapsed().as_secs_f64() * 1e3
    ))
}
