//! Distributions: any number of a scenario may be written as one, and is then sampled once per
//! replication (see [`super::uncertain`]); a few fields (an outage's duration, an expansion's
//! slip) take one that is sampled once per event by the model.
//!
//! ```yaml
//! capacity_wafers_per_month: {triangular: {min: 30000, mode: 35000, max: 40000}}
//! packaging_yield: {normal: {mean: 0.9, sd: 0.05, max: 1}}       # min/max clamp the draw
//! stacks_per_month: {lognormal: {median: 900000, sigma: 0.2}}    # sigma: sd of ln(x)
//! churn_per_month: {uniform: {min: 0.02, max: 0.04}}
//! months: {pert: {min: 12, mode: 18, max: 30}}                    # whole numbers are rounded
//! ```
//!
//! A distribution is a mapping with one key, its family, whose value holds its parameters.
//! [`parse`] reads and checks one from the located tree, with diagnostics that name the file,
//! line and column, and suggest the name or parameter that was probably meant.

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::types::{Distribution, Quantity};
use super::yaml::{Diagnostic, Node, did_you_mean};

/// The families, as written.
pub const FAMILIES: &[&str] = &["normal", "lognormal", "uniform", "triangular", "pert"];

/// Every parameter name of every family, to tell a misspelled family from another mapping.
pub(crate) const ALL_PARAMS: &[&str] = &["mean", "sd", "median", "sigma", "min", "max", "mode"];

// How a distribution is written: serde's `remote` derive, checked against the plain type
// at compile time.
#[derive(Serialize, Deserialize)]
#[serde(
    remote = "Distribution",
    rename = "Distribution",
    rename_all = "snake_case",
    deny_unknown_fields
)]
enum DistributionDef {
    /// Normal with `mean` and standard deviation `sd`, clamped to `[min, max]` if given.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (> 0).
        sd: f64,
        /// Lower clamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Upper clamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    /// Log-normal: `median × e^{sigma Z}`, Z standard normal, clamped to `[min, max]` if given.
    Lognormal {
        /// Median (> 0).
        median: f64,
        /// Standard deviation of `ln x` (> 0).
        sigma: f64,
        /// Lower clamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Upper clamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    /// Uniform on `[min, max)`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Triangular on `[min, max]` with its peak at `mode`.
    Triangular {
        /// Lower bound.
        min: f64,
        /// Most likely value.
        mode: f64,
        /// Upper bound.
        max: f64,
    },
    /// PERT (beta-PERT, λ = 4) on `[min, max]` with its peak at `mode`.
    Pert {
        /// Lower bound.
        min: f64,
        /// Most likely value.
        mode: f64,
        /// Upper bound.
        max: f64,
    },
}

impl Serialize for Distribution {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        DistributionDef::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for Distribution {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        DistributionDef::deserialize(d)
    }
}

/// As written in YAML: `{normal: {mean: 1, sd: 0.1}}`.
impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt =
            |name: &str, v: Option<f64>| v.map(|v| format!(", {name}: {v}")).unwrap_or_default();
        match *self {
            Distribution::Normal { mean, sd, min, max } => write!(
                f,
                "{{normal: {{mean: {mean}, sd: {sd}{}{}}}}}",
                opt("min", min),
                opt("max", max)
            ),
            Distribution::Lognormal {
                median,
                sigma,
                min,
                max,
            } => write!(
                f,
                "{{lognormal: {{median: {median}, sigma: {sigma}{}{}}}}}",
                opt("min", min),
                opt("max", max)
            ),
            Distribution::Uniform { min, max } => {
                write!(f, "{{uniform: {{min: {min}, max: {max}}}}}")
            }
            Distribution::Triangular { min, mode, max } => {
                write!(
                    f,
                    "{{triangular: {{min: {min}, mode: {mode}, max: {max}}}}}"
                )
            }
            Distribution::Pert { min, mode, max } => {
                write!(f, "{{pert: {{min: {min}, mode: {mode}, max: {max}}}}}")
            }
        }
    }
}

