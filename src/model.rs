//! The capacity model: what the events mean.
//!
//! [`simulate`] builds a [`World`] from a resolved [`Scenario`], seeds the engine with the
//! dated events (launches, export rules, reservations, expansions, reviews), and for each
//! day runs that day's events, then the day's step. Each day runs, in order (see
//! `docs/model.md`):
//!
//! 1. what is dated that day: units finishing production, arriving or starting to serve
//!    (fixed-delay `Flow`s, kept out of the engine's heap), and the events (launches, rules,
//!    reviews, ...);
//! 2. [`supply`]: wafer starts on each packaging line, limited by packaging, HBM, logic and
//!    open orders; finished units appear after the product's cycle time;
//! 3. [`market`]: vendors allocate finished units to buyers, write the ledger, ship; lead time
//!    and price follow from the backlog;
//! 4. [`datacenter`]: retirements, failures, and delivered units placed where power allows;
//! 5. [`demand`]: sign-ups, churn, usage, serving by priority, pause policy, money;
//! 6. the day's row is recorded.
//!
//! The model knows nothing of YAML, files or charts: it returns a [`RunOutput`].
//!
//! A day's work allocates nothing once the run is under way (`tests/alloc.rs` checks it):
//! the steps reuse buffers sized at the start (`Scratch`), per-day lookups are tables
//! built once, and the growing outputs and state are reserved up front.

mod binomial;
pub mod datacenter;
pub mod demand;
pub mod disrupt;
mod legacy;
pub mod market;
pub(crate) mod num;
pub mod ordering;
pub mod procurement;
pub mod record;
pub mod supply;
pub mod vendor;

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::Datelike;
use rand_chacha::ChaCha8Rng;

use crate::engine::{Context, Model, Simulation, Time, random};
use crate::format::human;
use crate::scenario::types::{BuyerKind, Interpolation, Market, Scenario};

pub use record::{
    DayRow, EventRecord, LedgerRow, Room, RunOutput, Summary, TEXT_VALUE_MAX_LEN, ledger_capacity,
};
pub use vendor::CapacityPlan;

/// Something that happens at a tick: the engine's event type.
///
/// Events are small (indices only, 8 bytes) because the engine moves them around its heap:
/// text for the event log lives in tables of the [`World`]. Units that land after a fixed
/// delay (production, shipping, installation) are flows, not events (see `Flow`).
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// A buyer reviews its needs and orders.
    Review(u32),
    /// A launch event begins.
    Launch(u32),
    /// An export rule comes into force (`true`) or lapses (`false`).
    ExportRule(u32, bool),
    /// A reservation starts (`true`) or ends (`false`).
    Reservation(u32, bool),
    /// A dated capacity change, for the event log: index into the run's table of changes
    /// (subject, description, and whether capacity falls).
    Expansion(u32),
}

/// Units that land a fixed number of days after the Day step that sent them: finished by
/// production (cycle time), delivered (shipping time) or serving (install delay).
///
/// They are the bulk of what happens in a run (about 13 of every 14 happenings in the
/// default scenario), so rather than going through the engine's heap they wait in
/// [`World::flows`], a ring of per-day lists, and land in the order they were sent. That is
/// the order the heap's `(time, sequence)` key would give them: flows due on day `t` sent on
/// earlier days land at the start of day `t`'s Day step (which runs after day `t`'s events,
/// as a `Day` event scheduled at the end of day `t − 1` would), and those sent
/// on day `t` itself (a delay of 0) land right after that step, before anything of day
/// `t + 1`. Among the other events of a day (reviews, launches, rules, reservations, log
/// entries) a flow may land earlier than its place in the heap would have been, which
/// changes nothing: none of them reads or writes what flows change, except a review, which
/// reads each product's in transit + waiting + installing + installed units as one sum that
/// an arrival or an installation leaves unchanged.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Flow {
    /// Units of a product finish production at its vendor.
    Completed {
        /// Product index.
        product: u32,
        /// Units.
        units: u64,
    },
    /// Shipped units reach a buyer.
    Arrival {
        /// Buyer index.
        buyer: u32,
        /// Product index.
        product: u32,
        /// Units.
        units: u64,
    },
    /// Installing units start serving.
    Installed {
        /// Site index (in the model's site list).
        site: u32,
        /// Product index.
        product: u32,
        /// Units.
        units: u64,
    },
}

impl Flow {
    /// Adds `other`'s units to this flow if it moves the same product to the same place.
    fn merge(&mut self, other: &Flow) -> bool {
        match (self, other) {
            (
                Flow::Completed { product, units },
                Flow::Completed {
                    product: p2,
                    units: u2,
                },
            ) if product == p2 => *units += u2,
            (
                Flow::Arrival {
                    buyer,
                    product,
                    units,
                },
                Flow::Arrival {
                    buyer: b2,
                    product: p2,
                    units: u2,
                },
            ) if buyer == b2 && product == p2 => *units += u2,
            (
                Flow::Installed {
                    site,
                    product,
                    units,
                },
                Flow::Installed {
                    site: s2,
                    product: p2,
                    units: u2,
                },
            ) if site == s2 && product == p2 => *units += u2,
            _ => return false,
        }
        true
    }
}

// Events and flows are moved around a lot: keep them small.
const _: () = assert!(std::mem::size_of::<Event>() <= 8);
const _: () = assert!(std::mem::size_of::<Flow>() <= 24);

/// Most entries reserved up front for one cohort list or one buyer's open orders of a
/// product.
const MAX_RESERVED: usize = 4096;

/// An index as stored in an [`Event`]. Scenarios have far fewer than 2^32 products, buyers,
/// sites or dated events; anything else is a bug.
pub(crate) fn idx(i: usize) -> u32 {
    u32::try_from(i).expect("index fits in u32")
}

/// Why a day's production was what it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Constraint {
    /// Packaging wafers.
    Packaging,
    /// HBM stacks.
    Hbm,
    /// Logic dies.
    Logic,
    /// Fixed output of a part made without advanced packaging.
    Capacity,
    /// Open orders: the vendors made all they were asked for.
    Demand,
    /// Nothing could be made: no product available yet, or no capacity at all.
    Nothing,
}

