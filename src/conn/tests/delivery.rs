//! Published frames on their way to one subscriber: written straight to a socket with room,
//! the part a full socket did not take queued and sent after it in order, and a subscriber
//! that falls past `max_subscriber_backlog` cut off with 1008 without breaking the frame its
//! socket had begun.

use super::harness::Harness;
use super::peer::Frame;
use crate::config::Config;
use crate::conn::{Delivery, PhaseKind};
use crate::frame::{OP_BINARY, OP_CLOSE};
use crate::protocol::Message;
use crate::topics::Publication;

/// What the client's end holds unread before the server's writes block: a frame and a half.
const CLIENT_BUFFER: usize = 100;
/// Payload bytes of each publication (a 66-byte frame).
const PAYLOAD: usize = 64;

/// Publications of one topic whose payloads are `PAYLOAD` copies of each of `tags`.
fn run(tags: &[u8]) -> Vec<Publication> {
    tags.iter()
        .map(|&tag| Publication::new("t", &Message::Binary(vec![tag; PAYLOAD].into())))
        .collect()
}

/// Read until `count` frames arrived, letting the connection flush as room appears.
fn read(h: &mut Harness, count: usize) -> Vec<Frame> {
    let mut frames = Vec::new();
    for _ in 0..100 {
        frames.extend(h.peer.read_frames());
        if frames.len() >= count {
            break;
        }
        h.poll();
    }
    frames
}

fn tags(frames: &[Frame]) -> Vec<u8> {
    frames
        .iter()
        .map(|frame| {
            assert_eq!(frame.opcode, OP_BINARY);
            assert_eq!(frame.payload.len(), PAYLOAD);
            frame.payload[0]
        })
        .collect()
}

#[test]
fn a_run_goes_straight_out_and_what_the_socket_leaves_follows_in_order() {
    let mut h = Harness::open(Config::default());
    h.peer.client.set_receive_capacity(CLIENT_BUFFER);
    // 3 x 66 bytes: the socket takes 100, the rest waits in the queue.
    assert_eq!(h.deliver(&run(&[1, 2, 3])), Delivery::Queued);
    assert_eq!(h.peer.client.unread(), CLIENT_BUFFER);
    assert_eq!(h.queued(), 3 * (PAYLOAD + 2) - CLIENT_BUFFER);
    // Behind a full socket: queued, nothing to do until it drains.
    assert_eq!(h.deliver(&run(&[4])), Delivery::Sent);
    assert_eq!(h.queued(), 4 * (PAYLOAD + 2) - CLIENT_BUFFER);
    assert_eq!(tags(&read(&mut h, 4)), [1, 2, 3, 4]);
    assert_eq!(h.queued(), 0);
    // Room again and nothing queued: straight out.
    h.peer.client.set_receive_capacity(1 << 20);
    assert_eq!(h.deliver(&run(&[5, 6])), Delivery::Sent);
    assert_eq!(h.queued(), 0);
    assert_eq!(tags(&h.peer.read_frames()), [5, 6]);
}

#[test]
fn a_subscriber_cut_off_keeps_the_frame_its_socket_began() {
    let mut h = Harness::open(Config::default().with_max_subscriber_backlog(300));
    h.peer.client.set_receive_capacity(CLIENT_BUFFER);
    assert_eq!(h.deliver(&run(&[1, 2, 3])), Delivery::Queued);
    assert_eq!(h.deliver(&run(&[4])), Delivery::Sent);
    // 98 begun + 66 queued + 198 more would pass 300.
    assert_eq!(h.deliver(&run(&[5, 6, 7])), Delivery::TooSlow);
    assert_eq!(h.kind(), PhaseKind::Closing);
    let frames = read(&mut h, 4);
    assert_eq!(tags(&frames[..3]), [1, 2, 3], "the begun run is finished");
    let close = &frames[3];
    assert_eq!(close.opcode, OP_CLOSE);
    assert_eq!(close.close_code(), Some(1008));
    assert_eq!(&close.payload[2..], b"subscriber too slow");
    assert_eq!(frames.len(), 4, "nothing after the close");
}
