//! Scenarios: YAML text → merged tree → raw types → resolved [`Scenario`].
//!
//! ```text
//! file.yaml ──parse──▶ Node tree (with file, line, column)
//!     extends: base.yaml ──▶ base tree, deep-merged under this one
//!     --set path=value   ──▶ applied to the merged tree
//!                        ──uncertain──▶ distributions checked, replaced by central values
//!                                       (a refused one by a stand-in: the rest is checked too)
//!                        ──from_node──▶ RawScenario (unknown keys refused, defaults filled)
//!                        ──resolve────▶ Scenario (names → indices, dates → ticks, checks)
//! ```
//!
//! A scenario with distributions keeps its central tree: [`Loaded::replication`] draws them
//! for one replication and runs `from_node` and `resolve` again (see [`uncertain`]).
//!
//! Every stage reports problems as [`Diagnostic`]s located in the file that wrote the value,
//! and each stage collects all it can find rather than stopping at the first.

pub mod csvdata;
pub mod dist;
pub mod raw;
pub mod resolve;
pub mod timeline;
pub mod types;
pub mod uncertain;
pub mod yaml;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use raw::RawScenario;
pub use types::Scenario;
use yaml::{Diagnostic, Loc, Node, Severity, Sources, Value};

/// The scenario `capsim run` uses when given none: `scenarios/default.yaml`, built in.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.yaml");
/// Display name of the built-in scenario in messages.
pub const DEFAULT_NAME: &str = "scenarios/default.yaml (built in)";

/// The files built into capsim, by the name `builtin:NAME` gives them: the two scenarios a
/// user may extend or start from (`extends: builtin:default`, `capsim init --from baseline`)
/// and the observations the baseline names (`observed: observed/2023.csv`, resolved among
/// these files when the baseline is the built-in one).
pub const BUILTIN_FILES: [(&str, &str); 3] = [
    ("default", DEFAULT_SCENARIO),
    ("baseline", include_str!("../scenarios/baseline.yaml")),
    (
        "observed/2023.csv",
        include_str!("../scenarios/observed/2023.csv"),
    ),
];

/// The built-in scenarios, by name (`default`, `baseline`).
pub const BUILTIN_SCENARIOS: [&str; 2] = ["default", "baseline"];

/// The text of the built-in file `name`, if there is one.
pub fn builtin_file(name: &str) -> Option<&'static str> {
    BUILTIN_FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Prefix of a built-in file's name in `extends:` and in messages.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// Deepest `extends:` chain accepted.
const MAX_EXTENDS_DEPTH: usize = 16;

/// A loaded scenario and what it was made from.
#[derive(Debug)]
pub struct Loaded {
    /// The resolved scenario.
    pub scenario: Scenario,
    /// The merged raw scenario with defaults filled (for the manifest).
    pub raw: RawScenario,
    /// Warnings worth showing.
    pub warnings: Vec<Diagnostic>,
    /// Texts of the files read, for rendering diagnostics.
    pub sources: Sources,
    /// SHA-256 over the texts of every file read, in order, and the `--set` overrides (hex).
    pub hash: String,
    /// Files read, the scenario first then what it extends.
    pub files: Vec<String>,
    /// Every file read, with its SHA-256, role and recorded source.
    pub inputs: Vec<InputFile>,
    /// The distributions drawn once per replication, if the scenario has any.
    pub uncertainty: Option<uncertain::Uncertainty>,
    /// The observations named by `observed:`, parsed (empty without it).
    pub observed: Vec<crate::backtest::ObservedFile>,
}

impl Loaded {
    /// True if replications differ from each other: the scenario has a distribution drawn
    /// per replication, or its model draws random numbers (failures, demand or yield noise,
    /// outages, a random expansion slip): see [`Scenario::draws_random_numbers`].
    pub fn is_uncertain(&self) -> bool {
        self.uncertainty.is_some() || self.scenario.draws_random_numbers()
    }

    /// The scenario of replication `rep` with seed `seed`: every distribution drawn from its
    /// stream `(seed, rep, "param/<path>")`, then checked and resolved as at load. Without
    /// distributions this is the loaded scenario itself, borrowed.
    ///
    /// # Errors
    ///
    /// A draw that a check refuses (a yield above 1, a negative capacity): the diagnostics
    /// name the replication, the value drawn and the distribution's place in the file.
    pub fn replication(&self, seed: u64, rep: u64) -> Result<Cow<'_, Scenario>, LoadError> {
        let Some(u) = &self.uncertainty else {
            return Ok(Cow::Borrowed(&self.scenario));
        };
        let (tree, draws) = u.sample(seed, rep);
        let fail = |diagnostics: Vec<Diagnostic>| LoadError {
            diagnostics: uncertain::explain_replication(diagnostics, &u.params, &draws, seed, rep),
            sources: self.sources.clone(),
        };
        let raw: RawScenario = yaml::from_node(&tree).map_err(|d| fail(vec![d]))?;
        match resolve::resolve(&raw, &tree) {
            Ok((scenario, _)) => Ok(Cow::Owned(scenario)),
            Err(diagnostics) => Err(fail(diagnostics)),
        }
    }
}

