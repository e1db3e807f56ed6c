//! The located YAML tree: [`Loc`], [`Key`], [`Node`] and [`Value`].

use std::fmt::{self, Write as _};

/// Where a node came from.
///
/// `line` and `column` are 1-based and count characters (not bytes), as serde-saphyr reports
/// them. `len` is the length of the token in characters when known (keys and scalars), else 0.
/// Two sources are special: [`Loc::COMMAND_LINE_SOURCE`] (a `--set` value) and
/// [`Loc::UNKNOWN_SOURCE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Loc {
    /// Index into [`Sources`](super::Sources), or one of the special source ids.
    pub source: u32,
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// 1-based column in characters; 0 when unknown.
    pub column: u32,
    /// Token length in characters; 0 when unknown (block collections, `--set` values).
    pub len: u32,
}

impl Loc {
    /// Source id of values given on the command line with `--set`.
    pub const COMMAND_LINE_SOURCE: u32 = u32::MAX;
    /// Source id meaning "no idea where this came from".
    pub const UNKNOWN_SOURCE: u32 = u32::MAX - 1;
    /// A location that points nowhere.
    pub const UNKNOWN: Loc = Loc {
        source: Loc::UNKNOWN_SOURCE,
        line: 0,
        column: 0,
        len: 0,
    };
    /// The location of a `--set` value.
    pub const COMMAND_LINE: Loc = Loc {
        source: Loc::COMMAND_LINE_SOURCE,
        line: 0,
        column: 0,
        len: 0,
    };

    /// A location in `source` with unknown token length.
    pub fn new(source: u32, line: u32, column: u32) -> Loc {
        Loc {
            source,
            line,
            column,
            len: 0,
        }
    }

    /// True for `--set` values.
    pub fn is_command_line(&self) -> bool {
        self.source == Loc::COMMAND_LINE_SOURCE
    }

    /// True when the location points at a line of a loaded source.
    pub fn is_in_file(&self) -> bool {
        self.source < Loc::UNKNOWN_SOURCE && self.line > 0
    }

    /// True when the location carries no information at all.
    pub fn is_unknown(&self) -> bool {
        !self.is_command_line() && !self.is_in_file()
    }
}

/// A mapping key with its own location (used for "unknown field" errors).
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    /// The key as written. Non-string scalar keys keep their source spelling:
    /// `2024: 5` gives `"2024"`, `1.50: x` gives `"1.50"`.
    pub name: String,
    /// Where the key token starts.
    pub loc: Loc,
}

/// A YAML value with the location it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value starts (for block collections: their first key or dash).
    pub loc: Loc,
}

/// A YAML value. Mappings keep file order and never hold duplicate keys when built by
/// [`parse`](super::parse).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `~`, `null`, or an empty value.
    Null,
    /// `true` or `false` (YAML 1.1 spellings like `yes` stay strings).
    Bool(bool),
    /// A whole number that fits in `i128` (so every `u64` seed too).
    Int(i128),
    /// Any other number, including `1e6`, `.inf` and integers beyond `i64`.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order.
    Map(Vec<(Key, Node)>),
}

impl Node {
    /// A node holding `value` located at `loc`.
    pub fn new(value: Value, loc: Loc) -> Node {
        Node { value, loc }
    }

    /// A null node located at `loc`.
    pub fn null(loc: Loc) -> Node {
        Node::new(Value::Null, loc)
    }

