//! Sterman's four-stage beer game on the [`engine`](crate::engine), ordered by the
//! stock-management rule of [`model::ordering`](crate::model::ordering), to check that the rule
//! every buyer uses reproduces the published bullwhip when run alone (Sterman, "Modeling
//! Managerial Behavior", *Management Science* 35(3), March 1989). The game, the mapping of
//! Sterman's fitted rule onto [`StockRule`] and the supply-line goals: docs/beergame.md.
//!
//! ```
//! use capsim::beergame::{BeerGameConfig, Echelon, simulate};
//!
//! let run = simulate(&BeerGameConfig::sterman_1989())?;
//! let m = run.metrics();
//! // The bullwhip: the factory's orders peak far above the retailer's.
//! assert!(m[Echelon::Factory as usize].peak_order > 2.0 * m[Echelon::Retailer as usize].peak_order);
//! # Ok::<(), capsim::beergame::BeerGameError>(())
//! ```

use crate::engine::{Context, EngineError, Model, Simulation, Time};
use crate::model::ordering::{StockRule, smooth};

/// Number of echelons in the game.
pub const ECHELONS: usize = 4;

/// Sterman's fitted desired total stock `S' = S* + β SL*` (1989, Table 2 average) \[cases\].
pub const STERMAN_DESIRED_TOTAL: f64 = 17.0;

/// An echelon of the supply chain, numbered from the customer upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Echelon {
    /// Serves the customers; orders from the wholesaler.
    Retailer = 0,
    /// Serves the retailer; orders from the distributor.
    Wholesaler = 1,
    /// Serves the wholesaler; orders from the factory.
    Distributor = 2,
    /// Serves the distributor; starts production.
    Factory = 3,
}

impl Echelon {
    /// All echelons from the customer upstream.
    pub const ALL: [Echelon; ECHELONS] = [
        Echelon::Retailer,
        Echelon::Wholesaler,
        Echelon::Distributor,
        Echelon::Factory,
    ];

    /// Lower-case name, as printed by `examples/beergame.rs`.
    pub fn name(self) -> &'static str {
        match self {
            Echelon::Retailer => "retailer",
            Echelon::Wholesaler => "wholesaler",
            Echelon::Distributor => "distributor",
            Echelon::Factory => "factory",
        }
    }
}

/// Errors from an invalid game set-up.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum BeerGameError {
    /// A parameter outside its range.
    #[error("{name} must be {range}, got {value}")]
    OutOfRange {
        /// Which field of [`BeerGameConfig`].
        name: &'static str,
        /// The range it must lie in, in words.
        range: &'static str,
        /// The value given.
        value: f64,
    },
    /// The engine refused an event (only possible if a week overflows `i64`).
    #[error("simulation failed: {0}")]
    Engine(#[from] EngineError),
}

/// Set-up and decision weights of one game. Times in weeks, quantities in cases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeerGameConfig {
    /// Weeks played \[weeks\]; the game stops after week `weeks`.
    pub weeks: u32,
    /// Weight θ of this week's incoming order in the expected demand, `Ê ← Ê + θ (in − Ê)`
    /// \[dimensionless, 0 < θ ≤ 1\].
    pub theta: f64,
    /// Fraction α_S of the stock gap ordered each week, `1/τ_S` \[per week\].
    pub alpha_stock: f64,
    /// Weight β of the supply line relative to the stock, `τ_S/τ_SL` \[dimensionless, ≥ 0\].
    pub beta: f64,
    /// Goal `S*` for the effective stock (stock − backlog) \[cases\].
    pub stock_goal: f64,
    /// Weeks an order spends in the mail to the supplier \[weeks, ≥ 1\].
    pub order_delay: u32,
    /// Weeks a shipment spends in transit to the customer echelon \[weeks, ≥ 1\].
    pub shipping_delay: u32,
    /// Weeks from the factory's production start to finished cases \[weeks, ≥ 1\].
    pub production_delay: u32,
    /// Customer demand, and every initial flow, before the step [cases per week].
    pub demand_before: f64,
    /// Customer demand from `step_week` on [cases per week].
    pub demand_after: f64,
    /// First week of the higher demand \[week number, from 1\].
    pub step_week: u32,
    /// Stock of every echelon at the start \[cases\].
    pub initial_stock: f64,
    /// Whether the supply-line goal follows expected demand.
    pub goal: SupplyLineGoal,
}

