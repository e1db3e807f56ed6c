//! `capsim init`: a scenario file to start from, with a schema modeline for editors.
//!
//! From a built-in scenario (`default`, `baseline`) it writes a full copy to edit; from a
//! scenario file it writes a what-if that `extends:` it. Beside the scenario it writes
//! `capsim.schema.json`, which the modeline names, and for the baseline the observations
//! file it names. It never replaces a file: each file is written to a temporary sibling and
//! hard-linked into place, which fails if the name is taken, so a file is there whole or not
//! at all, and nothing that was there is touched.

use std::path::{Component, Path, PathBuf};

use clap::Args;

use super::OutputArgs;
use super::ui::{Failure, Problem, Ui};
use crate::scenario::{self, BUILTIN_SCENARIOS, builtin_file};

/// The modeline that points the YAML language server at the schema written beside the file.
const MODELINE: &str = "# yaml-language-server: $schema=./capsim.schema.json";

/// Name of the schema file written beside the scenario.
const SCHEMA_FILE: &str = "capsim.schema.json";

pub const AFTER_HELP: &str = "Examples:
  capsim init                          # my-scenario.yaml, a copy of the built-in default
  capsim init chips --from baseline    # chips.yaml, a copy of the 2023-2026 baseline
  capsim init faster --from scenarios/baseline.yaml --dir what-ifs

From a built-in scenario (default, baseline) it writes a full copy, every field there to
change; from a scenario FILE it writes a what-if that extends it. Beside it: capsim.schema.json
(which the modeline names; kept if there is one) and, for the baseline, observed/2023.csv.
Never replaces a file: a NAME that is taken is refused.";

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Scenario name, and the file's name without .yaml
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// What to start from: `default`, `baseline` (built in) or a scenario file
    #[arg(long, value_name = "default|baseline|FILE", default_value = "default")]
    pub from: String,
    /// Folder to write into, made if it is not there [default: the current folder]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `capsim init [NAME] [--from default|baseline|FILE] [--dir DIR]`.
pub fn run(ui: &Ui, a: InitArgs) -> Result<(), Failure> {
    let (name, from, dir) = (a.name.as_deref(), a.from.as_str(), a.dir.as_deref());
    let schema = &crate::schema::scenario_schema();
    let name = name.unwrap_or("my-scenario");
    check_name(name)?;
    let dir = dir.unwrap_or(Path::new("."));
    // A folder that is not there yet is made (after the base has loaded); a file is refused.
    if std::fs::symlink_metadata(dir).is_ok() && !dir.is_dir() {
        return Err(bad(format!(
            "--dir {}: not a folder (a file of that name is there)",
            dir.display()
        )));
    }
    let target = dir.join(format!("{name}.yaml"));
    if std::fs::symlink_metadata(&target).is_ok() {
        return Err(bad(format!(
            "{} exists; capsim never replaces a file it did not write: choose another NAME, or \
             --dir",
            target.display()
        )));
    }
    let (text, what, extra) = if BUILTIN_SCENARIOS.contains(&from) {
        let base = builtin_file(from).unwrap_or_default();
        let extra: Vec<(PathBuf, &str)> = if from == "baseline" {
            // The baseline names its observations relative to itself.
            let csv = builtin_file("observed/2023.csv").unwrap_or_default();
            vec![(PathBuf::from("observed").join("2023.csv"), csv)]
        } else {
            Vec::new()
        };
        (
            copy_of(base, name, from),
            format!("a copy of the built-in {from} scenario"),
            extra,
        )
    } else {
        let base = Path::new(from);
        // The file must load: a what-if on a broken base would fail at its first run.
        scenario::load(scenario::Source::File(base), &[])
            .map_err(|e| Failure::bad_input(super::ui::load_problems(&e)))?;
        let rel = relative(dir, base).ok_or_else(|| {
            bad(format!(
                "--from {from}: cannot name it relative to {}; give --dir a folder on the same \
                 path, or an absolute --from",
                dir.display()
            ))
        })?;
        (
            what_if(name, &rel),
            format!("a what-if that extends {from}"),
            Vec::new(),
        )
    };
    let mut wrote = vec![target.display().to_string()];
    let mut kept = Vec::new();
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::io(format!("cannot create --dir {}: {e}", dir.display())))?;
    write_new(&target, text.as_bytes())?;
    let mut schema_bytes = serde_json::to_vec_pretty(schema)
        .map_err(|e| Failure::io(format!("cannot serialise the schema: {e}")))?;
    schema_bytes.push(b'\n');
    let mut others: Vec<(PathBuf, Vec<u8>)> = vec![(dir.join(SCHEMA_FILE), schema_bytes)];
    for (rel, body) in extra {
        others.push((dir.join(rel), body.as_bytes().to_vec()));
    }
    for (path, body) in others {
        if std::fs::symlink_metadata(&path).is_ok() {
            kept.push(path.display().to_string());
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::io(format!("cannot create {}: {e}", parent.display())))?;
        }
        write_new(&path, &body)?;
        wrote.push(path.display().to_string());
    }
    let mut msg = format!("wrote {} ({what})", wrote.join(", "));
    if !kept.is_empty() {
        msg.push_str(&format!(
            "; kept {} as it was (refresh a schema with `capsim schema > {SCHEMA_FILE}`)",
            kept.join(", ")
        ));
    }
    msg.push_str(&format!(
        "\nnext: edit it (docs/scenario-reference.md), then `capsim validate {t}` and `capsim \
         run {t}`\n",
        t = target.display()
    ));
    ui.say(&msg)
}

