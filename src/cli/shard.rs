//! Shards on the command line: `--shard` resolved, and the library's shard errors as the
//! CLI's failures. Shard folders are read and checked by `report::shard`.

pub use crate::report::shard::{
    Part, ShardDoc, ShardError, check_scenario, merge_run, read_parts, unit,
};
use crate::shard::{self, Shard};

use super::ui::{Failure, Problem};

impl From<ShardError> for Failure {
    fn from(e: ShardError) -> Failure {
        match e {
            ShardError::Bad(m) => Failure::bad_input(vec![Problem::error(m)]),
            ShardError::Serialise(_) => Failure::io(e.to_string()),
        }
    }
}

/// What `--shard` resolves to for `total` replications or points, K read from the batch
/// system's variable for `auto/N`.
pub fn resolve(spec: &shard::Spec, total: u64, what: &str) -> Result<Shard, Failure> {
    spec.resolve(total, what, &|v| std::env::var(v).ok())
        .map_err(|m| Failure::bad_input(vec![Problem::error(m)]))
}
