//! Topics across instances through a real Redis (`redis-server`, started here on a free
//! port, stopped by PID): two wsloop processes, clients and publishers on both, see every
//! message in one order; `redis-cli`-style publishers reach them through the envelope; when
//! Redis dies each instance goes on delivering its own publications, and when it is back on
//! the same port cross-instance delivery resumes by itself; a Redis that cuts the bridge off
//! for its pubsub output buffer limit is survived the same way; Redis down at startup costs
//! one warning. An HTTP publish (`--publish-token`) on one instance reaches the clients of
//! both, and an instance with `--threads 2` keeps the one order too.
#![cfg(feature = "redis")]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::hostile::{fd_count, poll_until};
use support::http::{get, HttpConn};
use support::loops::which_loop;
use support::redis::{free_port, RedisServer};
use support::topics::{exchange_in_one_order, next_text};
use support::ws::{next_data, response_protocol, try_connect_to, Client};
use support::ServerProcess;
use tungstenite::Message;

const PROTOCOL: &str = "lws-mirror-protocol";
/// The Redis channel of mirror instance `room` with the default prefix.
const ROOM: &str = "wsloop:mirror/room";
/// How long cross-instance delivery may take to come back after Redis does.
const RESUME_WITHIN: Duration = Duration::from_secs(10);

fn instance(redis: &RedisServer) -> ServerProcess {
    ServerProcess::start_with(&["--redis", &redis.url(), "--status"])
}

/// The publish endpoint's token in the HTTP publish test.
const TOKEN: &str = "bridge-token";

fn join(server: &ServerProcess) -> Client {
    let (ws, response) = try_connect_to(server.connect_addr(), "/?mirror=room", &[PROTOCOL])
        .unwrap_or_else(|e| panic!("connect: {e}"));
    assert_eq!(response_protocol(&response).as_deref(), Some(PROTOCOL));
    ws
}

/// The next text within `within`, or `None` (the client keeps working after a timeout).
fn text_within(ws: &mut Client, within: Duration) -> Option<String> {
    ws.get_ref().set_read_timeout(Some(within)).unwrap();
    let got = match ws.read() {
        Ok(Message::Text(text)) => Some(text.to_string()),
        Ok(other) => panic!("expected text, got {other:?}"),
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        Err(e) => panic!("read: {e}"),
    };
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    got
}

/// `/status`'s `"redis":{...}` object, as text.
fn bridge_status(addr: SocketAddr) -> String {
    let body = get(addr, "/status").body_text();
    let start = body
        .find("\"redis\":{")
        .unwrap_or_else(|| panic!("no redis in {body}"));
    body[start..].split('}').next().unwrap().to_string() + "}"
}

fn status_number(status: &str, field: &str) -> u64 {
    let key = format!("\"{field}\":");
    let rest = &status[status
        .find(&key)
        .unwrap_or_else(|| panic!("{field} in {status}"))
        + key.len()..];
    rest.split([',', '}']).next().unwrap().parse().unwrap()
}

fn connected(addr: SocketAddr) -> bool {
    bridge_status(addr).contains("\"connected\":true")
}

#[test]
fn two_instances_clients_and_publishers_on_both_see_one_order() {
    let redis = RedisServer::start();
    let (a, b) = (instance(&redis), instance(&redis));
    let mut clients: Vec<Client> = [&a, &a, &b, &b].into_iter().map(join).collect();
    redis.wait_subscribers(ROOM, 2);

    const ROUNDS: usize = 25;
    let total = exchange_in_one_order(&mut clients, ROUNDS).len();
    // Another program publishes through the envelope: `t` text, `b` binary.
    assert_eq!(redis.publish(ROOM, "tfrom redis-cli"), Some(2));
    assert_eq!(redis.publish(ROOM, "bbytes"), Some(2));
    assert_eq!(redis.publish(ROOM, "no type byte"), Some(2));
    assert_eq!(redis.publish(ROOM, "tlast"), Some(2));
    for ws in &mut clients {
        assert_eq!(next_text(ws), "from redis-cli");
        assert_eq!(next_data(ws), Message::binary(b"bytes".to_vec()));
        assert_eq!(next_text(ws), "last", "the invalid envelope is dropped");
    }
    for server in [&a, &b] {
        let status = bridge_status(server.connect_addr());
        assert_eq!(status_number(&status, "dropped"), 1, "{status}");
        assert_eq!(
            status_number(&status, "messages_in"),
            total as u64 + 3,
            "{status}"
        );
        assert_eq!(
            status_number(&status, "messages_out"),
            2 * ROUNDS as u64,
            "{status}"
        );
    }
    let metrics = get(a.connect_addr(), "/metrics").body_text();
    assert!(
        metrics.lines().any(|l| l == "wsloop_redis_connected 1"),
        "{metrics}"
    );

    // The last subscriber gone, the channel is unsubscribed.
    drop(clients);
    poll_until(Duration::from_secs(10), || {
        (redis.subscribers(ROOM) == Some(0)).then_some(())
    })
    .expect("UNSUBSCRIBE after the last local subscriber left");
}

