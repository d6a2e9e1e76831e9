//! Subprotocol negotiation (RFC 6455 §4.2.2): the first offered protocol the server knows is
//! echoed in `Sec-WebSocket-Protocol` and decides the behaviour; no offer means the default
//! (`dumb-increment-protocol`) and no header; an offer that matches nothing is refused with 400
//! whose body names the supported protocols. A table with a protocol name twice never serves:
//! `Server::bind` and `Server::from_listener` refuse it.

mod support;

use std::time::Duration;

use support::http::HttpConn;
use support::ws::{self, response_protocol, round_trip, RawWs};
use support::ServerProcess;
use tungstenite::Message;
use wsloop::demo::{Echo, Reverse};
use wsloop::{Config, ProtocolTable, Server};

#[test]
fn offer_dumb_increment_protocol_is_echoed_and_reverses() {
    let server = ServerProcess::start();
    let (mut client, response) = ws::connect_with(&server, &["dumb-increment-protocol"]);
    assert_eq!(
        response_protocol(&response).as_deref(),
        Some("dumb-increment-protocol")
    );
    assert_eq!(
        round_trip(&mut client, Message::text("abc")),
        Message::text("cba")
    );
    client.close(None).unwrap();
}

#[test]
fn offer_echo_is_echoed_and_echoes() {
    let server = ServerProcess::start();
    let (mut client, response) = ws::connect_with(&server, &["echo"]);
    assert_eq!(response_protocol(&response).as_deref(), Some("echo"));
    assert_eq!(
        round_trip(&mut client, Message::text("abc")),
        Message::text("abc")
    );
    assert_eq!(
        round_trip(&mut client, Message::binary(vec![1u8, 2, 3])),
        Message::binary(vec![1u8, 2, 3])
    );
    client.close(None).unwrap();
}

#[test]
fn first_known_offer_wins() {
    let server = ServerProcess::start();
    let (mut client, response) = ws::connect_with(&server, &["nope", "echo"]);
    assert_eq!(response_protocol(&response).as_deref(), Some("echo"));
    assert_eq!(
        round_trip(&mut client, Message::text("abc")),
        Message::text("abc")
    );

    // Order matters: the client's first known preference, not the server's table order.
    let (mut client, response) = ws::connect_with(&server, &["echo", "dumb-increment-protocol"]);
    assert_eq!(response_protocol(&response).as_deref(), Some("echo"));
    assert_eq!(
        round_trip(&mut client, Message::text("xyz")),
        Message::text("xyz")
    );
    let (mut client, response) = ws::connect_with(&server, &["dumb-increment-protocol", "echo"]);
    assert_eq!(
        response_protocol(&response).as_deref(),
        Some("dumb-increment-protocol")
    );
    assert_eq!(
        round_trip(&mut client, Message::text("xyz")),
        Message::text("zyx")
    );
}

#[test]
fn offers_in_separate_header_lines_are_combined() {
    let server = ServerProcess::start();
    let raw = RawWs::open(
        server.connect_addr(),
        &[
            "Sec-WebSocket-Protocol: nope",
            "Sec-WebSocket-Protocol: echo",
        ],
        &[],
    );
    assert_eq!(raw.response.header("sec-websocket-protocol"), Some("echo"));
}

#[test]
fn no_offer_means_no_header_and_reverse() {
    let server = ServerProcess::start();
    let (mut client, response) = ws::connect_with(&server, &[]);
    assert_eq!(response_protocol(&response), None, "{response:?}");
    assert_eq!(
        round_trip(&mut client, Message::text("no offer")),
        Message::text("reffo on")
    );
    client.close(None).unwrap();
}

#[test]
fn unknown_offer_is_400_naming_supported_protocols() {
    let server = ServerProcess::start();
    for offer in ["nope", "nope, nada"] {
        let line = format!("Sec-WebSocket-Protocol: {offer}");
        let head = ws::upgrade_head("GET / HTTP/1.1", &[&line]);
        let mut conn = HttpConn::open(server.connect_addr());
        conn.send(head.as_bytes());
        let response = conn.read_response(false);
        assert_eq!(response.status, 400, "{offer}: {response:?}");
        assert!(!response.has_header("sec-websocket-accept"));
        let body = response.body_text();
        assert!(
            body.contains("dumb-increment-protocol") && body.contains("echo"),
            "{offer}: body should name the supported protocols: {body:?}"
        );
        conn.wait_closed(Duration::from_secs(5)).unwrap();
    }

    // tungstenite sees the refusal as an HTTP error.
    match ws::try_connect(server.connect_addr(), &["nope"]) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 400),
        Err(other) => panic!("expected an HTTP 400, got {other}"),
        Ok(_) => panic!("an unknown protocol was accepted"),
    }
}

#[test]
fn a_protocol_name_twice_is_refused_at_bind() {
    let twice = || {
        ProtocolTable::new()
            .with_protocol(Echo)
            .with_protocol(Reverse::default())
            .with_protocol(Echo)
    };
    let addr = "127.0.0.1:0".parse().unwrap();
    let err = Server::bind(addr, Config::default(), twice()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(
        err.to_string(),
        r#"protocol "echo" is in the table more than once"#
    );

    let listener = mio::net::TcpListener::bind(addr).unwrap();
    let err = Server::from_listener(listener, Config::default(), twice()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains(r#""echo""#), "{err}");
}
