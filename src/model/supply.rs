//! Supply: wafer starts on packaging lines, limited by packaging, HBM, logic and open orders.

use crate::engine::Time;

use super::ordering::smooth;
use super::{Constraint, Flow, World, idx};
use crate::scenario::types::{Market, Scenario, Split};

/// Days in the trailing window of the production rate.
pub(crate) const RATE_WINDOW: usize = 30;

/// Converts a monthly quantity to a daily one: × 12 / 365.
pub(crate) fn per_day(per_month: f64) -> f64 {
    per_month * 12.0 / 365.0
}

impl World<'_> {
    /// Starts today's production. See `docs/model.md`, "Supply".
    pub(crate) fn supply_step(&mut self, t: Time) {
        let s = self.s;
        let np = s.products.len();
        let legacy = s.market == Market::Legacy;
        // The buffers are borrowed field by field (not moved: the struct is large).
        let sc = &mut self.scratch;
        // Good units per wafer today: one evaluation of each yield timeline a day.
        for (p, prod) in s.products.iter().enumerate() {
            sc.upw[p] = match &mut self.yield_noise[p] {
                // Noise around the yield timeline, kept at most 1.
                Some(noise) => {
                    let y = (prod.packaging_yield.at(t) * noise.next_factor()).min(1.0);
                    prod.packages_per_wafer * y
                }
                None => prod.units_per_wafer(t),
            };
        }
        // The starts each product's vendor plans today (before the floor on capacity use).
        for p in 0..np {
            let wanted = if s.products[p].available > t {
                0.0
            } else if legacy {
                self.uncovered_orders(p)
            } else {
                self.planned_starts(p)
            };
            self.scratch.wanted[p] = wanted;
        }
        let sc = &mut self.scratch;
        let min_use = |p: usize| {
            if legacy {
                0.0
            } else {
                s.vendors[s.products[p].vendor].plan.min_capacity_use
            }
        };

        // 1. Packaging (or fixed output): units the wafers allow.
        // `pack`: what today's wafers give each product; `nominal`: its share of the line
        // whatever the orders (the capacity lead times are quoted on).
        sc.pack.fill(0.0);
        sc.nominal.fill(0.0);
        sc.wafers_used.fill(0.0);
        for (li, line) in s.lines.iter().enumerate() {
            let mut wafers = per_day(line.capacity_wafers_per_month.at(t));
            if let Some(f) = self.line_factor[li].get(t as usize) {
                wafers *= f;
            }
            self.rec.line_capacity[li] = wafers;
            // Wafers of products outside the scenario.
            let wafers = wafers * (1.0 - line.reserved_share);
            match &line.split {
                Split::Shares => {
                    sc.active.clear();
                    sc.active.extend(
                        line.products
                            .iter()
                            .filter(|&&p| s.products[p].available <= t)
                            .map(|&p| (p, s.products[p].line_share.at(t)))
                            .filter(|x| x.1 > 0.0),
                    );
                    let total: f64 = sc.active.iter().map(|x| x.1).sum();
                    // Each product first takes what its plan wants of its own share; the
                    // share it leaves idle reaches the others only through a first-order
                    // delay of `reallocation_lag_days`.
                    let (mut released, mut used) = (0.0, 0.0);
                    for &p in &line.products {
                        sc.given[p] = 0.0;
                    }
                    for &(p, share) in &sc.active {
                        let own = wafers * share / total;
                        sc.nominal[p] = own * sc.upw[p];
                        sc.wanted[p] = sc.wanted[p].max(min_use(p) * sc.nominal[p]);
                        let take = (sc.wanted[p] / sc.upw[p]).min(own);
                        sc.given[p] = take;
                        used += take;
                        let idle = own - take;
                        let lagged = &mut self.idle_wafers[p];
                        let lag = if legacy {
                            0.0
                        } else {
                            line.reallocation_lag_days
                        };
                        *lagged = smooth(*lagged, idle, 1.0, lag);
                        released += idle.min(*lagged);
                    }
                    // Without a lag every idle wafer is released: what is left of the line,
                    // reckoned as the line less what was taken.
                    let mut left = if legacy || line.reallocation_lag_days <= 0.0 {
                        wafers - used
                    } else {
                        released
                    };
                    // The released wafers go to products that want more, pro rata to their
                    // shares, until every wafer is used or every plan covered.
                    sc.still.clear();
                    sc.still.extend(
                        sc.active
                            .iter()
                            .filter(|&&(p, _)| sc.wanted[p] / sc.upw[p] > sc.given[p] + 1e-12),
                    );
                    std::mem::swap(&mut sc.active, &mut sc.still);
                    while !sc.active.is_empty() && left > 1e-9 {
                        let total: f64 = sc.active.iter().map(|x| x.1).sum();
                        let mut used = 0.0;
                        sc.still.clear();
                        for &(p, share) in &sc.active {
                            let offer = left * share / total;
                            let need = sc.wanted[p] / sc.upw[p] - sc.given[p];
                            if need <= offer {
                                sc.given[p] += need.max(0.0);
                                used += need.max(0.0);
                            } else {
                                sc.given[p] += offer;
                                used += offer;
                                sc.still.push((p, share));
                            }
                        }
                        left -= used;
                        if sc.still.len() == sc.active.len() {
                            break;
                        }
                        std::mem::swap(&mut sc.active, &mut sc.still);
                    }
                    for &p in &line.products {
                        sc.pack[p] = sc.given[p] * sc.upw[p];
                    }
                }
                Split::Priority(order) => {
                    let mut left = wafers;
                    for &p in order {
                        if s.products[p].available > t || left <= 0.0 {
                            continue;
                        }
                        let upw = sc.upw[p];
                        sc.nominal[p] = left * upw;
                        sc.wanted[p] = sc.wanted[p].max(min_use(p) * sc.nominal[p]);
                        let take = (sc.wanted[p] / upw).min(left);
                        sc.pack[p] = take * upw;
                        left -= take;
                    }
                }
            }
        }
        for (p, prod) in s.products.iter().enumerate() {
            if prod.line.is_none() && prod.available <= t {
                sc.pack[p] = prod
                    .units_per_month
                    .as_ref()
                    .map_or(0.0, |tl| per_day(tl.at(t)));
                sc.nominal[p] = sc.pack[p];
                sc.wanted[p] = sc.wanted[p].max(min_use(p) * sc.nominal[p]);
            }
        }

        // 2-3. Logic dies and HBM stacks, shared pro rata to need; once for what open
        // orders ask (today's output) and once uncapped (the capacity lead time is quoted on).
        for (k, process) in s.logic.iter().enumerate() {
            sc.logic_avail[k] = per_day(process.wafers_per_month.at(t));
            if let Some(f) = self.logic_factor[k].get(t as usize) {
                sc.logic_avail[k] *= f;
            }
        }
        let hbm_avail = s.hbm_stacks_per_month.as_ref().map(|tl| per_day(tl.at(t)));
        let limits = InputLimits {
            logic_avail: &sc.logic_avail,
            hbm_avail,
            hbm_stacks: &self.hbm_stacks,
        };
        let (logic, hbm) = (&mut sc.logic, &mut sc.hbm);
        limits.apply(s, &sc.pack, Some(&sc.wanted), &mut sc.want, logic, hbm);
        let (logic, hbm) = (&mut sc.logic_free, &mut sc.hbm_free);
        limits.apply(s, &sc.nominal, None, &mut sc.want, logic, hbm);
        // The rate a lead time is quoted on: the product's own share of the inputs, or what
        // it actually got when other products left it their wafers, whichever is more.
        sc.rate.clear();
        sc.rate
            .extend((0..np).map(|p| sc.nominal[p].min(sc.logic_free[p]).min(sc.hbm_free[p])));
        if let Some(h) = hbm_avail {
            self.rec.hbm_supply = h;
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
                (Constraint::Demand, sc.wanted[p]),
                (
                    if prod.line.is_some() {
                        Constraint::Packaging
                    } else {
                        Constraint::Capacity
                    },
                    sc.pack[p],
                ),
                (Constraint::Logic, sc.logic[p]),
                (Constraint::Hbm, sc.hbm[p]),
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
            potential_by[binding.index()] += sc.nominal[p] * prod.h100e;
            hbm_used += units * prod.hbm_stacks;
            if let Some(li) = prod.line {
                sc.wafers_used[li] += units / sc.upw[p];
            }
            self.carry[p] += units;
            let start = super::num::floor(self.carry[p]);
            self.carry[p] -= start;
            let start = start as u64;
            self.rec.production_started[p] = start as f64;
            sc.rate[p] = sc.rate[p].max(units);
            if start > 0 {
                let a = &mut self.accounts[p];
                a.started += start;
                a.in_production += start;
                self.flows.send(
                    t + prod.cycle_time_days,
                    Flow::Completed {
                        product: idx(p),
                        units: start,
                    },
                );
            }
        }
        self.capacity_history.push(&sc.rate);
        self.nominal_history.push(&sc.nominal);
        self.rec.hbm_used = hbm_used;
        self.rec.line_used.copy_from_slice(&sc.wafers_used);
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
}

