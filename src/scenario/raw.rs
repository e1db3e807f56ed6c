//! Raw scenario types: they mirror the YAML, refuse unknown keys and fill plain defaults.
//!
//! Cross-field sense (names that refer to each other, dates inside the run, shares that sum
//! to one) is checked later, by [`super::resolve`]. Every field is documented in
//! `docs/scenario-reference.md`; keep the two in step.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::timeline::RawTimeline;
use super::types::Quantity;

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

fn one_timeline() -> RawTimeline {
    RawTimeline::Constant(1.0)
}

fn zero_timeline() -> RawTimeline {
    RawTimeline::Constant(0.0)
}

/// The whole scenario file.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Another scenario this one overrides (removed before deserialisation; kept for the schema).
    #[serde(default, skip_serializing)]
    #[schemars(
        description = "Path of a scenario file, relative to this one, that this scenario \
                       changes: its fields are the defaults, mappings merge key by key, lists \
                       of named items merge by name, and a timeline replaces the base's whole."
    )]
    pub extends: Option<String>,
    /// Name of the scenario; also the output folder name.
    pub name: String,
    /// Free text shown in reports.
    #[serde(default)]
    pub description: Option<String>,
    /// First simulated day (`YYYY-MM-DD` or `YYYY-MM`).
    pub start: String,
    /// Last simulated day, inclusive.
    pub end: String,
    /// Seed of the random streams (overridden by `--seed`).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Packaging lines, HBM and logic wafers.
    pub supply: RawSupply,
    /// Accelerator products.
    pub products: Vec<RawProduct>,
    /// Vendors selling the products.
    pub vendors: Vec<RawVendor>,
    /// Buyers: the focal operator and competitors.
    pub buyers: Vec<RawBuyer>,
    /// Datacenter sites.
    #[serde(default)]
    pub sites: Vec<RawSite>,
    /// User segments of the operator.
    #[serde(default)]
    pub segments: Vec<RawSegment>,
    /// Launch events that bring surges of sign-ups and usage.
    #[serde(default)]
    pub launches: Vec<RawLaunch>,
    /// Export rules forbidding products to regions.
    #[serde(default)]
    pub export_rules: Vec<RawExportRule>,
    /// Dated reservations of fleet capacity for training.
    #[serde(default)]
    pub reservations: Vec<RawReservation>,
    /// Money settings.
    #[serde(default)]
    pub money: RawMoney,
    /// Assertions on the run's outcome, checked by `capsim check`.
    #[serde(default)]
    pub expect: Vec<RawExpect>,
    /// Which market runs: `stock_management` (the default: buyers order by Sterman's
    /// stock-management rule, vendors plan production and quote available-to-promise) or
    /// `legacy` (capsim 0.1's market, kept so that older scenarios still run as they did).
    #[serde(default)]
    pub market: RawMarket,
    /// With `market: stock_management`, start the market as if it had been running: products
    /// on sale at the start begin with a full production pipeline (work in process of one
    /// cycle time at the first day's planned capacity), so the first weeks are not empty.
    #[serde(default = "yes")]
    pub warm_start: bool,
    /// With `warm_start`, the share of each product's planned capacity the pipeline starts at
    /// (1: full lines; less when the run starts in a lull of orders).
    #[serde(default = "one")]
    pub warm_start_utilisation: f64,
    /// Observations to backtest against (read and checked at load, removed from the tree
    /// before deserialisation; the paths as written are put back for the manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<RawObserved>,
}

/// Which market model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawMarket {
    /// capsim 0.1's market: buyers plan over the quoted lead time and close their whole gap;
    /// vendors build only to open orders; lead time is backlog over production rate.
    Legacy,
    /// Buyers order by the stock-management rule (with phantom orders and cancellation);
    /// vendors plan production, quote available-to-promise and keep a booking window.
    #[default]
    StockManagement,
}

