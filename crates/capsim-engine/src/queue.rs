//! The future-event list: a radix heap of events keyed by integer time (8-bit digits, the lowest
//! bucket sorted), ties in push order.

use std::fmt;

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
/// A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990) with 8-bit digits, whose lowest
/// bucket is sorted rather than dealt. Times are mapped to `u64` keys whose order is the `i64`
/// order (`key`), read as 8 bytes. `last` is the key of the bucket taken last; an event with
/// key `k` is kept in the bucket (level `l`, digit `d`) where `l` is the highest byte in which
/// `k` and `last` differ (0 if none) and `d` is byte `l` of `k`. So a level-0 bucket holds
/// the events of one key, and every bucket holds keys above those of the buckets before it
/// (level by level, digit by digit); bit masks say which are non-empty.
///
/// Pops come from the *run*, a vector sorted so that the next event is at its end. When it is
/// empty, the lowest bucket becomes the run: sorted if it is small and dense enough
/// (at most 2,047 events, at least one per 2¹⁶ ticks of its span), else dealt first into the
/// lower levels (which are empty) around its smallest key, as in a radix heap, until the
/// lowest bucket is. The sort orders by key, then by position in the bucket (one integer,
/// radix-sorted byte by byte), so equal keys keep their push order; a push is an append to a
/// bucket. A push earlier than the run's next event (one inside the run's span) is in a bucket
/// and pops from there: a short run is sorted again with that bucket, a long one gives way to
/// the bucket's events, taken from level 0 in push order. Equal keys are always in one bucket,
/// or in the run and then a bucket (pushed later), so ties pop first in, first out without a
/// sequence number. While the buckets are empty and the run short (under 16 events), a push
/// is inserted into the run in order instead, so that a queue of a few events (the M/M/1
/// model's) costs a short vector insert and a pop. In the hold benchmark at 10,000 pending
/// an event is pushed, sorted with about 650 others (two byte passes) and popped: nothing
/// walks a tree, and nothing is moved down level by level (about ten moves per event with
/// one bucket per bit).
///
/// Buckets are lists of fixed-size chunks drawn from one pool (keys and events side by side in
/// a chunk; a chunk freed when read is reused at once), so the memory is that of the events
/// pending plus a partly filled chunk per non-empty bucket, and [`reserve`](Self::reserve) can
/// promise that nothing reallocates.
///
/// A radix heap needs every push to be no earlier than `last`, which
/// [`Simulation`](super::Simulation) guarantees (no event in the past). Used alone, the queue
/// accepts any time: a push earlier than the last pop re-deals every pending event around the
/// new key (`rebase`, linear in the events pending), which keeps the order exact.
///
/// Limits: every `i64` time is accepted, negative ones included, and orders correctly; no
/// sequence counter, so nothing wraps. The payload `E` takes no part in the ordering and
/// needs no trait bounds. Memory: the events, plus about 50 KiB of bucket tables per queue.
pub struct EventQueue<E> {
    /// The run: events taken out of the buckets, sorted so that the next one is last
    /// (descending by key; among equal keys, the earliest pushed last).
    run: Vec<(u64, E)>,
    /// Events of the bucket being sorted, by position (empty between sorts).
    scratch: Vec<Option<E>>,
    /// Their sort keys: offset from the bucket's smallest key, then position.
    order: Vec<u64>,
    /// Room for a radix sort of `order`.
    spare: Vec<u64>,
    /// The smallest key in the buckets (meaningful when `levels != 0`).
    hmin: u64,
    /// The chunk pool: chunks in use (each in one bucket's list) and free ones.
    chunks: Vec<Chunk<E>>,
    /// First free chunk (linked through `next`), or `NIL`.
    free: u32,
    /// `buckets[l * DIGITS + d]`: the chunk list of bucket (level `l`, digit `d`), meaningful
    /// when its bit in `masks` is set.
    buckets: Box<[Bucket; BUCKETS]>,
    /// `mins[l * DIGITS + d]`: the smallest key in that bucket (meaningful for a non-empty
    /// bucket of level 1 or above; a level-0 bucket's keys are all equal).
    mins: Box<[u64; BUCKETS]>,
    /// `masks[l]`: bit `d` set iff bucket (`l`, `d`) is non-empty.
    masks: [[u64; MASK_WORDS]; LEVELS],
    /// Bit `l` set iff level `l` has a non-empty bucket.
    levels: u32,
    /// Key of the bucket taken last, below or equal to every key pending (the smallest key
    /// when nothing was popped yet).
    last: u64,
    /// Events pending.
    len: usize,
}

