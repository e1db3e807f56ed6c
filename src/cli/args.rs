//! Arguments that several subcommands share, flattened into each one's own struct.

use std::path::PathBuf;

use clap::{Arg, Args, ValueEnum};

use super::whatif;

/// When to colour labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless the NO_COLOR environment variable is set.
    Auto,
    /// Always, even into a file or pipe, and whatever NO_COLOR says.
    Always,
    /// Never.
    Never,
}

/// What the subcommands that report results print on stdout.
#[derive(Debug, Clone, Copy, Args)]
pub struct OutputArgs {
    /// Print nothing on stdout; errors and warnings still go to stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the results as one JSON document on stdout (shapes in docs/cli.md).
    ///
    /// No human text is printed. Errors and warnings are in the document, and still go to
    /// stderr as well; the exit code is the same as without --json.
    #[arg(long)]
    pub json: bool,
}

// The scenario a command loads, its overrides, seed and output folder (`run`, `backtest`,
// the what-if commands, `slurm`). The help texts are `run`'s; a command whose meaning differs
// sets its own with `#[command(mut_args(|a| helps(a, &[(ID, HELP), ...])))]`.
#[derive(Debug, Clone, Args)]
pub struct ScenarioArgs {
    /// Scenario file (YAML); the built-in default scenario if absent.
    pub scenario: Option<PathBuf>,
    /// Output folder (default `output/<scenario name>`).
    #[arg(
        long,
        value_name = "DIR",
        help = "Output folder (new, empty or written by capsim; what capsim did not write is kept) [default: output/<scenario name>]"
    )]
    pub out: Option<PathBuf>,
    /// Override a field: `path.to.field=value` (list items by name or index).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Seed of the random streams (default: the scenario's `seed`, else 0).
    // A negative number is read as the flag's value and refused as an invalid value, not
    // taken for a flag of its own with clap's advice to write `-- -1` (which would make it
    // the scenario's path).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub seed: Option<u64>,
}

/// `arg` with the help text `helps` gives its id, if any. Through `Command::mut_args`, which
/// keeps the arguments' order (`mut_arg` would move each one last, and completions list them
/// in that order).
pub fn helps(arg: Arg, helps: &[(&str, &'static str)]) -> Arg {
    match helps.iter().find(|(id, _)| arg.get_id() == *id) {
        Some((_, help)) => arg.help(*help),
        None => arg,
    }
}

// What `sweep`, `sensitivity` and `solve` share (and `slurm sweep`).
#[derive(Debug, Clone, Args)]
#[command(mut_args(|a| helps(a, &[
    ("out", "Output folder (new, empty or written by capsim; what capsim did not write is kept)"),
    ("sets", "Override a field before every point's own values, as for `run`"),
    ("seed", "Seed of every point (default: the scenario's): common random numbers"),
])))]
pub struct WhatIfArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Replications per point; a metric is then their mean (or --percentile).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub reps: u64,
    /// With --reps: take this percentile (0-100) of the metric instead of its mean.
    #[arg(long, value_name = "P", value_parser = parse_percentile, requires = "reps")]
    pub percentile: Option<f64>,
    /// Skip the charts (the CSV and manifest.json only).
    #[arg(long)]
    pub no_charts: bool,
    /// Largest number of runs (points x replications) a sweep starts; a larger grid is
    /// refused with an estimate of its time, so raise this to run it.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_runs: u64,
}

impl WhatIfArgs {
    /// The options of `cli::whatif`'s commands; `from` is set by sweep and solve.
    pub fn common(self) -> whatif::Common {
        whatif::Common {
            path: self.scenario.scenario,
            out: self.scenario.out,
            sets: self.scenario.sets,
            seed: self.scenario.seed,
            reps: self.reps,
            percentile: self.percentile,
            charts: !self.no_charts,
            from: None,
            max_runs: self.max_runs,
            confidence: crate::montecarlo::Confidence::default(),
        }
    }
}

/// `--from DATE` of sweep and solve.
pub fn parse_from(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::whatif::parse_date(s.trim())
        .ok_or_else(|| format!("`{s}` is not a date; write YYYY-MM or YYYY-MM-DD"))
}

fn parse_percentile(s: &str) -> Result<f64, String> {
    let p: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a percentile"))?;
    if (0.0..=100.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("`{s}` is not between 0 and 100"))
    }
}
