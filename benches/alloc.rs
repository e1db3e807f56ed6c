//! Heap allocations in the hot loops, counted by a global allocator (not timed: counting would
//! slow the timed benches, so it lives in its own binary).
//!
//! - The default scenario run to three ends (2023-12-31, 2024-12-31, 2025-12-31): the
//!   allocations of `capsim::model::simulate`, and the marginal allocations per simulated day
//!   between the shortest and the longest run (steady state, set-up excluded).
//! - The hold model at 10,000 pending events: allocations per event in steady state.
//! - The M/M/1 queue (λ = 0.9, μ = 1.0) at 10⁵ and 10⁶ customers: marginal allocations per
//!   customer.
//!
//! ```sh
//! cargo bench --bench alloc
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use capsim::model::simulate;
use capsim::queueing::MmcConfig;
use capsim::scenario::{Source, load};

mod common;
use common::hold_simulation;

/// Counts calls to `alloc`, `alloc_zeroed` and `realloc`, and the bytes they ask for.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

fn count(size: usize) {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(size as u64, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is `System`'s; counting touches only atomics and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and bytes requested while `f` runs.
fn counted<T>(f: impl FnOnce() -> T) -> (u64, u64, T) {
    let (a0, b0) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    let out = f();
    let (a1, b1) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    (a1 - a0, b1 - b0, out)
}

fn model() {
    println!("default scenario, model::simulate (seed 1):");
    let mut runs = Vec::new();
    for end in ["2023-12-31", "2024-12-31", "2025-12-31"] {
        let sets = [format!("end={end}")];
        let s = match load(Source::BuiltIn, &sets) {
            Ok(loaded) => loaded.scenario,
            Err(e) => panic!("the built-in scenario does not load:\n{}", e.render()),
        };
        let (allocs, bytes, out) = counted(|| simulate(&s, 1));
        let (ledger, events) = (out.ledger.len(), out.events.len());
        drop(black_box(out));
        println!(
            "  to {end}: {days:>5} days, {allocs:>7} allocations, {kib:>9.1} KiB requested, \
             {ledger} ledger rows, {events} events",
            days = s.days,
            kib = bytes as f64 / 1024.0
        );
        runs.push((s.days, allocs, bytes, ledger, events));
    }
    if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
        let days = (last.0 - first.0) as f64;
        println!(
            "  marginal per simulated day (steady state): {:.2} allocations, {:.0} bytes, \
             {:.2} ledger rows, {:.3} events",
            (last.1 - first.1) as f64 / days,
            (last.2 - first.2) as f64 / days,
            (last.3 - first.3) as f64 / days,
            (last.4 - first.4) as f64 / days,
        );
    }
}

fn hold() {
    const PENDING: usize = 10_000;
    const EVENTS: u64 = 1_000_000;
    let mut sim = hold_simulation(PENDING);
    let (allocs, bytes, ()) = counted(|| {
        for _ in 0..EVENTS {
            sim.step();
        }
    });
    println!(
        "hold model, {PENDING} pending, {EVENTS} events in steady state: {allocs} allocations \
         ({:.6} per event), {bytes} bytes",
        allocs as f64 / EVENTS as f64
    );
}

fn mm1() {
    let run = |customers: u64| {
        let cfg = MmcConfig {
            servers: 1,
            arrival_rate: 0.9,
            service_rate: 1.0,
            customers,
            seed: 1,
        };
        counted(|| capsim::queueing::simulate(&cfg).expect("a stable M/M/1 queue"))
    };
    let (small, large) = (run(100_000), run(1_000_000));
    println!(
        "M/M/1 (λ 0.9, μ 1.0): {} allocations for 10^5 customers, {} for 10^6; marginal {:.6} \
         per customer",
        small.0,
        large.0,
        (large.0 as f64 - small.0 as f64) / 900_000.0
    );
}

fn main() {
    // `cargo bench` passes `--bench` and any filter; there is nothing to filter here.
    model();
    hold();
    mm1();
}
