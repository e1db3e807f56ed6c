//! Market and procurement: allocation of finished units, the ledger, lead time, price,
//! buyers' reviews and orders, export rules.

use crate::engine::Time;
use crate::scenario::types::{Allocation, BuyerKind};

use super::{Flow, LedgerRow, Order, World, idx};

/// Largest order a buyer places at one review [units].
const MAX_ORDER_UNITS: f64 = 1e12;

/// Lead time reported when there is a backlog but nothing is being produced [days].
pub const LEAD_TIME_CAP_DAYS: f64 = 3650.0;

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
    // `total × weight` in u128 (no overflow); in u64 when every product fits, which gives
    // the same quotients and remainders faster.
    let small = weights.iter().all(|&w| total.checked_mul(w).is_some());
    if small {
        out.extend(weights.iter().map(|&w| total * w / sum));
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
    rem.clear();
    if small {
        rem.extend(
            weights
                .iter()
                .enumerate()
                .map(|(i, &w)| (u128::from(total * w % sum), i)),
        );
    } else {
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

impl World<'_> {
    /// Allocates finished units, ships them, updates lead times and prices.
    pub(crate) fn market_step(&mut self, t: Time) {
        let s = self.s;
        let nb = s.buyers.len();
        self.capacity_history
            .means(&mut self.scratch.production_rate);
        for p in 0..s.products.len() {
            let vendor = &s.vendors[s.products[p].vendor];
            // Contracted floors accrue every day a buyer has open orders, stock or not, up to
            // one month's floor (a vendor catches up a short month, not a year).
            if vendor.allocation == Allocation::Floors {
                for b in 0..nb {
                    for (ci, &(cp, per_day)) in s.buyers[b].contracts.iter().enumerate() {
                        if cp == p && self.backlog_units[p][b] > 0 && self.exportable(p, b) {
                            let c = &mut self.buyers[b].floor_carry[ci];
                            *c = (*c + per_day).min(per_day * 365.0 / 12.0);
                        }
                    }
                }
            }
            let mut stock = self.accounts[p].inventory;
            if stock > 0 {
                // (floor units, other units) per buyer; taken out for the shipping below.
                let mut give = std::mem::take(&mut self.scratch.give);
                give.fill((0, 0));
                let sc = &mut self.scratch;
                // Open orders that may be served.
                let remaining_open = &mut sc.remaining_open;
                for (b, open) in remaining_open.iter_mut().enumerate() {
                    *open = if self.blocked[p * nb + b] {
                        0
                    } else {
                        self.backlog_units[p][b]
                    };
                }
                if vendor.allocation == Allocation::Floors {
                    for b in 0..nb {
                        for (ci, &(cp, _)) in s.buyers[b].contracts.iter().enumerate() {
                            if cp != p || remaining_open[b] == 0 {
                                continue;
                            }
                            let owed = self.buyers[b].floor_carry[ci];
                            let units = (owed.floor() as u64).min(remaining_open[b]).min(stock);
                            self.buyers[b].floor_carry[ci] = owed - units as f64;
                            give[b].0 += units;
                            remaining_open[b] -= units;
                            stock -= units;
                        }
                    }
                }
                if vendor.allocation == Allocation::Priority {
                    for &tier in &self.buyer_tiers {
                        for (b, w) in sc.weights.iter_mut().enumerate() {
                            *w = if s.buyers[b].priority == tier {
                                remaining_open[b]
                            } else {
                                0
                            };
                        }
                        apportion_into(stock, &sc.weights, &mut sc.split, &mut sc.remainders);
                        for (g, &units) in give.iter_mut().zip(&sc.split) {
                            g.1 += units;
                            stock -= units;
                        }
                    }
                } else {
                    apportion_into(stock, remaining_open, &mut sc.split, &mut sc.remainders);
                    for (g, &units) in give.iter_mut().zip(&sc.split) {
                        g.1 += units;
                    }
                }
                for (b, &(floor, other)) in give.iter().enumerate() {
                    if floor > 0 {
                        self.ship(t, p, b, floor, "floor");
                    }
                    if other > 0 {
                        self.ship(t, p, b, other, vendor.allocation.as_str());
                    }
                }
                self.scratch.give = give;
            }
            // Lead time emerges from backlog over production rate.
            let backlog: u64 = self.backlog_units[p].iter().sum();
            let rate = self.scratch.production_rate[p];
            self.lead_time_days[p] = if backlog == 0 {
                0.0
            } else if rate <= 0.0 {
                LEAD_TIME_CAP_DAYS
            } else {
                (backlog as f64 / rate).min(LEAD_TIME_CAP_DAYS)
            };
            // Price rises with scarcity: list × (1 + elasticity × relative excess lead time).
            let excess = (self.lead_time_days[p] / vendor.normal_lead_time_days - 1.0).max(0.0);
            let mult = (1.0 + vendor.price_elasticity * excess).min(vendor.max_price_multiple);
            self.price_usd[p] = s.products[p].price_usd.at(t) * mult;
        }
    }

    /// Ships `units` of product `p` to buyer `b` against its oldest orders.
    fn ship(&mut self, t: Time, p: usize, b: usize, units: u64, rule: &'static str) {
        let mut left = units;
        let mut cost = 0.0;
        let orders = &mut self.backlog[p][b];
        while left > 0 {
            let Some(o) = orders.front_mut() else { break };
            let n = o.units.min(left);
            cost += n as f64 * o.price_usd;
            o.units -= n;
            left -= n;
            if o.units == 0 {
                orders.pop_front();
            }
        }
        debug_assert_eq!(left, 0, "allocated more than the open orders");
        let units = units - left;
        self.backlog_units[p][b] -= units;
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
        self.rec.ledger.push(LedgerRow {
            day: t,
            vendor,
            product: p,
            buyer: b,
            units,
            rule: std::borrow::Cow::Borrowed(rule),
            price_usd: if units > 0 { cost / units as f64 } else { 0.0 },
        });
        let arrive = t + self.s.vendors[vendor].shipping_days;
        self.flows.send(
            arrive,
            Flow::Arrival {
                buyer: idx(b),
                product: idx(p),
                units,
            },
        );
    }

    /// A buyer reviews its needs over the lead time it perceives and orders within budget.
    /// See `docs/model.md`, "Procurement".
    pub(crate) fn review(&mut self, t: Time, b: usize) {
        let s = self.s;
        let buyer = &s.buyers[b];
        // Perceived lead time: the longest of its products' lead times, plus shipping and
        // installation.
        let mut lead = 0.0f64;
        let mut shipping = 0;
        for &(p, _) in &buyer.mix {
            lead = lead.max(self.lead_time_days[p]);
            shipping = shipping.max(s.vendors[s.products[p].vendor].shipping_days);
        }
        let install = self.buyers[b]
            .sites
            .iter()
            .map(|&k| self.sites[k].install_delay_days)
            .max()
            .unwrap_or(0);
        let planned = (lead.ceil() as Time).min(buyer.max_planning_horizon_days);
        let horizon = planned + shipping + install;
        let at = t + horizon;
        let need = match &buyer.kind {
            BuyerKind::Competitor(g) => g.level(at),
            BuyerKind::Operator => {
                let reserved: f64 = s
                    .reservations
                    .iter()
                    .filter(|r| r.buyer == b && r.start <= at && r.end >= at)
                    .map(|r| r.h100e)
                    .sum();
                self.forecast_operator_demand(t, horizon) + reserved
            }
        };
        let target = need * (1.0 + buyer.headroom);
        // Position: everything installed, installing, waiting, shipping or on order.
        let mut position = 0.0;
        for (p, prod) in s.products.iter().enumerate() {
            let mut units = self.backlog_units[p][b] + self.buyers[b].in_transit[p];
            for &(sp, n) in &self.buyers[b].stranded {
                if sp == p {
                    units += n;
                }
            }
            for &k in &self.buyers[b].sites {
                units += self.sites[k].installed[p] + self.sites[k].installing[p];
            }
            position += units as f64 * prod.h100e;
        }
        let mut gap = target - position;
        if gap <= 0.0 {
            return;
        }
        if let Some(o) = buyer.over_order
            && lead > o.above_lead_time_days
        {
            gap *= o.factor;
        }
        // Split over the mix among products that exist by the horizon and may be sold here.
        let mut mix = std::mem::take(&mut self.scratch.mix);
        let mut lines = std::mem::take(&mut self.scratch.order_lines);
        mix.clear();
        lines.clear();
        self.place_orders(t, b, at, gap, &mut mix, &mut lines);
        self.scratch.mix = mix;
        self.scratch.order_lines = lines;
    }

    /// The orders of a review on day `t` with a positive `gap` [H100e] at the horizon day
    /// `at`, split over the mix (`mix` and `lines` are empty scratch buffers).
    fn place_orders(
        &mut self,
        t: Time,
        b: usize,
        at: Time,
        gap: f64,
        mix: &mut Vec<(usize, f64)>,
        lines: &mut Vec<(usize, u64)>,
    ) {
        let s = self.s;
        let buyer = &s.buyers[b];
        mix.extend(
            buyer
                .mix
                .iter()
                .map(|(p, share)| {
                    // With substitution, a product quoting more than its vendor's normal lead
                    // time gets proportionally less of the new orders: share × normal / lead.
                    let mut w = share.at(t);
                    if buyer.lead_time_substitution {
                        let normal = s.vendors[s.products[*p].vendor].normal_lead_time_days;
                        w *= normal / self.lead_time_days[*p].max(normal);
                    }
                    (*p, w)
                })
                .filter(|&(p, share)| {
                    share > 0.0 && s.products[p].available <= at && self.exportable(p, b)
                }),
        );
        let total: f64 = mix.iter().map(|m| m.1).sum();
        if total <= 0.0 {
            return;
        }
        lines.extend(
            mix.iter()
                // At most a trillion units an order: beyond any real market, and far from u64
                // overflow when orders add up.
                .map(|&(p, share)| {
                    let units = (gap * share / total / s.products[p].h100e).round();
                    (p, units.min(MAX_ORDER_UNITS) as u64)
                })
                .filter(|l| l.1 > 0),
        );
        // Budget: what is left of this calendar year's budget at today's prices.
        if let Some(budget) = &buyer.budget_usd_per_year {
            let year = self.year(t);
            let st = &mut self.buyers[b];
            if year != st.budget_year {
                st.budget_year = year;
                st.committed_usd = 0.0;
            }
            let left = (budget.at(t) - st.committed_usd).max(0.0);
            let cost: f64 = lines
                .iter()
                .map(|&(p, n)| n as f64 * self.price_usd[p])
                .sum();
            if cost > left {
                let f = left / cost;
                for l in lines.iter_mut() {
                    l.1 = (l.1 as f64 * f).floor() as u64;
                }
            }
        }
        for &(p, n) in lines.iter() {
            if n == 0 {
                continue;
            }
            let price = self.price_usd[p];
            self.buyers[b].committed_usd += n as f64 * price;
            self.backlog[p][b].push_back(Order {
                units: n,
                price_usd: price,
            });
            self.backlog_units[p][b] += n;
            self.rec.ordered_today[p] += n as f64;
        }
    }

    /// The operator's demand `horizon` days ahead: today's level plus the trailing trend.
    fn forecast_operator_demand(&self, _t: Time, horizon: Time) -> f64 {
        let h = &self.demand_history;
        let Some(&last) = h.back() else {
            // Before the first day is served: today's demand at current users.
            return self.current_operator_demand();
        };
        if h.len() < 2 {
            return last;
        }
        // Least-squares slope over the window [H100e per day].
        let n = h.len() as f64;
        let mean_x = (n - 1.0) / 2.0;
        let mean_y = h.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, &y) in h.iter().enumerate() {
            let dx = i as f64 - mean_x;
            sxy += dx * (y - mean_y);
            sxx += dx * dx;
        }
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        (last + slope.max(0.0) * horizon as f64).max(0.0)
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
                for o in self.backlog[p][b].drain(..) {
                    // Orders of an earlier budget year may be among them: never below zero.
                    let c = &mut self.buyers[b].committed_usd;
                    *c = (*c - o.units as f64 * o.price_usd).max(0.0);
                    cancelled += o.units;
                }
                self.backlog_units[p][b] = 0;
            }
        }
        let cause = format!(
            "{} forbidden to {}; {} units of open orders cancelled",
            names.join(", "),
            rule.region,
            cancelled
        );
        let name = rule.name.clone();
        self.log(t, "export_rule", &name, cause);
    }
}

#[cfg(test)]
mod tests {
    use super::apportion;

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
    }
}