/// How the supply-line goal `SL*` moves with expected demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SupplyLineGoal {
    /// `SL* = Ê₀ (L − 1)` at the initial expected demand `Ê₀`, for good: Sterman's fitted
    /// form, whose `S' = S* + β SL*` is a constant.
    #[default]
    Fixed,
    /// `SL* = Ê (L − 1)`, following expected demand (*Business Dynamics*, ch. 17).
    Scaled,
}

impl Default for BeerGameConfig {
    /// [`BeerGameConfig::sterman_1989`].
    fn default() -> Self {
        Self::sterman_1989()
    }
}

impl BeerGameConfig {
    /// Sterman's 1989 set-up and his average fitted weights: 36 weeks, demand 4 stepping to 8
    /// in week 5, 2-week delays, stock 12; θ = 0.36, α_S = 0.26, β = 0.34, and the stock goal
    /// that makes `S' = 17`: `S* = 17 − 0.34 × 4 × (2 + 2 − 1) = 12.92` cases.
    pub fn sterman_1989() -> Self {
        let mut cfg = BeerGameConfig {
            weeks: 36,
            theta: 0.36,
            alpha_stock: 0.26,
            beta: 0.34,
            stock_goal: 0.0,
            order_delay: 2,
            shipping_delay: 2,
            production_delay: 2,
            demand_before: 4.0,
            demand_after: 8.0,
            step_week: 5,
            initial_stock: 12.0,
            goal: SupplyLineGoal::Fixed,
        };
        cfg.stock_goal = cfg.stock_goal_for(STERMAN_DESIRED_TOTAL);
        cfg
    }

    /// Lead time `L` from placing an order to receiving it \[weeks\]: order + shipping delay,
    /// or the production delay for the factory.
    pub fn lead_time(&self, echelon: Echelon) -> u32 {
        match echelon {
            Echelon::Factory => self.production_delay,
            _ => self.order_delay + self.shipping_delay,
        }
    }

    /// Supply-line goal `SL*` for expected demand `expected` [cases per week] \[cases\]:
    /// `Ê₀ (L − 1)` or `Ê (L − 1)`, as [`goal`](Self::goal) says.
    pub fn supply_line_goal(&self, echelon: Echelon, expected: f64) -> f64 {
        let rate = match self.goal {
            SupplyLineGoal::Fixed => self.demand_before,
            SupplyLineGoal::Scaled => expected,
        };
        rate * f64::from(self.lead_time(echelon) - 1)
    }

    /// Effective stock at which `echelon` orders exactly `demand` [cases per week] when its
    /// expectation, supply line and orders have all settled at `demand` \[cases\]:
    /// `S* + β (SL*(demand) − demand (L − 1))`, which is `S*` with a
    /// [`Scaled`](SupplyLineGoal::Scaled) goal and `S* − β (demand − Ê₀)(L − 1)` with a
    /// [`Fixed`](SupplyLineGoal::Fixed) one.
    pub fn equilibrium_effective_stock(&self, echelon: Echelon, demand: f64) -> f64 {
        let line = demand * f64::from(self.lead_time(echelon) - 1);
        self.stock_goal + self.beta * (self.supply_line_goal(echelon, demand) - line)
    }

    /// Sterman's desired total `S' = S* + β SL*` of a distribution echelon at the initial
    /// expected demand \[cases\].
    pub fn desired_total(&self) -> f64 {
        self.stock_goal + self.beta * self.supply_line_goal(Echelon::Retailer, self.demand_before)
    }

