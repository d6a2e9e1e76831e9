//! RFC 9110/9112 conformance of request heads and methods, as a table over raw sockets: each
//! row is the exact bytes a client sends and the status the server must answer (and whether
//! it must close). Request-target forms, methods (`405` with `Allow`, `OPTIONS`, `501`),
//! `Content-Length` and `Transfer-Encoding` errors, header syntax, versions; and a request
//! sent one byte at a time is answered only once complete.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use support::http::{HttpConn, HttpResponse};
use support::ServerProcess;

const CLOSE_WITHIN: Duration = Duration::from_secs(5);

/// What a row expects after the status.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Then {
    /// The connection stays open (another request on it is answered).
    KeepAlive,
    /// `Connection: close`, then EOF with nothing more.
    Close,
}

struct Row {
    what: &'static str,
    request: &'static [u8],
    status: u16,
    then: Then,
}

const fn row(what: &'static str, request: &'static [u8], status: u16, then: Then) -> Row {
    Row {
        what,
        request,
        status,
        then,
    }
}

use Then::{Close, KeepAlive};

const ROWS: &[Row] = &[
    // Request-target forms (RFC 9112 §3.2).
    row("origin-form", b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", 200, KeepAlive),
    row(
        "absolute-form",
        b"GET http://t/ HTTP/1.1\r\nHost: t\r\n\r\n",
        200,
        KeepAlive,
    ),
    row(
        "absolute-form of a file, https, port",
        b"HEAD https://t:9/index.html HTTP/1.1\r\nHost: t\r\n\r\n",
        200,
        KeepAlive,
    ),
    row(
        "absolute-form without a path",
        b"GET http://t HTTP/1.1\r\nHost: t\r\n\r\n",
        200,
        KeepAlive,
    ),
    row(
        "absolute-form with userinfo",
        b"GET http://u@t/ HTTP/1.1\r\nHost: t\r\n\r\n",
        400,
        Close,
    ),
    row(
        "absolute-form, other scheme",
        b"GET ftp://t/ HTTP/1.1\r\nHost: t\r\n\r\n",
        400,
        Close,
    ),
    row("asterisk-form with GET", b"GET * HTTP/1.1\r\nHost: t\r\n\r\n", 400, Close),
    // Methods (RFC 9110 §9).
    row("OPTIONS *", b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", 204, KeepAlive),
    row("OPTIONS /path", b"OPTIONS /index.html HTTP/1.1\r\nHost: t\r\n\r\n", 204, KeepAlive),
    row("POST, no body", b"POST / HTTP/1.1\r\nHost: t\r\n\r\n", 405, KeepAlive),
    row(
        "POST with a body (not read)",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nx=1",
        405,
        Close,
    ),
    row(
        "DELETE",
        b"DELETE /index.html HTTP/1.1\r\nHost: t\r\n\r\n",
        405,
        KeepAlive,
    ),
    row("unknown method", b"BREW / HTTP/1.1\r\nHost: t\r\n\r\n", 501, KeepAlive),
    row("methods are case-sensitive", b"get / HTTP/1.1\r\nHost: t\r\n\r\n", 501, KeepAlive),
    row("malformed method", b"G(T / HTTP/1.1\r\nHost: t\r\n\r\n", 400, Close),
    row("CONNECT", b"CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n", 501, Close),
    // Content-Length (RFC 9112 §6.3).
    row(
        "Content-Length negative",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n",
        400,
        Close,
    ),
    row(
        "Content-Length not a number",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ten\r\n\r\n",
        400,
        Close,
    ),
    row(
        "Content-Length with a sign",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +1\r\n\r\nx",
        400,
        Close,
    ),
    row(
        "Content-Length overflowing 64 bits",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 18446744073709551616\r\n\r\n",
        400,
        Close,
    ),
    row(
        "Content-Length repeated, different",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
        400,
        Close,
    ),
    row(
        "Content-Length list, different",
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 2\r\n\r\nxy",
        400,
        Close,
    ),
    row(
        "Content-Length repeated, same, on GET (body not read)",
        b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        200,
        Close,
    ),
    // Transfer-Encoding (RFC 9112 §6.1, §6.3, §7).
    row(
        "Transfer-Encoding with Content-Length",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        400,
        Close,
    ),
    row(
        "unknown transfer coding before chunked",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
        Close,
    ),
    row(
        "unknown transfer coding, another header line",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: x-mine\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        501,
        Close,
    ),
    row(
        "last transfer coding not chunked: length unknown",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
        400,
        Close,
    ),
    row(
        "chunked twice",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        400,
        Close,
    ),
    row(
        "Transfer-Encoding in HTTP/1.0",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        Close,
    ),
    // Header syntax (RFC 9112 §5, §2.2).
    row(
        "space in a header name",
        b"GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n",
        400,
        Close,
    ),
    row(
        "space before the colon",
        b"GET / HTTP/1.1\r\nHost: t\r\nName : x\r\n\r\n",
        400,
        Close,
    ),
    row(
        "delimiter in a header name",
        b"GET / HTTP/1.1\r\nHost: t\r\nX(Y): x\r\n\r\n",
        400,
        Close,
    ),
    row(
        "control byte in a header name",
        b"GET / HTTP/1.1\r\nHost: t\r\nX\x01Y: x\r\n\r\n",
        400,
        Close,
    ),
    row(
        "bare CR in a header value",
        b"GET / HTTP/1.1\r\nHost: t\r\nX: a\rb\r\n\r\n",
        400,
        Close,
    ),
    row(
        "bare CR ending a line",
        b"GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n",
        400,
        Close,
    ),
    row(
        "obs-fold",
        b"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n  folded\r\n\r\n",
        400,
        Close,
    ),
    row("no Host in HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n", 400, Close),
    row(
        "two Hosts",
        b"GET / HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n",
        400,
        Close,
    ),
    // Versions.
    row("request line without a version", b"GET /\r\n\r\n", 400, Close),
    row("HTTP/2.0 in the request line", b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, Close),
    row("HTTP/1.0, no Host needed", b"GET / HTTP/1.0\r\n\r\n", 200, Close),
    // Expectations (RFC 9110 §10.1.1).
    row(
        "unknown expectation",
        b"POST / HTTP/1.1\r\nHost: t\r\nExpect: the-unexpected\r\nContent-Length: 1\r\n\r\nx",
        417,
        Close,
    ),
    row(
        "100-continue on a path that reads no body: the final status at once",
        b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        405,
        Close,
    ),
    // Upgrades carry no body.
    row(
        "upgrade with a body",
        b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Content-Length: 2\r\n\r\nhi",
        400,
        Close,
    ),
];

#[test]
fn conformance_table() {
    let server = ServerProcess::start();
    let mut failures = Vec::new();
    for row in ROWS {
        let mut conn = HttpConn::open(server.connect_addr());
        conn.send(row.request);
        let head_only = row.request.starts_with(b"HEAD ");
        let response = conn.read_response(head_only);
        if let Err(why) = check(row, &response, &mut conn) {
            failures.push(format!("{}: {why}\n  got {response:?}", row.what));
        }
    }
    if !failures.is_empty() {
        server.print_logs();
        panic!(
            "{} of {} rows failed:\n{}",
            failures.len(),
            ROWS.len(),
            failures.join("\n")
        );
    }
}

fn check(row: &Row, response: &HttpResponse, conn: &mut HttpConn) -> Result<(), String> {
    if response.status != row.status {
        return Err(format!(
            "status {} instead of {}",
            response.status, row.status
        ));
    }
    if matches!(response.status, 204 | 405) {
        match response.header("allow") {
            Some("GET, HEAD, OPTIONS") => {}
            other => return Err(format!("Allow {other:?}")),
        }
    }
    match row.then {
        Then::KeepAlive => {
            if response.says_close() {
                return Err("closed a connection that could stay open".into());
            }
            conn.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
            let next = conn.read_response(true);
            if next.status != 200 {
                return Err(format!("the next request got {}", next.status));
            }
        }
        Then::Close => {
            if !response.says_close() {
                return Err("no Connection: close".into());
            }
            let rest = conn.wait_closed(CLOSE_WITHIN)?;
            if !rest.is_empty() {
                return Err(format!(
                    "more after the answer: {:?}",
                    String::from_utf8_lossy(&rest)
                ));
            }
        }
    }
    Ok(())
}

/// Nothing arrives within `within` (the server has not answered).
fn nothing_arrives(conn: &mut HttpConn, within: Duration) -> Result<(), String> {
    conn.stream.set_read_timeout(Some(within)).unwrap();
    let mut byte = [0u8; 1];
    let result = match conn.stream.read(&mut byte) {
        Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(()),
        Ok(0) => Err("the server closed".into()),
        Ok(_) => Err(format!("an early byte {:?}", byte[0] as char)),
        Err(err) => Err(err.to_string()),
    };
    conn.stream
        .set_read_timeout(Some(support::http::IO_TIMEOUT))
        .unwrap();
    result
}

#[test]
fn a_request_sent_one_byte_at_a_time_is_answered_once_complete() {
    let server = ServerProcess::start();
    let request = b"GET /index.html HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n\r\n";
    let mut conn = HttpConn::open(server.connect_addr());
    for (i, byte) in request.iter().enumerate() {
        conn.stream.write_all(std::slice::from_ref(byte)).unwrap();
        if i + 1 < request.len() {
            nothing_arrives(&mut conn, Duration::from_millis(10))
                .unwrap_or_else(|why| panic!("after {} bytes: {why}", i + 1));
        }
    }
    let response = conn.read_response(false);
    assert_eq!(response.status, 200, "{response:?}");
    assert!(!response.says_close());
}
