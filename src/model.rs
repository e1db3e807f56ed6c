//! The capacity model: what the events mean.
//!
//! [`simulate`] builds a [`World`] from a resolved [`Scenario`], seeds the engine with the
//! dated events (launches, export rules, reservations, expansions, reviews) and one `Day`
//! event, and runs to the scenario's end. Each day runs, in order (see `docs/model.md`):
//!
//! 1. events dated that day (completions, arrivals, installs, launches, rules, reviews, ...);
//! 2. [`supply`]: wafer starts on each packaging line, limited by packaging, HBM, logic and
//!    open orders; finished units appear after the product's cycle time;
//! 3. [`market`]: vendors allocate finished units to buyers, write the ledger, ship; lead time
//!    and price follow from the backlog;
//! 4. [`datacenter`]: retirements, failures, and delivered units placed where power allows;
//! 5. [`demand`]: sign-ups, churn, usage, serving by priority, pause policy, money;
//! 6. the day's row is recorded.
//!
//! The model knows nothing of YAML, files or charts: it returns a [`RunOutput`].

pub mod datacenter;
pub mod demand;
pub mod market;
pub mod record;
pub mod supply;

use std::collections::VecDeque;

use chrono::Datelike;
use rand_chacha::ChaCha8Rng;

use crate::engine::{Context, Model, Simulation, Time, random};
use crate::scenario::timeline::Interpolation;
use crate::scenario::types::{BuyerKind, Scenario};

pub use record::{EventRecord, LedgerRow, RunOutput, Summary};

/// Something that happens at a tick.
#[derive(Debug, Clone)]
pub enum Event {
    /// The daily step (scheduled last for each day).
    Day,
    /// Units of a product finish production at its vendor.
    Completed {
        /// Product index.
        product: usize,
        /// Units.
        units: u64,
    },
    /// Shipped units reach a buyer.
    Arrival {
        /// Buyer index.
        buyer: usize,
        /// Product index.
        product: usize,
        /// Units.
        units: u64,
    },
    /// Installing units start serving.
    Installed {
        /// Site index (in the model's site list).
        site: usize,
        /// Product index.
        product: usize,
        /// Units.
        units: u64,
    },
    /// A buyer reviews its needs and orders.
    Review(usize),
    /// A launch event begins.
    Launch(usize),
    /// An export rule comes into force (`true`) or lapses (`false`).
    ExportRule(usize, bool),
    /// A reservation starts (`true`) or ends (`false`).
    Reservation(usize, bool),
    /// A dated capacity change, for the event log.
    Expansion {
        /// What changes.
        subject: String,
        /// Description of the change.
        detail: String,
        /// Whether capacity falls (logged as `reduction`, else `expansion`).
        reduction: bool,
    },
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
}

/// Per-product unit accounts, for conservation checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accounts {
    /// Wafer starts turned into units (entered production) [units].
    pub started: u64,
    /// Units in production [units].
    pub in_production: u64,
    /// Units finished [units].
    pub produced: u64,
    /// Finished units at the vendor [units].
    pub inventory: u64,
    /// Units shipped to buyers [units].
    pub shipped: u64,
    /// Units on their way [units].
    pub in_transit: u64,
    /// Units delivered [units].
    pub delivered: u64,
    /// Units installed at the start [units].
    pub initial: u64,
    /// Delivered units waiting for power [units].
    pub stranded: u64,
    /// Units being installed [units].
    pub installing: u64,
    /// Units serving [units].
    pub installed: u64,
    /// Units failed [units].
    pub failed: u64,
    /// Units retired [units].
    pub retired: u64,
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
    /// Installed cohorts per product: `(install tick, units)`, oldest first.
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
    /// Model site indices owned by this buyer.
    pub(crate) sites: Vec<usize>,
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
    /// First paused day [tick].
    pub start: Time,
    /// Last paused day [tick].
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
    pub(crate) capacity_history: Vec<VecDeque<f64>>,
    pub(crate) day_binding: Constraint,
    // Market.
    /// Open orders `[product][buyer]`, oldest first.
    pub(crate) backlog: Vec<Vec<VecDeque<Order>>>,
    pub(crate) backlog_units: Vec<Vec<u64>>,
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
    pub(crate) load_ratio: f64,
    /// Operator demand on recent days [H100e], for its forecast.
    pub(crate) demand_history: VecDeque<f64>,
    pub(crate) episodes: Vec<PauseEpisode>,
    // Money.
    pub(crate) capex_usd_today: f64,
}

