//! The only module that touches sockets: accept, register, read, write, shutdown. Everything
//! else works on bytes. Edge-triggered readiness means every call here goes on until the
//! kernel says `WouldBlock` (or a budget runs out) and reports which of the two happened.

use crate::conn::OutQueue;
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};
use std::io::{self, ErrorKind, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};

/// True for the error that means "not now": the kernel has nothing more for us.
pub(crate) fn would_block(err: &io::Error) -> bool {
    err.kind() == ErrorKind::WouldBlock
}

/// True for the error that means "try the same call again".
pub(crate) fn interrupted(err: &io::Error) -> bool {
    err.kind() == ErrorKind::Interrupted
}

/// Accept one pending connection; `Ok(None)` when the backlog is empty.
pub(crate) fn accept(listener: &TcpListener) -> io::Result<Option<(TcpStream, SocketAddr)>> {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                // Small frames must not wait for Nagle; failure here is harmless.
                let _ = stream.set_nodelay(true);
                return Ok(Some((stream, peer)));
            }
            Err(err) if would_block(&err) => return Ok(None),
            Err(err) if interrupted(&err) => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Register a connection for both directions once; with edge-triggered readiness its interest
/// never has to change, so it is never re-registered.
pub(crate) fn register(
    registry: &Registry,
    stream: &mut TcpStream,
    token: Token,
) -> io::Result<()> {
    registry.register(stream, token, Interest::READABLE | Interest::WRITABLE)
}

/// Stop sending (FIN) but keep reading, so the peer sees our last bytes before any reset.
pub(crate) fn shutdown_write(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
}

/// What a read pass over a socket found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadState {
    /// The kernel said `WouldBlock`: nothing more until the next readable event.
    pub drained: bool,
    /// The peer closed its side (read returned 0).
    pub eof: bool,
    /// The per-pass budget ran out with the socket possibly still readable.
    pub budget_exhausted: bool,
    /// At least one byte arrived.
    pub received: bool,
}

/// A per-pass read allowance in bytes, what the pass found, and the buffer it reads into: the
/// server's one read buffer (allocated and zeroed once, never per read), lent for the pass.
#[derive(Debug)]
pub(crate) struct ReadBudget {
    remaining: usize,
    pub state: ReadState,
    buffer: Box<[u8]>,
    /// A short read means "drained" (see `read_chunk`) unless the peer's FIN may be waiting.
    pub short_read_drains: bool,
}

impl ReadBudget {
    /// Allow `bytes` for this pass, reading into `buffer` (a fresh one of `buffer_len` bytes
    /// if the one given is smaller).
    pub fn new(bytes: usize, buffer_len: usize, buffer: Box<[u8]>) -> Self {
        let buffer = if buffer.len() >= buffer_len {
            buffer
        } else {
            vec![0; buffer_len].into_boxed_slice()
        };
        ReadBudget {
            remaining: bytes,
            state: ReadState::default(),
            buffer,
            short_read_drains: true,
        }
    }

    /// The buffer, to lend to the next pass.
    pub fn into_buffer(self) -> Box<[u8]> {
        self.buffer
    }

    /// Read up to `max` bytes; the bytes read, empty at end of stream. `WouldBlock` covers both
    /// "the kernel has nothing" and "the budget is spent" (see `state` for which).
    pub fn read_chunk(&mut self, mut stream: &TcpStream, max: usize) -> io::Result<&[u8]> {
        if self.remaining == 0 {
            self.state.budget_exhausted = true;
            return Err(ErrorKind::WouldBlock.into());
        }
        let limit = max.min(self.remaining).min(self.buffer.len()).max(1);
        loop {
            match stream.read(&mut self.buffer[..limit]) {
                Ok(0) => {
                    self.state.eof = true;
                    return Ok(&[]);
                }
                Ok(n) => {
                    self.remaining -= n;
                    self.state.received = true;
                    // A short read emptied the socket: with edge-triggered epoll any byte or FIN
                    // arriving later raises a new event, so the WouldBlock call can be skipped
                    // (not when the last event already reported the FIN: see Wire).
                    self.state.drained |= self.short_read_drains && n < limit;
                    return Ok(&self.buffer[..n]);
                }
                Err(err) if interrupted(&err) => continue,
                Err(err) => {
                    if would_block(&err) {
                        self.state.drained = true;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Append what the socket has to `buf`, up to `max_len` bytes in `buf` in all.
    pub fn read_into(
        &mut self,
        stream: &TcpStream,
        buf: &mut Vec<u8>,
        max_len: usize,
    ) -> io::Result<()> {
        while buf.len() < max_len && !self.state.drained {
            match self.read_chunk(stream, max_len - buf.len()) {
                Ok([]) => return Ok(()),
                Ok(bytes) => buf.extend_from_slice(bytes),
                Err(err) if would_block(&err) => return Ok(()),
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// Read and throw away whatever arrives (a closing connection waiting for the peer's FIN).
    pub fn discard(&mut self, stream: &TcpStream) -> io::Result<()> {
        while !self.state.drained {
            match self.read_chunk(stream, usize::MAX) {
                Ok([]) => return Ok(()),
                Ok(_) => continue,
                Err(err) if would_block(&err) => return Ok(()),
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

/// Write as much of `data` as the kernel takes; returns how many bytes it took.
pub(crate) fn write_some(mut stream: &TcpStream, data: &[u8]) -> io::Result<usize> {
    write_until_blocked(data.len(), |written| stream.write(&data[written..]))
}

/// Write `first` then `second` as the kernel takes them, both in one `writev` while any of
/// `first` is left (a response head and its body leave in one call, so in one segment when
/// they fit); returns how many bytes of the two, in order, it took.
pub(crate) fn write_pair(mut stream: &TcpStream, first: &[u8], second: &[u8]) -> io::Result<usize> {
    write_until_blocked(first.len() + second.len(), |written| {
        match first.get(written..) {
            Some(rest) if !rest.is_empty() => {
                stream.write_vectored(&[IoSlice::new(rest), IoSlice::new(second)])
            }
            _ => stream.write(&second[written - first.len()..]),
        }
    })
}

/// Call `write(bytes written so far)` until `total` bytes are written or the kernel is full.
fn write_until_blocked(
    total: usize,
    mut write: impl FnMut(usize) -> io::Result<usize>,
) -> io::Result<usize> {
    let mut written = 0;
    while written < total {
        match write(written) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(err) if interrupted(&err) => continue,
            Err(err) if would_block(&err) => break,
            Err(err) => return Err(err),
        }
    }
    Ok(written)
}

/// Move the queue's bytes to the socket until it is empty or the kernel is full. Returns true
/// when everything went out.
pub(crate) fn flush(stream: &TcpStream, out: &mut OutQueue) -> io::Result<bool> {
    if out.is_empty() {
        return Ok(true);
    }
    let written = write_some(stream, out.pending())?;
    out.consume(written);
    Ok(out.is_empty())
}

/// The stream tungstenite writes frames into: the connection's own [`OutQueue`], never the
/// socket, so the loop decides when and in how many syscalls frames go out. tungstenite never
/// reads through it (our frame reader does), so reads answer `WouldBlock`.
pub(crate) struct QueueStream<'a> {
    out: &'a mut OutQueue,
}

impl<'a> QueueStream<'a> {
    pub fn new(out: &'a mut OutQueue) -> Self {
        QueueStream { out }
    }
}

impl Read for QueueStream<'_> {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(ErrorKind::WouldBlock.into())
    }
}

impl Write for QueueStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
