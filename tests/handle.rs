//! `ServerHandle` from another thread: `send` reaches one connection, `broadcast` every
//! connection of a protocol (and no other), `shutdown` closes every WebSocket with 1001 and
//! ends the loop; afterwards every call fails with `HandleError::Stopped`. In-process: the
//! embedding loop runs in a thread with its `Waker`, the handle is used from the test thread.

mod support;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use support::inproc::InProcess;
use support::ws::{next_data, try_connect, Client};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;
use wsloop::{
    Config, ConnectionId, Context, HandleError, Outcome, Protocol, ProtocolTable, Reason,
};

/// Tells the test each new connection's id; otherwise silent.
struct Announce {
    name: &'static str,
    ids: mpsc::Sender<(&'static str, ConnectionId)>,
}

impl Protocol for Announce {
    type Session = ();
    fn name(&self) -> &str {
        self.name
    }
    fn new_session(&mut self) {}
    fn callback(&mut self, cx: &mut Context<'_>, reason: Reason<'_, ()>) -> Outcome {
        if let Reason::Established { .. } = reason {
            let id = cx.connection_id().expect("a connection");
            let _ = self.ids.send((self.name, id));
        }
        Outcome::Continue
    }
}

fn connect(server: &InProcess, protocol: &str) -> Client {
    try_connect(server.addr, &[protocol])
        .unwrap_or_else(|e| panic!("connect {protocol}: {e}"))
        .0
}

/// The server's close code; then answer and hang up.
fn close_code(mut ws: Client) -> Option<CloseCode> {
    let code = loop {
        match ws.read() {
            Ok(Message::Close(frame)) => break frame.map(|f| f.code),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    while ws.read().is_ok() {}
    code
}

#[test]
fn send_broadcast_and_shutdown_from_another_thread() {
    let (ids_tx, ids_rx) = mpsc::channel();
    let mut server = InProcess::start(Config::default(), move || {
        ProtocolTable::new()
            .with_protocol(Announce {
                name: "red",
                ids: ids_tx.clone(),
            })
            .with_protocol(Announce {
                name: "blue",
                ids: ids_tx,
            })
    });
    let mut red1 = connect(&server, "red");
    let id1 = ids_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let mut red2 = connect(&server, "red");
    let id2 = ids_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let mut blue = connect(&server, "blue");
    let id3 = ids_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!((id1.0, id2.0, id3.0), ("red", "red", "blue"));

    // From yet another thread, to be sure the handle travels (Send + Clone).
    let handle = server.handle.clone();
    thread::spawn(move || {
        assert_eq!(handle.send(id2.1, "just you"), Ok(()));
        assert_eq!(handle.broadcast("red", "all red"), Ok(()));
        assert_eq!(handle.broadcast("blue", vec![1u8, 2, 3]), Ok(()));
    })
    .join()
    .unwrap();

    // Requests are carried out in order: red2 gets its own message before the broadcast.
    assert_eq!(next_data(&mut red2), Message::text("just you"));
    assert_eq!(next_data(&mut red2), Message::text("all red"));
    assert_eq!(next_data(&mut red1), Message::text("all red"));
    assert_eq!(next_data(&mut blue), Message::binary(vec![1u8, 2, 3]));
    // red1 got nothing else, blue nothing of red's: the next message is a fresh one.
    assert_eq!(server.handle.send(id1.1, "second"), Ok(()));
    assert_eq!(next_data(&mut red1), Message::text("second"));
    assert_eq!(server.handle.broadcast("blue", "blue again"), Ok(()));
    assert_eq!(next_data(&mut blue), Message::text("blue again"));
    // Unknown protocols and ids are ignored, not errors.
    assert_eq!(server.handle.broadcast("green", "nobody"), Ok(()));

    assert_eq!(server.handle.shutdown(), Ok(()));
    assert_eq!(close_code(red1), Some(CloseCode::Away));
    assert_eq!(close_code(red2), Some(CloseCode::Away));
    assert_eq!(close_code(blue), Some(CloseCode::Away));
    server.wait_finished();
    // The server is gone (dropped with its thread): the handle says so.
    assert_eq!(
        server.handle.send(id1.1, "too late"),
        Err(HandleError::Stopped)
    );
    assert_eq!(
        server.handle.broadcast("red", "too late"),
        Err(HandleError::Stopped)
    );
}
