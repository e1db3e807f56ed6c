//! `capsim check`: run scenarios, check their `expect:` blocks and compare their outputs with
//! stored golden outputs; `--bless` records new golden outputs after showing what changed.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use super::ui::{Failure, Problem, Ui};
use super::{OutputArgs, exit};
use crate::check::{self, ExpectOutcome, Moved, Tolerance};
use crate::report;
use crate::scenario::{self, Source};

pub const AFTER_HELP: &str = "Examples:
  capsim check                          # every scenario under scenarios/
  capsim check my-scenarios/ --golden my-scenarios/golden
  capsim check scenarios/cowos-early.yaml --tolerance 1%
  capsim check scenarios/ --bless       # show what moved, then record new golden outputs

Prints one line per scenario (PASS or FAIL); for a failure, the assertions that did not hold
and a table of the outputs that moved: from what, to what, by how much, and on which days.
Golden outputs (summary.json and timeseries.csv) live in <golden>/<scenario name>/, where
<golden> is --golden or a golden/ folder beside each scenario file. Exits with 1 if any
scenario fails, 2 on bad input. See docs/check.md.";

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files or folders (searched for *.yaml) [default: scenarios]
    pub paths: Vec<PathBuf>,
    /// Folder of golden outputs [default: golden/ beside each scenario]
    #[arg(long, value_name = "DIR")]
    pub golden: Option<PathBuf>,
    /// Record the current outputs as the new golden outputs (after showing what moved).
    #[arg(long)]
    pub bless: bool,
    /// How far a number may move: a share (`0.01`, `1%`) or `abs:X` [default: 1e-9]
    #[arg(long, value_name = "TOL")]
    pub tolerance: Option<String>,
    /// Also write the verdicts as JUnit XML to FILE, for CI systems (a new file, or one an
    /// earlier --junit wrote)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The golden files kept for each scenario.
const GOLDEN_FILES: [&str; 2] = ["summary.json", "timeseries.csv"];
/// Rows of the "what moved" table shown per scenario.
const MOVED_ROWS: usize = 25;

/// Scenario files under `paths`: files as given, folders searched for `*.yaml`/`*.yml`
/// (skipping `golden/` folders), sorted. A symbolic link found in a folder is followed to a
/// file, never to a folder: a link to `.` or to a parent would loop forever.
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            // `file_type` does not follow a link; a link counts only if it leads to a file.
            let kind = entry.file_type()?;
            if kind.is_symlink() && !path.is_file() {
                continue;
            }
            if kind.is_dir() {
                if path.file_name().is_some_and(|n| n != "golden") {
                    walk(&path, out)?;
                }
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| {
                Failure::bad_input(vec![Problem::error(format!(
                    "cannot read {}: {e}",
                    p.display()
                ))])
            })?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Failure::bad_input(vec![Problem::error(format!(
                "{} is neither a scenario file nor a folder of them",
                p.display()
            ))]));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The result of checking one scenario.
#[derive(Debug, Serialize)]
struct Checked {
    file: String,
    scenario: Option<String>,
    /// Whether the scenario loaded (a scenario that does not load is bad input: exit 2).
    loads: bool,
    passed: bool,
    errors: Vec<Problem>,
    assertions: Vec<AssertionDoc>,
    moved: Vec<MovedDoc>,
    /// Observations (`observed:`) with the model's values; a required one outside fails.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    observations: Vec<crate::backtest::Row>,
    golden: String,
    blessed: bool,
    /// The golden folder was refused by the output rule (bad input).
    #[serde(skip)]
    refused: bool,
    /// Problems met cleaning up after blessing (files left where they were).
    #[serde(skip)]
    warnings: Vec<Problem>,
}

#[derive(Debug, Serialize)]
struct AssertionDoc {
    what: String,
    actual: String,
    passed: bool,
    because: Option<String>,
}

#[derive(Debug, Serialize)]
struct MovedDoc {
    what: String,
    from: String,
    to: String,
    by: String,
    dates: String,
}

#[derive(Debug, Serialize)]
struct CheckDoc {
    passed: bool,
    scenarios: Vec<Checked>,
}

fn moved_doc(m: &Moved) -> MovedDoc {
    MovedDoc {
        what: m.what.clone(),
        from: m.from.clone(),
        to: m.to.clone(),
        by: m.by.clone(),
        dates: m.dates.clone(),
    }
}

fn assertion_doc(o: &ExpectOutcome) -> AssertionDoc {
    AssertionDoc {
        what: o.what.clone(),
        actual: o.actual.clone(),
        passed: o.passed,
        because: o.because.clone(),
    }
}