    /// The value under `key`, when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, node)| node)
    }

    /// Mutable access to the value under `key`.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.value {
            Value::Map(entries) => entries
                .iter_mut()
                .find(|(k, _)| k.name == key)
                .map(|(_, node)| node),
            _ => None,
        }
    }

    /// The key and value under `key`, when this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<(&Key, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, node)| (k, node))
    }

    /// Removes `key` from a mapping and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        match &mut self.value {
            Value::Map(entries) => {
                let at = entries.iter().position(|(k, _)| k.name == key)?;
                Some(entries.remove(at).1)
            }
            _ => None,
        }
    }

    /// The string, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number, when this is an `Int` or a `Float`.
    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The whole number, when this is an `Int` (or a `Float` with no fractional part that fits).
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => i64::try_from(i).ok(),
            Value::Float(f) => float_to_i64(f),
            _ => None,
        }
    }

    /// The boolean, when this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The items, when this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Mutable items, when this is a sequence.
    pub fn as_seq_mut(&mut self) -> Option<&mut Vec<Node>> {
        match &mut self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entries in file order, when this is a mapping.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Mutable entries, when this is a mapping.
    pub fn as_map_mut(&mut self) -> Option<&mut Vec<(Key, Node)>> {
        match &mut self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// True for null.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The string under the `name` key, which identifies items of named lists.
    pub fn item_name(&self) -> Option<&str> {
        self.get("name")?.as_str()
    }

    /// The kind of value with an article, for messages: "a mapping", "a number", ...
    pub fn kind(&self) -> &'static str {
        self.value.kind()
    }

    /// The value described for "found ..." messages: `a string "abc"`, `the number 5`.
    pub fn describe(&self) -> String {
        self.value.describe()
    }

    /// Sets the location of this node, its keys and all its descendants to `loc`.
    pub fn relocate(&mut self, loc: Loc) {
        self.loc = loc;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|item| item.relocate(loc)),
            Value::Map(entries) => {
                for (key, node) in entries {
                    key.loc = loc;
                    node.relocate(loc);
                }
            }
            _ => {}
        }
    }
}

impl Value {
    /// The kind of value with an article, for messages: "a mapping", "a number", ...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "an empty value",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The value described for "found ..." messages: `a string "abc"`, `the number 5`.
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "an empty value (null)".to_string(),
            Value::Bool(b) => format!("the boolean {b}"),
            Value::Int(i) => format!("the number {i}"),
            Value::Float(f) => format!("the number {}", float_text(*f)),
            Value::Str(s) => format!("a string {}", quote_short(s)),
            Value::Seq(items) => format!("a list of {} item{}", items.len(), plural(items.len())),
            Value::Map(_) => "a mapping".to_string(),
        }
    }
}

/// `"s"` with escapes, cut after 40 characters.
pub(super) fn quote_short(s: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        if i == MAX {
            out.push_str("...");
            break;
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// YAML-ish text of a float: `0.8`, `1000000`, `.inf`, `-.inf`, `.nan`.
pub(super) fn float_text(f: f64) -> String {
    if f.is_nan() {
        ".nan".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.to_string()
    } else {
        format!("{f}")
    }
}

/// `f` as `i64` when it is a whole number in range.
pub(super) fn float_to_i64(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; every finite f64 below it in magnitude with zero
    // fraction converts exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

/// Appends `.key` to a display path (`products[2].hbm_stacks`), quoting keys that would not
/// read back: `demand."1.5"`.
pub fn child_path(parent: &str, key: &str) -> String {
    let mut out = String::with_capacity(parent.len() + key.len() + 1);
    out.push_str(parent);
    push_key(&mut out, key);
    out
}

/// Appends `[index]` to a display path.
pub fn item_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

pub(super) fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    let plain = !key.is_empty()
        && !key
            .chars()
            .any(|c| matches!(c, '.' | '[' | ']' | '"' | '=' | '\\') || c.is_whitespace());
    if plain {
        out.push_str(key);
    } else {
        out.push('"');
        for c in key.chars() {
            if matches!(c, '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
}

/// A path under construction while walking the tree; rendered only when an error needs it.
#[derive(Clone, Copy)]
pub(super) enum Trail<'a> {
    Root,
    Key(&'a Trail<'a>, &'a str),
    Index(&'a Trail<'a>, usize),
}

impl fmt::Display for Trail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl Trail<'_> {
    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Trail::Root => {}
            Trail::Key(parent, key) => {
                parent.render_into(out);
                push_key(out, key);
            }
            Trail::Index(parent, index) => {
                parent.render_into(out);
                // Writing to a String cannot fail.
                let _ = write!(out, "[{index}]");
            }
        }
    }
}
