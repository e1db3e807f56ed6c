//! An M/M/c queue on the [`engine`](crate), with its closed-form (Erlang C) results.
//!
//! It checks the engine against theory, serves as a worked example of a [`Model`], and gives
//! benchmarks a fixed workload. Customers arrive in a Poisson process of rate λ
//! (`arrival_rate`), wait in one first-come first-served line, and are served by `c`
//! identical servers with exponential service times of rate μ (`service_rate`).
//!
//! # Equations
//!
//! With offered load `a = λ/μ` and utilisation `ρ = a/c < 1`:
//!
//! - probability an arrival waits (Erlang C): `C(c, a) = B / (1 − ρ(1 − B))`, where `B` is
//!   Erlang B, computed by the stable recursion `B₀ = 1`, `Bₖ = a·Bₖ₋₁ / (k + a·Bₖ₋₁)`;
//! - mean wait in queue: `Wq = C(c, a) / (cμ − λ)`;
//! - mean time in system: `W = Wq + 1/μ`.
//!
//! # Simulation choices
//!
//! - **Time scale.** Engine time is integer ([`Time`]); one tick is `1 / (10⁶ · max(λ, μ))`
//!   time units, so the mean of the faster of the inter-arrival and service distributions spans
//!   10⁶ ticks whatever unit the rates use. Each exponential draw is rounded to the nearest
//!   tick: at most 0.5 tick, a relative error of at most 5·10⁻⁷ of the shorter mean, and
//!   unbiased to first order, far below the statistical error of any feasible run.
//! - **Random streams.** Inter-arrival times come from stream `"arrivals"` and service times
//!   from stream `"service"` ([`random::stream`] with replication 0). Customer `i`'s service
//!   time is drawn when it arrives, so it is the `i`-th draw of `"service"` whatever `c` is:
//!   runs that differ only in `c` see the same customers (common random numbers).
//! - **No warm-up.** The queue starts empty and every customer counts. The initial transient
//!   lasts roughly `1/(μ(1 − √ρ)²)` time units (≈ 380 for M/M/1 at ρ = 0.9, ≈ 34 at ρ = 0.5),
//!   i.e. a few hundred customers, so its bias on the mean of 10⁵–10⁶ customers is well under
//!   the statistical noise. Arrivals stop after `customers` and the queue drains, so every
//!   customer's wait is complete.
//! - **Utilisation** is the total service time divided by `c ×` the time of the last departure.
//!
//! ```
//! use capsim_engine::queueing::{MmcConfig, mmc_theory, simulate};
//!
//! let cfg = MmcConfig { servers: 2, arrival_rate: 1.0, service_rate: 1.0, customers: 20_000, seed: 7 };
//! let sim = simulate(&cfg)?;
//! let theory = mmc_theory(2, 1.0, 1.0)?; // ρ = 0.5, Wq = 1/3
//! assert!((sim.mean_wait_in_queue - theory.wq).abs() < 0.2 * theory.wq);
//! # Ok::<(), capsim_engine::queueing::MmcError>(())
//! ```

use std::collections::VecDeque;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::Exp1;

use crate::{Context, EngineError, Model, Simulation, Time, random};

/// Ticks spanned by the mean of the faster of the inter-arrival and service distributions.
const TICKS_PER_FASTEST_MEAN: f64 = 1e6;

/// Largest expected time of the last arrival accepted by [`simulate`], 2⁶² \[ticks\].
const MAX_HORIZON_TICKS: f64 = 4_611_686_018_427_387_904.0;

/// Errors from invalid M/M/c parameters or a failed run.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum MmcError {
    /// No servers.
    #[error("servers must be at least 1, got 0")]
    ZeroServers,
    /// A rate that is zero, negative, infinite or NaN.
    #[error("{name} must be a positive finite number, got {value}")]
    BadRate {
        /// Which rate: `arrival_rate` or `service_rate`.
        name: &'static str,
        /// The value given [per unit time].
        value: f64,
    },
    /// `ρ = λ/(cμ) >= 1`: the queue grows without bound and has no steady state.
    #[error(
        "unstable queue: utilisation arrival_rate / (servers × service_rate) = {rho:.6} must be \
         below 1; lower arrival_rate or raise servers or service_rate"
    )]
    Unstable {
        /// Utilisation `λ/(cμ)` \[dimensionless\].
        rho: f64,
    },
    /// Nothing to simulate.
    #[error("customers must be at least 1, got 0")]
    ZeroCustomers,
    /// The run would not fit in the engine's integer clock: `customers / arrival_rate` is too
    /// long compared with the shorter of the mean inter-arrival and service times.
    #[error(
        "the simulated horizon, about {expected_ticks:.3e} ticks, exceeds the 2^62-tick limit of \
         the integer clock; reduce customers or bring arrival_rate and service_rate closer \
         together"
    )]
    HorizonTooLong {
        /// Expected time of the last arrival \[ticks\].
        expected_ticks: f64,
    },
    /// The engine refused an event (only possible if simulated time overflows `i64` ticks).
    #[error("simulation failed: {0}")]
    Engine(#[from] EngineError),
}