/// Bits per digit: a level has 2⁸ buckets.
const DIGIT_BITS: u32 = 8;
/// Buckets per level.
const DIGITS: usize = 1 << DIGIT_BITS;
/// Levels: bytes of a key.
const LEVELS: usize = 64 / DIGIT_BITS as usize;
/// Buckets in all.
const BUCKETS: usize = LEVELS * DIGITS;
/// Words of a level's mask.
const MASK_WORDS: usize = DIGITS.div_ceil(64);
/// Events per chunk.
const CHUNK: usize = 32;
/// A bucket of at most this many events \[events\] may be sorted into the run (see
/// [`sortable`]).
const SORT_MAX: u32 = 2047;
/// Bits for a position in a sorted bucket.
const SEQ_BITS: u32 = 11;
/// Buckets of more events than this are sorted by radix, others by comparison.
const RADIX_MIN: usize = 64;
/// A run of at most this many events \[events\] is sorted again with the lowest bucket when
/// that holds an earlier event; a longer one gives way to the bucket's events one by one.
const MERGE_MAX: usize = 32;
/// While the buckets are empty and the run holds fewer events than this \[events\], a push
/// is inserted into the run (a queue this small is mostly what the M/M/1 model keeps).
const SMALL: usize = 16;
/// See [`sortable`].
const SPARSE_BITS: u32 = 8;
const _: () = assert!(SORT_MAX < 1 << SEQ_BITS);
/// The highest level whose buckets are sorted: offsets below 2^(DIGIT_BITS × level), shifted
/// by SEQ_BITS, fit in 64 bits.
const SORT_LEVEL: usize = ((64 - SEQ_BITS) / DIGIT_BITS) as usize;
/// No chunk (end of a list).
const NIL: u32 = u32::MAX;

/// Up to [`CHUNK`] events of one bucket, in push order, with their keys.
struct Chunk<E> {
    /// The next chunk of the same bucket, or of the free list; `NIL` at the end.
    next: u32,
    /// Keys and events; an event is `None` once taken (and in every slot of a free chunk).
    slots: [(u64, Option<E>); CHUNK],
}

