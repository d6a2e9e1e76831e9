//! Reading an open WebSocket's frames into what the protocol receives: whole messages, or
//! fragments for protocols that stream (`Protocol::streams_fragments`), and control frames as
//! their own items. It enforces what RFC 6455 asks of a server reading frames — masking,
//! reserved bits, opcodes, control-frame size, fragment order, UTF-8 — and the frame and
//! message size limits, from the header, before a payload is buffered.
//!
//! With permessage-deflate agreed (RFC 7692), RSV1 on a message's first frame marks it
//! compressed; RSV1 anywhere else (a continuation, a control frame, or with no deflate agreed)
//! is a protocol error. A compressed message is inflated here, into the message buffer, its
//! output capped by `max_message_bytes` while it is produced: a message in one frame with
//! the loop's shared decompressor (nothing held), a fragmented one, or one on a connection
//! with context takeover, with an inflater of the connection's own ([`OwnContexts`], kept in
//! the reader's box). Streaming protocols get the inflated fragments.
//!
//! Pure over bytes; the OPEN phase feeds it one read at a time as a [`Chunk`] of the server's
//! read buffer. A frame that arrives whole in one read is unmasked in place there; a large
//! payload is delivered as a slice of that buffer (never copied), a small one is copied into
//! the loop's message arena (cheaper than sharing the read buffer, which costs an allocation
//! per read). Only the bytes of a frame cut by the end of a read are kept, in a buffer that
//! grows with what actually arrived. An idle connection keeps nothing: the reader is one empty
//! pointer.

mod checks;
mod chunk;
mod text;

pub(crate) use chunk::Chunk;

pub(crate) use checks::Violation;

use crate::deflate::{InflateError, OwnContexts, Params, SharedDeflate};
use crate::frame::OP_TEXT;
use crate::frame::{self, Header, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG};
use crate::protocol::{Fragment, Message};
use bytes::BytesMut;
use checks::{check_header, corrupt, parse_close, protocol_error, RSV1};
use checks::{MESSAGE_TOO_BIG, SERVER_BUFFERS_FULL};
use text::{whole_characters, whole_message, PartialText};
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::Bytes;

/// The size limits a reader enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_frame_bytes: usize,
    pub max_message_bytes: usize,
}

impl Limits {
    pub fn of(config: &crate::config::Config) -> Self {
        Limits {
            max_frame_bytes: config.max_frame_bytes,
            max_message_bytes: config.max_message_bytes,
        }
    }
}

/// How a reader inflates: the connection's agreed deflate parameters ([`Params::OFF`]: RSV1
/// is refused) and the loop's shared codec, lent for one call.
#[derive(Debug)]
pub(crate) struct Inflating<'a> {
    pub params: Params,
    pub shared: &'a mut SharedDeflate,
}

/// Bytes the server may still hold for partial frames and messages, over all connections
/// (`max_incoming_buffered_bytes`), as seen by the connection being read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IncomingRoom {
    /// What every other connection holds.
    pub held_by_others: usize,
    pub max: usize,
}

impl IncomingRoom {
    fn allows(&self, held_here: usize) -> bool {
        self.held_by_others.saturating_add(held_here) <= self.max
    }
}

/// One complete frame's worth of meaning.
#[derive(Debug, PartialEq)]
pub(crate) enum Item {
    Message(Message),
    Fragment(Fragment),
    Ping(Bytes),
    Pong(Bytes),
    Close(Option<CloseFrame>),
}

/// A fragmented data message under way.
#[derive(Debug)]
pub(super) struct MessageState {
    binary: bool,
    /// RSV1 was set on its first frame.
    compressed: bool,
    /// Bytes delivered so far (inflated, for a compressed message).
    bytes: usize,
}

/// What a reader holds between reads; absent when idle.
#[derive(Debug, Default)]
struct Held {
    /// Raw (still masked) bytes from a frame boundary on: an incomplete frame, or whole
    /// frames left unread when reading paused.
    raw: BytesMut,
    message: Option<MessageState>,
    /// The start of a UTF-8 character cut by the end of the last text fragment.
    utf8_carry: Vec<u8>,
    /// The fragments so far of a message delivered whole.
    assembled: BytesMut,
    /// How far the incomplete text frame at the front of `raw` is already unmasked and
    /// checked as UTF-8, so invalid text fails at its first bad byte, not at the frame's end.
    partial_text: Option<PartialText>,
    /// Deflate contexts of the connection's own (takeover mode, or a fragmented compressed
    /// message under way).
    own: OwnContexts,
}