/// Parameters of an M/M/c simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmcConfig {
    /// Number of identical servers `c` \[servers\].
    pub servers: usize,
    /// Poisson arrival rate λ [customers per unit time].
    pub arrival_rate: f64,
    /// Service rate μ of one server [customers per unit time].
    pub service_rate: f64,
    /// Customers to simulate, starting from an empty system \[customers\].
    pub customers: u64,
    /// Seed of the random streams.
    pub seed: u64,
}

impl Default for MmcConfig {
    /// M/M/1 at ρ = 0.9 with a million customers, seed 1.
    fn default() -> Self {
        Self {
            servers: 1,
            arrival_rate: 0.9,
            service_rate: 1.0,
            customers: 1_000_000,
            seed: 1,
        }
    }
}

/// Estimates from one M/M/c run, in the time unit of the rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmcResult {
    /// Mean time from arrival to start of service, over all customers [time units].
    pub mean_wait_in_queue: f64,
    /// Mean time from arrival to departure, over all customers [time units].
    pub mean_time_in_system: f64,
    /// Fraction of server capacity used until the last departure [dimensionless, 0..1].
    pub utilisation: f64,
    /// Customers served \[customers\].
    pub customers: u64,
}

/// Steady-state M/M/c results from the closed forms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmcTheory {
    /// Mean wait in queue `Wq` [time units].
    pub wq: f64,
    /// Mean time in system `W = Wq + 1/μ` [time units].
    pub w: f64,
    /// Utilisation `ρ = λ/(cμ)` \[dimensionless\].
    pub rho: f64,
}

/// Checks parameters and returns `ρ = λ/(cμ)`.
fn check(servers: usize, lambda: f64, mu: f64) -> Result<f64, MmcError> {
    if servers == 0 {
        return Err(MmcError::ZeroServers);
    }
    for (name, value) in [("arrival_rate", lambda), ("service_rate", mu)] {
        if !(value.is_finite() && value > 0.0) {
            return Err(MmcError::BadRate { name, value });
        }
    }
    let rho = lambda / (servers as f64 * mu);
    if rho >= 1.0 {
        return Err(MmcError::Unstable { rho });
    }
    Ok(rho)
}

/// Erlang C: the probability that an arrival has to wait in a stable M/M/c queue
/// [dimensionless, 0..1].
///
/// `c` servers \[servers\], arrival rate `lambda` and service rate `mu` per server [per unit
/// time]. Uses the Erlang B recursion, which is stable for large `c` (no factorials).
///
/// # Errors
/// [`MmcError::ZeroServers`], [`MmcError::BadRate`], or [`MmcError::Unstable`] if `λ >= cμ`.
pub fn erlang_c(c: usize, lambda: f64, mu: f64) -> Result<f64, MmcError> {
    let rho = check(c, lambda, mu)?;
    let a = lambda / mu;
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    Ok(b / (1.0 - rho * (1.0 - b)))
}

/// Steady-state mean wait, time in system and utilisation of an M/M/c queue.
///
/// Arguments as for [`erlang_c`].
///
/// # Errors
/// As for [`erlang_c`].
pub fn mmc_theory(c: usize, lambda: f64, mu: f64) -> Result<MmcTheory, MmcError> {
    let p_wait = erlang_c(c, lambda, mu)?;
    let wq = p_wait / (c as f64 * mu - lambda);
    Ok(MmcTheory {
        wq,
        w: wq + 1.0 / mu,
        rho: lambda / (c as f64 * mu),
    })
}

