//! SERVING_FILE: the response head is queued; stream the body from a cursor, then go back to
//! READING_HEAD (keep-alive, with any pipelined bytes) or to CLOSING.

use super::closing::Closing;
use super::{Env, Ident, Phase, Wire};
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
        let queued_before = wire.out.len();
        let flushed = match wire.flush() {
            Ok(flushed) => flushed,
            Err(err) => {
                debug!("{}: write failed: {err}", ident.id);
                return Phase::Gone;
            }
        };
        let mut progressed = wire.out.len() < queued_before;
        if flushed && wire.writable && self.sent < self.body.len() {
            match net::write_some(&wire.transport, &self.body[self.sent..]) {
                Ok(written) => {
                    self.sent += written;
                    progressed |= written > 0;
                    if self.sent < self.body.len() {
                        wire.writable = false;
                    }
                }
                Err(err) => {
                    debug!("{}: write failed: {err}", ident.id);
                    return Phase::Gone;
                }
            }
        }
        if progressed {
            self.deadline = env.tick.after(env.config.send_timeout);
        }
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
