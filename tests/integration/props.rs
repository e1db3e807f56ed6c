//! Property tests: the model's invariants hold on random valid scenarios.
//!
//! Each case builds a small but complete scenario (lines, HBM, products, vendors with every
//! allocation rule, an operator and competitors, sites, segments with pauses, waitlists,
//! rate limits and shortage churn, launches, export rules, reservations) from a generated
//! seed, runs it, and checks conservation, bounds and the consistency of the outputs.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// The properties draw their cases from a fixed seed, so that CI runs the same cases every
/// time (capsim's own rule: same inputs, same outputs); the cases saved in
/// tests/proptest-regressions/ run first. To explore new cases, change the seed or set
/// PROPTEST_CASES, and save what fails.
const FIXED_SEED: u64 = 0x00ca_951e;

use capsim::model::{RunOutput, simulate};
use capsim::scenario::types::Scenario;
use capsim::scenario::{Source, load};

/// A small deterministic generator, so one proptest seed gives one scenario.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// `YYYY-MM-DD` of day `d` of 2024 (a leap year), for d in 0..=365.
fn day(d: u64) -> String {
    let months = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut m, mut left) = (0, d);
    while m < 11 && left >= months[m] {
        left -= months[m];
        m += 1;
    }
    format!("2024-{:02}-{:02}", m + 1, left + 1)
}

/// A timeline of 1 to 3 dated points (or a constant) between `lo` and `hi`.
fn timeline(g: &mut Gen, lo: f64, hi: f64, days: u64) -> String {
    if g.chance(0.4) {
        return format!("{:.3}", g.range(lo, hi));
    }
    let n = g.int(1, 3);
    let mut ds: Vec<u64> = (0..n).map(|_| g.int(0, days)).collect();
    ds.sort_unstable();
    ds.dedup();
    let points: Vec<String> = ds
        .iter()
        .map(|&d| format!("{}: {:.3}", day(d), g.range(lo, hi)))
        .collect();
    let interp = g.pick(&["step", "linear"]);
    format!(
        "{{interpolation: {interp}, points: {{{}}}}}",
        points.join(", ")
    )
}

