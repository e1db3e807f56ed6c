//! capsim: a discrete-event simulator of AI datacenter capacity.
//!
//! The flow, end to end:
//!
//! ```text
//! scenario.yaml ──scenario::load──▶ Scenario (typed, resolved, checked)
//!        │
//!        ▼
//!   model::simulate ──▶ engine::Simulation (event queue; each day's step after its events)
//!        │
//!        ▼
//!   RunOutput (daily series, events, ledger, summary) ──report──▶ output/<name>/
//! ```
//!
//! - [`engine`]: a generic discrete-event engine (integer time, FIFO ties, named random
//!   streams, calendar); it knows nothing about chips. [`queueing`] is an M/M/c queue on it.
//! - [`scenario`]: YAML through serde-saphyr into a located tree, `extends:` and `--set`,
//!   raw types that refuse unknown keys, then resolution and checks into [`scenario::Scenario`].
//! - [`model`]: supply, market, procurement, datacenters, demand, serving and money.
//! - [`report`]: writers that return bytes, and the one function that writes a folder whole.
//! - [`backtest`]: observations (`observed:` CSV files) beside a run's values, and a score.
//! - [`cli`]: the `capsim` subcommands.
//!
//! Running the built-in scenario from code:
//!
//! ```
//! let loaded = capsim::scenario::load(capsim::scenario::Source::BuiltIn, &[]).unwrap();
//! let run = capsim::model::simulate(&loaded.scenario, 1);
//! assert_eq!(run.dates.len() as i64, run.summary.days);
//! ```

/// The discrete-event engine, its own crate (`crates/capsim-engine`): it cannot depend on the
/// model.
pub use capsim_engine as engine;
/// The M/M/c queue on the engine (`crates/capsim-engine`).
pub use capsim_engine::queueing;

pub mod backtest;
pub mod beergame;
pub mod check;
pub mod cli;
pub mod format;
pub mod model;
pub mod montecarlo;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod shard;
pub mod whatif;
