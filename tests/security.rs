//! Security basics: the Origin allow-list, `nosniff` on static responses, no directory
//! listings, error bodies that never echo the request, and log lines with control characters
//! escaped.

mod support;

use std::fs;
use std::time::Duration;

use support::hostile::poll_until;
use support::http::{self, contains};
use support::ws::{self, upgrade_head};
use support::{scratch_dir, www_dir, ServerProcess};
use tungstenite::Message;

fn upgrade_status(server: &ServerProcess, extra: &[&str]) -> u16 {
    let head = upgrade_head("GET / HTTP/1.1", extra);
    http::request(server.connect_addr(), head.as_bytes(), false).status
}

#[test]
fn origin_allow_list() {
    let server = ServerProcess::start_with(&["--allow-origin", "http://good.example"]);
    assert_eq!(
        upgrade_status(&server, &["Origin: http://good.example"]),
        101
    );
    for bad in [
        "Origin: http://evil.example",
        "Origin: http://good.example.evil.example",
        "Origin: https://good.example",
        "Origin: null",
    ] {
        let head = upgrade_head("GET / HTTP/1.1", &[bad]);
        let resp = http::request(server.connect_addr(), head.as_bytes(), false);
        assert_eq!(resp.status, 403, "{bad}");
        assert!(
            !contains(&resp.body, b"evil"),
            "403 body echoes the Origin: {:?}",
            resp.body_text()
        );
    }
    assert_eq!(upgrade_status(&server, &[]), 403, "missing Origin");
    // Plain HTTP is not subject to the WebSocket Origin check.
    assert_eq!(http::get(server.connect_addr(), "/").status, 200);
}

#[test]
fn static_responses_are_nosniff_and_directories_are_not_listed() {
    let root = scratch_dir("security-www");
    fs::write(root.join("index.html"), "<h1>ok</h1>").unwrap();
    fs::create_dir_all(root.join("dir-without-index")).unwrap();
    fs::write(root.join("dir-without-index").join("secret.txt"), "secret").unwrap();
    let root_arg = root.to_str().unwrap().to_string();
    let server = ServerProcess::start_with(&["--www", &root_arg]);

    let ok = http::get(server.connect_addr(), "/");
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.header("x-content-type-options"),
        Some("nosniff"),
        "{ok:?}"
    );

    for path in ["/dir-without-index/", "/dir-without-index"] {
        let resp = http::get(server.connect_addr(), path);
        assert_eq!(resp.status, 404, "{path}: {resp:?}");
        assert!(
            !contains(&resp.body, b"secret"),
            "{path} lists the directory: {:?}",
            resp.body_text()
        );
    }
    // The listed file itself is of course served.
    assert_eq!(
        http::get(server.connect_addr(), "/dir-without-index/secret.txt").status,
        200
    );
    // The default www dir works too (sanity: the override took effect above).
    assert!(www_dir().join("index.html").exists());
}

#[test]
fn error_bodies_never_echo_the_request() {
    let server = ServerProcess::start();
    for path in [
        "/%3Cscript%3Ealert(1)%3C/script%3E",
        "/<script>alert(1)</script>",
        "/x<script>",
    ] {
        let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        let resp = http::request(server.connect_addr(), req.as_bytes(), false);
        assert!(
            resp.status == 404 || resp.status == 400,
            "{path}: {}",
            resp.status_line
        );
        let body = resp.body_text().to_ascii_lowercase();
        assert!(!body.contains("<script"), "{path}: body {body:?}");
        assert!(!body.contains("alert"), "{path}: body {body:?}");
        assert_ne!(
            resp.header("content-type").map(str::to_ascii_lowercase),
            Some("text/html".into()),
            "{path}: error served as HTML"
        );
    }
}

#[test]
fn logged_messages_have_control_characters_escaped() {
    let server = ServerProcess::start();
    let mut client = ws::connect(&server);
    let evil = "\x1b[2J\nFAKE [INFO  wsloop] conn#999 closed (1000)\x07";
    let reply = ws::round_trip(&mut client, Message::text(evil));
    assert!(matches!(reply, Message::Text(_)));
    let line = poll_until(Duration::from_secs(5), || {
        server
            .stderr()
            .lines()
            .find(|l| l.contains("received:") && l.contains("FAKE"))
            .map(str::to_string)
    })
    .unwrap_or_else(|| panic!("no received line in the log:\n{}", server.stderr()));
    assert!(line.contains("\\u{1b}[2J\\nFAKE"), "not escaped: {line:?}");
    let log = server.stderr();
    assert!(!log.contains('\x1b'), "raw ESC in the log: {log:?}");
    assert!(!log.contains('\x07'), "raw BEL in the log: {log:?}");
    assert!(
        !log.lines().any(|l| l.starts_with("FAKE")),
        "a forged log line: {log:?}"
    );
}

/// With `--allow-origin`, a request carrying `Origin: http://good.example` and then
/// `Origin: http://evil.example` is refused: RFC 6454 §7 allows at most one `Origin`, and
/// checking only the first let the second slip past (fixed in src/conn/upgrade.rs).
#[test]
fn a_repeated_origin_is_refused() {
    let server = ServerProcess::start_with(&["--allow-origin", "http://good.example"]);
    let status = upgrade_status(
        &server,
        &["Origin: http://good.example", "Origin: http://evil.example"],
    );
    assert!(status == 403 || status == 400, "got {status}");
}
