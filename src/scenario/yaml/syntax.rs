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
    let raw: Spanned<RawValue> =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| saphyr_error(&e, source))?;
    let cx = Context { text, source };
    cx.convert(raw, &Trail::Root)
}

/// Deepest nesting of lists and mappings accepted. Scenarios need well under ten levels; the
/// cap keeps the recursive descent (serde-saphyr's and ours) within a 2 MiB thread stack even
/// in debug builds, where each level costs tens of kilobytes.
pub const MAX_DEPTH: usize = 24;

fn saphyr_error(err: &serde_saphyr::Error, source: u32) -> Diagnostic {
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
    let diagnostic = Diagnostic::error(format!("invalid YAML: {message}"));
    match err.location() {
        Some(location) => diagnostic.at(to_loc(&location, source)),
        None => diagnostic,
    }
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
    Int(i64),
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
        Ok(RawValue::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawValue::Int(i),
            Err(_) => RawValue::Float(v as f64),
        })
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawValue, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawValue::Int(i),
            Err(_) => RawValue::Float(v as f64),
        })
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawValue, E> {
        Ok(match i64::try_from(v) {
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
}
