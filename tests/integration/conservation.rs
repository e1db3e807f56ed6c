//! Conservation of units on the built-in default scenario, checked against independent
//! records (the ledger, the daily series, the summary), at several points of the run.

use capsim::model::{RunOutput, simulate};
use capsim::scenario::{Source, load};

fn default_run(end: Option<&str>) -> (capsim::scenario::Loaded, RunOutput) {
    let sets: Vec<String> = end.map(|e| format!("end={e}")).into_iter().collect();
    let loaded = load(Source::BuiltIn, &sets).unwrap_or_else(|e| panic!("{}", e.render()));
    let run = simulate(&loaded.scenario, 1);
    (loaded, run)
}

#[test]
fn units_are_conserved_through_the_run() {
    // Debug builds panic on u64 underflow, so reaching the end also shows that no stock
    // went negative on any day.
    for end in [Some("2023-03-15"), Some("2024-02-29"), None] {
        let (loaded, run) = default_run(end);
        let s = &loaded.scenario;
        crate::common::assert_conserved(&run, &format!("default scenario to {end:?}"));
        for (p, prod) in s.products.iter().enumerate() {
            let a = &run.accounts[p];
            let ctx = format!("{} at {:?}", prod.name, end);
            // ... the daily production column sums to what was started ...
            let started: f64 = run
                .series(&format!("production_units_per_day[{}]", prod.name))
                .unwrap_or_default()
                .iter()
                .sum();
            assert_eq!(started as u64, a.started, "{ctx}");
            // ... and production by year sums to what was finished.
            let by_year: u64 = run.summary.production_by_year[&prod.name].values().sum();
            assert_eq!(by_year, a.produced, "{ctx}");
        }
    }
}

#[test]
fn daily_series_have_no_negative_stock_and_serve_no_more_than_asked() {
    let (_, run) = default_run(None);
    let n = run.columns.len();
    for (c, name) in run.columns.iter().enumerate() {
        let stock = ["units", "users", "h100e", "_mw", "usd"]
            .iter()
            .any(|k| name.contains(k));
        if !stock {
            continue;
        }
        for row in 0..run.dates.len() {
            let v = run.values[row * n + c];
            assert!(
                v >= 0.0 && v.is_finite(),
                "{name} = {v} on {}",
                &run.dates[row]
            );
        }
    }
    let demand = run.series("demand_h100e").unwrap_or_default();
    let served = run.series("served_h100e").unwrap_or_default();
    let capacity = run.series("capacity_h100e").unwrap_or_default();
    for d in 0..demand.len() {
        assert!(served[d] <= demand[d] * (1.0 + 1e-9) + 1e-9, "day {d}");
        assert!(served[d] <= capacity[d] * (1.0 + 1e-9) + 1e-9, "day {d}");
    }
}

#[test]
fn the_default_scenario_tells_a_shortage_story() {
    // Not a golden test: it guards the broad shape a reader of the README is promised.
    let (_, run) = default_run(None);
    let s = &run.summary;
    assert!(
        s.first_shortage.is_some(),
        "the 2023 crunch shows as a shortage"
    );
    assert!(
        !s.pause_episodes.is_empty(),
        "paid sign-ups pause at least once"
    );
    assert!(
        s.lead_time_peak_days > 90.0,
        "lead times stretch past a quarter"
    );
    assert!(s.binding_constraint_days["packaging"] > 0);
    assert!(s.capex_usd > 0.0 && s.revenue_usd > 0.0);
}
