//! OPEN => CLOSING => GONE: the close handshake started by the peer and by the protocol
//! (answered, and not answered within `close_timeout`), and a protocol violation.

use super::harness::Harness;
use super::recorder::Seen;
use crate::config::Config;
use crate::conn::PhaseKind;
use crate::protocol::Message;
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

#[test]
fn a_close_from_the_peer_is_echoed_then_the_socket_closed() {
    let mut h = Harness::open(Config::default());
    h.peer.send_close(4321);
    h.poll();
    let frames = h.peer.read_frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0].close_code(), Some(4321));
    assert_eq!(frames[0].payload.len(), 2, "the same code, no reason");
    assert_eq!(h.kind(), PhaseKind::Gone);
    assert!(
        h.peer.client.server_dropped() && !h.peer.client.fin_received(),
        "the handshake is done: closed at once, no shutdown first"
    );
    assert_eq!(
        h.take_seen(),
        [Seen::PeerClose(Some(4321)), Seen::Closed(4321)]
    );
    h.peer.client.shutdown();
    h.poll();
    assert_eq!(h.next_wakeup(), None);
    assert_eq!(h.take_seen(), [], "`Closed` exactly once, nothing after it");
}

/// The protocol returns `Outcome::Close`: our close frame goes out and the connection waits
/// for the peer's.
fn closed_by_the_protocol(config: Config) -> Harness {
    let mut h = Harness::open(config);
    h.peer.send_text("close");
    h.poll();
    assert_eq!(h.kind(), PhaseKind::Closing);
    let frames = h.peer.read_frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0].close_code(), Some(1000));
    assert_eq!(&frames[0].payload[2..], b"bye");
    assert!(!h.peer.client.fin_received(), "FIN waits for the reply");
    assert_eq!(h.take_seen(), [Seen::Receive(Message::from("close"))]);
    h
}

#[test]
fn a_close_from_the_protocol_waits_for_the_peers_reply() {
    let mut h = closed_by_the_protocol(Config::default());
    h.peer.send_text("ignored while closing");
    h.poll();
    assert_eq!(h.kind(), PhaseKind::Closing);
    assert_eq!(h.take_seen(), [], "data after our close is dropped");
    h.peer.send_close(1000);
    h.poll();
    assert_eq!(h.kind(), PhaseKind::Gone);
    assert!(h.peer.client.server_dropped() && !h.peer.client.fin_received());
    assert_eq!(h.peer.read_frames(), []);
    assert_eq!(h.take_seen(), [Seen::Closed(1000)]);
}

#[test]
fn an_unanswered_close_is_dropped_at_close_timeout_as_1006() {
    let close_timeout = Duration::from_secs(3);
    let mut h = closed_by_the_protocol(Config::default().with_close_timeout(close_timeout));
    h.wait(close_timeout - MS);
    assert_eq!(h.kind(), PhaseKind::Closing);
    h.wait(MS);
    assert_eq!(h.kind(), PhaseKind::Gone);
    assert!(h.peer.client.server_dropped());
    assert_eq!(
        h.take_seen(),
        [Seen::Closed(1006)],
        "no close frame came back: 1006, not the code we sent"
    );
}

#[test]
fn an_unmasked_frame_is_closed_with_1002_then_lingers_for_the_peers_fin() {
    let mut h = Harness::open(Config::default());
    h.peer.send(&[0x81, 0x02, b'h', b'i']);
    h.poll();
    let frames = h.peer.read_frames();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0].close_code(), Some(1002));
    assert!(
        h.peer.client.fin_received(),
        "FIN right after the close frame"
    );
    assert_eq!(h.kind(), PhaseKind::Closing, "lingering for the peer's FIN");
    assert_eq!(h.take_seen(), [], "the frame was not delivered");
    h.peer.send_text("discarded");
    h.poll();
    assert_eq!(h.kind(), PhaseKind::Closing);
    h.peer.client.shutdown();
    h.poll();
    assert_eq!(h.kind(), PhaseKind::Gone);
    assert_eq!(h.take_seen(), [Seen::Closed(1002)]);
}
