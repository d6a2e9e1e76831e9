//! Keep-alive timing: an idle keep-alive connection is closed silently after
//! `keepalive_timeout`; once the next head's first byte arrives, `head_timeout` runs from that
//! byte (a trickle does not extend it) and ends in `408`.
//!
//! The binary runs with `--keepalive-timeout 600ms --head-timeout 1s`.

mod support;

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use support::hostile::ms;
use support::http::HttpConn;
use support::{say, ServerProcess};

const KEEPALIVE: Duration = Duration::from_millis(600);
const HEAD: Duration = Duration::from_millis(1000);

fn server() -> ServerProcess {
    ServerProcess::start_with(&["--keepalive-timeout", "600ms", "--head-timeout", "1s"])
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[test]
fn idle_keep_alive_connection_is_closed_silently() {
    let server = server();
    let mut conn = HttpConn::open(server.addr());
    conn.send(REQUEST);
    assert_eq!(conn.read_response(false).status, 200);
    let idle = Instant::now();
    let rest = conn
        .wait_closed(Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("idle keep-alive connection not closed: {e}"));
    let after = idle.elapsed();
    assert!(rest.is_empty(), "idle close sent {rest:?}");
    assert!(
        after >= KEEPALIVE - Duration::from_millis(150)
            && after < KEEPALIVE + Duration::from_secs(1),
        "closed after {after:?}, keepalive_timeout {KEEPALIVE:?}"
    );
    say(&format!(
        "keep-alive: idle connection closed silently {} after the response (timeout {KEEPALIVE:?})",
        ms(after)
    ));
}

#[test]
fn next_head_gets_head_timeout_from_its_first_byte() {
    let server = server();
    let mut conn = HttpConn::open(server.addr());
    conn.send(REQUEST);
    assert_eq!(conn.read_response(false).status, 200);
    // Idle for most of the keep-alive time, then trickle the next head, a byte per 100 ms.
    thread::sleep(KEEPALIVE / 2);
    let first_byte = Instant::now();
    let next = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    conn.stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut got = Vec::new();
    let mut sent = 0;
    let closed_after = loop {
        assert!(
            first_byte.elapsed() < HEAD + Duration::from_secs(3),
            "not answered {:?} after the head's first byte",
            first_byte.elapsed()
        );
        if got.is_empty() && sent < next.len() {
            conn.stream.write_all(&next[sent..sent + 1]).unwrap();
            sent += 1;
        }
        let mut buf = [0u8; 1024];
        match conn.stream.read(&mut buf) {
            Ok(0) => break first_byte.elapsed(),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break first_byte.elapsed(),
        }
    };
    assert!(
        got.starts_with(b"HTTP/1.1 408"),
        "expected 408, got {:?}",
        String::from_utf8_lossy(&got)
    );
    // Past the keep-alive deadline (the trickle kept it open), cut at head_timeout.
    assert!(
        closed_after >= HEAD - Duration::from_millis(20)
            && closed_after < HEAD + Duration::from_millis(800),
        "closed {closed_after:?} after the first byte; head_timeout {HEAD:?}"
    );
    say(&format!(
        "keep-alive: trickled second head ({sent} bytes) answered 408 and closed {} after its \
         first byte (head_timeout {HEAD:?}, keepalive_timeout {KEEPALIVE:?})",
        ms(closed_after)
    ));
}
