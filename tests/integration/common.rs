//! Checks shared by several test files.

use std::path::Path;
use std::process::{Command, Output};

use capsim::model::RunOutput;

/// The `capsim` binary, ready for arguments.
pub fn capsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
}

/// A command's run must have succeeded (exit code 0); its stderr says why not.
#[track_caller]
pub fn assert_success(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `capsim chart DIR`, which must refuse it as bad input (exit code 2) without drawing
/// anything; returns what it printed on stderr.
pub fn chart_refused(dir: &Path) -> String {
    let res = capsim().arg("chart").arg(dir).output().expect("runs");
    assert_eq!(res.status.code(), Some(2));
    assert!(!dir.join("charts").exists(), "charts/ was drawn");
    String::from_utf8_lossy(&res.stderr).into_owned()
}

/// The unit-conservation identities of every product, cross-checked against the ledger.
pub fn assert_conserved(run: &RunOutput, ctx: &str) {
    for (p, a) in run.accounts.iter().enumerate() {
        // Every unit started (or in production at the start) is in production or finished.
        assert_eq!(
            a.started + a.initial_wip,
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
        // Orders are shipped, still open or cancelled.
        assert_eq!(
            a.ordered,
            a.shipped + a.open + a.cancelled,
            "orders of product {p}: {ctx}"
        );
        // An independent record agrees: the ledger's shipments sum to what was shipped, and
        // its cancellations to no more than was cancelled (export rules cancel outside it).
        let (mut shipped, mut cancelled) = (0, 0);
        for l in run.ledger.iter().filter(|l| l.product == p) {
            if l.rule == capsim::model::procurement::CANCELLED {
                cancelled += l.units;
            } else {
                shipped += l.units;
            }
        }
        assert_eq!(shipped, a.shipped, "ledger of product {p}: {ctx}");
        assert!(cancelled <= a.cancelled, "ledger of product {p}: {ctx}");
    }
}
