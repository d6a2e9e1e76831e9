//! The server's counters and their two renderings: `/status` (JSON) and `/metrics`
//! (Prometheus text format). Gauges are kept up to date on every phase change, so rendering
//! never scans the connections. Each loop counts alone; with several loops the counters
//! rendered are the sum of every loop's ([`Stats::add`]), followed by a short line per loop
//! ([`LoopSummary`]).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Instant;

use crate::phase_kind::PhaseKind;
#[cfg(feature = "redis")]
use crate::topics::{BridgeSnapshot, BridgeStats};
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

    /// `/status`: one JSON object. `protocol_name` maps protocol indexes to names; `loops`
    /// lists each loop (these counters are their sum).
    pub fn to_json(
        &self,
        now: Instant,
        protocol_name: impl Fn(usize) -> String,
        loops: &[LoopSummary],
    ) -> String {
        let mut out = format!(
            "{{\"uptime_seconds\":{},\"accepted\":{},\"tls_handshake_failures\":{},\
             \"incoming_buffered_bytes\":{},\"connections\":{{",
            now.duration_since(self.started).as_secs(),
            self.accepted,
            self.tls_handshake_failures,
            self.incoming_buffered
        );
        let phases = PHASES.iter().map(|phase| phase.name()).zip(self.phases);
        push_json_map(&mut out, phases.map(|(name, n)| (name.to_string(), n)));
        out += "},\"websockets\":{";
        let sessions = self.sessions.iter();
        push_json_map(&mut out, sessions.map(|(&p, &n)| (protocol_name(p), n)));
        let _ = write!(
            out,
            "}},\"received\":{{\"messages\":{},\"bytes\":{}}},\"sent\":{{\"messages\":{},\"bytes\":{}}},\"closes\":{{",
            self.received.messages, self.received.bytes, self.sent.messages, self.sent.bytes
        );
        push_json_map(
            &mut out,
            self.closes.iter().map(|(c, &n)| (c.to_string(), n)),
        );
        out += "},\"http_responses\":{";
        push_json_map(
            &mut out,
            self.responses.iter().map(|(s, &n)| (s.to_string(), n)),
        );
        let _ = write!(
            out,
            "}},\"slow_subscribers_closed\":{}",
            self.slow_subscribers
        );
        #[cfg(feature = "redis")]
        if let Some(bridge) = &self.bridge {
            push_bridge_json(&mut out, bridge.snapshot());
        }
        out += ",\"loops\":[";
        for (index, summary) in loops.iter().enumerate() {
            let comma = if index == 0 { "" } else { "," };
            let _ = write!(
                out,
                "{comma}{{\"connections\":{},\"websockets\":{},\"accepted\":{}}}",
                summary.connections, summary.websockets, summary.accepted
            );
        }
        out += "]}\n";
        out
    }

    /// `/metrics`: Prometheus text exposition format; `loops` as in [`Stats::to_json`].
    pub fn to_prometheus(
        &self,
        now: Instant,
        protocol_name: impl Fn(usize) -> String,
        loops: &[LoopSummary],
    ) -> String {
        let mut out = String::new();
        let uptime = now.duration_since(self.started);
        metric(
            &mut out,
            "wsloop_uptime_seconds",
            "gauge",
            "Seconds since start.",
        );
        // Integer arithmetic, not `{:.3}` of an f64: no float formatting in the binary.
        let (seconds, millis) = (uptime.as_secs(), uptime.subsec_millis());
        let _ = writeln!(out, "wsloop_uptime_seconds {seconds}.{millis:03}");
        metric(
            &mut out,
            "wsloop_accepted_total",
            "counter",
            "Connections accepted.",
        );
        let _ = writeln!(out, "wsloop_accepted_total {}", self.accepted);
        metric(
            &mut out,
            "wsloop_tls_handshake_failures_total",
            "counter",
            "TLS connections that ended before their handshake completed.",
        );
        let _ = writeln!(
            out,
            "wsloop_tls_handshake_failures_total {}",
            self.tls_handshake_failures
        );
        metric(
            &mut out,
            "wsloop_incoming_buffered_bytes",
            "gauge",
            "Bytes held in partial incoming WebSocket frames and messages.",
        );
        let _ = writeln!(
            out,
            "wsloop_incoming_buffered_bytes {}",
            self.incoming_buffered
        );
        metric(
            &mut out,
            "wsloop_connections",
            "gauge",
            "Connections by phase.",
        );
        for (name, count) in PHASES.iter().map(|phase| phase.name()).zip(self.phases) {
            let _ = writeln!(out, "wsloop_connections{{phase=\"{name}\"}} {count}");
        }
        metric(
            &mut out,
            "wsloop_websockets",
            "gauge",
            "WebSocket sessions by protocol.",
        );
        for (&protocol, count) in &self.sessions {
            let name = protocol_name(protocol);
            let _ = writeln!(out, "wsloop_websockets{{protocol=\"{name}\"}} {count}");
        }
        for (direction, traffic) in [("received", self.received), ("sent", self.sent)] {
            let help = format!("WebSocket messages {direction}.");
            metric(
                &mut out,
                &format!("wsloop_messages_{direction}_total"),
                "counter",
                &help,
            );
            let _ = writeln!(
                out,
                "wsloop_messages_{direction}_total {}",
                traffic.messages
            );
            let help = format!("WebSocket payload bytes {direction}.");
            metric(
                &mut out,
                &format!("wsloop_bytes_{direction}_total"),
                "counter",
                &help,
            );
            let _ = writeln!(out, "wsloop_bytes_{direction}_total {}", traffic.bytes);
        }
        metric(
            &mut out,
            "wsloop_closes_total",
            "counter",
            "WebSockets closed, by code.",
        );
        for (code, count) in &self.closes {
            let _ = writeln!(out, "wsloop_closes_total{{code=\"{code}\"}} {count}");
        }
        metric(
            &mut out,
            "wsloop_slow_subscribers_closed_total",
            "counter",
            "Subscribers closed with 1008 for passing max_subscriber_backlog.",
        );
        let _ = writeln!(
            out,
            "wsloop_slow_subscribers_closed_total {}",
            self.slow_subscribers
        );
        metric(
            &mut out,
            "wsloop_http_responses_total",
            "counter",
            "HTTP responses, by status.",
        );
        for (status, count) in &self.responses {
            let _ = writeln!(
                out,
                "wsloop_http_responses_total{{status=\"{status}\"}} {count}"
            );
        }
        push_loop_metrics(&mut out, loops);
        #[cfg(feature = "redis")]
        if let Some(bridge) = &self.bridge {
            push_bridge_metrics(&mut out, bridge.snapshot());
        }
        out
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

/// One per-loop series: name, type, help, and its value in a loop's summary.
type LoopSeries = (
    &'static str,
    &'static str,
    &'static str,
    fn(&LoopSummary) -> u64,
);

/// The per-loop gauges and counter, labelled `loop="0"`, `loop="1"`, ...
fn push_loop_metrics(out: &mut String, loops: &[LoopSummary]) {
    let series: [LoopSeries; 3] = [
        (
            "wsloop_loop_connections",
            "gauge",
            "Connections by event loop.",
            |l| l.connections,
        ),
        (
            "wsloop_loop_websockets",
            "gauge",
            "WebSocket sessions by event loop.",
            |l| l.websockets,
        ),
        (
            "wsloop_loop_accepted_total",
            "counter",
            "Connections accepted, by event loop.",
            |l| l.accepted,
        ),
    ];
    for (name, kind, help, value) in series {
        metric(out, name, kind, help);
        for (index, summary) in loops.iter().enumerate() {
            let _ = writeln!(out, "{name}{{loop=\"{index}\"}} {}", value(summary));
        }
    }
}

/// `,"redis":{...}`: the bridge's state in `/status`.
#[cfg(feature = "redis")]
fn push_bridge_json(out: &mut String, bridge: BridgeSnapshot) {
    let _ = write!(
        out,
        ",\"redis\":{{\"connected\":{},\"reconnects\":{},\"messages_in\":{},\
         \"messages_out\":{},\"local_only\":{},\"dropped\":{}}}",
        bridge.connected,
        bridge.reconnects,
        bridge.messages_in,
        bridge.messages_out,
        bridge.local_only,
        bridge.dropped
    );
}

/// The bridge's state in `/metrics`.
#[cfg(feature = "redis")]
fn push_bridge_metrics(out: &mut String, bridge: BridgeSnapshot) {
    let rows = [
        (
            "wsloop_redis_connected",
            "gauge",
            "1 while topics go through Redis, 0 while delivered locally.",
            u64::from(bridge.connected),
        ),
        (
            "wsloop_redis_reconnects_total",
            "counter",
            "Times the Redis bridge came back after losing Redis.",
            bridge.reconnects,
        ),
        (
            "wsloop_redis_messages_in_total",
            "counter",
            "Messages received from Redis.",
            bridge.messages_in,
        ),
        (
            "wsloop_redis_messages_out_total",
            "counter",
            "Messages published to Redis.",
            bridge.messages_out,
        ),
        (
            "wsloop_redis_local_only_total",
            "counter",
            "Publications delivered on this instance only, Redis being unreachable.",
            bridge.local_only,
        ),
        (
            "wsloop_redis_dropped_total",
            "counter",
            "Messages lost: queue full, a failed send, or not a valid envelope.",
            bridge.dropped,
        ),
    ];
    for (name, kind, help, value) in rows {
        metric(out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    }
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `"key":value` pairs; keys are protocol names (tokens) or numbers, never client data.
fn push_json_map(out: &mut String, entries: impl Iterator<Item = (String, u64)>) {
    for (index, (key, value)) in entries.enumerate() {
        let comma = if index == 0 { "" } else { "," };
        let _ = write!(out, "{comma}\"{key}\":{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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

    #[test]
    fn json_names_every_counter() {
        let now = Instant::now();
        let stats = sample(now);
        let json = stats.to_json(now, |_| "echo".into(), &[stats.summary()]);
        assert_eq!(
            json,
            "{\"uptime_seconds\":0,\"accepted\":3,\"tls_handshake_failures\":0,\
             \"incoming_buffered_bytes\":0,\
             \"connections\":{\"READING_HEAD\":1,\"READING_BODY\":0,\
             \"SERVING_FILE\":0,\"OPEN\":0,\"CLOSING\":0},\"websockets\":{\"echo\":0},\
             \"received\":{\"messages\":1,\"bytes\":5},\"sent\":{\"messages\":1,\"bytes\":5},\
             \"closes\":{\"1000\":1},\"http_responses\":{\"200\":1},\
             \"slow_subscribers_closed\":0,\
             \"loops\":[{\"connections\":1,\"websockets\":0,\"accepted\":3}]}\n"
        );
    }

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
        for line in [
            "wsloop_redis_connected 1",
            "wsloop_redis_messages_out_total 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
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
        for line in [
            "wsloop_accepted_total 6",
            "wsloop_loop_connections{loop=\"0\"} 1",
            "wsloop_loop_connections{loop=\"1\"} 1",
            "wsloop_loop_accepted_total{loop=\"1\"} 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn prometheus_has_types_and_labels() {
        let now = Instant::now();
        let stats = sample(now);
        let text = stats.to_prometheus(now, |_| "echo".into(), &[stats.summary()]);
        for line in [
            "# TYPE wsloop_connections gauge",
            "wsloop_connections{phase=\"READING_HEAD\"} 1",
            "wsloop_websockets{protocol=\"echo\"} 0",
            "wsloop_messages_received_total 1",
            "wsloop_bytes_sent_total 5",
            "wsloop_tls_handshake_failures_total 0",
            "wsloop_closes_total{code=\"1000\"} 1",
            "wsloop_http_responses_total{status=\"200\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn uptime_has_millisecond_digits() {
        let start = Instant::now();
        let stats = sample(start);
        for (elapsed, line) in [
            (Duration::ZERO, "wsloop_uptime_seconds 0.000"),
            (
                Duration::from_micros(62_005_999),
                "wsloop_uptime_seconds 62.005",
            ),
            (
                Duration::from_millis(90_061_040),
                "wsloop_uptime_seconds 90061.040",
            ),
        ] {
            let text = stats.to_prometheus(start + elapsed, |_| "echo".into(), &[stats.summary()]);
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
