//! The future-event list: a 4-ary min-heap of events keyed by integer time and push order.

/// Simulation time \[ticks\].
///
/// Time is an integer on purpose: integer arithmetic is exact and associative, so two runs (on
/// any platform) see identical times, and "same time" is a plain equality test. A model decides
/// what one tick means (one day for [`Calendar`](super::Calendar) users; a microsecond-scale unit
/// for the M/M/c queue in [`crate::queueing`]).
pub type Time = i64;

/// A priority queue of pending events, popped in order of `(time, seq)`.
///
/// `seq` is a counter incremented on every push, so events scheduled for the same tick pop in
/// first-in first-out order.
///
/// Why `(time, seq)` and not just `time`: a heap is not stable, so with `time` alone the order
/// of simultaneous events would depend on the heap's internal layout, i.e. on the history of
/// pushes and pops, and a harmless refactor could change results. The sequence number makes
/// the order a total, documented function of the schedule calls, which keeps runs reproducible
/// bit for bit. Times are integers ([`Time`]) so that ties are real ties: floating-point times
/// would need tolerance-based comparison and make "simultaneous" depend on rounding.
///
/// # Structure
///
/// A 4-ary min-heap kept as two parallel arrays (struct of arrays): `keys[i]` is the `(time,
/// seq)` of the event `events[i]`, packed into one `u128` so that comparing two keys is one
/// integer comparison (see `pack`). A sift only reads keys, four children per level (64
/// bytes, one cache line's worth), and moves the payload along once per level; with four
/// children a heap of 10,000 events is 7 levels deep instead of 14. Sifts move a hole rather
/// than swapping keys. Compared with `std::collections::BinaryHeap` of `(time, seq, event)`
/// entries this halves the time of the hold benchmark at 10,000 pending events (see
/// `docs/performance.md`).
///
/// Limits: every `i64` time is accepted, negative ones included, and orders correctly. `seq`
/// is a `u64` that wraps after 2⁶⁴ pushes (centuries at any realistic rate); only the
/// first-in first-out order of ties would be affected then, never memory safety or a panic.
///
/// The event payload `E` takes no part in the ordering and needs no trait bounds.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// Packed `(time, seq)` keys in heap order: `keys[i] <= keys[ARITY * i + 1 ..= ARITY * i + ARITY]`.
    keys: Vec<u128>,
    /// `events[i]` is the event whose key is `keys[i]`; always the same length as `keys`.
    events: Vec<E>,
    next_seq: u64,
}

/// Children per node of the heap.
const ARITY: usize = 4;

/// Flips the sign bit, so that `i64` order becomes `u64` order (`i64::MIN` → 0, −1 →
/// 2⁶³ − 1, 0 → 2⁶³, `i64::MAX` → `u64::MAX`).
const SIGN: u64 = 1 << 63;

/// Packs `(time, seq)` into one key whose unsigned order is the lexicographic order of the
/// pair: the sign-flipped time in the high 64 bits, `seq` in the low 64 bits. Total over all
/// inputs: no time is out of range.
fn pack(time: Time, seq: u64) -> u128 {
    (u128::from(time.cast_unsigned() ^ SIGN) << 64) | u128::from(seq)
}

/// The time of a packed key (inverse of the high half of [`pack`]).
fn time_of(key: u128) -> Time {
    // Truncation intended: the high 64 bits.
    (((key >> 64) as u64) ^ SIGN).cast_signed()
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

    /// An empty queue with room for `capacity` \[events\] before reallocating.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            keys: Vec::with_capacity(capacity),
            events: Vec::with_capacity(capacity),
            next_seq: 0,
        }
    }

    /// Adds `event` at `time` \[ticks\]. Among events with equal times, earlier pushes pop first.
    ///
    /// The queue itself accepts any time; refusing times in the past is the job of
    /// [`Simulation`](super::Simulation) and [`Context`](super::Context), which know the clock.
    pub fn push(&mut self, time: Time, event: E) {
        let key = pack(time, self.next_seq);
        // 2^64 pushes would take centuries at any realistic rate; wrapping keeps this panic-free.
        self.next_seq = self.next_seq.wrapping_add(1);
        self.keys.push(key);
        self.events.push(event);
        // Sift up: move the hole towards the root while the parent is later.
        let mut hole = self.keys.len() - 1;
        while hole > 0 {
            let parent = (hole - 1) / ARITY;
            let parent_key = self.keys[parent];
            if parent_key <= key {
                break;
            }
            self.keys[hole] = parent_key;
            self.events.swap(hole, parent);
            hole = parent;
        }
        self.keys[hole] = key;
    }

    /// Reserves room for at least `additional` more events \[events\] before reallocating.
    pub fn reserve(&mut self, additional: usize) {
        self.keys.reserve(additional);
        self.events.reserve(additional);
    }

    /// Removes and returns the earliest event with its time \[ticks\], or `None` if empty.
    pub fn pop(&mut self) -> Option<(Time, E)> {
        if self.keys.is_empty() {
            return None;
        }
        // The last entry takes the root's place, then sinks to where it belongs.
        let key = self.keys.swap_remove(0);
        let event = self.events.swap_remove(0);
        self.sift_down_root();
        Some((time_of(key), event))
    }

    /// Restores the heap order after the root was replaced: moves the hole from the root down
    /// to the earliest child while that child is earlier than the root's key.
    fn sift_down_root(&mut self) {
        let keys = &mut self.keys[..];
        let events = &mut self.events[..];
        let n = keys.len();
        let Some(&key) = keys.first() else {
            return;
        };
        let mut hole = 0;
        loop {
            // hole < n <= isize::MAX / 16 (u128 keys), so this cannot overflow.
            let first = ARITY * hole + 1;
            let (child, child_key) = match keys.get(first..first + ARITY) {
                // A full group: a fixed-size loop the compiler unrolls.
                Some(group) => earliest(first, group),
                None if first < n => earliest(first, &keys[first..]),
                None => break,
            };
            if key <= child_key {
                break;
            }
            keys[hole] = child_key;
            events.swap(hole, child);
            hole = child;
        }
        keys[hole] = key;
    }

    /// Time of the earliest event \[ticks\], or `None` if empty.
    pub fn peek_time(&self) -> Option<Time> {
        self.keys.first().map(|&key| time_of(key))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True if no events are pending.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Index (offset by `first`) and value of the smallest of `group` (non-empty, at most
/// [`ARITY`] keys); the first one on a tie, though keys are unique.
#[inline(always)]
fn earliest(first: usize, group: &[u128]) -> (usize, u128) {
    let mut best = (first, group[0]);
    for (offset, &key) in group.iter().enumerate().skip(1) {
        if key < best.1 {
            best = (first + offset, key);
        }
    }
    best
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
    fn packed_keys_order_like_the_pair() {
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
        let seqs = [0, 1, u64::MAX - 1, u64::MAX];
        for &(t0, s0) in &pairs(&times, &seqs) {
            assert_eq!(time_of(pack(t0, s0)), t0);
            for &(t1, s1) in &pairs(&times, &seqs) {
                assert_eq!(pack(t0, s0).cmp(&pack(t1, s1)), (t0, s0).cmp(&(t1, s1)));
            }
        }
    }

    fn pairs(times: &[Time], seqs: &[u64]) -> Vec<(Time, u64)> {
        times
            .iter()
            .flat_map(|&t| seqs.iter().map(move |&s| (t, s)))
            .collect()
    }

    /// The previous implementation, kept as the reference: `BinaryHeap` of `(time, seq)`.
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
