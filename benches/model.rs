//! The capacity model: one run of the default scenario, one run of the largest scenario in
//! `scenarios/`, 1,000 replications of the default scenario, and growth laws measured on
//! synthetic scenarios of increasing size.
//!
//! ```sh
//! cargo bench --bench model                    # everything (about four minutes on 2 cores)
//! cargo bench --bench model -- model/default   # one group
//! ```
//!
//! `CAPSIM_BENCH_DUMP=DIR` writes the synthetic scenarios there as YAML (for `capsim run`).
//!
//! The growth groups (`model/growth/*`, `model/replications`) print a power-law fit
//! `time ∝ size^a` (least squares on log time against log size, over the fastest sample of
//! each size) after they finish.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use capsim::model::simulate;
use capsim::scenario::{Scenario, Source, load};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

/// Seeds `0..REPLICATIONS` for the Monte Carlo bench [runs].
const REPLICATIONS: u64 = 1_000;

fn load_text(name: &str, text: &str) -> Scenario {
    match load(Source::Text { name, text }, &[]) {
        Ok(loaded) => loaded.scenario,
        Err(e) => panic!("scenario {name} does not load:\n{}\n{text}", e.render()),
    }
}

fn default_scenario() -> Scenario {
    match load(Source::BuiltIn, &[]) {
        Ok(loaded) => loaded.scenario,
        Err(e) => panic!("the built-in scenario does not load:\n{}", e.render()),
    }
}

/// Days simulated in a run of `s` [days].
fn days(s: &Scenario) -> u64 {
    u64::try_from(s.days).unwrap_or(0)
}

/// `products × buyers × max(segments, 1)`: the size measure used to pick the largest scenario.
fn size(s: &Scenario) -> usize {
    s.products.len() * s.buyers.len() * s.segments.len().max(1)
}

/// The scenario in `scenarios/*.yaml` with the largest [`size`] (the first by file name on a
/// tie), with its file name. Chosen at run time, so new scenario files are picked up; a file
/// that does not load on its own is skipped with a note.
fn largest_scenario() -> (String, Scenario) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let mut best: Option<(String, Scenario)> = None;
    for path in &files {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        match load(Source::File(path), &[]) {
            Ok(loaded) => {
                let s = loaded.scenario;
                eprintln!(
                    "scenarios/{name}: {} products x {} buyers x {} segments = {}, {} days",
                    s.products.len(),
                    s.buyers.len(),
                    s.segments.len(),
                    size(&s),
                    s.days
                );
                if best.as_ref().is_none_or(|(_, b)| size(&s) > size(b)) {
                    best = Some((name, s));
                }
            }
            Err(e) => eprintln!("scenarios/{name}: skipped, does not load:\n{}", e.render()),
        }
    }
    best.unwrap_or_else(|| panic!("no loadable scenario in {}", dir.display()))
}

/// The size of a synthetic scenario.
#[derive(Debug, Clone, Copy)]
struct Size {
    /// Run length [years], from 2030-01-01.
    years: u32,
    /// Products, two per vendor, alternating between two packaging lines.
    products: usize,
    /// Buyers: one operator and `buyers − 1` competitors (at least 2 buyers).
    buyers: usize,
    /// The operator's user segments.
    segments: usize,
}

/// The smallest synthetic scenario; each growth group varies one field of it.
const BASE: Size = Size {
    years: 1,
    products: 2,
    buyers: 2,
    segments: 1,
};

/// A synthetic scenario of `size` as YAML text.
///
/// It uses every part of the model: two packaging lines and HBM growing over the run,
/// staggered product launches, vendors with each allocation rule, price elasticity, contracts,
/// over-ordering, export rules, failures, a site with builds, segments with pauses, waitlists,
/// rate limits and shortage churn, a launch and a reservation. Total competitor demand and total
/// users do not depend on the number of buyers or segments (they are split evenly), so a larger
/// scenario is the same market cut finer, not a different market. Product shares of `1/products`
/// are exact in binary for the powers of two used, so they sum to exactly 1.
fn synthetic_yaml(size: Size) -> String {
    write_synthetic(size).expect("writing to a String cannot fail")
}

