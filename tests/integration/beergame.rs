//! The stock-management ordering rule (`capsim::model::ordering`) run alone in Sterman's beer
//! game (`capsim::beergame`, on the generic engine) reproduces the published pattern.
//!
//! Source: J. D. Sterman, "Modeling Managerial Behavior: Misperceptions of Feedback in a
//! Dynamic Decision Making Experiment", *Management Science* 35(3):321–339, The Institute of
//! Management Sciences (now INFORMS), March 1989. Players there ordered with weights averaging
//! θ ≈ 0.36, α_S ≈ 0.26, β ≈ 0.34, S' ≈ 17 (Table 2); their orders oscillated, and the
//! amplitude of orders grew from retailer to factory, factory orders peaking at several times
//! the customer demand after its step from 4 to 8 cases a week. Sterman attributes this to the
//! low weight on the supply line.
//!
//! The game is deterministic (no random draws), so every figure below is exact for this code;
//! the assertions leave margins so that they test the pattern, not the last digit.

use capsim::beergame::{
    BeerGameConfig, BeerGameResult, ECHELONS, Echelon, EchelonMetrics, SupplyLineGoal, simulate,
};

fn play(cfg: &BeerGameConfig) -> (BeerGameResult, [EchelonMetrics; ECHELONS]) {
    let run = simulate(cfg).expect("valid set-up");
    let m = run.metrics();
    (run, m)
}

/// Sterman's set-up with full weight on the supply line and the stock goal at the initial stock
/// (S* = 12, so S' = 12 + 1 × 4 × 3 = 24 and the game starts in equilibrium); α_S and θ stay
/// at his fitted 0.26 and 0.36, so only β differs from [`BeerGameConfig::sterman_1989`].
fn full_weight(weeks: u32) -> BeerGameConfig {
    BeerGameConfig {
        beta: 1.0,
        stock_goal: 12.0,
        weeks,
        ..BeerGameConfig::sterman_1989()
    }
}

#[test]
fn beergame_fitted_weights_oscillate_and_amplify_upstream() {
    // Sterman's averages over 36 weeks. Figures obtained (retailer, wholesaler, distributor,
    // factory):
    //   peak order [cases/week]            10.76, 15.84, 22.60, 26.12
    //   amplification var(O)/var(demand)    3.62, 18.63, 39.92, 51.35  (var(demand) = 1.58)
    //   settled effective stock [cases]     8.84,  8.84,  8.84, 11.56
    //     (S* + β (SL*₀ − 8 (L − 1)) = 12.92 + 0.34 × (12 − 24); factory 12.92 + 0.34 × (4 − 8))
    //   first swing below it [cases]      −20.26, −35.78, −47.98, −29.69
    //   overshoot above it after [cases]   18.92, 41.91, 59.62, 37.70
    // Qualitatively Sterman's pattern: every stage runs into backlog, then piles up stock; the
    // swings and the orders grow upstream; the factory's peak, 26 cases a week, is 3.3 times
    // the new customer demand of 8 (6.5 times the step of 4).
    let cfg = BeerGameConfig::sterman_1989();
    let (run, m) = play(&cfg);
    for pair in m.windows(2) {
        let (down, up) = (&pair[0], &pair[1]);
        assert!(
            up.peak_order > down.peak_order,
            "peak order must grow upstream: {:?} {:.2} vs {:?} {:.2}",
            down.echelon,
            down.peak_order,
            up.echelon,
            up.peak_order
        );
        assert!(
            up.order_variance > down.order_variance,
            "order variance must grow upstream: {:?} {:.2} vs {:?} {:.2}",
            down.echelon,
            down.order_variance,
            up.echelon,
            up.order_variance
        );
    }
    // Amplification: even the retailer's orders vary more than demand (3.6×), the factory's
    // more than 40× (51.35).
    let amp = |e: Echelon| m[e as usize].amplification.expect("demand varies");
    assert!(amp(Echelon::Retailer) > 2.0, "{}", amp(Echelon::Retailer));
    assert!(amp(Echelon::Factory) > 40.0, "{}", amp(Echelon::Factory));
    // The factory's peak is several times the customer demand after the step (26.12 / 8).
    let factory_peak = m[Echelon::Factory as usize].peak_order;
    assert!(factory_peak > 3.0 * cfg.demand_after, "{factory_peak}");
    // Oscillation: every stage's effective stock undershoots its settled value by more than
    // 10 cases, then overshoots it by more than half that swing (ratios 0.93, 1.17, 1.24,
    // 1.27).
    for e in &m {
        assert!(
            e.excursion < -10.0,
            "{:?}: first swing {:.2}",
            e.echelon,
            e.excursion
        );
        assert!(
            e.overshoot > 0.5 * e.excursion.abs(),
            "{:?}: overshoot {:.2} after a swing of {:.2}",
            e.echelon,
            e.overshoot,
            e.excursion
        );
        assert!(e.settling_week.is_none(), "{:?} settled", e.echelon);
    }
    // The retailer and wholesaler cross back again within the 36 weeks (3 crossings each).
    for e in [Echelon::Retailer, Echelon::Wholesaler] {
        assert!(
            m[e as usize].sign_changes >= 3,
            "{e:?}: {}",
            m[e as usize].sign_changes
        );
    }
    // The upstream stages cut their orders to zero while the pile-up lasts (the wholesaler for
    // 6 weeks from week 25, the distributor and the factory to the end).
    for e in [Echelon::Wholesaler, Echelon::Distributor, Echelon::Factory] {
        let zeros = run.echelons[e as usize]
            .orders
            .iter()
            .filter(|&&o| o == 0.0)
            .count();
        assert!(zeros >= 5, "{e:?}: {zeros} weeks without orders");
    }
}

