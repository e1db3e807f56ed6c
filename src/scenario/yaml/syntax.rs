//! Text to located tree, through serde-saphyr's `Spanned`.
//!
//! serde-saphyr deserializes a `Spanned<RawValue>` per node (so every value, and every key,
//! gets its line and column); a second pass turns that into [`Node`]s, spells non-string keys
//! as written, and rejects duplicate keys with both locations.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Location, MessageFormatter, Spanned, UserMessageFormatter};

use super::diag::Diagnostic;
use super::node::{Key, Loc, Node, Trail, Value};

/// Parses one YAML document into a located tree. Every node's [`Loc`] has `source` set to
/// `source`. An empty document (or one holding only comments) is [`Value::Null`].
///
/// Scalars are typed by serde-saphyr, with YAML 1.2 booleans:
///
/// | written                                  | becomes                         |
/// |------------------------------------------|---------------------------------|
/// | `8000`, `8_000`, `+3`, `0x1F`, `0o17`    | `Int` (8000, 8000, 3, 31, 15)   |
/// | `0.8`, `1e6`, `1.`, `.5`, `0755`         | `Float` (`0755` is 755.0)       |
/// | `.inf`, `-.inf`, `1e400`                 | `Float` (infinite)              |
/// | integers beyond `i64`                    | `Float`                         |
/// | `2023-01`, `2024-01-01`, `12:30`         | `Str`                           |
/// | `yes`, `no`, `on`, `off`, `1_000.5`      | `Str`                           |
/// | `true`, `false`                          | `Bool`                          |
/// | `~`, `null`, `NULL`, nothing             | `Null`                          |
///
/// Mapping keys are always strings: a key that is a number, boolean or null keeps its source
/// spelling (`2024: 5` gives key `"2024"`, `1.50: x` gives `"1.50"`). Anchors, aliases and
/// `<<` merge keys work; an aliased node is located at the alias (`*name`).
///
/// # Errors
///
/// YAML syntax errors (located where serde-saphyr reports them), `.nan`, more than one
/// document, nesting deeper than [`MAX_DEPTH`], anchors and aliases beyond serde-saphyr's
/// budget, keys that are lists or mappings, and duplicate keys in one mapping (reported at the
/// second occurrence, naming the first).
pub fn parse(text: &str, source: u32) -> Result<Node, Diagnostic> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! { max_depth: MAX_DEPTH },
        with_snippet: false,
        strict_booleans: true,
        // Duplicates are let through and caught in `convert`, which knows both locations.
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::PassThrough,
    };
    let raw: Spanned<RawValue> = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| saphyr_error(&e, text, source))?;
    let cx = Context { text, source };
    cx.convert(raw, &Trail::Root)
}

/// Deepest nesting of lists and mappings accepted. Scenarios need well under ten levels; the
/// cap keeps the recursive descent (serde-saphyr's and ours) within a 2 MiB thread stack even
/// in debug builds, where each level costs tens of kilobytes.
pub const MAX_DEPTH: usize = 24;

fn saphyr_error(err: &serde_saphyr::Error, text: &str, source: u32) -> Diagnostic {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach;
    let err = err.without_snippet();
    let message = match err {
        E::Budget {
            breach: BudgetBreach::Depth { .. },
            ..
        } => format!("lists and mappings are nested deeper than {MAX_DEPTH} levels"),
        E::MultipleDocuments { .. } => {
            "a scenario file holds one YAML document; remove the second `---`".to_string()
        }
        E::UnknownAnchor { .. } => {
            "this alias (`*name`) refers to no anchor (`&name`) defined before it".to_string()
        }
        other => UserMessageFormatter.format_message(other).into_owned(),
    };
    let loc = err.location().map(|location| to_loc(&location, source));
    let (message, loc) = explain(text, message, loc);
    let diagnostic = Diagnostic::error(format!("invalid YAML: {message}"));
    match loc {
        Some(loc) => diagnostic.at(loc),
        None => diagnostic,
    }
}

