//! SIGTERM under load: 1,000 WebSocket clients, each with a message answered (one of them an
//! 8 MiB binary message whose reply is still in the server's queue when the signal arrives).
//! Every client must get its reply and then close `1001`, and the server must exit 0 within
//! `--shutdown-timeout` plus a margin. 10 threads x 100 raw clients.

mod support;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use support::hostile::{ensure_nofile, ms, poll_until};
use support::ws::{client_close, client_frame, op, RawWs};
use support::{describe_status, say, ServerProcess};

const THREADS: usize = 10;
const PER_THREAD: usize = 100;
const CLIENTS: usize = THREADS * PER_THREAD;
const BIG: usize = 8 << 20;
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
const EXIT_MARGIN: Duration = Duration::from_secs(3);

/// What one client saw after SIGTERM.
#[derive(Debug, Default)]
struct Seen {
    replies: usize,
    closes_1001: usize,
    other: Vec<String>,
}

#[test]
fn sigterm_closes_a_thousand_websockets_after_their_replies() {
    let want_fds = (CLIENTS as u64) * 2 + 200;
    ensure_nofile(std::process::id(), want_fds).unwrap_or_else(|e| panic!("test fds: {e}"));
    let mut server = ServerProcess::start_with(&["--shutdown-timeout", "5s"]);
    let pid = server.pid().expect("pid");
    ensure_nofile(pid, want_fds).unwrap_or_else(|e| panic!("server fds: {e}"));
    let addr = server.connect_addr();

    let connected = Arc::new(Barrier::new(THREADS + 1));
    let signalled = Arc::new(Barrier::new(THREADS + 1));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (connected, signalled) = (Arc::clone(&connected), Arc::clone(&signalled));
            thread::spawn(move || {
                let mut clients: Vec<(RawWs, Vec<u8>)> = (0..PER_THREAD)
                    .map(|i| {
                        let mut raw = RawWs::open(addr, &[], &[]);
                        let (frame, expect) = if t == 0 && i == 0 {
                            let data: Vec<u8> = (0..BIG).map(|b| (b % 251) as u8).collect();
                            let reversed = data.iter().rev().copied().collect();
                            (client_frame(true, op::BINARY, &data), reversed)
                        } else {
                            let text = format!("load {t}-{i}");
                            let reversed = text.chars().rev().collect::<String>().into_bytes();
                            (client_frame(true, op::TEXT, text.as_bytes()), reversed)
                        };
                        raw.send(&frame);
                        (raw, expect)
                    })
                    .collect();
                connected.wait();
                signalled.wait();
                let mut seen = Seen::default();
                for (raw, expect) in clients.iter_mut() {
                    let mut got_reply = false;
                    loop {
                        let frame = raw.read_frame();
                        match frame.opcode {
                            op::TEXT | op::BINARY if !got_reply => {
                                if frame.payload == *expect {
                                    got_reply = true;
                                    seen.replies += 1;
                                } else {
                                    seen.other.push(format!(
                                        "wrong reply ({} bytes)",
                                        frame.payload.len()
                                    ));
                                }
                            }
                            op::PING | op::PONG => {}
                            op::CLOSE => {
                                if frame.close_code() == Some(1001) && got_reply {
                                    seen.closes_1001 += 1;
                                } else {
                                    seen.other.push(format!(
                                        "close {:?} (reply seen: {got_reply})",
                                        frame.close_code()
                                    ));
                                }
                                raw.send(&client_close(1001, ""));
                                break;
                            }
                            other => {
                                seen.other.push(format!("opcode {other}"));
                                break;
                            }
                        }
                    }
                }
                seen
            })
        })
        .collect();

    connected.wait();
    // Every message has reached the protocol (it logs each one) before the signal.
    let received = poll_until(Duration::from_secs(30), || {
        let n = server
            .stderr()
            .lines()
            .filter(|l| l.contains(" received"))
            .count();
        (n >= CLIENTS).then_some(n)
    });
    assert!(
        received.is_some(),
        "not every message was received within 30 s"
    );
    let signal_at = Instant::now();
    server.signal("TERM").expect("SIGTERM");
    signalled.wait();

    let mut total = Seen::default();
    for t in threads {
        let seen = t.join().expect("client thread");
        total.replies += seen.replies;
        total.closes_1001 += seen.closes_1001;
        total.other.extend(seen.other);
    }
    let clients_done = signal_at.elapsed();
    let status = server
        .wait_exit(SHUTDOWN_TIMEOUT + EXIT_MARGIN)
        .unwrap_or_else(|| panic!("still running {:?} after SIGTERM", signal_at.elapsed()));
    let exited = signal_at.elapsed();

    assert!(total.other.is_empty(), "unexpected: {:?}", total.other);
    assert_eq!(total.replies, CLIENTS, "replies received");
    assert_eq!(total.closes_1001, CLIENTS, "close 1001 after the reply");
    assert!(status.success(), "exit status {}", describe_status(&status));
    let log = server.stderr();
    // `Closed` runs exactly once per WebSocket: one `closed (code)` line per connection.
    let mut closed_ids: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" closed ("))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("conn#")))
        .collect();
    let closed_lines = closed_ids.len();
    closed_ids.sort_unstable();
    closed_ids.dedup();
    assert_eq!(closed_lines, CLIENTS, "`closed` lines in the log");
    assert_eq!(
        closed_ids.len(),
        CLIENTS,
        "connections with a `closed` line"
    );
    let codes: std::collections::BTreeMap<&str, usize> = log
        .lines()
        .filter_map(|l| l.split(" closed (").nth(1))
        .fold(Default::default(), |mut m, code| {
            *m.entry(code.trim_end_matches(')')).or_default() += 1;
            m
        });
    let shutting = log
        .lines()
        .find(|l| l.contains("shutting down: closing"))
        .unwrap_or("<no shutdown line>")
        .to_string();
    say(&format!(
        "shutdown under load: {CLIENTS} clients (one with an {BIG}-byte reply): {} replies + \
         {} close 1001 in {}; server exited ({}) {} after SIGTERM; logged close codes {codes:?}; log: \
         {shutting:?}",
        total.replies,
        total.closes_1001,
        ms(clients_done),
        describe_status(&status),
        ms(exited)
    ));
}
