//! An in-memory stand-in for a TCP connection, for unit tests of the connection state machine:
//! [`memory_pair`] gives the server's end (a [`MemoryEnd`], put in a `Transport::Memory`) and
//! the test's [`Client`]. Each direction is a bounded buffer: reads say `WouldBlock` when it is
//! empty and end of stream once the writer shut down or dropped its end; writes take what
//! fits and say `WouldBlock` when it is full, so a client that does not read pushes back. The
//! client also sees what an edge-triggered poller would report to the server ([`Events`]).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;

/// Bytes each direction holds before writes block, unless a test sets less.
pub(crate) const DEFAULT_CAPACITY: usize = 1 << 20;

/// The address a memory end reports for its peer.
const PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 40000);

/// One direction: bytes written and not yet read, up to a capacity.
#[derive(Debug)]
struct Pipe {
    bytes: VecDeque<u8>,
    capacity: usize,
    /// The writer shut down or dropped its end: once `bytes` is read, end of stream.
    closed: bool,
}

impl Pipe {
    fn new() -> Self {
        Pipe {
            bytes: VecDeque::new(),
            capacity: DEFAULT_CAPACITY,
            closed: false,
        }
    }

    /// Append what fits of `data`; how much that was.
    fn push(&mut self, data: &[u8]) -> usize {
        let n = data
            .len()
            .min(self.capacity.saturating_sub(self.bytes.len()));
        self.bytes.extend(&data[..n]);
        n
    }

    /// Move up to `buf.len()` bytes out; how many.
    fn pop(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.bytes.len());
        for (slot, byte) in buf.iter_mut().zip(self.bytes.drain(..n)) {
            *slot = byte;
        }
        n
    }
}

/// What happened to the server's end since the last [`Client::take_events`]: what an
/// edge-triggered poller (epoll with `EPOLLET`) would report for it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Events {
    /// Bytes (or the client's FIN) arrived.
    pub readable: bool,
    /// The client read bytes, so there is room to write again.
    pub writable: bool,
    /// The client shut down or dropped its end.
    pub read_closed: bool,
}

#[derive(Debug)]
struct Shared {
    to_server: Pipe,
    to_client: Pipe,
    /// The server shut its write side on purpose (`shutdown(Write)`), not just by dropping.
    server_shut_down: bool,
    /// The server dropped its end: nothing it did not read will be read.
    server_dropped: bool,
    events: Events,
}

/// The server's end of a [`memory_pair`]: the connection reads from it and writes to it
/// through a shared reference, as it does with a `&TcpStream`.
#[derive(Debug)]
pub(crate) struct MemoryEnd {
    shared: Rc<RefCell<Shared>>,
}

/// The test's end of a [`memory_pair`]: writes what a client sends, reads what the server
/// sent, and sees the server's FIN.
#[derive(Debug)]
pub(crate) struct Client {
    shared: Rc<RefCell<Shared>>,
}

/// A connected pair: the server's end and the client's, each direction holding
/// [`DEFAULT_CAPACITY`] bytes.
pub(crate) fn memory_pair() -> (MemoryEnd, Client) {
    let shared = Rc::new(RefCell::new(Shared {
        to_server: Pipe::new(),
        to_client: Pipe::new(),
        server_shut_down: false,
        server_dropped: false,
        events: Events::default(),
    }));
    (
        MemoryEnd {
            shared: shared.clone(),
        },
        Client { shared },
    )
}

impl MemoryEnd {
    pub fn shutdown_write(&self) -> io::Result<()> {
        let mut shared = self.shared.borrow_mut();
        shared.to_client.closed = true;
        shared.server_shut_down = true;
        Ok(())
    }

    pub fn peer_addr(&self) -> SocketAddr {
        PEER
    }
}

impl Read for &MemoryEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut shared = self.shared.borrow_mut();
        let pipe = &mut shared.to_server;
        match pipe.pop(buf) {
            0 if pipe.closed || buf.is_empty() => Ok(0),
            0 => Err(ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }
}

