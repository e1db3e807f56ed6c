//! The resolved scenario: typed, defaults applied, names turned into indices, dates into ticks.
//!
//! This is what the model runs on: plain data and pure methods (a timeline's value, a
//! distribution's draw), no serde and no YAML. The loader (`raw`, `yaml`, `dist`, `timeline`,
//! `resolve`) builds it. One tick is one day; tick 0 is the scenario's `start`.

mod distribution;
mod timeline;

pub use distribution::{Distribution, Quantity};
pub use timeline::{Interpolation, Timeline};

use crate::engine::Time;
use crate::engine::calendar::Calendar;

/// A resolved scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Scenario name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Maps ticks to dates; tick 0 is the start.
    pub calendar: Calendar,
    /// Number of simulated days (start and end inclusive) \[days\].
    pub days: Time,
    /// Seed of the random streams.
    pub seed: u64,
    /// Packaging lines.
    pub lines: Vec<Line>,
    /// HBM supply [stacks per month]; `None` means unlimited.
    pub hbm_stacks_per_month: Option<Timeline>,
    /// Logic processes.
    pub logic: Vec<Logic>,
    /// Products.
    pub products: Vec<Product>,
    /// Vendors.
    pub vendors: Vec<Vendor>,
    /// Buyers.
    pub buyers: Vec<Buyer>,
    /// Index of the focal operator in `buyers`, if any.
    pub operator: Option<usize>,
    /// Sites.
    pub sites: Vec<Site>,
    /// User segments of the operator.
    pub segments: Vec<Segment>,
    /// Launch events.
    pub launches: Vec<Launch>,
    /// Export rules.
    pub export_rules: Vec<ExportRule>,
    /// Training reservations.
    pub reservations: Vec<Reservation>,
    /// Electricity price [USD per MWh].
    pub power_price_usd_per_mwh: Timeline,
    /// Assertions on the outcome, for `capsim check`.
    pub expect: Vec<Expect>,
    /// Delay of each dated HBM supply increase \[days\].
    pub hbm_expansion_slip_days: Option<Quantity>,
    /// Whether production pipelines start full (stock-management market only).
    pub warm_start: bool,
    /// Share of planned capacity the warm-started pipelines hold \[share\].
    pub warm_start_utilisation: f64,
    /// Which market runs.
    pub market: Market,
}

/// Which market model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    /// capsim 0.1's market.
    Legacy,
    /// Stock-management ordering, planned production, available-to-promise quotes.
    StockManagement,
}

impl Scenario {
    /// True when the model draws random numbers, so that replications of this scenario differ:
    /// unit failures (a product with `annual_failure_rate` > 0), demand or yield noise with
    /// `sd` > 0, outages with `rate_per_year` > 0, or an `expansion_slip_days` that is a
    /// distribution (a fixed slip is the same in every replication).
    pub fn draws_random_numbers(&self) -> bool {
        let slip = |q: &Option<Quantity>| q.as_ref().is_some_and(Quantity::is_random);
        let outages = |o: &Option<Outages>| o.as_ref().is_some_and(|o| o.rate_per_year > 0.0);
        let noise = |n: &Option<Noise>| n.as_ref().is_some_and(|n| n.sd > 0.0);
        self.products
            .iter()
            .any(|p| p.failure_rate_per_day > 0.0 || noise(&p.yield_noise))
            || self.segments.iter().any(|g| noise(&g.demand_noise))
            || self
                .lines
                .iter()
                .any(|l| outages(&l.outages) || slip(&l.expansion_slip_days))
            || self
                .logic
                .iter()
                .any(|l| outages(&l.outages) || slip(&l.expansion_slip_days))
            || self.sites.iter().any(|k| slip(&k.expansion_slip_days))
            || slip(&self.hbm_expansion_slip_days)
    }
}

/// Multiplicative noise around a quantity: see `docs/model.md`, "Randomness".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    /// Standard deviation of the mean-one factor \[1\].
    pub sd: f64,
    /// Correlation time \[days\]; 0 is independent from day to day.
    pub correlation_days: f64,
}