/// `observed:`: one CSV file of observations, or a list of them.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
#[schemars(
    description = "Observed data to backtest against (`capsim backtest`): the path of a CSV \
                   file of observations, relative to this scenario file, or a list of such \
                   paths. Columns: period,metric,value,low,high,required,source; see \
                   docs/backtest.md."
)]
pub enum RawObserved {
    /// One file.
    One(String),
    /// Several files, compared in order.
    Many(Vec<String>),
}

/// A number or a date, as a bound of an assertion.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RawBound {
    /// A number.
    Number(f64),
    /// A date (`YYYY-MM-DD` or `YYYY-MM`).
    Date(String),
}

impl<'de> Deserialize<'de> for RawBound {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = RawBound;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number or a date (YYYY-MM-DD or YYYY-MM)")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawBound, E> {
                Ok(RawBound::Number(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawBound, E> {
                Ok(RawBound::Number(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawBound, E> {
                Ok(RawBound::Number(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawBound, E> {
                Ok(RawBound::Date(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawBound {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Bound".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A number, or a date (YYYY-MM-DD or YYYY-MM).",
            "anyOf": [{ "type": "number" }, { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}" }]
        })
    }
}

/// Which rows of `events.csv` an event assertion is about.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEventMatch {
    /// Event kind: `pause`, `resume`, `launch`, `expansion`, `reduction`, `export_rule`, ...
    pub kind: String,
    /// Its subject (segment, line, rule, ...); absent matches any.
    #[serde(default)]
    pub subject: Option<String>,
}

/// An assertion on the outcome: one target (`metric` or `event`) and one test.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// A key of summary.json; dotted paths reach into maps (`fleet_end.H100`).
    #[serde(default)]
    pub metric: Option<String>,
    /// An event of events.csv.
    #[serde(default)]
    pub event: Option<RawEventMatch>,
    /// The number is less than this.
    #[serde(default)]
    pub below: Option<f64>,
    /// The number is greater than this.
    #[serde(default)]
    pub above: Option<f64>,
    /// The number is at most this.
    #[serde(default)]
    pub at_most: Option<f64>,
    /// The number is at least this.
    #[serde(default)]
    pub at_least: Option<f64>,
    /// Inclusive range: two numbers, or two dates.
    #[serde(default)]
    pub between: Option<(RawBound, RawBound)>,
    /// The date (or, for an event, some matching event) is before this date.
    #[serde(default)]
    pub before: Option<String>,
    /// The date (or, for an event, some matching event) is after this date.
    #[serde(default)]
    pub after: Option<String>,
    /// The key is null (e.g. `first_shortage` when there was no shortage).
    #[serde(default)]
    pub never: Option<bool>,
    /// Whether a matching event happens (within `before`/`after`/`between` if given).
    #[serde(default)]
    pub happens: Option<bool>,
    /// Why the scenario should tell this story; shown when the assertion fails.
    #[serde(default)]
    pub because: Option<String>,
}

/// Supply side: packaging, memory and logic.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSupply {
    /// Advanced-packaging lines (CoWoS-S, CoWoS-L, ...).
    pub packaging_lines: Vec<RawLine>,
    /// HBM supply; absent means HBM never limits.
    #[serde(default)]
    pub hbm: Option<RawHbm>,
    /// Front-end logic processes; absent means logic never limits.
    #[serde(default)]
    pub logic: Vec<RawLogic>,
}

/// How a line's wafers are split among its products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawSplit {
    /// By each product's `line_share`, renormalised among the products available that day.
    #[default]
    Shares,
    /// In the order of `priority`, each product taking what it can use.
    Priority,
}

/// A packaging line.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLine {
    /// Line name, referred to by products.
    pub name: String,
    /// Capacity [wafers per month].
    pub capacity_wafers_per_month: RawTimeline,
    /// How wafers are split among products.
    #[serde(default)]
    pub split: RawSplit,
    /// Product order for `split: priority`.
    #[serde(default)]
    pub priority: Vec<String>,
    /// Random outages; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outages: Option<RawOutages>,
    /// Delay of each dated capacity increase \[days\]; a distribution is drawn per increase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expansion_slip_days: Option<Quantity>,
    /// Share of the line's wafers taken by products outside the scenario \[share\].
    #[serde(default)]
    pub reserved_share: f64,
    /// Time for wafers a product leaves unused to move to the line's other products: the
    /// idle wafers others may take follow a first-order delay of this length \[days\].
    #[serde(default = "default_reallocation_lag")]
    pub reallocation_lag_days: f64,
}

fn default_reallocation_lag() -> f64 {
    30.0
}

/// Random outages of a packaging line or logic process: a Poisson process of events, each
/// removing a share of capacity for a while.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOutages {
    /// Mean number of outages per year [1/year].
    pub rate_per_year: f64,
    /// Length of each outage \[days\]; a distribution is drawn per outage.
    pub duration_days: Quantity,
    /// Share of capacity lost during an outage [0..1].
    #[serde(default = "one")]
    pub capacity_lost: f64,
}

/// Multiplicative noise: a mean-one factor that wanders day by day (log-AR(1)).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNoise {
    /// Standard deviation of the factor \[1\] (0.05: about ±5%).
    pub sd: f64,
    /// How long a deviation lasts: the correlation time of the noise \[days\]; 0 draws each
    /// day afresh.
    #[serde(default)]
    pub correlation_days: f64,
}

/// HBM memory supply.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHbm {
    /// Supply available to accelerators [stacks per month].
    pub stacks_per_month: RawTimeline,
    /// Delay of each dated supply increase \[days\]; a distribution is drawn per increase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expansion_slip_days: Option<Quantity>,
}

/// A front-end logic process.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLogic {
    /// Process name, referred to by products (`N4`, `N5`).
    pub name: String,
    /// Wafers available to accelerators [wafers per month].
    pub wafers_per_month: RawTimeline,
    /// Random outages; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outages: Option<RawOutages>,
    /// Delay of each dated capacity increase \[days\]; a distribution is drawn per increase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expansion_slip_days: Option<Quantity>,
}

/// A product's use of a logic process.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawProductLogic {
    /// Name of the logic process.
    pub process: String,
    /// Candidate dies per wafer \[dies\].
    pub dies_per_wafer: f64,
    /// Share of dies that work [0..1].
    #[serde(rename = "yield", default = "one")]
    pub yield_: f64,
}

