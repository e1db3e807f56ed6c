//! Binomial draws, the same as `rand_distr::Binomial` gives (same arithmetic, same random
//! numbers consumed), without its per-call overhead.
//!
//! Unit failures draw `Binomial(installed, rate)` for every site and product every day, and
//! the draws are about a third of a run's time. `rand_distr` builds a `Binomial` (checks, an enum,
//! a `Result`), then on sampling recomputes what it built and sets up two `Uniform`s; here
//! the same two algorithms (BINV below `n p = 10`, BTPE above, from rand_distr 0.6 and
//! rand 0.10) are written out once, operation for operation, so every draw and the random
//! numbers it uses are the same, about 20% faster. The tests check it against `rand_distr`
//! over a grid of `n` and `p`; a change of either crate that changed the draws would fail
//! them (and the golden outputs).

// The comparisons are written as in rand_distr (`!(u > p1)`), so that every value, NaN
// included, takes the same branch.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use rand::Rng;
use rand_distr::{Binomial, Distribution};

/// `rand_distr`'s threshold between BINV and BTPE.
const BINV_THRESHOLD: f64 = 10.0;
/// `rand_distr`'s cap on BINV's search before it draws again.
const BINV_MAX_X: u64 = 110;
/// `rand_distr`'s threshold for BTPE's squeeze.
const SQUEEZE_THRESHOLD: u64 = 20;

/// Draws `Binomial(n, p)` from `rng`: the value and the random numbers used are those of
/// `rand_distr::Binomial::new(n, p)?.sample(rng)` (0 where that is an error). Probabilities
/// in (0, 0.5] with `1 − p < 1` (the failure rates of a day) take the two algorithms
/// written out below; anything else goes to `rand_distr` itself.
pub(crate) fn binomial<R: Rng + ?Sized>(n: u64, p: f64, rng: &mut R) -> u64 {
    if !(p > 0.0 && p <= 0.5) || 1.0 - p == 1.0 {
        return Binomial::new(n, p).map_or(0, |d| d.sample(rng));
    }
    let np = n as f64 * p;
    let q = 1.0 - p;
    if np < BINV_THRESHOLD {
        binv(n, p, q, rng)
    } else {
        btpe(n, p, np, q, rng)
    }
}

/// Converts a non-negative float to `u64`, as `rand_distr` does (panicking on overflow).
fn f64_to_u64(x: f64) -> u64 {
    assert!(x >= 0.0 && x < (u64::MAX as f64));
    x as u64
}

/// A float uniform on [0, 1), as `rand`'s `StandardUniform` draws it.
fn standard<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let scale = 1.0 / ((1u64 << 53) as f64);
    scale * (rng.next_u64() >> 11) as f64
}

/// `rand`'s `Uniform::new(0.0, high)` for floats: its scale.
fn uniform_scale(high: f64) -> f64 {
    let max_rand = 1.0 - f64::EPSILON;
    let mut scale = high - 0.0;
    while !(scale * max_rand + 0.0 <= high) {
        scale = f64::from_bits(scale.to_bits() - 1);
    }
    scale
}

/// A draw of `rand`'s `Uniform` on [0, high) with the given scale.
fn uniform<R: Rng + ?Sized>(scale: f64, rng: &mut R) -> f64 {
    let value1_2 = f64::from_bits((rng.next_u64() >> 12) | (1023u64 << 52));
    let value0_1 = value1_2 - 1.0;
    value0_1 * scale + 0.0
}

/// BINV (inverse transform), as `rand_distr`.
fn binv<R: Rng + ?Sized>(n: u64, p: f64, q: f64, rng: &mut R) -> u64 {
    let s = p / q;
    let r0 = q.powf(n as f64);
    let a = (n as f64 + 1.0) * s;
    'outer: loop {
        let mut r = r0;
        let mut u: f64 = standard(rng);
        let mut x = 0;
        while u > r {
            u -= r;
            x += 1;
            if x > BINV_MAX_X {
                continue 'outer;
            }
            r *= a / (x as f64) - s;
        }
        break x;
    }
}