/// Random outages: a Poisson process of events, each removing a share of capacity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outages {
    /// Mean events per year [1/year].
    pub rate_per_year: f64,
    /// Length of each \[days\], drawn per event.
    pub duration_days: Quantity,
    /// Share of capacity lost while it lasts [0..1].
    pub capacity_lost: f64,
}

/// What an assertion is about.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectTarget {
    /// A summary key, dotted into maps.
    Metric(String),
    /// Events of a kind (and subject, if given).
    Event {
        /// Event kind.
        kind: String,
        /// Subject, if it must match.
        subject: Option<String>,
    },
}

/// What an assertion requires.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectTest {
    /// Number `<` bound.
    Below(f64),
    /// Number `>` bound.
    Above(f64),
    /// Number `<=` bound.
    AtMost(f64),
    /// Number `>=` bound.
    AtLeast(f64),
    /// `lo <= number <= hi`.
    Between(f64, f64),
    /// A date within a window (bounds inclusive; `None` is open).
    DateIn(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
    /// The key is null.
    Never,
    /// A matching event happens (or not) within a window.
    Happens {
        /// Whether it must happen.
        happens: bool,
        /// First day of the window.
        from: Option<chrono::NaiveDate>,
        /// Last day of the window.
        to: Option<chrono::NaiveDate>,
    },
}

/// One assertion of a scenario's `expect:` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// What it is about.
    pub target: ExpectTarget,
    /// What it requires.
    pub test: ExpectTest,
    /// Why, in words.
    pub because: Option<String>,
}

/// How a line's wafers are split.
#[derive(Debug, Clone, PartialEq)]
pub enum Split {
    /// By `line_share`, renormalised among available products.
    Shares,
    /// In this order of product indices, each taking what it can use.
    Priority(Vec<usize>),
}

/// A packaging line.
#[derive(Debug, Clone)]
pub struct Line {
    /// Name.
    pub name: String,
    /// Capacity [wafers per month].
    pub capacity_wafers_per_month: Timeline,
    /// Split rule.
    pub split: Split,
    /// Products packaged on this line, in file order.
    pub products: Vec<usize>,
    /// Random outages.
    pub outages: Option<Outages>,
    /// Delay of each dated capacity increase \[days\].
    pub expansion_slip_days: Option<Quantity>,
    /// Share of the wafers taken by products outside the scenario \[share\].
    pub reserved_share: f64,
    /// Time constant of the delay before idle wafers move to other products \[days\].
    pub reallocation_lag_days: f64,
}

/// A logic process.
#[derive(Debug, Clone)]
pub struct Logic {
    /// Name.
    pub name: String,
    /// Wafers available [wafers per month].
    pub wafers_per_month: Timeline,
    /// Random outages.
    pub outages: Option<Outages>,
    /// Delay of each dated capacity increase \[days\].
    pub expansion_slip_days: Option<Quantity>,
}

/// A product's logic die supply.
#[derive(Debug, Clone, Copy)]
pub struct ProductLogic {
    /// Index into `Scenario::logic`.
    pub process: usize,
    /// Good dies per logic wafer (candidates × yield) \[dies\].
    pub good_dies_per_wafer: f64,
}

/// An accelerator product.
#[derive(Debug, Clone)]
pub struct Product {
    /// Name.
    pub name: String,
    /// Index of its vendor.
    pub vendor: usize,
    /// Index of its packaging line; `None` for parts made without advanced packaging.
    pub line: Option<usize>,
    /// Packages per packaging wafer \[packages\].
    pub packages_per_wafer: f64,
    /// Share of packages that pass [0..1].
    pub packaging_yield: Timeline,
    /// HBM stacks per unit \[stacks\].
    pub hbm_stacks: f64,
    /// Logic die supply, if modelled.
    pub logic: Option<ProductLogic>,
    /// Output for parts without a line [units per month].
    pub units_per_month: Option<Timeline>,
    /// Performance [H100-equivalents per unit].
    pub h100e: f64,
    /// Chip power \[W\].
    pub power_w: f64,
    /// List price \[USD\].
    pub price_usd: Timeline,
    /// First day of production \[tick\].
    pub available: Time,
    /// Packaging start to finished unit \[days\].
    pub cycle_time_days: Time,
    /// Share of its line [0..1].
    pub line_share: Timeline,
    /// Failures [1/day] (annual rate / 365).
    pub failure_rate_per_day: f64,
    /// Service life \[days\].
    pub lifetime_days: Time,
    /// Noise on the packaging yield.
    pub yield_noise: Option<Noise>,
}

