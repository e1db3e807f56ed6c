//! `capsim compare`: several scenarios run side by side, overlaid charts and differences.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::common::{Rendered, describe, load, names, render_failed, simulate_and_render, write};
use super::ui::{Failure, Problem, Ui};
use super::{OutputArgs, reps};
use crate::model;
use crate::montecarlo;
use crate::report;

pub const AFTER_HELP: &str = "Examples:
  capsim compare scenarios/default.yaml my-what-if.yaml
  capsim compare a.yaml b.yaml c.yaml --out /tmp/cmp --set end=2024-12
  capsim compare a.yaml b.yaml --json  # {out_dir, files, scenarios, warnings}

Writes compare.md, charts/compare_*.png|svg and each scenario's data files in a folder of
its own, in output/compare-<a>-vs-<b>/ unless --out names a folder. Differences are
against the first scenario.";

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Scenario files, the first being the baseline.
    #[arg(required = true, num_args = 2..)]
    pub scenarios: Vec<PathBuf>,
    /// Output folder (new, empty or written by capsim; what capsim did not write is kept).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Overrides applied to every scenario, as for `run`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Seed for every scenario (default: each scenario's own; with --reps, the first's).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Monte Carlo: run N replications of every scenario with common random numbers
    /// and report paired differences against the first, with 95% confidence intervals.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    pub reps: Option<u64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// One scenario of `capsim compare --json`.
#[derive(Serialize)]
struct CompareRunDoc<'a> {
    scenario: &'a str,
    file: String,
    folder: &'a str,
    summary: &'a model::Summary,
}

/// `capsim compare --json`.
#[derive(Serialize)]
struct CompareDoc<'a> {
    out_dir: String,
    files: Vec<&'a str>,
    scenarios: Vec<CompareRunDoc<'a>>,
    /// With --reps: paired differences of each scenario against the first.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    paired: &'a [reps::PairedDoc],
    warnings: &'a [Problem],
}

pub fn run(ui: &Ui, a: CompareArgs) -> Result<(), Failure> {
    let CompareArgs {
        scenarios,
        out,
        sets,
        seed,
        reps,
        output: _,
    } = a;
    let (scenarios, sets) = (scenarios.as_slice(), sets.as_slice());
    let mut runs = Vec::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut folders: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    let mut outcomes: Vec<montecarlo::Outcome> = Vec::new();
    let mut common_seed = seed;
    for (i, path) in scenarios.iter().enumerate() {
        let r = match reps {
            None => simulate_and_render(ui, Some(path), sets, seed, false)?,
            Some(n) => {
                let (loaded, w) = load(ui, Some(path), sets)?;
                // Common random numbers: every scenario runs with the same seed.
                let s = *common_seed.get_or_insert(loaded.scenario.seed);
                let what = format!("{} ({}/{})", loaded.scenario.name, i + 1, scenarios.len());
                let o = reps::replicate(ui, &loaded, s, n, None, &what)?;
                let files = reps::render(&loaded, &o, sets, None, n).map_err(render_failed)?;
                let summary: model::Summary = files
                    .iter()
                    .find(|(f, _)| f == "summary.json")
                    .and_then(|(_, b)| serde_json::from_slice(b).ok())
                    .ok_or_else(|| Failure::io("cannot read back summary.json"))?;
                outcomes.push(o);
                Rendered {
                    name: loaded.scenario.name.clone(),
                    summary,
                    files,
                    warnings: w,
                    sim_ms: 0.0,
                }
            }
        };
        let data = report::chart_data(&r.files).map_err(render_failed)?;
        // Two scenarios of one name still get a folder each.
        let mut folder = r.name.clone();
        let mut k = 2;
        while folders.contains(&folder) {
            folder = format!("{}-{k}", r.name);
            k += 1;
        }
        for (f, bytes) in r.files {
            files.push((format!("{folder}/{f}"), bytes));
        }
        folders.push(folder);
        warnings.extend(r.warnings);
        runs.push(data);
    }
    let charts = report::charts::draw_compare(&runs).map_err(render_failed)?;
    let refs: Vec<_> = charts.iter().map(report::chart_ref).collect();
    for c in charts {
        files.push((format!("charts/{}.png", c.name), c.png));
        files.push((format!("charts/{}.svg", c.name), c.svg));
    }
    let mut md = report::markdown::compare_md(&runs, &refs, reps);
    let paired: Vec<reps::PairedDoc> = outcomes
        .iter()
        .zip(&folders)
        .skip(1)
        .map(|(o, f)| reps::PairedDoc::new(&outcomes[0], o, &folders[0], f))
        .collect();
    if !paired.is_empty() {
        md.push_str(&reps::paired_md(
            &paired,
            outcomes[0].reps,
            outcomes[0].seed,
        ));
    }
    files.push(("compare.md".into(), md.into_bytes()));
    let dir = out.unwrap_or_else(|| {
        PathBuf::from("output").join(format!("compare-{}", folders.join("-vs-")))
    });
    write(ui, &dir, &files)?;
    ui.doc(&CompareDoc {
        out_dir: dir.display().to_string(),
        files: names(&files),
        scenarios: runs
            .iter()
            .zip(scenarios)
            .zip(&folders)
            .map(|((r, path), folder)| CompareRunDoc {
                scenario: &r.summary.scenario,
                file: path.display().to_string(),
                folder,
                summary: &r.summary,
            })
            .collect(),
        paired: &paired,
        warnings: &warnings,
    })?;
    let mut text: String = if outcomes.is_empty() {
        runs.iter().map(|r| describe(&r.summary)).collect()
    } else {
        let mut t: String = runs
            .iter()
            .zip(&outcomes)
            .map(|(r, o)| format!("scenario {}: {}", r.summary.scenario, reps::describe(o)))
            .collect();
        t.push_str(&reps::paired_text(&paired));
        t
    };
    text.push_str(&format!(
        "outputs: {}/ (compare.md, charts/, one folder per scenario)\n",
        dir.display()
    ));
    ui.say(&text)
}
