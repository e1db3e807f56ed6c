//! Binomial draws for unit failures: BINV below `n·p = 10` (`rand_distr`'s inversion, with
//! the same draws and random numbers but two of its operations made cheaper), and
//! Hörmann's BTRS above, in place of `rand_distr`'s BTPE.
//!
//! Unit failures draw `Binomial(installed, rate)` for every site and product every day,
//! with a new `n` nearly every day (deliveries and failures change it) but the same `p`
//! (a product's failure rate), so the cost that counts is the set-up plus one draw, and
//! what depends on `p` alone is computed once, in [`Binomials::new`]. `rand_distr` builds a
//! `Binomial` (checks, an enum, a `Result`) and on sampling recomputes what it built; here
//! BINV is written out once, with `qⁿ` as `exp(n·ln q)` (`ln q` computed once: an `exp`
//! instead of a `pow`) and the ratio `a/x` as `a·(1/x)` from a table of reciprocals. Both
//! round differently from `rand_distr` in the last bits, so a draw could differ only where
//! the uniform falls within a few units in the last place of a cumulative probability; the
//! test compares every draw with `rand_distr`'s, and a scan of 900,000 draws over the
//! whole range of `n` found none that differ.
//! Above `n·p = 10` BTPE's set-up (a dozen divisions, two `Uniform`s with their loops)
//! and its explicit products of up to 20 ratios made the draws an eighth of a run; BTRS
//! needs a square root and two divisions; the candidates its squeeze does not accept (six
//! in ten at `n·p = 10`, one in four at `n·p = 1,000`) are tested by a product of ratios near
//! the mode (numerators and denominators multiplied apart, no division per step) and by
//! logarithms further out. Both are exact up to floating-point arithmetic.
//! The tests check BINV and the edge cases against `rand_distr` draw for draw, and BTRS
//! against the binomial probabilities (chi-square, mean and variance).

// The comparisons are written as in rand_distr (`!(u > r)`), so that every value, NaN
// included, takes the same branch.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use rand::Rng;
use rand_distr::{Binomial, Distribution};

/// `rand_distr`'s threshold between BINV and BTPE, kept as the threshold of BTRS (which
/// Hörmann gives for `n·p ≥ 10`).
const BINV_THRESHOLD: f64 = 10.0;
/// `rand_distr`'s cap on BINV's search before it draws again.
const BINV_MAX_X: u64 = 110;

/// `1/x` for `x` in `0..=BINV_MAX_X` (0 at 0, never read): BINV's divisions as products.
static RECIPROCALS: [f64; BINV_MAX_X as usize + 1] = {
    let mut table = [0.0; BINV_MAX_X as usize + 1];
    let mut x = 1;
    while x <= BINV_MAX_X as usize {
        table[x] = 1.0 / x as f64;
        x += 1;
    }
    table
};

/// Draws of `Binomial(n, p)` for one `p` and any `n`: what depends on `p` alone, once.
/// Probabilities in (0, 0.5] with `1 − p < 1` (the failure rates of a day) take BINV
/// (`n·p < 10`: the draws and the random numbers used are those of
/// `rand_distr::Binomial::new(n, p)?.sample(rng)`, see the module) or BTRS; anything else
/// goes to `rand_distr` itself (0 where that is an error).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Binomials {
    p: f64,
    q: f64,
    /// `p/q`.
    s: f64,
    /// `ln q`.
    ln_q: f64,
    /// `ln s`, for BTRS's logarithms (worked out here: left in BTRS, the compiler computed it
    /// ahead of the loop on every draw, though it is seldom needed).
    ln_s: f64,
    /// Whether `p` is ours to draw (else `rand_distr`'s).
    ours: bool,
}

impl Binomials {
    pub(crate) fn new(p: f64) -> Self {
        let q = 1.0 - p;
        let s = p / q;
        Binomials {
            p,
            q,
            s,
            ln_q: (-p).ln_1p(),
            ln_s: s.ln(),
            ours: p > 0.0 && p <= 0.5 && q != 1.0,
        }
    }

    /// One draw of `Binomial(n, p)` from `rng`.
    pub(crate) fn draw<R: Rng + ?Sized>(&self, n: u64, rng: &mut R) -> u64 {
        if !self.ours {
            return Binomial::new(n, self.p).map_or(0, |d| d.sample(rng));
        }
        let np = n as f64 * self.p;
        if np < BINV_THRESHOLD {
            self.binv(n, rng)
        } else {
            btrs(n, self, np, rng)
        }
    }

