//! When each connection next wants to be woken: a min-heap of 16-byte `(when, key, serial)`
//! entries, O(log n) per change and never a scan of every connection on a change. Entries are
//! not removed when a deadline moves later; a stale entry fires early, the connection finds
//! nothing due, and is re-scheduled. Nor when a deadline moves earlier or the connection goes:
//! those entries are swept out in one pass once they could outnumber the live ones
//! ([`Deadlines::sweep_if_mostly_stale`]), so the heap stays within about twice the
//! connection count instead of holding every short-lived connection's entries until their
//! times (at 17,000 handshakes/s, a quarter of a million entries: 4 MB that every pop walks).
//! Times are milliseconds on the server's clock (`tick`).

use super::stale_sweep::StaleSweep;
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
    sweeps: StaleSweep,
}

impl Deadlines {
    /// Drop every entry `is_live` refuses once stale entries could outnumber live ones
    /// (see [`StaleSweep`]); `live` is the connection count (one live entry each, or two
    /// when a connection was rescheduled back to a time a stale entry already had). True if
    /// it swept.
    pub fn sweep_if_mostly_stale(
        &mut self,
        live: usize,
        mut is_live: impl FnMut(&Wakeup) -> bool,
    ) -> bool {
        self.sweeps
            .sweep(&mut self.heap, live, |Reverse(wakeup)| is_live(wakeup))
    }

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
    use super::super::stale_sweep::SWEEP_FLOOR;
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

    fn wakeup(at: u64, key: u32) -> Wakeup {
        Wakeup { at, key, serial: 0 }
    }

    #[test]
    fn stale_entries_are_swept_once_they_could_outnumber_live_ones() {
        let mut deadlines = Deadlines::default();
        // Ten live connections (keys 0-9); every other entry belongs to a connection gone.
        let is_live = |wakeup: &Wakeup| wakeup.key < 10;
        for key in 0..SWEEP_FLOOR as u32 {
            deadlines.push(wakeup(u64::from(key), key));
        }
        assert!(
            !deadlines.sweep_if_mostly_stale(10, is_live),
            "at the floor: kept"
        );
        deadlines.push(wakeup(5_000, 5_000));
        assert!(deadlines.sweep_if_mostly_stale(10, is_live));
        assert_eq!(deadlines.len(), 10);
        // What is left still pops in order, and only when due.
        assert_eq!(deadlines.pop_due(3).map(|w| w.key), Some(0));
        assert_eq!(deadlines.next(), Some(1));
        let mut rest = Vec::new();
        while let Some(w) = deadlines.pop_due(u64::MAX) {
            rest.push(w.key);
        }
        assert_eq!(rest, (1..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_sweep_that_keeps_everything_waits_for_the_heap_to_double() {
        let mut deadlines = Deadlines::default();
        let mut passes = 0;
        let mut sweep = |deadlines: &mut Deadlines| {
            // Every entry passes (a connection's entry pushed twice would): nothing removed.
            deadlines.sweep_if_mostly_stale(10, |_| {
                passes += 1;
                true
            })
        };
        let mut sweeps = 0;
        for key in 0..4 * SWEEP_FLOOR as u32 {
            deadlines.push(wakeup(u64::from(key), key));
            sweeps += usize::from(sweep(&mut deadlines));
        }
        // At 1,025 entries, then 2,051: not at every push after the first.
        assert_eq!(sweeps, 2);
        assert_eq!(passes, 1025 + 2051);
        assert_eq!(deadlines.len(), 4 * SWEEP_FLOOR);
    }

    #[test]
    fn a_heap_of_live_entries_is_left_alone() {
        let mut deadlines = Deadlines::default();
        let live = 3 * SWEEP_FLOOR;
        for key in 0..live as u32 {
            deadlines.push(wakeup(u64::from(key), key));
        }
        let mut asked = 0;
        let swept = deadlines.sweep_if_mostly_stale(live, |_| {
            asked += 1;
            true
        });
        assert!(!swept);
        assert_eq!(asked, 0, "no pass over the heap");
        assert_eq!(deadlines.len(), live);
    }
}
