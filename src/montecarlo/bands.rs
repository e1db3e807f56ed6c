//! The daily bands' aggregate state: per series and day, a quantile sketch and an exact sum,
//! whose state depends only on the multiset of values added, never on their order or on
//! how they were split. So replications aggregated in one process, or in shards that are
//! merged afterwards (`capsim merge`), give the same bytes.
//!
//! - A [`Cell`] keeps its values exactly (sorted) while it has at most [`EXACT_MAX`] of them:
//!   its percentiles are then exact (linear interpolation between order statistics, as
//!   [`super::percentile`]). Beyond that it keeps counts in log-linear buckets (the top
//!   [`SUB_BITS`] bits of the mantissa after the exponent: 128 buckets per power of two), so
//!   a percentile is within 0.4% of a value of the right rank. The bucket of a value is read
//!   off its bits: no logarithm, so no libm whose last digit could differ between machines.
//! - The sum is exact (Shewchuk's non-overlapping partials, as Python's `math.fsum`) and
//!   rounded once when read, so the mean does not depend on the order of addition.
//!
//! Merging two cells is adding their counts, partials and values: associative and
//! commutative, so shards merge in any grouping to the state one process reaches.

/// Values a cell keeps exactly before it switches to buckets.
pub const EXACT_MAX: usize = 128;
/// Mantissa bits in a bucket's key after the exponent.
pub const SUB_BITS: u32 = 7;
const SHIFT: u32 = 52 - SUB_BITS;

/// The aggregate of one series on one day over replications.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    /// Finite values added.
    count: u64,
    /// Their exact sum, as non-overlapping partials in increasing magnitude.
    sum: Vec<f64>,
    /// The values, sorted by `total_cmp`, while `count <= EXACT_MAX`.
    exact: Vec<f64>,
    /// Beyond that: counts by bucket of |x| for x >= 0 (0 and -0 in bucket 0) and x < 0,
    /// sorted by key.
    pos: Vec<(u32, u32)>,
    neg: Vec<(u32, u32)>,
}

fn key(x: f64) -> u32 {
    (x.abs().to_bits() >> SHIFT) as u32
}

/// The middle of a bucket (0 for bucket 0, which holds 0).
fn middle(k: u32) -> f64 {
    if k == 0 {
        return 0.0;
    }
    let lo = f64::from_bits(u64::from(k) << SHIFT);
    let hi = f64::from_bits(u64::from(k + 1) << SHIFT);
    lo + (hi - lo) / 2.0
}

fn bump(buckets: &mut Vec<(u32, u32)>, k: u32, n: u32) {
    match buckets.binary_search_by_key(&k, |b| b.0) {
        Ok(i) => buckets[i].1 += n,
        Err(i) => buckets.insert(i, (k, n)),
    }
}

/// Adds `x` to the exact sum held as partials (Shewchuk). Most cells hold one partial
/// to which `x` adds exactly (whole numbers, mostly): that case is done here, inline, and
/// gives the partials [`sum_add_all`] gives.
#[inline]
fn sum_add(partials: &mut Vec<f64>, x: f64) {
    if let [y] = partials.as_mut_slice() {
        let (a, b) = if x.abs() < y.abs() { (*y, x) } else { (x, *y) };
        let hi = a + b;
        if b - (hi - a) == 0.0 {
            *y = hi;
            return;
        }
    }
    sum_add_all(partials, x);
}

/// [`sum_add`] for any number of partials.
fn sum_add_all(partials: &mut Vec<f64>, mut x: f64) {
    let mut i = 0;
    for j in 0..partials.len() {
        let mut y = partials[j];
        if x.abs() < y.abs() {
            std::mem::swap(&mut x, &mut y);
        }
        let hi = x + y;
        let lo = y - (hi - x);
        if lo != 0.0 {
            partials[i] = lo;
            i += 1;
        }
        x = hi;
    }
    partials.truncate(i);
    partials.push(x);
}

