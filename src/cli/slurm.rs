//! `capsim slurm run|sweep ... --shards N`: the Slurm scripts of a sharded run or sweep.
//!
//! Three plain files in one folder, for a cluster's admins to read and adapt:
//!
//! - `shards.sbatch`: a job array of N tasks; task K runs the command with
//!   `--shard $SLURM_ARRAY_TASK_ID/N` into `shards/K/`;
//! - `merge.sbatch`: `capsim merge shards/* --out OUT`;
//! - `submit.sh`: submits the array, then the merge with `--dependency=afterok` on it, so the
//!   merge runs once every shard has succeeded.
//!
//! `--submit` runs `submit.sh`. Nothing here talks to Slurm otherwise.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;

use super::args::helps;
use super::common::{load, write};
use super::ui::{Failure, Problem, Ui};
use super::{OutputArgs, ScenarioArgs, WhatIfArgs};

pub const AFTER_HELP: &str = "Examples:
  capsim slurm run my.yaml --reps 100000 --shards 50 --partition short --time 00:30:00
  capsim slurm sweep my.yaml --vary 'products.H100.power_w=600..800:10000' --shards 20 --submit

Writes shards.sbatch (a job array, one task per shard), merge.sbatch (capsim merge) and
submit.sh (the array, then the merge with --dependency=afterok); prints how to submit, or
submits with --submit. See docs/scale.md.";

/// What `capsim slurm` shards.
#[derive(Debug, Subcommand)]
pub enum Job {
    /// Shards of `capsim run --reps N`, then their merge.
    #[command(
        after_help = "Examples:
  capsim slurm run my.yaml --reps 100000 --shards 50 --partition short --time 00:30:00
  capsim slurm run my.yaml --reps 100000 --shards 50 --submit
  capsim slurm run my.yaml --reps 10000 --shards 10 --tidy

Writes shards.sbatch (a job array: task K runs `capsim run ... --shard K/N`), merge.sbatch
(`capsim merge`) and submit.sh (sbatch the array, then the merge with
--dependency=afterok) into --dir [default: slurm/run-<scenario>], and prints how to submit;
--submit runs submit.sh. The merged outputs go to --out [default: output/<scenario>], as
`capsim run --reps` writes them. See docs/scale.md.",
        mut_args(|a| helps(a, &[
            ("out", "Where the merge writes the outputs [default: output/<scenario name>]"),
            ("sets", "Override a field, as for `run`"),
            ("seed", "Seed of the random streams (default: the scenario's)"),
        ])),
    )]
    Run {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Skip the charts, report.md and report.html.
        #[arg(long)]
        no_charts: bool,
        /// Replications in all.
        #[arg(long, value_name = "N", required = true, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
        reps: u64,
        /// Also write the daily series in long form (timeseries_long.csv) and units.csv, as
        /// `run --tidy`: each shard records it, and the merge writes them.
        #[arg(long)]
        tidy: bool,
        /// Also write timeseries.parquet and timeseries_long.parquet, as `run --parquet`
        /// (needs a capsim built with the cargo feature `parquet`).
        #[arg(long)]
        parquet: bool,
        /// The level of the confidence intervals, as for `run`.
        #[arg(long, value_name = "LEVEL")]
        confidence: Option<crate::montecarlo::Confidence>,
        #[command(flatten)]
        slurm: SlurmArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Shards of `capsim sweep`, then their merge.
    #[command(after_help = "Examples:
  capsim slurm sweep my.yaml --vary 'products.H100.power_w=600..800:10000' --shards 20 --no-charts

Writes shards.sbatch, merge.sbatch and submit.sh into --dir [default:
slurm/sweep-<scenario>] as for `capsim slurm run`; the merged sweep goes to --out
[default: output/sweep-<scenario>]. See docs/scale.md.")]
    Sweep {
        #[command(flatten)]
        common: WhatIfArgs,
        /// A field and its values, as for `sweep` (repeatable).
        #[arg(long, required = true, value_name = "PATH=VALUES")]
        vary: Vec<String>,
        /// The metric of the sweep, as for `sweep`.
        #[arg(long, value_name = "METRIC", default_value = "pause_days")]
        metric: String,
        /// Additions apply from this date on, as for `sweep`.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// The level of the confidence intervals, as for `sweep` (with --reps 2 or more).
        #[arg(long, value_name = "LEVEL", requires = "reps")]
        confidence: Option<crate::montecarlo::Confidence>,
        #[command(flatten)]
        slurm: SlurmArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
}

impl Job {
    /// The output options.
    pub fn output(&self) -> OutputArgs {
        match self {
            Job::Run { output, .. } | Job::Sweep { output, .. } => *output,
        }
    }
}

/// What the Slurm jobs are.
#[derive(Debug, Clone, Args)]
pub struct SlurmArgs {
    /// Shards: array tasks, each running 1/N of the replications or points.
    #[arg(long, value_name = "N", required = true, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    shards: u64,
    /// Slurm partition of every job (#SBATCH --partition).
    #[arg(long, value_name = "P")]
    partition: Option<String>,
    /// Time limit of each job (#SBATCH --time), e.g. 00:30:00.
    #[arg(long, value_name = "T")]
    time: Option<String>,
    /// Folder of the scripts, the logs and the shard folders [default: slurm/<command>-<scenario>]
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The capsim the jobs run [default: this one]
    #[arg(long, value_name = "PATH")]
    capsim: Option<PathBuf>,
    /// Submit with sbatch (runs submit.sh) instead of printing how to.
    #[arg(long)]
    submit: bool,
}

/// A word for a shell script: as is when it holds only safe characters, else single-quoted.
pub fn quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%^".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn absolute(p: &Path) -> Result<PathBuf, Failure> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::io(format!("cannot read the current folder: {e}")))?;
    Ok(cwd.join(p))
}

