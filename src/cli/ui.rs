//! How the command line talks: problems on stderr (coloured labels on a terminal), results
//! on stdout (human text, or one JSON document with `--json`), and failures as exit codes.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use super::{ColorChoice, exit};
use crate::scenario::LoadError;
use crate::scenario::yaml::{Diagnostic, ERROR_STYLE, Severity, Sources, WARNING_STYLE};

/// Whether to colour the `error:` and `warning:` labels on stderr.
///
/// `always` and `never` are taken as given (a flag beats the environment); `auto` colours
/// only when stderr is a terminal and `NO_COLOR` is not set, whatever its value.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
        }
    }
}

/// Colours the leading `error:` or `warning:` label of a message that is not a scenario
/// diagnostic (those are coloured by their renderer, annotate-snippets), in the same bold red
/// and bold yellow (anstyle, the styles clap uses for its own messages).
pub fn paint(text: &str, color: bool) -> String {
    if color {
        for (label, code) in [("error", ERROR_STYLE), ("warning", WARNING_STYLE)] {
            if let Some(rest) = text.strip_prefix(label).filter(|r| r.starts_with(':')) {
                return format!("{code}{label}{code:#}{rest}");
            }
        }
    }
    text.to_string()
}

/// Error or warning, as written in `--json` documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The input cannot be used, or the command could not finish.
    Error,
    /// Worth a look; the command went on.
    Warning,
}

/// One problem: rendered for people (stderr) and structured for machines (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Level,
    /// File the problem is in, as given on the command line or by `extends:`; `null` for a
    /// `--set` override or a problem with no place in a file.
    pub file: Option<String>,
    /// 1-based line, or `null`.
    pub line: Option<u32>,
    /// 1-based column in characters, or `null`.
    pub column: Option<u32>,
    /// Field path (`products[2].hbm_stacks`); empty for the whole document or none.
    pub path: String,
    /// What is wrong and, where possible, the fix.
    pub message: String,
    /// The multi-line rendering with the source line, for stderr.
    #[serde(skip)]
    pub rendered: String,
    /// The same, coloured for a terminal.
    #[serde(skip)]
    pub styled: String,
}

impl Problem {
    /// A scenario diagnostic, located through the sources it was read from.
    pub fn from_diag(d: &Diagnostic, sources: &Sources) -> Problem {
        let place = d
            .loc
            .filter(|l| l.is_in_file())
            .map(|l| (sources.name(l.source).map(str::to_string), l.line, l.column));
        let (file, line, column) = match place {
            Some((file, line, column)) => (file, Some(line), Some(column)),
            None => (None, None, None),
        };
        Problem {
            severity: match d.severity {
                Severity::Error => Level::Error,
                Severity::Warning => Level::Warning,
            },
            file,
            line,
            column,
            path: d.path.clone(),
            message: d.message.clone(),
            rendered: d.render(sources),
            styled: d.render_with(sources, true),
        }
    }

    /// A warning with no place in a scenario (a file left behind while cleaning up, ...).
    pub fn warning(message: impl Into<String>) -> Problem {
        let message = message.into();
        Problem {
            severity: Level::Warning,
            file: None,
            line: None,
            column: None,
            path: String::new(),
            rendered: format!("warning: {message}"),
            styled: paint(&format!("warning: {message}"), true),
            message,
        }
    }

    /// An error with no place in a scenario (a folder that cannot be written, ...).
    pub fn error(message: impl Into<String>) -> Problem {
        let message = message.into();
        Problem {
            severity: Level::Error,
            file: None,
            line: None,
            column: None,
            path: String::new(),
            rendered: format!("error: {message}"),
            styled: paint(&format!("error: {message}"), true),
            message,
        }
    }
}

/// Every problem of a failed load, errors then warnings.
pub fn load_problems(e: &LoadError) -> Vec<Problem> {
    e.diagnostics
        .iter()
        .map(|d| Problem::from_diag(d, &e.sources))
        .collect()
}

/// Why a subcommand stopped: its exit code and what to tell the user.
#[derive(Debug)]
pub struct Failure {
    /// One of [`exit`]'s codes.
    pub code: u8,
    /// Errors (and warnings met on the way) to report; empty when the subcommand has
    /// reported everything itself (`validate`).
    pub problems: Vec<Problem>,
    /// Close with `N errors found`, as a scenario that failed to load does.
    pub tally: bool,
}

impl Failure {
    /// Bad input: exit code 2.
    pub fn bad_input(problems: Vec<Problem>) -> Failure {
        Failure {
            code: exit::BAD_INPUT,
            problems,
            tally: false,
        }
    }

