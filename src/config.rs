//! Every limit and timeout the server enforces: its name, its default, and what it bounds.
//!
//! The binary exposes each field as a `--flag` of the same name (underscores become dashes).

use crate::http::bearer::BearerToken;
use std::time::Duration;

/// Declares [`Config`] from one list: each field with its doc, type, default and setter, so
/// a new limit is one entry (and, being `#[non_exhaustive]`, not a breaking change).
macro_rules! config {
    ($(
        $(#[cfg($cfg:meta)])?
        $(#[doc = $doc:literal])*
        $field:ident: $ty:ty = $default:expr, $setter:ident;
    )*) => {
        /// Limits and timeouts for one [`Server`](crate::Server).
        ///
        /// Start from [`Config::default`] and change what you need with the `with_*` setters
        /// (one per field); the fields are public for reading:
        ///
        /// ```
        /// use std::time::Duration;
        ///
        /// let config = wsloop::Config::default()
        ///     .with_max_message_bytes(1 << 20)
        ///     .with_head_timeout(Duration::from_secs(2));
        /// assert_eq!(config.max_message_bytes, 1 << 20);
        /// assert_eq!(config.max_head_bytes, 8 * 1024);
        /// ```
        ///
        /// [`Config::validate`] (run by `Server::bind`) checks the values.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub struct Config {
            $(
                $(#[cfg($cfg)])?
                $(#[doc = $doc])*
                pub $field: $ty,
            )*
        }

        impl Default for Config {
            fn default() -> Self {
                Config {
                    $($(#[cfg($cfg)])? $field: $default,)*
                }
            }
        }

        impl Config {
            /// Every field within its type's [`Bounded`] range, or why not.
            fn check_bounds(&self) -> Result<(), String> {
                $(
                    $(#[cfg($cfg)])?
                    Bounded::check_bound(&self.$field)
                        .map_err(|bound| format!("{} must be {bound}", stringify!($field)))?;
                )*
                Ok(())
            }

            $(
                $(#[cfg($cfg)])?
                #[doc = concat!(
                    "Set [`", stringify!($field), "`](Config::", stringify!($field), ")."
                )]
                #[must_use]
                pub fn $setter(mut self, value: $ty) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

config! {
    /// Largest HTTP request head (request line + headers). Longer heads get `431`.
    max_head_bytes: usize = 8 * 1024, with_max_head_bytes;
    /// Most header lines in one request head. More get `431`.
    max_headers: usize = 64, with_max_headers;
    /// Largest WebSocket message, after reassembling fragments. Larger ones close with `1009`
    /// before they are buffered whole.
    max_message_bytes: usize = 16 << 20, with_max_message_bytes;
    /// Largest single WebSocket frame payload. Larger frames close with `1009`, refused from
    /// the frame header, before any payload is buffered.
    max_frame_bytes: usize = 16 << 20, with_max_frame_bytes;
    /// Server-wide cap on bytes held in partially received WebSocket messages and frames,
    /// summed over all connections. A connection that needs more closes with `1009`, so many
    /// clients each sending most of a large message cannot exhaust memory.
    max_incoming_buffered_bytes: usize = 256 << 20, with_max_incoming_buffered_bytes;
    /// Hard cap on a connection's outgoing queue. A send that would pass it fails with
    /// [`SendError::QueueFull`](crate::SendError::QueueFull) and the connection is closed with
    /// `1008`, so a client that never reads costs bounded memory.
    max_outgoing_bytes: usize = (16 << 20) + (1 << 20), with_max_outgoing_bytes;
    /// Soft limit on the outgoing queue: above it, `ServerWriteable` is held back and HTTP
    /// pipelining pauses until the peer reads.
    outgoing_soft_limit: usize = 256 * 1024, with_outgoing_soft_limit;
    /// The server's one socket read buffer: the most bytes taken from a socket per read call.
    /// Connections hold only the bytes of an incomplete frame or head; idle ones hold none.
    /// Also the most bytes of a large static file read per pass of its response.
    read_buffer_bytes: usize = 64 * 1024, with_read_buffer_bytes;
    /// Most bytes read from one connection in one service pass, so one busy client cannot
    /// starve the rest; a connection with more to read is revisited on the next tick.
    read_budget_bytes: usize = 256 * 1024, with_read_budget_bytes;
    /// Most connections accepted in one pass over the listening socket.
    accept_budget: usize = 64, with_accept_budget;
    /// Most simultaneous connections. Beyond it, new connections are accepted and closed at once.
    max_connections: usize = 10_000, with_max_connections;
    /// Most `ServerHandle` requests waiting for the loop; beyond it a request is refused
    /// ([`HandleError::QueueFull`](crate::HandleError::QueueFull)), so a thread that outpaces
    /// the loop cannot grow memory without bound.
    max_handle_requests: usize = 65_536, with_max_handle_requests;
    /// Largest static file served from the www root (larger ones get `500`).
    max_static_file_bytes: u64 = 64 << 20, with_max_static_file_bytes;
    /// Static file content kept in memory. A file that does not fit is opened for each
    /// request and sent from disk as the socket drains, one `read_buffer_bytes` chunk per
    /// pass, never read whole.
    static_cache_bytes: usize = 16 << 20, with_static_cache_bytes;
    /// How often a cached static file is compared with the disk (one `stat`).
    static_recheck_interval: Duration = Duration::from_secs(1), with_static_recheck_interval;
    /// The `Cache-Control` value of static file responses (`200`, `206`, `304`); empty sends
    /// none. The default, `no-cache`, lets browsers keep files but revalidate them on each
    /// use (a `304` when unchanged): right for a server whose files change under it.
    cache_control: String = "no-cache".into(), with_cache_control;
    /// Time allowed from connect (or from the end of the previous response) to a complete
    /// request head; then the connection is closed (with `408` if some bytes arrived).
    head_timeout: Duration = Duration::from_secs(10), with_head_timeout;
    /// How long an idle keep-alive HTTP connection waits for its next request.
    keepalive_timeout: Duration = Duration::from_secs(15), with_keepalive_timeout;
    /// Dead-peer detection (libwebsockets' "validity"): after this long without hearing from
    /// an open WebSocket, send it a ping.
    ping_interval: Duration = Duration::from_secs(30), with_ping_interval;
    /// After that ping, how long to wait for any traffic (the pong or anything else) before
    /// dropping the connection.
    pong_timeout: Duration = Duration::from_secs(10), with_pong_timeout;
    /// How long an HTTP response may make no progress (the client stopped reading) before the
    /// connection is dropped.
    send_timeout: Duration = Duration::from_secs(30), with_send_timeout;
    /// How long to wait for the peer's reply to our close frame before dropping the connection.
    close_timeout: Duration = Duration::from_secs(5), with_close_timeout;
    /// After SIGTERM/SIGINT: how long to let closes and queued output drain before exiting.
    shutdown_timeout: Duration = Duration::from_secs(5), with_shutdown_timeout;
    /// If not empty, WebSocket upgrades must carry one of these `Origin` values exactly
    /// (e.g. `https://example.com`); others get `403`. Empty allows any origin.
    allowed_origins: Vec<String> = Vec::new(), with_allowed_origins;
    /// Longest topic name, in bytes: longer names are refused
    /// ([`TopicError::NameTooLong`](crate::TopicError::NameTooLong)).
    max_topic_bytes: usize = 256, with_max_topic_bytes;
    /// Most topics one connection may subscribe to at a time; further subscriptions are
    /// refused ([`TopicError::TooManySubscriptions`](crate::TopicError::TooManySubscriptions)).
    max_subscriptions: usize = 64, with_max_subscriptions;
    /// Most bytes of published topic messages waiting in one subscriber's outgoing queue.
    /// A subscriber that falls further behind is closed with `1008` "subscriber too slow",
    /// so publishers and other subscribers never wait for it and memory stays bounded.
    max_subscriber_backlog: usize = 1 << 20, with_max_subscriber_backlog;
    /// Serve `/status` (JSON) and `/metrics` (Prometheus text) with connection counts,
    /// messages and bytes, closes by code and uptime. Off by default: they tell anyone who
    /// asks how busy the server is.
    status_endpoints: bool = false, with_status_endpoints;
    /// With several loops and `status_endpoints`: how often each loop posts a copy of its
    /// counters for the process-wide `/status` and `/metrics` (the loop that answers adds
    /// its own live counters), so other loops' figures are at most this old.
    stats_share_interval: Duration = Duration::from_millis(250), with_stats_share_interval;
    /// permessage-deflate (RFC 7692), negotiated when a client offers it: [`DeflateMode`].
    /// Shared by default; off, and nothing else allowed, in a build without the cargo
    /// feature `deflate`.
    deflate: DeflateMode = DeflateMode::DEFAULT, with_deflate;
    /// In [`DeflateMode::Takeover`], the largest LZ77 window (9..=15: 512 B to 32 KiB) of a
    /// connection's own compression contexts; it sets their memory (`benches/RESULTS.md`).
    deflate_window_bits: u8 = 11, with_deflate_window_bits;
    /// Messages a protocol sends shorter than this go out uncompressed (RSV1 clear).
    deflate_min_bytes: usize = 1024, with_deflate_min_bytes;
    /// Compressed messages the loop remembers, in bytes (input and output), so a message sent
    /// to many connections (a broadcast) is compressed once for all that agreed the same
    /// parameters. 0 compresses every copy.
    deflate_cache_bytes: usize = 1 << 20, with_deflate_cache_bytes;
    /// Largest request body the HTTP entry's callback is given (`Reason::HttpBody`): a
    /// `Content-Length` above it is refused with `413` before any byte is read, a chunked
    /// body as soon as its chunk sizes pass it.
    max_body_bytes: usize = 1 << 20, with_max_body_bytes;
    /// Time a request body has to arrive in full, counted from the end of its head (a
    /// trickle does not extend it); then `408` and the connection is closed.
    body_timeout: Duration = Duration::from_secs(30), with_body_timeout;
    /// Turns on the HTTP publish endpoint: `POST /publish/TOPIC` with `Authorization: Bearer
    /// TOKEN` publishes its body (up to `max_message_bytes`) to the topic. `None`: no
    /// endpoint, `/publish/...` is an ordinary static path.
    publish_token: Option<BearerToken> = None, with_publish_token;
    #[cfg(feature = "redis")]
    /// Redis bridge (`--redis`): the longest wait between attempts to reach Redis. Waits
    /// start at 100 ms after a failure and double up to this.
    redis_reconnect_max_delay: Duration = Duration::from_secs(5), with_redis_reconnect_max_delay;
    #[cfg(feature = "redis")]
    /// Redis bridge: how long connecting, one write, or one reply from Redis may take before
    /// the connection counts as lost.
    redis_io_timeout: Duration = Duration::from_secs(3), with_redis_io_timeout;
    #[cfg(feature = "redis")]
    /// Redis bridge: after this long without a word from Redis on a connection, the bridge
    /// pings it (a Redis gone without a TCP reset is noticed within this plus
    /// `redis_io_timeout`).
    redis_ping_interval: Duration = Duration::from_secs(10), with_redis_ping_interval;
    #[cfg(feature = "redis")]
    /// Redis bridge: payload bytes of publications waiting to be sent to Redis; a
    /// publication that would pass it is dropped (counted in `/metrics`).
    redis_max_queued_bytes: usize = 64 << 20, with_redis_max_queued_bytes;
}

/// How permessage-deflate (RFC 7692) is offered to clients that ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeflateMode {
    /// Never negotiated: the 101 has no `Sec-WebSocket-Extensions`.
    Off,
    /// The default: the server answers `server_no_context_takeover;
    /// client_no_context_takeover`, and one compressor and one decompressor per event loop
    /// serve every connection, reset after each message. An idle connection costs nothing
    /// more than one without compression.
    Shared,
    /// Context takeover: each connection that compresses gets its own contexts (created with
    /// its first compressed message, freed when it closes, windows of at most
    /// `deflate_window_bits`): a better ratio on small repetitive messages, for memory per
    /// connection. A client that asks for no context takeover still gets the shared codec.
    Takeover,
}

impl DeflateMode {
    /// [`Shared`](Self::Shared), or [`Off`](Self::Off) without the cargo feature `deflate`.
    pub const DEFAULT: DeflateMode = if cfg!(feature = "deflate") {
        DeflateMode::Shared
    } else {
        DeflateMode::Off
    };

    /// Whether this build can do `self`: only off without the cargo feature `deflate`.
    pub fn check_built(self) -> Result<(), String> {
        if cfg!(feature = "deflate") || self == DeflateMode::Off {
            return Ok(());
        }
        Err(
            "this wsloop was built without permessage-deflate (cargo feature `deflate`); \
             only off"
                .into(),
        )
    }
}

impl std::str::FromStr for DeflateMode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "off" => Ok(DeflateMode::Off),
            "shared" | "on" => Ok(DeflateMode::Shared),
            "takeover" => Ok(DeflateMode::Takeover),
            _ => Err("expected off, shared or takeover".into()),
        }
    }
}

impl std::fmt::Display for DeflateMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DeflateMode::Off => "off",
            DeflateMode::Shared => "shared",
            DeflateMode::Takeover => "takeover",
        })
    }
}

/// The longest any `Duration` in a [`Config`] may be. The loop keeps connection deadlines as
/// wrapping `u32` millisecond ticks, whose comparisons hold for spans under ~24.8 days, and
/// some deadlines are `Instant + timeout`, which panics on overflow: timeouts stay well under
/// that.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The largest any size or count in a [`Config`] may be: a quarter of the most Rust can
/// allocate (`isize::MAX`), so the sums the loop computes (a message's bytes so far plus its
/// next frame, a frame header plus its payload, a token base plus `max_connections`) cannot
/// overflow.
pub const MAX_SIZE: usize = isize::MAX as usize / 4;

/// The range a field of this type must stay in; [`Config::validate`] checks it for every
/// field of the `config!` list, so a new field cannot be left unbounded.
trait Bounded {
    /// `Err("at most ...")` past the bound.
    fn check_bound(&self) -> Result<(), String>;
}

impl Bounded for usize {
    fn check_bound(&self) -> Result<(), String> {
        (*self as u64).check_bound()
    }
}

impl Bounded for u64 {
    fn check_bound(&self) -> Result<(), String> {
        if *self <= MAX_SIZE as u64 {
            Ok(())
        } else {
            Err(format!("at most {MAX_SIZE}"))
        }
    }
}

impl Bounded for Duration {
    fn check_bound(&self) -> Result<(), String> {
        if *self <= MAX_TIMEOUT {
            Ok(())
        } else {
            Err(format!("at most {} days", MAX_TIMEOUT.as_secs() / 86_400))
        }
    }
}

/// The window bits are checked by [`Config::validate`] (9..=15).
impl Bounded for u8 {
    fn check_bound(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Flags, modes and lists of names: nothing to overflow.
impl Bounded for DeflateMode {
    fn check_bound(&self) -> Result<(), String> {
        Ok(())
    }
}

impl Bounded for bool {
    fn check_bound(&self) -> Result<(), String> {
        Ok(())
    }
}

impl Bounded for Option<BearerToken> {
    fn check_bound(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A header value (`cache_control`): visible ASCII, spaces and tabs, so it goes out as set
/// (a response header with a line break in it would be a second header).
impl Bounded for String {
    fn check_bound(&self) -> Result<(), String> {
        if self
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        {
            Ok(())
        } else {
            Err("printable ASCII (a header value)".into())
        }
    }
}

impl Bounded for Vec<String> {
    fn check_bound(&self) -> Result<(), String> {
        Ok(())
    }
}

/// `[("field", value), ...]` for the listed fields of `config`, so checks can name the field.
macro_rules! named {
    ($config:expr => $($field:ident),+ $(,)?) => {
        [$((stringify!($field), $config.$field)),+]
    };
}

impl Config {
    /// Check that the limits are consistent and in range (sizes and counts at most
    /// [`MAX_SIZE`], durations at most [`MAX_TIMEOUT`]); the message names the offending knob.
    pub fn validate(&self) -> Result<(), String> {
        let positive = named!(self =>
            max_head_bytes,
            max_headers,
            max_message_bytes,
            max_frame_bytes,
            max_incoming_buffered_bytes,
            max_outgoing_bytes,
            read_buffer_bytes,
            read_budget_bytes,
            accept_budget,
            max_connections,
            max_handle_requests,
            max_subscriber_backlog,
        );
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(format!("{name} must be greater than 0"));
        }
        let timeouts = named!(self =>
            head_timeout,
            keepalive_timeout,
            ping_interval,
            pong_timeout,
            send_timeout,
            close_timeout,
            body_timeout,
            stats_share_interval,
        );
        if let Some((name, _)) = timeouts.iter().find(|(_, value)| value.is_zero()) {
            return Err(format!("{name} must be greater than 0"));
        }
        #[cfg(feature = "redis")]
        self.validate_redis()?;
        self.check_bounds()?;
        if self.outgoing_soft_limit > self.max_outgoing_bytes {
            return Err("outgoing_soft_limit must not exceed max_outgoing_bytes".into());
        }
        if !(9..=15).contains(&self.deflate_window_bits) {
            return Err("deflate_window_bits must be from 9 to 15".into());
        }
        let deflate = self.deflate;
        deflate
            .check_built()
            .map_err(|err| format!("deflate {deflate}: {err}"))
    }
}

#[cfg(feature = "redis")]
impl Config {
    /// The Redis bridge's knobs: none may be zero.
    fn validate_redis(&self) -> Result<(), String> {
        let timeouts = named!(self =>
            redis_reconnect_max_delay,
            redis_io_timeout,
            redis_ping_interval,
        );
        if let Some((name, _)) = timeouts.iter().find(|(_, value)| value.is_zero()) {
            return Err(format!("{name} must be greater than 0"));
        }
        if self.redis_max_queued_bytes == 0 {
            return Err("redis_max_queued_bytes must be greater than 0".into());
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
    fn cache_control_is_a_header_value() {
        assert_eq!(Config::default().cache_control, "no-cache");
        let config = Config::default().with_cache_control("max-age=60, public".into());
        assert_eq!(config.validate(), Ok(()));
        let config = Config::default().with_cache_control("no-cache\r\nSet-Cookie: x=1".into());
        assert_eq!(
            config.validate(),
            Err("cache_control must be printable ASCII (a header value)".into())
        );
    }

    #[test]
    fn zero_limits_are_named() {
        let config = Config::default().with_max_frame_bytes(0);
        assert_eq!(
            config.validate(),
            Err("max_frame_bytes must be greater than 0".into())
        );
    }

    #[test]
    fn the_incoming_buffer_cap_defaults_to_256_mib_and_must_be_positive() {
        assert_eq!(Config::default().max_incoming_buffered_bytes, 256 << 20);
        let config = Config::default().with_max_incoming_buffered_bytes(0);
        assert_eq!(
            config.validate(),
            Err("max_incoming_buffered_bytes must be greater than 0".into())
        );
    }

    #[test]
    fn durations_past_seven_days_are_refused() {
        let week = MAX_TIMEOUT;
        assert_eq!(week, Duration::from_secs(604_800));
        assert_eq!(
            Config::default().with_ping_interval(week).validate(),
            Ok(())
        );
        let longer = week + Duration::from_nanos(1);
        assert_eq!(
            Config::default().with_ping_interval(longer).validate(),
            Err("ping_interval must be at most 7 days".into())
        );
        // Also the ones that may be zero, and the largest Duration there is.
        assert_eq!(
            Config::default()
                .with_static_recheck_interval(Duration::MAX)
                .validate(),
            Err("static_recheck_interval must be at most 7 days".into())
        );
        assert!(Config::default()
            .with_shutdown_timeout(longer)
            .validate()
            .unwrap_err()
            .starts_with("shutdown_timeout"));
        // Zero is still refused where it was, and still allowed where it was.
        assert!(Config::default()
            .with_pong_timeout(Duration::ZERO)
            .validate()
            .is_err());
        assert_eq!(
            Config::default()
                .with_shutdown_timeout(Duration::ZERO)
                .validate(),
            Ok(())
        );
    }

    #[test]
    fn sizes_past_max_size_are_refused() {
        assert_eq!(
            Config::default()
                .with_max_message_bytes(MAX_SIZE)
                .with_max_frame_bytes(MAX_SIZE)
                .validate(),
            Ok(())
        );
        assert_eq!(
            Config::default()
                .with_max_connections(usize::MAX)
                .validate(),
            Err(format!("max_connections must be at most {MAX_SIZE}"))
        );
        assert!(Config::default()
            .with_static_cache_bytes(MAX_SIZE + 1)
            .validate()
            .unwrap_err()
            .starts_with("static_cache_bytes"));
        assert!(Config::default()
            .with_max_static_file_bytes(u64::MAX)
            .validate()
            .unwrap_err()
            .starts_with("max_static_file_bytes"));
    }

    #[test]
    #[cfg(feature = "deflate")]
    fn deflate_is_shared_by_default_and_windows_stay_in_zlib_range() {
        let config = Config::default();
        assert_eq!(config.deflate, DeflateMode::Shared);
        assert_eq!(config.deflate_min_bytes, 1024);
        for bits in [8, 16] {
            assert_eq!(
                Config::default().with_deflate_window_bits(bits).validate(),
                Err("deflate_window_bits must be from 9 to 15".into())
            );
        }
        assert_eq!("takeover".parse(), Ok(DeflateMode::Takeover));
        assert!("gzip".parse::<DeflateMode>().is_err());
    }

    #[test]
    #[cfg(not(feature = "deflate"))]
    fn without_the_deflate_feature_only_off_is_valid() {
        assert_eq!(Config::default().deflate, DeflateMode::Off);
        assert_eq!(Config::default().validate(), Ok(()));
        for mode in [DeflateMode::Shared, DeflateMode::Takeover] {
            let err = Config::default().with_deflate(mode).validate().unwrap_err();
            assert!(err.contains("cargo feature `deflate`"), "{err}");
        }
    }

    #[test]
    fn soft_limit_above_hard_limit_is_refused() {
        let config = Config::default()
            .with_outgoing_soft_limit(10)
            .with_max_outgoing_bytes(5);
        assert!(config.validate().is_err());
    }
}
