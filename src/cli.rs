//! The binary's command line: `--port`, `--bind`, `--www`, `--threads`, `--tls-cert`/
//! `--tls-key`, and one flag per [`Config`] limit and timeout, each listed once in
//! [`LIMIT_FLAGS`] with its help text.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use wsloop::config::{MAX_SIZE, MAX_TIMEOUT};
use wsloop::http::bearer::BearerToken;
use wsloop::{Config, TlsFiles};

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    Serve(Box<Options>),
    Help,
    Version,
}

/// Everything needed to start the server.
#[derive(Debug)]
pub struct Options {
    pub addr: SocketAddr,
    pub www: PathBuf,
    /// Event loops (threads); 0: one per available CPU.
    pub threads: usize,
    pub config: Config,
    /// `--tls-cert` and `--tls-key`: serve https:// and wss:// with them.
    pub tls: Option<TlsFiles>,
    /// `--redis URL` and `--redis-prefix`: topics go through that Redis.
    pub redis: Option<RedisTarget>,
}

/// Where the Redis bridge connects and how it names channels.
#[derive(Debug)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub struct RedisTarget {
    pub url: String,
    pub prefix: String,
}

/// One `--flag VALUE` that sets a [`Config`] field.
struct LimitFlag {
    name: &'static str,
    help: &'static str,
    set: fn(&mut Config, &str) -> Result<(), String>,
    show: fn(&Config) -> String,
}

macro_rules! bytes_flag {
    ($name:literal, $field:ident, $help:literal) => {
        LimitFlag {
            name: $name,
            help: $help,
            set: |config, value| {
                // parse_bytes stays within MAX_SIZE, which fits every field.
                config.$field = parse_bytes(value)?.try_into().map_err(|_| "too large")?;
                Ok(())
            },
            show: |config| show_bytes(config.$field as u64),
        }
    };
}

macro_rules! count_flag {
    ($name:literal, $field:ident, $help:literal) => {
        LimitFlag {
            name: $name,
            help: $help,
            set: |config, value| {
                config.$field = value.parse().map_err(|_| "expected a whole number")?;
                Ok(())
            },
            show: |config| config.$field.to_string(),
        }
    };
}

macro_rules! duration_flag {
    ($name:literal, $field:ident, $help:literal) => {
        LimitFlag {
            name: $name,
            help: $help,
            set: |config, value| {
                config.$field = parse_duration(value)?;
                Ok(())
            },
            show: |config| format!("{:?}", config.$field),
        }
    };
}

