//! The market day: vendors allocate finished units and ship them (the ledger), then quote
//! and price; export rules.

use crate::engine::Time;
use crate::scenario::types::{Allocation, Market};

use super::{Flow, LedgerRow, World, idx, vendor};

/// Splits `total` units among claims in proportion to their weights, in whole units, by
/// largest remainder; ties go to the lower index. Never gives a claim more than its weight.
#[cfg(test)]
pub(crate) fn apportion(total: u64, weights: &[u64]) -> Vec<u64> {
    let mut out = Vec::new();
    apportion_into(total, weights, &mut out, &mut Vec::new());
    out
}

/// [`apportion`] into `out`, with `rem` as scratch: allocates nothing once the buffers have
/// room for `weights.len()` entries.
pub(crate) fn apportion_into(
    total: u64,
    weights: &[u64],
    out: &mut Vec<u64>,
    rem: &mut Vec<(u128, usize)>,
) {
    out.clear();
    let sum: u64 = weights.iter().sum();
    if sum == 0 || total == 0 {
        out.resize(weights.len(), 0);
        return;
    }
    if total >= sum {
        out.extend_from_slice(weights);
        return;
    }
    // One claim (a product most days has one buyer with orders open): it takes all there
    // is, less than its weight here; the same as the division below would give.
    if let Some(only) = weights.iter().position(|&w| w == sum) {
        out.resize(weights.len(), 0);
        out[only] = total;
        return;
    }
    // `total × weight` in u128 (no overflow); in u64 when every product fits, which gives
    // the same quotients and remainders faster.
    let small = weights.iter().all(|&w| total.checked_mul(w).is_some());
    rem.clear();
    if small {
        // Quotient and remainder of one division each; none for a zero weight (a buyer
        // with nothing open, or of another tier), whose share and remainder are 0.
        for (i, &w) in weights.iter().enumerate() {
            if w == 0 {
                out.push(0);
                rem.push((0, i));
                continue;
            }
            let x = total * w;
            out.push(x / sum);
            rem.push((u128::from(x % sum), i));
        }
    } else {
        out.extend(
            weights
                .iter()
                .map(|&w| ((total as u128 * w as u128) / sum as u128) as u64),
        );
    }
    let given: u64 = out.iter().sum();
    if given == total {
        // No unit left over for the largest remainders.
        return;
    }
    if !small {
        rem.extend(
            weights
                .iter()
                .enumerate()
                .map(|(i, &w)| ((total as u128 * w as u128) % sum as u128, i)),
        );
    }
    // Indices are distinct, so the order is total and an unstable sort gives the same
    // order as a stable one (without a sort buffer).
    rem.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in rem.iter().take((total - given) as usize) {
        out[i] += 1;
    }
}

/// The ledger's rule for units shipped against a contracted floor.
pub const FLOOR: &str = "floor";

