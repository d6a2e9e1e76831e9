//! The envelope a topic message travels in through Redis: one type byte, then the message's
//! bytes. `t` (0x74) is a text message (the rest must be UTF-8), `b` (0x62) a binary one.
//! Anything else (an empty payload, another first byte, text that is not UTF-8) is not a
//! wsloop message and is refused; other type bytes are reserved.
//!
//! So any Redis client can publish into wsloop: `redis-cli PUBLISH wsloop:room 'thello'`
//! sends the text `hello` to every subscriber of `room` on every instance.

use crate::frame::{OP_BINARY, OP_TEXT};
use crate::topics::Publication;
use bytes::Bytes;

/// The type byte of a text message.
pub const TEXT: u8 = b't';
/// The type byte of a binary message.
pub const BINARY: u8 = b'b';

/// Why an incoming payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No type byte at all.
    Empty,
    /// The first byte is neither `t` nor `b`.
    UnknownType(u8),
    /// A `t` message whose bytes are not UTF-8.
    NotUtf8,
    /// Longer than `max_message_bytes`.
    TooLarge,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Empty => f.write_str("an empty payload (no type byte)"),
            Refused::UnknownType(byte) => {
                write!(f, "unknown type byte {byte:#04x} (expected 't' or 'b')")
            }
            Refused::NotUtf8 => f.write_str("a text message that is not UTF-8"),
            Refused::TooLarge => f.write_str("a message longer than max_message_bytes"),
        }
    }
}

/// The envelope of `publication`: its type byte and its message.
pub fn encode(publication: &Publication) -> Vec<u8> {
    let payload = publication.payload();
    let mut envelope = Vec::with_capacity(1 + payload.len());
    envelope.push(if publication.is_binary() {
        BINARY
    } else {
        TEXT
    });
    envelope.extend_from_slice(payload);
    envelope
}

/// The publication an envelope that arrived on `topic` carries, framed once for every
/// subscriber in this process.
pub fn decode(topic: Bytes, envelope: &[u8], max_len: usize) -> Result<Publication, Refused> {
    let (&kind, message) = envelope.split_first().ok_or(Refused::Empty)?;
    if message.len() > max_len {
        return Err(Refused::TooLarge);
    }
    let opcode = match kind {
        TEXT if std::str::from_utf8(message).is_err() => return Err(Refused::NotUtf8),
        TEXT => OP_TEXT,
        BINARY => OP_BINARY,
        other => return Err(Refused::UnknownType(other)),
    };
    Ok(Publication::frame(topic, opcode, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Message;

    #[test]
    fn text_and_binary_round_trip_with_their_type() {
        for message in [
            Message::from("añb"),
            Message::Binary(vec![0, 0xff, b't'].into()),
            Message::from(""),
        ] {
            let sent = Publication::new("room", &message);
            let envelope = encode(&sent);
            let got = decode(Bytes::from_static(b"room"), &envelope, 16).unwrap();
            assert_eq!(got, sent);
        }
        assert_eq!(encode(&Publication::new("r", &Message::from("hi"))), b"thi");
    }

    #[test]
    fn what_is_not_an_envelope_is_refused() {
        let topic = || Bytes::from_static(b"r");
        assert_eq!(decode(topic(), b"", 9), Err(Refused::Empty));
        assert_eq!(
            decode(topic(), b"hello", 9),
            Err(Refused::UnknownType(b'h'))
        );
        assert_eq!(decode(topic(), b"t\xff", 9), Err(Refused::NotUtf8));
        assert_eq!(decode(topic(), b"b0123456789", 9), Err(Refused::TooLarge));
        assert!(decode(topic(), b"b012345678", 9).is_ok());
    }
}
