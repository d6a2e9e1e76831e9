//! TLS over an accepted TCP socket (feature `tls`): rustls' buffered `ServerConnection`
//! between the socket and the `Wire`, so what is read and written through a
//! [`Transport`](super::Transport) is plaintext, as over TCP.
//!
//! Each call is non-blocking and made of the same steps: move ciphertext between the socket and
//! rustls, let rustls process it (the handshake happens inside the first reads), move plaintext
//! between rustls and the caller. Three rules keep edge-triggered readiness and the server's
//! limits honest:
//!
//! - a read returns `WouldBlock` only when rustls holds no plaintext *and* the socket said
//!   `WouldBlock`, so plaintext left inside rustls after a drained socket is never stranded
//!   (a short read does not mean drained here: see [`TlsStream::short_read_drains`]);
//! - rustls' outgoing buffer is capped ([`BUFFER_LIMIT`]); a write it cannot take is
//!   `WouldBlock`, and the ciphertext it holds is reported by [`TlsStream::pending_output`],
//!   which the connection counts with its queue;
//! - records rustls still holds (a handshake flight, the tail of a response, close_notify)
//!   are pushed by [`TlsStream::flush_pending`], which `net::flush` calls.
//!
//! The session sits in a `RefCell` because rustls needs `&mut` while the I/O layer reads and
//! writes through `&Transport`, as it does through `&TcpStream` (the kernel's socket state is
//! interior mutability too). Every borrow lasts one call and nothing re-enters, so it cannot
//! fail; switching net.rs and every phase to `&mut Transport` would touch the frame reader
//! and the callback link, which borrow the transport beside the queue.

use super::send_before_fin;
use crate::net::{interrupted, would_block};
use mio::net::TcpStream;
use rustls::{ServerConfig, ServerConnection};
use std::cell::RefCell;
use std::io::{self, ErrorKind, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;

/// Most bytes rustls buffers for sending (plaintext before the handshake ends, ciphertext
/// after): two full records. Beyond it a write is `WouldBlock` and the bytes wait in the
/// connection's own queue, where `max_outgoing_bytes` and `outgoing_soft_limit` see them.
pub(crate) const BUFFER_LIMIT: usize = 32 * 1024;

/// Bytes a TLS 1.3 record adds to its plaintext (header, content type, AEAD tag); TLS 1.2
/// with AES-GCM adds 29. Used to estimate the ciphertext rustls holds.
const RECORD_OVERHEAD: usize = 29;

/// Largest plaintext in one record.
const MAX_FRAGMENT: usize = 16 * 1024;

/// One TLS connection: the socket and the rustls session over it.
pub(crate) struct TlsStream {
    tcp: TcpStream,
    /// Kept for the log line of a failed handshake (the kernel may have forgotten it then).
    peer: SocketAddr,
    session: RefCell<Session>,
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("tcp", &self.tcp)
            .finish_non_exhaustive()
    }
}

struct Session {
    conn: ServerConnection,
    /// Estimated ciphertext bytes rustls holds for sending (exact after a handshake step,
    /// within a few bytes per record after a write; zero whenever rustls holds nothing).
    pending: usize,
    /// The TLS error that ended the session, if one did: nothing more is read or written.
    failure: Option<rustls::Error>,
}

impl TlsStream {
    /// Start the server side of a handshake on an accepted socket.
    pub fn accept(
        tcp: TcpStream,
        peer: SocketAddr,
        config: Arc<ServerConfig>,
    ) -> Result<Self, rustls::Error> {
        let mut conn = ServerConnection::new(config)?;
        conn.set_buffer_limit(Some(BUFFER_LIMIT));
        Ok(TlsStream {
            tcp,
            peer,
            session: RefCell::new(Session {
                conn,
                pending: 0,
                failure: None,
            }),
        })
    }

    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub fn tcp_mut(&mut self) -> &mut TcpStream {
        &mut self.tcp
    }

    /// Always false: one read returns at most the plaintext of the records rustls has
    /// decrypted, so a short read says nothing about the socket. Reads go on to `WouldBlock`.
    pub fn short_read_drains(&self) -> bool {
        false
    }

    /// Estimated ciphertext (or pre-handshake plaintext) rustls holds for sending.
    pub fn pending_output(&self) -> usize {
        self.session.borrow().pending
    }