/// A bucket's chunk list: events are read from `head` at slot `pos` and appended to `tail`.
#[derive(Clone, Copy)]
struct Bucket {
    head: u32,
    tail: u32,
    /// Slots of `head` already read.
    pos: u16,
    /// Slots of `tail` written (every other chunk is full).
    fill: u16,
    /// Events pushed into the bucket (read ones included) \[events\].
    count: u32,
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

/// The bucket of `key` (`>= last`) as (level, digit): the highest byte in which they differ
/// (0 if equal) and `key`'s digit there.
#[inline(always)]
fn slot(key: u64, last: u64) -> (usize, usize) {
    // `| 1` makes equal keys level 0; it cannot raise the level of unequal ones.
    let level = (63 - ((key ^ last) | 1).leading_zeros()) / DIGIT_BITS;
    let digit = (key >> (level * DIGIT_BITS)) as usize % DIGITS;
    (level as usize, digit)
}

/// Whether a bucket of `level` (at least 1) holding `count` events is sorted rather than
/// dealt: a lone event, or at most [`SORT_MAX`] events, at least one per 2^SPARSE_BITS
/// buckets of the level below (at least one per 2^16 ticks it spans). Sparser ones are dealt:
/// a run spanning so many ticks per event would often have new events fall inside it.
#[inline(always)]
fn sortable(level: usize, count: u32) -> bool {
    count == 1
        || (level <= SORT_LEVEL
            && count <= SORT_MAX
            && u64::from(count) << SPARSE_BITS >> (DIGIT_BITS as usize * (level - 1)) != 0)
}

/// Sorts `order` (values at most `max`) by their bits from `SEQ_BITS` up, a byte at a time
/// (least significant first, each pass stable), using `spare` as room.
fn radix_sort(order: &mut Vec<u64>, spare: &mut Vec<u64>, max: u64) {
    let mut shift = SEQ_BITS;
    while shift < 64 && max >> shift != 0 {
        let mut counts = [0_u32; 256];
        for &o in order.iter() {
            counts[(o >> shift) as usize % 256] += 1;
        }
        let mut sum = 0;
        for count in &mut counts {
            (*count, sum) = (sum, sum + *count);
        }
        spare.clear();
        spare.resize(order.len(), 0);
        for &o in order.iter() {
            let count = &mut counts[(o >> shift) as usize % 256];
            spare[*count as usize] = o;
            *count += 1;
        }
        std::mem::swap(order, spare);
        shift += 8;
    }
}

/// The lowest set bit of a level's mask, if any.
#[inline(always)]
fn first_digit(mask: &[u64; MASK_WORDS]) -> Option<usize> {
    mask.iter()
        .enumerate()
        .find(|(_, word)| **word != 0)
        .map(|(i, word)| i * 64 + word.trailing_zeros() as usize)
}

impl<E> Chunk<E> {
    fn new() -> Self {
        Self {
            next: NIL,
            slots: std::array::from_fn(|_| (0, None)),
        }
    }
}

impl<E> fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventQueue")
            .field("len", &self.len)
            .field("next_time", &self.peek_time())
            .field("chunks", &self.chunks.len())
            .finish_non_exhaustive()
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

    /// An empty queue with room for `capacity` pending \[events\] before reallocating (see
    /// [`reserve`](Self::reserve)). The bucket tables (about 50 KiB) are allocated in any case.
    pub fn with_capacity(capacity: usize) -> Self {
        let empty = Bucket {
            head: NIL,
            tail: NIL,
            pos: 0,
            fill: 0,
            count: 0,
        };
        let mut queue = Self {
            run: Vec::new(),
            scratch: Vec::new(),
            order: Vec::new(),
            spare: Vec::new(),
            hmin: 0,
            chunks: Vec::new(),
            free: NIL,
            buckets: Box::new([empty; BUCKETS]),
            mins: Box::new([0; BUCKETS]),
            masks: [[0; MASK_WORDS]; LEVELS],
            levels: 0,
            last: 0,
            len: 0,
        };
        queue.reserve(capacity);
        queue
    }

    /// Adds `event` at `time` \[ticks\]. Among events with equal times, earlier pushes pop first.
    ///
    /// The queue itself accepts any time; refusing times in the past is the job of
    /// [`Simulation`](super::Simulation) and [`Context`](super::Context), which know the clock.
    #[inline]
    pub fn push(&mut self, time: Time, event: E) {
        let k = key(time);
        if self.levels == 0 && self.run.len() < SMALL {
            // Few pending and none in the buckets: straight into the run, before (so popped
            // after) the events of equal key already there.
            let at = self.run.partition_point(|&(r, _)| r > k);
            self.run.insert(at, (k, event));
            self.len += 1;
            return;
        }
        if k < self.last {
            self.rebase(k);
        }
        if self.levels == 0 || k < self.hmin {
            self.hmin = k;
        }
        self.len += 1;
        self.place(k, event);
    }

    /// A chunk from the free list, or a new one, empty and unlinked.
    #[inline(always)]
    fn take_chunk(&mut self) -> u32 {
        if self.free == NIL {
            let c = u32::try_from(self.chunks.len())
                .ok()
                .filter(|&c| c != NIL)
                .expect("fewer than 2³² chunks of pending events");
            self.chunks.push(Chunk::new());
            c
        } else {
            let c = self.free;
            let chunk = &mut self.chunks[c as usize];
            self.free = chunk.next;
            chunk.next = NIL;
            c
        }
    }