/// Loading failed: every problem found, and the texts to show them against.
#[derive(Debug)]
pub struct LoadError {
    /// Errors first, then warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// Texts of the files read.
    pub sources: Sources,
}

impl LoadError {
    /// Renders every diagnostic with its source line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            out.push_str(&d.render(&self.sources));
            out.push('\n');
        }
        let errors = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        out.push_str(&format!(
            "{} error{} found",
            errors,
            if errors == 1 { "" } else { "s" }
        ));
        out
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for LoadError {}

/// Where a scenario comes from.
#[derive(Debug, Clone)]
pub enum Source<'a> {
    /// A file on disk.
    File(&'a Path),
    /// The built-in default scenario.
    BuiltIn,
    /// Text held in memory, with a display name (tests, tools).
    Text {
        /// Name shown in messages.
        name: &'a str,
        /// YAML text.
        text: &'a str,
    },
}

struct Loader {
    sources: Sources,
    hasher: Sha256,
    files: Vec<String>,
    /// Every file read, with its SHA-256 and recorded source (for the manifest).
    inputs: Vec<InputFile>,
    problems: Vec<Diagnostic>,
}

/// A file a scenario was made from, as `manifest.json` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InputFile {
    /// The path as read: `builtin:NAME` for a built-in file named by `extends:`, and
    /// [`DEFAULT_NAME`] for the built-in scenario a run without a file reads.
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// What it is: `scenario`, `observations` or `timeline`.
    pub role: &'static str,
    /// The data's source as the scenario records it (`source:` of a CSV timeline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Loader {
    /// Counts a file's text into the scenario's hash and the list of files read.
    fn add_input(&mut self, path: &str, text: &str, role: &'static str, source: Option<String>) {
        self.hasher.update(text.as_bytes());
        self.hasher.update([0u8]);
        self.files.push(path.to_string());
        self.inputs.push(InputFile {
            path: path.to_string(),
            sha256: hex(&Sha256::digest(text.as_bytes())),
            role,
            source,
        });
    }

    /// Replaces every CSV timeline (`{csv: FILE, date: COLUMN, value: COLUMN}`) under `node`
    /// by the timeline its file gives (see [`csvdata`]).
    fn expand_csv(&mut self, node: &mut Node) {
        let is_csv = node
            .as_map()
            .is_some_and(|m| m.iter().any(|(k, _)| k.name == "csv"));
        if !is_csv {
            match &mut node.value {
                Value::Map(entries) => {
                    for (_, v) in entries {
                        self.expand_csv(v);
                    }
                }
                Value::Seq(items) => {
                    for v in items {
                        self.expand_csv(v);
                    }
                }
                _ => {}
            }
            return;
        }
        let req = match csvdata::request(node) {
            Ok(r) => r,
            Err(problems) => {
                self.problems.extend(problems);
                return;
            }
        };
        // Relative to the folder of the file that names it.
        let dir = req
            .file_loc
            .is_in_file()
            .then(|| self.sources.name(req.file_loc.source))
            .flatten()
            .filter(|n| !n.starts_with(BUILTIN_PREFIX))
            .and_then(|n| Path::new(n).parent().map(Path::to_path_buf));
        let full = match dir {
            Some(d) => d.join(&req.file),
            None => PathBuf::from(&req.file),
        };
        let shown = full.display().to_string();
        let text = match read_bounded(&full, csvdata::MAX_CSV_BYTES) {
            Ok(t) => t,
            Err(why) => {
                self.problems.push(
                    Diagnostic::error(format!(
                        "cannot read `{}` named by `csv:` (looked for {shown}): {why}; the path \
                         is relative to the folder of the file that says `csv:`",
                        req.file
                    ))
                    .at(req.file_loc),
                );
                return;
            }
        };
        self.add_input(&shown, &text, "timeline", req.source.clone());
        let id = self.sources.add(shown, text);
        let text = self.sources.text(id).to_string();
        let points = match csvdata::points(&req, &text, id) {
            Ok(p) => p,
            Err(problems) => {
                self.problems.extend(problems);
                return;
            }
        };
        let loc = node.loc;
        *node = match node.remove("interpolation") {
            Some(interp) => {
                let key = |name: &str, loc| yaml::Key {
                    name: name.to_string(),
                    loc,
                };
                Node::new(
                    Value::Map(vec![
                        (key("interpolation", interp.loc), interp),
                        (key("points", loc), points),
                    ]),
                    loc,
                )
            }
            None => points,
        };
    }

    fn fail(&mut self, path: &str, message: String) {
        self.problems.push(Diagnostic {
            severity: Severity::Error,
            loc: None,
            path: path.to_string(),
            message,
        });
    }

    /// Reads, parses and merges a file with everything it extends.
    fn tree(
        &mut self,
        name: String,
        text: String,
        dir: Option<PathBuf>,
        chain: &mut Vec<(PathBuf, String)>,
        extended_at: Option<Loc>,
    ) -> Option<Node> {
        // A file named by `extends:` that does not look like a scenario (`/etc/passwd`, a
        // CSV, ...) is refused without parsing it or keeping its text, so no message can
        // show a line of it.
        if let Some(at) = extended_at
            && !looks_like_scenario(&text)
        {
            self.problems.push(
                Diagnostic::error(format!(
                    "`{name}` named by `extends:` is not a capsim scenario: it has no \
                     top-level key of one (`name:`, `supply:`, `products:`, ...); its content \
                     is not shown"
                ))
                .at(at)
                .with_path("extends"),
            );
            return None;
        }
        self.add_input(&name, &text, "scenario", None);
        let id = self.sources.add(name, text);
        let text = self.sources.text(id).to_string();
        let mut node = match yaml::parse(&text, id) {
            Ok(n) => n,
            Err(d) => {
                self.problems.push(d);
                return None;
            }
        };
        if matches!(node.value, Value::Null) {
            self.problems.push(Diagnostic {
                severity: Severity::Error,
                // The start of the file, whatever the parser says about an empty document.
                loc: Some(Loc::new(id, 1, 1)),
                path: String::new(),
                message: "the scenario file is empty; a scenario needs at least `name`, \
                          `start`, `end`, `supply`, `products`, `vendors` and `buyers` (see \
                          \"A minimal scenario\" in docs/scenario-reference.md)"
                    .into(),
            });
            return None;
        }
        if !matches!(node.value, Value::Map(_)) {
            let found = match &node.value {
                Value::Seq(_) => {
                    "this file is a list; remove the `- ` in front of the top-level keys"
                }
                _ => "this file holds a single value; write `key: value` lines",
            };
            self.problems.push(Diagnostic {
                severity: Severity::Error,
                loc: Some(node.loc),
                path: String::new(),
                message: format!(
                    "a scenario is a YAML mapping of keys (name:, start:, ...) at the top \
                     level, but {found}"
                ),
            });
            return None;
        }
        let Some(ext) = node.remove("extends") else {
            return Some(node);
        };
        let Some(rel) = ext.as_str().map(str::to_string) else {
            self.problems.push(Diagnostic {
                severity: Severity::Error,
                loc: Some(ext.loc),
                path: "extends".into(),
                message: "`extends` takes the path of another scenario file, relative to this one"
                    .into(),
            });
            return None;
        };
        if let Some(which) = rel.strip_prefix(BUILTIN_PREFIX) {
            let shown = format!("{BUILTIN_PREFIX}{which}");
            let Some(text) = BUILTIN_SCENARIOS
                .contains(&which)
                .then(|| builtin_file(which))
                .flatten()
            else {
                self.problems.push(
                    Diagnostic::error(format!(
                        "`extends` names `{rel}`, which is not a built-in scenario: the built-in \
                         ones are {}",
                        BUILTIN_SCENARIOS
                            .iter()
                            .map(|n| format!("`{BUILTIN_PREFIX}{n}`"))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ))
                    .at(ext.loc)
                    .with_path("extends"),
                );
                return None;
            };
            let key = PathBuf::from(&shown);
            if chain.iter().any(|(p, _)| *p == key) {
                self.fail(
                    "extends",
                    format!("`extends` makes a cycle through `{shown}`"),
                );
                return None;
            }
            chain.push((key, shown.clone()));
            let base = self.tree(shown, text.to_string(), None, chain, Some(ext.loc))?;
            chain.pop();
            return Some(yaml::merge(base, node));
        }
        let base_path = match &dir {
            Some(d) => d.join(&rel),
            None => PathBuf::from(&rel),
        };
        let canon = std::fs::canonicalize(&base_path).unwrap_or(base_path.clone());
        let shown = base_path.display().to_string();
        if chain.iter().any(|(p, _)| *p == canon) {
            let mut cycle: Vec<String> = chain.iter().map(|(_, name)| name.clone()).collect();
            cycle.push(shown);
            self.problems.push(Diagnostic {
                severity: Severity::Error,
                loc: Some(ext.loc),
                path: "extends".into(),
                message: format!(
                    "`extends` makes a cycle: {}; a file cannot build on itself, so remove one \
                     of these `extends:`",
                    cycle.join(" -> ")
                ),
            });
            return None;
        }
        if chain.len() >= MAX_EXTENDS_DEPTH {
            self.problems.push(Diagnostic {
                severity: Severity::Error,
                loc: Some(ext.loc),
                path: "extends".into(),
                message: format!("`extends` chain deeper than {MAX_EXTENDS_DEPTH} files"),
            });
            return None;
        }
        let is_yaml = base_path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if !is_yaml {
            self.problems.push(Diagnostic {
                severity: Severity::Error,
                loc: Some(ext.loc),
                path: "extends".into(),
                message: format!(
                    "`extends` names `{rel}`, which is not a scenario file: it must name a \
                     `.yaml` or `.yml` file"
                ),
            });
            return None;
        }
        let base_text = match read_bounded(&base_path, MAX_SCENARIO_BYTES) {
            Ok(t) => t,
            Err(why) => {
                self.problems.push(Diagnostic {
                    severity: Severity::Error,
                    loc: Some(ext.loc),
                    path: "extends".into(),
                    message: unreadable_base(&rel, &base_path, &why),
                });
                return None;
            }
        };
        chain.push((canon, shown.clone()));
        let base_dir = base_path.parent().map(Path::to_path_buf);
        let base = self.tree(shown, base_text, base_dir, chain, Some(ext.loc))?;
        chain.pop();
        Some(yaml::merge(base, node))
    }
}

