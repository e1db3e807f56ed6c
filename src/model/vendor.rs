//! Vendors: the production plan, available-to-promise quotes, the booking window, and the
//! allocation of finished units among buyers. See `docs/model.md`, "Vendors".
//!
//! A vendor does not start wafers only against open orders: like the fabless vendors that
//! commit foundry and packaging capacity quarters ahead, it builds to smoothed orders plus a
//! correction toward its inventory and pipeline targets, and never below a floor on the use
//! of its committed capacity (the make-to-stock and make-to-order hybrid of the IOBPCS family
//! of models). Its quote is available-to-promise from its capacity plan, bounded by the
//! booking window.

use std::sync::Arc;

use crate::engine::Time;
use crate::scenario::types::{Allocation, Scenario, Split};

use super::World;
use super::market::apportion_into;
use super::ordering::smooth;
use super::supply::per_day;

/// A vendor's book of one product.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProductBook {
    /// Smoothed net orders (placed less cancelled) [units/day].
    pub(crate) smoothed_orders: f64,
    /// The lead time quoted to a new order (available-to-promise) [days].
    pub(crate) quote_days: f64,
    /// Units that can still be booked within the booking window today [units].
    pub(crate) atp_units: f64,
    /// Mean days from order to delivery of the units shipped on the last day with shipments,
    /// to every buyer [days].
    pub(crate) realised_lead_days: f64,
    /// Phantom units among the open orders [units].
    pub(crate) phantom_units: u64,
}

/// What vendors know: a book per product, each buyer's purchase history, and the
/// capacity plan.
#[derive(Debug, Clone)]
pub(crate) struct Vendors {
    pub(crate) products: Vec<ProductBook>,
    /// The plan, shared by the replications of one scenario.
    pub(crate) plan: Arc<CapacityPlan>,
    /// `[p * buyers + b]`: deliveries of product `p` to buyer `b`, smoothed over the
    /// vendor's `history_days` [units/day].
    pub(crate) history: Vec<f64>,
}

/// Each product's planned capacity from day 0 to the run's end plus the longest booking
/// window and cycle time: what its vendor quotes on. It follows from the scenario alone,
/// so the replications of a Monte Carlo run that share their scenario share one plan.
/// It is built a column at a time (a product's days in a row), each timeline it reads
/// written out day by day in one pass over its points ([`Timeline::fill_days`]) into a
/// column reused for the next: for the default scenario 0.45 M instructions, against 1.4 M
/// for a day at a time with a search of each timeline (4% of a replication then), and no
/// more memory than the plan itself and four columns.
///
/// [`Timeline::fill_days`]: crate::scenario::types::Timeline::fill_days
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityPlan {
    /// `planned[p][d]`: product `p`'s planned output of days `0..d` (its share of its line's
    /// planned wafers, or its fixed output) [units].
    planned: Vec<Vec<f64>>,
}

impl Vendors {
    /// Empty books on the scenario's plan.
    pub(crate) fn new(s: &Scenario, plan: Arc<CapacityPlan>) -> Self {
        Vendors {
            products: vec![ProductBook::default(); s.products.len()],
            history: vec![0.0; s.products.len() * s.buyers.len()],
            plan,
        }
    }

    /// Planned output of product `p` on days `from..to` [units].
    pub(crate) fn planned_between(&self, p: usize, from: Time, to: Time) -> f64 {
        let planned = &self.plan.planned[p];
        let last = planned.len() - 1;
        let at = |t: Time| planned[usize::try_from(t).unwrap_or(0).min(last)];
        at(to) - at(from)
    }

    /// Planned capacity of product `p` on day `t` [units/day].
    pub(crate) fn planned_on(&self, p: usize, t: Time) -> f64 {
        self.planned_between(p, t, t + 1)
    }
}

impl CapacityPlan {
    /// How many products it plans.
    pub(crate) fn products(&self) -> usize {
        self.planned.len()
    }

