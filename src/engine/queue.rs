//! The future-event list: a min-heap of events keyed by integer time.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

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
/// Why `(time, seq)` and not just `time`: `BinaryHeap` is not stable, so with `time` alone the
/// order of simultaneous events would depend on the heap's internal layout, i.e. on the history
/// of pushes and pops, and a harmless refactor could change results. The sequence number makes
/// the order a total, documented function of the schedule calls, which keeps runs reproducible
/// bit for bit. Times are integers ([`Time`]) so that ties are real ties: floating-point times
/// would need tolerance-based comparison and make "simultaneous" depend on rounding.
///
/// The event payload `E` takes no part in the ordering and needs no trait bounds.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

/// One scheduled event. Ordered by `(time, seq)` only, reversed so that `BinaryHeap` (a max-heap)
/// pops the smallest key first.
#[derive(Debug)]
struct Entry<E> {
    time: Time,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    fn key(&self) -> (Time, u64) {
        (self.time, self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: the earliest (time, seq) is the "greatest" entry, so it sits at the top.
        other.key().cmp(&self.key())
    }
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
            heap: BinaryHeap::with_capacity(capacity),
            next_seq: 0,
        }
    }

    /// Adds `event` at `time` \[ticks\]. Among events with equal times, earlier pushes pop first.
    ///
    /// The queue itself accepts any time; refusing times in the past is the job of
    /// [`Simulation`](super::Simulation) and [`Context`](super::Context), which know the clock.
    pub fn push(&mut self, time: Time, event: E) {
        let seq = self.next_seq;
        // 2^64 pushes would take centuries at any realistic rate; wrapping keeps this panic-free.
        self.next_seq = self.next_seq.wrapping_add(1);
        self.heap.push(Entry { time, seq, event });
    }

    /// Reserves room for at least `additional` more events \[events\] before reallocating.
    pub fn reserve(&mut self, additional: usize) {
        self.heap.reserve(additional);
    }

    /// Removes and returns the earliest event with its time \[ticks\], or `None` if empty.
    pub fn pop(&mut self) -> Option<(Time, E)> {
        self.heap.pop().map(|entry| (entry.time, entry.event))
    }

    /// Time of the earliest event \[ticks\], or `None` if empty.
    pub fn peek_time(&self) -> Option<Time> {
        self.heap.peek().map(|entry| entry.time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True if no events are pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
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
    fn payload_needs_no_ordering() {
        // A payload type without Ord/Eq still works: ordering uses (time, seq) only.
        struct Opaque(#[allow(dead_code)] f64);
        let mut queue = EventQueue::default();
        queue.push(2, Opaque(f64::NAN));
        queue.push(1, Opaque(0.0));
        assert_eq!(queue.pop().map(|(t, _)| t), Some(1));
    }
}