impl Loader {
    /// Reads and parses the observations files named by an `observed:` node (a path or a
    /// list of paths, each relative to the file that wrote it); returns them and the paths as
    /// written. Problems are located at the path in the scenario, or in the CSV file.
    fn observed(
        &mut self,
        node: &Node,
    ) -> (Vec<crate::backtest::ObservedFile>, Option<raw::RawObserved>) {
        let items: Vec<&Node> = match (&node.value, node.as_seq()) {
            (Value::Seq(_), Some(seq)) => seq.iter().collect(),
            _ => vec![node],
        };
        let mut files = Vec::new();
        let mut written = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = if node.as_seq().is_some() {
                format!("observed[{i}]")
            } else {
                "observed".to_string()
            };
            let Some(rel) = item.as_str() else {
                self.problems.push(
                    Diagnostic::error(
                        "`observed` takes the path of a CSV file of observations, relative to \
                         this scenario file, or a list of such paths",
                    )
                    .at(item.loc)
                    .with_path(path),
                );
                continue;
            };
            written.push(rel.to_string());
            // Relative to the folder of the file that wrote the path (a `--set` value: to
            // the working folder).
            let writer = item
                .loc
                .is_in_file()
                .then(|| self.sources.name(item.loc.source))
                .flatten();
            // A built-in scenario's observations are built in too.
            if writer.is_some_and(|n| n.starts_with(BUILTIN_PREFIX)) {
                let shown = format!("{BUILTIN_PREFIX}{rel}");
                let Some(text) = builtin_file(rel).filter(|_| rel.ends_with(".csv")) else {
                    self.problems.push(
                        Diagnostic::error(format!("`{rel}` is not a built-in observations file"))
                            .at(item.loc)
                            .with_path(path),
                    );
                    continue;
                };
                self.add_input(&shown, text, "observations", None);
                let id = self.sources.add(shown.clone(), text.to_string());
                let text = self.sources.text(id).to_string();
                match crate::backtest::parse_csv(&shown, &text, id) {
                    Ok(f) => files.push(f),
                    Err(d) => self.problems.extend(d),
                }
                continue;
            }
            let dir = writer.and_then(|n| Path::new(n).parent().map(Path::to_path_buf));
            let full = match dir {
                Some(d) => d.join(rel),
                None => PathBuf::from(rel),
            };
            let shown = full.display().to_string();
            let text = match read_bounded(&full, crate::backtest::MAX_FILE_BYTES) {
                Ok(t) => t,
                Err(why) => {
                    self.problems.push(
                        Diagnostic::error(format!(
                            "cannot read `{rel}` named by `observed:` (looked for {shown}): \
                             {why}; the path is relative to the folder of the file that says \
                             `observed:`"
                        ))
                        .at(item.loc)
                        .with_path(path),
                    );
                    continue;
                }
            };
            self.add_input(&shown, &text, "observations", None);
            let id = self.sources.add(shown.clone(), text);
            let text = self.sources.text(id).to_string();
            match crate::backtest::parse_csv(&shown, &text, id) {
                Ok(f) => files.push(f),
                Err(d) => self.problems.extend(d),
            }
        }
        let raw = match node.as_seq() {
            Some(_) => raw::RawObserved::Many(written),
            None => raw::RawObserved::One(written.pop().unwrap_or_default()),
        };
        (files, Some(raw))
    }
}

