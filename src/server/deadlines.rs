//! When each connection next wants to be woken: a min-heap of `(when, key, id)`, O(log n) per
//! change and never a scan of every connection. Entries are not removed when a deadline moves
//! later; a stale entry fires early, the connection finds nothing due, and is re-scheduled.

use crate::conn::ConnectionId;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// One scheduled wake-up. The id guards against a slab key reused by a newer connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Wakeup {
    pub at: Instant,
    pub key: usize,
    pub id: ConnectionId,
}

#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    heap: BinaryHeap<Reverse<Wakeup>>,
}

impl Deadlines {
    pub fn push(&mut self, wakeup: Wakeup) {
        self.heap.push(Reverse(wakeup));
    }

    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(wakeup)| wakeup.at)
    }

    /// The earliest wake-up due at `now`, if any.
    pub fn pop_due(&mut self, now: Instant) -> Option<Wakeup> {
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
    use std::time::Duration;

    #[test]
    fn pops_in_time_order_only_when_due() {
        let start = Instant::now();
        let mut deadlines = Deadlines::default();
        for (offset, key) in [(30, 3), (10, 1), (20, 2)] {
            deadlines.push(Wakeup {
                at: start + Duration::from_millis(offset),
                key,
                id: ConnectionId(key as u64),
            });
        }
        assert_eq!(deadlines.next(), Some(start + Duration::from_millis(10)));
        assert_eq!(deadlines.pop_due(start), None);
        let now = start + Duration::from_millis(25);
        assert_eq!(deadlines.pop_due(now).map(|w| w.key), Some(1));
        assert_eq!(deadlines.pop_due(now).map(|w| w.key), Some(2));
        assert_eq!(deadlines.pop_due(now), None);
        assert_eq!(deadlines.len(), 1);
    }
}
