//! What the bridge's two threads and the loops share: whether Redis is reachable, the
//! publications waiting to be sent (and those held until their topic's `SUBSCRIBE` is
//! confirmed), the topics whose interest changed, and the fallback to local delivery.
//!
//! One mutex guards it; nothing here does I/O, so a loop holds it only to append to a queue.
//! Lock order: this mutex, then the `LocalBus`'s (never the other way round).

use super::Settings;
use crate::log_text::Throttle;
use crate::topics::{BridgeStats, LocalBus, Publication};
use bytes::Bytes;
use log::{debug, info, warn};
use std::collections::{HashMap, VecDeque};
use std::fmt::Display;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Most publications sent to Redis in one pipeline.
const MAX_BATCH: usize = 1024;

/// One of the bridge's two connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The connection in `SUBSCRIBE` mode, read by the subscriber thread.
    Subscriber,
    /// The connection that sends `PUBLISH`es, written by the publisher thread.
    Publisher,
}

/// What the publisher thread is to do next.
pub(super) enum Work {
    /// Send these (and, if `wake`, wake the subscriber thread).
    Send { wake: bool },
    /// Nothing for `ping_interval`: check the connection.
    Idle,
    /// The subscriber lost Redis: this connection is likely dead too (a write into it
    /// would succeed and the reply never come), so make a new one before sending.
    Reconnect,
    /// The bus is gone.
    Stop,
}

#[derive(Debug)]
struct State {
    subscriber_up: bool,
    publisher_up: bool,
    /// Publications for the publisher thread, in the order they are to reach Redis.
    outbox: VecDeque<Publication>,
    /// Publications to topics whose `SUBSCRIBE` is not confirmed yet: sending them before
    /// would lose them for this instance's own subscribers.
    held: HashMap<Bytes, Vec<Publication>>,
    /// Payload bytes in `outbox` and `held`.
    queued_bytes: usize,
    /// Topics whose process-wide interest changed since the subscriber thread last looked.
    changed: Vec<Bytes>,
    /// The subscriber thread is to be woken (a `PUBLISH` to its wake channel).
    wake_wanted: bool,
    /// The publisher thread is to make a new connection (see [`Work::Reconnect`]).
    publisher_reset: bool,
    stopping: bool,
    ever_connected: bool,
    /// The current outage was logged.
    outage_logged: bool,
    drop_log: Throttle,
}

impl State {
    fn connected(&self) -> bool {
        self.subscriber_up && self.publisher_up
    }
}

/// The shared part of a Redis bus (see the module docs).
#[derive(Debug)]
pub(super) struct Bridge {
    pub client: redis::Client,
    pub settings: Settings,
    /// The loops of this process: what Redis delivers, and the fallback, goes through it.
    pub local: LocalBus,
    pub stats: Arc<BridgeStats>,
    /// A channel only this process subscribes to; a message on it means "look at
    /// `changed`" (the subscriber thread is blocked reading its connection).
    pub wake_channel: Vec<u8>,
    state: Mutex<State>,
    wakeup: Condvar,
}

