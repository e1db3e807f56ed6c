//! The daily series in long ("tidy") form, and the table of units (`capsim run --tidy`).
//!
//! `timeseries.csv` is wide: one row a day, one column a series. Analysts' tools (pandas,
//! R, SQL, spreadsheets' pivot tables) prefer one row an observation:
//! `date,metric,entity,value,unit`, where `metric` is the column's name without its
//! `[entity]` (`production_units_per_day`), `entity` what the brackets held (`H100`, a
//! segment, a line; empty for a run-wide series) and `unit` the metric's unit from
//! [`UNITS`]. `units.csv` lists every metric of the run with its unit and meaning.
//!
//! Both are made from the bytes of `timeseries.csv`, so that a run, a Monte Carlo run's
//! representative and `capsim chart` all give the same files.

use super::{ReportError, csv_err, into_bytes};

/// Every daily metric capsim writes, with its unit and meaning: the one list the tidy files
/// and the units table are made from (docs/outputs.md lists the same units; a test keeps the
/// two in step).
pub const UNITS: [(&str, &str, &str); 43] = [
    ("demand_h100e", "H100e", "capacity asked for, peak included"),
    (
        "capacity_h100e",
        "H100e",
        "serving capacity of the operator's fleet",
    ),
    (
        "reserved_h100e",
        "H100e",
        "capacity held back by reservations",
    ),
    ("served_h100e", "H100e", "demand served"),
    ("unserved_h100e", "H100e", "demand not served: the shortage"),
    (
        "rate_limited_h100e",
        "H100e",
        "demand removed by rate limits",
    ),
    ("utilisation", "share", "served over capacity"),
    ("load_ratio", "ratio", "demand over capacity"),
    ("users", "users", "users at the end of the day"),
    ("signups_per_day", "users/day", "sign-ups arriving today"),
    ("paused", "0 or 1", "1 if sign-ups were paused today"),
    ("waitlist_users", "users", "users on the waitlist"),
    ("lost_signups_cum", "users", "sign-ups lost so far"),
    (
        "packaging_capacity_wafers_per_day",
        "wafers/day",
        "the packaging line's capacity",
    ),
    (
        "packaging_used_wafers_per_day",
        "wafers/day",
        "wafers used by today's output",
    ),
    (
        "packaging_ordered_wafers_per_day",
        "wafers/day",
        "wafers the orders placed today would need",
    ),
    ("hbm_supply_stacks_per_day", "stacks/day", "HBM supply"),
    ("hbm_used_stacks_per_day", "stacks/day", "HBM stacks used"),
    (
        "production_units_per_day",
        "units/day",
        "units started in production",
    ),
    (
        "shipped_units_per_day",
        "units/day",
        "units shipped to buyers",
    ),
    (
        "ordered_units_per_day",
        "units/day",
        "units ordered by buyers",
    ),
    (
        "cancelled_units_per_day",
        "units/day",
        "units of open orders cancelled",
    ),
    (
        "backlog_units",
        "units",
        "open orders at the end of the day",
    ),
    (
        "phantom_share_of_backlog",
        "share",
        "phantom units over all open orders",
    ),
    ("lead_time_days", "days", "lead time quoted to a new order"),
    (
        "realised_lead_time_days",
        "days",
        "days from order to delivery of the units shipped",
    ),
    ("price_usd", "USD/unit", "price of new orders"),
    ("binding", "", "what limited the product's output (text)"),
    ("installed_units", "units", "units serving"),
    (
        "stranded_units",
        "units",
        "delivered units waiting for power",
    ),
    (
        "in_transit_units",
        "units",
        "units shipped, not yet delivered",
    ),
    (
        "installing_units",
        "units",
        "units within their install delay",
    ),
    (
        "power_in_use_mw",
        "MW",
        "all-in power of the installed units",
    ),
    (
        "power_available_mw",
        "MW",
        "power online at the operator's sites",
    ),
    ("capex_usd_per_day", "USD/day", "capital spent today"),
    ("capex_cum_usd", "USD", "capital spent to date"),
    ("power_cost_usd_per_day", "USD/day", "cost of power"),
    ("revenue_usd_per_day", "USD/day", "revenue"),
    (
        "lost_revenue_pause_usd_per_day",
        "USD/day",
        "revenue lost to pauses",
    ),
    (
        "lost_revenue_churn_usd_per_day",
        "USD/day",
        "revenue lost to shortage churn",
    ),
    ("queries_served_per_day", "queries/day", "queries served"),
    ("cost_per_query_usd", "USD/query", "cost of a query served"),
    (
        "binding_constraint",
        "",
        "the constraint that bound the day's output (text)",
    ),
];

