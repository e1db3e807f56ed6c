//! Diagnostics, the source registry used to render them, and "did you mean" suggestions.

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use super::node::Loc;

/// Registry of loaded texts, so diagnostics can show the offending source line.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<(String, String)>,
    /// `--set` arguments, in order; a `--set` value's [`Loc`] has `line` = index + 1.
    sets: Vec<String>,
}

impl Sources {
    /// An empty registry.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Registers a text under a display name (usually its path) and returns its id for
    /// [`parse`](super::parse). Returns [`Loc::UNKNOWN_SOURCE`] if the registry is full.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> u32 {
        match u32::try_from(self.files.len()) {
            Ok(id) if id < Loc::UNKNOWN_SOURCE => {
                self.files.push((name.into(), text.into()));
                id
            }
            _ => Loc::UNKNOWN_SOURCE,
        }
    }

    /// Registers a `--set` argument and returns the location its values carry, so messages
    /// can say which override is at fault.
    pub fn add_set(&mut self, arg: impl Into<String>) -> Loc {
        self.sets.push(arg.into());
        Loc {
            line: u32::try_from(self.sets.len()).unwrap_or(0),
            ..Loc::COMMAND_LINE
        }
    }

    /// The display name of a source.
    pub fn name(&self, id: u32) -> Option<&str> {
        let index = usize::try_from(id).ok()?;
        self.files.get(index).map(|(name, _)| name.as_str())
    }

    /// The full text of a source; empty for an id that [`Sources::add`] did not return.
    pub fn text(&self, id: u32) -> &str {
        usize::try_from(id)
            .ok()
            .and_then(|index| self.files.get(index))
            .map_or("", |(_, text)| text.as_str())
    }

    /// The text of the line `loc` points at, without its line break.
    pub fn line_text(&self, loc: Loc) -> Option<&str> {
        if !loc.is_in_file() {
            return None;
        }
        let index = usize::try_from(loc.line).ok()?.checked_sub(1)?;
        self.text(loc.source).lines().nth(index)
    }

    /// `file:line:column`, `command line --set` (followed by the argument when it was
    /// registered with [`Sources::add_set`]), or `<unknown location>`.
    pub fn describe(&self, loc: Loc) -> String {
        if loc.is_command_line() {
            let arg = usize::try_from(loc.line)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| self.sets.get(i));
            match arg {
                Some(arg) => format!("command line --set `{arg}`"),
                None => "command line --set".to_string(),
            }
        } else if loc.is_in_file() {
            let name = self.name(loc.source).unwrap_or("<unknown file>");
            format!("{name}:{}:{}", loc.line, loc.column)
        } else {
            "<unknown location>".to_string()
        }
    }
}

/// How bad a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The scenario cannot be used.
    Error,
    /// The scenario can be used but probably does not say what the author meant.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A problem in a scenario, with where it is and what to do about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where the offending node (or key) is; `None` when unknown.
    pub loc: Option<Loc>,
    /// The field path in display form (`products[2].hbm_stacks`); empty for the whole document.
    pub path: String,
    /// Lowercase message naming the thing involved and, where possible, the fix.
    pub message: String,
}

