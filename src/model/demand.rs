//! Demand, serving, sign-up policies and money.

use crate::engine::Time;

use super::{PauseEpisode, World};
use crate::scenario::types::{Market, Scenario, Segment};

/// Seconds per day.
const DAY_S: f64 = 86_400.0;
/// Launch surges are ignored after this many decay constants (e^-20 ≈ 2e-9).
const SURGE_HORIZON: f64 = 20.0;

/// Each launch's surge shape, day by day, and its total: the values of [`surge_shape`] and
/// [`surge_total`] the days of the run can ask for, made once when the run starts instead of
/// with two to four exponentials per launch, segment and day (the same values, bit for bit).
#[derive(Debug)]
pub(crate) struct Surges {
    /// Per launch: the first age in the table, and the shape from that age on, up to the
    /// last age within both the run and the surge's horizon.
    shapes: Vec<(Time, Vec<f64>)>,
    /// Per launch: `extra_signups / surge_total`, the sign-ups a unit of shape brings.
    signups_per_shape: Vec<f64>,
}

impl Surges {
    pub(crate) fn new(s: &Scenario) -> Self {
        let shapes = s
            .launches
            .iter()
            .map(|l| {
                // The ages of the run's days: from day 0 (or the launch day) to the last day.
                let first = (-l.day).max(0);
                let last = s.days - 1 - l.day;
                let table = (first..=last)
                    .map(|age| age as f64)
                    .take_while(|&age| age <= SURGE_HORIZON * (l.decay_days + l.ramp_days))
                    .map(|age| surge_shape(l.ramp_days, l.decay_days, age))
                    .collect();
                (first, table)
            })
            .collect();
        let signups_per_shape = s
            .launches
            .iter()
            .map(|l| l.extra_signups / surge_total(l.ramp_days, l.decay_days))
            .collect();
        Surges {
            shapes,
            signups_per_shape,
        }
    }

    /// Launch `i`'s shape at `age` days, if the age is within the run and the horizon.
    fn shape(&self, i: usize, age: Time) -> Option<f64> {
        let (first, table) = &self.shapes[i];
        usize::try_from(age - first)
            .ok()
            .and_then(|j| table.get(j))
            .copied()
    }
}

