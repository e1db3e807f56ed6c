//! Randomness in the model beyond failures: demand and yield noise, outages of packaging lines
//! and logic processes, and expansions that slip. See `docs/model.md`, "Randomness".
//!
//! Each draws from its own stream, named after its entity (`noise/segment/<name>`,
//! `noise/product/<name>`, `outages/line/<name>`, `outages/logic/<name>`,
//! `slip/line/<name>/<date>`, ...), keyed by (seed, replication, name): adding an entity
//! leaves every other entity's draws unchanged.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution as _;

use crate::engine::{Time, random};
use crate::scenario::types::{Noise, Outages, Quantity, Scenario, Timeline};

/// A mean-one multiplicative factor `m_t = exp(x_t − σ²/2)`, `x` a stationary AR(1) with
/// standard deviation `σ = √ln(1 + sd²)` and lag-one correlation `φ = e^{−1/τ}`:
/// `x_0 = σ ε_0`, `x_t = φ x_{t−1} + σ √(1 − φ²) ε_t`, ε standard normal. So `m_t` is
/// log-normal with mean 1 and standard deviation `sd` every day.
#[derive(Debug, Clone)]
pub(crate) struct Ar1 {
    rng: ChaCha8Rng,
    phi: f64,
    sigma: f64,
    innovation: f64,
    x: f64,
    started: bool,
}

impl Ar1 {
    pub(crate) fn new(noise: &Noise, seed: u64, replication: u64, name: &str) -> Option<Ar1> {
        if noise.sd <= 0.0 {
            return None;
        }
        let sigma = (1.0 + noise.sd * noise.sd).ln().sqrt();
        let phi = if noise.correlation_days > 0.0 {
            (-1.0 / noise.correlation_days).exp()
        } else {
            0.0
        };
        Some(Ar1 {
            rng: random::stream(seed, replication, name),
            phi,
            sigma,
            innovation: sigma * (1.0 - phi * phi).sqrt(),
            x: 0.0,
            started: false,
        })
    }

    /// The next day's factor.
    pub(crate) fn next_factor(&mut self) -> f64 {
        let z: f64 = rand_distr::StandardNormal.sample(&mut self.rng);
        self.x = if self.started {
            self.phi * self.x + self.innovation * z
        } else {
            self.started = true;
            self.sigma * z
        };
        (self.x - self.sigma * self.sigma / 2.0).exp()
    }
}

/// A log entry the model writes on a given day: `(kind, subject, cause)`.
pub(crate) type LogEntry = (&'static str, String, String);

/// One outage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outage {
    /// First day \[tick\].
    pub start: Time,
    /// Length \[days\], at least 1.
    pub days: Time,
}

/// The outages of one entity over a run of `days` days, from the stream `name`: arrivals a
/// Poisson process of `rate_per_year / 365` a day (exponential gaps), each lasting a draw of
/// `duration_days` rounded to whole days, at least one.
pub fn outages(o: &Outages, days: Time, seed: u64, replication: u64, name: &str) -> Vec<Outage> {
    let mut out = Vec::new();
    if o.rate_per_year <= 0.0 {
        return out;
    }
    let mut rng = random::stream(seed, replication, name);
    let per_day = o.rate_per_year / 365.0;
    let mut t = 0.0;
    loop {
        let u: f64 = rng.random();
        t += -(1.0 - u).ln() / per_day;
        if t >= days as f64 {
            return out;
        }
        let d = o.duration_days.sample(&mut rng).round().max(1.0);
        out.push(Outage {
            start: t as Time,
            days: d.min(1e9) as Time,
        });
    }
}

/// Each day's capacity factor of an entity with outages: the product of `1 − capacity_lost`
/// over the outages in progress that day. Also logs each outage on its first day.
fn factors(
    s: &Scenario,
    o: &Outages,
    subject: &str,
    stream: &str,
    seed: u64,
    replication: u64,
    log: &mut Vec<(Time, LogEntry)>,
) -> Vec<f64> {
    let mut f = vec![1.0; usize::try_from(s.days).unwrap_or(0)];
    for out in outages(o, s.days, seed, replication, stream) {
        let end = (out.start + out.days).min(s.days);
        for day in &mut f[out.start as usize..end as usize] {
            *day *= 1.0 - o.capacity_lost;
        }
        log.push((
            out.start,
            (
                "outage",
                subject.to_string(),
                format!(
                    "{:.0}% of capacity lost for {} days (back on {})",
                    o.capacity_lost * 100.0,
                    out.days,
                    s.calendar.date(out.start + out.days)
                ),
            ),
        ));
    }
    f
}