/// Every limit and timeout, as flags. Sizes take K/M/G suffixes (binary), durations s/ms.
const LIMIT_FLAGS: &[LimitFlag] = &[
    bytes_flag!(
        "--max-head-bytes",
        max_head_bytes,
        "largest HTTP request head (431 beyond)"
    ),
    count_flag!(
        "--max-headers",
        max_headers,
        "most header lines in a request (431 beyond)"
    ),
    bytes_flag!(
        "--max-message-bytes",
        max_message_bytes,
        "largest WebSocket message (1009 beyond)"
    ),
    bytes_flag!(
        "--max-frame-bytes",
        max_frame_bytes,
        "largest WebSocket frame payload (1009 beyond)"
    ),
    bytes_flag!(
        "--max-incoming-buffered-bytes",
        max_incoming_buffered_bytes,
        "all partial messages held (1009 beyond)"
    ),
    bytes_flag!(
        "--max-outgoing-bytes",
        max_outgoing_bytes,
        "outgoing queue cap per connection (1008 beyond)"
    ),
    bytes_flag!(
        "--outgoing-soft-limit",
        outgoing_soft_limit,
        "queue size above which ServerWriteable waits"
    ),
    bytes_flag!(
        "--read-buffer-bytes",
        read_buffer_bytes,
        "the server's read buffer (most bytes per read call or file chunk)"
    ),
    bytes_flag!(
        "--read-budget-bytes",
        read_budget_bytes,
        "most bytes read from one connection per pass"
    ),
    count_flag!(
        "--accept-budget",
        accept_budget,
        "most connections accepted per pass"
    ),
    count_flag!(
        "--max-connections",
        max_connections,
        "most simultaneous connections"
    ),
    count_flag!(
        "--max-handle-requests",
        max_handle_requests,
        "most cross-thread requests waiting for the loop"
    ),
    bytes_flag!(
        "--max-topic-bytes",
        max_topic_bytes,
        "longest topic name (subscribe/publish refused beyond)"
    ),
    count_flag!(
        "--max-subscriptions",
        max_subscriptions,
        "most topics one connection subscribes to"
    ),
    bytes_flag!(
        "--max-subscriber-backlog",
        max_subscriber_backlog,
        "topic bytes queued for one subscriber (1008 beyond)"
    ),
    bytes_flag!(
        "--max-static-file-bytes",
        max_static_file_bytes,
        "largest static file served"
    ),
    bytes_flag!(
        "--static-cache-bytes",
        static_cache_bytes,
        "static file content kept in memory (the rest: from disk)"
    ),
    duration_flag!(
        "--static-recheck-interval",
        static_recheck_interval,
        "how often a cached file is compared with the disk"
    ),
    LimitFlag {
        name: "--cache-control",
        help: "Cache-Control of file responses (\"\": none)",
        set: |config, value| {
            config.cache_control = value.to_owned();
            Ok(())
        },
        show: |config| format!("{:?}", config.cache_control),
    },
    duration_flag!(
        "--head-timeout",
        head_timeout,
        "time to send a complete request head"
    ),
    duration_flag!(
        "--keepalive-timeout",
        keepalive_timeout,
        "idle time between keep-alive requests"
    ),
    duration_flag!(
        "--ping-interval",
        ping_interval,
        "silence before an open WebSocket is pinged"
    ),
    duration_flag!(
        "--pong-timeout",
        pong_timeout,
        "time to answer that ping before the drop"
    ),
    duration_flag!(
        "--send-timeout",
        send_timeout,
        "time an HTTP response may make no progress"
    ),
    duration_flag!(
        "--close-timeout",
        close_timeout,
        "time to wait for the peer's close reply"
    ),
    duration_flag!(
        "--shutdown-timeout",
        shutdown_timeout,
        "time to drain connections on SIGTERM"
    ),
    duration_flag!(
        "--stats-share-interval",
        stats_share_interval,
        "--threads with --status: how old other loops' counters may be"
    ),
    LimitFlag {
        name: "--deflate",
        help: "permessage-deflate: off, shared or takeover",
        set: |config, value| {
            config.deflate = value.parse()?;
            config.deflate.check_built()
        },
        show: |config| config.deflate.to_string(),
    },
    count_flag!(
        "--deflate-window-bits",
        deflate_window_bits,
        "takeover mode: window of a connection's contexts (9-15)"
    ),
    bytes_flag!(
        "--deflate-min-bytes",
        deflate_min_bytes,
        "smaller messages are sent uncompressed"
    ),
    bytes_flag!(
        "--deflate-cache-bytes",
        deflate_cache_bytes,
        "compressed broadcasts remembered, to compress each once"
    ),
    bytes_flag!(
        "--max-body-bytes",
        max_body_bytes,
        "largest request body given to the HTTP callback (413 beyond)"
    ),
    duration_flag!(
        "--body-timeout",
        body_timeout,
        "time a request body has to arrive after its head (408)"
    ),
];

/// The Redis bridge's knobs (only in a build with the `redis` feature).
#[cfg(feature = "redis")]
const REDIS_FLAGS: &[LimitFlag] = &[
    duration_flag!(
        "--redis-reconnect-max-delay",
        redis_reconnect_max_delay,
        "longest wait between tries to reach Redis (from 100ms, doubling)"
    ),
    duration_flag!(
        "--redis-io-timeout",
        redis_io_timeout,
        "time a connect, write or reply from Redis may take"
    ),
    duration_flag!(
        "--redis-ping-interval",
        redis_ping_interval,
        "silence from Redis before the bridge pings it"
    ),
    bytes_flag!(
        "--redis-max-queued-bytes",
        redis_max_queued_bytes,
        "publications waiting for Redis (dropped beyond)"
    ),
];
#[cfg(not(feature = "redis"))]
const REDIS_FLAGS: &[LimitFlag] = &[];

/// Every flag that sets a [`Config`] field.
fn limit_flags() -> impl Iterator<Item = &'static LimitFlag> {
    LIMIT_FLAGS.iter().chain(REDIS_FLAGS)
}

