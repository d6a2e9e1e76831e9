//! Client-side WebSocket wire bits: the upgrade request, pre-built masked frames, and a
//! streaming parser for server frames that checks each payload against the expected reply
//! without buffering it. With permessage-deflate (`--deflate`), client frames are compressed
//! once up front, and a compressed reply is gathered, inflated and compared whole.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

/// The RFC 6455 sample key and its accept value, so no SHA-1 is needed per connection.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const ACCEPT: &[u8] = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A fixed masking key: servers must unmask whatever key we use.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// The permessage-deflate offer `--deflate` sends (a browser's).
const DEFLATE_OFFER: &str = "permessage-deflate; client_max_window_bits";

/// The sync-flush tail RFC 7692 removes from every compressed message.
const TAIL: [u8; 4] = [0, 0, 0xff, 0xff];

pub fn upgrade_request(host: &str, path: &str, protocol: Option<&str>, deflate: bool) -> Vec<u8> {
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
    );
    if let Some(protocol) = protocol {
        req.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
    }
    if deflate {
        req.push_str(&format!("Sec-WebSocket-Extensions: {DEFLATE_OFFER}\r\n"));
    }
    req.push_str("\r\n");
    req.into_bytes()
}

/// One masked client frame with FIN set.
pub fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else if len <= u16::MAX as usize {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// Overwrite the start of a masked payload with `bytes` (masked as at offset 0).
pub fn mask_at(payload: &mut [u8], bytes: &[u8]) {
    for (i, (out, b)) in payload.iter_mut().zip(bytes).enumerate() {
        *out = b ^ MASK[i % 4];
    }
}

/// One masked client frame with FIN and RSV1 set: `payload` compressed as one
/// permessage-deflate message (RFC 7692 §7.2.1).
pub fn compressed_client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut compress = Compress::new_with_window_bits(Compression::new(6), false, 15);
    let mut out = Vec::with_capacity(payload.len() + 64);
    loop {
        out.reserve(payload.len() / 2 + 64);
        let consumed = compress.total_in() as usize;
        compress
            .compress_vec(&payload[consumed..], &mut out, FlushCompress::Sync)
            .expect("compress");
        if compress.total_in() == payload.len() as u64 && out.len() < out.capacity() {
            break;
        }
    }
    out.truncate(out.len() - TAIL.len());
    let mut frame = client_frame(opcode, &out);
    frame[0] |= 0x40;
    frame
}

/// A close frame with status 1000.
pub fn close_frame() -> Vec<u8> {
    client_frame(0x8, &1000u16.to_be_bytes())
}

/// Where the 101 response head ends, if it is complete; `Err` if it is not a valid 101.
pub fn parse_response_head(buf: &[u8]) -> Result<Option<usize>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > 8192 {
            return Err("response head over 8 KiB".into());
        }
        return Ok(None);
    };
    let head = &buf[..end + 4];
    if !head.starts_with(b"HTTP/1.1 101") {
        let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
        return Err(format!(
            "expected 101, got {:?}",
            String::from_utf8_lossy(line)
        ));
    }
    if !head.windows(ACCEPT.len()).any(|w| w == ACCEPT) {
        return Err("Sec-WebSocket-Accept missing or wrong".into());
    }
    Ok(Some(end + 4))
}

/// What a 101 head agreed about permessage-deflate: `None` if nothing, else whether the
/// server keeps its compression context from message to message.
pub fn deflate_agreed(head: &[u8]) -> Option<bool> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let line = text
        .lines()
        .find(|line| line.starts_with("sec-websocket-extensions:"))?;
    line.contains("permessage-deflate")
        .then(|| !line.contains("server_no_context_takeover"))
}

/// Inflating compressed replies: the message gathered, its inflated bytes, the window.
pub struct Inflating {
    inflater: Decompress,
    /// The server keeps its window: so must we.
    pub takeover: bool,
    gathered: Vec<u8>,
    out: Vec<u8>,
}