/// Each product's production capacity on the last [`RATE_WINDOW`] days (fewer at the start)
/// [units/day], for lead times: one ring of rows, a row per day holding every product, and
/// each product's running sum over the ring.
///
/// Values are kept in fixed point (multiples of 2⁻²⁴ units/day, in `i64`), so that a day
/// leaving the window takes out exactly what it put in: the sums never drift, and a window
/// of zeros sums to zero, as re-adding the whole window each day would (it did, until
/// 2026-12-05: the means moved in their last bits, which moved one quote of one golden by a
/// day, and one order by a unit).
#[derive(Debug, Clone, Default)]
pub(crate) struct RateWindow {
    products: usize,
    /// Row of the oldest day kept.
    head: usize,
    /// Days kept.
    len: usize,
    /// `RATE_WINDOW` rows of `products` values, in fixed point.
    ring: Vec<i64>,
    /// Each product's sum over the days kept, in fixed point.
    sums: Vec<i64>,
}

/// Fixed-point units per unit/day: 2²⁴ (a resolution of 6e-8 units/day).
const FIXED_ONE: f64 = (1u64 << 24) as f64;
/// The largest rate kept [units/day]: 2³³ (8.6 billion units a day, a million times the
/// world's accelerator output), so that a window of them (2⁵⁷ × 30) fits `i64`.
const FIXED_MAX: f64 = (1u64 << 33) as f64;
// A full window of capped rates fits `i64`: 2³³ × 2²⁴ × RATE_WINDOW < 2⁶³.
const _: () = assert!(RATE_WINDOW < 1 << (63 - 33 - 24));

