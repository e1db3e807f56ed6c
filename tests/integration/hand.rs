//! Small scenarios whose outcomes are worked out by hand in the comments.
//!
//! Monthly quantities become daily ones as `× 12 / 365`, so capacities below are chosen as
//! multiples of 365/12: 3650 wafers/month = 120 wafers/day.

use capsim::model::{RunOutput, simulate};
use capsim::scenario::{Source, load};

fn run(text: &str) -> RunOutput {
    let loaded = match load(
        Source::Text {
            name: "hand.yaml",
            text,
        },
        &[],
    ) {
        Ok(l) => l,
        Err(e) => panic!("scenario did not load:\n{}", e.render()),
    };
    simulate(&loaded.scenario, loaded.scenario.seed)
}

fn at(run: &RunOutput, column: &str, day: usize) -> f64 {
    let series = run
        .series(column)
        .unwrap_or_else(|| panic!("no column {column}; have {:?}", run.columns));
    series[day]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// A line, one product and one competitor that wants far more than can be made.
fn supply_scenario(hbm_stacks_per_month: f64, extra: &str) -> String {
    format!(
        r#"
name: supply
# The legacy market's arithmetic (vendors build to open orders, lead time is backlog
# over rate); tests/integration/market.rs works the stock-management market by hand.
market: legacy
start: 2024-01-01
end: 2024-03-31
supply:
  packaging_lines:
    - name: L
      capacity_wafers_per_month: 3650
  hbm:
    stacks_per_month: {hbm_stacks_per_month}
products:
  - name: P
    vendor: V
    packaging_line: L
    packages_per_wafer: 10
    packaging_yield: 0.5
    hbm_stacks: 2
    h100_equivalents: 1
    power_w: 500
    price_usd: 10000
    cycle_time_days: 10
vendors:
  - name: V
buyers:
  - name: A
    headroom: 0
    products: {{P: 1.0}}
    demand_h100e: {{timeline: 1.0e7}}
{extra}
"#
    )
}

#[test]
fn packaging_binds_when_hbm_is_ample() {
    // 3650 wafers/month = 120 wafers/day; 10 packages × 0.5 yield = 5 units/wafer
    // -> 600 units/day. HBM: 73,000 stacks/month = 2,400/day = 1,200 units at 2 stacks each.
    let r = run(&supply_scenario(73_000.0, ""));
    assert!(close(at(&r, "production_units_per_day[P]", 5), 600.0));
    assert!(close(at(&r, "packaging_used_wafers_per_day[L]", 5), 120.0));
    assert_eq!(r.text_values[5 * r.text_columns.len()], "packaging");
    assert_eq!(r.summary.binding_constraint_days["packaging"], 91);
}

#[test]
fn hbm_binds_when_short() {
    // HBM 18,250 stacks/month = 600 stacks/day = 300 units at 2 stacks each, below the 600
    // that packaging allows: output 300/day on 60 of the 120 wafers, HBM binding.
    let r = run(&supply_scenario(18_250.0, ""));
    assert!(close(at(&r, "production_units_per_day[P]", 5), 300.0));
    assert!(close(at(&r, "packaging_used_wafers_per_day[L]", 5), 60.0));
    assert!(close(at(&r, "hbm_used_stacks_per_day", 5), 600.0));
    assert_eq!(r.summary.binding_constraint_days["hbm"], 91);
    // Finished units appear after the 10-day cycle: 300/day from day 10 on; Jan has 31 days,
    // so January finishes days 10..=30 = 21 days × 300 = 6,300 units. Through March 31
    // (day 90) that is 81 days × 300 = 24,300.
    assert_eq!(r.summary.production_by_year["P"]["2024"], 24_300);
}

#[test]
fn pro_rata_allocation_follows_open_orders() {
    // Two buyers: A wants 10M H100e, B 5M; each orders its whole need on day 0, so open
    // orders stand 2:1 and every day's 600 units go 400 to A and 200 to B.
    let text = supply_scenario(73_000.0, "")
        + r#"
  - name: B
    headroom: 0
    products: {P: 1.0}
    demand_h100e: {timeline: 5.0e6}
"#;
    let r = run(&text);
    // The first units finish on day 10 and are allocated that day.
    let day10: Vec<_> = r.ledger.iter().filter(|l| l.day == 10).collect();
    assert_eq!(day10.len(), 2, "{day10:?}");
    assert_eq!((day10[0].buyer, day10[0].units), (0, 400));
    assert_eq!((day10[1].buyer, day10[1].units), (1, 200));
    assert!(day10.iter().all(|l| l.rule == "pro_rata"));
    // Every unit produced was allocated: 81 days × 600.
    let total: u64 = r.ledger.iter().map(|l| l.units).sum();
    assert_eq!(total, 81 * 600);
}

#[test]
fn lead_time_and_price_follow_the_backlog() {
    // The buyer orders 12,000 units on day 0 (need 12,000 H100e, no headroom). Capacity is
    // 600 units/day, so the lead time on day 0 is 12,000 / 600 = 20 days. With a normal
    // lead time of 10 days and elasticity 0.5, price = 10,000 × (1 + 0.5 × (20/10 − 1))
    // = 15,000 USD.
    let text = supply_scenario(73_000.0, "")
        .replace(
            "demand_h100e: {timeline: 1.0e7}",
            "demand_h100e: {timeline: 12000}",
        )
        .replace(
            "vendors:\n  - name: V\n",
            "vendors:\n  - name: V\n    normal_lead_time_days: 10\n    price_elasticity: 0.5\n",
        );
    let r = run(&text);
    assert!(close(at(&r, "backlog_units[P]", 0), 12_000.0));
    assert!(close(at(&r, "lead_time_days[P]", 0), 20.0));
    assert!(close(at(&r, "price_usd[P]", 0), 15_000.0));
}

/// An operator with a fixed fleet (no budget to buy more) and one growing segment.
const PAUSE: &str = r#"
name: pause
market: legacy
start: 2024-01-01
end: 2024-04-30
supply:
  packaging_lines:
    - name: L
      capacity_wafers_per_month: 0
products:
  - name: P
    vendor: V
    packaging_line: L
    packages_per_wafer: 10
    h100_equivalents: 1
    power_w: 500
    price_usd: 10000
vendors:
  - name: V
buyers:
  - name: Op
    kind: operator
    products: {P: 1.0}
    budget_usd_per_year: 0
    initial_fleet: {P: 2000}
reservations:
  - name: training
    start: 2024-01-01
    end: 2024-03-01
    h100e: 1000
segments:
  - name: users
    growth:
      timeline: {2024-01-01: 0, 2024-04-10: 2000000}
    queries_per_user_per_day: 1
    tokens_per_query: 1000
    h100_seconds_per_1k_tokens: 86.4
    revenue_per_user_per_month: 10
    pause:
      pause_above: 1.0
      pause_after_days: 3
      resume_below: 0.9
      resume_after_days: 7
      min_pause_days: 14
"#;

#[test]
fn pause_and_resume_with_hysteresis() {
    // Each user asks 1 query × 1,000 tokens × 86.4 H100-s per 1k tokens = 86.4 H100-s a
    // day = 0.001 H100e. Users grow linearly by 20,000 a day (2M over the 100 days to
    // April 10), so demand = 20 t H100e. Capacity: 2,000 units less 1,000 reserved = 1,000
    // until the reservation ends after day 60 (March 1).
    let r = run(PAUSE);
    // Load = 20 t / 1000 exceeds 1.0 from day 51; the third such day is 53, so sign-ups
    // pause from day 54 (2024-02-24).
    let e = &r.summary.pause_episodes;
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].start, "2024-02-24");
    // Users froze at 20,000 × 53 = 1,060,000 (no churn, sign-ups lost while paused).
    assert!(close(at(&r, "users[users]", 60), 1_060_000.0));
    // From day 61 capacity is 2,000: load 1,060 / 2,000 = 0.53 < 0.9 on days 61..=67, the
    // seventh on day 67; the pause has lasted 67 + 1 − 54 = 14 days = min_pause_days, so
    // sign-ups resume on day 68 (March 9) and the episode is days 54..=67 (14 days).
    assert_eq!(e[0].end, "2024-03-08");
    assert_eq!(e[0].days, 14);
    assert_eq!(r.summary.pause_days, 14);
    // Sign-ups lost: 20,000 a day on each of the 14 paused days = 280,000.
    assert!(close(r.summary.lost_signups, 280_000.0));
    // The event log has the pause and the resume on those days, with causes.
    let kinds: Vec<(i64, &str)> = r
        .events
        .iter()
        .filter(|e| e.kind == "pause" || e.kind == "resume")
        .map(|e| (e.day, e.kind.as_str()))
        .collect();
    assert_eq!(kinds, vec![(54, "pause"), (68, "resume")]);
}