impl Diagnostic {
    /// An error with no location or path yet.
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            loc: None,
            path: String::new(),
            message: message.into(),
        }
    }

    /// A warning with no location or path yet.
    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    /// Sets the location (an unknown `loc` clears it).
    #[must_use]
    pub fn at(mut self, loc: Loc) -> Diagnostic {
        self.loc = (!loc.is_unknown()).then_some(loc);
        self
    }

    /// Sets the field path.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Diagnostic {
        self.path = path.into();
        self
    }

    /// One line: `file:line:col: path: message` (parts that are unknown are left out).
    pub fn one_line(&self, sources: &Sources) -> String {
        let mut out = String::new();
        if let Some(loc) = self.loc {
            out.push_str(&sources.describe(loc));
            out.push_str(": ");
        }
        out.push_str(&self.to_string());
        sanitize(&out)
    }

    /// Multi-line, rustc-style rendering by annotate-snippets (the crate rustc uses): the
    /// message, `file:line:column`, the offending source line with a caret run under the key
    /// or scalar token (one caret when the token length is unknown) labelled with the field
    /// path. Without a source line (a `--set` value, an empty file) the place and the path are
    /// still given. No trailing newline, no colour.
    ///
    /// ```text
    /// error: unknown field `cowos_capcity`, did you mean `cowos_capacity`?
    ///   --> scenarios/base.yaml:12:5
    ///    |
    /// 12 |     cowos_capcity: 8000
    ///    |     ^^^^^^^^^^^^^ at supply.cowos_capcity
    /// ```
    pub fn render(&self, sources: &Sources) -> String {
        self.render_with(sources, false)
    }

    /// [`Diagnostic::render`], coloured with ANSI escapes when `color` is set: the label in
    /// [`ERROR_STYLE`] or [`WARNING_STYLE`], the rest in annotate-snippets' rustc colours.
    pub fn render_with(&self, sources: &Sources, color: bool) -> String {
        let renderer = if color {
            Renderer::styled().error(ERROR_STYLE).warning(WARNING_STYLE)
        } else {
            Renderer::plain()
        };
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let message = shorten(&sanitize(&self.message), MAX_MESSAGE_CHARS);
        let at = (!self.path.is_empty()).then(|| format!("at {}", sanitize(&self.path)));
        let mut group = Group::with_title(level.primary_title(message.as_str()));
        // The window of a line too long to show whole, in a group of its own.
        let mut cut: Option<Group<'_>> = None;
        let snippet = self
            .loc
            .and_then(|loc| Some((loc, sanitize(sources.line_text(loc)?))));
        let long_note;
        match (self.loc, &snippet) {
            (Some(loc), Some((_, line))) if line.chars().count() <= MAX_LINE_CHARS => {
                let name = sources.name(loc.source).unwrap_or("<unknown file>");
                let mut mark = AnnotationKind::Primary.span(byte_span(line, loc));
                if let Some(at) = &at {
                    mark = mark.label(at.as_str());
                }
                group = group.element(
                    Snippet::source(line.as_str())
                        .line_start(line_number(loc))
                        .path(name)
                        .annotation(mark),
                );
            }
            (Some(loc), _) => {
                group = group.element(origin(sources, loc));
                if let Some(at) = &at {
                    group = group.element(Level::NOTE.message(at.as_str()));
                }
                if let Some((_, line)) = &snippet {
                    let (shown, shown_loc) = window(line, loc);
                    long_note = format!(
                        "line {} has {} characters; the part around column {}:",
                        loc.line,
                        line.chars().count(),
                        loc.column
                    );
                    let span = byte_span(&shown, shown_loc);
                    cut = Some(
                        Group::with_title(Level::NOTE.secondary_title(long_note.as_str())).element(
                            Snippet::source(shown)
                                .line_start(line_number(loc))
                                .annotation(AnnotationKind::Primary.span(span)),
                        ),
                    );
                }
            }
            (None, _) => {
                if let Some(at) = &at {
                    group = group.element(Level::NOTE.message(at.as_str()));
                }
            }
        }
        let report: Vec<Group<'_>> = std::iter::once(group).chain(cut).collect();
        renderer.render(&report)
    }
}

/// The label of an error: bold red, as clap's own messages.
pub const ERROR_STYLE: anstyle::Style = anstyle::Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Red)));
/// The label of a warning: bold yellow, as clap's own messages.
pub const WARNING_STYLE: anstyle::Style = anstyle::Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(anstyle::AnsiColor::Yellow)));

/// `--> file:line:column` (or `--> command line --set `ARG``) of a place with no line to show.
fn origin<'a>(sources: &'a Sources, loc: Loc) -> Origin<'a> {
    if loc.is_in_file() {
        Origin::path(sources.name(loc.source).unwrap_or("<unknown file>"))
            .line(line_number(loc))
            .char_column(usize::try_from(loc.column.max(1)).unwrap_or(1))
    } else {
        Origin::path(sources.describe(loc))
    }
}

fn line_number(loc: Loc) -> usize {
    usize::try_from(loc.line.max(1)).unwrap_or(1)
}

/// The bytes of `line` under the token at `loc` (a column and length in characters), clamped
/// to the line; empty (one caret) when the length is unknown.
fn byte_span(line: &str, loc: Loc) -> std::ops::Range<usize> {
    let byte_at = |chars: usize| {
        line.char_indices()
            .nth(chars)
            .map_or(line.len(), |(i, _)| i)
    };
    let first = usize::try_from(loc.column.saturating_sub(1)).unwrap_or(usize::MAX);
    let len = usize::try_from(loc.len).unwrap_or(0);
    let start = byte_at(first);
    let end = byte_at(first.saturating_add(len));
    start..end
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for Diagnostic {}

/// Replaces control characters (other than tab) so a message cannot break the layout.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect()
}

