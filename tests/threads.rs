//! `--threads 2` in the real binary: 40 mirror clients, four publishers placed two on each
//! loop (found from the per-loop lines of `/status`) and the rest connecting in a burst
//! (SO_REUSEPORT spreads them), the publishers sending at once: every member sees the one
//! identical sequence, each publisher's messages in its order; another instance sees none
//! of it; and SIGTERM closes every loop's WebSockets with 1001 and exits 0.

mod support;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use support::loops::{wait_for_loops, which_loop};
use support::ws::{next_data, read_close_code, try_connect_to, Client};
use support::ServerProcess;
use tungstenite::Message;

const MEMBERS: usize = 40;
const PUBLISHERS: usize = 4;
const PER_PUBLISHER: usize = 25;

fn join(addr: std::net::SocketAddr, target: &str) -> Client {
    try_connect_to(addr, target, &["lws-mirror-protocol"])
        .unwrap_or_else(|e| panic!("connect {target}: {e}"))
        .0
}

fn text(ws: &mut Client) -> String {
    match next_data(ws) {
        Message::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

#[test]
fn two_loops_deliver_one_order_per_topic_and_shut_down_together() {
    let mut server = ServerProcess::start_with(&["--threads", "2", "--status"]);
    let addr = server.connect_addr();
    // Publishers first, one at a time, until two are on each loop (extras stay members).
    let mut members: Vec<Client> = Vec::new();
    let mut publisher_loops = Vec::new();
    let mut before = vec![0, 0];
    while (0..2).any(|l| publisher_loops.iter().filter(|&&on| on == l).count() < 2) {
        assert!(
            members.len() < MEMBERS,
            "the publishers all landed on one loop"
        );
        let (on, (ws, now)) = which_loop(server.connect_addr(), &before, || {
            join(addr, "/?mirror=board")
        });
        before = now;
        if publisher_loops.iter().filter(|&&p| p == on).count() < 2 {
            publisher_loops.push(on);
            members.insert(publisher_loops.len() - 1, ws);
        } else {
            members.push(ws);
        }
    }
    let rest = MEMBERS - members.len();
    let burst = Arc::new(Barrier::new(rest));
    let connecting: Vec<_> = (0..rest)
        .map(|_| {
            let burst = burst.clone();
            thread::spawn(move || {
                burst.wait();
                join(addr, "/?mirror=board")
            })
        })
        .collect();
    members.extend(connecting.into_iter().map(|t| t.join().unwrap()));
    let mut elsewhere = join(addr, "/?mirror=other");
    let spread = wait_for_loops(server.connect_addr(), |loops| {
        loops.iter().sum::<u64>() == MEMBERS as u64 + 1
    });
    support::say(&format!(
        "{MEMBERS} members + 1 elsewhere over the loops: {spread:?}"
    ));

    // Publishers on both loops (two each), sending at once.
    let total = PUBLISHERS * PER_PUBLISHER;
    let (publishers, listeners) = members.split_at_mut(PUBLISHERS);
    thread::scope(|scope| {
        for (who, ws) in publishers.iter_mut().enumerate() {
            scope.spawn(move || {
                for n in 0..PER_PUBLISHER {
                    ws.send(Message::text(format!("{who}:{n}"))).unwrap();
                }
            });
        }
    });
    let mut orders: Vec<Vec<String>> = Vec::new();
    thread::scope(|scope| {
        let readers: Vec<_> = publishers
            .iter_mut()
            .chain(listeners.iter_mut())
            .map(|ws| scope.spawn(move || (0..total).map(|_| text(ws)).collect::<Vec<_>>()))
            .collect();
        orders = readers.into_iter().map(|r| r.join().unwrap()).collect();
    });
    for (member, order) in orders.iter().enumerate() {
        assert_eq!(order, &orders[0], "member {member} saw another order");
    }
    for who in 0..PUBLISHERS {
        let own: Vec<&String> = orders[0]
            .iter()
            .filter(|m| m.starts_with(&format!("{who}:")))
            .collect();
        let expected: Vec<String> = (0..PER_PUBLISHER).map(|n| format!("{who}:{n}")).collect();
        assert_eq!(own, expected.iter().collect::<Vec<_>>(), "publisher {who}");
    }
    // The other instance got nothing: its first message is its own.
    elsewhere.send(Message::text("mine")).unwrap();
    assert_eq!(text(&mut elsewhere), "mine");

    // SIGTERM: every member, on either loop, gets 1001; the process exits 0.
    let pid = server.pid().expect("pid");
    support::send_signal(pid, "TERM").unwrap();
    for (member, ws) in members.iter_mut().enumerate() {
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let code =
            read_close_code(ws).unwrap_or_else(|e| panic!("member {member}: no close frame: {e}"));
        assert_eq!(code, Some(1001), "member {member}");
    }
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
}
