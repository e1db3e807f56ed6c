//! The simulation loop: a [`Model`] reacts to events through a [`Context`]; a [`Simulation`]
//! owns the model, the clock and the event queue.

use super::queue::{EventQueue, Time};

/// Errors from scheduling events.
///
/// These signal a logic error in a model (an event that would run backwards in time), reported
/// as a value so the caller decides what to do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// An event was scheduled before the current simulation time.
    #[error("cannot schedule an event at tick {time}: it is before the current time, tick {now}")]
    InThePast {
        /// Requested event time \[ticks\].
        time: Time,
        /// Current simulation time \[ticks\].
        now: Time,
    },
    /// `now + delay` does not fit in a [`Time`].
    #[error("cannot schedule an event {delay} ticks after tick {now}: the time overflows i64")]
    TimeOverflow {
        /// Current simulation time \[ticks\].
        now: Time,
        /// Requested delay \[ticks\].
        delay: Time,
    },
}

/// A simulated system: owns its state and reacts to one event at a time.
pub trait Model {
    /// The events this model schedules and handles.
    type Event;

    /// Handles `event`, which is due now (`ctx.now()`), possibly scheduling further events or
    /// stopping the run through `ctx`.
    fn handle(&mut self, event: Self::Event, ctx: &mut Context<'_, Self::Event>);
}

/// What a model may do while handling an event: read the clock, schedule events, stop the run.
///
/// Models never see the event queue itself, so they cannot reorder or drop pending events.
#[derive(Debug)]
pub struct Context<'a, E> {
    now: Time,
    queue: &'a mut EventQueue<E>,
    stop: &'a mut bool,
}

impl<E> Context<'_, E> {
    /// Current simulation time \[ticks\]: the time of the event being handled.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Schedules `event` at absolute `time` \[ticks\]. `time == now` is allowed and runs after
    /// the events already scheduled for `now`.
    ///
    /// # Errors
    /// [`EngineError::InThePast`] if `time < now`; nothing is scheduled.
    pub fn schedule_at(&mut self, time: Time, event: E) -> Result<(), EngineError> {
        schedule_checked(self.queue, self.now, time, event)
    }

    /// Schedules `event` `delay` \[ticks\] from now.
    ///
    /// # Errors
    /// [`EngineError::InThePast`] if `delay < 0`, [`EngineError::TimeOverflow`] if `now + delay`
    /// overflows; nothing is scheduled.
    pub fn schedule_in(&mut self, delay: Time, event: E) -> Result<(), EngineError> {
        let time = self
            .now
            .checked_add(delay)
            .ok_or(EngineError::TimeOverflow {
                now: self.now,
                delay,
            })?;
        self.schedule_at(time, event)
    }

    /// Ends the run once the current event has been handled. Events it scheduled stay pending.
    pub fn stop(&mut self) {
        *self.stop = true;
    }
}

fn schedule_checked<E>(
    queue: &mut EventQueue<E>,
    now: Time,
    time: Time,
    event: E,
) -> Result<(), EngineError> {
    if time < now {
        return Err(EngineError::InThePast { time, now });
    }
    queue.push(time, event);
    Ok(())
}

/// Counts from one call of [`Simulation::run_until`] or [`Simulation::run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Events handled during the call \[events\].
    pub events: u64,
    /// True if the run ended because a model called [`Context::stop`].
    pub stopped: bool,
}

/// A model, its clock and its pending events.
///
/// Build with [`Simulation::new`], seed initial events with [`Simulation::schedule`], then drive
/// it with [`step`](Self::step), [`run_until`](Self::run_until) or [`run`](Self::run).
///
/// Once a model calls [`Context::stop`], the simulation stays stopped: `step` returns `false`
/// and the run methods handle no further events (see [`is_stopped`](Self::is_stopped)).
#[derive(Debug)]
pub struct Simulation<M: Model> {
    model: M,
    queue: EventQueue<M::Event>,
    now: Time,
    stopped: bool,
    events_handled: u64,
}

