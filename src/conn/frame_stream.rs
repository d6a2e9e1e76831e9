//! Frame-by-frame reading for protocols that stream (`Protocol::streams_fragments`): data
//! frames come out as [`Fragment`]s as soon as each frame is complete, control frames as
//! their own items. It enforces what RFC 6455 asks of a server reading frames — masking,
//! reserved bits, opcodes, control-frame size, fragment order, UTF-8 (checked incrementally,
//! so each text fragment holds whole characters) — and the frame and message size limits,
//! before a payload is buffered. Pure over a byte buffer; the OPEN phase feeds it.

use crate::protocol::Fragment;
use bytes::BytesMut;
use std::io::Cursor;
use tungstenite::protocol::frame::coding::{CloseCode, Control, Data, OpCode};
use tungstenite::protocol::frame::{CloseFrame, FrameHeader};
use tungstenite::Bytes;

/// A partial frame up to this size is copied out of the shared read buffer at the end of a
/// read pass; a larger one keeps the buffer.
const MAX_COPIED_LEFTOVER: usize = 16 * 1024;

/// Largest control-frame payload (RFC 6455 §5.5).
const MAX_CONTROL_PAYLOAD: u64 = 125;

/// One complete frame's worth of meaning.
#[derive(Debug, PartialEq)]
pub(crate) enum StreamItem {
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

/// A fragmented message under way.
#[derive(Debug)]
struct Partial {
    binary: bool,
    bytes: usize,
}

/// Bytes read but not yet parsed, and the state of the message being received. Payloads are
/// split off the buffer without copying; an idle connection holds no buffer at all.
#[derive(Debug, Default)]
pub(crate) struct FrameStream {
    buf: BytesMut,
    message: Option<Partial>,
    /// The start of a UTF-8 character cut by the end of the last text fragment.
    utf8_carry: Vec<u8>,
}

impl FrameStream {
    /// Start with the bytes that came after the handshake.
    pub fn new(leftover: Vec<u8>) -> Self {
        FrameStream {
            buf: BytesMut::from(&leftover[..]),
            ..Default::default()
        }
    }

    /// Bytes the buffer lacks before the next frame is complete (at least 1).
    pub fn missing(&self) -> usize {
        let mut cursor = Cursor::new(&self.buf[..]);
        let needed = match FrameHeader::parse(&mut cursor) {
            Ok(Some((_, len))) => (cursor.position() + len).try_into().unwrap_or(usize::MAX),
            _ => self.buf.len() + 1,
        };
        needed.saturating_sub(self.buf.len()).max(1)
    }

    /// Add bytes read from the socket, reserving room for `frame_rest` in all so a large
    /// frame is allocated once.
    pub fn append(&mut self, bytes: &[u8], frame_rest: usize) {
        self.buf.reserve(frame_rest.max(bytes.len()));
        self.buf.extend_from_slice(bytes);
    }

    /// For one read pass, read into the server's `shared` buffer if nothing is waiting here.
    /// Payloads split off it are reclaimed by its next `reserve` once the protocol drops them,
    /// so steady traffic allocates nothing. True if it was borrowed.
    pub fn borrow_shared(&mut self, shared: &mut BytesMut) -> bool {
        if !self.buf.is_empty() {
            return false;
        }
        std::mem::swap(&mut self.buf, shared);
        true
    }

    /// Give a borrowed shared buffer back, keeping a private copy of a partial frame; a large
    /// partial frame keeps the buffer instead (the server's next read grows a new one).
    pub fn return_shared(&mut self, shared: &mut BytesMut) {
        if self.buf.len() > MAX_COPIED_LEFTOVER {
            return;
        }
        let leftover = if self.buf.is_empty() {
            BytesMut::new()
        } else {
            BytesMut::from(&self.buf[..])
        };
        self.buf.clear();
        std::mem::swap(&mut self.buf, shared);
        self.buf = leftover;
    }

    /// Give the buffer's memory back if nothing is waiting in it (an idle connection).
    pub fn release_if_empty(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > 0 {
            self.buf = BytesMut::new();
        }
    }

