//! The engine alone: the classic hold model, and the M/M/1 queue of `crates/capsim-engine/examples/mm1.rs`.
//!
//! Hold model (`benches/common/mod.rs`): `N` events pending (100, 10,000, 1,000,000), each
//! popped and rescheduled after an exponential increment; a measured iteration handles 10,000
//! events on a simulation kept from one iteration to the next (so `N` stays constant and the
//! heap stays warm at its size). Throughput is in events per second.
//!
//! Draw: the hold model's random draw alone (10,000 per iteration), to tell the engine's share
//! of a hold event from the random number generator's.
//!
//! M/M/1: `capsim::queueing::simulate` with λ = 0.9, μ = 1.0, 100,000 customers (the figures
//! the peer comparison in `bench/peers/` uses, at a tenth of its customers). Throughput is in
//! customers per second.
//!
//! ```sh
//! cargo bench --bench engine
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Duration;

use capsim::engine::random;
use capsim::queueing::{MmcConfig, simulate};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use rand_distr::Exp1;

mod common;
use common::hold_simulation;

/// Events handled per measured iteration of the hold model [events].
const HOLD_EVENTS_PER_ITER: u64 = 10_000;

fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine/hold");
    group.throughput(Throughput::Elements(HOLD_EVENTS_PER_ITER));
    for pending in [100_usize, 10_000, 1_000_000] {
        let mut sim = hold_simulation(pending);
        if pending >= 1_000_000 {
            group.sample_size(20);
        }
        group.bench_with_input(BenchmarkId::from_parameter(pending), &pending, |b, _| {
            b.iter(|| {
                for _ in 0..HOLD_EVENTS_PER_ITER {
                    sim.step();
                }
            });
        });
        assert_eq!(sim.pending(), pending, "the hold model keeps N pending");
        black_box(sim.now());
    }
    group.finish();
}

/// The same hold loop on `std::collections::BinaryHeap` of `Reverse((time, seq, event))`
/// (first-in first-out ties by a sequence number), written out without the engine, with the
/// same random draws: the reference the engine's queue is compared with in the same run
/// (`engine/hold/10000` against `engine/hold_binaryheap/10000`).
fn hold_binaryheap(c: &mut Criterion) {
    const PENDING: usize = 10_000;
    let mut rng = random::stream(1, 0, "hold");
    let mut increment = move || (rng.sample::<f64, _>(Exp1) * 1e6).round() as i64;
    let mut heap = BinaryHeap::with_capacity(PENDING + 1);
    let mut seq = 0_u64;
    for i in 0..PENDING {
        heap.push(Reverse((
            increment(),
            seq,
            u32::try_from(i).unwrap_or(u32::MAX),
        )));
        seq += 1;
    }
    let mut step = move |heap: &mut BinaryHeap<Reverse<(i64, u64, u32)>>| {
        let Some(Reverse((now, _, event))) = heap.pop() else {
            return;
        };
        heap.push(Reverse((now + increment(), seq, event)));
        seq += 1;
    };
    for _ in 0..PENDING {
        step(&mut heap);
    }
    let mut group = c.benchmark_group("engine/hold_binaryheap");
    group.throughput(Throughput::Elements(HOLD_EVENTS_PER_ITER));
    group.bench_function(BenchmarkId::from_parameter(PENDING), |b| {
        b.iter(|| {
            for _ in 0..HOLD_EVENTS_PER_ITER {
                step(&mut heap);
            }
        });
    });
    assert_eq!(heap.len(), PENDING);
    group.finish();
}

/// The random draw alone, as the hold model makes it (one `Exp1` sample from a ChaCha8 stream,
/// scaled and rounded): the part of a hold event's cost that is not the engine's.
fn draw(c: &mut Criterion) {
    let mut rng = random::stream(1, 0, "hold");
    let mut group = c.benchmark_group("engine/draw");
    group.throughput(Throughput::Elements(HOLD_EVENTS_PER_ITER));
    group.bench_function("exp", |b| {
        b.iter(|| {
            let mut sum = 0_i64;
            for _ in 0..HOLD_EVENTS_PER_ITER {
                sum = sum.wrapping_add((rng.sample::<f64, _>(Exp1) * 1e6).round() as i64);
            }
            black_box(sum)
        });
    });
    group.finish();
}

fn mm1(c: &mut Criterion) {
    const CUSTOMERS: u64 = 100_000;
    let cfg = MmcConfig {
        servers: 1,
        arrival_rate: 0.9,
        service_rate: 1.0,
        customers: CUSTOMERS,
        seed: 1,
    };
    let mut group = c.benchmark_group("queueing");
    group.throughput(Throughput::Elements(CUSTOMERS));
    group.sample_size(30);
    group.bench_function("mm1/100000", |b| {
        b.iter(|| simulate(black_box(&cfg)).expect("a stable M/M/1 queue"));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = hold, hold_binaryheap, draw, mm1
}
criterion_main!(benches);