/// The exact sum, correctly rounded (Python's `math.fsum`).
fn sum_value(partials: &[f64]) -> f64 {
    let mut n = partials.len();
    if n == 0 {
        return 0.0;
    }
    n -= 1;
    let mut hi = partials[n];
    let mut lo = 0.0;
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = partials[n];
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        let yr = x - hi;
        if y == yr {
            hi = x;
        }
    }
    hi
}

impl Cell {
    /// Adds values (non-finite ones are skipped).
    pub fn add(&mut self, values: &[f64]) {
        for &v in values.iter().filter(|v| v.is_finite()) {
            self.count += 1;
            sum_add(&mut self.sum, v);
            if self.is_exact() {
                self.exact.push(v);
            } else {
                self.bucket(v, 1);
            }
        }
        if self.is_exact() {
            self.exact.sort_unstable_by(f64::total_cmp);
        } else if !self.exact.is_empty() {
            self.spill();
        }
    }

    fn is_exact(&self) -> bool {
        self.count as usize <= EXACT_MAX
    }

    fn bucket(&mut self, v: f64, n: u32) {
        if v < 0.0 {
            bump(&mut self.neg, key(v), n);
        } else {
            bump(&mut self.pos, key(v), n);
        }
    }

    fn spill(&mut self) {
        for v in std::mem::take(&mut self.exact) {
            self.bucket(v, 1);
        }
    }

    /// Adds another cell's values: the state is that of adding them one by one.
    pub fn merge(&mut self, other: &Cell) {
        self.count += other.count;
        for &p in &other.sum {
            sum_add(&mut self.sum, p);
        }
        if self.is_exact() {
            self.exact.extend_from_slice(&other.exact);
            self.exact.sort_unstable_by(f64::total_cmp);
            return;
        }
        self.spill();
        for &v in &other.exact {
            self.bucket(v, 1);
        }
        for &(k, n) in &other.pos {
            bump(&mut self.pos, k, n);
        }
        for &(k, n) in &other.neg {
            bump(&mut self.neg, k, n);
        }
    }

    /// Finite values added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The mean of the finite values (NaN for none).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        sum_value(&self.sum) / self.count as f64
    }

    /// The value of rank `k` (0-based, ascending) in bucket mode: its bucket's middle.
    fn at_rank(&self, mut k: u64) -> f64 {
        for &(b, n) in self.neg.iter().rev() {
            if k < u64::from(n) {
                return -middle(b);
            }
            k -= u64::from(n);
        }
        for &(b, n) in &self.pos {
            if k < u64::from(n) {
                return middle(b);
            }
            k -= u64::from(n);
        }
        f64::NAN
    }

    /// The `q` quantile: exact (interpolated between order statistics) up to [`EXACT_MAX`]
    /// values, then interpolated between the buckets of the neighbouring ranks.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        if self.is_exact() {
            return super::percentile(&self.exact, q);
        }
        let h = q * (self.count - 1) as f64;
        let lo = h.floor() as u64;
        let hi = (lo + 1).min(self.count - 1);
        let (a, b) = (self.at_rank(lo), self.at_rank(hi));
        a + (h - lo as f64) * (b - a)
    }

    /// Appends the state as bytes (little-endian).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend(self.count.to_le_bytes());
        let list = |out: &mut Vec<u8>, v: &[f64]| {
            out.extend((v.len() as u32).to_le_bytes());
            for x in v {
                out.extend(x.to_bits().to_le_bytes());
            }
        };
        list(out, &self.sum);
        list(out, &self.exact);
        for b in [&self.pos, &self.neg] {
            out.extend((b.len() as u32).to_le_bytes());
            for (k, n) in b {
                out.extend(k.to_le_bytes());
                out.extend(n.to_le_bytes());
            }
        }
    }

    /// Reads a state written by [`Cell::encode`].
    pub fn decode(r: &mut Reader<'_>) -> Result<Cell, String> {
        let count = r.u64()?;
        let floats = |r: &mut Reader<'_>| -> Result<Vec<f64>, String> {
            let n = r.u32()? as usize;
            (0..n).map(|_| r.u64().map(f64::from_bits)).collect()
        };
        let sum = floats(r)?;
        let exact = floats(r)?;
        let buckets = |r: &mut Reader<'_>| -> Result<Vec<(u32, u32)>, String> {
            let n = r.u32()? as usize;
            (0..n).map(|_| Ok((r.u32()?, r.u32()?))).collect()
        };
        let pos = buckets(r)?;
        let neg = buckets(r)?;
        let held = if count as usize <= EXACT_MAX {
            exact.len() as u64
        } else {
            pos.iter().chain(&neg).map(|b| u64::from(b.1)).sum()
        };
        if held != count || (count as usize > EXACT_MAX && !exact.is_empty()) {
            return Err(format!("a cell holds {held} values but counts {count}"));
        }
        Ok(Cell {
            count,
            sum,
            exact,
            pos,
            neg,
        })
    }
}