    /// Returns chunk `c` (every event taken) to the free list.
    #[inline(always)]
    fn give_chunk(&mut self, c: u32) {
        self.chunks[c as usize].next = self.free;
        self.free = c;
    }

    /// Puts an event with key `k >= last` where it belongs: appended to its bucket.
    #[inline(always)]
    fn place(&mut self, k: u64, event: E) {
        let (level, digit) = slot(k, self.last);
        let b = level * DIGITS + digit;
        let word = &mut self.masks[level][digit / 64];
        let bit = 1_u64 << (digit % 64);
        if *word & bit == 0 {
            *word |= bit;
            self.levels |= 1 << level;
            self.mins[b] = k;
            let c = self.take_chunk();
            self.buckets[b] = Bucket {
                head: c,
                tail: c,
                pos: 0,
                fill: 1,
                count: 1,
            };
            self.chunks[c as usize].slots[0] = (k, Some(event));
        } else {
            if k < self.mins[b] {
                self.mins[b] = k;
            }
            let mut bucket = self.buckets[b];
            if bucket.fill as usize == CHUNK {
                let c = self.take_chunk();
                self.chunks[bucket.tail as usize].next = c;
                bucket.tail = c;
                bucket.fill = 0;
            }
            self.chunks[bucket.tail as usize].slots[bucket.fill as usize % CHUNK] =
                (k, Some(event));
            bucket.fill += 1;
            bucket.count = bucket.count.wrapping_add(1);
            self.buckets[b] = bucket;
        }
    }

    /// Marks bucket (`level`, `digit`) empty.
    #[inline(always)]
    fn clear(&mut self, level: usize, digit: usize) {
        let mask = &mut self.masks[level];
        mask[digit / 64] &= !(1_u64 << (digit % 64));
        if mask.iter().all(|&word| word == 0) {
            self.levels &= !(1 << level);
        }
    }

    /// Takes every event out of bucket `b` (already marked empty), in order, freeing its
    /// chunks as they are read, and hands each to `f` with its key.
    #[inline(always)]
    fn drain_bucket(&mut self, b: usize, mut f: impl FnMut(&mut Self, u64, E)) {
        let Bucket {
            head,
            tail,
            pos,
            fill,
            ..
        } = self.buckets[b];
        let (mut c, mut i) = (head, pos as usize);
        loop {
            let end = if c == tail { fill as usize } else { CHUNK };
            while i < end {
                let (k, event) = &mut self.chunks[c as usize].slots[i % CHUNK];
                let k = *k;
                if let Some(event) = event.take() {
                    f(self, k, event);
                }
                i += 1;
            }
            let next = self.chunks[c as usize].next;
            self.give_chunk(c);
            if c == tail {
                return;
            }
            c = next;
            i = 0;
        }
    }

    /// Makes `k` (below `last`) the new `last` and places every pending event again. Equal
    /// keys are in one bucket and come out in order, so FIFO order stays.
    #[cold]
    fn rebase(&mut self, k: u64) {
        let mut pending = Vec::with_capacity(self.len);
        for level in 0..LEVELS {
            while let Some(digit) = first_digit(&self.masks[level]) {
                self.clear(level, digit);
                self.drain_bucket(level * DIGITS + digit, |_, k, e| pending.push((k, e)));
            }
        }
        self.last = k;
        for (k, event) in pending {
            self.place(k, event);
        }
    }

