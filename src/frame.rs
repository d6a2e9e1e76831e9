//! RFC 6455 §5.2 frames as bytes: reading a frame header, unmasking a payload, and encoding
//! the server's frame headers. Every frame wsloop sends (data, ping, pong, close) is encoded
//! by [`encode_header`]; every frame it reads is measured by [`Header::parse`].

/// Data opcodes (RFC 6455 §5.2).
pub(crate) const OP_CONTINUATION: u8 = 0x0;
pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
/// Control opcodes.
pub(crate) const OP_CLOSE: u8 = 0x8;
pub(crate) const OP_PING: u8 = 0x9;
pub(crate) const OP_PONG: u8 = 0xA;

/// Largest control-frame payload (RFC 6455 §5.5).
pub(crate) const MAX_CONTROL_PAYLOAD: usize = 125;

/// The longest header a server frame has (no mask): 2 + 8 bytes.
pub(crate) const MAX_SERVER_HEADER: usize = 10;

/// A frame header as it arrived; nothing is checked here but that it is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub fin: bool,
    /// RSV1..RSV3 as the low three bits.
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub payload_len: u64,
    /// Bytes before the payload (2 to 14).
    pub header_len: usize,
}

impl Header {
    /// The header at the start of `bytes`, or `None` if more bytes are needed to read it.
    pub fn parse(bytes: &[u8]) -> Option<Header> {
        let (&first, &second) = (bytes.first()?, bytes.get(1)?);
        let (payload_len, mut at) = match second & 0x7f {
            126 => (u64::from(u16::from_be_bytes(array(bytes, 2)?)), 4),
            127 => (u64::from_be_bytes(array(bytes, 2)?), 10),
            len => (u64::from(len), 2),
        };
        let mask = if second & 0x80 != 0 {
            let mask = array(bytes, at)?;
            at += 4;
            Some(mask)
        } else {
            None
        };
        Some(Header {
            fin: first & 0x80 != 0,
            rsv: (first >> 4) & 0x7,
            opcode: first & 0x0f,
            mask,
            payload_len,
            header_len: at,
        })
    }

    /// Header plus payload in bytes; `None` if that does not fit in memory at all.
    pub fn frame_len(&self) -> Option<usize> {
        usize::try_from(self.payload_len)
            .ok()?
            .checked_add(self.header_len)
    }

    pub fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }
}

fn array<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at + N)?.try_into().ok()
}