/// A rate in fixed point: rounded to the nearest 2⁻²⁴ (halves up), negative and NaN as 0,
/// capped at [`FIXED_MAX`]. Conversions in hardware (`f64::round` and `i128` are calls on
/// x86-64: they cost more than the sums saved).
fn to_fixed(v: f64) -> i64 {
    // `as` maps NaN to 0 and truncates the non-negative value, after adding ½: rounding.
    (v.clamp(0.0, FIXED_MAX) * FIXED_ONE + 0.5) as i64
}

impl RateWindow {
    pub(crate) fn new(products: usize) -> Self {
        RateWindow {
            products,
            head: 0,
            len: 0,
            ring: vec![0; RATE_WINDOW * products],
            sums: vec![0; products],
        }
    }

    /// Adds today's capacities (one per product), dropping the oldest day once the window
    /// is full.
    pub(crate) fn push(&mut self, today: &[f64]) {
        let row = if self.len == RATE_WINDOW {
            let row = self.head;
            self.head = (self.head + 1) % RATE_WINDOW;
            row
        } else {
            self.len += 1;
            (self.head + self.len - 1) % RATE_WINDOW
        };
        let n = self.products;
        let slots = &mut self.ring[row * n..(row + 1) * n];
        for ((slot, sum), &v) in slots.iter_mut().zip(&mut self.sums).zip(today) {
            let x = to_fixed(v);
            // The slot holds the day leaving the window (0 while it fills).
            *sum += x - *slot;
            *slot = x;
        }
    }

    /// The mean over the window of each product's capacity into `out` [units per day]: the
    /// production rate a lead time is quoted on (0 before the first day).
    pub(crate) fn means(&self, out: &mut [f64]) {
        if self.len == 0 {
            out.fill(0.0);
            return;
        }
        let len = self.len as f64;
        for (o, &sum) in out.iter_mut().zip(&self.sums) {
            // × 2⁻²⁴ is exact: one rounding, in the division by the days.
            *o = sum as f64 * (1.0 / FIXED_ONE) / len;
        }
    }
}

/// Today's logic wafers per process and HBM stacks [per day].
struct InputLimits<'a> {
    logic_avail: &'a [f64],
    /// `None`: no HBM supply in the scenario (HBM never limits).
    hbm_avail: Option<f64>,
    /// HBM stacks per unit of each product.
    hbm_stacks: &'a [f64],
}