    /// The next complete item, `Ok(None)` if more bytes are needed.
    pub fn next_item(
        &mut self,
        max_frame_bytes: usize,
        max_message_bytes: usize,
    ) -> Result<Option<StreamItem>, Violation> {
        let mut cursor = Cursor::new(&self.buf[..]);
        let (header, len) = match FrameHeader::parse(&mut cursor) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return Ok(None),
            Err(_) => return Err(protocol_error("reserved opcode")),
        };
        let header_len = cursor.position() as usize;
        check_header(&header, len, max_frame_bytes)?;
        let len = len as usize;
        if let (OpCode::Data(_), Some(message)) = (header.opcode, &self.message) {
            // Refuse before buffering the payload.
            if message.bytes + len > max_message_bytes {
                return Err(MESSAGE_TOO_BIG);
            }
        }
        if self.buf.len() < header_len + len {
            return Ok(None);
        }
        let mut payload = self.buf.split_to(header_len + len).split_off(header_len);
        if let Some(mask) = header.mask {
            unmask(&mut payload, mask);
        }
        let payload = payload.freeze();
        match header.opcode {
            OpCode::Control(Control::Ping) => Ok(Some(StreamItem::Ping(payload))),
            OpCode::Control(Control::Pong) => Ok(Some(StreamItem::Pong(payload))),
            OpCode::Control(_) => parse_close(&payload).map(|close| Some(StreamItem::Close(close))),
            OpCode::Data(data) => self
                .data_frame(data, header.is_final, payload, max_message_bytes)
                .map(|fragment| Some(StreamItem::Fragment(fragment))),
        }
    }

    fn data_frame(
        &mut self,
        data: Data,
        is_final: bool,
        payload: Bytes,
        max_message_bytes: usize,
    ) -> Result<Fragment, Violation> {
        let first = match (data, &self.message) {
            (Data::Continue, None) => return Err(protocol_error("continuation without a message")),
            (Data::Continue, Some(_)) => false,
            (_, Some(_)) => return Err(protocol_error("new message inside a fragmented one")),
            (data, None) => {
                let binary = data == Data::Binary;
                self.message = Some(Partial { binary, bytes: 0 });
                true
            }
        };
        let Some(message) = self.message.as_mut() else {
            return Err(protocol_error("no message"));
        };
        message.bytes += payload.len();
        if message.bytes > max_message_bytes {
            return Err(MESSAGE_TOO_BIG);
        }
        let binary = message.binary;
        let data = if binary {
            payload
        } else {
            self.whole_characters(payload, is_final)?
        };
        if is_final {
            self.message = None;
        }
        Ok(Fragment {
            data,
            binary,
            first,
            last: is_final,
        })
    }

    /// The valid UTF-8 prefix of carry + `payload`; an incomplete last character waits for
    /// the next fragment (an error if this is the last one). No copy unless a character was
    /// cut at the previous fragment's end.
    fn whole_characters(&mut self, payload: Bytes, is_final: bool) -> Result<Bytes, Violation> {
        let mut text = if self.utf8_carry.is_empty() {
            payload
        } else {
            let mut joined = std::mem::take(&mut self.utf8_carry);
            joined.extend_from_slice(&payload);
            Bytes::from(joined)
        };
        match std::str::from_utf8(&text) {
            Ok(_) => Ok(text),
            Err(err) if err.error_len().is_none() && !is_final => {
                self.utf8_carry = text.split_off(err.valid_up_to()).to_vec();
                Ok(text)
            }
            Err(_) => Err(INVALID_UTF8),
        }
    }
}

const MESSAGE_TOO_BIG: Violation = Violation {
    code: CloseCode::Size,
    reason: "message too big",
};

/// XOR the client's mask over the payload, eight bytes at a time.
fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let word = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = payload.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word).to_ne_bytes());
    }
    for (index, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[index % 4];
    }
}