impl Held {
    fn bytes(&self) -> usize {
        self.raw.len() + self.assembled.len() + self.utf8_carry.len() + self.own.incoming_bytes()
    }

    /// Unmask and check as UTF-8 what arrived of the incomplete text frame at the front of
    /// `raw` since the last check (RFC 6455 §8.1: fail at the first invalid byte).
    fn check_partial_text(&mut self) -> Result<(), Violation> {
        let Some(header) = Header::parse(&self.raw) else {
            return Ok(());
        };
        // Compressed text is checked once inflated, not as it arrives.
        let in_text = self
            .message
            .as_ref()
            .is_some_and(|message| !message.binary && !message.compressed);
        let plain = header.rsv & RSV1 == 0;
        let text =
            (header.opcode == OP_TEXT && plain) || (header.opcode == OP_CONTINUATION && in_text);
        let (Some(mask), true) = (header.mask, text) else {
            return Ok(());
        };
        let continues = header.opcode == OP_CONTINUATION;
        let carry = &self.utf8_carry;
        let progress = self.partial_text.get_or_insert_with(|| PartialText {
            unmasked: 0,
            carry: if continues { carry.clone() } else { Vec::new() },
        });
        progress.check(&mut self.raw[header.header_len..], mask)
    }

    fn is_idle(&self) -> bool {
        self.message.is_none()
            && self.raw.is_empty()
            && self.utf8_carry.is_empty()
            && self.own.is_empty()
    }
}

/// The input side of an open WebSocket. Its one box also keeps a takeover connection's
/// deflate contexts, so an open WebSocket carries a single pointer for both.
#[derive(Debug, Default)]
pub(crate) struct FrameReader {
    held: Option<Box<Held>>,
}

impl FrameReader {
    /// Start with bytes that came after the handshake.
    pub fn new(leftover: &[u8]) -> Self {
        let mut reader = FrameReader::default();
        if !leftover.is_empty() {
            reader.held_mut().raw.extend_from_slice(leftover);
        }
        reader
    }

    /// Bytes held for partial frames and messages (what counts against the server's budget).
    pub fn held_bytes(&self) -> usize {
        self.held.as_ref().map_or(0, |held| held.bytes())
    }

    /// The connection's own deflate contexts (takeover mode), creating the box if needed.
    pub fn own_contexts(&mut self) -> &mut OwnContexts {
        &mut self.held_mut().own
    }

    /// Whole frames may be waiting in held bytes, to be read before the socket.
    pub fn has_buffered_input(&self) -> bool {
        self.held.as_ref().is_some_and(|held| !held.raw.is_empty())
    }

    /// A whole frame waits in held bytes (left when reading paused): read it even if the
    /// socket has nothing new.
    pub fn has_whole_frame(&self) -> bool {
        self.held.as_ref().is_some_and(|held| {
            Header::parse(&held.raw)
                .and_then(|header| header.frame_len())
                .is_some_and(|total| total <= held.raw.len())
        })
    }

    /// Make `bytes` (just read into the server's buffer) ready to become a [`Chunk`]: unmask,
    /// in place, every whole frame after the part that continues a held frame.
    pub fn prepare(&self, bytes: &mut [u8]) {
        let continues_held = self.bytes_owed_to_held(bytes);
        frame::unmask_complete_frames(bytes, continues_held);
    }

    /// The chunk for `root`, whose first `len` bytes were read and [`prepare`](Self::prepare)d,
    /// with the loop's message `arena`.
    pub fn chunk(root: Bytes, len: usize, arena: BytesMut) -> Chunk {
        Chunk {
            root,
            start: 0,
            end: len,
            arena,
        }
    }

    /// How many of `bytes` (a new read) finish the held incomplete frame.
    fn bytes_owed_to_held(&self, bytes: &[u8]) -> usize {
        let Some(raw) = self
            .held
            .as_ref()
            .map(|held| &held.raw)
            .filter(|raw| !raw.is_empty())
        else {
            return 0;
        };
        let mut head = [0u8; 14];
        let from_raw = raw.len().min(head.len());
        head[..from_raw].copy_from_slice(&raw[..from_raw]);
        let from_new = (head.len() - from_raw).min(bytes.len());
        head[from_raw..from_raw + from_new].copy_from_slice(&bytes[..from_new]);
        match Header::parse(&head[..from_raw + from_new]).and_then(|h| h.frame_len()) {
            Some(total) => total.saturating_sub(raw.len()).min(bytes.len()),
            None => bytes.len(),
        }
    }

