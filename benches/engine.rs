//! The engine alone: the classic hold model, and the M/M/1 queue of `examples/mm1.rs`.
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
    targets = hold, draw, mm1
}
criterion_main!(benches);
