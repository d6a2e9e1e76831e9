//! Static files over HTTP/1.x with raw requests: GET and HEAD of `/`, 404, 405 with `Allow`,
//! keep-alive, pipelining, large files sent to a client that reads late (partial writes of
//! head and body), HTTP/1.0 and `Connection: close` closing after the response, and the connection closed
//! after answering a request whose body nobody reads.

mod support;

use std::fs;
use std::time::Duration;

use support::http::{self, HttpConn};
use support::{scratch_dir, www_dir, ServerProcess};

const CLOSE_WITHIN: Duration = Duration::from_secs(5);

fn index_html() -> Vec<u8> {
    fs::read(www_dir().join("index.html")).expect("read www/index.html")
}

#[test]
fn get_root_serves_index_html() {
    let server = ServerProcess::start();
    let response = http::get(server.connect_addr(), "/");
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "{content_type:?}");
    let index = index_html();
    assert_eq!(response.content_length(), Some(index.len()));
    assert!(response.body == index, "body differs from www/index.html");

    // /index.html is the same file.
    let direct = http::get(server.connect_addr(), "/index.html");
    assert_eq!(direct.status, 200);
    assert!(direct.body == index);

    // A query string is not part of the path.
    let query = http::get(server.connect_addr(), "/?x=1&y=%2e%2e");
    assert_eq!(query.status, 200);
    assert!(query.body == index);
}

