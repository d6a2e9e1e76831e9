//! The `Host` header rules of RFC 9112 §3.2: an HTTP/1.1 request without `Host`, or with more
//! than one, MUST get 400. HTTP/1.0 requests need no `Host`.
//!
//! wsloop currently serves such requests (see the `#[ignore]` reasons): these tests document
//! the bug until it is fixed in `src/`.

mod support;

use std::time::Duration;

use support::http::{self, HttpConn};
use support::ServerProcess;

fn answer(server: &ServerProcess, request: &[u8]) -> http::HttpResponse {
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(request);
    let response = conn.read_response(false);
    let _ = conn.wait_closed(Duration::from_secs(5));
    response
}

#[test]
fn http11_without_host_is_400() {
    let server = ServerProcess::start();
    let response = answer(&server, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(response.status, 400, "{}", response.status_line);
}

#[test]
fn two_host_headers_are_400() {
    let server = ServerProcess::start();
    let response = answer(
        &server,
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(response.status, 400, "{}", response.status_line);
}

#[test]
fn http10_without_host_is_served() {
    let server = ServerProcess::start();
    let response = answer(&server, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(response.status, 200, "{}", response.status_line);
}
