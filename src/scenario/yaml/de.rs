//! A serde `Deserializer` over a located tree, so `#[derive(Deserialize)]` raw config types
//! can be built from the merged scenario with errors that carry a path and a location.
//!
//! Every error is placed once, at the innermost node that saw it: the key for unknown fields
//! and unknown enum tags, the value for type errors, the mapping for missing fields.

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};

use super::diag::{Diagnostic, did_you_mean, unknown_name_hint};
use super::node::{Key, Loc, Node, Trail, Value, float_text, plural, quote_short};

/// The words a timeline map takes besides dates (see `scenario::timeline`).
const TIMELINE_KEYS: &[&str] = &["interpolation", "points"];

/// Builds `T` from a tree (usually the merged scenario), with serde's derive.
///
/// - Numbers: an `Int` fits `f64` fields; a `Float` with no fractional part fits integer
///   fields; anything out of the target's range is an error naming the range. `.nan` is
///   rejected (even through `deserialize_any`); `.inf` is passed through for the semantic
///   checks to judge.
/// - Strings: a number is accepted as its text (`name: 2024`); booleans and null are not.
/// - Enums: unit variants from strings (`allocation: pro_rata`), other variants from a mapping
///   with one key (`{bass: {p: 0.03}}`); a struct variant may also be written as its bare name
///   when all its fields have defaults.
/// - `Option`: null is `None`. Maps with string keys (e.g. `BTreeMap<String, T>`), sequences,
///   tuples, newtype structs, `deserialize_any` and `deserialize_ignored_any` all work.
///
/// # Errors
///
/// The first problem found, with the field path and the location of the offending node.
/// Unknown fields read "unknown field `cowos_capcity`, did you mean `cowos_capacity`?".
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, Diagnostic> {
    T::deserialize(NodeDe {
        node,
        trail: &Trail::Root,
    })
    .map_err(DeError::into_diagnostic)
}

/// The error type of the tree deserializer; becomes a [`Diagnostic`].
#[derive(Debug)]
pub(super) struct DeError {
    message: String,
    /// Set once by the innermost node that saw the error.
    place: Option<(Option<Loc>, String)>,
    /// For an unknown field raised by a visitor after it read the key (not through serde's
    /// field identifier): the key, so the mapping can place the error at it.
    field: Option<String>,
}

impl DeError {
    fn new(message: impl Into<String>) -> DeError {
        DeError {
            message: message.into(),
            place: None,
            field: None,
        }
    }

    fn placed(mut self, loc: Loc, trail: &Trail<'_>) -> DeError {
        if self.place.is_none() {
            self.place = Some(((!loc.is_unknown()).then_some(loc), trail.render()));
        }
        self
    }