#[test]
fn lost_revenue_counts_lost_signups_until_the_end() {
    // The 280,000 lost users would each pay 10 USD/month = 10 × 12 / 365 USD/day. Lost
    // users accumulate 20,000 a day over days 54..=67 and then stay lost (no churn) to
    // day 120 (April 30). Lost revenue = 10 × 12/365 × Σ_day lost(day):
    //   days 54..=67: 20,000 × (1 + 2 + ... + 14) = 20,000 × 105 = 2,100,000 user-days
    //   days 68..=120: 280,000 × 53 = 14,840,000 user-days
    //   total 16,940,000 user-days × 0.328767 USD = 5,569,315.07 USD.
    let r = run(PAUSE);
    let expected = 16_940_000.0 * 10.0 * 12.0 / 365.0;
    assert!(
        (r.summary.lost_revenue_usd - expected).abs() < 1e-6 * expected,
        "{} vs {expected}",
        r.summary.lost_revenue_usd
    );
    assert_eq!(r.summary.lost_revenue_churn_usd, 0.0);
}

/// The supply scenario with its buyer `A` as an operator whose units ship in 2 days and are
/// placed at `sites` (a `sites:` block), serving a segment of unbounded demand.
fn operator_with_sites(sites: &str) -> String {
    supply_scenario(73_000.0, "")
        .replace(
            "  - name: A\n    headroom: 0",
            "  - name: A\n    kind: operator\n    headroom: 0",
        )
        .replace("    demand_h100e: {timeline: 1.0e7}\n", "")
        .replace(
            "vendors:\n  - name: V\n",
            "vendors:\n  - name: V\n    shipping_days: 2\n",
        )
        + sites
        + r#"segments:
  - name: s
    growth: {timeline: 1.0e12}
    queries_per_user_per_day: 1
    tokens_per_query: 1000
    h100_seconds_per_1k_tokens: 1
"#
}

