//! The future-event list: a radix heap of events keyed by integer time, ties in push order.

use std::collections::VecDeque;

/// Simulation time \[ticks\].
///
/// Time is an integer on purpose: integer arithmetic is exact and associative, so two runs (on
/// any platform) see identical times, and "same time" is a plain equality test. A model decides
/// what one tick means (one day for [`Calendar`](super::Calendar) users; a microsecond-scale unit
/// for the M/M/c queue in [`crate::queueing`]).
pub type Time = i64;

/// A priority queue of pending events, popped in order of time, and among equal times in
/// the order they were pushed (first in, first out).
///
/// Why first-in first-out and not any order: with ties broken by the queue's internal layout,
/// the order of simultaneous events would depend on the history of pushes and pops, and a
/// harmless refactor could change results. FIFO makes the order a total, documented function
/// of the schedule calls, which keeps runs reproducible bit for bit. Times are integers
/// ([`Time`]) so that ties are real ties: floating-point times would need tolerance-based
/// comparison and make "simultaneous" depend on rounding.
///
/// # Structure
///
/// A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990). Times are mapped to `u64` keys
/// whose order is the `i64` order (`key`). `last` is the key of the latest pop; an event with
/// key `k` is kept in bucket 0 if `k == last`, else in bucket `b` where `b − 1` is the highest
/// bit in which `k` and `last` differ. Bucket 0 is a FIFO of payloads (all its keys are
/// `last`). When it is empty, a pop takes the lowest non-empty bucket (a bit mask says which),
/// makes its smallest key (kept per bucket) the new `last` and deals its events into lower
/// buckets, in order. Equal keys always share a bucket and are moved in order, so ties pop
/// first in, first out without a sequence number. A push and a pop touch only the ends of
/// vectors, and an event moves down at most 64 times in all, so there is no tree to walk:
/// the hold benchmark runs 1.5 times as fast as a `BinaryHeap` at 10,000 pending, and about
/// ten times the 4-ary heap this replaced at a million (docs/performance.md, issue 15).
///
/// A radix heap needs every push to be no earlier than the last pop, which
/// [`Simulation`](super::Simulation) guarantees (no event in the past). Used alone, the queue
/// accepts any time: a push earlier than the last pop re-deals every pending event around the
/// new key (`rebase`, linear in the events pending), which keeps the order exact.
///
/// Limits: every `i64` time is accepted, negative ones included, and orders correctly; no
/// sequence counter, so nothing wraps. The payload `E` takes no part in the ordering and
/// needs no trait bounds.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// Payloads of the events whose key is `last`, in push order.
    zero: VecDeque<E>,
    /// `buckets[i]`: events whose key differs from `last` first (from the top) in bit `i`,
    /// with their keys, in push order among equal keys.
    buckets: [Vec<(u64, E)>; 64],
    /// `mins[i]`: the smallest key in `buckets[i]` (meaningful when the bucket is non-empty).
    mins: [u64; 64],
    /// Bit `i` set iff `buckets[i]` is non-empty.
    mask: u64,
    /// Key of the latest pop (the smallest key when nothing was popped yet).
    last: u64,
    /// Events pending.
    len: usize,
}

/// Flips the sign bit, so that `i64` order becomes `u64` order (`i64::MIN` → 0, −1 →
/// 2⁶³ − 1, 0 → 2⁶³, `i64::MAX` → `u64::MAX`).
const SIGN: u64 = 1 << 63;

/// The key of a time: its unsigned order is the time's order. Total: no time is out of range.
fn key(time: Time) -> u64 {
    time.cast_unsigned() ^ SIGN
}

/// The time of a key (inverse of [`key`]).
fn time_of(key: u64) -> Time {
    (key ^ SIGN).cast_signed()
}

