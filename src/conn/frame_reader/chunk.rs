//! [`Chunk`]: one read's bytes as the frame reader consumes them, and where a whole frame's
//! payload goes: a slice of the server's read buffer (2 KiB and more: no copy) or a copy in
//! the loop's message arena (smaller: cheaper than sharing the read buffer).

use bytes::{Bytes, BytesMut};

/// Payloads at least this long are handed over as slices of the read buffer; shorter ones
/// are copied into the message arena (a copy this small costs less than sharing the buffer).
pub(super) const ZERO_COPY_MIN_BYTES: usize = 2048;

/// What the message arena grows by: small payloads are carved from it, and it is reclaimed in
/// place once the protocol has dropped them.
const ARENA_BYTES: usize = 64 * 1024;

/// One read's bytes: a frozen view of the server's read buffer, consumed from the front.
/// Every whole frame in it after the bytes that finish a held frame is already unmasked.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    /// The whole read buffer (so it can be reclaimed after the pass); bytes `..end` were read.
    pub(super) root: Bytes,
    pub(super) start: usize,
    pub(super) end: usize,
    /// The loop's message arena, lent for the pass.
    pub(super) arena: BytesMut,
}

impl Chunk {
    /// The payload at `range` of the read: a slice of the read buffer, or a copy in the arena.
    pub(super) fn payload(&mut self, range: std::ops::Range<usize>) -> Bytes {
        if range.len() >= ZERO_COPY_MIN_BYTES {
            return self.root.slice(range);
        }
        if self.arena.capacity() < range.len() {
            self.arena.reserve(ARENA_BYTES);
        }
        self.arena.extend_from_slice(&self.root[range]);
        self.arena.split().freeze()
    }

    /// The read buffer and the arena, to give back once nothing else refers to the buffer.
    pub fn into_parts(self) -> (Bytes, BytesMut) {
        (self.root, self.arena)
    }

    pub(super) fn rest(&self) -> &[u8] {
        &self.root[self.start..self.end]
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}