impl Write for &MemoryEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut shared = self.shared.borrow_mut();
        let pipe = &mut shared.to_client;
        if pipe.closed {
            // Written after our own FIN, or to a client that is gone: EPIPE.
            return Err(ErrorKind::BrokenPipe.into());
        }
        match pipe.push(buf) {
            0 if !buf.is_empty() => Err(ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for MemoryEnd {
    /// Closing the socket: the client reads end of stream after what was sent.
    fn drop(&mut self) {
        let mut shared = self.shared.borrow_mut();
        shared.to_client.closed = true;
        shared.server_dropped = true;
    }
}

impl Client {
    /// Send all of `bytes` to the server. Panics if they do not fit (the test asked for more
    /// than the pipe holds) or after [`Client::shutdown`].
    pub fn send(&self, bytes: &[u8]) {
        let mut shared = self.shared.borrow_mut();
        assert!(!shared.to_server.closed, "send after shutdown");
        let taken = shared.to_server.push(bytes);
        assert_eq!(taken, bytes.len(), "the pipe to the server is full");
        shared.events.readable |= taken > 0;
    }

    /// Everything the server sent so far; reading it makes room for more.
    pub fn receive(&self) -> Vec<u8> {
        let mut shared = self.shared.borrow_mut();
        let bytes: Vec<u8> = shared.to_client.bytes.drain(..).collect();
        shared.events.writable |= !bytes.is_empty();
        bytes
    }

    /// Bytes the server sent that the client has not read.
    pub fn unread(&self) -> usize {
        self.shared.borrow().to_client.bytes.len()
    }

    /// Hold at most `bytes` unread bytes from the server: beyond that its writes block.
    pub fn set_receive_capacity(&self, bytes: usize) {
        self.shared.borrow_mut().to_client.capacity = bytes;
    }

    /// Send FIN: once it has read what came before, the server reads end of stream.
    pub fn shutdown(&self) {
        let mut shared = self.shared.borrow_mut();
        shared.to_server.closed = true;
        shared.events.readable = true;
        shared.events.read_closed = true;
    }

    /// True once the server shut its write side (`shutdown(Write)`): a FIN sent on purpose
    /// while the connection lives on, not the one dropping its end sends.
    pub fn fin_received(&self) -> bool {
        self.shared.borrow().server_shut_down
    }

    /// True once the server closed its end (the connection was dropped).
    pub fn server_dropped(&self) -> bool {
        self.shared.borrow().server_dropped
    }

    /// What a poller would report for the server's end since the last call.
    pub fn take_events(&self) -> Events {
        std::mem::take(&mut self.shared.borrow_mut().events)
    }
}

impl Drop for Client {
    /// A client gone: the server reads end of stream, and its writes fail.
    fn drop(&mut self) {
        let mut shared = self.shared.borrow_mut();
        shared.to_server.closed = true;
        shared.to_client.closed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_server(end: &MemoryEnd, max: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; max];
        let n = (&mut &*end).read(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    #[test]
    fn reads_block_when_empty_and_end_after_the_fin() {
        let (end, client) = memory_pair();
        let blocked = read_server(&end, 16).unwrap_err();
        assert_eq!(blocked.kind(), ErrorKind::WouldBlock);
        client.send(b"hello");
        assert_eq!(
            client.take_events(),
            Events {
                readable: true,
                ..Events::default()
            }
        );
        assert_eq!(read_server(&end, 3).unwrap(), b"hel");
        client.shutdown();
        assert!(client.take_events().read_closed);
        assert_eq!(read_server(&end, 16).unwrap(), b"lo");
        assert_eq!(read_server(&end, 16).unwrap(), b"", "end of stream");
    }

    #[test]
    fn writes_block_at_the_capacity_and_resume_when_the_client_reads() {
        let (end, client) = memory_pair();
        client.set_receive_capacity(4);
        assert_eq!((&mut &end).write(b"abcdef").unwrap(), 4);
        let full = (&mut &end).write(b"ef").unwrap_err();
        assert_eq!(full.kind(), ErrorKind::WouldBlock);
        assert_eq!(client.receive(), b"abcd");
        assert!(client.take_events().writable);
        assert_eq!((&mut &end).write(b"ef").unwrap(), 2);
        assert_eq!(client.unread(), 2);
    }

    #[test]
    fn the_client_sees_the_fin_and_a_dropped_end() {
        let (end, client) = memory_pair();
        (&mut &end).write_all(b"bye").unwrap();
        assert!(!client.fin_received());
        end.shutdown_write().unwrap();
        assert!(client.fin_received() && !client.server_dropped());
        let after_fin = (&mut &end).write(b"more").unwrap_err();
        assert_eq!(after_fin.kind(), ErrorKind::BrokenPipe);
        drop(end);
        assert!(client.server_dropped());
        assert_eq!(client.receive(), b"bye");
        let (end, client) = memory_pair();
        drop(end);
        assert!(client.server_dropped() && !client.fin_received());
    }

    #[test]
    fn a_dropped_client_is_end_of_stream_and_a_broken_pipe() {
        let (end, client) = memory_pair();
        client.send(b"x");
        drop(client);
        assert_eq!(read_server(&end, 4).unwrap(), b"x");
        assert_eq!(read_server(&end, 4).unwrap(), b"");
        let gone = (&mut &end).write(b"y").unwrap_err();
        assert_eq!(gone.kind(), ErrorKind::BrokenPipe);
    }
}