/// Largest scenario file read, the one given and each `extends:` target \[bytes\]: 4 MiB.
pub const MAX_SCENARIO_BYTES: u64 = 4 << 20;

/// Reads a text file of at most `max` bytes: the one way capsim reads an input file
/// (scenarios, `extends:` targets, observations, and through [`read_bounded_bytes`] the data
/// files of an output folder). What is not a regular file (a named pipe would block, a device
/// like `/dev/zero` never ends) is refused from its metadata, before it is opened; the file
/// is opened without blocking and checked again once open. Text that is not UTF-8 is refused
/// with the byte offset, line and column of the first bad byte.
///
/// # Errors
///
/// A sentence saying why, without the file's content.
pub fn read_bounded(path: &Path, max: u64) -> Result<String, String> {
    let buf = read_bounded_bytes(path, max)?;
    String::from_utf8(buf).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        format!(
            "not UTF-8 text: byte 0x{:02x} at byte offset {at} (line {line}, column {column}) \
             is not valid UTF-8; save the file as UTF-8",
            bytes[at]
        )
    })
}

/// What a path that is not a regular file is, for a message.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// [`read_bounded`] without the UTF-8 check: the bytes of a regular file of at most `max`
/// bytes.
///
/// # Errors
///
/// A sentence saying why, without the file's content.
pub fn read_bounded_bytes(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let refuse = |meta: &std::fs::Metadata| {
        format!(
            "{}, not a regular file; capsim reads only regular files",
            file_kind(meta)
        )
    };
    let too_big = |len: u64| {
        format!(
            "{len} bytes, more than the {} MiB accepted",
            (max >> 20).max(1)
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => e.to_string(),
    })?;
    if !meta.is_file() {
        return Err(refuse(&meta));
    }
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Swapped for a FIFO between the check and the open: do not wait for a writer.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(refuse(&meta));
    }
    let mut buf = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > max {
        return Err(format!("more than the {} MiB accepted", (max >> 20).max(1)));
    }
    Ok(buf)
}

