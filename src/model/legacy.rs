//! The market of capsim 0.1 (`market: legacy`), kept so that scenarios written for it still
//! run as they did: a buyer plans over the lead time it perceives (backlog over the trailing
//! production rate) and closes its whole gap at each review; vendors start wafers only
//! against open orders. See `docs/model.md`, "The legacy market", for why it has no resting
//! point and what replaced it.

use crate::engine::Time;
use crate::scenario::types::BuyerKind;

use super::{Order, World};

/// Lead time reported when there is a backlog but nothing is being produced [days].
pub const LEAD_TIME_CAP_DAYS: f64 = 3650.0;

impl World<'_> {
    /// A buyer reviews its needs over the lead time it perceives and orders within budget.
    /// See `docs/model.md`, "Procurement".
    pub(crate) fn review_legacy(&mut self, t: Time, b: usize) {
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
        self.place_orders_legacy(t, b, at, gap, &mut mix, &mut lines);
        self.scratch.mix = mix;
        self.scratch.order_lines = lines;
    }

    /// The orders of a review on day `t` with a positive `gap` [H100e] at the horizon day
    /// `at`, split over the mix (`mix` and `lines` are empty scratch buffers).
    fn place_orders_legacy(
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
        // Shares read on the order day, products available by the horizon day `at`.
        if !self.split_over_mix(b, t, at, gap, mix, lines) {
            return;
        }
        // Budget: what is left of this calendar year's budget at today's prices.
        if let Some(budget) = &buyer.budget_usd_per_year {
            let year = self.year(t);
            let st = &mut self.buyers[b];
            if year != st.budget_year {
                st.budget_year = year;
                st.committed_usd = 0.0;
            }
            let left = (budget.at(t) - st.committed_usd).max(0.0);
            self.trim_to_budget(left, lines);
        }
        for &(p, n) in lines.iter() {
            if n == 0 {
                continue;
            }
            let price = self.price_usd[p];
            self.buyers[b].committed_usd += n as f64 * price;
            debug_assert!(self.buyers_of[p].contains(&b), "an order outside the mix");
            self.backlog[p][b].push_back(Order {
                units: n,
                price_usd: price,
                day: t,
                due: t + self.lead_time_days[p].round() as Time,
                phantom: 0,
            });
            self.backlog_units[p][b] += n;
            self.open_units[p] += n;
            self.accounts[p].ordered += n;
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
        let (_, slope) = super::procurement::least_squares(h);
        (last + slope.max(0.0) * horizon as f64).max(0.0)
    }

    /// Units the vendor of product `p` still needs to start to cover its open orders.
    pub(crate) fn uncovered_orders(&self, p: usize) -> f64 {
        let open = self.open_units[p];
        let a = &self.accounts[p];
        (open as f64 - (a.inventory + a.in_production) as f64 - self.carry[p]).max(0.0)
    }

    /// The lead time of product `p`: open orders over the trailing production rate.
    pub(crate) fn backlog_lead_time(&self, p: usize) -> f64 {
        let backlog = self.open_units[p];
        let rate = self.scratch.production_rate[p];
        if backlog == 0 {
            0.0
        } else if rate <= 0.0 {
            LEAD_TIME_CAP_DAYS
        } else {
            (backlog as f64 / rate).min(LEAD_TIME_CAP_DAYS)
        }
    }
}