/// The unit and meaning of a metric (a column's name without its `[entity]`).
pub fn unit_of(metric: &str) -> Option<(&'static str, &'static str)> {
    UNITS
        .iter()
        .find(|(m, _, _)| *m == metric)
        .map(|(_, u, d)| (*u, *d))
}

/// `metric[entity]` split into its two parts (`entity` empty without brackets).
pub fn split_column(column: &str) -> (&str, &str) {
    match column.split_once('[') {
        Some((m, rest)) => (m, rest.strip_suffix(']').unwrap_or(rest)),
        None => (column, ""),
    }
}

/// Adds `timeseries_long.csv` and `units.csv`, made from `timeseries.csv` among `files`
/// (nothing without it).
pub fn add(files: &mut Vec<(String, Vec<u8>)>) -> Result<(), ReportError> {
    let Some((_, wide)) = files.iter().find(|(n, _)| n == "timeseries.csv") else {
        return Ok(());
    };
    let long = long_csv(wide)?;
    let units = units_csv(wide)?;
    files.push(("timeseries_long.csv".into(), long));
    files.push(("units.csv".into(), units));
    Ok(())
}

/// `timeseries_long.csv` from the bytes of `timeseries.csv`: `date,metric,entity,value,unit`,
/// days in order and, within a day, the columns in the wide file's order. Values are copied
/// as written, so the two files agree to the last digit.
pub fn long_csv(timeseries: &[u8]) -> Result<Vec<u8>, ReportError> {
    const NAME: &str = "timeseries_long.csv";
    let mut r = csv::Reader::from_reader(timeseries);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| ReportError::Parse {
            what: "timeseries.csv",
            message: e.to_string(),
        })?
        .iter()
        .map(str::to_string)
        .collect();
    let cols: Vec<(&str, &str, &str)> = header
        .iter()
        .skip(1)
        .map(|c| {
            let (m, e) = split_column(c);
            (m, e, unit_of(m).map_or("", |(u, _)| u))
        })
        .collect();
    let mut w = csv::Writer::from_writer(Vec::with_capacity(timeseries.len() * 4));
    w.write_record(["date", "metric", "entity", "value", "unit"])
        .map_err(csv_err(NAME))?;
    for rec in r.records() {
        let rec = rec.map_err(|e| ReportError::Parse {
            what: "timeseries.csv",
            message: e.to_string(),
        })?;
        let date = rec.get(0).unwrap_or_default();
        for (i, (m, e, u)) in cols.iter().enumerate() {
            let v = rec.get(i + 1).unwrap_or_default();
            w.write_record([date, m, e, v, u]).map_err(csv_err(NAME))?;
        }
    }
    into_bytes(w, NAME)
}

