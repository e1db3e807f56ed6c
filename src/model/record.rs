//! What a run records: the daily series, the event log, the allocation ledger, the summary.
//!
//! Columns are declared and filled by one function, `World::emit_row`, through a
//! `Sink`: at the start it collects the names, each day it collects the values, so the
//! header and the rows cannot drift apart. Recording a day allocates nothing once the series
//! buffer has its capacity.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::engine::Time;
use crate::scenario::types::Scenario;

use super::{Accounts, Constraint, PauseEpisode, World};

/// A share of demand unserved above which a day counts as a shortage day \[1\].
pub const SHORTAGE_THRESHOLD: f64 = 0.001;

/// An entry of the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// Day \[tick\].
    pub day: Time,
    /// `pause`, `resume`, `launch`, `expansion`, `export_rule`, `export_rule_end`,
    /// `reservation_start`, `reservation_end`.
    pub kind: String,
    /// What it concerns (segment, line, site, rule...).
    pub subject: String,
    /// Why, in words.
    pub cause: String,
}

/// One allocation of finished units to a buyer.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    /// Day \[tick\].
    pub day: Time,
    /// Vendor index.
    pub vendor: usize,
    /// Product index.
    pub product: usize,
    /// Buyer index.
    pub buyer: usize,
    /// Units allocated.
    pub units: u64,
    /// Rule that allocated them (`pro_rata`, `priority`, `floors`, `floor`): one of the
    /// model's static names, so writing a row allocates nothing.
    pub rule: Cow<'static, str>,
    /// Average price of the orders filled [USD per unit].
    pub price_usd: f64,
}

/// A pause episode as reported in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeSummary {
    /// Segment paused.
    pub segment: String,
    /// First paused day (YYYY-MM-DD).
    pub start: String,
    /// Last paused day (YYYY-MM-DD); the run's end if still paused.
    pub end: String,
    /// Paused days, inclusive \[days\].
    pub days: i64,
    /// Why the pause started.
    pub cause: String,
}

/// `summary.json`. Every key is documented in `docs/outputs.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Seed used.
    pub seed: u64,
    /// First day.
    pub start: String,
    /// Last day.
    pub end: String,
    /// Days simulated \[days\].
    pub days: i64,
    /// First day with unserved demand above 0.1%, or null.
    pub first_shortage: Option<String>,
    /// Last such day, or null.
    pub last_shortage: Option<String>,
    /// Number of such days \[days\].
    pub shortage_days: i64,
    /// Largest unserved share of demand on any day [0..1].
    pub peak_unserved_share: f64,
    /// Pause episodes.
    pub pause_episodes: Vec<EpisodeSummary>,
    /// Sum of paused days over segments [segment-days].
    pub pause_days: i64,
    /// Sign-ups lost to pauses (not waitlisted, or dropped from a waitlist) \[users\].
    pub lost_signups: f64,
    /// Revenue lost to pauses and to shortage churn \[USD\].
    pub lost_revenue_usd: f64,
    /// ... of which to pauses (lost sign-ups and waiting users) \[USD\].
    pub lost_revenue_pause_usd: f64,
    /// ... of which to shortage churn \[USD\].
    pub lost_revenue_churn_usd: f64,
    /// Revenue earned \[USD\].
    pub revenue_usd: f64,
    /// Longest emergent lead time of any product \[days\].
    pub lead_time_peak_days: f64,
    /// Day of that peak, or null if lead time stayed 0.
    pub lead_time_peak_date: Option<String>,
    /// Product of that peak, or null.
    pub lead_time_peak_product: Option<String>,
    /// Longest realised lead time (a day's mean, order to delivery) of any product \[days\].
    /// This and the four keys below default when absent, so that outputs of earlier versions
    /// still read.
    #[serde(default)]
    pub realised_lead_time_peak_days: f64,
    /// Units ordered (booked by vendors) \[units\].
    #[serde(default)]
    pub orders_placed_units: u64,
    /// Units of open orders cancelled \[units\].
    #[serde(default)]
    pub orders_cancelled_units: u64,
    /// Largest share of the open orders that was phantom \[share\].
    #[serde(default)]
    pub phantom_share_peak: f64,
    /// Variance of weekly orders over variance of weekly shipments, by product; products
    /// whose shipments never varied are left out \[1\].
    #[serde(default)]
    pub bullwhip_ratio: BTreeMap<String, f64>,
    /// Operator capital spent on accelerators and buildings \[USD\].
    pub capex_usd: f64,
    /// Operator electricity cost \[USD\].
    pub power_cost_usd: f64,
    /// Units finished per product and calendar year \[units\].
    pub production_by_year: BTreeMap<String, BTreeMap<String, u64>>,
    /// The fleet's installed units at the end, by product \[units\].
    pub fleet_end: BTreeMap<String, u64>,
    /// The fleet's capacity at the end \[H100e\].
    pub fleet_end_h100e: f64,
    /// Units delivered to the fleet's owner but waiting for power at the end \[units\].
    pub stranded_end: u64,
    /// Days on which each constraint held back the most output \[days\].
    pub binding_constraint_days: BTreeMap<String, i64>,
    /// Users at the end by segment \[users\].
    pub users_end: BTreeMap<String, f64>,
}

/// Keys of [`Summary`] an assertion (`expect:`) can test, by kind, in the order Monte Carlo
/// outputs list them. With [`SUMMARY_OTHER`] they name every key of `summary.json` once: a
/// test below compares them with the keys [`Summary`] serialises.
pub const SUMMARY_NUMBERS: &[&str] = &[
    "days",
    "shortage_days",
    "peak_unserved_share",
    "pause_days",
    "lost_signups",
    "lost_revenue_usd",
    "lost_revenue_pause_usd",
    "lost_revenue_churn_usd",
    "revenue_usd",
    "lead_time_peak_days",
    "capex_usd",
    "power_cost_usd",
    "fleet_end_h100e",
    "stranded_end",
    "realised_lead_time_peak_days",
    "orders_placed_units",
    "orders_cancelled_units",
    "phantom_share_peak",
];
/// Date-valued keys (or null).
pub const SUMMARY_DATES: &[&str] = &["first_shortage", "last_shortage", "lead_time_peak_date"];
/// Map-valued keys, reached with dotted paths, and what their keys name.
pub const SUMMARY_MAPS: &[(&str, &str)] = &[
    ("fleet_end", "product"),
    ("production_by_year", "product"),
    ("binding_constraint_days", "constraint"),
    ("users_end", "segment"),
    ("bullwhip_ratio", "product"),
];
/// Keys of [`Summary`] that no assertion tests: what the run was, and details of the above.
pub const SUMMARY_OTHER: &[&str] = &[
    "scenario",
    "seed",
    "start",
    "end",
    "pause_episodes",
    "lead_time_peak_product",
];

