//! `lws-mirror-protocol` in the real binary: every message reaches every member of its
//! instance (the sender too) in one order, instances are separate, and a member that stops
//! reading holds the senders back (rx flow control) instead of losing messages or making the
//! server buffer them.

mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use support::http::HttpConn;
use support::ws::{
    client_frame, next_data, op, response_protocol, try_connect_to, upgrade_head, Client, RawWs,
};
use support::ServerProcess;
use tungstenite::Message;

const PROTOCOL: &str = "lws-mirror-protocol";
/// The server's ring capacity (`wsloop::demo::mirror::RING_CAPACITY`).
const RING_CAPACITY: usize = wsloop::demo::mirror::RING_CAPACITY;

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

/// Messages of the flow-control test: 64 KiB each, numbered in the first 8 bytes.
const MESSAGE_BYTES: usize = 64 * 1024;
/// 32 MiB in all: far more than the ring (4 MiB) plus what the sockets of a member that does
/// not read can absorb.
const MESSAGES: usize = 512;

fn numbered(n: usize) -> Vec<u8> {
    let mut data = vec![(n % 251) as u8; MESSAGE_BYTES];
    data[..8].copy_from_slice(&(n as u64).to_be_bytes());
    data
}

fn number_of(data: &[u8]) -> usize {
    assert_eq!(data.len(), MESSAGE_BYTES, "message size");
    let n = u64::from_be_bytes(data[..8].try_into().unwrap()) as usize;
    assert!(
        data[8..].iter().all(|&b| b == (n % 251) as u8),
        "message {n} corrupted"
    );
    n
}

/// Resident memory of a process, from /proc (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_member_that_stops_reading_pauses_the_sender_and_loses_nothing() {
    let server = ServerProcess::start();
    let addr = server.connect_addr();
    let pid = server.pid().expect("server pid");

    // B stops reading; C reads everything as it comes; A sends (and reads on its own thread).
    let mut slow = join(addr, "/");
    let mut fast = join(addr, "/");
    let raw = RawWs::open(addr, &["Sec-WebSocket-Protocol: lws-mirror-protocol"], &[]);
    assert_eq!(
        raw.response.header("sec-websocket-protocol"),
        Some(PROTOCOL)
    );
    let baseline = rss_kib(pid);

    let written = Arc::new(AtomicUsize::new(0));
    let mut writer_stream = raw.conn.stream.try_clone().unwrap();
    let writer = {
        let written = Arc::clone(&written);
        thread::spawn(move || {
            for n in 0..MESSAGES {
                writer_stream
                    .write_all(&client_frame(true, op::BINARY, &numbered(n)))
                    .unwrap_or_else(|e| panic!("sender: writing message {n}: {e}"));
                written.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let sender_reader = thread::spawn(move || {
        let mut raw = raw;
        let mut got = 0;
        while got < MESSAGES {
            let frame = raw.read_frame();
            match frame.opcode {
                op::PING | op::PONG => continue,
                op::BINARY => {
                    assert!(frame.fin, "unfragmented messages");
                    assert_eq!(number_of(&frame.payload), got, "sender's copy out of order");
                    got += 1;
                }
                other => panic!("sender: unexpected opcode {other}"),
            }
        }
    });
    let (fast_tx, fast_rx) = mpsc::channel();
    let fast_reader = thread::spawn(move || {
        for expected in 0..MESSAGES {
            match next_data(&mut fast) {
                Message::Binary(data) => assert_eq!(number_of(&data), expected, "fast member"),
                other => panic!("fast member: expected binary, got {other:?}"),
            }
            if fast_tx.send(expected).is_err() {
                return;
            }
        }
    });

    // While B does not read, delivery stops: the fast member goes quiet well short of the end
    // (a quiet second is the only way to observe that nothing more comes).
    let mut delivered = 0;
    while let Ok(n) = fast_rx.recv_timeout(Duration::from_secs(1)) {
        delivered = n + 1;
        assert!(
            delivered < MESSAGES,
            "all {MESSAGES} messages reached the fast member while one member read nothing"
        );
    }
    assert!(
        delivered >= RING_CAPACITY,
        "only {delivered} messages delivered before the stall (ring holds {RING_CAPACITY})"
    );
    let stalled_rss = rss_kib(pid);
    let sent_so_far = written.load(Ordering::Relaxed);
    support::say(&format!(
        "mirror: stalled after {delivered} of {MESSAGES} messages; the sender got {sent_so_far} \
         written before TCP pushed back; server RSS {baseline:?} -> {stalled_rss:?} KiB"
    ));
    // The server stopped reading the sender, so its writes block once the sockets are full.
    assert!(
        sent_so_far < MESSAGES,
        "the sender wrote all {MESSAGES} messages: it was never paused"
    );
    if let (Some(before), Some(during)) = (baseline, stalled_rss) {
        let total_kib = (MESSAGES * MESSAGE_BYTES / 1024) as u64;
        assert!(
            during.saturating_sub(before) < total_kib / 2,
            "server memory grew from {before} to {during} KiB while {total_kib} KiB were sent"
        );
    }

    // B reads now: everything arrives, exactly once, in order, and the others finish too.
    for expected in 0..MESSAGES {
        match next_data(&mut slow) {
            Message::Binary(data) => assert_eq!(number_of(&data), expected, "slow member"),
            other => panic!("slow member: expected binary, got {other:?}"),
        }
    }
    writer.join().expect("sender's writer");
    sender_reader.join().expect("sender's reader");
    let rest = fast_rx.iter().count();
    fast_reader.join().expect("fast member");
    assert_eq!(delivered + rest, MESSAGES, "fast member's total");
}