impl Inflating {
    pub fn new(takeover: bool) -> Inflating {
        Inflating {
            inflater: Decompress::new_with_window_bits(false, 15),
            takeover,
            gathered: Vec::new(),
            out: Vec::new(),
        }
    }

    /// The gathered message, inflated; `None` if it is not valid deflate data.
    fn finish(&mut self, expected_len: usize) -> Option<&[u8]> {
        self.gathered.extend_from_slice(&TAIL);
        self.out.clear();
        self.out.reserve(expected_len + 64);
        let start_in = self.inflater.total_in();
        loop {
            let consumed = (self.inflater.total_in() - start_in) as usize;
            let before = self.out.len();
            self.inflater
                .decompress_vec(
                    &self.gathered[consumed..],
                    &mut self.out,
                    FlushDecompress::Sync,
                )
                .ok()?;
            let consumed = (self.inflater.total_in() - start_in) as usize;
            if consumed == self.gathered.len() && self.out.len() < self.out.capacity() {
                break;
            }
            if self.out.len() == before && consumed == self.gathered.len() {
                break;
            }
            self.out.reserve(self.out.capacity().max(4096));
        }
        self.gathered.clear();
        if !self.takeover {
            self.inflater.reset(false);
        }
        Some(&self.out)
    }
}

/// Bytes at the start of a broadcast message that are not compared but handed over: its
/// sequence number and send time (see `broadcast.rs`).
pub const STAMP_BYTES: usize = 16;

/// What the parser saw complete.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// A whole data message; `true` if it matched the expected reply exactly.
    Message(bool),
    /// A whole data message with a stamp (`Parser::stamped`): the rest matched if `ok`.
    Stamped { ok: bool, stamp: [u8; STAMP_BYTES] },
    /// A close frame.
    Close,
}

/// Streaming parser for unmasked server frames.
#[derive(Default)]
pub struct Parser {
    /// Check only the type and length of replies, not their bytes.
    pub length_only: bool,
    /// Broadcast: the first `STAMP_BYTES` of every message are a stamp, not compared.
    pub stamped: bool,
    stamp: [u8; STAMP_BYTES],
    hdr: [u8; 14],
    hdr_len: usize,
    /// Payload bytes left in the current frame; meaningful when `in_frame`.
    remaining: u64,
    in_frame: bool,
    opcode: u8,
    fin: bool,
    /// Inside a (possibly fragmented) data message.
    in_message: bool,
    /// Bytes of the current message checked so far.
    pos: usize,
    bad: bool,
    /// Set when permessage-deflate was agreed.
    pub inflating: Option<Inflating>,
    /// The current message is compressed (RSV1 on its first frame).
    compressed: bool,
    /// Data frame payload bytes received (what the wire carried).
    pub wire_bytes: u64,
}

impl Parser {
    pub fn new(length_only: bool, stamped: bool) -> Parser {
        Parser {
            length_only,
            stamped,
            ..Parser::default()
        }
    }