impl Constraint {
    /// Position in [`Constraint::ALL`].
    pub(crate) fn index(self) -> usize {
        match self {
            Constraint::Packaging => 0,
            Constraint::Hbm => 1,
            Constraint::Logic => 2,
            Constraint::Capacity => 3,
            Constraint::Demand => 4,
            Constraint::Nothing => 5,
        }
    }

    /// All constraints, in reporting order.
    pub const ALL: [Constraint; 6] = [
        Constraint::Packaging,
        Constraint::Hbm,
        Constraint::Logic,
        Constraint::Capacity,
        Constraint::Demand,
        Constraint::Nothing,
    ];

    /// Name in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Constraint::Packaging => "packaging",
            Constraint::Hbm => "hbm",
            Constraint::Logic => "logic",
            Constraint::Capacity => "capacity",
            Constraint::Demand => "demand",
            Constraint::Nothing => "none",
        }
    }
}

/// An open order.
#[derive(Debug, Clone, Copy)]
pub struct Order {
    /// Units still to deliver.
    pub units: u64,
    /// Price agreed [USD per unit].
    pub price_usd: f64,
    /// Day placed \[tick\].
    pub day: Time,
    /// Day the vendor quoted for it (placement + quote) \[tick\].
    pub due: Time,
    /// Units of it that are phantom (beyond the buyer's firm need), the last to be delivered
    /// and the first cancelled \[units\].
    pub phantom: u64,
}

/// Per-product unit accounts, for conservation checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accounts {
    /// Wafer starts turned into units (entered production) \[units\].
    pub started: u64,
    /// Units in production at the start (`warm_start`), started before the run \[units\].
    pub initial_wip: u64,
    /// Units in production \[units\].
    pub in_production: u64,
    /// Units finished \[units\].
    pub produced: u64,
    /// Finished units at the vendor \[units\].
    pub inventory: u64,
    /// Units shipped to buyers \[units\].
    pub shipped: u64,
    /// Units on their way \[units\].
    pub in_transit: u64,
    /// Units delivered \[units\].
    pub delivered: u64,
    /// Units installed at the start \[units\].
    pub initial: u64,
    /// Delivered units waiting for power \[units\].
    pub stranded: u64,
    /// Units being installed \[units\].
    pub installing: u64,
    /// Units serving \[units\].
    pub installed: u64,
    /// Units failed \[units\].
    pub failed: u64,
    /// Units retired \[units\].
    pub retired: u64,
    /// Units ordered (booked) \[units\].
    pub ordered: u64,
    /// Units of open orders cancelled, by buyers or export rules \[units\].
    pub cancelled: u64,
    /// Units on order when the run ended \[units\].
    pub open: u64,
}

/// A site in the model: a scenario site, or a virtual one with unlimited power for a buyer
/// that has none.
#[derive(Debug, Clone)]
pub(crate) struct SiteState {
    pub(crate) owner: usize,
    /// Index into `Scenario::sites`, `None` for a virtual site.
    pub(crate) scenario_site: Option<usize>,
    pub(crate) watts_per_chip_watt: f64,
    pub(crate) install_delay_days: Time,
    /// Installing units per product.
    pub(crate) installing: Vec<u64>,
    /// Installed cohorts per product: `(install tick, units)`, oldest first, one per day
    /// (units that start serving on the same day join one cohort: see [`add_cohort`]).
    pub(crate) cohorts: Vec<VecDeque<(Time, u64)>>,
    /// Installed units per product.
    pub(crate) installed: Vec<u64>,
    /// Power online yesterday [MW], to charge building capex on increases.
    pub(crate) online_mw: f64,
    pub(crate) rng: ChaCha8Rng,
}

/// A buyer's state.
#[derive(Debug, Clone)]
pub(crate) struct BuyerState {
    /// Units in transit per product.
    pub(crate) in_transit: Vec<u64>,
    /// Delivered units waiting for power, first come first placed: `(product, units)`.
    pub(crate) stranded: VecDeque<(usize, u64)>,
    /// Model site indices owned by this buyer, in the order the scenario lists them.
    pub(crate) sites: Vec<usize>,
    /// The same sites in placement order: soonest online first (`install_delay_days`), ties
    /// in listed order (docs/model.md, "placement").
    pub(crate) placement: Vec<usize>,
    /// Spend committed in the current budget year [USD].
    pub(crate) committed_usd: f64,
    /// Calendar year the commitment counts against.
    pub(crate) budget_year: i32,
    /// Money paid for accelerators, by product [USD].
    pub(crate) spent_usd: Vec<f64>,
    /// Units received (shipped to it), by product [units].
    pub(crate) received: Vec<u64>,
    /// Floors carry per contract (fraction of a unit owed).
    pub(crate) floor_carry: Vec<f64>,
}

/// Per-segment state.
#[derive(Debug, Clone, Default)]
pub(crate) struct SegmentState {
    pub(crate) users: f64,
    pub(crate) waitlist: f64,
    pub(crate) paused: bool,
    pub(crate) pause_start: Time,
    pub(crate) pause_cause: String,
    pub(crate) days_above: u32,
    pub(crate) days_below: u32,
    /// Whether the rate limit is on, and the days its load has been past the threshold
    /// that would switch it.
    pub(crate) limit_on: bool,
    pub(crate) limit_days: u32,
    /// Unserved share of demand on recent days (ring buffer).
    pub(crate) unserved_history: VecDeque<f64>,
    /// Users who would be here but for pauses (lost sign-ups still alive) [users].
    pub(crate) lost_to_pause: f64,
    /// Users who would be here but for shortage churn [users].
    pub(crate) lost_to_churn: f64,
    pub(crate) lost_signups: f64,
}

/// A pause episode, closed or still open at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct PauseEpisode {
    /// Segment name.
    pub segment: String,
    /// First paused day \[tick\].
    pub start: Time,
    /// Last paused day \[tick\].
    pub end: Time,
    /// Why it started.
    pub cause: String,
}