/// Everything one run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Names of numeric columns of the daily series (units in the names).
    pub columns: Vec<String>,
    /// Names of text columns.
    pub text_columns: Vec<String>,
    /// Numeric values, row by row (`days × columns.len()`).
    pub values: Vec<f64>,
    /// Text values, row by row.
    pub text_values: Vec<&'static str>,
    /// The date of each row (YYYY-MM-DD).
    pub dates: Arc<Dates>,
    /// Event log, in date order.
    pub events: Vec<EventRecord>,
    /// Allocation ledger, in date order.
    pub ledger: Vec<LedgerRow>,
    /// The summary.
    pub summary: Summary,
    /// Unit accounts per product at the end, for conservation checks.
    pub accounts: Vec<Accounts>,
}

/// A day's row of the daily table as recorded, with the table's column names: what
/// [`simulate_observed`](super::simulate_observed)'s callback is given once the day is done.
/// The values are those the run's [`RunOutput::values`] and [`RunOutput::text_values`]
/// hold for that day, and `date` is its entry in [`RunOutput::dates`].
#[derive(Debug, Clone, Copy)]
pub struct DayRow<'a> {
    /// The day \[tick\].
    pub day: Time,
    /// Its date (YYYY-MM-DD).
    pub date: &'a str,
    /// Names of the numeric columns.
    pub columns: &'a [String],
    /// Names of the text columns.
    pub text_columns: &'a [String],
    /// The day's numeric values, one a column.
    pub values: &'a [f64],
    /// The day's text values, one a text column.
    pub text: &'a [&'static str],
    /// The ledger so far: the rows of this day and of the days before it, in the order they
    /// were written (empty when the run keeps no ledger). The run's [`RunOutput::ledger`]
    /// begins with them.
    pub ledger: &'a [LedgerRow],
}

impl RunOutput {
    /// Index of a numeric column by name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The values of a numeric column, day by day.
    pub fn series(&self, name: &str) -> Option<Vec<f64>> {
        let i = self.column(name)?;
        let n = self.columns.len();
        Some(self.values.iter().skip(i).step_by(n).copied().collect())
    }
}

/// Receives columns: names once, values every day.
///
/// [`World::emit_row`] is generic over the sink, so the daily [`Values`] sink compiles to
/// plain stores: its name closures are never called and cost nothing.
pub(crate) trait Sink {
    fn num(&mut self, name: impl Fn() -> String, v: f64);
    fn text(&mut self, name: impl Fn() -> String, v: &'static str);
    /// A column whose value takes a loop to compute: computed only if the sink keeps it.
    #[inline]
    fn num_with(&mut self, name: impl Fn() -> String, v: impl FnOnce() -> f64) {
        self.num(name, v());
    }
}

struct Names {
    num: Vec<String>,
    text: Vec<String>,
}

impl Sink for Names {
    fn num(&mut self, name: impl Fn() -> String, _v: f64) {
        self.num.push(name());
    }
    fn num_with(&mut self, name: impl Fn() -> String, _v: impl FnOnce() -> f64) {
        self.num.push(name());
    }
    fn text(&mut self, name: impl Fn() -> String, _v: &'static str) {
        self.text.push(name());
    }
}

/// Fills a day's row, whose cells are already there.
struct Values<'a> {
    num: &'a mut [f64],
    text: &'a mut [&'static str],
    /// Cells filled so far.
    n: usize,
    t: usize,
}

impl Sink for Values<'_> {
    #[inline]
    fn num(&mut self, _name: impl Fn() -> String, v: f64) {
        // Invariant: a recorded value is finite (the checks at load keep every input finite
        // and of bounded magnitude; an `inf` here is a model bug, not an input).
        debug_assert!(
            v.is_finite(),
            "column `{}` recorded the non-finite value {v}",
            _name()
        );
        self.num[self.n] = v;
        self.n += 1;
    }
    #[inline]
    fn text(&mut self, _name: impl Fn() -> String, v: &'static str) {
        self.text[self.t] = v;
        self.t += 1;
    }
}

/// Appends a day's row of the kept columns only ([`World::keep_only`]), in order, to the
/// series (reserved for the whole run), and computes no column it does not keep that is
/// written with [`Sink::num_with`].
struct Picked<'a> {
    values: &'a mut Vec<f64>,
    /// Whether each column of the whole row is kept.
    keep: &'a [bool],
    /// Columns of the whole row passed.
    i: usize,
}

impl Sink for Picked<'_> {
    #[inline]
    fn num(&mut self, _name: impl Fn() -> String, v: f64) {
        if self.keep[self.i] {
            self.values.push(v);
        }
        self.i += 1;
    }
    #[inline]
    fn num_with(&mut self, _name: impl Fn() -> String, v: impl FnOnce() -> f64) {
        if self.keep[self.i] {
            self.values.push(v());
        }
        self.i += 1;
    }
    #[inline]
    fn text(&mut self, _name: impl Fn() -> String, _v: &'static str) {}
}

/// Day scratch values written by the steps, and the growing outputs.
#[derive(Debug, Default)]
pub struct Recorder {
    pub(crate) line_capacity: Vec<f64>,
    pub(crate) line_used: Vec<f64>,
    pub(crate) hbm_supply: f64,
    pub(crate) hbm_used: f64,
    pub(crate) product_binding: Vec<Option<Constraint>>,
    pub(crate) production_started: Vec<f64>,
    pub(crate) shipped_today: Vec<f64>,
    pub(crate) ordered_today: Vec<f64>,
    pub(crate) cancelled_today: Vec<f64>,
    /// This week's orders and shipments per product, and the weeks so far, for the bullwhip
    /// ratio [units].
    week_orders: Vec<f64>,
    week_shipped: Vec<f64>,
    weekly_orders: Vec<Vec<f64>>,
    weekly_shipped: Vec<Vec<f64>>,
    /// Largest phantom share of the order book so far [share].
    pub(crate) phantom_share_peak: f64,
    /// Longest realised lead time so far [days].
    pub(crate) realised_lead_peak: f64,
    pub(crate) signups: Vec<f64>,
    pub(crate) paused_today: Vec<bool>,
    pub(crate) demand: Vec<f64>,
    pub(crate) served: Vec<f64>,
    pub(crate) capacity: f64,
    pub(crate) reserved: f64,
    pub(crate) rate_limited: f64,
    pub(crate) total_demand: f64,
    pub(crate) total_served: f64,
    pub(crate) load_ratio: f64,
    pub(crate) revenue: f64,
    pub(crate) lost_revenue_pause: f64,
    pub(crate) lost_revenue_churn: f64,
    pub(crate) power_cost: f64,
    pub(crate) power_in_use_mw: f64,
    pub(crate) power_available_mw: f64,
    pub(crate) capex: f64,
    pub(crate) capex_cum: f64,
    pub(crate) queries_served: f64,
    pub(crate) cost_per_query: f64,
    pub(crate) events: Vec<EventRecord>,
    pub(crate) ledger: Vec<LedgerRow>,
    /// Whether allocations are written to the ledger (not in a lean run: see
    /// [`World::keep_only`]).
    pub(crate) ledger_off: bool,
    /// The day whose row is being written.
    row_day: Time,
    /// The columns of the whole row a lean run keeps (`None`: all, with the text columns).
    keep: Option<Vec<bool>>,
    columns: usize,
    text_columns: usize,
    /// Column names, declared once at the start.
    names: (Vec<String>, Vec<String>),
    /// What the summary needs from the series, gathered row by row.
    scan: SeriesScan,
    values: Vec<f64>,
    text_values: Vec<&'static str>,
    /// Days each constraint bound, indexed by [`Constraint::index`].
    binding_days: [i64; Constraint::ALL.len()],
    /// Units finished per product and calendar year of the run (index 0: the first year).
    pub(crate) finished_by_year: Vec<Vec<u64>>,
    days_in_week: u32,
}

