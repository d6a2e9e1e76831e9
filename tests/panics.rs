//! Faults contained: a protocol callback that panics (a bug in user code) costs only the
//! connection it was called for — close 1011 for a WebSocket, 500 for an HTTP request — and
//! the loop goes on serving everyone else; a protocol that panics in `ProtocolInit` fails
//! startup with an error naming it.

mod support;

use std::net::SocketAddr;
use support::http::get;
use support::inproc::InProcess;
use support::ws::try_connect;
use tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tungstenite::Message;
use wsloop::http::Request;
use wsloop::{Config, Context, Outcome, Protocol, ProtocolTable, Reason, Server};

const OTHERS: usize = 100;

/// Echoes, but panics on the message "boom".
struct Fragile;

impl Protocol for Fragile {
    type Session = ();
    fn name(&self) -> &str {
        "fragile"
    }
    fn new_session(&mut self) {}
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        if let Reason::Receive { message, .. } = reason {
            if message == wsloop::Message::from("boom") {
                panic!("a bug in the fragile protocol");
            }
            let _ = cx.send(message);
        }
        Outcome::Continue
    }
}

/// The HTTP entry: panics for `/boom`, falls through to static files otherwise.
struct FragileHttp;

impl Protocol for FragileHttp {
    type Session = ();
    fn name(&self) -> &str {
        "fragile-http"
    }
    fn new_session(&mut self) {}
    fn callback(&mut self, _cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        if let Reason::Http { request } = reason {
            if request_is_boom(request) {
                panic!("a bug in the HTTP entry");
            }
        }
        Outcome::Continue
    }
}

fn request_is_boom(request: &Request) -> bool {
    request.path() == "/boom"
}

fn table() -> ProtocolTable {
    ProtocolTable::with_http(FragileHttp).with_protocol(Fragile)
}

fn round_trip(addr: SocketAddr, text: &str) {
    let (mut ws, _) = try_connect(addr, &["fragile"]).expect("connect");
    ws.send(Message::text(text)).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text(text));
}

#[test]
fn a_panicking_callback_closes_its_own_connection_only() {
    let server = InProcess::start(Config::default(), table);
    let mut others: Vec<_> = (0..OTHERS)
        .map(|_| try_connect(server.addr, &["fragile"]).expect("connect").0)
        .collect();

    let (mut victim, _) = try_connect(server.addr, &["fragile"]).unwrap();
    victim.send(Message::text("boom")).unwrap();
    match victim.read() {
        Ok(Message::Close(Some(frame))) => {
            assert_eq!(frame.code, WsCloseCode::Error, "1011");
            assert_eq!(frame.reason.as_str(), "internal error");
        }
        other => panic!("expected close 1011, got {other:?}"),
    }

    for (i, ws) in others.iter_mut().enumerate() {
        let text = format!("still here {i}");
        ws.send(Message::text(text.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text(text));
    }
    round_trip(server.addr, "and new connections work");

    let response = get(server.addr, "/boom");
    assert_eq!(response.status, 500);
    assert_eq!(
        get(server.addr, "/index.html").status,
        404,
        "no files: the entry fell through"
    );
    round_trip(server.addr, "after the HTTP panic too");
}

struct BrokenInit;

impl Protocol for BrokenInit {
    type Session = ();
    fn name(&self) -> &str {
        "broken-init"
    }
    fn new_session(&mut self) {}
    fn callback(&mut self, _cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        if let Reason::ProtocolInit = reason {
            panic!("cannot start");
        }
        Outcome::Continue
    }
}

#[test]
fn a_panic_in_protocol_init_fails_startup_with_its_name() {
    let addr = "127.0.0.1:0".parse().unwrap();
    let table = ProtocolTable::new().with_protocol(BrokenInit);
    let mut server = Server::bind(addr, Config::default(), table).unwrap();
    let poll = mio::Poll::new().unwrap();
    let err = server
        .register(poll.registry(), mio::Token(0))
        .expect_err("startup must fail");
    let text = err.to_string();
    assert!(
        text.contains("broken-init") && text.contains("cannot start"),
        "{text}"
    );
}