    /// The plan of a scenario.
    pub fn new(s: &Scenario) -> Self {
        let horizon = usize::try_from(
            s.days
                + s.vendors
                    .iter()
                    .map(|v| v.booking_window_days)
                    .max()
                    .unwrap_or(0)
                + s.products
                    .iter()
                    .map(|p| p.cycle_time_days)
                    .max()
                    .unwrap_or(0),
        )
        .unwrap_or(0);
        let np = s.products.len();
        // A product's first day on sale within the horizon (`available <= t` from it on).
        let first_day = |p: usize| {
            usize::try_from(s.products[p].available)
                .unwrap_or(0)
                .min(horizon)
        };
        // `planned[p][d + 1]` first holds day `d`'s planned output, then (below) the sum of
        // days `0..=d`. Each day's arithmetic is the same as a day at a time: the day's
        // shares are added in the line's order of products, and a share is its line's
        // wafers × share / total × units per wafer.
        let mut planned = vec![vec![0.0; horizon + 1]; np];
        let (mut wafers, mut total) = (vec![0.0; horizon], vec![0.0; horizon]);
        let (mut share, mut yields) = (vec![0.0; horizon], vec![0.0; horizon]);
        for line in &s.lines {
            line.capacity_wafers_per_month.fill_days(&mut wafers);
            let free = 1.0 - line.reserved_share;
            for w in &mut wafers {
                *w = per_day(*w) * free;
            }
            match &line.split {
                Split::Shares => {
                    total.fill(0.0);
                    for &p in &line.products {
                        let from = first_day(p);
                        s.products[p].line_share.fill_days(&mut share);
                        for (sum, &x) in total[from..].iter_mut().zip(&share[from..]) {
                            *sum += x.max(0.0);
                        }
                    }
                    for &p in &line.products {
                        let (from, prod) = (first_day(p), &s.products[p]);
                        prod.line_share.fill_days(&mut share);
                        prod.packaging_yield.fill_days(&mut yields);
                        let days = planned[p][from + 1..]
                            .iter_mut()
                            .zip(&wafers[from..])
                            .zip(&total[from..])
                            .zip(share[from..].iter().zip(&yields[from..]));
                        for (((out, &wafers), &total), (&share, &y)) in days {
                            if total > 0.0 {
                                *out =
                                    wafers * share.max(0.0) / total * (prod.packages_per_wafer * y);
                            }
                        }
                    }
                }
                // Each product of a priority line may plan on the whole line.
                Split::Priority(order) => {
                    for &p in order {
                        let (from, prod) = (first_day(p), &s.products[p]);
                        prod.packaging_yield.fill_days(&mut yields);
                        let days = planned[p][from + 1..]
                            .iter_mut()
                            .zip(&wafers[from..])
                            .zip(&yields[from..]);
                        for ((out, &wafers), &y) in days {
                            *out = wafers * (prod.packages_per_wafer * y);
                        }
                    }
                }
            }
        }
        for (p, prod) in s.products.iter().enumerate() {
            if let (None, Some(tl)) = (prod.line, &prod.units_per_month) {
                let from = first_day(p);
                tl.fill_days(&mut wafers);
                for (out, &units) in planned[p][from + 1..].iter_mut().zip(&wafers[from..]) {
                    *out = per_day(units);
                }
            }
        }
        // Day by day to the running sum, in place.
        for days in &mut planned {
            let mut sum = 0.0;
            for v in days.iter_mut().skip(1) {
                sum += *v;
                *v = sum;
            }
        }
        CapacityPlan { planned }
    }
}