    /// The stock goal `S*` for which [`desired_total`](Self::desired_total) is `desired_total`
    /// \[cases\].
    pub fn stock_goal_for(&self, desired_total: f64) -> f64 {
        desired_total - self.beta * self.supply_line_goal(Echelon::Retailer, self.demand_before)
    }

    /// The ordering rule with `τ_S = 1/α_S` and `τ_SL = τ_S/β`.
    pub fn rule(&self) -> StockRule {
        StockRule::with_supply_line_weight(1.0 / self.alpha_stock, self.beta)
    }

    /// Customer demand in `week` (from 1) [cases per week].
    pub fn demand(&self, week: u32) -> f64 {
        if week >= self.step_week {
            self.demand_after
        } else {
            self.demand_before
        }
    }

    fn check(&self) -> Result<(), BeerGameError> {
        let bad = |name, range, value: f64| Err(BeerGameError::OutOfRange { name, range, value });
        let finite_nonneg = |v: f64| v.is_finite() && v >= 0.0;
        if self.weeks == 0 {
            return bad("weeks", "at least 1", 0.0);
        }
        if !(self.theta > 0.0 && self.theta <= 1.0) {
            return bad("theta", "in (0, 1]", self.theta);
        }
        if !(self.alpha_stock.is_finite() && self.alpha_stock > 0.0) {
            return bad("alpha_stock", "positive and finite", self.alpha_stock);
        }
        if !finite_nonneg(self.beta) {
            return bad("beta", "non-negative and finite", self.beta);
        }
        if !self.stock_goal.is_finite() {
            return bad("stock_goal", "finite", self.stock_goal);
        }
        for (name, d) in [
            ("order_delay", self.order_delay),
            ("shipping_delay", self.shipping_delay),
            ("production_delay", self.production_delay),
        ] {
            if d == 0 {
                return bad(name, "at least 1 week", 0.0);
            }
        }
        for (name, v) in [
            ("demand_before", self.demand_before),
            ("demand_after", self.demand_after),
            ("initial_stock", self.initial_stock),
        ] {
            if !finite_nonneg(v) {
                return bad(name, "non-negative and finite", v);
            }
        }
        Ok(())
    }
}

/// Weekly series of one echelon; element `k` is week `k + 1`, taken after its decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EchelonSeries {
    /// Order placed [cases per week].
    pub orders: Vec<f64>,
    /// Cases in stock \[cases\].
    pub stock: Vec<f64>,
    /// Orders received and not yet shipped \[cases\].
    pub backlog: Vec<f64>,
    /// Supply line: ordered and not yet received, including this week's order \[cases\].
    pub supply_line: Vec<f64>,
    /// Expected demand `Ê` [cases per week].
    pub expected: Vec<f64>,
    /// Incoming order (customer demand for the retailer) [cases per week].
    pub incoming: Vec<f64>,
    /// Cases shipped downstream (to customers for the retailer) [cases per week].
    pub shipped: Vec<f64>,
}

impl EchelonSeries {
    /// Effective stock `S` = stock − backlog, per week \[cases\].
    pub fn effective_stock(&self) -> Vec<f64> {
        self.stock
            .iter()
            .zip(&self.backlog)
            .map(|(s, b)| s - b)
            .collect()
    }
}

/// The outcome of one game.
#[derive(Debug, Clone, PartialEq)]
pub struct BeerGameResult {
    /// The set-up played.
    pub config: BeerGameConfig,
    /// Customer demand per week [cases per week].
    pub demand: Vec<f64>,
    /// Series per echelon, indexed by [`Echelon`] as `usize`.
    pub echelons: [EchelonSeries; ECHELONS],
}