/// An accelerator product.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawProduct {
    /// Product name (`H100`).
    pub name: String,
    /// Vendor that sells it.
    pub vendor: String,
    /// Packaging line it is packaged on; absent for parts that need no advanced packaging.
    #[serde(default)]
    pub packaging_line: Option<String>,
    /// Packages per packaging wafer \[packages\].
    #[serde(default)]
    pub packages_per_wafer: Option<f64>,
    /// Share of packages that pass [0..1]; may be a timeline.
    #[serde(default = "one_timeline")]
    pub packaging_yield: RawTimeline,
    /// HBM stacks per package \[stacks\].
    #[serde(default)]
    pub hbm_stacks: f64,
    /// Logic die supply, optional.
    #[serde(default)]
    pub logic: Option<RawProductLogic>,
    /// Output without packaging [units per month] (for parts with no `packaging_line`).
    #[serde(default)]
    pub units_per_month: Option<RawTimeline>,
    /// Performance relative to one H100 [H100-equivalents].
    pub h100_equivalents: f64,
    /// Chip power (TDP) \[W\].
    pub power_w: f64,
    /// List price [USD per unit].
    pub price_usd: RawTimeline,
    /// First day it can be produced; default the scenario start.
    #[serde(default)]
    pub available: Option<String>,
    /// Days from packaging start to a finished unit \[days\].
    #[serde(default = "default_cycle_time")]
    pub cycle_time_days: u32,
    /// Share of its line's wafers (split: shares) [0..1].
    #[serde(default)]
    pub line_share: Option<RawTimeline>,
    /// Units that fail per installed unit per year [1/year].
    #[serde(default)]
    pub annual_failure_rate: f64,
    /// Years in service before retirement \[years\].
    #[serde(default = "default_lifetime")]
    pub lifetime_years: f64,
    /// Daily noise on the packaging yield; absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yield_noise: Option<RawNoise>,
}

