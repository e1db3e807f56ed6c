//! Uncertainty (issue 4, Monte Carlo): distributions drawn once per replication, process
//! noise, outages and slips, each from its own named stream.

use std::borrow::Cow;

use capsim::model;
use capsim::scenario::{Loaded, Source, load};

/// A small scenario; `extra` is appended to the products and buyers lists' ends.
fn minimal(line: &str, product: &str, extra_products: &str, extra_buyers: &str) -> String {
    let product = if product.contains("price_usd") {
        product.to_string()
    } else {
        format!("    price_usd: 30000\n{product}")
    };
    format!(
        "name: minimal
start: 2024-01
end: 2024-12-31
seed: 3
supply:
  packaging_lines:
    - name: CoWoS-S
      capacity_wafers_per_month: {{2024-01: 10000, 2024-07: 15000}}
{line}
vendors:
  - name: Nvidia
products:
{extra_products}  - name: H100
    vendor: Nvidia
    packaging_line: CoWoS-S
    packages_per_wafer: 29
    h100_equivalents: 1.0
    power_w: 700
{product}
buyers:
{extra_buyers}  - name: Operator
    kind: operator
    products: {{H100: 1.0}}
    initial_fleet: {{H100: 20000}}
  - name: Rest of market
    products: {{H100: 1.0}}
    demand_h100e:
      exponential: {{initial: 500000, growth_per_year: 2.0}}
"
    )
}

fn text(name: &str, yaml: &str, sets: &[&str]) -> Loaded {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load(Source::Text { name, text: yaml }, &sets)
        .unwrap_or_else(|e| panic!("{name} loads:\n{}", e.render()))
}

const PRICE_DIST: &str = "    price_usd: {triangular: {min: 20000, mode: 25000, max: 40000}}\n";

fn price(l: &Loaded, rep: u64) -> f64 {
    let s = l.replication(5, rep).expect("replication resolves");
    let h = s.products.iter().find(|p| p.name == "H100").expect("H100");
    h.price_usd.at(0)
}

#[test]
fn a_distribution_is_drawn_once_per_replication_and_centred_at_load() {
    let l = text(
        "a.yaml",
        &minimal("", "", "", ""),
        &["products.H100.price_usd={triangular: {min: 20000, mode: 25000, max: 40000}}"],
    );
    // The central scenario holds the mean: (20000 + 25000 + 40000) / 3.
    assert!((l.scenario.products[0].price_usd.at(0) - 85_000.0 / 3.0).abs() < 1e-6);
    assert!(l.is_uncertain());
    let draws: Vec<f64> = (0..200).map(|r| price(&l, r)).collect();
    assert!(draws.iter().all(|&p| (20_000.0..=40_000.0).contains(&p)));
    // Same (seed, replication): same draw; another replication: another draw.
    assert_eq!(price(&l, 7), price(&l, 7));
    assert_ne!(price(&l, 7), price(&l, 8));
    // The mean of 200 draws is within 5 standard errors (sd ≈ 4249 / √200 ≈ 300) of 28333.
    let mean = draws.iter().sum::<f64>() / 200.0;
    assert!((mean - 85_000.0 / 3.0).abs() < 1500.0, "{mean}");
}

#[test]
fn adding_a_buyer_or_a_product_leaves_the_other_draws_alone() {
    let outage = "      outages: {rate_per_year: 4, duration_days: {uniform: {min: 3, max: 30}}, \
                  capacity_lost: 0.5}\n      expansion_slip_days: {uniform: {min: 0, max: 90}}";
    let a = text("a.yaml", &minimal(outage, PRICE_DIST, "", ""), &[]);
    let more_products = "  - name: MI300X\n    vendor: Nvidia\n    packaging_line: CoWoS-S\n    \
                         packages_per_wafer: 16\n    h100_equivalents: 1.3\n    power_w: 750\n    \
                         price_usd: {uniform: {min: 10000, max: 20000}}\n";
    let more_buyers = "  - name: Newcomer\n    products: {H100: 1.0}\n    \
                       demand_h100e: {exponential: {initial: 1000, growth_per_year: 1.5}}\n";
    let b = text(
        "b.yaml",
        &minimal(outage, PRICE_DIST, more_products, more_buyers),
        &["buyers.Operator.products={H100: 0.5, MI300X: 0.5}"],
    );
    for rep in 0..20 {
        // A parameter's draw.
        assert_eq!(price(&a, rep), price(&b, rep), "replication {rep}");
        // A line's outages and slips, as logged.
        let log = |l: &Loaded| {
            let s = l.replication(5, rep).expect("resolves");
            model::simulate_replication(&s, 5, rep)
                .events
                .into_iter()
                .filter(|e| e.kind == "outage" || e.kind == "slip")
                .map(|e| (e.day, e.kind, e.subject, e.cause))
                .collect::<Vec<_>>()
        };
        let (la, lb) = (log(&a), log(&b));
        assert!(!la.is_empty() || rep > 0, "outages are logged");
        assert_eq!(la, lb, "replication {rep}");
    }
}

