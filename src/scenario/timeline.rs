//! Timelines: quantities that change over time.
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

use crate::engine::Time;

/// How a timeline moves between two dated points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// Holds each value until the next point.
    Step,
    /// Moves in a straight line from one point to the next.
    Linear,
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

/// A resolved timeline: points on simulation ticks (days), sorted, no duplicates.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    interpolation: Interpolation,
    /// `(tick, value)`, strictly increasing ticks, at least one point.
    points: Vec<(Time, f64)>,
}

impl Timeline {
    /// A timeline with one value throughout.
    pub fn constant(v: f64) -> Self {
        Timeline {
            interpolation: Interpolation::Step,
            points: vec![(0, v)],
        }
    }

    /// Builds a timeline from points sorted by strictly increasing tick.
    ///
    /// Returns `None` when `points` is empty or not strictly increasing.
    pub fn new(interpolation: Interpolation, points: Vec<(Time, f64)>) -> Option<Self> {
        if points.is_empty() || points.windows(2).any(|w| w[0].0 >= w[1].0) {
            return None;
        }
        Some(Timeline {
            interpolation,
            points,
        })
    }

    /// The value at tick `t`.
    #[inline]
    pub fn at(&self, t: Time) -> f64 {
        let pts = &self.points;
        // A constant (most timelines): the same value as the search below would give.
        if let [(_, v)] = pts.as_slice() {
            return *v;
        }
        // Index of the first point strictly after t.
        let i = pts.partition_point(|p| p.0 <= t);
        if i == 0 {
            return pts[0].1;
        }
        if i == pts.len() {
            return pts[i - 1].1;
        }
        let (t0, v0) = pts[i - 1];
        match self.interpolation {
            Interpolation::Step => v0,
            Interpolation::Linear => {
                let (t1, v1) = pts[i];
                v0 + (v1 - v0) * (t - t0) as f64 / (t1 - t0) as f64
            }
        }
    }

    /// How the timeline moves between points.
    pub fn interpolation(&self) -> Interpolation {
        self.interpolation
    }

    /// The dated points `(tick, value)`.
    pub fn points(&self) -> &[(Time, f64)] {
        &self.points
    }

    /// Smallest and largest value of the timeline.
    pub fn range(&self) -> (f64, f64) {
        self.points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.1), hi.max(p.1))
            })
    }

    /// A copy with every value multiplied by `k`.
    pub fn scaled(&self, k: f64) -> Self {
        Timeline {
            interpolation: self.interpolation,
            points: self.points.iter().map(|&(t, v)| (t, v * k)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_holds_until_next_point() {
        let tl = Timeline::new(Interpolation::Step, vec![(10, 1.0), (20, 3.0)]).unwrap();
        assert_eq!(tl.at(0), 1.0);
        assert_eq!(tl.at(19), 1.0);
        assert_eq!(tl.at(20), 3.0);
        assert_eq!(tl.at(1000), 3.0);
    }

    #[test]
    fn linear_interpolates_between_points() {
        let tl = Timeline::new(Interpolation::Linear, vec![(10, 1.0), (20, 3.0)]).unwrap();
        assert_eq!(tl.at(5), 1.0);
        // halfway: 1 + (3 - 1) * 5 / 10 = 2
        assert!((tl.at(15) - 2.0).abs() < 1e-12);
        assert_eq!(tl.at(25), 3.0);
    }

    #[test]
    fn unsorted_points_are_refused() {
        assert!(Timeline::new(Interpolation::Step, vec![(10, 1.0), (10, 3.0)]).is_none());
        assert!(Timeline::new(Interpolation::Step, vec![]).is_none());
    }
}