    /// Reserves room so that up to `len() + additional` \[events\] pending at once never
    /// allocate: the chunk pool is grown to hold them however they spread over the buckets
    /// (their chunks, plus two partly used chunks per bucket they can fill).
    pub fn reserve(&mut self, additional: usize) {
        let total = self.len.saturating_add(additional);
        let needed = (total / CHUNK)
            .saturating_add(total.min(BUCKETS).saturating_mul(2))
            .saturating_add(1);
        self.chunks
            .reserve(needed.saturating_sub(self.chunks.len()));
        self.run.reserve(total.saturating_sub(self.run.len()));
        let sorted = total.min(SORT_MAX as usize);
        self.scratch.reserve(sorted);
        self.order.reserve(sorted);
        self.spare.reserve(sorted);
    }

    /// Removes and returns the earliest event with its time \[ticks\], or `None` if empty.
    #[inline]
    pub fn pop(&mut self) -> Option<(Time, E)> {
        if self.run.is_empty() {
            if self.levels == 0 {
                return None;
            }
            self.fill_run();
        } else if self.levels != 0
            && self.hmin < self.run[self.run.len() - 1].0
            && !self.merge_run()
        {
            return self.pop_bucket();
        }
        let (k, event) = self.run.pop()?;
        self.len -= 1;
        Some((time_of(k), event))
    }

    /// Deals the lowest bucket into lower levels until it is level 0 or can be sorted (at
    /// most [`SORT_MAX`] events, level at most [`SORT_LEVEL`]); returns its level and digit.
    fn lowest_sortable(&mut self) -> (usize, usize) {
        debug_assert!(self.levels != 0, "a bucket is non-empty");
        loop {
            let level = self.levels.trailing_zeros() as usize;
            let digit = first_digit(&self.masks[level % LEVELS]).unwrap_or(0);
            if level == 0 || sortable(level, self.buckets[level * DIGITS + digit].count) {
                return (level, digit);
            }
            self.refill();
        }
    }

    /// The run is empty: the lowest bucket (dealt first if it cannot be sorted) is sorted
    /// into it.
    fn fill_run(&mut self) {
        let (level, digit) = self.lowest_sortable();
        let b = level * DIGITS + digit;
        if level > 0 && self.buckets[b].count == 1 {
            // A lone event (common when few are pending): no sort.
            let head = self.buckets[b].head;
            self.last = self.mins[b];
            self.clear(level, digit);
            if let Some(event) = self.chunks[head as usize].slots[0].1.take() {
                self.run.push((self.last, event));
            }
            self.give_chunk(head);
        } else if level == 0 {
            // One key: the bucket's order is the run's, reversed (however many events).
            self.last = (self.last & !(DIGITS as u64 - 1)) | digit as u64;
            self.clear(level, digit);
            self.drain_bucket(b, |queue, k, event| queue.run.push((k, event)));
            self.run.reverse();
        } else {
            self.sort_into_run(level, digit);
        }
        self.hmin = self.peek_bucket().unwrap_or(u64::MAX);
    }

    /// The run is short ([`MERGE_MAX`]) and a bucket holds an earlier event: sorts the run
    /// and the lowest bucket together into the run, if they fit one sort. False (and
    /// nothing popped) if not.
    fn merge_run(&mut self) -> bool {
        if self.run.len() > MERGE_MAX {
            return false;
        }
        let (level, digit) = self.lowest_sortable();
        let count = self.buckets[level * DIGITS + digit].count as usize;
        // The run's largest key is its first; its offset from the smallest key pending (the
        // bucket's) must fit the sort key.
        if count + self.run.len() > SORT_MAX as usize
            || (self.run[0].0 - self.hmin) >> (64 - SEQ_BITS) != 0
        {
            return false;
        }
        self.sort_into_run(level, digit);
        self.hmin = self.peek_bucket().unwrap_or(u64::MAX);
        true
    }

