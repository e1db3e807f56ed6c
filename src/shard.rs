//! Splitting a Monte Carlo run or a what-if command into shards: which replications (or
//! points) shard K of N computes. Nothing here touches files; the shard folders are written
//! and merged by `report::shard`.
//!
//! Shard K of N (0-based) takes the global numbers `K·T/N .. (K+1)·T/N` of the T in all
//! (integer division), so the N shards tile `0..T` exactly, in order, with sizes differing
//! by at most one. A replication's random numbers depend only on (seed, replication, name),
//! so a shard computes exactly what one process running all T gives those numbers.

use std::fmt;
use std::str::FromStr;

/// Environment variables read by `--shard auto/N`, in this order: Slurm job arrays,
/// Kubernetes indexed jobs, AWS Batch array jobs. Each is a 0-based index.
pub const INDEX_VARS: [&str; 3] = [
    "SLURM_ARRAY_TASK_ID",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
];

/// `--shard` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// `K/N`, or `auto/N` (K from the batch system's index): shard K of N.
    Part {
        /// K, or None for `auto`.
        index: Option<u64>,
        /// N.
        count: u64,
    },
    /// `A..B`: the global numbers A to B (B excluded).
    Range {
        /// A.
        first: u64,
        /// B.
        end: u64,
    },
}

impl FromStr for Spec {
    type Err = String;

    fn from_str(s: &str) -> Result<Spec, String> {
        let s = s.trim();
        let int = |t: &str, what: &str| -> Result<u64, String> {
            t.trim().replace('_', "").parse::<u64>().map_err(|_| {
                format!("`{t}` is not {what}; write K/N (e.g. 3/8), auto/N or A..B (e.g. 0..500)")
            })
        };
        if let Some((a, b)) = s.split_once("..") {
            let (first, end) = (int(a, "a number")?, int(b, "a number")?);
            if first >= end {
                return Err(format!("the range {s} is empty: A must be below B"));
            }
            return Ok(Spec::Range { first, end });
        }
        let Some((k, n)) = s.split_once('/') else {
            return Err(format!(
                "`{s}` needs the form K/N (shard K of N, from 0), auto/N or A..B"
            ));
        };
        let count = int(n, "a number of shards")?;
        if count == 0 {
            return Err("the number of shards must be at least 1".into());
        }
        let index = if k.trim() == "auto" {
            None
        } else {
            let k = int(k, "a shard number")?;
            if k >= count {
                return Err(format!(
                    "shard {k} of {count} does not exist: shards are numbered 0 to {}",
                    count - 1
                ));
            }
            Some(k)
        };
        Ok(Spec::Part { index, count })
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Spec::Part {
                index: Some(k),
                count,
            } => write!(f, "{k}/{count}"),
            Spec::Part { index: None, count } => write!(f, "auto/{count}"),
            Spec::Range { first, end } => write!(f, "{first}..{end}"),
        }
    }
}

/// A shard resolved against the work: its range of global numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// K of `K/N` (None for a range).
    pub index: Option<u64>,
    /// N of `K/N` (None for a range).
    pub count: Option<u64>,
    /// The first global number computed.
    pub first: u64,
    /// One past the last.
    pub end: u64,
    /// The numbers in all (replications, or points).
    pub total: u64,
}

/// The range of shard `k` of `n` over `total`.
pub fn bounds(k: u64, n: u64, total: u64) -> (u64, u64) {
    let at = |k: u64| (u128::from(k) * u128::from(total) / u128::from(n)) as u64;
    (at(k), at(k + 1))
}

impl Spec {
    /// The shard's range over `total` numbers of `what` (`replications`, `points`);
    /// `env(name)` reads an environment variable (for `auto`).
    pub fn resolve(
        &self,
        total: u64,
        what: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Shard, String> {
        match *self {
            Spec::Range { first, end } => {
                if end > total {
                    return Err(format!(
                        "--shard {self}: there are only {total} {what} (numbered 0 to {})",
                        total.saturating_sub(1)
                    ));
                }
                Ok(Shard {
                    index: None,
                    count: None,
                    first,
                    end,
                    total,
                })
            }
            Spec::Part { index, count } => {
                if count > total {
                    return Err(format!(
                        "--shard {self}: {count} shards are more than the {total} {what}; \
                         use at most {total}"
                    ));
                }
                let k = match index {
                    Some(k) => k,
                    None => auto_index(count, env)?,
                };
                let (first, end) = bounds(k, count, total);
                Ok(Shard {
                    index: Some(k),
                    count: Some(count),
                    first,
                    end,
                    total,
                })
            }
        }
    }
}

/// K for `auto/N`: the first of [`INDEX_VARS`] that is set.
fn auto_index(count: u64, env: &dyn Fn(&str) -> Option<String>) -> Result<u64, String> {
    for var in INDEX_VARS {
        if let Some(v) = env(var) {
            let k: u64 = v
                .trim()
                .parse()
                .map_err(|_| format!("--shard auto/{count}: {var} is `{v}`, not a shard number"))?;
            if k >= count {
                return Err(format!(
                    "--shard auto/{count}: {var} is {k}, but shards are numbered 0 to {}; \
                     make the job array 0-{}",
                    count - 1,
                    count - 1
                ));
            }
            return Ok(k);
        }
    }
    Err(format!(
        "--shard auto/{count} takes the shard number from {}, and none is set; \
         give it as --shard K/{count}",
        INDEX_VARS.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_tile_the_work_in_order() {
        for (n, total) in [(1, 5), (2, 200), (7, 200), (7, 7), (3, 1_000_001)] {
            let mut next = 0;
            for k in 0..n {
                let (a, b) = bounds(k, n, total);
                assert_eq!(a, next);
                assert!(b - a >= total / n && b - a <= total / n + 1);
                next = b;
            }
            assert_eq!(next, total);
        }
    }

    #[test]
    fn specs_parse_and_resolve() {
        let none = |_: &str| None;
        let s: Spec = "2/7".parse().unwrap();
        let sh = s.resolve(200, "replications", &none).unwrap();
        assert_eq!((sh.first, sh.end), (57, 85));
        let s: Spec = "100..150".parse().unwrap();
        assert_eq!(s.resolve(200, "points", &none).unwrap().first, 100);
        assert!(
            s.resolve(120, "points", &none)
                .unwrap_err()
                .contains("only 120")
        );
        for bad in ["7/7", "x/2", "3", "5..5", "1/0", "a..b"] {
            assert!(bad.parse::<Spec>().is_err(), "{bad}");
        }
        assert!(
            "3/4"
                .parse::<Spec>()
                .unwrap()
                .resolve(2, "points", &none)
                .is_err()
        );
        let auto: Spec = "auto/4".parse().unwrap();
        let e = auto.resolve(100, "points", &none).unwrap_err();
        assert!(e.contains("SLURM_ARRAY_TASK_ID"), "{e}");
        let k8s = |v: &str| (v == "JOB_COMPLETION_INDEX").then(|| "3".to_string());
        assert_eq!(auto.resolve(100, "points", &k8s).unwrap().index, Some(3));
        let big = |_: &str| Some("4".to_string());
        assert!(auto.resolve(100, "points", &big).is_err());
    }
}