/// Cross-instance delivery works: `from` sends probes until `to` sees one. (A probe may be
/// lost while the bridge comes back: delivery is at most once.)
fn wait_cross_delivery(from: &mut Client, to: &mut Client, within: Duration) -> Duration {
    let start = Instant::now();
    for n in 0.. {
        assert!(
            start.elapsed() < within,
            "no cross-instance delivery within {within:?}"
        );
        from.send(Message::text(format!("probe {n}"))).unwrap();
        while text_within(from, Duration::from_millis(20)).is_some() {}
        if text_within(to, Duration::from_millis(200)).is_some_and(|m| m.starts_with("probe")) {
            // Take the probes still on their way, so the next read is fresh.
            for ws in [from, to] {
                while text_within(ws, Duration::from_millis(100)).is_some() {}
            }
            return start.elapsed();
        }
    }
    unreachable!()
}

#[test]
fn redis_lost_means_local_delivery_and_redis_back_means_cross_delivery_again() {
    let mut redis = RedisServer::start();
    let port = redis.port;
    let (a, b) = (instance(&redis), instance(&redis));
    let (mut a1, mut a2, mut b1) = (join(&a), join(&a), join(&b));
    redis.wait_subscribers(ROOM, 2);
    a1.send(Message::text("before")).unwrap();
    for ws in [&mut a1, &mut a2, &mut b1] {
        assert_eq!(next_text(ws), "before");
    }
    let fds = fd_count(a.pid().unwrap());

    redis.kill();
    poll_until(Duration::from_secs(10), || {
        (!connected(a.connect_addr())).then_some(())
    })
    .expect("instance a notices Redis is gone");
    a1.send(Message::text("while down")).unwrap();
    assert_eq!(next_text(&mut a1), "while down", "local delivery goes on");
    assert_eq!(next_text(&mut a2), "while down");
    assert_eq!(
        text_within(&mut b1, Duration::from_millis(300)),
        None,
        "b cannot get it"
    );

    let redis = RedisServer::start_on(port);
    let took = wait_cross_delivery(&mut a1, &mut b1, RESUME_WITHIN);
    support::say(&format!(
        "cross-instance delivery resumed {took:?} after Redis restarted"
    ));
    while text_within(&mut a2, Duration::from_millis(100)).is_some() {}
    wait_cross_delivery(&mut b1, &mut a2, RESUME_WITHIN);

    // Once, in one order, again.
    for ws in [&mut a1, &mut a2, &mut b1] {
        while text_within(ws, Duration::from_millis(100)).is_some() {}
    }
    for n in 0..5 {
        a1.send(Message::text(format!("after {n}"))).unwrap();
        b1.send(Message::text(format!("after {n}"))).unwrap();
    }
    let seen: Vec<Vec<String>> = [&mut a1, &mut a2, &mut b1]
        .into_iter()
        .map(|ws| (0..10).map(|_| next_text(ws)).collect())
        .collect();
    assert!(seen[0] == seen[1] && seen[1] == seen[2], "{seen:?}");
    for server in [&a, &b] {
        let status = bridge_status(server.connect_addr());
        assert_eq!(status_number(&status, "reconnects"), 1, "{status}");
        assert!(status.contains("\"connected\":true"), "{status}");
    }
    assert!(status_number(&bridge_status(a.connect_addr()), "local_only") >= 1);
    let mut a = a;
    let mut b = b;
    assert!(a.is_running() && b.is_running(), "no instance exits");
    let fds_after = fd_count(a.pid().unwrap());
    assert!(
        fds_after <= fds + 2,
        "descriptors {fds} before, {fds_after} after reconnecting"
    );
    drop(redis);
}

/// `CONFIG SET client-output-buffer-limit LIMIT`.
fn set_pubsub_limit(redis: &RedisServer, limit: &str) {
    let reply = redis.command(&["CONFIG", "SET", "client-output-buffer-limit", limit]);
    assert_eq!(
        reply.as_deref().map(str::trim),
        Some("+OK"),
        "CONFIG SET {limit}"
    );
}

#[test]
fn a_redis_that_cuts_off_the_bridge_for_its_output_buffer_is_survived() {
    let redis = RedisServer::start();
    let (a, b) = (instance(&redis), instance(&redis));
    let (mut a1, mut b1) = (join(&a), join(&b));
    redis.wait_subscribers(ROOM, 2);
    // Any pubsub client with more than 1 KiB waiting is disconnected at once.
    set_pubsub_limit(&redis, "pubsub 1024 0 0");
    // Both bridges are cut off by it, and the message is lost for everyone: Redis drops
    // it, and the sender's instance had handed it to Redis (at most once).
    a1.send(Message::text("x".repeat(64 * 1024))).unwrap();
    for server in [&a, &b] {
        poll_until(Duration::from_secs(10), || {
            (status_number(&bridge_status(server.connect_addr()), "reconnects") >= 1).then_some(())
        })
        .expect("the bridge was cut off and came back");
    }
    set_pubsub_limit(&redis, "pubsub 32mb 8mb 60");
    redis.wait_subscribers(ROOM, 2);
    while text_within(&mut b1, Duration::from_millis(100)).is_some() {}
    wait_cross_delivery(&mut a1, &mut b1, RESUME_WITHIN);
    wait_cross_delivery(&mut b1, &mut a1, RESUME_WITHIN);
}

