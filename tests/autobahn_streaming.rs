//! RFC 6455 conformance of the frame-by-frame path: Autobahn's fuzzing client against an
//! in-process server whose `stream-echo` protocol opts into `streams_fragments` and sends each
//! received fragment straight back with `send_fragment`. Exercises wsloop's own frame reader
//! (masking, fragment order, incremental UTF-8, control frames, close codes) and fragmented
//! sending, as `autobahn.rs` does for the whole-message path.

mod support;

use mio::{Events, Poll, Token};
use std::sync::mpsc;
use wsloop::{Config, Context, Outcome, Protocol, ProtocolTable, Reason, Server};

const TEST: &str = "autobahn_streaming";
const CASES: &str = "1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*";

/// Echoes every fragment as it arrives.
struct StreamEcho;

impl Protocol for StreamEcho {
    type Session = ();
    fn name(&self) -> &str {
        "stream-echo"
    }
    fn new_session(&mut self) {}
    fn streams_fragments(&self) -> bool {
        true
    }
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        match reason {
            Reason::ReceiveFragment { fragment, .. } => {
                if let Err(err) = cx.send_fragment(fragment) {
                    return Outcome::close(wsloop::CloseCode::Error, err.to_string());
                }
            }
            Reason::ServerWriteable { .. } => cx.resume_reading(),
            _ => {}
        }
        Outcome::Continue
    }
}

#[test]
fn autobahn_fuzzingclient_stream_echo() {
    let (addr_tx, addr_rx) = mpsc::channel();
    // The loop thread runs until the test process exits.
    std::thread::spawn(move || -> std::io::Result<()> {
        let table = ProtocolTable::new().with_protocol(StreamEcho);
        let addr = "127.0.0.1:0".parse().unwrap();
        let mut server = Server::bind(addr, Config::default(), table)?;
        let mut poll = Poll::new()?;
        server.register(poll.registry(), Token(0))?;
        addr_tx.send(server.local_addr()).unwrap();
        let mut events = Events::with_capacity(256);
        loop {
            poll.poll(&mut events, server.timeout())?;
            for event in events.iter() {
                server.handle_event(event);
            }
            server.handle_timeouts();
        }
    });
    let addr = addr_rx.recv().expect("server thread started");
    let cases = std::env::var("WSLOOP_AUTOBAHN_CASES")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| CASES.into());
    support::autobahn::run(
        TEST,
        &format!("ws://{addr}/"),
        "wsloop-stream",
        "stream-echo",
        &cases,
    );
}
