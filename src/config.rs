//! Every limit and timeout the server enforces: its name, its default, and what it bounds.
//!
//! The binary exposes each field as a `--flag` of the same name (underscores become dashes).

use std::time::Duration;

/// Limits and timeouts for one [`Server`](crate::Server).
///
/// Build it with [`Config::default`] and change what you need:
///
/// ```
/// let config = wsloop::Config {
///     max_message_bytes: 1 << 20,
///     ..wsloop::Config::default()
/// };
/// assert_eq!(config.max_head_bytes, 8 * 1024);
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest HTTP request head (request line + headers). Longer heads get `431`.
    pub max_head_bytes: usize,
    /// Most header lines in one request head. More get `431`.
    pub max_headers: usize,
    /// Largest WebSocket message, after reassembling fragments. Larger ones close with `1009`
    /// before they are buffered whole.
    pub max_message_bytes: usize,
    /// Largest single WebSocket frame payload. Larger frames close with `1009`, refused from
    /// the frame header, before any payload is buffered.
    pub max_frame_bytes: usize,
    /// Server-wide cap on bytes held in partially received WebSocket messages and frames,
    /// summed over all connections. A connection that needs more closes with `1009`, so many
    /// clients each sending most of a large message cannot exhaust memory.
    pub max_incoming_buffered_bytes: usize,
    /// Hard cap on a connection's outgoing queue. A send that would pass it fails with
    /// [`SendError::QueueFull`](crate::SendError::QueueFull) and the connection is closed with
    /// `1008`, so a client that never reads costs bounded memory.
    pub max_outgoing_bytes: usize,
    /// Soft limit on the outgoing queue: above it, `ServerWriteable` is held back and HTTP
    /// pipelining pauses until the peer reads.
    pub outgoing_soft_limit: usize,
    /// The server's one socket read buffer: the most bytes taken from a socket per read call.
    /// Connections hold only the bytes of an incomplete frame or head; idle ones hold none.
    pub read_buffer_bytes: usize,
    /// Most bytes read from one connection in one service pass, so one busy client cannot
    /// starve the rest; a connection with more to read is revisited on the next tick.
    pub read_budget_bytes: usize,
    /// Most connections accepted in one pass over the listening socket.
    pub accept_budget: usize,
    /// Most simultaneous connections. Beyond it, new connections are accepted and closed at once.
    pub max_connections: usize,
    /// Most `ServerHandle` requests waiting for the loop; beyond it a request is refused
    /// (returns false), so a thread that outpaces the loop cannot grow memory without bound.
    pub max_handle_requests: usize,
    /// Largest static file served from the www root (larger ones get `500`).
    pub max_static_file_bytes: u64,
    /// Static file content kept in memory (files larger than this are read on each request).
    pub static_cache_bytes: usize,
    /// How often a cached static file is compared with the disk (one `stat`).
    pub static_recheck_interval: Duration,
    /// Time allowed from connect (or from the end of the previous response) to a complete
    /// request head; then the connection is closed (with `408` if some bytes arrived).
    pub head_timeout: Duration,
    /// How long an idle keep-alive HTTP connection waits for its next request.
    pub keepalive_timeout: Duration,
    /// Dead-peer detection (libwebsockets' "validity"): after this long without hearing from
    /// an open WebSocket, send it a ping.
    pub ping_interval: Duration,
    /// After that ping, how long to wait for any traffic (the pong or anything else) before
    /// dropping the connection.
    pub pong_timeout: Duration,
    /// How long an HTTP response may make no progress (the client stopped reading) before the
    /// connection is dropped.
    pub send_timeout: Duration,
    /// How long to wait for the peer's reply to our close frame before dropping the connection.
    pub close_timeout: Duration,
    /// After SIGTERM/SIGINT: how long to let closes and queued output drain before exiting.
    pub shutdown_timeout: Duration,
    /// If not empty, WebSocket upgrades must carry one of these `Origin` values exactly
    /// (e.g. `https://example.com`); others get `403`. Empty allows any origin.
    pub allowed_origins: Vec<String>,
    /// Serve `/status` (JSON) and `/metrics` (Prometheus text) with connection counts,
    /// messages and bytes, closes by code and uptime. Off by default: they tell anyone who
    /// asks how busy the server is.
    pub status_endpoints: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_head_bytes: 8 * 1024,
            max_headers: 64,
            max_message_bytes: 16 << 20,
            max_frame_bytes: 16 << 20,
            max_incoming_buffered_bytes: 256 << 20,
            max_outgoing_bytes: (16 << 20) + (1 << 20),
            outgoing_soft_limit: 256 * 1024,
            read_buffer_bytes: 64 * 1024,
            read_budget_bytes: 256 * 1024,
            accept_budget: 64,
            max_connections: 10_000,
            max_handle_requests: 65_536,
            max_static_file_bytes: 64 << 20,
            static_cache_bytes: 16 << 20,
            static_recheck_interval: Duration::from_secs(1),
            head_timeout: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(15),
            ping_interval: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(5),
            allowed_origins: Vec::new(),
            status_endpoints: false,
        }
    }
}

impl Config {
    /// Check that the limits are consistent; the message names the offending knob.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("max_head_bytes", self.max_head_bytes),
            ("max_headers", self.max_headers),
            ("max_message_bytes", self.max_message_bytes),
            ("max_frame_bytes", self.max_frame_bytes),
            (
                "max_incoming_buffered_bytes",
                self.max_incoming_buffered_bytes,
            ),
            ("max_outgoing_bytes", self.max_outgoing_bytes),
            ("read_buffer_bytes", self.read_buffer_bytes),
            ("read_budget_bytes", self.read_budget_bytes),
            ("accept_budget", self.accept_budget),
            ("max_connections", self.max_connections),
            ("max_handle_requests", self.max_handle_requests),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(format!("{name} must be greater than 0"));
        }
        let timeouts = [
            ("head_timeout", self.head_timeout),
            ("keepalive_timeout", self.keepalive_timeout),
            ("ping_interval", self.ping_interval),
            ("pong_timeout", self.pong_timeout),
            ("send_timeout", self.send_timeout),
            ("close_timeout", self.close_timeout),
        ];
        if let Some((name, _)) = timeouts.iter().find(|(_, value)| value.is_zero()) {
            return Err(format!("{name} must be greater than 0"));
        }
        if self.outgoing_soft_limit > self.max_outgoing_bytes {
            return Err("outgoing_soft_limit must not exceed max_outgoing_bytes".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn zero_limits_are_named() {
        let config = Config {
            max_frame_bytes: 0,
            ..Config::default()
        };
        assert_eq!(
            config.validate(),
            Err("max_frame_bytes must be greater than 0".into())
        );
    }

    #[test]
    fn soft_limit_above_hard_limit_is_refused() {
        let config = Config {
            outgoing_soft_limit: 10,
            max_outgoing_bytes: 5,
            ..Config::default()
        };
        assert!(config.validate().is_err());
    }
}