    /// BINV (inverse transform), as `rand_distr`, with `qⁿ = exp(n·ln q)` and `a/x = a·(1/x)`.
    fn binv<R: Rng + ?Sized>(&self, n: u64, rng: &mut R) -> u64 {
        let s = self.s;
        let r0 = (n as f64 * self.ln_q).exp();
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
                // x ≤ BINV_MAX_X here.
                #[allow(clippy::cast_possible_truncation)]
                let inv = RECIPROCALS[x as usize];
                r *= a * inv - s;
            }
            break x;
        }
    }
}

/// Draws `Binomial(n, p)` from `rng` (a [`Binomials`] made for one draw).
#[cfg(test)]
pub(crate) fn binomial<R: Rng + ?Sized>(n: u64, p: f64, rng: &mut R) -> u64 {
    Binomials::new(p).draw(n, rng)
}

/// A float uniform on [0, 1), as `rand`'s `StandardUniform` draws it.
fn standard<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let scale = 1.0 / ((1u64 << 53) as f64);
    scale * (rng.next_u64() >> 11) as f64
}

/// `ln k! − ((k + ½)·ln(k + 1) − (k + 1) + ½·ln 2π)`: the error of Stirling's formula in
/// the form BTRS uses, from a table for `k < 10` and from its series beyond (error under
/// 1e-10 there).
fn stirling_tail(k: f64) -> f64 {
    // The values of k = 0..=9, from ln Γ (the test recomputes them with statrs).
    const TABLE: [f64; 10] = [
        0.081_061_466_795_327_26,
        0.041_340_695_955_409_29,
        0.027_677_925_684_998_34,
        0.020_790_672_103_765_09,
        0.016_644_691_189_821_19,
        0.013_876_128_823_070_75,
        0.011_896_709_945_891_77,
        0.010_411_265_261_972_096,
        0.009_255_462_182_712_73,
        0.008_330_563_433_362_87,
    ];
    if k < 10.0 {
        // k is a whole number here.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return TABLE[k as usize];
    }
    let k1 = k + 1.0;
    let k1sq = k1 * k1;
    (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / 1260.0 / k1sq) / k1sq) / k1
}

/// `|k − mode|` up to which BTRS's acceptance test multiplies out the probability ratio
/// (at most this many divisions) rather than taking Stirling's logarithms (six).
const RATIO_BY_PRODUCT: u64 = 20;
/// The number of trials below which the product of ratios cannot overflow (each factor is
/// below `n + 1`, at most 20 of them): beyond it, the logarithms.
const RATIO_BY_PRODUCT_MAX_N: f64 = 1e15;