/// Turns the parser's message into one that names the usual slip behind it, and moves the
/// location to where the slip is when the parser only noticed it later (a tab, an unclosed
/// bracket or quote). Returns the message (without the `invalid YAML: ` prefix) and location.
fn explain(text: &str, message: String, loc: Option<Loc>) -> (String, Option<Loc>) {
    let Some(loc) = loc.filter(|l| l.line > 0) else {
        return (message, loc);
    };
    let lines: Vec<&str> = text.lines().collect();
    let line_at = |n: u32| {
        usize::try_from(n)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| lines.get(i).copied())
    };
    let at = |line: usize, column: usize, len: usize| Loc {
        source: loc.source,
        line: u32::try_from(line).unwrap_or(0),
        column: u32::try_from(column).unwrap_or(0),
        len: u32::try_from(len).unwrap_or(0),
    };
    let lower = message.to_lowercase();

    // A tab in the indentation: serde-saphyr may report it on the line before.
    if lower.contains("tab") {
        let tabbed = |(i, l): &(usize, &&str)| {
            let lead: String = l.chars().take_while(|c| *c == ' ' || *c == '\t').collect();
            lead.contains('\t')
                .then(|| (i + 1, lead.find('\t').map_or(1, |c| c + 1)))
        };
        let numbered: Vec<(usize, &&str)> = lines.iter().enumerate().collect();
        let from = usize::try_from(loc.line).unwrap_or(1);
        let found = numbered
            .iter()
            .filter(|(i, _)| i + 1 >= from)
            .find_map(tabbed)
            .or_else(|| numbered.iter().rev().find_map(tabbed));
        return match found {
            Some((line, column)) => (
                "this line is indented with a tab; YAML indentation must be spaces".to_string(),
                Some(at(line, column, 1)),
            ),
            None => (format!("{message}; use spaces, not tabs"), Some(loc)),
        };
    }

    // An unclosed bracket or quote is only noticed where the parser gives up: point at the
    // opening one when it is on an earlier line.
    let flow = lower.contains("flow") || lower.contains("bracket");
    let quoted = lower.contains("quoted") || lower.contains("end of stream");
    if flow || quoted {
        let (quote, brackets) = unclosed(&lines, loc.line, loc.column);
        if let Some(q) = quote.filter(|q| q.line < loc.line) {
            return (
                format!(
                    "this `{}` starts a quoted value that is never closed (the parser ran on to \
                     line {}); close it with `{}` on the same line",
                    q.ch, loc.line, q.ch
                ),
                Some(at(q.line as usize, q.column as usize, 1)),
            );
        }
        if flow && let Some(b) = brackets.last().filter(|b| b.line < loc.line) {
            let close = if b.ch == '{' { '}' } else { ']' };
            return (
                format!(
                    "this `{}` is never closed (the parser ran on to line {}); add `{close}` at \
                     the end of the value",
                    b.ch, loc.line
                ),
                Some(at(b.line as usize, b.column as usize, 1)),
            );
        }
        return (message, Some(loc));
    }

    let here = line_at(loc.line).unwrap_or("");
    // `key:value` with no space after the colon is one plain string, not a key.
    if (lower.contains("simple key") || lower.contains("could not find expected ':'"))
        && let Some(key) = glued_key(here)
    {
        return (
            format!("`{key}:` needs a space after the colon: write `{key}: ...`"),
            Some(loc),
        );
    }
    if lower.contains("mapping values are not allowed") {
        // `name: Rest of market: US` -- a second `: ` inside a plain value.
        let before: String = here
            .chars()
            .take(usize::try_from(loc.column).unwrap_or(1).saturating_sub(1))
            .collect();
        if let Some(colon) = before.find(": ") {
            let key = before[..colon].trim().trim_start_matches("- ");
            let value = here[colon + 2..].trim();
            return (
                format!(
                    "a value containing `: ` must be quoted: write `{key}: \"{}\"`",
                    value.replace('"', "\\\"")
                ),
                Some(loc),
            );
        }
        if let Some(found) = dash_without_space(&lines, loc) {
            return found;
        }
        if let Some((above, key)) = previous_key(&lines, loc.line)
            && indent_of(here) > key.1
        {
            let name = here.trim().split(':').next().unwrap_or("").trim();
            let line = usize::try_from(loc.line).unwrap_or(0);
            return (
                format!(
                    "`{name}:` is indented deeper than `{}:` on line {above}, so YAML reads it \
                     as part of that value; start the keys of one mapping in the same column",
                    key.0
                ),
                Some(at(line, indent_of(here) + 1, name.chars().count())),
            );
        }
        return (
            format!("{message}; check the indentation, or quote a value that contains `: `"),
            Some(loc),
        );
    }
    if lower.contains("did not find expected") && lower.contains("block") {
        if let Some(found) = dash_without_space(&lines, loc) {
            return found;
        }
        if let Some((above, key)) = previous_key(&lines, loc.line) {
            let name = here.trim().split(':').next().unwrap_or("").trim();
            let column = indent_of(here) + 1;
            return (
                format!(
                    "`{name}` starts in column {column}, which lines up with no key above it \
                     (`{}:` on line {above} starts in column {}); start the keys of one mapping \
                     in the same column",
                    key.0,
                    key.1 + 1
                ),
                Some(loc),
            );
        }
        return (
            format!("{message}; check the indentation of this line"),
            Some(loc),
        );
    }
    if lower.contains("unexpected character") {
        let start = usize::try_from(loc.column).unwrap_or(1).saturating_sub(1);
        let value: String = here.chars().skip(start).collect();
        let value = value.trim_end();
        if let Some(c @ ('@' | '`')) = value.chars().next() {
            let tick = if c == '`' { "`` ` ``" } else { "`@`" };
            return (
                format!(
                    "{tick} is reserved in YAML and cannot start a plain value; quote it: \
                     \"{}\"",
                    value.replace('"', "\\\"")
                ),
                Some(loc),
            );
        }
    }
    (message, Some(loc))
}

