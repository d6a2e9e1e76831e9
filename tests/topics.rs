//! Topics on one loop, over real sockets: a message published to a topic reaches every
//! subscriber (the publisher too, if it subscribes) and nobody else; unsubscribing stops
//! delivery; `ServerHandle::publish` works from another thread; the name and subscription
//! limits refuse politely; and 100,000 connect/subscribe/close cycles leave the registry
//! empty.

mod support;

use std::thread;
use std::time::{Duration, Instant};

use support::inproc::{Counts, InProcess};
use support::pubsub::{command, cycle, text, PubSub};
use support::ws::{try_connect, Client};
use tungstenite::Message;
use wsloop::{Config, ProtocolTable};

fn start(config: Config) -> InProcess {
    InProcess::start(config, || ProtocolTable::new().with_protocol(PubSub))
}

fn join(server: &InProcess) -> Client {
    try_connect(server.addr, &["pubsub"]).expect("connect").0
}

#[test]
fn subscribers_get_what_is_published_and_others_nothing() {
    let server = start(Config::default());
    let mut a = join(&server);
    let mut b = join(&server);
    let mut other = join(&server);
    assert_eq!(command(&mut a, "sub room"), "ok true");
    assert_eq!(
        command(&mut a, "sub room"),
        "ok false",
        "already subscribed"
    );
    assert_eq!(command(&mut b, "sub room"), "ok true");
    assert_eq!(command(&mut other, "sub hall"), "ok true");

    for n in 0..10 {
        a.send(Message::text(format!("pub room m{n}"))).unwrap();
    }
    for ws in [&mut a, &mut b] {
        let seen: Vec<String> = (0..10).map(|_| text(ws)).collect();
        let expected: Vec<String> = (0..10).map(|n| format!("m{n}")).collect();
        assert_eq!(seen, expected, "in publish order, the publisher included");
    }
    // The hall got none of it: its next message is its own.
    assert_eq!(command(&mut other, "pub hall x"), "x");

    // Unsubscribed, b hears nothing more; a still does.
    assert_eq!(command(&mut b, "unsub room"), "ok true");
    assert_eq!(command(&mut b, "unsub room"), "ok false");
    a.send(Message::text("pub room after")).unwrap();
    assert_eq!(text(&mut a), "after");
    // Delivery to every subscriber happens in one pass: had b still been subscribed,
    // "after" would come before the answer to its next command.
    assert_eq!(command(&mut b, "sub probe"), "ok true");
}

#[test]
fn limits_refuse_long_names_and_too_many_subscriptions() {
    let server = start(
        Config::default()
            .with_max_topic_bytes(8)
            .with_max_subscriptions(2),
    );
    let mut ws = join(&server);
    assert_eq!(
        command(&mut ws, "sub 123456789"),
        "err: the topic name is longer than max_topic_bytes"
    );
    assert_eq!(
        command(&mut ws, "pub 123456789 x"),
        "err: the topic name is longer than max_topic_bytes"
    );
    assert_eq!(command(&mut ws, "sub 12345678"), "ok true");
    assert_eq!(command(&mut ws, "sub b"), "ok true");
    assert_eq!(
        command(&mut ws, "sub c"),
        "err: the connection already has max_subscriptions subscriptions"
    );
    assert_eq!(command(&mut ws, "unsub b"), "ok true");
    assert_eq!(command(&mut ws, "sub c"), "ok true");
}

#[test]
fn a_handle_publishes_from_another_thread() {
    let server = start(Config::default());
    let mut ws = join(&server);
    assert_eq!(command(&mut ws, "sub news"), "ok true");
    let handle = server.handle.clone();
    thread::spawn(move || {
        for n in 0..5 {
            handle.publish("news", format!("n{n}")).unwrap();
            handle.publish("elsewhere", "no").unwrap();
        }
        handle.publish(vec![b'x'; 300], "too long").unwrap_err();
    })
    .join()
    .unwrap();
    for n in 0..5 {
        assert_eq!(text(&mut ws), format!("n{n}"));
    }
}

/// Connections opened and closed in the leak test, over [`CYCLE_THREADS`] threads.
const CYCLES: usize = 100_000;
const CYCLE_THREADS: usize = 4;

#[test]
fn subscriptions_end_with_their_connections() {
    let server = start(Config::default());
    let addr = server.addr;
    let started = Instant::now();
    let workers: Vec<_> = (0..CYCLE_THREADS)
        .map(|t| {
            thread::spawn(move || {
                for n in (t..CYCLES).step_by(CYCLE_THREADS) {
                    cycle(addr, n);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut counts;
    loop {
        counts = *server.counts.lock().unwrap();
        if counts == Counts::default() || Instant::now() > deadline {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    support::say(&format!(
        "topics: {CYCLES} connect/subscribe/close cycles in {:?}; afterwards {counts:?}",
        started.elapsed()
    ));
    assert_eq!(
        counts,
        Counts::default(),
        "subscriptions or topics left behind"
    );
}
