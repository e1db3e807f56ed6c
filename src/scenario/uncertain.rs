//! Distributions in a scenario: found in the merged tree, checked, replaced by their central
//! values for the scenario checked at load, and sampled once per replication.
//!
//! ```text
//! merged tree (after extends: and --set)
//!     ──find──▶ each distribution node checked (located diagnostics), replaced by its central
//!               value (mean; median for lognormal), remembered as a `Param`
//!     ──▶ central tree ──from_node──▶ RawScenario ──resolve──▶ Loaded::scenario
//! per replication r:
//!     central tree, each Param's node set to a draw from stream (seed, r, "param/<path>")
//!     ──from_node──▶ RawScenario ──resolve──▶ that replication's Scenario
//! ```
//!
//! The stream of a parameter is named after its path with list items named by their `name`
//! (`param/supply.packaging_lines.CoWoS-S.capacity_wafers_per_month.2024-01`), not their
//! index, so adding a buyer or a product leaves every other draw as it was, and two scenarios
//! that share a parameter draw the same value for it with the same seed and replication.

use super::dist;
use super::types::Distribution;
use super::yaml::{Diagnostic, Loc, Node, Severity, Value, child_path, item_path};
use crate::engine::random;
use crate::format::in_message as num;

/// Fields holding whole numbers: a draw for them is rounded to the nearest one. A test in
/// `cli/schema.rs` checks this list against the integer fields of the raw types.
pub const WHOLE_FIELDS: &[&str] = &[
    "cycle_time_days",
    "shipping_days",
    "priority",
    "review_every_days",
    "forecast_window_days",
    "max_planning_horizon_days",
    "months",
    "install_delay_days",
    "pause_after_days",
    "resume_after_days",
    "min_pause_days",
    "window_days",
    "booking_window_days",
    "deploy_horizon_days",
    "review_offset_days",
    "non_cancellable_days",
    "switch_days",
];

/// Fields that hold text, dates or choices: no distribution there. A test checks it against
/// the text and boolean fields of the scenarios in `scenarios/`.
const TEXT_FIELDS: &[&str] = &[
    "name",
    "description",
    "start",
    "end",
    "seed",
    "since",
    "midpoint",
    "available",
    "from",
    "until",
    "date",
    "vendor",
    "packaging_line",
    "process",
    "owner",
    "region",
    "kind",
    "product",
    "buyer",
    "split",
    "allocation",
    "interpolation",
    "enabled",
    "lead_time_substitution",
    "market",
    "warm_start",
    "watch",
];

/// True for fields whose distribution the model samples once per event (not per replication):
/// an outage's `duration_days` and an `expansion_slip_days`.
fn per_event(key: &str, parent: Option<&str>) -> bool {
    key == "expansion_slip_days" || (key == "duration_days" && parent == Some("outages"))
}

/// One number of the scenario that is drawn once per replication.
#[derive(Debug, Clone)]
pub struct Param {
    /// Child indices from the root to its node.
    at: Vec<usize>,
    /// Display path, with list indices (as checks name it): `products[0].packaging_yield`.
    pub path: String,
    /// Name of its random stream: `param/` and its path with list items named.
    pub stream: String,
    /// What it is drawn from.
    pub dist: Distribution,
    /// Rounded to a whole number.
    pub whole: bool,
    /// Where the distribution is written.
    pub loc: Loc,
}

impl Param {
    /// The value of replication `rep` with seed `seed`.
    pub fn draw(&self, seed: u64, rep: u64) -> f64 {
        let v = self
            .dist
            .sample(&mut random::stream(seed, rep, &self.stream));
        if self.whole { v.round() } else { v }
    }

    fn node(&self, v: f64) -> Node {
        let value = if self.whole && v.abs() < 9.0e15 {
            Value::Int(v as i128)
        } else {
            Value::Float(v)
        };
        Node::new(value, self.loc)
    }
}

/// The distributions of a scenario and the central tree they are sampled into.
#[derive(Debug, Clone)]
pub struct Uncertainty {
    /// The merged tree with each distribution replaced by its central value.
    pub(super) tree: Node,
    /// The numbers drawn per replication, in tree order.
    pub params: Vec<Param>,
}

