//! The server's counters; their two renderings are `json` (`/status`) and `prometheus`
//! (`/metrics`). Gauges are kept up to date on every phase change, so rendering
//! never scans the connections. Each loop counts alone; with several loops the counters
//! rendered are the sum of every loop's ([`Stats::add`]), followed by a short line per loop
//! ([`LoopSummary`]).

mod json;
mod prometheus;

use std::collections::BTreeMap;
use std::time::Instant;

use crate::phase_kind::PhaseKind;
#[cfg(feature = "redis")]
use crate::topics::BridgeStats;
#[cfg(feature = "redis")]
use std::sync::Arc;

/// Phases as the status endpoints list them.
const PHASES: [PhaseKind; PhaseKind::LIVE.len()] = PhaseKind::LIVE;

/// Messages and their payload bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Traffic {
    pub messages: u64,
    pub bytes: u64,
}

impl Traffic {
    pub fn count(&mut self, bytes: usize) {
        self.messages += 1;
        self.bytes += bytes as u64;
    }

    /// A fragment of a streamed message; the message counts once, with its last fragment.
    pub fn count_fragment(&mut self, bytes: usize, last: bool) {
        self.messages += u64::from(last);
        self.bytes += bytes as u64;
    }
}

/// One loop's counters. A field added here is summed over the loops in [`Stats::add`].
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    started: Instant,
    /// Connections in each phase of [`PHASES`].
    phases: [u64; PHASES.len()],
    /// WebSocket sessions (open or closing) by protocol index.
    sessions: BTreeMap<usize, u64>,
    pub accepted: u64,
    /// TLS connections that ended before their handshake completed (a TLS error, a peer that
    /// left, or the head timeout).
    pub tls_handshake_failures: u64,
    /// Bytes all connections hold in partial incoming frames and messages (what
    /// `max_incoming_buffered_bytes` caps).
    pub incoming_buffered: usize,
    pub received: Traffic,
    pub sent: Traffic,
    /// Finished WebSockets by close code (1006: no close handshake).
    closes: BTreeMap<u16, u64>,
    /// HTTP responses by status.
    responses: BTreeMap<u16, u64>,
    /// Subscribers closed for passing `max_subscriber_backlog`.
    pub slow_subscribers: u64,
    /// The Redis bridge's counters, when topics go through one (shared by every loop).
    #[cfg(feature = "redis")]
    pub bridge: Option<Arc<BridgeStats>>,
}

impl Stats {
    pub fn new(now: Instant) -> Self {
        Stats {
            started: now,
            phases: [0; PHASES.len()],
            sessions: BTreeMap::new(),
            accepted: 0,
            tls_handshake_failures: 0,
            incoming_buffered: 0,
            received: Traffic::default(),
            sent: Traffic::default(),
            closes: BTreeMap::new(),
            responses: BTreeMap::new(),
            slow_subscribers: 0,
            #[cfg(feature = "redis")]
            bridge: None,
        }
    }

    /// Add another loop's counters to these (the process-wide view); uptime is the oldest.
    pub fn add(&mut self, other: &Stats) {
        self.started = self.started.min(other.started);
        for (mine, theirs) in self.phases.iter_mut().zip(other.phases) {
            *mine += theirs;
        }
        add_map(&mut self.sessions, &other.sessions);
        self.accepted += other.accepted;
        self.tls_handshake_failures += other.tls_handshake_failures;
        self.incoming_buffered += other.incoming_buffered;
        self.received.add(other.received);
        self.sent.add(other.sent);
        add_map(&mut self.closes, &other.closes);
        add_map(&mut self.responses, &other.responses);
        self.slow_subscribers += other.slow_subscribers;
    }

    /// What `/status` shows of this loop alone.
    pub fn summary(&self) -> LoopSummary {
        LoopSummary {
            connections: self.phases.iter().sum(),
            websockets: self.sessions.values().sum(),
            accepted: self.accepted,
        }
    }

    /// A connection moved from phase `from` to phase `to` (either may be "GONE" or new).
    pub fn phase_changed(&mut self, from: Option<PhaseKind>, to: PhaseKind) {
        if let Some(index) = from.and_then(|from| PHASES.iter().position(|p| *p == from)) {
            self.phases[index] = self.phases[index].saturating_sub(1);
        }
        if let Some(index) = PHASES.iter().position(|p| *p == to) {
            self.phases[index] += 1;
        }
    }