    /// Why the handshake never completed, with the peer's address, if it did not: the TLS
    /// error, or none at all (the peer left, or the head timeout struck mid-handshake).
    /// `None` once it completed.
    pub fn unfinished_handshake(&self) -> Option<String> {
        let session = self.session.borrow();
        if !session.conn.is_handshaking() {
            return None;
        }
        let peer = self.peer;
        Some(match &session.failure {
            Some(err) => format!("with {peer} failed: {err}"),
            None => format!("with {peer} never completed"),
        })
    }

    /// Push the records rustls holds to the socket; true when none are left.
    pub fn flush_pending(&self) -> io::Result<bool> {
        self.session.borrow_mut().push(&mut &self.tcp)
    }

    /// Send close_notify (as far as the socket takes it), then FIN.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.send_close_notify();
        self.tcp.shutdown(Shutdown::Write)
    }

    /// Send close_notify (as far as the socket takes it) unless the session failed; the
    /// socket stays open both ways. A FIN follows it at once (both callers), so it is written
    /// to leave with that FIN ([`send_before_fin`]).
    pub fn send_close_notify(&self) {
        let mut session = self.session.borrow_mut();
        if session.failure.is_none() {
            session.conn.send_close_notify();
            let _ = session.push(&mut BeforeFin(&self.tcp));
        }
    }

    /// Plaintext from the peer; `Ok(0)` at the end of the stream (close_notify or FIN).
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut session = self.session.borrow_mut();
        loop {
            if let Some(err) = &session.failure {
                return Err(failed(err));
            }
            match session.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                // A FIN without close_notify: for us simply the end of the stream.
                Err(err) if err.kind() == ErrorKind::UnexpectedEof => return Ok(0),
                Err(err) if would_block(&err) => {}
                Err(err) => return Err(err),
            }
            match session.conn.read_tls(&mut &self.tcp) {
                Ok(0) => return Ok(0),
                Ok(_) => session.process(&self.tcp)?,
                Err(err) if interrupted(&err) => {}
                Err(err) => return Err(err),
            }
        }
    }

    /// Hand plaintext to rustls (at most what its buffer limit leaves room for) and push
    /// records to the socket; `WouldBlock` when rustls can take nothing.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    /// [`TlsStream::write`] for several buffers: rustls packs them into records together,
    /// so a frame's header and payload go out as one record in one `sendto`, not two.
    pub fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.write_through(bufs, &mut &self.tcp)
    }

    /// [`TlsStream::write`] for the last plaintext before the socket is closed: its records
    /// are written to leave with the FIN ([`send_before_fin`]).
    pub fn write_last(&self, buf: &[u8]) -> io::Result<usize> {
        self.write_through(&[IoSlice::new(buf)], &mut BeforeFin(&self.tcp))
    }

    /// Hand `bufs` to rustls and push its records to `socket` (the TCP socket, written to
    /// one way or another).
    fn write_through(&self, bufs: &[IoSlice<'_>], socket: &mut dyn Write) -> io::Result<usize> {
        let mut session = self.session.borrow_mut();
        if let Some(err) = &session.failure {
            return Err(failed(err));
        }
        session.push(&mut *socket)?;
        let taken = session.conn.writer().write_vectored(bufs)?;
        if taken == 0 && bufs.iter().any(|buf| !buf.is_empty()) {
            return Err(ErrorKind::WouldBlock.into());
        }
        session.pending += taken + taken.div_ceil(MAX_FRAGMENT) * RECORD_OVERHEAD;
        // What the socket does not take now stays with rustls, counted in `pending`.
        match session.push(socket) {
            Ok(_) => Ok(taken),
            Err(err) if taken == 0 => Err(err),
            Err(_) => Ok(taken),
        }
    }
}

impl Session {
    /// Let rustls process what was read; on a TLS error, send its alert and end the session.
    fn process(&mut self, tcp: &TcpStream) -> io::Result<()> {
        match self.conn.process_new_packets() {
            Ok(state) => {
                self.pending = state.tls_bytes_to_write();
                let _ = self.push(&mut &*tcp);
                Ok(())
            }
            Err(err) => {
                // rustls queued the alert that tells the peer why.
                let _ = self.push(&mut &*tcp);
                let io_err = failed(&err);
                self.failure = Some(err);
                Err(io_err)
            }
        }
    }

    /// Write what rustls holds to `socket` until it is empty (true) or the socket is full
    /// (false).
    fn push(&mut self, socket: &mut dyn Write) -> io::Result<bool> {
        while self.conn.wants_write() {
            match self.conn.write_tls(socket) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.pending = self.pending.saturating_sub(n),
                Err(err) if interrupted(&err) => {}
                Err(err) if would_block(&err) => return Ok(false),
                Err(err) => return Err(err),
            }
        }
        self.pending = 0;
        Ok(true)
    }
}