impl Recorder {
    pub(crate) fn new(s: &Scenario) -> Self {
        let np = s.products.len();
        let ns = s.segments.len();
        Recorder {
            line_capacity: vec![0.0; s.lines.len()],
            line_used: vec![0.0; s.lines.len()],
            product_binding: vec![None; np],
            production_started: vec![0.0; np],
            shipped_today: vec![0.0; np],
            ordered_today: vec![0.0; np],
            cancelled_today: vec![0.0; np],
            week_orders: vec![0.0; np],
            week_shipped: vec![0.0; np],
            weekly_orders: (0..np)
                .map(|_| Vec::with_capacity(s.days.max(0) as usize / 7 + 1))
                .collect(),
            weekly_shipped: (0..np)
                .map(|_| Vec::with_capacity(s.days.max(0) as usize / 7 + 1))
                .collect(),
            signups: vec![0.0; ns],
            paused_today: vec![false; ns],
            demand: vec![0.0; ns],
            served: vec![0.0; ns],
            ..Default::default()
        }
    }

    pub(crate) fn end_day(&mut self, binding: Constraint) {
        self.binding_days[binding.index()] += 1;
        self.production_started.fill(0.0);
        for p in 0..self.shipped_today.len() {
            self.week_orders[p] += self.ordered_today[p];
            self.week_shipped[p] += self.shipped_today[p];
        }
        self.days_in_week += 1;
        if self.days_in_week == 7 {
            self.days_in_week = 0;
            for p in 0..self.week_orders.len() {
                self.weekly_orders[p].push(self.week_orders[p]);
                self.weekly_shipped[p].push(self.week_shipped[p]);
            }
            self.week_orders.fill(0.0);
            self.week_shipped.fill(0.0);
        }
        self.shipped_today.fill(0.0);
        self.ordered_today.fill(0.0);
        self.cancelled_today.fill(0.0);
    }

    /// Each product's bullwhip ratio: the variance of its weekly orders over the variance
    /// of its weekly shipments (whole weeks of the run); `None` without shipments that vary.
    pub(crate) fn bullwhip(&self, p: usize) -> Option<f64> {
        let var = |v: &[f64]| {
            let n = v.len() as f64;
            if n < 2.0 {
                return 0.0;
            }
            let mean = v.iter().sum::<f64>() / n;
            v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)
        };
        let shipped = var(&self.weekly_shipped[p]);
        (shipped > 0.0).then(|| var(&self.weekly_orders[p]) / shipped)
    }
}

/// What the summary needs from the daily series, gathered as each row is written rather
/// than by a pass over the whole series at the end: the same values (read back from the
/// row), the same additions in the same (day) order.
#[derive(Debug, Default)]
struct SeriesScan {
    /// Columns read: demand, unserved, lost revenue (pauses, churn), revenue, power cost,
    /// and each product's lead time.
    c_demand: Option<usize>,
    c_unserved: Option<usize>,
    c_lost_pause: Option<usize>,
    c_lost_churn: Option<usize>,
    c_revenue: Option<usize>,
    c_power_cost: Option<usize>,
    c_lead: Vec<Option<usize>>,
    first_shortage: Option<Time>,
    last_shortage: Option<Time>,
    shortage_days: i64,
    peak_unserved: f64,
    lost_pause: f64,
    lost_churn: f64,
    revenue: f64,
    power_cost: f64,
    /// Longest lead time so far, with its day and product.
    lead_peak: (f64, Option<(Time, usize)>),
}

impl SeriesScan {
    fn new(s: &Scenario, columns: &[String]) -> Self {
        let col = |name: &str| columns.iter().position(|c| c == name);
        SeriesScan {
            c_demand: col("demand_h100e"),
            c_unserved: col("unserved_h100e"),
            c_lost_pause: col("lost_revenue_pause_usd_per_day"),
            c_lost_churn: col("lost_revenue_churn_usd_per_day"),
            c_revenue: col("revenue_usd_per_day"),
            c_power_cost: col("power_cost_usd_per_day"),
            c_lead: s
                .products
                .iter()
                .map(|p| col(&format!("lead_time_days[{}]", p.name)))
                .collect(),
            ..Default::default()
        }
    }

    /// The columns it reads.
    fn reads(&self) -> impl Iterator<Item = usize> + '_ {
        [
            self.c_demand,
            self.c_unserved,
            self.c_lost_pause,
            self.c_lost_churn,
            self.c_revenue,
            self.c_power_cost,
        ]
        .into_iter()
        .chain(self.c_lead.iter().copied())
        .flatten()
    }

    /// Takes in the row of day `day`.
    fn add(&mut self, day: Time, row: &[f64]) {
        let get = |c: Option<usize>| c.map_or(0.0, |c| row[c]);
        let d = get(self.c_demand);
        let u = get(self.c_unserved);
        if d > 0.0 {
            let share = u / d;
            self.peak_unserved = self.peak_unserved.max(share);
            if share > SHORTAGE_THRESHOLD {
                self.shortage_days += 1;
                self.first_shortage.get_or_insert(day);
                self.last_shortage = Some(day);
            }
        }
        self.lost_pause += get(self.c_lost_pause);
        self.lost_churn += get(self.c_lost_churn);
        self.revenue += get(self.c_revenue);
        self.power_cost += get(self.c_power_cost);
        for (p, c) in self.c_lead.iter().enumerate() {
            let v = get(*c);
            if v > self.lead_peak.0 {
                self.lead_peak = (v, Some((day, p)));
            }
        }
    }
}

