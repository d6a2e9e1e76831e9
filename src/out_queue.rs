//! A connection's outgoing bytes: appended by frames and responses, taken by the socket from
//! the front without moving the rest on every partial write. An empty queue holds no memory:
//! its buffer comes from a small per-thread pool when bytes are queued and goes back to it
//! once the socket has taken them all, so an idle connection costs one pointer here and
//! steady traffic allocates nothing.

use crate::frame::encode_header;
use std::cell::RefCell;

/// Buffers the pool keeps per thread (one event loop per thread); more are freed.
const POOLED_BUFFERS: usize = 64;
/// A drained buffer larger than this (left by one big message) is freed, not pooled.
const POOLED_CAPACITY: usize = 64 * 1024;

thread_local! {
    // Boxed so a queue takes a pooled buffer without allocating even its 8-byte pointer's target.
    #[allow(clippy::vec_box)]
    static POOL: RefCell<Vec<Box<Buffer>>> = const { RefCell::new(Vec::new()) };
}

/// The bytes of a non-empty queue.
#[derive(Debug, Default)]
struct Buffer {
    bytes: Vec<u8>,
    /// Bytes at the front already written to the socket.
    sent: usize,
}

/// Bytes waiting for the socket. `len()` is what a slow reader costs us.
#[derive(Debug, Default)]
pub(crate) struct OutQueue {
    buffer: Option<Box<Buffer>>,
}

impl OutQueue {
    pub fn len(&self) -> usize {
        self.buffer
            .as_ref()
            .map_or(0, |buffer| buffer.bytes.len() - buffer.sent)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of memory the queue holds (its buffer's capacity).
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.buffer
            .as_ref()
            .map_or(0, |buffer| buffer.bytes.capacity())
    }

    /// Append one server frame (unmasked, RFC 6455 §5.2): FIN bit, opcode, length, payload.
    pub fn push_frame(&mut self, opcode: u8, fin: bool, payload: &[u8]) {
        let (header, used) = encode_header(opcode, fin, payload.len());
        let buffer = self.buffer();
        buffer.reserve(used + payload.len());
        buffer.extend_from_slice(&header[..used]);
        buffer.extend_from_slice(payload);
    }

    /// A writer for code that formats straight into the queue (HTTP responses).
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        let buffer = self
            .buffer
            .get_or_insert_with(|| POOL.with_borrow_mut(|pool| pool.pop()).unwrap_or_default());
        &mut buffer.bytes
    }

    pub fn pending(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .map_or(&[], |buffer| &buffer.bytes[buffer.sent..])
    }

    /// The socket took `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        let Some(buffer) = self.buffer.as_mut() else {
            return;
        };
        buffer.sent = (buffer.sent + n).min(buffer.bytes.len());
        if buffer.sent == buffer.bytes.len() {
            self.release();
        } else if buffer.sent >= POOLED_CAPACITY && buffer.sent * 2 >= buffer.bytes.len() {
            // Compact rarely: only once the dead front is large and at least half the buffer.
            buffer.bytes.drain(..buffer.sent);
            buffer.sent = 0;
        }
    }

    /// Give the buffer back if nothing is waiting in it (an idle connection keeps none).
    pub fn release_if_empty(&mut self) {
        if self.buffer.is_some() && self.is_empty() {
            self.release();
        }
    }

    fn release(&mut self) {
        let Some(mut buffer) = self.buffer.take() else {
            return;
        };
        if buffer.bytes.capacity() > POOLED_CAPACITY {
            return;
        }
        buffer.bytes.clear();
        buffer.sent = 0;
        POOL.with_borrow_mut(|pool| {
            if pool.len() < POOLED_BUFFERS {
                pool.push(buffer);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_consume_keeps_order() {
        let mut queue = OutQueue::default();
        queue.buffer().extend_from_slice(b"hello ");
        queue.buffer().extend_from_slice(b"world");
        queue.consume(4);
        assert_eq!(queue.pending(), b"o world");
        assert_eq!(queue.len(), 7);
        queue.consume(7);
        assert!(queue.is_empty());
        assert_eq!(queue.pending(), b"");
    }

    #[test]
    fn frames_use_the_shortest_length_encoding() {
        let mut queue = OutQueue::default();
        queue.push_frame(0x1, true, b"hi");
        assert_eq!(queue.pending(), [0x81, 2, b'h', b'i']);
        let mut queue = OutQueue::default();
        queue.push_frame(0x0, true, &[0; 65536]);
        assert_eq!(queue.pending()[..10], [0x80, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(queue.len(), 65536 + 10);
    }

    #[test]
    fn a_drained_queue_holds_no_memory() {
        let mut queue = OutQueue::default();
        queue
            .buffer()
            .extend_from_slice(&vec![7u8; POOLED_CAPACITY * 4]);
        queue.consume(POOLED_CAPACITY * 3);
        assert_eq!(queue.len(), POOLED_CAPACITY);
        assert!(queue.pending().iter().all(|&b| b == 7));
        queue.consume(POOLED_CAPACITY);
        assert_eq!(queue.capacity(), 0);
        queue.buffer().extend_from_slice(b"small");
        queue.consume(5);
        assert_eq!(queue.capacity(), 0);
        queue.buffer();
        queue.release_if_empty();
        assert_eq!(queue.capacity(), 0);
    }

    #[test]
    fn drained_buffers_are_reused() {
        let mut first = OutQueue::default();
        first.buffer().extend_from_slice(&[1; 1000]);
        let capacity = first.capacity();
        first.consume(1000);
        let mut second = OutQueue::default();
        second.buffer().extend_from_slice(b"x");
        assert!(second.capacity() >= capacity, "a pooled buffer was reused");
    }
}
