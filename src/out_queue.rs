//! A connection's outgoing bytes: owned bytes appended by frames and responses, and shared
//! segments (a published topic frame, framed once and referenced by every subscriber's
//! queue), kept in the order they were queued and taken by the socket from the front without
//! moving the rest on every partial write. An empty queue holds no memory: its buffer comes
//! from a small per-thread pool when bytes are queued and goes back to it once the socket has
//! taken them all, so an idle connection costs one pointer here and steady traffic allocates
//! nothing.

use crate::frame::encode_header;
use crate::payload_writer::PayloadWriter;
use bytes::Bytes;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::IoSlice;

/// Buffers the pool keeps per thread (one event loop per thread), whatever they hold up to
/// [`POOLED_CAPACITY`]; more are freed unless they are small.
const POOLED_BUFFERS: usize = 64;
/// A drained buffer larger than this (left by one big message) is freed, not pooled.
const POOLED_CAPACITY: usize = 64 * 1024;
/// Small buffers the pool keeps besides: a topic frame sent to thousands of subscribers
/// takes a buffer for each of their queues in the same pass (shared frames only, so their
/// owned bytes stay small), and without these each would be allocated and freed again per
/// publication. At most ~7 MiB per thread (entry, 256 bytes, the shared frames' slots).
const POOLED_SMALL_BUFFERS: usize = 16 * 1024;
/// What "small" means for [`POOLED_SMALL_BUFFERS`]: owned capacity of at most this.
const SMALL_CAPACITY: usize = 256;

thread_local! {
    // Boxed so a queue takes a pooled buffer without allocating even its 8-byte pointer's target.
    #[allow(clippy::vec_box)]
    static POOL: RefCell<Vec<Box<Buffer>>> = const { RefCell::new(Vec::new()) };
}

/// Most slices one [`OutQueue::io_slices`] call fills (one `writev`).
pub(crate) const MAX_IO_SLICES: usize = 64;

/// The bytes of a non-empty queue.
#[derive(Debug, Default)]
struct Buffer {
    bytes: Vec<u8>,
    /// Bytes at the front already written to the socket.
    sent: usize,
    /// Shared frames in queue order, each going out just before the owned bytes from its
    /// offset `at` in `bytes` on.
    shared: VecDeque<Shared>,
    /// Bytes of the front shared frame already written.
    shared_sent: usize,
    /// Shared bytes not yet written (what `max_subscriber_backlog` caps).
    shared_len: usize,
}

/// A frame owned by several queues.
#[derive(Debug)]
struct Shared {
    at: usize,
    frame: Bytes,
}

/// Bytes waiting for the socket. `len()` is what a slow reader costs us.
#[derive(Debug, Default)]
pub(crate) struct OutQueue {
    buffer: Option<Box<Buffer>>,
}

impl OutQueue {
    pub fn len(&self) -> usize {
        self.buffer.as_ref().map_or(0, |buffer| {
            buffer.bytes.len() - buffer.sent + buffer.shared_len
        })
    }

    /// Bytes of shared (published) frames not yet taken by the socket.
    pub fn shared_len(&self) -> usize {
        self.buffer.as_ref().map_or(0, |buffer| buffer.shared_len)
    }

    /// True if a shared frame is queued: the socket needs [`io_slices`](OutQueue::io_slices)
    /// rather than [`pending`](OutQueue::pending).
    pub fn has_shared(&self) -> bool {
        self.buffer
            .as_ref()
            .is_some_and(|buffer| !buffer.shared.is_empty())
    }

    /// Queue a shared frame after everything queued so far (a reference, not a copy).
    pub fn push_shared(&mut self, frame: Bytes) {
        self.buffer();
        let buffer = self.buffer.as_mut().expect("just made");
        buffer.shared_len += frame.len();
        buffer.shared.push_back(Shared {
            at: buffer.bytes.len(),
            frame,
        });
    }

    /// Queue what is left of a shared frame the socket took the first `sent` bytes of
    /// straight (the queue was empty). It counts as begun: a cut-off keeps it.
    pub fn push_shared_rest(&mut self, frame: Bytes, sent: usize) {
        debug_assert!(self.is_empty() && sent < frame.len());
        self.push_shared(frame);
        let buffer = self.buffer.as_mut().expect("just made");
        buffer.shared_sent = sent;
        buffer.shared_len -= sent;
    }

