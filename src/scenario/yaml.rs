//! The YAML layer of the scenario loader: text to a located tree, tree edits (`extends:`
//! merge, `--set` overrides), tree to serde types, and diagnostics that name the file, line,
//! column, field path, what was expected, and the key that was probably meant.
//!
//! The flow, from files to a raw config type:
//!
//! ```
//! use capsim::scenario::yaml::{self, Loc, Sources};
//! use serde::Deserialize;
//!
//! #[derive(Debug, Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Supply {
//!     /// CoWoS packaging capacity [wafers/month]
//!     cowos_capacity: f64,
//! }
//!
//! #[derive(Debug, Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Raw {
//!     supply: Supply,
//! }
//!
//! let mut sources = Sources::new();
//! let base_id = sources.add("base.yaml", "supply:\n  cowos_capacity: 8000\n");
//! let what_if_id = sources.add("what_if.yaml", "supply:\n  cowos_capcity: 9000\n");
//!
//! let base = yaml::parse(sources.text(base_id), base_id)?;
//! let what_if = yaml::parse(sources.text(what_if_id), what_if_id)?;
//! let mut merged = yaml::merge(base, what_if);
//!
//! // The misspelled key from the what-if is caught, at its own line, with a suggestion.
//! let err = yaml::from_node::<Raw>(&merged).unwrap_err();
//! assert_eq!(
//!     err.render(&sources),
//!     "error: unknown field `cowos_capcity`, did you mean `cowos_capacity`?\n\
//!      \x20--> what_if.yaml:2:3\n\
//!      \x20 |\n\
//!      2 |   cowos_capcity: 9000\n\
//!      \x20 |   ^^^^^^^^^^^^^ at supply.cowos_capcity"
//! );
//!
//! // `--set` overrides work on the tree before typing; later checks can find any path again.
//! merged.remove("supply");
//! yaml::set_path(&mut merged, "supply.cowos_capacity", "1e4", Loc::COMMAND_LINE)?;
//! let raw: Raw = yaml::from_node(&merged)?;
//! assert_eq!(raw.supply.cowos_capacity, 10_000.0);
//! assert_eq!(yaml::locate(&merged, "supply.cowos_capacity"), Some(Loc::COMMAND_LINE));
//! # Ok::<(), yaml::Diagnostic>(())
//! ```
//!
//! Scalars are typed by serde-saphyr with YAML 1.2 booleans: `1e6` is a float, `8_000` the
//! integer 8000, `2023-01` and `2024-01-01` strings, `yes`/`no`/`on`/`off` strings, `~` and
//! an empty value null, `.inf`/`.nan` floats. See [`parse`] for details.

mod de;
mod diag;
mod edit;
mod node;
mod path;
mod syntax;

pub use de::from_node;
pub use diag::{
    Diagnostic, ERROR_STYLE, Severity, Sources, WARNING_STYLE, did_you_mean, unknown_name_hint,
};
pub use edit::{merge, set_arg, set_path};
pub use node::{Key, Loc, Node, Value, child_path, item_path};
pub use path::{locate, locate_key, locate_nearest, path_segments};
pub use syntax::{MAX_DEPTH, parse};

#[cfg(test)]
mod tests;
