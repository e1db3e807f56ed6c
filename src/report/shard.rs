//! Shard folders: a shard of `run --reps`, `sweep` or `sensitivity` writes a partial-results
//! folder; [`read_parts`] checks that a set of them is whole and consistent before `capsim
//! merge` writes the files one process running all the work writes, byte for byte.
//!
//! A shard folder is an output folder like any other (written by `report::write_outputs`,
//! with its `.capsim-output` marker) holding `shard.json` (what was run: the command, its
//! arguments, the scenario's hash, the seed, the capsim version and the shard's range) and
//! the partial results:
//!
//! | command | files |
//! |---|---|
//! | `run --reps` | `replications.state` (every replication's metrics, exact), `bands.state` (the bands' mergeable state), `replications.csv` (the same metrics, to read) |
//! | `sweep` | `sweep.csv` (the shard's points, as the whole sweep writes them) |
//! | `sensitivity` | `runs.csv` (the metric of each of the shard's runs, exact, or why it did not load) |

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::montecarlo::{self, Layout, Outcome};
use crate::shard::{self, Shard};

/// Why shard folders cannot be merged, or `shard.json` written.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// Not a whole, consistent set of shards of one command (bad input), with the shard named.
    #[error("{0}")]
    Bad(String),
    /// `shard.json` could not be serialised (a bug, not bad input).
    #[error("cannot serialise shard.json: {0}")]
    Serialise(String),
}

/// The format named in `shard.json`.
pub const FORMAT: &str = "capsim shard 1";

/// `shard.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardDoc {
    /// [`FORMAT`].
    pub format: String,
    /// The capsim that wrote it.
    pub capsim_version: String,
    /// `run`, `sweep` or `sensitivity`.
    pub command: String,
    /// The scenario's name.
    pub scenario: String,
    /// The hash of the scenario's files and overrides, as in `manifest.json`.
    pub scenario_sha256: String,
    /// The seed.
    pub seed: u64,
    /// What this shard computed: its range of the replications or points.
    pub shard: Shard,
    /// What `merge` needs to redo the command's outputs: the scenario file as given, the
    /// overrides, and the command's arguments.
    pub invocation: Value,
    /// The folder the shard ran in (a relative scenario path is relative to it).
    pub cwd: String,
    /// `run --reps`: what each replication measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<Layout>,
}

impl ShardDoc {
    /// A shard's document for the command as run now.
    pub fn new(
        command: &str,
        scenario: &str,
        hash: &str,
        seed: u64,
        shard: Shard,
        invocation: Value,
    ) -> ShardDoc {
        ShardDoc {
            format: FORMAT.into(),
            capsim_version: env!("CARGO_PKG_VERSION").into(),
            command: command.into(),
            scenario: scenario.into(),
            scenario_sha256: hash.into(),
            seed,
            shard,
            invocation,
            cwd: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            layout: None,
        }
    }

    /// `shard.json`'s bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ShardError> {
        let mut out =
            serde_json::to_vec_pretty(self).map_err(|e| ShardError::Serialise(e.to_string()))?;
        out.push(b'\n');
        Ok(out)
    }

    /// What the shard covers, in words: `replications 57..85 (shard 2 of 7)`.
    pub fn covers(&self, what: &str) -> String {
        let s = &self.shard;
        match (s.index, s.count) {
            (Some(k), Some(n)) => format!("{what} {}..{} (shard {k} of {n})", s.first, s.end),
            _ => format!("{what} {}..{}", s.first, s.end),
        }
    }
}

/// The noun of a command's units.
pub fn unit(command: &str) -> &'static str {
    match command {
        "run" => "replications",
        "sensitivity" => "runs",
        _ => "points",
    }
}

/// One shard folder: its `shard.json` read; its other files are read when asked for, so a
/// merge holds one shard's partial results at a time.
pub struct Part {
    /// The folder.
    pub dir: PathBuf,
    /// Its `shard.json`.
    pub doc: ShardDoc,
    /// The files its marker lists.
    listed: Vec<String>,
}