/// Daily capacity factors of lines and logic processes with outages (an empty table for one
/// without), and the log entries of the outages.
pub(crate) struct Disruptions {
    pub(crate) line_factor: Vec<Vec<f64>>,
    pub(crate) logic_factor: Vec<Vec<f64>>,
    pub(crate) log: Vec<(Time, LogEntry)>,
}

pub(crate) fn disruptions(s: &Scenario, seed: u64, replication: u64) -> Disruptions {
    let mut log = Vec::new();
    let line_factor = s
        .lines
        .iter()
        .map(|l| match &l.outages {
            Some(o) => {
                let stream = format!("outages/line/{}", l.name);
                factors(s, o, &l.name, &stream, seed, replication, &mut log)
            }
            None => Vec::new(),
        })
        .collect();
    let logic_factor = s
        .logic
        .iter()
        .map(|l| match &l.outages {
            Some(o) => {
                let stream = format!("outages/logic/{}", l.name);
                factors(s, o, &l.name, &stream, seed, replication, &mut log)
            }
            None => Vec::new(),
        })
        .collect();
    Disruptions {
        line_factor,
        logic_factor,
        log,
    }
}

/// The delay \[days\] of an expansion of `kind`/`name` planned for day `t`, from the stream
/// `slip/<kind>/<name>/<date>`: a draw rounded to whole days, 0 if negative.
pub fn slip_days(
    s: &Scenario,
    q: &Quantity,
    kind: &str,
    name: &str,
    t: Time,
    seed: u64,
    replication: u64,
) -> Time {
    let stream = format!("slip/{kind}/{name}/{}", s.calendar.date(t));
    let mut rng = random::stream(seed, replication, &stream);
    q.sample(&mut rng).round().clamp(0.0, 1e6) as Time
}

/// A timeline whose increases dated after the start slip: point `i` moves to
/// `max(t_i + d_i, t'_{i−1} + 1)` (`d_i` = 0 for a point that is not an increase), so points
/// keep their order. Logs each slip on its planned day.
#[allow(clippy::too_many_arguments)]
fn slip_timeline(
    s: &Scenario,
    tl: &Timeline,
    q: &Quantity,
    kind: &str,
    name: &str,
    unit: &str,
    seed: u64,
    replication: u64,
    log: &mut Vec<(Time, LogEntry)>,
) -> Timeline {
    let mut pts: Vec<(Time, f64)> = Vec::with_capacity(tl.points().len());
    for (i, &(t, v)) in tl.points().iter().enumerate() {
        let rises = i > 0 && v > tl.points()[i - 1].1 && t > 0;
        let d = if rises {
            slip_days(s, q, kind, name, t, seed, replication)
        } else {
            0
        };
        let moved = match pts.last() {
            Some(&(prev, _)) => (t + d).max(prev + 1),
            None => t + d,
        };
        if rises && moved != t {
            log.push((
                t,
                (
                    "slip",
                    name.to_string(),
                    format!(
                        "increase to {v:.0} {unit} planned for {} slips {} days to {}",
                        s.calendar.date(t),
                        moved - t,
                        s.calendar.date(moved)
                    ),
                ),
            ));
        }
        pts.push((moved, v));
    }
    Timeline::new(tl.interpolation(), pts).unwrap_or_else(|| tl.clone())
}