    fn into_diagnostic(self) -> Diagnostic {
        let (loc, path) = self.place.unwrap_or((None, String::new()));
        Diagnostic {
            loc,
            path,
            ..Diagnostic::error(self.message)
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> DeError {
        DeError::new(msg.to_string())
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> DeError {
        let hint = match unexp {
            Unexpected::Str(s) if exp.to_string().starts_with("a number") => number_hint(s),
            _ => String::new(),
        };
        DeError::new(format!(
            "expected {exp}, found {}{hint}",
            describe_unexpected(&unexp)
        ))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> DeError {
        DeError::new(format!(
            "expected {exp}, found {}",
            describe_unexpected(&unexp)
        ))
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> DeError {
        DeError::new(format!("expected {exp}, found {len} item{}", plural(len)))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> DeError {
        DeError::new(format!(
            "unknown value `{variant}`{}",
            unknown_name_hint(variant, expected)
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> DeError {
        let mut err = if expected.is_empty() {
            DeError::new(format!(
                "unknown field `{field}`; this mapping takes no fields"
            ))
        } else if expected == TIMELINE_KEYS
            && did_you_mean(field, expected.iter().copied()).is_none()
        {
            // A timeline map whose key is neither a date nor one of its two words: most often
            // a date written another way (`Jan-2024`, `2024/01`).
            // A key of a distribution written flat (`{dist: normal, mean: 30000, sd: 3000}`)
            // also says how a distribution is written.
            let word = field.to_ascii_lowercase();
            let flat_distribution = ["dist", "distribution", "family", "type"]
                .contains(&word.as_str())
                || crate::scenario::dist::FAMILIES.contains(&word.as_str())
                || crate::scenario::dist::ALL_PARAMS.contains(&word.as_str());
            DeError::new(format!(
                "`{field}` is not a date; a timeline's keys are dates written YYYY-MM or \
                 YYYY-MM-DD ({{2024-01: 8000, 2024-07-15: 12000}}), or `interpolation` and \
                 `points`{}",
                if flat_distribution {
                    "; a distribution is written {normal: {mean: M, sd: S}} (the family as the \
                     one key, its parameters in a map under it)"
                } else {
                    ""
                }
            ))
        } else {
            DeError::new(format!(
                "unknown field `{field}`{}",
                unknown_name_hint(field, expected)
            ))
        };
        err.field = Some(field.to_string());
        err
    }

    fn missing_field(field: &'static str) -> DeError {
        DeError::new(format!("missing field `{field}`"))
    }

    fn duplicate_field(field: &'static str) -> DeError {
        DeError::new(format!("duplicate field `{field}`"))
    }
}

fn describe_unexpected(unexp: &Unexpected<'_>) -> String {
    match *unexp {
        Unexpected::Bool(b) => format!("the boolean {b}"),
        Unexpected::Unsigned(u) => format!("the number {u}"),
        Unexpected::Signed(i) => format!("the number {i}"),
        Unexpected::Float(f) => format!("the number {}", float_text(f)),
        Unexpected::Char(c) => format!("the character {}", quote_short(&c.to_string())),
        Unexpected::Str(s) => format!("a string {}", quote_short(s)),
        Unexpected::Bytes(_) => "binary data".to_string(),
        Unexpected::Unit => "an empty value (null)".to_string(),
        Unexpected::Option => "an optional value".to_string(),
        Unexpected::NewtypeStruct => "a wrapped value".to_string(),
        Unexpected::Seq => "a list".to_string(),
        Unexpected::Map => "a mapping".to_string(),
        Unexpected::Enum
        | Unexpected::NewtypeVariant
        | Unexpected::TupleVariant
        | Unexpected::StructVariant => "a tagged value".to_string(),
        Unexpected::UnitVariant => "a named choice".to_string(),
        Unexpected::Other(other) => other.to_string(),
    }
}

/// Deserializer for one node; `trail` is its path.
#[derive(Clone, Copy)]
struct NodeDe<'a, 'p> {
    node: &'a Node,
    trail: &'p Trail<'p>,
}

impl<'p> NodeDe<'_, 'p> {
    fn place<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|e| e.placed(self.node.loc, self.trail))
    }

    /// "expected {expected}, found {what the node is}" plus a hint for common slips.
    fn type_error(&self, expected: &str) -> DeError {
        let found = self.node.describe();
        let hint = match (&self.node.value, expected) {
            (Value::Str(s), "a number" | "a whole number") => number_hint(s),
            (Value::Str(s), "true or false")
                if ["yes", "no", "on", "off", "y", "n"].contains(&s.to_lowercase().as_str()) =>
            {
                "; booleans are written `true` or `false`".to_string()
            }
            (Value::Bool(b), "a string") => format!("; quote it if you mean the text: \"{b}\""),
            (Value::Null, "a mapping" | "a list") => {
                "; nothing is written under this key (check the indentation)".to_string()
            }
            (Value::Seq(_), "a mapping") => {
                "; a mapping is written `{key: value, ...}` or one `key: value` per line, \
                 without `- `"
                    .to_string()
            }
            (Value::Map(_), "a list") => {
                "; start each item of a list with `- ` (or write `[a, b]`)".to_string()
            }
            _ => String::new(),
        };
        DeError::new(format!("expected {expected}, found {found}{hint}"))
            .placed(self.node.loc, self.trail)
    }

    /// The node as a whole number (an `Int`, or a `Float` with no fractional part).
    fn whole(&self) -> Result<i128, DeError> {
        // 2^127: every whole f64 strictly inside (-2^127, 2^127) converts exactly.
        const LIMIT: f64 = 1.7014118346046923e38;
        match self.node.value {
            Value::Int(i) => Ok(i),
            Value::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < LIMIT => {
                Ok(f as i128)
            }
            _ => Err(self.type_error("a whole number")),
        }
    }

    fn ranged<T: TryFrom<i128> + fmt::Display>(&self, min: T, max: T) -> Result<T, DeError> {
        let v = self.whole()?;
        T::try_from(v).map_err(|_| {
            let range = if v < 0 && min.to_string() == "0" {
                "a whole number, 0 or more".to_string()
            } else {
                format!("a whole number from {min} to {max}")
            };
            DeError::new(format!("expected {range}, found the number {v}"))
                .placed(self.node.loc, self.trail)
        })
    }

    fn number(&self) -> Result<f64, DeError> {
        match self.node.value {
            Value::Int(i) => Ok(i as f64),
            Value::Float(f) if f.is_nan() => {
                Err(DeError::new("expected a number, found .nan").placed(self.node.loc, self.trail))
            }
            Value::Float(f) => Ok(f),
            _ => Err(self.type_error("a number")),
        }
    }

    /// Visits a mapping. A visitor that reads keys as strings and refuses one itself (a
    /// timeline's `interpolaton:`) raises an unplaced error: it is put at that key.
    fn visit_entries<'de, V: Visitor<'de>>(
        &self,
        visitor: V,
        entries: &[(Key, Node)],
    ) -> Result<V::Value, DeError> {
        visitor
            .visit_map(self.map_access(entries))
            .map_err(|e| match (&e.place, &e.field) {
                (None, Some(field)) => match entries.iter().find(|(k, _)| &k.name == field) {
                    Some((key, _)) => {
                        let trail = Trail::Key(self.trail, &key.name);
                        e.placed(key.loc, &trail)
                    }
                    None => e,
                },
                _ => e,
            })
    }

    fn map_access<'e>(&self, entries: &'e [(Key, Node)]) -> MapDe<'e, 'p> {
        MapDe {
            entries: entries.iter(),
            pending: None,
            trail: self.trail,
        }
    }
}

fn number_hint(s: &str) -> String {
    let trimmed = s.trim();
    if trimmed.parse::<f64>().is_ok() {
        return "; remove the quotes to make it a number".to_string();
    }
    let cleaned = trimmed.replace('_', "");
    if cleaned != trimmed && cleaned.parse::<f64>().is_ok() {
        return format!("; digit separators `_` only work in whole numbers: write {cleaned}");
    }
    // `$30,000`, `1,000`: currency signs and thousands commas.
    let bare = trimmed.trim_start_matches(['$', '€', '£']).replace(',', "");
    if bare != trimmed && bare.parse::<f64>().is_ok() {
        return format!(
            "; write the bare number {bare}, without currency signs or thousands commas"
        );
    }
    // `90%`: a share is a fraction.
    if let Some(p) = trimmed
        .strip_suffix('%')
        .and_then(|p| p.trim().parse::<f64>().ok())
    {
        return format!("; write a share as a fraction: {}", p / 100.0);
    }
    // `10k`, `1.5M`, `2B`: magnitude suffixes.
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(trimmed.len());
    let (digits, suffix) = trimmed.split_at(split);
    let Ok(n) = digits.parse::<f64>() else {
        return String::new();
    };
    let scale = match suffix.trim() {
        "k" | "K" => Some(1e3),
        "M" => Some(1e6),
        "B" | "G" | "bn" => Some(1e9),
        "T" => Some(1e12),
        _ => None,
    };
    match scale {
        Some(scale) => format!(
            "; write the whole number: {} (YAML has no `{}` suffix)",
            float_text(n * scale),
            suffix.trim()
        ),
        // `700W`, `50 MW`: the unit is in the field's name, not the value.
        None => format!(
            "; write the number alone ({digits}): the unit is part of the field's name \
             (`power_w` is in watts)"
        ),
    }
}

macro_rules! deserialize_integer {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
                let v = self.ranged::<$ty>(<$ty>::MIN, <$ty>::MAX)?;
                self.place(visitor.$visit(v))
            }
        )*
    };
}

impl<'de> Deserializer<'de> for NodeDe<'_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => match (i64::try_from(*i), u64::try_from(*i)) {
                (Ok(x), _) => visitor.visit_i64(x),
                (_, Ok(x)) => visitor.visit_u64(x),
                _ => visitor.visit_i128(*i),
            },
            Value::Float(_) => visitor.visit_f64(self.number()?),
            Value::Str(s) => visitor.visit_str(s),
            Value::Seq(items) => visitor.visit_seq(SeqDe::new(items, self.trail)),
            Value::Map(entries) => self.visit_entries(visitor, entries),
        };
        self.place(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Bool(b) => self.place(visitor.visit_bool(b)),
            _ => Err(self.type_error("true or false")),
        }
    }

    deserialize_integer! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let v = self.ranged::<u128>(0, u128::MAX)?;
        self.place(visitor.visit_u128(v))
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let v = self.number()?;
        // Narrowing is the caller's choice of field type.
        self.place(visitor.visit_f32(v as f32))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let v = self.number()?;
        self.place(visitor.visit_f64(v))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Value::Str(s) = &self.node.value {
            let mut chars = s.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                return self.place(visitor.visit_char(c));
            }
        }
        Err(self.type_error("a single character"))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            Value::Str(s) => visitor.visit_str(s),
            Value::Int(i) => visitor.visit_string(i.to_string()),
            Value::Float(f) => visitor.visit_string(float_text(*f)),
            _ => return Err(self.type_error("a string")),
        };
        self.place(result)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            Value::Str(s) => visitor.visit_bytes(s.as_bytes()),
            Value::Seq(items) => visitor.visit_seq(SeqDe::new(items, self.trail)),
            _ => return Err(self.type_error("a string")),
        };
        self.place(result)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Null => self.place(visitor.visit_none()),
            _ => self.place(visitor.visit_some(self)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.value {
            Value::Null => self.place(visitor.visit_unit()),
            _ => Err(self.type_error("an empty value")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.place(visitor.visit_newtype_struct(self))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(items) => self.place(visitor.visit_seq(SeqDe::new(items, self.trail))),
            _ => Err(self.type_error("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(items) if items.len() == len => {
                self.place(visitor.visit_seq(SeqDe::new(items, self.trail)))
            }
            Value::Seq(items) => Err(DeError::new(format!(
                "expected a list of {len} item{}, found {} item{}",
                plural(len),
                items.len(),
                plural(items.len())
            ))
            .placed(self.node.loc, self.trail)),
            _ => Err(self.type_error(&format!("a list of {len} item{}", plural(len)))),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Map(entries) => self.place(self.visit_entries(visitor, entries)),
            _ => Err(self.type_error("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let access = match &self.node.value {
            Value::Str(name) => EnumDe {
                name,
                name_loc: self.node.loc,
                value: None,
                outer: self,
            },
            Value::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                EnumDe {
                    name: &key.name,
                    name_loc: key.loc,
                    value: Some(value),
                    outer: self,
                }
            }
            _ => {
                let names: Vec<String> = variants.iter().map(|v| format!("`{v}`")).collect();
                let expected = match names.as_slice() {
                    [] => "a choice".to_string(),
                    [one] => one.clone(),
                    _ => format!("one of {}", names.join(", ")),
                };
                let expected = format!("{expected} (or a mapping with that one key)");
                return Err(self.type_error(&expected));
            }
        };
        self.place(visitor.visit_enum(access))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => self.place(visitor.visit_str(s)),
            _ => Err(self.type_error("a name")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.place(visitor.visit_unit())
    }
}

struct SeqDe<'a, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
    len: usize,
    trail: &'p Trail<'p>,
}

impl<'a, 'p> SeqDe<'a, 'p> {
    fn new(items: &'a [Node], trail: &'p Trail<'p>) -> SeqDe<'a, 'p> {
        SeqDe {
            items: items.iter().enumerate(),
            len: items.len(),
            trail,
        }
    }
}

impl<'de> SeqAccess<'de> for SeqDe<'_, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some((index, node)) => {
                let trail = Trail::Index(self.trail, index);
                seed.deserialize(NodeDe {
                    node,
                    trail: &trail,
                })
                .map(Some)
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len)
    }
}

