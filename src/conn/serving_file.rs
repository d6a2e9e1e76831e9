//! SERVING_FILE: the response head is queued; send it and the body in the same `writev`
//! calls, then go back to READING_HEAD (keep-alive, with any pipelined bytes) or to CLOSING.
//!
//! A body in memory goes out from a cursor, never copied. A body on disk (a file too large
//! to cache) is read one chunk per pass into the loop's one read buffer, at most
//! `read_buffer_bytes`, with a positioned read at the cursor, and written from there: what
//! the socket does not take is read again next time, so a transfer holds an open file and an
//! offset, never a buffer. A pass that sent its whole chunk asks to be serviced again on the
//! next tick, so one fast reader of a large file cannot hold the loop.

use super::closing::Closing;
use super::{Env, Ident, Mark, Phase, Wire};
use crate::http::FileRegion;
use crate::net;
use crate::tick::Tick;
use bytes::BytesMut;
use log::{debug, warn};
use tungstenite::Bytes;

/// Where a response's body comes from.
pub(crate) enum Body {
    /// In memory: a cached file, an error text, a protocol's response.
    Memory(Bytes),
    /// A region of a file on disk, read as the socket drains.
    File(FileRegion),
}

/// A response on its way out.
pub(crate) struct FileSend {
    body: Body,
    /// Bytes of a memory body already written.
    sent: usize,
    keep_alive: bool,
    /// Bytes of the next request(s) that arrived with this one.
    leftover: Vec<u8>,
    /// Dropped if no byte moves for `send_timeout`.
    deadline: Tick,
}

impl FileSend {
    pub fn new(body: Body, keep_alive: bool, leftover: Vec<u8>, env: &Env<'_>) -> Self {
        FileSend {
            body,
            sent: 0,
            keep_alive,
            leftover,
            deadline: env.tick.after(env.config.send_timeout),
        }
    }

    pub fn deadline(&self) -> Tick {
        self.deadline
    }

    pub fn step(mut self: Box<Self>, wire: &mut Wire, ident: Ident, env: &mut Env<'_>) -> Phase {
        if wire.writable() {
            if let Err(err) = self.write(wire, env) {
                debug!("{}: write failed: {err}", ident.id);
                return Phase::Gone;
            }
        }
        // What the transport itself still holds (TLS records) must go out too.
        let flushed = match wire.flush() {
            Ok(flushed) => flushed,
            Err(err) => {
                debug!("{}: write failed: {err}", ident.id);
                return Phase::Gone;
            }
        };
        if !flushed || self.body_left() > 0 {
            return Phase::ServingFile(self);
        }
        if self.keep_alive && !env.shutting_down {
            Phase::next_request(self.leftover, env)
        } else {
            Phase::closing(Closing::lingering(env))
        }
    }

    /// Write the queued head and the next part of the body, both in one `writev`; an error
    /// ends the connection (a body read from disk that fails has no way to go on).
    fn write(&mut self, wire: &mut Wire, env: &mut Env<'_>) -> std::io::Result<()> {
        let queued = wire.out.len();
        let body: &[u8] = match &self.body {
            Body::Memory(bytes) => &bytes[self.sent..],
            Body::File(region) => match region.peek(chunk_buffer(env)) {
                Ok(chunk) => chunk,
                Err(err) => {
                    warn!("reading a file being sent failed: {err}");
                    return Err(err);
                }
            },
        };
        if queued + body.len() == 0 {
            return Ok(());
        }
        // The head (queued) and the body go out together: one writev, one segment when
        // they fit.
        let offered = body.len();
        let written = net::write_pair(&wire.transport, wire.out.pending(), body)?;
        if written < queued + offered {
            wire.marks.set(Mark::Writable, false);
        }
        let from_queue = written.min(queued);
        wire.out.consume(from_queue);
        let from_body = written - from_queue;
        match &mut self.body {
            Body::Memory(_) => self.sent += from_body,
            Body::File(region) => {
                region.advance(from_body);
                // The socket took the whole chunk: the next one waits for the next tick.
                if wire.writable() && region.remaining() > 0 {
                    wire.marks.set(Mark::MoreWork, true);
                }
            }
        }
        if written > 0 {
            self.deadline = env.tick.after(env.config.send_timeout);
        }
        Ok(())
    }

    /// Body bytes not yet written.
    fn body_left(&self) -> u64 {
        match &self.body {
            Body::Memory(bytes) => (bytes.len() - self.sent) as u64,
            Body::File(region) => region.remaining(),
        }
    }

    pub fn on_deadline(self: Box<Self>, ident: Ident, env: &mut Env<'_>) -> Phase {
        if !self.deadline.is_reached(env.tick) {
            return Phase::ServingFile(self);
        }
        warn!(
            "{}: response made no progress for {:?}; dropped",
            ident.id, env.config.send_timeout
        );
        Phase::Gone
    }
}

/// The loop's read buffer, lent for one chunk of a file (nothing reads a socket while a
/// response is being sent): `read_buffer_bytes` long, made once if it is not there.
fn chunk_buffer<'e>(env: &'e mut Env<'_>) -> &'e mut [u8] {
    let size = env.config.read_buffer_bytes;
    if env.scratch.len() < size {
        *env.scratch = BytesMut::zeroed(size);
    }
    &mut env.scratch[..size]
}