impl Part {
    /// A file of the shard (one its marker lists), or an error naming the shard.
    pub fn file(&self, name: &str) -> Result<Vec<u8>, ShardError> {
        if !self.listed.iter().any(|n| n == name) {
            return Err(self.error(format!(
                "{name} is missing; the folder is not a whole {} shard",
                self.doc.command
            )));
        }
        super::read_data_file(&self.dir, name).map_err(|e| self.error(e))
    }

    /// An error about this shard.
    pub fn error(&self, message: impl std::fmt::Display) -> ShardError {
        bad(format!("shard {}: {message}", self.dir.display()))
    }
}

fn bad(m: impl Into<String>) -> ShardError {
    ShardError::Bad(m.into())
}

/// Reads a shard folder's `shard.json`: the folder's marker must list it.
fn read_part(dir: &Path) -> Result<Part, ShardError> {
    let listed = super::outdir::read_marker(dir).ok_or_else(|| {
        bad(format!(
            "shard {}: not an output folder of capsim (no valid .capsim-output marker); \
             give the folders written by --shard",
            dir.display()
        ))
    })?;
    if !listed.iter().any(|n| n == "shard.json") {
        return Err(bad(format!(
            "{} is not a shard folder: it has no shard.json (it was not written with --shard)",
            dir.display()
        )));
    }
    let mut part = Part {
        dir: dir.to_path_buf(),
        doc: ShardDoc::new("", "", "", 0, Shard::default(), Value::Null),
        listed,
    };
    let bytes = part.file("shard.json")?;
    part.doc = serde_json::from_slice(&bytes)
        .map_err(|e| bad(format!("shard {}: shard.json: {e}", dir.display())))?;
    if part.doc.format != FORMAT {
        return Err(bad(format!(
            "shard {}: shard.json is of format `{}`, not `{FORMAT}`",
            dir.display(),
            part.doc.format
        )));
    }
    Ok(part)
}

/// Reads the shard folders and checks that they are shards of one command (same capsim,
/// scenario, seed and arguments) that cover its work exactly once; returned in order.
pub fn read_parts(dirs: &[PathBuf]) -> Result<Vec<Part>, ShardError> {
    if dirs.is_empty() {
        return Err(bad("give the shard folders to merge"));
    }
    let mut parts = dirs
        .iter()
        .map(|d| read_part(d))
        .collect::<Result<Vec<_>, _>>()?;
    let here = env!("CARGO_PKG_VERSION");
    for p in &parts {
        if p.doc.capsim_version != here {
            return Err(p.error(format!(
                "written by capsim {}, and this is capsim {here}; merge with the capsim that \
                 wrote the shards (outputs may differ between versions)",
                p.doc.capsim_version
            )));
        }
    }
    let first = &parts[0];
    for p in &parts[1..] {
        let (a, b) = (&first.doc, &p.doc);
        let differs = if a.command != b.command {
            Some(format!(
                "is a shard of `{}`, not `{}`",
                b.command, a.command
            ))
        } else if a.scenario_sha256 != b.scenario_sha256 {
            Some(format!(
                "is of scenario {} (sha256 {}), not {} (sha256 {}): another scenario, or the \
                 same one changed or with other --set overrides",
                b.scenario,
                short(&b.scenario_sha256),
                a.scenario,
                short(&a.scenario_sha256)
            ))
        } else if a.seed != b.seed {
            Some(format!("has seed {}, not {}", b.seed, a.seed))
        } else if a.shard.total != b.shard.total || a.invocation != b.invocation {
            Some(format!(
                "was run with other arguments ({}), not ({})",
                b.invocation, a.invocation
            ))
        } else if a.layout != b.layout {
            Some("measures other metrics or days".into())
        } else {
            None
        };
        if let Some(why) = differs {
            return Err(p.error(format!(
                "{why}, unlike shard {}; all shards must come from one command",
                first.dir.display()
            )));
        }
    }
    parts.sort_by_key(|p| (p.doc.shard.first, p.doc.shard.end));
    let what = unit(&parts[0].doc.command);
    let total = parts[0].doc.shard.total;
    let mut next = 0u64;
    for (i, p) in parts.iter().enumerate() {
        let s = p.doc.shard;
        if s.first < next {
            let prev = &parts[i - 1];
            return Err(p.error(format!(
                "covers {}, which shard {} ({}) covers too: a shard is given twice, or the \
                 shards overlap",
                p.doc.covers(what),
                prev.dir.display(),
                prev.doc.covers(what)
            )));
        }
        if s.first > next {
            return Err(missing(next, s.first, total, &p.doc, what));
        }
        next = s.end;
    }
    if next < total {
        let last = &parts[parts.len() - 1].doc;
        return Err(missing(next, total, total, last, what));
    }
    Ok(parts)
}

