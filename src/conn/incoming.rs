//! Where an open WebSocket's input comes from: our frame reader, frame by frame for protocols
//! that stream, or joined into whole messages for the rest. Pings and closes are answered
//! here through tungstenite's `WebSocketContext`, which frames everything we send.

use super::frame_stream::{FrameStream, StreamItem, Violation};
use super::Wire;
use crate::config::Config;
use crate::net::{would_block, QueueStream, ReadBudget};
use crate::protocol::{Fragment, Message};
use bytes::BytesMut;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::WebSocketContext;
use tungstenite::{Bytes, Utf8Bytes};

/// Something the peer sent, ready for the protocol.
#[derive(Debug)]
pub(crate) enum Incoming {
    Message(Message),
    Fragment(Fragment),
    Pong(Bytes),
    Close(Option<CloseFrame>),
}

/// Why reading stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Nothing more until the socket is readable again (or the budget refills).
    Blocked,
    /// The connection ended without (the rest of) a close handshake.
    Gone(String),
    /// The peer broke the protocol: close with this code.
    Violation(CloseCode, String),
}

/// The input side of an open WebSocket.
pub(crate) struct Reader {
    frames: FrameStream,
    /// `None` for protocols that stream fragments.
    assembler: Option<Assembler>,
}

impl Reader {
    /// `leftover`: bytes that came after the handshake.
    pub fn new(leftover: Vec<u8>, streams_fragments: bool) -> Self {
        Reader {
            frames: FrameStream::new(leftover),
            assembler: (!streams_fragments).then(Assembler::default),
        }
    }

    /// The next item, reading from the socket within `budget` as needed.
    pub fn next(
        &mut self,
        ws: &mut WebSocketContext,
        wire: &mut Wire,
        budget: &mut ReadBudget,
        config: &Config,
    ) -> Result<Incoming, ReadError> {
        loop {
            let item = self
                .frames
                .next_item(config.max_frame_bytes, config.max_message_bytes);
            match item {
                Ok(Some(StreamItem::Fragment(fragment))) => match self.assembler.as_mut() {
                    None => return Ok(Incoming::Fragment(fragment)),
                    Some(assembler) => {
                        if let Some(message) = assembler.push(fragment)? {
                            return Ok(Incoming::Message(message));
                        }
                    }
                },
                Ok(Some(StreamItem::Pong(payload))) => return Ok(Incoming::Pong(payload)),
                Ok(Some(StreamItem::Close(frame))) => return Ok(Incoming::Close(frame)),
                Ok(Some(StreamItem::Ping(payload))) => {
                    let pong = tungstenite::Message::Pong(payload);
                    let _ = ws.write(&mut QueueStream::new(&mut wire.out), pong);
                }
                Ok(None) => self.read_more(wire, budget)?,
                Err(Violation { code, reason }) => {
                    return Err(ReadError::Violation(code, reason.to_owned()))
                }
            }
        }
    }

    /// Queue the answer to the peer's close frame: the same code, no reason (RFC 6455 §5.5.1).
    pub fn answer_close(ws: &mut WebSocketContext, wire: &mut Wire, frame: Option<&CloseFrame>) {
        let echo = frame.map(|frame| CloseFrame {
            code: frame.code,
            reason: Default::default(),
        });
        let _ = ws.close(&mut QueueStream::new(&mut wire.out), echo);
    }

    /// Start a read pass on the server's shared read buffer (if nothing is pending here).
    pub fn begin_pass(&mut self, shared: &mut BytesMut) -> bool {
        self.frames.borrow_shared(shared)
    }

    /// End a read pass: give the shared buffer back; an idle connection keeps no buffer.
    pub fn end_pass(&mut self, shared: &mut BytesMut, borrowed: bool) {
        if borrowed {
            self.frames.return_shared(shared);
        }
        self.frames.release_if_empty();
    }

    /// Read towards the next frame's end; `Blocked` when the socket or the budget has no more.
    fn read_more(&mut self, wire: &mut Wire, budget: &mut ReadBudget) -> Result<(), ReadError> {
        if budget.state.drained || budget.state.budget_exhausted {
            return Err(ReadError::Blocked);
        }
        let missing = self.frames.missing();
        match budget.read_chunk(&wire.socket, usize::MAX) {
            Ok([]) => Err(ReadError::Gone("peer closed without a close frame".into())),
            Ok(bytes) => {
                self.frames.append(bytes, missing);
                Ok(())
            }
            Err(err) if would_block(&err) => Err(ReadError::Blocked),
            Err(err) => Err(ReadError::Gone(err.to_string())),
        }
    }
}

/// Joins fragments into whole messages for protocols that do not stream.
#[derive(Debug, Default)]
struct Assembler {
    parts: BytesMut,
    binary: bool,
}

impl Assembler {
    fn push(&mut self, fragment: Fragment) -> Result<Option<Message>, ReadError> {
        if fragment.first && fragment.last {
            return message(fragment.data, fragment.binary).map(Some);
        }
        if fragment.first {
            self.parts.clear();
            self.binary = fragment.binary;
        }
        self.parts.extend_from_slice(&fragment.data);
        if !fragment.last {
            return Ok(None);
        }
        message(std::mem::take(&mut self.parts).freeze(), self.binary).map(Some)
    }
}

fn message(data: Bytes, binary: bool) -> Result<Message, ReadError> {
    if binary {
        return Ok(Message::Binary(data));
    }
    // The frame reader checked the UTF-8 already; this only changes the type.
    Utf8Bytes::try_from(data)
        .map(Message::Text)
        .map_err(|_| ReadError::Violation(CloseCode::Invalid, "invalid UTF-8 in text".into()))
}