impl Uncertainty {
    /// The tree of replication `rep`: every parameter set to its draw. Also returns the draws.
    pub(super) fn sample(&self, seed: u64, rep: u64) -> (Node, Vec<f64>) {
        let mut tree = self.tree.clone();
        let mut draws = Vec::with_capacity(self.params.len());
        for p in &self.params {
            let v = p.draw(seed, rep);
            draws.push(v);
            if let Some(node) = node_at(&mut tree, &p.at) {
                *node = p.node(v);
            }
        }
        (tree, draws)
    }
}

fn node_at<'a>(mut node: &'a mut Node, at: &[usize]) -> Option<&'a mut Node> {
    for &i in at {
        node = match &mut node.value {
            Value::Map(entries) => &mut entries.get_mut(i)?.1,
            Value::Seq(items) => items.get_mut(i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Distributions that could not be used: every problem found, and the path of each field
/// that held one of them (`products[1].power_w`), which holds a stand-in 1 in the tree now,
/// for checking the rest of the scenario only.
pub(super) struct Refused {
    pub problems: Vec<Diagnostic>,
    pub fields: Vec<String>,
}

/// Finds, checks and replaces the distributions of `root` by their central values. Returns
/// the per-replication parameters, or every problem found.
pub(super) fn extract(root: &mut Node) -> Result<Vec<Param>, Refused> {
    let mut w = Walk {
        params: Vec::new(),
        problems: Vec::new(),
        fields: Vec::new(),
        at: Vec::new(),
    };
    w.walk(root, "", "", None, None, false);
    if w.problems.is_empty() {
        Ok(w.params)
    } else {
        Err(Refused {
            problems: w.problems,
            fields: w.fields,
        })
    }
}

struct Walk {
    params: Vec<Param>,
    problems: Vec<Diagnostic>,
    /// The fields of the distributions refused.
    fields: Vec<String>,
    at: Vec<usize>,
}

impl Walk {
    fn walk(
        &mut self,
        node: &mut Node,
        path: &str,
        stream: &str,
        key: Option<&str>,
        parent: Option<&str>,
        in_expect: bool,
    ) {
        if dist::looks_like(node) {
            let before = self.problems.len();
            self.distribution(node, path, stream, key, parent, in_expect);
            if self.problems.len() > before {
                // A stand-in, so that the rest of the scenario can be checked too
                // (`Refused::fields`); never run.
                *node = Node::new(Value::Int(1), node.loc);
                self.fields.push(path.to_string());
            }
            return;
        }
        match &mut node.value {
            Value::Map(entries) => {
                for (i, (k, child)) in entries.iter_mut().enumerate() {
                    self.at.push(i);
                    let expect = in_expect || (path.is_empty() && k.name == "expect");
                    self.walk(
                        child,
                        &child_path(path, &k.name),
                        &child_path(stream, &k.name),
                        Some(&k.name),
                        key,
                        expect,
                    );
                    self.at.pop();
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.at.push(i);
                    let named = match item.item_name() {
                        Some(name) => child_path(stream, name),
                        None => item_path(stream, i),
                    };
                    self.walk(item, &item_path(path, i), &named, None, key, in_expect);
                    self.at.pop();
                }
            }
            _ => {}
        }
    }

    /// A node written as a distribution: its parameter, or why it cannot be one.
    fn distribution(
        &mut self,
        node: &mut Node,
        path: &str,
        stream: &str,
        key: Option<&str>,
        parent: Option<&str>,
        in_expect: bool,
    ) {
        let d = match dist::parse(node, path) {
            Ok(d) => d,
            Err(problems) => {
                self.problems.extend(problems);
                return;
            }
        };
        let loc = node.loc;
        let refuse = |why: String| {
            Diagnostic::error(format!(
                "a distribution cannot stand here: {why}; distributions replace numbers"
            ))
            .at(loc)
            .with_path(path)
        };
        match key {
            Some(k) if per_event(k, parent) => {}
            _ if in_expect => self.problems.push(refuse(
                "an `expect:` bound is checked against one run".into(),
            )),
            Some(k) if TEXT_FIELDS.contains(&k) => {
                self.problems
                    .push(refuse(format!("`{k}` is text, a date or a choice")));
            }
            None => self.problems.push(refuse("it is an item of a list".into())),
            Some(k) => {
                let whole = WHOLE_FIELDS.contains(&k);
                let p = Param {
                    at: self.at.clone(),
                    path: path.to_string(),
                    stream: format!("param/{stream}"),
                    dist: d,
                    whole,
                    loc,
                };
                let c = d.central();
                *node = p.node(if whole { c.round() } else { c });
                self.params.push(p);
            }
        }
    }
}

/// True when one display path is the other or lies under it.
fn related(a: &str, b: &str) -> bool {
    let under = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    };
    under(a, b) || under(b, a)
}

/// The parameters a diagnostic is about: at its location, or on its path.
fn about<'a>(d: &Diagnostic, params: &'a [Param]) -> Vec<(usize, &'a Param)> {
    params
        .iter()
        .enumerate()
        .filter(|(_, p)| d.loc == Some(p.loc) || (!d.path.is_empty() && related(&d.path, &p.path)))
        .collect()
}

/// Load-time problems of the central scenario: says which distribution's central value was
/// checked.
pub(super) fn explain_central(diagnostics: &mut [Diagnostic], params: &[Param]) {
    for d in diagnostics
        .iter_mut()
        .filter(|d| d.severity == Severity::Error)
    {
        for (_, p) in about(d, params) {
            d.message.push_str(&format!(
                "; this is the central value {} of the distribution {} at `{}`",
                num(p.dist.central()),
                p.dist,
                p.path
            ));
        }
    }
}

/// Problems of replication `rep`: each names the replication, the draws involved and their
/// distributions, and how to keep draws valid. Warnings are dropped (they were shown at load).
pub(super) fn explain_replication(
    diagnostics: Vec<Diagnostic>,
    params: &[Param],
    draws: &[f64],
    seed: u64,
    rep: u64,
) -> Vec<Diagnostic> {
    diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|mut d| {
            let involved = about(&d, params);
            let drew: Vec<String> = if involved.is_empty() {
                params
                    .iter()
                    .zip(draws)
                    .take(8)
                    .map(|(p, v)| format!("`{}` = {}", p.path, num(*v)))
                    .collect()
            } else {
                involved
                    .iter()
                    .map(|(i, p)| format!("`{}` = {} from {}", p.path, num(draws[*i]), p.dist))
                    .collect()
            };
            let fix = if involved.is_empty() {
                "; narrow the distributions, or clamp them with `min:`/`max:`".to_string()
            } else {
                "; clamp the distribution with `min:`/`max:` (normal, lognormal) or narrow its \
                 range so that every draw is valid"
                    .to_string()
            };
            d.message = format!(
                "replication {rep} (seed {seed}) drew {}: {}{fix}",
                drew.join(", "),
                d.message
            );
            // Point at the distribution when the check pointed at nothing in a file.
            if d.loc
                .is_none_or(|l| !l.is_in_file() && !l.is_command_line())
                && let Some((_, p)) = involved.first()
            {
                d.loc = Some(p.loc);
            }
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::TEXT_FIELDS;
    use crate::scenario::yaml::{Node, Value};

    /// Every key holding text or a boolean, anywhere in a scenario of `scenarios/` (outside
    /// `expect:`, which refuses distributions on its own), is in `TEXT_FIELDS`; it once lacked
    /// `market`, `warm_start` and `watch`, so a distribution there got a type error instead.
    #[test]
    fn text_fields_cover_the_text_fields_of_the_scenarios() {
        fn walk(node: &Node, key: Option<&str>, missing: &mut Vec<String>) {
            match &node.value {
                Value::Str(_) | Value::Bool(_) => {
                    if let Some(k) = key
                        && !TEXT_FIELDS.contains(&k)
                        && !missing.iter().any(|m| m == k)
                    {
                        missing.push(k.to_string());
                    }
                }
                Value::Map(entries) => {
                    for (k, child) in entries {
                        // Taken out (`extends:`, `observed:`) or checked on their own first.
                        if !["expect", "extends", "observed"].contains(&k.name.as_str()) {
                            walk(child, Some(&k.name), missing);
                        }
                    }
                }
                Value::Seq(items) => items.iter().for_each(|i| walk(i, None, missing)),
                _ => {}
            }
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).expect("scenarios/") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).expect("readable");
                let root = crate::scenario::yaml::parse(&text, 0).expect("parses");
                walk(&root, None, &mut missing);
            }
        }
        assert!(missing.is_empty(), "not in TEXT_FIELDS: {missing:?}");
    }
}
