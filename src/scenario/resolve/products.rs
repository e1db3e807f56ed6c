//! Vendors and products.

use crate::engine::Time;
use crate::scenario::raw::*;
use crate::scenario::types::*;

use super::resolver::{Resolver, num, percent_hint};
use super::{MAX_DAYS_FIELD, MAX_LIFETIME_YEARS, Names};

/// Vendors.
pub(super) fn vendors(r: &mut Resolver, raw: &RawScenario) -> Vec<Vendor> {
    let mut vendors = Vec::new();
    for (i, v) in raw.vendors.iter().enumerate() {
        r.whole_days(&format!("vendors[{i}].shipping_days"), v.shipping_days, 0);
        let p = format!("vendors[{i}]");
        r.positive(
            &format!("{p}.normal_lead_time_days"),
            v.normal_lead_time_days,
        );
        r.non_negative(&format!("{p}.price_elasticity"), v.price_elasticity);
        if v.max_price_multiple.is_nan() || v.max_price_multiple < 1.0 {
            r.err(
                &format!("{p}.max_price_multiple"),
                format!(
                    "must be at least 1 (a multiple of list price); found {}",
                    num(v.max_price_multiple)
                ),
            );
        }
        if v.booking_window_days == 0 || v.booking_window_days > MAX_DAYS_FIELD {
            r.err(
                &format!("{p}.booking_window_days"),
                format!(
                    "must be between 1 and {MAX_DAYS_FIELD} days; found {}",
                    v.booking_window_days
                ),
            );
        }
        r.days_between(&format!("{p}.history_days"), v.history_days, 1.0);
        let pp = format!("{p}.plan");
        r.days_between(
            &format!("{pp}.order_smoothing_days"),
            v.plan.order_smoothing_days,
            1.0,
        );
        r.days_between(
            &format!("{pp}.inventory_cover_days"),
            v.plan.inventory_cover_days,
            0.0,
        );
        r.days_between(&format!("{pp}.adjust_days"), v.plan.adjust_days, 1.0);
        r.fraction(&format!("{pp}.min_capacity_use"), v.plan.min_capacity_use);
        vendors.push(Vendor {
            booking_window_days: v.booking_window_days.clamp(1, MAX_DAYS_FIELD) as Time,
            history_days: v.history_days,
            plan: Plan {
                order_smoothing_days: v.plan.order_smoothing_days,
                inventory_cover_days: v.plan.inventory_cover_days,
                adjust_days: v.plan.adjust_days,
                min_capacity_use: v.plan.min_capacity_use,
            },
            name: v.name.clone(),
            allocation: match v.allocation {
                RawAllocation::ProRata => Allocation::ProRata,
                RawAllocation::Priority => Allocation::Priority,
                RawAllocation::Floors => Allocation::Floors,
                RawAllocation::TurnAndEarn => Allocation::TurnAndEarn,
            },
            shipping_days: v.shipping_days as Time,
            normal_lead_time_days: v.normal_lead_time_days,
            price_elasticity: v.price_elasticity,
            max_price_multiple: v.max_price_multiple,
        });
    }
    vendors
}

