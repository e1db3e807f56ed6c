//! Buyers' procurement: each review applies the stock-management rule
//! ([`super::ordering::StockRule`]) to the buyer's fleet and supply line, inflates orders
//! with phantom orders when lead times are long, and cancels what lies beyond its target.
//! See `docs/model.md`, "Procurement".

use chrono::Datelike;

use crate::engine::Time;
use crate::scenario::types::BuyerKind;

use super::ordering::{StockRule, smooth};
use super::{LedgerRow, Order, World};

/// Largest order a buyer places at one review [units].
pub(crate) const MAX_ORDER_UNITS: f64 = 1e12;

/// A buyer's procurement state.
#[derive(Debug, Clone, Default)]
pub(crate) struct Procurement {
    /// Perceived lead time, smoothed from the quotes of its mix [days]; `None` before the
    /// first review.
    pub(crate) perceived_lead_days: Option<f64>,
    /// Day of the last review [tick].
    pub(crate) last_review: Time,
    /// Expected growth of need, the trend smoothed over `forecast_window_days` (adaptive
    /// expectations) [H100e/day]; `None` before the first review.
    pub(crate) expected_growth: Option<f64>,
}

/// What one review saw, in H100-equivalents.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    /// Installed, installing and waiting for power.
    stock: f64,
    /// Open orders and units in transit.
    line: f64,
    /// Phantom units among the open orders.
    phantom: f64,
    /// Expected losses to failures [H100e/day].
    failures_per_day: f64,
}