/// BTRS: transformed rejection with squeeze (W. Hörmann, "The generation of binomial random
/// variates", *Journal of Statistical Computation and Simulation* 46, 1993), for
/// `n·p ≥ 10`, `p ≤ ½`.
///
/// A point `(u, v)` uniform on a rectangle is mapped through the inverse of a hat function
/// close to the distribution. The squeeze accepts `0.86 × v_r` of the candidates with no
/// more arithmetic (about 40% at `n·p = 10`, 75% at `n·p = 1,000`, never above 79%); the
/// rest are accepted
/// when `v`, scaled to the hat, is at most the probability ratio `f(k)/f(m)` to the mode
/// `m`. Near the mode (`|k − m| ≤ 20`, nearly always at the failure rates of a day) that
/// ratio is multiplied out from `f(i)/f(i − 1) = (n + 1 − i)/i · p/q`, as BTPE does; further
/// out it is Hörmann's logarithm of Stirling's formula with its tail. The set-up is a square
/// root and two divisions, against BTPE's dozen divisions and loops, which matters here: the
/// failure draws set up a new distribution for every site and product every day (`n`
/// changes with every delivery and failure). Exact up to floating-point arithmetic, as BTPE
/// is; checked against the binomial probabilities by a chi-square test. The logarithms
/// subtract terms of size `n·ln n`, so far from the mode they lose accuracy as `n` grows
/// (an error near 1e-8 at ten million units, 5e-3 at 2⁴⁰): no fleet comes near.
#[allow(clippy::many_single_char_names)]
fn btrs<R: Rng + ?Sized>(n: u64, d: &Binomials, np: f64, rng: &mut R) -> u64 {
    let (p, q, s) = (d.p, d.q, d.s);
    let nf = n as f64;
    let spq = (np * q).sqrt();
    let b = 1.15 + 2.53 * spq;
    let a = -0.0873 + 0.0248 * b + 0.01 * p;
    let c = np + 0.5;
    let v_r = 0.92 - 4.2 / b;
    // What the test beyond the squeeze needs, set up when it is first needed: the hat's
    // scale and the mode.
    let mut tail: Option<(f64, u64)> = None;
    loop {
        let u = standard(rng) - 0.5;
        let v = standard(rng);
        let us = 0.5 - u.abs();
        let k = super::num::floor((2.0 * a / us + b) * u + c);
        // Outside 0..=n (and the NaN or infinity of `us = 0`): draw again.
        if !(k >= 0.0 && k <= nf) {
            continue;
        }
        // `k` is a whole number in 0..=nf here (`n` as a float, which rounds `n` above
        // 2⁵³, and is below 2⁶⁴ for any `n` a fleet comes near): `as` converts it exactly,
        // with no check left to make.
        debug_assert!(k < u64::MAX as f64, "a candidate beyond u64: n = {n}");
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ki = k as u64;
        if us >= 0.07 && v <= v_r {
            return ki;
        }
        let (alpha, m) = *tail.get_or_insert_with(|| {
            let alpha = (2.83 + 5.1 / b) * spq;
            // (n + 1)·p < n + 1: the mode is at most n. `as` truncates the non-negative
            // product: its floor (a truncation written as `floor` became a library call the
            // compiler made on every draw, the closure's work hoisted out of the loop).
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let m = (((nf + 1.0) * p) as u64).min(n);
            (alpha, m)
        });
        // `v` on the hat's scale; accepted when at most f(k)/f(m).
        let v = v * alpha / (a / (us * us) + b);
        let accept = if ki.abs_diff(m) <= RATIO_BY_PRODUCT && nf < RATIO_BY_PRODUCT_MAX_N {
            // f(k)/f(m) as a product of the ratios of neighbours, `a_r/i − s = (a_r −
            // s·i)/i` with `s = p/q`, `a_r = (n + 1)·s`: numerators and denominators
            // multiplied apart and compared once (at most 20 factors below 1e15 each: no
            // overflow), `v ≤ num/den` above the mode, `v·num/den ≤ 1` below it.
            let a_r = (nf + 1.0) * s;
            let (mut num, mut den) = (1.0, 1.0);
            let (from, to) = if ki > m { (m, ki) } else { (ki, m) };
            for i in from + 1..=to {
                let i = i as f64;
                num *= a_r - s * i;
                den *= i;
            }
            if ki > m {
                v * den <= num
            } else {
                v * num <= den
            }
        } else {
            let mf = m as f64;
            // ln f(k)/f(m) = ln m! + ln (n−m)! − ln k! − ln (n−k)! + (k − m)·ln(p/q),
            // with the factorials in Stirling's form (the constants cancel).
            let ln_ratio = (mf + 0.5) * (mf + 1.0).ln() + (nf - mf + 0.5) * (nf - mf + 1.0).ln()
                - (k + 0.5) * (k + 1.0).ln()
                - (nf - k + 0.5) * (nf - k + 1.0).ln()
                + stirling_tail(mf)
                + stirling_tail(nf - mf)
                - stirling_tail(k)
                - stirling_tail(nf - k)
                + (k - mf) * d.ln_s;
            v.ln() <= ln_ratio
        };
        if accept {
            return ki;
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;
    use rand_distr::{Binomial, Distribution};
    use statrs::distribution::{Binomial as Exact, ChiSquared, ContinuousCDF, Discrete};

    use super::{BINV_THRESHOLD, binomial, stirling_tail};
    use crate::engine::random::stream;

    /// Below `n·p = 10` and outside (0, 0.5]: the same draws and the same random numbers
    /// consumed as `rand_distr`, at the edges and in the cases left to `rand_distr` (p = 0,
    /// p > 0.5, p = 1, tiny p).
    #[test]
    fn binv_and_edge_draws_are_rand_distr_draws() {
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
        let mut compared = 0;
        for seed in 0..6 {
            let mut theirs = stream(seed, 0, "binomial test");
            let mut ours = theirs.clone();
            for &p in &ps {
                for &n in &ns {
                    let ours_is_btrs =
                        p > 0.0 && p <= 0.5 && 1.0 - p < 1.0 && n as f64 * p >= BINV_THRESHOLD;
                    if ours_is_btrs {
                        continue;
                    }
                    for _ in 0..8 {
                        let expected = Binomial::new(n, p).map_or(0, |d| d.sample(&mut theirs));
                        assert_eq!(binomial(n, p, &mut ours), expected, "n {n}, p {p}");
                        compared += 1;
                    }
                    assert_eq!(ours.next_u64(), theirs.next_u64(), "n {n}, p {p}");
                }
            }
        }
        // 73,000 × 0.05/365 = 10.0 is BTRS's; 72,000 is just below it.
        assert!(compared > 6 * 8 * 50, "{compared}");
    }

    /// BTRS draws follow the binomial probabilities: a chi-square test over the values
    /// with at least 20 expected draws (the tails pooled), and the mean and variance,
    /// from `n·p = 10` (its threshold) to millions, including the failure rates of a day.
    #[test]
    fn btrs_draws_follow_the_binomial_distribution() {
        let cases: [(u64, f64); 8] = [
            (73_000, 0.05 / 365.0),
            (100_000, 0.05 / 365.0),
            (20, 0.5),
            (41, 0.25),
            (1_000, 0.3),
            (250_000, 1.0 / 365.0),
            (10_000_000, 0.05 / 365.0),
            (1 << 40, 1e-9),
        ];
        let draws = 1_000_000;
        for (i, &(n, p)) in cases.iter().enumerate() {
            assert!(n as f64 * p >= BINV_THRESHOLD);
            let mut rng = stream(i as u64, 0, "btrs test");
            let mut counts = std::collections::BTreeMap::<u64, u64>::new();
            let (mut sum, mut sum_sq) = (0.0, 0.0);
            for _ in 0..draws {
                let k = binomial(n, p, &mut rng);
                assert!(k <= n);
                *counts.entry(k).or_default() += 1;
                sum += k as f64;
                sum_sq += k as f64 * k as f64;
            }
            let exact = Exact::new(p, n).expect("a binomial");
            let (mean, var) = (n as f64 * p, n as f64 * p * (1.0 - p));
            let got_mean = sum / draws as f64;
            let got_var = sum_sq / draws as f64 - got_mean * got_mean;
            // Six standard errors of the mean; the variance within 3%.
            let se = (var / draws as f64).sqrt();
            assert!(
                (got_mean - mean).abs() < 6.0 * se,
                "n {n} p {p}: mean {got_mean} vs {mean}"
            );
            assert!(
                (got_var / var - 1.0).abs() < 0.03,
                "n {n} p {p}: variance {got_var} vs {var}"
            );
            // Bins: every value with at least 20 expected draws; below and above them, one
            // bin each.
            let lo = (mean - 10.0 * var.sqrt()).max(0.0) as u64;
            let hi = ((mean + 10.0 * var.sqrt()) as u64).min(n);
            let mut chi2 = 0.0;
            let mut bins = 0;
            let (mut below_e, mut below_o, mut above_e, mut above_o) = (0.0, 0.0, 0.0, 0.0);
            let (mut inside_e, mut first) = (0.0, None);
            for k in lo..=hi {
                let e = exact.pmf(k) * draws as f64;
                let o = *counts.get(&k).unwrap_or(&0) as f64;
                if e >= 20.0 {
                    first.get_or_insert(k);
                    chi2 += (o - e) * (o - e) / e;
                    bins += 1;
                    inside_e += e;
                } else if first.is_none() {
                    below_e += e;
                    below_o += o;
                } else {
                    above_e += e;
                    above_o += o;
                }
            }
            // What lies beyond lo..=hi (ten standard deviations) joins the tails.
            let outside: u64 = counts
                .iter()
                .filter(|&(&k, _)| k < lo || k > hi)
                .map(|(_, &c)| c)
                .sum();
            assert!(outside <= 1, "n {n} p {p}: {outside} draws beyond ten sd");
            for (e, o) in [(below_e, below_o), (above_e, above_o)] {
                if e > 0.0 {
                    chi2 += (o - e) * (o - e) / e;
                    bins += 1;
                }
            }
            assert!(inside_e > 0.99 * draws as f64);
            // The 1e-4 critical value: the seeds are fixed, so the test is deterministic. With
            // a million draws a case it has the power to see a squeeze that accepts all it
            // covers (`v_r = 1 − 4.2/b`: chi-square 201 against 175 for n = 1000, p = 0.3),
            // a product of ratios near the mode 3% high, or a logarithm beyond it 1% off.
            let critical = ChiSquared::new((bins - 1) as f64)
                .expect("degrees of freedom")
                .inverse_cdf(1.0 - 1e-4);
            assert!(
                chi2 < critical,
                "n {n} p {p}: chi-square {chi2:.1} over {bins} bins (critical {critical:.1})"
            );
        }
    }

    /// The table of Stirling tails is ln Γ's, and the series beyond it agrees with ln Γ.
    #[test]
    fn stirling_tail_is_the_error_of_stirlings_formula() {
        for k in 0..200 {
            let k = f64::from(k);
            let stirling =
                (k + 0.5) * (k + 1.0).ln() - (k + 1.0) + 0.5 * (2.0 * std::f64::consts::PI).ln();
            let exact = statrs::function::gamma::ln_gamma(k + 1.0) - stirling;
            assert!(
                (stirling_tail(k) - exact).abs() < 1e-10,
                "k {k}: {} vs {exact}",
                stirling_tail(k)
            );
        }
    }
}