#[test]
fn stranded_units_wait_for_power() {
    // The operator's site has 1 MW; each unit draws 500 W × 1.0 overhead × 1.0 PUE, so
    // 2,000 units fit. 600 units a day finish from day 10 and arrive 2 days later (day 12
    // on), installing at once (no delay). After day 15 (4 deliveries, 2,400 units) 2,000
    // are installed and 400 wait: the site is full.
    let text = operator_with_sites(
        r#"sites:
  - name: S
    owner: A
    megawatts: 1
    pue: 1.0
    server_overhead: 1.0
    install_delay_days: 0
"#,
    );
    let r = run(&text);
    assert!(close(at(&r, "installed_units[P]", 14), 1_800.0));
    assert!(close(at(&r, "stranded_units", 14), 0.0));
    assert!(close(at(&r, "installed_units[P]", 15), 2_000.0));
    assert!(close(at(&r, "stranded_units", 15), 400.0));
    assert!(close(at(&r, "power_in_use_mw", 15), 1.0));
    assert!(close(at(&r, "stranded_units", 20), 400.0 + 5.0 * 600.0));
}

#[test]
fn units_go_to_the_site_that_serves_soonest_first() {
    // As above, but a slow site (30-day install) is listed before a fast one (no delay),
    // each with 1 MW (2,000 units). Units go to the fast site first: 1,800 installed by day
    // 14; on day 15 it fills at 2,000 and the other 400 start installing at the slow site.
    let text = operator_with_sites(
        r#"sites:
  - name: Slow
    owner: A
    megawatts: 1
    pue: 1.0
    server_overhead: 1.0
    install_delay_days: 30
  - name: Fast
    owner: A
    megawatts: 1
    pue: 1.0
    server_overhead: 1.0
    install_delay_days: 0
"#,
    );
    let r = run(&text);
    assert!(close(at(&r, "installed_units[P]", 14), 1_800.0));
    assert!(close(at(&r, "installing_units", 14), 0.0));
    assert!(close(at(&r, "installed_units[P]", 15), 2_000.0));
    assert!(close(at(&r, "installing_units", 15), 400.0));
    assert!(close(at(&r, "stranded_units", 15), 0.0));
}

#[test]
fn launch_surge_decays_exponentially_and_adds_up() {
    // A launch of 1,000 extra sign-ups with a 10-day decay adds, on the d-th day after it,
    // 1000 × (1 − e^{-1/10}) × e^{-d/10}: 95.16 on the day, 95.16 × e^{-1} = 35.01 ten days
    // later, and 1000 over all days (a geometric series).
    let text = PAUSE.replace(
        "    pause:\n      pause_above: 1.0",
        "    pause_off:\n      pause_above: 1.0",
    );
    let text = text
        .split("    pause_off:")
        .next()
        .unwrap_or_default()
        .to_string()
        + r#"launches:
  - name: L
    date: 2024-01-11
    extra_signups: 1000
    decay_days: 10
"#;
    let r = run(&text);
    let first = 1000.0 * (1.0 - (-0.1f64).exp());
    // Organic sign-ups are 20,000 a day (linear growth, no churn).
    assert!((at(&r, "signups_per_day[users]", 10) - (20_000.0 + first)).abs() < 1e-6);
    let ten_later = 20_000.0 + first * (-1.0f64).exp();
    assert!((at(&r, "signups_per_day[users]", 20) - ten_later).abs() < 1e-6);
    // Organic sign-ups are 20,000 on each of days 10..=100 (91 days, the law stops at day
    // 100); the surge
    // over days 10..=120 adds 1000 × (1 − e^{-111/10}) ≈ 999.985.
    let total: f64 = r.series("signups_per_day[users]").unwrap_or_default()[10..]
        .iter()
        .sum();
    let organic = 20_000.0 * 91.0;
    let surge = 1000.0 * (1.0 - (-11.1f64).exp());
    assert!((total - organic - surge).abs() < 1e-3, "{total}");
    assert_eq!(r.events.iter().filter(|e| e.kind == "launch").count(), 1);
}