/// The top-level keys of a scenario: the shape check's known keys, and what tells a scenario
/// from another file. In the order messages list them; a test checks them against
/// `RawScenario`.
const SCENARIO_KEYS: &[&str] = &[
    "name",
    "description",
    "start",
    "end",
    "seed",
    "supply",
    "products",
    "vendors",
    "buyers",
    "sites",
    "segments",
    "launches",
    "export_rules",
    "reservations",
    "money",
    "market",
    "warm_start",
    "warm_start_utilisation",
    "expect",
    "extends",
    "observed",
];

/// The keys a scenario must have (without `extends:`), in the order messages list them.
const REQUIRED: &[&str] = &[
    "name", "start", "end", "supply", "products", "vendors", "buyers",
];

/// The keys of `supply:`, for the shape check.
const SUPPLY_KEYS: &[&str] = &["packaging_lines", "hbm", "logic"];

/// True when `text` has a line that starts with a top-level key of a scenario (`name:`,
/// `supply:`, ...): a file that does not is not shown in messages.
fn looks_like_scenario(text: &str) -> bool {
    text.lines().any(|l| {
        l.split_once(':')
            .is_some_and(|(k, _)| SCENARIO_KEYS.contains(&k.trim_end()))
    })
}

/// Loads a scenario: reads it and what it extends, applies `--set` overrides
/// (`path.to.field=value`), checks and resolves it.
pub fn load(source: Source<'_>, sets: &[String]) -> Result<Loaded, LoadError> {
    let mut ld = Loader {
        sources: Sources::default(),
        hasher: Sha256::new(),
        files: Vec::new(),
        inputs: Vec::new(),
        problems: Vec::new(),
    };
    let (name, text, dir) = match source {
        Source::File(path) => match read_bounded(path, MAX_SCENARIO_BYTES) {
            Ok(t) => (
                path.display().to_string(),
                t,
                path.parent().map(Path::to_path_buf),
            ),
            Err(e) => {
                let hint = if e == "no such file" {
                    similar_scenario_file(path)
                } else {
                    String::new()
                };
                ld.fail("", format!("cannot read {}: {e}{hint}", path.display()));
                return Err(LoadError {
                    diagnostics: ld.problems,
                    sources: ld.sources,
                });
            }
        },
        Source::BuiltIn => (DEFAULT_NAME.to_string(), DEFAULT_SCENARIO.to_string(), None),
        Source::Text { name, text } => (name.to_string(), text.to_string(), None),
    };
    let mut chain = Vec::new();
    if let Source::File(p) = source {
        let canon = std::fs::canonicalize(p).unwrap_or(p.to_path_buf());
        chain.push((canon, p.display().to_string()));
    }
    let tree = ld.tree(name, text, dir, &mut chain, None);
    let Some(mut root) = tree else {
        return Err(LoadError {
            diagnostics: ld.problems,
            sources: ld.sources,
        });
    };
    // Timelines from CSV files, before the overrides (which may then change their points).
    ld.expand_csv(&mut root);
    for set in sets {
        ld.hasher.update(b"--set ");
        ld.hasher.update(set.as_bytes());
        ld.hasher.update([0u8]);
        // Each override gets its own location, so a message names the `--set` at fault.
        let loc = ld.sources.add_set(set.as_str());
        let Some((path, value)) = set.split_once('=') else {
            ld.problems.push(
                Diagnostic::error(format!("--set `{set}` needs the form path.to.field=value"))
                    .at(loc),
            );
            continue;
        };
        if path.trim().split('.').next().map(str::trim) == Some("extends") {
            ld.problems.push(
                Diagnostic::error(
                    "extends cannot be set with --set; write `extends: FILE` in a scenario \
                     file and run that file",
                )
                .at(loc),
            );
            continue;
        }
        if let Err(d) = yaml::set_path(&mut root, path.trim(), value, loc) {
            ld.problems.push(d);
        }
    }
    // Observations: read and parsed here, kept out of the tree the model's checks see.
    let (observed, observed_paths) = match root.remove("observed") {
        Some(node) => ld.observed(&node),
        None => (Vec::new(), None),
    };
    if !ld.problems.is_empty() {
        return Err(LoadError {
            diagnostics: ld.problems,
            sources: ld.sources,
        });
    }
    // Distributions: checked, and replaced by their central values in the tree checked now.
    let params = match uncertain::extract(&mut root) {
        Ok(p) => p,
        Err(refused) => {
            let mut diagnostics = refused.problems;
            diagnostics.extend(problems_beside(&root, &refused.fields));
            return Err(LoadError {
                diagnostics,
                sources: ld.sources,
            });
        }
    };
    let raw: RawScenario = match yaml::from_node(&root) {
        Ok(r) => RawScenario {
            observed: observed_paths,
            ..r
        },
        Err(first) => {
            let mut all = shape_and_meaning(&root, first);
            uncertain::explain_central(&mut all, &params);
            return Err(LoadError {
                diagnostics: all,
                sources: ld.sources,
            });
        }
    };
    match resolve::resolve(&raw, &root) {
        Ok((scenario, warnings)) => Ok(Loaded {
            scenario,
            raw,
            warnings,
            sources: ld.sources,
            hash: hex(&ld.hasher.finalize()),
            files: ld.files,
            inputs: ld.inputs,
            uncertainty: (!params.is_empty())
                .then_some(uncertain::Uncertainty { tree: root, params }),
            observed,
        }),
        Err(mut diagnostics) => {
            uncertain::explain_central(&mut diagnostics, &params);
            Err(LoadError {
                diagnostics,
                sources: ld.sources,
            })
        }
    }
}

