//! [`RedisBus`]: topics across processes through Redis pub/sub (feature `redis`).
//!
//! Every topic with at least one subscriber in this process is subscribed on Redis (channel
//! = prefix + topic): `SUBSCRIBE` when its first local subscriber comes, `UNSUBSCRIBE` after
//! its last goes. A publication is sent to Redis (`PUBLISH`), and this process' subscribers
//! receive what comes back, its own publications included, so every subscriber on every
//! instance sees one order per topic: Redis'. Messages travel in a small
//! [`envelope`] (a type byte, then the message), so other programs can publish too.
//!
//! # Threads
//!
//! Nothing blocks an event loop on Redis. Two threads own the two connections (the `redis`
//! crate's blocking client): the subscriber thread reads the `SUBSCRIBE` connection and
//! hands each message to the loops through a [`LocalBus`](crate::LocalBus) (queue + each loop's `Waker`);
//! the publisher thread sends the loops' publications as pipelines of `PUBLISH`. A loop
//! only appends to a queue under a mutex (`bridge.rs`). The subscriber thread, blocked
//! reading, learns of interest changes through a message on a channel of its own.
//!
//! A publication to a topic whose `SUBSCRIBE` is not confirmed yet is held until it is, so
//! a connection that subscribes and then publishes sees its own message, as on one loop.
//!
//! # When Redis fails
//!
//! Down at startup, or lost while running (including a Redis that disconnects a slow
//! subscriber for its `client-output-buffer-limit pubsub`): one warning, and until both
//! connections are back each publication is delivered to this instance's subscribers only,
//! at once (other instances do not get it, now or later). Publications that were waiting
//! for Redis are delivered locally too; those already written to Redis when the connection
//! broke are counted as dropped (they may have reached the other instances but not this
//! one): delivery is at most once, never twice. The threads reconnect with backoff (100 ms,
//! doubling, at most `redis_reconnect_max_delay`), subscribe every live topic again, and
//! delivery through Redis resumes. `/status` and `/metrics` show the state
//! ([`BridgeStats`]).

mod backoff;
mod bridge;
pub mod envelope;
mod publisher;
mod subscriber;

use super::{BridgeStats, Bus, LoopId, Publication};
use crate::config::Config;
use bridge::Bridge;
use bytes::Bytes;
use mio::Waker;
use std::io;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The channel prefix unless `--redis-prefix` says otherwise.
pub const DEFAULT_PREFIX: &str = "wsloop:";

/// What the bridge needs from the configuration.
#[derive(Debug, Clone)]
struct Settings {
    prefix: Vec<u8>,
    reconnect_max_delay: Duration,
    io_timeout: Duration,
    ping_interval: Duration,
    max_queued_bytes: usize,
    max_message_bytes: usize,
}

/// A [`Bus`] whose one order per topic is Redis' (see the module docs).
#[derive(Debug)]
pub struct RedisBus {
    bridge: Arc<Bridge>,
}

impl RedisBus {
    /// Bridge topics through the Redis at `url` (`redis://HOST:PORT[/DB]`, with
    /// `redis://:PASSWORD@HOST` or `redis://USER:PASSWORD@HOST` if it needs one), channels
    /// named `prefix` + topic, with `config`'s `redis_*` knobs. Fails only for a URL that
    /// does not parse; an unreachable Redis is retried in the background.
    pub fn start(url: &str, prefix: &str, config: &Config) -> io::Result<RedisBus> {
        let client = redis::Client::open(url).map_err(|err| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("--redis: {err}"))
        })?;
        let settings = Settings {
            prefix: prefix.as_bytes().to_vec(),
            reconnect_max_delay: config.redis_reconnect_max_delay,
            io_timeout: config.redis_io_timeout,
            ping_interval: config.redis_ping_interval,
            max_queued_bytes: config.redis_max_queued_bytes,
            max_message_bytes: config.max_message_bytes,
        };
        let bridge = Arc::new(Bridge::new(client, settings, wake_channel(prefix)));
        for (name, body) in [
            ("wsloop-redis-sub", subscriber::run as fn(Arc<Bridge>)),
            ("wsloop-redis-pub", publisher::run),
        ] {
            let bridge = bridge.clone();
            thread::Builder::new()
                .name(name.into())
                .spawn(move || body(bridge))?;
        }
        Ok(RedisBus { bridge })
    }
}

/// A channel no other process uses: the prefix, a NUL (so no topic name a client is likely
/// to pick), and this process' id and start time.
fn wake_channel(prefix: &str) -> Vec<u8> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("{prefix}\0wake:{}:{nanos}", std::process::id()).into_bytes()
}

impl Bus for RedisBus {
    fn join(&self, waker: Arc<Waker>) -> LoopId {
        self.bridge.local.join(waker)
    }

    fn leave(&self, id: LoopId) {
        for topic in self.bridge.local.leave_reporting(id) {
            self.bridge.interest_changed(topic, false);
        }
    }

    fn set_interest(&self, id: LoopId, topic: &Bytes, interested: bool) {
        if self.bridge.local.update_interest(id, topic, interested) {
            self.bridge.interest_changed(topic.clone(), interested);
        }
    }

    fn publish(&self, _from: LoopId, publication: Publication) {
        self.bridge.publish(publication);
    }

    fn take(&self, id: LoopId, into: &mut Vec<Publication>) {
        self.bridge.local.take(id, into);
    }

    fn bridge_stats(&self) -> Option<Arc<BridgeStats>> {
        Some(self.bridge.stats.clone())
    }
}

impl Drop for RedisBus {
    /// The bridge's threads end (the subscriber's within `redis_ping_interval`).
    fn drop(&mut self) {
        self.bridge.stop();
    }
}