fn bad(message: String) -> Failure {
    Failure::bad_input(vec![Problem::error(message)])
}

/// A NAME is a file name without its `.yaml`: no folders, no leading dot, no control
/// characters.
fn check_name(name: &str) -> Result<(), Failure> {
    let bad_char = name
        .chars()
        .find(|c| c.is_control() || matches!(c, '/' | '\\' | ':'));
    if name.is_empty() || name.starts_with('.') || name.starts_with('-') || bad_char.is_some() {
        return Err(bad(format!(
            "`{}` is not a scenario name capsim init can use: give a plain file name without \
             `.yaml` (letters, digits, `-`, `_`), such as `my-what-if`",
            name.escape_debug()
        )));
    }
    Ok(())
}

/// The built-in scenario `from` with the modeline first and its `name:` replaced.
fn copy_of(base: &str, name: &str, from: &str) -> String {
    let mut out = format!(
        "{MODELINE}\n# Started from capsim's built-in `{from}` scenario by `capsim init`: every field \
         is here to change\n# (docs/scenario-reference.md). Keep `name:` unique: outputs go to \
         output/<name>/.\n# The comments below are the built-in scenario's own, written for \
         capsim's scenario library\n# (what they say of \"this folder\" is of that library): \
         keep its sources beside the figures you keep.\n"
    );
    let mut named = false;
    for line in base.lines() {
        if !named && line.starts_with("name:") {
            out.push_str(&format!("name: {name}\n"));
            named = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A what-if on `rel` (a path relative to the new file).
fn what_if(name: &str, rel: &Path) -> String {
    let rel = rel.to_string_lossy().replace('\\', "/");
    format!(
        "{MODELINE}\n# A what-if written by `capsim init`: it takes everything from the file it \
         extends and changes\n# only what is written here (docs/scenario-reference.md, \
         \"extends\").\nname: {name}\nextends: {rel}\n\n# For example:\n# supply:\n#   \
         packaging_lines:\n#     - name: CoWoS-S\n#       capacity_wafers_per_month: \
         {{2023-01: 10000, 2024-01: 30000}}\n"
    )
}

/// `to` relative to the folder `from`, both as given (no symlinks resolved): `../x.yaml`.
fn relative(from: &Path, to: &Path) -> Option<PathBuf> {
    let abs = |p: &Path| -> Option<PathBuf> {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().ok()?.join(p)
        };
        // Lexically normalised: `.` dropped, `..` taken back.
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                Component::CurDir => {}
                Component::ParentDir => {
                    out.pop();
                }
                c => out.push(c),
            }
        }
        Some(out)
    };
    let (from, to) = (abs(from)?, abs(to)?);
    let (f, t): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    Some(out)
}

/// Writes `bytes` to `path`, which must not exist: into a temporary sibling first, then
/// hard-linked to `path` (which fails if the name was taken meanwhile), then the temporary
/// name removed.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file}.capsim-tmp-{}", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    result.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            bad(format!(
                "{} appeared while capsim was writing it; it was left as it is",
                path.display()
            ))
        } else {
            Failure::io(format!("cannot write {}: {e}", path.display()))
        }
    })
}