/// The three scripts.
struct Scripts {
    shards: String,
    merge: String,
    submit: String,
}

#[allow(clippy::too_many_arguments)]
fn scripts(
    a: &SlurmArgs,
    what: &str,
    name: &str,
    capsim: &Path,
    cwd: &Path,
    dir: &Path,
    args: &[String],
    out: &Path,
) -> Scripts {
    let n = a.shards;
    let head = |job: &str, log: &str, array: bool| {
        let mut h = String::from("#!/bin/bash\n");
        h.push_str(&format!("#SBATCH --job-name={}\n", quote(job)));
        if array {
            h.push_str(&format!("#SBATCH --array=0-{}\n", n - 1));
        }
        h.push_str(&format!(
            "#SBATCH --output={}\n#SBATCH --ntasks=1\n",
            quote(&dir.join(log).display().to_string())
        ));
        if let Some(p) = &a.partition {
            h.push_str(&format!("#SBATCH --partition={}\n", quote(p)));
        }
        if let Some(t) = &a.time {
            h.push_str(&format!("#SBATCH --time={}\n", quote(t)));
        }
        h
    };
    let words: Vec<String> = args.iter().map(|s| quote(s)).collect();
    let vars = format!(
        "capsim={}\ndir={}\ncd {}\n",
        quote(&capsim.display().to_string()),
        quote(&dir.display().to_string()),
        quote(&cwd.display().to_string())
    );
    let shards = format!(
        "{}\n# Shard $SLURM_ARRAY_TASK_ID of {n} of `capsim {what}` ({name}): it computes its\n\
         # share of the work (docs/scale.md) into $dir/shards/$SLURM_ARRAY_TASK_ID/.\n\
         # Written by `capsim slurm {what}`; edit the #SBATCH lines for your cluster.\n\
         set -euo pipefail\n{vars}\n\
         \"$capsim\" {} \\\n    --shard \"$SLURM_ARRAY_TASK_ID/{n}\" \\\n    \
         --out \"$dir/shards/$SLURM_ARRAY_TASK_ID\" --quiet\n",
        head(&format!("capsim-{name}"), "shard-%a.log", true),
        words.join(" ")
    );
    let merge = format!(
        "{}\n# Merges the {n} shards into the outputs one process running all the work writes.\n\
         # Submitted by submit.sh to start once every shard has succeeded.\n\
         set -euo pipefail\n{vars}\n\
         \"$capsim\" merge \"$dir\"/shards/* --out {}\n",
        head(&format!("capsim-{name}-merge"), "merge.log", false),
        quote(&out.display().to_string())
    );
    let d = quote(&dir.display().to_string());
    let submit = format!(
        "#!/bin/bash\n# Submits the {n} shards of `capsim {what}` ({name}) as one job array, then the\n\
         # merge, which Slurm starts only once every shard has succeeded (afterok).\n\
         set -euo pipefail\n\
         shards=$(sbatch --parsable {d}/shards.sbatch)\n\
         shards=${{shards%%;*}}\n\
         merge=$(sbatch --parsable --dependency=afterok:\"$shards\" {d}/merge.sbatch)\n\
         merge=${{merge%%;*}}\n\
         echo \"submitted: shards job $shards ({n} array tasks), merge job $merge\"\n"
    );
    Scripts {
        shards,
        merge,
        submit,
    }
}

/// `capsim slurm --json`.
#[derive(Serialize)]
struct SlurmDoc {
    dir: String,
    files: Vec<String>,
    shards: u64,
    submit: String,
    out: String,
    submitted: Option<String>,
}

