//! READING_HEAD => OPEN, and messages both ways on the open WebSocket.

use super::harness::Harness;
use super::peer::{Frame, SAMPLE_ACCEPT};
use super::recorder::Seen;
use crate::config::Config;
use crate::conn::PhaseKind;
use crate::protocol::{Message, SendError};

#[test]
fn an_upgrade_request_gets_101_and_opens_the_websocket() {
    let mut h = Harness::new(Config::default());
    assert_eq!(h.kind(), PhaseKind::ReadingHead);
    h.peer.send_upgrade();
    h.poll();
    assert_eq!(h.kind(), PhaseKind::Open);
    let head = h.peer.read_head();
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    let accept = format!("\r\nSec-WebSocket-Accept: {SAMPLE_ACCEPT}\r\n");
    assert!(head.contains(&accept), "{head}");
    assert_eq!(h.take_seen(), [Seen::Established]);
    assert_eq!(h.peer.read_frames(), [], "nothing after the 101");
}

#[test]
fn a_text_message_reaches_the_protocol_and_its_reply_goes_out() {
    let mut h = Harness::open(Config::default());
    h.peer.send_text("hello");
    h.poll();
    assert_eq!(h.take_seen(), [Seen::Receive(Message::from("hello"))]);
    assert_eq!(h.peer.read_frames(), [Frame::text("re: hello")]);
    assert_eq!(h.kind(), PhaseKind::Open);
}

#[test]
fn a_reply_filled_in_place_goes_out_and_a_refused_one_leaves_nothing() {
    let mut h = Harness::open(Config::default());
    h.peer.send_text("fill");
    h.poll();
    assert_eq!(
        h.take_seen(),
        [
            Seen::Receive(Message::from("fill")),
            Seen::FillRefused(vec![
                SendError::InvalidUtf8,
                SendError::Withdrawn,
                SendError::WrongLength,
            ]),
        ]
    );
    // Only the good reply (valid UTF-8, not ASCII) reached the wire: the refused ones were
    // taken back whole.
    assert_eq!(h.peer.read_frames(), [Frame::text("fillé")]);
    assert_eq!(h.kind(), PhaseKind::Open);
}

#[test]
fn a_frame_sent_with_the_request_head_is_not_lost() {
    let mut h = Harness::new(Config::default());
    h.peer.send_upgrade();
    h.peer.send_text("early");
    h.poll();
    h.peer.read_head();
    assert_eq!(
        h.take_seen(),
        [Seen::Established, Seen::Receive(Message::from("early"))]
    );
    assert_eq!(h.peer.read_frames(), [Frame::text("re: early")]);
}