impl World<'_> {
    /// Allocates finished units, ships them, then updates the vendors' books, quotes and
    /// prices for tomorrow. See `docs/model.md`, "Vendors".
    pub(crate) fn market_step(&mut self, t: Time) {
        let s = self.s;
        let nb = s.buyers.len();
        self.capacity_history
            .means(&mut self.scratch.production_rate);
        self.nominal_history.means(&mut self.scratch.nominal_rate);
        // Each product's buyers: only they can have its orders open (a buyer orders the
        // products of its mix), so the per-buyer work below runs over them alone, and the
        // per-buyer buffers are indexed by the position `j` of a buyer in that list.
        // A handle of its own (the table is shared): `self` is borrowed mutably below.
        let buyers_of = std::sync::Arc::clone(&self.buyers_of);
        for (p, of) in buyers_of.iter().enumerate() {
            let vendor = &s.vendors[s.products[p].vendor];
            // Contracted floors accrue every day a buyer has open orders, stock or not, up to
            // one month's floor (a vendor catches up a short month, not a year).
            if vendor.allocation == Allocation::Floors {
                for &b in of {
                    for (ci, &(cp, per_day)) in s.buyers[b].contracts.iter().enumerate() {
                        if cp == p && self.backlog_units[p][b] > 0 && self.exportable(p, b) {
                            let c = &mut self.buyers[b].floor_carry[ci];
                            *c = (*c + per_day).min(per_day * 365.0 / 12.0);
                        }
                    }
                }
            }
            // (floor units, other units) per buyer of the product; taken out for the
            // shipping below.
            let mut give = std::mem::take(&mut self.scratch.give);
            give.clear();
            give.resize(of.len(), (0, 0));
            let mut stock = self.accounts[p].inventory;
            if stock > 0 {
                // Open orders that may be served.
                let mut remaining_open = std::mem::take(&mut self.scratch.remaining_open);
                remaining_open.clear();
                remaining_open.extend(of.iter().map(|&b| {
                    if self.blocked[p * nb + b] {
                        0
                    } else {
                        self.backlog_units[p][b]
                    }
                }));
                if vendor.allocation == Allocation::Floors {
                    for (j, &b) in of.iter().enumerate() {
                        for (ci, &(cp, _)) in s.buyers[b].contracts.iter().enumerate() {
                            if cp != p || remaining_open[j] == 0 {
                                continue;
                            }
                            let owed = self.buyers[b].floor_carry[ci];
                            let units = (super::num::floor(owed) as u64)
                                .min(remaining_open[j])
                                .min(stock);
                            self.buyers[b].floor_carry[ci] = owed - units as f64;
                            give[j].0 += units;
                            remaining_open[j] -= units;
                            stock -= units;
                        }
                    }
                }
                if vendor::by_history(vendor.allocation) {
                    self.allocate_by_history(p, of, &mut stock, &mut remaining_open, &mut give);
                }
                let sc = &mut self.scratch;
                if vendor.allocation == Allocation::Priority {
                    for &tier in &self.buyer_tiers {
                        sc.weights.clear();
                        sc.weights
                            .extend(of.iter().zip(&remaining_open).map(|(&b, &open)| {
                                if s.buyers[b].priority == tier {
                                    open
                                } else {
                                    0
                                }
                            }));
                        apportion_into(stock, &sc.weights, &mut sc.split, &mut sc.remainders);
                        for (g, &units) in give.iter_mut().zip(&sc.split) {
                            g.1 += units;
                            stock -= units;
                        }
                    }
                } else {
                    apportion_into(stock, &remaining_open, &mut sc.split, &mut sc.remainders);
                    for (g, &units) in give.iter_mut().zip(&sc.split) {
                        g.1 += units;
                    }
                }
                self.scratch.remaining_open = remaining_open;
                // The day's realised lead time: the mean over every unit shipped today, to
                // every buyer (whole numbers of unit-days, exact in `f64`).
                let (mut unit_days, mut units) = (0.0, 0);
                for (&b, &(floor, other)) in of.iter().zip(&give) {
                    if floor > 0 {
                        let (days, shipped) = self.ship(t, p, b, floor, FLOOR);
                        unit_days += days;
                        units += shipped;
                    }
                    if other > 0 {
                        let (days, shipped) = self.ship(t, p, b, other, vendor.allocation.as_str());
                        unit_days += days;
                        units += shipped;
                    }
                }
                if units > 0 {
                    self.vendor.products[p].realised_lead_days = unit_days / units as f64;
                }
            }
            self.update_books(p, of, &give);
            self.scratch.give = give;
            if s.market == Market::Legacy {
                // Lead time emerges from backlog over production rate.
                self.lead_time_days[p] = self.backlog_lead_time(p);
                self.vendor.products[p].quote_days = self.lead_time_days[p];
                let excess = (self.lead_time_days[p] / vendor.normal_lead_time_days - 1.0).max(0.0);
                let mult = (1.0 + vendor.price_elasticity * excess).min(vendor.max_price_multiple);
                self.price_usd[p] = s.products[p].price_usd.at(t) * mult;
                continue;
            }
            // The quote: available-to-promise from the capacity plan, scaled by the share of
            // planned capacity recently achieved (HBM or logic may hold output below it).
            let nominal = self.scratch.nominal_rate[p];
            let efficiency = if nominal > 0.0 {
                (self.scratch.production_rate[p] / nominal).min(1.0)
            } else {
                1.0
            };
            self.update_quote(p, t, efficiency);
            // The quote reported (and priced) while the product is on sale; buyers read the
            // vendor's quote for pre-orders too.
            self.lead_time_days[p] = if s.products[p].available <= t {
                self.vendor.products[p].quote_days
            } else {
                0.0
            };
            // Price rises with scarcity: list × (1 + elasticity × relative excess lead time).
            let excess = (self.lead_time_days[p] / vendor.normal_lead_time_days - 1.0).max(0.0);
            let mult = (1.0 + vendor.price_elasticity * excess).min(vendor.max_price_multiple);
            self.price_usd[p] = s.products[p].price_usd.at(t) * mult;
        }
    }

    /// Ships `units` of product `p` to buyer `b` against its oldest orders. Returns the
    /// days from order to delivery summed over the units shipped, and the units shipped.
    fn ship(&mut self, t: Time, p: usize, b: usize, units: u64, rule: &'static str) -> (f64, u64) {
        let shipping = self.s.vendors[self.s.products[p].vendor].shipping_days;
        let mut left = units;
        let mut cost = 0.0;
        let mut lead_sum = 0.0;
        let mut phantom_shipped = 0;
        let orders = &mut self.backlog[p][b];
        while left > 0 {
            let Some(o) = orders.front_mut() else { break };
            let n = o.units.min(left);
            cost += n as f64 * o.price_usd;
            // Days from order to delivery.
            lead_sum += n as f64 * (t - o.day + shipping) as f64;
            o.units -= n;
            left -= n;
            // Phantom units are the last of an order to be delivered.
            if o.phantom > o.units {
                phantom_shipped += o.phantom - o.units;
                o.phantom = o.units;
            }
            if o.units == 0 {
                orders.pop_front();
            }
        }
        debug_assert_eq!(left, 0, "allocated more than the open orders");
        let units = units - left;
        self.vendor.products[p].phantom_units -= phantom_shipped;
        self.backlog_units[p][b] -= units;
        self.open_units[p] -= units;
        let a = &mut self.accounts[p];
        a.inventory -= units;
        a.shipped += units;
        a.in_transit += units;
        let buyer = &mut self.buyers[b];
        buyer.in_transit[p] += units;
        buyer.spent_usd[p] += cost;
        buyer.received[p] += units;
        if super::is_operator(self.s, b) {
            self.capex_usd_today += cost;
        }
        self.rec.shipped_today[p] += units as f64;
        let vendor = self.s.products[p].vendor;
        if !self.rec.ledger_off {
            self.rec.ledger.push(LedgerRow {
                day: t,
                vendor,
                product: p,
                buyer: b,
                units,
                rule: std::borrow::Cow::Borrowed(rule),
                price_usd: if units > 0 { cost / units as f64 } else { 0.0 },
            });
        }
        let arrive = t + shipping;
        self.flows.send(
            arrive,
            Flow::Arrival {
                buyer: idx(b),
                product: idx(p),
                units,
            },
        );
        (lead_sum, units)
    }

    /// Comes into force (or lapses): forbidden products' open orders in the region are
    /// cancelled and their commitments released.
    pub(crate) fn export_rule(&mut self, t: Time, i: usize, on: bool) {
        self.rules_active[i] = on;
        self.update_blocked();
        let rule = &self.s.export_rules[i];
        let names: Vec<&str> = rule
            .products
            .iter()
            .map(|&p| self.s.products[p].name.as_str())
            .collect();
        if !on {
            let cause = format!("{} may again be sold to {}", names.join(", "), rule.region);
            let name = rule.name.clone();
            self.log(t, "export_rule_end", &name, cause);
            return;
        }
        let mut cancelled = 0;
        for b in 0..self.s.buyers.len() {
            if self.s.buyers[b].region.as_deref() != Some(rule.region.as_str()) {
                continue;
            }
            for &p in &rule.products {
                let mut units = 0;
                for o in self.backlog[p][b].drain(..) {
                    // Orders of an earlier budget year may be among them: never below zero.
                    let c = &mut self.buyers[b].committed_usd;
                    *c = (*c - o.units as f64 * o.price_usd).max(0.0);
                    units += o.units;
                    self.vendor.products[p].phantom_units -= o.phantom;
                }
                self.open_units[p] -= self.backlog_units[p][b];
                self.backlog_units[p][b] = 0;
                self.accounts[p].cancelled += units;
                self.rec.cancelled_today[p] += units as f64;
                cancelled += units;
            }
        }
        let cause = format!(
            "{} forbidden to {}; {} units of open orders cancelled",
            names.join(", "),
            rule.region,
            crate::format::human(cancelled as f64)
        );
        let name = rule.name.clone();
        self.log(t, "export_rule", &name, cause);
    }
}

