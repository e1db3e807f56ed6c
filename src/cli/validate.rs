//! `capsim validate`: every problem of scenario files, without running them.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::ui::{self, Failure, Problem, Ui};
use super::{OutputArgs, exit};
use crate::scenario::{self, Source};

pub const AFTER_HELP: &str = "Examples:
  capsim validate scenarios/*.yaml
  capsim validate my.yaml --set end=2027-12
  capsim validate my.yaml --json      # {files: [{file, ok, scenario, errors, warnings}]}

Exits with 2 if any file is invalid (after checking them all), with --json too.";

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Overrides applied before checking, as for `run`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
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

pub fn run(ui: &Ui, a: ValidateArgs) -> Result<(), Failure> {
    let (files, sets) = (&a.files, &a.sets);
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