fn check_header(header: &FrameHeader, len: u64, max_frame_bytes: usize) -> Result<(), Violation> {
    if header.rsv1 || header.rsv2 || header.rsv3 {
        return Err(protocol_error("reserved bits set"));
    }
    if header.mask.is_none() {
        return Err(protocol_error("unmasked frame from a client"));
    }
    if len >> 63 != 0 {
        return Err(protocol_error("frame length with its top bit set"));
    }
    if let OpCode::Control(_) = header.opcode {
        if !header.is_final {
            return Err(protocol_error("fragmented control frame"));
        }
        if len > MAX_CONTROL_PAYLOAD {
            return Err(protocol_error("control frame too long"));
        }
    } else if len > max_frame_bytes as u64 {
        return Err(Violation {
            code: CloseCode::Size,
            reason: "frame too big",
        });
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

    fn items(bytes: Vec<u8>) -> Vec<Result<StreamItem, Violation>> {
        let mut stream = FrameStream::new(bytes);
        let mut out = Vec::new();
        loop {
            match stream.next_item(1 << 20, 1 << 20) {
                Ok(Some(item)) => out.push(Ok(item)),
                Ok(None) => return out,
                Err(violation) => {
                    out.push(Err(violation));
                    return out;
                }
            }
        }
    }

    fn fragment(
        data: &[u8],
        binary: bool,
        first: bool,
        last: bool,
    ) -> Result<StreamItem, Violation> {
        Ok(StreamItem::Fragment(Fragment {
            data: Bytes::copy_from_slice(data),
            binary,
            first,
            last,
        }))
    }

    #[test]
    fn fragments_come_out_frame_by_frame_with_pings_between() {
        let mut bytes = frame(0x01, b"Hel");
        bytes.extend(frame(0x89, b"hi"));
        bytes.extend(frame(0x00, b"lo, "));
        bytes.extend(frame(0x80, b"world"));
        bytes.extend(frame(0x82, &[1, 2]));
        assert_eq!(
            items(bytes),
            [
                fragment(b"Hel", false, true, false),
                Ok(StreamItem::Ping(Bytes::from_static(b"hi"))),
                fragment(b"lo, ", false, false, false),
                fragment(b"world", false, false, true),
                fragment(&[1, 2], true, true, true),
            ]
        );
    }

    #[test]
    fn a_character_split_across_fragments_is_carried_whole() {
        let euro = "€".as_bytes();
        let mut bytes = frame(0x01, &[b'a', euro[0]]);
        bytes.extend(frame(0x80, &euro[1..]));
        assert_eq!(
            items(bytes),
            [
                fragment(b"a", false, true, false),
                fragment(euro, false, false, true),
            ]
        );
    }

    #[test]
    fn partial_frames_wait_for_more_bytes() {
        let whole = frame(0x81, b"hello");
        for cut in 0..whole.len() {
            let mut stream = FrameStream::new(whole[..cut].to_vec());
            assert_eq!(stream.next_item(1024, 1024), Ok(None), "cut at {cut}");
            stream.buf.extend_from_slice(&whole[cut..]);
            assert_eq!(
                stream.next_item(1024, 1024),
                Ok(Some(StreamItem::Fragment(Fragment {
                    data: Bytes::from_static(b"hello"),
                    binary: false,
                    first: true,
                    last: true,
                })))
            );
        }
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
            (frame(0x09, b"x"), CloseCode::Protocol),
            (frame(0x89, &[0; 126]), CloseCode::Protocol),
            (frame(0x81, &[0xff]), CloseCode::Invalid),
            (frame(0x81, &[0xe2, 0x82]), CloseCode::Invalid),
            (frame(0x88, &[3]), CloseCode::Protocol),
            (frame(0x88, &[0x03, 0xe7]), CloseCode::Protocol),
            (frame(0x88, &[0x03, 0xe8, 0xff]), CloseCode::Invalid),
            (unmasked, CloseCode::Protocol),
        ];
        for (bytes, code) in cases {
            let last = items(bytes.clone()).pop();
            assert!(
                matches!(last, Some(Err(Violation { code: got, .. })) if got == code),
                "{bytes:x?} -> {last:?}, wanted {code:?}"
            );
        }
    }

    #[test]
    fn size_limits_are_checked_before_the_payload_arrives() {
        let header_only = frame(0x82, &[0; 300])[..8].to_vec();
        let mut stream = FrameStream::new(header_only);
        assert_eq!(
            stream.next_item(100, 1 << 20).unwrap_err().code,
            CloseCode::Size
        );
        let mut stream = FrameStream::new([frame(0x02, &[0; 60]), frame(0x80, &[0; 60])].concat());
        assert!(stream.next_item(100, 100).is_ok());
        assert_eq!(
            stream.next_item(100, 100).unwrap_err().code,
            CloseCode::Size
        );
    }

    #[test]
    fn close_frames_parse_code_and_reason() {
        let mut payload = 1000u16.to_be_bytes().to_vec();
        payload.extend_from_slice(b"bye");
        assert_eq!(
            items(frame(0x88, &payload)),
            [Ok(StreamItem::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into()
            })))]
        );
        assert_eq!(items(frame(0x88, b"")), [Ok(StreamItem::Close(None))]);
    }
}