impl World<'_> {
    /// The vendor's wanted starts of product `p` today, before the floor on capacity use
    /// [units/day]: smoothed orders plus the correction toward the inventory and pipeline
    /// targets, open orders counting against inventory.
    ///
    /// ```text
    /// starts = max(0, Ô + (Ô·(cover + cycle) − (inventory + in production − open orders)) / τ_adj)
    /// ```
    pub(crate) fn planned_starts(&self, p: usize) -> f64 {
        let s = self.s;
        let prod = &s.products[p];
        let plan = s.vendors[prod.vendor].plan;
        let o = self.vendor.products[p].smoothed_orders;
        let open = self.open_units[p];
        let a = &self.accounts[p];
        let target = o * (plan.inventory_cover_days + prod.cycle_time_days as f64);
        let net = (a.inventory + a.in_production) as f64 + self.carry[p] - open as f64;
        (o + (target - net) / plan.adjust_days).max(0.0)
    }

    /// Fills the pipelines as if the vendors had been producing at their planned capacity:
    /// each product on sale at the start has a cycle time of work in process, finishing day
    /// by day, and smoothed orders equal to its planned capacity (`warm_start`), both scaled by
    /// `warm_start_utilisation`.
    pub(crate) fn warm_start(&mut self) {
        let s = self.s;
        for (p, prod) in s.products.iter().enumerate() {
            if prod.available > 0 {
                continue;
            }
            let rate = self.vendor.planned_on(p, 0) * s.warm_start_utilisation;
            self.vendor.products[p].smoothed_orders = rate;
            let mut carry = 0.0;
            for d in 0..prod.cycle_time_days {
                carry += rate;
                let units = carry.floor();
                carry -= units;
                let units = units as u64;
                if units > 0 {
                    let a = &mut self.accounts[p];
                    a.initial_wip += units;
                    a.in_production += units;
                    self.flows.send(
                        d,
                        super::Flow::Completed {
                            product: super::idx(p),
                            units,
                        },
                    );
                }
            }
        }
    }

    /// What can reach new orders of product `p` from day `t` on (see [`SupplyBy`]).
    fn supply_from(&self, p: usize, t: Time, efficiency: f64) -> SupplyBy<'_> {
        let a = &self.accounts[p];
        let planned = &self.vendor.plan.planned[p];
        SupplyBy {
            inventory: a.inventory as f64,
            in_production: a.in_production as f64,
            cycle: self.s.products[p].cycle_time_days,
            efficiency,
            planned,
            today: planned[usize::try_from(t).unwrap_or(0).min(planned.len() - 1)],
            t,
        }
    }

    /// The quote and what can still be booked, for product `p` at the end of day `t`:
    /// the first day by which the plan covers every open order and one more unit
    /// (available-to-promise), at most the booking window; and the units the plan can
    /// deliver within the window beyond the open orders.
    pub(crate) fn update_quote(&mut self, p: usize, t: Time, efficiency: f64) {
        let window = self.s.vendors[self.s.products[p].vendor].booking_window_days;
        let open = self.open_units[p];
        let need = open as f64 + 1.0;
        let supply = self.supply_from(p, t, efficiency);
        let by_window = supply.by(window);
        let quote = if supply.by(0) >= need {
            0
        } else if by_window < need {
            window
        } else {
            // Supply grows with `x` (every term is non-decreasing in it, and so are their
            // rounded sums), so the first day that covers the need is one number whatever
            // the search: it is looked for from yesterday's quote, which it seldom moves far
            // from, by steps doubling away from it, then halving (a few probes instead of
            // a bisection of the whole window). Invariant: not covered at `lo`, covered at
            // `hi`.
            let covered = |x: Time| supply.by(x) >= need;
            // quote_days is a whole number of days in [0, window].
            #[allow(clippy::cast_possible_truncation)]
            let guess = (self.vendor.products[p].quote_days as Time).clamp(1, window);
            let (mut lo, mut hi);
            let mut step = 1;
            if covered(guess) {
                hi = guess;
                lo = hi - 1;
                while lo > 0 && covered(lo) {
                    hi = lo;
                    step *= 2;
                    lo = (hi - step).max(0);
                }
            } else {
                lo = guess;
                hi = (lo + 1).min(window);
                while hi < window && !covered(hi) {
                    lo = hi;
                    step *= 2;
                    hi = (lo + step).min(window);
                }
            }
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if covered(mid) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            hi
        };
        let atp = (by_window - open as f64).max(0.0);
        let book = &mut self.vendor.products[p];
        book.quote_days = quote as f64;
        book.atp_units = atp;
    }

    /// Books up to `units` of product `p`: what the booking window can still take.
    pub(crate) fn book(&mut self, p: usize, units: u64) -> u64 {
        let book = &mut self.vendor.products[p];
        let accepted = units.min(super::num::floor(book.atp_units).max(0.0) as u64);
        book.atp_units -= accepted as f64;
        accepted
    }

    /// Folds today's shipments into the buyers' purchase histories and today's net orders
    /// into the vendors' smoothed order rates.
    /// `shipped` is by buyer of the product (`buyers_of`): the histories of other buyers
    /// are never read (they have no open orders to allocate to).
    pub(crate) fn update_books(&mut self, p: usize, buyers_of: &[usize], shipped: &[(u64, u64)]) {
        let s = self.s;
        let vendor = &s.vendors[s.products[p].vendor];
        let nb = s.buyers.len();
        let history = super::ordering::Smoother::new(1.0, vendor.history_days);
        for (&b, &(floor, other)) in buyers_of.iter().zip(shipped) {
            let h = &mut self.vendor.history[p * nb + b];
            *h = history.apply(*h, (floor + other) as f64);
        }
        let net = self.rec.ordered_today[p] - self.rec.cancelled_today[p];
        let book = &mut self.vendor.products[p];
        book.smoothed_orders = smooth(
            book.smoothed_orders,
            net,
            1.0,
            vendor.plan.order_smoothing_days,
        )
        .max(0.0);
    }

    /// Splits `stock` units of product `p` among buyers by purchase history (turn-and-earn),
    /// capped by open orders (`open`, reduced by what is given); adds each buyer's units to
    /// `give`. Cachon and Lariviere, "Capacity allocation using past sales: when to
    /// turn-and-earn", Management Science 45(5), 1999.
    /// `open` and `give` are by buyer of the product, in the order of `buyers_of`.
    pub(crate) fn allocate_by_history(
        &mut self,
        p: usize,
        buyers_of: &[usize],
        stock: &mut u64,
        open: &mut [u64],
        give: &mut [(u64, u64)],
    ) {
        let nb = self.s.buyers.len();
        let sc = &mut self.scratch;
        sc.weights.clear();
        sc.weights
            .extend(buyers_of.iter().zip(open.iter()).map(|(&b, &open)| {
                // Histories in thousandths of a unit per day, for whole-number weights.
                if open > 0 {
                    super::num::round(self.vendor.history[p * nb + b] * 1000.0) as u64
                } else {
                    0
                }
            }));
        apportion_into(*stock, &sc.weights, &mut sc.split, &mut sc.remainders);
        for (j, g) in give.iter_mut().enumerate() {
            let units = sc.split[j].min(open[j]);
            g.1 += units;
            open[j] -= units;
            *stock -= units;
        }
    }
}