impl Product {
    /// Good units per packaging wafer at tick `t` (packages per wafer × yield) \[units\].
    pub fn units_per_wafer(&self, t: Time) -> f64 {
        self.packages_per_wafer * self.packaging_yield.at(t)
    }
}

/// Vendor allocation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocation {
    /// Pro rata to open orders.
    ProRata,
    /// Priority tiers, pro rata within a tier.
    Priority,
    /// Contracted floors first, then pro rata.
    Floors,
    /// By purchase history, capped by open orders; the rest pro rata.
    TurnAndEarn,
}

impl Allocation {
    /// Name used in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Allocation::ProRata => "pro_rata",
            Allocation::Priority => "priority",
            Allocation::Floors => "floors",
            Allocation::TurnAndEarn => "turn_and_earn",
        }
    }
}

/// A vendor.
#[derive(Debug, Clone)]
pub struct Vendor {
    /// Name.
    pub name: String,
    /// Allocation rule.
    pub allocation: Allocation,
    /// Shipment to delivery \[days\].
    pub shipping_days: Time,
    /// Lead time considered normal \[days\].
    pub normal_lead_time_days: f64,
    /// Price rise per relative excess lead time \[1\].
    pub price_elasticity: f64,
    /// Price cap as a multiple of list \[1\].
    pub max_price_multiple: f64,
    /// Longest lead time the vendor books \[days\].
    pub booking_window_days: Time,
    /// Time constant of the purchase history of `turn_and_earn` \[days\].
    pub history_days: f64,
    /// Production plan.
    pub plan: Plan,
}

/// A vendor's production plan.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Time constant of the smoothed order rate \[days\].
    pub order_smoothing_days: f64,
    /// Inventory target in days of smoothed orders \[days\].
    pub inventory_cover_days: f64,
    /// Time to close the inventory and pipeline gaps \[days\].
    pub adjust_days: f64,
    /// Least share of committed capacity started while on sale \[share\].
    pub min_capacity_use: f64,
}

/// A buyer's ordering rule.
#[derive(Debug, Clone, Copy)]
pub struct Ordering {
    /// Time to close a stock gap, `τ_S` \[days\].
    pub stock_adjust_days: f64,
    /// Time to close a supply-line gap, `τ_SL` \[days\].
    pub supply_line_adjust_days: f64,
    /// Time constant of the perceived lead time \[days\].
    pub lead_time_smoothing_days: f64,
    /// Planning horizon past delivery and installation \[days\].
    pub deploy_horizon_days: Time,
    /// Day of the first review \[tick\].
    pub review_offset_days: Time,
    /// Phantom orders `(slope, max multiple)`.
    pub phantom: Option<(f64, f64)>,
    /// Non-cancellable window, or `None` if the buyer never cancels \[days\].
    pub cancel_outside_days: Option<Time>,
}

/// Over-ordering behaviour.
#[derive(Debug, Clone, Copy)]
pub struct OverOrder {
    /// Order multiplier \[1\].
    pub factor: f64,
    /// Lead time above which it applies \[days\].
    pub above_lead_time_days: f64,
}

/// Where a buyer's demand comes from.
#[derive(Debug, Clone)]
pub enum BuyerKind {
    /// The focal operator, whose demand is its segments'.
    Operator,
    /// A competitor wanting a fleet of this size [H100-equivalents].
    Competitor(Growth),
}

