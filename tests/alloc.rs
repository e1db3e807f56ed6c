//! Steady-state days allocate nothing: a test binary of its own, because it replaces the
//! global allocator with one that counts.
//!
//! What it measures: the number of heap allocations (`alloc`, `alloc_zeroed` and `realloc`
//! calls) made on the test's own thread during each day of the built-in default scenario,
//! i.e. between the end of day `t − 1` and the end of day `t` as reported by
//! `model::simulate_observed`: the events dated `t`, the Day step (supply, market,
//! datacenter, demand, the recorded row), and the flows it sends. Outputs that grow with the
//! run (the series, the ledger) are reserved when the run starts and are not reallocated;
//! the only text written during a run is the event log, so a day that writes event-log
//! records (pauses and resumes, launches, capacity changes, export rules, reservations) may
//! allocate that text and nothing else.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use capsim::scenario::{Source, load};

/// The system allocator, counting allocations per thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: nothing to count while the thread is being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is `System`'s; counting touches only a thread-local `Cell` and
// never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The steady state: from day 200 (the first months fill the trailing windows and size the
/// buffers) to day 1000 of the 1096.
const STEADY: std::ops::RangeInclusive<usize> = 200..=1000;

/// At most this many allocations per event-log record: its three texts, the formatting of
/// the cause, and for a pause or a resume the episode it opens or closes.
const PER_RECORD: u64 = 8;

#[test]
fn steady_state_days_allocate_nothing_but_event_log_text() {
    let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
    let s = &loaded.scenario;
    let days = usize::try_from(s.days).unwrap();
    assert!(
        days > *STEADY.end(),
        "the default scenario runs past day 1000"
    );
    // Allocated before the run, so that recording the counts allocates nothing.
    let mut after_day: Vec<u64> = Vec::with_capacity(days);
    let run = capsim::model::simulate_observed(s, s.seed, 0, |_| after_day.push(allocations()));
    assert_eq!(after_day.len(), days);

    // Event-log records written on each day: a pause or resume is decided on the day before
    // the one it is dated; every other record is written on its own day.
    let mut records = vec![0u64; days];
    for e in &run.events {
        let day = usize::try_from(e.day).unwrap();
        let written = if e.kind == "pause" || e.kind == "resume" {
            day - 1
        } else {
            day
        };
        records[written] += 1;
    }

    let mut logging_days = Vec::new();
    for t in STEADY {
        let n = after_day[t] - after_day[t - 1];
        if records[t] == 0 {
            assert_eq!(
                n, 0,
                "day {t} allocated {n} times without writing the event log"
            );
        } else {
            assert!(
                n <= PER_RECORD * records[t],
                "day {t} allocated {n} times for {} event-log records",
                records[t]
            );
            logging_days.push((t, records[t], n));
        }
    }
    let total = after_day[*STEADY.end()] - after_day[*STEADY.start() - 1];
    println!(
        "days {}..={}: {total} allocations, all on the {} days that write the event log \
         (day, records, allocations): {logging_days:?}",
        STEADY.start(),
        STEADY.end(),
        logging_days.len()
    );
}