fn scenario(seed: u64) -> String {
    let mut g = Gen(seed);
    let days = g.int(60, 300);
    let mut y = format!(
        "name: prop\nstart: 2024-01-01\nend: {}\nseed: {}\nsupply:\n  packaging_lines:\n",
        day(days),
        g.int(0, 1000)
    );
    let nlines = g.int(1, 2);
    for l in 0..nlines {
        y += &format!(
            "    - name: L{l}\n      capacity_wafers_per_month: {}\n",
            timeline(&mut g, 0.0, 3000.0, days)
        );
    }
    if g.chance(0.7) {
        y += &format!(
            "  hbm:\n    stacks_per_month: {}\n",
            timeline(&mut g, 0.0, 400_000.0, days)
        );
    }
    // Sometimes a front-end logic process that the products' dies come from.
    let logic = g.chance(0.4);
    if logic {
        y += &format!(
            "  logic:\n    - name: N4\n      wafers_per_month: {}\n",
            timeline(&mut g, 0.0, 4000.0, days)
        );
    }
    let nprod = g.int(1, 3);
    y += "products:\n";
    for p in 0..nprod {
        y += &format!(
            "  - name: P{p}\n    vendor: V{}\n    packaging_line: L{}\n    packages_per_wafer: {:.1}\n    packaging_yield: {:.2}\n    hbm_stacks: {}\n    h100_equivalents: {:.2}\n    power_w: {:.0}\n    price_usd: {}\n    cycle_time_days: {}\n    annual_failure_rate: {:.3}\n    lifetime_years: {:.2}\n",
            p % 2,
            p % nlines,
            g.range(5.0, 40.0),
            g.range(0.5, 1.0),
            g.int(0, 8),
            g.range(0.3, 3.0),
            g.range(200.0, 1200.0),
            timeline(&mut g, 5000.0, 40000.0, days),
            g.int(0, 60),
            g.range(0.0, 0.3),
            g.range(0.2, 3.0),
        );
        if logic && g.chance(0.7) {
            y += &format!(
                "    logic: {{process: N4, dies_per_wafer: {:.0}, yield: {:.2}}}\n",
                g.range(20.0, 80.0),
                g.range(0.5, 1.0)
            );
        }
        if p > 0 && g.chance(0.5) {
            y += &format!("    available: {}\n", day(g.int(0, days)));
        }
    }
    y += "vendors:\n";
    for v in 0..2 {
        y += &format!(
            "  - name: V{v}\n    allocation: {}\n    shipping_days: {}\n    price_elasticity: {:.2}\n",
            g.pick(&["pro_rata", "priority", "floors", "turn_and_earn"]),
            g.int(0, 20),
            g.range(0.0, 1.0)
        );
    }
    let mix = |g: &mut Gen| -> String {
        let a = g.int(0, nprod - 1);
        let b = g.int(0, nprod - 1);
        if a == b {
            format!("{{P{a}: 1.0}}")
        } else {
            format!("{{P{a}: 0.5, P{b}: 0.5}}")
        }
    };
    y += "buyers:\n";
    let has_op = g.chance(0.85);
    if has_op {
        y += &format!(
            "  - name: Op\n    kind: operator\n    region: R0\n    priority: {}\n    review_every_days: {}\n    products: {}\n    headroom: {:.2}\n    initial_fleet: {{P0: {}}}\n",
            g.int(1, 3),
            g.int(1, 40),
            mix(&mut g),
            g.range(0.0, 0.5),
            g.int(0, 500)
        );
        if g.chance(0.4) {
            y += &format!(
                "    budget_usd_per_year: {}\n",
                timeline(&mut g, 0.0, 5e8, days)
            );
        }
        if g.chance(0.4) {
            y += &format!(
                "    contracts:\n      - {{product: P0, units_per_month: {}}}\n",
                g.int(0, 3000)
            );
        }
    }
    let ncomp = g.int(if has_op { 0 } else { 1 }, 2);
    for c in 0..ncomp {
        y += &format!(
            "  - name: C{c}\n    region: R{}\n    priority: {}\n    products: {}\n    demand_h100e: {{exponential: {{initial: {:.0}, growth_per_year: {:.2}}}}}\n",
            c + 1,
            g.int(1, 3),
            mix(&mut g),
            g.range(0.0, 50_000.0),
            g.range(0.5, 4.0)
        );
        if g.chance(0.5) {
            y += &format!(
                "    over_order: {{enabled: true, factor: {:.2}, above_lead_time_days: {}}}\n",
                g.range(1.0, 2.0),
                g.int(0, 200)
            );
        }
    }
    if has_op && g.chance(0.8) {
        y += "sites:\n";
        for k in 0..g.int(1, 2) {
            y += &format!(
                "  - name: S{k}\n    owner: Op\n    megawatts: {}\n    pue: {:.2}\n    install_delay_days: {}\n    capex_usd_per_mw: {:.0}\n",
                timeline(&mut g, 0.2, 3.0, days),
                g.range(1.0, 2.0),
                g.int(0, 30),
                g.range(0.0, 1e7)
            );
            if g.chance(0.5) {
                y += &format!(
                    "    builds:\n      - {{start: {}, months: {}, megawatts: {:.1}}}\n",
                    day(g.int(0, days)),
                    g.int(0, 6),
                    g.range(1.0, 40.0)
                );
            }
        }
    }
    let nseg = if has_op { g.int(0, 2) } else { 0 };
    if nseg > 0 {
        y += "segments:\n";
    }
    for s in 0..nseg {
        let growth = match g.int(0, 2) {
            0 => format!(
                "{{exponential: {{initial: {:.0}, growth_per_year: {:.2}}}}}",
                g.range(0.0, 2e6),
                g.range(0.5, 6.0)
            ),
            1 => format!(
                "{{logistic: {{capacity: {:.0}, rate_per_year: {:.2}, midpoint: {}}}}}",
                g.range(1e5, 5e6),
                g.range(0.5, 8.0),
                day(g.int(0, days))
            ),
            _ => format!("{{timeline: {}}}", timeline(&mut g, 0.0, 3e6, days)),
        };
        y += &format!(
            "  - name: G{s}\n    growth: {growth}\n    churn_per_month: {:.3}\n    queries_per_user_per_day: {}\n    tokens_per_query: {}\n    h100_seconds_per_1k_tokens: {:.2}\n    peak_factor: {:.2}\n    revenue_per_user_per_month: {:.1}\n    priority: {}\n",
            g.range(0.0, 0.2),
            timeline(&mut g, 0.0, 20.0, days),
            timeline(&mut g, 100.0, 4000.0, days),
            g.range(0.1, 5.0),
            g.range(1.0, 2.0),
            g.range(0.0, 30.0),
            g.int(1, 2)
        );
        if g.chance(0.7) {
            let above = g.range(0.5, 1.5);
            y += &format!(
                "    pause: {{pause_above: {:.2}, pause_after_days: {}, resume_below: {:.2}, resume_after_days: {}, min_pause_days: {}",
                above,
                g.int(1, 5),
                above * g.range(0.5, 1.0),
                g.int(1, 10),
                g.int(0, 20)
            );
            if g.chance(0.5) {
                y += &format!(
                    ", waitlist: {{conversion_per_day: {:.2}, dropout_per_day: {:.2}}}",
                    g.range(0.0, 1.0),
                    g.range(0.0, 0.5)
                );
            }
            y += "}\n";
        }
        if g.chance(0.3) {
            y += &format!(
                "    rate_limit: {{max_queries_per_user_per_day: {:.1}}}\n",
                g.range(0.5, 10.0)
            );
        }
        if g.chance(0.3) {
            y += &format!(
                "    shortage_churn: {{extra_churn_per_month: {:.2}, window_days: {}}}\n",
                g.range(0.0, 1.0),
                g.int(1, 30)
            );
        }
    }
    if nseg > 0 && g.chance(0.5) {
        y += &format!(
            "launches:\n  - {{name: launch, date: {}, extra_signups: {:.0}, usage_uplift: {:.2}, decay_days: {:.1}}}\n",
            day(g.int(0, days)),
            g.range(0.0, 1e6),
            g.range(0.0, 1.0),
            g.range(0.5, 30.0)
        );
    }
    if ncomp > 0 && g.chance(0.4) {
        y += &format!(
            "export_rules:\n  - {{name: rule, products: [P0], region: R1, from: {}}}\n",
            day(g.int(0, days))
        );
    }
    if has_op && g.chance(0.3) {
        let a = g.int(0, days);
        let b = g.int(a, days);
        y += &format!(
            "reservations:\n  - {{name: train, start: {}, end: {}, h100e: {:.0}}}\n",
            day(a),
            day(b),
            g.range(0.0, 500.0)
        );
    }
    y
}