#[test]
fn beergame_full_supply_line_weight_settles_without_overshoot() {
    // β = 1, S* = 12, α_S = 0.26, θ = 0.36, 60 weeks. S' = 24 is constant (Sterman's form),
    // so once the chain runs at 8 a week with 8 × 3 = 24 cases in each distribution stage's
    // supply line the effective stock settles at 24 − 24 = 0 (factory: 12 + 4 − 8 = 8).
    // Figures obtained (retailer, wholesaler, distributor, factory):
    //   peak order [cases/week]            8.76,  9.57, 10.44, 11.43  (fitted β: 10.8 – 26.1)
    //   amplification (60 weeks)           1.12,  1.86,  2.75,  3.85  (fitted β, 36 weeks:
    //                                                                   3.6 – 51)
    //   first swing below settled [cases] −16.57, −15.67, −11.38, −10.36
    //   overshoot after it [cases]          0.00,  0.13,  0.65,  1.47
    //   settling week (±0.5 case)            29,    27,    32,    36
    // The retailer recovers monotonically; upstream stages overshoot by at most 1.5 cases,
    // because their incoming orders themselves rise above 8 for a while (the distributor's
    // reach 10.4), not from forgetting what is on order. Tolerance: overshoot at most 2 cases
    // and at most 15 % of the swing (the fitted weights overshoot by 93 – 127 % of it).
    let cfg = full_weight(60);
    let (run, m) = play(&cfg);
    let fitted = play(&BeerGameConfig::sterman_1989()).1;
    for (e, f) in m.iter().zip(&fitted) {
        let name = e.echelon;
        assert!(
            e.excursion < -5.0,
            "{name:?}: the step must move it, {:.2}",
            e.excursion
        );
        assert!(
            e.overshoot <= 2.0 && e.overshoot <= 0.15 * e.excursion.abs(),
            "{name:?}: overshoot {:.2} after a swing of {:.2}",
            e.overshoot,
            e.excursion
        );
        assert!(
            e.sign_changes <= 2,
            "{name:?}: {} crossings",
            e.sign_changes
        );
        // Orders converge to the customer demand of 8 and the stock to its settled value.
        let s = &run.echelons[name as usize];
        let last_order = *s.orders.last().unwrap();
        let last_stock = *s.effective_stock().last().unwrap();
        assert!((last_order - 8.0).abs() < 0.01, "{name:?}: {last_order}");
        assert!(
            (last_stock - e.settled_effective_stock).abs() < 0.05,
            "{name:?}: {last_stock} vs {}",
            e.settled_effective_stock
        );
        assert!(
            e.settling_week.is_some_and(|w| w <= 40),
            "{name:?}: {:?}",
            e.settling_week
        );
        // Far calmer than the fitted players: upstream of the retailer, peaks below 70 % of
        // theirs (9.57 vs 15.84 = 60 %, 10.44 vs 22.60 = 46 %, 11.43 vs 26.12 = 44 %).
        if name != Echelon::Retailer {
            assert!(
                e.peak_order < 0.7 * f.peak_order,
                "{name:?}: {:.2}",
                e.peak_order
            );
        }
    }
}

