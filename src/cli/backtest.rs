//! `capsim backtest`: one run set beside the scenario's observations.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::args::helps;
use super::common::{load, names, render_loaded, write};
use super::ui::{Failure, Problem, Ui};
use super::{OutputArgs, ScenarioArgs, exit};
use crate::report;

pub const AFTER_HELP: &str = "Examples:
  capsim backtest scenarios/baseline.yaml
  capsim backtest my.yaml --out /tmp/bt --set end=2024-12
  capsim backtest my.yaml --json | jq .score

Runs the scenario once, as `run` does, and compares each observation of the CSV files its
`observed:` field names with the model's value over the same period: inside or outside the
observation's range (low..high), with the share inside and the mean absolute log error as the
score. Prints the table; writes the run's outputs plus backtest.csv (and, unless --no-charts,
charts/backtest.png|svg and a Backtest section in report.md) to output/<scenario name>/ unless
--out. Exits with 1 when a required observation falls outside, 2 on bad input. See
docs/backtest.md.";

#[derive(Debug, Args)]
#[command(mut_args(|a| helps(a, &[
    ("scenario", "Scenario file (YAML) with an `observed:` field"),
    ("out", "Output folder (replaced whole on success) [default: output/<scenario name>]"),
    ("sets", "Override a field, as for `run`"),
])))]
pub struct BacktestArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Skip the charts, report.md and report.html (data files and backtest.csv only).
    #[arg(long)]
    pub no_charts: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `capsim backtest --json`.
#[derive(Serialize)]
struct BacktestDoc<'a> {
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    passed: bool,
    score: &'a crate::backtest::Score,
    observations: &'a [crate::backtest::Row],
    warnings: &'a [Problem],
}

pub fn run(ui: &Ui, a: BacktestArgs) -> Result<(), Failure> {
    let ScenarioArgs {
        scenario: path,
        out,
        sets,
        seed,
    } = a.scenario;
    let charts = !a.no_charts;
    let (loaded, warnings) = load(ui, path.as_deref(), &sets)?;
    if loaded.observed.is_empty() {
        return Err(Failure::bad_input(vec![Problem::error(format!(
            "scenario {} names no observations; add `observed: path/to/observations.csv` \
             (relative to the scenario file; the format is in docs/backtest.md)",
            loaded.scenario.name
        ))]));
    }
    let extras = report::Extras {
        charts,
        tidy: false,
        parquet: false,
    };
    let mut r = render_loaded(ui, &loaded, warnings, &sets, seed, extras, true)?;
    let bt = r
        .backtest
        .take()
        .ok_or_else(|| Failure::io("the backtest was not evaluated"))?;
    let dir = out.unwrap_or_else(|| PathBuf::from("output").join(&r.name));
    write(ui, &dir, &r.files)?;
    ui.doc(&BacktestDoc {
        scenario: &r.name,
        out_dir: dir.display().to_string(),
        files: names(&r.files),
        passed: bt.score.passed(),
        score: &bt.score,
        observations: &bt.rows,
        warnings: &r.warnings,
    })?;
    let sources: Vec<&str> = loaded.observed.iter().map(|f| f.path.as_str()).collect();
    let mut text = format!(
        "backtest of {} ({} to {}, seed {}) against {}\n",
        r.name,
        r.summary.start,
        r.summary.end,
        r.summary.seed,
        sources.join(", ")
    );
    text.push_str(&crate::backtest::table(&bt));
    text.push_str(&format!("{}\n", bt.score.line()));
    if !bt.score.passed() {
        text.push_str(&format!(
            "FAIL: {} required observation(s) outside their range\n",
            bt.score.required_outside
        ));
    }
    text.push_str(&format!(
        "outputs: {}/ (backtest.csv, {}{})\n",
        dir.display(),
        report::OUTPUT_FILES.join(", "),
        if charts {
            ", report.md, report.html, charts/"
        } else {
            ""
        }
    ));
    ui.say(&text)?;
    if bt.score.passed() {
        Ok(())
    } else {
        Err(Failure::reported(exit::CHECK_FAILED))
    }
}