    /// A scenario that failed to load: bad input, every problem found, and their count.
    pub fn load(e: &LoadError) -> Failure {
        Failure {
            tally: true,
            ..Failure::bad_input(load_problems(e))
        }
    }

    /// Outputs could not be written: exit code 3.
    pub fn io(message: impl Into<String>) -> Failure {
        Failure {
            code: exit::IO,
            problems: vec![Problem::error(message)],
            tally: false,
        }
    }

    /// A failure already reported in full by the subcommand.
    pub fn reported(code: u8) -> Failure {
        Failure {
            code,
            problems: Vec::new(),
            tally: false,
        }
    }
}

/// The `--json` document of a failure: `{"errors": [...], "warnings": [...]}`.
#[derive(Serialize)]
struct FailureDoc<'a> {
    errors: Vec<&'a Problem>,
    warnings: Vec<&'a Problem>,
}

/// What a subcommand may print, and how.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// Colour the labels on stderr.
    pub color: bool,
    /// No human text on stdout.
    pub quiet: bool,
    /// Stdout is one JSON document; human text is not printed.
    pub json: bool,
}

impl Ui {
    /// Prints problems on stderr.
    pub fn show(&self, problems: &[Problem]) {
        for p in problems {
            eprintln!("{}", if self.color { &p.styled } else { &p.rendered });
        }
    }

    /// Prints human text on stdout, unless `--quiet` or `--json`.
    pub fn say(&self, text: &str) -> Result<(), Failure> {
        if self.quiet || self.json {
            return Ok(());
        }
        write_stdout(text.as_bytes())
    }

    /// Prints the `--json` document, if `--json` was given.
    pub fn doc<T: Serialize>(&self, doc: &T) -> Result<(), Failure> {
        if !self.json {
            return Ok(());
        }
        let mut bytes = serde_json::to_vec_pretty(doc)
            .map_err(|e| Failure::io(format!("cannot serialise the JSON result: {e}")))?;
        bytes.push(b'\n');
        write_stdout(&bytes)
    }

    /// Reports a failure on stderr (and as a JSON document with `--json`) and returns its
    /// exit code.
    pub fn fail(&self, f: &Failure) -> u8 {
        self.show(&f.problems);
        if f.tally {
            eprintln!("{}", tally(&f.problems));
        }
        if self.json && !f.problems.is_empty() {
            let (errors, warnings) = f.problems.iter().partition(|p| p.severity == Level::Error);
            // A failure to print the failure has nowhere left to be reported.
            let _ = self.doc(&FailureDoc { errors, warnings });
        }
        f.code
    }
}

/// `N error(s) found`.
pub fn tally(problems: &[Problem]) -> String {
    let errors = problems
        .iter()
        .filter(|p| p.severity == Level::Error)
        .count();
    format!("{errors} error{} found", if errors == 1 { "" } else { "s" })
}

/// Writes to stdout. A reader that went away (`capsim schema | head`) is not an error, as in
/// ripgrep; any other failure to write is exit code 3.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::io(format!("cannot write to standard output: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::yaml::Loc;

    #[test]
    fn paint_colours_only_the_leading_label() {
        assert_eq!(paint("error: x", false), "error: x");
        assert_eq!(paint("error: x", true), "\x1b[1m\x1b[31merror\x1b[0m: x");
        assert_eq!(
            paint("warning: y\n  --> a.yaml:1:1", true),
            "\x1b[1m\x1b[33mwarning\x1b[0m: y\n  --> a.yaml:1:1"
        );
        // Only a label followed by a colon counts.
        assert_eq!(paint("errors: 3", true), "errors: 3");
        assert_eq!(paint("3 errors found", true), "3 errors found");
    }

    #[test]
    fn a_located_diagnostic_names_file_line_and_column() {
        let mut sources = Sources::new();
        let id = sources.add("my.yaml", "name: x\nstart: 2023-13\n");
        let d = Diagnostic::error("month 13 does not exist")
            .at(Loc::new(id, 2, 8))
            .with_path("start");
        let p = Problem::from_diag(&d, &sources);
        assert_eq!(p.file.as_deref(), Some("my.yaml"));
        assert_eq!((p.line, p.column), (Some(2), Some(8)));
        assert_eq!(p.path, "start");
        assert!(p.rendered.starts_with("error: month 13"), "{}", p.rendered);
        let json = serde_json::to_value(&p).expect("serialises");
        assert_eq!(json["severity"], "error");
        assert!(json.get("rendered").is_none());
        // A `--set` value has no file.
        let d = Diagnostic::warning("odd").at(Loc::COMMAND_LINE);
        let p = Problem::from_diag(&d, &sources);
        assert_eq!((p.file, p.line, p.column), (None, None, None));
        assert_eq!(p.severity, Level::Warning);
    }
}
