//! The confidence level of the intervals of a mean (`--confidence`), and Student's t quantile
//! it needs.
//!
//! A level is kept as a whole number of parts in ten thousand (0.95 is 9500), so that it names
//! columns and keys exactly, whatever the float: `ci95_low` at 0.95, `ci90_low` at 0.9,
//! `ci99_5_low` at 0.995 (the percentage, its decimal point written `_`).

use std::cell::Cell;
use std::fmt;

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Parts in ten thousand of a level: its finest step is 0.0001.
const SCALE: u32 = 10_000;

/// Degrees of freedom up to which statrs's inverse of Student's t is used; beyond, the
/// Cornish-Fisher expansion around the normal quantile. statrs's inverse (through the inverse
/// regularised incomplete beta function) drifts for large degrees of freedom: at 0.95 and a
/// million degrees of freedom it is 1.6444 instead of 1.6449. From 100 to 1000 degrees of
/// freedom the two agree to 1e-8 for every level from 0.01 to 0.9999, and beyond 1000 the
/// expansion's error is below 1e-9.
const STATRS_MAX_DF: u64 = 1000;

/// A confidence level between 0 and 1 (exclusive), to four decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Confidence(u32);

impl Default for Confidence {
    /// 0.95.
    fn default() -> Self {
        Confidence(9500)
    }
}

impl Confidence {
    /// The level as a number: 0.95.
    pub fn level(self) -> f64 {
        f64::from(self.0) / f64::from(SCALE)
    }

    /// Whether this is the default level, 0.95.
    pub fn is_default(&self) -> bool {
        *self == Confidence::default()
    }

    /// The level in percent, as text without trailing zeros: `95`, `99.5`, `0.01`.
    pub fn percent(self) -> String {
        let (whole, frac) = (self.0 / 100, self.0 % 100);
        if frac == 0 {
            whole.to_string()
        } else {
            format!("{whole}.{}", format!("{frac:02}").trim_end_matches('0'))
        }
    }

    /// The stem of the interval's keys and columns: `ci95`, `ci90`, `ci99_5`.
    pub fn key(self) -> String {
        format!("ci{}", self.percent().replace('.', "_"))
    }

    /// The key of the interval's low end: `ci95_low`.
    pub fn low_key(self) -> String {
        format!("{}_low", self.key())
    }

    /// The key of the interval's high end: `ci95_high`.
    pub fn high_key(self) -> String {
        format!("{}_high", self.key())
    }

    /// The level named by a key stem (`ci95`, `ci99_5`), as [`Confidence::key`] writes it.
    pub fn from_key(stem: &str) -> Option<Confidence> {
        let percent = stem.strip_prefix("ci")?.replacen('_', ".", 1);
        let (whole, frac) = percent.split_once('.').unwrap_or((&percent, ""));
        if whole.is_empty()
            || frac.len() > 2
            || !whole
                .bytes()
                .chain(frac.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let whole: u32 = whole.parse().ok()?;
        let frac: u32 = format!("{frac:0<2}").parse().ok()?;
        let parts = whole.checked_mul(100)?.checked_add(frac)?;
        (parts > 0 && parts < SCALE).then_some(Confidence(parts))
    }

    /// The level of a number (as `shard.json` and `manifest.json` record it), if it is one
    /// this type can hold.
    pub fn from_level(level: f64) -> Option<Confidence> {
        let parts = (level * f64::from(SCALE)).round();
        ((1.0..f64::from(SCALE)).contains(&parts)
            && (parts / f64::from(SCALE) - level).abs() < 1e-12)
            .then_some(Confidence(parts as u32))
    }

    /// The two-sided quantile of Student's t with `df` degrees of freedom for this level:
    /// `t(1 − (1 − level)/2, df)`; infinite with no degree of freedom.
    pub fn t_quantile(self, df: u64) -> f64 {
        thread_local! {
            /// The last quantile computed: every metric of a run has the same count.
            static LAST: Cell<Option<(Confidence, u64, f64)>> = const { Cell::new(None) };
        }
        if df == 0 {
            return f64::INFINITY;
        }
        if let Some((c, d, t)) = LAST.get()
            && c == self
            && d == df
        {
            return t;
        }
        let t = t_quantile(1.0 - (1.0 - self.level()) / 2.0, df);
        LAST.set(Some((self, df, t)));
        t
    }
}

/// The `p` quantile of Student's t with `df` (at least 1) degrees of freedom, `p` in (0.5, 1).
fn t_quantile(p: f64, df: u64) -> f64 {
    if df <= STATRS_MAX_DF
        && let Ok(t) = StudentsT::new(0.0, 1.0, df as f64)
    {
        return t.inverse_cdf(p);
    }
    let z = Normal::standard().inverse_cdf(p);
    let d = df as f64;
    z + (z.powi(3) + z) / (4.0 * d)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / (384.0 * d.powi(3))
}

impl fmt::Display for Confidence {
    /// The level as written on the command line: `0.95`, `0.995`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = format!("{:04}", self.0);
        write!(f, "0.{}", digits.trim_end_matches('0'))
    }
}

