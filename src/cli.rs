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

mod check;
mod init;
mod reps;
mod schema;
mod shard;
mod slurm;
mod ui;
mod whatif;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;
use serde::Serialize;

use crate::model;
use crate::montecarlo;
use crate::report::{self, human, usd};
use crate::scenario::{self, Loaded, Source};
pub use schema::scenario_schema;
use ui::{Failure, Problem, Ui};

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

/// What `sweep`, `sensitivity` and `solve` share.
#[derive(Debug, Clone, Args)]
pub struct WhatIfArgs {
    /// Scenario file (YAML); the built-in default scenario if absent.
    pub scenario: Option<PathBuf>,
    /// Output folder (new, empty or written by capsim; what capsim did not write is kept).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Override a field before every point's own values, as for `run`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Seed of every point (default: the scenario's): common random numbers.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
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
    fn common(self) -> whatif::Common {
        whatif::Common {
            path: self.scenario,
            out: self.out,
            sets: self.sets,
            seed: self.seed,
            reps: self.reps,
            percentile: self.percentile,
            charts: !self.no_charts,
            from: None,
            max_runs: self.max_runs,
        }
    }
}

fn parse_from(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::whatif::parse_date(s.trim())
        .ok_or_else(|| format!("`{s}` is not a date; write YYYY-MM or YYYY-MM-DD"))
}

fn parse_delta(s: &str) -> Result<f64, String> {
    let d = crate::whatif::number(s.trim())?;
    if d > 0.0 && d < 1.0 {
        Ok(d)
    } else {
        Err(format!("`{s}` must be between 0 and 100% (exclusive)"))
    }
}

