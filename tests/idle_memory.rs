//! What README promises about memory: an idle WebSocket holds no buffer, so it costs only its
//! small slab entry and timer entry — also after it exchanged a large message (its frame and
//! queue buffers are freed once the bytes are through). Measured as the server's RSS growth
//! per connection while 2,000 connections sit idle, each after one 64 KiB round trip; the
//! bound is loose (1 KiB; `benches/` measures ~150 B at 10,000 connections), but a connection
//! that kept any read, frame or queue buffer (4 KiB and up) would pass it several times over.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use support::hostile::{ensure_nofile, rss_kib};
use support::http::{connect, find};
use support::ws::{client_frame, op, upgrade_head};
use support::{say, ServerProcess};

const CONNECTIONS: usize = 2_000;
const MESSAGE: usize = 64 * 1024;
const BOUND_BYTES_PER_CONNECTION: u64 = 1024;

/// Upgrade to `echo`, send one binary message, read the echo back; the socket stays open.
fn open_and_round_trip(server: &ServerProcess, frame: &[u8]) -> TcpStream {
    let mut stream = connect(server.connect_addr());
    let head = upgrade_head("GET / HTTP/1.1", &["Sec-WebSocket-Protocol: echo"]);
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(frame).unwrap();
    // The 101 head, then the echo: a 10-byte frame header (64 KiB needs the u64 length).
    let mut got = Vec::new();
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).expect("read the echo");
        assert!(n > 0, "server closed: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        if let Some(end) = find(&got, b"\r\n\r\n") {
            if got.len() >= end + 4 + 10 + MESSAGE {
                assert!(got.starts_with(b"HTTP/1.1 101"), "{:?}", &got[..end]);
                return stream;
            }
        }
    }
}

#[test]
fn idle_websockets_hold_no_buffers_even_after_large_messages() {
    let server = ServerProcess::start_with(&["--max-connections", "5000"]);
    let pid = server.pid().expect("pid");
    ensure_nofile(pid, CONNECTIONS as u64 + 200).expect("descriptors for the server");
    let frame = client_frame(true, op::BINARY, &vec![0x42; MESSAGE]);
    // One connection first, so the server's one-time buffers exist before the baseline.
    let _warm = open_and_round_trip(&server, &frame);
    let before = rss_kib(pid);
    let held: Vec<TcpStream> = (0..CONNECTIONS)
        .map(|_| open_and_round_trip(&server, &frame))
        .collect();
    let after = rss_kib(pid);
    let per_connection = after.saturating_sub(before) * 1024 / CONNECTIONS as u64;
    say(&format!(
        "idle_memory: {CONNECTIONS} idle WebSockets after one {MESSAGE}-byte round trip each: \
         RSS {before} -> {after} KiB, {per_connection} bytes per connection"
    ));
    assert!(
        per_connection <= BOUND_BYTES_PER_CONNECTION,
        "{per_connection} bytes per idle connection"
    );
    drop(held);
}