    /// The next complete item from held bytes, then from `chunk`; `Ok(None)` when more bytes
    /// are needed (the chunk is then used up). `whole_messages` joins fragments.
    pub fn next(
        &mut self,
        chunk: &mut Chunk,
        whole_messages: bool,
        limits: Limits,
        room: IncomingRoom,
        inflating: &mut Inflating<'_>,
    ) -> Result<Option<Item>, Violation> {
        let deflate = inflating.params.is_on();
        let read = (whole_messages, limits, room);
        let item = loop {
            if self.has_buffered_input() {
                match self.frame_from_held(chunk, limits, room, deflate)? {
                    Some((header, payload)) => {
                        match self.item(header, payload, read, inflating)? {
                            Some(item) => break item,
                            None => continue,
                        }
                    }
                    None if self.has_buffered_input() => return Ok(None),
                    None => continue,
                }
            }
            let Some(header) = Header::parse(chunk.rest()) else {
                return self.keep_rest(chunk, room).map(|()| None);
            };
            self.check(&header, limits, deflate)?;
            let total = header.frame_len().ok_or(MESSAGE_TOO_BIG)?;
            if chunk.rest().len() < total {
                self.keep_rest(chunk, room)?;
                self.held_mut().check_partial_text()?;
                return Ok(None);
            }
            let at = chunk.start;
            let payload = chunk.payload(at + header.header_len..at + total);
            chunk.start += total;
            if let Some(item) = self.item(header, payload, read, inflating)? {
                break item;
            }
        };
        self.release_if_idle();
        Ok(Some(item))
    }

    /// Keep what is left of `chunk` for later (the read pass ends, or reading paused): the
    /// bytes go to the held buffer in their raw, masked form.
    pub fn keep_rest(&mut self, chunk: &mut Chunk, room: IncomingRoom) -> Result<(), Violation> {
        if chunk.is_empty() {
            return Ok(());
        }
        let rest = chunk.rest().len();
        if !room.allows(self.held_bytes() + rest) {
            return Err(SERVER_BUFFERS_FULL);
        }
        let held = self.held_mut();
        let from = held.raw.len();
        held.raw
            .extend_from_slice(&chunk.root[chunk.start..chunk.end]);
        // Whole frames in the rest were unmasked when the chunk was prepared: mask them again.
        frame::unmask_complete_frames(&mut held.raw[from..], 0);
        chunk.start = chunk.end;
        Ok(())
    }

    /// A whole frame from the held bytes, topped up from `chunk` as far as it goes; `None` if
    /// it is still incomplete.
    fn frame_from_held(
        &mut self,
        chunk: &mut Chunk,
        limits: Limits,
        room: IncomingRoom,
        deflate: bool,
    ) -> Result<Option<(Header, Bytes)>, Violation> {
        loop {
            let held_bytes = self.held_bytes();
            let Some(held) = self.held.as_deref_mut() else {
                return Ok(None);
            };
            let wanted = match Header::parse(&held.raw) {
                Some(header) => {
                    check_header(&header, held.message.as_ref(), limits, deflate)?;
                    let total = header.frame_len().ok_or(MESSAGE_TOO_BIG)?;
                    if held.raw.len() >= total {
                        let done = held.partial_text.take().map_or(0, |text| text.unmasked);
                        let mut frame = held.raw.split_to(total);
                        if let Some(mask) = header.mask {
                            let rest = &mut frame[header.header_len + done..];
                            frame::unmask(rest, frame::mask_from(mask, done));
                        }
                        return Ok(Some((header, frame.freeze().slice(header.header_len..))));
                    }
                    total - held.raw.len()
                }
                // The header itself is incomplete: take exactly what completes it.
                None => frame::header_len_hint(&held.raw) - held.raw.len(),
            };
            let take = wanted.min(chunk.rest().len());
            if take == 0 {
                held.check_partial_text()?;
                return Ok(None);
            }
            if !room.allows(held_bytes + take) {
                return Err(SERVER_BUFFERS_FULL);
            }
            held.raw
                .extend_from_slice(&chunk.root[chunk.start..chunk.start + take]);
            chunk.start += take;
            // Again: the frame may be whole now.
        }
    }

    fn check(&self, header: &Header, limits: Limits, deflate: bool) -> Result<(), Violation> {
        let message = self.held.as_ref().and_then(|held| held.message.as_ref());
        check_header(header, message, limits, deflate)
    }