impl std::str::FromStr for Confidence {
    type Err = String;

    /// A decimal number between 0 and 1 with at most four decimals: `0.9`, `0.95`, `.995`.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let hint = "write a number between 0 and 1, e.g. 0.9, 0.95 or 0.99 (0.95 is 95%)";
        let Some(digits) = t.strip_prefix("0.").or_else(|| t.strip_prefix('.')) else {
            return Err(if t.parse::<f64>().is_ok() {
                format!("`{s}` is not a confidence level between 0 and 1; {hint}")
            } else {
                format!("`{s}` is not a number; {hint}")
            });
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{s}` is not a number; {hint}"));
        }
        let digits = digits.trim_end_matches('0');
        if digits.len() > 4 {
            return Err(format!(
                "`{s}` has more than four decimals; capsim takes levels from 0.0001 to 0.9999"
            ));
        }
        let parts: u32 = format!("{digits:0<4}").parse().unwrap_or(0);
        if parts == 0 {
            return Err(format!(
                "`{s}` is not a confidence level between 0 and 1 (exclusive); {hint}"
            ));
        }
        Ok(Confidence(parts))
    }
}

impl serde::Serialize for Confidence {
    /// As a number: `0.95`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.level())
    }
}

impl<'de> serde::Deserialize<'de> for Confidence {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let level = f64::deserialize(d)?;
        Confidence::from_level(level).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{level} is not a confidence level between 0 and 1 with at most four decimals"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Confidence {
        s.parse().expect(s)
    }

    #[test]
    fn quantiles_match_published_tables() {
        // Two-sided 95%: t(0.975, df), as printed in t tables (three decimals).
        let table = [
            (1, 12.706),
            (2, 4.303),
            (5, 2.571),
            (10, 2.228),
            (19, 2.093),
            (30, 2.042),
            (40, 2.021),
            (60, 2.000),
            (120, 1.980),
        ];
        for (df, t) in table {
            let q = Confidence::default().t_quantile(df);
            assert!((q - t).abs() < 5e-4, "t(0.975, {df}) = {q}, table {t}");
        }
        // One-sided 95% is two-sided 90%: t(0.95, 5) = 2.015; 99%: t(0.995, 10) = 3.169.
        assert!((c("0.9").t_quantile(5) - 2.015).abs() < 5e-4);
        assert!((c("0.99").t_quantile(10) - 3.169).abs() < 5e-4);
        assert!((c("0.99").t_quantile(1) - 63.657).abs() < 5e-3);
        // Closed forms: df = 1 is Cauchy, tan(pi (p - 1/2)); df = 2 is (2p - 1) / sqrt(2p(1-p)).
        for level in ["0.5", "0.9", "0.95", "0.995"] {
            let p = 1.0 - (1.0 - c(level).level()) / 2.0;
            let cauchy = (std::f64::consts::PI * (p - 0.5)).tan();
            let two = (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
            assert!(
                (c(level).t_quantile(1) / cauchy - 1.0).abs() < 1e-9,
                "{level}"
            );
            assert!((c(level).t_quantile(2) / two - 1.0).abs() < 1e-9, "{level}");
        }
    }

    #[test]
    fn large_degrees_of_freedom_approach_the_normal() {
        // z(0.975) = 1.959964, z(0.95) = 1.644854: t is above and within (z^3 + z) / 4df.
        for (level, z) in [
            ("0.95", 1.959_963_984_540_054),
            ("0.9", 1.644_853_626_951_472),
        ] {
            for df in [1_001, 10_000, 100_000, 999_999] {
                let q = c(level).t_quantile(df);
                let bound = (z * z * z + z) / (4.0 * df as f64) * 1.01;
                assert!(q > z && q - z < bound, "{level} {df}: {q}");
            }
        }
        // The two methods meet where they hand over.
        for level in ["0.5", "0.9", "0.95", "0.99", "0.9999"] {
            let p = 1.0 - (1.0 - c(level).level()) / 2.0;
            let a = StudentsT::new(0.0, 1.0, STATRS_MAX_DF as f64)
                .expect("t")
                .inverse_cdf(p);
            let z = Normal::standard().inverse_cdf(p);
            let d = STATRS_MAX_DF as f64;
            let b = z
                + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
                + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z)
                    / (384.0 * d.powi(3));
            assert!((a - b).abs() < 1e-8, "{level}: {a} vs {b}");
        }
    }

    #[test]
    fn a_higher_level_gives_a_wider_interval() {
        for df in [1, 4, 29, 999, 5000] {
            assert!(c("0.9").t_quantile(df) < c("0.95").t_quantile(df));
            assert!(c("0.95").t_quantile(df) < c("0.99").t_quantile(df));
        }
        assert_eq!(c("0.95").t_quantile(0), f64::INFINITY);
    }

    #[test]
    fn levels_parse_and_name_their_keys() {
        assert_eq!(c("0.95"), Confidence::default());
        assert_eq!(c(".95"), Confidence::default());
        assert_eq!(c("0.950"), Confidence::default());
        assert_eq!(c("0.95").key(), "ci95");
        assert_eq!(c("0.9").low_key(), "ci90_low");
        assert_eq!(c("0.995").high_key(), "ci99_5_high");
        assert_eq!(c("0.9999").key(), "ci99_99");
        assert_eq!(c("0.0001").key(), "ci0_01");
        assert_eq!(c("0.995").percent(), "99.5");
        assert_eq!(c("0.995").to_string(), "0.995");
        assert_eq!(c("0.9").to_string(), "0.9");
        for s in ["0.9", "0.95", "0.995", "0.9999", "0.0001", "0.5"] {
            let k = c(s).key();
            assert_eq!(Confidence::from_key(&k), Some(c(s)), "{k}");
            assert_eq!(Confidence::from_level(c(s).level()), Some(c(s)), "{s}");
        }
        assert_eq!(Confidence::from_key("ci100"), None);
        assert_eq!(Confidence::from_key("cix"), None);
        assert_eq!(Confidence::from_level(0.99995), None);
        assert_eq!(Confidence::from_level(1.0), None);
    }

    #[test]
    fn bad_levels_are_refused_with_the_form_to_use() {
        for bad in [
            "95", "95%", "1", "0", "0.0", "1.5", "-0.9", "abc", "", "0.99995", "0.9e1",
        ] {
            let e = bad.parse::<Confidence>().expect_err(bad);
            assert!(
                e.contains("between 0 and 1") || e.contains("four decimals"),
                "{bad}: {e}"
            );
        }
    }
}