fn default_cycle_time() -> u32 {
    // Guess: wafer-in to packaged module roughly a quarter (TrendForce: HBM cycle >2 quarters).
    90
}
fn default_lifetime() -> f64 {
    5.0
}

/// How a vendor shares finished units among buyers with orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawAllocation {
    /// In proportion to each buyer's open orders.
    #[default]
    ProRata,
    /// Buyers with the lowest `priority` number first, pro rata within a tier.
    Priority,
    /// Contracted floors (`contracts:` of buyers) first, the rest pro rata.
    Floors,
    /// By purchase history (turn-and-earn): in proportion to each buyer's recent deliveries,
    /// capped by its open orders; what is left, pro rata to open orders.
    TurnAndEarn,
}

/// A vendor.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVendor {
    /// Vendor name.
    pub name: String,
    /// Allocation rule.
    #[serde(default)]
    pub allocation: RawAllocation,
    /// Days from shipment to delivery \[days\].
    #[serde(default = "default_shipping")]
    pub shipping_days: u32,
    /// Lead time buyers consider normal \[days\]; prices rise above it.
    #[serde(default = "default_normal_lead")]
    pub normal_lead_time_days: f64,
    /// Price rise per unit of relative excess lead time \[1\].
    #[serde(default)]
    pub price_elasticity: f64,
    /// Highest price as a multiple of list \[1\].
    #[serde(default = "default_max_price_multiple")]
    pub max_price_multiple: f64,
    /// Orders that cannot be delivered within this many days are refused; quoted lead times
    /// never exceed it \[days\].
    #[serde(default = "default_booking_window")]
    pub booking_window_days: u32,
    /// Window of the purchase history that `allocation: turn_and_earn` weighs (the time
    /// constant of the smoothed deliveries) \[days\].
    #[serde(default = "default_history")]
    pub history_days: f64,
    /// The vendor's production plan.
    #[serde(default)]
    pub plan: RawPlan,
}

fn default_booking_window() -> u32 {
    365
}
fn default_history() -> f64 {
    90.0
}

/// A vendor's production plan: wafer starts follow smoothed orders plus corrections toward an
/// inventory target, never below a floor on the use of committed capacity.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    /// Time constant of the smoothed order rate the plan builds to \[days\].
    #[serde(default = "default_order_smoothing")]
    pub order_smoothing_days: f64,
    /// Finished-goods inventory the plan aims to hold, in days of smoothed orders \[days\].
    #[serde(default = "default_inventory_cover")]
    pub inventory_cover_days: f64,
    /// Time to close the gap between the inventory and pipeline targets and their levels
    /// (open orders count against inventory) \[days\].
    #[serde(default = "default_plan_adjust")]
    pub adjust_days: f64,
    /// Least share of a product's committed capacity started each day while it is on sale
    /// (prepaid foundry and packaging capacity) \[share\].
    #[serde(default = "default_min_capacity_use")]
    pub min_capacity_use: f64,
}

impl Default for RawPlan {
    fn default() -> Self {
        RawPlan {
            order_smoothing_days: default_order_smoothing(),
            inventory_cover_days: default_inventory_cover(),
            adjust_days: default_plan_adjust(),
            min_capacity_use: default_min_capacity_use(),
        }
    }
}

fn default_order_smoothing() -> f64 {
    60.0
}
fn default_inventory_cover() -> f64 {
    14.0
}
fn default_plan_adjust() -> f64 {
    30.0
}
fn default_min_capacity_use() -> f64 {
    0.5
}

