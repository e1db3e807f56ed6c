//! Plays Sterman's four-stage beer game with the stock-management ordering rule and prints one
//! JSON line per echelon: peak order, amplification, effective-stock range, crossings, settling.
//!
//! ```text
//! cargo run --release --example beergame                      # Sterman's fitted weights
//! cargo run --release --example beergame -- --beta 1 --alpha 0.5   # full supply-line weight
//! cargo run --release --example beergame -- --series           # also the weekly orders
//! ```
//!
//! Exit codes: 0 on success, 2 on invalid arguments, 1 if the run could not be done.

use std::process::ExitCode;

use capsim::beergame::{BeerGameConfig, BeerGameError, SupplyLineGoal, simulate};
use clap::Parser;
use serde::Serialize;

/// Play the beer game (Sterman 1989) with the stock-management ordering rule.
#[derive(Debug, Parser)]
#[command(version, about, allow_negative_numbers = true)]
struct Args {
    /// Weight β of the supply line relative to the stock [dimensionless]
    #[arg(long, default_value_t = 0.34)]
    beta: f64,
    /// Fraction α_S of the stock gap ordered each week [per week]
    #[arg(long, default_value_t = 0.26)]
    alpha: f64,
    /// Weight θ of the latest incoming order in expected demand [dimensionless]
    #[arg(long, default_value_t = 0.36)]
    theta: f64,
    /// Weeks played [weeks]
    #[arg(long, default_value_t = 36)]
    weeks: u32,
    /// Goal S* for the effective stock [cases] (default: 12.92, which makes Sterman's S' = 17
    /// at β = 0.34)
    #[arg(long)]
    stock_goal: Option<f64>,
    /// Supply-line goal: fixed at the initial demand (Sterman's fit) or scaled with expected
    /// demand
    #[arg(long, value_enum, default_value_t = Goal::Fixed)]
    goal: Goal,
    /// Also print each echelon's weekly orders and effective stock
    #[arg(long)]
    series: bool,
}

/// `--goal` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Goal {
    /// SL* = Ê₀ (L − 1), Sterman's constant S'
    Fixed,
    /// SL* = Ê (L − 1)
    Scaled,
}

/// One JSON line per echelon; fields serialise in this order.
#[derive(Debug, Serialize)]
struct Line<'a> {
    /// Echelon name.
    echelon: &'a str,
    /// Largest weekly order [cases per week].
    peak_order: f64,
    /// Variance of orders over variance of customer demand [dimensionless].
    amplification: Option<f64>,
    /// Lowest effective stock (stock − backlog) [cases].
    min_effective_stock: f64,
    /// Highest effective stock [cases].
    max_effective_stock: f64,
    /// Effective stock once settled at the final demand [cases].
    settled_effective_stock: f64,
    /// Crossings of the settled effective stock by more than 0.5 case [crossings].
    sign_changes: u32,
    /// Largest deviation from the settled effective stock (negative below) [cases].
    excursion: f64,
    /// How far the recovery from `excursion` goes past the settled value [cases].
    overshoot: f64,
    /// First week from which stock and orders stay settled [week].
    settling_week: Option<u32>,
    /// Weekly orders, with `--series` [cases per week].
    #[serde(skip_serializing_if = "Option::is_none")]
    orders: Option<&'a [f64]>,
    /// Weekly effective stock, with `--series` [cases].
    #[serde(skip_serializing_if = "Option::is_none")]
    effective_stock: Option<Vec<f64>>,
}

/// Exit code for invalid arguments, matching clap's own usage errors.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let args = Args::parse();
    let base = BeerGameConfig::sterman_1989();
    let cfg = BeerGameConfig {
        weeks: args.weeks,
        theta: args.theta,
        alpha_stock: args.alpha,
        beta: args.beta,
        stock_goal: args.stock_goal.unwrap_or(base.stock_goal),
        goal: match args.goal {
            Goal::Fixed => SupplyLineGoal::Fixed,
            Goal::Scaled => SupplyLineGoal::Scaled,
        },
        ..base
    };
    let run = match simulate(&cfg) {
        Ok(run) => run,
        Err(e @ BeerGameError::Engine(_)) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    for m in run.metrics() {
        let line = Line {
            echelon: m.echelon.name(),
            peak_order: m.peak_order,
            amplification: m.amplification,
            min_effective_stock: m.min_effective_stock,
            max_effective_stock: m.max_effective_stock,
            settled_effective_stock: m.settled_effective_stock,
            sign_changes: m.sign_changes,
            excursion: m.excursion,
            overshoot: m.overshoot,
            settling_week: m.settling_week,
            orders: args
                .series
                .then_some(run.echelons[m.echelon as usize].orders.as_slice()),
            effective_stock: args
                .series
                .then(|| run.echelons[m.echelon as usize].effective_stock()),
        };
        match serde_json::to_string(&line) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: cannot serialise the report: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