/// A buyer.
#[derive(Debug, Clone)]
pub struct Buyer {
    /// Name.
    pub name: String,
    /// Operator or competitor.
    pub kind: BuyerKind,
    /// Region for export rules.
    pub region: Option<String>,
    /// Priority tier (1 first).
    pub priority: u32,
    /// Review cadence \[days\].
    pub review_every_days: Time,
    /// Product mix by H100-equivalents: `(product, share)`; renormalised over the products
    /// a buyer can get on the day it orders.
    pub mix: Vec<(usize, Timeline)>,
    /// Budget [USD per calendar year]; `None` means unlimited.
    pub budget_usd_per_year: Option<Timeline>,
    /// Headroom above forecast \[share\].
    pub headroom: f64,
    /// Forecast window \[days\].
    pub forecast_window_days: Time,
    /// Whether new orders shift away from products with long lead times.
    pub lead_time_substitution: bool,
    /// Longest lead time planned over \[days\].
    pub max_planning_horizon_days: Time,
    /// Over-ordering, if switched on.
    pub over_order: Option<OverOrder>,
    /// Contracted floors `(product, units per day)`.
    pub contracts: Vec<(usize, f64)>,
    /// Units installed at the start `(product, units)`.
    pub initial_fleet: Vec<(usize, u64)>,
    /// How it orders.
    pub ordering: Ordering,
}

/// A datacenter site.
#[derive(Debug, Clone)]
pub struct Site {
    /// Name.
    pub name: String,
    /// Owning buyer.
    pub owner: usize,
    /// Power online by date \[MW\].
    pub megawatts: Option<Timeline>,
    /// Builds `(tick online, MW)`.
    pub builds: Vec<(Time, f64)>,
    /// All-in watts per chip watt: server overhead × PUE \[1\].
    pub watts_per_chip_watt: f64,
    /// Delivery to serving \[days\].
    pub install_delay_days: Time,
    /// Building cost [USD per MW].
    pub capex_usd_per_mw: f64,
    /// Delay of each build and dated power increase \[days\].
    pub expansion_slip_days: Option<Quantity>,
}

impl Site {
    /// Power online at tick `t` \[MW\].
    pub fn megawatts_at(&self, t: Time) -> f64 {
        let base = self.megawatts.as_ref().map_or(0.0, |tl| tl.at(t));
        base + self
            .builds
            .iter()
            .filter(|b| b.0 <= t)
            .map(|b| b.1)
            .sum::<f64>()
    }
}

/// A growth law: a level (users, or H100-equivalents) as a function of time.
#[derive(Debug, Clone)]
pub enum Growth {
    /// Bass diffusion: `M (1 - e^{-(p+q)τ}) / (1 + (q/p) e^{-(p+q)τ})`, τ in years since `since`.
    Bass {
        /// Market size.
        market_size: f64,
        /// Innovation [1/year].
        p: f64,
        /// Imitation [1/year].
        q: f64,
        /// Start \[tick\].
        since: Time,
    },
    /// Logistic: `K / (1 + e^{-r (t - mid)})`, t in years.
    Logistic {
        /// Saturation.
        capacity: f64,
        /// Rate [1/year].
        rate_per_year: f64,
        /// Midpoint \[tick\].
        midpoint: Time,
    },
    /// Exponential: `initial × growth^{(t - since)/365}`.
    Exponential {
        /// Level at `since`.
        initial: f64,
        /// Multiple per year.
        growth_per_year: f64,
        /// Reference \[tick\].
        since: Time,
    },
    /// Dated values.
    Timeline(Timeline),
}

impl Growth {
    /// Level at tick `t`.
    pub fn level(&self, t: Time) -> f64 {
        match self {
            Growth::Bass {
                market_size,
                p,
                q,
                since,
            } => {
                if t < *since {
                    return 0.0;
                }
                let tau = (t - since) as f64 / 365.0;
                let e = (-(p + q) * tau).exp();
                market_size * (1.0 - e) / (1.0 + (q / p) * e)
            }
            Growth::Logistic {
                capacity,
                rate_per_year,
                midpoint,
            } => {
                let x = (t - midpoint) as f64 / 365.0;
                capacity / (1.0 + (-rate_per_year * x).exp())
            }
            Growth::Exponential {
                initial,
                growth_per_year,
                since,
            } => initial * growth_per_year.powf((t - since) as f64 / 365.0),
            Growth::Timeline(tl) => tl.at(t),
        }
    }
}

