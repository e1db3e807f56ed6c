//! The `expect:` block: assertions on a run's summary and events.

use crate::engine::calendar::parse_date;
use crate::scenario::raw::*;
use crate::scenario::types::*;
use crate::scenario::yaml::did_you_mean;

use super::Names;
use super::resolver::Resolver;
use crate::model::record::{SUMMARY_DATES, SUMMARY_MAPS, SUMMARY_NUMBERS};

/// Checks and resolves the `expect:` block.
pub(super) fn resolve_expect(r: &mut Resolver, raw: &RawScenario, names: &Names) -> Vec<Expect> {
    let (product_names, segment_names) = (&names.products, &names.segments);
    let mut out = Vec::new();
    let constraints = crate::model::Constraint::ALL.map(crate::model::Constraint::as_str);
    for (i, e) in raw.expect.iter().enumerate() {
        let p = format!("expect[{i}]");
        let target = match (&e.metric, &e.event) {
            (Some(m), None) => {
                let mut parts = m.split('.');
                let head = parts.next().unwrap_or_default();
                let rest: Vec<&str> = parts.collect();
                let known: Vec<&str> = SUMMARY_NUMBERS
                    .iter()
                    .chain(SUMMARY_DATES)
                    .copied()
                    .chain(SUMMARY_MAPS.iter().map(|m| m.0))
                    .collect();
                if let Some(&(_, names)) = SUMMARY_MAPS.iter().find(|m| m.0 == head) {
                    let ok = match (names, rest.as_slice()) {
                        ("product", [name]) if head == "fleet_end" || head == "bullwhip_ratio" => r
                            .lookup(&format!("{p}.metric"), "product", name, product_names)
                            .is_some(),
                        ("product", [name, year]) => {
                            let known = r
                                .lookup(&format!("{p}.metric"), "product", name, product_names)
                                .is_some();
                            if year.parse::<i32>().is_err() {
                                r.err(&format!("{p}.metric"), format!("`{year}` is not a year; write e.g. `production_by_year.{name}.2024`"));
                            }
                            known
                        }
                        ("constraint", [name]) => r
                            .lookup(&format!("{p}.metric"), "constraint", name, &constraints)
                            .is_some(),
                        ("segment", [name]) => r
                            .lookup(&format!("{p}.metric"), "segment", name, segment_names)
                            .is_some(),
                        _ => {
                            let example = match head {
                                "production_by_year" => "production_by_year.H100.2024",
                                "binding_constraint_days" => "binding_constraint_days.packaging",
                                "users_end" => "users_end.paid",
                                _ => "fleet_end.H100",
                            };
                            r.err(
                                &format!("{p}.metric"),
                                format!("`{head}` is a map: name an entry, e.g. `{example}`"),
                            );
                            false
                        }
                    };
                    if !ok {
                        continue;
                    }
                } else if !known.contains(&head) || !rest.is_empty() {
                    let mut msg = format!("`{m}` is not a key of summary.json that can be tested");
                    if let Some(s) = did_you_mean(head, known.iter().copied()) {
                        msg.push_str(&format!("; did you mean `{s}`?"));
                    } else {
                        msg.push_str(&format!(" (keys: {})", known.join(", ")));
                    }
                    r.err(&format!("{p}.metric"), msg);
                    continue;
                }
                ExpectTarget::Metric(m.clone())
            }
            (None, Some(ev)) => ExpectTarget::Event {
                kind: ev.kind.clone(),
                subject: ev.subject.clone(),
            },
            _ => {
                r.err(
                    &p,
                    "an assertion names exactly one of `metric:` or `event:`",
                );
                continue;
            }
        };
        let is_date =
            matches!(&target, ExpectTarget::Metric(m) if SUMMARY_DATES.contains(&m.as_str()));
        let mut date = |r: &mut Resolver, field: &str, text: &str| -> Option<chrono::NaiveDate> {
            match parse_date(text) {
                Ok(d) => Some(d),
                Err(err) => {
                    r.err(&format!("{p}.{field}"), err.to_string());
                    None
                }
            }
        };
        let numbers = [e.below, e.above, e.at_most, e.at_least]
            .iter()
            .filter(|x| x.is_some())
            .count()
            + usize::from(matches!(
                &e.between,
                Some((RawBound::Number(_), RawBound::Number(_)))
            ));
        let dates_given = e.before.is_some()
            || e.after.is_some()
            || matches!(&e.between, Some((RawBound::Date(_), RawBound::Date(_))));
        if matches!(
            &e.between,
            Some((RawBound::Number(_), RawBound::Date(_)))
                | Some((RawBound::Date(_), RawBound::Number(_)))
        ) {
            r.err(
                &format!("{p}.between"),
                "`between` takes two numbers or two dates",
            );
            continue;
        }
        let window = |r: &mut Resolver,
                      date: &mut dyn FnMut(
            &mut Resolver,
            &str,
            &str,
        ) -> Option<chrono::NaiveDate>| {
            let (mut from, mut to) = (None, None);
            if let Some(b) = &e.after {
                from = date(r, "after", b).and_then(|d| d.succ_opt());
            }
            if let Some(b) = &e.before {
                to = date(r, "before", b).and_then(|d| d.pred_opt());
            }
            if let Some((RawBound::Date(a), RawBound::Date(b))) = &e.between {
                from = date(r, "between", a);
                to = date(r, "between", b);
            }
            (from, to)
        };
        let test = match &target {
            ExpectTarget::Event { .. } => {
                if numbers > 0 || e.never.is_some() {
                    r.err(&p, "an event assertion takes `happens:` and an optional window (`before`, `after`, `between` dates)");
                    continue;
                }
                let (from, to) = window(r, &mut date);
                ExpectTest::Happens {
                    happens: e.happens.unwrap_or(true),
                    from,
                    to,
                }
            }
            ExpectTarget::Metric(m) if is_date => {
                if numbers > 0 || e.happens.is_some() {
                    r.err(&p, format!("`{m}` is a date: test it with `before`, `after`, `between: [DATE, DATE]` or `never: true`"));
                    continue;
                }
                match (e.never, dates_given) {
                    (Some(true), false) => ExpectTest::Never,
                    (None, true) => {
                        let (from, to) = window(r, &mut date);
                        ExpectTest::DateIn(from, to)
                    }
                    _ => {
                        r.err(&p, format!("give `{m}` one test: `before`/`after`/`between` dates, or `never: true`"));
                        continue;
                    }
                }
            }
            ExpectTarget::Metric(m) => {
                if dates_given || e.never.is_some() || e.happens.is_some() || numbers != 1 {
                    r.err(&p, format!("`{m}` is a number: give it exactly one of `below`, `above`, `at_most`, `at_least` or `between: [LOW, HIGH]`"));
                    continue;
                }
                match (e.below, e.above, e.at_most, e.at_least, &e.between) {
                    (Some(x), ..) => ExpectTest::Below(x),
                    (_, Some(x), ..) => ExpectTest::Above(x),
                    (_, _, Some(x), ..) => ExpectTest::AtMost(x),
                    (_, _, _, Some(x), _) => ExpectTest::AtLeast(x),
                    (_, _, _, _, Some((RawBound::Number(a), RawBound::Number(b)))) => {
                        if b < a {
                            r.err(
                                &format!("{p}.between"),
                                format!(
                                    "the range [{a}, {b}] is empty: write the lower bound first"
                                ),
                            );
                            continue;
                        }
                        ExpectTest::Between(*a, *b)
                    }
                    _ => continue,
                }
            }
        };
        out.push(Expect {
            target,
            test,
            because: e.because.clone(),
        });
    }
    out
}
