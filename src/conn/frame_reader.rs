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
//! read buffer. A frame that arrives whole in one read is delivered as a slice of that buffer
//! (unmasked in place, never copied); only the bytes of a frame cut by the end of a read are
//! kept, in a buffer that grows with what actually arrived. An idle connection keeps nothing:
//! the reader is one empty pointer.

use crate::deflate::{InflateError, OwnContexts, Params, SharedDeflate};
use crate::frame::{self, Header, MAX_CONTROL_PAYLOAD, OP_BINARY, OP_CLOSE, OP_CONTINUATION};
use crate::frame::{OP_PING, OP_PONG, OP_TEXT};
use crate::protocol::{Fragment, Message};
use bytes::BytesMut;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::{Bytes, Utf8Bytes};

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

/// Why the peer's frames are refused, as the close code and reason to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Violation {
    pub code: CloseCode,
    pub reason: &'static str,
}

const fn protocol_error(reason: &'static str) -> Violation {
    Violation {
        code: CloseCode::Protocol,
        reason,
    }
}

const INVALID_UTF8: Violation = Violation {
    code: CloseCode::Invalid,
    reason: "invalid UTF-8 in text",
};

const MESSAGE_TOO_BIG: Violation = Violation {
    code: CloseCode::Size,
    reason: "message too big",
};

/// RSV1: the first frame of a compressed message (RFC 7692 §6).
const RSV1: u8 = 0b100;

/// Corrupt deflate data: 1007 in a text message, 1002 in a binary one.
fn corrupt(binary: bool) -> Violation {
    Violation {
        code: if binary {
            CloseCode::Protocol
        } else {
            CloseCode::Invalid
        },
        reason: "invalid compressed data",
    }
}

const SERVER_BUFFERS_FULL: Violation = Violation {
    code: CloseCode::Size,
    reason: "server incoming buffer limit reached",
};

/// One read's bytes: a frozen view of the server's read buffer, consumed from the front.
/// Every frame that lies whole in it past `walked_from` is already unmasked.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    /// The whole read buffer (so it can be reclaimed after the pass); bytes `..end` were read.
    root: Bytes,
    start: usize,
    end: usize,
}