/// Summary of one echelon's run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EchelonMetrics {
    /// Which echelon.
    pub echelon: Echelon,
    /// Largest weekly order [cases per week].
    pub peak_order: f64,
    /// Variance of weekly orders over the game [cases² per week²].
    pub order_variance: f64,
    /// Variance of orders over variance of customer demand, both over the game; `None` if
    /// demand did not vary \[dimensionless\].
    pub amplification: Option<f64>,
    /// Lowest effective stock \[cases\].
    pub min_effective_stock: f64,
    /// Highest effective stock \[cases\].
    pub max_effective_stock: f64,
    /// Effective stock at which the echelon settles once everything runs at the final
    /// customer demand ([`BeerGameConfig::equilibrium_effective_stock`]): its final value
    /// when the game has settled, computed rather than read off the last week so that it is
    /// meaningful for a game still swinging when it ends \[cases\].
    pub settled_effective_stock: f64,
    /// Times the effective stock crossed from more than [`BAND_CASES`] above
    /// `settled_effective_stock` to more than [`BAND_CASES`] below it, or back \[crossings\].
    pub sign_changes: u32,
    /// Extreme deviation of the effective stock from `settled_effective_stock` in its first
    /// swing: the first run of weeks more than [`BAND_CASES`] away on the side opposite to the
    /// start (either side if the start is within the band; a fall from the start through a
    /// lower settled value is forced by the demand step, not overshoot); negative below, 0 if
    /// there is no such swing \[cases\].
    pub excursion: f64,
    /// How far the effective stock goes past `settled_effective_stock` on its way back from
    /// the first swing: the largest deviation on the other side after that swing began
    /// \[cases, ≥ 0\]. 0 for a monotone recovery.
    pub overshoot: f64,
    /// First week from which the effective stock stays within [`BAND_CASES`] of
    /// `settled_effective_stock` and the order within [`BAND_CASES`] of the final demand to the
    /// end; `None` if it never does \[week number\].
    pub settling_week: Option<u32>,
}

/// Half-width of the band around a goal inside which a deviation counts as none, for
/// [`EchelonMetrics::sign_changes`] and [`EchelonMetrics::settling_week`] \[cases\].
pub const BAND_CASES: f64 = 0.5;

