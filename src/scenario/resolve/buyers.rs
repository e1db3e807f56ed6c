//! Buyers: the operator and competitors, their product mix, contracts, fleet and ordering.

use crate::engine::Time;
use crate::scenario::raw::*;
use crate::scenario::types::*;
use crate::scenario::yaml::child_path;

use super::resolver::{Resolver, num, percent_hint, round6};
use super::{MAX_DAYS_FIELD, Names};

/// Buyers, and the index of the operator among them.
pub(super) fn buyers(
    r: &mut Resolver,
    raw: &RawScenario,
    names: &Names,
    products: &[Product],
) -> (Vec<Buyer>, Option<usize>) {
    let (buyer_names, product_names) = (&names.buyers, &names.products);
    let mut buyers = Vec::new();
    let mut operator = None;
    for (i, b) in raw.buyers.iter().enumerate() {
        let p = format!("buyers[{i}]");
        let kind = match (b.kind, &b.demand_h100e) {
            (RawBuyerKind::Operator, None) => {
                if let Some(o) = operator {
                    r.err(
                        &format!("{p}.kind"),
                        format!(
                            "only one buyer can be the operator; `{}` already is",
                            buyer_names[o]
                        ),
                    );
                }
                operator = Some(i);
                BuyerKind::Operator
            }
            (RawBuyerKind::Operator, Some(_)) => {
                r.err(&format!("{p}.demand_h100e"), "the operator's demand comes from its segments; remove `demand_h100e` or make it a competitor");
                BuyerKind::Operator
            }
            (RawBuyerKind::Competitor, Some(g)) => BuyerKind::Competitor(
                r.growth(&format!("{p}.demand_h100e"), g)
                    .unwrap_or(Growth::Timeline(Timeline::constant(0.0))),
            ),
            (RawBuyerKind::Competitor, None) => {
                let no_operator = !raw.buyers.iter().any(|b| b.kind == RawBuyerKind::Operator);
                let hint = if no_operator && !raw.segments.is_empty() {
                    format!(
                        "; if `{}` is the operator whose segments make its demand, add \
                         `kind: operator`",
                        b.name
                    )
                } else {
                    String::new()
                };
                r.err(
                    &format!("{p}.demand_h100e"),
                    format!(
                        "a competitor needs `demand_h100e` (the fleet it wants, in \
                         H100-equivalents){hint}"
                    ),
                );
                BuyerKind::Competitor(Growth::Timeline(Timeline::constant(0.0)))
            }
        };
        r.whole_days(&format!("{p}.review_every_days"), b.review_every_days, 1);
        let mut mix = Vec::new();
        let mut total = Some(0.0);
        let mut terms = Vec::new();
        for (name, share) in &b.products {
            let mp = child_path(&format!("{p}.products"), name);
            total = total.zip(share.constant()).map(|(a, b)| a + b);
            if let Some(v) = share.constant() {
                terms.push(format!("{name} {}", num(v)));
            }
            let tl = r.timeline(&mp, share, Interpolation::Step, 0.0);
            if let Some(tl) = &tl
                && tl.range().1 > 1.0
            {
                r.err(
                    &mp,
                    format!(
                        "a share is at most 1; found {}{}",
                        num(tl.range().1),
                        percent_hint(tl.range().1)
                    ),
                );
            }
            if let (Some(k), Some(tl)) = (r.lookup_key(&mp, "product", name, product_names), tl) {
                mix.push((k, tl));
            }
        }
        if b.products.is_empty() {
            r.err(
                &format!("{p}.products"),
                "a buyer needs a product mix, e.g. {H100: 1.0}",
            );
        } else if let Some(total) = total
            && (total - 1.0).abs() > 1e-6
        {
            let hint = if (total - 100.0).abs() < 1e-6 {
                "; write shares as fractions (60% is 0.6)".to_string()
            } else {
                format!(
                    "; scale them so they add up to 1 (each share divided by {})",
                    num(round6(total))
                )
            };
            r.err(
                &format!("{p}.products"),
                format!(
                    "product shares must sum to 1; they sum to {} ({}){hint}",
                    num(round6(total)),
                    terms.join(" + ")
                ),
            );
        }
        let budget = b.budget_usd_per_year.as_ref().and_then(|tl| {
            r.timeline(
                &format!("{p}.budget_usd_per_year"),
                tl,
                Interpolation::Step,
                0.0,
            )
        });
        r.non_negative(&format!("{p}.headroom"), b.headroom);
        r.whole_days(
            &format!("{p}.max_planning_horizon_days"),
            b.max_planning_horizon_days,
            1,
        );
        r.whole_days(
            &format!("{p}.forecast_window_days"),
            b.forecast_window_days,
            2,
        );
        let over_order = match &b.over_order {
            Some(o) if o.enabled => {
                r.non_negative(
                    &format!("{p}.over_order.above_lead_time_days"),
                    o.above_lead_time_days,
                );
                if !o.factor.is_finite() || o.factor < 1.0 {
                    r.err(
                        &format!("{p}.over_order.factor"),
                        format!(
                            "an over-order factor below 1 would under-order; found {}",
                            o.factor
                        ),
                    );
                }
                Some(OverOrder {
                    factor: o.factor,
                    above_lead_time_days: o.above_lead_time_days,
                })
            }
            _ => None,
        };
        let mut contracts = Vec::new();
        for (j, c) in b.contracts.iter().enumerate() {
            let cp = format!("{p}.contracts[{j}]");
            r.non_negative(&format!("{cp}.units_per_month"), c.units_per_month);
            if let Some(k) = r.lookup(
                &format!("{cp}.product"),
                "product",
                &c.product,
                product_names,
            ) {
                if let Some(v) = raw.vendors.get(products[k].vendor)
                    && v.allocation != RawAllocation::Floors
                {
                    let rule = match v.allocation {
                        RawAllocation::ProRata => "pro_rata",
                        RawAllocation::Priority => "priority",
                        RawAllocation::Floors => "floors",
                        RawAllocation::TurnAndEarn => "turn_and_earn",
                    };
                    r.warn(
                        &format!("{cp}.product"),
                        format!("vendor `{}` allocates by `{rule}`; contracts only count under `allocation: floors`", v.name),
                    );
                }
                contracts.push((k, c.units_per_month * 12.0 / 365.0));
            }
        }
        let mut initial_fleet = Vec::new();
        for (name, units) in &b.initial_fleet {
            let fp = child_path(&format!("{p}.initial_fleet"), name);
            r.non_negative(&fp, *units);
            if *units > 1e10 {
                r.err(
                    &fp,
                    format!(
                        "{} units is more than were ever made; check the number",
                        num(*units)
                    ),
                );
            }
            if let Some(k) = r.lookup_key(&fp, "product", name, product_names) {
                initial_fleet.push((k, units.max(0.0).round() as u64));
            }
        }
        let o = &b.ordering;
        let op = format!("{p}.ordering");
        r.days_between(&format!("{op}.stock_adjust_days"), o.stock_adjust_days, 1.0);
        r.days_between(
            &format!("{op}.supply_line_adjust_days"),
            o.supply_line_adjust_days,
            1.0,
        );
        r.days_between(
            &format!("{op}.lead_time_smoothing_days"),
            o.lead_time_smoothing_days,
            0.0,
        );
        if o.deploy_horizon_days > MAX_DAYS_FIELD {
            r.err(
                &format!("{op}.deploy_horizon_days"),
                format!(
                    "must be at most {MAX_DAYS_FIELD} days; found {}",
                    o.deploy_horizon_days
                ),
            );
        }
        let review_every = b.review_every_days.max(1);
        if let Some(off) = o.review_offset_days
            && off >= review_every
        {
            r.err(
                &format!("{op}.review_offset_days"),
                format!("must be less than review_every_days ({review_every}); found {off}"),
            );
        }
        let phantom = o.phantom_orders.as_ref().map(|ph| {
            r.non_negative(&format!("{op}.phantom_orders.slope"), ph.slope);
            if !(ph.max_multiple >= 1.0 && ph.max_multiple <= 100.0) {
                r.err(
                    &format!("{op}.phantom_orders.max_multiple"),
                    format!(
                        "a multiple of firm orders, between 1 and 100; found {}",
                        num(ph.max_multiple)
                    ),
                );
            }
            (ph.slope, ph.max_multiple)
        });
        if o.cancel.non_cancellable_days > MAX_DAYS_FIELD {
            r.err(
                &format!("{op}.cancel.non_cancellable_days"),
                format!(
                    "must be at most {MAX_DAYS_FIELD} days; found {}",
                    o.cancel.non_cancellable_days
                ),
            );
        }
        // Reviews spread evenly over one period, in file order, unless given.
        let offset = o.review_offset_days.unwrap_or_else(|| {
            (i as u64 * review_every as u64 / raw.buyers.len().max(1) as u64) as u32
        });
        let ordering = Ordering {
            stock_adjust_days: o.stock_adjust_days,
            supply_line_adjust_days: o.supply_line_adjust_days,
            lead_time_smoothing_days: o.lead_time_smoothing_days,
            deploy_horizon_days: o.deploy_horizon_days.min(MAX_DAYS_FIELD) as Time,
            review_offset_days: offset.min(review_every.saturating_sub(1)) as Time,
            phantom,
            cancel_outside_days: o
                .cancel
                .enabled
                .then_some(o.cancel.non_cancellable_days.min(MAX_DAYS_FIELD) as Time),
        };
        buyers.push(Buyer {
            ordering,
            name: b.name.clone(),
            kind,
            region: b.region.clone(),
            priority: b.priority,
            review_every_days: b.review_every_days.max(1) as Time,
            mix,
            budget_usd_per_year: budget,
            headroom: b.headroom,
            forecast_window_days: b.forecast_window_days.max(2) as Time,
            max_planning_horizon_days: b.max_planning_horizon_days as Time,
            lead_time_substitution: b.lead_time_substitution,
            over_order,
            contracts,
            initial_fleet,
        });
    }
    (buyers, operator)
}
