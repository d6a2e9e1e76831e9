//! `pubsub`: a test protocol of text commands over topics, and the client side of them.
#![allow(dead_code)]

use super::ws::{client_frame, next_data, op, upgrade_head, Client};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use tungstenite::Message;
use wsloop::{Context, Outcome, Protocol, Reason};

/// Text commands: `sub T`, `unsub T`, `pub T MESSAGE`; each answered `ok`/`err: ...` except a
/// successful `pub`, whose message arrives as published.
pub struct PubSub;

impl Protocol for PubSub {
    type Session = ();
    fn name(&self) -> &str {
        "pubsub"
    }
    fn new_session(&mut self) {}
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        let Reason::Receive { message, .. } = reason else {
            return Outcome::Continue;
        };
        let wsloop::Message::Text(text) = message else {
            return Outcome::Continue;
        };
        let reply = match text.split_once(' ') {
            Some(("sub", topic)) => cx.subscribe(topic).map(|new| format!("ok {new}")),
            Some(("unsub", topic)) => Ok(format!("ok {}", cx.unsubscribe(topic))),
            Some(("pub", rest)) => {
                let (topic, body) = rest.split_once(' ').unwrap_or((rest, ""));
                match cx.publish(topic, body) {
                    Ok(()) => return Outcome::Continue,
                    Err(err) => Err(err),
                }
            }
            _ => Ok("?".into()),
        };
        let _ = cx.send_text(reply.unwrap_or_else(|err| format!("err: {err}")));
        Outcome::Continue
    }
}

/// The next data message, which must be text.
pub fn text(ws: &mut Client) -> String {
    match next_data(ws) {
        Message::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Send one command line, read one answer.
pub fn command(ws: &mut Client, line: &str) -> String {
    ws.send(Message::text(line)).unwrap();
    text(ws)
}

/// One cycle: upgrade, subscribe to a shared and an own topic in the same write, wait for
/// both answers, then reset the connection (no TIME_WAIT left behind).
pub fn cycle(addr: std::net::SocketAddr, n: usize) {
    let stream = TcpStream::connect(addr).expect("connect");
    let mut request = upgrade_head("GET / HTTP/1.1", &["Sec-WebSocket-Protocol: pubsub"]);
    let mut bytes = std::mem::take(&mut request).into_bytes();
    bytes.extend(client_frame(true, op::TEXT, b"sub shared"));
    bytes.extend(client_frame(
        true,
        op::TEXT,
        format!("sub own{n}").as_bytes(),
    ));
    (&stream).write_all(&bytes).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let tail = b"ok true\x81\x07ok true";
    while !got.ends_with(tail) {
        let read = (&stream).read(&mut buf).expect("read");
        assert!(
            read > 0,
            "closed early: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..read]);
    }
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}