impl InputLimits<'_> {
    /// Units the logic and HBM supply allow each product (into `logic` and `hbm`), given
    /// what packaging allows (`pack`) and, if given, what open orders ask (`cap`), with `want`
    /// as scratch. Each
    /// logic process's wafers and the HBM pool are shared among products pro rata to their
    /// need.
    fn apply(
        &self,
        s: &Scenario,
        pack: &[f64],
        cap: Option<&[f64]>,
        want: &mut Vec<f64>,
        logic: &mut Vec<f64>,
        hbm: &mut Vec<f64>,
    ) {
        let np = s.products.len();
        // What each product asks of the inputs: its packaging output, capped by its orders.
        want.clear();
        match cap {
            Some(c) => want.extend(pack.iter().zip(c).map(|(&p, &c)| p.min(c))),
            None => want.extend_from_slice(pack),
        }
        logic.clear();
        logic.extend_from_slice(pack);
        for (k, &avail) in self.logic_avail.iter().enumerate() {
            let need: f64 = (0..np)
                .filter_map(|p| match s.products[p].logic {
                    Some(pl) if pl.process == k => Some(want[p] / pl.good_dies_per_wafer),
                    _ => None,
                })
                .sum();
            if need > avail {
                let f = avail / need;
                for (p, l) in logic.iter_mut().enumerate() {
                    if matches!(s.products[p].logic, Some(pl) if pl.process == k) {
                        *l = want[p] * f;
                    }
                }
            }
        }
        hbm.clear();
        hbm.resize(np, f64::INFINITY);
        if let Some(avail) = self.hbm_avail {
            let stacks = self.hbm_stacks;
            let need: f64 = (0..np).map(|p| stacks[p] * want[p].min(logic[p])).sum();
            let f = if need > avail { avail / need } else { 1.0 };
            for p in 0..np {
                if stacks[p] > 0.0 {
                    hbm[p] = want[p].min(logic[p]) * f;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{RATE_WINDOW, RateWindow};

    /// The means are those of the last `RATE_WINDOW` days (fewer at the start) to within
    /// the fixed point's rounding, over a long run of values of very different sizes; and
    /// a window of zeros after them is exactly zero.
    #[test]
    fn means_are_the_window_means_and_never_drift() {
        let mut w = RateWindow::new(2);
        let mut seen: Vec<[f64; 2]> = Vec::new();
        let mut out = [f64::NAN; 2];
        w.means(&mut out);
        assert_eq!(out, [0.0, 0.0]);
        let mut x: u64 = 12345;
        for day in 0..5_000 {
            // A cheap pseudo-random sequence: rates from 1e-6 to 1e9 units/day, and zeros.
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = (x >> 11) as f64 / (1u64 << 53) as f64;
            let v = if day % 7 == 0 {
                0.0
            } else {
                10f64.powf(a * 15.0 - 6.0)
            };
            let today = [v, 3.5];
            w.push(&today);
            seen.push(today);
            w.means(&mut out);
            let from = seen.len().saturating_sub(RATE_WINDOW);
            for p in 0..2 {
                let window: Vec<f64> = seen[from..].iter().map(|r| r[p]).collect();
                let mean = window.iter().sum::<f64>() / window.len() as f64;
                // Half a fixed-point step, and the float sum's own rounding.
                let tolerance = 3e-8 + 1e-15 * window.iter().fold(0.0f64, |m, &v| m.max(v));
                assert!(
                    (out[p] - mean).abs() <= tolerance,
                    "day {day}, product {p}: {} vs {mean}",
                    out[p]
                );
            }
        }
        for _ in 0..RATE_WINDOW {
            w.push(&[0.0, 0.0]);
        }
        w.means(&mut out);
        assert_eq!(out, [0.0, 0.0]);
    }

    /// Negative and NaN rates count as 0; huge ones are capped, and the sums stay in range.
    #[test]
    fn odd_rates_are_kept_in_range() {
        let mut w = RateWindow::new(3);
        for _ in 0..2 * RATE_WINDOW {
            w.push(&[f64::NAN, -5.0, f64::INFINITY]);
        }
        let mut out = [1.0; 3];
        w.means(&mut out);
        assert_eq!(out[..2], [0.0, 0.0]);
        assert_eq!(out[2], (1u64 << 33) as f64);
    }
}