impl BeerGameResult {
    /// Population variance of a series \[unit²\].
    pub fn variance(xs: &[f64]) -> f64 {
        if xs.is_empty() {
            return 0.0;
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n
    }

    /// The metrics of every echelon, retailer first.
    pub fn metrics(&self) -> [EchelonMetrics; ECHELONS] {
        let demand_variance = Self::variance(&self.demand);
        let final_demand = self.demand.last().copied().unwrap_or(0.0);
        Echelon::ALL.map(|echelon| {
            let s = &self.echelons[echelon as usize];
            let effective = s.effective_stock();
            let order_variance = Self::variance(&s.orders);
            let goal = self
                .config
                .equilibrium_effective_stock(echelon, final_demand);
            // Signs of the deviations from the settled value, ignoring those inside the band.
            let deviations: Vec<f64> = effective.iter().map(|e| e - goal).collect();
            let mut sign_changes = 0;
            let mut last_sign = 0.0;
            for &dev in &deviations {
                if dev.abs() > BAND_CASES {
                    let sign = dev.signum();
                    if last_sign != 0.0 && sign != last_sign {
                        sign_changes += 1;
                    }
                    last_sign = sign;
                }
            }
            let (excursion, overshoot) = first_swing(&deviations);
            let settled = |k: usize| {
                (effective[k] - goal).abs() <= BAND_CASES
                    && (s.orders[k] - final_demand).abs() <= BAND_CASES
            };
            let mut settling_week = None;
            for k in (0..effective.len()).rev() {
                if !settled(k) {
                    break;
                }
                settling_week = Some(k as u32 + 1);
            }
            EchelonMetrics {
                echelon,
                peak_order: s.orders.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                order_variance,
                amplification: (demand_variance > 0.0).then(|| order_variance / demand_variance),
                min_effective_stock: effective.iter().copied().fold(f64::INFINITY, f64::min),
                max_effective_stock: effective.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                settled_effective_stock: goal,
                sign_changes,
                excursion,
                overshoot,
                settling_week,
            }
        })
    }
}

/// The first swing of `deviations` and the overshoot after it, as
/// [`EchelonMetrics::excursion`] and [`EchelonMetrics::overshoot`] define them \[cases\].
fn first_swing(deviations: &[f64]) -> (f64, f64) {
    let start_sign = match deviations.first() {
        Some(d) if d.abs() > BAND_CASES => d.signum(),
        _ => 0.0,
    };
    let Some(begin) = deviations
        .iter()
        .position(|d| d.abs() > BAND_CASES && d.signum() != start_sign)
    else {
        return (0.0, 0.0);
    };
    let sign = deviations[begin].signum();
    let excursion = deviations[begin..]
        .iter()
        .take_while(|d| d.signum() == sign)
        .fold(0.0_f64, |m, &d| if d.abs() > m.abs() { d } else { m });
    let overshoot = deviations[begin..]
        .iter()
        .map(|d| (-d * sign).max(0.0))
        .fold(0.0, f64::max);
    (excursion, overshoot)
}

/// Plays one game.
///
/// Deterministic: no randomness, the same `cfg` gives the same result everywhere.
///
/// # Errors
/// [`BeerGameError::OutOfRange`] naming the first invalid field of `cfg`, or
/// [`BeerGameError::Engine`] if a week overflows the engine's clock (not possible with `u32`
/// weeks and delays, but reported rather than assumed).
pub fn simulate(cfg: &BeerGameConfig) -> Result<BeerGameResult, BeerGameError> {
    cfg.check()?;
    let game = Game::new(cfg);
    let mut sim = Simulation::new(game, 0);
    // The initial pipelines: `d` full slots of a `d`-week delay arrive in weeks 1..=d.
    let flow = cfg.demand_before;
    for echelon in Echelon::ALL {
        let to = echelon as usize;
        let (ship_delay, order_delay) = match echelon {
            Echelon::Factory => (cfg.production_delay, None),
            _ => (cfg.shipping_delay, Some(cfg.order_delay)),
        };
        for week in 1..=ship_delay {
            sim.schedule(Time::from(week), Event::Shipment { to, cases: flow })?;
        }
        // This echelon's own orders in the mail to its supplier.
        for week in 1..=order_delay.unwrap_or(0) {
            sim.schedule(
                Time::from(week),
                Event::Order {
                    to: to + 1,
                    cases: flow,
                },
            )?;
        }
    }
    // Scheduled after the pipelines, so week 1's arrivals come first (FIFO on equal times).
    sim.schedule(1, Event::Week)?;
    sim.run();
    let game = sim.into_model();
    match game.fault {
        Some(e) => Err(e.into()),
        None => Ok(game.result),
    }
}

/// Events of the game. Arrivals due in a week always run before that week's [`Event::Week`]:
/// an arrival due in week `t` was scheduled in week `t − d` with `d ≥ 1`, before that week's
/// handler scheduled the next `Week` (and the engine breaks ties first-in first-out), so by
/// induction it precedes `Week(t)`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    /// Cases arrive in the stock of echelon `to` (from its supplier, or from production).
    Shipment {
        /// Receiving echelon index.
        to: usize,
        /// Cases delivered \[cases\].
        cases: f64,
    },
    /// An order arrives at echelon `to` from the echelon below it.
    Order {
        /// Supplying echelon index.
        to: usize,
        /// Cases ordered \[cases\].
        cases: f64,
    },
    /// Every echelon ships and orders.
    Week,
}

/// State of one echelon between events.
#[derive(Debug, Clone, Copy)]
struct State {
    stock: f64,
    backlog: f64,
    /// Ordered and not yet received \[cases\].
    supply_line: f64,
    /// Expected demand `Ê` [cases per week].
    expected: f64,
    /// Orders arrived this week, not yet processed \[cases\].
    arrived_orders: f64,
}

#[derive(Debug)]
struct Game {
    cfg: BeerGameConfig,
    rule: StockRule,
    states: [State; ECHELONS],
    result: BeerGameResult,
    fault: Option<EngineError>,
}

