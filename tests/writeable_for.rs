//! `Context::request_writeable_for`: a callback wakes one other connection by id, and only
//! that one. A test-only `poke` protocol: every connection announces its id; a message
//! "poke N" asks for ServerWriteable on connection N, which then sends "poked"; every
//! ServerWriteable is counted and reported with "count".

mod support;

use std::time::Duration;
use support::inproc::InProcess;
use support::ws::{next_data, try_connect};
use tungstenite::Message;
use wsloop::{Config, ConnectionId, Context, Outcome, Protocol, ProtocolTable, Reason};

#[derive(Default)]
struct Poke {
    /// Connection ids by their number, so "poke N" can name one.
    ids: Vec<ConnectionId>,
}

#[derive(Default)]
struct Session {
    writeables: u32,
}

impl Protocol for Poke {
    type Session = Session;
    fn name(&self) -> &str {
        "poke"
    }
    fn new_session(&mut self) -> Session {
        Session::default()
    }
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, Session>) -> Outcome {
        match reason {
            Reason::Established { .. } => {
                let id = cx.connection_id().expect("a connection");
                self.ids.push(id);
                let _ = cx.send_text(format!("you are {}", self.ids.len() - 1));
            }
            Reason::Receive { session, message } => {
                let wsloop::Message::Text(text) = message else {
                    return Outcome::Continue;
                };
                if let Some(n) = text.strip_prefix("poke ") {
                    let n: usize = n.parse().expect("a number");
                    cx.request_writeable_for(self.ids[n]);
                } else if text.as_str() == "count" {
                    let _ = cx.send_text(format!("writeables {}", session.writeables));
                }
            }
            Reason::ServerWriteable { session } => {
                session.writeables += 1;
                let _ = cx.send_text("poked");
            }
            _ => {}
        }
        Outcome::Continue
    }
}

fn text(message: Message) -> String {
    message.into_text().expect("text").to_string()
}

#[test]
fn a_callback_wakes_exactly_the_connection_it_names() {
    let server = InProcess::start(Config::default(), || {
        ProtocolTable::new().with_protocol(Poke::default())
    });
    let mut clients: Vec<_> = (0..3)
        .map(|n| {
            let (mut ws, _) = try_connect(server.addr, &["poke"]).expect("connect");
            assert_eq!(text(next_data(&mut ws)), format!("you are {n}"));
            ws
        })
        .collect();

    // Client 0 pokes client 2.
    clients[0].send("poke 2".into()).unwrap();
    assert_eq!(text(next_data(&mut clients[2])), "poked");

    // Client 1 was not woken: asked afterwards, it has had no ServerWriteable at all.
    clients[1].send("count".into()).unwrap();
    assert_eq!(text(next_data(&mut clients[1])), "writeables 0");
    clients[2].send("count".into()).unwrap();
    assert_eq!(text(next_data(&mut clients[2])), "writeables 1");
    clients[0].send("count".into()).unwrap();
    assert_eq!(text(next_data(&mut clients[0])), "writeables 0");

    for mut ws in clients {
        ws.close(None).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while ws.read().is_ok() {
            assert!(std::time::Instant::now() < deadline, "close not completed");
        }
    }
}
