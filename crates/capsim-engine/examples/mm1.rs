//! Simulates an M/M/c queue and prints one JSON line comparing it with Erlang C.
//!
//! ```text
//! cargo run --release --example mm1 -- --servers 3 --arrival-rate 2.4 --customers 1000000
//! ```
//!
//! Exit codes: 0 on success, 2 on invalid arguments (including an unstable queue), 1 if the
//! simulated time would overflow (only with extreme rate ratios or customer counts).

use std::process::ExitCode;
use std::time::Instant;

use capsim_engine::queueing::{MmcConfig, MmcError, mmc_theory, simulate};
use clap::Parser;
use serde::Serialize;

/// Simulate an M/M/c queue and compare it with the Erlang C closed form.
#[derive(Debug, Parser)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Number of servers c [servers]
    #[arg(long, default_value_t = 1)]
    servers: usize,
    /// Poisson arrival rate λ [customers per unit time]
    #[arg(long, default_value_t = 0.9)]
    arrival_rate: f64,
    /// Service rate μ of one server [customers per unit time]
    #[arg(long, default_value_t = 1.0)]
    service_rate: f64,
    /// Customers to simulate, starting from an empty queue [customers]
    #[arg(long, default_value_t = 1_000_000)]
    customers: u64,
    /// Seed of the random streams
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The JSON line printed on success; fields serialise in this order.
#[derive(Debug, Serialize)]
struct Report {
    /// Number of servers [servers].
    servers: usize,
    /// Arrival rate [customers per unit time].
    arrival_rate: f64,
    /// Service rate per server [customers per unit time].
    service_rate: f64,
    /// Customers served [customers].
    customers: u64,
    /// Simulated mean wait in queue [time units].
    mean_wait_in_queue: f64,
    /// Simulated mean time in system [time units].
    mean_time_in_system: f64,
    /// Simulated server utilisation [dimensionless].
    utilisation: f64,
    /// Erlang C mean wait in queue [time units].
    theory_wait_in_queue: f64,
    /// Erlang C mean time in system [time units].
    theory_time_in_system: f64,
    /// Wall-clock time of the simulation alone [s].
    wall_seconds: f64,
    /// Simulation speed [customers per wall-clock second].
    customers_per_second: f64,
}

/// Exit code for invalid arguments, matching clap's own usage errors.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = MmcConfig {
        servers: args.servers,
        arrival_rate: args.arrival_rate,
        service_rate: args.service_rate,
        customers: args.customers,
        seed: args.seed,
    };
    // Validate through the closed form first: it checks the same parameters as `simulate`.
    let theory = match mmc_theory(cfg.servers, cfg.arrival_rate, cfg.service_rate) {
        Ok(theory) => theory,
        Err(e) => return usage_error(&e),
    };
    let started = Instant::now();
    let result = match simulate(&cfg) {
        Ok(result) => result,
        // Simulated time overflowed: the arguments were valid, the run could not be done.
        Err(e @ MmcError::Engine(_)) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => return usage_error(&e),
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    let report = Report {
        servers: cfg.servers,
        arrival_rate: cfg.arrival_rate,
        service_rate: cfg.service_rate,
        customers: result.customers,
        mean_wait_in_queue: result.mean_wait_in_queue,
        mean_time_in_system: result.mean_time_in_system,
        utilisation: result.utilisation,
        theory_wait_in_queue: theory.wq,
        theory_time_in_system: theory.w,
        wall_seconds,
        customers_per_second: result.customers as f64 / wall_seconds,
    };
    match serde_json::to_string(&report) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot serialise the report: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(e: &dyn std::error::Error) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_USAGE)
}
