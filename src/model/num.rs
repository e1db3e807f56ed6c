//! `floor` and `round` of the daily step without a library call.
//!
//! On the baseline x86-64 target (no SSE4.1, which capsim does not require) `f64::floor`
//! and `f64::round` are library calls (Rust's own `libm`, as callgrind shows them; 25 or so
//! instructions each), and the daily step makes hundreds (a binomial draw's candidate, a
//! day's starts, a placement, a turn-and-earn weight). For a positive number below 2⁵²,
//! truncation to an integer is the floor, and exact; these take that path and leave every
//! other number (zero, negative, huge, NaN) to the library, so each returns the library's
//! value to the bit. The compiler may still make the call where it hoists such a `floor` out
//! of a lazily computed value: the binomial draws' mode converts with `as` for that reason
//! (docs/performance.md, tenth round).

/// 2⁵²: from here on every `f64` is a whole number.
const WHOLE: f64 = 4_503_599_627_370_496.0;

/// `x.floor()`, to the bit.
#[inline]
pub(crate) fn floor(x: f64) -> f64 {
    if x > 0.0 && x < WHOLE {
        // Truncation of a positive number is its floor; below 2⁵² it is exact in i64 and
        // back (i64, not u64: one instruction each way on x86-64).
        (x as i64) as f64
    } else {
        x.floor()
    }
}

/// `x.round()` (halves away from zero), to the bit.
#[inline]
pub(crate) fn round(x: f64) -> f64 {
    if x > 0.0 && x < WHOLE {
        let whole = (x as i64) as f64;
        // `x − whole` is exact (both below 2⁵², `whole` ≤ x < whole + 1).
        if x - whole >= 0.5 { whole + 1.0 } else { whole }
    } else {
        x.round()
    }
}

#[cfg(test)]
mod tests {
    use super::{WHOLE, floor, round};

    /// The same bits as the library's, on the edges of every branch and across magnitudes.
    #[test]
    fn floor_and_round_are_the_librarys() {
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            0.49999999999999994,
            1.5,
            2.5,
            -2.5,
            1.0 - f64::EPSILON / 2.0,
            f64::MIN_POSITIVE,
            5e-324,
            WHOLE - 0.5,
            WHOLE,
            WHOLE + 1.0,
            WHOLE * 2.0 - 1.0,
            1e300,
            -1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        // A spread of magnitudes, each with its neighbours and half-way points.
        let mut x: f64 = 1e-6;
        while x < 1e17 {
            for d in [-1.0, -0.5, 0.0, 0.5, 1.0] {
                for y in [
                    x + d,
                    x * 1.000_000_1,
                    (x + d).next_up(),
                    (x + d).next_down(),
                ] {
                    xs.push(y);
                    xs.push(-y);
                }
            }
            x *= 1.7;
        }
        for x in xs {
            assert_eq!(floor(x).to_bits(), x.floor().to_bits(), "floor {x:e}");
            assert_eq!(round(x).to_bits(), x.round().to_bits(), "round {x:e}");
        }
    }
}
