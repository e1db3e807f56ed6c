//! Timelines: quantities that change over time, on simulation ticks. How they are written
//! in YAML, and read, is the loader's (`scenario::timeline`).

use crate::engine::Time;

/// How a timeline moves between two dated points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// Holds each value until the next point.
    Step,
    /// Moves in a straight line from one point to the next.
    Linear,
}

/// A resolved timeline: points on simulation ticks (days), sorted, no duplicates.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    interpolation: Interpolation,
    /// `(tick, value)`, strictly increasing ticks, at least one point.
    points: Vec<(Time, f64)>,
}

impl Timeline {
    /// A timeline with one value throughout.
    pub fn constant(v: f64) -> Self {
        Timeline {
            interpolation: Interpolation::Step,
            points: vec![(0, v)],
        }
    }

    /// Builds a timeline from points sorted by strictly increasing tick.
    ///
    /// Returns `None` when `points` is empty or not strictly increasing.
    pub fn new(interpolation: Interpolation, points: Vec<(Time, f64)>) -> Option<Self> {
        if points.is_empty() || points.windows(2).any(|w| w[0].0 >= w[1].0) {
            return None;
        }
        Some(Timeline {
            interpolation,
            points,
        })
    }

    /// The value at tick `t`.
    #[inline]
    pub fn at(&self, t: Time) -> f64 {
        let pts = &self.points;
        // A constant (most timelines): the same value as the search below would give.
        if let [(_, v)] = pts.as_slice() {
            return *v;
        }
        // Index of the first point strictly after t.
        let i = pts.partition_point(|p| p.0 <= t);
        if i == 0 {
            return pts[0].1;
        }
        if i == pts.len() {
            return pts[i - 1].1;
        }
        let (t0, v0) = pts[i - 1];
        match self.interpolation {
            Interpolation::Step => v0,
            Interpolation::Linear => {
                let (t1, v1) = pts[i];
                v0 + (v1 - v0) * (t - t0) as f64 / (t1 - t0) as f64
            }
        }
    }

    /// The values at ticks `0, 1, …, out.len() − 1` into `out`: what [`Timeline::at`] gives
    /// each of them, bit for bit (the same arithmetic), in one pass over the points instead
    /// of a search per tick. For tables of a timeline's daily values.
    pub fn fill_days(&self, out: &mut [f64]) {
        let pts = &self.points;
        let len = out.len();
        // The days before `tick`, as a count of entries of `out` (none for a negative tick).
        // Ticks rise from point to point, so these counts do too: each stretch below starts
        // where the one before it ended.
        let upto = |tick: Time| usize::try_from(tick).unwrap_or(0).min(len);
        // There is at least one point. Before the first: its value.
        let (first, last) = (pts[0], pts[pts.len() - 1]);
        let mut from = upto(first.0);
        out[..from].fill(first.1);
        // From each point up to the next: held, or on the straight line between them.
        for w in pts.windows(2) {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            let to = upto(t1);
            match self.interpolation {
                Interpolation::Step => out[from..to].fill(v0),
                Interpolation::Linear => {
                    for (d, o) in (from..).zip(&mut out[from..to]) {
                        let t = d as Time;
                        *o = v0 + (v1 - v0) * (t - t0) as f64 / (t1 - t0) as f64;
                    }
                }
            }
            from = to;
        }
        // From the last point on: its value.
        out[from..].fill(last.1);
    }

    /// How the timeline moves between points.
    pub fn interpolation(&self) -> Interpolation {
        self.interpolation
    }

    /// The dated points `(tick, value)`.
    pub fn points(&self) -> &[(Time, f64)] {
        &self.points
    }

    /// Smallest and largest value of the timeline.
    pub fn range(&self) -> (f64, f64) {
        self.points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.1), hi.max(p.1))
            })
    }

    /// A copy with every value multiplied by `k`.
    pub fn scaled(&self, k: f64) -> Self {
        Timeline {
            interpolation: self.interpolation,
            points: self.points.iter().map(|&(t, v)| (t, v * k)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fill_days` gives what `at` gives, bit for bit, for both interpolations: points
    /// before, inside and after the ticks filled, one point alone, every point past the
    /// end, and nothing to fill.
    #[test]
    fn fill_days_is_at_on_every_tick() {
        let points = [
            vec![(0, 2.5)],
            vec![(40, 1.0)],
            vec![(-30, 0.1), (7, 0.33), (8, 0.7), (100, 0.9), (400, 0.95)],
            vec![(3, 1e6), (33, 3.3e6), (61, 2.9e6), (200, 7.1e6)],
            vec![(-5, 1.0), (-1, 2.0)],
            vec![(300, 1.0), (400, 2.0)],
        ];
        for interpolation in [Interpolation::Step, Interpolation::Linear] {
            for pts in &points {
                let tl = Timeline::new(interpolation, pts.clone()).unwrap();
                let mut out = vec![f64::NAN; 250];
                tl.fill_days(&mut out);
                for (d, v) in out.iter().enumerate() {
                    assert_eq!(v.to_bits(), tl.at(d as Time).to_bits(), "{pts:?} at {d}");
                }
                tl.fill_days(&mut []);
            }
        }
    }

    #[test]
    fn step_holds_until_next_point() {
        let tl = Timeline::new(Interpolation::Step, vec![(10, 1.0), (20, 3.0)]).unwrap();
        assert_eq!(tl.at(0), 1.0);
        assert_eq!(tl.at(19), 1.0);
        assert_eq!(tl.at(20), 3.0);
        assert_eq!(tl.at(1000), 3.0);
    }

    #[test]
    fn linear_interpolates_between_points() {
        let tl = Timeline::new(Interpolation::Linear, vec![(10, 1.0), (20, 3.0)]).unwrap();
        assert_eq!(tl.at(5), 1.0);
        // halfway: 1 + (3 - 1) * 5 / 10 = 2
        assert!((tl.at(15) - 2.0).abs() < 1e-12);
        assert_eq!(tl.at(25), 3.0);
    }

    #[test]
    fn unsorted_points_are_refused() {
        assert!(Timeline::new(Interpolation::Step, vec![(10, 1.0), (10, 3.0)]).is_none());
        assert!(Timeline::new(Interpolation::Step, vec![]).is_none());
    }
}
