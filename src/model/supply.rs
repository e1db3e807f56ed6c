//! Supply: wafer starts on packaging lines, limited by packaging, HBM, logic and open orders.

use crate::engine::{Context, Time};

use super::{Constraint, Event, World, schedule};
use crate::scenario::types::Split;

/// Days in the trailing window of the production rate.
pub(crate) const RATE_WINDOW: usize = 30;

/// Converts a monthly quantity to a daily one: × 12 / 365.
pub(crate) fn per_day(per_month: f64) -> f64 {
    per_month * 12.0 / 365.0
}

impl World<'_> {
    /// Starts today's production. See `docs/model.md`, "Supply".
    pub(crate) fn supply_step(&mut self, t: Time, ctx: &mut Context<'_, Event>) {
        let s = self.s;
        let np = s.products.len();
        // Units each product's vendor still needs to cover its open orders.
        let wanted: Vec<f64> = (0..np)
            .map(|p| {
                if s.products[p].available > t {
                    return 0.0;
                }
                let open: u64 = self.backlog_units[p].iter().sum();
                let a = &self.accounts[p];
                (open as f64 - (a.inventory + a.in_production) as f64 - self.carry[p]).max(0.0)
            })
            .collect();

        // 1. Packaging (or fixed output): units the wafers allow.
        // `pack`: what today's wafers give each product; `nominal`: its share of the line
        // whatever the orders (the capacity lead times are quoted on).
        let mut pack = vec![0.0; np];
        let mut nominal = vec![0.0; np];
        let mut wafers_used = vec![0.0; s.lines.len()];
        for (li, line) in s.lines.iter().enumerate() {
            let wafers = per_day(line.capacity_wafers_per_month.at(t));
            self.rec.line_capacity[li] = wafers;
            match &line.split {
                Split::Shares => {
                    let shares: Vec<(usize, f64)> = line
                        .products
                        .iter()
                        .filter(|&&p| s.products[p].available <= t)
                        .map(|&p| (p, s.products[p].line_share.at(t)))
                        .filter(|x| x.1 > 0.0)
                        .collect();
                    let total: f64 = shares.iter().map(|x| x.1).sum();
                    for &(p, share) in &shares {
                        nominal[p] = wafers * share / total * s.products[p].units_per_wafer(t);
                    }
                    // Wafers a product's orders cannot use go to the others, pro rata to
                    // their shares, until every wafer is used or every order covered.
                    let mut active = shares;
                    let mut left = wafers;
                    let mut given = vec![0.0; np];
                    while !active.is_empty() && left > 1e-9 {
                        let total: f64 = active.iter().map(|x| x.1).sum();
                        let mut used = 0.0;
                        let mut still = Vec::with_capacity(active.len());
                        for &(p, share) in &active {
                            let offer = left * share / total;
                            let need = wanted[p] / s.products[p].units_per_wafer(t) - given[p];
                            if need <= offer {
                                given[p] += need.max(0.0);
                                used += need.max(0.0);
                            } else {
                                given[p] += offer;
                                used += offer;
                                still.push((p, share));
                            }
                        }
                        left -= used;
                        if still.len() == active.len() {
                            break;
                        }
                        active = still;
                    }
                    for &p in &line.products {
                        pack[p] = given[p] * s.products[p].units_per_wafer(t);
                    }
                }
                Split::Priority(order) => {
                    let mut left = wafers;
                    for &p in order {
                        if s.products[p].available > t || left <= 0.0 {
                            continue;
                        }
                        let upw = s.products[p].units_per_wafer(t);
                        let take = (wanted[p] / upw).min(left);
                        pack[p] = take * upw;
                        nominal[p] = left * upw;
                        left -= take;
                    }
                }
            }
        }
        for (p, prod) in s.products.iter().enumerate() {
            if prod.line.is_none() && prod.available <= t {
                pack[p] = prod
                    .units_per_month
                    .as_ref()
                    .map_or(0.0, |tl| per_day(tl.at(t)));
                nominal[p] = pack[p];
            }
        }

        // 2-3. Logic dies and HBM stacks, shared pro rata to need; once for what open
        // orders ask (today's output) and once uncapped (the capacity lead time is quoted on).
        let (logic, hbm) = self.input_limits(t, &pack, Some(&wanted));
        let (logic_free, hbm_free) = self.input_limits(t, &nominal, None);
        // The rate a lead time is quoted on: the product's own share of the inputs, or what
        // it actually got when other products left it their wafers, whichever is more.
        let mut rate: Vec<f64> = (0..np)
            .map(|p| nominal[p].min(logic_free[p]).min(hbm_free[p]))
            .collect();
        if let Some(tl) = &s.hbm_stacks_per_month {
            self.rec.hbm_supply = per_day(tl.at(t));
        }

        // 4. Output is the least the inputs allow; record what bound.
        let mut potential_by = [0.0; Constraint::ALL.len()];
        let mut hbm_used = 0.0;
        for p in 0..np {
            if s.products[p].available > t {
                self.rec.product_binding[p] = None;
                continue;
            }
            let prod = &s.products[p];
            let limits = [
                (Constraint::Demand, wanted[p]),
                (
                    if prod.line.is_some() {
                        Constraint::Packaging
                    } else {
                        Constraint::Capacity
                    },
                    pack[p],
                ),
                (Constraint::Logic, logic[p]),
                (Constraint::Hbm, hbm[p]),
            ];
            // The first smallest wins ties: when today's wafers exactly cover the orders
            // (the split gives a product no more than it can use), orders are what bound.
            let (binding, units) =
                limits
                    .iter()
                    .copied()
                    .fold((Constraint::Demand, f64::INFINITY), |best, l| {
                        if l.1 < best.1 - 1e-9 { l } else { best }
                    });
            self.rec.product_binding[p] = Some(binding);
            let idx = Constraint::ALL
                .iter()
                .position(|c| *c == binding)
                .unwrap_or(4);
            potential_by[idx] += nominal[p] * prod.h100e;
            hbm_used += units * prod.hbm_stacks;
            if let Some(li) = prod.line {
                wafers_used[li] += units / prod.units_per_wafer(t);
            }
            self.carry[p] += units;
            let start = self.carry[p].floor();
            self.carry[p] -= start;
            let start = start as u64;
            self.rec.production_started[p] = start as f64;
            rate[p] = rate[p].max(units);
            if start > 0 {
                let a = &mut self.accounts[p];
                a.started += start;
                a.in_production += start;
                schedule(
                    ctx,
                    t + prod.cycle_time_days,
                    Event::Completed {
                        product: p,
                        units: start,
                    },
                );
            }
        }
        for (p, r) in rate.into_iter().enumerate() {
            let hist = &mut self.capacity_history[p];
            if hist.len() == RATE_WINDOW {
                hist.pop_front();
            }
            hist.push_back(r);
        }
        self.rec.hbm_used = hbm_used;
        self.rec.line_used.copy_from_slice(&wafers_used);
        // The day's binding constraint: the one holding back the most potential output.
        let (mut best, mut best_v) = (Constraint::Nothing, 0.0);
        for (i, c) in Constraint::ALL.iter().enumerate() {
            if potential_by[i] > best_v {
                best = *c;
                best_v = potential_by[i];
            }
        }
        self.day_binding = best;
    }

    /// Units the logic and HBM supply allow each product, given what packaging allows
    /// (`pack`) and, if given, what open orders ask (`cap`). Each logic process's wafers and
    /// the HBM pool are shared among products pro rata to their need.
    fn input_limits(&self, t: Time, pack: &[f64], cap: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
        let s = self.s;
        let np = s.products.len();
        let want = |p: usize| cap.map_or(pack[p], |c| pack[p].min(c[p]));
        let mut logic = pack.to_vec();
        for (k, process) in s.logic.iter().enumerate() {
            let avail = per_day(process.wafers_per_month.at(t));
            let need: f64 = (0..np)
                .filter_map(|p| match s.products[p].logic {
                    Some(pl) if pl.process == k => Some(want(p) / pl.good_dies_per_wafer),
                    _ => None,
                })
                .sum();
            if need > avail {
                let f = avail / need;
                for (p, l) in logic.iter_mut().enumerate() {
                    if matches!(s.products[p].logic, Some(pl) if pl.process == k) {
                        *l = want(p) * f;
                    }
                }
            }
        }
        let mut hbm = vec![f64::INFINITY; np];
        if let Some(tl) = &s.hbm_stacks_per_month {
            let avail = per_day(tl.at(t));
            let need: f64 = (0..np)
                .map(|p| s.products[p].hbm_stacks * want(p).min(logic[p]))
                .sum();
            let f = if need > avail { avail / need } else { 1.0 };
            for p in 0..np {
                if s.products[p].hbm_stacks > 0.0 {
                    hbm[p] = want(p).min(logic[p]) * f;
                }
            }
        }
        (logic, hbm)
    }

    /// Production capacity of a product over the trailing window [units per day]: what
    /// packaging, logic and HBM would allow, whatever the orders.
    pub(crate) fn production_rate(&self, p: usize) -> f64 {
        let h = &self.capacity_history[p];
        if h.is_empty() {
            0.0
        } else {
            h.iter().sum::<f64>() / h.len() as f64
        }
    }
}
