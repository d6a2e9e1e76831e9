//! The publisher thread: one connection that sends what the loops published, as pipelines
//! of `PUBLISH` (everything waiting, up to a batch, in one write and one read of replies),
//! plus the wake message for the subscriber thread; it pings Redis after
//! `redis_ping_interval` without work, and on any failure reconnects with backoff.

use super::backoff::Backoff;
use super::bridge::{Bridge, Side, Work};
use super::envelope;
use std::sync::Arc;

/// The thread's body: until the bus is gone.
pub(super) fn run(bridge: Arc<Bridge>) {
    let mut backoff = Backoff::new(bridge.settings.reconnect_max_delay);
    let mut batch = Vec::new();
    while !bridge.stopping() {
        let error = match bridge
            .client
            .get_connection_with_timeout(bridge.settings.io_timeout)
        {
            Ok(mut connection) => match serve(&bridge, &mut connection, &mut backoff, &mut batch) {
                Ok(End::Stop) => return,
                Ok(End::Reconnect) => continue,
                Err(error) => error,
            },
            Err(error) => error,
        };
        bridge.down(Side::Publisher, &error);
        if !bridge.pause(backoff.next_delay()) {
            return;
        }
    }
}

/// Why a connection that did not fail was given up.
enum End {
    /// The bus is gone.
    Stop,
    /// The subscriber lost Redis: start again with a new connection.
    Reconnect,
}

/// One connection's life: send until it fails (`Err`) or is given up (`Ok`).
fn serve(
    bridge: &Bridge,
    connection: &mut redis::Connection,
    backoff: &mut Backoff,
    batch: &mut Vec<crate::topics::Publication>,
) -> redis::RedisResult<End> {
    connection.set_write_timeout(Some(bridge.settings.io_timeout))?;
    connection.set_read_timeout(Some(bridge.settings.io_timeout))?;
    bridge.up(Side::Publisher);
    backoff.reset();
    loop {
        batch.clear();
        let wake = match bridge.next_work(batch) {
            Work::Stop => return Ok(End::Stop),
            Work::Reconnect => return Ok(End::Reconnect),
            Work::Idle => {
                redis::cmd("PING").query::<()>(connection)?;
                continue;
            }
            Work::Send { wake } => wake,
        };
        let mut pipeline = redis::pipe();
        for publication in batch.iter() {
            pipeline
                .cmd("PUBLISH")
                .arg(bridge.channel(publication.topic()))
                .arg(envelope::encode(publication))
                .ignore();
        }
        if wake {
            pipeline
                .cmd("PUBLISH")
                .arg(&bridge.wake_channel)
                .arg("")
                .ignore();
        }
        if let Err(error) = pipeline.query::<()>(connection) {
            // Sent or not, this instance cannot tell: at most once, they count as dropped.
            bridge.stats.dropped(batch.len());
            return Err(error);
        }
        bridge.stats.sent(batch.len());
    }
}