/// The whole simulated world.
pub struct World<'s> {
    pub(crate) s: &'s Scenario,
    pub(crate) rec: record::Recorder,
    // Supply.
    pub(crate) carry: Vec<f64>,
    pub(crate) accounts: Vec<Accounts>,
    /// Production capacity per product on recent days (ring) [units/day], for lead times.
    pub(crate) capacity_history: supply::RateWindow,
    /// Each product's share of its line on recent days (ring) [units/day], for the share
    /// of planned capacity achieved.
    pub(crate) nominal_history: supply::RateWindow,
    /// Each product's idle wafers, smoothed over its line's reallocation lag: what other
    /// products may take [wafers/day].
    pub(crate) idle_wafers: Vec<f64>,
    /// Vendors' books: plan, quotes, purchase histories.
    pub(crate) vendor: vendor::Vendors,
    /// Buyers' procurement state.
    pub(crate) procurement: Vec<procurement::Procurement>,
    pub(crate) day_binding: Constraint,
    // Market.
    /// Open orders `[product][buyer]`, oldest first.
    pub(crate) backlog: Vec<Vec<VecDeque<Order>>>,
    pub(crate) backlog_units: Vec<Vec<u64>>,
    /// Each product's open orders of all buyers: the sum of its `backlog_units`, kept as
    /// they change (the quote, the production plan and the row read it every day).
    pub(crate) open_units: Vec<u64>,
    pub(crate) lead_time_days: Vec<f64>,
    pub(crate) price_usd: Vec<f64>,
    pub(crate) rules_active: Vec<bool>,
    // Fleet.
    pub(crate) buyers: Vec<BuyerState>,
    pub(crate) sites: Vec<SiteState>,
    pub(crate) reservations_active: Vec<bool>,
    // Demand.
    pub(crate) segments: Vec<SegmentState>,
    pub(crate) launches_started: Vec<bool>,
    /// Each launch's surge shape on the days of the run it can touch, and the sum of its
    /// shape (see [`demand::Surges`]).
    pub(crate) surges: demand::Surges,
    pub(crate) load_ratio: f64,
    /// Operator demand on recent days [H100e], for its forecast.
    pub(crate) demand_history: VecDeque<f64>,
    pub(crate) episodes: Vec<PauseEpisode>,
    // Money.
    pub(crate) capex_usd_today: f64,
    // Tables built once at the start, so that a day allocates nothing and looks nothing up
    // twice.
    /// Buyers whose fleet the fleet columns describe: the operator, or all buyers.
    pub(crate) fleet: Vec<usize>,
    /// Entries for the event log `(kind, subject, cause)` written on a date: capacity
    /// changes, slips and outages, indexed by [`Event::Expansion`].
    expansions: Vec<disrupt::LogEntry>,
    /// Log entries of the replication's outages, moved into `expansions` when scheduled.
    outage_log: Vec<(Time, disrupt::LogEntry)>,
    /// Each line's capacity factor by day under its outages; empty for a line without.
    pub(crate) line_factor: Vec<Vec<f64>>,
    /// Each logic process's capacity factor by day under its outages; empty without.
    pub(crate) logic_factor: Vec<Vec<f64>>,
    /// Each segment's usage noise, if any, and today's factor (1 without noise).
    pub(crate) demand_noise: Vec<Option<disrupt::Ar1>>,
    pub(crate) demand_factor: Vec<f64>,
    /// Each product's packaging-yield noise, if any.
    pub(crate) yield_noise: Vec<Option<disrupt::Ar1>>,
    /// `[p * buyers + b]`: whether an export rule in force forbids selling product `p` to
    /// buyer `b`; recomputed whenever a rule comes into force or lapses.
    pub(crate) blocked: Vec<bool>,
    /// Calendar year of each day of the run.
    pub(crate) year_of_day: Vec<i32>,
    /// Distinct buyer priorities, ascending: the tiers of `allocation: priority`.
    pub(crate) buyer_tiers: Vec<u32>,
    /// Each product's buyers, ascending: those whose mix has it, the only ones that can
    /// have its orders open (the market's per-buyer work runs over them alone).
    pub(crate) buyers_of: Arc<[Vec<usize>]>,
    /// Distinct segment priorities, ascending: the order in which segments are served.
    pub(crate) segment_priorities: Vec<u32>,
    /// Power online today at each model site [MW] (∞ for a virtual site), set by the
    /// datacenter step and read by placement and the money columns.
    pub(crate) site_mw_today: Vec<f64>,
    /// HBM stacks per unit of each product (`Product::hbm_stacks`, side by side).
    pub(crate) hbm_stacks: Vec<f64>,
    /// Chip power of each product [W] (`Product::power_w`, side by side).
    pub(crate) power_w: Vec<f64>,
    /// Each product's daily failure draws (`Product::failure_rate_per_day`).
    pub(crate) failures: Vec<binomial::Binomials>,
    /// Each segment's daily values that depend on the scenario alone (`Prepared`'s).
    pub(crate) segment_days: Arc<demand::SegmentDays>,
    /// Each segment's growth-law level on the previous day (`U*(t − 1)`).
    pub(crate) level_yesterday: Vec<f64>,
    /// Reusable buffers of the day's steps.
    pub(crate) scratch: Scratch,
    /// Flows under way, by the day they land. See [`Flow`].
    pub(crate) flows: FlowRing,
    /// The date of each day (YYYY-MM-DD), for the output; shared by the replications.
    pub(crate) dates: Arc<record::Dates>,
}

/// Flows under way: a ring of per-day lists, one slot per day from today to the longest
/// delay, so that a slot only ever holds one day's flows, in the order they were sent.
#[derive(Debug, Default)]
pub(crate) struct FlowRing {
    slots: Vec<Vec<Flow>>,
    /// The current day, and the slot of its flows.
    day: Time,
    slot: usize,
}

impl FlowRing {
    /// A ring for delays of up to `longest` days, each slot with room for `per_day` flows.
    fn new(longest: Time, per_day: usize) -> Self {
        let slots = usize::try_from(longest).unwrap_or(0) + 1;
        FlowRing {
            slots: (0..slots).map(|_| Vec::with_capacity(per_day)).collect(),
            day: 0,
            slot: 0,
        }
    }

    /// Sends a flow that lands on day `due`, today or within the longest delay.
    pub(crate) fn send(&mut self, due: Time, flow: Flow) {
        let n = self.slots.len();
        let ahead = usize::try_from(due - self.day).expect("flows land today or later");
        debug_assert!(ahead < n, "a flow's delay is beyond the ring");
        let mut i = self.slot + ahead;
        if i >= n {
            i -= n;
        }
        // A flow like the one sent just before it for that day (same kind, product and
        // place) joins it: they would land one after the other, and a burst of small batches
        // then needs no more room.
        let slot = &mut self.slots[i];
        if let Some(last) = slot.last_mut()
            && last.merge(&flow)
        {
            return;
        }
        slot.push(flow);
    }