fn check_invariants(s: &Scenario, run: &RunOutput, text: &str) {
    crate::common::assert_conserved(run, text);
    // Units go only to buyers whose mix has the product: the market's per-buyer work runs
    // over those buyers alone (`World::buyers_of`).
    for l in &run.ledger {
        assert!(
            s.buyers[l.buyer].mix.iter().any(|m| m.0 == l.product),
            "{} shipped to {}, whose mix lacks it\n{text}",
            s.products[l.product].name,
            s.buyers[l.buyer].name
        );
    }
    let n = run.columns.len();
    for (row, date) in run.dates.iter().enumerate() {
        let vals = &run.values[row * n..(row + 1) * n];
        for (c, v) in vals.iter().enumerate() {
            assert!(v.is_finite(), "{} = {v} on {date}\n{text}", run.columns[c]);
            assert!(*v >= -1e-6, "{} = {v} on {date}\n{text}", run.columns[c]);
        }
        let get = |name: &str| run.column(name).map_or(0.0, |c| vals[c]);
        let (d, s, cap) = (
            get("demand_h100e"),
            get("served_h100e"),
            get("capacity_h100e"),
        );
        assert!(
            s <= d * (1.0 + 1e-9) + 1e-6,
            "served > demand on {date}\n{text}"
        );
        assert!(
            s <= cap * (1.0 + 1e-9) + 1e-6,
            "served > capacity on {date}\n{text}"
        );
        let u = get("utilisation");
        assert!(u <= 1.0 + 1e-9, "utilisation {u} on {date}\n{text}");
    }
    assert_eq!(run.dates.len() as i64, run.summary.days);
    // Pause episodes lie inside the run, do not overlap within a segment, and match the
    // daily paused column.
    for e in &run.summary.pause_episodes {
        assert!(e.days >= 1 && e.start <= e.end, "{e:?}");
        let col = run
            .series(&format!("paused[{}]", e.segment))
            .unwrap_or_default();
        let first = run.dates.iter().position(|d| *d == e.start).unwrap_or(0);
        let last = run.dates.iter().position(|d| *d == e.end).unwrap_or(0);
        assert!(col[first..=last].iter().all(|&x| x == 1.0), "{e:?}\n{text}");
    }
    let paused_days: f64 = run
        .columns
        .iter()
        .filter(|c| c.starts_with("paused["))
        .filter_map(|c| run.series(c))
        .map(|s| s.iter().sum::<f64>())
        .sum();
    assert_eq!(paused_days as i64, run.summary.pause_days, "{text}");
    assert!(run.summary.shortage_days <= run.summary.days);
    assert!((0.0..=1.0).contains(&run.summary.peak_unserved_share));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, rng_seed: RngSeed::Fixed(FIXED_SEED), ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_on_random_valid_scenarios(seed in any::<u64>()) {
        let text = scenario(seed);
        let loaded = load(Source::Text { name: "prop.yaml", text: &text }, &[]);
        let loaded = match loaded {
            Ok(l) => l,
            Err(e) => panic!("generated scenario is invalid:\n{}\n{text}", e.render()),
        };
        let run = simulate(&loaded.scenario, loaded.scenario.seed);
        check_invariants(&loaded.scenario, &run, &text);
        // Same seed, same outputs.
        let again = simulate(&loaded.scenario, loaded.scenario.seed);
        prop_assert_eq!(run.values, again.values);
    }
}

