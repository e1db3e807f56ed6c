//! Dated rules: export rules and training reservations.

use crate::scenario::raw::*;
use crate::scenario::types::*;
use crate::scenario::yaml::did_you_mean;

use super::Names;
use super::resolver::Resolver;

/// Export rules.
pub(super) fn export_rules(r: &mut Resolver, raw: &RawScenario, names: &Names) -> Vec<ExportRule> {
    let product_names = &names.products;
    let regions: Vec<&str> = raw
        .buyers
        .iter()
        .filter_map(|b| b.region.as_deref())
        .collect();
    let mut export_rules = Vec::new();
    for (i, e) in raw.export_rules.iter().enumerate() {
        let p = format!("export_rules[{i}]");
        let mut prods = Vec::new();
        for (j, name) in e.products.iter().enumerate() {
            if let Some(k) = r.lookup(
                &format!("{p}.products[{j}]"),
                "product",
                name,
                product_names,
            ) {
                prods.push(k);
            }
        }
        if e.products.is_empty() {
            r.warn(
                &format!("{p}.products"),
                "the rule lists no products, so it changes nothing",
            );
        }
        if !regions.contains(&e.region.as_str()) {
            let mut msg = format!(
                "no buyer is in region `{}`, so the rule changes nothing",
                e.region
            );
            if let Some(s) = did_you_mean(&e.region, regions.iter().copied()) {
                msg.push_str(&format!("; did you mean `{s}`?"));
            }
            r.warn(&format!("{p}.region"), msg);
        }
        // A rule may already be in force when the run starts; one that starts after the end,
        // or ends before the start, changes nothing.
        let from = r.date(&format!("{p}.from"), &e.from);
        if let Some(f) = from
            && f > r.end
        {
            r.warn(
                &format!("{p}.from"),
                format!("{} is after the run's end; the rule has no effect", e.from),
            );
        }
        let until = e
            .until
            .as_ref()
            .and_then(|u| r.date(&format!("{p}.until"), u));
        if let (Some(f), Some(u)) = (from, until)
            && u < f
        {
            r.err(
                &format!("{p}.until"),
                format!(
                    "`until` {} comes before `from` {}; the rule would never be in force",
                    e.until.as_deref().unwrap_or(""),
                    e.from
                ),
            );
        }
        if let Some(u) = until
            && u < 0
        {
            r.warn(
                &format!("{p}.until"),
                "the rule ends before the run starts; it has no effect",
            );
        }
        if let Some(from) = from {
            export_rules.push(ExportRule {
                name: e.name.clone(),
                products: prods,
                region: e.region.clone(),
                from,
                until,
            });
        }
    }
    export_rules
}

/// Reservations (of the operator's fleet unless they name a buyer).
pub(super) fn reservations(
    r: &mut Resolver,
    raw: &RawScenario,
    names: &Names,
    operator: Option<usize>,
) -> Vec<Reservation> {
    let buyer_names = &names.buyers;
    let mut reservations = Vec::new();
    for (i, res) in raw.reservations.iter().enumerate() {
        let p = format!("reservations[{i}]");
        let buyer = match &res.buyer {
            Some(b) => r.lookup(&format!("{p}.buyer"), "buyer", b, buyer_names),
            None => {
                if operator.is_none() {
                    r.err(
                        &format!("{p}.buyer"),
                        "name the buyer whose fleet is reserved (there is no operator)",
                    );
                }
                operator
            }
        };
        let start = r.date(&format!("{p}.start"), &res.start);
        let end = r.date(&format!("{p}.end"), &res.end);
        r.non_negative(&format!("{p}.h100e"), res.h100e);
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            r.err(
                &format!("{p}.end"),
                format!(
                    "`end` {} comes before `start` {}; a reservation's `end` is its last day",
                    res.end, res.start
                ),
            );
        }
        if let Some(b) = buyer
            && Some(b) != operator
        {
            r.warn(
                &format!("{p}.buyer"),
                format!("`{}` is a competitor: reservations only hold back the operator's serving capacity, so this one only appears in the event log", buyer_names[b]),
            );
        }
        if let (Some(buyer), Some(start), Some(end)) = (buyer, start, end) {
            reservations.push(Reservation {
                name: res.name.clone(),
                buyer,
                start,
                end,
                h100e: res.h100e,
            });
        }
    }
    reservations
}