impl World<'_> {
    /// Buyer `b`'s fleet, supply line and expected failures [H100e].
    fn position(&self, b: usize) -> Position {
        let s = self.s;
        let mut pos = Position::default();
        for (p, prod) in s.products.iter().enumerate() {
            let mut stock = 0u64;
            let mut installed = 0u64;
            for &(sp, n) in &self.buyers[b].stranded {
                if sp == p {
                    stock += n;
                }
            }
            for &k in &self.buyers[b].sites {
                stock += self.sites[k].installed[p] + self.sites[k].installing[p];
                installed += self.sites[k].installed[p];
            }
            let open = self.backlog_units[p][b] + self.buyers[b].in_transit[p];
            let phantom: u64 = self.backlog[p][b].iter().map(|o| o.phantom).sum();
            pos.stock += stock as f64 * prod.h100e;
            pos.line += open as f64 * prod.h100e;
            pos.phantom += phantom as f64 * prod.h100e;
            pos.failures_per_day += installed as f64 * prod.h100e * prod.failure_rate_per_day;
        }
        pos
    }

    /// What buyer `b` has seen of its need: `(level today, trend)` [H100e, H100e/day].
    ///
    /// A competitor reads its wanted fleet up to today and its trailing trend over
    /// `forecast_window_days` (never the curve ahead); the operator its served segments'
    /// demand over the same window.
    fn need_trend(&self, t: Time, b: usize) -> (f64, f64) {
        let buyer = &self.s.buyers[b];
        match &buyer.kind {
            BuyerKind::Competitor(g) => {
                let w = buyer.forecast_window_days;
                let now = g.level(t);
                (now, (now - g.level(t - w)) / w as f64)
            }
            BuyerKind::Operator => self.operator_trend(),
        }
    }

    /// The operator's demand: the least-squares line over the window, its value at the last
    /// day and its slope [H100e, H100e/day] (a fitted level, so one day's surge moves it by
    /// its share of the window only); before the first day, today's demand at current users.
    fn operator_trend(&self) -> (f64, f64) {
        let h = &self.demand_history;
        let Some(&last) = h.back() else {
            return (self.current_operator_demand(), 0.0);
        };
        if h.len() < 2 {
            return (last, 0.0);
        }
        let (mean_y, slope) = least_squares(h);
        (mean_y + slope * (h.len() - 1) as f64 / 2.0, slope)
    }

    /// A buyer reviews its fleet and supply line and orders by the stock-management rule,
    /// or cancels what lies beyond its target. See `docs/model.md`, "Procurement".
    pub(crate) fn review(&mut self, t: Time, b: usize) {
        let s = self.s;
        let buyer = &s.buyers[b];
        let ord = buyer.ordering;
        // The quotes of its mix, weighted by the shares it buys, smoothed into the lead time
        // it perceives; and the lead time it considers normal.
        let prev = self.procurement[b].perceived_lead_days;
        let at = t + prev.unwrap_or(0.0).round() as Time;
        let (mut wsum, mut quote, mut normal) = (0.0, 0.0, 0.0);
        let mut shipping = 0;
        for &(p, ref share) in &buyer.mix {
            let w = share.at(at);
            if w > 0.0 && self.exportable(p, b) {
                let v = &s.vendors[s.products[p].vendor];
                wsum += w;
                quote += w * self.vendor.products[p].quote_days;
                normal += w * v.normal_lead_time_days;
                shipping = shipping.max(v.shipping_days);
            }
        }
        if wsum <= 0.0 {
            self.procurement[b].last_review = t;
            return;
        }
        let (quote, normal) = (quote / wsum, normal / wsum);
        let dt = (t - self.procurement[b].last_review).max(1) as f64;
        let lead = match prev {
            Some(l) => smooth(l, quote, dt, ord.lead_time_smoothing_days),
            None => quote,
        };
        self.procurement[b].perceived_lead_days = Some(lead);
        self.procurement[b].last_review = t;
        let install = self.buyers[b]
            .sites
            .iter()
            .map(|&k| self.sites[k].install_delay_days)
            .max()
            .unwrap_or(0);
        // The fleet wanted `H` days ahead, H = shipping + install + deploy horizon (not the
        // lead time: the supply line covers the lead time).
        let horizon = shipping + install + ord.deploy_horizon_days;
        let (level, trend) = self.need_trend(t, b);
        // Growth is expected by adaptive expectations: the trend seen, smoothed over the
        // forecast window, so that a launch's passing surge does not read as lasting growth.
        let growth = match self.procurement[b].expected_growth {
            Some(g) => smooth(g, trend.max(0.0), dt, buyer.forecast_window_days as f64),
            None => trend.max(0.0),
        };
        self.procurement[b].expected_growth = Some(growth);
        let mut need = level + growth * horizon as f64;
        if matches!(buyer.kind, BuyerKind::Operator) {
            let ahead = t + horizon;
            need += s
                .reservations
                .iter()
                .filter(|r| r.buyer == b && r.start <= ahead && r.end >= ahead)
                .map(|r| r.h100e)
                .sum::<f64>();
        }
        let stock_target = need.max(0.0) * (1.0 + buyer.headroom);
        let pos = self.position(b);
        let expected = growth + pos.failures_per_day;
        let line_target = expected * (lead + shipping as f64);
        let rule = StockRule {
            stock_adjust: ord.stock_adjust_days,
            supply_line_adjust: ord.supply_line_adjust_days,
        };
        // Firm orders count the firm supply line; phantom orders ride on top of them.
        let firm_rate = rule.order_rate(
            expected,
            stock_target,
            pos.stock,
            line_target,
            pos.line - pos.phantom,
        );
        let excess_lead = (lead / normal - 1.0).max(0.0);
        let phantom = match (ord.phantom, buyer.over_order) {
            (Some((slope, max)), _) => (1.0 + slope * excess_lead).min(max),
            (None, Some(o)) if lead > o.above_lead_time_days => o.factor,
            _ => 1.0,
        };
        let every = buyer.review_every_days as f64;
        let firm = firm_rate * every;
        if firm > 0.0 {
            self.place_orders(t, b, lead + shipping as f64, firm, firm * phantom);
            return;
        }
        // Nothing to order: cancel what lies beyond the target, phantom orders included,
        // less one review's expected acquisitions of slack.
        if let Some(ncnr) = ord.cancel_outside_days {
            let target = stock_target + line_target * phantom;
            let excess = pos.stock + pos.line - target - expected * every;
            if excess > 0.0 {
                self.cancel(t, b, excess, ncnr, lead);
            }
        }
    }

    /// Places orders worth `placed` H100e, of which `firm` are firm, split over buyer `b`'s
    /// mix as it will be on the expected delivery day (`t + delivery_days`), within its
    /// budget and what vendors can book.
    fn place_orders(&mut self, t: Time, b: usize, delivery_days: f64, firm: f64, placed: f64) {
        let s = self.s;
        let buyer = &s.buyers[b];
        let due = t + delivery_days.round() as Time;
        let mut mix = std::mem::take(&mut self.scratch.mix);
        let mut lines = std::mem::take(&mut self.scratch.order_lines);
        mix.clear();
        lines.clear();
        self.split_over_mix(b, due, due, placed, &mut mix, &mut lines);
        // Budget, paced: by the end of this review period, at most the share of the
        // calendar year's budget that the period ends in, less what this year committed.
        if let Some(budget) = &buyer.budget_usd_per_year {
            let date = s.calendar.date(t);
            let year = date.year();
            let st = &mut self.buyers[b];
            if year != st.budget_year {
                st.budget_year = year;
                st.committed_usd = 0.0;
            }
            let days_in_year = if date.leap_year() { 366.0 } else { 365.0 };
            let elapsed =
                ((date.ordinal0() as f64 + buyer.review_every_days as f64) / days_in_year).min(1.0);
            let left = (budget.at(t) * elapsed - st.committed_usd).max(0.0);
            self.trim_to_budget(left, &mut lines);
        }
        let phantom_share = if placed > 0.0 {
            ((placed - firm) / placed).clamp(0.0, 1.0)
        } else {
            0.0
        };
        for &(p, n) in lines.iter() {
            // The booking window refuses what the vendor cannot deliver within it.
            let n = self.book(p, n);
            if n == 0 {
                continue;
            }
            let price = self.price_usd[p];
            let phantom = super::num::floor(n as f64 * phantom_share) as u64;
            self.buyers[b].committed_usd += n as f64 * price;
            debug_assert!(self.buyers_of[p].contains(&b), "an order outside the mix");
            self.backlog[p][b].push_back(Order {
                units: n,
                price_usd: price,
                day: t,
                due: t + self.vendor.products[p].quote_days.round() as Time,
                phantom,
            });
            self.vendor.products[p].phantom_units += phantom;
            self.backlog_units[p][b] += n;
            self.open_units[p] += n;
            self.accounts[p].ordered += n;
            self.rec.ordered_today[p] += n as f64;
        }
        self.scratch.mix = mix;
        self.scratch.order_lines = lines;
    }

    /// Splits `h100e` H100-equivalents of orders over buyer `b`'s mix into whole units per
    /// product (`lines`; `mix` is scratch): shares read on `share_day`, kept for products
    /// with a share above 0, available by `available_by` and exportable to the buyer today,
    /// renormalised. With substitution, a product quoting more than its vendor's normal lead
    /// time gets proportionally less: share × normal / max(normal, quote). Returns whether
    /// any product had a share.
    pub(crate) fn split_over_mix(
        &self,
        b: usize,
        share_day: Time,
        available_by: Time,
        h100e: f64,
        mix: &mut Vec<(usize, f64)>,
        lines: &mut Vec<(usize, u64)>,
    ) -> bool {
        let s = self.s;
        let buyer = &s.buyers[b];
        mix.extend(
            buyer
                .mix
                .iter()
                .map(|(p, share)| {
                    let mut w = share.at(share_day);
                    if buyer.lead_time_substitution {
                        let normal = s.vendors[s.products[*p].vendor].normal_lead_time_days;
                        w *= normal / self.vendor.products[*p].quote_days.max(normal);
                    }
                    (*p, w)
                })
                .filter(|&(p, share)| {
                    share > 0.0 && s.products[p].available <= available_by && self.exportable(p, b)
                }),
        );
        let total: f64 = mix.iter().map(|m| m.1).sum();
        if total <= 0.0 {
            return false;
        }
        // At most a trillion units an order: beyond any real market, and far from u64
        // overflow when orders add up.
        lines.extend(
            mix.iter()
                .map(|&(p, share)| {
                    let units = (h100e * share / total / s.products[p].h100e).round();
                    (p, units.min(MAX_ORDER_UNITS) as u64)
                })
                .filter(|l| l.1 > 0),
        );
        true
    }

    /// Scales every order line down (rounding down) so that the lines cost at most `left`
    /// [USD] at today's prices.
    pub(crate) fn trim_to_budget(&self, left: f64, lines: &mut [(usize, u64)]) {
        let cost: f64 = lines
            .iter()
            .map(|&(p, n)| n as f64 * self.price_usd[p])
            .sum();
        if cost > left {
            let f = left / cost;
            for l in lines.iter_mut() {
                l.1 = super::num::floor(l.1 as f64 * f) as u64;
            }
        }
    }

    /// Cancels up to `excess` H100e of buyer `b`'s open orders, youngest first, leaving
    /// those due within `ncnr` days; logs what it cancelled.
    fn cancel(&mut self, t: Time, b: usize, excess: f64, ncnr: Time, lead: f64) {
        let s = self.s;
        let mut left = excess;
        let mut total = 0u64;
        while left > 0.0 {
            // The youngest cancellable order among the buyer's products.
            let youngest = (0..s.products.len())
                .filter_map(|p| {
                    self.backlog[p][b]
                        .back()
                        .filter(|o| o.due > t + ncnr)
                        .map(|o| (o.day, p))
                })
                .max();
            let Some((_, p)) = youngest else { break };
            let h = s.products[p].h100e;
            let o = self.backlog[p][b].back_mut().expect("found above");
            let n = ((left / h).ceil() as u64).min(o.units);
            o.units -= n;
            let phantom = o.phantom.min(n);
            o.phantom -= phantom;
            // Phantom units go first; those left stay the order's last.
            o.phantom = o.phantom.min(o.units);
            let price = o.price_usd;
            if o.units == 0 {
                self.backlog[p][b].pop_back();
            }
            self.vendor.products[p].phantom_units = self.vendor.products[p]
                .phantom_units
                .saturating_sub(phantom);
            self.backlog_units[p][b] -= n;
            self.open_units[p] -= n;
            self.accounts[p].cancelled += n;
            self.rec.cancelled_today[p] += n as f64;
            let c = &mut self.buyers[b].committed_usd;
            *c = (*c - n as f64 * price).max(0.0);
            if !self.rec.ledger_off {
                self.rec.ledger.push(LedgerRow {
                    day: t,
                    vendor: s.products[p].vendor,
                    product: p,
                    buyer: b,
                    units: n,
                    rule: std::borrow::Cow::Borrowed(CANCELLED),
                    price_usd: price,
                });
            }
            left -= n as f64 * h;
            total += n;
        }
        if total > 0 {
            let cause = format!(
                "{} units of open orders cancelled: fleet and orders {} H100e above target; \
                 perceived lead time {lead:.0} days",
                crate::format::human(total as f64),
                crate::format::human(excess)
            );
            let name = s.buyers[b].name.clone();
            self.log(t, "cancel", &name, cause);
        }
    }
}

/// The ledger's rule for a cancellation (units taken off the order book, not shipped).
pub const CANCELLED: &str = "cancelled";

/// The mean of `ys` (one value a day) and the least-squares slope through them [per day].
pub(crate) fn least_squares(ys: &std::collections::VecDeque<f64>) -> (f64, f64) {
    let n = ys.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, &y) in ys.iter().enumerate() {
        let dx = i as f64 - mean_x;
        sxy += dx * (y - mean_y);
        sxx += dx * dx;
    }
    (mean_y, if sxx > 0.0 { sxy / sxx } else { 0.0 })
}