/// The error for a gap `from..to`, naming the missing shard when the shards are K/N.
fn missing(from: u64, to: u64, total: u64, near: &ShardDoc, what: &str) -> ShardError {
    let which = match near.shard.count {
        Some(n) => {
            let ks: Vec<String> = (0..n)
                .filter(|k| {
                    let (a, b) = shard::bounds(*k, n, total);
                    a < to && b > from
                })
                .map(|k| format!("{k}/{n}"))
                .collect();
            format!(" (shard {} is missing)", ks.join(", "))
        }
        None => String::new(),
    };
    bad(format!(
        "{what} {from}..{to} of {total} are not in any shard given{which}; merge needs every \
         shard"
    ))
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Refuses to merge when the scenario, loaded again here as the shards recorded it, is not
/// what they ran (its sha256 differs).
pub fn check_scenario(parts: &[Part], loaded: &crate::scenario::Loaded) -> Result<(), ShardError> {
    let first = &parts[0];
    if loaded.hash == first.doc.scenario_sha256 {
        return Ok(());
    }
    let scenario = first
        .doc
        .invocation
        .get("scenario")
        .and_then(Value::as_str)
        .unwrap_or("the built-in default");
    Err(first.error(format!(
        "its scenario ({scenario}) reads differently here (sha256 {} now, {} when the shard \
         ran in {}): the file changed, or merge runs in another folder than the shards did",
        short(&loaded.hash),
        short(&first.doc.scenario_sha256),
        first.doc.cwd
    )))
}

/// `run --reps`'s shards merged into one outcome, one shard read at a time.
pub fn merge_run(parts: &[Part]) -> Result<Outcome, ShardError> {
    let mut all: Option<Outcome> = None;
    for p in parts {
        let o = run_outcome(p)?;
        all = Some(match all {
            None => o,
            Some(a) => montecarlo::merge(vec![a, o]).map_err(|e| {
                p.error(format!(
                    "cannot be merged with the shards before it: {}",
                    e.0
                ))
            })?,
        });
    }
    all.ok_or_else(|| bad("give the shard folders to merge"))
}

/// A `run --reps` shard as the outcome of its range.
fn run_outcome(p: &Part) -> Result<Outcome, ShardError> {
    let layout = p
        .doc
        .layout
        .clone()
        .ok_or_else(|| p.error("shard.json has no `layout` (not a shard of `run --reps`)"))?;
    let (first, metrics, dates) = Outcome::read_metrics_state(&p.file("replications.state")?)
        .map_err(|m| p.error(format!("replications.state: {m}")))?;
    let reps = metrics.first().map_or(0, Vec::len) as u64;
    if first != p.doc.shard.first || first + reps != p.doc.shard.end {
        return Err(p.error(format!(
            "replications.state holds replications {first}..{}, but shard.json says {}",
            first + reps,
            p.doc.covers("replications")
        )));
    }
    Outcome::from_parts(
        p.doc.seed,
        first,
        layout,
        metrics,
        dates,
        &p.file("bands.state")?,
    )
    .map_err(|m| p.error(format!("bands.state: {m}")))
}