/// Simulates `cfg.customers` customers through an M/M/c queue that starts empty.
///
/// Deterministic: the same `cfg` gives the same result on every platform.
///
/// # Errors
/// Invalid parameters as for [`erlang_c`], [`MmcError::ZeroCustomers`],
/// [`MmcError::HorizonTooLong`] if the run would not fit in `i64` ticks (needs around 10¹³
/// time units per unit of the faster mean, e.g. 10⁷ customers with μ/λ = 10⁶), or
/// [`MmcError::Engine`] if, despite that check, an event time overflowed.
pub fn simulate(cfg: &MmcConfig) -> Result<MmcResult, MmcError> {
    check(cfg.servers, cfg.arrival_rate, cfg.service_rate)?;
    if cfg.customers == 0 {
        return Err(MmcError::ZeroCustomers);
    }
    let mut model = Mmc::new(cfg);
    // (Never NaN: the rates are positive and finite.) Half the i64 range leaves room for the random spread around the expected horizon and
    // for the queue to drain after the last arrival.
    let expected_ticks = cfg.customers as f64 * model.mean_interarrival;
    if expected_ticks >= MAX_HORIZON_TICKS {
        return Err(MmcError::HorizonTooLong { expected_ticks });
    }
    let first_arrival = model.draw_interarrival();
    let mut sim = Simulation::new(model, 0);
    sim.schedule(first_arrival, MmcEvent::Arrival)?;
    sim.run();
    sim.into_model().result()
}

/// Events of the M/M/c model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MmcEvent {
    /// A customer arrives.
    Arrival,
    /// A server finishes a customer.
    Departure,
}

/// A customer waiting in line.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    arrived: Time,
    service: Time,
}

/// State of the M/M/c model. All accumulators are exact integers \[ticks\].
#[derive(Debug)]
struct Mmc {
    servers: usize,
    target: u64,
    /// `max(λ, μ)` [per unit time]; one tick is `1 / (10⁶ · fastest_rate)` time units.
    fastest_rate: f64,
    arrivals_rng: ChaCha8Rng,
    service_rng: ChaCha8Rng,
    /// Mean inter-arrival time \[ticks\]; draws are `Exp1` (rate 1) scaled by this.
    mean_interarrival: f64,
    /// Mean service time \[ticks\]; draws are `Exp1` (rate 1) scaled by this.
    mean_service: f64,

    busy: usize,
    arrived: u64,
    served: u64,
    line: VecDeque<Waiting>,
    sum_wait: u128,
    sum_system: u128,
    sum_service: u128,
    last_departure: Time,
    fault: Option<EngineError>,
}

impl Mmc {
    /// Expects parameters already checked by [`check`].
    fn new(cfg: &MmcConfig) -> Self {
        // Ratios first, so extreme but valid rates (e.g. 1e305) do not overflow to infinity.
        let fastest_rate = cfg.arrival_rate.max(cfg.service_rate);
        Self {
            servers: cfg.servers,
            target: cfg.customers,
            fastest_rate,
            arrivals_rng: random::stream(cfg.seed, 0, "arrivals"),
            service_rng: random::stream(cfg.seed, 0, "service"),
            mean_interarrival: TICKS_PER_FASTEST_MEAN * (fastest_rate / cfg.arrival_rate),
            mean_service: TICKS_PER_FASTEST_MEAN * (fastest_rate / cfg.service_rate),
            busy: 0,
            arrived: 0,
            served: 0,
            line: VecDeque::new(),
            sum_wait: 0,
            sum_system: 0,
            sum_service: 0,
            last_departure: 0,
            fault: None,
        }
    }

    /// Rounds a non-negative duration to whole ticks (`as` saturates, so no UB or panic).
    fn to_ticks(x: f64) -> Time {
        x.round() as Time
    }

    fn draw_interarrival(&mut self) -> Time {
        Self::to_ticks(self.arrivals_rng.sample::<f64, _>(Exp1) * self.mean_interarrival)
    }

    fn draw_service(&mut self) -> Time {
        Self::to_ticks(self.service_rng.sample::<f64, _>(Exp1) * self.mean_service)
    }

    /// Schedules, or records the first engine error and stops the run.
    fn schedule_in(&mut self, ctx: &mut Context<'_, MmcEvent>, delay: Time, event: MmcEvent) {
        if let Err(e) = ctx.schedule_in(delay, event) {
            self.fault.get_or_insert(e);
            ctx.stop();
        }
    }