/// Why the file named by `extends:` cannot be read, and what is next to it.
fn unreadable_base(rel: &str, path: &Path, why: &str) -> String {
    let mut msg = format!("cannot read `{rel}` named by `extends:`");
    if why != "no such file" {
        return format!("{msg} ({}): {why}", path.display());
    }
    msg.push_str(&format!(
        " (looked for {}): no such file; the path is relative to the folder of the file that \
         says `extends:`",
        path.display()
    ));
    msg.push_str(&similar_scenario_file(path));
    msg
}

/// For a scenario file that is not there: "; did you mean `default.yaml`?" when a YAML file
/// in the same folder has a close name, else nothing.
fn similar_scenario_file(path: &Path) -> String {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let Some(wanted) = path.file_name().and_then(|n| n.to_str()) else {
        return String::new();
    };
    let mut names: Vec<String> = std::fs::read_dir(dir.unwrap_or(Path::new(".")))
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    yaml::did_you_mean(wanted, names.iter().map(String::as_str))
        .map(|best| format!("; did you mean `{best}`?"))
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The meaning problems of `root` once the fields named by the shape errors `shape` are taken
/// out of it; none when a shape error cannot be taken out that way (a missing field, a whole
/// list item, a section of the wrong kind) or the rest still does not deserialise. A problem
/// about a field that was taken out, or about the item that held it (which now lacks it), is
/// not reported: it is the shape error again.
fn meaning_without(root: &Node, shape: &[Diagnostic]) -> Vec<Diagnostic> {
    let mut pruned = root.clone();
    let mut removed: Vec<(String, String)> = Vec::new();
    for d in shape {
        // Only a map key, at the end of a path, can be taken out.
        let Some((parent, key)) = d.path.rsplit_once('.').or(Some(("", d.path.as_str()))) else {
            return Vec::new();
        };
        if key.is_empty() || key.contains('[') || d.message.starts_with("missing field") {
            return Vec::new();
        }
        let Some(node) = node_at_mut(&mut pruned, parent) else {
            return Vec::new();
        };
        if node.remove(key).is_none() {
            return Vec::new();
        }
        removed.push((parent.to_string(), key.to_string()));
        // A misspelt key: the field it was meant to be is missing now, as a consequence.
        if let Some(meant) = meant_field(&d.message) {
            removed.push((parent.to_string(), meant));
        }
    }
    let Ok(raw) = yaml::from_node::<RawScenario>(&pruned) else {
        return Vec::new();
    };
    let Err(diagnostics) = resolve::resolve(&raw, &pruned) else {
        return Vec::new();
    };
    diagnostics
        .into_iter()
        .filter(|d| {
            !removed.iter().any(|(parent, key)| {
                let full = if parent.is_empty() {
                    key.clone()
                } else {
                    format!("{parent}.{key}")
                };
                // The field itself, anything under it, and what its item says is missing:
                // a misspelt or mistyped field is what the item lacks.
                d.path == full
                    || d.path.starts_with(&format!("{full}."))
                    || d.path.starts_with(&format!("{full}["))
                    || d.path == *parent
            })
        })
        .collect()
}

/// Every problem of a tree that does not deserialise (`first`, serde's first error): each
/// shape error, then, in the same pass, the errors of meaning of the rest (the fields with
/// shape errors taken out: names that refer to each other, ranges, dates), so that
/// `validate` reports both kinds at once.
fn shape_and_meaning(root: &Node, first: Diagnostic) -> Vec<Diagnostic> {
    let mut all = collect_shape_errors(root);
    if all.is_empty() {
        all.push(first);
    }
    all.extend(meaning_without(root, &all));
    all
}

/// The problems of a scenario beside those of its refused distributions, so that `validate`
/// reports them at once: `root` holds a stand-in at each of their `fields`, and is checked as
/// any scenario is (shape, then meaning); what is said of those fields, under them or of the
/// item or map that holds them (a share that no longer sums to 1) is left out, since it is
/// of the stand-in.
fn problems_beside(root: &Node, fields: &[String]) -> Vec<Diagnostic> {
    let found = match yaml::from_node::<RawScenario>(root) {
        Ok(raw) => resolve::resolve(&raw, root).err().unwrap_or_default(),
        Err(first) => shape_and_meaning(root, first),
    };
    found
        .into_iter()
        .filter(|d| {
            !fields.iter().any(|field| {
                let parent = field.rsplit_once('.').map_or("", |(p, _)| p);
                d.path == *field
                    || d.path.starts_with(&format!("{field}."))
                    || d.path.starts_with(&format!("{field}["))
                    || (!parent.is_empty() && d.path == parent)
            })
        })
        .collect()
}

/// The field an "unknown field `x`, did you mean `y`?" error says was meant (`y`).
fn meant_field(message: &str) -> Option<String> {
    message
        .split_once("did you mean `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(m, _)| m.to_string())
}

/// The node at a display path (`supply.packaging_lines[0]`), if there is one.
fn node_at_mut<'n>(root: &'n mut Node, path: &str) -> Option<&'n mut Node> {
    let mut node = root;
    if path.is_empty() {
        return Some(node);
    }
    for part in path.split('.') {
        let (key, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        node = node.get_mut(key)?;
        for ix in indices.split('[').filter(|x| !x.is_empty()) {
            let i: usize = ix.strip_suffix(']')?.parse().ok()?;
            node = node.as_seq_mut()?.get_mut(i)?;
        }
    }
    Some(node)
}

/// Deserialises each top-level section (and each list item) separately so that one run of
/// `capsim validate` reports every shape error, not only the first serde meets.
fn collect_shape_errors(root: &Node) -> Vec<Diagnostic> {
    use raw::*;
    let mut out = Vec::new();
    // `extends:` and `observed:` are taken out of the tree before this pass.
    unknown_keys(&mut out, root, SCENARIO_KEYS, "");
    for req in REQUIRED {
        if root.get(req).is_none() && !misspelled(root, req) {
            out.push(Diagnostic {
                severity: Severity::Error,
                loc: Some(root.loc),
                path: String::new(),
                message: format!("missing field `{req}`"),
            });
        }
    }
    /// Every shape error of one section or item, one per field: serde stops at the first, so
    /// the item's field it lies in is taken out of a copy and the rest deserialised again,
    /// until none is left or the error is not in a field (a missing field, a list's element).
    /// "missing field" of a field taken out, or of the one a misspelt key was meant to be, is
    /// the error already reported, and ends the search.
    fn one<T: serde::de::DeserializeOwned>(out: &mut Vec<Diagnostic>, node: &Node, prefix: &str) {
        let Err(first) = yaml::from_node::<T>(node) else {
            return;
        };
        let mut pruned: Option<Node> = None;
        let mut taken: Vec<String> = Vec::new();
        let mut next = Some(first);
        // Each round takes one field out: a bound for pathological input.
        for _ in 0..64 {
            let Some(mut d) = next.take() else { return };
            let missing = d.message.starts_with("missing field");
            if missing
                && taken
                    .iter()
                    .any(|k| d.message.starts_with(&format!("missing field `{k}`")))
            {
                return;
            }
            // The item's own field the error lies in: taken out whole, so that nothing
            // under it (a timeline's other dates) speaks again.
            let field = d
                .path
                .split(['.', '['])
                .next()
                .filter(|f| !missing && !f.is_empty())
                .map(str::to_string);
            // "missing field `price_usd`" on a list item: say which item.
            if d.path.is_empty()
                && missing
                && let Some(name) = node.item_name()
            {
                d.message.push_str(&format!(" in `{name}`"));
            }
            if let Some(meant) = meant_field(&d.message) {
                taken.push(meant);
            }
            d.path = if d.path.is_empty() {
                prefix.to_string()
            } else if d.path.starts_with('[') {
                format!("{prefix}{}", d.path)
            } else {
                format!("{prefix}.{}", d.path)
            };
            out.push(d);
            let Some(field) = field else { return };
            let copy = pruned.get_or_insert_with(|| node.clone());
            if copy.remove(&field).is_none() {
                return;
            }
            taken.push(field);
            next = yaml::from_node::<T>(copy).err();
        }
    }
    fn list<T: serde::de::DeserializeOwned>(
        out: &mut Vec<Diagnostic>,
        parent: &Node,
        key: &str,
        prefix: &str,
    ) {
        let Some(node) = parent.get(key) else { return };
        match &node.value {
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    one::<T>(out, item, &format!("{prefix}{key}[{i}]"));
                }
            }
            _ => one::<Vec<T>>(out, node, &format!("{prefix}{key}")),
        }
    }
    for (key, check) in [
        (
            "name",
            one::<String> as fn(&mut Vec<Diagnostic>, &Node, &str),
        ),
        ("description", one::<Option<String>>),
        ("start", one::<String>),
        ("end", one::<String>),
        ("seed", one::<Option<u64>>),
        ("money", one::<RawMoney>),
    ] {
        if let Some(n) = root.get(key) {
            check(&mut out, n, key);
        }
    }
    if let Some(supply) = root.get("supply") {
        match &supply.value {
            Value::Map(_) => {
                unknown_keys(&mut out, supply, SUPPLY_KEYS, "supply.");
                if supply.get("packaging_lines").is_none() && !misspelled(supply, "packaging_lines")
                {
                    out.push(Diagnostic {
                        severity: Severity::Error,
                        loc: Some(supply.loc),
                        path: "supply".into(),
                        message: "missing field `packaging_lines`".into(),
                    });
                }
                list::<RawLine>(&mut out, supply, "packaging_lines", "supply.");
                list::<RawLogic>(&mut out, supply, "logic", "supply.");
                if let Some(h) = supply.get("hbm") {
                    one::<Option<RawHbm>>(&mut out, h, "supply.hbm");
                }
            }
            _ => one::<RawSupply>(&mut out, supply, "supply"),
        }
    }
    list::<RawProduct>(&mut out, root, "products", "");
    list::<RawVendor>(&mut out, root, "vendors", "");
    list::<RawBuyer>(&mut out, root, "buyers", "");
    list::<RawSite>(&mut out, root, "sites", "");
    list::<RawSegment>(&mut out, root, "segments", "");
    list::<RawLaunch>(&mut out, root, "launches", "");
    list::<RawExportRule>(&mut out, root, "export_rules", "");
    list::<RawReservation>(&mut out, root, "reservations", "");
    list::<RawExpect>(&mut out, root, "expect", "");
    out
}

