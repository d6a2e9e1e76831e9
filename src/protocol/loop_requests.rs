//! What callbacks ask of the loop as a whole (not of their own connection): protocol timers,
//! writeable callbacks for every connection of a protocol, and topics (the registry answers
//! subscriptions at once; publications wait in its outbox). The server applies them after
//! each callback returns.

use super::ProtocolIndex;
use crate::connection_id::ConnectionId;
use crate::topics::Topics;
use std::time::{Duration, Instant};

/// Names a protocol timer, to cancel it or to tell several apart in `Reason::ProtocolTimer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub(crate) u64);

/// A change to the protocol timers.
#[derive(Debug)]
pub(crate) enum TimerChange {
    Start {
        id: TimerId,
        protocol: ProtocolIndex,
        due: Instant,
        every: Option<Duration>,
    },
    Cancel(TimerId),
}

/// Requests gathered from callbacks during one pass.
#[derive(Debug, Default)]
pub(crate) struct LoopRequests {
    /// Protocols whose every open connection should get `ServerWriteable`.
    pub writeable_all: Vec<ProtocolIndex>,
    /// Particular connections that should get `ServerWriteable`.
    pub writeable_ids: Vec<ConnectionId>,
    pub timer_changes: Vec<TimerChange>,
    /// The loop's topic registry and its outbox of publications.
    pub topics: Topics,
    next_timer: u64,
}

impl LoopRequests {
    /// No requests yet, topics kept in `topics`.
    pub fn with_topics(topics: Topics) -> Self {
        LoopRequests {
            topics,
            ..LoopRequests::default()
        }
    }

    pub fn new_timer_id(&mut self) -> TimerId {
        self.next_timer += 1;
        TimerId(self.next_timer)
    }

    pub fn is_empty(&self) -> bool {
        self.writeable_all.is_empty()
            && self.writeable_ids.is_empty()
            && self.timer_changes.is_empty()
            && !self.topics.has_outbox()
            && !self.topics.has_interest_changes()
    }
}
