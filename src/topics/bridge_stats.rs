//! The counters of a bridge that carries topics between processes (the Redis bridge), shared
//! by its threads and read by every loop's `/status` and `/metrics`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What a bridge counts (all since start). Updated with relaxed atomics: each number is
/// exact, a snapshot of several is not taken at one instant.
#[derive(Debug, Default)]
pub struct BridgeStats {
    connected: AtomicBool,
    reconnects: AtomicU64,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
    local_only: AtomicU64,
    dropped: AtomicU64,
}

/// One reading of [`BridgeStats`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BridgeSnapshot {
    /// Both connections are up and every live topic is subscribed: publications go through
    /// the broker.
    pub connected: bool,
    /// Times the bridge came back after losing the broker.
    pub reconnects: u64,
    /// Messages that came from the broker and were handed to this process' loops.
    pub messages_in: u64,
    /// Messages published to the broker.
    pub messages_out: u64,
    /// Publications delivered only in this process because the broker was unreachable.
    pub local_only: u64,
    /// Messages lost: the send queue was full, a send failed, or an incoming message was
    /// not a valid envelope or too large.
    pub dropped: u64,
}

impl BridgeStats {
    pub(crate) fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Relaxed);
    }

    pub(crate) fn reconnected(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn received(&self) {
        self.messages_in.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sent(&self, messages: usize) {
        self.messages_out
            .fetch_add(messages as u64, Ordering::Relaxed);
    }

    pub(crate) fn delivered_locally(&self) {
        self.local_only.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn dropped(&self, messages: usize) {
        self.dropped.fetch_add(messages as u64, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> BridgeSnapshot {
        BridgeSnapshot {
            connected: self.connected.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            messages_in: self.messages_in.load(Ordering::Relaxed),
            messages_out: self.messages_out.load(Ordering::Relaxed),
            local_only: self.local_only.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}