impl World<'_> {
    /// Sum over started launches touching segment `k` of `f(launch) × shape(age)`, where
    /// `shape(a) = (1 − e^{−(a+1)/ramp}) e^{−a/decay}` (`e^{−a/decay}` without a ramp), for
    /// ages from 0 to the horizon ([`Surges`]).
    fn surge(
        &self,
        t: Time,
        k: usize,
        f: impl Fn(usize, &crate::scenario::types::Launch) -> f64,
    ) -> f64 {
        let mut total = 0.0;
        for (i, l) in self.s.launches.iter().enumerate() {
            if !self.launches_started[i] || !l.segments.contains(&k) {
                continue;
            }
            if let Some(shape) = self.surges.shape(i, t - l.day) {
                total += f(i, l) * shape;
            }
        }
        total
    }

    /// Queries per user today for segment `k`, with launch uplift and rate limit:
    /// `(queries, queries before the rate limit)`.
    fn usage(&self, t: Time, k: usize) -> (f64, f64) {
        let seg = &self.s.segments[k];
        let q = seg.queries_per_user_per_day.at(t)
            * (1.0 + self.surge(t, k, |_, l| l.usage_uplift))
            * self.demand_factor[k];
        let limited = match seg.rate_limit {
            Some(rl)
                if match rl.active_above {
                    None => true,
                    // The legacy market's rule: on when yesterday's total load was above.
                    Some(a) if self.s.market == Market::Legacy => self.load_ratio > a,
                    Some(_) => self.segments[k].limit_on,
                } =>
            {
                q.min(rl.max_queries_per_user_per_day)
            }
            _ => q,
        };
        (limited, q)
    }

    /// Compute needed per query for segment `k` [H100e-days per query], peak included:
    /// [`h100e_per_query`], from the run's table within the run.
    fn h100e_per_query(&self, t: Time, k: usize) -> f64 {
        self.segment_days
            .per_query(k, t)
            .unwrap_or_else(|| h100e_per_query(&self.s.segments[k], t))
    }

    /// The operator's demand at today's users [H100e].
    pub(crate) fn current_operator_demand(&self) -> f64 {
        (0..self.s.segments.len())
            .map(|k| self.segments[k].users * self.usage(0, k).0 * self.h100e_per_query(0, k))
            .sum()
    }

    /// One day of users, serving, policies and money. See `docs/model.md`, "Demand" and
    /// "Serving".
    pub(crate) fn demand_step(&mut self, t: Time) {
        let s = self.s;
        let ns = s.segments.len();
        // The day's demand and service go straight into the recorder's buffers.
        let mut demand = std::mem::take(&mut self.rec.demand);
        let mut served = std::mem::take(&mut self.rec.served);
        let mut queries = std::mem::take(&mut self.scratch.queries);
        let mut rate_limited = 0.0;
        for k in 0..ns {
            if let Some(noise) = &mut self.demand_noise[k] {
                self.demand_factor[k] = noise.next_factor();
            }
            let seg = &s.segments[k];
            // Yesterday's level was computed yesterday (or at the start, for day 0).
            let level = self
                .segment_days
                .level(k, t)
                .unwrap_or_else(|| seg.growth.level(t));
            let organic_growth = if t == 0 {
                0.0
            } else {
                (level - self.level_yesterday[k]).max(0.0)
            };
            self.level_yesterday[k] = level;
            // Each day of the surge brings (1 - e^{-1/τ}) of what is left, so the days add up
            // to exactly `extra_signups`.
            let surge = self.surge(t, k, |i, _| self.surges.signups_per_shape[i]);
            let st = &mut self.segments[k];
            // Sign-ups replace base churn so that, with no pause, users follow the growth law.
            let signups = organic_growth + seg.churn_per_day * st.users + surge;
            let mut joined = 0.0;
            if st.paused {
                if seg.pause.as_ref().and_then(|p| p.waitlist).is_some() {
                    st.waitlist += signups;
                } else {
                    st.lost_signups += signups;
                    st.lost_to_pause += signups;
                }
            } else {
                joined += signups;
            }
            if let Some((conversion, dropout)) = seg.pause.as_ref().and_then(|p| p.waitlist) {
                if !st.paused {
                    let conv = st.waitlist * conversion;
                    st.waitlist -= conv;
                    joined += conv;
                }
                let drop = st.waitlist * dropout;
                st.waitlist -= drop;
                st.lost_signups += drop;
                st.lost_to_pause += drop;
            }
            st.users += joined;
            // Churn: base, plus extra with the segment's recent unserved share.
            let short = match seg.shortage_churn {
                Some(sc) if !st.unserved_history.is_empty() => {
                    let mean =
                        st.unserved_history.iter().sum::<f64>() / st.unserved_history.len() as f64;
                    sc.extra_churn_per_day * mean
                }
                _ => 0.0,
            };
            let base_churn = st.users * seg.churn_per_day;
            let extra_churn = st.users * short;
            st.users = (st.users - base_churn - extra_churn).max(0.0);
            st.lost_to_churn += extra_churn;
            // Lost users would have churned at the base rate too.
            st.lost_to_pause *= 1.0 - seg.churn_per_day;
            st.lost_to_churn *= 1.0 - seg.churn_per_day;
            let users = st.users;
            self.rec.signups[k] = signups;
            let (q, q_unlimited) = self.usage(t, k);
            let per_query = self.h100e_per_query(t, k);
            queries[k] = users * q;
            demand[k] = queries[k] * per_query;
            self.scratch.unlimited[k] = users * q_unlimited * per_query;
            rate_limited += users * (q_unlimited - q) * per_query;
        }

        // Serving: capacity net of reservations, by priority, pro rata within a priority.
        let (capacity, reserved) = match s.operator {
            Some(op) => {
                let reserved: f64 = s
                    .reservations
                    .iter()
                    .zip(&self.reservations_active)
                    .filter(|(r, on)| **on && r.buyer == op)
                    .map(|(r, _)| r.h100e)
                    .sum();
                let installed = self.installed_h100e(op);
                ((installed - reserved).max(0.0), reserved.min(installed))
            }
            None => (0.0, 0.0),
        };
        served.fill(0.0);
        let mut left = capacity;
        for &prio in &self.segment_priorities {
            let want: f64 = (0..ns)
                .filter(|&k| s.segments[k].priority == prio)
                .map(|k| demand[k])
                .sum();
            let f = if want <= left || want <= 0.0 {
                1.0
            } else {
                left / want
            };
            for k in (0..ns).filter(|&k| s.segments[k].priority == prio) {
                served[k] = demand[k] * f;
            }
            left = (left - want * f).max(0.0);
        }
        let total_demand: f64 = demand.iter().sum();
        let total_served: f64 = served.iter().sum();
        // Invariants of serving: nothing negative, no segment served more than it asks, and
        // no more served than the capacity (up to rounding).
        debug_assert!(
            capacity >= 0.0 && reserved >= 0.0,
            "negative capacity {capacity} or reservation {reserved}"
        );
        debug_assert!(
            (0..ns).all(|k| demand[k] >= 0.0
                && served[k] >= 0.0
                && served[k] <= demand[k] * (1.0 + 1e-9) + 1e-9),
            "a segment served outside 0..=its demand: served {served:?}, demand {demand:?}"
        );
        debug_assert!(
            total_served <= capacity * (1.0 + 1e-9) + 1e-6,
            "served {total_served} above capacity {capacity}"
        );
        self.load_ratio = if capacity > 0.0 {
            total_demand / capacity
        } else if total_demand > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        if s.operator.is_some() {
            let window = s
                .operator
                .map_or(60, |op| s.buyers[op].forecast_window_days as usize);
            if self.demand_history.len() == window {
                self.demand_history.pop_front();
            }
            self.demand_history.push_back(total_demand);
        }

        // Policies, deciding for tomorrow; the row records today's state.
        for k in 0..ns {
            self.rec.paused_today[k] = self.segments[k].paused;
        }
        for k in 0..ns {
            let seg = &s.segments[k];
            let unserved_share = if demand[k] > 0.0 {
                1.0 - served[k] / demand[k]
            } else {
                0.0
            };
            let st = &mut self.segments[k];
            if let Some(sc) = seg.shortage_churn {
                if st.unserved_history.len() == sc.window_days {
                    st.unserved_history.pop_front();
                }
                st.unserved_history.push_back(unserved_share);
            }
            // The load this segment's policies can relieve: its demand before any rate limit
            // and that of the segments served before or with it, over capacity.
            let relievable = {
                let want: f64 = (0..ns)
                    .filter(|&j| s.segments[j].priority <= seg.priority)
                    .map(|j| self.scratch.unlimited[j])
                    .sum();
                if capacity > 0.0 {
                    want / capacity
                } else if want > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                }
            };
            let st = &mut self.segments[k];
            if let Some(rl) = seg.rate_limit
                && let Some(above) = rl.active_above
                && s.market == Market::StockManagement
            {
                // Hysteresis: switch on after `switch_days` above `active_above`, off after
                // as many below `inactive_below`; read on the load before the limit, so the
                // limit's own relief does not switch it off.
                let past = if st.limit_on {
                    relievable < rl.inactive_below
                } else {
                    relievable > above
                };
                st.limit_days = if past { st.limit_days + 1 } else { 0 };
                if st.limit_days >= rl.switch_days {
                    st.limit_on = !st.limit_on;
                    st.limit_days = 0;
                }
            }
            let Some(policy) = &seg.pause else { continue };
            let load = if policy.relievable {
                relievable
            } else {
                self.load_ratio
            };
            if !st.paused {
                st.days_above = if load > policy.pause_above {
                    st.days_above + 1
                } else {
                    0
                };
                if st.days_above >= policy.pause_after_days && t + 1 < s.days {
                    st.paused = true;
                    st.pause_start = t + 1;
                    st.days_below = 0;
                    st.pause_cause = format!(
                        "{} above {:.0}% of capacity for {} days (today {})",
                        watched(policy.relievable),
                        policy.pause_above * 100.0,
                        st.days_above,
                        fmt_load(load)
                    );
                    let (name, cause) = (seg.name.clone(), st.pause_cause.clone());
                    self.rec.events.push(super::EventRecord {
                        day: t + 1,
                        kind: "pause".into(),
                        subject: name,
                        cause,
                    });
                }
            } else {
                st.days_below = if load < policy.resume_below {
                    st.days_below + 1
                } else {
                    0
                };
                let paused_for = t + 1 - st.pause_start;
                if st.days_below >= policy.resume_after_days
                    && paused_for >= policy.min_pause_days as Time
                {
                    st.paused = false;
                    st.days_above = 0;
                    self.episodes.push(PauseEpisode {
                        segment: seg.name.clone(),
                        start: st.pause_start,
                        end: t,
                        cause: st.pause_cause.clone(),
                    });
                    let cause = format!(
                        "{} below {:.0}% of capacity for {} days (today {}), after {} paused days",
                        watched(policy.relievable),
                        policy.resume_below * 100.0,
                        st.days_below,
                        fmt_load(load),
                        paused_for
                    );
                    self.rec.events.push(super::EventRecord {
                        day: t + 1,
                        kind: "resume".into(),
                        subject: seg.name.clone(),
                        cause,
                    });
                }
            }
        }

        // Money.
        let mut revenue = 0.0;
        let mut lost_pause = 0.0;
        let mut lost_churn = 0.0;
        let mut queries_served = 0.0;
        for k in 0..ns {
            let seg = &s.segments[k];
            let st = &self.segments[k];
            // Monthly revenue per user as a daily amount: × 12 / 365.
            let per_day = seg.revenue_per_user_per_month.at(t) * 12.0 / 365.0;
            revenue += st.users * per_day;
            lost_pause += (st.lost_to_pause + st.waitlist) * per_day;
            lost_churn += st.lost_to_churn * per_day;
            if demand[k] > 0.0 {
                queries_served += queries[k] * served[k] / demand[k];
            }
        }
        let (mut power_mw, mut power_avail, mut depreciation) = (0.0, 0.0, 0.0);
        if let Some(op) = s.operator {
            for &k in &self.buyers[op].sites {
                power_mw += self.site_used_mw(k);
                power_avail += self.site_mw_today[k];
            }
            for (p, prod) in s.products.iter().enumerate() {
                let installed: u64 = self.buyers[op]
                    .sites
                    .iter()
                    .map(|&k| self.sites[k].installed[p])
                    .sum();
                // Nothing installed adds nothing (+0.0): no price to look up.
                if installed == 0 {
                    continue;
                }
                let b = &self.buyers[op];
                let unit_price = if b.received[p] > 0 {
                    b.spent_usd[p] / b.received[p] as f64
                } else {
                    prod.price_usd.at(t)
                };
                depreciation += installed as f64 * unit_price / prod.lifetime_days as f64;
            }
        }
        let power_cost = power_mw * 24.0 * s.power_price_usd_per_mwh.at(t);
        self.scratch.queries = queries;
        let rec = &mut self.rec;
        rec.demand = demand;
        rec.served = served;
        rec.capacity = capacity;
        rec.reserved = reserved;
        rec.rate_limited = rate_limited;
        rec.total_demand = total_demand;
        rec.total_served = total_served;
        rec.load_ratio = self.load_ratio;
        rec.revenue = revenue;
        rec.lost_revenue_pause = lost_pause;
        rec.lost_revenue_churn = lost_churn;
        rec.power_cost = power_cost;
        rec.power_in_use_mw = power_mw;
        rec.power_available_mw = power_avail;
        rec.capex = self.capex_usd_today;
        rec.queries_served = queries_served;
        rec.cost_per_query = if queries_served > 0.0 {
            (depreciation + power_cost) / queries_served
        } else {
            0.0
        };
    }
}

