//! With `transport`, the only code that touches sockets: listen, accept, register, read,
//! write, shutdown. Everything else works on bytes. `transport` makes each single call on whichever
//! kind of stream a connection has; this module holds the loops around them: edge-triggered
//! readiness means every call here goes on until the kernel says `WouldBlock` (or a budget
//! runs out) and reports which of the two happened.

use crate::out_queue::{OutQueue, MAX_IO_SLICES};
use crate::transport::Transport;
use bytes::{Bytes, BytesMut};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};
use socket2::{Domain, Protocol as IpProtocol, Socket, Type};
use std::io::{self, ErrorKind, IoSlice, Read, Write};
use std::net::SocketAddr;

/// Connections waiting to be accepted, per listener.
pub(crate) const LISTEN_BACKLOG: i32 = 1024;

/// A non-blocking listener on `addr` with `SO_REUSEPORT`: every loop of a process can have
/// one on the port, and so can a second wsloop process started while the first still runs
/// (a restart without downtime). A port held by a socket without `SO_REUSEPORT` (another
/// program) still fails with `AddrInUse`. Port 0: bind the first, then the others to its
/// port. Public for hosts that run several loops themselves (`Server::from_listener`).
pub fn reuseport_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM,
        Some(IpProtocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// True for the error that means "not now": the kernel has nothing more for us.
pub(crate) fn would_block(err: &io::Error) -> bool {
    err.kind() == ErrorKind::WouldBlock
}

/// True for the error that means "try the same call again".
pub(crate) fn interrupted(err: &io::Error) -> bool {
    err.kind() == ErrorKind::Interrupted
}

/// Set `TCP_NODELAY` on `listener` so that the sockets it accepts start with it (Linux
/// copies it to them): one `setsockopt` per listener instead of one per connection. True if
/// they now inherit it; false where that does not hold, and [`accept`] then sets it on each
/// connection.
pub(crate) fn set_listener_nodelay(listener: &TcpListener) -> bool {
    cfg!(any(target_os = "linux", target_os = "android"))
        && socket2::SockRef::from(listener).set_nodelay(true).is_ok()
}

/// Accept one pending connection; `Ok(None)` when the backlog is empty. The server decides
/// what `Transport` it becomes (TCP, or TLS over it). `nodelay_inherited`: what
/// [`set_listener_nodelay`] said of this listener.
pub(crate) fn accept(
    listener: &TcpListener,
    nodelay_inherited: bool,
) -> io::Result<Option<(TcpStream, SocketAddr)>> {
    loop {
        match listener.accept() {
            Ok((stream, peer)) => {
                if !nodelay_inherited {
                    // Small frames must not wait for Nagle; failure here is harmless.
                    let _ = stream.set_nodelay(true);
                }
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
    transport: &mut Transport,
    token: Token,
) -> io::Result<()> {
    transport.register(registry, token, Interest::READABLE | Interest::WRITABLE)
}

/// Stop sending (FIN) but keep reading, so the peer sees our last bytes before any reset.
pub(crate) fn shutdown_write(transport: &Transport) {
    let _ = transport.shutdown_write();
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
/// A WebSocket pass may [`freeze`](ReadBudget::freeze) it to hand out slices of what was
/// read without copying, then [`thaw`](ReadBudget::thaw) it for the next read.
#[derive(Debug)]
pub(crate) struct ReadBudget {
    remaining: usize,
    pub state: ReadState,
    /// Always fully initialized (`len` is the buffer's size), so reads need no zeroing.
    buffer: BytesMut,
    size: usize,
    /// A short read means "drained" (see `read_chunk`) unless the peer's FIN may be waiting.
    pub short_read_drains: bool,
}

impl ReadBudget {
    /// Allow `bytes` for this pass, reading into `buffer` (a fresh one of `buffer_len` bytes
    /// if the one given is smaller).
    pub fn new(bytes: usize, buffer_len: usize, buffer: BytesMut) -> Self {
        let buffer = if buffer.len() >= buffer_len {
            buffer
        } else {
            BytesMut::zeroed(buffer_len)
        };
        ReadBudget {
            remaining: bytes,
            state: ReadState::default(),
            size: buffer.len(),
            buffer,
            short_read_drains: true,
        }
    }

    /// The buffer, to lend to the next pass.
    pub fn into_buffer(self) -> BytesMut {
        self.buffer
    }

    /// The whole buffer as shared bytes (what the last read put at its front can be sliced
    /// from it); [`thaw`](ReadBudget::thaw) gives it back.
    pub fn freeze(&mut self) -> Bytes {
        std::mem::take(&mut self.buffer).freeze()
    }

    /// Take the buffer back from [`freeze`](ReadBudget::freeze). If something still refers
    /// to it (a protocol kept a message), that memory stays with it and a new buffer is made.
    pub fn thaw(&mut self, frozen: Bytes) {
        if !self.buffer.is_empty() {
            return;
        }
        self.buffer = match frozen.try_into_mut() {
            Ok(buffer) if buffer.len() == self.size => buffer,
            _ => BytesMut::zeroed(self.size),
        };
    }

    /// Read up to `max` bytes; the bytes read, empty at end of stream. `WouldBlock` covers both
    /// "the kernel has nothing" and "the budget is spent" (see `state` for which).
    pub fn read_chunk(&mut self, mut stream: &Transport, max: usize) -> io::Result<&mut [u8]> {
        if self.remaining == 0 {
            self.state.budget_exhausted = true;
            return Err(ErrorKind::WouldBlock.into());
        }
        let limit = max.min(self.remaining).min(self.buffer.len()).max(1);
        loop {
            match stream.read(&mut self.buffer[..limit]) {
                Ok(0) => {
                    self.state.eof = true;
                    return Ok(&mut []);
                }
                Ok(n) => {
                    self.remaining -= n;
                    self.state.received = true;
                    // A short read emptied the socket: with edge-triggered epoll any byte or FIN
                    // arriving later raises a new event, so the WouldBlock call can be skipped
                    // (not when the last event already reported the FIN: see Wire).
                    self.state.drained |= self.short_read_drains && n < limit;
                    return Ok(&mut self.buffer[..n]);
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
        stream: &Transport,
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
    pub fn discard(&mut self, stream: &Transport) -> io::Result<()> {
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

/// [`write_some`] for the last bytes before the socket is closed: over TCP on Linux with
/// `MSG_MORE`, so they wait in the kernel for the `close` that follows and leave in one
/// segment with its FIN (a close frame and the FIN: one segment and one ACK fewer).
pub(crate) fn write_last(stream: &Transport, data: &[u8]) -> io::Result<usize> {
    write_until_blocked(data.len(), |written| stream.send_last(&data[written..]))
}

/// Write as much of `data` as the kernel takes; returns how many bytes it took.
pub(crate) fn write_some(mut stream: &Transport, data: &[u8]) -> io::Result<usize> {
    write_until_blocked(data.len(), |written| stream.write(&data[written..]))
}

/// Write `first` then `second` as the kernel takes them, both in one `writev` while any of
/// `first` is left (a response head and its body leave in one call, so in one segment when
/// they fit); returns how many bytes of the two, in order, it took.
pub(crate) fn write_pair(mut stream: &Transport, first: &[u8], second: &[u8]) -> io::Result<usize> {
    write_until_blocked(first.len() + second.len(), |written| {
        match first.get(written..) {
            Some(rest) if !rest.is_empty() => {
                stream.write_vectored(&[IoSlice::new(rest), IoSlice::new(second)])
            }
            _ => stream.write(&second[written - first.len()..]),
        }
    })
}

/// One attempt at writing `slices` in order (a plain `write` for one slice, else `writev`):
/// how many bytes the kernel took, `WouldBlock` if none. The caller keeps the rest.
pub(crate) fn write_slices_once(
    mut stream: &Transport,
    slices: &[IoSlice<'_>],
) -> io::Result<usize> {
    loop {
        let result = match slices {
            [one] => stream.write(one),
            _ => stream.write_vectored(slices),
        };
        match result {
            Ok(0) if slices.iter().any(|slice| !slice.is_empty()) => {
                return Err(ErrorKind::WriteZero.into())
            }
            Err(err) if interrupted(&err) => continue,
            other => return other,
        }
    }
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

/// Move the queue's bytes to the socket until it is empty or the kernel is full, then what the
/// transport itself still holds (TLS records). Returns true when everything went out.
pub(crate) fn flush(stream: &Transport, out: &mut OutQueue) -> io::Result<bool> {
    if !flush_queue(stream, out)? {
        return Ok(false);
    }
    stream.flush_pending()
}

/// The queue's part of [`flush`]. A queue holding shared (published) frames goes out with
/// `writev`, so those frames are never copied.
fn flush_queue(stream: &Transport, out: &mut OutQueue) -> io::Result<bool> {
    if out.is_empty() {
        return Ok(true);
    }
    if !out.has_shared() {
        let written = write_some(stream, out.pending())?;
        out.consume(written);
        return Ok(out.is_empty());
    }
    while !out.is_empty() {
        let mut slices = [IoSlice::new(&[]); MAX_IO_SLICES];
        let filled = out.io_slices(&mut slices);
        match (&mut &*stream).write_vectored(&slices[..filled]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => out.consume(n),
            Err(err) if interrupted(&err) => continue,
            Err(err) if would_block(&err) => break,
            Err(err) => return Err(err),
        }
    }
    Ok(out.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// The next connection `listener` has, waiting (bounded) for the client's to arrive.
    fn accept_one(listener: &TcpListener, nodelay_inherited: bool) -> TcpStream {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some((stream, _)) = accept(listener, nodelay_inherited).unwrap() {
                return stream;
            }
            assert!(Instant::now() < deadline, "no connection to accept");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn accepted_connections_have_nodelay_whether_inherited_or_set() {
        let listener = reuseport_listener("127.0.0.1:0".parse().unwrap()).unwrap();
        let inherited = set_listener_nodelay(&listener);
        assert_eq!(
            inherited,
            cfg!(any(target_os = "linux", target_os = "android"))
        );
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert!(accept_one(&listener, inherited).nodelay().unwrap());

        // A listener the caller bound without it: set on each connection instead.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let plain = TcpListener::from_std(std_listener);
        let _client = std::net::TcpStream::connect(plain.local_addr().unwrap()).unwrap();
        assert!(accept_one(&plain, false).nodelay().unwrap());
    }

    #[test]
    fn the_last_bytes_reach_the_peer_before_the_end_of_the_stream() {
        let listener = reuseport_listener("127.0.0.1:0".parse().unwrap()).unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let server = Transport::Tcp(accept_one(&listener, set_listener_nodelay(&listener)));
        let close_frame = [0x88, 0x02, 0x03, 0xe8];
        assert_eq!(
            write_last(&server, &close_frame).unwrap(),
            close_frame.len()
        );
        drop(server);
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut received = Vec::new();
        client.read_to_end(&mut received).unwrap();
        assert_eq!(received, close_frame);
    }
}
