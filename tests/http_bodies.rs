//! Request bodies for the HTTP entry's callback (`Reason::HttpBody`, `HttpBodyCompletion`),
//! through `wsloop::demo::EchoBody` (the protocol `examples/echo_body.rs` serves) in a server
//! in this process, over raw sockets and curl: `Content-Length` and `chunked` bodies echoed,
//! keep-alive and pipelining after them, pieces delivered as they arrive (seen by a
//! WebSocket subscriber while the body is still on its way), `Expect: 100-continue`,
//! `max_body_bytes` (413), `body_timeout` (408), bad chunked framing (400).

mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use support::http::{HttpConn, HttpResponse};
use support::inproc::InProcess;
use support::ws::{next_data, try_connect_to};
use tungstenite::Message;
use wsloop::demo::echo_body::PIECES_HEADER;
use wsloop::demo::{EchoBody, Mirror};
use wsloop::http::{Method, Response};
use wsloop::{Config, Context, Outcome, Protocol, ProtocolTable, Reason};

const MAX_BODY: usize = 64 * 1024;
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

fn config() -> Config {
    Config::default()
        .with_max_body_bytes(MAX_BODY)
        .with_body_timeout(Duration::from_millis(400))
}

fn echo_server() -> InProcess {
    InProcess::start(config(), || ProtocolTable::with_http(EchoBody))
}

fn post(conn: &mut HttpConn, head: &str, body: &[u8]) -> HttpResponse {
    conn.send(&[head.as_bytes(), body].concat());
    conn.read_response(false)
}

fn assert_echo(response: &HttpResponse, body: &[u8]) {
    assert_eq!(response.status, 200, "{response:?}");
    assert!(
        response.body == body,
        "echo of {} bytes differs",
        body.len()
    );
}

fn assert_refused(conn: &mut HttpConn, status: u16) {
    let response = conn.read_response(false);
    assert_eq!(response.status, status, "{response:?}");
    assert!(response.says_close(), "{response:?}");
    let rest = conn.wait_closed(CLOSE_WITHIN).unwrap();
    assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
}