    /// Moves the ring on to day `t` (today or later).
    fn advance_to(&mut self, t: Time) {
        while self.day < t {
            self.day += 1;
            self.slot += 1;
            if self.slot == self.slots.len() {
                self.slot = 0;
            }
        }
    }
}

/// Buffers the day's steps reuse, sized at the start: a day's work allocates nothing.
///
/// A step borrows the buffers it needs field by field, or takes one out of the [`World`]
/// (`std::mem::take` of a `Vec` allocates nothing) and puts it back, when it must call
/// `&mut self` methods while using it.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    // Supply, per product.
    pub(crate) wanted: Vec<f64>,
    pub(crate) pack: Vec<f64>,
    pub(crate) nominal: Vec<f64>,
    pub(crate) given: Vec<f64>,
    /// Good units per packaging wafer today, per product.
    pub(crate) upw: Vec<f64>,
    pub(crate) logic: Vec<f64>,
    pub(crate) hbm: Vec<f64>,
    pub(crate) logic_free: Vec<f64>,
    pub(crate) hbm_free: Vec<f64>,
    pub(crate) rate: Vec<f64>,
    /// Wafers used per line.
    pub(crate) wafers_used: Vec<f64>,
    /// What each product asks of logic and HBM today.
    pub(crate) want: Vec<f64>,
    /// Logic wafers available today per process.
    pub(crate) logic_avail: Vec<f64>,
    /// Water filling: products still taking wafers, and those left for the next round.
    pub(crate) active: Vec<(usize, f64)>,
    pub(crate) still: Vec<(usize, f64)>,
    // Market: production rate per product (the window's mean capacity) [units/day] ...
    pub(crate) production_rate: Vec<f64>,
    /// The window's mean share of the line [units/day].
    pub(crate) nominal_rate: Vec<f64>,
    // ... and per buyer.
    pub(crate) remaining_open: Vec<u64>,
    pub(crate) give: Vec<(u64, u64)>,
    pub(crate) weights: Vec<u64>,
    pub(crate) split: Vec<u64>,
    pub(crate) remainders: Vec<(u128, usize)>,
    // Datacenter: free power per site of one buyer [MW].
    pub(crate) free: Vec<f64>,
    // Demand: queries per segment, and demand before rate limits [H100e].
    pub(crate) queries: Vec<f64>,
    pub(crate) unlimited: Vec<f64>,
    // Review: the mix `(product, weight)` and the order lines `(product, units)`.
    pub(crate) mix: Vec<(usize, f64)>,
    pub(crate) order_lines: Vec<(usize, u64)>,
}

impl Scratch {
    fn new(s: &Scenario, max_sites_per_buyer: usize) -> Self {
        let np = s.products.len();
        let nb = s.buyers.len();
        let max_mix = s.buyers.iter().map(|b| b.mix.len()).max().unwrap_or(0);
        Scratch {
            wanted: vec![0.0; np],
            pack: vec![0.0; np],
            nominal: vec![0.0; np],
            given: vec![0.0; np],
            upw: vec![0.0; np],
            logic: Vec::with_capacity(np),
            hbm: Vec::with_capacity(np),
            logic_free: Vec::with_capacity(np),
            hbm_free: Vec::with_capacity(np),
            rate: Vec::with_capacity(np),
            wafers_used: vec![0.0; s.lines.len()],
            want: Vec::with_capacity(np),
            logic_avail: vec![0.0; s.logic.len()],
            active: Vec::with_capacity(np),
            still: Vec::with_capacity(np),
            production_rate: vec![0.0; np],
            nominal_rate: vec![0.0; np],
            remaining_open: vec![0; nb],
            give: vec![(0, 0); nb],
            weights: vec![0; nb],
            split: Vec::with_capacity(nb),
            remainders: Vec::with_capacity(nb),
            free: Vec::with_capacity(max_sites_per_buyer),
            queries: vec![0.0; s.segments.len()],
            unlimited: vec![0.0; s.segments.len()],
            mix: Vec::with_capacity(max_mix),
            order_lines: Vec::with_capacity(max_mix),
        }
    }
}