fn write_synthetic(size: Size) -> Result<String, std::fmt::Error> {
    use std::fmt::Write as _;
    let Size {
        years,
        products,
        buyers,
        segments,
    } = size;
    assert!(products >= 2 && buyers >= 2 && segments >= 1 && years >= 1);
    let end_year = 2030 + years - 1;
    let share = 1.0 / products as f64;
    let mix = (0..products)
        .map(|p| format!("P{p}: {share}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut y = String::new();
    writeln!(
        y,
        "name: synthetic-y{years}-p{products}-b{buyers}-s{segments}"
    )?;
    writeln!(y, "start: 2030-01-01\nend: {end_year}-12-31\nseed: 1")?;
    writeln!(y, "supply:\n  packaging_lines:")?;
    for line in 0..2 {
        writeln!(y, "    - name: L{line}")?;
        writeln!(y, "      capacity_wafers_per_month:")?;
        writeln!(y, "        interpolation: linear")?;
        writeln!(
            y,
            "        points: {{2030-01: 8000, 2034-01: 20000, 2038-01: 40000}}"
        )?;
    }
    writeln!(y, "  hbm:")?;
    writeln!(
        y,
        "    stacks_per_month: {{2030-01: 1500000, 2032-01: 4000000, 2035-01: 8000000}}"
    )?;
    writeln!(y, "products:")?;
    for p in 0..products {
        writeln!(y, "  - name: P{p}")?;
        writeln!(y, "    vendor: V{}", p / 2)?;
        writeln!(y, "    packaging_line: L{}", p % 2)?;
        writeln!(y, "    packages_per_wafer: 29")?;
        writeln!(y, "    packaging_yield: {{2030-01: 0.7, 2031-01: 0.9}}")?;
        writeln!(y, "    hbm_stacks: {}", 4 + p % 5)?;
        writeln!(y, "    h100_equivalents: {}", 1.0 + 0.25 * (p % 4) as f64)?;
        writeln!(y, "    power_w: 700")?;
        writeln!(y, "    price_usd: {{2030-01: 30000, 2032-01: 25000}}")?;
        writeln!(y, "    available: 2030-{:02}", 1 + p % 4)?;
        writeln!(y, "    annual_failure_rate: 0.05")?;
    }
    writeln!(y, "vendors:")?;
    for v in 0..products.div_ceil(2) {
        writeln!(y, "  - name: V{v}")?;
        writeln!(
            y,
            "    allocation: {}",
            ["floors", "pro_rata", "priority"][v % 3]
        )?;
        writeln!(y, "    normal_lead_time_days: 90")?;
        writeln!(y, "    price_elasticity: 0.5")?;
    }
    writeln!(y, "buyers:")?;
    writeln!(y, "  - name: B0\n    kind: operator\n    region: US")?;
    writeln!(y, "    products: {{{mix}}}")?;
    writeln!(y, "    contracts: [{{product: P0, units_per_month: 2000}}]")?;
    writeln!(y, "    headroom: 0.2\n    initial_fleet: {{P0: 20000}}")?;
    let competitors = buyers - 1;
    for b in 1..buyers {
        writeln!(y, "  - name: B{b}")?;
        writeln!(y, "    region: {}", if b % 4 == 3 { "China" } else { "US" })?;
        writeln!(y, "    priority: {}", 1 + b % 3)?;
        writeln!(y, "    review_every_days: {}", 20 + 5 * (b % 5))?;
        writeln!(y, "    products: {{{mix}}}")?;
        writeln!(
            y,
            "    demand_h100e: {{logistic: {{capacity: {}, rate_per_year: 0.8, midpoint: 2032-01}}}}",
            3.0e6 / competitors as f64
        )?;
        writeln!(y, "    initial_fleet: {{P1: {}}}", 200_000 / competitors)?;
        if b % 2 == 1 {
            writeln!(
                y,
                "    over_order: {{enabled: true, factor: 1.3, above_lead_time_days: 120}}"
            )?;
        }
    }
    writeln!(y, "sites:\n  - name: S0\n    owner: B0\n    megawatts: 100")?;
    writeln!(y, "    builds:")?;
    writeln!(y, "      - {{start: 2030-06, months: 12, megawatts: 300}}")?;
    writeln!(y, "      - {{start: 2032-01, months: 15, megawatts: 800}}")?;
    writeln!(y, "segments:")?;
    for g in 0..segments {
        writeln!(y, "  - name: G{g}")?;
        writeln!(
            y,
            "    growth: {{logistic: {{capacity: {}, rate_per_year: 1.5, midpoint: 2031-01}}}}",
            400.0e6 / segments as f64
        )?;
        writeln!(y, "    churn_per_month: 0.03")?;
        writeln!(y, "    queries_per_user_per_day: {}", 4 + g % 3)?;
        writeln!(y, "    tokens_per_query: 1500")?;
        writeln!(
            y,
            "    h100_seconds_per_1k_tokens: {{2030-01: 3.0, 2034-01: 2.0}}"
        )?;
        writeln!(y, "    peak_factor: 1.5")?;
        writeln!(y, "    priority: {}", 1 + g % 2)?;
        writeln!(y, "    shortage_churn: {{extra_churn_per_month: 0.2}}")?;
        if g % 2 == 0 {
            writeln!(y, "    revenue_per_user_per_month: 0")?;
            writeln!(y, "    pause: {{pause_above: 1.1, resume_below: 0.95}}")?;
        } else {
            writeln!(y, "    revenue_per_user_per_month: 20")?;
            writeln!(
                y,
                "    pause: {{pause_above: 1.1, resume_below: 0.95, waitlist: {{}}}}"
            )?;
            writeln!(y, "    rate_limit: {{max_queries_per_user_per_day: 100}}")?;
        }
    }
    writeln!(y, "launches:\n  - name: Launch\n    date: 2030-04-01")?;
    writeln!(
        y,
        "    extra_signups: 1.0e6\n    usage_uplift: 0.3\n    decay_days: 21"
    )?;
    writeln!(y, "export_rules:\n  - name: Rule\n    products: [P1]")?;
    writeln!(y, "    region: China\n    from: 2030-07-01")?;
    writeln!(
        y,
        "reservations:\n  - name: Training\n    start: 2030-03-01"
    )?;
    writeln!(y, "    end: 2030-08-31\n    h100e: 5000")?;
    Ok(y)
}

/// Times per run of each size, recorded from inside criterion's measurement loop
/// [size → seconds per iteration, one value per sample].
type Samples = BTreeMap<u64, Vec<f64>>;

/// Runs `f` `iters` times, returns the elapsed time and records the time per iteration under
/// `size` (warm-up included: it can only be slower than the fastest sample, which is used).
fn timed(samples: &mut Samples, size: u64, iters: u64, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let elapsed = start.elapsed();
    samples
        .entry(size)
        .or_default()
        .push(elapsed.as_secs_f64() / iters.max(1) as f64);
    elapsed
}

/// Fits `time = c · size^a` by least squares on logarithms and prints the exponent `a`, with
/// the straight-line fit `time = t0 + k · size`.
///
/// Each size's time is its fastest sample (time per run averaged over one sample's
/// iterations): on a shared machine other load can only slow a sample down, so the fastest is
/// the least disturbed estimate of the cost itself.
fn print_power_law(what: &str, unit: &str, samples: &Samples) {
    let one = unit.strip_suffix('s').unwrap_or(unit);
    let points: Vec<(f64, f64)> = samples
        .iter()
        .filter_map(|(&x, v)| {
            let fastest = v.iter().copied().fold(f64::INFINITY, f64::min);
            fastest.is_finite().then_some((x as f64, fastest))
        })
        .collect();
    if points.len() < 2 {
        return;
    }
    let n = points.len() as f64;
    let (lx, ly): (Vec<f64>, Vec<f64>) = points.iter().map(|&(x, t)| (x.ln(), t.ln())).unzip();
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = lx.iter().map(|x| (x - mx).powi(2)).sum();
    let syy: f64 = ly.iter().map(|y| (y - my).powi(2)).sum();
    let a = sxy / sxx;
    let r2 = if syy > 0.0 {
        sxy * sxy / (sxx * syy)
    } else {
        1.0
    };
    // Also the straight line `time = t0 + k · size`: the fixed cost of a run and the marginal
    // cost of one more unit of size, which a power law below 1 mixes together.
    let (px, pt): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
    let (mpx, mpt) = (px.iter().sum::<f64>() / n, pt.iter().sum::<f64>() / n);
    let k = px
        .iter()
        .zip(&pt)
        .map(|(x, t)| (x - mpx) * (t - mpt))
        .sum::<f64>()
        / px.iter().map(|x| (x - mpx).powi(2)).sum::<f64>();
    let t0 = mpt - k * mpx;
    let table = points
        .iter()
        .map(|(x, t)| format!("{unit}={x}: {:.3} ms", t * 1e3))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "growth law {what}: time ∝ {unit}^{a:.2} (R² {r2:.3}); linear: {:.3} ms + {:.3} ms per \
         {one} (fastest samples {table})",
        t0 * 1e3,
        k * 1e3
    );
}

fn default_run(c: &mut Criterion) {
    let s = default_scenario();
    let mut group = c.benchmark_group("model");
    group.throughput(Throughput::Elements(days(&s)));
    group.bench_function("default", |b| b.iter(|| simulate(black_box(&s), 1)));
    group.finish();
}

fn largest_run(c: &mut Criterion) {
    let (name, s) = largest_scenario();
    let mut group = c.benchmark_group("model/largest");
    group.throughput(Throughput::Elements(days(&s)));
    group.bench_function(name, |b| b.iter(|| simulate(black_box(&s), 1)));
    group.finish();
}

/// Sequential replications `simulate(&s, seed)` for seeds `0..n` of the default scenario.
/// (Monte Carlo over rayon is a later issue; this is the single-threaded baseline.)
fn replications(c: &mut Criterion) {
    let s = default_scenario();
    let mut samples = Samples::new();
    let mut group = c.benchmark_group("model/replications");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    for n in [10, 100, REPLICATIONS] {
        group.throughput(Throughput::Elements(n));
        group.measurement_time(Duration::from_secs(if n >= 1000 { 10 } else { 5 }));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter_custom(|iters| {
                timed(&mut samples, n, iters, || {
                    for seed in 0..n {
                        black_box(simulate(&s, seed));
                    }
                })
            });
        });
    }
    group.finish();
    print_power_law("replications (default scenario)", "replications", &samples);
}

