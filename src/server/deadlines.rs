//! When each connection next wants to be woken: a min-heap of 16-byte `(when, key, serial)`
//! entries, O(log n) per change and never a scan of every connection. Entries are not removed
//! when a deadline moves later; a stale entry fires early, the connection finds nothing due,
//! and is re-scheduled. Times are milliseconds on the server's clock (`tick`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One scheduled wake-up. The serial's low bits guard against a slab key reused by a newer
/// connection (the connection also checks that `at` is the deadline it is waiting for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Wakeup {
    /// Milliseconds since the server's clock started.
    pub at: u64,
    pub key: u32,
    pub serial: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    heap: BinaryHeap<Reverse<Wakeup>>,
}

impl Deadlines {
    pub fn push(&mut self, wakeup: Wakeup) {
        self.heap.push(Reverse(wakeup));
    }

    /// The earliest wake-up time, in milliseconds.
    pub fn next(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(wakeup)| wakeup.at)
    }

    /// The earliest wake-up due at `now` (milliseconds), if any.
    pub fn pop_due(&mut self, now: u64) -> Option<Wakeup> {
        if self.next()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse(wakeup)| wakeup)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_small() {
        assert_eq!(std::mem::size_of::<Reverse<Wakeup>>(), 16);
    }

    #[test]
    fn pops_in_time_order_only_when_due() {
        let mut deadlines = Deadlines::default();
        for (at, key) in [(30, 3), (10, 1), (20, 2)] {
            deadlines.push(Wakeup {
                at,
                key,
                serial: key,
            });
        }
        assert_eq!(deadlines.next(), Some(10));
        assert_eq!(deadlines.pop_due(5), None);
        assert_eq!(deadlines.pop_due(25).map(|w| w.key), Some(1));
        assert_eq!(deadlines.pop_due(25).map(|w| w.key), Some(2));
        assert_eq!(deadlines.pop_due(25), None);
        assert_eq!(deadlines.len(), 1);
    }
}