impl<'s> World<'s> {
    fn new(s: &'s Scenario, plan: Arc<CapacityPlan>, seed: u64, replication: u64) -> Self {
        let np = s.products.len();
        let nb = s.buyers.len();
        let mut sites = Vec::new();
        let mut buyers: Vec<BuyerState> = (0..nb)
            .map(|b| BuyerState {
                in_transit: vec![0; np],
                // Sized for four months of daily arrival batches of each product bought;
                // grows (amortised) beyond.
                stranded: VecDeque::with_capacity(32.max(128 * s.buyers[b].mix.len())),
                sites: Vec::new(),
                placement: Vec::new(),
                committed_usd: 0.0,
                budget_year: s.calendar.date(0).year(),
                spent_usd: vec![0.0; np],
                received: vec![0; np],
                floor_carry: vec![0.0; s.buyers[b].contracts.len()],
            })
            .collect();
        for (i, site) in s.sites.iter().enumerate() {
            buyers[site.owner].sites.push(sites.len());
            sites.push(SiteState {
                owner: site.owner,
                scenario_site: Some(i),
                watts_per_chip_watt: site.watts_per_chip_watt,
                install_delay_days: site.install_delay_days,
                installing: vec![0; np],
                cohorts: vec![VecDeque::new(); np],
                installed: vec![0; np],
                online_mw: 0.0,
                rng: random::stream(seed, replication, &format!("failures/site/{}", site.name)),
            });
        }
        for (b, buyer) in s.buyers.iter().enumerate() {
            if buyers[b].sites.is_empty() {
                buyers[b].sites.push(sites.len());
                sites.push(SiteState {
                    owner: b,
                    scenario_site: None,
                    watts_per_chip_watt: 1.5 * 1.2,
                    install_delay_days: 14,
                    installing: vec![0; np],
                    cohorts: vec![VecDeque::new(); np],
                    installed: vec![0; np],
                    online_mw: 0.0,
                    rng: random::stream(
                        seed,
                        replication,
                        &format!("failures/buyer/{}", buyer.name),
                    ),
                });
            }
        }
        for buyer in &mut buyers {
            buyer.placement = buyer.sites.clone();
            // Stable: sites with equal delays keep their listed order.
            buyer
                .placement
                .sort_by_key(|&k| sites[k].install_delay_days);
        }
        let mut w = World {
            s,
            rec: record::Recorder::new(s),
            carry: vec![0.0; np],
            accounts: vec![Accounts::default(); np],
            capacity_history: supply::RateWindow::new(np),
            nominal_history: supply::RateWindow::new(np),
            idle_wafers: vec![0.0; np],
            vendor: vendor::Vendors::new(s, plan),
            procurement: vec![procurement::Procurement::default(); nb],
            day_binding: Constraint::Demand,
            backlog: vec![vec![VecDeque::new(); nb]; np],
            backlog_units: vec![vec![0; nb]; np],
            open_units: vec![0; np],
            lead_time_days: vec![0.0; np],
            price_usd: s.products.iter().map(|p| p.price_usd.at(0)).collect(),
            rules_active: vec![false; s.export_rules.len()],
            buyers,
            sites,
            reservations_active: vec![false; s.reservations.len()],
            segments: vec![SegmentState::default(); s.segments.len()],
            launches_started: vec![false; s.launches.len()],
            surges: demand::Surges::new(s),
            load_ratio: 0.0,
            // A window longer than the run never fills.
            demand_history: VecDeque::with_capacity(s.operator.map_or(0, |op| {
                s.buyers[op].forecast_window_days.min(s.days).max(0) as usize
            })),
            episodes: Vec::new(),
            capex_usd_today: 0.0,
            fleet: match s.operator {
                Some(op) => vec![op],
                None => (0..nb).collect(),
            },
            expansions: Vec::new(),
            outage_log: Vec::new(),
            line_factor: Vec::new(),
            logic_factor: Vec::new(),
            demand_noise: s
                .segments
                .iter()
                .map(|g| {
                    g.demand_noise.as_ref().and_then(|n| {
                        disrupt::Ar1::new(
                            n,
                            seed,
                            replication,
                            &format!("noise/segment/{}", g.name),
                        )
                    })
                })
                .collect(),
            demand_factor: vec![1.0; s.segments.len()],
            yield_noise: s
                .products
                .iter()
                .map(|p| {
                    p.yield_noise.as_ref().and_then(|n| {
                        disrupt::Ar1::new(
                            n,
                            seed,
                            replication,
                            &format!("noise/product/{}", p.name),
                        )
                    })
                })
                .collect(),
            blocked: vec![false; np * nb],
            year_of_day: years_of_days(s),
            buyer_tiers: sorted_distinct(s.buyers.iter().map(|b| b.priority)),
            buyers_of: (0..np)
                .map(|p| {
                    (0..nb)
                        .filter(|&b| s.buyers[b].mix.iter().any(|m| m.0 == p))
                        .collect()
                })
                .collect::<Vec<_>>()
                .into(),
            segment_priorities: sorted_distinct(s.segments.iter().map(|g| g.priority)),
            site_mw_today: Vec::new(),
            hbm_stacks: s.products.iter().map(|p| p.hbm_stacks).collect(),
            power_w: s.products.iter().map(|p| p.power_w).collect(),
            failures: s
                .products
                .iter()
                .map(|p| binomial::Binomials::new(p.failure_rate_per_day))
                .collect(),
            level_yesterday: vec![0.0; s.segments.len()],
            scratch: Scratch::default(),
            flows: FlowRing::default(),
            dates: Arc::default(),
            segment_days: Arc::default(),
        };
        // One slot per day of the longest delay, and today's; each sized for a day's flows:
        // a completion per product, an arrival per ledger row, an installation per site and
        // product its owner buys. More grow the slot (amortised).
        let longest = s
            .products
            .iter()
            .map(|p| p.cycle_time_days)
            .chain(s.vendors.iter().map(|v| v.shipping_days))
            .chain(w.sites.iter().map(|k| k.install_delay_days))
            .max()
            .unwrap_or(0);
        let installs: usize = w.sites.iter().map(|k| s.buyers[k.owner].mix.len()).sum();
        let per_day = np + record::ledger_rows_per_day(s) + installs;
        w.flows = FlowRing::new(longest, per_day);
        if s.warm_start {
            w.warm_start();
        }
        // Quotes and what can be booked before the first day, for reviews on day 0.
        if s.market == Market::StockManagement {
            for p in 0..np {
                w.update_quote(p, 0, 1.0);
                w.lead_time_days[p] = if s.products[p].available <= 0 {
                    w.vendor.products[p].quote_days
                } else {
                    0.0
                };
            }
        }
        // Room for the state that grows during a run, so that days seldom allocate: a cohort
        // per day of service life for each product a site's owner buys or starts with, an
        // open order per review for each product a buyer buys (each capped at
        // `MAX_RESERVED`; beyond, they grow amortised).
        let days = usize::try_from(s.days).unwrap_or(0);
        for k in 0..w.sites.len() {
            let owner = &s.buyers[w.sites[k].owner];
            let products = owner.mix.iter().map(|m| m.0);
            for p in products.chain(owner.initial_fleet.iter().map(|f| f.0)) {
                let life = usize::try_from(s.products[p].lifetime_days).unwrap_or(0) + 1;
                w.sites[k].cohorts[p].reserve(days.min(life).min(MAX_RESERVED) + 1);
            }
        }
        for (b, buyer) in s.buyers.iter().enumerate() {
            let every = usize::try_from(buyer.review_every_days).unwrap_or(1).max(1);
            for &(p, _) in &buyer.mix {
                w.backlog[p][b].reserve((days / every + 1).min(MAX_RESERVED));
            }
        }
        let max_sites = w.buyers.iter().map(|b| b.sites.len()).max().unwrap_or(0);
        w.scratch = Scratch::new(s, max_sites);
        w.site_mw_today = (0..w.sites.len()).map(|k| w.site_mw(k, 0)).collect();
        w.rec.finished_by_year = vec![vec![0; w.years()]; np];
        // Initial fleets install at the first site of their owner, with power or not:
        // they were there before the run began.
        // Power online at the start was built before the run: not charged as capex.
        for k in 0..w.sites.len() {
            if let Some(i) = w.sites[k].scenario_site {
                w.sites[k].online_mw = s.sites[i].megawatts_at(0);
            }
        }
        for (b, buyer) in s.buyers.iter().enumerate() {
            let site = w.buyers[b].sites[0];
            for &(p, units) in &buyer.initial_fleet {
                w.sites[site].installed[p] += units;
                add_cohort(&mut w.sites[site].cohorts[p], 0, units);
                w.accounts[p].initial += units;
                w.accounts[p].installed += units;
            }
        }
        for (i, seg) in s.segments.iter().enumerate() {
            w.segments[i].users = seg.growth.level(0).max(0.0);
            if let Some(sc) = seg.shortage_churn {
                w.segments[i].unserved_history = VecDeque::with_capacity(sc.window_days);
            }
        }
        let d = disrupt::disruptions(s, seed, replication);
        w.line_factor = d.line_factor;
        w.logic_factor = d.logic_factor;
        w.outage_log = d.log;
        let (num, text) = w.column_names();
        w.set_columns(num, text);
        w
    }

