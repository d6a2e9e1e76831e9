//! SERVING_FILE: the response head is queued; send it and the body (from a cursor, never
//! copied) in the same `writev` calls, then go back to READING_HEAD (keep-alive, with any
//! pipelined bytes) or to CLOSING.

use super::closing::Closing;
use super::{Env, Ident, Mark, Phase, Wire};
use crate::net;
use crate::tick::Tick;
use log::{debug, warn};
use tungstenite::Bytes;

/// A response on its way out.
pub(crate) struct FileSend {
    body: Bytes,
    sent: usize,
    keep_alive: bool,
    /// Bytes of the next request(s) that arrived with this one.
    leftover: Vec<u8>,
    /// Dropped if no byte moves for `send_timeout`.
    deadline: Tick,
}

impl FileSend {
    pub fn new(body: Bytes, keep_alive: bool, leftover: Vec<u8>, env: &Env<'_>) -> Self {
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
        let queued = wire.out.len();
        let body = &self.body[self.sent..];
        if wire.writable() && queued + body.len() > 0 {
            // The head (queued) and the body go out together: one writev, one segment when
            // they fit.
            let written = match net::write_pair(&wire.transport, wire.out.pending(), body) {
                Ok(written) => written,
                Err(err) => {
                    debug!("{}: write failed: {err}", ident.id);
                    return Phase::Gone;
                }
            };
            if written < queued + body.len() {
                wire.marks.set(Mark::Writable, false);
            }
            let from_queue = written.min(queued);
            wire.out.consume(from_queue);
            self.sent += written - from_queue;
            if written > 0 {
                self.deadline = env.tick.after(env.config.send_timeout);
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
        if !flushed || self.sent < self.body.len() {
            return Phase::ServingFile(self);
        }
        if self.keep_alive && !env.shutting_down {
            Phase::next_request(self.leftover, env)
        } else {
            Phase::closing(Closing::lingering(env))
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
