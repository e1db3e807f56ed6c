//! Timelines as written in a scenario, and read (the resolved [`Timeline`] the model uses is
//! in [`super::types`]).
//!
//! In YAML a timeline is written in one of three forms:
//!
//! ```yaml
//! capacity_wafers_per_month: 8000                       # a constant
//! capacity_wafers_per_month: {2023-06: 8000, 2024-01: 15000}   # dated values
//! capacity_wafers_per_month:
//!   interpolation: linear                               # or step
//!   points: {2023-06: 8000, 2024-12: 33000}
//! ```
//!
//! Without `interpolation:` each field has its own default (step for capacities, prices and
//! budgets; linear for yields, usage and user timelines): see `docs/scenario-reference.md`.
//! Before the first point a timeline holds its first value; after the last, its last value.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use super::types::Interpolation;
#[cfg(doc)]
use super::types::Timeline;

// The YAML names of `Interpolation` (`step`, `linear`): serde's `remote` derive, checked
// against the plain type at compile time. Doc comments here are the schema's descriptions.
/// How a timeline moves between two dated points.
#[derive(Deserialize, serde::Serialize, JsonSchema)]
#[serde(
    remote = "Interpolation",
    rename = "Interpolation",
    rename_all = "snake_case"
)]
enum InterpolationDef {
    /// Holds each value until the next point.
    Step,
    /// Moves in a straight line from one point to the next.
    Linear,
}

impl<'de> Deserialize<'de> for Interpolation {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        InterpolationDef::deserialize(d)
    }
}

impl serde::Serialize for Interpolation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        InterpolationDef::serialize(self, s)
    }
}

impl JsonSchema for Interpolation {
    fn schema_name() -> Cow<'static, str> {
        "Interpolation".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        InterpolationDef::json_schema(generator)
    }
}

/// A timeline as written in the scenario: dates still text.
#[derive(Debug, Clone, PartialEq)]
pub enum RawTimeline {
    /// One value for the whole run.
    Constant(f64),
    /// Dated values (date text, value) in file order.
    Points {
        /// Step or linear; `None` means the default of the field.
        interpolation: Option<Interpolation>,
        /// `(date text, value)` pairs in file order.
        points: Vec<(String, f64)>,
    },
}

impl RawTimeline {
    /// The timeline's value if it is a constant.
    pub fn constant(&self) -> Option<f64> {
        match self {
            RawTimeline::Constant(v) => Some(*v),
            RawTimeline::Points { .. } => None,
        }
    }
}

/// Written by hand, as the deserialiser is: a number, a map of dates to numbers (with an
/// optional `interpolation:`), or `{interpolation:, points:}`. A date key is anything that
/// starts with a digit here; `resolve` checks the date itself.
impl JsonSchema for RawTimeline {
    fn schema_name() -> Cow<'static, str> {
        "Timeline".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let interpolation = generator.subschema_for::<Interpolation>();
        let dated = json_schema!({
            "type": "object",
            "propertyNames": { "pattern": "^[0-9]" },
            "additionalProperties": { "type": "number" },
            "minProperties": 1
        });
        json_schema!({
            "description": "A quantity that changes over time: a number, a map of dates \
                (YYYY-MM or YYYY-MM-DD) to numbers, or {interpolation: step|linear, points: \
                {DATE: NUMBER, ...}}. Before the first date it holds its first value, after \
                the last its last.",
            "anyOf": [
                { "type": "number", "description": "One value for the whole run." },
                {
                    "type": "object",
                    "description": "Dated values, e.g. {2023-06: 8000, 2024-01: 15000}.",
                    "properties": { "interpolation": interpolation },
                    "patternProperties": { "^[0-9]": { "type": "number" } },
                    "additionalProperties": false,
                    // At least one key is a date: not every key fails the date pattern.
                    "not": { "propertyNames": { "not": { "pattern": "^[0-9]" } } }
                },
                {
                    "type": "object",
                    "description": "Dated values with their interpolation spelled out.",
                    "properties": { "interpolation": interpolation, "points": dated },
                    "required": ["points"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for RawTimeline {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimelineVisitor)
    }
}

struct TimelineVisitor;

impl<'de> Visitor<'de> for TimelineVisitor {
    type Value = RawTimeline;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "a number, a map of dates to numbers ({2023-06: 8000}), \
             or {interpolation: step|linear, points: {DATE: NUMBER, ...}}",
        )
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(RawTimeline::Constant(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(RawTimeline::Constant(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(RawTimeline::Constant(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut interpolation = None;
        let mut points: Option<Vec<(String, f64)>> = None;
        let mut dated: Vec<(String, f64)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "interpolation" => interpolation = Some(map.next_value::<Interpolation>()?),
                "points" => points = Some(map.next_value::<DatedPoints>()?.0),
                _ if key.starts_with(|c: char| c.is_ascii_digit()) => {
                    let v: f64 = map.next_value()?;
                    dated.push((key, v));
                }
                _ => {
                    return Err(de::Error::unknown_field(&key, &["interpolation", "points"]));
                }
            }
        }
        match (points, dated.is_empty()) {
            (Some(_), false) => Err(de::Error::custom(
                "a timeline has either `points:` or dated values, not both",
            )),
            (Some(points), true) => Ok(RawTimeline::Points {
                interpolation,
                points,
            }),
            (None, false) => Ok(RawTimeline::Points {
                interpolation,
                points: dated,
            }),
            (None, true) => Err(de::Error::custom(
                "a timeline needs at least one dated value, e.g. {2023-06: 8000}",
            )),
        }
    }
}

/// `{DATE: NUMBER, ...}` in file order.
struct DatedPoints(Vec<(String, f64)>);

impl<'de> Deserialize<'de> for DatedPoints {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DatedPoints;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of dates to numbers, e.g. {2023-06: 8000, 2024-01: 15000}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    out.push((k, map.next_value::<f64>()?));
                }
                Ok(DatedPoints(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl serde::Serialize for RawTimeline {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            RawTimeline::Constant(v) => s.serialize_f64(*v),
            RawTimeline::Points {
                interpolation,
                points,
            } => {
                // Without an explicit interpolation the points are written as a plain dated
                // map, so the field's own default applies again when read back.
                match interpolation {
                    Some(i) => {
                        let mut m = s.serialize_map(Some(2))?;
                        m.serialize_entry("interpolation", i)?;
                        m.serialize_entry("points", &PointsSer(points))?;
                        m.end()
                    }
                    None => PointsSer(points).serialize(s),
                }
            }
        }
    }
}

struct PointsSer<'a>(&'a [(String, f64)]);

impl serde::Serialize for PointsSer<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
