//! The hold model, shared by the `engine` and `alloc` benches.
//!
//! `N` events are pending; each event, when popped, schedules itself again at the current time
//! plus an exponential increment (mean 10⁶ ticks) drawn from the named stream
//! `capsim::engine::random::stream(1, 0, "hold")`. The number of pending events therefore stays
//! exactly `N`, and every event is one pop and one push on a heap of `N` entries plus one random
//! draw. It uses only the public engine API (`Simulation`, `Model`, `Context`).

use capsim::engine::{Context, Model, Simulation, Time, random};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;

/// Mean of the hold increment [ticks]: large enough that ties are rare.
const MEAN_INCREMENT_TICKS: f64 = 1e6;

/// The hold model: each event reschedules itself after an exponential increment.
pub struct Hold {
    rng: ChaCha8Rng,
}

impl Hold {
    fn increment(&mut self) -> Time {
        // Rounded to whole ticks; `as` saturates, and the draw is finite and non-negative.
        (self.rng.sample::<f64, _>(Exp1) * MEAN_INCREMENT_TICKS).round() as Time
    }
}

impl Model for Hold {
    /// The payload is irrelevant to the engine; a `u32` keeps entries small, like a real
    /// model's event enum.
    type Event = u32;

    fn handle(&mut self, event: u32, ctx: &mut Context<'_, u32>) {
        let delay = self.increment();
        // The clock stays far below i64::MAX: it advances by about 10⁶/N ticks per event.
        ctx.schedule_in(delay, event)
            .expect("a non-negative increment cannot be in the past or overflow here");
    }
}

/// A hold simulation with `pending` events scheduled, then run for `pending` events so that
/// the time spread of the pending events is near its steady state.
pub fn hold_simulation(pending: usize) -> Simulation<Hold> {
    let mut model = Hold {
        rng: random::stream(1, 0, "hold"),
    };
    let initial: Vec<Time> = (0..pending).map(|_| model.increment()).collect();
    let mut sim = Simulation::new(model, 0);
    for (i, time) in initial.into_iter().enumerate() {
        let payload = u32::try_from(i).unwrap_or(u32::MAX);
        sim.schedule(time, payload)
            .expect("initial times are non-negative");
    }
    for _ in 0..pending {
        sim.step();
    }
    assert_eq!(sim.pending(), pending);
    sim
}