/// Parse the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut port: u16 = 9000;
    let mut bind: IpAddr = IpAddr::from([127, 0, 0, 1]);
    let mut www = PathBuf::from("www");
    let mut threads = 1;
    let mut config = Config::default();
    let (mut tls_cert, mut tls_key) = (None, None);
    let (mut redis_url, mut redis_prefix) = (None, None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            _ => {}
        }
        let mut value = || {
            inline_value
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--port" => port = value()?.parse().map_err(|_| "--port: expected 0-65535")?,
            "--bind" => {
                bind = value()?
                    .parse()
                    .map_err(|_| "--bind: expected an IP address")?
            }
            "--www" => www = PathBuf::from(value()?),
            "--tls-cert" => tls_cert = Some(PathBuf::from(value()?)),
            "--tls-key" => tls_key = Some(PathBuf::from(value()?)),
            "--threads" => {
                threads = value()?
                    .parse()
                    .map_err(|_| "--threads: expected a whole number (0: one per CPU)")?
            }
            "--redis" => redis_url = Some(value()?),
            "--redis-prefix" => redis_prefix = Some(value()?),
            "--allow-origin" => config.allowed_origins.push(value()?),
            "--status" => config.status_endpoints = true,
            "--publish-token" => {
                let token = value()?;
                config.publish_token = Some(
                    BearerToken::new(&token).map_err(|err| format!("--publish-token: {err}"))?,
                )
            }
            _ => match limit_flags().find(|limit| limit.name == flag) {
                Some(limit) => {
                    let value = value()?;
                    (limit.set)(&mut config, &value)
                        .map_err(|err| format!("{flag} {value}: {err}"))?
                }
                None => return Err(format!("unknown argument {arg:?} (see --help)")),
            },
        }
    }
    config.validate()?;
    let tls = match (tls_cert, tls_key) {
        (None, None) => None,
        (Some(cert), Some(key)) if cfg!(feature = "tls") => Some(TlsFiles { cert, key }),
        (Some(_), Some(_)) => {
            return Err("--tls-cert/--tls-key: this wsloop was built without TLS \
                        (cargo feature `tls`)"
                .into())
        }
        (Some(_), None) => return Err("--tls-cert needs --tls-key".into()),
        (None, Some(_)) => return Err("--tls-key needs --tls-cert".into()),
    };
    let redis = redis_target(redis_url, redis_prefix)?;
    Ok(Command::Serve(Box::new(Options {
        addr: SocketAddr::new(bind, port),
        www,
        threads,
        config,
        tls,
        redis,
    })))
}

/// `--redis URL` (`redis://HOST:PORT[/DB]`) and `--redis-prefix`, checked here so a typo is a
/// usage error rather than a bridge that never connects.
fn redis_target(
    url: Option<String>,
    prefix: Option<String>,
) -> Result<Option<RedisTarget>, String> {
    let Some(url) = url else {
        return match prefix {
            Some(_) => Err("--redis-prefix needs --redis".into()),
            None => Ok(None),
        };
    };
    if !cfg!(feature = "redis") {
        return Err("--redis: this wsloop was built without Redis (cargo feature `redis`)".into());
    }
    if !(url.starts_with("redis://")
        || url.starts_with("redis+unix://")
        || url.starts_with("unix://"))
    {
        return Err(format!(
            "--redis {url:?}: expected redis://HOST:PORT[/DB] (or redis+unix:///PATH)"
        ));
    }
    Ok(Some(RedisTarget {
        url,
        prefix: prefix.unwrap_or_else(|| "wsloop:".into()),
    }))
}

/// The `--help` text, with every limit's current default.
pub fn help() -> String {
    let defaults = Config::default();
    let mut text = String::from(
        "wsloop: a single-threaded WebSocket + HTTP server\n\n\
         Usage: wsloop [--port N] [--bind ADDR] [--www DIR] [--tls-cert PEM --tls-key PEM]\n         \x20             [LIMITS]\n\n\
         \x20 --port N        port to listen on (default 9000; 0 picks a free one)\n\
         \x20 --bind ADDR     address to listen on (default 127.0.0.1; 0.0.0.0 to deploy)\n\
         \x20 --www DIR       static files to serve (default ./www)\n\
         \x20 --tls-cert PEM  serve https:// and wss:// with this certificate chain (with\n\
         \x20                 --tls-key PEM: its PKCS#8, PKCS#1 or SEC1 private key);\n\
         \x20                 SIGHUP reads both again\n\
         \x20 --threads N     event loops, one thread each, on one port (default 1; 0: one\n\
         \x20                 per CPU); topics keep one order per topic across them\n\
         \x20 --allow-origin O  accept WebSocket upgrades only with Origin O (repeatable;\n\
         \x20                   default: any origin)\n\
         \x20 --status        serve /status (JSON) and /metrics (Prometheus)\n\
         \x20 --publish-token TOKEN  serve POST /publish/TOPIC to requests with\n\
         \x20                 Authorization: Bearer TOKEN (the body goes to TOPIC)\n\
         \x20 -h, --help      this text\n\
         \x20 -V, --version   the version\n\nLimits and timeouts (sizes take K/M/G; durations s/ms, at most 7 days):\n",
    );
    #[cfg(feature = "redis")]
    {
        text += "  --redis URL     bridge topics to other instances through Redis pub/sub\n\
                 \x20                 (redis://HOST:PORT[/DB]); Redis down: delivered locally\n\
                 \x20 --redis-prefix P  Redis channel = P + topic (default wsloop:)\n";
    }
    for limit in limit_flags() {
        text += &format!(
            "  {:<34}{} (default {})\n",
            format!("{} V", limit.name),
            limit.help,
            (limit.show)(&defaults)
        );
    }
    text += "\nWebSocket protocols: dumb-increment-protocol (the default), echo, increment,\n\
             lws-mirror-protocol.\n\
             Logging: RUST_LOG=info (default), RUST_LOG=warn hides per-message lines.\n";
    text
}