/// The most bytes a text column's value takes: the longest constraint name, `packaging`
/// (the text columns are the binding constraints). Buffers are given room by it.
pub const TEXT_VALUE_MAX_LEN: usize = 9;

fn binding_str(c: Option<Constraint>) -> &'static str {
    c.map_or("", Constraint::as_str)
}

/// `YYYY-MM-DD`, as chrono's `%Y-%m-%d` writes it (which it still does outside years
/// 0..=9999), without parsing a format string.
pub(crate) fn ymd(d: NaiveDate) -> String {
    let y = d.year();
    if !(0..=9999).contains(&y) {
        return d.format("%Y-%m-%d").to_string();
    }
    ymd_text(y as u32, d.month(), d.day())
}

/// `YYYY-MM-DD` of a year in 0..=9999, a month and a day.
fn ymd_text(y: u32, m: u32, dd: u32) -> String {
    ymd_bytes(y, m, dd).as_str().to_owned()
}

/// `YYYY-MM-DD` of a year in 0..=9999, a month and a day, without allocating.
fn ymd_bytes(y: u32, m: u32, dd: u32) -> Ymd {
    let digit = |v: u32| b'0' + (v % 10) as u8;
    Ymd([
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(dd / 10),
        digit(dd),
    ])
}

/// A date's ten ASCII bytes.
struct Ymd([u8; 10]);

impl Ymd {
    fn as_str(&self) -> &str {
        // ASCII digits and dashes: always valid UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The most ledger rows a day can write: one per (product, buyer) pair the mixes allow, and
/// one more where a contracted floor may apply.
pub(crate) fn ledger_rows_per_day(s: &Scenario) -> usize {
    s.buyers
        .iter()
        .map(|b| {
            b.mix
                .iter()
                .map(|&(p, _)| 1 + b.contracts.iter().any(|&(cp, _)| cp == p) as usize)
                .sum::<usize>()
        })
        .sum()
}

/// The ledger rows a run reserves room for up front: at most one a day for each (product,
/// buyer) pair the mixes allow and one more where a contracted floor may apply, capped at
/// 2^20 rows (beyond which the ledger grows amortised).
pub fn ledger_capacity(s: &Scenario) -> usize {
    usize::try_from(s.days)
        .unwrap_or(0)
        .saturating_mul(ledger_rows_per_day(s))
        .min(1 << 20)
}

/// Room for a run's two largest outputs, the daily table and the ledger, made on another
/// thread while the run goes on ([`super::simulate_observed_with_room`]): their pages are
/// touched there, so that the run does not take those page faults itself. The run moves
/// what it recorded so far into each buffer when it next finds it given, at the end of a
/// day, and keeps its own buffer if the room is smaller than what it reserved. Moving
/// changes no value: only where the values are kept.
///
/// `report::simulate_with_timeseries` gives it from its formatting task, idle until the
/// first rows come: a page fault cost about a microsecond on the machine of
/// `docs/performance.md`, and the run took some 400 of them for these two buffers.
#[derive(Debug, Default)]
pub struct Room {
    table: Mutex<Option<Vec<f64>>>,
    ledger: Mutex<Option<Vec<LedgerRow>>>,
    /// Set when the run is over: room given then would be made for nothing.
    closed: AtomicBool,
}

impl Room {
    /// Gives room for the daily table: `len` numbers (the run's days × its columns), every
    /// page touched.
    pub fn give_table(&self, len: usize) {
        // Written with a number other than 0: zeros could be had as fresh zeroed pages,
        // which the kernel maps only when they are written.
        self.give(&self.table, len, len, 1.0);
    }

    /// Gives room for the ledger: `capacity` rows ([`ledger_capacity`] of the run's
    /// scenario), the pages of the first `touched` of them touched.
    pub fn give_ledger(&self, capacity: usize, touched: usize) {
        let blank = LedgerRow {
            day: 1,
            vendor: 0,
            product: 0,
            buyer: 0,
            units: 1,
            rule: Cow::Borrowed(""),
            price_usd: 1.0,
        };
        self.give(&self.ledger, capacity, touched, blank);
    }

    /// Says the run is over: what is given from now on is not made.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    /// Puts in `slot` a buffer of `capacity`, its first `touched` elements written with
    /// `fill` (then cleared), unless the run is over or the system lends no such room.
    fn give<T: Clone>(
        &self,
        slot: &Mutex<Option<Vec<T>>>,
        capacity: usize,
        touched: usize,
        fill: T,
    ) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        let mut buffer = Vec::new();
        if buffer.try_reserve_exact(capacity).is_err() {
            return;
        }
        buffer.resize(touched.min(capacity), fill);
        buffer.clear();
        if let Ok(mut slot) = slot.lock() {
            *slot = Some(buffer);
        }
    }
}

/// Moves `own` into the buffer given in `slot`, if one is there and can hold all that `own`
/// was reserved for (else leaves it); never waits for the lock. Whether a buffer was found.
fn take_into<T>(slot: &Mutex<Option<Vec<T>>>, own: &mut Vec<T>) -> bool {
    let Ok(mut slot) = slot.try_lock() else {
        return false;
    };
    let Some(mut given) = slot.take() else {
        return false;
    };
    if given.capacity() >= own.capacity() {
        given.append(own);
        *own = given;
    }
    true
}

#[cfg(test)]
impl Room {
    /// Where the table's and the ledger's room given and not yet taken start.
    fn given(&self) -> (Option<*const f64>, Option<*const LedgerRow>) {
        let table = self.table.lock().expect("lock");
        let ledger = self.ledger.lock().expect("lock");
        (
            table.as_ref().map(|v| v.as_ptr()),
            ledger.as_ref().map(|v| v.as_ptr()),
        )
    }
}

/// What a run has taken of its [`Room`] so far.
#[derive(Debug, Default)]
pub(crate) struct RoomTaken {
    table: bool,
    ledger: bool,
}

impl RoomTaken {
    pub(crate) fn all(&self) -> bool {
        self.table && self.ledger
    }
}

/// The date of each day of a run, `YYYY-MM-DD`: one text of them all, side by side, and
/// where each ends (two allocations, made once per scenario and shared by its replications,
/// not one per day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dates {
    text: String,
    ends: Vec<usize>,
}

impl Dates {
    /// How many days.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The date of day `i`, if the run has it.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }

    /// The last day's date, if any.
    pub fn last(&self) -> Option<&str> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The dates in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| &self[i])
    }

    fn push(&mut self, date: &str) {
        self.text.push_str(date);
        self.ends.push(self.text.len());
    }
}