/// `montecarlo::run`: 1,000 replications of the default scenario in parallel (rayon's
/// default pool, one thread per core), with the aggregation into bands and metrics that
/// `capsim run --reps 1000` does. 10,000 replications are measured by
/// `bench/montecarlo.sh` (wall time and peak memory of the command).
fn montecarlo(c: &mut Criterion) {
    let s = default_scenario();
    let mut group = c.benchmark_group("model/montecarlo");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(20));
    let n = REPLICATIONS;
    group.throughput(Throughput::Elements(n));
    group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
        let plan = capsim::montecarlo::Plan {
            seed: 1,
            reps: n,
            until_ci: None,
            confidence: capsim::montecarlo::Confidence::default(),
        };
        let of = |_r: u64| -> Result<std::borrow::Cow<'_, capsim::scenario::Scenario>, String> {
            Ok(std::borrow::Cow::Borrowed(&s))
        };
        b.iter(|| black_box(capsim::montecarlo::run(&plan, &of, &|| {}).map(|o| o.reps)));
    });
    group.finish();
}

/// `scenario/load`: loading the built-in scenario. `scenario/replication`:
/// `Loaded::replication`, drawing a replication's distributions and checking and resolving
/// the scenario again, on the default scenario with two distributions (a cost paid once per
/// replication, before its run).
fn replication_scenario(c: &mut Criterion) {
    let sets = [
        "products.H100.packaging_yield={pert: {min: 0.8, mode: 0.9, max: 0.95}}".to_string(),
        "supply.hbm.stacks_per_month.points.2023-12={triangular: {min: 1.5e6, mode: 2.0e6, max: 2.4e6}}"
            .to_string(),
    ];
    let loaded = capsim::scenario::load(capsim::scenario::Source::BuiltIn, &sets)
        .expect("the default scenario with two distributions loads");
    let mut group = c.benchmark_group("scenario");
    // Loading the built-in scenario: parsing its YAML with locations, checking and resolving
    // it (the first stage of every `capsim run`).
    group.bench_function("load", |b| {
        b.iter(|| {
            black_box(
                capsim::scenario::load(capsim::scenario::Source::BuiltIn, &[])
                    .map(|l| l.scenario.days),
            )
        })
    });
    let mut rep = 0u64;
    group.bench_function("replication", |b| {
        b.iter(|| {
            rep += 1;
            black_box(loaded.replication(1, rep).map(|s| s.days))
        })
    });
    group.finish();
}