/// Written by hand so that every family's parameters are listed with what they mean.
impl JsonSchema for Distribution {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Distribution".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let num = json_schema!({ "type": "number" });
        let family =
            |name: &str, description: &str, props: serde_json::Value, required: &[&str]| {
                serde_json::json!({
                    "type": "object",
                    "description": description,
                    "properties": { name: {
                        "type": "object",
                        "properties": props,
                        "required": required,
                        "additionalProperties": false
                    }},
                    "required": [name],
                    "additionalProperties": false
                })
            };
        let n = num.to_value();
        json_schema!({
            "description": "A number drawn at random, once per replication (or, for an \
                outage's duration and an expansion's slip, once per event): a mapping with \
                one key, the family.",
            "anyOf": [
                family("normal", "Normal; `min`/`max` clamp the draw.",
                    serde_json::json!({"mean": n, "sd": n, "min": n, "max": n}), &["mean", "sd"]),
                family("lognormal", "Log-normal: median × e^(sigma Z); `min`/`max` clamp the draw.",
                    serde_json::json!({"median": n, "sigma": n, "min": n, "max": n}),
                    &["median", "sigma"]),
                family("uniform", "Uniform between min and max.",
                    serde_json::json!({"min": n, "max": n}), &["min", "max"]),
                family("triangular", "Triangular between min and max, peaking at mode.",
                    serde_json::json!({"min": n, "mode": n, "max": n}), &["min", "mode", "max"]),
                family("pert", "Beta-PERT (lambda 4) between min and max, peaking at mode.",
                    serde_json::json!({"min": n, "mode": n, "max": n}), &["min", "mode", "max"])
            ]
        })
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Quantity::Fixed(v) => s.serialize_f64(*v),
            Quantity::Random(d) => d.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a distribution ({normal: {mean: M, sd: S}}, ...)")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity::Fixed(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity::Fixed(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity::Fixed(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Quantity, A::Error> {
                Distribution::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(Quantity::Random)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let dist = generator.subschema_for::<Distribution>();
        json_schema!({
            "description": "A number, or a distribution drawn once per event.",
            "anyOf": [{ "type": "number" }, dist]
        })
    }
}

/// The parameters each family takes, and which of them are required.
fn params(family: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match family {
        "normal" => (&["mean", "sd", "min", "max"], &["mean", "sd"]),
        "lognormal" => (&["median", "sigma", "min", "max"], &["median", "sigma"]),
        "uniform" => (&["min", "max"], &["min", "max"]),
        _ => (&["min", "mode", "max"], &["min", "mode", "max"]),
    }
}

/// How each family is written, for messages.
fn example(family: &str) -> &'static str {
    match family {
        "normal" => "{normal: {mean: M, sd: S}} (optionally with min:, max:)",
        "lognormal" => "{lognormal: {median: M, sigma: S}} (optionally with min:, max:)",
        "uniform" => "{uniform: {min: A, max: B}}",
        "triangular" => "{triangular: {min: A, mode: C, max: B}}",
        _ => "{pert: {min: A, mode: C, max: B}}",
    }
}

/// What a parameter written another common way is called here.
fn synonym(family: &str, key: &str) -> Option<&'static str> {
    let k = key.to_lowercase();
    let lognormal = family == "lognormal";
    Some(match k.as_str() {
        "stdev" | "std" | "std_dev" | "stddev" | "sdev" | "standard_deviation" | "sigma"
            if !lognormal =>
        {
            "sd"
        }
        "sd" | "stdev" | "std" | "std_dev" | "s" if lognormal => "sigma",
        "mu" | "average" | "avg" | "mean" if lognormal => "median",
        "mu" | "average" | "avg" | "median" => "mean",
        "lo" | "low" | "lower" | "minimum" | "from" | "a" => "min",
        "hi" | "high" | "upper" | "maximum" | "to" | "b" => "max",
        "most_likely" | "likely" | "peak" | "c" | "ml" => "mode",
        _ => return None,
    })
    .filter(|s| params(family).0.contains(s))
}