/// The arguments of the command every shard runs, before its `--shard`: all of the job's
/// but `--out` (the merge's) and the Slurm options. A test keeps it in step with `Job`.
fn forwarded(job: &Job) -> Vec<String> {
    match job {
        Job::Run {
            scenario: sc,
            no_charts,
            reps,
            tidy,
            parquet,
            confidence,
            ..
        } => {
            let mut args = vec!["run".to_string()];
            args.extend(sc.scenario.iter().map(|p| p.display().to_string()));
            args.extend(["--reps".into(), reps.to_string()]);
            args.extend(sc.seed.map(|s| format!("--seed={s}")));
            args.extend(sc.sets.iter().map(|s| format!("--set={s}")));
            args.extend(confidence.map(|c| format!("--confidence={c}")));
            if *no_charts {
                args.push("--no-charts".into());
            }
            if *tidy {
                args.push("--tidy".into());
            }
            if *parquet {
                args.push("--parquet".into());
            }
            args
        }
        Job::Sweep {
            common,
            vary,
            metric,
            from,
            confidence,
            ..
        } => {
            let sc = &common.scenario;
            let mut args = vec!["sweep".to_string()];
            args.extend(sc.scenario.iter().map(|p| p.display().to_string()));
            args.extend(vary.iter().map(|v| format!("--vary={v}")));
            args.push(format!("--metric={metric}"));
            args.push(format!("--reps={}", common.reps));
            args.extend(common.percentile.map(|p| format!("--percentile={p}")));
            args.extend(sc.seed.map(|s| format!("--seed={s}")));
            args.extend(sc.sets.iter().map(|s| format!("--set={s}")));
            args.extend(from.as_ref().map(|d| format!("--from={d}")));
            args.extend(confidence.map(|c| format!("--confidence={c}")));
            args.push(format!("--max-runs={}", common.max_runs));
            if common.no_charts {
                args.push("--no-charts".into());
            }
            args
        }
    }
}

