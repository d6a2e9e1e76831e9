//! The `increment` protocol (lws's dumb-increment) in the real binary: the counter is pushed
//! every 50 ms, `reset` restarts it, `closeme` closes with 1000 "seeya".

mod support;

use std::time::{Duration, Instant};

use support::ws::{connect_with, next_data, response_protocol, Client};
use support::ServerProcess;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;

fn next_number(ws: &mut Client) -> u64 {
    match next_data(ws) {
        Message::Text(text) => text
            .parse()
            .unwrap_or_else(|e| panic!("pushed {text:?}, not a number: {e}")),
        other => panic!("expected a text number, got {other:?}"),
    }
}

fn open(server: &ServerProcess) -> Client {
    let (ws, response) = connect_with(server, &["increment"]);
    assert_eq!(response_protocol(&response).as_deref(), Some("increment"));
    ws
}

#[test]
fn the_counter_is_pushed_every_50_ms_from_zero() {
    let server = ServerProcess::start();
    let mut ws = open(&server);
    let started = Instant::now();
    let mut numbers = Vec::new();
    // Reads are bounded by the client's socket timeout.
    while numbers.len() < 7 {
        numbers.push(next_number(&mut ws));
    }
    let elapsed = started.elapsed();
    assert_eq!(
        numbers,
        [0, 1, 2, 3, 4, 5, 6],
        "one push per tick, in order"
    );
    // Six intervals after the first push: paced by the timer, not sent in a burst.
    assert!(
        elapsed >= Duration::from_millis(250),
        "7 pushes came in {elapsed:?}; want about 300 ms"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "7 pushes took {elapsed:?}; want about 300 ms"
    );
}

#[test]
fn reset_starts_again_from_zero() {
    let server = ServerProcess::start();
    let mut ws = open(&server);
    let mut last = 0;
    while last < 5 {
        last = next_number(&mut ws);
    }
    ws.send(Message::text("reset")).unwrap();
    // Pushes already on the way may still show the old count; then it falls back to 0.
    let deadline = Instant::now() + Duration::from_secs(5);
    let after = loop {
        let n = next_number(&mut ws);
        if n < last {
            break n;
        }
        assert_eq!(n, last + 1, "count skipped");
        last = n;
        assert!(Instant::now() < deadline, "no reset within 5 s (at {n})");
    };
    assert_eq!(after, 0, "the first number after the reset");
    assert_eq!(next_number(&mut ws), 1);
}

#[test]
fn closeme_closes_with_1000_and_a_reason() {
    let server = ServerProcess::start();
    let mut ws = open(&server);
    next_number(&mut ws);
    ws.send(Message::text("closeme")).unwrap();
    let frame = loop {
        match ws.read() {
            Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(frame)) => break frame,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    let frame = frame.expect("a close frame with a code");
    assert_eq!(frame.code, CloseCode::Normal);
    assert_eq!(frame.reason.as_str(), "seeya");
    // Our reply completes the handshake and the server ends the connection.
    loop {
        match ws.read() {
            Ok(_) => continue,
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("after the close handshake: {e}"),
        }
    }
}
