//! Distributions of a number and their draws: what the model samples per event (an outage's
//! duration, an expansion's slip) and the loader per replication. How they are written in
//! YAML, parsed and checked is the loader's (`scenario::dist`).

use rand::{Rng, RngExt};

/// A probability distribution of a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    /// Normal with `mean` and standard deviation `sd`, clamped to `[min, max]` if given.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (> 0).
        sd: f64,
        /// Lower clamp.
        min: Option<f64>,
        /// Upper clamp.
        max: Option<f64>,
    },
    /// Log-normal: `median × e^{sigma Z}`, Z standard normal, clamped to `[min, max]` if given.
    Lognormal {
        /// Median (> 0).
        median: f64,
        /// Standard deviation of `ln x` (> 0).
        sigma: f64,
        /// Lower clamp.
        min: Option<f64>,
        /// Upper clamp.
        max: Option<f64>,
    },
    /// Uniform on `[min, max)`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Triangular on `[min, max]` with its peak at `mode`.
    Triangular {
        /// Lower bound.
        min: f64,
        /// Most likely value.
        mode: f64,
        /// Upper bound.
        max: f64,
    },
    /// PERT (beta-PERT, λ = 4) on `[min, max]` with its peak at `mode`.
    Pert {
        /// Lower bound.
        min: f64,
        /// Most likely value.
        mode: f64,
        /// Upper bound.
        max: f64,
    },
}

impl Distribution {
    /// The value a distribution stands for in the central scenario: the mean (normal, uniform,
    /// triangular, PERT) or the median (lognormal), clamped to `min`/`max`.
    pub fn central(&self) -> f64 {
        match *self {
            Distribution::Normal { mean, min, max, .. } => clamp(mean, min, max),
            Distribution::Lognormal {
                median, min, max, ..
            } => clamp(median, min, max),
            _ => self.mean(),
        }
    }

    /// The mean of the distribution (before clamping).
    pub fn mean(&self) -> f64 {
        match *self {
            Distribution::Normal { mean, .. } => mean,
            Distribution::Lognormal { median, sigma, .. } => median * (sigma * sigma / 2.0).exp(),
            Distribution::Uniform { min, max } => (min + max) / 2.0,
            Distribution::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Distribution::Pert { min, mode, max } => (min + 4.0 * mode + max) / 6.0,
        }
    }

    /// The standard deviation of the distribution (before clamping).
    pub fn sd(&self) -> f64 {
        match *self {
            Distribution::Normal { sd, .. } => sd,
            Distribution::Lognormal { sigma, .. } => {
                self.mean() * ((sigma * sigma).exp() - 1.0).sqrt()
            }
            Distribution::Uniform { min, max } => (max - min) / 12f64.sqrt(),
            Distribution::Triangular { min, mode, max } => {
                let (a, c, b) = (min, mode, max);
                ((a * a + b * b + c * c - a * b - a * c - b * c) / 18.0).sqrt()
            }
            Distribution::Pert { min, max, .. } => {
                let mu = self.mean();
                ((mu - min) * (max - mu) / 7.0).sqrt()
            }
        }
    }

    /// One draw.
    ///
    /// Normal and lognormal use `rand_distr`'s standard normal (ziggurat); uniform and
    /// triangular one uniform number (triangular by its inverse distribution function); PERT
    /// a `rand_distr` beta draw, `min + (max − min) B`, `B ~ Beta(1 + 4 (mode − min) / (max −
    /// min), 1 + 4 (max − mode) / (max − min))`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        use rand_distr::Distribution as _;
        match *self {
            Distribution::Normal { mean, sd, min, max } => {
                let z: f64 = rand_distr::StandardNormal.sample(rng);
                clamp(mean + sd * z, min, max)
            }
            Distribution::Lognormal {
                median,
                sigma,
                min,
                max,
            } => {
                let z: f64 = rand_distr::StandardNormal.sample(rng);
                clamp(median * (sigma * z).exp(), min, max)
            }
            Distribution::Uniform { min, max } => {
                let u: f64 = rng.random();
                min + (max - min) * u
            }
            Distribution::Triangular { min, mode, max } => {
                let u: f64 = rng.random();
                let (a, c, b) = (min, mode, max);
                if u < (c - a) / (b - a) {
                    a + (u * (b - a) * (c - a)).sqrt()
                } else {
                    b - ((1.0 - u) * (b - a) * (b - c)).sqrt()
                }
            }
            Distribution::Pert { min, mode, max } => {
                let alpha = 1.0 + 4.0 * (mode - min) / (max - min);
                let beta = 1.0 + 4.0 * (max - mode) / (max - min);
                // Parameters were checked when the scenario was read: both are at least 1.
                match rand_distr::Beta::new(alpha, beta) {
                    Ok(b) => min + (max - min) * b.sample(rng),
                    Err(_) => mode,
                }
            }
        }
    }

    /// The family's name, as written.
    pub fn family(&self) -> &'static str {
        match self {
            Distribution::Normal { .. } => "normal",
            Distribution::Lognormal { .. } => "lognormal",
            Distribution::Uniform { .. } => "uniform",
            Distribution::Triangular { .. } => "triangular",
            Distribution::Pert { .. } => "pert",
        }
    }

    /// Lower and upper clamps (or bounds) of the draws, where there are any.
    pub fn bounds(&self) -> (Option<f64>, Option<f64>) {
        match *self {
            Distribution::Normal { min, max, .. } | Distribution::Lognormal { min, max, .. } => {
                (min, max)
            }
            Distribution::Uniform { min, max }
            | Distribution::Triangular { min, max, .. }
            | Distribution::Pert { min, max, .. } => (Some(min), Some(max)),
        }
    }
}

