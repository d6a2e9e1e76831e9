//! The WebSocket opening handshake (RFC 6455 §4.2) against the real binary, with raw request
//! bytes: a good upgrade gets 101 with the right `Sec-WebSocket-Accept`; every invalid one gets
//! the status §4.2 asks for (405, 400, 426) and the connection is closed; and a frame sent in
//! the same write as the request head is answered, not lost.

mod support;

use std::time::Duration;

use support::http::{self, HttpConn};
use support::ws::{self, client_frame, op, RawWs, SAMPLE_ACCEPT};
use support::ServerProcess;
use tungstenite::handshake::derive_accept_key;
use tungstenite::Message;

const CLOSE_WITHIN: Duration = Duration::from_secs(5);

#[test]
fn good_upgrade_gets_101_with_accept_key() {
    let server = ServerProcess::start();
    let raw = RawWs::open(server.connect_addr(), &[], &[]);
    let r = &raw.response;
    assert_eq!(r.status_line, "HTTP/1.1 101 Switching Protocols");
    assert_eq!(r.header("sec-websocket-accept"), Some(SAMPLE_ACCEPT));
    assert!(
        r.header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket")),
        "{r:?}"
    );
    assert!(
        r.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("upgrade")),
        "{r:?}"
    );
    // No offer, so no protocol is echoed (RFC 6455 §4.2.2).
    assert!(!r.has_header("sec-websocket-protocol"), "{r:?}");
    assert!(raw.conn.buffered().is_empty(), "bytes after the 101 head");
}

#[test]
fn accept_key_is_derived_from_the_clients_key() {
    let server = ServerProcess::start();
    let key = tungstenite::handshake::client::generate_key();
    let line = format!("Sec-WebSocket-Key: {key}");
    let raw = RawWs::open(server.connect_addr(), &[&line], &[]);
    assert_eq!(
        raw.response.header("sec-websocket-accept"),
        Some(derive_accept_key(key.as_bytes()).as_str())
    );
}

#[test]
fn tungstenite_client_handshake_and_round_trip() {
    let server = ServerProcess::start();
    let mut client = ws::connect(&server);
    assert_eq!(
        ws::round_trip(&mut client, Message::text("handshake")),
        Message::text("ekahsdnah")
    );
    client.close(None).unwrap();
}

/// Send `head`, expect `status`, the connection to be closed afterwards, and return the response.
fn refused(server: &ServerProcess, head: &str, status: u16) -> http::HttpResponse {
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(head.as_bytes());
    let response = conn.read_response(false);
    assert_eq!(
        response.status, status,
        "request:\n{head}\nresponse: {response:?}"
    );
    assert!(
        response
            .status_line
            .starts_with(&format!("HTTP/1.1 {status} ")),
        "{response:?}"
    );
    assert!(!response.has_header("sec-websocket-accept"), "{response:?}");
    assert!(response.says_close(), "refusal should close: {response:?}");
    let rest = conn
        .wait_closed(CLOSE_WITHIN)
        .unwrap_or_else(|e| panic!("after {status} for\n{head}\n{e}"));
    assert!(rest.is_empty(), "bytes after the refusal: {rest:?}");
    response
}

#[test]
fn non_get_upgrade_is_405_with_allow() {
    let server = ServerProcess::start();
    for method in ["POST", "PUT", "HEAD"] {
        let head = ws::upgrade_head(&format!("{method} / HTTP/1.1"), &[]);
        let response = if method == "HEAD" {
            // A HEAD response has no body even though Content-Length is set.
            let mut conn = HttpConn::open(server.connect_addr());
            conn.send(head.as_bytes());
            let r = conn.read_response(true);
            assert_eq!(r.status, 405, "{method}: {r:?}");
            conn.wait_closed(CLOSE_WITHIN).unwrap();
            r
        } else {
            refused(&server, &head, 405)
        };
        assert_eq!(
            response.header("allow"),
            Some("GET"),
            "{method}: {response:?}"
        );
    }
}

#[test]
fn http10_upgrade_is_400() {
    let server = ServerProcess::start();
    refused(&server, &ws::upgrade_head("GET / HTTP/1.0", &[]), 400);
}

#[test]
fn missing_connection_upgrade_token_is_400() {
    let server = ServerProcess::start();
    for connection in [
        "Connection: <omit>",
        "Connection: keep-alive",
        "Connection: upgraded",
    ] {
        let head = ws::upgrade_head("GET / HTTP/1.1", &[connection]);
        refused(&server, &head, 400);
    }
}