impl<M: Model> Simulation<M> {
    /// A simulation of `model` with the clock at `start` \[ticks\] and no pending events.
    pub fn new(model: M, start: Time) -> Self {
        Self {
            model,
            queue: EventQueue::new(),
            now: start,
            stopped: false,
            events_handled: 0,
        }
    }

    /// Schedules `event` at absolute `time` \[ticks\], typically to seed the run.
    ///
    /// # Errors
    /// [`EngineError::InThePast`] if `time` is before [`now`](Self::now).
    pub fn schedule(&mut self, time: Time, event: M::Event) -> Result<(), EngineError> {
        schedule_checked(&mut self.queue, self.now, time, event)
    }

    /// Reserves room for at least `additional` more pending events, so that scheduling them
    /// does not reallocate the queue.
    pub fn reserve(&mut self, additional: usize) {
        self.queue.reserve(additional);
    }

    /// Handles the earliest pending event, advancing the clock to its time.
    ///
    /// Returns `false` (and does nothing) if no event is pending or the simulation is stopped.
    pub fn step(&mut self) -> bool {
        if self.stopped {
            return false;
        }
        let Some((time, event)) = self.queue.pop() else {
            return false;
        };
        // Scheduling rejects past times, so the clock never runs backwards.
        self.now = time;
        self.events_handled += 1;
        let mut ctx = Context {
            now: time,
            queue: &mut self.queue,
            stop: &mut self.stopped,
        };
        self.model.handle(event, &mut ctx);
        true
    }

    /// Handles every event with time `<= end` \[ticks\] (including those scheduled along the way),
    /// then sets the clock to `end`.
    ///
    /// If the model stops the run, the call returns at once and the clock stays at the time of
    /// the stopping event. If `end` is before [`now`](Self::now), nothing happens: the clock
    /// never runs backwards.
    pub fn run_until(&mut self, end: Time) -> RunStats {
        let mut stats = RunStats::default();
        while !self.stopped && self.queue.peek_time().is_some_and(|t| t <= end) {
            self.step();
            stats.events += 1;
        }
        stats.stopped = self.stopped;
        if !self.stopped && end > self.now {
            self.now = end;
        }
        stats
    }

    /// Handles events until none is pending or the model stops the run. The clock is left at the
    /// time of the last event handled.
    pub fn run(&mut self) -> RunStats {
        let mut stats = RunStats::default();
        while self.step() {
            stats.events += 1;
        }
        stats.stopped = self.stopped;
        stats
    }

    /// Current simulation time \[ticks\].
    pub fn now(&self) -> Time {
        self.now
    }

    /// Time of the next pending event \[ticks\], if any.
    pub fn next_time(&self) -> Option<Time> {
        self.queue.peek_time()
    }

    /// Number of pending events.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Total events handled since construction \[events\].
    pub fn events_handled(&self) -> u64 {
        self.events_handled
    }

