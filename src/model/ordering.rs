//! The ordering rule every buyer uses: Sterman's stock-management heuristic (anchoring and
//! adjustment).
//!
//! Sterman, "Modeling managerial behavior: misperceptions of feedback in a dynamic decision
//! making experiment", *Management Science* 35(3), 1989; *Business Dynamics* (2000),
//! chapters 17–18. A decision maker anchors on the acquisitions it expects to need (replacing
//! what it uses), then adjusts for the gap in its stock and, separately, the gap in its
//! supply line (what it has ordered and not yet received):
//!
//! ```text
//! O = max(0, Ê + (S* − S)/τ_S + (SL* − SL)/τ_SL)
//! ```
//!
//! The weight on the supply line, `β = τ_S / τ_SL`, damps oscillation: at `β = 1` the rule
//! counts an order once, whether it is still on order or already in stock, and stocks settle
//! without overshoot; beer-game players put about a third of that weight on it (Sterman's
//! fitted β ≈ 0.34), which is what makes them oscillate and amplify upstream.
//! `examples/beergame.rs` runs the rule in the four-stage game.
//!
//! The rule is a pure function so that the model's buyers and the beer game share it.

/// Adjustment times of the stock-management rule [days, or any time unit].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StockRule {
    /// Time to close a gap in the stock, `τ_S`.
    pub stock_adjust: f64,
    /// Time to close a gap in the supply line, `τ_SL`.
    pub supply_line_adjust: f64,
}

impl StockRule {
    /// A rule from the stock adjustment time and the weight on the supply line
    /// `β = τ_S / τ_SL` (`β = 0` ignores the supply line).
    pub fn with_supply_line_weight(stock_adjust: f64, weight: f64) -> Self {
        StockRule {
            stock_adjust,
            supply_line_adjust: if weight > 0.0 {
                stock_adjust / weight
            } else {
                f64::INFINITY
            },
        }
    }

    /// The weight on the supply line, `β = τ_S / τ_SL`.
    pub fn supply_line_weight(&self) -> f64 {
        self.stock_adjust / self.supply_line_adjust
    }

    /// The order rate [units per time unit]: `max(0, Ê + (S* − S)/τ_S + (SL* − SL)/τ_SL)`.
    ///
    /// `expected` is `Ê`, the expected acquisition rate (what is used or lost per time unit);
    /// `stock`/`stock_target` are `S`/`S*`; `line`/`line_target` are `SL`/`SL*`, with `SL*`
    /// usually `Ê` × the perceived lead time.
    pub fn order_rate(
        &self,
        expected: f64,
        stock_target: f64,
        stock: f64,
        line_target: f64,
        line: f64,
    ) -> f64 {
        let stock_term = (stock_target - stock) / self.stock_adjust;
        let line_term = if self.supply_line_adjust.is_finite() {
            (line_target - line) / self.supply_line_adjust
        } else {
            0.0
        };
        (expected + stock_term + line_term).max(0.0)
    }
}

/// First-order exponential smoothing: `x ← x + (input − x) × min(1, Δt/τ)`.
///
/// Sterman's adaptive expectations (*Business Dynamics*, ch. 16), used for perceived lead
/// times, expected order rates and expected acquisitions. `τ ≤ 0` follows the input at once.
pub fn smooth(x: f64, input: f64, dt: f64, tau: f64) -> f64 {
    Smoother::new(dt, tau).apply(x, input)
}

/// [`smooth`] with one `Δt` and `τ` for many values: the share `min(1, Δt/τ)` is divided
/// out once (the values are [`smooth`]'s to the bit).
#[derive(Debug, Clone, Copy)]
pub struct Smoother {
    /// `min(1, Δt/τ)`, or `None` for `τ ≤ 0` (follow the input).
    share: Option<f64>,
}

impl Smoother {
    /// The smoothing of a step `dt` with time constant `tau`.
    pub fn new(dt: f64, tau: f64) -> Self {
        Smoother {
            share: (tau > 0.0).then(|| (dt / tau).min(1.0)),
        }
    }

    /// `x` moved toward `input`.
    #[inline]
    pub fn apply(self, x: f64, input: f64) -> f64 {
        match self.share {
            Some(share) => x + (input - x) * share,
            None => input,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_rate_anchors_then_adjusts() {
        // Ê = 4, stock gap 12 over τ_S = 4 -> +3; supply-line gap 8 over τ_SL = 8 -> +1:
        // 4 + 3 + 1 = 8.
        let r = StockRule {
            stock_adjust: 4.0,
            supply_line_adjust: 8.0,
        };
        assert!((r.order_rate(4.0, 12.0, 0.0, 16.0, 8.0) - 8.0).abs() < 1e-12);
        assert!((r.supply_line_weight() - 0.5).abs() < 1e-12);
        // A stock far above target cannot make orders negative.
        assert_eq!(r.order_rate(4.0, 0.0, 100.0, 0.0, 0.0), 0.0);
    }

    #[test]
    fn zero_weight_ignores_the_supply_line() {
        let r = StockRule::with_supply_line_weight(2.0, 0.0);
        // 1 + (10 − 6)/2 = 3, whatever the supply line holds.
        assert!((r.order_rate(1.0, 10.0, 6.0, 0.0, 1e9) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn smoothing_moves_a_share_of_the_gap() {
        // 10 + (20 − 10) × 7/70 = 11.
        assert!((smooth(10.0, 20.0, 7.0, 70.0) - 11.0).abs() < 1e-12);
        // A step longer than τ jumps to the input.
        assert_eq!(smooth(10.0, 20.0, 100.0, 70.0), 20.0);
        assert_eq!(smooth(10.0, 20.0, 1.0, 0.0), 20.0);
    }
}
