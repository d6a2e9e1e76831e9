//! A client that does not read: the transport's buffer fills, the outgoing queue takes the
//! rest up to `max_outgoing_bytes`, and a send past that fails and closes the WebSocket with
//! 1008, which the client sees once it reads again.

use super::harness::Harness;
use super::peer::Frame;
use super::recorder::{Seen, FLOOD_MESSAGE_BYTES};
use crate::config::Config;
use crate::conn::PhaseKind;
use crate::frame::{OP_BINARY, OP_CLOSE};
use crate::protocol::{Message, SendError};

const MAX_OUTGOING: usize = 64 * 1024;
/// What the client's end holds unread before the server's writes block.
const CLIENT_BUFFER: usize = 8 * 1024;

#[test]
fn a_client_that_does_not_read_is_closed_with_1008_at_the_outgoing_cap() {
    let config = Config::default()
        .with_max_outgoing_bytes(MAX_OUTGOING)
        .with_outgoing_soft_limit(MAX_OUTGOING / 4);
    let mut h = Harness::open(config);
    h.peer.client.set_receive_capacity(CLIENT_BUFFER);
    h.peer.send_text("flood");
    h.poll();
    // As many whole frames (a 4-byte header each) as fit under the cap.
    let sent = MAX_OUTGOING / (FLOOD_MESSAGE_BYTES + 4);
    assert_eq!(
        h.take_seen(),
        [
            Seen::Receive(Message::from("flood")),
            Seen::Flooded {
                sent,
                error: SendError::QueueFull
            }
        ]
    );
    assert_eq!(h.kind(), PhaseKind::Closing);
    assert_eq!(
        h.peer.client.unread(),
        CLIENT_BUFFER,
        "the client's end is full"
    );
    assert!(h.queued() <= MAX_OUTGOING, "{} bytes queued", h.queued());
    h.poll();
    assert_eq!(
        h.peer.client.unread(),
        CLIENT_BUFFER,
        "nothing moves meanwhile"
    );

    // The client reads again: the messages queued before the failed send, then 1008.
    let mut frames = Vec::new();
    for _ in 0..2 * MAX_OUTGOING / CLIENT_BUFFER {
        frames.extend(h.peer.read_frames());
        if frames.last().is_some_and(|frame| frame.opcode == OP_CLOSE) {
            break;
        }
        h.poll();
    }
    let (close, messages) = frames.split_last().unwrap();
    assert_eq!(close.close_code(), Some(1008));
    assert_eq!(messages.len(), sent);
    assert!(messages
        .iter()
        .all(|frame| *frame == Frame::whole(OP_BINARY, &[0; FLOOD_MESSAGE_BYTES])));
    h.peer.send_close(1008);
    h.poll();
    assert_eq!(h.kind(), PhaseKind::Gone);
    assert_eq!(h.take_seen(), [Seen::Closed(1008)]);
}
