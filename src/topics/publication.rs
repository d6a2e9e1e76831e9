//! A published message as it travels: its topic and its WebSocket frame, encoded once by the
//! loop it was published on and shared (reference-counted) by every queue it is put in, on
//! every loop.

use crate::frame::{encode_header, OP_BINARY, OP_TEXT};
use crate::protocol::Message;
use bytes::{BufMut, Bytes, BytesMut};

/// A message published to a topic, framed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    topic: Bytes,
    frame: Bytes,
    payload_len: usize,
}

impl Publication {
    /// Frame `message` (one unfragmented server frame) for `topic`.
    pub fn new(topic: impl Into<Bytes>, message: &Message) -> Self {
        let (opcode, payload) = match message {
            Message::Text(text) => (OP_TEXT, text.as_bytes()),
            Message::Binary(data) => (OP_BINARY, &data[..]),
        };
        Self::frame(topic.into(), opcode, payload)
    }

    pub(crate) fn frame(topic: Bytes, opcode: u8, payload: &[u8]) -> Self {
        let (header, used) = encode_header(opcode, true, payload.len());
        let mut frame = BytesMut::with_capacity(used + payload.len());
        frame.put_slice(&header[..used]);
        frame.put_slice(payload);
        Publication {
            topic,
            frame: frame.freeze(),
            payload_len: payload.len(),
        }
    }

    /// The topic it was published to.
    pub fn topic(&self) -> &Bytes {
        &self.topic
    }

    /// The whole WebSocket frame, as subscribers receive it.
    pub fn frame_bytes(&self) -> &Bytes {
        &self.frame
    }

    /// The message's length (the frame without its header).
    pub fn payload_len(&self) -> usize {
        self.payload_len
    }

    /// The message's bytes (the frame without its header).
    pub fn payload(&self) -> &[u8] {
        &self.frame[self.frame.len() - self.payload_len..]
    }

    /// True for a binary message, false for text.
    pub fn is_binary(&self) -> bool {
        self.frame[0] & 0x0f == OP_BINARY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publication_is_one_server_frame() {
        let publication = Publication::new("t", &Message::from("hi"));
        assert_eq!(&publication.frame_bytes()[..], [0x81, 2, b'h', b'i']);
        assert_eq!(publication.payload_len(), 2);
        assert_eq!(&publication.topic()[..], b"t");
        let binary = Publication::new("t", &Message::Binary(vec![0; 200].into()));
        assert_eq!(binary.frame_bytes()[..4], [0x82, 126, 0, 200]);
        assert!(binary.is_binary() && !publication.is_binary());
        assert_eq!(publication.payload(), b"hi");
        assert_eq!(binary.payload(), [0; 200]);
    }
}