/// Units of a product that could reach new orders by `x` days from day `t`: finished
/// stock, work in process finishing evenly over the cycle time, and planned starts from
/// today finishing a cycle time later (scaled by `efficiency`, the share of planned capacity
/// recently achieved) [units]. What a quote's search reads a dozen times a day for each
/// product, so what does not depend on `x` is read once.
struct SupplyBy<'a> {
    inventory: f64,
    in_production: f64,
    cycle: Time,
    efficiency: f64,
    /// The product's cumulative plan.
    planned: &'a [f64],
    /// Its value on day `t`.
    today: f64,
    t: Time,
}

impl SupplyBy<'_> {
    /// Supply by `x` days from today [units].
    ///
    /// Work in process counts `x / cycle` of itself before a cycle time has passed, all of
    /// itself after; planned starts count from a cycle time on. (Written as those two cases,
    /// the sums are those of the single formula `inventory + wip × min(1, x / cycle) +
    /// starts` to the bit: `wip × 1 = wip`, and adding no starts adds `+0.0` to a sum that is
    /// not `−0`. The search probes the later case most, and skips a division there.)
    #[inline]
    fn by(&self, x: Time) -> f64 {
        debug_assert!(x >= 0, "supply asked for {x} days from today");
        let cycle = self.cycle;
        if x < cycle {
            // 0 ≤ x < cycle: cycle > 0.
            return self.inventory + self.in_production * (x as f64 / cycle as f64).min(1.0);
        }
        let stock = self.inventory + self.in_production;
        if x == cycle {
            return stock;
        }
        let last = self.planned.len() - 1;
        let to = usize::try_from(self.t + x - cycle).unwrap_or(0).min(last);
        stock + self.efficiency * (self.planned[to] - self.today)
    }
}