/// `-name: x` on the line of `loc` or up to four lines above: a list item needs a space after
/// the dash. Returns the message and the dash's location.
fn dash_without_space(lines: &[&str], loc: Loc) -> Option<(String, Option<Loc>)> {
    let last = usize::try_from(loc.line).ok()?;
    let first = last.saturating_sub(5);
    (first..last).rev().find_map(|n| {
        let l = lines.get(n)?;
        let t = l.trim_start();
        let dashless = t.starts_with('-') && t.chars().nth(1).is_some_and(char::is_alphabetic);
        dashless.then(|| {
            let column = l.len() - t.len() + 1;
            (
                format!(
                    "a list item needs a space after `-`: write `- {}`",
                    t[1..].trim_end()
                ),
                Some(Loc {
                    source: loc.source,
                    line: u32::try_from(n + 1).unwrap_or(0),
                    column: u32::try_from(column).unwrap_or(0),
                    len: 1,
                }),
            )
        })
    })
}

/// Width of a line's leading spaces.
fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The nearest line above `line` (1-based) that holds a `key:`, as (line number, (key, the
/// key's 0-based column)).
fn previous_key<'a>(lines: &[&'a str], line: u32) -> Option<(usize, (&'a str, usize))> {
    let end = usize::try_from(line).ok()?.checked_sub(1)?;
    (0..end).rev().find_map(|i| {
        let l = lines.get(i)?;
        let t = l.trim_start_matches(' ');
        if t.is_empty() || t.starts_with('#') {
            return None;
        }
        let (dash, t) = match t.strip_prefix("- ") {
            Some(rest) => (2 + rest.len() - rest.trim_start().len(), rest.trim_start()),
            None => (0, t),
        };
        let key = t.split(':').next()?;
        let ok = t.contains(':') && !key.is_empty() && !key.contains([' ', '{', '[', '"', '\'']);
        ok.then(|| (i + 1, (key, indent_of(l) + dash)))
    })
}

/// `power_w:700`: the key of a `key:value` with no space, if the line is one.
fn glued_key(line: &str) -> Option<&str> {
    let t = line.trim_start().trim_start_matches("- ");
    let (key, rest) = t.split_once(':')?;
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        && rest.starts_with(|c: char| !c.is_whitespace());
    ok.then_some(key)
}

/// An opening quote or bracket, located (1-based line and character column).
#[derive(Clone, Copy)]
struct Open {
    line: u32,
    column: u32,
    ch: char,
}

/// Scans `lines` up to (`line`, `column`) and returns the quote still open there, if any, and
/// the flow brackets still open, innermost last. Only quotes and brackets that start a value
/// count (after `: `, `- `, `[`, `{`, `,` or at the start of a line); `#` starts a comment after
/// a space. Good enough to point at the likely culprit of a parse error.
fn unclosed(lines: &[&str], line: u32, column: u32) -> (Option<Open>, Vec<Open>) {
    let mut quote: Option<Open> = None;
    let mut stack: Vec<Open> = Vec::new();
    for (i, text) in lines.iter().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if n > line {
            break;
        }
        let chars: Vec<char> = text.chars().collect();
        // The last significant character before this one on the line, and whether a space
        // came after it.
        let mut prev: Option<char> = None;
        let mut spaced = false;
        let mut k = 0;
        while k < chars.len() {
            let col = u32::try_from(k + 1).unwrap_or(u32::MAX);
            if n == line && col >= column {
                break;
            }
            let c = chars[k];
            if let Some(q) = quote {
                if q.ch == '"' && c == '\\' {
                    k += 2;
                    continue;
                }
                if c == q.ch {
                    if q.ch == '\'' && chars.get(k + 1) == Some(&'\'') {
                        k += 2;
                        continue;
                    }
                    quote = None;
                    prev = Some(c);
                    spaced = false;
                }
                k += 1;
                continue;
            }
            if c == ' ' || c == '\t' {
                spaced = true;
                k += 1;
                continue;
            }
            if c == '#' && (prev.is_none() || spaced) {
                break;
            }
            let starts_value = match prev {
                None => true,
                Some('[' | '{' | ',') => true,
                Some(':' | '-' | '?') => spaced,
                _ => false,
            };
            let open = Open {
                line: n,
                column: col,
                ch: c,
            };
            match c {
                '"' | '\'' if starts_value => quote = Some(open),
                '[' | '{' if starts_value || !stack.is_empty() => stack.push(open),
                ']' | '}' if !stack.is_empty() => {
                    stack.pop();
                }
                _ => {}
            }
            prev = Some(c);
            spaced = false;
            k += 1;
        }
    }
    (quote, stack)
}