impl Bridge {
    pub fn new(client: redis::Client, settings: Settings, wake_channel: Vec<u8>) -> Self {
        Bridge {
            client,
            settings,
            local: LocalBus::new(),
            stats: Arc::default(),
            wake_channel,
            state: Mutex::new(State {
                subscriber_up: false,
                publisher_up: false,
                outbox: VecDeque::new(),
                held: HashMap::new(),
                queued_bytes: 0,
                changed: Vec::new(),
                wake_wanted: false,
                publisher_reset: false,
                stopping: false,
                ever_connected: false,
                outage_logged: false,
                drop_log: Throttle::new(Duration::from_secs(1)),
            }),
            wakeup: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The Redis channel of `topic`.
    pub fn channel(&self, topic: &[u8]) -> Vec<u8> {
        [self.settings.prefix.as_slice(), topic].concat()
    }

    /// Where Redis is, for log lines (never the URL: it may hold a password).
    pub fn address(&self) -> String {
        self.client.get_connection_info().addr().to_string()
    }

    /// A loop published: to Redis when it is reachable, else to this process' loops now.
    pub fn publish(&self, publication: Publication) {
        let mut state = self.state();
        if !state.connected() {
            self.local.deliver(publication);
            self.stats.delivered_locally();
            return;
        }
        let len = publication.payload_len();
        if state.queued_bytes + len > self.settings.max_queued_bytes {
            self.stats.dropped(1);
            if let Some(more) = state.drop_log.allow(Instant::now()) {
                warn!(
                    "Redis bridge: more than redis_max_queued_bytes ({}) waiting for Redis; \
                     dropping publications ({more} more since the last warning)",
                    self.settings.max_queued_bytes
                );
            }
            return;
        }
        state.queued_bytes += len;
        match state.held.get_mut(publication.topic()) {
            Some(held) => held.push(publication),
            None => {
                state.outbox.push_back(publication);
                self.wakeup.notify_all();
            }
        }
    }

    /// `topic` gained its first (`interested`) or lost its last subscriber in this process.
    pub fn interest_changed(&self, topic: Bytes, interested: bool) {
        let mut state = self.state();
        if interested && state.connected() {
            state.held.entry(topic.clone()).or_default();
        }
        state.changed.push(topic);
        if state.subscriber_up && !state.wake_wanted {
            state.wake_wanted = true;
            self.wakeup.notify_all();
        }
    }

    /// The topics whose interest changed since the last call (subscriber thread).
    pub fn take_changes(&self) -> Vec<Bytes> {
        std::mem::take(&mut self.state().changed)
    }

    /// `topics` are subscribed (or unsubscribed) as they should be: what was held for them
    /// goes to Redis now.
    pub fn release_held(&self, topics: &[Bytes]) {
        let mut state = self.state();
        for topic in topics {
            if let Some(held) = state.held.remove(topic) {
                state.outbox.extend(held);
            }
        }
        if !state.outbox.is_empty() {
            self.wakeup.notify_all();
        }
    }

    /// Wait for the publisher thread's next work; publications to send are appended to
    /// `batch`.
    pub fn next_work(&self, batch: &mut Vec<Publication>) -> Work {
        let state = self.state();
        let (mut state, timeout) = self
            .wakeup
            .wait_timeout_while(state, self.settings.ping_interval, |state| {
                !state.stopping
                    && !state.publisher_reset
                    && state.outbox.is_empty()
                    && !state.wake_wanted
            })
            .unwrap_or_else(PoisonError::into_inner);
        if state.stopping {
            return Work::Stop;
        }
        if std::mem::take(&mut state.publisher_reset) {
            return Work::Reconnect;
        }
        if timeout.timed_out() {
            return Work::Idle;
        }
        let take = state.outbox.len().min(MAX_BATCH);
        batch.extend(state.outbox.drain(..take));
        state.queued_bytes -= batch.iter().map(Publication::payload_len).sum::<usize>();
        Work::Send {
            wake: std::mem::take(&mut state.wake_wanted),
        }
    }

    /// Wait `delay` before the next attempt to connect; false if the bus is gone meanwhile.
    pub fn pause(&self, delay: Duration) -> bool {
        let state = self.state();
        let (state, _) = self
            .wakeup
            .wait_timeout_while(state, delay, |state| !state.stopping)
            .unwrap_or_else(PoisonError::into_inner);
        !state.stopping
    }

    pub fn stopping(&self) -> bool {
        self.state().stopping
    }

    /// The bus is gone: both threads end.
    pub fn stop(&self) {
        self.state().stopping = true;
        self.wakeup.notify_all();
    }

    /// `side`'s connection is up (the subscriber's with every live topic subscribed).
    pub fn up(&self, side: Side) {
        let mut state = self.state();
        let was_connected = state.connected();
        match side {
            Side::Subscriber => state.subscriber_up = true,
            Side::Publisher => state.publisher_up = true,
        }
        if was_connected || !state.connected() {
            return;
        }
        // Topics the subscriber thread has yet to subscribe: hold their publications.
        let pending = state.changed.clone();
        for topic in pending {
            if self.local.is_interested(&topic) {
                state.held.entry(topic).or_default();
            }
        }
        if !state.changed.is_empty() {
            state.wake_wanted = true;
            self.wakeup.notify_all();
        }
        self.stats.set_connected(true);
        if state.ever_connected {
            self.stats.reconnected();
            info!(
                "Redis bridge: reconnected to {}; topics go through Redis again",
                self.address()
            );
        } else {
            info!("Redis bridge: connected to {}", self.address());
        }
        state.ever_connected = true;
        state.outage_logged = false;
    }

    /// `side`'s connection failed or could not be made. Losing Redis is logged once per
    /// outage; from then on each publication is delivered in this process only, and what
    /// was waiting for Redis is delivered here now (once: none of it was sent).
    pub fn down(&self, side: Side, error: &dyn Display) {
        let mut state = self.state();
        let was_connected = state.connected();
        match side {
            Side::Subscriber => {
                state.subscriber_up = false;
                // Nobody reads the wake channel until the thread subscribes again.
                state.wake_wanted = false;
                if state.publisher_up {
                    state.publisher_up = false;
                    state.publisher_reset = true;
                    self.wakeup.notify_all();
                }
            }
            Side::Publisher => state.publisher_up = false,
        }
        if was_connected {
            self.stats.set_connected(false);
            self.deliver_waiting_locally(&mut state);
            warn!(
                "Redis bridge: lost Redis at {} ({error}); until it is back, publications \
                 reach this instance's subscribers only; reconnecting",
                self.address()
            );
            state.outage_logged = true;
        } else if !state.outage_logged {
            warn!(
                "Redis bridge: cannot reach Redis at {} ({error}); publications reach this \
                 instance's subscribers only until it can; retrying",
                self.address()
            );
            state.outage_logged = true;
        } else {
            debug!(
                "Redis bridge: {side:?} connection to {}: {error}",
                self.address()
            );
        }
    }

    fn deliver_waiting_locally(&self, state: &mut State) {
        let held = std::mem::take(&mut state.held);
        let waiting = state.outbox.drain(..).chain(held.into_values().flatten());
        for publication in waiting {
            self.local.deliver(publication);
            self.stats.delivered_locally();
        }
        state.queued_bytes = 0;
    }
}