/// Longest source line given whole to the renderer [characters], which cuts it to the
/// terminal's width around the token; a longer one (a file written by a program, not a
/// person) is shown as [`WINDOW_CHARS`] around the column, in a note of its own, so that
/// rendering stays cheap.
pub const MAX_LINE_CHARS: usize = 10_000;
/// Characters of a line longer than [`MAX_LINE_CHARS`] given to the renderer, around the
/// column; it shows the part that fits, with `...` where it was cut.
pub const WINDOW_CHARS: usize = 400;
/// Longest message shown [characters]; the rest is cut, with `…`.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// `text` cut to at most `max` characters, with `…` at the end when it was cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// At most [`WINDOW_CHARS`] characters of `line` around `loc`'s column, and the location
/// moved to the same character in the window. The window is wider than the renderer's line
/// (140 columns), so the renderer cuts it again and marks with `...` each side cut here.
fn window(line: &str, loc: Loc) -> (String, Loc) {
    let count = line.chars().count();
    if count <= WINDOW_CHARS {
        return (line.to_string(), loc);
    }
    let col = usize::try_from(loc.column.saturating_sub(1)).unwrap_or(0);
    let first = col
        .saturating_sub(WINDOW_CHARS / 2)
        .min(count - WINDOW_CHARS);
    let shown: String = line.chars().skip(first).take(WINDOW_CHARS).collect();
    let column = col - first.min(col);
    let loc = Loc {
        column: u32::try_from(column + 1).unwrap_or(u32::MAX),
        ..loc
    };
    (shown, loc)
}

/// The candidate closest to `word`, if one is close enough to be a likely typo.
///
/// Comparison ignores case and treats `-` and spaces as `_`; closeness is the
/// Damerau-Levenshtein (optimal string alignment) distance, allowed to grow with the word's
/// length (0 edits up to 2 characters, 1 up to 5, 2 up to 9, then 3). A word of 4 or more
/// characters that is a prefix of a candidate (`cowos` for `cowos_capacity`) also matches,
/// ranked after closer candidates. Ties go to the first candidate.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_n = normalize(word);
    let limit = match word_n.len() {
        0..=2 => 0,
        3..=5 => 1,
        6..=9 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let cand_n = normalize(candidate);
        let score = match edit_distance(&word_n, &cand_n, limit) {
            Some(d) => d,
            None if word_n.len() >= 4 && cand_n.starts_with(&word_n[..]) => limit.max(1),
            None => continue,
        };
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// The tail of an "unknown name" message, to append after the quoted name.
///
/// When one candidate is close: ``, did you mean `x`?``; otherwise the choices (at most 12):
/// ``; expected one of `a`, `b`, `c` ``; without candidates, an empty string.
pub fn unknown_name_hint(word: &str, candidates: &[&str]) -> String {
    if let Some(best) = did_you_mean(word, candidates.iter().copied()) {
        return format!(", did you mean `{best}`?");
    }
    const SHOWN: usize = 12;
    match candidates {
        [] => String::new(),
        [only] => format!("; expected `{only}`"),
        _ => {
            let listed: Vec<String> = candidates
                .iter()
                .take(SHOWN)
                .map(|c| format!("`{c}`"))
                .collect();
            let more = candidates.len().saturating_sub(SHOWN);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("; expected one of {}{tail}", listed.join(", "))
        }
    }
}

fn normalize(word: &str) -> Vec<char> {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == '-' || c == ' ' { '_' } else { c })
        .collect()
}

