//! What a connection's bytes travel over: a [`Transport`] is a TCP socket, TLS over one
//! ([`tls`], feature `tls`) or, in unit tests, one end of an in-memory pipe ([`memory`]).
//! With `net`, the only code that knows what a socket is: each call here is one system call
//! (or its in-memory or TLS stand-in) on the variant at hand; `net` holds the loops around
//! them (`WouldBlock`, `Interrupted`, budgets). Plaintext goes in and out of every variant.
//!
//! An enum rather than a trait object or a generic, so a connection stays one concrete type
//! and a plain TCP connection carries only its socket (the TLS session is boxed inside its
//! variant). Reads and writes go through `&Transport`, as they do through `&TcpStream`.

#[cfg(test)]
pub(crate) mod memory;
#[cfg(feature = "tls")]
pub(crate) mod tls;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};

/// A connection's byte stream.
#[derive(Debug)]
pub(crate) enum Transport {
    /// An accepted TCP connection.
    Tcp(TcpStream),
    /// TLS over an accepted TCP connection.
    #[cfg(feature = "tls")]
    Tls(Box<tls::TlsStream>),
    /// One end of an in-memory pipe: unit tests of the connection state machine. It has no
    /// file descriptor, so it is never registered with a `Poll`.
    #[cfg(test)]
    Memory(memory::MemoryEnd),
}

impl Transport {
    /// Stop sending (FIN after what was written; over TLS, close_notify first); reading goes
    /// on.
    pub fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Transport::Tcp(stream) => stream.shutdown(Shutdown::Write),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.shutdown_write(),
            #[cfg(test)]
            Transport::Memory(end) => end.shutdown_write(),
        }
    }

    /// Before closing a connection the peer will send nothing more on: what closing the
    /// socket does not do by itself. TCP: nothing (`close` sends the FIN after what was
    /// written). TLS: close_notify, as far as the socket takes it.
    pub fn finish_sending(&self) {
        match self {
            Transport::Tcp(_) => {}
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.send_close_notify(),
            #[cfg(test)]
            Transport::Memory(_) => {}
        }
    }

    /// Write `data` that the socket's `close` will follow at once, so that it is held for the
    /// FIN and both leave in one segment ([`send_before_fin`]; over TLS, the record).
    pub fn send_last(&self, data: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(stream) => send_before_fin(stream, data),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.write_last(data),
            #[cfg(test)]
            Transport::Memory(end) => (&mut &*end).write(data),
        }
    }

    /// The peer's address (asked of the kernel: plain connections do not keep it; a TLS one
    /// does).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Transport::Tcp(stream) => stream.peer_addr(),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => Ok(tls.peer()),
            #[cfg(test)]
            Transport::Memory(end) => Ok(end.peer_addr()),
        }
    }

    /// True if a read shorter than asked means the socket is empty (TCP: edge-triggered
    /// readiness will announce more). Not over TLS, whose reads stop at record boundaries.
    pub fn short_read_drains(&self) -> bool {
        match self {
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.short_read_drains(),
            Transport::Tcp(_) => true,
            #[cfg(test)]
            Transport::Memory(_) => true,
        }
    }

    /// Bytes the transport holds for sending beyond the connection's queue (TLS records
    /// rustls has not written yet); they count against the queue's limits.
    pub fn pending_output(&self) -> usize {
        match self {
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.pending_output(),
            Transport::Tcp(_) => 0,
            #[cfg(test)]
            Transport::Memory(_) => 0,
        }
    }

    /// Send what the transport itself holds (TLS records); true when nothing is left.
    pub fn flush_pending(&self) -> io::Result<bool> {
        match self {
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.flush_pending(),
            Transport::Tcp(_) => Ok(true),
            #[cfg(test)]
            Transport::Memory(_) => Ok(true),
        }
    }

    /// For a TLS connection whose handshake never completed: why (logged and counted when
    /// the connection goes). `None` for everything else.
    #[cfg(feature = "tls")]
    pub fn unfinished_handshake(&self) -> Option<String> {
        match self {
            Transport::Tls(tls) => tls.unfinished_handshake(),
            Transport::Tcp(_) => None,
            #[cfg(test)]
            Transport::Memory(_) => None,
        }
    }

    /// Register with a mio `Registry` under `token`. Only TCP can be registered.
    pub fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Transport::Tcp(stream) => registry.register(stream, token, interest),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => registry.register(tls.tcp_mut(), token, interest),
            #[cfg(test)]
            Transport::Memory(_) => Err(io::ErrorKind::Unsupported.into()),
        }
    }
}

/// Send `data` that a FIN (`close` or `shutdown`) follows at once: on Linux with `MSG_MORE`,
/// so the kernel holds it and sends it in the FIN's segment (one segment, and one ACK, fewer).
/// Were the FIN late, Linux would send the data after 200 ms anyway. Elsewhere a plain write.
pub(crate) fn send_before_fin(stream: &TcpStream, data: &[u8]) -> io::Result<usize> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    return socket2::SockRef::from(stream)
        .send_with_flags(data, libc::MSG_MORE | libc::MSG_NOSIGNAL);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    return (&mut &*stream).write(data);
}

// Each arm calls the variant's own `Read`/`Write` for `&T` (`&mut &*stream`: a `&TcpStream`
// to call it on; TLS keeps its session in a `RefCell`), so nothing here needs
// `&mut Transport`.
impl Read for &Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(stream) => (&mut &*stream).read(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.read(buf),
            #[cfg(test)]
            Transport::Memory(end) => (&mut &*end).read(buf),
        }
    }
}

impl Write for &Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(stream) => (&mut &*stream).write(buf),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.write(buf),
            #[cfg(test)]
            Transport::Memory(end) => (&mut &*end).write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Transport::Tcp(stream) => (&mut &*stream).write_vectored(bufs),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.write_vectored(bufs),
            #[cfg(test)]
            Transport::Memory(end) => (&mut &*end).write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Tcp(stream) => (&mut &*stream).flush(),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.flush_pending().map(drop),
            #[cfg(test)]
            Transport::Memory(end) => (&mut &*end).flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::memory::memory_pair;
    use super::*;

    #[test]
    fn a_memory_transport_works_through_a_shared_reference() {
        let (end, client) = memory_pair();
        let transport = Transport::Memory(end);
        client.send(b"ping");
        let mut buf = [0; 8];
        assert_eq!((&transport).read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"ping");
        (&transport).write_all(b"pong").unwrap();
        assert!(transport.peer_addr().is_ok());
        transport.shutdown_write().unwrap();
        assert_eq!(client.receive(), b"pong");
        assert!(client.fin_received());
    }

    #[test]
    fn only_tcp_is_registered() {
        let poll = mio::Poll::new().unwrap();
        let mut transport = Transport::Memory(memory_pair().0);
        let refused = transport
            .register(poll.registry(), Token(1), Interest::READABLE)
            .unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::Unsupported);
    }
}