impl<'s> World<'s> {
    fn new(s: &'s Scenario, seed: u64) -> Self {
        let np = s.products.len();
        let nb = s.buyers.len();
        let mut sites = Vec::new();
        let mut buyers: Vec<BuyerState> = (0..nb)
            .map(|b| BuyerState {
                in_transit: vec![0; np],
                stranded: VecDeque::new(),
                sites: Vec::new(),
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
                rng: random::stream(seed, 0, &format!("failures/site/{}", site.name)),
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
                    rng: random::stream(seed, 0, &format!("failures/buyer/{}", buyer.name)),
                });
            }
        }
        let mut w = World {
            s,
            rec: record::Recorder::new(s),
            carry: vec![0.0; np],
            accounts: vec![Accounts::default(); np],
            capacity_history: vec![VecDeque::with_capacity(31); np],
            day_binding: Constraint::Demand,
            backlog: vec![vec![VecDeque::new(); nb]; np],
            backlog_units: vec![vec![0; nb]; np],
            lead_time_days: vec![0.0; np],
            price_usd: s.products.iter().map(|p| p.price_usd.at(0)).collect(),
            rules_active: vec![false; s.export_rules.len()],
            buyers,
            sites,
            reservations_active: vec![false; s.reservations.len()],
            segments: vec![SegmentState::default(); s.segments.len()],
            launches_started: vec![false; s.launches.len()],
            load_ratio: 0.0,
            demand_history: VecDeque::new(),
            episodes: Vec::new(),
            capex_usd_today: 0.0,
        };
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
                w.sites[site].cohorts[p].push_back((0, units));
                w.accounts[p].initial += units;
                w.accounts[p].installed += units;
            }
        }
        for (i, seg) in s.segments.iter().enumerate() {
            w.segments[i].users = seg.growth.level(0).max(0.0);
        }
        let n = w.column_names().0.len();
        w.set_column_count(n);
        w
    }

    /// Whether product `p` may be sold to buyer `b` today.
    pub(crate) fn exportable(&self, p: usize, b: usize) -> bool {
        let Some(region) = &self.s.buyers[b].region else {
            return true;
        };
        !self
            .s
            .export_rules
            .iter()
            .zip(&self.rules_active)
            .any(|(r, &on)| on && &r.region == region && r.products.contains(&p))
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
            Event::Day => {
                self.supply_step(t, ctx);
                self.market_step(t, ctx);
                self.datacenter_step(t, ctx);
                self.demand_step(t);
                self.record_day(self.day_binding);
                self.capex_usd_today = 0.0;
                if t + 1 < self.s.days {
                    schedule(ctx, t + 1, Event::Day);
                }
            }
            Event::Completed { product, units } => {
                let a = &mut self.accounts[product];
                a.in_production -= units;
                a.produced += units;
                a.inventory += units;
                let year = self.s.calendar.date(t).year();
                *self.rec.finished_by_year[product].entry(year).or_insert(0) += units;
            }
            Event::Arrival {
                buyer,
                product,
                units,
            } => {
                self.buyers[buyer].in_transit[product] -= units;
                self.accounts[product].in_transit -= units;
                self.accounts[product].delivered += units;
                self.accounts[product].stranded += units;
                self.buyers[buyer].stranded.push_back((product, units));
            }
            Event::Installed {
                site,
                product,
                units,
            } => {
                let st = &mut self.sites[site];
                st.installing[product] -= units;
                st.installed[product] += units;
                st.cohorts[product].push_back((t, units));
                self.accounts[product].installing -= units;
                self.accounts[product].installed += units;
            }
            Event::Review(b) => {
                self.review(t, b);
                let next = t + self.s.buyers[b].review_every_days;
                if next < self.s.days {
                    schedule(ctx, next, Event::Review(b));
                }
            }
            Event::Launch(i) => {
                self.launches_started[i] = true;
                let l = &self.s.launches[i];
                let segs: Vec<&str> = l
                    .segments
                    .iter()
                    .map(|&k| self.s.segments[k].name.as_str())
                    .collect();
                let cause = format!(
                    "{:.0} extra sign-ups per segment, +{:.0}% usage, decaying over {} days ({})",
                    l.extra_signups,
                    l.usage_uplift * 100.0,
                    l.decay_days,
                    segs.join(", ")
                );
                let name = l.name.clone();
                self.log(t, "launch", &name, cause);
            }
            Event::ExportRule(i, on) => self.export_rule(t, i, on),
            Event::Reservation(i, on) => {
                self.reservations_active[i] = on;
                let r = &self.s.reservations[i];
                let (kind, cause) = if on {
                    (
                        "reservation_start",
                        format!(
                            "{:.0} H100e of {} reserved for training",
                            r.h100e, self.s.buyers[r.buyer].name
                        ),
                    )
                } else {
                    ("reservation_end", format!("{:.0} H100e released", r.h100e))
                };
                let name = r.name.clone();
                self.log(t, kind, &name, cause);
            }
            Event::Expansion {
                subject,
                detail,
                reduction,
            } => {
                let kind = if reduction { "reduction" } else { "expansion" };
                self.log(t, kind, &subject, detail)
            }
        }
    }
}