/// The TCP socket, written to with [`send_before_fin`]: records that a FIN follows.
struct BeforeFin<'a>(&'a TcpStream);

impl Write for BeforeFin<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        send_before_fin(self.0, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The I/O error a TLS failure is reported as.
fn failed(err: &rustls::Error) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, format!("TLS: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{PrivateKeyDer, ServerName};
    use rustls::ClientConnection;
    use std::time::{Duration, Instant};

    /// A handshaken pair over loopback with small kernel buffers: the server's `TlsStream`
    /// and a rustls client over a non-blocking std socket.
    fn pair() -> (TlsStream, ClientConnection, std::net::TcpStream) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server_config = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(key.serialize_der().into()),
            )
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        let client_config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client_tcp = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_tcp, peer) = listener.accept().unwrap();
        socket2::SockRef::from(&server_tcp)
            .set_send_buffer_size(4096)
            .unwrap();
        socket2::SockRef::from(&client_tcp)
            .set_recv_buffer_size(4096)
            .unwrap();
        server_tcp.set_nonblocking(true).unwrap();
        client_tcp.set_nonblocking(true).unwrap();
        let server = TlsStream::accept(
            TcpStream::from_std(server_tcp),
            peer,
            Arc::new(server_config),
        )
        .unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut client = ClientConnection::new(Arc::new(client_config), name).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while client.is_handshaking() || server.unfinished_handshake().is_some() {
            assert!(Instant::now() < deadline, "handshake never completed");
            let _ = client.complete_io(&mut client_tcp);
            match server.read(&mut [0; 64]) {
                Err(err) if would_block(&err) => {}
                other => panic!("no plaintext expected yet: {other:?}"),
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        (server, client, client_tcp)
    }

    #[test]
    fn rustls_buffers_at_most_its_limit_and_what_it_holds_is_pending_output() {
        let (server, mut client, mut client_tcp) = pair();
        assert_eq!(server.pending_output(), 0);
        // The client does not read: the kernel buffers fill, then rustls' limit.
        let chunk = vec![0x5a; 8192];
        let mut accepted = 0;
        loop {
            match server.write(&chunk) {
                Ok(n) => accepted += n,
                Err(err) if would_block(&err) => break,
                Err(err) => panic!("write: {err}"),
            }
            assert!(accepted < 16 << 20, "rustls took everything: no limit");
        }
        let pending = server.pending_output();
        assert!(
            pending > 0 && pending <= BUFFER_LIMIT + 2 * RECORD_OVERHEAD,
            "{pending} bytes pending with a limit of {BUFFER_LIMIT}"
        );
        // Kernel buffers of a few KiB each and rustls' 32 KiB: nothing near 16 MiB.
        assert!(accepted < 256 * 1024, "{accepted} bytes accepted");

        // The client reads; the server pushes what rustls held until nothing is pending.
        let mut received = 0;
        let mut buf = vec![0; 64 * 1024];
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let flushed = server.flush_pending().unwrap();
            if flushed && received == accepted {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{received} of {accepted} arrived"
            );
            if client.read_tls(&mut client_tcp).is_ok() {
                client.process_new_packets().unwrap();
            }
            match client.reader().read(&mut buf) {
                Ok(n) => received += n,
                Err(err) if would_block(&err) => std::thread::sleep(Duration::from_millis(1)),
                Err(err) => panic!("client read: {err}"),
            }
        }
        assert_eq!(received, accepted);
        assert_eq!(server.pending_output(), 0);
    }

    #[test]
    fn the_last_record_and_close_notify_arrive_before_the_end_of_the_stream() {
        let (server, mut client, mut client_tcp) = pair();
        assert_eq!(server.write_last(b"bye").unwrap(), 3);
        server.send_close_notify();
        drop(server);
        let mut received = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(
                Instant::now() < deadline,
                "got {received:?} and no close_notify"
            );
            match client.read_tls(&mut client_tcp) {
                Ok(0) => break,
                Ok(_) => {
                    client.process_new_packets().unwrap();
                }
                Err(err) if would_block(&err) => std::thread::sleep(Duration::from_millis(1)),
                Err(err) => panic!("client read: {err}"),
            }
        }
        client.reader().read_to_end(&mut received).unwrap();
        assert_eq!(
            received, b"bye",
            "read_to_end ends cleanly only after close_notify"
        );
    }
}