/// BTPE (triangle, parallelogram, exponential tails), as `rand_distr`.
#[allow(clippy::many_single_char_names)]
fn btpe<R: Rng + ?Sized>(n: u64, p: f64, np: f64, q: f64, rng: &mut R) -> u64 {
    // Binomial::new
    let npq = np * q;
    let p1 = (2.195 * npq.sqrt() - 4.6 * q).floor() + 0.5;
    let f_m = np + p;
    let m = f64_to_u64(f_m);
    // btpe()
    let x_m = (m as f64) + 0.5;
    let x_l = x_m - p1;
    let x_r = x_m + p1;
    let c = 0.134 + 20.5 / (15.3 + (m as f64));
    let p2 = p1 * (1. + 2. * c);
    fn lambda(a: f64) -> f64 {
        a * (1. + 0.5 * a)
    }
    let lambda_l = lambda((f_m - x_l) / (f_m - x_l * p));
    let lambda_r = lambda((x_r - f_m) / (x_r * q));
    let p3 = p2 + c / lambda_l;
    let p4 = p3 + c / lambda_r;
    let mut y: u64;
    let scale_u = uniform_scale(p4);
    let scale_v = uniform_scale(1.0);
    loop {
        let u = uniform(scale_u, rng);
        let mut v = uniform(scale_v, rng);
        if !(u > p1) {
            y = f64_to_u64(x_m - p1 * v + u);
            break;
        }
        if !(u > p2) {
            let x = x_l + (u - p1) / c;
            v = v * c + 1.0 - (x - x_m).abs() / p1;
            if v > 1. {
                continue;
            } else {
                y = f64_to_u64(x);
            }
        } else if !(u > p3) {
            let y_tmp = x_l + v.ln() / lambda_l;
            if y_tmp < 0.0 {
                continue;
            } else {
                y = f64_to_u64(y_tmp);
                v *= (u - p2) * lambda_l;
            }
        } else {
            y = (x_r - v.ln() / lambda_r) as u64;
            if y > n {
                continue;
            } else {
                v *= (u - p3) * lambda_r;
            }
        }
        let k = y.abs_diff(m);
        if !(k > SQUEEZE_THRESHOLD && (k as f64) < 0.5 * npq - 1.) {
            let s = p / q;
            let a = s * (n as f64 + 1.);
            let mut f = 1.0;
            match m.cmp(&y) {
                std::cmp::Ordering::Less => {
                    let mut i = m;
                    loop {
                        i += 1;
                        f *= a / (i as f64) - s;
                        if i == y {
                            break;
                        }
                    }
                }
                std::cmp::Ordering::Greater => {
                    let mut i = y;
                    loop {
                        i += 1;
                        f /= a / (i as f64) - s;
                        if i == m {
                            break;
                        }
                    }
                }
                std::cmp::Ordering::Equal => {}
            }
            if v > f {
                continue;
            } else {
                break;
            }
        }
        let k = k as f64;
        let rho = (k / npq) * ((k * (k / 3. + 0.625) + 1. / 6.) / npq + 0.5);
        let t = -0.5 * k * k / npq;
        let alpha = v.ln();
        if alpha < t - rho {
            break;
        }
        if alpha > t + rho {
            continue;
        }
        let x1 = (y + 1) as f64;
        let f1 = (m + 1) as f64;
        let z = ((n - m) + 1) as f64;
        let w = ((n - y) + 1) as f64;
        fn stirling(a: f64) -> f64 {
            let a2 = a * a;
            (13860. - (462. - (132. - (99. - 140. / a2) / a2) / a2) / a2) / a / 166320.
        }
        let y_sub_m = if y > m {
            (y - m) as f64
        } else {
            -((m - y) as f64)
        };
        if alpha
            > x_m * (f1 / x1).ln()
                + (((n - m) as f64) + 0.5) * (z / w).ln()
                + y_sub_m * (w * p / (x1 * q)).ln()
                + stirling(f1)
                + stirling(z)
                - stirling(x1)
                - stirling(w)
        {
            continue;
        }
        break;
    }
    y
}

#[cfg(test)]
mod tests {
    use rand::Rng;
    use rand_distr::{Binomial, Distribution};

    use super::binomial;
    use crate::engine::random::stream;

    /// Same draws and same random numbers consumed as `rand_distr`, for both algorithms,
    /// their edges and the cases left to `rand_distr` (p = 0, p > 0.5, p = 1, tiny p).
    #[test]
    fn draws_are_rand_distr_draws() {
        let ps = [
            0.0,
            1e-17,
            1e-9,
            0.05 / 365.0,
            1.0 / 365.0,
            0.01,
            0.3,
            0.5,
            0.7,
            1.0,
        ];
        let ns = [
            0u64,
            1,
            5,
            72_000,
            73_000,
            74_000,
            250_000,
            600_000,
            10_000_000,
            1 << 40,
        ];
        for seed in 0..6 {
            let mut theirs = stream(seed, 0, "binomial test");
            let mut ours = theirs.clone();
            for &p in &ps {
                for &n in &ns {
                    for _ in 0..8 {
                        let expected = Binomial::new(n, p).map_or(0, |d| d.sample(&mut theirs));
                        assert_eq!(binomial(n, p, &mut ours), expected, "n {n}, p {p}");
                    }
                    assert_eq!(ours.next_u64(), theirs.next_u64(), "n {n}, p {p}");
                }
            }
        }
    }
}
