//! Datacenters: power, installation, stranded units, failures and retirement.

use rand_distr::{Binomial, Distribution};

use crate::engine::{Context, Time};

use super::{Event, World, schedule};

impl World<'_> {
    /// Power online at a model site [MW]; virtual sites have unlimited power.
    pub(crate) fn site_mw(&self, k: usize, t: Time) -> f64 {
        match self.sites[k].scenario_site {
            Some(i) => self.s.sites[i].megawatts_at(t),
            None => f64::INFINITY,
        }
    }

    /// All-in power of the units installed or installing at a site [MW].
    pub(crate) fn site_used_mw(&self, k: usize) -> f64 {
        let st = &self.sites[k];
        let chip_w: f64 = self
            .s
            .products
            .iter()
            .enumerate()
            .map(|(p, prod)| (st.installed[p] + st.installing[p]) as f64 * prod.power_w)
            .sum();
        chip_w * st.watts_per_chip_watt / 1e6
    }

    /// Retires, fails, and places delivered units where there is power.
    /// See `docs/model.md`, "Datacenters".
    pub(crate) fn datacenter_step(&mut self, t: Time, ctx: &mut Context<'_, Event>) {
        let s = self.s;
        for k in 0..self.sites.len() {
            // Building capex is charged as power comes online.
            if let Some(i) = self.sites[k].scenario_site {
                let mw = s.sites[i].megawatts_at(t);
                let added = mw - self.sites[k].online_mw;
                if added > 0.0 && super::is_operator(s, self.sites[k].owner) {
                    self.capex_usd_today += added * s.sites[i].capex_usd_per_mw;
                }
                self.sites[k].online_mw = mw;
            }
            for p in 0..s.products.len() {
                let lifetime = s.products[p].lifetime_days;
                let st = &mut self.sites[k];
                // Retirement: cohorts past their service life, oldest first.
                while let Some(&(since, n)) = st.cohorts[p].front() {
                    if t - since < lifetime {
                        break;
                    }
                    st.cohorts[p].pop_front();
                    st.installed[p] -= n;
                    self.accounts[p].installed -= n;
                    self.accounts[p].retired += n;
                }
                // Failures: each installed unit fails today with probability rate/365.
                let n = st.installed[p];
                let rate = s.products[p].failure_rate_per_day;
                if n == 0 || rate <= 0.0 {
                    continue;
                }
                let failed = match Binomial::new(n, rate) {
                    Ok(d) => d.sample(&mut st.rng),
                    Err(_) => 0,
                };
                if failed == 0 {
                    continue;
                }
                // Failed units are taken from the oldest cohorts.
                let mut left = failed;
                while left > 0 {
                    let Some(c) = st.cohorts[p].front_mut() else {
                        break;
                    };
                    let take = c.1.min(left);
                    c.1 -= take;
                    left -= take;
                    if c.1 == 0 {
                        st.cohorts[p].pop_front();
                    }
                }
                let failed = failed - left;
                st.installed[p] -= failed;
                self.accounts[p].installed -= failed;
                self.accounts[p].failed += failed;
            }
        }
        // Placement: each buyer's waiting units, first come first placed, go to its sites in
        // order while power allows; the rest stay stranded.
        for b in 0..self.buyers.len() {
            if self.buyers[b].stranded.is_empty() {
                continue;
            }
            let site_ids = self.buyers[b].sites.clone();
            let mut free: Vec<f64> = site_ids
                .iter()
                .map(|&k| self.site_mw(k, t) - self.site_used_mw(k))
                .collect();
            let mut queue = std::mem::take(&mut self.buyers[b].stranded);
            let mut still = std::collections::VecDeque::new();
            while let Some((p, mut n)) = queue.pop_front() {
                for (j, &k) in site_ids.iter().enumerate() {
                    if n == 0 {
                        break;
                    }
                    let per_unit = s.products[p].power_w * self.sites[k].watts_per_chip_watt / 1e6;
                    let fit = if free[j].is_infinite() {
                        n
                    } else {
                        // The small allowance keeps float rounding (1 - 0.9 MW) from
                        // refusing a unit that exactly fits.
                        ((free[j] / per_unit + 1e-9).floor().max(0.0) as u64).min(n)
                    };
                    if fit == 0 {
                        continue;
                    }
                    free[j] -= fit as f64 * per_unit;
                    n -= fit;
                    self.accounts[p].stranded -= fit;
                    let delay = self.sites[k].install_delay_days;
                    if delay == 0 {
                        self.sites[k].installed[p] += fit;
                        self.sites[k].cohorts[p].push_back((t, fit));
                        self.accounts[p].installed += fit;
                    } else {
                        self.sites[k].installing[p] += fit;
                        self.accounts[p].installing += fit;
                        schedule(
                            ctx,
                            t + delay,
                            Event::Installed {
                                site: k,
                                product: p,
                                units: fit,
                            },
                        );
                    }
                }
                if n > 0 {
                    still.push_back((p, n));
                }
            }
            self.buyers[b].stranded = still;
        }
    }
}
