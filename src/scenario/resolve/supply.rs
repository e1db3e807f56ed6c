//! Supply: packaging lines, HBM and logic processes; after products, each line's priority
//! list, the lines no product uses and whether HBM can feed the lines at the start.

use crate::scenario::raw::*;
use crate::scenario::types::*;

use super::Names;
use super::resolver::Resolver;

/// What `supply:` resolves into.
pub(super) struct Supply {
    pub lines: Vec<Line>,
    pub hbm: Option<Timeline>,
    pub hbm_expansion_slip_days: Option<Quantity>,
    pub logic: Vec<Logic>,
}

/// Packaging lines, HBM (and `warm_start_utilisation`, checked between them) and logic.
pub(super) fn supply(r: &mut Resolver, raw: &RawScenario, names: &Names) -> Supply {
    let product_names = &names.products;
    let mut lines = Vec::new();
    for (i, l) in raw.supply.packaging_lines.iter().enumerate() {
        let p = format!("supply.packaging_lines[{i}]");
        let cap = r.timeline(
            &format!("{p}.capacity_wafers_per_month"),
            &l.capacity_wafers_per_month,
            Interpolation::Step,
            0.0,
        );
        let split = match l.split {
            RawSplit::Shares => {
                if !l.priority.is_empty() {
                    r.err(
                        &format!("{p}.priority"),
                        "`priority` is only used with `split: priority`",
                    );
                }
                Split::Shares
            }
            RawSplit::Priority => {
                let mut order = Vec::new();
                for (j, name) in l.priority.iter().enumerate() {
                    if let Some(k) = r.lookup(
                        &format!("{p}.priority[{j}]"),
                        "product",
                        name,
                        product_names,
                    ) {
                        order.push(k);
                    }
                }
                Split::Priority(order)
            }
        };
        let outages = r.outages(&format!("{p}.outages"), &l.outages);
        let expansion_slip_days =
            r.slip(&format!("{p}.expansion_slip_days"), &l.expansion_slip_days);
        r.fraction(&format!("{p}.reserved_share"), l.reserved_share);
        if l.reserved_share >= 1.0 {
            r.err(
                &format!("{p}.reserved_share"),
                "a line wholly reserved for products outside the scenario makes nothing here; \
                 use a share below 1",
            );
        }
        r.days_between(
            &format!("{p}.reallocation_lag_days"),
            l.reallocation_lag_days,
            0.0,
        );
        lines.push(Line {
            name: l.name.clone(),
            capacity_wafers_per_month: cap.unwrap_or_else(|| Timeline::constant(0.0)),
            split,
            products: Vec::new(),
            outages,
            expansion_slip_days,
            reserved_share: l.reserved_share,
            reallocation_lag_days: l.reallocation_lag_days,
        });
    }
    let hbm = raw.supply.hbm.as_ref().and_then(|h| {
        r.timeline(
            "supply.hbm.stacks_per_month",
            &h.stacks_per_month,
            Interpolation::Step,
            0.0,
        )
    });
    r.fraction("warm_start_utilisation", raw.warm_start_utilisation);
    let hbm_expansion_slip_days = match &raw.supply.hbm {
        Some(h) => r.slip("supply.hbm.expansion_slip_days", &h.expansion_slip_days),
        None => None,
    };
    let mut logic = Vec::new();
    for (i, l) in raw.supply.logic.iter().enumerate() {
        let tl = r.timeline(
            &format!("supply.logic[{i}].wafers_per_month"),
            &l.wafers_per_month,
            Interpolation::Step,
            0.0,
        );
        let p = format!("supply.logic[{i}]");
        let outages = r.outages(&format!("{p}.outages"), &l.outages);
        let expansion_slip_days =
            r.slip(&format!("{p}.expansion_slip_days"), &l.expansion_slip_days);
        logic.push(Logic {
            name: l.name.clone(),
            wafers_per_month: tl.unwrap_or_else(|| Timeline::constant(0.0)),
            outages,
            expansion_slip_days,
        });
    }
    Supply {
        lines,
        hbm,
        hbm_expansion_slip_days,
        logic,
    }
}

/// Checks that need the products: priority lists, unused lines, HBM feasibility.
pub(super) fn check_lines(
    r: &mut Resolver,
    raw: &RawScenario,
    names: &Names,
    s: &Supply,
    products: &[Product],
) {
    let (lines, hbm) = (&s.lines, &s.hbm);
    let (product_names, line_names) = (&names.products, &names.lines);
    for (i, l) in raw.supply.packaging_lines.iter().enumerate() {
        if let Split::Priority(order) = &lines[i].split {
            for (j, &k) in order.iter().enumerate() {
                if products[k].line != Some(i) {
                    r.err(
                        &format!("supply.packaging_lines[{i}].priority[{j}]"),
                        format!(
                            "product `{}` is not packaged on line `{}`",
                            product_names[k], l.name
                        ),
                    );
                }
                if order[..j].contains(&k) {
                    r.err(
                        &format!("supply.packaging_lines[{i}].priority[{j}]"),
                        format!("product `{}` is listed twice", product_names[k]),
                    );
                }
            }
            for &k in &lines[i].products {
                if !order.contains(&k) {
                    r.err(
                        &format!("supply.packaging_lines[{i}].priority"),
                        format!(
                            "product `{}` is on line `{}` but missing from its priority list",
                            product_names[k], l.name
                        ),
                    );
                }
            }
        }
        // A product whose line name is unknown already has an error; "no product uses" the
        // line it meant would only repeat it.
        let unresolved = raw.products.iter().any(|pr| {
            pr.packaging_line
                .as_ref()
                .is_some_and(|n| !line_names.contains(&n.as_str()))
        });
        if lines[i].products.is_empty() && !unresolved {
            r.warn(
                &format!("supply.packaging_lines[{i}]"),
                format!("no product uses line `{}`", l.name),
            );
        }
    }

    // Feasibility: can HBM feed the packaging lines at the start?
    if let Some(h) = &hbm {
        let need: f64 = lines
            .iter()
            .map(|l| {
                let cap = l.capacity_wafers_per_month.at(0);
                let n = l.products.len().max(1) as f64;
                l.products
                    .iter()
                    .map(|&k| cap / n * products[k].units_per_wafer(0) * products[k].hbm_stacks)
                    .sum::<f64>()
            })
            .sum();
        let have = h.at(0);
        if need > 0.0 && have < 0.5 * need {
            r.warn(
                "supply.hbm.stacks_per_month",
                format!(
                    "HBM supply at the start ({have:.0} stacks/month) is less than half of what \
                     the packaging lines could use ({need:.0}: wafers x packages_per_wafer x \
                     packaging_yield x hbm_stacks); HBM will bind and packaging capacity go \
                     unused. Check that `stacks_per_month` is per month and each product's \
                     `hbm_stacks`"
                ),
            );
        }
    }
}