    /// Empties bucket (`level`, `digit`), the lowest, and sorts its events and those of the
    /// run (whose keys are above its smallest), all at most [`SORT_MAX`] events, into the
    /// run. Among equal keys, the run's events (pushed earlier) come first, then the
    /// bucket's in order.
    fn sort_into_run(&mut self, level: usize, digit: usize) {
        let b = level * DIGITS + digit;
        let base = if level == 0 {
            (self.last & !(DIGITS as u64 - 1)) | digit as u64
        } else {
            self.mins[b]
        };
        self.last = base;
        self.clear(level, digit);
        // Offsets from the smallest key fit in 64 − SEQ_BITS bits (bucket keys: less than
        // 2^(8 × level) from it; the run's: checked by `merge_run`), and positions are below
        // 2^SEQ_BITS: one integer orders both, ties by position.
        let mut max = 0;
        let mut add = |queue: &mut Self, k: u64, event: E| {
            let i = queue.scratch.len() as u64;
            let o = ((k - base) << SEQ_BITS) | i;
            max = max.max(o);
            queue.order.push(o);
            queue.scratch.push(Some(event));
        };
        while let Some((k, event)) = self.run.pop() {
            add(self, k, event);
        }
        self.drain_bucket(b, &mut add);
        if self.order.len() <= RADIX_MIN {
            self.order.sort_unstable();
        } else {
            radix_sort(&mut self.order, &mut self.spare, max);
        }
        for &o in self.order.iter().rev() {
            if let Some(event) = self.scratch[(o % (1 << SEQ_BITS)) as usize].take() {
                self.run.push((base + (o >> SEQ_BITS), event));
            }
        }
        self.order.clear();
        self.scratch.clear();
    }

    /// The smallest key in the buckets, if any.
    fn peek_bucket(&self) -> Option<u64> {
        if self.levels == 0 {
            return None;
        }
        let level = self.levels.trailing_zeros() as usize;
        let digit = first_digit(&self.masks[level])?;
        Some(if level == 0 {
            (self.last & !(DIGITS as u64 - 1)) | digit as u64
        } else {
            self.mins[level * DIGITS + digit]
        })
    }

    /// Removes and returns the earliest event of the buckets.
    fn pop_bucket(&mut self) -> Option<(Time, E)> {
        if self.levels & 1 == 0 {
            if self.levels == 0 {
                return None;
            }
            self.refill();
        }
        let digit = first_digit(&self.masks[0])?;
        self.last = (self.last & !(DIGITS as u64 - 1)) | digit as u64;
        let Bucket {
            head,
            tail,
            pos,
            fill,
            ..
        } = self.buckets[digit];
        let chunk = &mut self.chunks[head as usize];
        let event = chunk.slots[pos as usize % CHUNK].1.take();
        let next = chunk.next;
        let pos = pos + 1;
        if head != tail && pos as usize == CHUNK {
            self.buckets[digit].head = next;
            self.buckets[digit].pos = 0;
            self.give_chunk(head);
        } else if head == tail && pos == fill {
            self.clear(0, digit);
            self.give_chunk(head);
        } else {
            self.buckets[digit].pos = pos;
        }
        self.len -= 1;
        self.hmin = self.peek_bucket().unwrap_or(u64::MAX);
        event.map(|event| (time_of(self.last), event))
    }

    /// Level 0 is empty: the lowest non-empty bucket's smallest key becomes `last`, and the
    /// bucket's events are dealt into lower levels (at least that smallest one into level 0).
    fn refill(&mut self) {
        let level = self.levels.trailing_zeros() as usize;
        let Some(digit) = first_digit(&self.masks[level]) else {
            return;
        };
        let b = level * DIGITS + digit;
        self.last = self.mins[b];
        self.clear(level, digit);
        // Every key of the bucket agrees with the new `last` above byte `level`, and in it,
        // so it lands in a lower level, which is empty: the order of equal keys is kept.
        self.drain_bucket(b, |queue, k, event| queue.place(k, event));
    }