#[test]
fn redis_down_at_startup_warns_once_serves_locally_and_connects_when_it_comes() {
    let port = free_port();
    let server = ServerProcess::start_with(&[
        "--redis",
        &format!("redis://127.0.0.1:{port}"),
        "--status",
        "--redis-reconnect-max-delay",
        "500ms",
    ]);
    let mut ws = join(&server);
    ws.send(Message::text("alone")).unwrap();
    assert_eq!(next_text(&mut ws), "alone", "local delivery without Redis");
    // Several retries later, still one warning.
    thread_sleep_through_retries();
    let warnings = server.stderr().matches("cannot reach Redis").count();
    assert_eq!(warnings, 1, "{}", server.stderr());
    assert!(!connected(server.connect_addr()));

    let redis = RedisServer::start_on(port);
    poll_until(RESUME_WITHIN, || {
        connected(server.connect_addr()).then_some(())
    })
    .expect("connected once Redis is there");
    redis.wait_subscribers(ROOM, 1);
    assert_eq!(redis.publish(ROOM, "thello from redis"), Some(1));
    assert_eq!(next_text(&mut ws), "hello from redis");
}

/// Long enough for the bridge to have retried a few times (100 ms, 200 ms, 400 ms, ...).
fn thread_sleep_through_retries() {
    std::thread::sleep(Duration::from_millis(1500));
}

#[test]
fn the_redis_flags_refuse_what_cannot_work() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsloop"))
        .args(["--port", "0", "--redis", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("expected redis://HOST:PORT"), "{stderr}");
}

/// `POST /publish/mirror/room` on `server`; the status.
fn http_publish(server: &ServerProcess, content_type: &str, body: &[u8]) -> u16 {
    let mut conn = HttpConn::open(server.connect_addr());
    let head = format!(
        "POST /publish/mirror/room HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.send(&[head.as_bytes(), body].concat());
    conn.read_response(false).status
}

#[test]
fn an_http_publish_on_one_instance_reaches_the_clients_of_both() {
    let redis = RedisServer::start();
    let start = || ServerProcess::start_with(&["--redis", &redis.url(), "--publish-token", TOKEN]);
    let (a, b) = (start(), start());
    let mut clients: Vec<Client> = [&a, &b, &b].into_iter().map(join).collect();
    redis.wait_subscribers(ROOM, 2);
    assert_eq!(http_publish(&a, "text/plain", b"from a backend"), 204);
    assert_eq!(
        http_publish(&b, "application/octet-stream", b"\x00\x01"),
        204
    );
    assert_eq!(http_publish(&a, "text/plain", b"last"), 204);
    // Redis orders publications as they reach it: `a`'s two in their order, `b`'s wherever
    // its PUBLISH landed (a 204 means the instance took it, not that Redis has it), but one
    // and the same sequence for every client of both instances.
    let sequences: Vec<Vec<Message>> = clients
        .iter_mut()
        .map(|ws| (0..3).map(|_| next_data(ws)).collect())
        .collect();
    let from_a: Vec<&Message> = sequences[0].iter().filter(|m| m.is_text()).collect();
    assert_eq!(
        from_a,
        [&Message::text("from a backend"), &Message::text("last")],
        "one instance's publications keep their order"
    );
    assert!(sequences[0].contains(&Message::binary(vec![0u8, 1])));
    for sequence in &sequences[1..] {
        assert_eq!(sequence, &sequences[0], "every client sees one order");
    }
}

#[test]
fn an_instance_with_two_loops_shares_one_order_through_redis() {
    let redis = RedisServer::start();
    let a = ServerProcess::start_with(&["--redis", &redis.url(), "--status", "--threads", "2"]);
    let b = instance(&redis);
    // Join `a` one client at a time until both of its loops have one (bounded).
    let mut clients = Vec::new();
    let (mut before, mut loops_seen) = (vec![0, 0], [false, false]);
    while !loops_seen.iter().all(|&seen| seen) {
        assert!(clients.len() < 20, "20 clients all landed on one loop");
        let (on, (ws, now)) = which_loop(a.connect_addr(), &before, || join(&a));
        before = now;
        loops_seen[on] = true;
        clients.push(ws);
    }
    clients.extend([join(&b), join(&b)]);
    redis.wait_subscribers(ROOM, 2);
    exchange_in_one_order(&mut clients, 10);
}