/// Sign-up pause policy.
#[derive(Debug, Clone)]
pub struct Pause {
    /// Load ratio threshold to pause \[1\].
    pub pause_above: f64,
    /// Consecutive days above \[days\].
    pub pause_after_days: u32,
    /// Load ratio threshold to resume \[1\].
    pub resume_below: f64,
    /// Consecutive days below \[days\].
    pub resume_after_days: u32,
    /// Shortest pause \[days\].
    pub min_pause_days: u32,
    /// Waitlist `(conversion per day, dropout per day)`; `None` means sign-ups are lost.
    pub waitlist: Option<(f64, f64)>,
    /// Whether the thresholds read the relievable load (else the total load).
    pub relievable: bool,
}

/// A rate limit.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Cap [queries per user per day].
    pub max_queries_per_user_per_day: f64,
    /// Relievable load above which it switches on; `None` = always on.
    pub active_above: Option<f64>,
    /// Relievable load below which it switches off \[1\].
    pub inactive_below: f64,
    /// Days beyond a threshold before it switches \[days\].
    pub switch_days: u32,
}

/// Shortage-driven churn.
#[derive(Debug, Clone, Copy)]
pub struct ShortageChurn {
    /// Extra churn at full shortage [1/day].
    pub extra_churn_per_day: f64,
    /// Averaging window \[days\].
    pub window_days: usize,
}

/// A user segment.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Name.
    pub name: String,
    /// Users with no pauses.
    pub growth: Growth,
    /// Base churn [1/day].
    pub churn_per_day: f64,
    /// Queries per user per day.
    pub queries_per_user_per_day: Timeline,
    /// Tokens per query.
    pub tokens_per_query: Timeline,
    /// Compute [H100-seconds per 1k tokens].
    pub h100_seconds_per_1k_tokens: Timeline,
    /// Peak-to-average \[1\].
    pub peak_factor: f64,
    /// Revenue [USD per user per month].
    pub revenue_per_user_per_month: Timeline,
    /// Serving priority (1 first).
    pub priority: u32,
    /// Pause policy.
    pub pause: Option<Pause>,
    /// Rate limit.
    pub rate_limit: Option<RateLimit>,
    /// Shortage churn.
    pub shortage_churn: Option<ShortageChurn>,
    /// Noise on usage (queries per user).
    pub demand_noise: Option<Noise>,
}

/// A launch event.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Name.
    pub name: String,
    /// Day \[tick\].
    pub day: Time,
    /// Segments affected.
    pub segments: Vec<usize>,
    /// Extra sign-ups over the surge per segment \[users\].
    pub extra_signups: f64,
    /// Peak usage uplift \[share\].
    pub usage_uplift: f64,
    /// Decay constant \[days\].
    pub decay_days: f64,
    /// Build-up constant \[days\]; 0 for none.
    pub ramp_days: f64,
}

/// An export rule.
#[derive(Debug, Clone)]
pub struct ExportRule {
    /// Name.
    pub name: String,
    /// Products forbidden.
    pub products: Vec<usize>,
    /// Region.
    pub region: String,
    /// First day \[tick\].
    pub from: Time,
    /// Last day \[tick\], if any.
    pub until: Option<Time>,
}

impl ExportRule {
    /// Whether the rule is in force at tick `t`.
    pub fn active(&self, t: Time) -> bool {
        t >= self.from && self.until.is_none_or(|u| t <= u)
    }
}

/// A training reservation.
#[derive(Debug, Clone)]
pub struct Reservation {
    /// Name.
    pub name: String,
    /// Buyer whose fleet is reserved.
    pub buyer: usize,
    /// First day \[tick\].
    pub start: Time,
    /// Last day \[tick\].
    pub end: Time,
    /// Capacity [H100-equivalents].
    pub h100e: f64,
}