/// One growth group: runs of synthetic scenarios with one dimension of [`BASE`] varied.
fn growth_group(c: &mut Criterion, dim: &str, sizes: &[u64], make: impl Fn(u64) -> Size) {
    let mut samples = Samples::new();
    let mut group = c.benchmark_group(format!("model/growth/{dim}"));
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(4));
    for &x in sizes {
        let size = make(x);
        let yaml = synthetic_yaml(size);
        let s = load_text(&format!("synthetic {dim}={x}"), &yaml);
        if let Some(dir) = std::env::var_os("CAPSIM_BENCH_DUMP") {
            let path = Path::new(&dir).join(format!("{}.yaml", s.name));
            std::fs::write(&path, &yaml)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        }
        group.throughput(Throughput::Elements(days(&s)));
        group.bench_with_input(BenchmarkId::from_parameter(x), &x, |b, &x| {
            b.iter_custom(|iters| {
                timed(&mut samples, x, iters, || {
                    black_box(simulate(&s, 1));
                })
            });
        });
    }
    group.finish();
    print_power_law(&format!("model/growth/{dim}"), dim, &samples);
}

fn growth(c: &mut Criterion) {
    let as_usize = |x: u64| usize::try_from(x).unwrap_or(usize::MAX);
    growth_group(c, "years", &[1, 2, 4, 8], |x| Size {
        years: u32::try_from(x).unwrap_or(u32::MAX),
        ..BASE
    });
    growth_group(c, "products", &[2, 4, 8, 16], |x| Size {
        products: as_usize(x),
        ..BASE
    });
    growth_group(c, "buyers", &[2, 4, 8, 16], |x| Size {
        buyers: as_usize(x),
        ..BASE
    });
    growth_group(c, "segments", &[1, 2, 4, 8], |x| Size {
        segments: as_usize(x),
        ..BASE
    });
}