fn default_shipping() -> u32 {
    14
}
fn default_normal_lead() -> f64 {
    60.0
}
fn default_max_price_multiple() -> f64 {
    2.0
}

/// Over-ordering in a shortage (bullwhip).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOverOrder {
    /// Switch.
    #[serde(default)]
    pub enabled: bool,
    /// Multiplier on the order when the perceived lead time is long \[1\].
    #[serde(default = "default_over_factor")]
    pub factor: f64,
    /// Lead time above which the buyer over-orders \[days\].
    #[serde(default = "default_over_threshold")]
    pub above_lead_time_days: f64,
}

fn default_over_factor() -> f64 {
    1.5
}
fn default_over_threshold() -> f64 {
    120.0
}

/// A contracted floor with a vendor.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawContract {
    /// Product the floor is for.
    pub product: String,
    /// Units served first each month, while orders are open [units per month].
    pub units_per_month: f64,
}

/// Whether a buyer serves the user segments or has its own demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawBuyerKind {
    /// The focal operator: its demand comes from the segments.
    Operator,
    /// A competitor with its own fleet demand (`demand_h100e`).
    #[default]
    Competitor,
}

/// A buyer of accelerators.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBuyer {
    /// Buyer name.
    pub name: String,
    /// Operator or competitor.
    #[serde(default)]
    pub kind: RawBuyerKind,
    /// Region for export rules.
    #[serde(default)]
    pub region: Option<String>,
    /// Priority tier for `allocation: priority` (1 first).
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// Days between order reviews \[days\].
    #[serde(default = "default_review")]
    pub review_every_days: u32,
    /// Product mix of new orders, by H100-equivalents \[shares\]; each share may be a timeline.
    pub products: BTreeMap<String, RawTimeline>,
    /// Spending limit per calendar year [USD per year]; absent means unlimited.
    #[serde(default)]
    pub budget_usd_per_year: Option<RawTimeline>,
    /// Capacity bought above the forecast \[share\].
    #[serde(default = "default_headroom")]
    pub headroom: f64,
    /// Trailing window the operator's forecast uses \[days\].
    #[serde(default = "default_forecast_window")]
    pub forecast_window_days: u32,
    /// Whether new orders shift away from products whose lead time is longer than normal.
    #[serde(default = "yes")]
    pub lead_time_substitution: bool,
    /// Longest lead time the buyer plans over; beyond it, it orders for this far ahead \[days\].
    #[serde(default = "default_max_horizon")]
    pub max_planning_horizon_days: u32,
    /// Over-ordering in a shortage.
    #[serde(default)]
    pub over_order: Option<RawOverOrder>,
    /// Contracted floors.
    #[serde(default)]
    pub contracts: Vec<RawContract>,
    /// Fleet a competitor wants [H100-equivalents].
    #[serde(default)]
    pub demand_h100e: Option<RawGrowth>,
    /// Units installed at the start, by product \[units\].
    #[serde(default)]
    pub initial_fleet: BTreeMap<String, f64>,
    /// The ordering rule: adjustment times, phantom orders, cancellation.
    #[serde(default)]
    pub ordering: RawOrdering,
}

/// How a buyer orders: Sterman's stock-management rule (anchored on expected acquisitions,
/// with separate stock and supply-line corrections), phantom orders and cancellation.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOrdering {
    /// Time to close a gap between the wanted and the installed fleet, `τ_S` \[days\].
    #[serde(default = "default_stock_adjust")]
    pub stock_adjust_days: f64,
    /// Time to close a gap in the supply line (open orders and units in transit), `τ_SL`;
    /// equal to `stock_adjust_days` gives the supply line full weight \[days\].
    #[serde(default = "default_stock_adjust")]
    pub supply_line_adjust_days: f64,
    /// Time constant of the perceived lead time, smoothed from vendors' quotes \[days\].
    #[serde(default = "default_lead_smoothing")]
    pub lead_time_smoothing_days: f64,
    /// How far past delivery and installation the wanted fleet is planned \[days\].
    #[serde(default = "default_deploy_horizon")]
    pub deploy_horizon_days: u32,
    /// Day of the first review, counted from the start; absent spreads the buyers' reviews
    /// evenly over one review period, in file order \[days\].
    #[serde(default)]
    pub review_offset_days: Option<u32>,
    /// Extra (phantom) orders placed when lead times are long.
    #[serde(default)]
    pub phantom_orders: Option<RawPhantom>,
    /// Cancellation of open orders beyond the buyer's target.
    #[serde(default)]
    pub cancel: RawCancel,
}