impl Game {
    fn new(cfg: &BeerGameConfig) -> Self {
        let flow = cfg.demand_before;
        let states = Echelon::ALL.map(|e| State {
            stock: cfg.initial_stock,
            backlog: 0.0,
            // Every slot of the order and shipping (or production) delays holds one week's flow.
            supply_line: flow * f64::from(cfg.lead_time(e)),
            expected: flow,
            arrived_orders: 0.0,
        });
        let weeks = cfg.weeks as usize;
        let series = || EchelonSeries {
            orders: Vec::with_capacity(weeks),
            stock: Vec::with_capacity(weeks),
            backlog: Vec::with_capacity(weeks),
            supply_line: Vec::with_capacity(weeks),
            expected: Vec::with_capacity(weeks),
            incoming: Vec::with_capacity(weeks),
            shipped: Vec::with_capacity(weeks),
        };
        Game {
            cfg: *cfg,
            rule: cfg.rule(),
            states,
            result: BeerGameResult {
                config: *cfg,
                demand: Vec::with_capacity(weeks),
                echelons: [series(), series(), series(), series()],
            },
            fault: None,
        }
    }

    /// One week's shipping and ordering, retailer first. Returns the first scheduling error.
    fn week(&mut self, ctx: &mut Context<'_, Event>) -> Result<(), EngineError> {
        let cfg = self.cfg;
        let week = u32::try_from(ctx.now()).expect("weeks run from 1 to cfg.weeks, a u32");
        let demand = cfg.demand(week);
        self.result.demand.push(demand);
        for echelon in Echelon::ALL {
            let i = echelon as usize;
            let st = &mut self.states[i];
            let incoming = match echelon {
                Echelon::Retailer => demand,
                _ => std::mem::take(&mut st.arrived_orders),
            };
            // Ship the backlog and this week's order, as far as stock allows.
            let wanted = st.backlog + incoming;
            let shipped = wanted.min(st.stock);
            st.stock -= shipped;
            st.backlog = wanted - shipped;
            if i > 0 && shipped > 0.0 {
                ctx.schedule_in(
                    Time::from(cfg.shipping_delay),
                    Event::Shipment {
                        to: i - 1,
                        cases: shipped,
                    },
                )?;
            }
            // Decide.
            st.expected = smooth(st.expected, incoming, 1.0, 1.0 / cfg.theta);
            let order = self.rule.order_rate(
                st.expected,
                cfg.stock_goal,
                st.stock - st.backlog,
                cfg.supply_line_goal(echelon, st.expected),
                st.supply_line,
            );
            st.supply_line += order;
            if order > 0.0 {
                let (delay, event) = match echelon {
                    // Production starts at once and lands in the factory's own stock.
                    Echelon::Factory => (
                        cfg.production_delay,
                        Event::Shipment {
                            to: i,
                            cases: order,
                        },
                    ),
                    _ => (
                        cfg.order_delay,
                        Event::Order {
                            to: i + 1,
                            cases: order,
                        },
                    ),
                };
                ctx.schedule_in(Time::from(delay), event)?;
            }
            let s = &mut self.result.echelons[i];
            s.orders.push(order);
            s.stock.push(st.stock);
            s.backlog.push(st.backlog);
            s.supply_line.push(st.supply_line);
            s.expected.push(st.expected);
            s.incoming.push(incoming);
            s.shipped.push(shipped);
        }
        if week < cfg.weeks {
            // Last, so that this week's arrivals scheduled above precede it (see `Event`).
            ctx.schedule_in(1, Event::Week)?;
        } else {
            ctx.stop();
        }
        Ok(())
    }
}

impl Model for Game {
    type Event = Event;