    /// Forget the shared frames the socket has not begun to take (a subscriber being cut
    /// off): they were never delivered. Owned bytes (control frames, a close) stay queued.
    pub fn drop_unsent_shared(&mut self) {
        let Some(buffer) = self.buffer.as_mut() else {
            return;
        };
        let keep = usize::from(buffer.shared_sent > 0).min(buffer.shared.len());
        buffer.shared.truncate(keep);
        buffer.shared_len = buffer
            .shared
            .front()
            .map_or(0, |front| front.frame.len() - buffer.shared_sent);
    }

    /// The pending bytes in order, as up to `slices.len()` slices; how many were filled.
    pub fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let Some(buffer) = self.buffer.as_ref() else {
            return 0;
        };
        let mut filled = 0;
        let mut push = |bytes: &'a [u8]| {
            if !bytes.is_empty() && filled < slices.len() {
                slices[filled] = IoSlice::new(bytes);
                filled += 1;
            }
        };
        let mut owned_from = buffer.sent;
        for (index, shared) in buffer.shared.iter().enumerate() {
            push(&buffer.bytes[owned_from..shared.at]);
            let skip = if index == 0 { buffer.shared_sent } else { 0 };
            push(&shared.frame[skip..]);
            owned_from = shared.at;
        }
        push(&buffer.bytes[owned_from..]);
        filled
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

    /// Append one server frame whose `len`-byte payload `fill` writes where it will be sent
    /// (no reply buffer to copy from, nothing zero-filled first). If `fill` returns false, or
    /// wrote other than `len` bytes, the frame is taken back and nothing stays queued.
    pub fn push_frame_with(
        &mut self,
        opcode: u8,
        fin: bool,
        len: usize,
        fill: impl FnOnce(&mut PayloadWriter<'_>) -> bool,
    ) -> bool {
        let (header, used) = encode_header(opcode, fin, len);
        let buffer = self.buffer();
        let start = buffer.len();
        buffer.reserve(used + len);
        buffer.extend_from_slice(&header[..used]);
        let mut payload = PayloadWriter::new(buffer);
        if fill(&mut payload) && payload.len() == len {
            return true;
        }
        buffer.truncate(start);
        self.release_if_empty();
        false
    }

    /// A writer for code that formats straight into the queue (HTTP responses).
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        let buffer = self
            .buffer
            .get_or_insert_with(|| POOL.with_borrow_mut(|pool| pool.pop()).unwrap_or_default());
        &mut buffer.bytes
    }

    /// The pending bytes as one slice, for a queue without shared frames (see
    /// [`has_shared`](OutQueue::has_shared)); with some, only the owned bytes before the first.
    pub fn pending(&self) -> &[u8] {
        self.buffer.as_ref().map_or(&[], |buffer| {
            let end = buffer.shared.front().map_or(buffer.bytes.len(), |s| s.at);
            &buffer.bytes[buffer.sent..end]
        })
    }

    /// The socket took `n` bytes from the front.
    pub fn consume(&mut self, mut n: usize) {
        let Some(buffer) = self.buffer.as_mut() else {
            return;
        };
        while let Some(front) = buffer.shared.front() {
            let owned = (front.at - buffer.sent).min(n);
            buffer.sent += owned;
            n -= owned;
            if n == 0 {
                break;
            }
            let rest = front.frame.len() - buffer.shared_sent;
            let taken = rest.min(n);
            n -= taken;
            buffer.shared_len -= taken;
            if taken == rest {
                buffer.shared.pop_front();
                buffer.shared_sent = 0;
            } else {
                buffer.shared_sent += taken;
                return;
            }
        }
        buffer.sent = (buffer.sent + n).min(buffer.bytes.len());
        if buffer.sent == buffer.bytes.len() && buffer.shared.is_empty() {
            self.release();
        } else if buffer.sent >= POOLED_CAPACITY && buffer.sent * 2 >= buffer.bytes.len() {
            // Compact rarely: only once the dead front is large and at least half the buffer.
            buffer.bytes.drain(..buffer.sent);
            for shared in &mut buffer.shared {
                shared.at -= buffer.sent;
            }
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
        buffer.shared.clear();
        buffer.shared_sent = 0;
        buffer.shared_len = 0;
        let limit = if buffer.bytes.capacity() <= SMALL_CAPACITY {
            POOLED_SMALL_BUFFERS
        } else {
            POOLED_BUFFERS
        };
        POOL.with_borrow_mut(|pool| {
            if pool.len() < limit {
                pool.push(buffer);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OP_TEXT;

    #[test]
    fn a_frame_filled_in_place_is_framed_like_a_copied_one() {
        let mut copied = OutQueue::default();
        copied.push_frame(OP_TEXT, true, &[b'x'; 300]);
        let mut filled = OutQueue::default();
        assert!(filled.push_frame_with(OP_TEXT, true, 300, |payload| {
            payload.extend_from_slice(&[b'x'; 100]);
            payload.extend_blocks([[b'x'; 8]; 25]);
            true
        }));
        assert_eq!(flat(&filled), flat(&copied));
        // Taken back: the queue is as it was (here: empty, holding no buffer).
        let mut withdrawn = OutQueue::default();
        assert!(!withdrawn.push_frame_with(OP_TEXT, true, 300, |_| false));
        assert!(withdrawn.is_empty());
        assert_eq!(withdrawn.capacity(), 0);
        assert!(!copied.push_frame_with(OP_TEXT, true, 5, |_| false));
        assert_eq!(copied.len(), 304);
        // A fill that writes other than what it announced is taken back too.
        for wrote in [4, 6] {
            assert!(!copied.push_frame_with(OP_TEXT, true, 5, |payload| {
                payload.extend_from_slice(&b"abcdef"[..wrote]);
                true
            }));
            assert_eq!(flat(&copied), flat(&filled));
        }
    }

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

    /// Everything pending, in order, as the socket would see it.
    fn flat(queue: &OutQueue) -> Vec<u8> {
        let mut slices = [IoSlice::new(&[]); MAX_IO_SLICES];
        let n = queue.io_slices(&mut slices);
        slices[..n].iter().flat_map(|s| s.iter().copied()).collect()
    }

    #[test]
    fn shared_frames_keep_their_place_among_owned_bytes() {
        let frame = Bytes::from_static(b"[shared]");
        let mut queue = OutQueue::default();
        queue.buffer().extend_from_slice(b"ab");
        queue.push_shared(frame.clone());
        queue.push_shared(frame.clone());
        queue.buffer().extend_from_slice(b"cd");
        queue.push_shared(frame.clone());
        assert_eq!(flat(&queue), b"ab[shared][shared]cd[shared]");
        assert_eq!(queue.len(), 2 + 8 + 8 + 2 + 8);
        assert_eq!(queue.shared_len(), 24);
        assert!(queue.has_shared());
        // Cut through owned bytes, into a shared frame, and out of it again.
        for (take, rest) in [
            (1, &b"b[shared][shared]cd[shared]"[..]),
            (4, b"ared][shared]cd[shared]"),
            (14, b"d[shared]"),
            (3, b"hared]"),
        ] {
            queue.consume(take);
            assert_eq!(flat(&queue), rest);
            assert_eq!(queue.len(), rest.len());
        }
        queue.consume(6);
        assert!(queue.is_empty() && !queue.has_shared());
        assert_eq!(queue.capacity(), 0, "a drained queue gives its buffer back");
    }

    #[test]
    fn a_cut_off_subscriber_keeps_only_what_the_socket_began() {
        let mut queue = OutQueue::default();
        queue.push_shared(Bytes::from_static(b"12345"));
        queue.buffer().extend_from_slice(b"!");
        queue.push_shared(Bytes::from_static(b"678"));
        queue.buffer().extend_from_slice(b"?");
        queue.consume(2);
        queue.drop_unsent_shared();
        assert_eq!(flat(&queue), b"345!?");
        assert_eq!(queue.shared_len(), 3);
        queue.consume(3);
        queue.drop_unsent_shared();
        assert_eq!(flat(&queue), b"!?");
        assert_eq!(queue.shared_len(), 0);
    }

    #[test]
    fn compaction_moves_shared_offsets_with_the_bytes() {
        let mut queue = OutQueue::default();
        queue
            .buffer()
            .extend_from_slice(&vec![1u8; POOLED_CAPACITY]);
        queue.push_shared(Bytes::from_static(b"s"));
        queue.buffer().extend_from_slice(b"tail");
        queue.consume(POOLED_CAPACITY);
        assert_eq!(flat(&queue), b"stail");
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