impl Default for RawOrdering {
    fn default() -> Self {
        RawOrdering {
            stock_adjust_days: default_stock_adjust(),
            supply_line_adjust_days: default_stock_adjust(),
            lead_time_smoothing_days: default_lead_smoothing(),
            deploy_horizon_days: default_deploy_horizon(),
            review_offset_days: None,
            phantom_orders: None,
            cancel: RawCancel::default(),
        }
    }
}

fn default_stock_adjust() -> f64 {
    90.0
}
fn default_lead_smoothing() -> f64 {
    60.0
}
fn default_deploy_horizon() -> u32 {
    90
}

/// Phantom orders: `placed = firm × φ`, `φ = min(max_multiple, 1 + slope × max(0,
/// perceived lead / normal lead − 1))`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPhantom {
    /// Extra orders per unit of relative excess perceived lead time \[1\].
    pub slope: f64,
    /// Largest multiple of firm orders placed \[1\].
    #[serde(default = "default_phantom_max")]
    pub max_multiple: f64,
}

fn default_phantom_max() -> f64 {
    2.0
}

/// Cancellation: open orders beyond the buyer's target are cancelled, youngest first, except
/// those due within the non-cancellable window.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCancel {
    /// Switch.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Orders due within this many days cannot be cancelled (NCNR) \[days\].
    #[serde(default = "default_ncnr")]
    pub non_cancellable_days: u32,
}

impl Default for RawCancel {
    fn default() -> Self {
        RawCancel {
            enabled: true,
            non_cancellable_days: default_ncnr(),
        }
    }
}

fn default_ncnr() -> u32 {
    90
}

fn default_priority() -> u32 {
    1
}
fn default_review() -> u32 {
    30
}
fn default_headroom() -> f64 {
    0.1
}
fn default_max_horizon() -> u32 {
    // Large buyers reserved output about a year ahead.
    365
}
fn default_forecast_window() -> u32 {
    60
}

/// A planned build of a site.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBuild {
    /// Construction start.
    pub start: String,
    /// Months from start to power on \[months\].
    pub months: u32,
    /// Power that comes online \[MW\].
    pub megawatts: f64,
}

/// A datacenter site.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    /// Site name.
    pub name: String,
    /// Buyer that owns it.
    pub owner: String,
    /// IT+facility power online by date \[MW\].
    #[serde(default)]
    pub megawatts: Option<RawTimeline>,
    /// Builds that add power after a build time.
    #[serde(default)]
    pub builds: Vec<RawBuild>,
    /// Power usage effectiveness \[1\].
    #[serde(default = "default_pue")]
    pub pue: f64,
    /// Server, network and storage power per watt of chip power \[1\].
    #[serde(default = "default_overhead")]
    pub server_overhead: f64,
    /// Days from delivery (with power) to serving \[days\].
    #[serde(default = "default_install")]
    pub install_delay_days: u32,
    /// Building cost [USD per MW], charged when power comes online.
    #[serde(default)]
    pub capex_usd_per_mw: f64,
    /// Delay of each build and each dated power increase \[days\]; a distribution is drawn per
    /// expansion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expansion_slip_days: Option<Quantity>,
}

fn default_pue() -> f64 {
    1.2
}
fn default_overhead() -> f64 {
    1.5
}
fn default_install() -> u32 {
    14
}

