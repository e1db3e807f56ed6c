//! The command line: subcommands and what each prints. `main.rs` only parses and exits.

use std::path::{Path, PathBuf};
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
summary.json, events.csv, ledger.csv, manifest.json (see docs/outputs.md), and unless
--no-charts, charts/*.png|svg and report.md.")]
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
        /// Skip the charts and report.md (data files only).
        #[arg(long)]
        no_charts: bool,
    },
    /// Redraw the charts and report.md of an existing run, without simulating again.
    #[command(after_help = "Examples:
  capsim chart output/default
  capsim chart /tmp/base          # a folder written by `capsim run --out /tmp/base`")]
    Chart {
        /// Output folder of a run (holds timeseries.csv, summary.json, events.csv).
        dir: PathBuf,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run several scenarios and compare them: overlaid charts and a table of differences.
    #[command(after_help = "Examples:
  capsim compare scenarios/default.yaml my-what-if.yaml
  capsim compare a.yaml b.yaml c.yaml --out /tmp/cmp --set end=2024-12

Writes compare.md, charts/compare_*.png|svg and each scenario's data files in a folder of
its own, in output/compare-<a>-vs-<b>/ unless --out names a folder. Differences are
against the first scenario.")]
    Compare {
        /// Scenario files, the first being the baseline.
        #[arg(required = true, num_args = 2..)]
        scenarios: Vec<PathBuf>,
        /// Output folder (replaced whole on success).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Overrides applied to every scenario, as for `run`.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        sets: Vec<String>,
        /// Seed for every scenario (default: each scenario's own).
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
            no_charts,
        } => run(RunOpts {
            path: scenario,
            out,
            sets,
            seed,
            quiet,
            charts: !no_charts,
        }),
        Command::Chart { dir, quiet } => chart(&dir, quiet),
        Command::Compare {
            scenarios,
            out,
            sets,
            seed,
            quiet,
        } => compare(&scenarios, out, &sets, seed, quiet),
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

/// Options of `capsim run` that shape one run.
struct RunOpts {
    path: Option<PathBuf>,
    out: Option<PathBuf>,
    sets: Vec<String>,
    seed: Option<u64>,
    quiet: bool,
    charts: bool,
}

/// One simulated and rendered run.
struct Rendered {
    name: String,
    summary: model::Summary,
    files: Vec<(String, Vec<u8>)>,
    sim_ms: f64,
}

/// Loads and simulates a scenario and renders its files (charts too, if asked); prints
/// errors itself.
fn simulate_and_render(
    path: Option<&PathBuf>,
    sets: &[String],
    seed: Option<u64>,
    charts: bool,
) -> Result<Rendered, ExitCode> {
    let loaded = load(path, sets)?;
    let mut scenario = loaded.scenario.clone();
    if let Some(seed) = seed {
        scenario.seed = seed;
    }
    let sim_start = Instant::now();
    let result = model::simulate(&scenario, scenario.seed);
    let sim_ms = sim_start.elapsed().as_secs_f64() * 1e3;
    let mut files = report::render_all(&loaded, &result, sets).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(exit::IO)
    })?;
    if charts {
        let drawn = report::render_charts(&files).map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(exit::IO)
        })?;
        files.extend(drawn);
    }
    Ok(Rendered {
        name: scenario.name.clone(),
        summary: result.summary,
        files,
        sim_ms,
    })
}

fn write(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), ExitCode> {
    report::write_outputs(dir, files).map_err(|e| {
        eprintln!(
            "error: {e}; previous outputs in {} are unchanged",
            dir.display()
        );
        ExitCode::from(exit::IO)
    })
}

fn run(o: RunOpts) -> ExitCode {
    let started = Instant::now();
    let Rendered {
        name,
        summary,
        files,
        sim_ms,
    } = match simulate_and_render(o.path.as_ref(), &o.sets, o.seed, o.charts) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let dir = o.out.unwrap_or_else(|| PathBuf::from("output").join(&name));
    if let Err(code) = write(&dir, &files) {
        return code;
    }
    if !o.quiet {
        print!("{}", describe(&summary));
        let mut what = report::OUTPUT_FILES.join(", ");
        if o.charts {
            what.push_str(", report.md, charts/");
        }
        println!("outputs: {}/ ({what})", dir.display());
        println!(
            "simulated {} days in {sim_ms:.1} ms ({:.1} ms in all)",
            summary.days,
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    ExitCode::from(exit::OK)
}

fn chart(dir: &Path, quiet: bool) -> ExitCode {
    let started = Instant::now();
    let mut files = match report::read_output_dir(dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    let drawn = match report::render_charts(&files) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "error: {e}\n{} does not look like the output folder of `capsim run`",
                dir.display()
            );
            return ExitCode::from(exit::BAD_INPUT);
        }
    };
    files.extend(drawn);
    if let Err(code) = write(dir, &files) {
        return code;
    }
    if !quiet {
        println!(
            "redrew {}/charts/ and report.md in {:.0} ms",
            dir.display(),
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    ExitCode::from(exit::OK)
}

fn compare(
    scenarios: &[PathBuf],
    out: Option<PathBuf>,
    sets: &[String],
    seed: Option<u64>,
    quiet: bool,
) -> ExitCode {
    let mut runs = Vec::new();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for path in scenarios {
        let Rendered {
            name,
            files: run_files,
            ..
        } = match simulate_and_render(Some(path), sets, seed, false) {
            Ok(x) => x,
            Err(code) => return code,
        };
        let data = match report::chart_data(&run_files) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(exit::IO);
            }
        };
        // Two scenarios of one name still get a folder each.
        let mut folder = name.clone();
        let mut k = 2;
        while names.contains(&folder) {
            folder = format!("{name}-{k}");
            k += 1;
        }
        for (f, bytes) in run_files {
            files.push((format!("{folder}/{f}"), bytes));
        }
        names.push(folder);
        runs.push(data);
    }
    let charts = match report::charts::draw_compare(&runs) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::IO);
        }
    };
    let refs: Vec<_> = charts.iter().map(report::chart_ref).collect();
    for c in charts {
        files.push((format!("charts/{}.png", c.name), c.png));
        files.push((format!("charts/{}.svg", c.name), c.svg));
    }
    let md = report::markdown::compare_md(&runs, &refs);
    files.push(("compare.md".into(), md.clone().into_bytes()));
    let dir = out
        .unwrap_or_else(|| PathBuf::from("output").join(format!("compare-{}", names.join("-vs-"))));
    if let Err(code) = write(&dir, &files) {
        return code;
    }
    if !quiet {
        for r in &runs {
            print!("{}", describe(&r.summary));
        }
        println!(
            "outputs: {}/ (compare.md, charts/, one folder per scenario)",
            dir.display()
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