    /// Starts serving a customer who waited `wait` ticks and needs `service` ticks.
    fn start_service(&mut self, ctx: &mut Context<'_, MmcEvent>, wait: Time, service: Time) {
        // Both are non-negative: waits because time never runs backwards, services by rounding
        // a non-negative draw.
        let (wait_ticks, service_ticks) = (
            u128::from(wait.unsigned_abs()),
            u128::from(service.unsigned_abs()),
        );
        self.sum_wait += wait_ticks;
        self.sum_system += wait_ticks + service_ticks;
        self.sum_service += service_ticks;
        self.schedule_in(ctx, service, MmcEvent::Departure);
    }

    fn result(&self) -> Result<MmcResult, MmcError> {
        if let Some(e) = self.fault {
            return Err(e.into());
        }
        let n = self.served as f64;
        let to_units = |ticks: u128| ticks as f64 / TICKS_PER_FASTEST_MEAN / self.fastest_rate;
        let capacity = self.servers as f64 * self.last_departure as f64;
        Ok(MmcResult {
            mean_wait_in_queue: to_units(self.sum_wait) / n,
            mean_time_in_system: to_units(self.sum_system) / n,
            utilisation: if capacity > 0.0 {
                self.sum_service as f64 / capacity
            } else {
                0.0
            },
            customers: self.served,
        })
    }
}

impl Model for Mmc {
    type Event = MmcEvent;