/// True when `node` looks like a distribution: a mapping with one key that names a family, or
/// is close to one and holds a mapping of parameters.
pub fn looks_like(node: &Node) -> bool {
    let Some([(key, value)]) = node.as_map() else {
        return false;
    };
    if FAMILIES.contains(&key.name.as_str()) {
        return true;
    }
    did_you_mean(&key.name, FAMILIES.iter().copied()).is_some()
        && value.as_map().is_some_and(|entries| {
            entries.iter().any(|(k, _)| {
                ALL_PARAMS.contains(&k.name.as_str()) || synonym("normal", &k.name).is_some()
            })
        })
}

/// Reads and checks the distribution `node` (one that [`looks_like`] one) at display path
/// `path`: every problem found, each at its key or value.
pub fn parse(node: &Node, path: &str) -> Result<Distribution, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let Some([(key, value)]) = node.as_map() else {
        return Err(vec![
            Diagnostic::error("a distribution is a mapping with one key, its family")
                .at(node.loc)
                .with_path(path),
        ]);
    };
    let family = key.name.as_str();
    if !FAMILIES.contains(&family) {
        let hint = match did_you_mean(family, FAMILIES.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => String::new(),
        };
        return Err(vec![
            Diagnostic::error(format!(
                "unknown distribution `{family}`; {hint} (distributions: {})",
                FAMILIES.join(", ")
            ))
            .at(key.loc)
            .with_path(path),
        ]);
    }
    let dpath = super::yaml::child_path(path, family);
    let Some(entries) = value.as_map() else {
        return Err(vec![
            Diagnostic::error(format!(
                "`{family}` takes its parameters as a mapping, found {}; write {}",
                value.describe(),
                example(family)
            ))
            .at(value.loc)
            .with_path(&dpath),
        ]);
    };
    let (known, required) = params(family);
    let mut got: Vec<(&str, f64)> = Vec::new();
    for (k, v) in entries {
        let kpath = super::yaml::child_path(&dpath, &k.name);
        if !known.contains(&k.name.as_str()) {
            let hint = synonym(family, &k.name)
                .or_else(|| did_you_mean(&k.name, known.iter().copied()))
                .map(|s| format!(", did you mean `{s}`?"))
                .unwrap_or_default();
            problems.push(
                Diagnostic::error(format!(
                    "unknown parameter `{}` of a `{family}` distribution{hint} (`{family}` takes {}; write {})",
                    k.name,
                    known.join(", "),
                    example(family)
                ))
                .at(k.loc)
                .with_path(&kpath),
            );
            continue;
        }
        match v.as_f64() {
            Some(x) if x.is_finite() => got.push((
                known[known.iter().position(|n| *n == k.name).unwrap_or(0)],
                x,
            )),
            Some(x) => problems.push(
                Diagnostic::error(format!(
                    "`{}` of a distribution must be a finite number, found {x}",
                    k.name
                ))
                .at(v.loc)
                .with_path(&kpath),
            ),
            None => problems.push(
                Diagnostic::error(format!(
                    "`{}` of a distribution is a number, found {}",
                    k.name,
                    v.describe()
                ))
                .at(v.loc)
                .with_path(&kpath),
            ),
        }
    }
    let bad_key = problems
        .iter()
        .any(|d| d.message.starts_with("unknown parameter"));
    for r in required {
        if !got.iter().any(|(n, _)| n == r)
            && !entries.iter().any(|(k, _)| k.name == *r)
            && !bad_key
        {
            problems.push(
                Diagnostic::error(format!(
                    "a `{family}` distribution needs `{r}`; write {}",
                    example(family)
                ))
                .at(key.loc)
                .with_path(&dpath),
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let get = |n: &str| got.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
    let req = |n: &str| get(n).unwrap_or(f64::NAN);
    let d = match family {
        "normal" => Distribution::Normal {
            mean: req("mean"),
            sd: req("sd"),
            min: get("min"),
            max: get("max"),
        },
        "lognormal" => Distribution::Lognormal {
            median: req("median"),
            sigma: req("sigma"),
            min: get("min"),
            max: get("max"),
        },
        "uniform" => Distribution::Uniform {
            min: req("min"),
            max: req("max"),
        },
        "triangular" => Distribution::Triangular {
            min: req("min"),
            mode: req("mode"),
            max: req("max"),
        },
        _ => Distribution::Pert {
            min: req("min"),
            mode: req("mode"),
            max: req("max"),
        },
    };
    // Where to point a problem with one parameter: at its value.
    let at = |n: &str| {
        entries
            .iter()
            .find(|(k, _)| k.name == n)
            .map_or(key.loc, |(_, v)| v.loc)
    };
    let mut fail = |n: &str, message: String| {
        problems.push(
            Diagnostic::error(message)
                .at(at(n))
                .with_path(super::yaml::child_path(&dpath, n)),
        );
    };
    match d {
        Distribution::Normal { sd, .. } if sd <= 0.0 => fail(
            "sd",
            format!(
                "`sd` of a normal distribution must be above 0; found {sd} (for a fixed value, write the number alone)"
            ),
        ),
        Distribution::Lognormal { median, sigma, .. } => {
            if median <= 0.0 {
                fail(
                    "median",
                    format!("`median` of a lognormal distribution must be above 0; found {median}"),
                );
            }
            if sigma <= 0.0 {
                fail(
                    "sigma",
                    format!(
                        "`sigma` of a lognormal distribution (the sd of ln x) must be above 0; found {sigma}"
                    ),
                );
            }
        }
        _ => {}
    }
    if let (Some(lo), Some(hi)) = d.bounds()
        && lo >= hi
    {
        fail(
            "max",
            format!("`min` ({lo}) must be below `max` ({hi}) in a `{family}` distribution"),
        );
    } else if let Distribution::Triangular { min, mode, max }
    | Distribution::Pert { min, mode, max } = d
        && !(min <= mode && mode <= max)
    {
        fail(
            "mode",
            format!("`mode` ({mode}) must lie between `min` ({min}) and `max` ({max})"),
        );
    }
    if problems.is_empty() {
        Ok(d)
    } else {
        Err(problems)
    }
}

/// For tests and tools: a distribution from its YAML text.
#[cfg(test)]
pub(crate) fn from_text(text: &str) -> Result<Distribution, Vec<Diagnostic>> {
    let node = super::yaml::parse(text, 0).map_err(|d| vec![d])?;
    parse(&node, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked() {
        let msg = |t: &str| {
            from_text(t)
                .expect_err(t)
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(msg("{normall: {mean: 1, sd: 2}}").contains("did you mean `normal`?"));
        assert!(msg("{normal: {mean: 1, stdev: 2}}").contains("did you mean `sd`?"));
        assert!(msg("{lognormal: {mean: 1, sigma: 2}}").contains("did you mean `median`?"));
        assert!(msg("{normal: {mean: 1, sd: 0}}").contains("must be above 0"));
        assert!(msg("{normal: {mean: 1}}").contains("needs `sd`"));
        assert!(msg("{uniform: {min: 2, max: 1}}").contains("must be below `max`"));
        assert!(msg("{triangular: {min: 1, mode: 5, max: 3}}").contains("must lie between"));
        assert!(msg("{pert: {min: 1, mode: 2, max: .inf}}").contains("finite"));
        assert!(msg("{normal: {mean: 1, sd: 1, min: 3, max: 2}}").contains("below `max`"));
        assert_eq!(
            from_text("{pert: {min: 1, mode: 2, max: 6}}").map(|d| d.central()),
            Ok(2.5)
        );
    }
}
