//! The HTTP publish endpoint in the real binary (`--publish-token`): `POST /publish/TOPIC`
//! reaches the WebSocket subscribers of TOPIC (here `lws-mirror-protocol` members, whose
//! instance NAME is the topic `mirror/NAME`), as text or binary by body and `Content-Type`,
//! in one order, with one loop and with `--threads 2`; a missing or wrong token is 401 and
//! publishes nothing; a body over `--max-message-bytes` is 413; without the flag the path is
//! an ordinary static one.

mod support;

use std::net::SocketAddr;

use support::http::{HttpConn, HttpResponse};
use support::ws::{next_data, try_connect_to, Client};
use support::ServerProcess;
use tungstenite::Message;

const TOKEN: &str = "s3cret-Token_42";
const MEMBERS: usize = 6;

fn start(extra: &[&str]) -> ServerProcess {
    let mut args = vec!["--publish-token", TOKEN, "--max-message-bytes", "4K"];
    args.extend_from_slice(extra);
    ServerProcess::start_with(&args)
}

/// Members of mirror instance `room`, each known to be subscribed: it got its own message
/// back (through the bus, with several loops).
fn members(addr: SocketAddr, room: &str) -> Vec<Client> {
    let mut members: Vec<Client> = (0..MEMBERS)
        .map(|_| {
            try_connect_to(addr, &format!("/?mirror={room}"), &["lws-mirror-protocol"])
                .expect("join")
                .0
        })
        .collect();
    for (i, member) in members.iter_mut().enumerate() {
        let ready = format!("ready-{i}");
        member.send(Message::text(ready.clone())).unwrap();
        while next_data(member) != Message::text(ready.clone()) {}
    }
    members
}

/// The next message that is not a member's `ready-N`.
fn next_published(member: &mut Client) -> Message {
    loop {
        match next_data(member) {
            Message::Text(text) if text.starts_with("ready-") => continue,
            message => return message,
        }
    }
}