    /// What a whole frame means; `None` for a fragment absorbed into a message delivered
    /// whole later.
    fn item(
        &mut self,
        header: Header,
        payload: Bytes,
        read: (bool, Limits, IncomingRoom),
        inflating: &mut Inflating<'_>,
    ) -> Result<Option<Item>, Violation> {
        match header.opcode {
            OP_PING => Ok(Some(Item::Ping(payload))),
            OP_PONG => Ok(Some(Item::Pong(payload))),
            OP_CLOSE => parse_close(&payload).map(|close| Some(Item::Close(close))),
            _ => self.data(header, payload, read, inflating),
        }
    }

    fn data(
        &mut self,
        header: Header,
        payload: Bytes,
        (whole_messages, limits, room): (bool, Limits, IncomingRoom),
        inflating: &mut Inflating<'_>,
    ) -> Result<Option<Item>, Violation> {
        let (opcode, fin) = (header.opcode, header.fin);
        let in_message = self
            .held
            .as_ref()
            .is_some_and(|held| held.message.is_some());
        let first = match (opcode, in_message) {
            (OP_CONTINUATION, false) => {
                return Err(protocol_error("continuation without a message"))
            }
            (OP_CONTINUATION, true) => false,
            (_, true) => return Err(protocol_error("new message inside a fragmented one")),
            (_, false) => true,
        };
        let message = self.held.as_ref().and_then(|held| held.message.as_ref());
        let binary = message.map_or(opcode == OP_BINARY, |message| message.binary);
        let compressed = message.map_or(header.rsv & RSV1 != 0, |message| message.compressed);
        let payload = if compressed {
            let so_far = message.map_or(0, |message| message.bytes);
            let cap = limits.max_message_bytes.saturating_sub(so_far);
            self.inflate(payload, first, fin, cap, inflating)
                .map_err(|err| match err {
                    InflateError::TooBig => MESSAGE_TOO_BIG,
                    InflateError::Corrupt => corrupt(binary),
                })?
        } else {
            payload
        };
        if first && fin && whole_messages {
            // The common case: a message in one frame, validated once, never copied.
            return whole_message(payload, binary).map(Some);
        }
        let held_bytes = self.held_bytes();
        let held = self.held_mut();
        let message = held.message.get_or_insert(MessageState {
            binary,
            compressed,
            bytes: 0,
        });
        message.bytes += payload.len();
        if message.bytes > limits.max_message_bytes {
            return Err(MESSAGE_TOO_BIG);
        }
        let binary = message.binary;
        let data = if binary {
            payload
        } else {
            whole_characters(&mut held.utf8_carry, payload, fin)?
        };
        if fin {
            held.message = None;
        }
        if !whole_messages {
            return Ok(Some(Item::Fragment(Fragment {
                data,
                binary,
                first,
                last: fin,
            })));
        }
        if !room.allows(held_bytes + data.len()) {
            return Err(SERVER_BUFFERS_FULL);
        }
        held.assembled.extend_from_slice(&data);
        if !fin {
            return Ok(None);
        }
        let parts = std::mem::take(&mut held.assembled).freeze();
        whole_message(parts, binary).map(Some)
    }

    /// One frame of a compressed message, inflated within `cap` bytes: a message in one frame
    /// with the loop's shared decompressor when the client keeps no context, else with the
    /// connection's own inflater (made by the message's first frame).
    fn inflate(
        &mut self,
        payload: Bytes,
        first: bool,
        fin: bool,
        cap: usize,
        inflating: &mut Inflating<'_>,
    ) -> Result<Bytes, InflateError> {
        let params = inflating.params;
        let mut out = Vec::new();
        if first && fin && params.shares_inflater() {
            let inflater = inflating.shared.inflater();
            let result = inflater.inflate(&payload, true, &mut out, cap);
            inflater.reset();
            return result.map(|()| Bytes::from(out));
        }
        let own = self.own_contexts();
        let result = own.inflater(params).inflate(&payload, fin, &mut out, cap);
        if fin || result.is_err() {
            own.end_message();
        }
        result.map(|()| Bytes::from(out))
    }

    fn held_mut(&mut self) -> &mut Held {
        self.held.get_or_insert_with(Box::default)
    }

    /// An idle connection keeps no buffer.
    fn release_if_idle(&mut self) {
        if self
            .held
            .as_ref()
            .is_some_and(|held| held.is_idle() && held.assembled.is_empty())
        {
            self.held = None;
        }
    }
}

#[cfg(test)]
mod tests;
