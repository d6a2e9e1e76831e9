//! `examples/loops.rs`: the multi-loop chat server, compiled into this test as a module (so
//! it runs the current code) on port 0 with two loops. Clients land on both loops (seen in
//! `/status`), a message reaches every one of them, and SIGTERM (sent to this test process,
//! whose only test this is: `Loops::run` handles the signal) closes them all with 1001 and
//! `run` returns `Ok`.

#[allow(dead_code)]
#[path = "../examples/loops.rs"]
mod example;
mod support;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use support::loops::wait_for_loops;
use support::pubsub::text;
use support::ws::{read_close_code, try_connect, Client};
use tungstenite::Message;

const CLIENTS: usize = 20;

#[test]
fn the_example_serves_one_room_over_two_loops_and_stops_on_sigterm() {
    let (ready_tx, ready_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        example::run("127.0.0.1:0".parse().unwrap(), 2, |addr| {
            ready_tx.send(addr).unwrap()
        })
    });
    let addr = ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the example did not start");
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|_| try_connect(addr, &["chat"]).expect("connect").0)
        .collect();
    let loops = wait_for_loops(addr, |loops| loops.iter().sum::<u64>() == CLIENTS as u64);
    assert!(
        loops.len() == 2 && loops.iter().all(|&n| n > 0),
        "{loops:?}"
    );

    clients[0].send(Message::text("hello, room")).unwrap();
    for ws in &mut clients {
        assert_eq!(text(ws), "hello, room");
    }

    support::send_signal(std::process::id(), "TERM").unwrap();
    for (n, ws) in clients.iter_mut().enumerate() {
        let code =
            read_close_code(ws).unwrap_or_else(|e| panic!("client {n}: no close frame: {e}"));
        assert_eq!(code, Some(1001), "client {n}");
    }
    // Our end closes too (the loops wait for the peers' FIN after the close handshake).
    drop(clients);
    server
        .join()
        .unwrap()
        .expect("run returns Ok after SIGTERM");
}