/// True when `node` has a key that looks like a misspelling of `field` (already reported as an
/// unknown field with a suggestion, so "missing field" would only repeat it).
fn misspelled(node: &Node, field: &str) -> bool {
    node.as_map().is_some_and(|entries| {
        entries
            .iter()
            .any(|(k, _)| k.name != field && yaml::did_you_mean(&k.name, [field]).is_some())
    })
}

/// Reports keys of a mapping that are not among `keys`, with a suggestion.
fn unknown_keys(out: &mut Vec<Diagnostic>, node: &Node, keys: &[&str], prefix: &str) {
    let Value::Map(entries) = &node.value else {
        return;
    };
    for (key, _) in entries {
        if !keys.contains(&key.name.as_str()) {
            let msg = format!(
                "unknown field `{}`{}",
                key.name,
                yaml::unknown_name_hint(&key.name, keys)
            );
            out.push(Diagnostic {
                severity: Severity::Error,
                loc: Some(key.loc),
                path: format!("{prefix}{}", key.name),
                message: msg,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The property names of `T`'s JSON Schema: its serde field names.
    fn fields<T: schemars::JsonSchema>() -> BTreeSet<String> {
        let schema = schemars::schema_for!(T);
        schema.as_value()["properties"]
            .as_object()
            .expect("a struct")
            .keys()
            .cloned()
            .collect()
    }

    fn set(keys: &[&str]) -> BTreeSet<String> {
        keys.iter().map(|k| k.to_string()).collect()
    }

    /// The shape check's lists of keys are the raw types' fields.
    #[test]
    fn key_lists_match_the_raw_types() {
        assert_eq!(
            set(super::SCENARIO_KEYS),
            fields::<super::raw::RawScenario>()
        );
        assert_eq!(set(super::SUPPLY_KEYS), fields::<super::raw::RawSupply>());
        let schema = schemars::schema_for!(super::raw::RawScenario);
        let required: BTreeSet<String> = schema.as_value()["required"]
            .as_array()
            .expect("required fields")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        assert_eq!(set(super::REQUIRED), required);
    }
}