/// `capsim slurm run|sweep`.
pub fn run(ui: &Ui, job: Job) -> Result<(), Failure> {
    let args = forwarded(&job);
    let (what, path, args, out_default, total, slurm) = match job {
        Job::Run {
            scenario:
                ScenarioArgs {
                    scenario,
                    out,
                    sets,
                    ..
                },
            reps,
            parquet,
            slurm,
            ..
        } => {
            // Refused here, not by every shard once the job has run.
            if parquet && !crate::report::PARQUET_BUILT {
                return Err(Failure::bad_input(vec![Problem::error(
                    crate::report::PARQUET_MISSING.to_string(),
                )]));
            }
            let (loaded, _) = load(ui, scenario.as_deref(), &sets)?;
            let out = out.unwrap_or_else(|| PathBuf::from("output").join(&loaded.scenario.name));
            ("run", loaded.scenario.name.clone(), args, out, reps, slurm)
        }
        Job::Sweep {
            common,
            vary,
            confidence,
            slurm,
            ..
        } => {
            super::sweep::confidence_needs_reps(confidence.is_some(), common.reps)?;
            let sc = &common.scenario;
            let (loaded, _) = load(ui, sc.scenario.as_deref(), &sc.sets)?;
            let varies = vary
                .iter()
                .map(|v| {
                    v.parse::<crate::whatif::Vary>().map_err(|m| {
                        Failure::bad_input(vec![Problem::error(format!("--vary {v}: {m}"))])
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let points = crate::whatif::grid(&varies)
                .map_err(|m| Failure::bad_input(vec![Problem::error(m)]))?
                .len() as u64;
            let out = sc.out.clone().unwrap_or_else(|| {
                PathBuf::from("output").join(format!("sweep-{}", loaded.scenario.name))
            });
            (
                "sweep",
                loaded.scenario.name.clone(),
                args,
                out,
                points,
                slurm,
            )
        }
    };
    let unit = if what == "run" {
        "replications"
    } else {
        "points"
    };
    if slurm.shards > total {
        return Err(Failure::bad_input(vec![Problem::error(format!(
            "--shards {} is more than the {total} {unit}; use at most {total}",
            slurm.shards
        ))]));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::io(format!("cannot read the current folder: {e}")))?;
    let dir = slurm
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("slurm").join(format!("{what}-{path}")));
    let dir_abs = absolute(&dir)?;
    let capsim = match &slurm.capsim {
        Some(p) => absolute(p)?,
        None => std::env::current_exe()
            .map_err(|e| Failure::io(format!("cannot find this capsim's path: {e}")))?,
    };
    let s = scripts(
        &slurm,
        what,
        &path,
        &capsim,
        &cwd,
        &dir_abs,
        &args,
        &out_default,
    );
    let files = vec![
        ("shards.sbatch".to_string(), s.shards.into_bytes()),
        ("merge.sbatch".to_string(), s.merge.into_bytes()),
        ("submit.sh".to_string(), s.submit.into_bytes()),
    ];
    write(ui, &dir, &files)?;
    let submit = format!(
        "bash {}",
        quote(&dir_abs.join("submit.sh").display().to_string())
    );
    let mut submitted = None;
    if slurm.submit {
        let o = std::process::Command::new("bash")
            .arg(dir_abs.join("submit.sh"))
            .output()
            .map_err(|e| Failure::io(format!("cannot run bash for {submit}: {e}")))?;
        if !o.status.success() {
            return Err(Failure::io(format!(
                "{submit} failed ({}): {}; the scripts are in {}/",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim(),
                dir.display()
            )));
        }
        submitted = Some(String::from_utf8_lossy(&o.stdout).trim().to_string());
    }
    ui.doc(&SlurmDoc {
        dir: dir.display().to_string(),
        files: files.iter().map(|(n, _)| n.clone()).collect(),
        shards: slurm.shards,
        submit: submit.clone(),
        out: out_default.display().to_string(),
        submitted: submitted.clone(),
    })?;
    let mut text = format!(
        "{} shards of `capsim {what}` ({path}, {total} {unit}): scripts in {}/ (shards.sbatch, \
         merge.sbatch, submit.sh); the merge writes {}/\n",
        slurm.shards,
        dir.display(),
        out_default.display()
    );
    match submitted {
        Some(line) => text.push_str(&format!("{line}\n")),
        None => text.push_str(&format!("submit with:\n  {submit}\n")),
    }
    ui.say(&text)
}

#[cfg(test)]
mod tests {
    use super::{Job, forwarded, quote};
    use crate::cli::{Cli, Command, command};
    use clap::FromArgMatches;

    /// Every option of `capsim slurm JOB` reaches the shards' `capsim JOB`, except these.
    const NOT_FORWARDED: [&str; 10] = [
        "out",
        "shards",
        "partition",
        "time",
        "dir",
        "capsim",
        "submit",
        "quiet",
        "json",
        "help",
    ];

    /// A new flag of `run` or `sweep` that `slurm` has but does not pass on fails here.
    #[test]
    fn a_job_passes_on_every_option_of_its_command() {
        let lines: [&[&str]; 2] = [
            &[
                "run",
                "s.yaml",
                "--reps",
                "9",
                "--seed",
                "3",
                "--set",
                "end=2025-01",
                "--confidence",
                "0.9",
                "--no-charts",
                "--tidy",
                "--parquet",
            ],
            &[
                "sweep",
                "s.yaml",
                "--vary",
                "a=1,2",
                "--metric",
                "m",
                "--from",
                "2024-06",
                "--reps",
                "3",
                "--percentile",
                "50",
                "--seed",
                "3",
                "--set",
                "end=2025-01",
                "--max-runs",
                "9",
                "--confidence",
                "0.9",
                "--no-charts",
            ],
        ];
        for line in lines {
            let argv = [&["capsim", "slurm"], line, &["--shards", "2"]].concat();
            let m = command().try_get_matches_from(&argv).expect("slurm parses");
            let (_, sm) = m.subcommand().expect("slurm");
            let (name, jm) = sm.subcommand().expect("a job");
            let slurm = command();
            let job = slurm
                .find_subcommand("slurm")
                .and_then(|c| c.find_subcommand(name))
                .expect("job");
            let options: Vec<&str> = job
                .get_arguments()
                .filter(|a| !a.is_global_set())
                .map(|a| a.get_id().as_str())
                .filter(|id| !NOT_FORWARDED.contains(id))
                .collect();
            // The test line sets every option the job has, so a new one must be added here.
            for id in &options {
                assert_eq!(
                    jm.value_source(id),
                    Some(clap::parser::ValueSource::CommandLine),
                    "slurm {name}: the test does not set `{id}`"
                );
            }
            let Ok(Cli {
                command: Command::Slurm(job),
                ..
            }) = Cli::from_arg_matches(&m)
            else {
                panic!("slurm {name}");
            };
            assert!(matches!(
                (&job, name),
                (Job::Run { .. }, "run") | (Job::Sweep { .. }, "sweep")
            ));
            let shard_argv = [&["capsim".to_string()], forwarded(&job).as_slice()].concat();
            let fm = command()
                .try_get_matches_from(&shard_argv)
                .expect("the shards' command parses");
            let (fname, fm) = fm.subcommand().expect("a command");
            assert_eq!(fname, name);
            for id in &options {
                assert_eq!(
                    fm.value_source(id),
                    jm.value_source(id),
                    "slurm {name}: `{id}` is not passed on to the shards"
                );
                let raw = |m: &clap::ArgMatches| {
                    m.get_raw(id)
                        .map(|v| v.map(|s| s.to_os_string()).collect::<Vec<_>>())
                };
                assert_eq!(raw(fm), raw(jm), "slurm {name}: `{id}`");
            }
        }
    }

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(quote("--set=end=2024-12"), "--set=end=2024-12");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote(""), "''");
    }
}