#[test]
fn two_scenarios_with_one_seed_share_their_common_draws() {
    let a = text("a.yaml", &minimal("", PRICE_DIST, "", ""), &[]);
    // Another scenario: another name, other numbers, another distribution elsewhere.
    let b = text(
        "b.yaml",
        &minimal("", PRICE_DIST, "", ""),
        &[
            "name=other",
            "products.H100.power_w={normal: {mean: 700, sd: 30}}",
            "end=2024-09-30",
        ],
    );
    for rep in 0..10 {
        assert_eq!(price(&a, rep), price(&b, rep));
    }
}

#[test]
fn whole_number_fields_get_rounded_draws() {
    let l = text(
        "a.yaml",
        &minimal(
            "",
            "    cycle_time_days: {uniform: {min: 60, max: 120}}\n",
            "",
            "",
        ),
        &[],
    );
    assert_eq!(l.scenario.products[0].cycle_time_days, 90);
    for rep in 0..20 {
        let s = l.replication(1, rep).expect("resolves");
        assert!((60..=120).contains(&s.products[0].cycle_time_days));
    }
}

#[test]
fn a_draw_a_check_refuses_names_the_replication_and_the_fix() {
    // A yield of mean 0.95 and sd 0.05 goes above 1 in about 16% of replications.
    let l = text(
        "a.yaml",
        &minimal(
            "",
            "    packaging_yield: {normal: {mean: 0.95, sd: 0.05}}\n",
            "",
            "",
        ),
        &[],
    );
    let err = (0..100)
        .find_map(|rep| l.replication(1, rep).err())
        .expect("some replication draws a yield above 1");
    let text = err.render();
    assert!(text.contains("replication "), "{text}");
    assert!(
        text.contains("drew `products[0].packaging_yield` = 1.0"),
        "{text}"
    );
    assert!(text.contains("{normal: {mean: 0.95, sd: 0.05}}"), "{text}");
    assert!(
        text.contains("a yield is a share above 0 and at most 1"),
        "{text}"
    );
    assert!(
        text.contains("clamp the distribution with `min:`/`max:`"),
        "{text}"
    );
    assert!(text.contains("a.yaml:"), "located in the file: {text}");
    // Clamped, every replication is valid.
    let clamped = text_ok(&minimal(
        "",
        "    packaging_yield: {normal: {mean: 0.95, sd: 0.05, max: 1}}\n",
        "",
        "",
    ));
    assert!((0..100).all(|rep| clamped.replication(1, rep).is_ok()));
}

fn text_ok(yaml: &str) -> Loaded {
    text("ok.yaml", yaml, &[])
}

#[test]
fn without_uncertainty_the_loaded_scenario_is_borrowed() {
    let l = text_ok(&minimal("", "", "", ""));
    assert!(
        !l.is_uncertain(),
        "no distribution, noise, outage, slip or failure"
    );
    assert!(matches!(l.replication(1, 3), Ok(Cow::Borrowed(_))));
    // Failures draw random numbers, so replications differ.
    let f = text_ok(&minimal("", "    annual_failure_rate: 0.05\n", "", ""));
    assert!(f.is_uncertain());
    assert!(matches!(f.replication(1, 3), Ok(Cow::Borrowed(_))));
    // A fixed slip is the same in every replication.
    let slip = text_ok(&minimal("      expansion_slip_days: 30", "", "", ""));
    assert!(!slip.is_uncertain());
    let noise = text_ok(&minimal(
        "",
        "    yield_noise: {sd: 0.02, correlation_days: 7}\n",
        "",
        "",
    ));
    assert!(noise.is_uncertain());
}

#[test]
fn a_fixed_slip_delays_each_increase_and_is_logged() {
    let l = text_ok(&minimal("      expansion_slip_days: 30", "", "", ""));
    let run = model::simulate(&l.scenario, 1);
    let slip: Vec<_> = run.events.iter().filter(|e| e.kind == "slip").collect();
    assert_eq!(slip.len(), 1, "{slip:?}");
    assert!(
        slip[0]
            .cause
            .contains("planned for 2024-07-01 slips 30 days to 2024-07-31")
    );
    let expansion = run
        .events
        .iter()
        .find(|e| e.kind == "expansion")
        .expect("the increase happens");
    // 2024-07-31 is day 212 of a run starting 2024-01-01.
    assert_eq!(expansion.day, 212);
}

#[test]
fn demand_noise_changes_demand_around_its_mean() {
    let yaml = std::fs::read_to_string("scenarios/default.yaml").expect("default");
    let base = text("default.yaml", &yaml, &[]);
    let noisy = text(
        "default.yaml",
        &yaml,
        &["segments.paid.demand_noise={sd: 0.1, correlation_days: 30}"],
    );
    assert!(noisy.is_uncertain());
    let a = model::simulate(&base.scenario, 1);
    let b = model::simulate(&noisy.scenario, 1);
    assert_ne!(
        format!("{:?}", a.summary),
        format!("{:?}", b.summary),
        "noise moves the run"
    );
}

#[test]
fn a_loaded_scenario_can_be_shared_by_replication_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Loaded>();
    send_sync::<capsim::scenario::LoadError>();
}