#[cfg(test)]
mod tests {
    use super::apportion;

    /// The day's realised lead time is the mean over every unit shipped that day, whichever
    /// buyer it went to: here 100 units ordered 50 days ago and 100 ordered 300 days ago, both
    /// shipped today, give 175 days plus shipping (until 2026-12-06 the column held the mean of
    /// the last buyer shipped alone: 64 or 314).
    #[test]
    fn realised_lead_time_is_the_mean_over_every_buyers_units() {
        use crate::model::{Order, Prepared, World};
        use crate::scenario::{Source, load};

        let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
        let s = &loaded.scenario;
        let mut w = World::new(s, Prepared::new(s).plan, 1, 0);
        let p = s
            .products
            .iter()
            .position(|x| x.name == "H100")
            .expect("H100");
        let (t, shipping) = (400, s.vendors[s.products[p].vendor].shipping_days);
        let of = w.buyers_of[p].clone();
        assert!(of.len() >= 2, "H100 has two buyers or more");
        for &b in &of {
            w.backlog[p][b].clear();
            w.backlog_units[p][b] = 0;
        }
        for (&b, age) in of.iter().zip([50, 300]) {
            w.backlog[p][b].push_back(Order {
                units: 100,
                price_usd: 1.0,
                day: t - age,
                due: t,
                phantom: 0,
            });
            w.backlog_units[p][b] = 100;
        }
        w.open_units[p] = 200;
        w.accounts[p].inventory = 200;
        // The day's flows (none are sent before it) make the ring's day today.
        w.land_flows(t);
        w.market_step(t);
        assert_eq!(w.accounts[p].shipped, 200, "both buyers' orders shipped");
        let expected = 175.0 + shipping as f64;
        let got = w.vendor.products[p].realised_lead_days;
        assert!(
            (got - expected).abs() < 1e-9,
            "realised lead time {got}, expected {expected}"
        );
    }

