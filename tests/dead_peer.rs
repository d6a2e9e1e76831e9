//! Dead-peer detection (libwebsockets' "validity"): after `ping_interval` without traffic the
//! server pings; no traffic within `pong_timeout` drops the connection. A client that never
//! answers is dropped after about interval + timeout; a tungstenite client that keeps reading
//! (and so answers pings by itself) stays connected and keeps getting echoes.
//! The binary runs with `--ping-interval 300ms --pong-timeout 300ms`.

mod support;

use std::time::{Duration, Instant};

use support::hostile::ms;
use support::ws::{self, op, RawWs};
use support::{say, ServerProcess};
use tungstenite::Message;

const PING_INTERVAL: Duration = Duration::from_millis(300);
const PONG_TIMEOUT: Duration = Duration::from_millis(300);

/// The binary with both liveness timeouts at 300 ms.
fn server() -> ServerProcess {
    ServerProcess::start_with(&["--ping-interval", "300ms", "--pong-timeout", "300ms"])
}

#[test]
fn a_peer_that_never_answers_pings_is_dropped() {
    let server = server();
    let mut raw = RawWs::open(server.addr(), &[], &[]);
    let opened = Instant::now();

    // The first frame is the server's ping, after about ping_interval of silence.
    let ping = raw.read_frame();
    let ping_after = opened.elapsed();
    assert_eq!(ping.opcode, op::PING, "expected a ping, got {ping:?}");
    assert!(!ping.masked, "server frames are never masked");

    // We say nothing: the connection must be dropped about pong_timeout later.
    let rest = raw
        .wait_closed(Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("not dropped: {e}"));
    let dropped_after = opened.elapsed();
    assert!(
        rest.is_empty(),
        "dropped peers get no frames (got {rest:?})"
    );
    let expected = PING_INTERVAL + PONG_TIMEOUT;
    assert!(
        ping_after >= PING_INTERVAL - Duration::from_millis(20),
        "pinged after {ping_after:?}, before ping_interval"
    );
    assert!(
        dropped_after >= expected - Duration::from_millis(20)
            && dropped_after <= expected + Duration::from_millis(1500),
        "dropped after {dropped_after:?}; expected about {expected:?}"
    );
    say(&format!(
        "dead peer: ping after {}, dropped after {} (interval {PING_INTERVAL:?} + timeout {PONG_TIMEOUT:?})",
        ms(ping_after),
        ms(dropped_after)
    ));
}

#[test]
fn a_reading_client_answers_pings_and_stays_connected() {
    let server = server();
    let (mut client, _) = ws::try_connect(server.addr(), &["echo"]).expect("connect");
    client
        .get_mut()
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();

    // Idle for several intervals, only reading: tungstenite queues a pong for every ping and
    // flushes it on the next read.
    let idle = PING_INTERVAL * 6;
    let start = Instant::now();
    let mut pings = 0;
    while start.elapsed() < idle {
        match client.read() {
            Ok(Message::Ping(_)) => pings += 1,
            Ok(other) => panic!("unexpected {other:?} while idle"),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("connection lost after {:?}: {e}", start.elapsed()),
        }
    }
    assert!(
        pings >= 2,
        "expected several pings in {idle:?} with ping_interval {PING_INTERVAL:?}, got {pings}"
    );
    client
        .get_mut()
        .set_read_timeout(Some(ws::WS_TIMEOUT))
        .unwrap();
    assert_eq!(
        ws::round_trip(&mut client, Message::text("still here")),
        Message::text("still here")
    );
    say(&format!(
        "dead peer: a reading client answered {pings} pings in {} and still echoes",
        ms(start.elapsed())
    ));
}