#[test]
fn connection_token_list_with_upgrade_is_accepted() {
    let server = ServerProcess::start();
    let raw = RawWs::open(
        server.connect_addr(),
        &["Connection: keep-alive, Upgrade"],
        &[],
    );
    assert_eq!(
        raw.response.header("sec-websocket-accept"),
        Some(SAMPLE_ACCEPT)
    );
}

#[test]
fn bad_or_missing_key_is_400() {
    let server = ServerProcess::start();
    for key in [
        "Sec-WebSocket-Key: <omit>",
        "Sec-WebSocket-Key: ",
        "Sec-WebSocket-Key: not base64!",
        // Valid base64 but 5 bytes, not 16.
        "Sec-WebSocket-Key: c2hvcnQ=",
        // 16 bytes without the padding.
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ",
    ] {
        let head = ws::upgrade_head("GET / HTTP/1.1", &[key]);
        let response = refused(&server, &head, 400);
        assert!(
            response.body_text().to_lowercase().contains("key"),
            "{key}: {response:?}"
        );
    }
}

#[test]
fn wrong_or_missing_version_is_426_naming_13() {
    let server = ServerProcess::start();
    for version in [
        "Sec-WebSocket-Version: 8",
        "Sec-WebSocket-Version: 12",
        "Sec-WebSocket-Version: 14",
        "Sec-WebSocket-Version: <omit>",
    ] {
        let head = ws::upgrade_head("GET / HTTP/1.1", &[version]);
        let response = refused(&server, &head, 426);
        assert_eq!(
            response.header("sec-websocket-version"),
            Some("13"),
            "{version}: {response:?}"
        );
    }
}

#[test]
fn frame_in_the_same_write_as_the_head_is_answered() {
    let server = ServerProcess::start();
    let mut early = client_frame(true, op::TEXT, b"early bird");
    early.extend(client_frame(true, op::BINARY, &[1, 2, 3]));
    let mut raw = RawWs::open(server.connect_addr(), &[], &early);
    let reply = raw.read_frame();
    assert_eq!(reply.opcode, op::TEXT, "{reply:?}");
    assert!(reply.fin && !reply.masked, "{reply:?}");
    assert_eq!(reply.payload, b"drib ylrae");
    let reply = raw.read_frame();
    assert_eq!(reply.opcode, op::BINARY, "{reply:?}");
    assert_eq!(reply.payload, [3, 2, 1]);
}

#[test]
fn close_frame_in_the_same_write_as_the_head_is_echoed() {
    let server = ServerProcess::start();
    let mut early = client_frame(true, op::TEXT, b"abc");
    early.extend(ws::client_close(1000, "bye"));
    let mut raw = RawWs::open(server.connect_addr(), &[], &early);
    assert_eq!(raw.read_frame().payload, b"cba");
    let close = raw.read_frame();
    assert_eq!(close.close_code(), Some(1000), "{close:?}");
    raw.wait_closed(CLOSE_WITHIN).unwrap();
}

#[test]
fn head_and_frame_sent_one_byte_at_a_time() {
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    let mut bytes = ws::upgrade_head("GET / HTTP/1.1", &[]).into_bytes();
    bytes.extend(client_frame(true, op::TEXT, b"slow"));
    for b in bytes {
        conn.send(&[b]);
    }
    let response = conn.read_response(false);
    assert_eq!(response.status, 101, "{response:?}");
    let mut raw = RawWs { conn, response };
    assert_eq!(raw.read_frame().payload, b"wols");
}

#[test]
fn upgrade_pipelined_after_an_http_request() {
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    let mut bytes = b"GET /missing HTTP/1.1\r\nHost: t\r\n\r\n".to_vec();
    bytes.extend(ws::upgrade_head("GET / HTTP/1.1", &[]).into_bytes());
    bytes.extend(client_frame(true, op::TEXT, b"pipe"));
    conn.send(&bytes);
    assert_eq!(conn.read_response(false).status, 404);
    let response = conn.read_response(false);
    assert_eq!(response.status, 101, "{response:?}");
    let mut raw = RawWs { conn, response };
    assert_eq!(raw.read_frame().payload, b"epip");
}

#[test]
fn upgrade_without_host_is_400() {
    let server = ServerProcess::start();
    refused(
        &server,
        &ws::upgrade_head("GET / HTTP/1.1", &["Host: <omit>"]),
        400,
    );
}