    /// Whether product `p` may be sold to buyer `b` today.
    pub(crate) fn exportable(&self, p: usize, b: usize) -> bool {
        !self.blocked[p * self.s.buyers.len() + b]
    }

    /// Recomputes [`World::blocked`] from the rules in force: a buyer with a region may not
    /// buy the products of a rule in force for that region.
    pub(crate) fn update_blocked(&mut self) {
        let nb = self.s.buyers.len();
        for p in 0..self.s.products.len() {
            for b in 0..nb {
                self.blocked[p * nb + b] = match &self.s.buyers[b].region {
                    None => false,
                    Some(region) => self
                        .s
                        .export_rules
                        .iter()
                        .zip(&self.rules_active)
                        .any(|(r, &on)| on && &r.region == region && r.products.contains(&p)),
                };
            }
        }
    }

    /// Lands the flows due on day `t` sent so far, in the order they were sent.
    fn land_flows(&mut self, t: Time) {
        self.flows.advance_to(t);
        let slot = self.flows.slot;
        // Landing sends nothing, so the list can be taken out and put back (keeping its room).
        let mut due = std::mem::take(&mut self.flows.slots[slot]);
        for &flow in &due {
            self.land(t, flow);
        }
        due.clear();
        self.flows.slots[slot] = due;
    }

    /// What a flow does when it lands on day `t`.
    fn land(&mut self, t: Time, flow: Flow) {
        match flow {
            Flow::Completed { product, units } => {
                let product = product as usize;
                let a = &mut self.accounts[product];
                a.in_production -= units;
                a.produced += units;
                a.inventory += units;
                let y = (self.year(t) - self.year_of_day[0]) as usize;
                let by_year = &mut self.rec.finished_by_year[product];
                if by_year.len() <= y {
                    by_year.resize(y + 1, 0);
                }
                by_year[y] += units;
            }
            Flow::Arrival {
                buyer,
                product,
                units,
            } => {
                let (buyer, product) = (buyer as usize, product as usize);
                self.buyers[buyer].in_transit[product] -= units;
                self.accounts[product].in_transit -= units;
                self.accounts[product].delivered += units;
                self.accounts[product].stranded += units;
                self.buyers[buyer].stranded.push_back((product, units));
            }
            Flow::Installed {
                site,
                product,
                units,
            } => {
                let (site, product) = (site as usize, product as usize);
                let st = &mut self.sites[site];
                st.installing[product] -= units;
                st.installed[product] += units;
                add_cohort(&mut st.cohorts[product], t, units);
                self.accounts[product].installing -= units;
                self.accounts[product].installed += units;
            }
        }
    }

    /// Calendar year of day `t`.
    pub(crate) fn year(&self, t: Time) -> i32 {
        usize::try_from(t)
            .ok()
            .and_then(|i| self.year_of_day.get(i))
            .copied()
            .unwrap_or_else(|| self.s.calendar.date(t).year())
    }

    /// Calendar years the run spans.
    fn years(&self) -> usize {
        match (self.year_of_day.first(), self.year_of_day.last()) {
            (Some(a), Some(b)) => (b - a + 1) as usize,
            _ => 0,
        }
    }

    /// Capacity of buyer `b`'s installed fleet [H100e].
    pub(crate) fn installed_h100e(&self, b: usize) -> f64 {
        self.buyers[b]
            .sites
            .iter()
            .map(|&k| {
                self.sites[k]
                    .installed
                    .iter()
                    .zip(&self.s.products)
                    .map(|(&n, p)| n as f64 * p.h100e)
                    .sum::<f64>()
            })
            .sum()
    }

    fn log(&mut self, t: Time, kind: &str, subject: &str, cause: String) {
        self.rec.events.push(EventRecord {
            day: t,
            kind: kind.to_string(),
            subject: subject.to_string(),
            cause,
        });
    }
}

impl Model for World<'_> {
    type Event = Event;

    fn handle(&mut self, event: Event, ctx: &mut Context<'_, Event>) {
        let t = ctx.now();
        match event {
            Event::Review(b) => {
                match self.s.market {
                    Market::Legacy => self.review_legacy(t, b as usize),
                    Market::StockManagement => self.review(t, b as usize),
                }
                let next = t + self.s.buyers[b as usize].review_every_days;
                if next < self.s.days {
                    schedule(ctx, next, Event::Review(b));
                }
            }
            Event::Launch(i) => {
                let i = i as usize;
                self.launches_started[i] = true;
                let l = &self.s.launches[i];
                let segs: Vec<&str> = l
                    .segments
                    .iter()
                    .map(|&k| self.s.segments[k].name.as_str())
                    .collect();
                let cause = format!(
                    "{} extra sign-ups per segment, +{:.0}% usage, decaying over {} days ({})",
                    human(l.extra_signups),
                    l.usage_uplift * 100.0,
                    l.decay_days,
                    segs.join(", ")
                );
                let name = l.name.clone();
                self.log(t, "launch", &name, cause);
            }
            Event::ExportRule(i, on) => self.export_rule(t, i as usize, on),
            Event::Reservation(i, on) => {
                let i = i as usize;
                self.reservations_active[i] = on;
                let r = &self.s.reservations[i];
                let (kind, cause) = if on {
                    (
                        "reservation_start",
                        format!(
                            "{} H100e of {} reserved for training",
                            human(r.h100e),
                            self.s.buyers[r.buyer].name
                        ),
                    )
                } else {
                    (
                        "reservation_end",
                        format!("{} H100e released", human(r.h100e)),
                    )
                };
                let name = r.name.clone();
                self.log(t, kind, &name, cause);
            }
            Event::Expansion(i) => {
                // Each entry is logged once: its text moves into the log.
                let (kind, subject, detail) = std::mem::take(&mut self.expansions[i as usize]);
                self.log(t, kind, &subject, detail)
            }
        }
    }
}