    /// Feed `data`; `expected` is the exact reply payload and `opcode` its frame type.
    /// Calls `seen` for every completed message or close frame.
    pub fn feed(
        &mut self,
        mut data: &[u8],
        expected: &[u8],
        opcode: u8,
        seen: &mut impl FnMut(Seen),
    ) -> Result<(), &'static str> {
        loop {
            if !self.in_frame {
                // Gather the header: 2 bytes, then the extended length.
                let need = if self.hdr_len < 2 {
                    2
                } else {
                    2 + match self.hdr[1] & 0x7f {
                        126 => 2,
                        127 => 8,
                        _ => 0,
                    }
                };
                if self.hdr_len < need {
                    if data.is_empty() {
                        break;
                    }
                    let take = (need - self.hdr_len).min(data.len());
                    self.hdr[self.hdr_len..self.hdr_len + take].copy_from_slice(&data[..take]);
                    self.hdr_len += take;
                    data = &data[take..];
                    // Re-evaluate: the length byte may call for more header bytes.
                    continue;
                }
                self.start_frame(expected, opcode, seen)?;
                continue;
            }
            if data.is_empty() {
                break;
            }
            let take = (self.remaining.min(data.len() as u64)) as usize;
            if self.opcode < 8 && self.compressed {
                if let Some(inflating) = self.inflating.as_mut() {
                    inflating.gathered.extend_from_slice(&data[..take]);
                }
            } else if self.opcode < 8 {
                let end = self.pos + take;
                let stamp_len = if self.stamped { STAMP_BYTES } else { 0 };
                let skip = stamp_len.saturating_sub(self.pos).min(take);
                self.stamp[self.pos.min(STAMP_BYTES)..][..skip].copy_from_slice(&data[..skip]);
                if !self.bad
                    && (end > expected.len()
                        || !self.length_only && expected[self.pos + skip..end] != data[skip..take])
                {
                    self.bad = true;
                }
                self.pos = end;
            }
            self.remaining -= take as u64;
            data = &data[take..];
            if self.remaining == 0 {
                self.end_frame(expected, seen);
            }
        }
        Ok(())
    }

    fn start_frame(
        &mut self,
        expected: &[u8],
        opcode: u8,
        seen: &mut impl FnMut(Seen),
    ) -> Result<(), &'static str> {
        let b0 = self.hdr[0];
        let b1 = self.hdr[1];
        if b1 & 0x80 != 0 {
            return Err("server frame is masked");
        }
        let rsv1 = b0 & 0x40 != 0;
        if b0 & 0x30 != 0 || rsv1 && (self.inflating.is_none() || !matches!(b0 & 0x0f, 1 | 2)) {
            return Err("reserved bits set");
        }
        self.fin = b0 & 0x80 != 0;
        self.opcode = b0 & 0x0f;
        self.remaining = match b1 & 0x7f {
            126 => u16::from_be_bytes([self.hdr[2], self.hdr[3]]) as u64,
            127 => u64::from_be_bytes(self.hdr[2..10].try_into().unwrap()),
            n => n as u64,
        };
        self.hdr_len = 0;
        match self.opcode {
            0 if !self.in_message => return Err("continuation without a message"),
            0 => {}
            1 | 2 if self.in_message => return Err("new message inside a fragmented one"),
            1 | 2 => {
                self.in_message = true;
                self.pos = 0;
                self.bad = self.opcode != opcode;
                self.compressed = rsv1;
            }
            8..=10 => {}
            _ => return Err("unknown opcode"),
        }
        self.in_frame = true;
        if self.opcode < 8 {
            self.wire_bytes += self.remaining;
        }
        if self.remaining == 0 {
            self.end_frame(expected, seen);
        }
        Ok(())
    }

    fn end_frame(&mut self, expected: &[u8], seen: &mut impl FnMut(Seen)) {
        self.in_frame = false;
        match self.opcode {
            8 => seen(Seen::Close),
            9 | 10 => {}
            _ if self.fin && self.compressed => {
                self.in_message = false;
                self.compressed = false;
                let inflated = self
                    .inflating
                    .as_mut()
                    .and_then(|inflating| inflating.finish(expected.len()));
                let ok = inflated.is_some_and(|inflated| {
                    inflated.len() == expected.len() && (self.length_only || inflated == expected)
                });
                seen(Seen::Message(!self.bad && ok));
            }
            _ if self.fin && self.stamped => {
                self.in_message = false;
                seen(Seen::Stamped {
                    ok: !self.bad && self.pos == expected.len() && self.pos >= STAMP_BYTES,
                    stamp: self.stamp,
                });
            }
            _ if self.fin => {
                self.in_message = false;
                seen(Seen::Message(!self.bad && self.pos == expected.len()));
            }
            _ => {}
        }
    }
}

/// Checks run by `load --self-test` (a harness-less bench has no `#[test]`).
pub mod self_test {
    use super::*;

    fn server_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![(if fin { 0x80 } else { 0 }) | opcode];
        match payload.len() {
            n if n < 126 => f.push(n as u8),
            n if n <= 65535 => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(payload);
        f
    }

