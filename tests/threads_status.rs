//! `--threads 2` in the real binary, seen through `/status` and `/metrics`: the counters are
//! the whole process's and each loop has a line of its own (the spread of connections);
//! SIGTERM with clients on every loop (the test finds which loop each is on from the
//! per-loop lines) closes them all with 1001 and the process exits 0 within
//! `--shutdown-timeout`, also when a client on each loop has stopped reading (its queued
//! reply, and the close after it, can never leave: the loop drops it at the timeout); and `--max-connections` is for the whole
//! process, not per loop.

mod support;

use std::thread;
use std::time::{Duration, Instant};

use support::http::get;
use support::loops::{wait_for_loops, which_loop};
use support::ws::{
    client_frame, connect, op, read_close_code, round_trip, try_connect, Client, RawWs,
};
use support::{describe_status, ServerProcess};
use tungstenite::Message;

/// Bound on every wait for the loops' counters (shared every 250 ms).
const SETTLE: Duration = Duration::from_secs(10);

/// Poll `path` until its body contains `needle` (bounded).
fn wait_for_text(server: &ServerProcess, path: &str, needle: &str) {
    let deadline = Instant::now() + SETTLE;
    loop {
        let body = get(server.connect_addr(), path).body_text();
        if body.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never had {needle:?}:\n{body}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn status_and_metrics_count_every_loop() {
    const CLIENTS: usize = 40;
    let server = ServerProcess::start_with(&["--threads", "2", "--status"]);
    let mut clients: Vec<Client> = (0..CLIENTS).map(|_| connect(&server)).collect();
    let loops = wait_for_loops(server.connect_addr(), |loops| {
        loops.iter().sum::<u64>() == CLIENTS as u64
    });
    support::say(&format!("{CLIENTS} clients over 2 loops: {loops:?}"));
    assert_eq!(loops.len(), 2, "one line per loop");
    assert!(
        loops.iter().all(|&n| n > 0),
        "the kernel spread them: {loops:?}"
    );
    for ws in &mut clients {
        assert_eq!(round_trip(ws, Message::text("ab")), Message::text("ba"));
    }
    wait_for_text(
        &server,
        "/status",
        &format!(
            "\"received\":{{\"messages\":{CLIENTS},\"bytes\":{}}}",
            2 * CLIENTS
        ),
    );
    wait_for_text(
        &server,
        "/metrics",
        &format!("\nwsloop_websockets{{protocol=\"dumb-increment-protocol\"}} {CLIENTS}\n"),
    );
    let metrics = get(server.connect_addr(), "/metrics").body_text();
    for (index, count) in loops.iter().enumerate() {
        let line = format!("wsloop_loop_websockets{{loop=\"{index}\"}} {count}");
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?}:\n{metrics}"
        );
    }
}

#[test]
fn sigterm_with_clients_on_every_loop_exits_within_the_shutdown_timeout() {
    const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);
    const EXIT_MARGIN: Duration = Duration::from_secs(3);
    // More than the socket buffers hold of a reply nobody reads.
    const STUCK_MESSAGE: usize = 12 << 20;
    let mut server = ServerProcess::start_with(&[
        "--threads",
        "2",
        "--status",
        "--shutdown-timeout",
        "2s",
        "--close-timeout",
        "60s",
    ]);
    // Clients that send a large message and never read its reply, until each loop has at
    // least one: each is placed by watching which loop's count goes up.
    let big = client_frame(true, op::BINARY, &vec![7u8; STUCK_MESSAGE]);
    let mut stuck: Vec<(usize, RawWs)> = Vec::new();
    let mut before = vec![0, 0];
    while !(0..2).all(|l| stuck.iter().any(|(on, _)| *on == l)) {
        assert!(stuck.len() < 20, "every stuck client landed on one loop");
        let (on, (raw, now)) = which_loop(server.connect_addr(), &before, || {
            let mut raw = RawWs::open(server.connect_addr(), &[], &[]);
            raw.send(&big);
            raw
        });
        stuck.push((on, raw));
        before = now;
    }
    // And ordinary clients, which answer the close.
    let mut clients: Vec<Client> = (0..20).map(|_| connect(&server)).collect();
    let total = (stuck.len() + clients.len()) as u64;
    let loops = wait_for_loops(server.connect_addr(), |loops| {
        loops.iter().sum::<u64>() == total
    });
    assert!(loops.iter().all(|&n| n > 0), "{loops:?}");

    // One SIGTERM (a second would drop everything at once); the clients read meanwhile.
    let (status, signalled) = thread::scope(|scope| {
        let readers = scope.spawn(|| {
            for (n, ws) in clients.iter_mut().enumerate() {
                let code = read_close_code(ws)
                    .unwrap_or_else(|e| panic!("client {n}: no close frame: {e}"));
                assert_eq!(code, Some(1001), "client {n}");
            }
        });
        let signalled = Instant::now();
        let status = server.stop_with("TERM", SHUTDOWN_TIMEOUT + EXIT_MARGIN);
        readers.join().unwrap();
        (status, signalled)
    });
    let took = signalled.elapsed();
    assert!(status.success(), "exit: {}", describe_status(&status));
    assert!(
        took <= SHUTDOWN_TIMEOUT + EXIT_MARGIN,
        "exited {took:?} after SIGTERM"
    );
    // The stuck clients were held to the timeout, not dropped at once.
    assert!(
        took >= SHUTDOWN_TIMEOUT / 2,
        "exited {took:?} after SIGTERM"
    );
    support::say(&format!(
        "SIGTERM with {loops:?} WebSockets per loop ({} not reading): exit 0 after {took:?}",
        stuck.len()
    ));
    drop(stuck);
}

#[test]
fn max_connections_is_for_the_whole_process() {
    const LIMIT: usize = 12;
    let server =
        ServerProcess::start_with(&["--threads", "2", "--max-connections", &LIMIT.to_string()]);
    let addr = server.connect_addr();
    let mut open: Vec<Client> = (0..LIMIT).map(|_| connect(&server)).collect();
    // Were the limit per loop, about half of these would land on a loop with room.
    for n in 0..8 {
        assert!(
            try_connect(addr, &[]).is_err(),
            "connection {} past the process-wide limit was served",
            LIMIT + n + 1
        );
    }
    // One closes: room for one more, on whichever loop (the count drops once the server
    // has seen the close).
    open.pop().unwrap().close(None).unwrap();
    let deadline = Instant::now() + SETTLE;
    let mut again = loop {
        match try_connect(addr, &[]) {
            Ok((ws, _)) => break ws,
            Err(e) => assert!(Instant::now() < deadline, "no room after a close: {e}"),
        }
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        round_trip(&mut again, Message::text("ok")),
        Message::text("ko")
    );
}
