//! When a heap whose entries are removed lazily (the connection deadlines, the protocol
//! timers: a cancelled or moved entry stays until it comes up) is swept of its stale ones:
//! once they could outnumber the live ones, and never before the heap has doubled since the
//! last sweep, so a sweep's O(n) pass costs O(1) per entry ever pushed, whatever it finds.

use std::collections::BinaryHeap;

/// A heap is never swept below this many entries (a sweep would cost more than it saves).
pub(super) const SWEEP_FLOOR: usize = 1024;

/// The state of one heap's sweeps.
#[derive(Debug, Default)]
pub(super) struct StaleSweep {
    /// Entries the last sweep kept: the next waits until the heap has doubled from there.
    kept_by_last_sweep: usize,
}

impl StaleSweep {
    /// Keep only the entries of `heap` that `is_live` accepts, if the heap holds more than
    /// twice `live` (how many entries can be live), more than twice what the last sweep kept,
    /// and more than [`SWEEP_FLOOR`]; true if it swept.
    pub fn sweep<T: Ord>(
        &mut self,
        heap: &mut BinaryHeap<T>,
        live: usize,
        is_live: impl FnMut(&T) -> bool,
    ) -> bool {
        let keep_up_to = live.max(self.kept_by_last_sweep).saturating_mul(2);
        if heap.len() <= keep_up_to.max(SWEEP_FLOOR) {
            return false;
        }
        heap.retain(is_live);
        self.kept_by_last_sweep = heap.len();
        true
    }
}