/// Reads little-endian numbers from bytes, with a message at the end of the data.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.at + N;
        let b = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| format!("the data ends early (at byte {})", self.at))?;
        self.at = end;
        Ok(b.try_into().expect("N bytes"))
    }

    /// A `u32`.
    pub fn u32(&mut self) -> Result<u32, String> {
        self.take::<4>().map(u32::from_le_bytes)
    }

    /// A `u64`.
    pub fn u64(&mut self) -> Result<u64, String> {
        self.take::<8>().map(u64::from_le_bytes)
    }

    /// Whether every byte was read.
    pub fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u64) -> Vec<f64> {
        // A spread of magnitudes and signs, with zeros and repeats.
        let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..n)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (x >> 11) as f64 / (1u64 << 53) as f64;
                match i % 7 {
                    0 => 0.0,
                    1 => -u * 1e3,
                    2 => 5.0,
                    _ => u * 1e6 + 0.1,
                }
            })
            .collect()
    }

    #[test]
    fn the_state_depends_only_on_the_values_not_on_their_split() {
        for n in [10, EXACT_MAX, EXACT_MAX + 1, 1000] {
            let v = values(n, n as u64);
            let mut whole = Cell::default();
            whole.add(&v);
            for parts in [2, 3, 7] {
                let mut merged = Cell::default();
                let mut bounds: Vec<usize> = (0..=parts).map(|k| k * n / parts).collect();
                bounds.dedup();
                // Merged right to left, each part added in reverse: still the same state.
                for w in bounds.windows(2).rev() {
                    let mut part = Cell::default();
                    let mut chunk = v[w[0]..w[1]].to_vec();
                    chunk.reverse();
                    part.add(&chunk);
                    merged.merge(&part);
                }
                assert_eq!(merged.count, whole.count, "n {n}, {parts} parts");
                assert_eq!(merged.exact, whole.exact);
                assert_eq!(merged.pos, whole.pos);
                assert_eq!(merged.neg, whole.neg);
                assert_eq!(merged.mean().to_bits(), whole.mean().to_bits());
                for q in [0.05, 0.5, 0.95] {
                    assert_eq!(merged.quantile(q).to_bits(), whole.quantile(q).to_bits());
                }
            }
        }
    }

    #[test]
    fn quantiles_are_exact_then_within_the_bucket_width() {
        let v = values(EXACT_MAX, 1);
        let mut c = Cell::default();
        c.add(&v);
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(c.quantile(0.25), super::super::percentile(&sorted, 0.25));
        let v = values(5000, 2);
        let mut c = Cell::default();
        c.add(&v);
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        for q in [0.05, 0.25, 0.5, 0.75, 0.95] {
            let exact = super::super::percentile(&sorted, q);
            let est = c.quantile(q);
            assert!(
                (est - exact).abs() <= exact.abs() / 128.0 + 1e-12,
                "q {q}: {est} vs {exact}"
            );
        }
    }

    proptest::proptest! {
        /// Any values, split anywhere, added in any order and merged in any grouping, give
        /// the state of adding them all to one cell.
        #[test]
        fn any_split_merges_to_the_whole(
            v in proptest::collection::vec(
                proptest::prop_oneof![
                    -1e9f64..1e9,
                    -1.0f64..1.0,
                    proptest::strategy::Just(0.0),
                    proptest::strategy::Just(-0.0),
                    // Any magnitude a sum of a million of them cannot overflow, subnormals,
                    // and the non-finite values a cell skips.
                    -1e300f64..1e300,
                    proptest::num::f64::SUBNORMAL,
                    proptest::strategy::Just(f64::NAN),
                    proptest::strategy::Just(f64::INFINITY),
                ],
                0..400,
            ),
            cuts in proptest::collection::vec(0usize..400, 0..6),
        ) {
            let mut whole = Cell::default();
            whole.add(&v);
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (v.len() + 1)).collect();
            bounds.extend([0, v.len()]);
            bounds.sort_unstable();
            let mut parts: Vec<Cell> = bounds
                .windows(2)
                .map(|w| {
                    let mut c = Cell::default();
                    let mut chunk = v[w[0]..w[1]].to_vec();
                    chunk.reverse();
                    c.add(&chunk);
                    c
                })
                .collect();
            // Merge the last parts first: another grouping than left to right.
            let mut merged = parts.pop().unwrap_or_default();
            while let Some(p) = parts.pop() {
                let mut next = p;
                next.merge(&merged);
                merged = next;
            }
            proptest::prop_assert_eq!(merged.count, whole.count);
            proptest::prop_assert_eq!(&merged.exact, &whole.exact);
            proptest::prop_assert_eq!(&merged.pos, &whole.pos);
            proptest::prop_assert_eq!(&merged.neg, &whole.neg);
            proptest::prop_assert_eq!(merged.mean().to_bits(), whole.mean().to_bits());
            for q in [0.05, 0.25, 0.5, 0.75, 0.95] {
                proptest::prop_assert_eq!(merged.quantile(q).to_bits(), whole.quantile(q).to_bits());
            }
        }
    }

    #[test]
    fn the_sum_is_exact() {
        let mut c = Cell::default();
        c.add(&[1e16, 1.0, -1e16, 1.0, f64::NAN, f64::INFINITY]);
        assert_eq!(c.count(), 4);
        assert_eq!(c.mean(), 0.5);
        let mut c = Cell::default();
        c.add(&[0.1; 10]);
        assert_eq!(c.mean() * 10.0, 1.0);
    }

    #[test]
    fn the_one_partial_shortcut_keeps_the_partials_of_the_whole_algorithm() {
        // Each list from no partials: whole numbers (which stay one partial), fractions,
        // huge and tiny magnitudes, both signs, sums that cancel.
        let whole: Vec<f64> = (0..5_000).map(|i| f64::from(i % 97) - 40.0).collect();
        let mixed: Vec<f64> = values(5_000, 11)
            .into_iter()
            .enumerate()
            .map(|(i, v)| if i % 2 == 0 { v.round() } else { v * 1e-12 })
            .collect();
        let edges = vec![
            1e300,
            -1e300,
            1e-300,
            3.0,
            -3.0,
            0.0,
            -0.0,
            2f64.powi(53),
            1.0,
            1.0,
        ];
        let (mut shortcuts, mut longer) = (0, 0);
        for xs in [values(20_000, 3), whole, mixed, edges] {
            let (mut fast, mut all) = (Vec::new(), Vec::new());
            for &x in &xs {
                if fast.len() == 1 {
                    shortcuts += 1;
                } else {
                    longer += 1;
                }
                sum_add(&mut fast, x);
                sum_add_all(&mut all, x);
                assert_eq!(
                    fast.iter().map(|p| p.to_bits()).collect::<Vec<_>>(),
                    all.iter().map(|p| p.to_bits()).collect::<Vec<_>>(),
                    "after adding {x}"
                );
            }
        }
        // Both ways were taken, often.
        assert!(shortcuts > 1_000 && longer > 1_000, "{shortcuts} {longer}");
    }

    #[test]
    fn a_state_round_trips_through_bytes() {
        for n in [0, 5, 1000] {
            let mut c = Cell::default();
            c.add(&values(n, 9));
            let mut b = Vec::new();
            c.encode(&mut b);
            let mut r = Reader::new(&b);
            assert_eq!(Cell::decode(&mut r).unwrap(), c);
            assert!(r.done());
            assert!(Cell::decode(&mut Reader::new(&b[..b.len() - 1])).is_err());
        }
    }
}