/// `16M`, `8K`, `1G` (powers of 1024) or a plain byte count, at most [`MAX_SIZE`] (checked,
/// so `99999999999G` is an error rather than an overflow).
fn parse_bytes(value: &str) -> Result<u64, String> {
    let (digits, shift) = match value.as_bytes().last() {
        Some(b'K' | b'k') => (&value[..value.len() - 1], 10),
        Some(b'M' | b'm') => (&value[..value.len() - 1], 20),
        Some(b'G' | b'g') => (&value[..value.len() - 1], 30),
        _ => (value, 0),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| "expected a size like 8K or 16M")?;
    number
        .checked_mul(1 << shift)
        .filter(|&bytes| bytes <= MAX_SIZE as u64)
        .ok_or_else(|| format!("too large (at most {}G)", MAX_SIZE >> 30))
}

fn show_bytes(bytes: u64) -> String {
    match bytes {
        0 => "0".into(),
        b if b % (1 << 20) == 0 => format!("{}M", b >> 20),
        b if b % (1 << 10) == 0 => format!("{}K", b >> 10),
        b => b.to_string(),
    }
}

/// `10s`, `500ms`, or plain seconds with an optional decimal fraction (`1.5`, `0.25s`; digits
/// past nanoseconds are dropped), at most [`MAX_TIMEOUT`]. Digits only, read with integer
/// arithmetic (no float parsing in the binary), so it never panics or overflows.
fn parse_duration(value: &str) -> Result<Duration, String> {
    let error = || "expected a duration like 10s or 500ms".to_owned();
    let too_long = || {
        let seconds = MAX_TIMEOUT.as_secs();
        format!("at most {seconds}s ({} days)", seconds / 86_400)
    };
    if let Some(ms) = value.strip_suffix("ms") {
        let ms: u128 = ms.parse().map_err(|_| error())?;
        return u64::try_from(ms)
            .ok()
            .map(Duration::from_millis)
            .filter(|duration| *duration <= MAX_TIMEOUT)
            .ok_or_else(too_long);
    }
    let seconds = value.strip_suffix('s').unwrap_or(value);
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(error());
    }
    let nanos = (fraction.bytes().chain(std::iter::repeat(b'0')))
        .take(9)
        .fold(0, |nanos, digit| nanos * 10 + u32::from(digit - b'0'));
    let whole = whole.trim_start_matches('0');
    let secs = match whole {
        "" => 0,
        // Too many digits for a u64 is too long too.
        _ => whole.parse().map_err(|_| too_long())?,
    };
    Some(Duration::new(secs, nanos))
        .filter(|duration| *duration <= MAX_TIMEOUT)
        .ok_or_else(too_long)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_listen_on_loopback_9000() {
        let Ok(Command::Serve(options)) = parse(args(&[])) else {
            panic!("expected serve");
        };
        assert_eq!(options.addr, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(options.www, PathBuf::from("www"));
    }

    #[test]
    fn flags_set_address_and_limits() {
        let Ok(Command::Serve(options)) = parse(args(&[
            "--port",
            "0",
            "--bind=0.0.0.0",
            "--max-message-bytes",
            "1M",
            "--head-timeout",
            "500ms",
            "--close-timeout=2",
            "--max-headers",
            "10",
            "--max-incoming-buffered-bytes=1G",
        ])) else {
            panic!("expected serve");
        };
        assert_eq!(options.addr, "0.0.0.0:0".parse().unwrap());
        assert_eq!(options.config.max_message_bytes, 1 << 20);
        assert_eq!(options.config.head_timeout, Duration::from_millis(500));
        assert_eq!(options.config.close_timeout, Duration::from_secs(2));
        assert_eq!(options.config.max_headers, 10);
        assert_eq!(options.config.max_incoming_buffered_bytes, 1 << 30);
    }

    #[test]
    #[cfg(feature = "deflate")]
    fn deflate_flags_parse() {
        let Ok(Command::Serve(options)) = parse(args(&[
            "--deflate",
            "takeover",
            "--deflate-window-bits=10",
            "--deflate-min-bytes",
            "0",
        ])) else {
            panic!("expected serve");
        };
        assert_eq!(
            options.config.deflate,
            wsloop::config::DeflateMode::Takeover
        );
        assert_eq!(options.config.deflate_window_bits, 10);
        assert_eq!(options.config.deflate_min_bytes, 0);
        assert!(parse(args(&["--deflate", "gzip"]))
            .unwrap_err()
            .contains("expected off, shared or takeover"));
        assert!(parse(args(&["--deflate-window-bits", "8"]))
            .unwrap_err()
            .contains("deflate_window_bits"));
    }

    #[test]
    #[cfg(not(feature = "deflate"))]
    fn deflate_without_the_feature_is_a_usage_error_naming_it() {
        for mode in ["shared", "takeover", "on"] {
            let err = parse(args(&["--deflate", mode])).unwrap_err();
            assert!(err.starts_with(&format!("--deflate {mode}: ")), "{err}");
            assert!(err.contains("cargo feature `deflate`"), "{err}");
        }
        let Ok(Command::Serve(options)) = parse(args(&["--deflate", "off"])) else {
            panic!("expected serve");
        };
        assert_eq!(options.config.deflate, wsloop::config::DeflateMode::Off);
    }

    #[test]
    fn every_config_field_has_a_flag() {
        // Field names from Config's Debug output: `Config { max_head_bytes: 8192, ... }`.
        let debug = format!("{:?}", Config::default());
        let fields: Vec<&str> = debug
            .split(['{', ','])
            .filter_map(|part| part.split(':').next())
            .map(str::trim)
            .filter(|name| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            })
            .collect();
        assert!(fields.len() >= 20, "parsed {fields:?}");
        let own_flags = [
            ("allowed_origins", "--allow-origin"),
            ("status_endpoints", "--status"),
            ("publish_token", "--publish-token"),
        ];
        let text = help();
        for field in fields {
            let flag = own_flags
                .iter()
                .find(|(name, _)| *name == field)
                .map(|(_, flag)| flag.to_string())
                .unwrap_or_else(|| format!("--{}", field.replace('_', "-")));
            assert!(text.contains(&flag), "Config::{field} has no flag {flag}");
        }
    }

    #[test]
    fn tls_flags_come_in_pairs() {
        match parse(args(&["--tls-cert", "c.pem", "--tls-key=k.pem"])) {
            Ok(Command::Serve(options)) if cfg!(feature = "tls") => {
                let tls = options.tls.expect("TLS files");
                assert_eq!((tls.cert, tls.key), ("c.pem".into(), "k.pem".into()));
            }
            // The build without TLS refuses the pair, naming the feature.
            Err(err) if !cfg!(feature = "tls") => {
                assert!(err.contains("cargo feature `tls`"), "{err}")
            }
            _ => panic!("expected serve with TLS, a usage error without"),
        }
        assert_eq!(
            parse(args(&["--tls-cert", "c.pem"])).unwrap_err(),
            "--tls-cert needs --tls-key"
        );
        assert_eq!(
            parse(args(&["--tls-key", "k.pem"])).unwrap_err(),
            "--tls-key needs --tls-cert"
        );
    }

    #[test]
    fn redis_flags_parse_and_refuse_what_cannot_work() {
        #[cfg(feature = "redis")]
        {
            let Ok(Command::Serve(options)) = parse(args(&["--redis-reconnect-max-delay=2s"]))
            else {
                panic!("expected serve");
            };
            assert_eq!(
                options.config.redis_reconnect_max_delay,
                Duration::from_secs(2)
            );
            let Ok(Command::Serve(options)) = parse(args(&["--redis", "redis://127.0.0.1:6390/2"]))
            else {
                panic!("expected serve");
            };
            let target = options.redis.expect("redis");
            assert_eq!(target.url, "redis://127.0.0.1:6390/2");
            assert_eq!(target.prefix, "wsloop:");
            assert!(parse(args(&["--redis", "http://x"]))
                .unwrap_err()
                .contains("expected redis://HOST:PORT"));
        }
        #[cfg(not(feature = "redis"))]
        {
            assert!(parse(args(&["--redis", "redis://x"]))
                .unwrap_err()
                .contains("built without Redis"));
        }
        assert_eq!(
            parse(args(&["--redis-prefix", "app:"])).unwrap_err(),
            "--redis-prefix needs --redis"
        );
        #[cfg(feature = "redis")]
        {
            assert!(parse(args(&["--redis-io-timeout", "0"]))
                .unwrap_err()
                .contains("redis_io_timeout"));
        }
    }

    #[test]
    fn liveness_and_keepalive_flags_parse() {
        let Ok(Command::Serve(options)) = parse(args(&[
            "--ping-interval",
            "300ms",
            "--pong-timeout",
            "1s",
            "--keepalive-timeout",
            "2s",
        ])) else {
            panic!("expected serve");
        };
        assert_eq!(options.config.ping_interval, Duration::from_millis(300));
        assert_eq!(options.config.pong_timeout, Duration::from_secs(1));
        assert_eq!(options.config.keepalive_timeout, Duration::from_secs(2));
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        assert_eq!(
            parse(args(&["--port", "x"])).unwrap_err(),
            "--port: expected 0-65535"
        );
        assert_eq!(parse(args(&["--www"])).unwrap_err(), "--www needs a value");
        assert!(parse(args(&["--frobnicate"]))
            .unwrap_err()
            .contains("unknown argument"));
        assert!(parse(args(&["--max-frame-bytes", "0"]))
            .unwrap_err()
            .contains("max_frame_bytes"));
        assert!(parse(args(&["--head-timeout", "soon"])).is_err());
    }

    #[test]
    fn durations_are_bounded_and_never_panic() {
        assert_eq!(parse_duration("604800s"), Ok(MAX_TIMEOUT));
        assert_eq!(parse_duration("604800000ms"), Ok(MAX_TIMEOUT));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0.25s"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration(".5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7."), Ok(Duration::from_secs(7)));
        assert_eq!(parse_duration("007s"), Ok(Duration::from_secs(7)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration("1.0000000019"),
            Ok(Duration::new(1, 1)),
            "digits past nanoseconds are dropped"
        );
        assert_eq!(parse_duration("604800.000000000s"), Ok(MAX_TIMEOUT));
        let too_long = "at most 604800s (7 days)";
        for value in [
            "604801s",
            "604800.000000001",
            "604800001ms",
            "18446744073709551616s",
            "99999999999999999999999999999999999999999999s",
            "99999999999999999999ms",
        ] {
            assert_eq!(parse_duration(value).unwrap_err(), too_long, "{value}");
        }
        for value in [
            "NaN", "-1s", "-inf", "inf", "1e19s", "1e300", "+1", "1.5ms", "7d", "", "s", ".",
            "1.2.3", " 1", "1 s", "0x10",
        ] {
            assert!(
                parse_duration(value).unwrap_err().starts_with("expected"),
                "{value}"
            );
        }
        let err = parse(args(&["--ping-interval", "604801s"])).unwrap_err();
        assert_eq!(err, format!("--ping-interval 604801s: {too_long}"));
    }

    #[test]
    fn sizes_are_bounded_without_overflow() {
        assert_eq!(parse_bytes("2147483647G"), Ok(2_147_483_647 << 30));
        for value in ["99999999999G", "2147483648G", "18446744073709551615"] {
            assert_eq!(
                parse_bytes(value).unwrap_err(),
                "too large (at most 2147483647G)",
                "{value}"
            );
        }
        assert!(parse_bytes("99999999999999999999").is_err());
        let err = parse(args(&["--max-message-bytes", "99999999999G"])).unwrap_err();
        assert!(err.starts_with("--max-message-bytes 99999999999G: too large"));
        // Counts are bounded by Config::validate.
        assert!(parse(args(&["--max-connections", "18446744073709551615"]))
            .unwrap_err()
            .contains("max_connections must be at most"));
    }

    #[test]
    fn help_lists_every_limit_with_its_default() {
        let text = help();
        for limit in limit_flags() {
            assert!(
                text.contains(limit.name),
                "{} missing from --help",
                limit.name
            );
        }
        assert!(text.contains("--max-head-bytes V"));
        assert!(text.contains("(default 8K)"));
    }
}