/// Whether a vendor's rule allocates by history.
pub(crate) fn by_history(a: Allocation) -> bool {
    a == Allocation::TurnAndEarn
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Source, load};

    /// `SupplyBy::by` in two cases is the single formula it was written as until 2026-12-05,
    /// to the bit: every `x` of a window around the cycle time, cycle times of 0, 1 and 120
    /// days, stock and work in process of zero, whole and fractional sizes, and a plan that
    /// ends within the window.
    #[test]
    fn supply_by_is_the_single_formula() {
        let formula = |s: &SupplyBy<'_>, x: Time| {
            let wip = if s.cycle > 0 {
                s.in_production * (x as f64 / s.cycle as f64).min(1.0)
            } else {
                s.in_production
            };
            let starts = if x > s.cycle {
                let last = s.planned.len() - 1;
                let to = usize::try_from(s.t + x - s.cycle).unwrap_or(0).min(last);
                s.efficiency * (s.planned[to] - s.today)
            } else {
                0.0
            };
            s.inventory + wip + starts
        };
        let planned: Vec<f64> = (0..400).map(|d| f64::from(d) * 1234.567 + 0.1).collect();
        for cycle in [0, 1, 120] {
            for (inventory, in_production) in [(0.0, 0.0), (7.0, 0.0), (0.0, 3e5), (1e6, 2.5e5)] {
                for efficiency in [0.0, 0.37, 1.0] {
                    for t in [0, 30, 399] {
                        let s = SupplyBy {
                            inventory,
                            in_production,
                            cycle,
                            efficiency,
                            planned: &planned,
                            today: planned[t as usize],
                            t,
                        };
                        for x in 0..=300 {
                            assert_eq!(
                                s.by(x).to_bits(),
                                formula(&s, x).to_bits(),
                                "cycle {cycle}, stock {inventory}, wip {in_production}, \
                                 efficiency {efficiency}, day {t}, x {x}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// The plan worked out a day at a time, each timeline searched for each day: how
    /// `CapacityPlan::new` built it until 2026-12-05.
    fn day_at_a_time(s: &Scenario, horizon: usize) -> Vec<Vec<f64>> {
        let mut daily = vec![vec![0.0; horizon]; s.products.len()];
        for line in &s.lines {
            #[allow(clippy::needless_range_loop)] // `d` is also the day (tick) evaluated
            for d in 0..horizon {
                let t = d as Time;
                let wafers =
                    per_day(line.capacity_wafers_per_month.at(t)) * (1.0 - line.reserved_share);
                match &line.split {
                    Split::Shares => {
                        let total: f64 = line
                            .products
                            .iter()
                            .filter(|&&p| s.products[p].available <= t)
                            .map(|&p| s.products[p].line_share.at(t).max(0.0))
                            .sum();
                        if total <= 0.0 {
                            continue;
                        }
                        for &p in &line.products {
                            if s.products[p].available <= t {
                                let share = s.products[p].line_share.at(t).max(0.0);
                                daily[p][d] =
                                    wafers * share / total * s.products[p].units_per_wafer(t);
                            }
                        }
                    }
                    Split::Priority(order) => {
                        for &p in order {
                            if s.products[p].available <= t {
                                daily[p][d] = wafers * s.products[p].units_per_wafer(t);
                            }
                        }
                    }
                }
            }
        }
        for (p, prod) in s.products.iter().enumerate() {
            if let (None, Some(tl)) = (prod.line, &prod.units_per_month) {
                for (d, v) in daily[p].iter_mut().enumerate() {
                    if prod.available <= d as Time {
                        *v = per_day(tl.at(d as Time));
                    }
                }
            }
        }
        daily
            .into_iter()
            .map(|day| {
                let mut sum = 0.0;
                std::iter::once(0.0)
                    .chain(day.into_iter().map(|v| {
                        sum += v;
                        sum
                    }))
                    .collect()
            })
            .collect()
    }

    /// The plan built a column at a time is the plan worked out a day at a time, bit for
    /// bit: for the built-in scenario and every scenario in `scenarios/`, as written, with
    /// every line split by priority, and with products launched before the start, during
    /// the run and after the horizon.
    #[test]
    fn columns_give_the_plan_of_a_day_at_a_time() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("scenarios/ lists")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        let mut scenarios = vec![load(Source::BuiltIn, &[]).expect("loads").scenario];
        for f in &files {
            scenarios.push(load(Source::File(f), &[]).expect("loads").scenario);
        }
        assert!(scenarios.len() > 10, "the scenarios were found");
        let mut variants = Vec::new();
        for s in &scenarios {
            let mut priority = s.clone();
            for line in &mut priority.lines {
                line.split = Split::Priority(line.products.iter().rev().copied().collect());
            }
            variants.push(priority);
            let mut launches = s.clone();
            for (p, prod) in launches.products.iter_mut().enumerate() {
                prod.available = [-30, 0, 45, 400, 100_000][p % 5];
            }
            variants.push(launches);
        }
        let mut compared = 0;
        for s in scenarios.iter().chain(&variants) {
            let plan = CapacityPlan::new(s);
            let horizon = plan.planned.first().map_or(0, |p| p.len() - 1);
            let want = day_at_a_time(s, horizon);
            assert_eq!(plan.planned.len(), want.len());
            for (p, (got, want)) in plan.planned.iter().zip(&want).enumerate() {
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(got), bits(want), "{}: product {p}", s.name);
                compared += got.len();
            }
        }
        assert!(compared > 100_000, "{compared} days compared");
    }
}
