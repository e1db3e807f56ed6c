//! Datacenters: power, installation, stranded units, failures and retirement.

use crate::engine::Time;

use super::{Flow, World, idx};

impl World<'_> {
    /// Power online at a model site [MW]; virtual sites have unlimited power. Within the
    /// Day step of day `t`, `site_mw_today[k]` holds the same value.
    pub(crate) fn site_mw(&self, k: usize, t: Time) -> f64 {
        match self.sites[k].scenario_site {
            Some(i) => self.s.sites[i].megawatts_at(t),
            None => f64::INFINITY,
        }
    }

    /// All-in power of the units installed or installing at a site [MW].
    pub(crate) fn site_used_mw(&self, k: usize) -> f64 {
        let st = &self.sites[k];
        let chip_w: f64 = st
            .installed
            .iter()
            .zip(&st.installing)
            .zip(&self.power_w)
            .map(|((&installed, &installing), &w)| (installed + installing) as f64 * w)
            .sum();
        chip_w * st.watts_per_chip_watt / 1e6
    }

    /// Retires, fails, and places delivered units where there is power.
    /// See `docs/model.md`, "Datacenters".
    pub(crate) fn datacenter_step(&mut self, t: Time) {
        let s = self.s;
        for k in 0..self.sites.len() {
            self.site_mw_today[k] = self.site_mw(k, t);
            // Building capex is charged as power comes online.
            if let Some(i) = self.sites[k].scenario_site {
                let mw = self.site_mw_today[k];
                let added = mw - self.sites[k].online_mw;
                if added > 0.0 && super::is_operator(s, self.sites[k].owner) {
                    self.capex_usd_today += added * s.sites[i].capex_usd_per_mw;
                }
                self.sites[k].online_mw = mw;
            }
            // Each product installed here: the site's per-product state side by side with
            // the product's accounts and failure draws (no index checked per product).
            let st = &mut self.sites[k];
            let per_product = st
                .installed
                .iter_mut()
                .zip(st.cohorts.iter_mut())
                .zip(self.accounts.iter_mut().zip(&self.failures))
                .zip(&s.products);
            for (((installed, cohorts), (account, failures)), prod) in per_product {
                // Nothing installed: no cohorts to retire, nothing to fail.
                if *installed == 0 {
                    continue;
                }
                // Retirement: cohorts past their service life, oldest first.
                while let Some(&(since, n)) = cohorts.front() {
                    if t - since < prod.lifetime_days {
                        break;
                    }
                    cohorts.pop_front();
                    *installed -= n;
                    account.installed -= n;
                    account.retired += n;
                }
                // Failures: each installed unit fails today with probability
                // `failure_rate_per_day` (the annual rate / 365).
                let n = *installed;
                if n == 0 || prod.failure_rate_per_day <= 0.0 {
                    continue;
                }
                let failed = failures.draw(n, &mut st.rng);
                if failed == 0 {
                    continue;
                }
                // Failed units are taken from the oldest cohorts.
                let mut left = failed;
                while left > 0 {
                    let Some(c) = cohorts.front_mut() else {
                        break;
                    };
                    let take = c.1.min(left);
                    c.1 -= take;
                    left -= take;
                    if c.1 == 0 {
                        cohorts.pop_front();
                    }
                }
                let failed = failed - left;
                *installed -= failed;
                account.installed -= failed;
                account.failed += failed;
            }
        }
        // Placement: each buyer's waiting units, first come first placed, go to its sites
        // soonest online first while power allows; the rest stay stranded.
        let mut free = std::mem::take(&mut self.scratch.free);
        for b in 0..self.buyers.len() {
            if self.buyers[b].stranded.is_empty() {
                continue;
            }
            free.clear();
            // A virtual site's power is unlimited: nothing to add up (∞ − used is ∞).
            free.extend(self.buyers[b].placement.iter().map(|&k| {
                let mw = self.site_mw_today[k];
                if mw.is_infinite() {
                    mw
                } else {
                    mw - self.site_used_mw(k)
                }
            }));
            // Each waiting batch once, in order: a batch that does not fit whole goes back
            // at the end, so the queue keeps its order and never needs more room.
            for _ in 0..self.buyers[b].stranded.len() {
                let Some((p, mut n)) = self.buyers[b].stranded.pop_front() else {
                    break;
                };
                for (j, free) in free.iter_mut().enumerate() {
                    let k = self.buyers[b].placement[j];
                    if n == 0 {
                        break;
                    }
                    let per_unit = s.products[p].power_w * self.sites[k].watts_per_chip_watt / 1e6;
                    let fit = if free.is_infinite() {
                        n
                    } else {
                        // The small allowance keeps float rounding (1 - 0.9 MW) from
                        // refusing a unit that exactly fits.
                        (super::num::floor(*free / per_unit + 1e-9).max(0.0) as u64).min(n)
                    };
                    if fit == 0 {
                        continue;
                    }
                    *free -= fit as f64 * per_unit;
                    n -= fit;
                    self.accounts[p].stranded -= fit;
                    let delay = self.sites[k].install_delay_days;
                    if delay == 0 {
                        self.sites[k].installed[p] += fit;
                        super::add_cohort(&mut self.sites[k].cohorts[p], t, fit);
                        self.accounts[p].installed += fit;
                    } else {
                        self.sites[k].installing[p] += fit;
                        self.accounts[p].installing += fit;
                        self.flows.send(
                            t + delay,
                            Flow::Installed {
                                site: idx(k),
                                product: idx(p),
                                units: fit,
                            },
                        );
                    }
                }
                if n > 0 {
                    self.buyers[b].stranded.push_back((p, n));
                }
            }
        }
        self.scratch.free = free;
    }
}
