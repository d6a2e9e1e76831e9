//! A connection's outgoing bytes: appended by frames and responses, taken by the socket from
//! the front without moving the rest on every partial write.

/// Capacity kept after the queue empties; a larger buffer (left by one big message) is freed.
const RETAINED_CAPACITY: usize = 64 * 1024;

/// Bytes waiting for the socket. `len()` is what a slow reader costs us.
#[derive(Debug, Default)]
pub(crate) struct OutQueue {
    buf: Vec<u8>,
    /// Bytes at the front already written to the socket.
    sent: usize,
}

impl OutQueue {
    pub fn len(&self) -> usize {
        self.buf.len() - self.sent
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Append one server frame (unmasked, RFC 6455 §5.2): FIN bit, opcode, length, payload.
    pub fn push_frame(&mut self, opcode: u8, fin: bool, payload: &[u8]) {
        let len = payload.len();
        self.buf.reserve(len + 10);
        self.buf.push(u8::from(fin) << 7 | opcode);
        if len < 126 {
            self.buf.push(len as u8);
        } else if let Ok(len) = u16::try_from(len) {
            self.buf.push(126);
            self.buf.extend_from_slice(&len.to_be_bytes());
        } else {
            self.buf.push(127);
            self.buf.extend_from_slice(&(len as u64).to_be_bytes());
        }
        self.buf.extend_from_slice(payload);
    }

    /// A writer for code that formats straight into the queue (HTTP responses).
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    pub fn pending(&self) -> &[u8] {
        &self.buf[self.sent..]
    }

    /// The socket took `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.buf.len());
        if self.sent == self.buf.len() {
            self.sent = 0;
            if self.buf.capacity() > RETAINED_CAPACITY {
                self.buf = Vec::new();
            } else {
                self.buf.clear();
            }
        } else if self.sent >= RETAINED_CAPACITY && self.sent * 2 >= self.buf.len() {
            // Compact rarely: only once the dead front is large and at least half the buffer.
            self.buf.drain(..self.sent);
            self.sent = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_consume_keeps_order() {
        let mut queue = OutQueue::default();
        queue.push(b"hello ");
        queue.push(b"world");
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
        queue.push_frame(0x2, false, &[0; 126]);
        assert_eq!(queue.pending()[..4], [0x02, 126, 0, 126]);
        let mut queue = OutQueue::default();
        queue.push_frame(0x0, true, &[0; 65536]);
        assert_eq!(queue.pending()[..10], [0x80, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
        assert_eq!(queue.len(), 65536 + 10);
    }

    #[test]
    fn large_buffer_is_released_when_drained() {
        let mut queue = OutQueue::default();
        queue.push(&vec![7u8; RETAINED_CAPACITY * 4]);
        queue.consume(RETAINED_CAPACITY * 3);
        assert_eq!(queue.len(), RETAINED_CAPACITY);
        assert!(queue.pending().iter().all(|&b| b == 7));
        queue.consume(RETAINED_CAPACITY);
        assert_eq!(queue.buf.capacity(), 0);
    }
}