/// The surge's shape at `age` days: `(1 − e^{−(age+1)/ramp}) e^{−age/decay}`, or
/// `e^{−age/decay}` without a ramp.
fn surge_shape(ramp: f64, decay: f64, age: f64) -> f64 {
    let build = if ramp > 0.0 {
        1.0 - (-(age + 1.0) / ramp).exp()
    } else {
        1.0
    };
    build * (-age / decay).exp()
}

/// `Σ_{a ≥ 0} surge_shape(a)` in closed form, so that a surge's days add up to its sign-ups:
/// `1/(1 − e^{−1/decay}) − e^{−1/ramp}/(1 − e^{−1/decay − 1/ramp})`.
fn surge_total(ramp: f64, decay: f64) -> f64 {
    let plain = 1.0 / (1.0 - (-1.0 / decay).exp());
    if ramp > 0.0 {
        plain - (-1.0 / ramp).exp() / (1.0 - (-1.0 / decay - 1.0 / ramp).exp())
    } else {
        plain
    }
}

/// What a pause policy's load counts, for the event log.
fn watched(relievable: bool) -> &'static str {
    if relievable {
        "demand of the segment and those served before it"
    } else {
        "demand"
    }
}

fn fmt_load(load: f64) -> String {
    if load.is_finite() {
        crate::format::whole_pct(load)
    } else {
        "no capacity".to_string()
    }
}