/// XOR the client's mask over the payload, eight bytes at a time.
pub(crate) fn unmask(payload: &mut [u8], mask: [u8; 4]) {
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

/// Unmask, in place, every complete frame of `buf` that starts at or after `at` (frames
/// follow each other from there); returns where the first incomplete frame begins. Applied
/// twice to the same bytes it gives them back as they were (XOR), which is how bytes that were
/// unmasked but not delivered are put back in their raw form.
pub(crate) fn unmask_complete_frames(buf: &mut [u8], mut at: usize) -> usize {
    while let Some(header) = Header::parse(&buf[at..]) {
        let Some(total) = header.frame_len() else {
            break;
        };
        if buf.len() - at < total {
            break;
        }
        if let Some(mask) = header.mask {
            unmask(&mut buf[at + header.header_len..at + total], mask);
        }
        at += total;
    }
    at
}

/// The mask as it applies from payload byte `offset` on.
pub(crate) fn mask_from(mask: [u8; 4], offset: usize) -> [u8; 4] {
    let k = offset % 4;
    [
        mask[k],
        mask[(k + 1) % 4],
        mask[(k + 2) % 4],
        mask[(k + 3) % 4],
    ]
}

/// The length of the header that starts with `raw` (2 until its second byte is known).
pub(crate) fn header_len_hint(raw: &[u8]) -> usize {
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

/// The header of a server frame (unmasked, RFC 6455 §5.2) with the shortest length encoding:
/// the bytes and how many of them are used. `opcode` may carry RSV1 (`0x40`) for the first
/// frame of a compressed message (RFC 7692).
pub(crate) fn encode_header(
    opcode: u8,
    fin: bool,
    payload_len: usize,
) -> ([u8; MAX_SERVER_HEADER], usize) {
    let mut header = [0u8; MAX_SERVER_HEADER];
    header[0] = u8::from(fin) << 7 | opcode;
    let used = if payload_len < 126 {
        header[1] = payload_len as u8;
        2
    } else if let Ok(len) = u16::try_from(payload_len) {
        header[1] = 126;
        header[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
        10
    };
    (header, used)
}

/// A close frame's payload: the code and as much of `reason` as fits in whole UTF-8
/// characters (123 bytes).
pub(crate) fn close_payload(code: u16, reason: &str) -> ([u8; MAX_CONTROL_PAYLOAD], usize) {
    let reason = crate::log_text::truncate_utf8(reason, MAX_CONTROL_PAYLOAD - 2);
    let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
    payload[..2].copy_from_slice(&code.to_be_bytes());
    payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
    (payload, 2 + reason.len())
}

/// A client frame as RFC 6455 §5.3 has clients send it (masked, with a fixed key), with the
/// shortest length encoding; `first_byte` holds FIN, RSV and the opcode. For tests.
#[cfg(test)]
pub(crate) fn client_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    const MASK: [u8; 4] = [1, 2, 3, 4];
    let (header, used) = encode_header(0, false, payload.len());
    let mut out = vec![first_byte, 0x80 | header[1]];
    out.extend_from_slice(&header[2..used]);
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse_every_length_encoding_and_wait_for_missing_bytes() {
        let short = [0x81, 0x85, 1, 2, 3, 4];
        let header = Header::parse(&short).unwrap();
        assert_eq!(
            (
                header.fin,
                header.opcode,
                header.payload_len,
                header.header_len
            ),
            (true, OP_TEXT, 5, 6)
        );
        assert_eq!(header.mask, Some([1, 2, 3, 4]));
        let medium = [0x02, 0xfe, 0x01, 0x00, 9, 9, 9, 9];
        assert_eq!(Header::parse(&medium).unwrap().payload_len, 256);
        let long = [0x82, 0x7f, 0, 0, 0, 1, 0, 0, 0, 0];
        let header = Header::parse(&long).unwrap();
        assert_eq!((header.payload_len, header.mask), (1 << 32, None));
        assert_eq!(Header::parse(&[0xc1, 0x00]).unwrap().rsv, 0b100);
        for cut in 0..short.len() {
            assert_eq!(Header::parse(&short[..cut]), None, "cut at {cut}");
        }
        assert_eq!(Header::parse(&long[..9]), None);
    }

    #[test]
    fn server_headers_use_the_shortest_encoding() {
        let (bytes, used) = encode_header(OP_TEXT, true, 2);
        assert_eq!(&bytes[..used], [0x81, 2]);
        let (bytes, used) = encode_header(OP_BINARY, false, 126);
        assert_eq!(&bytes[..used], [0x02, 126, 0, 126]);
        let (bytes, used) = encode_header(OP_CONTINUATION, true, 65536);
        assert_eq!(&bytes[..used], [0x80, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn unmasking_complete_frames_twice_restores_them() {
        let mut frames = vec![0x81, 0x83, 1, 2, 3, 4, b'a' ^ 1, b'b' ^ 2, b'c' ^ 3];
        frames.extend([0x89, 0x81, 5, 5, 5, 5, b'x' ^ 5]);
        frames.extend([0x81, 0x85, 1, 1]); // incomplete
        let raw = frames.clone();
        let end = unmask_complete_frames(&mut frames, 0);
        assert_eq!(end, 16);
        assert_eq!(&frames[6..9], b"abc");
        assert_eq!(frames[15], b'x');
        assert_eq!(unmask_complete_frames(&mut frames, 0), 16);
        assert_eq!(frames, raw);
    }

    #[test]
    fn close_reasons_are_cut_at_a_character_boundary() {
        let reason = "é".repeat(100);
        let (payload, used) = close_payload(1000, &reason);
        assert_eq!(used, 2 + 122);
        assert_eq!(&payload[..2], [0x03, 0xe8]);
        assert!(std::str::from_utf8(&payload[2..used]).is_ok());
    }
}
