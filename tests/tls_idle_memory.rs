//! Memory of an idle `wss://` connection: the server's RSS growth per connection while N TLS
//! WebSockets (default 1,000; `WSLOOP_IDLE_CONNECTIONS` for the 10,000 of benches/RESULTS.md)
//! sit idle after one round trip each, against the 16 KiB target of issue 9. rustls' buffered
//! API keeps its session (keys, state) and a 4 KiB incoming buffer per connection.
#![cfg(feature = "tls")]

mod support;

use support::hostile::{ensure_nofile, rss_kib};
use support::say;
use support::tls::{self, WssClient};
use tungstenite::Message;

const TARGET_BYTES_PER_CONNECTION: u64 = 16 * 1024;

fn connections() -> usize {
    std::env::var("WSLOOP_IDLE_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000)
}

#[test]
fn an_idle_wss_connection_costs_under_16_kib() {
    let n = connections();
    let max = (n + 100).to_string();
    let (server, ca) = tls::start_server("tls_idle_memory", &["--max-connections", &max]);
    let pid = server.pid().expect("pid");
    ensure_nofile(pid, n as u64 + 200).expect("descriptors for the server");
    let config = ca.client_config(&[]);
    let open = || -> WssClient {
        let mut ws = tls::wss_connect(server.connect_addr(), config.clone(), &[]).unwrap();
        ws.send(Message::text("Hello, world!")).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("!dlrow ,olleH"));
        ws
    };
    let _warm = open();
    let before = rss_kib(pid);
    let held: Vec<WssClient> = (0..n).map(|_| open()).collect();
    let after = rss_kib(pid);
    let per_connection = after.saturating_sub(before) * 1024 / n as u64;
    say(&format!(
        "tls_idle_memory: {n} idle wss connections after one round trip each: RSS {before} -> \
         {after} KiB, {per_connection} bytes per connection (target {TARGET_BYTES_PER_CONNECTION})"
    ));
    assert!(
        per_connection <= TARGET_BYTES_PER_CONNECTION,
        "{per_connection} bytes per idle wss connection"
    );
    drop(held);
}