    fn handle(&mut self, event: Event, ctx: &mut Context<'_, Event>) {
        match event {
            Event::Shipment { to, cases } => {
                let st = &mut self.states[to];
                st.stock += cases;
                st.supply_line -= cases;
            }
            Event::Order { to, cases } => self.states[to].arrived_orders += cases,
            Event::Week => {
                if let Err(e) = self.week(ctx) {
                    self.fault = Some(e);
                    ctx.stop();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sterman_mapping() {
        let cfg = BeerGameConfig::sterman_1989();
        // S* = 17 − 0.34 × 4 × 3 = 12.92; S' back from it is 17.
        assert!((cfg.stock_goal - 12.92).abs() < 1e-12);
        assert!((cfg.desired_total() - 17.0).abs() < 1e-12);
        // τ_S = 1/0.26 = 3.846 weeks; β = τ_S/τ_SL = 0.34.
        let rule = cfg.rule();
        assert!((rule.stock_adjust - 1.0 / 0.26).abs() < 1e-12);
        assert!((rule.supply_line_weight() - 0.34).abs() < 1e-12);
        // Fixed goal: SL* = Ê₀ (L − 1) = 4 × 3 = 12 whatever Ê; factory L = 2: 4 × 1 = 4.
        assert_eq!(cfg.supply_line_goal(Echelon::Wholesaler, 8.0), 12.0);
        assert_eq!(cfg.supply_line_goal(Echelon::Factory, 8.0), 4.0);
        // Settled at 8 a week: S = 12.92 + 0.34 × (12 − 8 × 3) = 8.84.
        let s = cfg.equilibrium_effective_stock(Echelon::Retailer, 8.0);
        assert!((s - 8.84).abs() < 1e-12, "{s}");
        // Scaled goal: SL* = 8 × 3 = 24, and the settled stock is S* at any demand.
        let scaled = BeerGameConfig {
            goal: SupplyLineGoal::Scaled,
            ..cfg
        };
        assert_eq!(scaled.supply_line_goal(Echelon::Wholesaler, 8.0), 24.0);
        assert_eq!(scaled.supply_line_goal(Echelon::Factory, 8.0), 8.0);
        let s = scaled.equilibrium_effective_stock(Echelon::Distributor, 8.0);
        assert!((s - 12.92).abs() < 1e-12, "{s}");
    }

    #[test]
    fn invalid_set_ups_are_errors() {
        let base = BeerGameConfig::sterman_1989();
        for (cfg, field) in [
            (BeerGameConfig { theta: 0.0, ..base }, "theta"),
            (BeerGameConfig { theta: 1.5, ..base }, "theta"),
            (
                BeerGameConfig {
                    alpha_stock: 0.0,
                    ..base
                },
                "alpha_stock",
            ),
            (BeerGameConfig { beta: -0.1, ..base }, "beta"),
            (
                BeerGameConfig {
                    order_delay: 0,
                    ..base
                },
                "order_delay",
            ),
            (BeerGameConfig { weeks: 0, ..base }, "weeks"),
            (
                BeerGameConfig {
                    demand_after: f64::NAN,
                    ..base
                },
                "demand_after",
            ),
        ] {
            match simulate(&cfg) {
                Err(BeerGameError::OutOfRange { name, .. }) => assert_eq!(name, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn cases_are_conserved() {
        // Cases are neither made nor lost on the way: at the end of the game,
        // stocks + in transit + in production = initial cases + production started − cases
        // shipped to customers. Initially 4 × 12 in stock + 3 × 2 × 4 in transit + 2 × 4 in
        // production = 80 cases.
        let cfg = BeerGameConfig::sterman_1989();
        let run = simulate(&cfg).unwrap();
        let n = cfg.weeks as usize;
        let last_two = |xs: &[f64]| xs[n - 2..].iter().sum::<f64>();
        let stocks: f64 = run.echelons.iter().map(|e| e.stock[n - 1]).sum();
        let in_transit: f64 = run.echelons[1..].iter().map(|e| last_two(&e.shipped)).sum();
        let in_production = last_two(&run.echelons[3].orders);
        let started: f64 = run.echelons[3].orders.iter().sum();
        let to_customers: f64 = run.echelons[0].shipped.iter().sum();
        let total = stocks + in_transit + in_production;
        assert!(
            (total - (80.0 + started - to_customers)).abs() < 1e-9,
            "{total}"
        );
    }
}
