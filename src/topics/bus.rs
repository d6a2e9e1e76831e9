//! The [`Bus`] between event loops: it carries each publication to every loop with a
//! subscriber of its topic, in one order per topic, and [`LocalBus`], the bus between the
//! loops of one process.
//!
//! # How the order is made
//!
//! With a bus, a loop never delivers its own publications directly: it hands them to the bus
//! and delivers what the bus gives back, its own included. `LocalBus` appends a publication
//! to the inbox of every interested loop under one mutex, so the order in which publications
//! pass that lock is the one order every loop sees (a total order over all topics, hence per
//! topic; a publisher's messages pass it in the order it published them). A Redis bridge
//! makes the same promise with Redis as the one place: `PUBLISH` to the topic's channel,
//! deliver what the channel's `SUBSCRIBE` brings back, own messages included.
//!
//! What it costs: per publication, one lock, one reference (an atomic increment) per
//! interested loop and, when a loop's inbox was empty, one wake of that loop (an eventfd
//! write); per loop pass with publications, one lock to take the inbox. A loop that publishes
//! nothing takes no lock on any message's path but the inbox it drains, and a connection
//! that publishes nothing none at all. Even with one loop, a bus costs the round trip
//! through the lock; a single-loop server therefore has no bus and delivers directly.

#[cfg(feature = "redis")]
use super::BridgeStats;
use super::Publication;
use bytes::Bytes;
use mio::Waker;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

/// Names a loop attached to a bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LoopId(pub usize);

/// Carries publications between event loops, in one order per topic (see the module docs).
/// Every method may be called from any loop's thread.
pub trait Bus: Send + Sync + fmt::Debug {
    /// A loop joins; `waker` wakes it when publications wait for it.
    fn join(&self, waker: Arc<Waker>) -> LoopId;

    /// The loop is gone: it receives nothing more.
    fn leave(&self, id: LoopId);

    /// Loop `id` gained its first (`true`) or lost its last local subscriber of `topic`.
    fn set_interest(&self, id: LoopId, topic: &Bytes, interested: bool);

    /// Publish to every interested loop, `from` included (if it is interested), in the
    /// topic's one order.
    fn publish(&self, from: LoopId, publication: Publication);

    /// Move the publications waiting for loop `id`, in order, to `into`.
    fn take(&self, id: LoopId, into: &mut Vec<Publication>);

    /// The counters of a bridge to other processes (Redis), for `/status` and `/metrics`;
    /// `None` for a bus within one process.
    #[cfg(feature = "redis")]
    fn bridge_stats(&self) -> Option<Arc<BridgeStats>> {
        None
    }
}

/// One loop's place on a [`LocalBus`].
#[derive(Debug)]
struct Inbox {
    waker: Arc<Waker>,
    waiting: Vec<Publication>,
}

#[derive(Debug, Default)]
struct State {
    loops: Vec<Option<Inbox>>,
    /// The loops with local subscribers, by topic.
    interest: HashMap<Bytes, Vec<usize>>,
}

/// The bus between the loops of one process: one mutex is the one place that orders
/// publications (see the module docs).
#[derive(Debug, Default)]
pub struct LocalBus {
    state: Mutex<State>,
}

impl LocalBus {
    /// A bus with no loops yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Topics that at least one loop has a subscriber of (what the bus keeps per topic).
    pub fn topic_count(&self) -> usize {
        self.state().interest.len()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`Bus::set_interest`]; true when that changed whether any loop of the process is
    /// interested in `topic` (its first loop came, or its last went).
    pub(crate) fn update_interest(&self, id: LoopId, topic: &Bytes, interested: bool) -> bool {
        let mut state = self.state();
        let loops = state.interest.entry(topic.clone()).or_default();
        let before = !loops.is_empty();
        loops.retain(|&l| l != id.0);
        if interested {
            loops.push(id.0);
        }
        let after = !loops.is_empty();
        if !after {
            state.interest.remove(topic);
        }
        before != after
    }

