//! The corpus of bad scenarios in `tests/bad/` (issue 6, "Bad input, clear errors"): every
//! file is a mistake a hurried user makes, and its header says what capsim must answer.
//!
//! Header lines, at the top of each file:
//!
//! - `# expect: TEXT`: TEXT appears in the rendered diagnostics (errors, or warnings for a file
//!   with `expect-warning:` lines).
//! - `# expect-warning: TEXT`: the file loads, with a warning containing TEXT.
//! - `# expect-field: PATH`: a rendered line ends with `at PATH`, the field path that labels the
//!   carets (or the note of a diagnostic without a source line).
//! - `# expect-at: LINE:COL` (or `# expect-at: OTHER.yaml:LINE:COL`): the first diagnostic is
//!   shown at `<file>:LINE:COL`.
//! - `# expect-errors: N`: exactly N errors, so one slip is not reported twice.
//! - `# set: path=value`: a `--set` override passed to the loader.
//! - `# expect-not: TEXT`: TEXT appears nowhere in the rendered diagnostics (content of a
//!   file that must not be echoed).
//!
//! Other comment lines say what is wrong, for the reader.

use std::path::{Path, PathBuf};
use std::process::Command;

use capsim::scenario::yaml::{Diagnostic, Severity, Sources};
use capsim::scenario::{Source, load};

/// What a file's header asks for.
#[derive(Debug, Default)]
struct Expect {
    errors_text: Vec<String>,
    warnings_text: Vec<String>,
    fields: Vec<String>,
    at: Option<String>,
    error_count: Option<usize>,
    sets: Vec<String>,
    absent: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad")
}

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/bad exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn header(text: &str) -> Expect {
    let mut e = Expect::default();
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let line = line.trim_start_matches('#').trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        match key {
            "expect" => e.errors_text.push(value),
            "expect-warning" => e.warnings_text.push(value),
            "expect-field" => e.fields.push(value),
            "expect-at" => e.at = Some(value),
            "expect-errors" => e.error_count = Some(value.parse().expect("expect-errors: N")),
            "set" => e.sets.push(value),
            "expect-not" => e.absent.push(value),
            _ => {}
        }
    }
    e
}

/// Each diagnostic rendered, with the source line it points at (when it points into a file).
fn check_snippets(name: &str, diagnostics: &[Diagnostic], sources: &Sources, all: &str) {
    for d in diagnostics {
        let rendered = d.render(sources);
        let Some(loc) = d.loc else { continue };
        if loc.is_command_line() {
            assert!(
                rendered.contains("command line --set"),
                "{name}: a --set problem names the command line:\n{all}"
            );
            continue;
        }
        let file = sources.name(loc.source).unwrap_or("<unknown>");
        assert!(
            rendered.contains(&format!("{file}:{}:{}", loc.line, loc.column)),
            "{name}: the location is shown as file:line:column:\n{all}"
        );
        // An empty file has no line to show.
        // The renderer shows a tab as four spaces.
        if let Some(line) = sources.line_text(loc) {
            let shown = format!(
                "{} | {}",
                loc.line,
                line.replace('\t', "    ")
                    .replace(|c: char| c.is_control(), " ")
            );
            assert!(
                rendered.contains(shown.trim_end()),
                "{name}: the diagnostic shows its source line `{line}`:\n{all}"
            );
            assert!(
                rendered.contains('^'),
                "{name}: a caret marks the spot:\n{all}"
            );
        }
    }
}

/// Checks one corpus file; returns a description of what went wrong, if anything.
fn check(path: &Path) -> Result<(), String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    let expect = header(&text);
    if expect.errors_text.is_empty() && expect.warnings_text.is_empty() {
        return Err(format!(
            "{name}: the header has no `# expect:` or `# expect-warning:` line"
        ));
    }
    let (diagnostics, sources, rendered) = match load(Source::File(path), &expect.sets) {
        Ok(loaded) => {
            if expect.warnings_text.is_empty() {
                return Err(format!(
                    "{name}: loaded without error, but the header expects one"
                ));
            }
            let rendered: Vec<String> = loaded
                .warnings
                .iter()
                .map(|w| w.render(&loaded.sources))
                .collect();
            (loaded.warnings, loaded.sources, rendered.join("\n"))
        }
        Err(err) => {
            if !expect.warnings_text.is_empty() {
                return Err(format!(
                    "{name}: expected to load with a warning, but it failed:\n{}",
                    err.render()
                ));
            }
            let rendered = err.render();
            (err.diagnostics, err.sources, rendered)
        }
    };
    let fail = |why: String| Err(format!("{name}: {why}\n--- rendered ---\n{rendered}\n"));
    for want in expect.errors_text.iter().chain(&expect.warnings_text) {
        if !rendered.contains(want.as_str()) {
            return fail(format!("missing expected text `{want}`"));
        }
    }
    for field in &expect.fields {
        let label = format!(" at {field}");
        if !rendered.lines().any(|l| l.trim_end().ends_with(&label)) {
            return fail(format!("no line ends with `{}`", label.trim_start()));
        }
    }
    for unwanted in &expect.absent {
        if rendered.contains(unwanted.as_str()) {
            return fail(format!("the diagnostics show `{unwanted}`"));
        }
    }
    if !expect.warnings_text.is_empty() && diagnostics.iter().any(|d| d.severity == Severity::Error)
    {
        return fail("a warning file gave an error".into());
    }
    if let Some(n) = expect.error_count {
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if errors != n {
            return fail(format!("expected {n} error(s), found {errors}"));
        }
    }
    if let Some(at) = &expect.at {
        // `LINE:COL` is in this file; `other.yaml:LINE:COL` names the file.
        let (file, line_col) = match at.split_once(".yaml:") {
            Some((file, lc)) => (format!("{file}.yaml"), lc.to_string()),
            None => (name.clone(), at.clone()),
        };
        let first = diagnostics.first().map(|d| d.render(&sources));
        let wanted = format!("{file}:{line_col}");
        let first_at = first
            .as_deref()
            .and_then(|r| r.lines().find(|l| l.trim_start().starts_with("-->")))
            .unwrap_or("");
        // The file is shown by its path: `.../tests/bad/NAME.yaml:LINE:COL`.
        let shown = ["/", "\\", " "]
            .iter()
            .any(|sep| first_at.contains(&format!("{sep}{wanted}")));
        if !shown {
            return fail(format!(
                "the first diagnostic should be at `{wanted}`, found `{}`",
                first_at.trim()
            ));
        }
    }
    check_snippets(&name, &diagnostics, &sources, &rendered);
    Ok(())
}

#[test]
fn the_corpus_has_at_least_35_bad_scenarios() {
    let files = corpus();
    assert!(files.len() >= 35, "only {} files in tests/bad", files.len());
}

#[test]
fn every_bad_scenario_gives_its_expected_message_at_its_place() {
    let failures: Vec<String> = corpus()
        .iter()
        .filter_map(|path| check(path).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed:\n\n{}",
        failures.len(),
        corpus().len(),
        failures.join("\n")
    );
}

#[test]
fn validate_reports_every_file_of_the_corpus() {
    let files = corpus();
    let out = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .arg("validate")
        .args(&files)
        .output()
        .expect("capsim runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "bad input exits with 2\n{stdout}\n{stderr}"
    );
    let all = format!("{stdout}\n{stderr}");
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        assert!(
            all.contains(name),
            "`capsim validate` says nothing about {name}:\n{all}"
        );
    }
    // Every file that fails to load alone is reported as a problem, not silently passed.
    assert!(!stderr.contains("panicked"), "{stderr}");
}