/// Products; each is added to the `products` of its packaging line.
pub(super) fn products(
    r: &mut Resolver,
    raw: &RawScenario,
    names: &Names,
    lines: &mut [Line],
) -> Vec<Product> {
    let (vendor_names, line_names, logic_names) = (&names.vendors, &names.lines, &names.logic);
    let mut products = Vec::new();
    for (i, pr) in raw.products.iter().enumerate() {
        let p = format!("products[{i}]");
        let vendor = r.lookup(&format!("{p}.vendor"), "vendor", &pr.vendor, vendor_names);
        let line = match &pr.packaging_line {
            Some(name) => r.lookup(
                &format!("{p}.packaging_line"),
                "packaging line",
                name,
                line_names,
            ),
            None => None,
        };
        if let Some(l) = line {
            lines[l].products.push(i);
        }
        let mut packages_per_wafer = 0.0;
        match (&pr.packaging_line, pr.packages_per_wafer, &pr.units_per_month) {
            (Some(_), Some(ppw), None) => {
                r.positive(&format!("{p}.packages_per_wafer"), ppw);
                if ppw > 1000.0 {
                    r.warn(&format!("{p}.packages_per_wafer"), format!("{} packages per wafer is far above any CoWoS product (H100 ~29); check the unit", num(ppw)));
                }
                packages_per_wafer = ppw;
            }
            (Some(_), None, _) => r.err(
                &format!("{p}.packages_per_wafer"),
                "a product on a packaging line needs `packages_per_wafer`",
            ),
            (Some(_), Some(_), Some(_)) => r.err(
                &format!("{p}.units_per_month"),
                "`units_per_month` is for products without a `packaging_line`; give one or the other",
            ),
            (None, _, None) => r.err(
                &p,
                "a product needs either `packaging_line` (with `packages_per_wafer`) or `units_per_month`",
            ),
            (None, _, Some(_)) => {}
        }
        let packaging_yield = r.timeline(
            &format!("{p}.packaging_yield"),
            &pr.packaging_yield,
            Interpolation::Linear,
            0.0,
        );
        if let Some(y) = &packaging_yield
            && (y.range().0 <= 0.0 || y.range().1 > 1.0)
        {
            let (lo, hi) = y.range();
            let found = if lo == hi {
                num(lo)
            } else {
                format!("values from {} to {}", num(lo), num(hi))
            };
            let bad = if hi > 1.0 { hi } else { lo };
            r.err(
                &format!("{p}.packaging_yield"),
                format!(
                    "a yield is a share above 0 and at most 1; found {found}{}",
                    percent_hint(bad)
                ),
            );
        }
        r.non_negative(&format!("{p}.hbm_stacks"), pr.hbm_stacks);
        if pr.hbm_stacks > 32.0 {
            r.warn(
                &format!("{p}.hbm_stacks"),
                format!(
                    "{} HBM stacks per package is more than any product carries (B200: 8)",
                    num(pr.hbm_stacks)
                ),
            );
        }
        let plogic = match &pr.logic {
            Some(pl) => {
                let lp = format!("{p}.logic");
                r.positive(&format!("{lp}.dies_per_wafer"), pl.dies_per_wafer);
                if !(pl.yield_ > 0.0 && pl.yield_ <= 1.0) {
                    r.err(
                        &format!("{lp}.yield"),
                        format!(
                            "a yield is a share above 0 and at most 1; found {}{}",
                            num(pl.yield_),
                            percent_hint(pl.yield_)
                        ),
                    );
                }
                r.lookup(
                    &format!("{lp}.process"),
                    "logic process",
                    &pl.process,
                    logic_names,
                )
                .map(|process| ProductLogic {
                    process,
                    good_dies_per_wafer: pl.dies_per_wafer * pl.yield_,
                })
            }
            None => None,
        };
        let upm = pr.units_per_month.as_ref().and_then(|tl| {
            r.timeline(
                &format!("{p}.units_per_month"),
                tl,
                Interpolation::Step,
                0.0,
            )
        });
        r.positive(&format!("{p}.h100_equivalents"), pr.h100_equivalents);
        if pr.h100_equivalents > 100.0 {
            r.warn(
                &format!("{p}.h100_equivalents"),
                format!(
                    "{} H100-equivalents per unit is unusual; the field is relative to one H100",
                    num(pr.h100_equivalents)
                ),
            );
        }
        r.positive(&format!("{p}.power_w"), pr.power_w);
        if pr.power_w > 0.0 && pr.power_w < 20.0 {
            r.warn(&format!("{p}.power_w"), format!("{} W is very low for an accelerator; is it in kW? The field is in watts (H100: 700)", num(pr.power_w)));
        }
        if pr.power_w > 5000.0 && pr.packaging_line.is_some() {
            r.warn(
                &format!("{p}.power_w"),
                format!(
                    "{} W per package is far above any GPU (B200: 1000 W); `power_w` is one \
                     unit's power in watts, not a server's or a rack's",
                    num(pr.power_w)
                ),
            );
        }
        let price = r.timeline(
            &format!("{p}.price_usd"),
            &pr.price_usd,
            Interpolation::Step,
            0.0,
        );
        if let Some(pt) = &price
            && pt.range().1 > 0.0
            && pt.range().1 < 100.0
        {
            r.warn(
                &format!("{p}.price_usd"),
                format!(
                    "{} USD is below any accelerator's price; `price_usd` is in US dollars per \
                     unit, not thousands (H100: about 30000)",
                    num(pt.range().1)
                ),
            );
        }
        let available = match &pr.available {
            Some(d) => r.date(&format!("{p}.available"), d).unwrap_or(0),
            None => 0,
        };
        if available > r.end {
            r.warn(
                &format!("{p}.available"),
                format!(
                    "`{}` becomes available after the run ends ({}); it is never produced",
                    pr.name,
                    r.calendar.date(r.end)
                ),
            );
        }
        let line_share = match &pr.line_share {
            Some(tl) => r.timeline(&format!("{p}.line_share"), tl, Interpolation::Step, 0.0),
            None => Some(Timeline::constant(1.0)),
        };
        if let Some(ls) = &line_share
            && ls.range().1 > 1.0
        {
            r.err(
                &format!("{p}.line_share"),
                "a line share is a share of the line's wafers, at most 1",
            );
        }
        if pr.line_share.is_some() && pr.packaging_line.is_none() {
            r.err(
                &format!("{p}.line_share"),
                "`line_share` needs a `packaging_line`",
            );
        }
        r.fraction(&format!("{p}.annual_failure_rate"), pr.annual_failure_rate);
        r.positive(&format!("{p}.lifetime_years"), pr.lifetime_years);
        if pr.lifetime_years > MAX_LIFETIME_YEARS {
            r.err(
                &format!("{p}.lifetime_years"),
                format!(
                    "`lifetime_years` must be at most {MAX_LIFETIME_YEARS}; found {}",
                    num(pr.lifetime_years)
                ),
            );
        }
        r.whole_days(&format!("{p}.cycle_time_days"), pr.cycle_time_days, 0);
        let yield_noise = r.noise(&format!("{p}.yield_noise"), &pr.yield_noise);
        products.push(Product {
            name: pr.name.clone(),
            vendor: vendor.unwrap_or(0),
            line,
            packages_per_wafer,
            packaging_yield: packaging_yield.unwrap_or_else(|| Timeline::constant(1.0)),
            hbm_stacks: pr.hbm_stacks,
            logic: plogic,
            units_per_month: upm,
            h100e: pr.h100_equivalents,
            power_w: pr.power_w,
            price_usd: price.unwrap_or_else(|| Timeline::constant(0.0)),
            available,
            cycle_time_days: pr.cycle_time_days as Time,
            line_share: line_share.unwrap_or_else(|| Timeline::constant(0.0)),
            failure_rate_per_day: pr.annual_failure_rate / 365.0,
            lifetime_days: (pr.lifetime_years * 365.0).round().max(1.0) as Time,
            yield_noise,
        });
    }
    products
}