/// The scenario with its expansions slipped (lines, HBM, logic, site power and builds), and
/// the slips' log entries; `None` when nothing in the scenario slips.
pub(crate) fn slipped(
    s: &Scenario,
    seed: u64,
    replication: u64,
) -> Option<(Scenario, Vec<(Time, LogEntry)>)> {
    let any = s.lines.iter().any(|l| l.expansion_slip_days.is_some())
        || s.logic.iter().any(|l| l.expansion_slip_days.is_some())
        || s.sites.iter().any(|k| k.expansion_slip_days.is_some())
        || s.hbm_expansion_slip_days.is_some();
    if !any {
        return None;
    }
    let mut out = s.clone();
    let mut log = Vec::new();
    for l in &mut out.lines {
        if let Some(q) = l.expansion_slip_days {
            let tl = &l.capacity_wafers_per_month;
            l.capacity_wafers_per_month = slip_timeline(
                s,
                tl,
                &q,
                "line",
                &l.name,
                "wafers/month",
                seed,
                replication,
                &mut log,
            );
        }
    }
    if let (Some(q), Some(tl)) = (s.hbm_expansion_slip_days, &s.hbm_stacks_per_month) {
        out.hbm_stacks_per_month = Some(slip_timeline(
            s,
            tl,
            &q,
            "hbm",
            "HBM",
            "stacks/month",
            seed,
            replication,
            &mut log,
        ));
    }
    for l in &mut out.logic {
        if let Some(q) = l.expansion_slip_days {
            let tl = &l.wafers_per_month;
            l.wafers_per_month = slip_timeline(
                s,
                tl,
                &q,
                "logic",
                &l.name,
                "wafers/month",
                seed,
                replication,
                &mut log,
            );
        }
    }
    for k in &mut out.sites {
        let Some(q) = k.expansion_slip_days else {
            continue;
        };
        if let Some(tl) = &k.megawatts {
            k.megawatts = Some(slip_timeline(
                s,
                tl,
                &q,
                "site",
                &k.name,
                "MW",
                seed,
                replication,
                &mut log,
            ));
        }
        for b in &mut k.builds {
            if b.0 <= 0 {
                continue;
            }
            let d = slip_days(s, &q, "site", &k.name, b.0, seed, replication);
            if d > 0 {
                log.push((
                    b.0,
                    (
                        "slip",
                        k.name.clone(),
                        format!(
                            "build of {:.0} MW planned online {} slips {d} days to {}",
                            b.1,
                            s.calendar.date(b.0),
                            s.calendar.date(b.0 + d)
                        ),
                    ),
                ));
            }
            b.0 += d;
        }
    }
    Some((out, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_mean_one_with_its_sd_and_correlation() {
        let noise = Noise {
            sd: 0.1,
            correlation_days: 10.0,
        };
        let mut ar = Ar1::new(&noise, 3, 0, "noise/segment/x").expect("noise on");
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| ar.next_factor()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // Correlated draws: the effective sample is about n (1 − φ)/(1 + φ) ≈ n / 21, so the
        // standard error of the mean is about 0.1 / √(n/21) ≈ 0.001; allow 5 of them.
        assert!((mean - 1.0).abs() < 0.005, "mean {mean}");
        assert!((var.sqrt() - 0.1).abs() < 0.01, "sd {}", var.sqrt());
        // Lag-10 correlation of the log factor is φ^10 = e^-1 ≈ 0.37.
        let logs: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
        let m = logs.iter().sum::<f64>() / n as f64;
        let c0: f64 = logs.iter().map(|x| (x - m).powi(2)).sum();
        let c10: f64 = logs.windows(11).map(|w| (w[0] - m) * (w[10] - m)).sum();
        assert!((c10 / c0 - (-1f64).exp()).abs() < 0.05, "{}", c10 / c0);
    }

    #[test]
    fn outages_arrive_at_their_rate() {
        let o = Outages {
            rate_per_year: 2.0,
            duration_days: Quantity::Fixed(10.0),
            capacity_lost: 0.5,
        };
        // 200 replications of 10 years: 4000 outages expected, Poisson sd √4000 ≈ 63.
        let n: usize = (0..200)
            .map(|rep| outages(&o, 3650, 1, rep, "outages/line/L").len())
            .sum();
        assert!((n as f64 - 4000.0).abs() < 5.0 * 63.3, "{n}");
        assert!(
            outages(&o, 3650, 1, 0, "outages/line/L")
                .iter()
                .all(|x| x.days == 10)
        );
    }
}
