//! `capsim chart`: the charts and reports of an output folder drawn again from its files.

use std::path::{Path, PathBuf};
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
    let bad = |e: report::ReportError| Failure::bad_input(vec![Problem::error(e.to_string())]);
    let mut files = report::read_output_dir(dir).map_err(bad)?;
    let kind = |name: &str| files.iter().any(|(n, _)| n == name);
    let drawn = if kind("compare.md") {
        redraw_compare(dir, &files).map_err(bad)?
    } else if ["sweep.csv", "sensitivity.csv", "solve.csv"]
        .iter()
        .any(|f| kind(f))
    {
        report::whatif::redraw(&files).map_err(bad)?
    } else {
        report::render_charts(&files).map_err(|e| {
            Failure::bad_input(vec![Problem::error(format!(
                "{e}\n{} does not look like the output folder of `capsim run`, `compare`, \
                 `sweep`, `sensitivity` or `solve`",
                dir.display()
            ))])
        })?
    };
    // What was drawn anew, for the message: charts and reports, not data carried over.
    let drawn_names: Vec<String> = drawn
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| n.starts_with("charts/") || n.ends_with(".md") || n.ends_with(".html"))
        .collect();
    files.retain(|(n, _)| !drawn.iter().any(|(d, _)| d == n));
    files.extend(drawn);
    write(ui, dir, &files)?;
    ui.doc(&ChartDoc {
        out_dir: dir.display().to_string(),
        files: drawn_names.iter().map(String::as_str).collect(),
    })?;
    let reports: Vec<&str> = drawn_names
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

/// The charts and `compare.md` of a `capsim compare` folder, from the runs' data files in
/// its sub-folders (in the order its marker lists them). A Monte Carlo comparison keeps the
/// paired differences of its `compare.md`: they need every replication, which the folder
/// does not hold.
fn redraw_compare(
    dir: &Path,
    top: &[(String, Vec<u8>)],
) -> Result<Vec<(String, Vec<u8>)>, report::ReportError> {
    let listed = report::outdir::read_marker(dir).unwrap_or_default();
    let mut folders: Vec<String> = Vec::new();
    for name in &listed {
        if let Some((folder, _)) = name.split_once('/')
            && folder != "charts"
            && !folders.iter().any(|f| f == folder)
        {
            folders.push(folder.to_string());
        }
    }
    let mut runs = Vec::new();
    let mut reps = None;
    for folder in &folders {
        let mut files = Vec::new();
        for name in listed
            .iter()
            .filter_map(|n| n.strip_prefix(&format!("{folder}/")))
        {
            if !name.contains('/') {
                files.push((
                    name.to_string(),
                    report::read_data_file(&dir.join(folder), name)?,
                ));
            }
        }
        if files.iter().any(|(n, _)| n == "bands.csv") {
            let manifest: serde_json::Value = files
                .iter()
                .find(|(n, _)| n == "manifest.json")
                .and_then(|(_, b)| serde_json::from_slice(b).ok())
                .unwrap_or_default();
            reps = manifest["replications"]["count"].as_u64().or(reps);
        }
        runs.push(report::chart_data(&files)?);
    }
    let charts = report::charts::draw_compare(&runs)?;
    let refs: Vec<_> = charts.iter().map(report::chart_ref).collect();
    let mut out = Vec::new();
    for c in charts {
        out.push((format!("charts/{}.png", c.name), c.png));
        out.push((format!("charts/{}.svg", c.name), c.svg));
    }
    let mut md = report::markdown::compare_md(&runs, &refs, reps);
    let old = top
        .iter()
        .find(|(n, _)| n == "compare.md")
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    if let Some(i) = old.find("\n## Paired differences") {
        md.push_str(&old[i..]);
    }
    // The sub-folders' files are written back as they were.
    for folder in &folders {
        for name in listed
            .iter()
            .filter(|n| n.starts_with(&format!("{folder}/")))
        {
            let bytes = report::read_data_file(dir, name)?;
            out.push((name.clone(), bytes));
        }
    }
    out.push(("compare.md".into(), md.into_bytes()));
    Ok(out)
}
