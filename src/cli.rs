//! The command line: subcommands, what each prints, and its conventions. `main.rs` only
//! parses and exits.
//!
//! The conventions, documented for users in `docs/cli.md`:
//!
//! - results on stdout, problems (`error:`, `warning:`) on stderr;
//! - `--quiet` prints nothing on stdout; `--json` makes stdout one JSON document (human text
//!   is not printed; problems still go to stderr and are in the document too);
//! - the `error:` and `warning:` labels are coloured only when stderr is a terminal and
//!   `NO_COLOR` is not set (`--color` overrides);
//! - exit codes are those of [`exit`], whatever the output mode; clap's own usage errors exit
//!   with 2 as well, `--help` and `--version` with 0.

mod args;
mod backtest;
mod chart;
mod check;
mod common;
mod compare;
mod completions;
mod init;
mod man;
mod merge;
mod reps;
mod run;
mod schema;
mod sensitivity;
mod shard;
mod slurm;
mod solve;
mod sweep;
mod ui;
mod validate;
mod whatif;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use args::{ColorChoice, OutputArgs, ScenarioArgs, WhatIfArgs};
pub use man::man_page;
// Shared by the subcommands' modules (`super::load` and so on).
use common::{load, shard_done, write};
use ui::Ui;

/// Exit codes, documented in README.md ("Exit codes"), docs/cli.md and `capsim --help`.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A check failed (`capsim check`; a required observation outside in `capsim backtest`).
    pub const CHECK_FAILED: u8 = 1;
    /// Bad input: a scenario, an override or an argument is wrong (clap's usage errors too).
    pub const BAD_INPUT: u8 = 2;
    /// Outputs could not be written (an output folder, or standard output).
    pub const IO: u8 = 3;
}

/// Shown after the top-level `--help`.
const AFTER_HELP: &str = "Examples:
  capsim run                          # the built-in default scenario, into output/default/
  capsim validate my.yaml             # every problem, with file, line, column and field
  capsim run my.yaml --json > run.json
  capsim compare scenarios/default.yaml my.yaml
  capsim run my.yaml --reps 1000      # Monte Carlo: percentile bands, chance of a pause
  capsim sweep my.yaml --vary products.H100.power_w=600,700,800
  capsim help run                     # a subcommand's options and examples

Exit codes:
  0  success
  1  a check failed (`capsim check`; a required observation outside in `capsim backtest`)
  2  bad input: a scenario, an override or an argument is wrong, or the output folder
     is not one capsim may replace (not empty and not written by capsim); nothing was written
  3  outputs could not be written; the message says whether the output folder is unchanged

Environment:
  NO_COLOR  set to anything: no colour in the error and warning labels (see --color)

See also:
  docs/cli.md: every subcommand and flag, the --json shapes, completions, the schema
  docs/scenario-reference.md: the scenario format
  docs/montecarlo.md, docs/whatif.md: replications; sweep, sensitivity, solve";

/// capsim: a discrete-event simulator of AI datacenter capacity.
///
/// From packaging lines and HBM to vendors' backlogs, datacenter power and user demand:
/// when does the shortage end, and what does it cost?
#[derive(Debug, Parser)]
#[command(name = "capsim", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// When to colour the error and warning labels on stderr.
    ///
    /// `auto` colours them when stderr is a terminal and the NO_COLOR environment variable
    /// is not set (to any value); `always` and `never` override both.
    #[arg(
        long,
        value_enum,
        global = true,
        value_name = "WHEN",
        default_value_t = ColorChoice::Auto
    )]
    pub color: ColorChoice,
    /// Worker threads for the parallel work (replications, sweep points, compared
    /// scenarios' replications, charts) [default: one per core]. Outputs are the same
    /// whatever N is.
    #[arg(short = 'j', long, global = true, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands: each one's arguments and `run` are in `cli/<name>.rs`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a scenario file to start from, with a schema modeline for editors.
    #[command(after_help = init::AFTER_HELP)]
    Init(init::InitArgs),
    /// Run a scenario and write its outputs.
    #[command(after_help = run::AFTER_HELP)]
    Run(run::RunArgs),
    /// Check scenario files and report every problem found.
    #[command(after_help = validate::AFTER_HELP)]
    Validate(validate::ValidateArgs),
    /// Run scenarios, check their `expect:` assertions and compare them with golden outputs.
    #[command(after_help = check::AFTER_HELP)]
    Check(check::CheckArgs),
    /// Run a scenario and set its observations (`observed:`) beside the model's values.
    #[command(after_help = backtest::AFTER_HELP)]
    Backtest(backtest::BacktestArgs),
    /// Redraw the charts, report.md and report.html of an existing run, without simulating again.
    #[command(after_help = chart::AFTER_HELP)]
    Chart(chart::ChartArgs),
    /// Run several scenarios and compare them: overlaid charts and a table of differences.
    #[command(after_help = compare::AFTER_HELP)]
    Compare(compare::CompareArgs),
    /// Run a scenario over a grid of values of one or more inputs.
    #[command(after_help = sweep::AFTER_HELP)]
    Sweep(sweep::SweepArgs),
    /// Rank the inputs of a scenario by their effect on one metric (one at a time, ±delta).
    #[command(after_help = sensitivity::AFTER_HELP)]
    Sensitivity(sensitivity::SensitivityArgs),
    /// Find the smallest (or largest) value of one input that meets a target.
    #[command(after_help = solve::AFTER_HELP)]
    Solve(solve::SolveArgs),
    /// Merge shard folders (written with --shard) into the outputs of one whole run.
    #[command(after_help = merge::AFTER_HELP)]
    Merge(merge::MergeArgs),
    /// Write (and with --submit, submit) a Slurm job array of shards and its merge job.
    #[command(subcommand, after_help = slurm::AFTER_HELP)]
    Slurm(slurm::Job),
    /// Print a shell completion script on stdout.
    #[command(after_help = completions::AFTER_HELP)]
    Completions(completions::CompletionsArgs),
    /// Print a man page (roff), generated from this command line, on stdout.
    #[command(after_help = man::AFTER_HELP)]
    Man(man::ManArgs),
    /// Print a JSON Schema of the scenario format, for editors' completion and checks.
    #[command(after_help = schema::AFTER_HELP)]
    Schema,
}

