//! A generic discrete-event engine, capsim's and usable on its own. It knows nothing about
//! chips or datacenters: a [`Model`] owns its state and reacts to its own event type; the
//! engine keeps the clock and the event queue.
//!
//! - [`queue`]: integer [`Time`] and the deterministic future-event list [`EventQueue`].
//! - [`sim`]: the [`Model`] trait, the [`Context`] a model acts through, and [`Simulation`].
//! - [`calendar`]: ticks to dates (one tick = one day) and date parsing.
//! - [`random`]: named, reproducible random streams.
//! - [`queueing`]: an M/M/c queue on the engine with its Erlang C results, the worked example
//!   (`cargo run --release --example mm1`).
//!
//! # Tutorial: build, then run
//!
//! A model is a struct plus an event type. Here a machine fails every 30 ticks and is repaired
//! 2 ticks later; it stops the run after its third repair.
//!
//! ```
//! use capsim_engine::{Context, EngineError, Model, Simulation, Time};
//!
//! enum Event {
//!     Fail,
//!     Repair,
//! }
//!
//! #[derive(Default)]
//! struct Machine {
//!     /// Ticks spent under repair [ticks].
//!     down_ticks: Time,
//!     repairs: u32,
//!     failed_at: Time,
//! }
//!
//! impl Model for Machine {
//!     type Event = Event;
//!
//!     fn handle(&mut self, event: Event, ctx: &mut Context<'_, Event>) {
//!         match event {
//!             Event::Fail => {
//!                 self.failed_at = ctx.now();
//!                 // A non-negative delay cannot be in the past; it could only overflow.
//!                 ctx.schedule_in(2, Event::Repair).expect("repair time fits in i64");
//!             }
//!             Event::Repair => {
//!                 self.down_ticks += ctx.now() - self.failed_at;
//!                 self.repairs += 1;
//!                 if self.repairs == 3 {
//!                     ctx.stop();
//!                 } else {
//!                     ctx.schedule_in(28, Event::Fail).expect("failure time fits in i64");
//!                 }
//!             }
//!         }
//!     }
//! }
//!
//! # fn main() -> Result<(), EngineError> {
//! // Build: a model, a start time, initial events.
//! let mut sim = Simulation::new(Machine::default(), 0);
//! sim.schedule(28, Event::Fail)?;
//!
//! // Run: in steps, up to a time, or to the end.
//! let stats = sim.run_until(40); // fail at 28, repair at 30
//! assert_eq!((stats.events, sim.now()), (2, 40));
//! let stats = sim.run(); // fail 58, repair 60, fail 88, repair 90 (stops)
//! assert!(stats.stopped);
//! assert_eq!(sim.now(), 90);
//!
//! let machine = sim.into_model();
//! assert_eq!((machine.repairs, machine.down_ticks), (3, 6));
//!
//! // Scheduling before the current time is refused, not silently reordered.
//! let mut sim = Simulation::new(Machine::default(), 100);
//! assert_eq!(
//!     sim.schedule(99, Event::Fail),
//!     Err(EngineError::InThePast { time: 99, now: 100 })
//! );
//! # Ok(())
//! # }
//! ```

pub mod calendar;
pub mod queue;
pub mod queueing;
pub mod random;
pub mod sim;

pub use calendar::{Calendar, DateError, days_in_month, parse_date};
pub use queue::{EventQueue, Time};
pub use sim::{Context, EngineError, Model, RunStats, Simulation};
