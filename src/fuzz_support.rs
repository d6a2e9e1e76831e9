//! Entry points for the fuzz targets in `fuzz/`; not part of the API (hidden from the docs).

use crate::conn::frame_reader::{FrameReader, IncomingRoom, Inflating, Item, Limits};
use crate::deflate::{Params, SharedDeflate};
use crate::http::extensions::DeflateAgreement;
use crate::protocol::Message;
use bytes::{Bytes, BytesMut};

/// Limits the frame reader is fuzzed with: small, so the size checks are reached.
const FUZZ_LIMITS: Limits = Limits {
    max_frame_bytes: 4096,
    max_message_bytes: 8192,
};
/// The server-wide incoming budget, small too.
const FUZZ_ROOM: IncomingRoom = IncomingRoom {
    held_by_others: 0,
    max: 16384,
};

/// Feed `input` to the WebSocket frame reader in two reads (cut at `split`), as a socket
/// might deliver it, both as fragments and as whole messages, without and with
/// permessage-deflate agreed (shared codec, and takeover), and check its promises: it never
/// panics; every text fragment and message is valid UTF-8 on its own; fragments come in
/// order (first .. last); no message, inflated or not, passes the limit; after a violation
/// nothing more is read.
pub fn frame_reader(input: &[u8], split: usize) {
    let cut = split.min(input.len());
    let mut shared = SharedDeflate::new(1 << 16);
    let deflate = |takeover: bool| {
        Params::agreed(&DeflateAgreement {
            server_no_context_takeover: !takeover,
            client_no_context_takeover: !takeover,
            server_max_window_bits: None,
            client_max_window_bits: None,
            server_window_bits: 15,
            client_window_bits: 15,
        })
    };
    for (whole_messages, params) in [
        (false, Params::OFF),
        (true, Params::OFF),
        (false, deflate(false)),
        (true, deflate(false)),
        (true, deflate(true)),
    ] {
        let mut inflating = Inflating {
            params,
            shared: &mut shared,
        };
        let mut reader = FrameReader::default();
        let mut check = Checker::default();
        for piece in [&input[..cut], &input[cut..]] {
            let mut bytes = piece.to_vec();
            reader.prepare(&mut bytes);
            let mut chunk = FrameReader::chunk(Bytes::from(bytes), piece.len(), BytesMut::new());
            loop {
                match reader.next(
                    &mut chunk,
                    whole_messages,
                    FUZZ_LIMITS,
                    FUZZ_ROOM,
                    &mut inflating,
                ) {
                    Ok(Some(item)) => check.item(item),
                    Ok(None) => break,
                    Err(_) => return,
                }
            }
            assert!(
                chunk.is_empty(),
                "a read is used up before more is asked for"
            );
            assert!(reader.held_bytes() <= FUZZ_ROOM.max, "incoming budget");
        }
    }
}

#[derive(Default)]
struct Checker {
    in_message: bool,
    message_bytes: usize,
}

impl Checker {
    fn item(&mut self, item: Item) {
        match item {
            Item::Fragment(fragment) => {
                assert_eq!(fragment.first, !self.in_message, "fragment order");
                if !fragment.binary {
                    assert!(std::str::from_utf8(&fragment.data).is_ok(), "text fragment");
                }
                self.message_bytes = if fragment.first {
                    0
                } else {
                    self.message_bytes
                };
                self.message_bytes += fragment.data.len();
                assert!(
                    self.message_bytes <= FUZZ_LIMITS.max_message_bytes,
                    "message limit"
                );
                self.in_message = !fragment.last;
            }
            Item::Message(message) => {
                if let Message::Text(text) = &message {
                    assert!(std::str::from_utf8(text.as_bytes()).is_ok(), "text message");
                }
                assert!(
                    message.len() <= FUZZ_LIMITS.max_message_bytes,
                    "message limit"
                );
            }
            Item::Ping(data) | Item::Pong(data) => {
                assert!(data.len() <= 125, "control frame size");
            }
            Item::Close(_) => {}
        }
    }
}
