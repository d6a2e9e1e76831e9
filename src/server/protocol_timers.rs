//! Protocol-level timers (`Context::set_protocol_timer`): one-shot or periodic, in a min-heap.
//! Cancelling only forgets the timer; its heap entry is skipped when it comes up.

use crate::protocol::{ProtocolIndex, TimerChange, TimerId};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub(crate) struct ProtocolTimers {
    heap: BinaryHeap<Reverse<(Instant, TimerId)>>,
    live: HashMap<TimerId, (ProtocolIndex, Option<Duration>)>,
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
}