/// A growth law for users (or a competitor's fleet).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawGrowth {
    /// Bass diffusion of a market.
    Bass {
        /// Market size \[users\].
        market_size: f64,
        /// Innovation coefficient [1/year].
        p: f64,
        /// Imitation coefficient [1/year].
        q: f64,
        /// Date diffusion starts; default the scenario start.
        #[serde(default)]
        since: Option<String>,
    },
    /// Logistic curve.
    Logistic {
        /// Saturation level \[users\].
        capacity: f64,
        /// Growth rate [1/year].
        rate_per_year: f64,
        /// Date the curve reaches half its capacity.
        midpoint: String,
    },
    /// Exponential growth.
    Exponential {
        /// Level at `since` \[users\].
        initial: f64,
        /// Multiple per year (2.0 doubles every year) \[1\].
        growth_per_year: f64,
        /// Date of `initial`; default the scenario start.
        #[serde(default)]
        since: Option<String>,
    },
    /// Dated values, linear between them.
    Timeline(RawTimeline),
}

/// The sign-up pause policy of a segment.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPause {
    /// Load ratio (demand / capacity) above which a day counts toward a pause \[1\].
    #[serde(default = "one")]
    pub pause_above: f64,
    /// Consecutive days above before pausing \[days\].
    #[serde(default = "default_pause_after")]
    pub pause_after_days: u32,
    /// Load ratio below which a day counts toward resuming \[1\].
    #[serde(default = "default_resume_below")]
    pub resume_below: f64,
    /// Consecutive days below before resuming \[days\].
    #[serde(default = "default_resume_after")]
    pub resume_after_days: u32,
    /// Shortest pause \[days\].
    #[serde(default = "default_min_pause")]
    pub min_pause_days: u32,
    /// Waitlist for sign-ups during a pause; absent means they are lost.
    #[serde(default)]
    pub waitlist: Option<RawWaitlist>,
    /// Which load the thresholds read: `relievable` (the demand of this segment and of those
    /// served before it, over capacity: the load a pause can relieve) or `total` (all
    /// segments' demand over capacity); absent: `relievable` with `market:
    /// stock_management`, `total` with the legacy market.
    #[serde(default)]
    pub watch: Option<RawWatch>,
}

/// The load a policy's thresholds read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawWatch {
    /// Demand of the segment and of segments served before it (lower or equal `priority`
    /// number), before rate limits, over capacity.
    Relievable,
    /// Demand of every segment over capacity.
    Total,
}

fn default_pause_after() -> u32 {
    3
}
fn default_resume_below() -> f64 {
    0.9
}
fn default_resume_after() -> u32 {
    7
}
fn default_min_pause() -> u32 {
    14
}

/// A waitlist.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWaitlist {
    /// Share of the waitlist that signs up each day once resumed [1/day].
    #[serde(default = "default_conversion")]
    pub conversion_per_day: f64,
    /// Share of the waitlist that gives up each day [1/day].
    #[serde(default = "default_dropout")]
    pub dropout_per_day: f64,
}

fn default_conversion() -> f64 {
    0.1
}
fn default_dropout() -> f64 {
    0.02
}

/// A rate limit on queries per user.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// Cap [queries per user per day].
    pub max_queries_per_user_per_day: f64,
    /// Switched on once the segment's relievable load (its demand before the limit and that
    /// of segments served before it, over capacity) has been above this for `switch_days`
    /// days \[1\]; absent means always on.
    #[serde(default)]
    pub active_above: Option<f64>,
    /// Switched off once that load has been below this for `switch_days` days; defaults to
    /// 0.9 × `active_above` \[1\].
    #[serde(default)]
    pub inactive_below: Option<f64>,
    /// Consecutive days beyond a threshold before the limit switches \[days\].
    #[serde(default = "default_switch_days")]
    pub switch_days: u32,
}

fn default_switch_days() -> u32 {
    3
}