fn parse_range(s: &str) -> Result<(f64, f64), String> {
    crate::whatif::parse_range(s.trim())
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

/// Names of the subcommands, for `capsim man SUBCOMMAND` (a test keeps it in step).
const SUBCOMMANDS: [&str; 15] = [
    "init",
    "run",
    "validate",
    "check",
    "backtest",
    "chart",
    "compare",
    "sweep",
    "sensitivity",
    "solve",
    "merge",
    "slurm",
    "completions",
    "man",
    "schema",
];

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a scenario file to start from, with a schema modeline for editors.
    #[command(after_help = "Examples:
  capsim init                          # my-scenario.yaml, a copy of the built-in default
  capsim init chips --from baseline    # chips.yaml, a copy of the 2023-2026 baseline
  capsim init faster --from scenarios/baseline.yaml --dir what-ifs

From a built-in scenario (default, baseline) it writes a full copy, every field there to
change; from a scenario FILE it writes a what-if that extends it. Beside it: capsim.schema.json
(which the modeline names; kept if there is one) and, for the baseline, observed/2023.csv.
Never replaces a file: a NAME that is taken is refused.")]
    Init {
        /// Scenario name, and the file's name without .yaml
        #[arg(value_name = "NAME")]
        name: Option<String>,
        /// What to start from: `default`, `baseline` (built in) or a scenario file
        #[arg(long, value_name = "default|baseline|FILE", default_value = "default")]
        from: String,
        /// Folder to write into [default: the current folder]
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run a scenario and write its outputs.
    #[command(after_help = "Examples:
  capsim run                                  # the built-in default scenario
  capsim run scenarios/default.yaml --out /tmp/base
  capsim run my.yaml --set supply.packaging_lines.CoWoS-S.capacity_wafers_per_month=20000
  capsim run my.yaml --seed 7 --quiet
  capsim run my.yaml --json | jq .summary.shortage_days

Outputs go to output/<scenario name>/ unless --out names a folder: timeseries.csv,
summary.json, events.csv, ledger.csv, manifest.json (see docs/outputs.md), and unless
--no-charts, charts/*.png|svg and report.md. With --json, stdout is
{scenario, out_dir, files, summary, warnings}.")]
    Run {
        /// Scenario file (YAML); the built-in default scenario if absent.
        scenario: Option<PathBuf>,
        /// Output folder (new, empty or written by capsim; what capsim did not write is kept) [default: output/<scenario name>]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Override a field: `path.to.field=value` (list items by name or index).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Seed of the random streams (default: the scenario's `seed`, else 0).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Skip the charts and report.md (data files only).
        #[arg(long)]
        no_charts: bool,
        /// Monte Carlo: run N replications in parallel and write percentile bands.
        ///
        /// Each replication samples the scenario's distributions and draws its noise from
        /// streams of (seed, replication, name). Adds bands.csv and replications.csv; the
        /// other files are those of the replication nearest the median, and summary.json
        /// gains `replications` (percentiles, mean and 95% CI of every metric).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        reps: Option<u64>,
        /// Add replications until the 95% CI of METRIC's mean is within ±HALF_WIDTH.
        ///
        /// Checked after every 64 replications (at least 30 run); stops at --reps (default
        /// 10000) if never met. METRIC is a summary metric as in `expect:`, e.g.
        /// pause_days, lost_revenue_usd, fleet_end.H100.
        #[arg(long, value_name = "METRIC=HALF_WIDTH")]
        until_ci: Option<montecarlo::UntilCi>,
        /// With --reps: run only shard K of N (from 0), `auto/N` (K from SLURM_ARRAY_TASK_ID,
        /// JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX) or replications A..B.
        ///
        /// Writes a shard folder (partial results) for `capsim merge`; see docs/scale.md.
        #[arg(
            long,
            value_name = "K/N|auto/N|A..B",
            requires = "reps",
            conflicts_with = "until_ci"
        )]
        shard: Option<crate::shard::Spec>,
        /// Also write the daily series in long form, one row an observation
        /// (timeseries_long.csv: date,metric,entity,value,unit), and units.csv.
        #[arg(long)]
        tidy: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Check scenario files and report every problem found.
    #[command(after_help = "Examples:
  capsim validate scenarios/*.yaml
  capsim validate my.yaml --set end=2027-12
  capsim validate my.yaml --json      # {files: [{file, ok, scenario, errors, warnings}]}

Exits with 2 if any file is invalid (after checking them all), with --json too.")]
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Overrides applied before checking, as for `run`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run scenarios, check their `expect:` assertions and compare them with golden outputs.
    #[command(after_help = "Examples:
  capsim check                          # every scenario under scenarios/
  capsim check my-scenarios/ --golden my-scenarios/golden
  capsim check scenarios/cowos-early.yaml --tolerance 1%
  capsim check scenarios/ --bless       # show what moved, then record new golden outputs

Prints one line per scenario (PASS or FAIL); for a failure, the assertions that did not hold
and a table of the outputs that moved: from what, to what, by how much, and on which days.
Golden outputs (summary.json and timeseries.csv) live in <golden>/<scenario name>/, where
<golden> is --golden or a golden/ folder beside each scenario file. Exits with 1 if any
scenario fails, 2 on bad input. See docs/check.md.")]
    Check {
        /// Scenario files or folders (searched for *.yaml) [default: scenarios]
        paths: Vec<PathBuf>,
        /// Folder of golden outputs [default: golden/ beside each scenario]
        #[arg(long, value_name = "DIR")]
        golden: Option<PathBuf>,
        /// Record the current outputs as the new golden outputs (after showing what moved).
        #[arg(long)]
        bless: bool,
        /// How far a number may move: a share (`0.01`, `1%`) or `abs:X` [default: 1e-9]
        #[arg(long, value_name = "TOL")]
        tolerance: Option<String>,
        /// Also write the verdicts as JUnit XML to FILE, for CI systems (a new file, or one an
        /// earlier --junit wrote)
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run a scenario and set its observations (`observed:`) beside the model's values.
    #[command(after_help = "Examples:
  capsim backtest scenarios/baseline.yaml
  capsim backtest my.yaml --out /tmp/bt --set end=2024-12
  capsim backtest my.yaml --json | jq .score

Runs the scenario once, as `run` does, and compares each observation of the CSV files its
`observed:` field names with the model's value over the same period: inside or outside the
observation's range (low..high), with the share inside and the mean absolute log error as the
score. Prints the table; writes the run's outputs plus backtest.csv (and, unless --no-charts,
charts/backtest.png|svg and a Backtest section in report.md) to output/<scenario name>/ unless
--out. Exits with 1 when a required observation falls outside, 2 on bad input. See
docs/backtest.md.")]
    Backtest {
        /// Scenario file (YAML) with an `observed:` field.
        scenario: Option<PathBuf>,
        /// Output folder (replaced whole on success) [default: output/<scenario name>]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Override a field, as for `run`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Seed of the random streams (default: the scenario's `seed`, else 0).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Skip the charts and report.md (data files and backtest.csv only).
        #[arg(long)]
        no_charts: bool,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Redraw the charts and report.md of an existing run, without simulating again.
    #[command(after_help = "Examples:
  capsim chart output/default
  capsim chart /tmp/base          # a folder written by `capsim run --out /tmp/base`
  capsim chart output/default --json   # {out_dir, files}")]
    Chart {
        /// Output folder of a run (holds timeseries.csv, summary.json, events.csv).
        dir: PathBuf,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run several scenarios and compare them: overlaid charts and a table of differences.
    #[command(after_help = "Examples:
  capsim compare scenarios/default.yaml my-what-if.yaml
  capsim compare a.yaml b.yaml c.yaml --out /tmp/cmp --set end=2024-12
  capsim compare a.yaml b.yaml --json  # {out_dir, files, scenarios, warnings}

Writes compare.md, charts/compare_*.png|svg and each scenario's data files in a folder of
its own, in output/compare-<a>-vs-<b>/ unless --out names a folder. Differences are
against the first scenario.")]
    Compare {
        /// Scenario files, the first being the baseline.
        #[arg(required = true, num_args = 2..)]
        scenarios: Vec<PathBuf>,
        /// Output folder (new, empty or written by capsim; what capsim did not write is kept).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Overrides applied to every scenario, as for `run`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Seed for every scenario (default: each scenario's own; with --reps, the first's).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Monte Carlo: run N replications of every scenario with common random numbers
        /// and report paired differences against the first, with 95% confidence intervals.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
        reps: Option<u64>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run a scenario over a grid of values of one or more inputs.
    #[command(after_help = "Examples:
  capsim sweep scenarios/baseline.yaml \\
      --vary 'supply.packaging_lines.CoWoS-S.capacity_wafers_per_month+=0..20000:5'
  capsim sweep my.yaml --vary products.H100.power_w=600,700,800 --vary sites.dc1.pue=1.1,1.3
  capsim sweep my.yaml --vary 'segments.paid.pause.pause_above=1.0..1.5:6' --reps 200

PATH is a field as for --set (list items by name). `PATH=V1,V2,...` or `PATH=LO..HI:STEPS`
sets the field to each value (a timeline becomes constant); `PATH+=...` adds each value to
it (to every point of a timeline). Every combination is run, with one seed for all (common
random numbers). Writes sweep.csv (one row per point: the values, then every summary
metric, with percentiles under --reps), charts/sweep_<metric>.png|svg (and, with two --vary,
charts/sweep_<metric>_heatmap.png|svg) unless --no-charts, and manifest.json to
output/sweep-<scenario>/ unless --out. See docs/whatif.md.")]
    Sweep {
        #[command(flatten)]
        common: WhatIfArgs,
        /// A field and its values: PATH=V1,V2,... | PATH=LO..HI:STEPS | PATH+=... (repeatable).
        #[arg(long, required = true, value_name = "PATH=VALUES")]
        vary: Vec<crate::whatif::Vary>,
        /// The metric printed per point (any key of summary.json, e.g. shortage_days).
        #[arg(long, value_name = "METRIC", default_value = "pause_days")]
        metric: String,
        /// Additions (`+=`) apply from this date on only (YYYY-MM or YYYY-MM-DD): a step up on
        /// that day, the timeline unchanged before it.
        #[arg(long, value_name = "DATE", value_parser = parse_from)]
        from: Option<chrono::NaiveDate>,
        /// Run only shard K of N of the points (from 0), `auto/N` (K from SLURM_ARRAY_TASK_ID,
        /// JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX) or points A..B; writes a shard
        /// folder for `capsim merge` (docs/scale.md).
        #[arg(long, value_name = "K/N|auto/N|A..B")]
        shard: Option<crate::shard::Spec>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Rank the inputs of a scenario by their effect on one metric (one at a time, ±delta).
    #[command(after_help = "Examples:
  capsim sensitivity scenarios/baseline.yaml --metric pause_days
  capsim sensitivity my.yaml --metric lost_revenue_usd --delta 10%
  capsim sensitivity my.yaml --metric pause_days \\
      --params products.H100.packaging_yield,supply.hbm.stacks_per_month

Each numeric input (every number, and every timeline as a whole) is lowered and raised by
delta, one at a time, and the metric measured; inputs whose change does not load (a share
above 1, say) are listed with the reason. Writes sensitivity.csv (ranked by swing), the
tornado chart charts/tornado_<metric>.png|svg unless --no-charts, and manifest.json to
output/sensitivity-<scenario>/ unless --out. See docs/whatif.md.")]
    Sensitivity {
        #[command(flatten)]
        common: WhatIfArgs,
        /// The summary metric to explain (as in `expect:`), e.g. pause_days.
        #[arg(long, value_name = "METRIC")]
        metric: String,
        /// How far each input moves down and up: a share (0.2) or a percentage (20%).
        #[arg(long, value_name = "DELTA", default_value = "20%", value_parser = parse_delta)]
        delta: f64,
        /// Only these inputs (comma-separated paths) [default: every numeric input].
        #[arg(long, value_name = "PATH,...", value_delimiter = ',')]
        params: Vec<String>,
        /// Run only shard K of N of the runs (the base, then each input lowered and raised),
        /// `auto/N` or runs A..B; writes a shard folder for `capsim merge` (docs/scale.md).
        #[arg(long, value_name = "K/N|auto/N|A..B")]
        shard: Option<crate::shard::Spec>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Find the smallest (or largest) value of one input that meets a target.
    #[command(after_help = "Examples:
  capsim solve scenarios/baseline.yaml \\
      --vary 'supply.packaging_lines.CoWoS-S.capacity_wafers_per_month+' --range 0..40000 \\
      --target 'pause_days <= 300'
  capsim solve my.yaml --vary sites.dc1.power_mw --range 50..500 --target 'stranded_end <= 0'
  capsim solve my.yaml --vary products.H100.packaging_yield --range 0.5..1 \\
      --target 'pause_days <= 30' --reps 200 --percentile 90

A PATH ending in `+` adds the value to the field (to every point of a timeline) instead of
setting it. Nine evenly spaced values are run first; then bisection between the last that
fails and the first that meets the target, to --tolerance. If the metric is not monotone
over the values tried, the answer is flagged. Prints the answer and the runs it took; writes
solve.csv (every trial), charts/solve_<metric>.png|svg (the trials, the target, the answer)
unless --no-charts, and manifest.json to output/solve-<scenario>/ unless --out. See
docs/whatif.md.")]
    Solve {
        #[command(flatten)]
        common: WhatIfArgs,
        /// The input, as for --set; end it with `+` to add to the field instead of setting it.
        #[arg(long, value_name = "PATH")]
        vary: String,
        /// The range searched: LO..HI.
        #[arg(long, value_name = "LO..HI", value_parser = parse_range)]
        range: (f64, f64),
        /// The target: 'METRIC <= VALUE' (or <, >=, >).
        #[arg(long, value_name = "'METRIC <= VALUE'")]
        target: crate::whatif::Target,
        /// Find the largest value meeting the target instead of the smallest.
        #[arg(long)]
        largest: bool,
        /// Stop bisecting once the bracket is this narrow [default: range / 1000; 1 for integers].
        #[arg(long, value_name = "X")]
        tolerance: Option<f64>,
        /// With a PATH ending in `+`: add from this date on only (YYYY-MM or YYYY-MM-DD).
        #[arg(long, value_name = "DATE", value_parser = parse_from)]
        from: Option<chrono::NaiveDate>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Merge shard folders (written with --shard) into the outputs of one whole run.
    #[command(after_help = "Examples:
  capsim run my.yaml --reps 10000 --shard 0/4 --out shards/0   # ... and 1/4, 2/4, 3/4
  capsim merge shards/* --out output/my

The shards must come from one command (same capsim, scenario, overrides, seed and
arguments) and cover its replications or points exactly once; otherwise merge refuses,
naming the shard. The outputs are those one process running all the work writes, byte
for byte: run --reps (summary.json, bands.csv, replications.csv, the representative's
files, charts, report.md), sweep.csv, sensitivity.csv. A relative scenario path is read
from the current folder, as the shards read it. See docs/scale.md.")]
    Merge {
        /// Shard folders, in any order.
        #[arg(required = true, value_name = "SHARD_DIR")]
        shards: Vec<PathBuf>,
        /// Output folder (new, empty or written by capsim).
        #[arg(long, value_name = "DIR", required = true)]
        out: PathBuf,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Write (and with --submit, submit) a Slurm job array of shards and its merge job.
    #[command(
        subcommand,
        after_help = "Examples:
  capsim slurm run my.yaml --reps 100000 --shards 50 --partition short --time 00:30:00
  capsim slurm sweep my.yaml --vary 'products.H100.power_w=600..800:10000' --shards 20 --submit

Writes shards.sbatch (a job array, one task per shard), merge.sbatch (capsim merge) and
submit.sh (the array, then the merge with --dependency=afterok); prints how to submit, or
submits with --submit. See docs/scale.md."
    )]
    Slurm(slurm::Job),
    /// Print a shell completion script on stdout.
    #[command(after_help = "Examples:
  capsim completions bash > ~/.local/share/bash-completion/completions/capsim
  capsim completions zsh > ~/.zfunc/_capsim     # with fpath+=(~/.zfunc) before compinit
  capsim completions fish > ~/.config/fish/completions/capsim.fish
  capsim completions powershell >> $PROFILE
  capsim completions elvish > ~/.config/elvish/lib/capsim.elv   # then `use capsim`

Open a new shell afterwards. Details per shell in docs/cli.md.")]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print a man page (roff), generated from this command line, on stdout.
    #[command(after_help = "Examples:
  capsim man > capsim.1 && man ./capsim.1
  capsim man run > capsim-run.1               # one page per subcommand, as git does
  mkdir -p ~/.local/share/man/man1 && capsim man > ~/.local/share/man/man1/capsim.1")]
    Man {
        /// A subcommand's page (`capsim-run(1)`) instead of capsim(1).
        #[arg(value_name = "SUBCOMMAND", value_parser = SUBCOMMANDS)]
        subcommand: Option<String>,
    },
    /// Print a JSON Schema of the scenario format, for editors' completion and checks.
    #[command(after_help = "Examples:
  capsim schema > capsim.schema.json
  # then, on the first line of a scenario, for the YAML language server:
  # yaml-language-server: $schema=./capsim.schema.json
  # or, in VS Code's settings.json, for every scenario at once:
  # \"yaml.schemas\": {\"./capsim.schema.json\": [\"scenarios/*.yaml\"]}

The schema checks shapes and key names as you type; `capsim validate` checks meaning.
See docs/cli.md for the editor set-up.")]
    Schema,
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
    let plain = Ui {
        color,
        quiet: false,
        json: false,
    };
    let with = |o: OutputArgs| Ui {
        color,
        quiet: o.quiet,
        json: o.json,
    };
    let (ui, result) = match cli.command {
        Command::Run {
            scenario,
            out,
            sets,
            seed,
            no_charts,
            reps,
            until_ci,
            shard,
            tidy,
            output,
        } => {
            let ui = with(output);
            let opts = RunOpts {
                path: scenario,
                out,
                sets,
                seed,
                charts: !no_charts,
                reps,
                until_ci,
                shard,
                tidy,
            };
            (ui, run(&ui, opts))
        }
        Command::Validate {
            files,
            sets,
            output,
        } => {
            let ui = with(output);
            (ui, validate(&ui, &files, &sets))
        }
        Command::Check {
            paths,
            golden,
            bless,
            tolerance,
            junit,
            output,
        } => {
            let ui = with(output);
            let r = check::run(
                &ui,
                &paths,
                golden.as_deref(),
                bless,
                tolerance.as_deref(),
                junit.as_deref(),
            );
            (ui, r)
        }
        Command::Backtest {
            scenario,
            out,
            sets,
            seed,
            no_charts,
            output,
        } => {
            let ui = with(output);
            let r = backtest(&ui, scenario.as_deref(), out, &sets, seed, !no_charts);
            (ui, r)
        }
        Command::Chart { dir, output } => {
            let ui = with(output);
            (ui, chart(&ui, &dir))
        }
        Command::Compare {
            scenarios,
            out,
            sets,
            seed,
            reps,
            output,
        } => {
            let ui = with(output);
            (ui, compare(&ui, &scenarios, out, &sets, seed, reps))
        }
        Command::Sweep {
            common,
            vary,
            metric,
            from,
            shard,
            output,
        } => {
            let ui = with(output);
            let c = whatif::Common {
                from,
                ..common.common()
            };
            (ui, whatif::sweep(&ui, &c, &vary, &metric, shard.as_ref()))
        }
        Command::Sensitivity {
            common,
            metric,
            delta,
            params,
            shard,
            output,
        } => {
            let ui = with(output);
            let r = whatif::sensitivity(
                &ui,
                &common.common(),
                &metric,
                delta,
                &params,
                shard.as_ref(),
            );
            (ui, r)
        }
        Command::Solve {
            common,
            vary,
            range,
            target,
            largest,
            tolerance,
            from,
            output,
        } => {
            let ui = with(output);
            let c = whatif::Common {
                from,
                ..common.common()
            };
            let r = whatif::solve(&ui, &c, &vary, range, &target, largest, tolerance);
            (ui, r)
        }
        Command::Completions { shell } => (plain, completions(shell)),
        Command::Man { subcommand } => (plain, man(subcommand.as_deref())),
        Command::Schema => (plain, print_schema()),
        Command::Init {
            name,
            from,
            dir,
            output,
        } => {
            let ui = with(output);
            let r = init::run(
                &ui,
                name.as_deref(),
                &from,
                dir.as_deref(),
                &scenario_schema(),
            );
            (ui, r)
        }
        Command::Merge {
            shards,
            out,
            output,
        } => {
            let ui = with(output);
            (ui, merge(&ui, &shards, &out))
        }
        Command::Slurm(job) => {
            let ui = with(job.output());
            (ui, slurm::run(&ui, job))
        }
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(f) => ExitCode::from(ui.fail(&f)),
    }
}

/// Loads a scenario, shows its warnings on stderr and returns them for `--json`.
fn load(ui: &Ui, path: Option<&Path>, sets: &[String]) -> Result<(Loaded, Vec<Problem>), Failure> {
    let source = match path {
        Some(p) => Source::File(p),
        None => Source::BuiltIn,
    };
    match scenario::load(source, sets) {
        Ok(l) => {
            let warnings: Vec<Problem> = l
                .warnings
                .iter()
                .map(|w| Problem::from_diag(w, &l.sources))
                .collect();
            ui.show(&warnings);
            Ok((l, warnings))
        }
        Err(e) => Err(Failure::load(&e)),
    }
}

/// Options of `capsim run` that shape one run.
struct RunOpts {
    path: Option<PathBuf>,
    out: Option<PathBuf>,
    sets: Vec<String>,
    seed: Option<u64>,
    charts: bool,
    reps: Option<u64>,
    until_ci: Option<montecarlo::UntilCi>,
    shard: Option<crate::shard::Spec>,
    /// Also write timeseries_long.csv and units.csv.
    tidy: bool,
}

/// One simulated and rendered run.
struct Rendered {
    name: String,
    summary: model::Summary,
    files: Vec<(String, Vec<u8>)>,
    warnings: Vec<Problem>,
    sim_ms: f64,
}

/// A report error met while rendering: the outputs cannot be made, so none are written.
fn render_failed(e: report::ReportError) -> Failure {
    Failure::io(e.to_string())
}

/// Loads and simulates a scenario and renders its files (charts too, if asked). A scenario
/// with `observed:` gets `backtest.csv` too; if its observations cannot be evaluated against
/// the run (a column the run lacks), that is a warning here and `backtest.csv` is left out.
fn simulate_and_render(
    ui: &Ui,
    path: Option<&Path>,
    sets: &[String],
    seed: Option<u64>,
    charts: bool,
) -> Result<Rendered, Failure> {
    let (loaded, warnings) = load(ui, path, sets)?;
    let (r, bt) = render_loaded(ui, &loaded, warnings, sets, seed, charts, false)?;
    drop(bt);
    Ok(r)
}

/// Simulates a loaded scenario and renders its files, with `backtest.csv` when it has
/// observations. `strict`: an observation that cannot be evaluated is bad input (else a
/// warning, and no `backtest.csv`).
fn render_loaded(
    ui: &Ui,
    loaded: &Loaded,
    mut warnings: Vec<Problem>,
    sets: &[String],
    seed: Option<u64>,
    charts: bool,
    strict: bool,
) -> Result<(Rendered, Option<crate::backtest::Backtest>), Failure> {
    let seed = seed.unwrap_or(loaded.scenario.seed);
    // One run is replication 0: the scenario's distributions drawn for it (the loaded
    // scenario itself when it has none), as `--reps` and `capsim check` run it.
    let scenario = loaded.replication(seed, 0).map_err(|e| Failure::load(&e))?;
    let sim_start = Instant::now();
    let result = model::simulate_replication(&scenario, seed, 0);
    let sim_ms = sim_start.elapsed().as_secs_f64() * 1e3;
    let mut files = report::render_all(loaded, &result, sets).map_err(render_failed)?;
    let mut bt = None;
    if !loaded.observed.is_empty() {
        let data = report::chart_data(&files).map_err(render_failed)?;
        match crate::backtest::evaluate(&loaded.observed, &data) {
            Ok(b) => {
                files.push((
                    crate::backtest::CSV_FILE.into(),
                    crate::backtest::backtest_csv(&b).map_err(render_failed)?,
                ));
                bt = Some(b);
            }
            Err(diags) if strict => {
                return Err(Failure {
                    tally: true,
                    ..Failure::bad_input(
                        diags
                            .iter()
                            .map(|d| Problem::from_diag(d, &loaded.sources))
                            .collect(),
                    )
                });
            }
            Err(diags) => {
                let mut shown: Vec<Problem> = diags
                    .into_iter()
                    .map(|d| {
                        let message = format!(
                            "{}; backtest.csv is not written (`capsim backtest` refuses this)",
                            d.message
                        );
                        let w = crate::scenario::yaml::Diagnostic {
                            severity: crate::scenario::yaml::Severity::Warning,
                            message,
                            ..d
                        };
                        Problem::from_diag(&w, &loaded.sources)
                    })
                    .collect();
                ui.show(&shown);
                warnings.append(&mut shown);
            }
        }
    }
    if charts {
        files.extend(report::render_charts(&files).map_err(render_failed)?);
    }
    let name = scenario.name.clone();
    Ok((
        Rendered {
            name,
            summary: result.summary,
            files,
            warnings,
            sim_ms,
        },
        bt,
    ))
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

fn backtest(
    ui: &Ui,
    path: Option<&Path>,
    out: Option<PathBuf>,
    sets: &[String],
    seed: Option<u64>,
    charts: bool,
) -> Result<(), Failure> {
    let (loaded, warnings) = load(ui, path, sets)?;
    if loaded.observed.is_empty() {
        return Err(Failure::bad_input(vec![Problem::error(format!(
            "scenario {} names no observations; add `observed: path/to/observations.csv` \
             (relative to the scenario file; the format is in docs/backtest.md)",
            loaded.scenario.name
        ))]));
    }
    let (r, bt) = render_loaded(ui, &loaded, warnings, sets, seed, charts, true)?;
    let bt = bt.ok_or_else(|| Failure::io("the backtest was not evaluated"))?;
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

/// Writes an output folder by the rule of `report::outdir`; cleanup warnings go to stderr.
fn write(ui: &Ui, dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), Failure> {
    let written = report::write_outputs(dir, files).map_err(|e| output_failure(dir, &e))?;
    let warnings: Vec<Problem> = written.warnings.into_iter().map(Problem::warning).collect();
    ui.show(&warnings);
    Ok(())
}

/// The failure of an output folder not written: a refusal is bad input (exit 2); an error
/// before the swap leaves the folder as it was (exit 3), and the message says so only then.
fn output_failure(dir: &Path, e: &report::outdir::OutputError) -> Failure {
    if e.is_refusal() {
        Failure::bad_input(vec![Problem::error(e.to_string())])
    } else if e.target_unchanged() {
        Failure::io(format!(
            "{e}; {} was left as it was (previous outputs, if any, are unchanged)",
            dir.display()
        ))
    } else {
        Failure::io(e.to_string())
    }
}

/// Adds `timeseries_long.csv` and `units.csv`, made from the rendered `timeseries.csv`.
fn add_tidy(files: &mut Vec<(String, Vec<u8>)>) -> Result<(), Failure> {
    let Some((_, wide)) = files.iter().find(|(n, _)| n == "timeseries.csv") else {
        return Ok(());
    };
    let long = report::tidy::long_csv(wide).map_err(render_failed)?;
    let units = report::tidy::units_csv(wide).map_err(render_failed)?;
    files.push(("timeseries_long.csv".into(), long));
    files.push(("units.csv".into(), units));
    Ok(())
}

/// Names of rendered files, in the order written.
fn names(files: &[(String, Vec<u8>)]) -> Vec<&str> {
    files.iter().map(|(n, _)| n.as_str()).collect()
}

/// `capsim run --json`.
#[derive(Serialize)]
struct RunDoc<'a> {
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    summary: &'a model::Summary,
    warnings: &'a [Problem],
}

fn run(ui: &Ui, o: RunOpts) -> Result<(), Failure> {
    if o.reps.is_some() || o.until_ci.is_some() {
        return run_reps(ui, o);
    }
    let started = Instant::now();
    let mut r = simulate_and_render(ui, o.path.as_deref(), &o.sets, o.seed, o.charts)?;
    if o.tidy {
        add_tidy(&mut r.files)?;
    }
    let dir = o
        .out
        .unwrap_or_else(|| PathBuf::from("output").join(&r.name));
    write(ui, &dir, &r.files)?;
    ui.doc(&RunDoc {
        scenario: &r.name,
        out_dir: dir.display().to_string(),
        files: names(&r.files),
        summary: &r.summary,
        warnings: &r.warnings,
    })?;
    let mut what = report::OUTPUT_FILES.join(", ");
    if r.files.iter().any(|(n, _)| n == "backtest.csv") {
        what.push_str(", backtest.csv");
    }
    if o.tidy {
        what.push_str(", timeseries_long.csv, units.csv");
    }
    if o.charts {
        what.push_str(", report.md, report.html, charts/");
    }
    ui.say(&format!(
        "{}outputs: {}/ ({what})\nsimulated {} days in {:.1} ms ({:.1} ms in all)\n",
        describe(&r.summary),
        dir.display(),
        r.summary.days,
        r.sim_ms,
        started.elapsed().as_secs_f64() * 1e3
    ))
}

/// `capsim run --reps N --json`.
#[derive(Serialize)]
struct RunRepsDoc<'a> {
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    replications: u64,
    representative: u64,
    /// The summary.json written: the representative's summary and `replications`.
    summary: serde_json::Value,
    warnings: &'a [Problem],
}

fn run_reps(ui: &Ui, o: RunOpts) -> Result<(), Failure> {
    if let Some(spec) = &o.shard {
        return run_shard(ui, &o, spec);
    }
    let started = Instant::now();
    let (loaded, warnings) = load(ui, o.path.as_deref(), &o.sets)?;
    let seed = o.seed.unwrap_or(loaded.scenario.seed);
    let asked = o.reps.unwrap_or(reps::DEFAULT_MAX_REPS);
    let until_text = o
        .until_ci
        .as_ref()
        .map(|u| format!("{}={}", u.metric, u.half_width));
    let sim_start = Instant::now();
    let outcome = reps::replicate(ui, &loaded, seed, asked, o.until_ci.clone(), "running")?;
    let sim_s = sim_start.elapsed().as_secs_f64();
    let mut files = reps::render(&loaded, &outcome, &o.sets, until_text.as_deref(), asked)
        .map_err(render_failed)?;
    if o.charts {
        files.extend(report::render_charts(&files).map_err(render_failed)?);
    }
    if o.tidy {
        add_tidy(&mut files)?;
    }
    let name = loaded.scenario.name.clone();
    let dir = o.out.unwrap_or_else(|| PathBuf::from("output").join(&name));
    write(ui, &dir, &files)?;
    let summary = files
        .iter()
        .find(|(n, _)| n == "summary.json")
        .and_then(|(_, b)| serde_json::from_slice(b).ok())
        .unwrap_or(serde_json::Value::Null);
    ui.doc(&RunRepsDoc {
        scenario: &name,
        out_dir: dir.display().to_string(),
        files: names(&files),
        replications: outcome.reps,
        representative: outcome.representative,
        summary,
        warnings: &warnings,
    })?;
    let mut what = report::OUTPUT_FILES.join(", ");
    what.push_str(", bands.csv, replications.csv");
    if o.charts {
        what.push_str(", report.md, report.html, charts/");
    }
    ui.say(&format!(
        "scenario {name} ({} to {})\n{}outputs: {}/ ({what})\nsimulated {} replications in {:.2} s ({:.2} s in all)\n",
        loaded.scenario.calendar.date(0).format("%Y-%m-%d"),
        loaded.scenario.calendar.date(loaded.scenario.days - 1).format("%Y-%m-%d"),
        reps::describe(&outcome),
        dir.display(),
        outcome.reps,
        sim_s,
        started.elapsed().as_secs_f64()
    ))
}

/// `capsim run --reps N --shard SPEC`: the shard's replications, as a shard folder.
fn run_shard(ui: &Ui, o: &RunOpts, spec: &crate::shard::Spec) -> Result<(), Failure> {
    let started = Instant::now();
    let (loaded, _warnings) = load(ui, o.path.as_deref(), &o.sets)?;
    let seed = o.seed.unwrap_or(loaded.scenario.seed);
    let total = o.reps.unwrap_or(reps::DEFAULT_MAX_REPS);
    let sh = shard::resolve(spec, total, "replications")?;
    let outcome = reps::replicate_range(ui, &loaded, seed, total, sh.first..sh.end)?;
    let invocation = serde_json::json!({
        "scenario": o.path.as_ref().map(|p| p.display().to_string()),
        "sets": o.sets,
        "reps": total,
        "charts": o.charts,
    });
    let mut doc = shard::ShardDoc::new(
        "run",
        &loaded.scenario.name,
        &loaded.hash,
        seed,
        sh,
        invocation,
    );
    doc.layout = Some(outcome.layout.clone());
    let files = vec![
        ("shard.json".to_string(), doc.to_bytes()?),
        ("replications.state".to_string(), outcome.metrics_state()),
        ("bands.state".to_string(), outcome.bands_state()),
        (
            "replications.csv".to_string(),
            report::montecarlo::replications_csv(&outcome).map_err(render_failed)?,
        ),
    ];
    let dir = shard_dir(o.out.as_deref(), &loaded.scenario.name, &sh);
    write(ui, &dir, &files)?;
    shard_done(ui, &doc, &dir, &files, started)
}

/// The default folder of a shard: `output/<name>.shard-<first>-<end>`.
fn shard_dir(out: Option<&Path>, name: &str, sh: &crate::shard::Shard) -> PathBuf {
    out.map(Path::to_path_buf).unwrap_or_else(|| {
        PathBuf::from("output").join(format!("{name}.shard-{}-{}", sh.first, sh.end))
    })
}

/// `--shard --json`.
#[derive(Serialize)]
struct ShardRunDoc<'a> {
    command: &'a str,
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    shard: crate::shard::Shard,
}

/// What a shard prints once its folder is written.
pub(crate) fn shard_done(
    ui: &Ui,
    doc: &shard::ShardDoc,
    dir: &Path,
    files: &[(String, Vec<u8>)],
    started: Instant,
) -> Result<(), Failure> {
    ui.doc(&ShardRunDoc {
        command: &doc.command,
        scenario: &doc.scenario,
        out_dir: dir.display().to_string(),
        files: names(files),
        shard: doc.shard,
    })?;
    ui.say(&format!(
        "{} of {}: {} of {} in {:.2} s\nshard folder: {}/ ({}); merge all shards with \
         `capsim merge SHARD_DIR... --out DIR`\n",
        doc.command,
        doc.scenario,
        doc.covers(shard::unit(&doc.command)),
        doc.shard.total,
        started.elapsed().as_secs_f64(),
        dir.display(),
        names(files).join(", ")
    ))
}

/// `capsim merge --json`.
#[derive(Serialize)]
struct MergeDoc<'a> {
    command: &'a str,
    scenario: &'a str,
    out_dir: String,
    files: Vec<&'a str>,
    shards: usize,
    total: u64,
}

/// The scenario of the shards, loaded as they loaded it, and its overrides; refused if it
/// is not what they ran (its hash differs).
fn load_for_merge(ui: &Ui, parts: &[shard::Part]) -> Result<(Loaded, Vec<String>), Failure> {
    let first = &parts[0];
    let inv = &first.doc.invocation;
    let path = inv
        .get("scenario")
        .and_then(serde_json::Value::as_str)
        .map(PathBuf::from);
    let sets: Vec<String> = inv
        .get("sets")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| first.error("shard.json has no `invocation.sets`"))?;
    let (loaded, _) = load(ui, path.as_deref(), &sets)?;
    shard::check_scenario(parts, &loaded)?;
    Ok((loaded, sets))
}

/// `capsim merge`.
fn merge(ui: &Ui, dirs: &[PathBuf], out: &Path) -> Result<(), Failure> {
    let started = Instant::now();
    let parts = shard::read_parts(dirs)?;
    let command = parts[0].doc.command.clone();
    let total = parts[0].doc.shard.total;
    let files = match command.as_str() {
        "run" => {
            let (loaded, sets) = load_for_merge(ui, &parts)?;
            let merged = shard::merge_run(&parts)?;
            let mut files =
                reps::render(&loaded, &merged, &sets, None, total).map_err(render_failed)?;
            let charts =
                parts[0].doc.invocation.get("charts") == Some(&serde_json::Value::Bool(true));
            if charts {
                files.extend(report::render_charts(&files).map_err(render_failed)?);
            }
            files
        }
        "sweep" => whatif::sweep_merge(ui, &parts)?,
        "sensitivity" => whatif::sensitivity_merge(ui, &parts)?,
        other => {
            return Err(parts[0].error(format!("`{other}` is not a command capsim can merge")));
        }
    };
    write(ui, out, &files)?;
    ui.doc(&MergeDoc {
        command: &command,
        scenario: &parts[0].doc.scenario,
        out_dir: out.display().to_string(),
        files: names(&files),
        shards: parts.len(),
        total,
    })?;
    ui.say(&format!(
        "merged {} shards of {} of {} ({} {}) in {:.2} s\noutputs: {}/ ({})\n",
        parts.len(),
        command,
        parts[0].doc.scenario,
        total,
        shard::unit(&command),
        started.elapsed().as_secs_f64(),
        out.display(),
        names(&files).join(", ")
    ))
}

/// `capsim chart --json`.
#[derive(Serialize)]
struct ChartDoc<'a> {
    out_dir: String,
    files: Vec<&'a str>,
}

fn chart(ui: &Ui, dir: &Path) -> Result<(), Failure> {
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

fn compare(
    ui: &Ui,
    scenarios: &[PathBuf],
    out: Option<PathBuf>,
    sets: &[String],
    seed: Option<u64>,
    reps: Option<u64>,
) -> Result<(), Failure> {
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

/// A few lines a person reads after a run.
pub fn describe(s: &model::Summary) -> String {
    let mut out = format!(
        "scenario {} ({} to {}, seed {})\n",
        s.scenario, s.start, s.end, s.seed
    );
    match (&s.first_shortage, &s.last_shortage) {
        (Some(a), Some(b)) => out.push_str(&format!(
            "  shortage: {} days between {a} and {b}; at worst {:.1}% of demand unserved\n",
            s.shortage_days,
            s.peak_unserved_share * 100.0
        )),
        _ => out.push_str("  shortage: none\n"),
    }
    if s.pause_episodes.is_empty() {
        out.push_str("  sign-up pauses: none\n");
    } else {
        for e in &s.pause_episodes {
            out.push_str(&format!(
                "  sign-ups of {} paused {} to {} ({} days): {}\n",
                e.segment, e.start, e.end, e.days, e.cause
            ));
        }
        out.push_str(&format!(
            "  lost: {} sign-ups, {} of revenue\n",
            human(s.lost_signups),
            usd(s.lost_revenue_usd)
        ));
    }
    if let (Some(d), Some(p)) = (&s.lead_time_peak_date, &s.lead_time_peak_product) {
        out.push_str(&format!(
            "  longest lead time: {:.0} days quoted ({p}, {d}); {:.0} days realised, order to delivery\n",
            s.lead_time_peak_days, s.realised_lead_time_peak_days
        ));
    }
    out.push_str(&format!(
        "  fleet at the end: {} H100e; capex {}; revenue {}\n",
        human(s.fleet_end_h100e),
        usd(s.capex_usd),
        usd(s.revenue_usd)
    ));
    out
}

/// One file of `capsim validate --json`.
#[derive(Serialize)]
struct ValidatedDoc {
    file: String,
    ok: bool,
    /// The scenario's name, when it loaded.
    scenario: Option<String>,
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
}

/// `capsim validate --json`.
#[derive(Serialize)]
struct ValidateDoc {
    files: Vec<ValidatedDoc>,
}

fn validate(ui: &Ui, files: &[PathBuf], sets: &[String]) -> Result<(), Failure> {
    let mut docs = Vec::new();
    for f in files {
        let (scenario, problems) = match scenario::load(Source::File(f), sets) {
            Ok(l) => {
                let warnings: Vec<Problem> = l
                    .warnings
                    .iter()
                    .map(|w| Problem::from_diag(w, &l.sources))
                    .collect();
                (Some(l.scenario.name), warnings)
            }
            Err(e) => (None, ui::load_problems(&e)),
        };
        ui.show(&problems);
        let (errors, warnings): (Vec<Problem>, Vec<Problem>) = problems
            .into_iter()
            .partition(|p| p.severity == ui::Level::Error);
        let line = match &scenario {
            Some(name) if warnings.is_empty() => format!("{}: ok ({name})", f.display()),
            Some(name) => format!(
                "{}: ok ({name}, {} warning(s))",
                f.display(),
                warnings.len()
            ),
            None => {
                eprintln!("{}", ui::tally(&errors));
                format!("{}: invalid", f.display())
            }
        };
        ui.say(&format!("{line}\n"))?;
        docs.push(ValidatedDoc {
            file: f.display().to_string(),
            ok: scenario.is_some(),
            scenario,
            errors,
            warnings,
        });
    }
    let invalid = docs.iter().any(|d| !d.ok);
    ui.doc(&ValidateDoc { files: docs })?;
    if invalid {
        Err(Failure::reported(exit::BAD_INPUT))
    } else {
        Ok(())
    }
}

fn completions(shell: Shell) -> Result<(), Failure> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "capsim", &mut buf);
    ui::write_stdout(&buf)
}

fn print_schema() -> Result<(), Failure> {
    let mut bytes = serde_json::to_vec_pretty(&scenario_schema())
        .map_err(|e| Failure::io(format!("cannot serialise the schema: {e}")))?;
    bytes.push(b'\n');
    ui::write_stdout(&bytes)
}

fn man(subcommand: Option<&str>) -> Result<(), Failure> {
    // clap has already refused names that are not subcommands.
    let page = man_page(subcommand).ok_or_else(|| {
        Failure::bad_input(vec![Problem::error(format!(
            "no subcommand named `{}`",
            subcommand.unwrap_or_default()
        ))])
    })?;
    ui::write_stdout(page.as_bytes())
}

/// The roff man page of capsim, or of one subcommand (`capsim-run(1)`), from the clap
/// definition: clap_mangen's sections, then the `after_help` text (examples, exit codes) as
/// sections of its own, kept line for line. `None` for an unknown subcommand.
pub fn man_page(subcommand: Option<&str>) -> Option<String> {
    let mut cmd = Cli::command();
    cmd.build();
    // `capsim help` is clap's; it has no page of its own.
    let cmd = cmd.mut_subcommand("help", |h| h.hide(true));
    let source = format!("capsim {}", cmd.get_version().unwrap_or_default());
    let cmd = match subcommand {
        None => cmd,
        Some(name) => cmd.find_subcommand(name)?.clone(),
    };
    let extra = cmd
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.after_help(None::<&str>))
        .source(source)
        .render(&mut buf)
        .ok()?;
    let page = String::from_utf8(buf).ok()?;
    // clap_mangen starts with a string definition for apostrophes; the page proper (and
    // `whatis`) wants `.TH` first, and the definition works as well after it.
    let (preamble, body) = match page.find("\n.TH ") {
        Some(i) => page.split_at(i + 1),
        None => ("", page.as_str()),
    };
    let (th, rest) = body.split_once('\n').unwrap_or((body, ""));
    let sections = roff_sections(&extra);
    let (before_version, version) = match rest.find(".SH VERSION") {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    Some(format!(
        "{th}\n{preamble}{before_version}{sections}{version}"
    ))
}

/// Turns `after_help` text into roff: a line such as `Examples:` starts a section
/// (`Exit codes:` becomes the customary EXIT STATUS), and the text is kept line for line.
fn roff_sections(text: &str) -> String {
    let mut out = String::new();
    let mut open = false;
    for line in text.lines() {
        let heading = !line.is_empty()
            && !line.starts_with(' ')
            && line.ends_with(':')
            && !line[..line.len() - 1].contains(':');
        if heading {
            if open {
                out.push_str(".fi\n");
            }
            let title = match &line[..line.len() - 1] {
                "Exit codes" => "EXIT STATUS".to_string(),
                t => t.to_uppercase(),
            };
            out.push_str(&format!(".SH {title}\n.nf\n"));
            open = true;
        } else {
            if !open {
                out.push_str(".SH NOTES\n.nf\n");
                open = true;
            }
            out.push_str(&roff_escape(line));
            out.push('\n');
        }
    }
    if open {
        out.push_str(".fi\n");
    }
    out
}

/// Escapes a line of text for roff: backslashes, hyphens (so `--out` stays two ASCII
/// hyphens), and a leading `.` or `'` that would read as a request.
fn roff_escape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    if line.starts_with('.') || line.starts_with('\'') {
        out.push_str("\\&");
    }
    for c in line.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subcommand_list_matches_the_definition() {
        let cmd = Cli::command();
        let defined: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        assert_eq!(defined, SUBCOMMANDS);
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn after_help_becomes_man_sections_line_for_line() {
        let roff = roff_sections("Examples:\n  capsim run --out x\n\nExit codes:\n  0  ok\n");
        assert_eq!(
            roff,
            ".SH EXAMPLES\n.nf\n  capsim run \\-\\-out x\n\n.fi\n.SH EXIT STATUS\n.nf\n  0  ok\n.fi\n"
        );
        assert_eq!(roff_escape(".hidden \\ x"), "\\&.hidden \\e x");
    }

    #[test]
    fn a_man_page_starts_with_its_title() {
        let page = man_page(None).expect("a page");
        assert!(page.starts_with(".TH capsim 1"), "{}", &page[..80]);
        assert!(page.contains(".SH EXIT STATUS"));
        let run = man_page(Some("run")).expect("a page");
        assert!(run.starts_with(".TH capsim-run 1"), "{}", &run[..80]);
        assert!(run.contains("\\-\\-no\\-charts"));
        assert!(man_page(Some("nope")).is_none());
        // Every page has its examples, and no line of prose was taken for a heading.
        const KNOWN: [&str; 10] = [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "SUBCOMMANDS",
            "EXAMPLES",
            "EXIT STATUS",
            "ENVIRONMENT",
            "SEE ALSO",
            "VERSION",
        ];
        for sub in SUBCOMMANDS.iter().map(|s| Some(*s)).chain([None]) {
            let page = man_page(sub).expect("a page");
            assert!(page.contains(".SH EXAMPLES"), "{sub:?}");
            for heading in page.lines().filter_map(|l| l.strip_prefix(".SH ")) {
                assert!(KNOWN.contains(&heading), "{sub:?}: section {heading}");
            }
        }
    }
}