/// The per-day cost model: synthetic one-year scenarios over a grid of products × buyers
/// (2, 6, 16 each, one segment) and segments 1, 4, 8 at 2 × 2, fitted by least squares as
/// `µs per day = c0 + cP·P + cB·B + cS·S + cPB·P·B` on each size's fastest sample.
fn cost_model(c: &mut Criterion) {
    let mut sizes = Vec::new();
    for products in [2, 6, 16] {
        for buyers in [2, 6, 16] {
            sizes.push(Size {
                products,
                buyers,
                ..BASE
            });
        }
    }
    for segments in [4, 8] {
        sizes.push(Size { segments, ..BASE });
    }
    let mut group = c.benchmark_group("model/cost");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(2));
    let mut rows = Vec::new();
    for size in sizes {
        let label = format!("P{}xB{}xS{}", size.products, size.buyers, size.segments);
        let s = load_text(&format!("synthetic {label}"), &synthetic_yaml(size));
        let mut samples = Samples::new();
        group.bench_function(&label, |b| {
            b.iter_custom(|iters| {
                timed(&mut samples, 0, iters, || drop(black_box(simulate(&s, 1))))
            });
        });
        let fastest = samples
            .values()
            .flatten()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let per_day_us = fastest * 1e6 / days(&s) as f64;
        let (p, b, sg) = (
            size.products as f64,
            size.buyers as f64,
            size.segments as f64,
        );
        // A size that a filter left out has no sample.
        if per_day_us.is_finite() {
            rows.push(([1.0, p, b, sg, p * b], per_day_us));
        }
    }
    group.finish();
    // The fit needs every size (a filter such as `-- growth` runs none of them).
    if rows.len() < 11 {
        return;
    }
    // Normal equations (XᵀX) β = Xᵀy, solved by Gaussian elimination with partial pivoting.
    let mut a = [[0.0_f64; 6]; 5];
    for (x, y) in &rows {
        for i in 0..5 {
            for j in 0..5 {
                a[i][j] += x[i] * x[j];
            }
            a[i][5] += x[i] * y;
        }
    }
    for col in 0..5 {
        let pivot = (col..5)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (row, r) in a.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                for (x, &p) in r.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    let beta: Vec<f64> = (0..5).map(|i| a[i][5] / a[i][i]).collect();
    let worst = rows
        .iter()
        .map(|(x, y)| {
            let fit: f64 = x.iter().zip(&beta).map(|(x, b)| x * b).sum();
            ((fit - y) / y).abs()
        })
        .fold(0.0, f64::max);
    eprintln!(
        "cost model: µs per day = {:.3} + {:.4}·P + {:.4}·B + {:.4}·S + {:.5}·P·B \
         (worst relative error over the {} sizes {:.1}%)",
        beta[0],
        beta[1],
        beta[2],
        beta[3],
        beta[4],
        rows.len(),
        worst * 100.0
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = default_run, largest_run, growth, cost_model, replications, montecarlo, replication_scenario
}
criterion_main!(benches);
