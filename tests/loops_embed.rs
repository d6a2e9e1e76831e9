//! Several loops embedded by a host, each `Server` in its own thread and `Poll`, sharing one
//! `LocalBus` (what `Loops` does, with the public calls a host makes). The loops listen on
//! ports of their own, so the test knows which loop every client is on.
//!
//! Checks: a publication reaches subscribers on both loops, from a client of either loop and
//! from either loop's `ServerHandle` in another thread; unsubscribing on one loop stops
//! delivery there while another subscriber there still gets it; publishers on both loops
//! give every subscriber one identical order; other topics see nothing; and connect/
//! subscribe/close cycles on both loops leave no topic on the bus or in a loop.

mod support;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::inproc::{Counts, InProcess};
use support::pubsub::{command, cycle, text, PubSub};
use support::ws::{try_connect, Client};
use tungstenite::Message;
use wsloop::{Config, LocalBus, ProtocolTable};

fn two_loops() -> (Arc<LocalBus>, InProcess, InProcess) {
    let bus = Arc::new(LocalBus::new());
    let start = || {
        InProcess::start_on_bus(
            Config::default(),
            || ProtocolTable::new().with_protocol(PubSub),
            bus.clone(),
        )
    };
    let (a, b) = (start(), start());
    (bus, a, b)
}

fn join(server: &InProcess) -> Client {
    try_connect(server.addr, &["pubsub"]).expect("connect").0
}

#[test]
fn publications_cross_loops_and_unsubscribe_stops_them() {
    let (_bus, a, b) = two_loops();
    let (mut on_a, mut publisher_a) = (join(&a), join(&a));
    let (mut on_b, mut stays_b) = (join(&b), join(&b));
    let mut elsewhere_b = join(&b);
    for ws in [&mut on_a, &mut on_b, &mut stays_b] {
        assert_eq!(command(ws, "sub room"), "ok true");
    }
    assert_eq!(command(&mut elsewhere_b, "sub hall"), "ok true");

    publisher_a.send(Message::text("pub room from-a")).unwrap();
    for ws in [&mut on_a, &mut on_b, &mut stays_b] {
        assert_eq!(text(ws), "from-a");
    }
    // Either loop's handle, from another thread, reaches both loops.
    let (handle_a, handle_b) = (a.handle.clone(), b.handle.clone());
    thread::spawn(move || {
        handle_a.publish("room", "handle-a").unwrap();
        handle_b.publish("room", "handle-b").unwrap();
    })
    .join()
    .unwrap();
    // Two loops hand their handle's publication to the bus when each gets to it, so either
    // may come first; but every subscriber sees the same first.
    let mut orders = Vec::new();
    for ws in [&mut on_a, &mut on_b, &mut stays_b] {
        let mut got = [text(ws), text(ws)];
        orders.push(got.clone());
        got.sort();
        assert_eq!(got, ["handle-a", "handle-b"], "both handles' publications");
    }
    assert!(
        orders.iter().all(|o| *o == orders[0]),
        "one order: {orders:?}"
    );

    // on_b unsubscribes; stays_b keeps loop b interested in the room.
    assert_eq!(command(&mut on_b, "unsub room"), "ok true");
    publisher_a.send(Message::text("pub room after")).unwrap();
    assert_eq!(text(&mut on_a), "after");
    assert_eq!(text(&mut stays_b), "after");
    // Loop b delivered "after" to its subscribers in one pass: had on_b still been one,
    // "after" would come before the answer to its next command.
    assert_eq!(command(&mut on_b, "sub probe"), "ok true");
    // The hall heard nothing of the room: its next message is its own.
    assert_eq!(command(&mut elsewhere_b, "pub hall mine"), "mine");
}

#[test]
fn publishers_on_both_loops_give_one_order() {
    const PER_PUBLISHER: usize = 50;
    let (_bus, a, b) = two_loops();
    let mut subscribers: Vec<Client> = (0..6)
        .map(|n| join(if n % 2 == 0 { &a } else { &b }))
        .collect();
    for ws in &mut subscribers {
        assert_eq!(command(ws, "sub board"), "ok true");
    }
    let mut publishers: Vec<Client> = (0..4)
        .map(|n| join(if n % 2 == 0 { &a } else { &b }))
        .collect();
    thread::scope(|scope| {
        for (who, ws) in publishers.iter_mut().enumerate() {
            scope.spawn(move || {
                for n in 0..PER_PUBLISHER {
                    ws.send(Message::text(format!("pub board {who}:{n}")))
                        .unwrap();
                }
            });
        }
    });
    let total = 4 * PER_PUBLISHER;
    let orders: Vec<Vec<String>> = subscribers
        .iter_mut()
        .map(|ws| (0..total).map(|_| text(ws)).collect())
        .collect();
    for (n, order) in orders.iter().enumerate() {
        assert_eq!(order, &orders[0], "subscriber {n} saw another order");
    }
    for who in 0..4 {
        let own: Vec<&String> = orders[0]
            .iter()
            .filter(|m| m.starts_with(&format!("{who}:")))
            .collect();
        let expected: Vec<String> = (0..PER_PUBLISHER).map(|n| format!("{who}:{n}")).collect();
        assert_eq!(
            own,
            expected.iter().collect::<Vec<_>>(),
            "publisher {who}'s order"
        );
    }
}

#[test]
fn cycles_on_both_loops_leave_no_topic_behind() {
    const CYCLES: usize = 10_000;
    let (bus, a, b) = two_loops();
    let addrs = [a.addr, b.addr];
    let workers: Vec<_> = (0..2)
        .map(|t| {
            thread::spawn(move || {
                for n in (t..CYCLES).step_by(2) {
                    cycle(addrs[n % 2], n);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let settled = || {
        *a.counts.lock().unwrap() == Counts::default()
            && *b.counts.lock().unwrap() == Counts::default()
            && bus.topic_count() == 0
    };
    while !settled() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(
        settled(),
        "left behind: a {:?}, b {:?}, bus topics {}",
        a.counts.lock().unwrap(),
        b.counts.lock().unwrap(),
        bus.topic_count()
    );
}