#[test]
fn head_has_the_same_headers_and_no_body() {
    let server = ServerProcess::start();
    let get = http::get(server.connect_addr(), "/");
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(b"HEAD / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    let head = conn.read_response(true);
    assert_eq!(head.status, 200);
    assert_eq!(head.headers, get.headers, "HEAD and GET headers differ");
    assert_eq!(head.content_length(), Some(index_html().len()));
    let rest = conn.wait_closed(CLOSE_WITHIN).unwrap();
    assert!(
        rest.is_empty(),
        "HEAD response carried {} body bytes",
        rest.len()
    );
}

#[test]
fn head_then_get_on_one_connection() {
    // If HEAD leaked a body, the second response would be garbage.
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(b"HEAD / HTTP/1.1\r\nHost: test\r\n\r\nGET / HTTP/1.1\r\nHost: test\r\n\r\n");
    let head = conn.read_response(true);
    assert_eq!(head.status, 200);
    let get = conn.read_response(false);
    assert_eq!(get.status, 200, "{get:?}");
    assert!(get.body == index_html());
}

#[test]
fn missing_file_is_404() {
    let server = ServerProcess::start();
    for path in ["/nope.html", "/no/such/dir/", "/index.html/"] {
        let response = http::get(server.connect_addr(), path);
        assert_eq!(response.status, 404, "{path}: {response:?}");
        assert_eq!(response.status_line, "HTTP/1.1 404 Not Found");
    }
}

#[test]
fn other_methods_are_405_with_allow() {
    let server = ServerProcess::start();
    for method in ["POST", "PUT", "DELETE", "PATCH", "TRACE"] {
        let req = format!(
            "{method} / HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let response = http::request(server.connect_addr(), req.as_bytes(), false);
        assert_eq!(response.status, 405, "{method}: {response:?}");
        let allow = response.header("allow").unwrap_or_default();
        assert!(
            allow.contains("GET") && allow.contains("HEAD"),
            "{method}: Allow {allow:?}"
        );
    }
}

#[test]
fn keep_alive_serves_two_requests_on_one_connection() {
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n");
    let first = conn.read_response(false);
    assert_eq!(first.status, 200);
    assert!(!first.says_close(), "{first:?}");
    conn.send(b"GET /nope HTTP/1.1\r\nHost: test\r\n\r\n");
    let second = conn.read_response(false);
    assert_eq!(second.status, 404);
    // 404 is an ordinary answer: the connection stays usable.
    conn.send(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_eq!(conn.read_response(false).status, 200);
}

#[test]
fn http10_keep_alive_when_asked() {
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let first = conn.read_response(false);
    assert_eq!(first.status, 200);
    assert!(
        first
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("keep-alive")),
        "{first:?}"
    );
    conn.send(b"GET / HTTP/1.0\r\n\r\n");
    let second = conn.read_response(false);
    assert_eq!(second.status, 200);
    assert!(second.says_close(), "{second:?}");
    conn.wait_closed(CLOSE_WITHIN).unwrap();
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(
        b"GET / HTTP/1.1\r\nHost: test\r\n\r\n\
          GET /missing HTTP/1.1\r\nHost: test\r\n\r\n\
          HEAD /index.html HTTP/1.1\r\nHost: test\r\n\r\n",
    );
    let first = conn.read_response(false);
    let second = conn.read_response(false);
    let third = conn.read_response(true);
    assert_eq!([first.status, second.status, third.status], [200, 404, 200]);
    assert!(first.body == index_html());
    assert_eq!(third.content_length(), Some(index_html().len()));
    // Nothing else was sent, and the connection is still open for a fourth request.
    assert!(conn.buffered().is_empty());
    conn.send(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    assert_eq!(conn.read_response(false).status, 200);
    assert!(conn.wait_closed(CLOSE_WITHIN).unwrap().is_empty());
}

#[test]
fn many_pipelined_requests_in_one_write() {
    // More requests than the server handles in one service pass.
    const N: usize = 40;
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    let mut bytes = Vec::new();
    for i in 0..N {
        let path = if i % 2 == 0 { "/" } else { "/missing" };
        bytes.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    }
    conn.send(&bytes);
    for i in 0..N {
        let response = conn.read_response(false);
        let want = if i % 2 == 0 { 200 } else { 404 };
        assert_eq!(response.status, want, "response {i}");
    }
}

#[test]
fn large_files_arrive_whole_when_the_client_reads_late() {
    // Larger than the socket buffers, so the server's writes stop part-way through the first
    // body and go on, body and then the next head and body, as the client drains them.
    const SIZE: usize = 12 << 20;
    let www = scratch_dir(&format!("large-file-{}", std::process::id()));
    let body: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    fs::write(www.join("big.bin"), &body).unwrap();
    let server = ServerProcess::start_with(&["--www", www.to_str().unwrap()]);
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(
        b"GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n\
          GET /big.bin HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..2 {
        let response = conn.read_response(false);
        assert_eq!(response.status, 200, "response {i}");
        assert_eq!(response.content_length(), Some(SIZE), "response {i}");
        assert!(response.body == body, "response {i}: body differs");
    }
    assert!(conn.wait_closed(CLOSE_WITHIN).unwrap().is_empty());
}

#[test]
fn http10_closes_after_the_response() {
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(b"GET / HTTP/1.0\r\n\r\n");
    let response = conn.read_response(false);
    assert_eq!(response.status, 200);
    assert!(response.body == index_html());
    assert!(response.says_close(), "{response:?}");
    let rest = conn.wait_closed(CLOSE_WITHIN).unwrap();
    assert!(rest.is_empty(), "{rest:?}");
}

#[test]
fn connection_close_closes_after_the_response() {
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    // The second request must not be answered: the first one said close.
    conn.send(
        b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n\
          GET / HTTP/1.1\r\nHost: test\r\n\r\n",
    );
    let response = conn.read_response(false);
    assert_eq!(response.status, 200);
    assert!(response.says_close(), "{response:?}");
    let rest = conn.wait_closed(CLOSE_WITHIN).unwrap();
    assert!(
        rest.is_empty(),
        "answered past Connection: close: {:?}",
        String::from_utf8_lossy(&rest)
    );
}

#[test]
fn a_body_nobody_reads_closes_the_connection_after_the_answer() {
    let server = ServerProcess::start();
    for (req, want) in [
        (&b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"[..], 405),
        (b"GET / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc", 200),
        (b"PUT /x HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 405),
    ] {
        let mut conn = HttpConn::open(server.connect_addr());
        conn.send(req);
        let response = conn.read_response(false);
        assert_eq!(
            response.status,
            want,
            "{}: {response:?}",
            String::from_utf8_lossy(req)
        );
        assert!(response.says_close(), "{response:?}");
        // The body is never parsed as a request: nothing but EOF follows.
        let rest = conn.wait_closed(CLOSE_WITHIN).unwrap();
        assert!(rest.is_empty(), "{:?}", String::from_utf8_lossy(&rest));
    }
}

#[test]
fn content_length_zero_is_not_a_body() {
    let server = ServerProcess::start();
    let response = http::request(
        server.connect_addr(),
        b"GET / HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        false,
    );
    assert_eq!(response.status, 200);
}