/// The golden folder of a scenario: `<golden root>/<name>`, the root being `--golden` or the
/// `golden/` folder next to the scenario file.
fn golden_dir(file: &Path, golden_root: Option<&Path>, name: &str) -> PathBuf {
    golden_root
        .map(Path::to_path_buf)
        .unwrap_or_else(|| file.parent().unwrap_or(Path::new(".")).join("golden"))
        .join(name)
}

/// Refuses two scenario files whose scenarios share a name, hence a golden folder: one
/// would silently overwrite (or be compared with) the other's golden outputs. Files that do
/// not load are left to `check_one` to report.
fn refuse_shared_golden(files: &[PathBuf], golden_root: Option<&Path>) -> Result<(), Failure> {
    let mut seen: Vec<(PathBuf, &Path, String)> = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        let Ok(loaded) = scenario::load(Source::File(f), &[]) else {
            continue;
        };
        let name = loaded.scenario.name.clone();
        let dir = golden_dir(f, golden_root, &name);
        if let Some((_, first, _)) = seen.iter().find(|(d, _, _)| *d == dir) {
            problems.push(Problem::error(format!(
                "{} and {} both hold a scenario named `{name}`, so both would use the golden folder {}; give one of them another `name:`",
                first.display(),
                f.display(),
                dir.display()
            )));
        } else {
            seen.push((dir, f, name));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::bad_input(problems))
    }
}

/// Checks one scenario file; writes golden files when blessing.
fn check_one(file: &Path, golden_root: Option<&Path>, bless: bool, tol: Tolerance) -> Checked {
    let mut c = Checked {
        file: file.display().to_string(),
        scenario: None,
        loads: false,
        passed: false,
        errors: Vec::new(),
        assertions: Vec::new(),
        moved: Vec::new(),
        observations: Vec::new(),
        golden: String::new(),
        blessed: false,
        refused: false,
        warnings: Vec::new(),
    };
    let loaded = match scenario::load(Source::File(file), &[]) {
        Ok(l) => l,
        Err(e) => {
            c.errors = super::ui::load_problems(&e);
            return c;
        }
    };
    c.scenario = Some(loaded.scenario.name.clone());
    c.loads = true;
    // Replication 0: the scenario's distributions drawn for it (the loaded scenario itself
    // when it has none).
    let seed = loaded.scenario.seed;
    let s = match loaded.replication(seed, 0) {
        Ok(s) => s,
        Err(e) => {
            c.errors = super::ui::load_problems(&e);
            return c;
        }
    };
    let report::Tabled { run, tables, .. } = report::simulate_with_timeseries(&s, seed, 0);
    let files = match report::render_all(&loaded, &run, Some(tables), &[]) {
        Ok(f) => f,
        Err(e) => {
            c.errors.push(Problem::error(e.to_string()));
            return c;
        }
    };
    let (table, events) = match report::read::series_and_events(&files) {
        Ok(te) => te,
        Err(e) => {
            c.errors.push(Problem::error(e.to_string()));
            return c;
        }
    };
    if !loaded.observed.is_empty() {
        match crate::backtest::evaluate(&loaded.observed, &table, &events) {
            Ok(bt) => c.observations = bt.rows,
            Err(diags) => c
                .errors
                .extend(diags.iter().map(|x| Problem::from_diag(x, &loaded.sources))),
        }
    }
    let outcomes = check::evaluate(&s.expect, &run.summary, &events);
    c.assertions = outcomes.iter().map(assertion_doc).collect();
    let dir = golden_dir(file, golden_root, &s.name);
    c.golden = dir.display().to_string();
    let get = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_slice())
            .unwrap_or_default()
    };
    let mut moved = Vec::new();
    let mut missing = false;
    for name in GOLDEN_FILES {
        let path = dir.join(name);
        match crate::scenario::read_bounded_bytes(&path, report::MAX_DATA_BYTES) {
            Err(why) if why != "no such file" => c.errors.push(Problem::error(format!(
                "cannot read {}: {why}",
                path.display()
            ))),
            Ok(golden) => {
                let cmp = if name == "summary.json" {
                    check::compare_summaries(&golden, get(name), tol)
                } else {
                    check::compare_series(&golden, get(name), tol)
                };
                match cmp {
                    Ok(m) => moved.extend(m),
                    Err(e) => c.errors.push(Problem::error(e)),
                }
            }
            Err(_) => missing = true,
        }
    }
    c.moved = moved.iter().map(moved_doc).collect();
    if bless && (missing || !moved.is_empty()) {
        let out: Vec<(String, Vec<u8>)> = GOLDEN_FILES
            .iter()
            .map(|n| (n.to_string(), get(n).to_vec()))
            .collect();
        match report::outdir::write(&dir, &out, "--golden") {
            Ok(w) => {
                c.blessed = true;
                c.warnings = w.warnings.into_iter().map(Problem::warning).collect();
            }
            Err(e) => {
                c.refused = e.is_refusal();
                let tail = if e.is_refusal() || !e.target_unchanged() {
                    String::new()
                } else {
                    format!("; {} was left as it was", dir.display())
                };
                c.errors.push(Problem::error(format!("{e}{tail}")));
            }
        }
    } else if missing {
        c.errors.push(Problem::error(format!(
            "no golden outputs in {}: run `capsim check {} --bless` to record them",
            dir.display(),
            file.display()
        )));
    }
    let assertions_ok =
        outcomes.iter().all(|o| o.passed) && c.observations.iter().all(|o| o.inside || !o.required);
    c.passed = c.errors.is_empty() && assertions_ok && (c.blessed || moved.is_empty());
    c
}

