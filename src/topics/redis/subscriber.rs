//! The subscriber thread: one connection in `SUBSCRIBE` mode. It subscribes the channel of
//! every topic this process has a subscriber of (and its own wake channel), hands what Redis
//! delivers to the loops, applies interest changes when woken, pings Redis when it has been
//! silent for `redis_ping_interval`, and on any failure reconnects with backoff and
//! subscribes everything again.

use super::backoff::Backoff;
use super::bridge::{Bridge, Side};
use super::envelope;
use crate::log_text::{printable, Throttle};
use bytes::Bytes;
use log::warn;
use redis::{Msg, PubSub, RedisResult};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most channels named in one `SUBSCRIBE`.
const CHANNELS_PER_COMMAND: usize = 1024;

/// The thread's body: until the bus is gone.
pub(super) fn run(bridge: Arc<Bridge>) {
    let mut backoff = Backoff::new(bridge.settings.reconnect_max_delay);
    let mut refusals = Throttle::new(Duration::from_secs(1));
    while !bridge.stopping() {
        let error = match bridge
            .client
            .get_connection_with_timeout(bridge.settings.io_timeout)
        {
            Ok(mut connection) => {
                match serve(&bridge, &mut connection, &mut backoff, &mut refusals) {
                    Ok(()) => return,
                    Err(error) => error,
                }
            }
            Err(error) => error,
        };
        bridge.down(Side::Subscriber, &error);
        if !bridge.pause(backoff.next_delay()) {
            return;
        }
    }
}

/// One connection's life: subscribe everything, then read until it fails (`Err`) or the
/// bus is gone (`Ok`).
fn serve(
    bridge: &Bridge,
    connection: &mut redis::Connection,
    backoff: &mut Backoff,
    refusals: &mut Throttle,
) -> RedisResult<()> {
    connection.set_write_timeout(Some(bridge.settings.io_timeout))?;
    connection.set_read_timeout(Some(bridge.settings.ping_interval))?;
    let mut pubsub = connection.as_pubsub();
    pubsub.subscribe(&bridge.wake_channel)?;
    let mut subscribed = HashSet::new();
    // What changed before now is covered by subscribing to every live topic.
    let _ = bridge.take_changes();
    apply(
        bridge,
        &mut pubsub,
        &mut subscribed,
        bridge.local.interesting_topics(),
    )?;
    loop {
        let changes = bridge.take_changes();
        if changes.is_empty() {
            break;
        }
        apply(bridge, &mut pubsub, &mut subscribed, changes)?;
    }
    bridge.up(Side::Subscriber);
    backoff.reset();
    loop {
        if bridge.stopping() {
            return Ok(());
        }
        match pubsub.get_message() {
            Ok(message) => {
                if message.get_channel_name().as_bytes() == bridge.wake_channel.as_slice() {
                    let changes = bridge.take_changes();
                    apply(bridge, &mut pubsub, &mut subscribed, changes)?;
                } else {
                    deliver(bridge, &message, refusals);
                }
            }
            // Silent for ping_interval: make sure Redis is still there.
            Err(error) if error.is_timeout() => {
                pubsub.ping::<redis::Value>()?;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Bring the subscriptions of `topics` in line with this process' interest, then let what
/// was held for them go.
fn apply(
    bridge: &Bridge,
    pubsub: &mut PubSub<'_>,
    subscribed: &mut HashSet<Bytes>,
    mut topics: Vec<Bytes>,
) -> RedisResult<()> {
    topics.sort_unstable();
    topics.dedup();
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for topic in &topics {
        match (
            bridge.local.is_interested(topic),
            subscribed.contains(topic),
        ) {
            (true, false) => add.push(topic.clone()),
            (false, true) => remove.push(topic.clone()),
            _ => {}
        }
    }
    for chunk in add.chunks(CHANNELS_PER_COMMAND) {
        let channels: Vec<Vec<u8>> = chunk.iter().map(|t| bridge.channel(t)).collect();
        // Returns once Redis confirmed the first: it subscribes all of one command at once.
        pubsub.subscribe(channels)?;
        subscribed.extend(chunk.iter().cloned());
    }
    for chunk in remove.chunks(CHANNELS_PER_COMMAND) {
        let channels: Vec<Vec<u8>> = chunk.iter().map(|t| bridge.channel(t)).collect();
        pubsub.unsubscribe(channels)?;
        for topic in chunk {
            subscribed.remove(topic);
        }
    }
    bridge.release_held(&topics);
    Ok(())
}

/// Hand a message from Redis to every loop with a subscriber of its topic, or count it as
/// dropped if it is not a wsloop envelope.
fn deliver(bridge: &Bridge, message: &Msg, refusals: &mut Throttle) {
    let channel: Vec<u8> = message.get_channel().unwrap_or_default();
    let Some(topic) = channel.strip_prefix(bridge.settings.prefix.as_slice()) else {
        return;
    };
    let topic = Bytes::copy_from_slice(topic);
    let max = bridge.settings.max_message_bytes;
    match envelope::decode(topic, message.get_payload_bytes(), max) {
        Ok(publication) => {
            // Counted first: whoever has received the message sees it counted.
            bridge.stats.received();
            bridge.local.deliver(publication);
        }
        Err(refused) => {
            bridge.stats.dropped(1);
            if let Some(more) = refusals.allow(Instant::now()) {
                let name = printable(&String::from_utf8_lossy(&channel), 80);
                warn!(
                    "Redis bridge: dropped a message on {name}: {refused} \
                     ({more} more dropped since the last warning)"
                );
            }
        }
    }
}