struct MapDe<'a, 'p> {
    entries: std::slice::Iter<'a, (Key, Node)>,
    pending: Option<&'a (Key, Node)>,
    trail: &'p Trail<'p>,
}

impl<'de> MapAccess<'de> for MapDe<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some(entry);
        let key = &entry.0;
        let trail = Trail::Key(self.trail, &key.name);
        seed.deserialize(KeyDe { key })
            .map(Some)
            .map_err(|e| e.placed(key.loc, &trail))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, node)) = self.pending.take() else {
            return Err(DeError::new(
                "internal error: value requested before its key",
            ));
        };
        let trail = Trail::Key(self.trail, &key.name);
        seed.deserialize(NodeDe {
            node,
            trail: &trail,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// Deserializer for a mapping key: a string that may also be read as a number or boolean
/// (for maps keyed by numbers) or as an enum tag.
struct KeyDe<'a> {
    key: &'a Key,
}

impl KeyDe<'_> {
    fn parse<T: std::str::FromStr>(&self, expected: &str) -> Result<T, DeError> {
        self.key.name.trim().parse::<T>().map_err(|_| {
            DeError::new(format!(
                "expected {expected} as key, found {}",
                quote_short(&self.key.name)
            ))
        })
    }
}

macro_rules! deserialize_parsed_key {
    ($($method:ident => $visit:ident: $ty:ty, $what:literal),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
                let v = self.parse::<$ty>($what)?;
                visitor.$visit(v)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for KeyDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_str(&self.key.name)
    }

    deserialize_parsed_key! {
        deserialize_bool => visit_bool: bool, "true or false",
        deserialize_i8 => visit_i8: i8, "a whole number",
        deserialize_i16 => visit_i16: i16, "a whole number",
        deserialize_i32 => visit_i32: i32, "a whole number",
        deserialize_i64 => visit_i64: i64, "a whole number",
        deserialize_i128 => visit_i128: i128, "a whole number",
        deserialize_u8 => visit_u8: u8, "a whole number",
        deserialize_u16 => visit_u16: u16, "a whole number",
        deserialize_u32 => visit_u32: u32, "a whole number",
        deserialize_u64 => visit_u64: u64, "a whole number",
        deserialize_u128 => visit_u128: u128, "a whole number",
        deserialize_f32 => visit_f32: f32, "a number",
        deserialize_f64 => visit_f64: f64, "a number",
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_enum(self.key.name.as_str().into_deserializer())
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier
    }
}

