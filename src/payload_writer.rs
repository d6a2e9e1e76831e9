//! [`PayloadWriter`]: where the fill of a `send_text_with` / `send_binary_with` call writes its
//! message. The bytes are appended where the frame will be sent (the connection's outgoing
//! queue, after the frame header), so nothing is zero-filled first and nothing is copied
//! after; and the writer notes whether every byte is ASCII (as slices arrive, or in one pass
//! over blocks just written), so ASCII text needs no `from_utf8` to be sent as text.

use std::fmt;

/// A message's payload being written in place; see
/// [`Context::send_text_with`](crate::Context::send_text_with). It only appends: the fill
/// must write exactly the length it announced, or the message is refused.
pub struct PayloadWriter<'a> {
    bytes: &'a mut Vec<u8>,
    /// Where this payload begins in `bytes` (what comes before is not the writer's).
    start: usize,
    /// The bitwise OR of every byte written: below 0x80 means all ASCII.
    ored: u8,
}

impl<'a> PayloadWriter<'a> {
    /// A writer appending to `bytes`.
    pub(crate) fn new(bytes: &'a mut Vec<u8>) -> Self {
        PayloadWriter {
            start: bytes.len(),
            bytes,
            ored: 0,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.bytes.len() - self.start
    }

    /// True until something is written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append `bytes`.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        if !bytes.is_ascii() {
            self.ored |= 0x80;
        }
        self.bytes.extend_from_slice(bytes);
    }

    /// Append `bytes` in order (an exact-length iterator, such as a slice's reversed, is
    /// written without a capacity check per byte).
    pub fn extend(&mut self, bytes: impl IntoIterator<Item = u8>) {
        let mut ored = 0;
        self.bytes
            .extend(bytes.into_iter().inspect(|&byte| ored |= byte));
        self.ored |= ored;
    }

    /// Append `blocks` in order, for code that produces its payload in fixed-size pieces
    /// (reversed words, say): the blocks are written without a capacity check each when the
    /// iterator knows its exact length (slice chunks and `map` over them do). They are
    /// checked for ASCII once written, in one vectorized pass over bytes still in cache:
    /// ORing each block's words as it goes by took longer (the scalar ORs compete with the
    /// code producing the blocks).
    pub fn extend_blocks<const N: usize>(&mut self, blocks: impl IntoIterator<Item = [u8; N]>) {
        let from = self.bytes.len();
        // `flatten` is slower here: `flat_map` keeps the exact-length fast path of `extend`.
        #[allow(clippy::flat_map_identity)]
        self.bytes
            .extend(blocks.into_iter().flat_map(|block: [u8; N]| block));
        if !self.bytes[from..].is_ascii() {
            self.ored |= 0x80;
        }
    }

    /// What has been written.
    pub fn written(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    /// Every byte written is ASCII (so the payload is UTF-8 without looking at it again).
    pub(crate) fn is_ascii(&self) -> bool {
        self.ored < 0x80
    }
}

impl fmt::Debug for PayloadWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayloadWriter")
            .field("written", &self.len())
            .field("ascii", &self.is_ascii())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_after_what_was_there_and_tracks_ascii() {
        let mut queue = b"head".to_vec();
        let mut writer = PayloadWriter::new(&mut queue);
        assert!(writer.is_empty() && writer.is_ascii());
        writer.extend_from_slice(b"a");
        writer.extend(b"b".iter().copied());
        writer.extend_blocks([[b'c'; 3], [b'd'; 3]]);
        writer.extend_blocks([[b'e'; 16]]);
        assert_eq!(writer.written(), b"abcccdddeeeeeeeeeeeeeeee");
        assert_eq!(writer.len(), 2 + 6 + 16);
        assert!(writer.is_ascii());
        assert_eq!(&queue[..4], b"head");
    }

    #[test]
    fn any_byte_past_ascii_is_noticed_wherever_it_is() {
        for at in 0..11 {
            let mut block = [b'x'; 11];
            block[at] = 0x80;
            let mut bytes = Vec::new();
            let mut writer = PayloadWriter::new(&mut bytes);
            writer.extend_blocks([[b'y'; 11], block]);
            assert!(!writer.is_ascii(), "byte {at} of a block");
        }
        let mut bytes = Vec::new();
        let mut writer = PayloadWriter::new(&mut bytes);
        writer.extend_from_slice("é".as_bytes());
        assert!(!writer.is_ascii());
        let mut bytes = Vec::new();
        let mut writer = PayloadWriter::new(&mut bytes);
        writer.extend("é".bytes());
        assert!(!writer.is_ascii());
    }
}