impl World<'_> {
    /// The Day step of day `t`, run after the day's events (`simulate_planned`).
    fn day(&mut self, t: Time) {
        // Flows sent on earlier days for today land before the step ...
        self.land_flows(t);
        self.supply_step(t);
        self.market_step(t);
        self.datacenter_step(t);
        self.demand_step(t);
        self.record_day(self.day_binding);
        self.capex_usd_today = 0.0;
        // ... and those the step sent for today (a delay of 0) right after it.
        self.land_flows(t);
    }
}

/// Adds units that start serving on day `t` to a site's cohorts of a product: to the
/// youngest cohort if it started that day too, else as a new one.
///
/// One cohort per day rather than per batch changes no result: cohorts of the same day sit
/// side by side, retire together, and failures take units from the oldest first whichever
/// of them they come from. It bounds the cohorts to one per day of a unit's service life.
pub(crate) fn add_cohort(cohorts: &mut VecDeque<(Time, u64)>, t: Time, units: u64) {
    match cohorts.back_mut() {
        Some(youngest) if youngest.0 == t => youngest.1 += units,
        _ => cohorts.push_back((t, units)),
    }
}

/// Schedules an event; times are never in the past here, so an error is a bug.
pub(crate) fn schedule(ctx: &mut Context<'_, Event>, t: Time, e: Event) {
    let r = ctx.schedule_at(t, e);
    debug_assert!(r.is_ok(), "event scheduled in the past");
}

/// Runs a scenario with a seed and returns everything it recorded (replication 0).
pub fn simulate(s: &Scenario, seed: u64) -> RunOutput {
    simulate_observed(s, seed, 0, |_| {})
}

/// Runs replication `replication` of a scenario: every random stream is derived from
/// (seed, replication, stream name), so replication 0 is [`simulate`]'s run, and two
/// scenarios run with the same seed and replication share their common random numbers.
pub fn simulate_replication(s: &Scenario, seed: u64, replication: u64) -> RunOutput {
    simulate_observed(s, seed, replication, |_| {})
}