/// Compute needed per query of a segment on day `t` [H100e-days per query], peak included.
pub(crate) fn h100e_per_query(seg: &Segment, t: Time) -> f64 {
    per_query(
        seg,
        seg.tokens_per_query.at(t),
        seg.h100_seconds_per_1k_tokens.at(t),
    )
}

/// [`h100e_per_query`] of days `0..days`, from one pass over each timeline's points.
fn per_query_days(seg: &Segment, days: usize) -> Vec<f64> {
    let mut tokens = vec![0.0; days];
    seg.tokens_per_query.fill_days(&mut tokens);
    let mut seconds = vec![0.0; days];
    seg.h100_seconds_per_1k_tokens.fill_days(&mut seconds);
    for (day, &h100_seconds) in tokens.iter_mut().zip(&seconds) {
        *day = per_query(seg, *day, h100_seconds);
    }
    tokens
}

/// The compute of a query from its tokens and the H100-seconds per thousand [H100e].
fn per_query(seg: &Segment, tokens: f64, h100_seconds_per_1k: f64) -> f64 {
    tokens * h100_seconds_per_1k / 1000.0 * seg.peak_factor / DAY_S
}

/// Each segment's values of each day of the run that depend on the scenario alone: its
/// growth-law level and its compute per query, made once per scenario (with the capacity
/// plan, in [`super::Prepared`]) instead of each day of each replication. The same numbers
/// the same functions give day by day (two timeline searches and an exponential a segment
/// and day), looked up.
#[derive(Debug, Default)]
pub(crate) struct SegmentDays {
    days: usize,
    /// `[k × days + t]`.
    level: Vec<f64>,
    per_query: Vec<f64>,
}