    fn handle(&mut self, event: MmcEvent, ctx: &mut Context<'_, MmcEvent>) {
        match event {
            MmcEvent::Arrival => {
                self.arrived += 1;
                let service = self.draw_service();
                if self.busy < self.servers {
                    self.busy += 1;
                    self.start_service(ctx, 0, service);
                } else {
                    self.line.push_back(Waiting {
                        arrived: ctx.now(),
                        service,
                    });
                }
                if self.arrived < self.target {
                    let gap = self.draw_interarrival();
                    self.schedule_in(ctx, gap, MmcEvent::Arrival);
                }
            }
            MmcEvent::Departure => {
                self.served += 1;
                self.last_departure = ctx.now();
                // First come, first served: the server takes the head of the line, if any.
                match self.line.pop_front() {
                    Some(next) => self.start_service(ctx, ctx.now() - next.arrived, next.service),
                    None => self.busy -= 1,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, rel: f64) -> bool {
        (actual - expected).abs() <= rel * expected.abs()
    }

    #[test]
    fn mm1_closed_form() {
        // M/M/1: C = ρ, Wq = ρ/(μ − λ). λ = 0.5, μ = 1: Wq = 0.5/0.5 = 1, W = 2.
        let t = mmc_theory(1, 0.5, 1.0).unwrap();
        assert!(close(erlang_c(1, 0.5, 1.0).unwrap(), 0.5, 1e-12));
        assert!(close(t.wq, 1.0, 1e-12) && close(t.w, 2.0, 1e-12) && close(t.rho, 0.5, 1e-12));
    }

    #[test]
    fn mm2_closed_form() {
        // M/M/2 with a = 1 (ρ = 0.5): C = a²/(2!(1−ρ)) / (1 + a + a²/(2!(1−ρ)))
        //   = 1 / (1 + 1 + 1) = 1/3; Wq = C/(cμ − λ) = (1/3)/1 = 1/3.
        assert!(close(erlang_c(2, 1.0, 1.0).unwrap(), 1.0 / 3.0, 1e-12));
        assert!(close(mmc_theory(2, 1.0, 1.0).unwrap().wq, 1.0 / 3.0, 1e-12));
    }

    #[test]
    fn erlang_c_matches_factorial_form_and_stays_finite() {
        // Textbook form: C = (a^c/c!)/(1−ρ) / (Σ_{k<c} a^k/k! + (a^c/c!)/(1−ρ)).
        for (c, a) in [(3_usize, 2.4_f64), (5, 4.0), (10, 9.5)] {
            let rho = a / c as f64;
            let mut term = 1.0; // a^k/k!
            let mut sum = 0.0;
            for k in 0..c {
                sum += term;
                term *= a / (k + 1) as f64;
            }
            let top = term / (1.0 - rho);
            let expected = top / (sum + top);
            assert!(
                close(erlang_c(c, a, 1.0).unwrap(), expected, 1e-12),
                "c={c}"
            );
        }
        // 2000 servers at ρ = 0.99: factorials would overflow; the recursion does not.
        let p = erlang_c(2000, 1980.0, 1.0).unwrap();
        assert!(p.is_finite() && p > 0.0 && p < 1.0, "{p}");
    }

    #[test]
    fn invalid_parameters_are_errors() {
        assert_eq!(erlang_c(0, 0.5, 1.0), Err(MmcError::ZeroServers));
        assert_eq!(
            mmc_theory(1, 1.0, 1.0),
            Err(MmcError::Unstable { rho: 1.0 })
        );
        assert!(matches!(
            erlang_c(1, f64::NAN, 1.0),
            Err(MmcError::BadRate {
                name: "arrival_rate",
                ..
            })
        ));
        assert!(matches!(
            erlang_c(1, 0.5, -1.0),
            Err(MmcError::BadRate {
                name: "service_rate",
                ..
            })
        ));
        let cfg = MmcConfig {
            customers: 0,
            ..MmcConfig::default()
        };
        assert_eq!(simulate(&cfg), Err(MmcError::ZeroCustomers));
        let cfg = MmcConfig {
            arrival_rate: 2.0,
            ..MmcConfig::default()
        };
        let message = simulate(&cfg).unwrap_err().to_string();
        assert!(message.starts_with("unstable queue"), "{message}");
    }

    #[test]
    fn too_long_a_horizon_is_an_error() {
        // μ/λ = 10⁹: one mean inter-arrival time is 10⁶ × 10⁹ = 10¹⁵ ticks, so 10⁴ customers
        // need about 10¹⁹ ticks, more than 2⁶² ≈ 4.6·10¹⁸.
        let cfg = MmcConfig {
            arrival_rate: 1e-9,
            service_rate: 1.0,
            customers: 10_000,
            ..MmcConfig::default()
        };
        let err = simulate(&cfg).unwrap_err();
        assert!(matches!(err, MmcError::HorizonTooLong { .. }), "{err}");
        // Extreme but balanced rates are fine: only ratios matter.
        let cfg = MmcConfig {
            arrival_rate: 0.5e305,
            service_rate: 1e305,
            customers: 1_000,
            ..MmcConfig::default()
        };
        assert!(simulate(&cfg).is_ok());
    }

    #[test]
    fn runs_are_deterministic() {
        let cfg = MmcConfig {
            servers: 2,
            arrival_rate: 1.5,
            service_rate: 1.0,
            customers: 2_000,
            seed: 11,
        };
        let a = simulate(&cfg).unwrap();
        assert_eq!(a, simulate(&cfg).unwrap());
        assert_eq!(a.customers, 2_000);
        let b = simulate(&MmcConfig { seed: 12, ..cfg }).unwrap();
        assert_ne!(a.mean_wait_in_queue, b.mean_wait_in_queue);
    }

    #[test]
    fn scaling_both_rates_scales_time() {
        // The tick is tied to the faster rate, so λ = 4.8, μ = 2 is the λ = 2.4, μ = 1 run with
        // every time halved: same draws, same ticks, results in half the time units.
        let slow = MmcConfig {
            servers: 3,
            arrival_rate: 2.4,
            service_rate: 1.0,
            customers: 5_000,
            seed: 5,
        };
        let fast = MmcConfig {
            arrival_rate: 4.8,
            service_rate: 2.0,
            ..slow
        };
        let (a, b) = (simulate(&slow).unwrap(), simulate(&fast).unwrap());
        assert!(close(
            b.mean_wait_in_queue,
            a.mean_wait_in_queue / 2.0,
            1e-9
        ));
        assert!(close(
            b.mean_time_in_system,
            a.mean_time_in_system / 2.0,
            1e-9
        ));
        assert!(close(b.utilisation, a.utilisation, 1e-9));
    }

    #[test]
    fn time_in_system_is_wait_plus_service() {
        // With few customers and ample servers nobody waits, and W is the mean service time.
        let cfg = MmcConfig {
            servers: 50,
            arrival_rate: 0.01,
            service_rate: 1.0,
            customers: 500,
            seed: 3,
        };
        let r = simulate(&cfg).unwrap();
        // Waits are summed as exact integer ticks, so "nobody waited" is exactly zero.
        assert_eq!(r.mean_wait_in_queue, 0.0);
        assert!(r.mean_time_in_system > 0.5 && r.mean_time_in_system < 1.5);
        assert!(r.utilisation > 0.0 && r.utilisation < 0.01);
    }
}