/// Enum access for both `tag` and `{tag: value}` forms.
struct EnumDe<'a, 'p> {
    name: &'a str,
    name_loc: Loc,
    value: Option<&'a Node>,
    /// The node holding the whole enum value.
    outer: NodeDe<'a, 'p>,
}

impl<'de, 'a, 'p> EnumAccess<'de> for EnumDe<'a, 'p> {
    type Error = DeError;
    type Variant = EnumDe<'a, 'p>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), DeError> {
        let name: de::value::StrDeserializer<'_, DeError> = self.name.into_deserializer();
        let variant = seed
            .deserialize(name)
            .map_err(|e| e.placed(self.name_loc, self.outer.trail))?;
        Ok((variant, self))
    }
}

impl EnumDe<'_, '_> {
    fn needs_value(&self) -> DeError {
        DeError::new(format!(
            "`{}` needs a value; write it as `{}: ...`",
            self.name, self.name
        ))
        .placed(self.name_loc, self.outer.trail)
    }
}

impl<'de> VariantAccess<'de> for EnumDe<'_, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            None => Ok(()),
            Some(node) if node.is_null() => Ok(()),
            Some(node) => {
                let trail = Trail::Key(self.outer.trail, self.name);
                Err(DeError::new(format!(
                    "`{}` takes no settings, found {}; write just `{}`",
                    self.name,
                    node.describe(),
                    self.name
                ))
                .placed(node.loc, &trail))
            }
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        let Some(node) = self.value else {
            return Err(self.needs_value());
        };
        let trail = Trail::Key(self.outer.trail, self.name);
        seed.deserialize(NodeDe {
            node,
            trail: &trail,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, DeError> {
        let Some(node) = self.value else {
            return Err(self.needs_value());
        };
        let trail = Trail::Key(self.outer.trail, self.name);
        NodeDe {
            node,
            trail: &trail,
        }
        .deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let trail = Trail::Key(self.outer.trail, self.name);
        match self.value {
            Some(node) if !node.is_null() => NodeDe {
                node,
                trail: &trail,
            }
            .deserialize_struct("", fields, visitor),
            // `tag` or `tag:` alone: a struct variant with every field defaulted.
            other => {
                let empty = NodeDe {
                    node: other.unwrap_or(self.outer.node),
                    trail: &trail,
                };
                empty.place(visitor.visit_map(empty.map_access(&[])))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::number_hint;

    #[test]
    fn number_hints_name_the_fix() {
        assert_eq!(
            number_hint("8000"),
            "; remove the quotes to make it a number"
        );
        assert!(number_hint("1_000.5").contains("write 1000.5"));
        assert!(number_hint("$30,000").contains("write the bare number 30000"));
        assert!(number_hint("90%").contains("write a share as a fraction: 0.9"));
        assert!(number_hint("500k").contains("write the whole number: 500000"));
        assert!(number_hint("1.5M").contains("write the whole number: 1500000"));
        assert!(number_hint("700W").contains("write the number alone (700)"));
        assert_eq!(number_hint("abc"), "");
    }
}