/// `units.csv`: `metric,unit,meaning,entities` for every metric of the run (in the wide
/// file's order; `entities` lists what its brackets hold, `;`-separated).
pub fn units_csv(timeseries: &[u8]) -> Result<Vec<u8>, ReportError> {
    const NAME: &str = "units.csv";
    let first = timeseries.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(first);
    let header: Vec<String> = match r.records().next() {
        Some(Ok(rec)) => rec.iter().skip(1).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    let mut metrics: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in &header {
        let (m, e) = split_column(c);
        match metrics.iter_mut().find(|(n, _)| *n == m) {
            Some((_, es)) => {
                if !e.is_empty() {
                    es.push(e);
                }
            }
            None => metrics.push((m, if e.is_empty() { vec![] } else { vec![e] })),
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["metric", "unit", "meaning", "entities"])
        .map_err(csv_err(NAME))?;
    for (m, es) in metrics {
        let (u, d) = unit_of(m).unwrap_or(("", ""));
        w.write_record([m, u, d, &es.join(";")])
            .map_err(csv_err(NAME))?;
    }
    into_bytes(w, NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_file_becomes_one_row_an_observation() {
        let wide = b"date,demand_h100e,users[free],users[paid],binding_constraint\n\
                     2024-01-01,10,100,5,packaging\n2024-01-02,12.5,101,6,hbm\n";
        let long = String::from_utf8(long_csv(wide).unwrap()).unwrap();
        assert_eq!(
            long,
            "date,metric,entity,value,unit\n\
             2024-01-01,demand_h100e,,10,H100e\n\
             2024-01-01,users,free,100,users\n\
             2024-01-01,users,paid,5,users\n\
             2024-01-01,binding_constraint,,packaging,\n\
             2024-01-02,demand_h100e,,12.5,H100e\n\
             2024-01-02,users,free,101,users\n\
             2024-01-02,users,paid,6,users\n\
             2024-01-02,binding_constraint,,hbm,\n"
        );
        let units = String::from_utf8(units_csv(wide).unwrap()).unwrap();
        assert_eq!(
            units,
            "metric,unit,meaning,entities\n\
             demand_h100e,H100e,\"capacity asked for, peak included\",\n\
             users,users,users at the end of the day,free;paid\n\
             binding_constraint,,the constraint that bound the day's output (text),\n"
        );
    }

    #[test]
    fn metric_names_are_unique() {
        for (i, (m, _, _)) in UNITS.iter().enumerate() {
            assert!(
                UNITS[i + 1..].iter().all(|(n, _, _)| n != m),
                "{m} listed twice"
            );
        }
    }

    /// The naming convention of docs/outputs.md, enforced: lower-case snake case, the unit
    /// as the last part of the name, and that suffix agreeing with the unit listed; the few
    /// names whose unit is not their last part are named here, each with why.
    #[test]
    fn metric_names_end_with_their_unit() {
        /// A suffix, and what the listed unit must then be.
        type Rule = (&'static str, fn(&str) -> bool);
        const SUFFIXES: [Rule; 8] = [
            ("_per_day", |u| u.ends_with("/day")),
            ("_h100e", |u| u == "H100e"),
            ("_units", |u| u == "units"),
            ("_users", |u| u == "users"),
            ("_usd", |u| u.starts_with("USD")),
            ("_days", |u| u == "days"),
            ("_mw", |u| u == "MW"),
            ("_ratio", |u| u == "ratio"),
        ];
        const EXCEPTIONS: [(&str, &str); 7] = [
            ("utilisation", "dimensionless: a share"),
            ("users", "the name is the unit"),
            ("paused", "a flag, 0 or 1"),
            ("lost_signups_cum", "a count of users, running total"),
            ("phantom_share_of_backlog", "dimensionless: a share"),
            ("binding", "text"),
            ("binding_constraint", "text"),
        ];
        for (metric, unit, _) in UNITS {
            assert!(
                metric
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{metric}: not lower-case snake case"
            );
            if EXCEPTIONS.iter().any(|(m, _)| *m == metric) {
                assert!(
                    !SUFFIXES.iter().any(|(s, _)| metric.ends_with(s)),
                    "{metric} follows the convention now: take it off the exceptions"
                );
                continue;
            }
            let rule = SUFFIXES.iter().find(|(s, _)| metric.ends_with(s));
            let Some((suffix, agrees)) = rule else {
                panic!("{metric} does not end with a unit (`_h100e`, `_usd_per_day`, ...)");
            };
            assert!(
                agrees(unit),
                "{metric} ends with `{suffix}` but its unit is {unit}"
            );
        }
    }
}
