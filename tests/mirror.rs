//! `lws-mirror-protocol` in the real binary: every message reaches every member of its
//! instance (the sender too) in one order, instances are separate, and a member that stops
//! reading is closed with 1008 "subscriber too slow" while the others get everything and the
//! server's memory stays bounded (the slow-subscriber policy of topics).

mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use support::http::{get, HttpConn};
use support::ws::{
    client_frame, next_data, op, response_protocol, try_connect_to, upgrade_head, Client, RawWs,
};
use support::ServerProcess;
use tungstenite::Message;

const PROTOCOL: &str = "lws-mirror-protocol";

fn join(addr: SocketAddr, target: &str) -> Client {
    let (ws, response) = try_connect_to(addr, target, &[PROTOCOL])
        .unwrap_or_else(|e| panic!("connect {target}: {e}"));
    assert_eq!(response_protocol(&response).as_deref(), Some(PROTOCOL));
    ws
}

fn next_text(ws: &mut Client) -> String {
    match next_data(ws) {
        Message::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[test]
fn every_member_gets_every_message_in_one_order() {
    let server = ServerProcess::start();
    let addr = server.connect_addr();
    let mut members: Vec<Client> = (0..3).map(|_| join(addr, "/?mirror=room")).collect();
    let mut elsewhere = join(addr, "/?mirror=hall");
    let mut default = join(addr, "/");

    const ROUNDS: usize = 5;
    for round in 0..ROUNDS {
        for (who, ws) in members.iter_mut().enumerate() {
            ws.send(Message::text(format!("{who}:{round}"))).unwrap();
        }
    }
    let seen: Vec<Vec<String>> = members
        .iter_mut()
        .map(|ws| (0..3 * ROUNDS).map(|_| next_text(ws)).collect())
        .collect();
    // The sender gets its own messages too, and all members see one order...
    assert_eq!(seen[0], seen[1], "members 0 and 1 disagree on the order");
    assert_eq!(seen[0], seen[2], "members 0 and 2 disagree on the order");
    // ...in which each sender's messages keep the order they were sent in.
    for who in 0..3 {
        let own: Vec<&String> = seen[0]
            .iter()
            .filter(|m| m.starts_with(&format!("{who}:")))
            .collect();
        let expected: Vec<String> = (0..ROUNDS).map(|r| format!("{who}:{r}")).collect();
        assert_eq!(own, expected.iter().collect::<Vec<_>>(), "sender {who}");
    }

    // Other instances got none of it: their first message is their own.
    elsewhere.send(Message::text("hall only")).unwrap();
    assert_eq!(next_text(&mut elsewhere), "hall only");
    default.send(Message::text("default only")).unwrap();
    assert_eq!(next_text(&mut default), "default only");
    // And the room did not get theirs: the next message there is a room message.
    members[0].send(Message::text("room again")).unwrap();
    for ws in &mut members {
        assert_eq!(next_text(ws), "room again");
    }
}

#[test]
fn a_bad_instance_name_is_refused() {
    let server = ServerProcess::start();
    let mut conn = HttpConn::open(server.connect_addr());
    conn.send(
        upgrade_head(
            "GET /?mirror=%3Cscript%3E HTTP/1.1",
            &["Sec-WebSocket-Protocol: lws-mirror-protocol"],
        )
        .as_bytes(),
    );
    assert_eq!(conn.read_response(false).status, 400);
}

/// Messages of the slow-member test: 64 KiB each, tagged with their sender and number.
const MESSAGE_BYTES: usize = 64 * 1024;
/// Members that send and read everything.
const SENDERS: usize = 2;
/// 2 x 320 x 64 KiB = 40 MiB exchanged: far more than a member that never reads can absorb
/// in socket buffers plus the test's `max_subscriber_backlog` ([`BACKLOG`]).
const PER_SENDER: usize = 320;
/// A sender keeps at most this many of its messages unacknowledged (not yet back from the
/// board), as an application that reads what it exchanges does: what is in flight to a
/// member that keeps up (SENDERS x WINDOW x 64 KiB = 512 KiB) stays under the backlog limit.
const WINDOW: usize = 4;
/// The server's `--max-subscriber-backlog` here: each sender is paced by its own reader
/// only, so a reader whose thread is starved on a loaded machine falls behind the other
/// sender by more than the window; 4 MiB leaves it 8 windows of slack (1 MiB, the default,
/// cut a reading member off under a full parallel `cargo test` on 2 busy cores).
const BACKLOG: &str = "4M";

fn tagged(sender: usize, n: usize) -> Vec<u8> {
    let mut data = vec![((sender * 31 + n) % 251) as u8; MESSAGE_BYTES];
    data[0] = sender as u8;
    data[1..9].copy_from_slice(&(n as u64).to_be_bytes());
    data
}

fn tag_of(data: &[u8]) -> (usize, usize) {
    assert_eq!(data.len(), MESSAGE_BYTES, "message size");
    let sender = data[0] as usize;
    let n = u64::from_be_bytes(data[1..9].try_into().unwrap()) as usize;
    let fill = ((sender * 31 + n) % 251) as u8;
    assert!(
        data[9..].iter().all(|&b| b == fill),
        "message {sender}:{n} corrupted"
    );
    (sender, n)
}

/// Resident memory of a process, from /proc (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

const MIRROR_HEADER: &str = "Sec-WebSocket-Protocol: lws-mirror-protocol";

#[test]
fn a_member_that_never_reads_is_closed_and_the_others_get_everything() {
    let server = ServerProcess::start_with(&["--status", "--max-subscriber-backlog", BACKLOG]);
    let addr = server.connect_addr();
    let pid = server.pid().expect("server pid");
    let mut slow = RawWs::open(addr, &[MIRROR_HEADER], &[]);
    let members: Vec<RawWs> = (0..SENDERS)
        .map(|_| RawWs::open(addr, &[MIRROR_HEADER], &[]))
        .collect();
    // A member subscribes in `Established`, before its 101 leaves: all are members now.
    let baseline = rss_kib(pid);
    let sampling = Arc::new(AtomicUsize::new(1));
    let sampler = {
        let sampling = Arc::clone(&sampling);
        thread::spawn(move || {
            let mut peak = 0;
            while sampling.load(Ordering::Relaxed) == 1 {
                peak = peak.max(rss_kib(pid).unwrap_or(0));
                thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };

    let total = SENDERS * PER_SENDER;
    let mut threads = Vec::new();
    for (sender, raw) in members.into_iter().enumerate() {
        let mut writer_stream = raw.conn.stream.try_clone().unwrap();
        let (acked, acks) = mpsc::channel::<()>();
        threads.push(thread::spawn(move || {
            for n in 0..PER_SENDER {
                if n >= WINDOW {
                    acks.recv().expect("own reader ended");
                }
                writer_stream
                    .write_all(&client_frame(true, op::BINARY, &tagged(sender, n)))
                    .unwrap_or_else(|e| panic!("sender {sender}: writing message {n}: {e}"));
            }
            Vec::new()
        }));
        threads.push(thread::spawn(move || {
            let mut raw = raw;
            let mut seen = Vec::with_capacity(total);
            while seen.len() < total {
                let frame = raw.read_frame();
                match frame.opcode {
                    op::PING | op::PONG => continue,
                    op::BINARY => {
                        let tag = tag_of(&frame.payload);
                        if tag.0 == sender {
                            let _ = acked.send(());
                        }
                        seen.push(tag);
                    }
                    other => panic!(
                        "member {sender}: opcode {other} after {} messages ({:?})",
                        seen.len(),
                        frame.close_reason()
                    ),
                }
            }
            seen
        }));
    }
    let mut orders: Vec<Vec<(usize, usize)>> = threads
        .into_iter()
        .map(|t| t.join().expect("member thread"))
        .filter(|seen| !seen.is_empty())
        .collect();
    sampling.store(0, Ordering::Relaxed);
    let peak = sampler.join().unwrap();

    // Everyone who kept up got everything, in one order, each sender's in its own order.
    let first = orders.pop().unwrap();
    for other in &orders {
        assert!(other == &first, "members disagree on the order");
    }
    for sender in 0..SENDERS {
        let own: Vec<usize> = first
            .iter()
            .filter(|m| m.0 == sender)
            .map(|m| m.1)
            .collect();
        assert_eq!(own, (0..PER_SENDER).collect::<Vec<_>>(), "sender {sender}");
    }

    // The member that never read was cut off with 1008, after what it was already sent.
    let mut received = 0;
    let close = loop {
        let frame = slow.read_frame();
        match frame.opcode {
            op::BINARY => received += 1,
            op::CLOSE => break frame,
            _ => {}
        }
    };
    assert_eq!(close.close_code(), Some(1008));
    assert_eq!(close.close_reason(), "subscriber too slow");
    assert!(received < total, "the slow member got all {total} messages");
    let status = get(addr, "/status").body_text();
    assert!(
        status.contains("\"slow_subscribers_closed\":1"),
        "status: {status}"
    );
    let total_kib = (total * MESSAGE_BYTES / 1024) as u64;
    support::say(&format!(
        "mirror: slow member closed with 1008 after {received} of {total} messages; the \
         {SENDERS} others got all {total_kib} KiB; server RSS {baseline:?} KiB, peak {peak} KiB"
    ));
    if let Some(before) = baseline {
        assert!(
            peak.saturating_sub(before) < 16 * 1024,
            "server memory grew from {before} to {peak} KiB while {total_kib} KiB were exchanged"
        );
    }
}