    #[test]
    fn apportion_is_exact_and_proportional() {
        // 10 units over claims 1:1:1 -> 4,3,3 (largest remainder, lower index first).
        assert_eq!(apportion(10, &[5, 5, 5]), vec![4, 3, 3]);
        // Enough for everyone: each gets its claim.
        assert_eq!(apportion(100, &[5, 7]), vec![5, 7]);
        assert_eq!(apportion(0, &[5, 7]), vec![0, 0]);
        assert_eq!(apportion(5, &[0, 0]), vec![0, 0]);
        // 7 units over 2:5 -> 2,5.
        assert_eq!(apportion(7, &[20, 50]), vec![2, 5]);
        // Zero claims get nothing, not even a remainder's unit; ties still go low.
        assert_eq!(apportion(10, &[0, 5, 0, 5, 5]), vec![0, 4, 0, 3, 3]);
        assert_eq!(apportion(1, &[0, 0, 3]), vec![0, 0, 1]);
    }

    /// Every split of up to 13 units over three claims of 0 – 4 (single claims among them)
    /// is the largest-remainder split worked out plainly.
    #[test]
    fn apportion_matches_largest_remainder_written_plainly() {
        let plain = |total: u64, w: &[u64]| -> Vec<u64> {
            let sum: u64 = w.iter().sum();
            if sum == 0 || total >= sum {
                return if sum == 0 {
                    vec![0; w.len()]
                } else {
                    w.to_vec()
                };
            }
            let mut out: Vec<u64> = w.iter().map(|&x| total * x / sum).collect();
            let mut order: Vec<usize> = (0..w.len()).collect();
            // Largest remainder first, lower index on a tie (a stable sort keeps it).
            order.sort_by_key(|&i| std::cmp::Reverse(total * w[i] % sum));
            let left = total - out.iter().sum::<u64>();
            for &i in order.iter().take(left as usize) {
                out[i] += 1;
            }
            out
        };
        for a in 0..5 {
            for b in 0..5 {
                for c in 0..5 {
                    for total in 0..14 {
                        let w = [a, b, c];
                        assert_eq!(apportion(total, &w), plain(total, &w), "{total} over {w:?}");
                    }
                }
            }
        }
    }
}