    /// [`Bus::leave`]; the topics that no loop of the process is interested in any more.
    #[cfg(feature = "redis")]
    pub(crate) fn leave_reporting(&self, id: LoopId) -> Vec<Bytes> {
        let mut state = self.state();
        state.loops[id.0] = None;
        let mut lost = Vec::new();
        state.interest.retain(|topic, loops| {
            loops.retain(|&l| l != id.0);
            if loops.is_empty() {
                lost.push(topic.clone());
            }
            !loops.is_empty()
        });
        lost
    }

    /// True if some loop of the process has a subscriber of `topic`.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn is_interested(&self, topic: &[u8]) -> bool {
        self.state().interest.contains_key(topic)
    }

    /// Every topic some loop of the process has a subscriber of.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn interesting_topics(&self) -> Vec<Bytes> {
        self.state().interest.keys().cloned().collect()
    }
}

impl Bus for LocalBus {
    fn join(&self, waker: Arc<Waker>) -> LoopId {
        let mut state = self.state();
        state.loops.push(Some(Inbox {
            waker,
            waiting: Vec::new(),
        }));
        LoopId(state.loops.len() - 1)
    }

    fn leave(&self, id: LoopId) {
        let mut state = self.state();
        state.loops[id.0] = None;
        state.interest.retain(|_, loops| {
            loops.retain(|&l| l != id.0);
            !loops.is_empty()
        });
    }

    fn set_interest(&self, id: LoopId, topic: &Bytes, interested: bool) {
        let _ = self.update_interest(id, topic, interested);
    }

    fn publish(&self, _from: LoopId, publication: Publication) {
        self.deliver(publication);
    }

    fn take(&self, id: LoopId, into: &mut Vec<Publication>) {
        if let Some(inbox) = self.state().loops[id.0].as_mut() {
            into.append(&mut inbox.waiting);
        }
    }
}

impl LocalBus {
    /// Append `publication` to the inbox of every interested loop (see the module docs).
    pub(crate) fn deliver(&self, publication: Publication) {
        let mut wake = Vec::new();
        {
            let state = &mut *self.state();
            let Some(loops) = state.interest.get(publication.topic()) else {
                return;
            };
            for &l in loops {
                if let Some(inbox) = state.loops[l].as_mut() {
                    if inbox.waiting.is_empty() {
                        wake.push(inbox.waker.clone());
                    }
                    inbox.waiting.push(publication.clone());
                }
            }
        }
        for waker in wake {
            // A failed wake only delays delivery to that loop's next pass.
            let _ = waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Message;

    #[test]
    fn only_interested_loops_get_a_publication_in_one_order() {
        let poll = mio::Poll::new().unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), mio::Token(0)).unwrap());
        let bus = LocalBus::new();
        let (a, b) = (bus.join(waker.clone()), bus.join(waker));
        let room = Bytes::from_static(b"room");
        bus.set_interest(a, &room, true);
        bus.set_interest(b, &room, true);
        for n in 0..3 {
            let from = if n % 2 == 0 { a } else { b };
            bus.publish(
                from,
                Publication::new(room.clone(), &Message::from(n.to_string())),
            );
            bus.publish(a, Publication::new("other", &Message::from("x")));
        }
        let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
        bus.take(a, &mut got_a);
        bus.take(b, &mut got_b);
        assert_eq!(got_a.len(), 3);
        assert_eq!(got_a, got_b);
        bus.set_interest(b, &room, false);
        bus.publish(a, Publication::new(room.clone(), &Message::from("late")));
        got_b.clear();
        bus.take(b, &mut got_b);
        assert!(got_b.is_empty(), "b lost interest");
        assert!(
            !bus.update_interest(b, &room, false),
            "a is still interested"
        );
        assert_eq!(bus.interesting_topics(), std::slice::from_ref(&room));
        #[cfg(feature = "redis")]
        assert_eq!(bus.leave_reporting(a), std::slice::from_ref(&room));
        #[cfg(not(feature = "redis"))]
        bus.leave(a);
        assert!(!bus.is_interested(&room));
        assert!(bus.state().interest.is_empty());
        assert!(bus.update_interest(b, &room, true), "b is the first again");
    }
}