/// The bucket of `key` (`!= last`): the highest bit in which they differ.
#[inline(always)]
fn bucket_of(key: u64, last: u64) -> usize {
    // key != last, so the XOR has a highest set bit in 0..=63.
    63 - (key ^ last).leading_zeros() as usize
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty queue with room for `capacity` \[events\] of equal time before reallocating
    /// (other events are spread over the buckets, which grow as needed and keep their room).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            zero: VecDeque::with_capacity(capacity),
            buckets: std::array::from_fn(|_| Vec::new()),
            mins: [0; 64],
            mask: 0,
            last: 0,
            len: 0,
        }
    }

    /// Adds `event` at `time` \[ticks\]. Among events with equal times, earlier pushes pop first.
    ///
    /// The queue itself accepts any time; refusing times in the past is the job of
    /// [`Simulation`](super::Simulation) and [`Context`](super::Context), which know the clock.
    #[inline]
    pub fn push(&mut self, time: Time, event: E) {
        let k = key(time);
        if k < self.last {
            self.rebase(k);
        }
        self.len += 1;
        self.place(k, event);
    }

    /// Puts an event with key `k >= last` where it belongs.
    #[inline(always)]
    fn place(&mut self, k: u64, event: E) {
        if k == self.last {
            self.zero.push_back(event);
            return;
        }
        let b = bucket_of(k, self.last);
        let bit = 1_u64 << b;
        if self.mask & bit == 0 {
            self.mask |= bit;
            self.mins[b] = k;
        } else if k < self.mins[b] {
            self.mins[b] = k;
        }
        self.buckets[b].push((k, event));
    }

    /// Makes `k` (below `last`) the new `last` and deals every pending event again. Equal
    /// keys are in one bucket (or all in bucket 0) and move in order, so FIFO order stays.
    #[cold]
    fn rebase(&mut self, k: u64) {
        let old = self.last;
        self.last = k;
        self.mask = 0;
        let zero = std::mem::take(&mut self.zero);
        for event in zero {
            self.place(old, event);
        }
        for b in 0..64 {
            let mut bucket = std::mem::take(&mut self.buckets[b]);
            for (key, event) in bucket.drain(..) {
                // Every key exceeds the new `last`, so it goes to a bucket, possibly this one
                // (now empty and taken out): collect those back in order.
                self.place(key, event);
            }
            // Keep the allocation: put the emptied vector back unless the bucket was refilled.
            if self.buckets[b].is_empty() {
                self.buckets[b] = bucket;
            }
        }
    }

    /// Reserves room so that up to `len() + additional` \[events\] pending at once never
    /// reallocate: any one bucket may come to hold all of them, so each gets that room
    /// (65 times the events' size in all; meant for small queues such as a model's dated
    /// events, not for a million pending).
    pub fn reserve(&mut self, additional: usize) {
        let total = self.len + additional;
        self.zero.reserve(total.saturating_sub(self.zero.len()));
        for bucket in &mut self.buckets {
            bucket.reserve(total.saturating_sub(bucket.len()));
        }
    }

    /// Removes and returns the earliest event with its time \[ticks\], or `None` if empty.
    #[inline]
    pub fn pop(&mut self) -> Option<(Time, E)> {
        if self.zero.is_empty() {
            if self.mask == 0 {
                return None;
            }
            self.refill();
        }
        let event = self.zero.pop_front()?;
        self.len -= 1;
        Some((time_of(self.last), event))
    }

    /// Bucket 0 is empty: the lowest non-empty bucket's smallest key becomes `last`, and the
    /// bucket's events are dealt into lower buckets (those equal to it into bucket 0).
    fn refill(&mut self) {
        let b = self.mask.trailing_zeros() as usize;
        self.last = self.mins[b];
        self.mask &= !(1_u64 << b);
        let mut bucket = std::mem::take(&mut self.buckets[b]);
        for (k, event) in bucket.drain(..) {
            // Every key of bucket b agrees with the new `last` above bit b, so it lands in
            // bucket 0 or below b.
            self.place(k, event);
        }
        self.buckets[b] = bucket;
    }

    /// Time of the earliest event \[ticks\], or `None` if empty.
    pub fn peek_time(&self) -> Option<Time> {
        if !self.zero.is_empty() {
            Some(time_of(self.last))
        } else if self.mask == 0 {
            None
        } else {
            Some(time_of(self.mins[self.mask.trailing_zeros() as usize]))
        }
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if no events are pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use super::*;

    fn drain<E>(queue: &mut EventQueue<E>) -> Vec<(Time, E)> {
        std::iter::from_fn(|| queue.pop()).collect()
    }

    #[test]
    fn pops_in_time_order() {
        let mut queue = EventQueue::new();
        for (time, name) in [(5, "e"), (-1, "a"), (3, "c"), (0, "b"), (4, "d")] {
            queue.push(time, name);
        }
        assert_eq!(queue.peek_time(), Some(-1));
        let names: Vec<_> = drain(&mut queue).into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn equal_times_pop_first_in_first_out() {
        // 100 events over 3 distinct times, pushed in scrambled time order: within each time,
        // payloads (the push index) must come out ascending.
        let mut queue = EventQueue::new();
        for i in 0..100_u32 {
            queue.push(Time::from((i * 7) % 3), i);
        }
        let popped = drain(&mut queue);
        assert_eq!(popped.len(), 100);
        for pair in popped.windows(2) {
            let ((t0, i0), (t1, i1)) = (pair[0], pair[1]);
            assert!(t0 < t1 || (t0 == t1 && i0 < i1), "{pair:?}");
        }
    }

    #[test]
    fn fifo_holds_when_pushes_interleave_with_pops() {
        let mut queue = EventQueue::new();
        queue.push(10, 'a');
        queue.push(10, 'b');
        assert_eq!(queue.pop(), Some((10, 'a')));
        queue.push(10, 'c');
        queue.push(9, 'z');
        assert_eq!(drain(&mut queue), [(9, 'z'), (10, 'b'), (10, 'c')]);
    }

    #[test]
    fn len_and_empty() {
        let mut queue = EventQueue::with_capacity(4);
        assert!(queue.is_empty());
        assert_eq!(queue.peek_time(), None);
        assert_eq!(queue.pop(), None::<(Time, ())>);
        queue.push(1, ());
        queue.push(1, ());
        assert_eq!(queue.len(), 2);
        assert!(!queue.is_empty());
        // Reserving room changes nothing pending.
        queue.reserve(100);
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.peek_time(), Some(1));
    }

    #[test]
    fn extreme_and_negative_times_order_correctly() {
        let mut queue = EventQueue::new();
        let times = [
            0,
            Time::MAX,
            -1,
            Time::MIN,
            1,
            Time::MIN + 1,
            Time::MAX - 1,
            -1,
            0,
        ];
        for (i, &time) in times.iter().enumerate() {
            queue.push(time, i);
        }
        let mut expected: Vec<(Time, usize)> = times.iter().copied().zip(0..).collect();
        expected.sort_unstable(); // by time, then push index: the FIFO order of ties
        assert_eq!(drain(&mut queue), expected);
    }

    #[test]
    fn keys_order_like_times() {
        let times = [
            Time::MIN,
            Time::MIN + 1,
            -2,
            -1,
            0,
            1,
            Time::MAX - 1,
            Time::MAX,
        ];
        for &t0 in &times {
            assert_eq!(time_of(key(t0)), t0);
            for &t1 in &times {
                assert_eq!(key(t0).cmp(&key(t1)), t0.cmp(&t1));
            }
        }
    }

    #[test]
    fn matches_reference_when_used_as_a_simulation_does() {
        // Pushes never earlier than the last pop (no rebase), many at the current time, over
        // small and large increments: the engine's pattern.
        let mut state = 11_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        for spread in [1_u64, 4, 1_000, 1 << 40] {
            let mut queue = EventQueue::new();
            let mut reference = Reference {
                heap: BinaryHeap::new(),
                next_seq: 0,
            };
            let mut now: Time = -1_000;
            let mut id = 0_u32;
            for _ in 0..500 {
                let t = now + (next() % spread).cast_signed();
                queue.push(t, id);
                reference.push(t, id);
                id += 1;
            }
            for _ in 0..20_000 {
                let popped = queue.pop();
                assert_eq!(popped, reference.pop());
                now = popped.expect("never empty").0;
                for _ in 0..(next() % 3) {
                    let t = if next() % 4 == 0 {
                        now
                    } else {
                        now + (next() % spread).cast_signed()
                    };
                    queue.push(t, id);
                    reference.push(t, id);
                    id += 1;
                }
                if queue.is_empty() {
                    queue.push(now, id);
                    reference.push(now, id);
                    id += 1;
                }
                assert_eq!(queue.len(), reference.heap.len());
                assert_eq!(
                    queue.peek_time(),
                    reference.heap.peek().map(|Reverse((t, _, _))| *t)
                );
            }
        }
    }

    /// The reference: `BinaryHeap` of `(time, seq)` (the queue of capsim 0.1).
    struct Reference {
        heap: BinaryHeap<Reverse<(Time, u64, u32)>>,
        next_seq: u64,
    }

    impl Reference {
        fn push(&mut self, time: Time, event: u32) {
            self.heap.push(Reverse((time, self.next_seq, event)));
            self.next_seq += 1;
        }
        fn pop(&mut self) -> Option<(Time, u32)> {
            self.heap.pop().map(|Reverse((t, _, e))| (t, e))
        }
    }

    /// Runs `ops` on the queue and the reference; `Some(time)` pushes, `None` pops. Every pop,
    /// peek and length must agree, then both must drain identically.
    fn check_against_reference(ops: &[Option<Time>]) {
        let mut queue = EventQueue::new();
        let mut reference = Reference {
            heap: BinaryHeap::new(),
            next_seq: 0,
        };
        for (i, op) in ops.iter().enumerate() {
            let id = u32::try_from(i).expect("few operations");
            match *op {
                Some(time) => {
                    queue.push(time, id);
                    reference.push(time, id);
                }
                None => assert_eq!(queue.pop(), reference.pop(), "pop at operation {i}"),
            }
            assert_eq!(queue.len(), reference.heap.len());
            assert_eq!(
                queue.peek_time(),
                reference.heap.peek().map(|Reverse((t, _, _))| *t)
            );
        }
        let rest: Vec<_> = std::iter::from_fn(|| reference.pop()).collect();
        assert_eq!(drain(&mut queue), rest);
    }

    #[test]
    fn matches_reference_on_seeded_random_sequences() {
        // SplitMix64, so the sequences are fixed and need no dependency.
        let mut state = 7_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        // Narrow time ranges force many ties; wide ones (with negative times) test the order.
        for (range, push_percent) in [(3, 50), (20, 60), (1_000, 55), (u64::MAX, 50), (5, 90)] {
            let ops: Vec<Option<Time>> = (0..20_000)
                .map(|_| {
                    (next() % 100 < push_percent).then(|| {
                        let raw = if range == u64::MAX {
                            next()
                        } else {
                            next() % range
                        };
                        raw.cast_signed()
                    })
                })
                .collect();
            check_against_reference(&ops);
        }
    }

    proptest::proptest! {
        #[test]
        fn matches_reference_on_any_sequence(
            ops in proptest::collection::vec(
                proptest::option::weighted(0.6, proptest::prop_oneof![
                    -4_i64..4,
                    proptest::num::i64::ANY,
                ]),
                0..300,
            )
        ) {
            check_against_reference(&ops);
        }
    }

    #[test]
    fn payload_needs_no_ordering() {
        // A payload type without Ord/Eq still works: ordering uses (time, seq) only.
        struct Opaque(#[allow(dead_code)] f64);
        let mut queue = EventQueue::default();
        queue.push(2, Opaque(f64::NAN));
        queue.push(1, Opaque(0.0));
        assert_eq!(queue.pop().map(|(t, _)| t), Some(1));
    }
}