fn to_loc(location: &Location, source: u32) -> Loc {
    let span = location.span();
    let len = if span == serde_saphyr::Span::UNKNOWN {
        0
    } else {
        u32::try_from(span.len()).unwrap_or(0)
    };
    Loc {
        source,
        line: u32::try_from(location.line()).unwrap_or(0),
        column: u32::try_from(location.column()).unwrap_or(0),
        len,
    }
}

struct Context<'t> {
    text: &'t str,
    source: u32,
}

impl Context<'_> {
    fn convert(&self, raw: Spanned<RawValue>, trail: &Trail<'_>) -> Result<Node, Diagnostic> {
        let loc = to_loc(&raw.referenced, self.source);
        let value = match raw.value {
            RawValue::Null => Value::Null,
            RawValue::Bool(b) => Value::Bool(b),
            RawValue::Int(i) => Value::Int(i),
            RawValue::Float(f) if f.is_nan() => {
                return Err(Diagnostic::error(
                    "`.nan` (not a number) cannot be used in a scenario; write a number",
                )
                .at(loc)
                .with_path(trail.render()));
            }
            RawValue::Float(f) => Value::Float(f),
            RawValue::Str(s) => Value::Str(s),
            RawValue::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.into_iter().enumerate() {
                    out.push(self.convert(item, &Trail::Index(trail, index))?);
                }
                Value::Seq(out)
            }
            RawValue::Map(entries) => {
                let mut out: Vec<(Key, Node)> = Vec::with_capacity(entries.len());
                for (raw_key, raw_value) in entries {
                    let key = self.key(raw_key);
                    let child = Trail::Key(trail, &key.name);
                    if let Some((first, _)) = out.iter().find(|(k, _)| k.name == key.name) {
                        return Err(Diagnostic::error(format!(
                            "duplicate key `{}` (first set at line {}, column {}); \
                             remove one of them",
                            key.name, first.loc.line, first.loc.column
                        ))
                        .at(key.loc)
                        .with_path(child.render()));
                    }
                    let node = self.convert(raw_value, &child)?;
                    out.push((key, node));
                }
                Value::Map(out)
            }
        };
        Ok(Node::new(value, loc))
    }

    fn key(&self, raw: Spanned<RawKey>) -> Key {
        let loc = to_loc(&raw.referenced, self.source);
        let name = match raw.value {
            RawKey::Str(s) => s,
            RawKey::Scalar(fallback) => self.spelling(&raw.referenced).unwrap_or(fallback),
        };
        Key { name, loc }
    }

    /// The source text of a plain scalar token, when serde-saphyr reported its bytes.
    fn spelling(&self, location: &Location) -> Option<String> {
        let span = location.span();
        let start = usize::try_from(span.byte_offset()?).ok()?;
        let len = usize::try_from(span.byte_len()?).ok()?;
        let text = self.text.get(start..start.checked_add(len)?)?;
        // An alias (`*a`) or a tagged scalar does not spell the value itself.
        let plain = !text.is_empty()
            && !text.starts_with(['*', '&', '!', '"', '\''])
            && !text.contains(['\n', '\r']);
        plain.then(|| text.to_string())
    }
}