/// Churn that rises with sustained shortage.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawShortageChurn {
    /// Extra churn when the segment is wholly unserved [1/month].
    pub extra_churn_per_month: f64,
    /// Trailing window over which the unserved share is averaged \[days\].
    #[serde(default = "default_shortage_window")]
    pub window_days: u32,
}

fn default_shortage_window() -> u32 {
    14
}

/// A user segment.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSegment {
    /// Segment name.
    pub name: String,
    /// How many users it would have with no pauses \[users\].
    pub growth: RawGrowth,
    /// Users who leave each month [1/month].
    #[serde(default)]
    pub churn_per_month: f64,
    /// Queries per user per day \[queries\].
    pub queries_per_user_per_day: RawTimeline,
    /// Tokens per query \[tokens\].
    pub tokens_per_query: RawTimeline,
    /// Compute per thousand tokens [H100-seconds].
    pub h100_seconds_per_1k_tokens: RawTimeline,
    /// Peak-to-average ratio of load \[1\].
    #[serde(default = "one")]
    pub peak_factor: f64,
    /// Revenue [USD per user per month]; may be a timeline.
    #[serde(default = "zero_timeline")]
    pub revenue_per_user_per_month: RawTimeline,
    /// Serving priority (1 first).
    #[serde(default = "default_priority")]
    pub priority: u32,
    /// Sign-up pause policy; absent means sign-ups never pause.
    #[serde(default)]
    pub pause: Option<RawPause>,
    /// Rate limit.
    #[serde(default)]
    pub rate_limit: Option<RawRateLimit>,
    /// Churn that rises with shortage.
    #[serde(default)]
    pub shortage_churn: Option<RawShortageChurn>,
    /// Daily noise on usage (queries per user); absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand_noise: Option<RawNoise>,
}

/// A launch event.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLaunch {
    /// Event name.
    pub name: String,
    /// Day of the launch.
    pub date: String,
    /// Segments affected; empty means all.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Extra sign-ups over the surge, per segment \[users\].
    #[serde(default)]
    pub extra_signups: f64,
    /// Extra queries per user at the peak, decaying \[share\].
    #[serde(default)]
    pub usage_uplift: f64,
    /// Decay time constant of the surge \[days\].
    #[serde(default = "default_decay")]
    pub decay_days: f64,
    /// Time constant of the surge's build-up: the surge's intensity follows
    /// `(1 − e^{−age/ramp}) e^{−age/decay}`, scaled so its days add up to `extra_signups`;
    /// 0 starts at its peak \[days\].
    #[serde(default)]
    pub ramp_days: f64,
}

fn default_decay() -> f64 {
    14.0
}

/// An export rule.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExportRule {
    /// Rule name, for the event log.
    pub name: String,
    /// Products forbidden.
    pub products: Vec<String>,
    /// Region they are forbidden to.
    pub region: String,
    /// First day in force.
    pub from: String,
    /// Last day in force; absent means to the end.
    #[serde(default)]
    pub until: Option<String>,
}

/// A training reservation.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReservation {
    /// Name, for the event log.
    pub name: String,
    /// Buyer whose fleet is reserved; default the operator.
    #[serde(default)]
    pub buyer: Option<String>,
    /// First day.
    pub start: String,
    /// Last day.
    pub end: String,
    /// Capacity held back from serving [H100-equivalents].
    pub h100e: f64,
}

/// Money settings.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMoney {
    /// Electricity price [USD per MWh].
    #[serde(default = "default_power_price")]
    pub power_price_usd_per_mwh: RawTimeline,
}

impl Default for RawMoney {
    fn default() -> Self {
        RawMoney {
            power_price_usd_per_mwh: RawTimeline::Constant(default_power_price_value()),
        }
    }
}

fn default_power_price_value() -> f64 {
    // Guess: a US industrial electricity price of about $80/MWh.
    80.0
}
fn default_power_price() -> RawTimeline {
    RawTimeline::Constant(default_power_price_value())
}
