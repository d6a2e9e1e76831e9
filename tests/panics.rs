//! Faults contained: a protocol callback that panics (a bug in user code) costs only the
//! connection it was called for — close 1011 for a WebSocket, 500 for an HTTP request (on a
//! connection that stays usable) — it is logged once with the protocol's name and the panic
//! message, and the loop goes on serving 100 other clients; a protocol that panics in
//! `ProtocolInit` fails startup with an error naming it.

mod support;

use std::net::SocketAddr;
use std::sync::{Mutex, Once};
use support::http::{get, HttpConn};
use support::inproc::InProcess;
use support::ws::try_connect;
use tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tungstenite::Message;
use wsloop::http::Request;
use wsloop::{Config, Context, Outcome, Protocol, ProtocolTable, Reason, Server};

const OTHERS: usize = 100;

/// Error lines logged by wsloop in this test binary.
static ERRORS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct CaptureErrors;

impl log::Log for CaptureErrors {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Error
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            ERRORS.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

/// Capture wsloop's error lines (once per test binary).
fn capture_errors() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&CaptureErrors).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Error);
    });
}

/// The error lines logged so far that contain `text`.
fn errors_with(text: &str) -> Vec<String> {
    let errors = ERRORS.lock().unwrap();
    errors
        .iter()
        .filter(|line| line.contains(text))
        .cloned()
        .collect()
}

fn all_still_echo(others: &mut [tungstenite::WebSocket<std::net::TcpStream>], when: &str) {
    for (i, ws) in others.iter_mut().enumerate() {
        let text = format!("still here {i} {when}");
        ws.send(Message::text(text.clone())).unwrap();
        assert_eq!(ws.read().unwrap(), Message::text(text), "client {i} {when}");
    }
}

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
                // What was queued before the panic still goes out, before the close.
                let _ = cx.send_text("last words");
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
    capture_errors();
    let server = InProcess::start(Config::default(), table);
    let mut others: Vec<_> = (0..OTHERS)
        .map(|_| try_connect(server.addr, &["fragile"]).expect("connect").0)
        .collect();

    let (mut victim, _) = try_connect(server.addr, &["fragile"]).unwrap();
    victim.send(Message::text("boom")).unwrap();
    assert_eq!(victim.read().unwrap(), Message::text("last words"));
    match victim.read() {
        Ok(Message::Close(Some(frame))) => {
            assert_eq!(frame.code, WsCloseCode::Error, "1011");
            assert_eq!(frame.reason.as_str(), "internal error");
        }
        other => panic!("expected close 1011, got {other:?}"),
    }
    let logged = errors_with("a bug in the fragile protocol");
    assert_eq!(logged.len(), 1, "logged once: {logged:?}");
    assert!(
        logged[0].contains("\"fragile\""),
        "names the protocol: {logged:?}"
    );

    all_still_echo(&mut others, "after the WebSocket panic");
    round_trip(server.addr, "and new connections work");

    // The HTTP entry panics: that request gets a 500, the connection stays usable.
    let mut conn = HttpConn::open(server.addr);
    conn.send(b"GET /boom HTTP/1.1\r\nHost: t\r\n\r\nGET /index.html HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!(conn.read_response(false).status, 500);
    assert_eq!(
        conn.read_response(false).status,
        404,
        "no files: the entry fell through"
    );
    let logged = errors_with("a bug in the HTTP entry");
    assert_eq!(logged.len(), 1, "logged once: {logged:?}");
    assert!(logged[0].contains("\"fragile-http\""), "{logged:?}");
    assert_eq!(get(server.addr, "/boom").status, 500);

    all_still_echo(&mut others, "after the HTTP panics");
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
    capture_errors();
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
    assert_eq!(errors_with("cannot start").len(), 1, "logged once");
}
