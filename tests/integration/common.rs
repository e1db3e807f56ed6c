//! Checks shared by several test files.

use capsim::model::RunOutput;

/// The unit-conservation identities of every product, cross-checked against the ledger.
pub fn assert_conserved(run: &RunOutput, ctx: &str) {
    for (p, a) in run.accounts.iter().enumerate() {
        // Every unit started is in production or finished.
        assert_eq!(
            a.started,
            a.in_production + a.produced,
            "product {p}: {ctx}"
        );
        // Finished units are at the vendor or shipped.
        assert_eq!(a.produced, a.inventory + a.shipped, "product {p}: {ctx}");
        // Shipped units are on their way or delivered.
        assert_eq!(a.shipped, a.in_transit + a.delivered, "product {p}: {ctx}");
        // Delivered (and initial) units are stranded, installing, serving, failed or retired.
        assert_eq!(
            a.delivered + a.initial,
            a.stranded + a.installing + a.installed + a.failed + a.retired,
            "product {p}: {ctx}"
        );
        // An independent record agrees: the ledger sums to what was shipped.
        let ledger: u64 = run
            .ledger
            .iter()
            .filter(|l| l.product == p)
            .map(|l| l.units)
            .sum();
        assert_eq!(ledger, a.shipped, "ledger of product {p}: {ctx}");
    }
}
