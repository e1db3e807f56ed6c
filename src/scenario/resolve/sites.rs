//! Datacenter sites: power, builds, overheads.

use crate::engine::Time;
use crate::scenario::raw::*;
use crate::scenario::types::*;

use super::resolver::{Resolver, num};
use super::{MAX_BUILD_MONTHS, Names};

/// Sites.
pub(super) fn sites(r: &mut Resolver, raw: &RawScenario, names: &Names) -> Vec<Site> {
    let buyer_names = &names.buyers;
    let mut sites = Vec::new();
    for (i, s) in raw.sites.iter().enumerate() {
        let p = format!("sites[{i}]");
        let owner = r.lookup(&format!("{p}.owner"), "buyer", &s.owner, buyer_names);
        let mw = s
            .megawatts
            .as_ref()
            .and_then(|tl| r.timeline(&format!("{p}.megawatts"), tl, Interpolation::Step, 0.0));
        if s.megawatts.is_none() && s.builds.is_empty() {
            r.err(&p, "a site needs `megawatts` or `builds`");
        }
        let mut builds = Vec::new();
        for (j, b) in s.builds.iter().enumerate() {
            let bp = format!("{p}.builds[{j}]");
            r.positive(&format!("{bp}.megawatts"), b.megawatts);
            if b.months > MAX_BUILD_MONTHS {
                r.err(
                    &format!("{bp}.months"),
                    format!(
                        "`months` must be at most {MAX_BUILD_MONTHS} (30 years); found {}",
                        b.months
                    ),
                );
            }
            if let Some(t) = r.date(&format!("{bp}.start"), &b.start) {
                let online = r
                    .calendar
                    .date(t)
                    .checked_add_months(chrono::Months::new(b.months));
                if let Some(d) = online {
                    builds.push((r.calendar.tick(d), b.megawatts));
                }
            }
        }
        let peak =
            mw.as_ref().map_or(0.0, |tl| tl.range().1) + builds.iter().map(|b| b.1).sum::<f64>();
        // Point at the power the site states, or at the site when it only has builds.
        let power_path = if s.megawatts.is_some() {
            format!("{p}.megawatts")
        } else {
            p.clone()
        };
        if peak > 0.0 && peak < 0.1 {
            r.warn(
                &power_path,
                format!(
                    "site `{}` peaks at {} MW, less than one rack; power is in megawatts: a \
                     50 MW site is `megawatts: 50`",
                    s.name,
                    num(peak)
                ),
            );
        }
        if peak > 20_000.0 {
            r.warn(
                &power_path,
                format!(
                    "site `{}` peaks at {} MW, more than any datacenter campus; power is in \
                     megawatts, not kilowatts",
                    s.name,
                    // Builds add up with float noise in the last digits: four are enough.
                    if peak >= 1e6 {
                        format!("{peak:.3e}")
                    } else {
                        crate::format::precise(peak.round())
                    }
                ),
            );
        }
        if !(1.0..=3.0).contains(&s.pue) {
            r.err(
                &format!("{p}.pue"),
                format!(
                    "PUE is facility power over IT power, between 1 and 3; found {}",
                    num(s.pue)
                ),
            );
        }
        if !(1.0..=5.0).contains(&s.server_overhead) {
            r.err(&format!("{p}.server_overhead"), format!("server overhead is all server power per watt of chip power, between 1 and 5; found {}", num(s.server_overhead)));
        }
        r.non_negative(&format!("{p}.capex_usd_per_mw"), s.capex_usd_per_mw);
        r.whole_days(&format!("{p}.install_delay_days"), s.install_delay_days, 0);
        let expansion_slip_days =
            r.slip(&format!("{p}.expansion_slip_days"), &s.expansion_slip_days);
        sites.push(Site {
            name: s.name.clone(),
            owner: owner.unwrap_or(0),
            megawatts: mw,
            builds,
            watts_per_chip_watt: s.pue * s.server_overhead,
            install_delay_days: s.install_delay_days as Time,
            capex_usd_per_mw: s.capex_usd_per_mw,
            expansion_slip_days,
        });
    }
    sites
}