impl Command {
    /// The `--quiet`/`--json` options of a subcommand that has them.
    fn output(&self) -> Option<OutputArgs> {
        match self {
            Command::Init(a) => Some(a.output),
            Command::Run(a) => Some(a.output),
            Command::Validate(a) => Some(a.output),
            Command::Check(a) => Some(a.output),
            Command::Backtest(a) => Some(a.output),
            Command::Chart(a) => Some(a.output),
            Command::Compare(a) => Some(a.output),
            Command::Sweep(a) => Some(a.output),
            Command::Sensitivity(a) => Some(a.output),
            Command::Solve(a) => Some(a.output),
            Command::Merge(a) => Some(a.output),
            Command::Slurm(job) => Some(job.output()),
            Command::Completions(_) | Command::Man(_) | Command::Schema => None,
        }
    }
}

/// The command line as parsed: [`Cli`]'s definition, with what derives from it (the names
/// `capsim man` accepts are the subcommands').
pub fn command() -> clap::Command {
    let names: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    // `mut_subcommands` keeps the subcommands' order (`mut_subcommand` would move `man` last).
    Cli::command().mut_subcommands(|c| {
        if c.get_name() != "man" {
            return c;
        }
        let names = clap::builder::PossibleValuesParser::new(names.clone());
        c.mut_args(|a| a.value_parser(names.clone()))
    })
}

/// Parses the process's arguments by [`command`]; usage errors exit as clap's do (code 2).
pub fn parse() -> Cli {
    let matches = command().get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command()).exit())
}

/// Runs the parsed command line.
pub fn main(cli: Cli) -> ExitCode {
    let color = ui::use_color(cli.color);
    if let Some(n) = cli.jobs {
        // The global pool, before any parallel work; it can only fail if one was built
        // already, which nothing does before this.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global();
    }
    let output = cli.command.output();
    let ui = Ui {
        color,
        quiet: output.is_some_and(|o| o.quiet),
        json: output.is_some_and(|o| o.json),
    };
    let result = match cli.command {
        Command::Init(a) => init::run(&ui, a),
        Command::Run(a) => run::run(&ui, a),
        Command::Validate(a) => validate::run(&ui, a),
        Command::Check(a) => check::run(&ui, a),
        Command::Backtest(a) => backtest::run(&ui, a),
        Command::Chart(a) => chart::run(&ui, a),
        Command::Compare(a) => compare::run(&ui, a),
        Command::Sweep(a) => sweep::run(&ui, a),
        Command::Sensitivity(a) => sensitivity::run(&ui, a),
        Command::Solve(a) => solve::run(&ui, a),
        Command::Merge(a) => merge::run(&ui, a),
        Command::Slurm(job) => slurm::run(&ui, job),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
        Command::Schema => schema::run(),
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(f) => ExitCode::from(ui.fail(&f)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn man_accepts_exactly_the_subcommands() {
        let cmd = command();
        for sub in cmd.get_subcommands() {
            let parsed = command().try_get_matches_from(["capsim", "man", sub.get_name()]);
            assert!(parsed.is_ok(), "capsim man {}", sub.get_name());
        }
        assert!(
            command()
                .try_get_matches_from(["capsim", "man", "nope"])
                .is_err()
        );
    }
}
