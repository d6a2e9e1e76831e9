//! Request-head limits: a head over 8 KiB (the default) gets 431, `--max-head-bytes 1K` moves
//! the limit, too many header lines get 431, and a partial head followed by silence gets 408
//! and a closed connection once `--head-timeout` passes (the wait is bounded; no sleeps).

mod support;

use std::time::{Duration, Instant};

use support::http::HttpConn;
use support::ServerProcess;

const CLOSE_WITHIN: Duration = Duration::from_secs(5);

/// A GET whose head is exactly `total` bytes long (padding in an `X-Fill` header).
fn head_of_len(total: usize) -> Vec<u8> {
    let start = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-Fill: ";
    let end = "\r\n\r\n";
    let fill = total - start.len() - end.len();
    let head = format!("{start}{}{end}", "a".repeat(fill));
    assert_eq!(head.len(), total);
    head.into_bytes()
}

fn status_for(server: &ServerProcess, head: &[u8]) -> u16 {
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(head);
    let response = conn.read_response(false);
    if response.status != 200 {
        assert!(response.says_close(), "{response:?}");
        conn.wait_closed(CLOSE_WITHIN).unwrap();
    }
    response.status
}

#[test]
fn head_over_8k_is_431() {
    let server = ServerProcess::start();
    assert_eq!(status_for(&server, &head_of_len(8 * 1024)), 200);
    assert_eq!(status_for(&server, &head_of_len(8 * 1024 + 1)), 431);
    assert_eq!(status_for(&server, &head_of_len(9000)), 431);
    assert_eq!(status_for(&server, &head_of_len(64 * 1024)), 431);
}

#[test]
fn endless_head_is_431_without_waiting_for_the_end() {
    // Never send the blank line: the server must answer once the limit is passed.
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    let mut head = b"GET / HTTP/1.1\r\nX-Fill: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 10 * 1024));
    conn.send(&head);
    let response = conn.read_response(false);
    assert_eq!(response.status, 431, "{response:?}");
    conn.wait_closed(CLOSE_WITHIN).unwrap();
}

#[test]
fn max_head_bytes_flag_is_respected() {
    let server = ServerProcess::start_with(&["--max-head-bytes", "1K"]);
    assert_eq!(status_for(&server, &head_of_len(1000)), 200);
    assert_eq!(status_for(&server, &head_of_len(1024)), 200);
    assert_eq!(status_for(&server, &head_of_len(1025)), 431);
    assert_eq!(status_for(&server, &head_of_len(1500)), 431);
    // The same limit applies to an upgrade request.
    let mut upgrade = support::ws::upgrade_head("GET / HTTP/1.1", &[]).into_bytes();
    upgrade.truncate(upgrade.len() - 2);
    upgrade.extend_from_slice(format!("X-Fill: {}\r\n\r\n", "b".repeat(1100)).as_bytes());
    assert_eq!(status_for(&server, &upgrade), 431);
}

#[test]
fn too_many_header_lines_is_431() {
    let server = ServerProcess::start_with(&["--max-headers", "10"]);
    let mut head = String::from("GET / HTTP/1.1\r\n");
    for i in 0..20 {
        head.push_str(&format!("X-{i}: v\r\n"));
    }
    head.push_str("\r\n");
    assert_eq!(status_for(&server, head.as_bytes()), 431);
}

#[test]
fn partial_head_then_silence_is_408_then_close() {
    let timeout = Duration::from_millis(300);
    let server = ServerProcess::start_with(&["--head-timeout", "300ms"]);
    let mut conn = HttpConn::open(server.connect_addr());
    let started = Instant::now();
    conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n");
    // read_response blocks (bounded by the socket timeout) until the server answers.
    let response = conn.read_response(false);
    let waited = started.elapsed();
    assert_eq!(response.status, 408, "{response:?}");
    assert_eq!(response.status_line, "HTTP/1.1 408 Request Timeout");
    assert!(response.says_close(), "{response:?}");
    assert!(
        waited >= timeout - Duration::from_millis(50),
        "408 after only {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "408 took {waited:?}");
    let rest = conn.wait_closed(CLOSE_WITHIN).unwrap();
    assert!(rest.is_empty(), "{rest:?}");
}

#[test]
fn idle_connection_is_closed_without_a_response() {
    let server = ServerProcess::start_with(&["--head-timeout", "300ms"]);
    let mut conn = HttpConn::open(server.connect_addr());
    let rest = conn.wait_closed(CLOSE_WITHIN).unwrap();
    assert!(
        rest.is_empty(),
        "an idle connection got {:?}",
        String::from_utf8_lossy(&rest)
    );
}

#[test]
fn partial_second_keep_alive_request_gets_408() {
    let server = ServerProcess::start_with(&["--head-timeout", "300ms"]);
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(conn.read_response(false).status, 200);
    // The head timeout also covers a later request on a kept-alive connection.
    conn.send(b"GET / HTTP/1.1\r\n");
    let response = conn.read_response(false);
    assert_eq!(response.status, 408, "{response:?}");
    conn.wait_closed(CLOSE_WITHIN).unwrap();
}

#[test]
fn incomplete_head_then_eof_is_400() {
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(b"GET / HTTP/1.1\r\nHost: t\r\n");
    conn.shutdown_write();
    let response = conn.read_response(false);
    assert_eq!(response.status, 400, "{response:?}");
}

#[test]
fn malformed_heads_are_400_or_505() {
    let server = ServerProcess::start();
    for (head, want) in [
        (&b"GET * HTTP/1.1\r\n\r\n"[..], 400),
        (b"GET ftp://example.com/ HTTP/1.1\r\nHost: e\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 505),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
    ] {
        let mut conn = HttpConn::open(server.connect_addr());
        conn.send(head);
        let response = conn.read_response(false);
        assert_eq!(
            response.status,
            want,
            "{:?}: {response:?}",
            String::from_utf8_lossy(head)
        );
        conn.wait_closed(CLOSE_WITHIN).unwrap();
    }
}

#[test]
fn max_connections_refuses_extra_clients_until_one_leaves() {
    let server = ServerProcess::start_with(&["--max-connections", "2"]);
    let addr = server.connect_addr();
    let mut a = support::ws::connect(&server);
    let mut b = support::ws::connect(&server);
    // The third is accepted and closed at once: no handshake.
    assert!(
        support::ws::try_connect(addr, &[]).is_err(),
        "a third connection was served with --max-connections 2"
    );
    // The two admitted ones still work.
    for client in [&mut a, &mut b] {
        assert_eq!(
            support::ws::round_trip(client, tungstenite::Message::text("ab")),
            tungstenite::Message::text("ba")
        );
    }
    drop(a);
    // Once the server has noticed, a new client gets in (poll with a deadline).
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut c = loop {
        match support::ws::try_connect(addr, &[]) {
            Ok((c, _)) => break c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("no slot freed after a client left: {e}"),
        }
    };
    assert_eq!(
        support::ws::round_trip(&mut c, tungstenite::Message::text("xy")),
        tungstenite::Message::text("yx")
    );
}