/// Prints one scenario's verdict and, for a failure, what failed.
fn describe(c: &Checked) -> String {
    let name = c.scenario.as_deref().unwrap_or("?");
    if !c.loads {
        // Nothing ran: no assertions, no outputs, nothing to compare with a golden.
        let mut out = format!("FAIL {}: does not load\n", c.file);
        for e in &c.errors {
            let at = match (&e.file, e.line, e.column) {
                (Some(f), Some(l), Some(col)) => format!("{f}:{l}:{col}: "),
                (Some(f), Some(l), None) => format!("{f}:{l}: "),
                (Some(f), None, _) => format!("{f}: "),
                _ => String::new(),
            };
            out.push_str(&format!("    error: {at}{}\n", e.message));
        }
        return out;
    }
    let failed: Vec<&AssertionDoc> = c.assertions.iter().filter(|a| !a.passed).collect();
    let verdict = if c.passed { "PASS" } else { "FAIL" };
    let mut out = format!(
        "{verdict} {name} ({}): {} of {} assertions hold, {}\n",
        c.file,
        c.assertions.len() - failed.len(),
        c.assertions.len(),
        if c.blessed {
            format!("golden outputs recorded in {}", c.golden)
        } else if c
            .errors
            .iter()
            .any(|e| e.message.starts_with("no golden outputs"))
        {
            "no golden outputs".to_string()
        } else if c.moved.is_empty() {
            "outputs match golden".to_string()
        } else {
            format!("{} outputs moved from golden", c.moved.len())
        }
    );
    if !c.observations.is_empty() {
        let inside = c.observations.iter().filter(|o| o.inside).count();
        let required = c.observations.iter().filter(|o| o.required).count();
        let req_inside = c
            .observations
            .iter()
            .filter(|o| o.required && o.inside)
            .count();
        out.pop();
        out.push_str(&format!(
            "; {inside} of {} observations inside, {req_inside} of {required} required\n",
            c.observations.len()
        ));
    }
    for e in &c.errors {
        out.push_str(&format!("    error: {}\n", e.message));
    }
    for o in c.observations.iter().filter(|o| o.required && !o.inside) {
        out.push_str(&format!(
            "    required observation outside: {} {} observed {} ({} .. {}), model {} ({}:{})\n",
            o.period,
            o.metric,
            o.human(o.observed),
            o.human(o.low),
            o.human(o.high),
            o.model.map_or_else(|| "none".into(), |m| o.human(m)),
            o.file,
            o.line
        ));
    }
    for a in failed {
        out.push_str(&format!(
            "    assertion failed: {} (got {})\n",
            a.what, a.actual
        ));
        if let Some(b) = &a.because {
            out.push_str(&format!("      because: {b}\n"));
        }
    }
    if !c.moved.is_empty() {
        let moved: Vec<Moved> = c
            .moved
            .iter()
            .map(|m| Moved {
                what: m.what.clone(),
                from: m.from.clone(),
                to: m.to.clone(),
                by: m.by.clone(),
                dates: m.dates.clone(),
            })
            .collect();
        out.push_str(&check::moved_table(&moved, MOVED_ROWS));
    }
    out
}