/// Optimal-string-alignment distance between `a` and `b`, or `None` when it exceeds `limit`.
fn edit_distance(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    // Cap the work on absurd inputs; nobody misspells a 200-character key.
    const MAX_LEN: usize = 128;
    if a.len().abs_diff(b.len()) > limit || a.len() > MAX_LEN || b.len() > MAX_LEN {
        return None;
    }
    let width = b.len() + 1;
    // Three rolling rows: i-2, i-1, i.
    let mut two_back = vec![0usize; width];
    let mut one_back: Vec<usize> = (0..width).collect();
    let mut row = vec![0usize; width];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (one_back[j] + 1)
                .min(row[j - 1] + 1)
                .min(one_back[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(two_back[j - 2] + 1);
            }
            row[j] = d;
        }
        std::mem::swap(&mut two_back, &mut one_back);
        std::mem::swap(&mut one_back, &mut row);
    }
    let d = one_back[b.len()];
    (d <= limit).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_location_names_its_argument() {
        let mut sources = Sources::new();
        let first = sources.add_set("end=2026-12");
        let second = sources.add_set("products.H10.power_w=800");
        assert!(first.is_command_line() && second.is_command_line());
        assert_eq!(
            sources.describe(second),
            "command line --set `products.H10.power_w=800`"
        );
        assert_eq!(sources.describe(Loc::COMMAND_LINE), "command line --set");
    }

    fn dist(a: &str, b: &str) -> Option<usize> {
        edit_distance(&normalize(a), &normalize(b), 10)
    }

    #[test]
    fn edit_distance_counts_typos() {
        assert_eq!(dist("cowos_capcity", "cowos_capacity"), Some(1)); // one deletion
        assert_eq!(dist("hbm_stakcs", "hbm_stacks"), Some(1)); // one transposition
        assert_eq!(dist("kitten", "sitting"), Some(3));
        assert_eq!(dist("", "abc"), Some(3));
        assert_eq!(dist("HBM-Stacks", "hbm_stacks"), Some(0)); // case and dash ignored
        assert_eq!(edit_distance(&normalize("a"), &normalize("abcd"), 2), None);
    }

    #[test]
    fn did_you_mean_picks_close_candidates_only() {
        let fields = ["cowos_capacity", "hbm_stacks", "name", "wafers_per_month"];
        assert_eq!(
            did_you_mean("cowos_capcity", fields),
            Some("cowos_capacity")
        );
        assert_eq!(
            did_you_mean("wafer_per_month", fields),
            Some("wafers_per_month")
        );
        assert_eq!(did_you_mean("nmae", fields), Some("name"));
        assert_eq!(did_you_mean("cowos", fields), Some("cowos_capacity")); // prefix
        assert_eq!(did_you_mean("colour", fields), None);
        assert_eq!(did_you_mean("x", ["y"]), None); // too short to guess
    }

    #[test]
    fn hint_lists_candidates_when_nothing_is_close() {
        assert_eq!(
            unknown_name_hint("h10", &["h100", "b200"]),
            ", did you mean `h100`?"
        );
        assert_eq!(
            unknown_name_hint("zzz", &["h100", "b200"]),
            "; expected one of `h100`, `b200`"
        );
        assert_eq!(unknown_name_hint("zzz", &["h100"]), "; expected `h100`");
        assert_eq!(unknown_name_hint("zzz", &[]), "");
    }

    #[test]
    fn render_without_source_text_still_names_the_place() {
        let mut sources = Sources::new();
        let d = Diagnostic::error("bad value")
            .at(Loc::COMMAND_LINE)
            .with_path("products.h100.hbm_stacks");
        assert_eq!(
            d.render(&sources),
            "error: bad value\n--> command line --set\n = note: at products.h100.hbm_stacks"
        );
        let set = sources.add_set("end=2023-12-01");
        let d = Diagnostic::error("end before start")
            .at(set)
            .with_path("end");
        assert_eq!(
            d.render(&sources),
            "error: end before start\n--> command line --set `end=2023-12-01`\n = note: at end"
        );
        // A file with no such line (an empty file): the place, without a snippet.
        let empty = sources.add("empty.yaml", "");
        let d = Diagnostic::error("empty").at(Loc::new(empty, 1, 1));
        assert_eq!(d.render(&sources), "error: empty\n--> empty.yaml:1:1");
        let d = Diagnostic::warning("odd").with_path("a.b");
        assert_eq!(d.render(&sources), "warning: odd\n |\n = note: at a.b");
        assert_eq!(d.to_string(), "a.b: odd");
        assert_eq!(Diagnostic::error("x").render(&sources), "error: x");
    }

    /// The rendered lines of `out` holding the source text and the carets (after ` | `).
    fn shown_and_carets(out: &str) -> (String, String) {
        let lines: Vec<&str> = out.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains('^'))
            .unwrap_or_else(|| panic!("no caret in\n{out}"));
        let part = |l: &str| l.split_once(" | ").map(|(_, r)| r.to_string()).unwrap();
        (part(lines[at - 1]), part(lines[at]))
    }

    /// The characters of `shown` above the carets (both ASCII but for `…`).
    fn under_carets(shown: &str, carets: &str) -> String {
        let at = carets.find('^').unwrap();
        let n = carets.matches('^').count();
        shown.chars().skip(at).take(n).collect()
    }

    #[test]
    fn a_long_line_is_cut_around_the_column_with_ellipses() {
        // One line of 1 MB: the rendering stays small and the caret stays under the token.
        let line = format!("{}BAD{}", "a".repeat(500_000), "b".repeat(500_000));
        let mut sources = Sources::new();
        let id = sources.add("big.yaml", line.clone());
        let loc = Loc {
            source: id,
            line: 1,
            column: 500_001,
            len: 3,
        };
        let out = Diagnostic::error("bad").at(loc).render(&sources);
        assert!(out.len() < 1_000, "{} bytes rendered", out.len());
        assert!(out.contains("--> big.yaml:1:500001"), "{out}");
        assert!(out.contains("line 1 has 1000003 characters"), "{out}");
        let (shown, carets) = shown_and_carets(&out);
        assert!(
            shown.starts_with("...") && shown.ends_with("..."),
            "{shown}"
        );
        assert_eq!(under_carets(&shown, &carets), "BAD", "{shown}\n{carets}");
        // A line of a few hundred characters is given whole and cut by the renderer, with
        // the true column.
        let line = format!("key: [{}, BAD, {}]", "a".repeat(300), "b".repeat(300));
        let id = sources.add("wide.yaml", line.clone());
        let loc = Loc {
            source: id,
            line: 1,
            column: 309,
            len: 3,
        };
        let out = Diagnostic::error("bad").at(loc).render(&sources);
        assert!(out.contains("--> wide.yaml:1:309"), "{out}");
        let (shown, carets) = shown_and_carets(&out);
        assert!(shown.chars().count() < 200, "{shown}");
        assert_eq!(under_carets(&shown, &carets), "BAD", "{shown}\n{carets}");
        // A short line is left whole by the window.
        let (short, l) = window("ab: 1", loc);
        assert_eq!((short.as_str(), l), ("ab: 1", loc));
        // A long message is cut too.
        let msg = Diagnostic::error("x".repeat(10_000)).render(&sources);
        assert!(msg.chars().count() <= MAX_MESSAGE_CHARS + 10);
    }

    #[test]
    fn the_span_is_clamped_to_the_line_and_counts_characters() {
        let loc = Loc {
            source: 0,
            line: 1,
            column: 3,
            len: 50,
        };
        assert_eq!(byte_span("\tab: 1", loc), 2..6);
        assert_eq!(byte_span("ab", Loc { column: 99, ..loc }), 2..2);
        assert_eq!(byte_span("é日x", Loc { len: 1, ..loc }), 5..6);
        assert_eq!(byte_span("abc", Loc { len: 0, ..loc }), 2..2);
    }

    #[test]
    fn carets_line_up_under_wide_characters_and_tabs() {
        let mut sources = Sources::new();
        let id = sources.add("w.yaml", "名前: bad\n\tkey: bad\n");
        for (line, column) in [(1, 5), (2, 7)] {
            let loc = Loc {
                source: id,
                line,
                column,
                len: 3,
            };
            let out = Diagnostic::error("x").at(loc).render(&sources);
            assert!(out.contains(&format!("w.yaml:{line}:{column}")), "{out}");
            let (shown, carets) = shown_and_carets(&out);
            // Display columns: the text before the carets is as wide as the indentation.
            let before = shown.split("bad").next().unwrap();
            let width: usize = before
                .chars()
                .map(|c| {
                    if ('\u{1100}'..='\u{FFEF}').contains(&c) {
                        2
                    } else {
                        1
                    }
                })
                .sum();
            assert_eq!(carets.find('^'), Some(width), "{shown}\n{carets}");
        }
    }

    #[test]
    fn colour_only_when_asked() {
        let mut sources = Sources::new();
        let id = sources.add("c.yaml", "a: 1\n");
        let d = Diagnostic::warning("odd")
            .at(Loc::new(id, 1, 1))
            .with_path("a");
        assert!(!d.render(&sources).contains('\x1b'));
        let styled = d.render_with(&sources, true);
        assert!(
            styled.starts_with("\x1b[1m\x1b[33mwarning\x1b[0m"),
            "{styled:?}"
        );
        let e = Diagnostic::error("bad").render_with(&sources, true);
        assert!(e.starts_with("\x1b[1m\x1b[31merror\x1b[0m"), "{e:?}");
    }
}