impl Chunk {
    fn rest(&self) -> &[u8] {
        &self.root[self.start..self.end]
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The read buffer, to reclaim once nothing else refers to it.
    pub fn into_root(self) -> Bytes {
        self.root
    }
}

/// A fragmented data message under way.
#[derive(Debug)]
struct MessageState {
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
    /// Deflate contexts of the connection's own (takeover mode, or a fragmented compressed
    /// message under way).
    own: OwnContexts,
}

impl Held {
    fn bytes(&self) -> usize {
        self.raw.len() + self.assembled.len() + self.utf8_carry.len() + self.own.incoming_bytes()
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

    /// The chunk for `root`, whose first `len` bytes were read and [`prepare`](Self::prepare)d.
    pub fn chunk(root: Bytes, len: usize) -> Chunk {
        Chunk {
            root,
            start: 0,
            end: len,
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
        let item = loop {
            if self.has_buffered_input() {
                match self.frame_from_held(chunk, limits, room, deflate)? {
                    Some((header, payload)) => {
                        let read = (whole_messages, limits, room);
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
                return self.keep_rest(chunk, room).map(|()| None);
            }
            let at = chunk.start;
            let payload = chunk.root.slice(at + header.header_len..at + total);
            chunk.start += total;
            let read = (whole_messages, limits, room);
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
                        let mut frame = held.raw.split_to(total);
                        if let Some(mask) = header.mask {
                            frame::unmask(&mut frame[header.header_len..], mask);
                        }
                        return Ok(Some((header, frame.freeze().slice(header.header_len..))));
                    }
                    total - held.raw.len()
                }
                // The header itself is incomplete: take exactly what completes it.
                None => header_len_hint(&held.raw) - held.raw.len(),
            };
            let take = wanted.min(chunk.rest().len());
            if take == 0 {
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

/// The length of the header that starts with `raw` (2 until its second byte is known).
fn header_len_hint(raw: &[u8]) -> usize {
    let Some(&second) = raw.get(1) else {
        return 2;
    };
    let extended = match second & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    2 + extended + if second & 0x80 != 0 { 4 } else { 0 }
}

fn whole_message(payload: Bytes, binary: bool) -> Result<Item, Violation> {
    if binary {
        return Ok(Item::Message(Message::Binary(payload)));
    }
    Utf8Bytes::try_from(payload)
        .map(|text| Item::Message(Message::Text(text)))
        .map_err(|_| INVALID_UTF8)
}

/// The valid UTF-8 prefix of carry + `payload`; an incomplete last character waits for the
/// next fragment (an error if this is the last one). No copy unless a character was cut at
/// the previous fragment's end.
fn whole_characters(
    carry: &mut Vec<u8>,
    payload: Bytes,
    is_final: bool,
) -> Result<Bytes, Violation> {
    let mut text = if carry.is_empty() {
        payload
    } else {
        let mut joined = std::mem::take(carry);
        joined.extend_from_slice(&payload);
        Bytes::from(joined)
    };
    match std::str::from_utf8(&text) {
        Ok(_) => Ok(text),
        Err(err) if err.error_len().is_none() && !is_final => {
            *carry = text.split_off(err.valid_up_to()).to_vec();
            Ok(text)
        }
        Err(_) => Err(INVALID_UTF8),
    }
}

fn check_header(
    header: &Header,
    message: Option<&MessageState>,
    limits: Limits,
    deflate: bool,
) -> Result<(), Violation> {
    if header.rsv & !RSV1 != 0 {
        return Err(protocol_error("reserved bits set"));
    }
    if header.mask.is_none() {
        return Err(protocol_error("unmasked frame from a client"));
    }
    if header.payload_len >> 63 != 0 {
        return Err(protocol_error("frame length with its top bit set"));
    }
    match header.opcode {
        OP_CONTINUATION | OP_TEXT | OP_BINARY => {}
        OP_CLOSE | OP_PING | OP_PONG => {}
        _ => return Err(protocol_error("reserved opcode")),
    }
    if header.rsv & RSV1 != 0 {
        if !deflate {
            return Err(protocol_error("RSV1 set without permessage-deflate"));
        }
        if header.is_control() {
            return Err(protocol_error("RSV1 set on a control frame"));
        }
        if header.opcode == OP_CONTINUATION {
            return Err(protocol_error("RSV1 set on a continuation frame"));
        }
    }
    if header.is_control() {
        if !header.fin {
            return Err(protocol_error("fragmented control frame"));
        }
        if header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(protocol_error("control frame too long"));
        }
        return Ok(());
    }
    if header.payload_len > limits.max_frame_bytes as u64 {
        return Err(Violation {
            code: CloseCode::Size,
            reason: "frame too big",
        });
    }
    // Refused before the payload is buffered.
    let so_far = message.map_or(0, |message| message.bytes) as u64;
    if so_far + header.payload_len > limits.max_message_bytes as u64 {
        return Err(MESSAGE_TOO_BIG);
    }
    Ok(())
}

/// A close frame's payload: nothing, or a valid code and a UTF-8 reason.
fn parse_close(payload: &[u8]) -> Result<Option<CloseFrame>, Violation> {
    match payload {
        [] => Ok(None),
        [_] => Err(protocol_error("one-byte close payload")),
        [high, low, reason @ ..] => {
            let code = CloseCode::from(u16::from_be_bytes([*high, *low]));
            if !code.is_allowed() {
                return Err(protocol_error("invalid close code"));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| INVALID_UTF8)?;
            Ok(Some(CloseFrame {
                code,
                reason: reason.into(),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASK: [u8; 4] = [1, 2, 3, 4];
    const LIMITS: Limits = Limits {
        max_frame_bytes: 1 << 20,
        max_message_bytes: 1 << 20,
    };
    const ROOM: IncomingRoom = IncomingRoom {
        held_by_others: 0,
        max: usize::MAX,
    };

    /// No permessage-deflate agreed.
    fn off() -> Inflating<'static> {
        Inflating {
            params: Params::OFF,
            shared: Box::leak(Box::new(SharedDeflate::new(0))),
        }
    }

    /// A masked client frame.
    fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![first_byte];
        match payload.len() {
            len @ 0..=125 => out.push(0x80 | len as u8),
            len => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(&MASK);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
        out
    }

    /// A read of `bytes` as the server's read buffer would hold it.
    fn read(reader: &FrameReader, bytes: &[u8]) -> Chunk {
        let mut buffer = bytes.to_vec();
        reader.prepare(&mut buffer);
        FrameReader::chunk(Bytes::from(buffer), bytes.len())
    }

    /// Every item from `pieces` read one after the other, stopping at a violation.
    fn items_of(pieces: &[&[u8]], whole: bool, limits: Limits) -> Vec<Result<Item, Violation>> {
        let mut reader = FrameReader::default();
        let mut out = Vec::new();
        for piece in pieces {
            let mut chunk = read(&reader, piece);
            loop {
                match reader.next(&mut chunk, whole, limits, ROOM, &mut off()) {
                    Ok(Some(item)) => out.push(Ok(item)),
                    Ok(None) => break,
                    Err(violation) => {
                        out.push(Err(violation));
                        return out;
                    }
                }
            }
        }
        out
    }

    fn items(bytes: Vec<u8>, whole: bool) -> Vec<Result<Item, Violation>> {
        items_of(&[&bytes], whole, LIMITS)
    }

    fn fragment(data: &[u8], binary: bool, first: bool, last: bool) -> Result<Item, Violation> {
        Ok(Item::Fragment(Fragment {
            data: Bytes::copy_from_slice(data),
            binary,
            first,
            last,
        }))
    }

    fn text(text: &'static str) -> Result<Item, Violation> {
        Ok(Item::Message(Message::Text(text.into())))
    }

    #[test]
    fn fragments_come_out_frame_by_frame_with_pings_between() {
        let mut bytes = frame(0x01, b"Hel");
        bytes.extend(frame(0x89, b"hi"));
        bytes.extend(frame(0x00, b"lo, "));
        bytes.extend(frame(0x80, b"world"));
        bytes.extend(frame(0x82, &[1, 2]));
        assert_eq!(
            items(bytes.clone(), false),
            [
                fragment(b"Hel", false, true, false),
                Ok(Item::Ping(Bytes::from_static(b"hi"))),
                fragment(b"lo, ", false, false, false),
                fragment(b"world", false, false, true),
                fragment(&[1, 2], true, true, true),
            ]
        );
        assert_eq!(
            items(bytes, true),
            [
                Ok(Item::Ping(Bytes::from_static(b"hi"))),
                text("Hello, world"),
                Ok(Item::Message(Message::Binary(Bytes::from_static(&[1, 2])))),
            ]
        );
    }

    #[test]
    fn a_whole_frame_is_delivered_from_the_read_buffer_without_a_copy() {
        let reader = &mut FrameReader::default();
        let mut chunk = read(reader, &frame(0x82, &[9; 100]));
        let start = chunk.root.as_ptr() as usize;
        let Ok(Some(Item::Message(Message::Binary(payload)))) =
            reader.next(&mut chunk, true, LIMITS, ROOM, &mut off())
        else {
            panic!("no message");
        };
        assert_eq!(
            payload.as_ptr() as usize,
            start + 6,
            "a slice of the read buffer"
        );
        assert!(payload.iter().all(|&b| b == 9));
        assert_eq!(reader.held_bytes(), 0);
        assert!(reader.held.is_none(), "an idle reader holds nothing");
    }

    #[test]
    fn a_character_split_across_fragments_is_carried_whole() {
        let euro = "€".as_bytes();
        let mut bytes = frame(0x01, &[b'a', euro[0]]);
        bytes.extend(frame(0x80, &euro[1..]));
        assert_eq!(
            items(bytes.clone(), false),
            [
                fragment(b"a", false, true, false),
                fragment(euro, false, false, true),
            ]
        );
        assert_eq!(items(bytes, true), [text("a€")]);
    }

    #[test]
    fn frames_cut_anywhere_across_reads_come_out_whole() {
        let mut stream = frame(0x81, b"hello");
        stream.extend(frame(0x82, &[7; 300]));
        stream.extend(frame(0x89, b"p"));
        for cut in 0..stream.len() {
            for second in cut..stream.len() {
                let got = items_of(
                    &[&stream[..cut], &stream[cut..second], &stream[second..]],
                    true,
                    LIMITS,
                );
                assert_eq!(got.len(), 3, "cuts {cut}, {second}: {got:?}");
                assert_eq!(got[0], text("hello"), "cuts {cut}, {second}");
                assert_eq!(got[2], Ok(Item::Ping(Bytes::from_static(b"p"))));
            }
        }
    }

    #[test]
    fn a_partial_frame_holds_only_what_arrived() {
        // A header announcing 60,000 bytes, and 100 of them.
        let whole = frame(0x82, &[5; 60_000]);
        let mut reader = FrameReader::default();
        let mut chunk = read(&reader, &whole[..108]);
        assert_eq!(
            reader.next(&mut chunk, true, LIMITS, ROOM, &mut off()),
            Ok(None)
        );
        assert_eq!(reader.held_bytes(), 108);
        let capacity = reader.held.as_ref().unwrap().raw.capacity();
        assert!(capacity < 4096, "reserved {capacity} bytes up front");
        let mut chunk = read(&reader, &whole[108..]);
        let item = reader.next(&mut chunk, true, LIMITS, ROOM, &mut off());
        assert!(matches!(item, Ok(Some(Item::Message(Message::Binary(b)))) if b.len() == 60_000));
        assert!(reader.held.is_none());
    }

    #[test]
    fn bytes_left_when_reading_pauses_are_kept_raw_and_read_later() {
        let mut bytes = frame(0x81, b"one");
        bytes.extend(frame(0x81, b"two"));
        bytes.extend(frame(0x81, b"thr"));
        let mut reader = FrameReader::default();
        let mut chunk = read(&reader, &bytes[..bytes.len() - 2]);
        assert_eq!(
            reader.next(&mut chunk, true, LIMITS, ROOM, &mut off()),
            Ok(Some(text("one").unwrap()))
        );
        // The protocol paused reading here.
        reader.keep_rest(&mut chunk, ROOM).unwrap();
        assert!(reader.has_whole_frame());
        let mut empty = Chunk::default();
        assert_eq!(
            reader.next(&mut empty, true, LIMITS, ROOM, &mut off()),
            Ok(Some(text("two").unwrap()))
        );
        assert!(!reader.has_whole_frame());
        let mut chunk = read(&reader, &bytes[bytes.len() - 2..]);
        assert_eq!(
            reader.next(&mut chunk, true, LIMITS, ROOM, &mut off()),
            Ok(Some(text("thr").unwrap()))
        );
    }

    #[test]
    fn violations_get_the_right_close_code() {
        let mut unmasked = frame(0x81, b"x");
        unmasked[1] &= 0x7f;
        unmasked.drain(2..6);
        let cases: Vec<(Vec<u8>, CloseCode)> = vec![
            (frame(0x80, b"x"), CloseCode::Protocol),
            (
                [frame(0x01, b"a"), frame(0x81, b"b")].concat(),
                CloseCode::Protocol,
            ),
            (frame(0xC1, b"x"), CloseCode::Protocol),
            (frame(0x83, b"x"), CloseCode::Protocol),
            (frame(0x8B, b"x"), CloseCode::Protocol),
            (frame(0x09, b"x"), CloseCode::Protocol),
            (frame(0x89, &[0; 126]), CloseCode::Protocol),
            (frame(0x81, &[0xff]), CloseCode::Invalid),
            (frame(0x81, &[0xe2, 0x82]), CloseCode::Invalid),
            (
                [frame(0x01, &[0xff]), frame(0x80, b"a")].concat(),
                CloseCode::Invalid,
            ),
            (frame(0x88, &[3]), CloseCode::Protocol),
            (frame(0x88, &[0x03, 0xe7]), CloseCode::Protocol),
            (frame(0x88, &[0x03, 0xe8, 0xff]), CloseCode::Invalid),
            (unmasked, CloseCode::Protocol),
        ];
        for (bytes, code) in cases {
            for whole in [false, true] {
                let last = items(bytes.clone(), whole).pop();
                assert!(
                    matches!(last, Some(Err(Violation { code: got, .. })) if got == code),
                    "{bytes:x?} (whole {whole}) -> {last:?}, wanted {code:?}"
                );
            }
        }
    }

    #[test]
    fn size_limits_are_checked_before_the_payload_arrives() {
        let small = Limits {
            max_frame_bytes: 100,
            max_message_bytes: 100,
        };
        let header_only = frame(0x82, &[0; 300])[..8].to_vec();
        let got = items_of(&[&header_only], true, small);
        assert!(matches!(
            got[..],
            [Err(Violation {
                code: CloseCode::Size,
                ..
            })]
        ));
        let two = [frame(0x02, &[0; 60]), frame(0x80, &[0; 60])].concat();
        let got = items_of(&[&two[..75]], true, small);
        assert!(
            matches!(
                got[..],
                [Err(Violation {
                    code: CloseCode::Size,
                    ..
                })]
            ),
            "{got:?}"
        );
    }

    #[test]
    fn the_server_wide_budget_refuses_what_would_pass_it() {
        let room = IncomingRoom {
            held_by_others: 900,
            max: 1000,
        };
        let whole = frame(0x82, &[1; 500]);
        let mut reader = FrameReader::default();
        let mut chunk = read(&reader, &whole[..50]);
        assert_eq!(
            reader.next(&mut chunk, true, LIMITS, room, &mut off()),
            Ok(None)
        );
        let mut chunk = read(&reader, &whole[50..200]);
        assert_eq!(
            reader.next(&mut chunk, true, LIMITS, room, &mut off()),
            Err(SERVER_BUFFERS_FULL)
        );
        // A frame that arrives whole needs no room at all.
        let mut fresh = FrameReader::default();
        let mut chunk = read(&fresh, &whole);
        assert!(matches!(
            fresh.next(&mut chunk, true, LIMITS, room, &mut off()),
            Ok(Some(_))
        ));
    }

    #[test]
    fn close_frames_parse_code_and_reason() {
        let mut payload = 1000u16.to_be_bytes().to_vec();
        payload.extend_from_slice(b"bye");
        assert_eq!(
            items(frame(0x88, &payload), true),
            [Ok(Item::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into()
            })))]
        );
        assert_eq!(items(frame(0x88, b""), true), [Ok(Item::Close(None))]);
    }
}
