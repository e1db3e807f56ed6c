//! The stages of a default run after the simulation, and the whole run without the file
//! system: what `capsim run` does between loading and writing.
//!
//! - `report/render_all`: the data files (`timeseries.csv`, `summary.json`, `events.csv`,
//!   `ledger.csv`, `manifest.json`) as bytes;
//! - `report/render_charts`: the six charts (PNG and SVG) and `report.md`, parsed back from
//!   those bytes as `capsim chart` does;
//! - `run/no_charts` and `run/charts`: load, simulate and render, as `capsim run` without and
//!   with charts (`timeseries.csv` and `ledger.csv` formatted beside the simulation;
//!   everything but writing the folder; `bench/run.sh` times the command itself).
//!
//! ```sh
//! cargo bench --bench report
//! ```

use std::hint::black_box;
use std::time::Duration;

use capsim::model::simulate_replication;
use capsim::report::{render_all, render_charts, simulate_with_timeseries};
use capsim::scenario::{Source, load};
use criterion::{Criterion, criterion_group, criterion_main};

fn stages(c: &mut Criterion) {
    let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
    let seed = loaded.scenario.seed;
    let run = simulate_replication(&loaded.scenario, seed, 0);
    let files = render_all(&loaded, &run, None, &[]).expect("renders");
    let mut group = c.benchmark_group("report");
    group.bench_function("render_all", |b| {
        b.iter(|| render_all(black_box(&loaded), black_box(&run), None, &[]).expect("renders"));
    });
    group.sample_size(20);
    group.bench_function("render_charts", |b| {
        b.iter(|| render_charts(black_box(&files)).expect("draws"));
    });
    group.finish();
}

fn whole(c: &mut Criterion) {
    let mut group = c.benchmark_group("run");
    let once = |charts: bool| {
        let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
        let seed = loaded.scenario.seed;
        let s = loaded.replication(seed, 0).expect("replication 0");
        // As `capsim run`: the table formatted beside the simulation.
        let t = simulate_with_timeseries(&s, seed, 0);
        let mut files = render_all(&loaded, &t.run, Some(t.tables), &[]).expect("renders");
        if charts {
            let drawn = render_charts(&files).expect("draws");
            files.extend(drawn);
        }
        files
    };
    group.bench_function("no_charts", |b| b.iter(|| once(false)));
    group.sample_size(20);
    group.bench_function("charts", |b| b.iter(|| once(true)));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = stages, whole
}
criterion_main!(benches);
