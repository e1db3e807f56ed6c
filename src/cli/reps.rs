//! Monte Carlo on the command line: `capsim run --reps N` and `capsim compare --reps N`.

use std::borrow::Cow;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::ui::{Failure, Problem, Ui, load_problems};
use crate::format::{readout, signed, usd};
use crate::montecarlo::{self, Confidence, Outcome, Plan, UntilCi};
use crate::report::montecarlo::{PAIRED_SHOWN, PairedDoc, verdict};
use crate::report::{self, Extras};
use crate::scenario::{Loaded, Scenario};

/// Replications `--until-ci` may run when `--reps` does not say.
pub const DEFAULT_MAX_REPS: u64 = 10_000;

/// The scenario of replication `r`: the loaded scenario with its distributions sampled.
pub fn scenario_of<'a>(loaded: &'a Loaded, seed: u64, r: u64) -> Result<Cow<'a, Scenario>, String> {
    loaded.replication(seed, r).map_err(|e| {
        load_problems(&e)
            .iter()
            .map(|p| p.rendered.clone())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// A progress bar on stderr for `len` steps: drawn only on a terminal and without
/// `--quiet` or `--json`.
pub fn progress_bar(ui: &Ui, len: u64, what: &str) -> ProgressBar {
    if ui.quiet || ui.json || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(&format!(
        "{what} [{{bar:30}}] {{pos}}/{{len}} replications ({{eta}} left)"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// Runs the replications of a loaded scenario with a progress bar.
pub fn replicate(
    ui: &Ui,
    loaded: &Loaded,
    seed: u64,
    reps: u64,
    until_ci: Option<UntilCi>,
    confidence: Confidence,
    what: &str,
) -> Result<Outcome, Failure> {
    let plan = Plan {
        seed,
        reps,
        until_ci,
        confidence,
    };
    let bar = progress_bar(ui, reps, what);
    let of = |r: u64| scenario_of(loaded, seed, r);
    let tick = || bar.inc(1);
    let outcome = montecarlo::run(&plan, &of, &tick);
    bar.finish_and_clear();
    outcome.map_err(|e| Failure::bad_input(vec![Problem::error(e.to_string())]))
}

/// Runs replications `range` of `total` (a shard), with a progress bar.
pub fn replicate_range(
    ui: &Ui,
    loaded: &Loaded,
    seed: u64,
    total: u64,
    range: std::ops::Range<u64>,
    confidence: Confidence,
) -> Result<Outcome, Failure> {
    let plan = Plan {
        seed,
        reps: total,
        until_ci: None,
        confidence,
    };
    let bar = progress_bar(ui, range.end - range.start, "shard");
    let of = |r: u64| scenario_of(loaded, seed, r);
    let tick = || bar.inc(1);
    let outcome = montecarlo::run_range(&plan, range, true, &of, &tick);
    bar.finish_and_clear();
    outcome.map_err(|e| Failure::bad_input(vec![Problem::error(e.to_string())]))
}

/// The files of a Monte Carlo run (`report::mc_files`), its representative replication
/// simulated again here.
pub fn render(
    loaded: &Loaded,
    o: &Outcome,
    sets: &[String],
    until_ci: Option<&str>,
    asked: u64,
    extras: Extras,
) -> Result<report::Files, report::ReportError> {
    let s = scenario_of(loaded, o.seed, o.representative).map_err(|message| {
        report::ReportError::Serialise {
            what: "representative replication",
            message,
        }
    })?;
    let report::Tabled { run, tables, .. } =
        report::simulate_with_timeseries(&s, o.seed, o.representative);
    report::mc_files(loaded, o, &run, tables, sets, until_ci, asked, extras)
}

/// A few lines a person reads after a Monte Carlo run.
pub fn describe(o: &Outcome) -> String {
    let mut out = format!(
        "{} (seed {}); replication {} is nearest the median and its files are written\n",
        crate::format::replications(o.reps),
        o.seed,
        o.representative
    );
    let stats = o.metric_stats();
    let level = o.confidence.percent();
    let get = |name: &str| stats.iter().find(|(n, _)| *n == name).map(|(_, s)| s);
    for (name, label, money) in [
        ("pause_days", "pause days", false),
        ("lost_revenue_usd", "lost revenue", true),
        ("shortage_days", "shortage days", false),
        ("fleet_end_h100e", "fleet at the end (H100e)", false),
    ] {
        if let Some(s) = get(name) {
            let f = |v: f64| {
                if money { usd(v) } else { readout(v) }
            };
            out.push_str(&format!(
                "  {label}: median {}, P5–P95 {} – {}, mean {} ({level}% CI {} – {})\n",
                f(s.p50),
                f(s.p5),
                f(s.p95),
                f(s.mean),
                f(s.ci_low),
                f(s.ci_high)
            ));
        }
    }
    for (name, d) in o.date_stats() {
        if let Some(seg) = name.strip_prefix("first_pause.") {
            match &d.p50 {
                Some(p50) => out.push_str(&format!(
                    "  sign-ups of {seg} paused in {:.0}% of replications; first pause median {p50} (P5 {}, P95 {})\n",
                    d.probability * 100.0,
                    d.p5.as_deref().unwrap_or("-"),
                    d.p95.as_deref().unwrap_or("-"),
                )),
                None => out.push_str(&format!(
                    "  sign-ups of {seg} never paused in any replication\n"
                )),
            }
        }
    }
    match o.stop {
        montecarlo::Stop::Count => {}
        montecarlo::Stop::CiMet => {
            if let Some(u) = &o.until_ci {
                out.push_str(&format!(
                    "  stopped: the {level}% CI of the mean of {} is within ±{} after {} replications\n",
                    u.metric, u.half_width, o.reps
                ));
            }
        }
        montecarlo::Stop::CiNotMet => {
            if let Some(u) = &o.until_ci {
                out.push_str(&format!(
                    "  stopped at the most replications allowed ({}): the {level}% CI of the mean of {} is still wider than ±{}\n",
                    o.reps, u.metric, u.half_width
                ));
            }
        }
    }
    out
}

/// The paired differences as a person reads them after `capsim compare --reps`.
pub fn paired_text(paired: &[PairedDoc]) -> String {
    let mut out = String::new();
    for p in paired {
        out.push_str(&format!(
            "paired differences, {} − {} ({} replications, {}% CI):\n",
            p.scenario,
            p.baseline,
            p.replications,
            p.confidence.percent()
        ));
        for (key, label, money) in PAIRED_SHOWN {
            if let Some(s) = p.differences.get(key) {
                out.push_str(&format!(
                    "  {label}: {} ({} to {}){}\n",
                    signed(s.mean, money),
                    signed(s.ci_low, money),
                    signed(s.ci_high, money),
                    if verdict(s) == "yes" {
                        ""
                    } else {
                        ", not distinguishable from 0"
                    }
                ));
            }
        }
    }
    out
}