/// `capsim check`.
pub fn run(ui: &Ui, a: CheckArgs) -> Result<(), Failure> {
    let (paths, golden, bless) = (a.paths.as_slice(), a.golden.as_deref(), a.bless);
    let (tolerance, junit) = (a.tolerance.as_deref(), a.junit.as_deref());
    let tol = match tolerance {
        Some(t) => Tolerance::parse(t).map_err(|e| Failure::bad_input(vec![Problem::error(e)]))?,
        None => Tolerance::default(),
    };
    let default = [PathBuf::from("scenarios")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let files = scenario_files(paths)?;
    if files.is_empty() {
        return Err(Failure::bad_input(vec![Problem::error(format!(
            "no scenario files (*.yaml) found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))]));
    }
    refuse_shared_golden(&files, golden)?;
    let mut results = Vec::new();
    for f in &files {
        let c = check_one(f, golden, bless, tol);
        ui.say(&describe(&c))?;
        ui.show(&c.warnings);
        results.push(c);
    }
    let failed = results.iter().filter(|c| !c.passed).count();
    ui.say(&format!(
        "{} checked: {} passed, {failed} failed\n",
        crate::format::plural(results.len() as i64, "scenario"),
        results.len() - failed
    ))?;
    let refused: Vec<Problem> = results
        .iter()
        .filter(|c| c.refused)
        .flat_map(|c| c.errors.iter().cloned())
        .collect();
    let unloadable = results.iter().any(|c| !c.loads);
    if let Some(path) = junit {
        write_junit(path, &results)?;
    }
    ui.doc(&CheckDoc {
        passed: failed == 0,
        scenarios: results,
    })?;
    if unloadable {
        // A scenario that does not load is bad input, as for `run` (its problems are listed
        // above).
        Err(Failure::reported(exit::BAD_INPUT))
    } else if !refused.is_empty() {
        // A golden folder capsim may not replace: bad input, said on stderr too (the
        // `--json` document above already holds it).
        ui.show(&refused);
        Err(Failure::reported(exit::BAD_INPUT))
    } else if failed > 0 {
        Err(Failure::reported(exit::CHECK_FAILED))
    } else {
        Ok(())
    }
}

/// The first line of every JUnit report capsim writes after the XML declaration: the mark that
/// lets `--junit` replace its own report and nothing else.
const JUNIT_MARK: &str = "<!-- written by capsim check -->";

/// Escapes text for XML attributes and content.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot hold at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The JUnit XML of a check: one test case per scenario file; a scenario that does not load is
/// an `<error>`, a failed one a `<failure>` whose text is what `check` printed for it.
fn junit_xml(results: &[Checked]) -> String {
    let failures = results.iter().filter(|c| c.loads && !c.passed).count();
    let errors = results.iter().filter(|c| !c.loads).count();
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{JUNIT_MARK}\n<testsuites name=\"capsim check\" \
         tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\">\n  <testsuite name=\"capsim \
         check\" tests=\"{n}\" failures=\"{failures}\" errors=\"{errors}\">\n",
        n = results.len()
    );
    for c in results {
        let name = c.scenario.as_deref().unwrap_or(&c.file);
        x.push_str(&format!(
            "    <testcase classname=\"capsim.check\" name=\"{}\" file=\"{}\"",
            xml(name),
            xml(&c.file)
        ));
        let text = describe(c);
        if !c.loads {
            x.push_str(&format!(
                ">\n      <error message=\"does not load\">{}</error>\n    </testcase>\n",
                xml(&text)
            ));
        } else if !c.passed {
            let first = text.lines().next().unwrap_or_default();
            x.push_str(&format!(
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                xml(first),
                xml(&text)
            ));
        } else {
            x.push_str("/>\n");
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// Writes the JUnit report to `path`: a new file, or one a previous `--junit` wrote (it starts
/// with [`JUNIT_MARK`]); never anything else. Written to a sibling temporary file, then renamed
/// over, so a reader sees the old report or the new one.
fn write_junit(path: &Path, results: &[Checked]) -> Result<(), Failure> {
    let refuse = |why: String| {
        Failure::bad_input(vec![Problem::error(format!(
            "--junit {}: {why}; name a new file, or remove it yourself",
            path.display()
        ))])
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.is_file() => return Err(refuse("exists and is not a regular file".into())),
        Ok(_) => {
            // The first lines only, however large the file.
            let mut head = Vec::new();
            if let Ok(f) = std::fs::File::open(path) {
                use std::io::Read;
                let _ = f.take(256).read_to_end(&mut head);
            }
            let head = String::from_utf8_lossy(&head);
            if head.lines().nth(1) != Some(JUNIT_MARK) {
                return Err(refuse(
                    "exists and is not a JUnit report written by capsim check".into(),
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(refuse(e.to_string())),
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.capsim-tmp-{}",
        name.unwrap_or_else(|| "junit.xml".into()),
        std::process::id()
    ));
    let write = std::fs::write(&tmp, junit_xml(results)).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = write {
        let _ = std::fs::remove_file(&tmp);
        return Err(refuse(e.to_string()));
    }
    Ok(())
}