/// Runs replication `replication` of a scenario like [`simulate_replication`], and calls
/// `after_day(row)` once day `row.day` is done: its dated events and flows, its Day step
/// (the row is recorded) and the flows that step sent for the same day have run, and
/// nothing of the next day has; `row` is the day's row as recorded. For measurements
/// (`tests/alloc.rs` counts the allocations of each day through it) and for writing the
/// daily table while the run goes on (`report::simulate_with_timeseries`); the run is the
/// same as [`simulate_replication`]'s whatever `after_day` does.
pub fn simulate_observed(
    s: &Scenario,
    seed: u64,
    replication: u64,
    after_day: impl FnMut(DayRow<'_>),
) -> RunOutput {
    simulate_planned(s, None, seed, replication, None, None, after_day)
}

/// Runs replication `replication` of a scenario like [`simulate_observed`], moving its daily
/// table and ledger into the buffers another thread gives in `room` as they come (see
/// [`Room`]); the run is the same whether they come, when, or not at all.
pub fn simulate_observed_with_room(
    s: &Scenario,
    seed: u64,
    replication: u64,
    room: &Room,
    after_day: impl FnMut(DayRow<'_>),
) -> RunOutput {
    simulate_planned(s, None, seed, replication, None, Some(room), after_day)
}

/// What the replications of one scenario share, made once from it: the vendors' capacity
/// plan, the run's dates (1,096 strings for the default scenario) and each segment's daily
/// growth level and compute per query, which each replication otherwise makes again.
#[derive(Debug, Clone)]
pub struct Prepared {
    plan: Arc<CapacityPlan>,
    dates: Arc<record::Dates>,
    segment_days: Arc<demand::SegmentDays>,
}

impl Prepared {
    /// What `s`'s replications share.
    pub fn new(s: &Scenario) -> Self {
        Prepared {
            plan: Arc::new(CapacityPlan::new(s)),
            dates: Arc::new(record::dates(s)),
            segment_days: Arc::new(demand::SegmentDays::new(s)),
        }
    }

    /// Whether this can be of `s`: as many products and dates as it has.
    fn fits(&self, s: &Scenario) -> bool {
        self.plan.products() == s.products.len()
            && self.dates.len() == usize::try_from(s.days).unwrap_or(0)
            && self.segment_days.fits(s)
    }
}

/// Runs replication `replication` of a scenario with what [`Prepared::new`] made of the same
/// scenario: the same run as [`simulate_replication`], less that making.
pub fn simulate_replication_on(
    s: &Scenario,
    prepared: &Prepared,
    seed: u64,
    replication: u64,
) -> RunOutput {
    simulate_planned(s, Some(prepared), seed, replication, None, None, |_| {})
}

/// Runs replication `replication` of a scenario as a *lean* run: its summary and, of its
/// daily columns, those named in `keep` (sorted; names it lacks are ignored), all as
/// [`simulate_replication`] (or [`simulate_replication_on`], given what was prepared)
/// records them; the other daily columns, the text columns and the ledger are not
/// recorded (`columns`, `text_columns` and `ledger` say so). For replications whose files
/// are not written: a Monte Carlo run keeps the series of its bands.
pub fn simulate_replication_keeping(
    s: &Scenario,
    prepared: Option<&Prepared>,
    seed: u64,
    replication: u64,
    keep: &[String],
) -> RunOutput {
    simulate_planned(s, prepared, seed, replication, Some(keep), None, |_| {})
}

/// Runs replication `replication` of `s` with what was prepared of it (`None`: made here),
/// as a lean run keeping the columns `keep` if given, taking its table and ledger into
/// `room` as it is given ([`simulate_observed_with_room`]), calling `after_day` at the end
/// of each day ([`simulate_observed`]).
fn simulate_planned(
    s: &Scenario,
    prepared: Option<&Prepared>,
    seed: u64,
    replication: u64,
    keep: Option<&[String]>,
    mut room: Option<&Room>,
    mut after_day: impl FnMut(DayRow<'_>),
) -> RunOutput {
    // Expansions that slip move in a copy of the scenario, made only when something slips.
    let slipped = disrupt::slipped(s, seed, replication);
    let (prepared, s, slip_log) = match &slipped {
        // The copy's lines differ: a plan of its own.
        Some((slipped, log)) => (Prepared::new(slipped), slipped, log.clone()),
        None => (
            prepared.map_or_else(|| Prepared::new(s), Prepared::clone),
            s,
            Vec::new(),
        ),
    };
    // A `Prepared` made of another scenario would quietly give another plan and dates.
    debug_assert!(
        prepared.fits(s),
        "simulate_replication_on: what was prepared is not of this scenario"
    );
    let mut world = World::new(s, prepared.plan, seed, replication);
    world.dates = prepared.dates;
    world.segment_days = prepared.segment_days;
    if let Some(keep) = keep {
        world.keep_only(keep);
    }
    let mut init: Vec<(Time, Event)> = Vec::new();
    // Reviews are staggered: each buyer's first is at its offset within one period.
    for (b, buyer) in s.buyers.iter().enumerate() {
        let first = match s.market {
            Market::Legacy => 0,
            Market::StockManagement => buyer.ordering.review_offset_days,
        };
        init.push((first, Event::Review(idx(b))));
    }
    for (i, l) in s.launches.iter().enumerate() {
        init.push((l.day, Event::Launch(idx(i))));
    }
    for (i, r) in s.export_rules.iter().enumerate() {
        if r.until.is_some_and(|u| u < 0) {
            continue;
        }
        init.push((r.from.max(0), Event::ExportRule(idx(i), true)));
        if let Some(u) = r.until
            && u + 1 < s.days
        {
            init.push((u + 1, Event::ExportRule(idx(i), false)));
        }
    }
    for (i, r) in s.reservations.iter().enumerate() {
        if r.end >= 0 && r.start < s.days {
            init.push((r.start.max(0), Event::Reservation(idx(i), true)));
            if r.end + 1 < s.days {
                init.push((r.end + 1, Event::Reservation(idx(i), false)));
            }
        }
    }
    for (t, (subject, detail, reduction)) in expansions(s) {
        init.push((t, Event::Expansion(idx(world.expansions.len()))));
        let kind = if reduction { "reduction" } else { "expansion" };
        world.expansions.push((kind, subject, detail));
    }
    let outages = std::mem::take(&mut world.outage_log);
    for (t, entry) in slip_log.into_iter().chain(outages) {
        init.push((t, Event::Expansion(idx(world.expansions.len()))));
        world.expansions.push(entry);
    }
    init.retain(|(t, _)| (0..s.days).contains(t));
    init.sort_by_key(|(t, _)| *t);
    // Every event pending at once is there from the start, but for each buyer's next
    // review, which replaces the one being handled.
    let capacity = init.len();
    world.reserve_outputs();
    let mut taken = record::RoomTaken::default();
    let given = room;
    let mut sim = Simulation::new(world, 0);
    sim.reserve(capacity);
    for (t, e) in init {
        let r = sim.schedule(t, e);
        debug_assert!(r.is_ok());
    }
    // Day by day: the day's events, then its step. Every event dated a day is queued before
    // that day's step would be (at the start, or by a review of an earlier day), and the step
    // queues none, so this is the order of a `Day` event scheduled at the end of each step
    // for the next day, without the queue's work for it.
    for t in 0..s.days {
        sim.run_until(t);
        sim.model_mut().day(t);
        if let Some(r) = room {
            sim.model_mut().take_room(r, &mut taken);
            if taken.all() {
                room = None;
            }
        }
        after_day(sim.model().last_row(t));
    }
    if let Some(r) = given {
        r.close();
    }
    world = sim.into_model();
    let mut out = world.finish();
    // The seed the streams were drawn from, which `--seed` may have changed.
    out.summary.seed = seed;
    out
}

/// Dated capacity changes of lines, HBM, logic and sites, for the event log:
/// `(tick, (subject, detail, reduction))`.
fn expansions(s: &Scenario) -> Vec<(Time, (String, String, bool))> {
    let mut out = Vec::new();
    let mut push_tl = |subject: &str, unit: &str, tl: &crate::scenario::types::Timeline| {
        let linear = tl.interpolation() == Interpolation::Linear;
        for w in tl.points().windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            if t1 > 0 && v1 != v0 {
                let detail = if linear {
                    format!(
                        "ramp reaches {} {unit} (from {}, {} days earlier)",
                        human(v1),
                        human(v0),
                        t1 - t0
                    )
                } else {
                    format!("{} -> {} {unit}", human(v0), human(v1))
                };
                out.push((t1, (subject.to_string(), detail, v1 < v0)));
            }
        }
    };
    for l in &s.lines {
        push_tl(&l.name, "wafers/month", &l.capacity_wafers_per_month);
    }
    if let Some(h) = &s.hbm_stacks_per_month {
        push_tl("HBM", "stacks/month", h);
    }
    for l in &s.logic {
        push_tl(&l.name, "wafers/month", &l.wafers_per_month);
    }
    for site in &s.sites {
        if let Some(mw) = &site.megawatts {
            push_tl(&site.name, "MW", mw);
        }
    }
    for site in &s.sites {
        for &(t, mw) in &site.builds {
            out.push((
                t,
                (
                    site.name.clone(),
                    format!("build of {mw:.0} MW comes online"),
                    false,
                ),
            ));
        }
    }
    out
}

/// Whether buyer `b` is the operator.
pub(crate) fn is_operator(s: &Scenario, b: usize) -> bool {
    matches!(s.buyers[b].kind, BuyerKind::Operator)
}

/// The distinct values, ascending.
fn sorted_distinct(values: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut v: Vec<u32> = values.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The calendar year of each day of the run: `calendar.date(t).year()` for each `t`, a
/// year at a time.
fn years_of_days(s: &Scenario) -> Vec<i32> {
    let days = usize::try_from(s.days).unwrap_or(0);
    let mut out = Vec::with_capacity(days);
    let mut t: Time = 0;
    while t < s.days {
        let y = s.calendar.date(t).year();
        let next_year = chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
            .map_or(s.days, |d| s.calendar.tick(d))
            .clamp(t + 1, s.days);
        out.extend(std::iter::repeat_n(y, (next_year - t) as usize));
        t = next_year;
    }
    out
}