#[test]
fn content_length_bodies_are_echoed_and_the_connection_kept() {
    let server = echo_server();
    let mut conn = HttpConn::open(server.addr);
    let head =
        "POST /a HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n";
    let response = post(&mut conn, head, b"hello");
    assert_echo(&response, b"hello");
    assert_eq!(response.header("content-type"), Some("text/plain"));
    assert!(!response.says_close());
    // Pipelined: a body, the next request right behind it, and a GET, in one write.
    let binary: Vec<u8> = (0..=255u8).cycle().take(40_000).collect();
    let mut burst = format!(
        "PUT /b HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        binary.len()
    )
    .into_bytes();
    burst.extend_from_slice(&binary);
    burst.extend_from_slice(b"POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
    burst.extend_from_slice(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    conn.send(&burst);
    assert_echo(&conn.read_response(false), &binary);
    assert_echo(&conn.read_response(false), b"");
    assert_eq!(
        conn.read_response(false).status,
        404,
        "no www in this server"
    );
}

#[test]
fn chunked_bodies_are_echoed_with_extensions_and_trailers_dropped() {
    let server = echo_server();
    let mut conn = HttpConn::open(server.addr);
    let head = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    let body =
        b"5;name=value\r\nhello\r\n1\r\n \r\n6 ; q=\"a b\"\r\nworld!\r\n0\r\nX-Sum: 1\r\n\r\n";
    let response = post(&mut conn, head, body);
    assert_echo(&response, b"hello world!");
    // And again on the same connection, cut into many writes.
    let body = b"A\r\n0123456789\r\n0\r\n\r\n";
    conn.send(head.as_bytes());
    for byte in body {
        conn.send(std::slice::from_ref(byte));
    }
    let response = conn.read_response(false);
    assert_echo(&response, b"0123456789");
    let pieces: usize = response.header(PIECES_HEADER).unwrap().parse().unwrap();
    assert!((1..=10).contains(&pieces), "{pieces} pieces");
}

#[test]
fn curl_uploads_are_echoed_byte_for_byte() {
    if Command::new("curl").arg("--version").output().is_err() {
        support::skip_or_fail("curl_uploads_are_echoed_byte_for_byte", "curl is missing");
        return;
    }
    let server = echo_server();
    let dir = support::scratch_dir("http-bodies");
    let file = dir.join("upload.bin");
    let data: Vec<u8> = (0..MAX_BODY as u32)
        .map(|i| (i * 7 + i / 251) as u8)
        .collect();
    std::fs::write(&file, &data).unwrap();
    // curl sends `Expect: 100-continue` for uploads this large, and chunks with the header.
    for extra in [&[][..], &["-H", "Transfer-Encoding: chunked"]] {
        let output = Command::new("curl")
            .args(["-sS", "--max-time", "10", "-T"])
            .arg(&file)
            .args(extra)
            .arg(format!("http://{}/upload", server.addr))
            .output()
            .expect("run curl");
        assert!(output.status.success(), "{output:?}");
        assert!(output.stdout == data, "{extra:?}: echo differs");
    }
}

/// An HTTP entry that publishes every body piece to `mirror/pieces` as it arrives, then
/// answers with the number of pieces.
struct PieceMirror;

impl Protocol for PieceMirror {
    type Session = usize;
    fn name(&self) -> &str {
        "piece-mirror"
    }
    fn new_session(&mut self) -> usize {
        0
    }
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, usize>) -> Outcome {
        match reason {
            Reason::Http { request } if request.method() != &Method::Get => Outcome::ReadBody,
            Reason::HttpBody { session, data, .. } => {
                *session += 1;
                cx.publish("mirror/pieces", data.to_vec()).unwrap();
                Outcome::Continue
            }
            Reason::HttpBodyCompletion { session, .. } => {
                Outcome::Respond(Response::new(200).with_body("text/plain", session.to_string()))
            }
            _ => Outcome::Continue,
        }
    }
}

fn mirror_member(addr: SocketAddr) -> support::ws::Client {
    let (mut ws, _) =
        try_connect_to(addr, "/?mirror=pieces", &["lws-mirror-protocol"]).expect("join");
    // Its own message back: the subscription is in place.
    ws.send(Message::text("ready")).unwrap();
    assert_eq!(next_data(&mut ws), Message::text("ready"));
    ws
}

#[test]
fn pieces_reach_the_callback_while_the_body_is_still_arriving() {
    let server = InProcess::start(config(), || {
        ProtocolTable::with_http(PieceMirror).with_protocol(Mirror)
    });
    let mut member = mirror_member(server.addr);
    let mut conn = HttpConn::open(server.addr);
    conn.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nfirst");
    // The first half is seen before the second half is even sent.
    assert_eq!(next_data(&mut member), Message::binary(b"first".to_vec()));
    conn.send(b"chunk");
    assert_eq!(next_data(&mut member), Message::binary(b"chunk".to_vec()));
    let response = conn.read_response(false);
    assert_eq!((response.status, response.body_text()), (200, "2".into()));
    // Chunked too: each chunk's data as it comes.
    conn.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n");
    assert_eq!(next_data(&mut member), Message::binary(b"one".to_vec()));
    conn.send(b"3\r\ntwo\r\n0\r\n\r\n");
    assert_eq!(next_data(&mut member), Message::binary(b"two".to_vec()));
    assert_eq!(conn.read_response(false).body_text(), "2");
}

#[test]
fn expect_100_continue_is_answered_before_the_body_is_sent() {
    let server = echo_server();
    let mut conn = HttpConn::open(server.addr);
    conn.send(b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    let interim = conn.read_response(false);
    assert_eq!(interim.status_line, "HTTP/1.1 100 Continue");
    conn.send(b"body");
    assert_echo(&conn.read_response(false), b"body");
    // A body over the limit gets its final status at once, without 100.
    let mut conn = HttpConn::open(server.addr);
    let head = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        MAX_BODY + 1
    );
    conn.send(head.as_bytes());
    assert_refused(&mut conn, 413);
    // A path that reads no body (GET here: static files) answers at once too.
    let mut conn = HttpConn::open(server.addr);
    conn.send(b"GET / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
    assert_refused(&mut conn, 404);
}

#[test]
fn bodies_over_max_body_bytes_are_413() {
    let server = echo_server();
    let mut conn = HttpConn::open(server.addr);
    let exactly = vec![b'x'; MAX_BODY];
    let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {MAX_BODY}\r\n\r\n");
    assert_echo(&post(&mut conn, &head, &exactly), &exactly);
    // Refused from the head: no byte of the body needs to be sent.
    let head = format!(
        "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        MAX_BODY + 1
    );
    let mut conn = HttpConn::open(server.addr);
    conn.send(head.as_bytes());
    assert_refused(&mut conn, 413);
    // Chunked: refused at the chunk line that passes the limit.
    let mut conn = HttpConn::open(server.addr);
    let half = MAX_BODY / 2;
    let mut request = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    request.extend_from_slice(format!("{half:x}\r\n").as_bytes());
    request.extend(std::iter::repeat_n(b'y', half));
    request.extend_from_slice(format!("\r\n{:x}\r\n", half + 1).as_bytes());
    conn.send(&request);
    assert_refused(&mut conn, 413);
}

#[test]
fn a_slow_body_is_cut_by_body_timeout_with_408() {
    let server = echo_server();
    let mut conn = HttpConn::open(server.addr);
    let started = Instant::now();
    conn.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\npart");
    // A trickle does not extend it.
    for _ in 0..3 {
        conn.stream.write_all(b"x").unwrap();
    }
    assert_refused(&mut conn, 408);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(350), "408 after {waited:?}");
}

#[test]
fn bad_chunked_framing_is_400() {
    let server = echo_server();
    for body in [
        &b"x\r\nabc\r\n0\r\n\r\n"[..],
        b"0x3\r\nabc\r\n0\r\n\r\n",
        b"-3\r\nabc\r\n0\r\n\r\n",
        b"00000000000000003\r\nabc\r\n0\r\n\r\n",
        b"3\nabc\r\n0\r\n\r\n",
        b"3\r\nabcd\r\n0\r\n\r\n",
        b"3;bad name\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabc\r\n0\r\nBad Trailer: x\r\n\r\n",
    ] {
        let mut conn = HttpConn::open(server.addr);
        conn.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        conn.send(body);
        let response = conn.read_response(false);
        assert_eq!(
            response.status,
            400,
            "{:?}: {response:?}",
            String::from_utf8_lossy(body)
        );
        assert!(response.says_close());
    }
}

#[test]
fn a_body_cut_short_is_400() {
    let server = echo_server();
    let mut conn = HttpConn::open(server.addr);
    conn.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nshort");
    conn.shutdown_write();
    assert_refused(&mut conn, 400);
}