    pub fn session_opened(&mut self, protocol: usize) {
        *self.sessions.entry(protocol).or_default() += 1;
    }

    pub fn session_closed(&mut self, protocol: usize, code: u16) {
        if let Some(count) = self.sessions.get_mut(&protocol) {
            *count = count.saturating_sub(1);
        }
        *self.closes.entry(code).or_default() += 1;
    }

    pub fn responded(&mut self, status: u16) {
        *self.responses.entry(status).or_default() += 1;
    }
}

/// One loop's line in `/status` and `/metrics` (how connections spread over the loops).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LoopSummary {
    /// Open connections of every phase.
    pub connections: u64,
    /// WebSocket sessions (open or closing).
    pub websockets: u64,
    pub accepted: u64,
}

impl Traffic {
    /// Count `other`'s messages and bytes too.
    pub fn add(&mut self, other: Traffic) {
        self.messages += other.messages;
        self.bytes += other.bytes;
    }
}

fn add_map<K: Ord + Copy>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (&key, &count) in from {
        *into.entry(key).or_default() += count;
    }
}

/// A loop that accepted three connections, served one HTTP response and one WebSocket
/// (one message each way, closed with 1000), and still reads one head.
#[cfg(test)]
fn sample(now: Instant) -> Stats {
    let mut stats = Stats::new(now);
    stats.accepted = 3;
    stats.phase_changed(None, PhaseKind::ReadingHead);
    stats.phase_changed(None, PhaseKind::ReadingHead);
    stats.phase_changed(Some(PhaseKind::ReadingHead), PhaseKind::Open);
    stats.session_opened(1);
    stats.received.count(5);
    stats.sent.count(5);
    stats.responded(200);
    stats.session_closed(1, 1000);
    stats.phase_changed(Some(PhaseKind::Open), PhaseKind::Gone);
    stats
}

/// Panics unless each of `lines` is a whole line of `text` (a metrics exposition).
#[cfg(test)]
fn assert_has_lines(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            text.lines().any(|l| l == *line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "redis")]
    #[test]
    fn the_bridge_shows_in_both_when_there_is_one() {
        let now = Instant::now();
        let mut stats = sample(now);
        assert!(!stats
            .to_json(now, |_| "echo".into(), &[stats.summary()])
            .contains("redis"));
        let bridge = Arc::new(BridgeStats::default());
        bridge.set_connected(true);
        bridge.sent(3);
        stats.bridge = Some(bridge);
        let json = stats.to_json(now, |_| "echo".into(), &[stats.summary()]);
        assert!(
            json.contains(
                "\"slow_subscribers_closed\":0,\"redis\":{\"connected\":true,\"reconnects\":0,\
             \"messages_in\":0,\"messages_out\":3,\"local_only\":0,\"dropped\":0},\"loops\":["
            ),
            "{json}"
        );
        let text = stats.to_prometheus(now, |_| "echo".into(), &[stats.summary()]);
        assert_has_lines(
            &text,
            &[
                "wsloop_redis_connected 1",
                "wsloop_redis_messages_out_total 3",
            ],
        );
    }

    #[test]
    fn loops_add_up() {
        let now = Instant::now();
        let (a, b) = (sample(now), sample(now));
        let mut total = a.clone();
        total.add(&b);
        let loops = [a.summary(), b.summary()];
        let json = total.to_json(now, |_| "echo".into(), &loops);
        assert!(json.contains("\"accepted\":6,"), "{json}");
        assert!(json.contains("\"READING_HEAD\":2,"), "{json}");
        assert!(json.contains("\"closes\":{\"1000\":2}"), "{json}");
        assert!(
            json.contains("\"received\":{\"messages\":2,\"bytes\":10}"),
            "{json}"
        );
        let text = total.to_prometheus(now, |_| "echo".into(), &loops);
        assert_has_lines(
            &text,
            &[
                "wsloop_accepted_total 6",
                "wsloop_loop_connections{loop=\"0\"} 1",
                "wsloop_loop_connections{loop=\"1\"} 1",
                "wsloop_loop_accepted_total{loop=\"1\"} 3",
            ],
        );
    }
}
