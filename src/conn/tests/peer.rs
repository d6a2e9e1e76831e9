//! The client's side of the wire in the state-machine tests: the bytes an RFC 6455 client
//! sends (the RFC's sample upgrade request, masked frames) written into the memory pipe, and
//! what the server wrote back (a response head, unmasked frames) parsed off it.

use crate::frame::{client_frame, Header, OP_CLOSE, OP_TEXT};
use crate::transport::memory::Client;

/// The key of RFC 6455 §1.3's sample handshake, and the accept value it must produce.
pub(super) const SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub(super) const SAMPLE_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A frame the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    /// A whole (FIN) frame.
    pub fn whole(opcode: u8, payload: &[u8]) -> Self {
        Frame {
            fin: true,
            opcode,
            payload: payload.to_vec(),
        }
    }

    pub fn text(text: &str) -> Self {
        Self::whole(OP_TEXT, text.as_bytes())
    }

    /// The code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        match (self.opcode, self.payload.as_slice()) {
            (OP_CLOSE, [high, low, ..]) => Some(u16::from_be_bytes([*high, *low])),
            _ => None,
        }
    }
}

/// The test's client: the memory pipe's far end, and what it received but has not parsed.
pub(super) struct Peer {
    pub client: Client,
    inbox: Vec<u8>,
}

impl Peer {
    pub fn new(client: Client) -> Self {
        Peer {
            client,
            inbox: Vec::new(),
        }
    }

    /// Raw bytes, as they are.
    pub fn send(&self, bytes: &[u8]) {
        self.client.send(bytes);
    }

    /// The sample upgrade request of RFC 6455 §1.3 (no subprotocol offered).
    pub fn send_upgrade(&self) {
        self.send(upgrade_request().as_bytes());
    }

    /// A masked, whole text message.
    pub fn send_text(&self, text: &str) {
        self.send(&client_frame(0x80 | OP_TEXT, text.as_bytes()));
    }

    /// A masked close frame with `code` and no reason.
    pub fn send_close(&self, code: u16) {
        self.send(&client_frame(0x80 | OP_CLOSE, &code.to_be_bytes()));
    }

    /// The response head at the front of what the server sent (through the blank line).
    pub fn read_head(&mut self) -> String {
        self.take_received();
        let end = self
            .inbox
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .expect("a complete response head")
            + 4;
        let head = self.inbox.drain(..end).collect::<Vec<_>>();
        String::from_utf8(head).expect("an ASCII head")
    }

    /// Every complete frame the server sent since the last call.
    pub fn read_frames(&mut self) -> Vec<Frame> {
        self.take_received();
        let mut frames = Vec::new();
        while let Some(header) = Header::parse(&self.inbox) {
            let end = header.frame_len().expect("a frame that fits in memory");
            if self.inbox.len() < end {
                break;
            }
            assert_eq!(header.mask, None, "server frames are never masked");
            let frame = self.inbox.drain(..end).collect::<Vec<_>>();
            frames.push(Frame {
                fin: header.fin,
                opcode: header.opcode,
                payload: frame[header.header_len..].to_vec(),
            });
        }
        frames
    }

    fn take_received(&mut self) {
        let received = self.client.receive();
        self.inbox.extend(received);
    }
}

fn upgrade_request() -> String {
    format!(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {SAMPLE_KEY}\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    )
}