    /// True once a model has called [`Context::stop`].
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// The model, for reading its state between runs.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, for adjusting its state between runs.
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// Consumes the simulation and returns the model (e.g. to read final statistics).
    pub fn into_model(self) -> M {
        self.model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records `(time, label)` of every event; some labels trigger follow-up actions.
    #[derive(Default)]
    struct Recorder {
        log: Vec<(Time, &'static str)>,
        errors: Vec<EngineError>,
    }

    impl Model for Recorder {
        type Event = &'static str;

        fn handle(&mut self, event: &'static str, ctx: &mut Context<'_, &'static str>) {
            self.log.push((ctx.now(), event));
            match event {
                "spawn" => {
                    // Same-time follow-up goes after events already due now.
                    ctx.schedule_in(0, "child-now").unwrap();
                    ctx.schedule_in(5, "child-later").unwrap();
                }
                "bad" => {
                    if let Err(e) = ctx.schedule_at(ctx.now() - 1, "never") {
                        self.errors.push(e);
                    }
                    if let Err(e) = ctx.schedule_in(-3, "never") {
                        self.errors.push(e);
                    }
                    if let Err(e) = ctx.schedule_in(Time::MAX, "never") {
                        self.errors.push(e);
                    }
                }
                "stop" => ctx.stop(),
                _ => {}
            }
        }
    }

    #[test]
    fn events_run_in_time_then_fifo_order() {
        let mut sim = Simulation::new(Recorder::default(), 0);
        sim.schedule(10, "spawn").unwrap();
        sim.schedule(10, "sibling").unwrap();
        sim.schedule(3, "early").unwrap();
        let stats = sim.run();
        assert_eq!(
            stats,
            RunStats {
                events: 5,
                stopped: false
            }
        );
        assert_eq!(
            sim.model().log,
            [
                (3, "early"),
                (10, "spawn"),
                (10, "sibling"),
                (10, "child-now"),
                (15, "child-later"),
            ]
        );
        assert_eq!(sim.now(), 15);
        assert_eq!(sim.pending(), 0);
    }

    #[test]
    fn scheduling_in_the_past_is_rejected() {
        let mut sim = Simulation::new(Recorder::default(), 100);
        assert_eq!(
            sim.schedule(99, "x"),
            Err(EngineError::InThePast { time: 99, now: 100 })
        );
        assert_eq!(sim.pending(), 0);
        sim.schedule(100, "bad").unwrap();
        sim.run();
        assert_eq!(
            sim.model().errors,
            [
                EngineError::InThePast { time: 99, now: 100 },
                EngineError::InThePast { time: 97, now: 100 },
                EngineError::TimeOverflow {
                    now: 100,
                    delay: Time::MAX
                },
            ]
        );
        assert_eq!(sim.pending(), 0, "rejected events must not be queued");
        let message = sim.model().errors[0].to_string();
        assert!(
            message.contains("tick 99") && message.contains("tick 100"),
            "{message}"
        );
    }

    #[test]
    fn run_until_includes_end_and_sets_clock() {
        let mut sim = Simulation::new(Recorder::default(), 0);
        for (t, label) in [(5, "a"), (10, "b"), (11, "c")] {
            sim.schedule(t, label).unwrap();
        }
        // Events at 5 and 10 (== end) run; 11 stays pending; clock moves to end.
        let stats = sim.run_until(10);
        assert_eq!(
            stats,
            RunStats {
                events: 2,
                stopped: false
            }
        );
        assert_eq!(sim.now(), 10);
        assert_eq!(sim.pending(), 1);
        assert_eq!(sim.next_time(), Some(11));

        // No events in (10, 20]: the clock still advances to 20 ...
        sim.schedule(30, "d").unwrap();
        let stats = sim.run_until(20);
        assert_eq!(stats.events, 1);
        assert_eq!(sim.now(), 20);
        // ... so scheduling before 20 is now in the past.
        assert!(sim.schedule(19, "e").is_err());

        // An end before now is a no-op, never a backwards clock.
        assert_eq!(sim.run_until(0), RunStats::default());
        assert_eq!(sim.now(), 20);
        assert_eq!(sim.events_handled(), 3);
    }

    #[test]
    fn stop_ends_the_run_after_the_current_event() {
        let mut sim = Simulation::new(Recorder::default(), 0);
        sim.schedule(1, "a").unwrap();
        sim.schedule(2, "stop").unwrap();
        sim.schedule(2, "b").unwrap();
        sim.schedule(3, "c").unwrap();
        let stats = sim.run_until(100);
        assert_eq!(
            stats,
            RunStats {
                events: 2,
                stopped: true
            }
        );
        assert_eq!(sim.now(), 2, "the clock stays at the stopping event");
        assert_eq!(sim.pending(), 2);
        assert!(sim.is_stopped());
        assert!(!sim.step());
        assert_eq!(sim.run().events, 0);
        let log = sim.into_model().log;
        assert_eq!(log, [(1, "a"), (2, "stop")]);
    }

    #[test]
    fn step_handles_one_event() {
        let mut sim = Simulation::new(Recorder::default(), -5);
        assert!(!sim.step(), "nothing pending");
        sim.schedule(-5, "a").unwrap();
        sim.schedule(7, "b").unwrap();
        assert!(sim.step());
        assert_eq!((sim.now(), sim.pending()), (-5, 1));
        assert!(sim.step());
        assert_eq!(sim.now(), 7);
        sim.model_mut().log.clear();
        assert!(sim.model().log.is_empty());
    }
}