#[test]
fn the_generator_exercises_the_model() {
    // Guards the property test against a generator that only makes trivial runs.
    let (mut shipped, mut paused, mut stranded, mut failed, mut shortage) = (0, 0, 0, 0, 0);
    let mut logic_bound = 0;
    for seed in 0..100u64 {
        let text = scenario(seed);
        let loaded = load(
            Source::Text {
                name: "prop.yaml",
                text: &text,
            },
            &[],
        )
        .unwrap_or_else(|e| panic!("{}\n{text}", e.render()));
        let run = simulate(&loaded.scenario, loaded.scenario.seed);
        shipped += run.accounts.iter().any(|a| a.shipped > 0) as u32;
        failed += run.accounts.iter().any(|a| a.failed > 0) as u32;
        paused += !run.summary.pause_episodes.is_empty() as u32;
        shortage += (run.summary.shortage_days > 0) as u32;
        logic_bound += run
            .summary
            .binding_constraint_days
            .get("logic")
            .is_some_and(|&d| d > 0) as u32;
        stranded += run
            .series("stranded_units")
            .is_some_and(|s| s.iter().any(|&x| x > 0.0)) as u32;
    }
    assert!(shipped > 50, "shipped in {shipped} runs");
    assert!(failed > 20, "failures in {failed} runs");
    assert!(paused > 5, "pauses in {paused} runs");
    assert!(shortage > 10, "shortages in {shortage} runs");
    assert!(logic_bound > 5, "logic binds in {logic_bound} runs");
    assert!(stranded > 5, "stranded units in {stranded} runs");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, rng_seed: RngSeed::Fixed(FIXED_SEED), ..ProptestConfig::default() })]

    /// Issue 12: more packaging, HBM, logic or power never gives more shortage days or pause days
    /// beyond a tolerance: 5% of the run's days plus 30 days of shortage, and 30 pause days
    /// (the rhythm of monthly reviews; a capacity that removes a pause lets more users in,
    /// which can add a few shortage days). Not a theorem: with seed 0x5eed_2026 and 600 cases,
    /// seed = 2881966212250446671, k = 1.624 gives 372 pause days against 335, because the
    /// smaller capacity's longer quotes make the operator over-order (the ordering rule's
    /// bullwhip, docs/model.md) and the surplus ends its pause sooner.
    #[test]
    fn more_capacity_never_gives_more_shortage_beyond_tolerance(seed in any::<u64>(), k in 1.1f64..2.0) {
        let text = scenario(seed);
        let loaded = load(Source::Text { name: "prop.yaml", text: &text }, &[])
            .unwrap_or_else(|e| panic!("{}\n{text}", e.render()));
        let base = simulate(&loaded.scenario, loaded.scenario.seed).summary;
        let mut more = loaded.scenario.clone();
        for l in &mut more.lines {
            l.capacity_wafers_per_month = l.capacity_wafers_per_month.scaled(k);
        }
        more.hbm_stacks_per_month = more.hbm_stacks_per_month.as_ref().map(|h| h.scaled(k));
        for l in &mut more.logic {
            l.wafers_per_month = l.wafers_per_month.scaled(k);
        }
        for site in &mut more.sites {
            site.megawatts = site.megawatts.as_ref().map(|m| m.scaled(k));
            for b in &mut site.builds {
                b.1 *= k;
            }
        }
        let got = simulate(&more, more.seed).summary;
        let tolerance = base.days / 20 + 30;
        prop_assert!(
            got.shortage_days <= base.shortage_days + tolerance,
            "x{k}: {} shortage days against {}\n{text}", got.shortage_days, base.shortage_days
        );
        prop_assert!(
            got.pause_days <= base.pause_days + 30,
            "x{k}: {} pause days against {}\n{text}", got.pause_days, base.pause_days
        );
    }
}
