//! Protocol-level timers (`Context::set_protocol_timer`): one-shot or periodic, in a min-heap.
//! Cancelling only forgets the timer; its heap entry is skipped when it comes up, or swept out
//! with the other cancelled ones once they could outnumber the live timers ([`StaleSweep`]),
//! so a protocol that starts and cancels long timers all day holds only its live ones.

use super::stale_sweep::StaleSweep;
use crate::protocol::{ProtocolIndex, TimerChange, TimerId};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub(crate) struct ProtocolTimers {
    heap: BinaryHeap<Reverse<(Instant, TimerId)>>,
    live: HashMap<TimerId, (ProtocolIndex, Option<Duration>)>,
    sweeps: StaleSweep,
}

impl ProtocolTimers {
    pub fn apply(&mut self, change: TimerChange) {
        match change {
            TimerChange::Start {
                id,
                protocol,
                due,
                every,
            } => {
                self.live.insert(id, (protocol, every));
                self.heap.push(Reverse((due, id)));
            }
            TimerChange::Cancel(id) => {
                self.live.remove(&id);
                let live = &self.live;
                self.sweeps
                    .sweep(&mut self.heap, live.len(), |Reverse((_, id))| {
                        live.contains_key(id)
                    });
            }
        }
    }

    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((due, _))| *due)
    }

    /// The next timer due at `now` (re-armed if periodic), skipping cancelled ones.
    pub fn pop_due(&mut self, now: Instant) -> Option<(TimerId, ProtocolIndex)> {
        while self.next()? <= now {
            let Reverse((due, id)) = self.heap.pop()?;
            let Some(&(protocol, every)) = self.live.get(&id) else {
                continue;
            };
            match every {
                // Catch up without a burst: the next tick is one period from now at the latest.
                Some(period) => self.heap.push(Reverse(((due + period).max(now), id))),
                None => {
                    self.live.remove(&id);
                }
            }
            return Some((id, protocol));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(id: u64, due: Instant, every: Option<Duration>) -> TimerChange {
        TimerChange::Start {
            id: TimerId(id),
            protocol: 1,
            due,
            every,
        }
    }

    #[test]
    fn one_shot_periodic_and_cancelled_timers() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut timers = ProtocolTimers::default();
        timers.apply(start(1, t0 + ms(10), None));
        timers.apply(start(2, t0 + ms(20), Some(ms(20))));
        timers.apply(start(3, t0 + ms(5), None));
        timers.apply(TimerChange::Cancel(TimerId(3)));

        assert_eq!(timers.pop_due(t0), None);
        assert_eq!(timers.pop_due(t0 + ms(10)), Some((TimerId(1), 1)));
        assert_eq!(timers.pop_due(t0 + ms(10)), None);
        assert_eq!(timers.pop_due(t0 + ms(20)), Some((TimerId(2), 1)));
        assert_eq!(timers.next(), Some(t0 + ms(40)));
        timers.apply(TimerChange::Cancel(TimerId(2)));
        assert_eq!(timers.pop_due(t0 + ms(100)), None);
    }

    #[test]
    fn cancelled_timers_do_not_pile_up() {
        use super::super::stale_sweep::SWEEP_FLOOR;
        let t0 = Instant::now();
        let hour = Duration::from_secs(3600);
        let mut timers = ProtocolTimers::default();
        timers.apply(start(0, t0 + hour, Some(hour)));
        for id in 1..=10 * SWEEP_FLOOR as u64 {
            timers.apply(start(id, t0 + hour, None));
            timers.apply(TimerChange::Cancel(TimerId(id)));
            assert!(timers.heap.len() <= SWEEP_FLOOR + 1, "after timer {id}");
        }
        // The one live timer is still there, and still fires.
        assert_eq!(timers.pop_due(t0 + hour), Some((TimerId(0), 1)));
        assert_eq!(timers.pop_due(t0 + hour), None);
    }
}