fn publish(addr: SocketAddr, topic: &str, headers: &str, body: &[u8]) -> HttpResponse {
    let mut conn = HttpConn::open(addr);
    let head = format!(
        "POST /publish/{topic} HTTP/1.1\r\nHost: t\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    );
    conn.send(&[head.as_bytes(), body].concat());
    conn.read_response(false)
}

fn bearer() -> String {
    format!("Authorization: Bearer {TOKEN}\r\n")
}

fn publishes_reach_every_member(server: &ServerProcess) {
    let addr = server.connect_addr();
    let mut room = members(addr, "room");
    let auth = bearer();
    let cases: [(&str, &[u8], Message); 5] = [
        ("", b"plain text", Message::text("plain text")),
        (
            "Content-Type: text/plain; charset=utf-8\r\n",
            "ünïcödé".as_bytes(),
            Message::text("ünïcödé"),
        ),
        (
            "Content-Type: application/octet-stream\r\n",
            b"bytes",
            Message::binary(b"bytes".to_vec()),
        ),
        (
            "Content-Type: text/plain\r\n",
            b"not \xff utf-8",
            Message::binary(b"not \xff utf-8".to_vec()),
        ),
        ("", b"", Message::text("")),
    ];
    for (headers, body, _) in &cases {
        let response = publish(addr, "mirror/room", &format!("{auth}{headers}"), body);
        assert_eq!(response.status, 204, "{response:?}");
        assert!(response.body.is_empty());
    }
    // A chunked body, and a topic spelled with an escape.
    let mut conn = HttpConn::open(addr);
    conn.send(
        format!(
            "POST /publish/mirror%2Froom HTTP/1.1\r\nHost: t\r\n{auth}\
             Transfer-Encoding: chunked\r\n\r\n4\r\nchun\r\n3\r\nked\r\n0\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(conn.read_response(false).status, 204);
    for member in &mut room {
        for (_, _, want) in &cases {
            assert_eq!(&next_published(member), want);
        }
        assert_eq!(next_published(member), Message::text("chunked"));
    }
}

#[test]
fn http_publishes_reach_websocket_subscribers_as_text_and_binary() {
    let server = start(&[]);
    publishes_reach_every_member(&server);
}

#[test]
fn http_publishes_reach_subscribers_on_every_loop() {
    let server = start(&["--threads", "2"]);
    publishes_reach_every_member(&server);
}

#[test]
fn a_missing_or_wrong_token_is_401_and_publishes_nothing() {
    let server = start(&[]);
    let addr = server.connect_addr();
    let mut room = members(addr, "guarded");
    for headers in [
        String::new(),
        "Authorization: Bearer wrong\r\n".into(),
        format!("Authorization: Bearer {TOKEN}x\r\n"),
        format!("Authorization: Basic {TOKEN}\r\n"),
        format!("Authorization: {TOKEN}\r\n"),
        format!("{}{}", bearer(), bearer()),
    ] {
        let response = publish(addr, "mirror/guarded", &headers, b"forged");
        assert_eq!(response.status, 401, "{headers:?}: {response:?}");
        assert_eq!(
            response.header("www-authenticate"),
            Some("Bearer realm=\"publish\"")
        );
        assert!(response.says_close(), "a body was left unread");
    }
    // With Expect: 100-continue, the 401 comes at once and no 100 before it.
    let mut conn = HttpConn::open(addr);
    conn.send(
        b"POST /publish/mirror/guarded HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\
          Content-Length: 6\r\n\r\n",
    );
    assert_eq!(conn.read_response(false).status, 401);
    let response = publish(addr, "mirror/guarded", &bearer(), b"genuine");
    assert_eq!(response.status, 204);
    for member in &mut room {
        assert_eq!(next_published(member), Message::text("genuine"));
    }
}

#[test]
fn refusals_by_size_method_and_topic() {
    let server = start(&[]);
    let addr = server.connect_addr();
    let auth = bearer();
    assert_eq!(publish(addr, "t", &auth, &[b'x'; 4096]).status, 204);
    let over = publish(addr, "t", &auth, &[b'x'; 4097]);
    assert_eq!(over.status, 413, "{over:?}");
    let long_topic = "t".repeat(257);
    for topic in ["", "%zz", long_topic.as_str()] {
        assert_eq!(publish(addr, topic, &auth, b"x").status, 400, "{topic:?}");
    }
    for (request, status, allow) in [
        (
            &b"GET /publish/t HTTP/1.1\r\nHost: t\r\n\r\n"[..],
            405,
            Some("OPTIONS, POST"),
        ),
        (
            b"PUT /publish/t HTTP/1.1\r\nHost: t\r\n\r\n",
            405,
            Some("OPTIONS, POST"),
        ),
        (
            b"OPTIONS /publish/t HTTP/1.1\r\nHost: t\r\n\r\n",
            204,
            Some("OPTIONS, POST"),
        ),
        (b"BREW /publish/t HTTP/1.1\r\nHost: t\r\n\r\n", 501, None),
    ] {
        let response = support::http::request(addr, request, false);
        assert_eq!(response.status, status, "{response:?}");
        assert_eq!(response.header("allow"), allow);
    }
    // Expect: 100-continue with the right token: 100, then the body, then 204.
    let mut conn = HttpConn::open(addr);
    conn.send(
        format!(
            "POST /publish/t HTTP/1.1\r\nHost: t\r\n{auth}Expect: 100-continue\r\n\
             Content-Length: 2\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(conn.read_response(false).status, 100);
    conn.send(b"ok");
    assert_eq!(conn.read_response(false).status, 204);
}

#[test]
fn without_the_flag_the_path_is_static() {
    let server = ServerProcess::start();
    let addr = server.connect_addr();
    let response = publish(addr, "t", &bearer(), b"x");
    assert_eq!(response.status, 405, "{response:?}");
    assert_eq!(response.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(support::http::get(addr, "/publish/t").status, 404);
}

#[test]
fn a_bad_token_on_the_command_line_is_a_usage_error() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wsloop"))
        .args(["--publish-token", "two words"])
        .output()
        .expect("run wsloop");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--publish-token"), "{stderr}");
}
