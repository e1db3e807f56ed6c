//! `ledger.csv`, one row per allocation of finished units to a buyer (and per cancellation):
//! `date,vendor,product,buyer,units,rule,price_usd`. Written from a finished run
//! ([`ledger_csv`]) or, row by row, while the run goes on (beside `timeseries.csv`, in
//! [`super::timeseries`]): the same bytes either way.

use super::{ReportError, csvout};
use crate::format::Shortest;
use crate::model::market::FLOOR;
use crate::model::procurement::CANCELLED;
use crate::model::{LedgerRow, RunOutput};
use crate::scenario::types::Scenario;

/// The header line.
pub(crate) const HEADER: &[u8] = b"date,vendor,product,buyer,units,rule,price_usd\n";

/// Each vendor's, product's and buyer's name as a CSV field, made once rather than once a
/// row.
pub(crate) struct Names {
    vendors: Vec<Vec<u8>>,
    products: Vec<Vec<u8>>,
    buyers: Vec<Vec<u8>>,
}

impl Names {
    pub(crate) fn new(s: &Scenario) -> Self {
        fn fields<'a>(names: impl Iterator<Item = &'a str>) -> Vec<Vec<u8>> {
            names
                .map(|name| {
                    let mut f = Vec::with_capacity(name.len() + 1);
                    csvout::field(&mut f, name);
                    f
                })
                .collect()
        }
        Names {
            vendors: fields(s.vendors.iter().map(|v| v.name.as_str())),
            products: fields(s.products.iter().map(|p| p.name.as_str())),
            buyers: fields(s.buyers.iter().map(|b| b.name.as_str())),
        }
    }
}

/// The most bytes the ledger of a run of `days` days can take, if each day writes at most
/// the rows the buyers' mixes and contracts allow (cancellations can write more; the room is
/// then grown): a buffer is given room by it.
pub(crate) fn bound(s: &Scenario, names: &Names, days: usize) -> usize {
    let longest = |fields: &[Vec<u8>]| fields.iter().map(Vec::len).max().unwrap_or(0);
    let rule = s
        .vendors
        .iter()
        .map(|v| v.allocation.as_str())
        .chain([FLOOR, CANCELLED])
        .map(str::len)
        .max()
        .unwrap_or(0);
    // The date (`YYYY-MM-DD`), the names, the units, the rule and the price, each but the
    // first after its comma, and the line's end.
    let row = 10
        + 1
        + longest(&names.vendors)
        + 1
        + longest(&names.products)
        + 1
        + longest(&names.buyers)
        + 1
        + 20
        + 1
        + rule
        + 1
        + csvout::NUM_MAX_LEN
        + 1;
    days.saturating_mul(crate::model::record::ledger_rows_per_day(s))
        .saturating_mul(row)
        .saturating_add(HEADER.len())
}

/// Appends one row's fields after its date (which the caller has written): from the comma
/// before the vendor to the line's end.
pub(crate) fn push_after_date(out: &mut Vec<u8>, buf: &mut Shortest, names: &Names, l: &LedgerRow) {
    for f in [
        &names.vendors[l.vendor],
        &names.products[l.product],
        &names.buyers[l.buyer],
    ] {
        out.push(b',');
        out.extend_from_slice(f);
    }
    out.push(b',');
    csvout::uint(out, l.units);
    out.push(b',');
    csvout::field(out, &l.rule);
    out.push(b',');
    csvout::num(out, buf, (l.price_usd * 100.0).round() / 100.0);
    out.push(b'\n');
}

/// `ledger.csv` of a finished run.
///
/// Its rows are written in blocks on rayon's pool and joined in order (the default
/// scenario's ledger is about 8,800 rows).
pub fn ledger_csv(s: &Scenario, run: &RunOutput) -> Result<Vec<u8>, ReportError> {
    use rayon::prelude::*;
    /// Rows written by one task: the default scenario's ledger makes nine blocks.
    const ROWS_PER_TASK: usize = 1024;
    let names = Names::new(s);
    let blocks: Vec<Vec<u8>> = run
        .ledger
        .par_chunks(ROWS_PER_TASK)
        .map(|rows| {
            let mut out = Vec::with_capacity(rows.len() * 64);
            let mut buf = Shortest::new();
            for l in rows {
                super::push_date(&mut out, s, run, l.day);
                push_after_date(&mut out, &mut buf, &names, l);
            }
            out
        })
        .collect();
    let mut out = Vec::with_capacity(HEADER.len() + blocks.iter().map(Vec::len).sum::<usize>());
    out.extend_from_slice(HEADER);
    for b in blocks {
        out.extend_from_slice(&b);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Source, load};

    /// `ledger.csv` written row by row by the `csv` crate, as the ledger was written before
    /// it was split into blocks.
    pub(crate) fn ledger_by_csv_crate(s: &Scenario, run: &RunOutput) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "date",
            "vendor",
            "product",
            "buyer",
            "units",
            "rule",
            "price_usd",
        ])
        .unwrap();
        let mut buf = Shortest::new();
        for l in &run.ledger {
            let date = &run.dates[usize::try_from(l.day).unwrap()];
            let price = (l.price_usd * 100.0).round() / 100.0;
            w.write_record([
                date,
                &s.vendors[l.vendor].name,
                &s.products[l.product].name,
                &s.buyers[l.buyer].name,
                &l.units.to_string(),
                &l.rule,
                crate::format::fmt_num(&mut buf, price),
            ])
            .unwrap();
        }
        w.into_inner().unwrap()
    }

    /// The ledger's blocks, joined, are the rows in order, with names that need quoting.
    #[test]
    fn ledger_csv_is_the_rows_in_order() {
        let loaded = load(Source::BuiltIn, &[]).expect("the built-in scenario loads");
        let run = crate::model::simulate(&loaded.scenario, 7);
        assert!(
            run.ledger.len() > 3 * 1024,
            "the ledger spans several blocks"
        );
        let mut s = loaded.scenario.clone();
        s.vendors[0].name = "Nvidia, Inc.".into();
        s.products[1].name = "H100 \"SXM\"".into();
        s.buyers[0].name = "Open\nAI".into();
        let expected = ledger_by_csv_crate(&s, &run);
        assert_eq!(
            String::from_utf8(ledger_csv(&s, &run).unwrap()).unwrap(),
            String::from_utf8(expected.clone()).unwrap()
        );
        for pool in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(pool)
                .build()
                .unwrap();
            let again = pool.install(|| ledger_csv(&s, &run)).unwrap();
            assert_eq!(again, expected);
        }
    }
}
