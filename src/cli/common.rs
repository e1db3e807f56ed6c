//! What several subcommands share: loading a scenario, simulating and rendering one run,
//! writing an output folder, and the lines printed after a run or a shard.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::shard;
use super::ui::{Failure, Problem, Ui};
use crate::format::{human, usd};
use crate::model;
use crate::report;
use crate::scenario::{self, Loaded, Source};

/// Loads a scenario, shows its warnings on stderr and returns them for `--json`.
pub fn load(
    ui: &Ui,
    path: Option<&Path>,
    sets: &[String],
) -> Result<(Loaded, Vec<Problem>), Failure> {
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

/// One simulated and rendered run.
pub struct Rendered {
    pub name: String,
    pub summary: model::Summary,
    pub files: Vec<(String, Vec<u8>)>,
    pub warnings: Vec<Problem>,
    pub sim_ms: f64,
    /// The observations set beside the run, if it has some that evaluate.
    pub backtest: Option<crate::backtest::Backtest>,
}

/// A report error met while rendering: the outputs cannot be made, so none are written.
pub fn render_failed(e: report::ReportError) -> Failure {
    Failure::io(e.to_string())
}

/// Loads and simulates a scenario and renders its files (`report::run_files`). Observations
/// that cannot be evaluated against the run (a column the run lacks) are a warning here, and
/// `backtest.csv` is left out.
pub fn simulate_and_render(
    ui: &Ui,
    path: Option<&Path>,
    sets: &[String],
    seed: Option<u64>,
    extras: report::Extras,
) -> Result<Rendered, Failure> {
    let (loaded, warnings) = load(ui, path, sets)?;
    render_loaded(ui, &loaded, warnings, sets, seed, extras, false)
}

/// Simulates a loaded scenario and renders its files. `strict`: observations that cannot be
/// evaluated are bad input (else a warning, and no `backtest.csv`).
pub fn render_loaded(
    ui: &Ui,
    loaded: &Loaded,
    mut warnings: Vec<Problem>,
    sets: &[String],
    seed: Option<u64>,
    extras: report::Extras,
    strict: bool,
) -> Result<Rendered, Failure> {
    let seed = seed.unwrap_or(loaded.scenario.seed);
    // One run is replication 0: the scenario's distributions drawn for it (the loaded
    // scenario itself when it has none), as `--reps` and `capsim check` run it.
    let scenario = loaded.replication(seed, 0).map_err(|e| Failure::load(&e))?;
    // The daily table and the ledger are formatted on the other core while the simulation
    // runs.
    let report::Tabled {
        run: result,
        tables,
        simulated,
    } = report::simulate_with_timeseries(&scenario, seed, 0);
    let sim_ms = simulated.as_secs_f64() * 1e3;
    let out = report::run_files(loaded, &result, tables, sets, extras).map_err(render_failed)?;
    if !out.unevaluated.is_empty() {
        if strict {
            return Err(Failure {
                tally: true,
                ..Failure::bad_input(
                    out.unevaluated
                        .iter()
                        .map(|d| Problem::from_diag(d, &loaded.sources))
                        .collect(),
                )
            });
        }
        let mut shown: Vec<Problem> = out
            .unevaluated
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
    let (name, summary) = (scenario.name.clone(), result.summary.clone());
    // The run's buffers (a megabyte of daily values, the ledger) go back to the system on a
    // thread of the pool while the files are written, not before it.
    rayon::spawn(move || drop(result));
    Ok(Rendered {
        name,
        summary,
        files: out.files,
        warnings,
        sim_ms,
        backtest: out.backtest,
    })
}

/// Writes an output folder by the rule of `report::outdir`; cleanup warnings go to stderr.
pub fn write(ui: &Ui, dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), Failure> {
    let written = report::write_outputs(dir, files).map_err(|e| output_failure(dir, &e))?;
    let warnings: Vec<Problem> = written.warnings.into_iter().map(Problem::warning).collect();
    ui.show(&warnings);
    Ok(())
}

/// The failure of an output folder not written: a refusal is bad input (exit 2); an error
/// before the swap leaves the folder as it was (exit 3), and the message says so only then.
pub fn output_failure(dir: &Path, e: &report::outdir::OutputError) -> Failure {
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

/// Names of rendered files, in the order written.
pub fn names(files: &[(String, Vec<u8>)]) -> Vec<&str> {
    files.iter().map(|(n, _)| n.as_str()).collect()
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
pub fn shard_done(
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
