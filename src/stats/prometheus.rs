//! `/metrics`: the counters in the Prometheus text exposition format (version 0.0.4), with a
//! `loop="N"` series per loop and the Redis bridge's when there is one.

use std::fmt::Write;
use std::time::Instant;

use super::{LoopSummary, Stats, PHASES};
#[cfg(feature = "redis")]
use crate::topics::BridgeSnapshot;

impl Stats {
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

/// The `# HELP` and `# TYPE` lines of a metric.
fn metric(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::super::{assert_has_lines, sample};
    use std::time::{Duration, Instant};

    #[test]
    fn prometheus_has_types_and_labels() {
        let now = Instant::now();
        let stats = sample(now);
        let text = stats.to_prometheus(now, |_| "echo".into(), &[stats.summary()]);
        assert_has_lines(
            &text,
            &[
                "# TYPE wsloop_connections gauge",
                "wsloop_connections{phase=\"READING_HEAD\"} 1",
                "wsloop_websockets{protocol=\"echo\"} 0",
                "wsloop_messages_received_total 1",
                "wsloop_bytes_sent_total 5",
                "wsloop_tls_handshake_failures_total 0",
                "wsloop_closes_total{code=\"1000\"} 1",
                "wsloop_http_responses_total{status=\"200\"} 1",
            ],
        );
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
            assert_has_lines(&text, &[line]);
        }
    }
}
