//! `capsim compare`: several scenarios run side by side, overlaid charts and differences.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::common::{describe, load, names, render_failed, simulate_and_render, write};
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
    #[arg(required = true, num_args = 2.., value_name = "SCENARIO")]
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
    /// and report paired differences against the first, with confidence intervals.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    pub reps: Option<u64>,
    /// With --reps: the level of the confidence intervals, a number between 0 and 1
    /// [default: 0.95]; their keys name it (ci95_low at 0.95, ci90_low at 0.9).
    #[arg(long, value_name = "LEVEL", requires = "reps")]
    pub confidence: Option<montecarlo::Confidence>,
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
    paired: &'a [report::montecarlo::PairedDoc],
    warnings: &'a [Problem],
}

pub fn run(ui: &Ui, a: CompareArgs) -> Result<(), Failure> {
    let CompareArgs {
        scenarios,
        out,
        sets,
        seed,
        reps,
        confidence,
        output: _,
    } = a;
    let confidence = confidence.unwrap_or_default();
    let (scenarios, sets) = (scenarios.as_slice(), sets.as_slice());
    let mut runs = Vec::new();
    let mut warnings = Vec::new();
    let mut outcomes: Vec<montecarlo::Outcome> = Vec::new();
    let mut common_seed = seed;
    for (i, path) in scenarios.iter().enumerate() {
        match reps {
            None => {
                let r = simulate_and_render(ui, Some(path), sets, seed, report::Extras::default())?;
                warnings.extend(r.warnings);
                runs.push((r.name, r.files));
            }
            Some(n) => {
                let (loaded, w) = load(ui, Some(path), sets)?;
                // Common random numbers: every scenario runs with the same seed.
                let s = *common_seed.get_or_insert(loaded.scenario.seed);
                let what = format!("{} ({}/{})", loaded.scenario.name, i + 1, scenarios.len());
                let o = reps::replicate(ui, &loaded, s, n, None, confidence, &what)?;
                let files = reps::render(&loaded, &o, sets, None, n, report::Extras::default())
                    .map_err(render_failed)?;
                outcomes.push(o);
                warnings.extend(w);
                runs.push((loaded.scenario.name.clone(), files));
            }
        }
    }
    let c = report::compare_files(runs, &outcomes, reps).map_err(render_failed)?;
    // Totals over different spans differ by the span too: said before anything is written.
    if let Some(periods) = report::markdown::different_periods(&c.summaries) {
        let periods: Vec<String> = periods
            .iter()
            .map(|(name, start, end, _)| format!("{name} {start} to {end}"))
            .collect();
        let w = Problem::warning(format!(
            "the scenarios cover different periods ({}): {}",
            periods.join(", "),
            report::markdown::DIFFERENT_PERIODS_HINT
        ));
        ui.show(std::slice::from_ref(&w));
        warnings.push(w);
    }
    let dir = out.unwrap_or_else(|| {
        PathBuf::from("output").join(format!("compare-{}", c.folders.join("-vs-")))
    });
    write(ui, &dir, &c.files)?;
    ui.doc(&CompareDoc {
        out_dir: dir.display().to_string(),
        files: names(&c.files),
        scenarios: c
            .summaries
            .iter()
            .zip(scenarios)
            .zip(&c.folders)
            .map(|((summary, path), folder)| CompareRunDoc {
                scenario: &summary.scenario,
                file: path.display().to_string(),
                folder,
                summary,
            })
            .collect(),
        paired: &c.paired,
        warnings: &warnings,
    })?;
    let mut text: String = if outcomes.is_empty() {
        c.summaries.iter().map(describe).collect()
    } else {
        let mut t: String = c
            .summaries
            .iter()
            .zip(&outcomes)
            .map(|(s, o)| format!("scenario {}: {}", s.scenario, reps::describe(o)))
            .collect();
        t.push_str(&reps::paired_text(&c.paired));
        t
    };
    text.push_str(&format!(
        "outputs: {}/ (compare.md, charts/, one folder per scenario)\n",
        dir.display()
    ));
    ui.say(&text)
}
