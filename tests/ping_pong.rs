//! Pings are answered with pongs carrying the same payload (RFC 6455 §5.5.3), also in the
//! middle of a fragmented message, and data keeps flowing afterwards.

mod support;

use support::ws::{self, client_frame, op, RawWs};
use support::ServerProcess;
use tungstenite::Message;

fn expect_pong(client: &mut ws::Client, payload: &[u8]) {
    match client.read().expect("read pong") {
        Message::Pong(p) => assert_eq!(&p[..], payload),
        other => panic!("expected a pong, got {other:?}"),
    }
}

#[test]
fn ping_gets_pong_with_the_same_payload() {
    let server = ServerProcess::start();
    let mut client = ws::connect(&server);
    for payload in [
        &b"hello ping"[..],
        b"",
        &[0u8, 0xff, 0x80, 1],
        &[b'x'; 125], // the largest control-frame payload
    ] {
        client.send(Message::Ping(payload.to_vec().into())).unwrap();
        expect_pong(&mut client, payload);
    }
    // Still a working connection.
    assert_eq!(
        ws::round_trip(&mut client, Message::text("after")),
        Message::text("retfa")
    );
    client.close(None).unwrap();
}

#[test]
fn ping_on_echo_protocol_too() {
    let server = ServerProcess::start();
    let (mut client, _) = ws::connect_with(&server, &["echo"]);
    client.send(Message::Ping(b"e".to_vec().into())).unwrap();
    expect_pong(&mut client, b"e");
}

#[test]
fn raw_ping_between_fragments_is_answered_first() {
    let server = ServerProcess::start();
    let mut raw = RawWs::open(server.connect_addr(), &[], &[]);
    let mut bytes = client_frame(false, op::TEXT, b"frag");
    bytes.extend(client_frame(true, op::PING, b"mid"));
    bytes.extend(client_frame(true, op::CONT, b"ment"));
    raw.send(&bytes);
    let pong = raw.read_frame();
    assert_eq!((pong.opcode, pong.fin), (op::PONG, true), "{pong:?}");
    assert_eq!(pong.payload, b"mid");
    assert!(!pong.masked, "server frames must not be masked");
    let text = raw.read_frame();
    assert_eq!(text.opcode, op::TEXT);
    assert_eq!(text.payload, b"tnemgarf");
}