fn clamp(v: f64, min: Option<f64>, max: Option<f64>) -> f64 {
    let v = min.map_or(v, |lo| v.max(lo));
    max.map_or(v, |hi| v.min(hi))
}

/// A number, or a distribution sampled each time the model needs a value (per event).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantity {
    /// The same number every time.
    Fixed(f64),
    /// A fresh draw every time.
    Random(Distribution),
}

impl Quantity {
    /// One value: the number, or a draw.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Quantity::Fixed(v) => *v,
            Quantity::Random(d) => d.sample(rng),
        }
    }

    /// The number, or the distribution's central value.
    pub fn central(&self) -> f64 {
        match self {
            Quantity::Fixed(v) => *v,
            Quantity::Random(d) => d.central(),
        }
    }

    /// True for a distribution.
    pub fn is_random(&self) -> bool {
        matches!(self, Quantity::Random(_))
    }
}

impl From<f64> for Quantity {
    fn from(v: f64) -> Self {
        Quantity::Fixed(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::random::stream;

    /// Mean and standard deviation of `n` draws, each from its own replication's stream, as
    /// the loader draws them.
    fn moments(d: &Distribution, n: u64) -> (f64, f64) {
        let xs: Vec<f64> = (0..n)
            .map(|rep| d.sample(&mut stream(7, rep, "param/test")))
            .collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, var.sqrt())
    }

    /// Checks the sample mean within 5 standard errors (σ/√n) and the sample sd within 5
    /// standard errors of a standard deviation (about σ √((κ − 1)/(4n)), κ ≤ 9 here).
    fn check(d: Distribution) {
        let n = 20_000;
        let (mean, sd) = moments(&d, n);
        let se_mean = d.sd() / (n as f64).sqrt();
        let se_sd = d.sd() * (8.0 / (4.0 * n as f64)).sqrt();
        assert!(
            (mean - d.mean()).abs() < 5.0 * se_mean,
            "{d}: sample mean {mean}, expected {} ± {}",
            d.mean(),
            5.0 * se_mean
        );
        assert!(
            (sd - d.sd()).abs() < 5.0 * se_sd,
            "{d}: sample sd {sd}, expected {} ± {}",
            d.sd(),
            5.0 * se_sd
        );
    }

    #[test]
    fn draws_have_the_documented_mean_and_spread() {
        check(Distribution::Normal {
            mean: 10.0,
            sd: 2.0,
            min: None,
            max: None,
        });
        check(Distribution::Lognormal {
            median: 100.0,
            sigma: 0.3,
            min: None,
            max: None,
        });
        check(Distribution::Uniform { min: 2.0, max: 5.0 });
        // Skewed, so that swapping the branches of the inverse would show.
        check(Distribution::Triangular {
            min: 0.0,
            mode: 1.0,
            max: 10.0,
        });
        check(Distribution::Pert {
            min: 0.0,
            mode: 2.0,
            max: 10.0,
        });
    }

    #[test]
    fn lognormal_median_and_clamps() {
        let d = Distribution::Lognormal {
            median: 50.0,
            sigma: 0.5,
            min: None,
            max: None,
        };
        let below = (0..10_000)
            .filter(|&r| d.sample(&mut stream(1, r, "x")) < 50.0)
            .count();
        // Half the draws fall below the median: 5000 ± 5 × 50 (binomial sd √(n/4) = 50).
        assert!((below as i64 - 5000).abs() < 250, "{below}");
        let clamped = Distribution::Normal {
            mean: 0.9,
            sd: 0.1,
            min: None,
            max: Some(1.0),
        };
        let xs: Vec<f64> = (0..2000)
            .map(|r| clamped.sample(&mut stream(1, r, "y")))
            .collect();
        assert!(xs.iter().all(|&x| x <= 1.0));
        assert!(xs.contains(&1.0), "some draws are clamped");
        assert_eq!(clamped.central(), 0.9);
    }
}
