//! `/status`: the counters as one JSON object (the process-wide sums, the Redis bridge when
//! there is one, and a line per loop).

use std::fmt::Write;
use std::time::Instant;

use super::{LoopSummary, Stats, PHASES};
#[cfg(feature = "redis")]
use crate::topics::BridgeSnapshot;

impl Stats {
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

/// `"key":value` pairs; keys are protocol names (tokens) or numbers, never client data.
fn push_json_map(out: &mut String, entries: impl Iterator<Item = (String, u64)>) {
    for (index, (key, value)) in entries.enumerate() {
        let comma = if index == 0 { "" } else { "," };
        let _ = write!(out, "{comma}\"{key}\":{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use std::time::Instant;

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
}