impl std::ops::Index<usize> for Dates {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(d) => d,
            None => panic!("day {i} is beyond the run's {} dates", self.len()),
        }
    }
}

/// The date of each day of the run, `YYYY-MM-DD`, counted on from the first day
/// (proleptic Gregorian, as chrono; chrono itself outside years 0..=9999).
pub(crate) fn dates(s: &Scenario) -> Dates {
    let days = usize::try_from(s.days).unwrap_or(0);
    let mut out = Dates {
        text: String::with_capacity(days * 10),
        ends: Vec::with_capacity(days),
    };
    let first = s.calendar.date(0);
    let (mut y, mut m, mut d) = (first.year(), first.month(), first.day());
    for t in 0..s.days {
        if (0..=9999).contains(&y) {
            out.push(ymd_bytes(y as u32, m, d).as_str());
        } else {
            out.push(&ymd(s.calendar.date(t)));
        }
        d += 1;
        if d > days_in_month(y, m) {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
    out
}

/// Days in month `m` (1-12) of year `y`, Gregorian leap years.
fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl World<'_> {
    /// Reserves the run's growing outputs up front, so that recording a day seldom
    /// allocates: the daily series (exact: days × columns, numbers and texts), the ledger (at most one row
    /// a day per (product, buyer) pair the mixes allow, and one more where a contracted floor
    /// may apply; capped at 2^20 rows, beyond which it grows amortised), and the event log
    /// (the dated events plus a few pauses; grows amortised beyond).
    pub(crate) fn reserve_outputs(&mut self) {
        let s = self.s;
        let days = usize::try_from(s.days).unwrap_or(0);
        self.rec
            .values
            .reserve_exact(days * self.rec.columns.max(1));
        self.rec
            .text_values
            .reserve_exact(days * self.rec.text_columns.max(1));
        if !self.rec.ledger_off {
            self.rec.ledger.reserve_exact(ledger_capacity(s));
        }
        let dated = self.expansions.len()
            + s.launches.len()
            + 2 * (s.export_rules.len() + s.reservations.len());
        self.rec.events.reserve(dated + 8 * s.segments.len().max(1));
    }

    /// Moves the daily table and the ledger recorded so far into the room given in `room`
    /// that this run has not taken yet (a buffer is taken when it can hold all that this run
    /// reserved, else left). Never waits: a buffer locked or not given yet is looked for
    /// again at the end of the next day.
    pub(crate) fn take_room(&mut self, room: &Room, taken: &mut RoomTaken) {
        taken.table = taken.table || take_into(&room.table, &mut self.rec.values);
        taken.ledger = taken.ledger || take_into(&room.ledger, &mut self.rec.ledger);
    }

    /// Declares (names) or fills (values) every column of a day's row, in order.
    pub(crate) fn emit_row(&self, sink: &mut impl Sink) {
        let s = self.s;
        let r = &self.rec;
        sink.num(|| "demand_h100e".into(), r.total_demand);
        sink.num(|| "capacity_h100e".into(), r.capacity);
        sink.num(|| "reserved_h100e".into(), r.reserved);
        sink.num(|| "served_h100e".into(), r.total_served);
        sink.num(
            || "unserved_h100e".into(),
            (r.total_demand - r.total_served).max(0.0),
        );
        sink.num(|| "rate_limited_h100e".into(), r.rate_limited);
        let util = if r.capacity > 0.0 {
            r.total_served / r.capacity
        } else {
            0.0
        };
        sink.num(|| "utilisation".into(), util);
        sink.num(|| "load_ratio".into(), r.load_ratio.min(1000.0));
        for (k, seg) in s.segments.iter().enumerate() {
            let st = &self.segments[k];
            let n = seg.name.as_str();
            sink.num(|| format!("users[{n}]"), st.users);
            sink.num(|| format!("signups_per_day[{n}]"), r.signups[k]);
            let paused = if r.paused_today[k] { 1.0 } else { 0.0 };
            sink.num(|| format!("paused[{n}]"), paused);
            sink.num(|| format!("waitlist_users[{n}]"), st.waitlist);
            sink.num(|| format!("lost_signups_cum[{n}]"), st.lost_signups);
            sink.num(|| format!("demand_h100e[{n}]"), r.demand[k]);
            sink.num(|| format!("served_h100e[{n}]"), r.served[k]);
        }
        for (li, line) in s.lines.iter().enumerate() {
            let n = line.name.as_str();
            sink.num(
                || format!("packaging_capacity_wafers_per_day[{n}]"),
                r.line_capacity[li],
            );
            sink.num(
                || format!("packaging_used_wafers_per_day[{n}]"),
                r.line_used[li],
            );
            // The wafers the orders placed today need: the line's demand.
            sink.num_with(
                || format!("packaging_ordered_wafers_per_day[{n}]"),
                || {
                    let mut wafers = 0.0;
                    for (p, prod) in s.products.iter().enumerate() {
                        // Nothing ordered adds nothing (+0.0): no yield to look up.
                        if prod.line != Some(li) || r.ordered_today[p] == 0.0 {
                            continue;
                        }
                        let upw = prod.units_per_wafer(r.row_day);
                        if upw > 0.0 {
                            wafers += r.ordered_today[p] / upw;
                        }
                    }
                    wafers
                },
            );
        }
        if s.hbm_stacks_per_month.is_some() {
            sink.num(|| "hbm_supply_stacks_per_day".into(), r.hbm_supply);
            sink.num(|| "hbm_used_stacks_per_day".into(), r.hbm_used);
        }
        let fleet = &self.fleet;
        for (p, prod) in s.products.iter().enumerate() {
            let n = prod.name.as_str();
            sink.num(
                || format!("production_units_per_day[{n}]"),
                r.production_started[p],
            );
            sink.num(|| format!("shipped_units_per_day[{n}]"), r.shipped_today[p]);
            sink.num(|| format!("ordered_units_per_day[{n}]"), r.ordered_today[p]);
            sink.num(
                || format!("cancelled_units_per_day[{n}]"),
                r.cancelled_today[p],
            );
            sink.num_with(
                || format!("backlog_units[{n}]"),
                || self.open_units[p] as f64,
            );
            sink.num(|| format!("lead_time_days[{n}]"), self.lead_time_days[p]);
            sink.num(
                || format!("realised_lead_time_days[{n}]"),
                self.vendor.products[p].realised_lead_days,
            );
            sink.num(|| format!("price_usd[{n}]"), self.price_usd[p]);
            sink.num_with(
                || format!("installed_units[{n}]"),
                || {
                    let mut installed = 0u64;
                    for &b in fleet {
                        for &k in &self.buyers[b].sites {
                            installed += self.sites[k].installed[p];
                        }
                    }
                    installed as f64
                },
            );
            sink.text(
                || format!("binding[{n}]"),
                binding_str(r.product_binding[p]),
            );
        }
        sink.num_with(
            || "phantom_share_of_backlog".into(),
            || self.phantom_share(),
        );
        // The fleet's units in three states, added up in one pass when first asked for.
        let totals = std::cell::OnceCell::new();
        let fleet_units = || {
            *totals.get_or_init(|| {
                let (mut stranded, mut transit, mut installing) = (0u64, 0u64, 0u64);
                for &b in fleet {
                    stranded += self.buyers[b].stranded.iter().map(|x| x.1).sum::<u64>();
                    transit += self.buyers[b].in_transit.iter().sum::<u64>();
                    for &k in &self.buyers[b].sites {
                        installing += self.sites[k].installing.iter().sum::<u64>();
                    }
                }
                (stranded, transit, installing)
            })
        };
        sink.num_with(|| "stranded_units".into(), || fleet_units().0 as f64);
        sink.num_with(|| "in_transit_units".into(), || fleet_units().1 as f64);
        sink.num_with(|| "installing_units".into(), || fleet_units().2 as f64);
        sink.num(|| "power_in_use_mw".into(), r.power_in_use_mw);
        sink.num(
            || "power_available_mw".into(),
            r.power_available_mw.min(1e9),
        );
        sink.num(|| "capex_usd_per_day".into(), r.capex);
        sink.num(|| "capex_cum_usd".into(), r.capex_cum);
        sink.num(|| "power_cost_usd_per_day".into(), r.power_cost);
        sink.num(|| "revenue_usd_per_day".into(), r.revenue);
        sink.num(
            || "lost_revenue_pause_usd_per_day".into(),
            r.lost_revenue_pause,
        );
        sink.num(
            || "lost_revenue_churn_usd_per_day".into(),
            r.lost_revenue_churn,
        );
        sink.num(|| "queries_served_per_day".into(), r.queries_served);
        sink.num(|| "cost_per_query_usd".into(), r.cost_per_query);
        sink.text(|| "binding_constraint".into(), self.day_binding.as_str());
    }

    /// Column names, declared once at the start.
    pub(crate) fn column_names(&self) -> (Vec<String>, Vec<String>) {
        let mut names = Names {
            num: Vec::new(),
            text: Vec::new(),
        };
        self.emit_row(&mut names);
        (names.num, names.text)
    }

    /// The phantom share of all open orders [share].
    pub(crate) fn phantom_share(&self) -> f64 {
        let phantom: u64 = self.vendor.products.iter().map(|b| b.phantom_units).sum();
        let open: u64 = self.open_units.iter().sum();
        if open > 0 {
            phantom as f64 / open as f64
        } else {
            0.0
        }
    }

    /// The row recorded last, on day `day`.
    pub(crate) fn last_row(&self, day: Time) -> DayRow<'_> {
        let (n, m) = (self.rec.columns, self.rec.text_columns);
        let (v, t) = (&self.rec.values, &self.rec.text_values);
        let date = usize::try_from(day)
            .ok()
            .and_then(|d| self.dates.get(d))
            .unwrap_or("");
        DayRow {
            day,
            date,
            columns: &self.rec.names.0,
            text_columns: &self.rec.names.1,
            values: &v[v.len().saturating_sub(n)..],
            text: &t[t.len().saturating_sub(m)..],
            ledger: &self.rec.ledger,
        }
    }

    /// Appends today's row.
    pub(crate) fn record_day(&mut self, binding: Constraint) {
        debug_assert!(
            self.backlog_units
                .iter()
                .zip(&self.open_units)
                .all(|(b, &o)| b.iter().sum::<u64>() == o),
            "open_units is not the sum of backlog_units"
        );
        self.rec.phantom_share_peak = self.rec.phantom_share_peak.max(self.phantom_share());
        for b in &self.vendor.products {
            self.rec.realised_lead_peak = self.rec.realised_lead_peak.max(b.realised_lead_days);
        }
        self.rec.capex_cum += self.rec.capex;
        self.rec.row_day = (self.rec.values.len() / self.rec.columns.max(1)) as Time;
        let mut values = std::mem::take(&mut self.rec.values);
        let mut text = std::mem::take(&mut self.rec.text_values);
        if values.capacity() == 0 {
            values.reserve(self.s.days as usize * self.rec.columns.max(1));
        }
        if text.capacity() == 0 {
            text.reserve(self.s.days as usize * self.rec.text_columns.max(1));
        }
        // The row's cells, then its values (the same columns as the header, in order).
        let (n0, t0) = (values.len(), text.len());
        if let Some(keep) = self.rec.keep.as_deref() {
            let mut row = Picked {
                values: &mut values,
                keep,
                i: 0,
            };
            self.emit_row(&mut row);
            debug_assert_eq!((row.i, values.len()), (keep.len(), n0 + self.rec.columns));
        } else {
            values.resize(n0 + self.rec.columns, 0.0);
            text.resize(t0 + self.rec.text_columns, "");
            let mut row = Values {
                num: &mut values[n0..],
                text: &mut text[t0..],
                n: 0,
                t: 0,
            };
            self.emit_row(&mut row);
            debug_assert_eq!((row.n, row.t), (self.rec.columns, self.rec.text_columns));
        }
        let day = (n0 / self.rec.columns.max(1)) as Time;
        self.rec.scan.add(day, &values[n0..]);
        self.rec.values = values;
        self.rec.text_values = text;
        self.rec.end_day(binding);
    }

    /// Makes this a lean run: of the daily columns it records only those named in `keep`
    /// (sorted) and those the summary reads, no text column and no ledger; the summary and
    /// the kept columns are those of the whole run, value for value. What a Monte Carlo
    /// replication needs (its bands' series and its summary), without writing the rest.
    pub(crate) fn keep_only(&mut self, keep: &[String]) {
        let (num, _text) = std::mem::take(&mut self.rec.names);
        let mut mask: Vec<bool> = num.iter().map(|n| keep.binary_search(n).is_ok()).collect();
        for c in SeriesScan::new(self.s, &num).reads() {
            mask[c] = true;
        }
        let kept = num
            .into_iter()
            .zip(&mask)
            .filter_map(|(n, &k)| k.then_some(n))
            .collect();
        self.set_columns(kept, Vec::new());
        self.rec.keep = Some(mask);
        self.rec.ledger_off = true;
    }

    /// Sets the columns, declared once at the start.
    pub(crate) fn set_columns(&mut self, num: Vec<String>, text: Vec<String>) {
        self.rec.columns = num.len();
        self.rec.text_columns = text.len();
        self.rec.scan = SeriesScan::new(self.s, &num);
        self.rec.names = (num, text);
    }

    /// Closes open episodes and builds the run's output.
    pub(crate) fn finish(mut self) -> RunOutput {
        let s = self.s;
        let (columns, text_columns) = std::mem::take(&mut self.rec.names);
        let last = s.days - 1;
        let date = |t: Time| ymd(s.calendar.date(t));
        for (k, seg) in s.segments.iter().enumerate() {
            let st = &self.segments[k];
            if st.paused && st.pause_start <= last {
                self.episodes.push(PauseEpisode {
                    segment: seg.name.clone(),
                    start: st.pause_start,
                    end: last,
                    cause: st.pause_cause.clone(),
                });
            }
        }
        self.episodes.sort_by_key(|e| (e.start, e.segment.clone()));
        let mut events = std::mem::take(&mut self.rec.events);
        events.retain(|e| e.day <= last);
        events.sort_by_key(|e| e.day);
        let values = std::mem::take(&mut self.rec.values);
        let text_values = std::mem::take(&mut self.rec.text_values);
        let SeriesScan {
            first_shortage,
            last_shortage,
            shortage_days,
            peak_unserved,
            lost_pause,
            lost_churn,
            revenue,
            power_cost,
            lead_peak,
            ..
        } = std::mem::take(&mut self.rec.scan);
        let pause_episodes: Vec<EpisodeSummary> = self
            .episodes
            .iter()
            .map(|e| EpisodeSummary {
                segment: e.segment.clone(),
                start: date(e.start),
                end: date(e.end),
                days: e.end - e.start + 1,
                cause: e.cause.clone(),
            })
            .collect();
        let fleet = &self.fleet;
        let mut fleet_end = BTreeMap::new();
        let mut fleet_h100e = 0.0;
        for (p, prod) in s.products.iter().enumerate() {
            let units: u64 = fleet
                .iter()
                .flat_map(|&b| self.buyers[b].sites.iter())
                .map(|&k| self.sites[k].installed[p])
                .sum();
            fleet_end.insert(prod.name.clone(), units);
            fleet_h100e += units as f64 * prod.h100e;
        }
        let stranded_end = fleet
            .iter()
            .map(|&b| self.buyers[b].stranded.iter().map(|x| x.1).sum::<u64>())
            .sum();
        let mut production_by_year = BTreeMap::new();
        let first_year = self.year_of_day.first().copied().unwrap_or(0);
        for (p, prod) in s.products.iter().enumerate() {
            // Only the years in which units finished (every completion adds at least one).
            let years: BTreeMap<String, u64> = self.rec.finished_by_year[p]
                .iter()
                .enumerate()
                .filter(|&(_, &u)| u > 0)
                .map(|(i, &u)| ((first_year + i as i32).to_string(), u))
                .collect();
            production_by_year.insert(prod.name.clone(), years);
        }
        let binding_constraint_days = Constraint::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), self.rec.binding_days[c.index()]))
            .collect();
        let summary = Summary {
            scenario: s.name.clone(),
            seed: s.seed,
            start: date(0),
            end: date(last),
            days: s.days,
            first_shortage: first_shortage.map(date),
            last_shortage: last_shortage.map(date),
            shortage_days,
            peak_unserved_share: peak_unserved,
            pause_days: pause_episodes.iter().map(|e| e.days).sum(),
            pause_episodes,
            lost_signups: self.segments.iter().map(|g| g.lost_signups).sum(),
            lost_revenue_usd: lost_pause + lost_churn,
            lost_revenue_pause_usd: lost_pause,
            lost_revenue_churn_usd: lost_churn,
            revenue_usd: revenue,
            lead_time_peak_days: lead_peak.0,
            lead_time_peak_date: lead_peak.1.map(|(t, _)| date(t)),
            lead_time_peak_product: lead_peak.1.map(|(_, p)| s.products[p].name.clone()),
            realised_lead_time_peak_days: self.rec.realised_lead_peak,
            orders_placed_units: self.accounts.iter().map(|a| a.ordered).sum(),
            orders_cancelled_units: self.accounts.iter().map(|a| a.cancelled).sum(),
            phantom_share_peak: self.rec.phantom_share_peak,
            bullwhip_ratio: s
                .products
                .iter()
                .enumerate()
                .filter_map(|(p, prod)| self.rec.bullwhip(p).map(|r| (prod.name.clone(), r)))
                .collect(),
            capex_usd: self.rec.capex_cum,
            power_cost_usd: power_cost,
            production_by_year,
            fleet_end,
            fleet_end_h100e: fleet_h100e,
            stranded_end,
            binding_constraint_days,
            users_end: s
                .segments
                .iter()
                .zip(&self.segments)
                .map(|(g, st)| (g.name.clone(), st.users))
                .collect(),
        };
        let mut ledger = std::mem::take(&mut self.rec.ledger);
        // Rows are written day by day, so this normally finds them in order already.
        if !ledger.is_sorted_by_key(|l| l.day) {
            ledger.sort_by_key(|l| l.day);
        }
        RunOutput {
            columns,
            text_columns,
            values,
            text_values,
            dates: std::mem::take(&mut self.dates),
            events,
            ledger,
            summary,
            accounts: self
                .accounts
                .iter()
                .zip(&self.backlog_units)
                .map(|(a, open)| Accounts {
                    open: open.iter().sum(),
                    ..a.clone()
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::{SUMMARY_DATES, SUMMARY_MAPS, SUMMARY_NUMBERS, SUMMARY_OTHER, Summary};
    use super::{TEXT_VALUE_MAX_LEN, binding_str, days_in_month, ymd, ymd_text};

    /// A run takes its room whenever it comes (before the first day, or given during the run,
    /// the rows so far moved into it), keeps its own buffer when the room is too small or
    /// never comes, and is the same run in every case: each value and ledger row as without
    /// a room.
    #[test]
    fn a_run_is_the_same_whenever_its_room_comes() {
        use std::cell::Cell;

        use super::{Room, RunOutput, ledger_capacity};
        use crate::model::{simulate, simulate_observed_with_room};
        use crate::scenario::{Source, load};

        let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
        let s = &loaded.scenario;
        let plain = simulate(s, s.seed);
        let (len, cap) = (plain.values.len(), ledger_capacity(s));
        assert!(plain.ledger.len() > 1000 && cap >= plain.ledger.len());
        let same = |run: &RunOutput, how: &str| {
            assert!(
                run.values.len() == len
                    && run
                        .values
                        .iter()
                        .zip(&plain.values)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{how}: the values changed"
            );
            assert_eq!(run.ledger, plain.ledger, "{how}");
            assert_eq!(run.text_values, plain.text_values, "{how}");
            assert_eq!(run.events, plain.events, "{how}");
            assert_eq!(format!("{:?}", run.summary), format!("{:?}", plain.summary));
        };
        // Given before the first day.
        let room = Room::default();
        room.give_table(len);
        room.give_ledger(cap, 100);
        let (table, ledger) = room.given();
        let run = simulate_observed_with_room(s, s.seed, 0, &room, |_| {});
        same(&run, "given before");
        assert_eq!(Some(run.values.as_ptr()), table, "the table's room is used");
        assert_eq!(
            Some(run.ledger.as_ptr()),
            ledger,
            "the ledger's room is used"
        );
        assert_eq!(room.given(), (None, None), "both taken");
        // Given during the run, at the end of day 300, as the formatting task gives it:
        // taken at the end of day 301, with 302 rows and the ledger so far to move.
        let room = Room::default();
        let given = Cell::new((None, None));
        let run = simulate_observed_with_room(s, s.seed, 0, &room, |row| {
            if row.day == 300 {
                assert!(row.ledger.len() > 100, "a ledger to move");
                room.give_table(len);
                room.give_ledger(cap, 0);
                given.set(room.given());
            }
        });
        same(&run, "given during the run");
        let (table, ledger) = given.get();
        assert!(table.is_some() && ledger.is_some());
        assert_eq!(Some(run.values.as_ptr()), table, "the table's room is used");
        assert_eq!(
            Some(run.ledger.as_ptr()),
            ledger,
            "the ledger's room is used"
        );
        // Rooms smaller than the run reserved: the run's own buffers. The table's, one number
        // short, would have to grow on the last day if it were used; the ledger's holds
        // the whole ledger, so only the check of its size keeps it out.
        let room = Room::default();
        room.give_table(len - 1);
        room.give_ledger(plain.ledger.len() + 10, 0);
        let (table, ledger) = room.given();
        let run = simulate_observed_with_room(s, s.seed, 0, &room, |_| {});
        same(&run, "too small");
        assert_ne!(Some(run.values.as_ptr()), table, "too small: not used");
        assert_eq!(
            run.values.capacity(),
            len,
            "the run's own reservation, not grown"
        );
        assert_ne!(Some(run.ledger.as_ptr()), ledger, "too small: not used");
        assert_eq!(run.ledger.capacity(), cap, "the run's own reservation");
        // Never given, and given after the run: nothing is made then.
        let room = Room::default();
        let run = simulate_observed_with_room(s, s.seed, 0, &room, |_| {});
        same(&run, "never given");
        room.give_table(len);
        room.give_ledger(cap, 100);
        assert_eq!(room.given(), (None, None), "the run is over: nothing made");
    }

    /// The key lists name every key `Summary` serialises, once, each of the kind it says.
    #[test]
    fn text_values_fit_their_room() {
        use crate::model::Constraint::*;
        let all = [Packaging, Hbm, Logic, Capacity, Demand, Nothing];
        let longest = all.iter().map(|c| c.as_str().len()).max();
        assert_eq!(longest, Some(TEXT_VALUE_MAX_LEN));
        assert!(binding_str(None).len() <= TEXT_VALUE_MAX_LEN);
    }

    #[test]
    fn summary_key_lists_cover_the_summary() {
        let s: Summary = serde_json::from_slice(
            b"{\"scenario\":\"x\",\"seed\":0,\"start\":\"2024-01-01\",\"end\":\"2024-01-02\",\"days\":2,\"first_shortage\":null,\"last_shortage\":null,\"shortage_days\":0,\"peak_unserved_share\":0,\"pause_episodes\":[],\"pause_days\":0,\"lost_signups\":0,\"lost_revenue_usd\":0,\"lost_revenue_pause_usd\":0,\"lost_revenue_churn_usd\":0,\"revenue_usd\":0,\"lead_time_peak_days\":0,\"lead_time_peak_date\":null,\"lead_time_peak_product\":null,\"capex_usd\":0,\"power_cost_usd\":0,\"production_by_year\":{},\"fleet_end\":{},\"fleet_end_h100e\":0,\"stranded_end\":0,\"binding_constraint_days\":{},\"users_end\":{}}",
        )
        .expect("a summary");
        let v = serde_json::to_value(&s).expect("json");
        let serialised: Vec<&str> = v
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut listed: Vec<&str> = SUMMARY_NUMBERS
            .iter()
            .chain(SUMMARY_DATES)
            .chain(SUMMARY_OTHER)
            .copied()
            .chain(SUMMARY_MAPS.iter().map(|m| m.0))
            .collect();
        listed.sort_unstable();
        let mut unique = listed.clone();
        unique.dedup();
        assert_eq!(listed, unique, "a key is listed twice");
        let mut serialised = serialised;
        serialised.sort_unstable();
        assert_eq!(
            listed, serialised,
            "the SUMMARY_* lists are out of step with Summary"
        );
        for k in SUMMARY_NUMBERS {
            assert!(v[*k].is_number(), "{k}");
        }
        for k in SUMMARY_DATES {
            assert!(v[*k].is_null() || v[*k].is_string(), "{k}");
        }
        for (k, _) in SUMMARY_MAPS {
            assert!(v[*k].is_object(), "{k}");
        }
    }

    /// The hand-made date text is chrono's `%Y-%m-%d`, day after day across leap years and
    /// centuries.
    #[test]
    fn dates_match_chrono() {
        let mut d = NaiveDate::from_ymd_opt(1899, 12, 1).unwrap();
        let end = NaiveDate::from_ymd_opt(2101, 3, 31).unwrap();
        let (mut y, mut m, mut dd) = (1899, 12, 1);
        while d <= end {
            let chrono = d.format("%Y-%m-%d").to_string();
            assert_eq!(ymd(d), chrono);
            assert_eq!(ymd_text(y as u32, m, dd), chrono);
            dd += 1;
            if dd > days_in_month(y, m) {
                dd = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
            d = d.succ_opt().unwrap();
        }
        let far = NaiveDate::from_ymd_opt(12345, 6, 7).unwrap();
        assert_eq!(ymd(far), far.format("%Y-%m-%d").to_string());
    }

    /// The dates' table gives back each date as pushed, of any length, and nothing beyond.
    #[test]
    fn dates_table_gives_each_date_back() {
        let mut dates = super::Dates::default();
        assert!(dates.is_empty());
        assert_eq!(dates.get(0), None);
        let days = ["2023-01-01", "+12345-06-07", "2023-01-03"];
        for d in days {
            dates.push(d);
        }
        assert_eq!(dates.len(), 3);
        for (i, d) in days.iter().enumerate() {
            assert_eq!(dates.get(i), Some(*d));
            assert_eq!(&dates[i], *d);
        }
        assert_eq!(dates.get(3), None);
        assert_eq!(dates.iter().collect::<Vec<_>>(), days);
    }
}