impl SegmentDays {
    pub(crate) fn new(s: &Scenario) -> Self {
        let days = usize::try_from(s.days).unwrap_or(0);
        let ticks = || 0..s.days.max(0);
        SegmentDays {
            days,
            level: s
                .segments
                .iter()
                .flat_map(|seg| ticks().map(|t| seg.growth.level(t)))
                .collect(),
            per_query: s
                .segments
                .iter()
                .flat_map(|seg| per_query_days(seg, days))
                .collect(),
        }
    }

    /// The index of segment `k` on day `t`, if in the table.
    fn at(&self, k: usize, t: Time) -> Option<usize> {
        let t = usize::try_from(t).ok().filter(|&t| t < self.days)?;
        let i = k * self.days + t;
        (i < self.level.len()).then_some(i)
    }

    pub(crate) fn level(&self, k: usize, t: Time) -> Option<f64> {
        self.at(k, t).map(|i| self.level[i])
    }

    pub(crate) fn per_query(&self, k: usize, t: Time) -> Option<f64> {
        self.at(k, t).map(|i| self.per_query[i])
    }

    /// Whether this can be of `s`: as many segments and days as it has.
    pub(crate) fn fits(&self, s: &Scenario) -> bool {
        self.level.len() == s.segments.len() * usize::try_from(s.days).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::types::Launch;
    use crate::scenario::{Source, load};

    /// The old way of [`World::surge`]: the shape worked out for each age asked.
    fn shape_asked(l: &Launch, age: Time) -> Option<f64> {
        let age = age as f64;
        if age < 0.0 || age > SURGE_HORIZON * (l.decay_days + l.ramp_days) {
            None
        } else {
            Some(surge_shape(l.ramp_days, l.decay_days, age))
        }
    }

    #[test]
    fn the_tables_hold_the_shape_of_every_day_of_the_run_bit_for_bit() {
        let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
        let mut s = loaded.scenario.clone();
        let template = s.launches[0].clone();
        // Launches before the start, on the first and the last day, after the end, with and
        // without a ramp, with a horizon longer than the run.
        for (day, ramp, decay) in [
            (-30, 0.0, 21.0),
            (-2_000, 5.0, 80.0),
            (0, 3.0, 10.0),
            (400, 0.0, 21.0),
            (s.days - 1, 2.0, 7.0),
            (s.days + 5, 0.0, 21.0),
            (100, 0.0, 1.0e6),
        ] {
            s.launches.push(Launch {
                day,
                ramp_days: ramp,
                decay_days: decay,
                ..template.clone()
            });
        }
        let surges = Surges::new(&s);
        let mut inside = 0;
        for (i, l) in s.launches.iter().enumerate() {
            assert_eq!(
                surges.signups_per_shape[i].to_bits(),
                (l.extra_signups / surge_total(l.ramp_days, l.decay_days)).to_bits()
            );
            for t in 0..s.days {
                let table = surges.shape(i, t - l.day);
                let asked = shape_asked(l, t - l.day);
                assert_eq!(
                    table.map(f64::to_bits),
                    asked.map(f64::to_bits),
                    "launch {i} on day {t}"
                );
                inside += usize::from(table.is_some());
            }
        }
        assert!(inside > 2_000, "the tables were asked about {inside} days");
    }
}