/// Schedules an event; times are never in the past here, so an error is a bug.
pub(crate) fn schedule(ctx: &mut Context<'_, Event>, t: Time, e: Event) {
    let r = ctx.schedule_at(t, e);
    debug_assert!(r.is_ok(), "event scheduled in the past");
}

/// Runs a scenario with a seed and returns everything it recorded.
pub fn simulate(s: &Scenario, seed: u64) -> RunOutput {
    let mut world = World::new(s, seed);
    let mut init: Vec<(Time, Event)> = Vec::new();
    for (b, _) in s.buyers.iter().enumerate() {
        init.push((0, Event::Review(b)));
    }
    for (i, l) in s.launches.iter().enumerate() {
        init.push((l.day, Event::Launch(i)));
    }
    for (i, r) in s.export_rules.iter().enumerate() {
        if r.until.is_some_and(|u| u < 0) {
            continue;
        }
        init.push((r.from.max(0), Event::ExportRule(i, true)));
        if let Some(u) = r.until
            && u + 1 < s.days
        {
            init.push((u + 1, Event::ExportRule(i, false)));
        }
    }
    for (i, r) in s.reservations.iter().enumerate() {
        if r.end >= 0 && r.start < s.days {
            init.push((r.start.max(0), Event::Reservation(i, true)));
            if r.end + 1 < s.days {
                init.push((r.end + 1, Event::Reservation(i, false)));
            }
        }
    }
    init.extend(expansions(s));
    init.retain(|(t, _)| (0..s.days).contains(t));
    init.sort_by_key(|(t, _)| *t);
    let mut sim = Simulation::new(world, 0);
    for (t, e) in init {
        let r = sim.schedule(t, e);
        debug_assert!(r.is_ok());
    }
    // The Day event of tick 0 goes last so that the day's dated events come before it.
    let r = sim.schedule(0, Event::Day);
    debug_assert!(r.is_ok());
    sim.run_until(s.days - 1);
    world = sim.into_model();
    world.finish()
}

/// Dated capacity increases of lines, HBM, logic and sites, for the event log.
fn expansions(s: &Scenario) -> Vec<(Time, Event)> {
    let mut out = Vec::new();
    let mut push_tl = |subject: &str, unit: &str, tl: &crate::scenario::timeline::Timeline| {
        let linear = tl.interpolation() == Interpolation::Linear;
        for w in tl.points().windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            if t1 > 0 && v1 != v0 {
                let detail = if linear {
                    format!(
                        "ramp reaches {v1:.0} {unit} (from {v0:.0}, {} days earlier)",
                        t1 - t0
                    )
                } else {
                    format!("{v0:.0} -> {v1:.0} {unit}")
                };
                out.push((
                    t1,
                    Event::Expansion {
                        subject: subject.to_string(),
                        detail,
                        reduction: v1 < v0,
                    },
                ));
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
                Event::Expansion {
                    subject: site.name.clone(),
                    detail: format!("build of {mw:.0} MW comes online"),
                    reduction: false,
                },
            ));
        }
    }
    out
}

/// Whether buyer `b` is the operator.
pub(crate) fn is_operator(s: &Scenario, b: usize) -> bool {
    matches!(s.buyers[b].kind, BuyerKind::Operator)
}