    pub fn byte_by_byte_and_fragmented() {
        for len in [0usize, 5, 125, 126, 300, 70_000] {
            let expected: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let mut wire = server_frame(1, true, &expected);
            wire.extend(server_frame(9, true, b"ping"));
            let half = len / 2;
            wire.extend(server_frame(1, false, &expected[..half]));
            wire.extend(server_frame(0, true, &expected[half..]));
            let mut bad = expected.clone();
            if let Some(b) = bad.first_mut() {
                *b ^= 1;
            }
            wire.extend(server_frame(1, true, &bad));
            wire.extend(server_frame(8, true, &[3, 232]));
            for chunk in [1, 3, 7, 4096] {
                let mut parser = Parser::default();
                let mut seen = Vec::new();
                for piece in wire.chunks(chunk) {
                    parser
                        .feed(piece, &expected, 1, &mut |s| seen.push(s))
                        .unwrap();
                }
                let last_ok = len == 0; // an empty payload cannot be corrupted
                assert_eq!(
                    seen,
                    vec![
                        Seen::Message(true),
                        Seen::Message(true),
                        Seen::Message(last_ok),
                        Seen::Close
                    ],
                    "len {len} chunk {chunk}"
                );
            }
        }
    }

    pub fn stamps_are_handed_over_and_the_rest_checked() {
        let body: Vec<u8> = (0..40u8).collect();
        let mut sent = body.clone();
        sent[..STAMP_BYTES].copy_from_slice(&[7; STAMP_BYTES]);
        let mut wrong = sent.clone();
        wrong[30] ^= 1;
        let mut wire = server_frame(2, true, &sent);
        wire.extend(server_frame(2, true, &wrong));
        wire.extend(server_frame(2, true, &sent[..10]));
        for chunk in [1, 5, 4096] {
            let mut parser = Parser {
                stamped: true,
                ..Parser::default()
            };
            let mut seen = Vec::new();
            for piece in wire.chunks(chunk) {
                parser.feed(piece, &body, 2, &mut |s| seen.push(s)).unwrap();
            }
            let stamp = [7; STAMP_BYTES];
            assert_eq!(seen[0], Seen::Stamped { ok: true, stamp }, "chunk {chunk}");
            assert_eq!(seen[1], Seen::Stamped { ok: false, stamp }, "chunk {chunk}");
            assert!(matches!(seen[2], Seen::Stamped { ok: false, .. }), "short");
        }
    }

    pub fn compressed_replies_are_inflated_and_checked() {
        let expected = b"{\"text\":\"hello hello hello\"}".repeat(40);
        // A compressed server frame is a client frame without the mask.
        let client = compressed_client_frame(2, &expected);
        let header = if client[1] & 0x7f == 126 { 4 } else { 2 };
        let mut payload = client[header + 4..].to_vec();
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= MASK[i % 4];
        }
        let mut frame = server_frame(2, true, &payload);
        frame[0] |= 0x40;
        let mut wire = frame.clone();
        wire.extend(server_frame(2, true, &expected));
        for chunk in [1, 5, 4096] {
            let mut parser = Parser {
                inflating: Some(Inflating::new(false)),
                ..Parser::default()
            };
            let mut seen = Vec::new();
            for piece in wire.chunks(chunk).chain([&frame[..]]) {
                parser
                    .feed(piece, &expected, 2, &mut |s| seen.push(s))
                    .unwrap();
            }
            assert_eq!(
                seen,
                [
                    Seen::Message(true),
                    Seen::Message(true),
                    Seen::Message(true)
                ]
            );
            let mut wrong = expected.clone();
            wrong[0] ^= 1;
            let mut seen = Vec::new();
            parser
                .feed(&frame, &wrong, 2, &mut |s| seen.push(s))
                .unwrap();
            assert_eq!(seen, [Seen::Message(false)], "chunk {chunk}");
        }
        let mut plain = Parser::default();
        assert!(
            plain.feed(&frame, &expected, 2, &mut |_| {}).is_err(),
            "RSV1 unasked"
        );
    }
}