/// A value as serde-saphyr hands it over, before locations are converted.
enum RawValue {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<RawKey>, Spanned<RawValue>)>),
}

/// A mapping key: a string, or another scalar with its fallback text (used when the source
/// spelling is not available).
enum RawKey {
    Str(String),
    Scalar(String),
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawValueVisitor)
    }
}

struct RawValueVisitor;

impl<'de> Visitor<'de> for RawValueVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(i128::from(v)))
    }

    // Whole numbers stay whole up to `i128`: a `u64` seed like 18446744073709551615 must not
    // go through `f64`, which would round it.
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Int(i128::from(v)))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawValue, E> {
        Ok(RawValue::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawValue, E> {
        Ok(match i128::try_from(v) {
            Ok(i) => RawValue::Int(i),
            Err(_) => RawValue::Float(v as f64),
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Float(v))
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<RawValue, E> {
        Err(E::custom("binary values are not supported in scenarios"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<RawValue, D::Error> {
        RawValue::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(RawValue::Map(entries))
    }
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawKeyVisitor)
    }
}

struct RawKeyVisitor;

impl<'de> Visitor<'de> for RawKeyVisitor {
    type Value = RawKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a plain mapping key (a name, not a list or mapping)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawKey, E> {
        Ok(RawKey::Scalar(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawKey, E> {
        Ok(RawKey::Scalar(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawKey, E> {
        Ok(RawKey::Scalar(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawKey, E> {
        Ok(RawKey::Scalar(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawKey, E> {
        Ok(RawKey::Scalar(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawKey, E> {
        Ok(RawKey::Scalar(super::node::float_text(v)))
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<RawKey, E> {
        Ok(RawKey::Str(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawKey, E> {
        Ok(RawKey::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawKey, E> {
        Ok(RawKey::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawKey, E> {
        Ok(RawKey::Scalar("null".to_string()))
    }

    fn visit_none<E: de::Error>(self) -> Result<RawKey, E> {
        Ok(RawKey::Scalar("null".to_string()))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawKey, D::Error> {
        RawKey::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<RawKey, D::Error> {
        RawKey::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(node: &Node) -> (u32, u32) {
        (node.loc.line, node.loc.column)
    }

    fn key_at(node: &Node, key: &str) -> (u32, u32) {
        node.entry(key)
            .map(|(k, _)| (k.loc.line, k.loc.column))
            .unwrap_or((0, 0))
    }

    const NESTED: &str = "\
supply:
  cowos_capacity: 8000
  packaging_lines:
    - name: line_a
      capacity: 120.5
    - name: line_b
      capacity: [1, 2]
products: {h100: {hbm_stacks: 5}}
";

    #[test]
    fn keys_and_values_are_located_in_nested_maps_and_sequences() {
        let root = parse(NESTED, 7).expect("valid yaml");
        assert_eq!(root.loc.source, 7);
        let supply = root.get("supply").expect("supply");
        assert_eq!(key_at(&root, "supply"), (1, 1));
        assert_eq!(at(supply), (2, 3)); // a block map starts at its first key
        assert_eq!(key_at(supply, "cowos_capacity"), (2, 3));
        let cap = supply.get("cowos_capacity").expect("cap");
        assert_eq!((at(cap), cap.loc.len), ((2, 19), 4));
        assert_eq!(cap.value, Value::Int(8000));

        let lines = supply.get("packaging_lines").expect("lines");
        let items = lines.as_seq().expect("seq");
        assert_eq!(at(&items[0]), (4, 7));
        assert_eq!(key_at(&items[0], "name"), (4, 7));
        assert_eq!(at(items[0].get("capacity").expect("c")), (5, 17));
        assert_eq!(items[0].get("capacity").and_then(Node::as_f64), Some(120.5));
        assert_eq!(key_at(&items[1], "capacity"), (7, 7));
        let flow = items[1]
            .get("capacity")
            .and_then(Node::as_seq)
            .expect("flow");
        assert_eq!(at(&flow[0]), (7, 18));
        assert_eq!(at(&flow[1]), (7, 21));

        let h100 = root
            .get("products")
            .and_then(|p| p.get("h100"))
            .expect("h100");
        assert_eq!(key_at(h100, "hbm_stacks"), (8, 19));
        assert_eq!(at(h100.get("hbm_stacks").expect("stacks")), (8, 31));
    }

    #[test]
    fn non_string_keys_keep_their_spelling() {
        let root = parse("2023-01: 5\n2024: 6\n1.50: 7\ntrue: 8\n0x1F: 9\n~: 10\n", 0)
            .expect("valid yaml");
        let keys: Vec<&str> = root
            .as_map()
            .unwrap_or_default()
            .iter()
            .map(|(k, _)| k.name.as_str())
            .collect();
        assert_eq!(keys, ["2023-01", "2024", "1.50", "true", "0x1F", "~"]);
    }

    #[test]
    fn scalars_are_typed_like_yaml_1_2() {
        let root = parse(
            "a: 1e6\nb: 8_000\nc: yes\nd: 2023-01\ne: 1.0\nf: -3\ng: ~\nh: \"5\"\ni: .inf\nj:\n",
            0,
        )
        .expect("valid yaml");
        let v = |k: &str| root.get(k).map(|n| n.value.clone());
        assert_eq!(v("a"), Some(Value::Float(1e6)));
        assert_eq!(v("b"), Some(Value::Int(8000)));
        assert_eq!(v("c"), Some(Value::Str("yes".into())));
        assert_eq!(v("d"), Some(Value::Str("2023-01".into())));
        assert_eq!(v("e"), Some(Value::Float(1.0)));
        assert_eq!(v("f"), Some(Value::Int(-3)));
        assert_eq!(v("g"), Some(Value::Null));
        assert_eq!(v("h"), Some(Value::Str("5".into())));
        assert_eq!(v("i"), Some(Value::Float(f64::INFINITY)));
        assert_eq!(v("j"), Some(Value::Null));

        let root = parse(
            "a: 0x1F\nb: 0o17\nc: +3\nd: 1.\ne: .5\nf: 0755\ng: NULL\nh: 12:30\n\
             i: 1_000.5\nj: 1e400\nk: 99999999999999999999\nl: on\nm: 2024-01-01\n",
            0,
        )
        .expect("valid yaml");
        let v = |k: &str| root.get(k).map(|n| n.value.clone());
        assert_eq!(v("a"), Some(Value::Int(31)));
        assert_eq!(v("b"), Some(Value::Int(15)));
        assert_eq!(v("c"), Some(Value::Int(3)));
        assert_eq!(v("d"), Some(Value::Float(1.0)));
        assert_eq!(v("e"), Some(Value::Float(0.5)));
        assert_eq!(v("f"), Some(Value::Float(755.0)));
        assert_eq!(v("g"), Some(Value::Null));
        assert_eq!(v("h"), Some(Value::Str("12:30".into())));
        assert_eq!(v("i"), Some(Value::Str("1_000.5".into())));
        assert_eq!(v("j"), Some(Value::Float(f64::INFINITY)));
        assert_eq!(v("k"), Some(Value::Float(1e20)));
        assert_eq!(v("l"), Some(Value::Str("on".into())));
        assert_eq!(v("m"), Some(Value::Str("2024-01-01".into())));
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(parse("", 0).map(|n| n.value), Ok(Value::Null));
        assert_eq!(parse("# nothing\n", 0).map(|n| n.value), Ok(Value::Null));
    }

    #[test]
    fn duplicate_key_is_reported_at_the_second_one() {
        let err = parse("a: 1\nb:\n  x: 1\n  y: 2\n  x: 3\n", 3).expect_err("duplicate");
        assert_eq!(
            err.loc.map(|l| (l.source, l.line, l.column)),
            Some((3, 5, 3))
        );
        assert_eq!(err.path, "b.x");
        assert!(
            err.message
                .contains("duplicate key `x` (first set at line 3, column 3)")
        );
        let flow = parse("a: {k: 1, k: 2}", 0).expect_err("duplicate");
        assert_eq!(flow.loc.map(|l| (l.line, l.column)), Some((1, 11)));
    }

    #[test]
    fn merge_keys_are_not_duplicates() {
        let root = parse("base: &b {x: 1, y: 2}\nover:\n  <<: *b\n  x: 5\n", 0).expect("merge");
        let over = root.get("over").expect("over");
        assert_eq!(over.get("x").and_then(Node::as_i64), Some(5));
        assert_eq!(over.get("y").and_then(Node::as_i64), Some(2));
    }

    #[test]
    fn syntax_errors_carry_saphyr_locations() {
        let err = parse("a: [1, 2\n", 2).expect_err("unclosed");
        assert_eq!(err.message, "invalid YAML: unclosed bracket '['");
        assert_eq!(
            err.loc.map(|l| (l.source, l.line, l.column)),
            Some((2, 1, 4))
        );
        let err = parse("a: b: c\n", 0).expect_err("nested plain map");
        assert_eq!(err.loc.map(|l| (l.line, l.column)), Some((1, 5)));
        let err = parse("a: *nope\n", 0).expect_err("unknown alias");
        assert!(
            err.message.contains("refers to no anchor"),
            "{}",
            err.message
        );
        let err = parse("a: 1\n  b: 2\n", 0).expect_err("bad indent");
        assert_eq!(err.loc.map(|l| l.line), Some(2));
        let err = parse("a: 1\n---\nb: 2\n", 0).expect_err("two documents");
        assert!(err.message.contains("one YAML document"), "{}", err.message);
        assert!(parse("? [1, 2]\n: 3\n", 0).is_err());
    }

    /// (message, line, column) of a parse error.
    fn slip(text: &str) -> (String, u32, u32) {
        let err = parse(text, 0).expect_err("a syntax error");
        let (line, column) = err.loc.map_or((0, 0), |l| (l.line, l.column));
        (err.message, line, column)
    }

    #[test]
    fn syntax_errors_name_the_usual_slip_where_it_is() {
        // A tab in the indentation of line 3, whatever line the parser blames.
        let (msg, line, column) = slip("p:\n  - name: H100\n\tvendor: Nvidia\n");
        assert!(msg.contains("indented with a tab"), "{msg}");
        assert_eq!((line, column), (3, 1));

        // An unclosed `{` is shown where it opens, not where the parser gave up.
        let (msg, line, column) = slip("a:\n  mix: {H100: 1.0\n  fleet: {H100: 5}\n");
        assert!(msg.contains("this `{` is never closed"), "{msg}");
        assert_eq!((line, column), (2, 8));

        // A quote opened on line 1 and never closed.
        let (msg, line, column) = slip("a: \"Nvidia\nb: 1\nc: 2\n");
        assert!(msg.contains("quoted value that is never closed"), "{msg}");
        assert_eq!((line, column), (1, 4));

        let (msg, ..) = slip("name: Rest of market: US\n");
        assert!(
            msg.contains("must be quoted: write `name: \"Rest of market: US\"`"),
            "{msg}"
        );

        let (msg, line, column) = slip("l:\n  - name: a\n  -name: b\n    x: 1\n");
        assert!(msg.contains("needs a space after `-`"), "{msg}");
        assert_eq!((line, column), (3, 3));

        let (msg, line, column) = slip("p:\n  name: a\n    vendor: b\n");
        assert!(
            msg.contains("`vendor:` is indented deeper than `name:` on line 2"),
            "{msg}"
        );
        assert_eq!((line, column), (3, 5));

        let (msg, ..) = slip("p:\n  - name: a\n    power: 7\n   price: 3\n");
        assert!(
            msg.contains("`price` starts in column 4, which lines up with no key above it"),
            "{msg}"
        );

        let (msg, ..) = slip("name: @Nvidia\n");
        assert!(msg.contains("quote it: \"@Nvidia\""), "{msg}");
    }

    #[test]
    fn explaining_a_syntax_error_never_panics() {
        // Deterministic mutations of a small scenario (with multi-byte text) that insert the
        // characters behind most slips; `parse` must return, never panic, whatever the error.
        const TEXT: &str = "name: café — test\nproducts:\n  - name: H100\n    mix: {a: 1, b: [2, 3]}\n    note: 'it''s'\n";
        const INSERT: [&str; 12] = [
            "\t", "{", "[", "\"", "'", ": ", "-", "\n  ", "@", "#", "é", "}",
        ];
        let chars: Vec<char> = TEXT.chars().collect();
        let mut state = 0x2545_f491_u64;
        for _ in 0..3000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (state >> 33) as usize % (chars.len() + 1);
            let what = INSERT[(state >> 20) as usize % INSERT.len()];
            let mut text: String = chars[..at].iter().collect();
            text.push_str(what);
            text.extend(&chars[at..]);
            if let Err(err) = parse(&text, 0) {
                assert!(
                    err.message.starts_with("invalid YAML") || err.message.contains("duplicate")
                );
            }
        }
    }

    #[test]
    fn the_bracket_scan_ignores_closed_brackets_quotes_in_words_and_comments() {
        let lines = [
            "a: {x: 1,",
            "    y: [1, 2]}  # a [comment",
            "b: Rest of market's",
        ];
        let (quote, open) = unclosed(&lines, 4, 1);
        assert!(quote.is_none());
        assert!(open.is_empty());
        let (quote, open) = unclosed(&["a: 'it''s", "b: [x, {y: 1}"], 3, 1);
        assert_eq!(quote.map(|q| (q.line, q.column)), Some((1, 4)));
        assert!(open.is_empty(), "brackets inside a quote do not count");
        let (_, open) = unclosed(&["a: [x, {y: 1}", "b: 2"], 2, 1);
        assert_eq!(open.iter().map(|o| o.ch).collect::<String>(), "[");
    }
}