#[test]
fn beergame_equilibrium_stays_put() {
    // Demand constant at 4 and S* = 12: each stage ships 4 and receives 4 a week, Ê = 4, the
    // supply line holds 4 × 3 = 12 cases (factory 4 × 1) when it decides, so the rule orders
    // 4 + α (12 − 12) + α β (12 − 12) = 4. Nothing moves, whatever the weights.
    for (beta, goal) in [
        (0.34, SupplyLineGoal::Fixed),
        (1.0, SupplyLineGoal::Fixed),
        (0.34, SupplyLineGoal::Scaled),
    ] {
        let cfg = BeerGameConfig {
            demand_after: 4.0,
            stock_goal: 12.0,
            beta,
            goal,
            ..BeerGameConfig::sterman_1989()
        };
        let (run, m) = play(&cfg);
        for e in Echelon::ALL {
            let s = &run.echelons[e as usize];
            for week in 0..cfg.weeks as usize {
                for (what, value, expected) in [
                    ("order", s.orders[week], 4.0),
                    ("stock", s.stock[week], 12.0),
                    ("backlog", s.backlog[week], 0.0),
                    ("expected demand", s.expected[week], 4.0),
                    ("shipped", s.shipped[week], 4.0),
                ] {
                    assert!(
                        (value - expected).abs() < 1e-9,
                        "β {beta}, {goal:?}: {e:?} {what} in week {} is {value}",
                        week + 1
                    );
                }
            }
            assert_eq!(m[e as usize].amplification, None, "demand did not vary");
            assert_eq!(m[e as usize].settling_week, Some(1));
        }
    }
}

#[test]
fn beergame_scaled_supply_line_goal_amplifies_even_at_full_weight() {
    // Why the full-weight test uses Sterman's fixed goal: when the supply-line goal follows
    // expected demand (SL* = Ê × 3), a rise in Ê raises the order by the rise itself plus α β
    // × 3 times it, an order-up-to policy's own amplification. At β = 1, α = 0.26, 36 weeks,
    // the peaks are 10.19, 13.27, 17.97, 21.35 (fixed goal: 8.76, 9.57, 10.44, 11.43) and the
    // distributor and factory overshoot S* = 12 by 9.9 and 13.2 cases.
    let fixed = play(&full_weight(36)).1;
    let scaled = play(&BeerGameConfig {
        goal: SupplyLineGoal::Scaled,
        ..full_weight(36)
    })
    .1;
    for (f, s) in fixed.iter().zip(&scaled) {
        assert!(s.peak_order > f.peak_order + 1.0, "{:?}", s.echelon);
    }
    let factory = &scaled[Echelon::Factory as usize];
    assert!(factory.overshoot > 5.0, "{}", factory.overshoot);
}
