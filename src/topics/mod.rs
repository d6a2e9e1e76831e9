//! Topics: publish/subscribe between connections. A connection subscribes to topics by name
//! (bytes, up to `max_topic_bytes`, at most `max_subscriptions` per connection); a message
//! published to a topic reaches every subscriber, framed once: each subscriber's outgoing
//! queue holds a reference to the one frame ([`Publication`]).
//!
//! Each loop keeps its own registry of who subscribes to what; a [`Bus`] carries
//! publications between loops in one order per topic (its docs say how the order is made
//! and what it costs); `redis::RedisBus` (feature `redis`) carries them between processes
//! through Redis pub/sub.

#[cfg(feature = "redis")]
mod bridge_stats;
mod bus;
mod packed;
mod publication;
#[cfg(feature = "redis")]
pub mod redis;
mod registry;

#[cfg(feature = "redis")]
pub use bridge_stats::{BridgeSnapshot, BridgeStats};
pub use bus::{Bus, LocalBus, LoopId};
pub(crate) use packed::{pack, slices, Packed};
pub use publication::Publication;
pub(crate) use registry::Topics;

/// Why a topic call was refused. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopicError {
    /// Subscribing needs a connection; this callback is about the protocol as a whole.
    NoConnection,
    /// The topic name is longer than `max_topic_bytes`.
    NameTooLong,
    /// The connection already has `max_subscriptions` subscriptions.
    TooManySubscriptions,
}

impl std::fmt::Display for TopicError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TopicError::NoConnection => "no connection in this callback",
            TopicError::NameTooLong => "the topic name is longer than max_topic_bytes",
            TopicError::TooManySubscriptions => {
                "the connection already has max_subscriptions subscriptions"
            }
        })
    }
}

impl std::error::Error for TopicError {}
