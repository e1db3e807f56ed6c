//! Demand: user segments and launches.

use crate::scenario::raw::*;
use crate::scenario::types::*;

use super::resolver::{Resolver, num};
use super::{MAX_DAYS_FIELD, Names};

/// Segments (served by the operator, if there is one).
pub(super) fn segments(
    r: &mut Resolver,
    raw: &RawScenario,
    operator: Option<usize>,
) -> Vec<Segment> {
    if !raw.segments.is_empty() && operator.is_none() {
        r.err(
            "segments",
            "segments need a buyer with `kind: operator` to serve them",
        );
    }
    let mut segments = Vec::new();
    for (i, s) in raw.segments.iter().enumerate() {
        let p = format!("segments[{i}]");
        let growth = r.growth(&format!("{p}.growth"), &s.growth);
        r.fraction(&format!("{p}.churn_per_month"), s.churn_per_month);
        let qpd = r.timeline(
            &format!("{p}.queries_per_user_per_day"),
            &s.queries_per_user_per_day,
            Interpolation::Linear,
            0.0,
        );
        let tpq = r.timeline(
            &format!("{p}.tokens_per_query"),
            &s.tokens_per_query,
            Interpolation::Linear,
            0.0,
        );
        let cpt = r.timeline(
            &format!("{p}.h100_seconds_per_1k_tokens"),
            &s.h100_seconds_per_1k_tokens,
            Interpolation::Linear,
            0.0,
        );
        if !s.peak_factor.is_finite() || s.peak_factor < 1.0 {
            r.err(
                &format!("{p}.peak_factor"),
                format!(
                    "peak-to-average is at least 1; found {}",
                    num(s.peak_factor)
                ),
            );
        }
        let revenue = r.timeline(
            &format!("{p}.revenue_per_user_per_month"),
            &s.revenue_per_user_per_month,
            Interpolation::Step,
            0.0,
        );
        let pause = s.pause.as_ref().map(|pz| {
            let pp = format!("{p}.pause");
            r.positive(&format!("{pp}.pause_above"), pz.pause_above);
            r.positive(&format!("{pp}.resume_below"), pz.resume_below);
            if pz.resume_below > pz.pause_above {
                r.err(&format!("{pp}.resume_below"), format!("resume_below ({}) must not exceed pause_above ({}), or the policy would flap", pz.resume_below, pz.pause_above));
            }
            r.whole_days(&format!("{pp}.pause_after_days"), pz.pause_after_days, 1);
            r.whole_days(&format!("{pp}.resume_after_days"), pz.resume_after_days, 1);
            r.whole_days(&format!("{pp}.min_pause_days"), pz.min_pause_days, 0);
            let waitlist = pz.waitlist.as_ref().map(|w| {
                r.fraction(&format!("{pp}.waitlist.conversion_per_day"), w.conversion_per_day);
                r.fraction(&format!("{pp}.waitlist.dropout_per_day"), w.dropout_per_day);
                (w.conversion_per_day, w.dropout_per_day)
            });
            Pause {
                relievable: match pz.watch {
                    Some(w) => w == RawWatch::Relievable,
                    None => raw.market == RawMarket::StockManagement,
                },
                pause_above: pz.pause_above,
                pause_after_days: pz.pause_after_days,
                resume_below: pz.resume_below,
                resume_after_days: pz.resume_after_days,
                min_pause_days: pz.min_pause_days,
                waitlist,
            }
        });
        let rate_limit = s.rate_limit.as_ref().map(|rl| {
            r.positive(
                &format!("{p}.rate_limit.max_queries_per_user_per_day"),
                rl.max_queries_per_user_per_day,
            );
            if let Some(a) = rl.active_above {
                r.positive(&format!("{p}.rate_limit.active_above"), a);
            }
            let inactive_below = match (rl.active_above, rl.inactive_below) {
                (Some(a), Some(b)) => {
                    r.positive(&format!("{p}.rate_limit.inactive_below"), b);
                    if b > a {
                        r.err(
                            &format!("{p}.rate_limit.inactive_below"),
                            format!("inactive_below ({}) must not exceed active_above ({}), or the limit would flap", num(b), num(a)),
                        );
                    }
                    b
                }
                (Some(a), None) => 0.9 * a,
                (None, Some(_)) => {
                    r.err(
                        &format!("{p}.rate_limit.inactive_below"),
                        "a limit that is always on never switches off; set `active_above` too",
                    );
                    0.0
                }
                (None, None) => 0.0,
            };
            if rl.switch_days == 0 || rl.switch_days > MAX_DAYS_FIELD {
                r.err(
                    &format!("{p}.rate_limit.switch_days"),
                    format!("must be between 1 and {MAX_DAYS_FIELD} days; found {}", rl.switch_days),
                );
            }
            RateLimit {
                max_queries_per_user_per_day: rl.max_queries_per_user_per_day,
                active_above: rl.active_above,
                inactive_below,
                switch_days: rl.switch_days.max(1),
            }
        });
        let shortage_churn = s.shortage_churn.as_ref().map(|sc| {
            r.fraction(
                &format!("{p}.shortage_churn.extra_churn_per_month"),
                sc.extra_churn_per_month,
            );
            r.whole_days(
                &format!("{p}.shortage_churn.window_days"),
                sc.window_days,
                1,
            );
            ShortageChurn {
                extra_churn_per_day: sc.extra_churn_per_month * 12.0 / 365.0,
                window_days: sc.window_days.max(1) as usize,
            }
        });
        let demand_noise = r.noise(&format!("{p}.demand_noise"), &s.demand_noise);
        if let (Some(growth), Some(qpd), Some(tpq), Some(cpt)) = (growth, qpd, tpq, cpt) {
            segments.push(Segment {
                name: s.name.clone(),
                growth,
                churn_per_day: s.churn_per_month * 12.0 / 365.0,
                queries_per_user_per_day: qpd,
                tokens_per_query: tpq,
                h100_seconds_per_1k_tokens: cpt,
                peak_factor: s.peak_factor,
                revenue_per_user_per_month: revenue
                    .clone()
                    .unwrap_or_else(|| Timeline::constant(0.0)),
                priority: s.priority,
                pause,
                rate_limit,
                shortage_churn,
                demand_noise,
            });
        }
    }
    segments
}

/// Launches.
pub(super) fn launches(r: &mut Resolver, raw: &RawScenario, names: &Names) -> Vec<Launch> {
    let segment_names = &names.segments;
    let mut launches = Vec::new();
    for (i, l) in raw.launches.iter().enumerate() {
        let p = format!("launches[{i}]");
        let day = r.date_in_run(&format!("{p}.date"), &l.date);
        let mut segs = Vec::new();
        for (j, name) in l.segments.iter().enumerate() {
            if let Some(k) = r.lookup(
                &format!("{p}.segments[{j}]"),
                "segment",
                name,
                segment_names,
            ) {
                segs.push(k);
            }
        }
        if l.segments.is_empty() {
            segs = (0..raw.segments.len()).collect();
        }
        r.non_negative(&format!("{p}.extra_signups"), l.extra_signups);
        r.non_negative(&format!("{p}.usage_uplift"), l.usage_uplift);
        r.positive(&format!("{p}.decay_days"), l.decay_days);
        r.days_between(&format!("{p}.ramp_days"), l.ramp_days, 0.0);
        if let Some(day) = day {
            launches.push(Launch {
                name: l.name.clone(),
                day,
                segments: segs,
                extra_signups: l.extra_signups,
                usage_uplift: l.usage_uplift,
                decay_days: l.decay_days,
                ramp_days: l.ramp_days,
            });
        }
    }
    launches
}