    /// Time of the earliest event \[ticks\], or `None` if empty.
    pub fn peek_time(&self) -> Option<Time> {
        let bucket = self.peek_bucket();
        let run = self.run.last().map(|x| x.0);
        match (run, bucket) {
            (Some(r), Some(b)) => Some(r.min(b)),
            (r, b) => r.or(b),
        }
        .map(time_of)
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

    /// SplitMix64 from `seed`: fixed sequences without a dependency.
    fn splitmix(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    #[test]
    fn matches_reference_on_hold_like_loads() {
        // Hundreds to thousands pending, as in the hold benchmark and the engine's pattern of
        // use: buckets large enough to be radix-sorted, dealt ones, sparse ones, ties (pushes
        // at the current time), and pushes just ahead that fall inside the run (merged with a
        // short run, or popped from the buckets past a long one).
        let mut next = splitmix(5);
        for (pending, spread) in [
            (3_000_usize, 1_000_000_u64),
            (3_000, 300),
            (2_500, 70_000),
            (200, 1 << 30),
            (100, 1 << 50),
            (1_500, 5_000_000),
        ] {
            let mut queue = EventQueue::new();
            let mut reference = Reference {
                heap: BinaryHeap::new(),
                next_seq: 0,
            };
            let mut now: Time = 1 << 40;
            let mut id = 0_u32;
            let mut push = |queue: &mut EventQueue<u32>, reference: &mut Reference, t: Time| {
                queue.push(t, id);
                reference.push(t, id);
                id += 1;
            };
            for _ in 0..pending {
                let t = now + (next() % spread).cast_signed();
                push(&mut queue, &mut reference, t);
            }
            for _ in 0..30_000 {
                let popped = queue.pop();
                assert_eq!(popped, reference.pop());
                now = popped.expect("never empty").0;
                let t = match next() % 16 {
                    0 => now,
                    1 | 2 => now + (next() % 64).cast_signed(),
                    _ => now + (next() % spread).cast_signed(),
                };
                push(&mut queue, &mut reference, t);
                assert_eq!(queue.len(), reference.heap.len());
                assert_eq!(
                    queue.peek_time(),
                    reference.heap.peek().map(|Reverse((t, _, _))| *t)
                );
            }
            let rest: Vec<_> = std::iter::from_fn(|| reference.pop()).collect();
            assert_eq!(drain(&mut queue), rest);
        }
    }

    #[test]
    fn many_equal_times_keep_push_order() {
        // More events at one time than a sort takes (`SORT_MAX`), pushed before and after
        // the run is taken, with later times interleaved.
        let mut queue = EventQueue::new();
        let mut reference = Reference {
            heap: BinaryHeap::new(),
            next_seq: 0,
        };
        for i in 0..5_000_u32 {
            let t = Time::from(i % 3) * 1_000;
            queue.push(t, i);
            reference.push(t, i);
        }
        for i in 5_000..7_000_u32 {
            assert_eq!(queue.pop(), reference.pop());
            queue.push(2_000, i);
            reference.push(2_000, i);
        }
        let rest: Vec<_> = std::iter::from_fn(|| reference.pop()).collect();
        assert_eq!(drain(&mut queue), rest);
    }

    #[test]
    fn reserved_room_is_never_outgrown() {
        // Up to 400 pending over every kind of spread: the chunk pool and the run's buffers
        // keep the capacity `reserve` gave them.
        fn capacities(queue: &EventQueue<u32>) -> (usize, usize, usize, usize) {
            (
                queue.chunks.capacity(),
                queue.run.capacity(),
                queue.scratch.capacity(),
                queue.order.capacity() + queue.spare.capacity(),
            )
        }
        const MOST: usize = 400;
        let mut next = splitmix(9);
        let mut queue = EventQueue::with_capacity(MOST);
        let before = capacities(&queue);
        let mut now: Time = 0;
        for round in 0..40_u64 {
            let spread = [1_u64, 50, 300, 70_000, 1 << 24, 1 << 40][(round % 6) as usize];
            while queue.len() < MOST {
                queue.push(now + (next() % spread).cast_signed(), 0);
            }
            for _ in 0..2_000 {
                now = queue.pop().expect("never empty").0;
                if !next().is_multiple_of(8) {
                    queue.push(now + (next() % spread).cast_signed(), 0);
                }
                if queue.is_empty() {
                    queue.push(now, 0);
                }
            }
        }
        assert_eq!(capacities(&queue), before);
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
