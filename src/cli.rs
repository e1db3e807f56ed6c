//! The command line: subcommands and what each prints. `main.rs` only parses and exits.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::model;
use crate::report::{self, human, usd};
use crate::scenario::{self, Loaded, Source};

/// Exit codes, documented in README.md.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A check failed (reserved for `capsim check`).
    pub const CHECK_FAILED: u8 = 1;
    /// Bad input: a scenario or an argument is wrong.
    pub const BAD_INPUT: u8 = 2;
    /// Outputs could not be written.
    pub const IO: u8 = 3;
}

/// capsim: a discrete-event simulator of AI datacenter capacity.
///
/// From packaging lines and HBM to vendors' backlogs, datacenter power and user demand:
/// when does the shortage end, and what does it cost?
#[derive(Debug, Parser)]
#[command(name = "capsim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write its outputs.
    #[command(after_help = "Examples:
  capsim run                                  # the built-in default scenario
  capsim run scenarios/default.yaml --out /tmp/base
  capsim run my.yaml --set supply.packaging_lines.CoWoS-S.capacity_wafers_per_month=20000
  capsim run my.yaml --seed 7

Outputs go to output/<scenario name>/ unless --out names a folder: timeseries.csv,
summary.json, events.csv, ledger.csv, manifest.json (see docs/outputs.md).")]
    Run {
        /// Scenario file (YAML); the built-in default scenario if absent.
        scenario: Option<PathBuf>,
        /// Output folder (replaced whole on success) [default: output/<scenario name>]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Override a field: `path.to.field=value` (list items by name or index).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Seed of the random streams (default: the scenario's `seed`, else 0).
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Check scenario files and report every problem found.
    #[command(after_help = "Examples:
  capsim validate scenarios/*.yaml
  capsim validate my.yaml --set end=2027-12")]
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Overrides applied before checking, as for `run`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
    },
}

/// Runs the parsed command line.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Run {
            scenario,
            out,
            sets,
            seed,
            quiet,
        } => run(scenario, out, sets, seed, quiet),
        Command::Validate { files, sets } => validate(&files, &sets),
    }
}

fn load(path: Option<&PathBuf>, sets: &[String]) -> Result<Loaded, ExitCode> {
    let source = match path {
        Some(p) => Source::File(p),
        None => Source::BuiltIn,
    };
    match scenario::load(source, sets) {
        Ok(l) => {
            for w in &l.warnings {
                eprintln!("{}", w.render(&l.sources));
            }
            Ok(l)
        }
        Err(e) => {
            eprintln!("{}", e.render());
            Err(ExitCode::from(exit::BAD_INPUT))
        }
    }
}

fn run(
    path: Option<PathBuf>,
    out: Option<PathBuf>,
    sets: Vec<String>,
    seed: Option<u64>,
    quiet: bool,
) -> ExitCode {
    let started = Instant::now();
    let loaded = match load(path.as_ref(), &sets) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let mut scenario = loaded.scenario.clone();
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    let sim_start = Instant::now();
    let result = model::simulate(&scenario, scenario.seed);
    let sim_time = sim_start.elapsed();
    let files = match report::render_all(&loaded, &result, &sets) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::IO);
        }
    };
    let dir = out.unwrap_or_else(|| PathBuf::from("output").join(&scenario.name));
    if let Err(e) = report::write_outputs(&dir, &files) {
        eprintln!(
            "error: {e}; previous outputs in {} are unchanged",
            dir.display()
        );
        return ExitCode::from(exit::IO);
    }
    if !quiet {
        print!("{}", describe(&result.summary));
        println!(
            "outputs: {}/ ({})",
            dir.display(),
            report::OUTPUT_FILES.join(", ")
        );
        println!(
            "simulated {} days in {:.1} ms ({:.1} ms in all)",
            result.summary.days,
            sim_time.as_secs_f64() * 1e3,
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    ExitCode::from(exit::OK)
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
            "  longest lead time: {:.0} days ({p}, {d})\n",
            s.lead_time_peak_days
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

fn validate(files: &[PathBuf], sets: &[String]) -> ExitCode {
    let mut bad = 0;
    for f in files {
        match scenario::load(Source::File(f), sets) {
            Ok(l) => {
                for w in &l.warnings {
                    eprintln!("{}", w.render(&l.sources));
                }
                println!(
                    "{}: ok ({}{})",
                    f.display(),
                    l.scenario.name,
                    if l.warnings.is_empty() {
                        String::new()
                    } else {
                        format!(", {} warning(s)", l.warnings.len())
                    }
                );
            }
            Err(e) => {
                bad += 1;
                eprintln!("{}", e.render());
                println!("{}: invalid", f.display());
            }
        }
    }
    if bad > 0 {
        ExitCode::from(exit::BAD_INPUT)
    } else {
        ExitCode::from(exit::OK)
    }
}
