//! Dead-peer detection on an open WebSocket: a ping after `ping_interval` of silence, any
//! bytes from the peer pushing it back, and a drop (`Closed` with 1006) when nothing at all
//! arrives within `pong_timeout` of the ping.

use super::harness::Harness;
use super::peer::Frame;
use super::recorder::Seen;
use crate::config::Config;
use crate::conn::PhaseKind;
use crate::frame::{client_frame, OP_PING, OP_PONG};
use crate::protocol::Message;
use std::time::Duration;

const PING_INTERVAL: Duration = Duration::from_secs(30);
const PONG_TIMEOUT: Duration = Duration::from_secs(10);
const MS: Duration = Duration::from_millis(1);

fn open() -> Harness {
    let config = Config::default()
        .with_ping_interval(PING_INTERVAL)
        .with_pong_timeout(PONG_TIMEOUT);
    Harness::open(config)
}

fn ping() -> Frame {
    Frame::whole(OP_PING, b"wsloop")
}

#[test]
fn a_silent_peer_is_pinged_at_ping_interval_and_its_pong_delivered() {
    let mut h = open();
    h.wait(PING_INTERVAL - MS);
    assert_eq!(h.peer.read_frames(), []);
    h.wait(MS);
    assert_eq!(h.peer.read_frames(), [ping()]);
    h.peer.send(&client_frame(0x80 | OP_PONG, b"wsloop"));
    h.poll();
    assert_eq!(h.take_seen(), [Seen::Pong("wsloop".into())]);
    h.wait(PING_INTERVAL - MS);
    assert_eq!(h.peer.read_frames(), [], "a full interval from the pong");
    h.wait(MS);
    assert_eq!(h.peer.read_frames(), [ping()]);
    assert_eq!(h.kind(), PhaseKind::Open);
}

#[test]
fn any_bytes_from_the_peer_push_the_ping_back() {
    let mut h = open();
    h.wait(PING_INTERVAL * 2 / 3);
    h.peer.send_text("still here");
    h.poll();
    assert_eq!(h.take_seen(), [Seen::Receive(Message::from("still here"))]);
    assert_eq!(h.peer.read_frames(), [Frame::text("re: still here")]);
    h.wait(PING_INTERVAL - MS);
    assert_eq!(h.peer.read_frames(), []);
    h.wait(MS);
    assert_eq!(h.peer.read_frames(), [ping()]);
    // After the ping, one byte of a frame is an answer too.
    h.wait(PONG_TIMEOUT / 2);
    h.peer.send(&[0x81]);
    h.poll();
    h.wait(PING_INTERVAL - MS);
    assert_eq!(h.kind(), PhaseKind::Open);
    assert_eq!(h.peer.read_frames(), []);
    h.wait(MS);
    assert_eq!(h.peer.read_frames(), [ping()]);
}

#[test]
fn no_answer_within_pong_timeout_drops_the_peer_with_1006() {
    let mut h = open();
    h.wait(PING_INTERVAL);
    assert_eq!(h.peer.read_frames(), [ping()]);
    h.wait(PONG_TIMEOUT - MS);
    assert_eq!(h.kind(), PhaseKind::Open);
    h.wait(MS);
    assert_eq!(h.kind(), PhaseKind::Gone);
    assert_eq!(h.take_seen(), [Seen::Closed(1006)]);
    assert_eq!(h.peer.read_frames(), [], "dropped without a close frame");
    assert!(h.peer.client.server_dropped() && !h.peer.client.fin_received());
}
